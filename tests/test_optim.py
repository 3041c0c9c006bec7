"""cr.optim: SGD and Adam against their published update rules, groups, state, memory."""

from __future__ import annotations

import gc
import importlib
import io
import tracemalloc
import weakref

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim


def _require(name: str):
    """The module, or skip the test when it cannot be imported (missing or broken install)."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        pytest.skip(f"{name} is not importable ({exc})")


SHAPES = [(3, 4), (4,)]
STEPS = 6


def _gradients(seed: int = 0):
    """A fixed sequence of gradients, one list per step, so only the optimizer is under test."""
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]


def _run(make_optimizer, seed: int = 0):
    """Apply the optimizer to fresh float64 parameters with the fixed gradients; the values
    after every step."""
    rng = np.random.default_rng(100 + seed)
    params = [nn.Parameter(cr.tensor(rng.standard_normal(s))) for s in SHAPES]
    start = [p.detach().numpy().copy() for p in params]
    opt = make_optimizer(params)
    history = []
    for grads in _gradients(seed):
        for p, g in zip(params, grads):
            p.grad = cr.tensor(g)
        opt.step()
        history.append([p.detach().numpy().copy() for p in params])
    return start, history


def sgd_reference(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                  maximize=False):
    """SGD as documented by PyTorch (torch.optim.SGD), written out in NumPy."""
    history, buf = [], None
    for t, g in enumerate(grads):
        g = -g if maximize else g
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if t == 0 else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        history.append(p)
    return history


def adam_reference(p, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                   maximize=False):
    """Adam (Kingma & Ba) with AMSGrad's running maximum, in its textbook form."""
    beta1, beta2 = betas
    m = v = np.zeros_like(p)
    v_max = np.zeros_like(p)
    history = []
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - beta1**t)
        v_hat = (v_max if amsgrad else v) / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append(p)
    return history


def _compare(make_optimizer, reference, options, rtol=1e-12):
    start, history = _run(make_optimizer)
    grads = _gradients()
    for i, p0 in enumerate(start):
        expected = reference(p0, [step[i] for step in grads], **options)
        for step, (got, want) in enumerate(zip(history, expected)):
            np.testing.assert_allclose(got[i], want, rtol=rtol, atol=1e-14,
                                       err_msg=f"parameter {i} after step {step + 1}")


SGD_CASES = [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.5},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1},
    {"lr": 0.05, "weight_decay": 0.2, "maximize": True},
    {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01, "maximize": True},
]

ADAM_CASES = [
    {"lr": 1e-3},
    {"lr": 0.1, "betas": (0.8, 0.99)},
    {"lr": 0.1, "eps": 1e-2, "weight_decay": 0.1},
    {"lr": 0.1, "amsgrad": True},
    {"lr": 0.05, "betas": (0.3, 0.6), "amsgrad": True, "maximize": True},   # lerp's other branch
]


@pytest.mark.parametrize("options", SGD_CASES, ids=str)
def test_sgd_follows_published_update(options):
    _compare(lambda params: optim.SGD(params, **options), sgd_reference, options)


@pytest.mark.parametrize("options", ADAM_CASES, ids=str)
def test_adam_follows_published_update(options):
    _compare(lambda params: optim.Adam(params, **options), adam_reference, options, rtol=1e-10)


@pytest.mark.parametrize("name, options", [("SGD", c) for c in SGD_CASES] + [("Adam", c) for c in ADAM_CASES],
                         ids=str)
def test_optimizers_match_torch(name, options):
    torch = _require("torch")
    start, history = _run(lambda params: getattr(optim, name)(params, **options))
    params = [torch.tensor(p, requires_grad=True) for p in start]
    opt = getattr(torch.optim, name)(params, **options)
    for grads, ours in zip(_gradients(), history):
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g)
        opt.step()
        for p, q in zip(params, ours):
            np.testing.assert_allclose(q, p.detach().numpy(), rtol=1e-13, atol=1e-15)


