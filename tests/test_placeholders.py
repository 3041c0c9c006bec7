"""``cr.placeholder`` and ``cr.function`` (SPEC §10, define-then-run): symbolic tensors, compiled
functions and symbolic gradients against eager mode and central differences; captured tensors
read at every call; what a graph cannot hold refused naming it; drawing; threads."""

from __future__ import annotations

import gc
import math
import re
import threading

import numpy as np
import pytest
from op_db import ENTRIES

import chainrule as cr
from chainrule.compile.placeholder import RECORDER, SymbolicError, SymbolicValueError, is_symbolic
from chainrule.core import tracing

F64 = cr.float64
RNG = np.random.default_rng(13)


def _np(t):
    return t.detach().numpy() if isinstance(t, cr.Tensor) else np.asarray(t)


def _close(got, want, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(_np(got), _np(want), rtol=rtol, atol=atol)


def _central(f, xs, k, eps=1e-6):
    """d f(*xs) / d xs[k] by central differences (f returns a scalar array)."""
    x = np.array(xs[k], dtype=np.float64)
    out = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        args_up = list(xs)
        args_up[k] = up
        args_down = list(xs)
        args_down[k] = down
        out[i] = (float(f(*args_up)) - float(f(*args_down))) / (2 * eps)
    return out


# --- values ---------------------------------------------------------------------------------

EXPRESSIONS = {
    "scalar mix": lambda a, b: a * b + cr.sin(a),
    "matrix": lambda a, b: (a @ b.T).tanh().sum(dim=1),
    "broadcast": lambda a, b: cr.exp(-a * a) / (1 + b * b) - a.mean(),
    "reductions": lambda a, b: (a.sum(dim=0) * b.max(dim=0).values).sqrt(),
    "numpy calls": lambda a, b: np.sin(a) * np.cos(b) + np.maximum(a, b),
    "where": lambda a, b: cr.where(a > b, a - b, (a * b).abs()),
    "indexing": lambda a, b: a[0] * b[-1] + a[:, 1:].sum(),
}
SHAPES = {"scalar mix": ((), ()), "matrix": ((2, 3), (4, 3)), "broadcast": ((2, 3), (3,)),
          "reductions": ((2, 3), (2, 3)), "numpy calls": ((3,), (3,)), "where": ((2, 3), (2, 3)),
          "indexing": ((2, 3), (2, 3))}


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_values_equal_eager_on_several_inputs(name):
    expr, (sa, sb) = EXPRESSIONS[name], SHAPES[name]
    a, b = cr.placeholder(sa, F64, name="a"), cr.placeholder(sb, F64, name="b")
    out = expr(a, b)
    assert is_symbolic(out)
    f = cr.function([a, b], out)
    for _ in range(4):
        va, vb = RNG.uniform(0.1, 2, sa), RNG.uniform(0.1, 2, sb)
        got = f(va, vb)
        want = expr(cr.tensor(va), cr.tensor(vb))
        assert isinstance(got, cr.Tensor) and got.shape == want.shape and got.dtype == want.dtype
        _close(got, want, rtol=1e-12)


def test_the_example_of_the_spec_and_output_structures():
    a, b = cr.placeholder(()), cr.placeholder(())
    assert repr(a).startswith("placeholder('p")  # unnamed: p1, p2, ...
    a, b = cr.placeholder((), name="a"), cr.placeholder((), name="b")
    c = a * b + cr.sin(a)
    f = cr.function([a, b], [c])
    got = f(1.0, 2.0)
    assert isinstance(got, list) and len(got) == 1
    assert got[0].dtype == cr.get_default_dtype()  # placeholders take the default dtype
    np.testing.assert_allclose(got[0].item(), 2 + np.sin(1.0), rtol=1e-6)
    single = cr.function([a, b], c)(1.0, 2.0)
    assert isinstance(single, cr.Tensor)
    pair = cr.function([a, b], (c, {"twice": 2 * c}))(1.0, 2.0)
    assert isinstance(pair, tuple) and set(pair[1]) == {"twice"}
    np.testing.assert_allclose(pair[1]["twice"].item(), 2 * (2 + np.sin(1.0)), rtol=1e-6)
    # by name, and arrays / tensors / nested lists as values
    by_name = cr.function([a, b], c)(b=2.0, a=1.0)
    np.testing.assert_allclose(by_name.item(), single.item())
    x = cr.placeholder((2, 2), F64, name="x")
    g = cr.function([x], x.sum())
    assert g([[1, 2], [3, 4]]).item() == 10.0
    assert g(cr.tensor(np.ones((2, 2)))).item() == 4.0


def test_outputs_not_depending_on_the_inputs_are_constants_and_results_never_alias():
    x = cr.placeholder((3,), F64, name="x")
    w = cr.tensor([1.0, 2.0, 3.0], dtype=F64)
    f = cr.function([x], [x, 7.0, w, x * 1])
    value = np.array([4.0, 5.0, 6.0])
    same, seven, ww, y = f(value)
    assert seven.item() == 7.0 and np.array_equal(_np(ww), [1, 2, 3])
    assert not np.shares_memory(_np(same), value) and not np.shares_memory(_np(ww), _np(w))
    first = f(value)[3]
    second = f(value * 2)[3]
    assert not np.shares_memory(_np(first), _np(second))
    np.testing.assert_array_equal(_np(first), value)
    np.testing.assert_array_equal(_np(y), value)
    m = cr.placeholder((2, 3), F64, name="m")
    views = cr.function([m], [m.T, m[0], m.reshape(6), w[1:]])
    matrix = np.arange(6.0).reshape(2, 3)
    for got in views(matrix):
        assert not np.shares_memory(_np(got), matrix) and not np.shares_memory(_np(got), _np(w))
    np.testing.assert_array_equal(_np(views(matrix)[0]), matrix.T)


# --- gradients -----------------------------------------------------------------------------

def _loss(x, w):
    return ((x @ w).tanh() ** 2).sum() + (x * x).sum().sqrt() * w.sum()


def test_gradients_equal_eager_grad_and_central_differences():
    x, w = cr.placeholder((2, 3), F64, name="x"), cr.placeholder((3,), F64, name="w")
    loss = _loss(x, w)
    gx, gw = cr.autograd.grad(loss, [x, w])
    assert is_symbolic(gx) and is_symbolic(gw)
    f = cr.function([x, w], [loss, gx, gw])
    for _ in range(3):
        vx, vw = RNG.normal(size=(2, 3)), RNG.normal(size=3)
        value, dx, dw = f(vx, vw)
        _close(value, _loss(cr.tensor(vx), cr.tensor(vw)))
        want_dx, want_dw = cr.grad(_loss, argnums=(0, 1))(cr.tensor(vx), cr.tensor(vw))
        _close(dx, want_dx)
        _close(dw, want_dw)
        numeric = _central(lambda a, b: _np(_loss(cr.tensor(a), cr.tensor(b))), [vx, vw], 1)
        _close(dw, numeric, rtol=1e-6, atol=1e-8)


def test_second_derivatives_equal_eager_hessian_and_central_differences():
    x = cr.placeholder((3,), F64, name="x")

    def f(t):
        return (t.sin() * t.roll(1, 0)).sum() + (t ** 4).sum() / 12

    (g,) = cr.autograd.grad(f(x), [x], create_graph=True)
    rows = [cr.autograd.grad(g[i], [x], retain_graph=True)[0] for i in range(3)]
    hess = cr.function([x], cr.stack(rows))
    grad = cr.function([x], g)
    for _ in range(3):
        v = RNG.normal(size=3)
        _close(hess(v), cr.hessian(f)(cr.tensor(v)))
        numeric = np.stack([_central(lambda a, i=i: _np(grad(a))[i], [v], 0) for i in range(3)])
        _close(hess(v), numeric, rtol=1e-6, atol=1e-7)
    # transforms take placeholders too: their results are symbolic
    h2 = cr.hessian(f)(x)
    assert is_symbolic(h2)
    v = RNG.normal(size=3)
    _close(cr.function([x], h2)(v), cr.hessian(f)(cr.tensor(v)))
    assert is_symbolic(cr.grad(f)(x))


TRANSFORMS = {
    "vmap": lambda x: cr.vmap(lambda r: (r.sin() * r[::-1]).sum() + r.max())(x),
    "jacrev": lambda x: cr.jacrev(lambda r: r.sin() * r.sum())(x[1]),
    "jacfwd": lambda x: cr.jacfwd(lambda r: r.exp() * r.prod())(x[2]),
    "jvp": lambda x: cr.jvp(lambda r: r.tanh() * r.prod(), (x[0],), (x[1],))[1],
    "hvp": lambda x: cr.hvp(lambda r: (r ** 3).sum(), (x[0],), (x[1],))[1],
    "vjp": lambda x: cr.vjp(lambda r: r.cos() * r.sum(), x[0])[1](x[2])[0],
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transforms_of_placeholders_are_symbolic_and_equal_eager(name):
    x = cr.placeholder((3, 2), F64, name="x")
    out = TRANSFORMS[name](x)
    assert is_symbolic(out)
    f = cr.function([x], out)
    for _ in range(3):
        v = RNG.normal(size=(3, 2))
        _close(f(v), TRANSFORMS[name](cr.tensor(v)))


def test_a_decision_inside_a_rule_is_checked_at_every_call():
    x = cr.placeholder((3,), F64, name="x")
    f = cr.function([x], cr.autograd.grad(x.prod(), [x])[0])
    _close(f([1.0, 2.0, 3.0]), [6.0, 3.0, 2.0])
    with pytest.raises(RuntimeError, match="whether the product has a zero factor"):
        f([0.0, 2.0, 3.0])
    # built on an example with a zero, the other branch
    z = cr.placeholder((3,), F64, name="z", value=[0.0, 1.0, 1.0])
    g = cr.function([z], cr.autograd.grad(z.prod(), [z])[0])
    _close(g([0.0, 2.0, 3.0]), [6.0, 0.0, 0.0])


# --- captured tensors --------------------------------------------------------------------------

def test_tensors_with_values_are_read_at_every_call():
    x = cr.placeholder((3,), F64, name="x")
    w = cr.tensor(np.eye(3) * 2, dtype=F64)
    bias = cr.tensor(0.5, dtype=F64)
    y = ((w @ x).tanh() + bias).sum()
    f = cr.function([x], [y, cr.autograd.grad(y, [x])[0]])
    v = np.array([0.1, 0.2, 0.3])

    def eager():
        t = cr.tensor(v, requires_grad=True)
        out = ((w @ t).tanh() + bias).sum()
        return out, cr.autograd.grad(out, [t])[0]

    for change in (lambda: w.mul_(3.0), lambda: bias.add_(1.0), lambda: w.copy_(cr.ones(3, 3, dtype=F64))):
        with cr.no_grad():
            change()
        got, want = f(v), eager()
        _close(got[0], want[0])
        _close(got[1], want[1])
    assert "captured" in str(f.graph)


def test_tensors_computed_from_captured_ones_follow_eager_reading_rules():
    # W.T inside a gradient rule is recomputed from W at every call; a tensor computed from W
    # before W changed in place is read as it is (its values are no longer W's formula)
    w = cr.ones(3, dtype=F64)
    a = cr.placeholder((3,), F64, name="a")
    y1 = a * w
    v = w * 2
    with cr.no_grad():
        w.add_(1.0)
    y2 = a * v
    f = cr.function([a], [y1, y2])
    got1, got2 = f(np.ones(3))
    _close(got1, [2.0, 2.0, 2.0])
    _close(got2, [2.0, 2.0, 2.0])
    with cr.no_grad():
        w.mul_(5.0)
        v.add_(1.0)
    got1, got2 = f(np.ones(3))
    _close(got1, [10.0, 10.0, 10.0])
    _close(got2, [3.0, 3.0, 3.0])


def test_a_captured_tensor_changing_shape_is_refused():
    x = cr.placeholder((2,), F64, name="x")
    w = cr.tensor([1.0, 2.0], dtype=F64)
    f = cr.function([x], x * w)
    w.data = cr.tensor([1.0, 2.0, 3.0], dtype=F64)
    with pytest.raises(RuntimeError, match="compile the function again"):
        f([1.0, 1.0])


# --- errors --------------------------------------------------------------------------------

READS = {
    ".item()": lambda t: t.item(), ".numpy()": lambda t: t.numpy(), "float()": float,
    "bool()": bool, "np.asarray()": np.asarray, ".tolist()": lambda t: t.tolist(),
    "int()": int, "format()": lambda t: f"{t:.3f}", "math.sin": lambda t: math.sin(t),
    "np.array([...])": lambda t: np.array([t, t]),
}


@pytest.mark.parametrize("what", sorted(READS))
def test_asking_a_symbolic_tensor_for_values_names_its_placeholders(what):
    a, b = cr.placeholder((), F64, name="alpha"), cr.placeholder((), F64, name="beta")
    c = a * b + 1
    with pytest.raises(SymbolicValueError) as info:
        READS[what](c)
    message = str(info.value)
    assert "alpha" in message and "beta" in message and "symbolic" in message and "cr.function" in message
    with pytest.raises(SymbolicValueError, match="alpha"):
        READS[what](a)
    # a branch on a symbolic value says what to do instead
    if what == "bool()":
        assert "cr.where" in message
    # tensors with values are untouched
    assert float(cr.tensor(2.0) * 3) == 6.0


def test_repr_shows_a_symbolic_tensor_not_numbers():
    x = cr.placeholder((2, 3), F64, name="x")
    y = cr.placeholder((3,), F64, name="y")
    z = (x * y).sum(dim=0)
    assert repr(x) == "placeholder('x', shape=(2, 3), dtype=float64)"
    text = repr(z)
    assert "symbolic" in text and "(3,)" in text and "float64" in text and "x, y" in text
    assert str(z) == text and not re.search(r"\d\.\d", text)
    assert "symbolic" in repr([z])


def test_misuse_of_function_is_refused_clearly():
    a, b = cr.placeholder((), F64, name="a"), cr.placeholder((2,), F64, name="b")
    c = a * b
    with pytest.raises(TypeError, match=r"inputs\[1\] is not a placeholder \(a symbolic tensor computed from a, b\)"):
        cr.function([a, c], c)
    with pytest.raises(TypeError, match=r"inputs\[0\] is not a placeholder \(a tensor with values\)"):
        cr.function([cr.ones(2)], c)
    with pytest.raises(TypeError, match="list of placeholders"):
        cr.function(a, c)
    with pytest.raises(ValueError, match="given twice"):
        cr.function([a, a, b], c)
    with pytest.raises(ValueError, match="depend on the placeholder b, not among the inputs"):
        cr.function([a], c)
    with pytest.raises(TypeError, match="output 0 is a str"):
        cr.function([a, b], "c")
    f = cr.function([a, b], c)
    with pytest.raises(ValueError, match=r"value for b has shape \(3,\), the placeholder \(2,\)"):
        f(1.0, [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="takes 2 values"):
        f(1.0)
    with pytest.raises(TypeError, match="itself symbolic"):
        f(a, [1.0, 2.0])
    i = cr.placeholder((), cr.int64, name="i")
    with pytest.raises(TypeError, match="dtype float64, the placeholder int64"):
        cr.function([i], i * 2)(1.5)
    with pytest.raises(TypeError, match="no placeholder named 'q'"):
        f(1.0, q=2.0)
    with pytest.raises(TypeError, match="shape must be a tuple"):
        cr.placeholder((2, -1))
    with pytest.raises(ValueError, match="value has shape"):
        cr.placeholder((2,), value=[1.0, 2.0, 3.0])


def test_what_a_graph_cannot_hold_is_refused_naming_it():
    a = cr.placeholder((3,), F64, name="a")
    d = a * 2
    with pytest.raises(SymbolicError, match="in-place change of a symbolic tensor.*placeholders a"):
        d.add_(1)
    w = cr.zeros(3, dtype=F64)
    with pytest.raises(SymbolicError, match="in-place write of a symbolic value"):
        w[0] = a[1]
    with pytest.raises(SymbolicError, match=r"random numbers \(dropout\).*placeholders a"):
        cr.nn.functional.dropout(a, 0.5)
    with pytest.raises(SymbolicError, match=r"backward\(\) of a symbolic tensor.*placeholders a.*\.grad.*"
                                            r"cr\.autograd\.grad"):
        (a * a).sum().backward()
    assert a.grad is None
    # random tensors made beside a graph are captured tensors (read at every call)
    noise = cr.randn(3, dtype=F64)
    f = cr.function([a], a + noise)
    _close(f([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]) + _np(noise))


# --- composition ------------------------------------------------------------------------------

def test_jit_on_symbolic_tensors_records_and_on_values_still_compiles():
    calls = []

    def f(t):
        calls.append(1)
        return (t * t).sin()

    fast = cr.jit(f)
    x = cr.placeholder((3,), F64, name="x")
    y = fast(x)
    assert is_symbolic(y)
    _close(cr.function([x], y)([1.0, 2.0, 3.0]), np.sin(np.array([1.0, 2.0, 3.0]) ** 2))
    v = cr.tensor([0.5, 0.25, 0.125], dtype=F64)
    _close(fast(v), np.sin(_np(v) ** 2))
    _close(fast(v * 2), np.sin((_np(v) * 2) ** 2))
    assert fast.traces == 1  # traced once for values, while a placeholder exists


def test_eager_mode_is_untouched_and_the_hooks_go_quiet_when_symbolic_tensors_are_gone():
    gc.collect()
    cr.ones(1) + 1  # the next operation drops what died
    assert tracing.symbolic[0] is None and not RECORDER.tensors
    base = tracing.active[0]
    x = cr.placeholder((2,), F64, name="x")
    y = (x * 3).sum()
    assert tracing.active[0] == base + 1
    w = cr.tensor([1.0, 2.0], requires_grad=True, dtype=F64)
    captured = cr.function([x], x * w)  # w is captured: what is computed from it is recorded too
    loss = (w * w).sum()
    loss.backward()  # eager work beside symbolic tensors: values and .grad as always
    assert loss.item() == 5.0 and np.array_equal(_np(w.grad), [2.0, 4.0])
    with cr.no_grad():
        w.sub_(0.5 * w.grad)
    assert np.array_equal(_np(captured([1.0, 1.0])), [0.0, 0.0])
    assert repr(cr.tensor([1.0, 2.0], dtype=F64)).startswith("tensor([1., 2.]")
    del x, y, captured
    gc.collect()
    cr.ones(1) + 1  # the next operation drops what died
    assert tracing.active[0] == base and tracing.symbolic[0] is None
    assert not RECORDER.tensors


# --- random programs ------------------------------------------------------------------------------

UNARY = [
    cr.sin, cr.cos, cr.tanh, cr.sigmoid, cr.softplus, cr.arctan, cr.square, cr.neg,
    lambda x: (x * x + 1).log(), lambda x: (x * x + 1).sqrt(), lambda x: cr.exp(x * 0.3),
    lambda x: x.sum(dim=-1, keepdim=True), lambda x: x.mean(dim=0, keepdim=True), lambda x: x * 2.5,
]
BINARY = [
    cr.add, cr.sub, cr.mul, lambda x, y: x / (y * y + 1), cr.hypot, cr.logaddexp, cr.atan2,
    lambda x, y: cr.where(x > y, x, y * 0.5), lambda x, y: x * y.sin() + 1,
]


def _program(rng, depth):
    """A random expression over the leaves 0, 1, 2 (as nested tuples)."""
    if depth == 0 or rng.random() < 0.2:
        return ("leaf", int(rng.integers(3)))
    if rng.random() < 0.45:
        return ("unary", int(rng.integers(len(UNARY))), _program(rng, depth - 1))
    return ("binary", int(rng.integers(len(BINARY))), _program(rng, depth - 1), _program(rng, depth - 1))


def _evaluate(program, leaves):
    if program[0] == "leaf":
        return leaves[program[1]]
    if program[0] == "unary":
        return UNARY[program[1]](_evaluate(program[2], leaves))
    return BINARY[program[1]](_evaluate(program[2], leaves), _evaluate(program[3], leaves))


@pytest.mark.parametrize("seed", range(12))
def test_random_programs_equal_eager_with_gradients(seed):
    rng = np.random.default_rng(100 + seed)
    shapes = [(2, 3), (3,), ()]
    programs = [_program(rng, 4) for _ in range(3)]
    leaves = [cr.placeholder(s, F64, name=f"x{k}") for k, s in enumerate(shapes)]
    outputs = [_evaluate(p, leaves) + leaves[0] * 0 for p in programs]  # every output depends on x0
    total = sum(o.sum() for o in outputs)
    grads = cr.autograd.grad(total, leaves, allow_unused=True, materialize_grads=True)
    f = cr.function(leaves, [outputs, list(grads)])
    for _ in range(3):
        values = [rng.uniform(-1.5, 1.5, s) for s in shapes]
        got_out, got_grads = f(*values)
        tensors = [cr.tensor(v, requires_grad=True) for v in values]
        want_out = [_evaluate(p, tensors) + tensors[0] * 0 for p in programs]
        want_total = sum(o.sum() for o in want_out)
        want_grads = cr.autograd.grad(want_total, tensors, allow_unused=True, materialize_grads=True)
        for g, w in zip(got_out, want_out):
            _close(g, w, rtol=1e-11, atol=1e-12)
        for g, w in zip(got_grads, want_grads):
            _close(g, w, rtol=1e-10, atol=1e-12)


# --- the whole operation table ------------------------------------------------------------------

# What a graph of placeholders refuses (an error naming it and the placeholders): in-place
# changes of symbolic tensors, dropout, rules that decide on values without tracing.decide
# (NaN handling, quantiles, degenerate eigenvalues), and functions that read an index's or a
# count's values outside the operations (take, index_select, repeat_interleave with a symbolic
# index). cr.jit runs or guards those instead.
REFUSED = re.compile(r"in-place (change|write) of a symbolic|random numbers \(dropout\)|a decision inside a rule "
                     r"on values it cannot follow|a read of its values outside the operations")
TABLE = [pytest.param(e, s, id=f"{e.name}-{s.label}") for e in ENTRIES for s in e.samples]


def _flat(result):
    items = result if isinstance(result, (tuple, list)) else [result]
    return [y for x in items for y in (_flat(x) if isinstance(x, (tuple, list)) else [x])]


def _moved(args):
    """The arguments with each float/complex array moved a little (the domain kept)."""
    out = []
    for a in args:
        if isinstance(a, np.ndarray) and a.dtype.kind in "fc":
            scale = 1e-3 * (1 + np.abs(a))
            out.append(np.asarray(a + scale * RNG.uniform(-1, 1, a.shape)).astype(a.dtype))
        else:
            out.append(a)
    return out


def _squares(result):
    total = 0.0
    for o in _flat(result):
        if isinstance(o, cr.Tensor) and o.dtype.kind == "f":
            total = total + (o * o).sum()
        elif isinstance(o, cr.Tensor) and o.dtype.kind == "c":
            total = total + (o * o.conj()).real.sum()
    return total


def _same(got, want, rtol):
    got, want = _flat(got), _flat(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = _np(g), _np(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape, g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-11)


@pytest.mark.parametrize("entry, sample", TABLE)
def test_every_operation_through_placeholders_equals_eager(entry, sample):
    """Each op_db sample with its arrays made placeholders (the sample as example data): the
    compiled function's values, and the compiled gradient of the sum of squares, equal eager
    mode's on new inputs; a decision coming out differently raises, and on the sample's own
    values the results are eager's too."""
    idx = [i for i, a in enumerate(sample.args) if isinstance(a, np.ndarray)]
    with np.errstate(all="ignore"):
        holders = {i: cr.placeholder(sample.args[i].shape, sample.args[i].dtype, name=f"x{i}", value=sample.args[i])
                   for i in idx}
        inputs = [holders[i] for i in idx]
        call = [holders.get(i, a) for i, a in enumerate(sample.args)]
        try:
            out = entry.op(*call, **sample.kwargs)
        except (SymbolicError, SymbolicValueError) as exc:
            assert REFUSED.search(str(exc)) and re.search(r"placeholders? x", str(exc)), str(exc)
            return
        _check_table_function(entry, sample, cr.function(inputs, out), idx, grads=False)
        total = _squares(out) if sample.differentiable else 0.0
        if not isinstance(total, cr.Tensor):
            return
        try:
            grads = cr.autograd.grad(total, [holders[i] for i in sample.differentiable], allow_unused=True,
                                     materialize_grads=True)
        except (SymbolicError, SymbolicValueError) as exc:
            assert REFUSED.search(str(exc)) and re.search(r"placeholders? x", str(exc)), str(exc)
            return
        _check_table_function(entry, sample, cr.function(inputs, list(grads)), idx, grads=True)


def _check_table_function(entry, sample, f, idx, grads):
    for values in (_moved(sample.args), list(sample.args)):
        try:
            got = f(*[values[i] for i in idx])
        except RuntimeError as exc:  # a decision taken on the example came out differently
            assert "came out differently" in str(exc)
            continue
        tensors = [cr.tensor(a, requires_grad=grads and i in sample.differentiable)
                   if isinstance(a, np.ndarray) else a for i, a in enumerate(values)]
        want = entry.op(*tensors, **sample.kwargs)
        if grads:
            want = list(cr.autograd.grad(_squares(want), [tensors[i] for i in sample.differentiable],
                                         allow_unused=True, materialize_grads=True))
        _same(got, want, 1e-9 if grads else 1e-10)


# --- drawing -------------------------------------------------------------------------------------

def test_drawing_a_function_graph_and_a_symbolic_tensor(tmp_path):
    a, b = cr.placeholder((), F64, name="a"), cr.placeholder((2,), F64, name="b")
    w = cr.tensor([1.0, 2.0], dtype=F64)
    c = (a * b * w + cr.sin(a)).sum()
    f = cr.function([a, b], [c, 3.0])
    dot = cr.viz.to_dot(f)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    for text in ("<b>a</b>", "<b>b</b>", "(captured)", "= mul", "= sin", "= add", "= sum", "output 0",
                 "output 1", '"3.0"'):
        assert text in dot, text
    assert dot == cr.viz.to_dot(f.graph)
    boxes = re.findall(r"^\s*n\d+ \[label=<", dot, flags=re.MULTILINE)
    assert len(boxes) == 2 + 1 + len(f.graph.equations)  # inputs, captured, equations
    assert len(re.findall(r"-> n\d+;", dot)) >= len(f.graph.equations)
    symbolic = cr.viz.to_dot(c)  # a symbolic tensor: its formula, no example values
    assert "= sin" in symbolic and "0.5" not in symbolic
    path = cr.viz.render(f, tmp_path / "f.dot")
    assert path.read_text() == dot
    x = cr.placeholder((3,), F64, name="x")
    guarded = cr.viz.to_dot(cr.function([x], cr.autograd.grad(x.prod(), [x])[0]))
    assert "zero factor" in guarded and "octagon" in guarded
    traced = cr.viz.to_dot(cr.graph(lambda t: (t * t).sum(), cr.ones(3)))
    assert "= mul" in traced and "output 0" in traced


# --- threads -------------------------------------------------------------------------------------

def test_recording_in_two_threads_at_once():
    errors: list = []
    barrier = threading.Barrier(3)

    def build(k):
        try:
            barrier.wait()
            for i in range(25):
                x = cr.placeholder((3,), F64, name=f"x{k}")
                y = (x * (k + 1) + i).sin().sum()
                g = cr.autograd.grad(y, [x])[0]
                f = cr.function([x], [y, g])
                v = np.linspace(0, 1, 3) + i
                got_y, got_g = f(v)
                _close(got_y, np.sin(v * (k + 1) + i).sum())
                _close(got_g, (k + 1) * np.cos(v * (k + 1) + i))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    def eager():
        try:
            barrier.wait()
            for _ in range(50):
                t = cr.tensor([1.0, 2.0], requires_grad=True, dtype=F64)
                (t ** 2).sum().backward()
                assert float(t.grad.sum()) == 6.0
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(k,)) for k in range(2)] + [threading.Thread(target=eager)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
