"""Memory planning in ``cr.jit``'s generated code (``compile.memory``): equations computed into
buffers through ``out=`` (in place, into freed buffers, into buffers kept across calls) give
eager mode's values bit for bit, results of two calls never share memory, a buffer is never
overwritten while a value or a view of it is still read, and concurrent calls do not mix."""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule.compile import memory

RNG = np.random.default_rng(13)


def _eager_and_jit(f, *arg_sets):
    """f's results on each argument set, eagerly and through one jitted function (the first
    set traces; the others run the generated code); arrays of the jitted results kept as returned."""
    jf = cr.jit(f)
    pairs = []
    for args in arg_sets:
        eager = f(*args)
        got = jf(*args)
        pairs.append((eager, got))
    return jf, pairs


def _arrays(out):
    leaves = out if isinstance(out, (tuple, list)) else [out]
    found = []
    for leaf in leaves:
        if isinstance(leaf, (tuple, list)):
            found += _arrays(leaf)
        else:
            found.append(np.asarray(leaf.numpy() if isinstance(leaf, cr.Tensor) else leaf))
    return found


def _same(a, b):
    for x, y in zip(_arrays(a), _arrays(b), strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)


def _inputs(shape, n, dtype=np.float64):
    return [(cr.tensor(RNG.standard_normal(shape).astype(dtype)),) for _ in range(n)]


def test_a_chain_of_ufuncs_is_computed_in_place_and_equals_eager_mode():
    def f(x):
        y = x
        for _ in range(5):
            y = cr.tanh(y * 1.01 + 0.1)
        return y.sum()

    jf, pairs = _eager_and_jit(cr.value_and_grad(f), *_inputs((16,), 4))
    for eager, got in pairs:
        _same(eager, got)
    source = jf.source(*_inputs((16,), 1)[0])
    assert "tanh(v2, v2)" in source  # written into its operand's buffer (the planning is on)


def test_results_of_two_calls_never_share_memory():
    def f(x):
        a = x * 2.0 + 1.0        # computed in place: a buffer of the call, returned
        return a, a.T, cr.tanh(a) * 3.0, (a * a).sum()

    jf = cr.jit(f)
    x1, x2, x3 = (cr.tensor(RNG.standard_normal((5, 4))) for _ in range(3))
    jf(x1)
    r2 = jf(x2)
    kept = [np.array(a) for a in _arrays(r2)]
    r3 = jf(x3)
    for a in _arrays(r2):
        for b in _arrays(r3):
            assert not np.shares_memory(a, b)
    for a, b in zip(_arrays(r2), kept):
        np.testing.assert_array_equal(a, b)  # the later call did not write into them
    _same(r3, f(x3))


def test_a_returned_gradient_built_in_place_is_a_new_array_each_call():
    f = cr.value_and_grad(lambda x: (cr.tanh(x * 1.5 + 0.5) * cr.tanh(x - 0.25)).sum())
    jf = cr.jit(f)
    xs = [cr.tensor(RNG.standard_normal(64)) for _ in range(4)]
    results = [jf(x) for x in xs]
    grads = [g.numpy() for _, g in results]
    for i in range(len(grads)):
        for j in range(i):
            assert not np.shares_memory(grads[i], grads[j])
    for x, (value, g) in zip(xs, results):
        ev, eg = f(x)
        assert value.item() == ev.item()
        np.testing.assert_array_equal(g.numpy(), eg.numpy())


def test_buffers_kept_across_calls_are_pooled_and_never_returned():
    def f(x):
        y = x * 2.0              # returned: allocated by each call
        a = cr.tanh(x * 3.0)     # dead before the end, never returned: a persistent buffer
        b = a * a + 1.0
        return (b * x).sum(), y

    jf = cr.jit(f)
    x = cr.tensor(RNG.standard_normal(64))
    jf(x)
    source = jf.source(x)
    assert ".pop()" in source and ".append(" in source
    outs = [jf(cr.tensor(RNG.standard_normal(64))) for _ in range(3)]
    for i in range(3):
        for j in range(i):
            assert not np.shares_memory(outs[i][1].numpy(), outs[j][1].numpy())
    for _ in range(3):
        y = cr.tensor(RNG.standard_normal(64))
        _same(jf(y), f(y))


