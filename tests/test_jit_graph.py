"""A jitted call on tensors that require grad records one node (SPEC §10), over the whole table.

Every op_db sample with differentiated arguments runs through ``cr.jit`` with those arguments
requiring grad, traced at the sample and called again on perturbed values: the results, the
node (``CompiledFunctionBackward``), the gradients of a weighted sum of the results after
``backward()`` and, for small samples, the second derivatives through ``create_graph=True``,
against eager mode on the same values. Then parameters read from outside (a module), the
saved-tensor check, random numbers, guards, aliases, fallbacks and threads.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
from op_db import ENTRIES

import chainrule as cr

RNG = np.random.default_rng(5)
NODE = "CompiledFunctionBackward"


def _perturbed(args):
    out = []
    for a in args:
        if isinstance(a, np.ndarray) and a.dtype.kind in "fc":
            scale = 1e-3 * (1 + np.abs(a))
            out.append(np.asarray(a + scale * RNG.uniform(-1, 1, a.shape)).astype(a.dtype))
        else:
            out.append(a)
    return out


def _leaves(out):
    if isinstance(out, (tuple, list)):
        return [leaf for o in out for leaf in _leaves(o)]
    return [out]


def _inputs(args, nums):
    return [cr.tensor(a.copy(), requires_grad=True) if i in nums else cr.tensor(a) if isinstance(a, np.ndarray) else a
            for i, a in enumerate(args)]


def _close(got, want, what):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, f"{what}: {got.shape} {got.dtype} vs {want.shape} {want.dtype}"
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=what)


def _weighted(outs, weights):
    total = 0.0
    for o, w in zip(outs, weights):
        total = total + ((o * w).real if np.dtype(o.dtype).kind == "c" else o * w).sum()
    return total


# Why a real sample may still run eagerly: none (decisions inside rules are guards, those on
# values of the backward pass checked by the backward code; see tests/test_jit_decisions.py).
EAGER_WHY: tuple[str, ...] = ()
CASES = [pytest.param(e, s, id=f"{e.name}-{s.label}") for e in ENTRIES for s in e.samples if s.differentiable]


@pytest.mark.parametrize("entry, sample", CASES)
def test_a_jitted_call_on_tensors_that_require_grad_records_one_node(entry, sample):
    nums = sample.differentiable

    def f(*xs):
        return entry.op(*xs, **sample.kwargs)

    jf = cr.jit(f)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        for call, args in enumerate([list(sample.args), _perturbed(sample.args), _perturbed(sample.args)]):
            xj, xe = _inputs(args, nums), _inputs(args, nums)
            cr.manual_seed(call)
            got = _leaves(jf(*xj))
            cr.manual_seed(call)
            want = _leaves(f(*xe))
            assert len(got) == len(want)
            for g, w in zip(got, want):
                if isinstance(w, cr.Tensor):
                    _close(g.detach().numpy(), w.detach().numpy(), f"call {call}: value")
                    assert g.requires_grad == w.requires_grad, f"call {call}: requires_grad"
            diff = [(g, w) for g, w in zip(got, want) if isinstance(w, cr.Tensor) and w.requires_grad]
            if not diff:
                continue
            real = all(np.dtype(w.dtype).kind == "f" for _, w in diff)
            eagerly = [str(w.message) for w in caught if "runs eagerly" in str(w.message)]
            if not eagerly:  # compiled, unless a warning said why not (complex results, decisions in rules)
                assert all(NODE in repr(g.grad_fn) for g, _ in diff), [g.grad_fn for g, _ in diff]
            elif real and not sample.complex:
                assert any(why in eagerly[0] for why in EAGER_WHY), eagerly[0]
            weights = [RNG.standard_normal(np.shape(w.detach().numpy())) for _, w in diff]
            second = real and all(np.size(args[i]) <= 12 for i in nums) and call < 2 and "dropout" not in entry.name
            lj = _weighted([g for g, _ in diff], weights)
            le = _weighted([w for _, w in diff], weights)
            gj = cr.autograd.grad(lj, [xj[i] for i in nums], allow_unused=True, create_graph=second)
            ge = cr.autograd.grad(le, [xe[i] for i in nums], allow_unused=True, create_graph=second)
            for a, b in zip(gj, ge):
                assert (a is None) == (b is None)
                if a is not None:
                    _close(a.detach().numpy(), b.detach().numpy(), f"call {call}: gradient")
            if second:  # the derivative of the derivative: f's vector-Jacobian product recorded
                pj = [g for g in gj if g is not None and g.requires_grad]
                pe = [g for g in ge if g is not None and g.requires_grad]
                assert len(pj) == len(pe)
                if pj:
                    hj = cr.autograd.grad(sum((g * g.conj()).real.sum() for g in pj), [xj[i] for i in nums], allow_unused=True)
                    he = cr.autograd.grad(sum((g * g.conj()).real.sum() for g in pe), [xe[i] for i in nums], allow_unused=True)
                    for a, b in zip(hj, he):
                        assert (a is None) == (b is None)
                        if a is not None:
                            _close(a.numpy(), b.numpy(), f"call {call}: second derivative")
    assert jf.traces <= 3


def _mlp():
    cr.manual_seed(0)
    return cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.Tanh(), cr.nn.Dropout(0.3), cr.nn.Linear(8, 3))


def test_a_jitted_forward_in_a_training_loop_follows_eager_mode():
    """Parameters read from outside (a module) that require grad: one node per call, .grad
    accumulated by backward(), the optimizer's updates seen by the next call; dropout's draws."""
    m1, m2 = _mlp(), _mlp()
    o1, o2 = cr.optim.SGD(m1.parameters(), lr=0.1, momentum=0.9), cr.optim.SGD(m2.parameters(), lr=0.1, momentum=0.9)
    loss = cr.nn.CrossEntropyLoss()
    forward = cr.jit(lambda x, y: loss(m2(x), y))
    rng = np.random.default_rng(1)
    x, y = cr.tensor(rng.standard_normal((16, 4))), cr.tensor(rng.integers(0, 3, 16))
    for step in range(10):
        for opt, fn in ((o1, lambda x, y: loss(m1(x), y)), (o2, forward)):
            cr.manual_seed(step)
            opt.zero_grad()
            out = fn(x, y)
            if fn is forward:
                assert NODE in repr(out.grad_fn)
                got = float(out)
            else:
                want = float(out)
            out.backward()
            opt.step()
        assert got == want, f"step {step}"
        for p1, p2 in zip(m1.parameters(), m2.parameters()):
            np.testing.assert_array_equal(p2.detach().numpy(), p1.detach().numpy())
    assert forward.traces == 1


def test_a_change_in_place_before_backward_raises_naming_the_call():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([0.5, -1.0], requires_grad=True)
    f = cr.jit(lambda x: (x * w).tanh().sum())
    out = f(x)
    with cr.no_grad():
        w.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"jit\(.*\): a tensor it read from outside .* changed in place"):
        out.backward()
    out = f(x)
    with cr.no_grad():
        x.add_(1.0)
    with pytest.raises(RuntimeError, match="argument tensor 1 .* changed in place"):
        out.backward()


def test_results_that_are_not_differentiable_and_python_values():
    x = cr.tensor([0.3, -2.0, 1.5], requires_grad=True)

    def f(x):
        y = x * x
        return {"y": y, "index": y.argmax(), "detached": y.detach(), "n": 3, "pair": (y.sum(), x.shape[0])}

    jf = cr.jit(f)
    for _ in range(2):
        got, want = jf(x), f(x)
        assert got["n"] == 3 and got["pair"][1] == 3
        assert NODE in repr(got["y"].grad_fn)
        assert not got["index"].requires_grad and not got["detached"].requires_grad
        np.testing.assert_array_equal(got["index"].numpy(), want["index"].numpy())
        (g,) = cr.autograd.grad(got["y"].sum() + got["pair"][0] * 2, [x])
        (h,) = cr.autograd.grad(want["y"].sum() + want["pair"][0] * 2, [x])
        np.testing.assert_array_equal(g.numpy(), h.numpy())


def test_some_arguments_require_grad_and_the_same_tensor_twice():
    a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = cr.tensor([0.5, 0.25, 2.0])

    def f(p, q, r):
        return (p * q.exp() + r.sin()).sum()

    jf = cr.jit(f)
    for args in ((a, b, a), (a, b, b), (b, a, a)):
        (got,) = cr.autograd.grad(jf(*args), [a])
        (want,) = cr.autograd.grad(f(*args), [a])
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_guards_retrace_in_grad_mode():
    def f(x):
        if x.sum() > 0:
            return (x * 3).sum()
        return (x.exp()).sum()

    jf = cr.jit(f)
    for values in ([1.0, 2.0], [-1.0, -3.0], [2.0, 1.0], [-2.0, -1.0]):
        x = cr.tensor(values, requires_grad=True)
        (got,) = cr.autograd.grad(jf(x), [x])
        (want,) = cr.autograd.grad(f(x), [x])
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert jf.traces == 2


def test_a_closure_over_a_tensor_that_is_not_a_leaf_runs_eagerly():
    w = cr.tensor([1.0, -2.0], requires_grad=True)
    h = w * 3  # not a leaf: its gradient flows on into w
    f = cr.jit(lambda x: (x * h).sum())
    x = cr.tensor([2.0, 0.5], requires_grad=True)
    with pytest.warns(RuntimeWarning, match="not a leaf"):
        out = f(x)
    out.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [6.0, 1.5])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, -6.0])


def test_grad_of_jit_runs_the_compiled_code():
    calls = []

    def f(x):
        calls.append(1)
        return (x.sin() * x).sum()

    jf = cr.jit(f)
    x = cr.tensor([0.5, 1.0, 2.0])
    for _ in range(3):
        np.testing.assert_array_equal(cr.grad(jf)(x).numpy(), cr.grad(f)(x).numpy())
    assert len(calls) == 1 + 3  # one traced run, then eager f's three; the compiled calls run no Python


def test_the_compiled_backward_is_readable_source():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    f = cr.jit(lambda x: (x * w).tanh().sum())
    x = cr.tensor([0.5, -1.0])
    source = f.source(x)
    assert "def f_forward(x, c1)" in source and "def f_backward(" in source and "ct1" in source


def test_threads_calling_and_differentiating_at_once():
    w = cr.tensor(np.linspace(-1, 1, 6), requires_grad=True)
    f = cr.jit(lambda x: ((x * w).tanh() ** 2).sum())
    errors = []

    def work(seed):
        try:
            rng = np.random.default_rng(seed)
            for _ in range(30):
                x = cr.tensor(rng.standard_normal(6), requires_grad=True)
                gx, gw = cr.autograd.grad(f(x), [x, w])
                x2 = cr.tensor(x.detach().numpy(), requires_grad=True)
                ex, ew = cr.autograd.grad(((x2 * w).tanh() ** 2).sum(), [x2, w])
                np.testing.assert_array_equal(gx.numpy(), ex.numpy())
                np.testing.assert_array_equal(gw.numpy(), ew.numpy())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


@pytest.mark.parametrize("seed", range(40))
def test_in_place_programs_with_gradients_match_eager(seed):
    """test_jit's random in-place programs (writes into a copy of the input, into tensors the
    function made, through views) with the input and a captured parameter requiring grad: the
    values and gradients of the compiled node against eager mode, on three calls."""
    from test_jit import _inplace_program

    make, steps = _inplace_program(seed, targets=("y", "y_row", "y_col", "y_T", "z", "z_row", "z_T"))
    w_eager, w_jit = (cr.tensor([1.0, 2.0, 3.0], requires_grad=True) for _ in range(2))
    eager, jitted = make(w_eager), cr.jit(make(w_jit))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # compiled: no eager fallback
        for k in range(3):
            base = np.arange(6.0).reshape(2, 3) * (k + 1) - 2
            xe, xj = cr.tensor(base, requires_grad=True), cr.tensor(base, requires_grad=True)
            got, want = jitted(xj), eager(xe)
            weights = [RNG.standard_normal(w.shape) for w in want]
            for g, w in zip(got, want):
                _close(g.detach().numpy(), w.detach().numpy(), f"call {k}: {steps}")
                assert g.requires_grad == w.requires_grad
                assert not g.requires_grad or NODE in repr(g.grad_fn)
            used = [(g, w, c) for g, w, c in zip(got, want, weights) if w.requires_grad]
            gj = cr.autograd.grad(_weighted([g for g, _, _ in used], [c for *_, c in used]), [xj, w_jit], allow_unused=True)
            ge = cr.autograd.grad(_weighted([w for _, w, _ in used], [c for *_, c in used]), [xe, w_eager], allow_unused=True)
            for a, b in zip(gj, ge):
                assert (a is None) == (b is None)
                if a is not None:
                    _close(a.numpy(), b.numpy(), f"call {k}: gradient, {steps}")
    assert jitted.traces == 1


def test_a_training_step_that_returns_its_loss_compiles():
    """``return loss`` after ``loss.backward()`` (the usual training step): compiled, and the
    loss handed back as eager mode's (requires grad, its graph freed: backward() raises)."""
    def make():
        cr.manual_seed(3)
        model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
        opt = cr.optim.Adam(model.parameters(), lr=1e-2)

        def step(x, y):
            opt.zero_grad()
            loss = cr.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return model, step

    (m1, eager), (m2, step) = make(), make()
    jitted = cr.jit(step)
    rng = np.random.default_rng(2)
    x, y = cr.tensor(rng.standard_normal((8, 4))), cr.tensor(rng.integers(0, 3, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # compiled: no eager fallback
        for k in range(5):
            got, want = jitted(x, y), eager(x, y)
            assert float(got) == float(want), k
            assert got.requires_grad and repr(got.grad_fn) == repr(want.grad_fn)
            for p1, p2 in zip(m1.parameters(), m2.parameters()):
                np.testing.assert_array_equal(p2.detach().numpy(), p1.detach().numpy())
    with pytest.raises(RuntimeError, match="backward through the graph a second time") as compiled:
        got.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time") as expected:
        want.backward()
    assert str(compiled.value) == str(expected.value)
    assert jitted.traces == 2  # (the first step makes Adam's state: the second call finds it)


def test_the_graph_of_a_model_whose_parameters_require_grad():
    """``cr.graph`` of a model's forward pass (parameters that require grad, an input that does):
    the graph of the values, the parameters captured; running it records nothing."""
    model = cr.nn.Linear(3, 2)
    x = cr.ones(4, 3, requires_grad=True)
    g = cr.graph(lambda x: model(x).tanh().sum(), x)
    assert len(g.captured) == 2 and "captured c1: float32[2, 3]" in str(g)
    out = g(x * 2)
    assert not out.requires_grad
    np.testing.assert_allclose(out.numpy(), model(x * 2).tanh().sum().detach().numpy(), rtol=1e-6)


_SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.3, 0.7, 1.5]])  # rank 2: det 0, cofactors not 0


