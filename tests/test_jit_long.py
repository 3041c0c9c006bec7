"""``cr.jit`` of long chains (SPEC §10; W5c): the first call traces, optimises and generates code
in time linear in the chain's length, and the code computes what eager mode computes.

The Python-float code of a 0-d graph keeps few names (a value's name is taken again once it is
dead) and writes a run of identical lines as a ``for`` loop (``codegen.reroll``); the NumPy
version of such a graph is built only when a special value needs it. (The NumPy code keeps a
name per value: readable, and the names the memory plan's buffers go by.) These tests force
small loops (``REROLL_MIN``) so that values computed before a loop and read after it, guards
between loops and results from early in the chain are all exercised.
"""

from __future__ import annotations

import random
import threading
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.compile import codegen, scalar
from chainrule.compile.ir import Const


def _chain(n, c=0.9999, b=0.0001):
    def f(x):
        y = x
        for _ in range(n):
            y = y * c + b
        return y
    return f


def _same(got, want):
    got = [g.numpy() if isinstance(g, cr.Tensor) else g for g in got]
    want = [w.numpy() if isinstance(w, cr.Tensor) else w for w in want]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert type(g) is type(w)
        np.testing.assert_array_equal(g, w)


def test_a_20000_link_chain_compiles_to_a_loop_with_eagers_value_and_gradient():
    f = _chain(20000)
    jf, eager = cr.jit(cr.value_and_grad(f)), cr.value_and_grad(f)
    for x0 in (0.5, 0.5, -3.25, 7.0):  # traced, then the generated code
        x = cr.tensor(np.array(x0))
        _same(jf(x), eager(x))
    assert jf.traces == 1
    source = jf.source(cr.tensor(np.array(0.5)))
    fast = source.split("# numpy_version")[0]  # the Python-float code the calls run
    assert "for _ in range(20000):" in fast  # the chain as a loop
    assert len(fast.splitlines()) < 40  # (no line per link)


def test_a_chain_with_other_constants_at_each_link_is_written_out_and_correct():
    scales = [1 - k * 1e-7 for k in range(3000)]

    def f(x):
        y = x
        for s in scales:
            y = (y * s).sin() + 0.001  # the backward pass reads the forward's values
        return y

    jf, eager = cr.jit(cr.value_and_grad(f)), cr.value_and_grad(f)
    for x0 in (0.25, 1.5, -0.75):
        x = cr.tensor(np.array(x0))
        _same(jf(x), eager(x))


def test_a_long_chain_of_arrays_matches_eager():
    f = _chain(5000, 1.0001, -0.5)
    g = lambda x: f(x).sum()  # noqa: E731
    jf, eager = cr.jit(cr.value_and_grad(g)), cr.value_and_grad(g)
    for x0 in ([0.5, 1.0, 2.0], [3.0, -1.0, 0.25]):
        x = cr.tensor(x0)
        _same(jf(x), eager(x))


def _expand(lines):
    """``reroll``'s lines written out again."""
    out, i = [], 0
    while i < len(lines):
        if lines[i].startswith("for _ in range("):
            reps, block = int(lines[i][len("for _ in range("):-2]), []
            i += 1
            while i < len(lines) and lines[i].startswith("    "):
                block.append(lines[i][4:])
                i += 1
            out += block * reps
        else:
            out.append(lines[i])
            i += 1
    return out


@pytest.mark.parametrize("minimum", [2, 6, 64])
def test_reroll_writes_the_same_lines_in_the_same_order(monkeypatch, minimum):
    monkeypatch.setattr(codegen, "REROLL_MIN", minimum)
    rng = random.Random(minimum)
    for _ in range(300):
        lines = [rng.choice("abc") for _ in range(rng.randint(0, 40))]
        block = [rng.choice("abcd") for _ in range(rng.randint(1, 9))]
        lines = lines + block * rng.randint(0, 30) + lines[: rng.randint(0, 10)]
        out = codegen.reroll(lines)
        assert _expand(out) == lines
        assert sum(1 for line in out if line.startswith("for ")) <= len(lines) // 2 + 1
    assert codegen.reroll(["x = 1"] * 100) == ["for _ in range(100):", "    x = 1"]


def test_small_loops_values_across_them_guards_and_early_results(monkeypatch):
    """With loops of a few lines, each boundary is crossed: a value computed before a loop and
    read after it, a guard after a loop (its decision changing: traced again), results taken
    from early in the chain, Python floats and NumPy values."""
    monkeypatch.setattr(codegen, "REROLL_MIN", 2)
    monkeypatch.setattr(scalar, "REUSE_ABOVE", 0)

    def f(x):
        first = x * 2.0  # read again at the end, after the loops
        y = x
        for _ in range(8):
            y = y * 0.5 + 1.0
        early = y  # a result from the middle of the chain
        if (y > 1.9).all():  # a guard between two loops
            y = y * 3.0
        for _ in range(30):
            y = y * 0.5 + 1.0
        return early, y + first, y.sum()

    for shape in ((), (3,)):
        jf = cr.jit(f)
        for x0 in (0.5, -100.0, 0.5, -100.0, 2.0):
            x = cr.tensor(np.full(shape, x0))
            _same(jf(x), f(x))
        assert jf.traces == 2  # one per outcome of the decision
        source = jf.source(cr.tensor(np.full(shape, 0.5)))
        assert "GuardMiss" in source

    g = cr.jit(cr.grad(lambda x: f(x)[1].sum()))
    for x0 in (0.5, 2.0):
        x = cr.tensor(np.full((3,), x0))
        _same([g(x)], [cr.grad(lambda x: f(x)[1].sum())(x)])