def test_in_place_on_a_value_of_the_inputs_layout_keeps_that_layout():
    def f(x):
        return cr.tanh(x * 3.0) * 2.0 + 1.0   # 2-d, in x's memory order: in place after the first

    jf = cr.jit(f)
    for make in (np.asfortranarray, np.ascontiguousarray):
        x = cr.tensor(make(RNG.standard_normal((8, 6))))
        got, eager = jf(x), f(x)
        _same(got, eager)
        assert got.numpy().strides == eager.numpy().strides
    assert "tanh(v1, v1)" in jf.source(x)


def test_a_buffer_is_not_reused_while_a_view_of_it_is_read():
    def f(x):
        a = x * 2.0               # a buffer
        t = a.T                   # views of it, read after a's own last reader
        r = a.reshape(-1)
        s = a[1:]
        c = a * 3.0 + 1.0         # a's last direct reader: must not write into a's buffer
        e = cr.tanh(x + 5.0)      # a new value of a's shape: must not take a's buffer either
        return (t @ c).sum() + r.sum() * 2.0 + s.sum() + (e * c).sum(), t * 1.0, r + 0.0

    args = _inputs((4, 4), 4)
    _, pairs = _eager_and_jit(f, *args)
    for eager, got in pairs:
        _same(eager, got)


def test_a_view_of_a_dead_value_keeps_its_buffer_through_an_unknown_operation():
    def f(x):
        a = cr.exp(x * 0.5)
        v = a.reshape(4, 4).T.reshape(-1)   # a view or a copy: either way read after a dies
        b = a * 2.0                         # a dies here
        c = cr.tanh(b + 1.0)
        return v * 1.0 + c

    _, pairs = _eager_and_jit(f, *_inputs((16,), 4))
    for eager, got in pairs:
        _same(eager, got)


def test_an_output_that_would_be_a_reused_buffer_is_its_own_memory():
    def f(x):
        a = x * 2.0
        b = cr.tanh(a)            # in place into a's buffer
        c = b * b + 1.0           # in place again
        return c, (c * 0.5).sum()

    jf = cr.jit(f)
    xs = [cr.tensor(RNG.standard_normal(32)) for _ in range(4)]
    outs = [jf(x) for x in xs]
    for x, out in zip(xs, outs):
        _same(out, f(x))
    cs = [out[0].numpy() for out in outs]
    assert all(not np.shares_memory(cs[i], cs[j]) for i in range(4) for j in range(i))


@pytest.mark.parametrize("layout", ["F", "strided", "C"])
def test_layouts_of_inputs_give_eager_modes_values_and_strides(layout):
    def f(x, b):
        y = cr.exp(x * 0.25 + b)           # 2-d: NumPy allocates it in x's memory order
        z = (y * y - 1.0)
        return z, z.sum(0), z.sum(), (y + 1.0).T

    base = RNG.standard_normal((6, 10))
    make = {"F": lambda a: np.asfortranarray(a), "strided": lambda a: np.repeat(a, 2, axis=1)[:, ::2],
            "C": lambda a: a}[layout]
    jf = cr.jit(f)
    for _ in range(3):
        x = cr.tensor(make(RNG.standard_normal((6, 10))))
        b = cr.tensor(RNG.standard_normal(10))
        eager, got = f(x, b), jf(x, b)
        _same(eager, got)
        for e, g in zip(_arrays(eager), _arrays(got)):
            assert e.strides == g.strides
    assert base.shape == (6, 10)


def test_float32_mlp_step_equals_eager_mode():
    def loss(params, X, labels):
        h = X
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i < len(params) - 2:
                h = cr.relu(h)
        return cr.nn.functional.cross_entropy(h, labels)

    sizes = (12, 16, 16, 3)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params += [cr.tensor(RNG.standard_normal((a, b)).astype(np.float32)),
                   cr.tensor(RNG.standard_normal(b).astype(np.float32))]
    f = cr.value_and_grad(loss)
    jf = cr.jit(f)
    for _ in range(3):
        X = cr.tensor(RNG.standard_normal((8, 12)).astype(np.float32))
        labels = cr.tensor(RNG.integers(0, 3, 8))
        _same(jf(tuple(params), X, labels), f(tuple(params), X, labels))


