"""cr.nn: Parameter, Module registration and state, layers, losses."""

from __future__ import annotations

import importlib
import math
from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def _require(name: str):
    """The module, or skip the test when it cannot be imported (missing or broken install)."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        pytest.skip(f"{name} is not importable ({exc})")


class Block(nn.Module):
    """A module with a parameter of its own and two children."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(cr.ones(3))
        self.inner = nn.Linear(3, 3)
        self.act = nn.Tanh()

    def forward(self, x):
        return self.act(self.inner(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(3, 2)
        self.alias = self.head          # the same module registered twice
        self.register_buffer("steps", cr.zeros(1))
        self.register_buffer("cache", cr.zeros(2), persistent=False)

    def forward(self, x):
        return self.head(self.block(x))


# --- Parameter ---------------------------------------------------------------------------------

def test_parameter_is_a_leaf_tensor_requiring_grad_that_shares_its_data():
    array = np.arange(3.0)
    p = nn.Parameter(array)
    assert isinstance(p, cr.Tensor) and p.is_leaf and p.requires_grad
    assert np.shares_memory(p.detach().numpy(), array)
    assert not hasattr(p, "__dict__")           # slots only, like Tensor
    assert not nn.Parameter(cr.zeros(2), requires_grad=False).requires_grad


def test_parameter_from_a_result_with_history_is_a_leaf():
    x = cr.ones(2, requires_grad=True)
    p = nn.Parameter(x * 3)
    assert p.is_leaf and p.grad_fn is None
    (p * p).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), [6.0, 6.0])
    assert x.grad is None


def test_parameter_repr_and_in_place_rule():
    p = nn.Parameter(cr.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        p.add_(1.0)
    with cr.no_grad():
        p.add_(1.0)
    assert p.is_leaf and p.tolist() == [2.0, 3.0]


def test_parameter_of_integers_is_refused():
    with pytest.raises(RuntimeError, match="int64"):
        nn.Parameter(cr.arange(3))


# --- Module registration ------------------------------------------------------------------------

def test_named_parameters_walk_submodules_in_order_and_skip_duplicates():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["block.scale", "block.inner.weight", "block.inner.bias", "head.weight", "head.bias"]
    assert [id(p) for p in net.parameters()] == [id(p) for _, p in net.named_parameters()]
    assert [name for name, _ in net.named_parameters(recurse=False)] == []
    assert next(name for name, _ in net.block.named_parameters(prefix="b")) == "b.scale"


def test_children_and_modules_follow_pytorch():
    net = Net()
    assert [name for name, _ in net.named_children()] == ["block", "head"]
    assert [type(m).__name__ for m in net.children()] == ["Block", "Linear"]
    assert [name for name, _ in net.named_modules()] == ["", "block", "block.inner", "block.act", "head"]
    assert next(iter(net.modules())) is net


def test_buffers_are_state_but_not_parameters():
    net = Net()
    assert [name for name, _ in net.named_buffers()] == ["steps", "cache"]
    assert all(b is not p for b in net.buffers() for p in net.parameters())
    keys = list(net.state_dict())
    assert "steps" in keys and "cache" not in keys
    assert keys.count("head.weight") == 1 and "alias.weight" in keys   # PyTorch keeps both names


def test_assigning_a_plain_tensor_to_a_parameter_slot_is_refused():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"parameter 'weight'.*Parameter"):
        layer.weight = cr.zeros(2, 2)
    layer.bias = None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    layer.bias = nn.Parameter(cr.zeros(2))
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


def test_assigning_before_super_init_names_the_fix():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(cr.zeros(1))

    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\)"):
        Broken()


def test_register_parameter_checks_type_and_name():
    m = nn.Module()
    with pytest.raises(TypeError, match="Parameter"):
        m.register_parameter("w", cr.zeros(2))
    with pytest.raises(KeyError, match="'a.b'"):
        m.register_parameter("a.b", nn.Parameter(cr.zeros(2)))
    with pytest.raises(TypeError, match="Module"):
        m.add_module("child", cr.zeros(2))