def test_the_numpy_version_of_a_float_graph_is_built_on_first_need_once_across_threads(monkeypatch):
    def f(x):
        y = x
        for _ in range(200):
            y = y * 1.01 + 0.5
        return cr.log(y)  # log of a negative number: NaN, NumPy's answer (Python raises)

    jf, eager = cr.jit(f), f
    x = cr.tensor(np.array(0.5))
    _same([jf(x)], [eager(x)])
    graph = jf.graph(x)
    assert graph._numpy.built is None  # Python floats ran it: no NumPy version yet
    results, errors, generated = [], [], []
    generate = codegen.generate

    def counted(*args, **kwargs):
        generated.append(1)
        return generate(*args, **kwargs)

    monkeypatch.setattr(codegen, "generate", counted)

    def work():
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                results.append(jf(cr.tensor(np.array(-1e6))))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and graph._numpy.built is not None and len(generated) == 1
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = eager(cr.tensor(np.array(-1e6)))
    for r in results:
        _same([r], [want])
    assert "numpy_version" in jf.source(x)


def test_a_constant_folded_while_tracing_is_not_changed_by_a_later_write():
    def f(x):
        g = cr.grad(lambda x: (x * 2.0).sum())(x)  # the seed and constants only: folded while tracing
        a = x * g
        g += 1.0  # the tensor's memory written: the folded constant keeps the old values
        return a + g, g * 1.0

    for values in ([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0], [1.0, 2.0, 3.0]], [2.0, -1.5, 2.0]):  # arrays, numbers
        jf = cr.jit(f)
        for x0 in values:
            x = cr.tensor(np.array(x0))
            _same(jf(x), f(x))
        assert jf.traces == 1 and "add" in jf.source(cr.tensor(np.array(values[0])))


def test_a_folded_constant_result_is_a_new_array_at_every_call():
    jf = cr.jit(lambda x: (x * 2.0, cr.tensor(np.ones(3)) * 2.0))
    x = cr.tensor([1.0, 2.0, 3.0])
    first, second = jf(x), jf(x)
    assert not np.shares_memory(first[1].numpy(), second[1].numpy())
    first[1].numpy()[:] = 7.0
    np.testing.assert_array_equal(jf(x)[1].numpy(), [2.0, 2.0, 2.0])


def test_a_constant_array_folds_at_compile_time_a_broadcast_staying_a_view():
    """Folding while tracing is for NumPy scalars; an array of constants (the seed of a backward
    pass, broadcast) is folded by the passes, computed again: a view stays a view (no memory)."""
    jf = cr.jit(cr.grad(lambda x: (x * x).sum()))
    x = cr.tensor(np.ones((64, 64)))
    np.testing.assert_array_equal(jf(x).numpy(), 2 * np.ones((64, 64)))
    arrays = [o.value for eq in jf.graph(x).equations for o in eq.operands
              if isinstance(o, Const) and isinstance(o.value, np.ndarray)]
    assert arrays and all(a.strides == (0, 0) and not a.flags.writeable for a in arrays)


def test_an_argument_named_like_the_loop_variable_is_not_overwritten(monkeypatch):
    monkeypatch.setattr(codegen, "REROLL_MIN", 2)
    monkeypatch.setattr(scalar, "REUSE_ABOVE", 0)  # (a short graph's names reused: loops)

    def f(_, y):
        for _k in range(6):
            y = y * 2.0
        return y + _

    jf = cr.jit(f)
    for shape in ((2,), ()):
        a, b = cr.tensor(np.full(shape, 1.0)), cr.tensor(np.full(shape, 3.0))
        _same([jf(a, b)], [f(a, b)])
        if shape == ():
            assert "for _ in range(" in jf.source(a, b)


def test_a_guard_checked_late_keeps_its_value_alive_until_then():
    """Guards are checked in the order the decisions were made: one on a value computed early
    waits for an earlier decision's value; the value (whose other readers are past) lives until
    its guard is checked, and no later value takes its name before."""
    def f(x):
        a = x * 2.0
        b = a + 1.0  # a's last reader
        c = b * 3.0
        if c:  # decided first: checked once c exists
            pass
        if a:  # decided second, on a: checked after c's guard
            return c + 1
        return c - 1

    jf = cr.jit(f)
    for v in (1.0, 0.0, 1.0, 0.0, -0.25):
        x = cr.tensor(np.array([v]))
        _same([jf(x)], [f(x)])
    assert jf.traces == 2


def test_views_that_change_nothing_are_dropped_with_eagers_values_and_strides():
    """``alias``, a reshape to the same shape, an identity permutation, and a permutation of a
    permutation (composed into one): the passes keep the operand or one view, with eager mode's
    values and strides (a permuted input's result stays a view of the same layout)."""
    def f(x):
        y = x.reshape(x.shape).permute(1, 0, 2).permute(2, 0, 1)  # composed: one permutation
        z = x.permute(0, 1, 2) * 2.0  # an identity permutation
        return y, z, x.permute(2, 1, 0).permute(2, 1, 0) + 1.0

    jf = cr.jit(f)
    for k in range(3):
        x = cr.tensor(np.arange(24.0).reshape(2, 3, 4) * (k + 1))
        if k == 2:
            x = cr.tensor(np.asfortranarray(x.numpy()))
        got, want = jf(x), f(x)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
            assert g.numpy().strides == w.numpy().strides
    names = [eq.prim.name for eq in jf.graph(x).equations]
    assert names.count("permute") == 1 and "reshape" not in names
    jfwd = cr.jit(cr.jacfwd(lambda v: (v * 2.0).sin()))
    v = cr.tensor(np.linspace(0, 1, 5))
    assert "alias" not in jfwd.source(v)
    np.testing.assert_array_equal(jfwd(v).numpy(), cr.jacfwd(lambda v: (v * 2.0).sin())(v).numpy())