def test_concurrent_calls_with_different_inputs_do_not_mix():
    def f(x):
        a = cr.tanh(x * 1.1 + 0.2)
        b = cr.exp(-a * a) * 0.5
        c = cr.tanh(b * 3.0 - a)
        return (c * a).sum(), c * 2.0

    jf = cr.jit(f)
    shape = (1 << 16,)  # large enough for NumPy to release the GIL in its loops
    jf(cr.tensor(RNG.standard_normal(shape)))
    assert ".pop()" in jf.source(cr.tensor(RNG.standard_normal(shape)))
    inputs = [cr.tensor(RNG.standard_normal(shape)) for _ in range(6)]
    expected = [f(x) for x in inputs]
    errors: list[BaseException] = []
    start = threading.Barrier(len(inputs))

    def work(k):
        try:
            start.wait()
            for _ in range(20):
                _same(jf(inputs[k]), expected[k])
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_in_place_writes_of_the_callers_tensors_still_follow_eager_mode():
    def f(x, y):
        y.mul_(0.5).add_(cr.tanh(x * 2.0 + 1.0))
        return (y * x).sum()

    jf = cr.jit(f)
    for _ in range(3):
        x = RNG.standard_normal(16)
        y0 = RNG.standard_normal(16)
        ye, yj = cr.tensor(y0.copy()), cr.tensor(y0.copy())
        assert jf(cr.tensor(x), yj).item() == f(cr.tensor(x), ye).item()
        np.testing.assert_array_equal(yj.numpy(), ye.numpy())


def test_planning_off_gives_the_same_values():
    f = cr.value_and_grad(lambda x: (cr.tanh(x * 1.01 + 0.1) ** 2).sum())
    x = cr.tensor(RNG.standard_normal(16))
    on = cr.jit(f)
    on(x)
    memory.ENABLED = False
    try:
        off = cr.jit(f)
        off(x)
        assert ".pop()" not in off.source(x) and "v2, v2)" not in off.source(x)
        y = cr.tensor(RNG.standard_normal(16))
        _same(on(y), off(y))
    finally:
        memory.ENABLED = True


def test_a_freed_buffer_is_taken_by_a_later_value_of_its_shape():
    def f(x):
        a = cr.tanh(x * 2.0)
        s = (a * a).sum()          # a's buffer is free after this
        b = cr.exp(x * 3.0)        # x * 3.0 computed into it
        return s + (b * x).sum(), b - 1.0

    jf = cr.jit(f)
    x = cr.tensor(RNG.standard_normal(32))
    jf(x)
    source = jf.source(x)
    assert re.search(r"multiply\(x, 3\.0, v\d+\)", source), source
    outs = []
    for _ in range(3):
        y = cr.tensor(RNG.standard_normal(32))
        outs.append(jf(y))
        _same(outs[-1], f(y))
    assert not np.shares_memory(outs[0][1].numpy(), outs[1][1].numpy())


# ---------------------------------------------------------------------------------------------
# The whole operation table: the planned code gives the unplanned code's values, bit for bit
# ---------------------------------------------------------------------------------------------

def _planned_and_not(f):
    """``cr.jit(f)``, and ``cr.jit(f)`` whose code is generated (at its calls) without planning."""
    unplanned = cr.jit(f)

    def plain(*args):
        memory.ENABLED = False
        try:
            return unplanned(*args)
        finally:
            memory.ENABLED = True
    return cr.jit(f), plain


def _exactly(got, want, what):
    from test_jit import _arrays as flat

    got, want = flat(got), flat(want)
    assert len(got) == len(want), what
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype and g.strides == w.strides, what
        np.testing.assert_array_equal(g, w, err_msg=what)


def _table_cases():
    from op_db import ENTRIES
    return [pytest.param(e, s, id=f"{e.name}-{s.label}") for e in ENTRIES for s in e.samples]


def _loss_of(entry, sample):
    """A scalar function of the sample's array arguments (all of them inputs of the jitted
    function), and the positions of its float ones."""
    positions = [i for i, a in enumerate(sample.args) if isinstance(a, np.ndarray)]

    def f(*xs):
        call = list(sample.args)
        for i, x in zip(positions, xs):
            call[i] = x
        total = 0.0
        for o in _flat(entry.op(*call, **sample.kwargs)):
            if isinstance(o, cr.Tensor) and o.is_floating_point():
                total = total + (o * o * 0.5 + o).sum()
        return total

    floats = tuple(k for k, i in enumerate(positions) if sample.args[i].dtype.kind == "f")
    return f, positions, floats


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [leaf for item in out for leaf in _flat(item)]
    return [out]