def test_registration_misuse_names_the_problem():
    class Early(nn.Module):
        def __init__(self):
            self.register_parameter("w", nn.Parameter(cr.zeros(1)))

    with pytest.raises(AttributeError, match=r"register_parameter: cannot register 'w' before Module.__init__"):
        Early()
    m = nn.Linear(1, 1)
    m.note = "x"
    with pytest.raises(TypeError, match="the name must be a str, got int"):
        m.register_buffer(3, cr.zeros(1))
    with pytest.raises(KeyError, match="attribute 'note' already exists on Linear"):
        m.register_buffer("note", cr.zeros(1))
    with pytest.raises(TypeError, match="buffer 'b' must be a Tensor or None, got list"):
        m.register_buffer("b", [0.0])
    m.register_buffer("b", cr.zeros(1))
    with pytest.raises(TypeError, match=r"cannot assign a ndarray as buffer 'b' \(Tensor or None expected\)"):
        m.b = np.zeros(1)
    seq = nn.Sequential(nn.ReLU())
    with pytest.raises(TypeError, match=r"cannot assign a Tensor as child module '0'"):
        setattr(seq, "0", cr.zeros(1))


def test_missing_attribute_and_delattr():
    net = Net()
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        _ = net.nope
    del net.head
    del net.alias
    assert "head.weight" not in dict(net.named_parameters())


def test_call_runs_forward_and_missing_forward_is_named():
    net = Net()
    x = cr.randn(4, 3)
    np.testing.assert_array_equal(net(x).detach().numpy(), net.forward(x).detach().numpy())

    class NoForward(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match=r"NoForward.*forward"):
        NoForward()(x)


def test_train_eval_reach_every_submodule():
    net = Net()
    assert net.training and net.block.inner.training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(TypeError, match="bool"):
        net.train("no")