def test_float32_training_matches_torch():
    torch = _require("torch")
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    reference = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    reference.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    ours = optim.Adam(model.parameters(), lr=0.01)
    theirs = torch.optim.Adam(reference.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.standard_normal((16, 4)).astype(np.float32)
        y = x.sum(axis=1, keepdims=True) ** 2
        for opt, net, loss_fn, wrap in ((ours, model, nn.MSELoss(), cr.tensor),
                                        (theirs, reference, torch.nn.MSELoss(), torch.tensor)):
            opt.zero_grad()
            loss_fn(net(wrap(x)), wrap(y)).backward()
            opt.step()
    for (key, p), q in zip(model.named_parameters(), reference.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=key)


# --- behaviour ----------------------------------------------------------------------------------

def test_step_updates_in_place_without_recording_and_bumps_the_version():
    w = nn.Parameter(cr.tensor([1.0, 2.0]))
    buffer = w._data
    y = (w * w).sum()          # saves w for its backward
    y.backward(retain_graph=True)
    opt = optim.SGD([w], lr=0.5, momentum=0.9)
    opt.step()
    assert w._data is buffer and w.is_leaf and w.grad_fn is None
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0])
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()           # the graph saw the old value of w


def test_parameters_without_gradient_are_skipped():
    a, b = nn.Parameter(cr.ones(2)), nn.Parameter(cr.ones(2))
    for opt in (optim.SGD([a, b], lr=1.0, momentum=0.9), optim.Adam([a, b], lr=1.0)):
        a.grad = cr.ones(2)
        opt.step()
        assert b not in opt.state and b.tolist() == [1.0, 1.0]
        assert a in opt.state


def test_param_groups_have_their_own_hyperparameters():
    a, b = nn.Parameter(cr.ones(1)), nn.Parameter(cr.ones(1))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.0)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0.0 and opt.param_groups[1]["nesterov"] is False
    a.grad, b.grad = cr.ones(1), cr.ones(1)
    opt.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.9, 0.5])
    opt.param_groups[0]["lr"] = 1.0           # schedules change lr in place, as in PyTorch
    opt.step()
    np.testing.assert_allclose(a.item(), -0.1, rtol=1e-6)
    c = nn.Parameter(cr.ones(1))
    opt.add_param_group({"params": c, "lr": 2.0})
    assert opt.param_groups[2]["params"][0] is c and opt.param_groups[2]["lr"] == 2.0


def test_named_parameters_are_accepted():
    model = nn.Linear(2, 1)
    opt = optim.Adam(model.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.param_groups[0]["params"][0] is model.weight


def test_zero_grad_of_optimizer():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    model(cr.ones(3, 2)).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert model.weight.grad is not None and not model.weight.grad.numpy().any()
    opt.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


def test_base_optimizer_step_must_be_implemented():
    class Idle(optim.Optimizer):
        pass

    with pytest.raises(NotImplementedError, match="Idle does not implement step"):
        Idle([nn.Parameter(cr.ones(1))], {"lr": 0.1}).step()


def test_repr_lists_groups():
    text = repr(optim.SGD([nn.Parameter(cr.ones(1))], lr=0.25, momentum=0.5))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.25" in text and "momentum: 0.5" in text


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=-0.1), r"invalid lr: -0.1"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-1), r"invalid momentum"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), r"invalid weight_decay"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), r"Nesterov momentum requires a momentum and zero dampening"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), r"dampening=0.1"),
    (lambda p: optim.SGD(p, lr="fast"), r"invalid lr 'fast'"),
    (lambda p: optim.Adam(p, lr=-1.0), r"Adam: invalid lr"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"beta parameter at index 0: 1.0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"beta parameter at index 1"),
    (lambda p: optim.Adam(p, betas=0.9), r"betas must be a pair"),
    (lambda p: optim.Adam(p, eps=-1e-8), r"invalid eps"),
    (lambda p: optim.Adam([{"params": p, "momentum": 0.9}]), r"unknown option\(s\) \['momentum'\]"),
    (lambda p: optim.SGD([], lr=0.1), r"empty parameter list"),
    (lambda p: optim.SGD([{"params": p}, {"params": p[:1]}], lr=0.1), r"more than one parameter group"),
    (lambda p: optim.SGD(p + p[:1], lr=0.1), r"same tensor more than once"),
    (lambda p: optim.SGD([{"lr": 0.1}], lr=0.1), r"no 'params' entry"),
])
def test_bad_hyperparameters_and_groups_raise_value_error(make, message):
    params = [nn.Parameter(cr.ones(2)), nn.Parameter(cr.ones(2))]
    with pytest.raises(ValueError, match=message):
        make(params)