@pytest.mark.parametrize("which", ["slogdet", "det"])
def test_a_decision_of_the_backward_pass_on_an_early_value_runs_where_the_value_is_made(which):
    """A decision made in the backward pass on a value computed early (slogdet's "whether the
    log-determinant is -inf", det's "whether the determinant is 0"), after a decision of the
    forward pass on a later value (cumprod's "whether the product has a zero factor"): its guard
    runs right after its value. (It ran after the other guard, and the liveness had deleted the
    value by then: UnboundLocalError. The random programs' jit check, seed 3058.) det: traced at
    a regular matrix and called at a singular one, the guard sends the call to a new trace."""
    def f(a):
        d = cr.linalg.slogdet(a).logabsdet if which == "slogdet" else cr.linalg.det(a)
        z = (d * cr.tensor([1.0, 2.0, 3.0])).tanh()
        return cr.cumprod(z, dim=0).sum()

    regular = np.array([[2.0, 1.0, 0.5], [1.0, -3.0, 0.2], [0.3, 0.7, 1.5]])
    calls = [regular, regular * 1.1] + ([_SINGULAR, regular, _SINGULAR] if which == "det" else [])
    jf = cr.jit(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (the retrace at the singular matrix)
        for k, a in enumerate(calls):
            xj, xe = cr.tensor(a, requires_grad=True), cr.tensor(a, requires_grad=True)
            got, want = jf(xj), f(xe)
            assert NODE in repr(got.grad_fn)
            _close(got.detach().numpy(), want.detach().numpy(), f"call {k}: value")
            (gj,) = cr.autograd.grad(got, [xj])
            (ge,) = cr.autograd.grad(want, [xe], create_graph=True)  # the rules a trace records
            _close(gj.numpy(), ge.detach().numpy(), f"call {k}: gradient")
    assert jf.traces == (2 if which == "det" else 1)