def test_zero_grad_sets_none_or_zeros():
    net = Net()
    net(cr.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    grad = net.head.weight.grad
    net.zero_grad(set_to_none=False)
    assert net.head.weight.grad is grad and not grad.numpy().any()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_and_dtype_conversion_keep_parameter_objects():
    net = Net()
    before = list(net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_(True).double()
    assert [id(p) for p in net.parameters()] == [id(p) for p in before]
    assert all(p.dtype == cr.float64 for p in net.parameters()) and net.steps.dtype == cr.float64
    assert net(cr.randn(2, 3, dtype=cr.float64)).dtype == cr.float64
    with pytest.raises(TypeError, match="floating"):
        net.to(cr.int64)


def test_apply_visits_children_first():
    seen = []
    Net().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Tanh", "Block", "Linear", "Net"]


# --- state_dict / load_state_dict ---------------------------------------------------------------

def test_state_dict_is_detached_and_shares_memory():
    net = Net()
    state = net.state_dict()
    assert isinstance(state, OrderedDict)
    assert not state["head.weight"].requires_grad
    assert np.shares_memory(state["head.weight"].numpy(), net.head.weight.detach().numpy())
    assert net.state_dict(keep_vars=True)["head.weight"] is net.head.weight


def test_load_state_dict_copies_values_into_the_same_parameters():
    cr.manual_seed(0)
    source, target = Net(), Net()
    weight = target.head.weight
    x = cr.randn(4, 3)
    assert not np.array_equal(source(x).detach().numpy(), target(x).detach().numpy())
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target.head.weight is weight and target.head.weight.is_leaf
    np.testing.assert_array_equal(source(x).detach().numpy(), target(x).detach().numpy())


def test_load_state_dict_missing_and_unexpected_keys():
    net = Net()
    state = net.state_dict()
    del state["head.bias"]
    state["extra.weight"] = cr.zeros(1)
    with pytest.raises(RuntimeError, match=r"(?s)Missing key\(s\).*'head.bias'.*Unexpected key\(s\).*'extra.weight'"):
        net.load_state_dict(state)
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["head.bias"] and result.unexpected_keys == ["extra.weight"]


def test_load_state_dict_shape_mismatch_names_key_and_shapes_and_loads_nothing():
    net = Net()
    before = net.block.scale.detach().numpy().copy()
    state = net.state_dict()
    state = {k: cr.tensor(v.numpy() + 1) for k, v in state.items()}
    state["head.weight"] = cr.zeros(3, 2)
    for strict in (True, False):
        with pytest.raises(RuntimeError, match=r"head\.weight.*\(3, 2\).*\(2, 3\)"):
            net.load_state_dict(state, strict=strict)
    np.testing.assert_array_equal(net.block.scale.detach().numpy(), before)


def test_load_state_dict_rejects_wrong_types():
    net = nn.Linear(2, 1)
    with pytest.raises(TypeError, match="mapping"):
        net.load_state_dict([("weight", cr.zeros(1, 2))])
    with pytest.raises(RuntimeError, match=r"'bias'.*str"):
        net.load_state_dict({"weight": cr.zeros(1, 2), "bias": "zero"})
    with pytest.raises(RuntimeError, match=r"dtype mismatch for weight.*complex128"):
        net.load_state_dict({"weight": np.zeros((1, 2), dtype=complex), "bias": cr.zeros(1)})


def test_load_state_dict_accepts_arrays_and_casts_dtype():
    net = nn.Linear(2, 1)
    net.load_state_dict({"weight": np.array([[1.0, 2.0]]), "bias": np.array([0.5])})
    assert net.weight.dtype == cr.float32
    np.testing.assert_allclose(net(cr.tensor([[1.0, 1.0]])).detach().numpy(), [[3.5]])


# --- layers -------------------------------------------------------------------------------------

def test_linear_computes_affine_map():
    layer = nn.Linear(4, 3, dtype=cr.float64)
    x = np.random.default_rng(0).standard_normal((5, 4))
    expected = x @ layer.weight.detach().numpy().T + layer.bias.detach().numpy()
    np.testing.assert_allclose(layer(cr.tensor(x)).detach().numpy(), expected, rtol=1e-12)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    assert repr(layer) == "Linear(in_features=4, out_features=3, bias=True)"


def test_linear_default_init_is_pytorchs_uniform_bound():
    cr.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (layer.weight, layer.bias):
        values = p.detach().numpy()
        assert values.min() >= -bound and values.max() <= bound
    weights = layer.weight.detach().numpy()
    assert weights.max() > 0.99 * bound and weights.min() < -0.99 * bound
    assert abs(weights.std() - bound / math.sqrt(3)) < 0.01 * bound     # uniform, not normal
    assert layer.weight.dtype == cr.float32 and layer.weight.is_leaf


def test_linear_init_is_reproducible_with_manual_seed():
    cr.manual_seed(7)
    a = nn.Linear(5, 4)
    cr.manual_seed(7)
    b = nn.Linear(5, 4)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    np.testing.assert_array_equal(a.bias.detach().numpy(), b.bias.detach().numpy())


def test_linear_without_bias_and_bad_arguments():
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    assert "bias=False" in repr(layer)
    with pytest.raises(ValueError, match="in_features must be non-negative"):
        nn.Linear(-1, 2)
    with pytest.raises(TypeError, match="out_features must be an int"):
        nn.Linear(2, 2.5)
    with pytest.raises(TypeError, match="floating dtype"):
        nn.Linear(2, 2, dtype=cr.int64)
    with pytest.raises(RuntimeError, match=r"linear.*\(4, 5\).*\(2, 3\)"):
        layer(cr.zeros(4, 5))


def test_sequential_composes_indexes_and_slices():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = cr.randn(6, 3)
    expected = model[2](model[1](model[0](x)))
    np.testing.assert_array_equal(model(x).detach().numpy(), expected.detach().numpy())
    assert len(model) == 3 and [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    head = model[1:]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[-1] is model[2]
    model.append(nn.Sigmoid())
    assert [n for n, _ in model.named_children()] == ["0", "1", "2", "3"]
    with pytest.raises(IndexError, match="out of range for 4 modules"):
        model[4]
    with pytest.raises(TypeError, match="not a cr.nn.Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_sequential_from_ordered_dict_and_repr():
    model = nn.Sequential(OrderedDict([("hidden", nn.Linear(4, 3)), ("act", nn.ReLU()),
                                       ("drop", nn.Dropout(0.2))]))
    assert [n for n, _ in model.named_parameters()] == ["hidden.weight", "hidden.bias"]
    assert repr(model) == (
        "Sequential(\n"
        "  (hidden): Linear(in_features=4, out_features=3, bias=True)\n"
        "  (act): ReLU()\n"
        "  (drop): Dropout(p=0.2)\n"
        ")"
    )


@pytest.mark.parametrize("module, reference", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
])
def test_activations_match_numpy_and_pass_gradients(module, reference):
    x = cr.tensor(np.linspace(-3, 3, 13), requires_grad=True)
    y = module(x)
    np.testing.assert_allclose(y.detach().numpy(), reference(np.linspace(-3, 3, 13)), rtol=1e-6)
    y.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape


def test_dropout_train_and_eval():
    cr.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = cr.ones(200, 100)
    y = drop(x).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.75)
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match=r"between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


def test_mse_loss_reductions():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    x, y = cr.tensor(a), cr.tensor(b)
    np.testing.assert_allclose(nn.MSELoss()(x, y).item(), np.mean((a - b) ** 2))
    np.testing.assert_allclose(nn.MSELoss(reduction="sum")(x, y).item(), np.sum((a - b) ** 2))
    np.testing.assert_allclose(nn.MSELoss(reduction="none")(x, y).numpy(), (a - b) ** 2)
    with pytest.raises(ValueError, match=r"MSELoss.*'avg'"):
        nn.MSELoss(reduction="avg")


def test_cross_entropy_loss_matches_log_softmax_formula():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    per_sample = -log_probs[np.arange(5), labels]
    x = cr.tensor(logits, requires_grad=True)
    loss = nn.CrossEntropyLoss()(x, cr.tensor(labels))
    np.testing.assert_allclose(loss.item(), per_sample.mean(), rtol=1e-12)
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction="none")(x, cr.tensor(labels)).detach().numpy(),
                               per_sample, rtol=1e-12)
    loss.backward()
    softmax = np.exp(log_probs)
    np.testing.assert_allclose(x.grad.numpy(), (softmax - np.eye(4)[labels]) / 5, rtol=1e-10)
    assert repr(nn.CrossEntropyLoss(reduction="sum")) == "CrossEntropyLoss(reduction='sum')"