def test_bad_parameters_raise():
    x = cr.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match=r"iterable of Tensors or of dicts \(parameter groups\), but got a Parameter"):
        optim.SGD(nn.Parameter(cr.ones(2)), lr=0.1)
    with pytest.raises(TypeError, match="parameter 1 of the group is a ndarray"):
        optim.SGD([x, np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match=r"non-leaf Tensor.*MulBackward"):
        optim.Adam([x * 2])
    with pytest.raises(TypeError, match="floating tensors, parameter 0 has dtype int64"):
        optim.SGD([cr.arange(3)], lr=0.1)
    with pytest.raises(TypeError, match="don't mix tensors and dicts"):
        optim.SGD([{"params": [x]}, x], lr=0.1)


# --- state --------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    lambda p: optim.Adam(p, lr=0.05, betas=(0.8, 0.9), amsgrad=True),
])
def test_resuming_from_a_saved_checkpoint_continues_exactly(make):
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((20, 3)).astype(np.float32))
    y = cr.tensor(rng.standard_normal((20, 1)).astype(np.float32))

    def train(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            nn.MSELoss()(model(x), y).backward()
            opt.step()

    cr.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = make(model.parameters())
    train(model, opt, 3)
    file = io.BytesIO()
    cr.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, file)
    train(model, opt, 3)

    cr.manual_seed(1)
    resumed = nn.Linear(3, 1)
    resumed_opt = make(resumed.parameters())
    file.seek(0)
    checkpoint = cr.load(file)
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    assert resumed_opt.param_groups[0].keys() == opt.param_groups[0].keys()
    train(resumed, resumed_opt, 3)
    for p, q in zip(model.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_optimizer_state_dict_mismatch_errors():
    opt = optim.SGD([nn.Parameter(cr.ones(2))], lr=0.1, momentum=0.9)
    other = optim.SGD([nn.Parameter(cr.ones(3))], lr=0.1, momentum=0.9)
    other.param_groups[0]["params"][0].grad = cr.ones(3)
    other.step()
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 0 has shape \(3,\).*\(2,\)"):
        opt.load_state_dict(other.state_dict())
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"weights": 1})
    two = optim.SGD([nn.Parameter(cr.ones(2)), nn.Parameter(cr.ones(2))], lr=0.1)
    with pytest.raises(ValueError, match="group 0 has 1 parameters but the saved group has 2"):
        opt.load_state_dict(two.state_dict())
    with pytest.raises(ValueError, match="the saved state has 2 parameter groups, this optimizer has 1"):
        opt.load_state_dict({"state": {}, "param_groups": [opt.state_dict()["param_groups"][0]] * 2})
    with pytest.raises(ValueError, match="state for unknown parameter index 5"):
        opt.load_state_dict({"state": {5: {}}, "param_groups": opt.state_dict()["param_groups"]})
    corrupt = opt.state_dict()
    corrupt["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="invalid lr: -1.0"):
        opt.load_state_dict(corrupt)
    assert opt.param_groups[0]["lr"] == 0.1


# --- memory -------------------------------------------------------------------------------------

def test_training_keeps_no_graph_between_steps_and_memory_flat():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((32, 8)).astype(np.float32))
    y = cr.tensor(rng.standard_normal((32, 1)).astype(np.float32))

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return weakref.ref(loss.grad_fn)

    for _ in range(200):
        step()
    # Free lists and NumPy's small-allocation caches refill during the first traced steps
    # (a full gc.collect() empties them, so it must not run just before); after that the
    # traced memory must not move.
    # Cyclic garbage waiting for the collector can add a one-time plateau inside one window
    # (when it falls depends on the collector's counts, i.e. on what ran before): a leak grows in
    # every window, so the least growth over three consecutive windows is what must stay flat.
    tracemalloc.start()
    try:
        for _ in range(300):
            step()
        growth = []
        for _ in range(3):
            baseline = tracemalloc.get_traced_memory()[0]
            for _ in range(300):
                step()
            growth.append(tracemalloc.get_traced_memory()[0] - baseline)
    finally:
        tracemalloc.stop()
    assert min(growth) < 4096, f"traced memory grew by {growth} bytes over each of three 300-step windows"

    node = step()
    objects = len(gc.get_objects())
    for _ in range(2000):
        assert node() is None      # the previous step's graph is gone by refcounting alone
        node = step()
    assert len(gc.get_objects()) <= objects + 10, "objects accumulate across training steps"
    assert all(p.is_leaf and p.grad_fn is None for p in model.parameters())