@pytest.mark.parametrize("entry, sample", _table_cases())
def test_the_op_table_planned_equals_unplanned_bit_for_bit(entry, sample):
    import warnings

    from test_jit import _perturbed

    f, positions, floats = _loss_of(entry, sample)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            probe = f(*[cr.tensor(sample.args[i]) for i in positions])
        except Exception:  # noqa: BLE001 (an entry that needs its arguments as given)
            pytest.skip("not a function of its arrays")
        if not isinstance(probe, cr.Tensor):
            pytest.skip("no float output")
        functions = [("value", f)]
        if floats and not sample.complex:
            functions.append(("value_and_grad", cr.value_and_grad(f, argnums=floats)))
        for what, g in functions:
            planned, plain = _planned_and_not(g)
            for args in (sample.args, _perturbed(sample), _perturbed(sample)):
                xs = [args[i] for i in positions]
                cr.manual_seed(0)
                try:
                    want = plain(*[cr.tensor(a) for a in xs])
                except Exception:  # noqa: BLE001 (the unplanned code raises too: not this test's concern)
                    continue
                cr.manual_seed(0)
                _exactly(planned(*[cr.tensor(a) for a in xs]), want, what)


def test_maximum_and_minimum_take_their_buffer_by_keyword():
    import warnings

    def f(x):
        a = x * 2.0
        return (cr.minimum(cr.maximum(a, x * 3.0), a - 1.0) * 1.5).sum()

    jf = cr.jit(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a positional out= of np.maximum is deprecated
        for _ in range(3):
            x = cr.tensor(RNG.standard_normal(16))
            assert jf(x).item() == f(x).item()
    assert "out=" in jf.source(x)


def test_a_decision_that_changes_mid_call_leaves_the_buffers_consistent():
    def f(x):
        a = cr.tanh(x * 2.0 + 1.0)          # buffers taken before the decision
        if (a * a).sum() > 8.0:              # a guard: a later call may leave here (GuardMiss)
            return (cr.exp(a * 0.5) * 2.0).sum(), a * 3.0
        return (a * a * a).sum(), a - 3.0

    jf = cr.jit(f)
    for k in range(12):
        x = cr.tensor(RNG.standard_normal(32) * (0.1 if k % 3 else 3.0))
        _same(jf(x), f(x))


def test_in_place_through_a_reshaped_view_of_a_buffer():
    """An elementwise operation whose operand is a reshape of a dead buffer (matmul's result
    reshaped by a Jacobian's batching) writes into that buffer through the view, as hand-written
    NumPy's ``out *= d[:, None]``; a buffer pooled across calls then written through a reshaped
    view keeps the shape it was allocated with. Values, strides and memory as eager mode's."""
    A = cr.tensor(RNG.standard_normal((6, 6)))

    def f(x):
        m = (A * 2.0 + 1.0) @ A  # a pooled buffer (2A + 1), then matmul's result
        r = m.reshape(6, 6, 1).reshape(6, 6)  # all of it, reshaped twice
        s = (r * x.tanh()).reshape(3, 12)  # in place through the view
        t = (s + 1.0).reshape(6, 6).T
        return t, (A * 2.0 + 1.0).sum()

    jf, pairs = _eager_and_jit(f, *_inputs((6,), 4))
    for eager, got in pairs:
        _same(eager, got)
        assert got[0].numpy().strides == eager[0].numpy().strides
    assert re.search(r"multiply\((v\d+), v\d+, \1\)", jf.source(*_inputs((6,), 1)[0]))
    first, second = jf(*_inputs((6,), 1)[0]), jf(*_inputs((6,), 1)[0])
    assert not np.shares_memory(first[0].numpy(), second[0].numpy())
    jfwd = cr.jit(cr.jacfwd(lambda x: cr.tanh(A @ x)))
    for (x,) in _inputs((6,), 3):
        _same(jfwd(x), cr.jacfwd(lambda x: cr.tanh(A @ x))(x))