def test_small_network_matches_torch():
    torch = _require("torch")
    cr.manual_seed(3)
    model = nn.Sequential(nn.Linear(5, 8, dtype=cr.float64), nn.Tanh(), nn.Linear(8, 3, dtype=cr.float64))
    reference = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    reference.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    rng = np.random.default_rng(3)
    x, labels = rng.standard_normal((7, 5)), rng.integers(0, 3, 7)
    loss = nn.CrossEntropyLoss()(model(cr.tensor(x)), cr.tensor(labels))
    expected = torch.nn.CrossEntropyLoss()(reference(torch.from_numpy(x)), torch.from_numpy(labels))
    loss.backward()
    expected.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-12)
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-14, err_msg=name)


# --- init ---------------------------------------------------------------------------------------

def test_init_functions_fill_in_place_reproducibly():
    w = nn.Parameter(cr.empty(50, 20))
    cr.manual_seed(0)
    assert nn.init.xavier_uniform_(w) is w
    bound = math.sqrt(6 / 70)
    assert abs(w.detach().numpy()).max() <= bound and w.is_leaf
    first = w.detach().numpy().copy()
    cr.manual_seed(0)
    nn.init.xavier_uniform_(w)
    np.testing.assert_array_equal(w.detach().numpy(), first)
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.detach().numpy()).max() <= math.sqrt(2) * math.sqrt(3 / 50)
    nn.init.constant_(w, 0.5)
    assert (w.detach().numpy() == 0.5).all()
    assert nn.init.calculate_gain("tanh") == 5 / 3


def test_init_misuse():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match=r"fewer than 2 dimensions \(got shape \(3,\)\)"):
        nn.init.kaiming_uniform_(cr.zeros(3))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan'"):
        nn.init.kaiming_uniform_(cr.zeros(3, 3), mode="fan")
    with pytest.raises(TypeError, match="expected a Tensor or Parameter, got ndarray"):
        nn.init.uniform_(np.zeros(3))
    with pytest.raises(TypeError, match="can only fill floating tensors, got dtype int64"):
        nn.init.zeros_(cr.arange(3))


def test_cross_entropy_vjp_reuses_forward_softmax_and_survives_retain_graph():
    """The first-order VJP takes the softmax the forward computed; retaining the graph and
    differentiating twice gives the same gradient, equal to softmax − one-hot (÷ N)."""
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((6, 5))
    labels = rng.integers(0, 5, size=6)
    x = cr.tensor(logits, requires_grad=True)
    loss = cr.nn.functional.cross_entropy(x, cr.tensor(labels))
    (ce_node,) = [e for e in loss.grad_fn.next_functions if e is not None]
    assert ce_node.name == "SoftmaxCrossEntropyBackward" and ce_node.ans.shape == (6, 5)  # the residual
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    x.grad = None
    loss.backward()
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(6), labels] -= 1
    np.testing.assert_allclose(first, p / 6, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(x.grad.numpy(), first)
    # create_graph: the residual is not used; the formula is differentiated again
    x2 = cr.tensor(logits, requires_grad=True)
    (g,) = cr.autograd.grad(cr.nn.functional.cross_entropy(x2, cr.tensor(labels)), x2, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), p / 6, rtol=1e-12, atol=1e-15)
    assert g.requires_grad
