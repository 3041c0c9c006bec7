"""Sorting, selecting and NumPy's products: NumPy's exact results (values, shapes, dtypes,
keywords) over shapes drawn by hypothesis, PyTorch as the oracle for values, indices and
gradients (both modes, second order), errors, and edge cases (empty, 0-d, NaN, ties)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(12)
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


def _distinct(*shape):
    n = int(np.prod(shape))
    return (RNG.permutation(n) + RNG.uniform(0.1, 0.9, n)).reshape(shape) - n / 2


def _pair(a):
    return cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _grads_match(f_cr, f_torch, *arrays, weight_seed=0):
    """Values and gradients of ``sum(w * f(x))`` equal PyTorch's."""
    xs = [_pair(a) for a in arrays]
    out_c, out_t = f_cr(*[c for c, _ in xs]), f_torch(*[t for _, t in xs])
    np.testing.assert_allclose(out_c.detach().numpy(), out_t.detach().numpy(), rtol=1e-12)
    w = np.random.default_rng(weight_seed).standard_normal(out_t.shape)
    (out_c * cr.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    for c, t in xs:
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# PyTorch's names: values, indices, gradients against PyTorch
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, dim, descending", [((5,), -1, False), ((3, 4), 0, True), ((2, 3, 4), 1, False),
                                                   ((2, 3, 4), -1, True)])
def test_sort_matches_torch(shape, dim, descending):
    a = _distinct(*shape)
    v, i = cr.sort(cr.tensor(a), dim=dim, descending=descending)
    tv, ti = torch.sort(torch.tensor(a), dim=dim, descending=descending)
    np.testing.assert_array_equal(v.numpy(), tv.numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    assert i.dtype == cr.int64
    _grads_match(lambda x: cr.sort(x, dim, descending).values ** 3, lambda x: torch.sort(x, dim, descending).values ** 3, a)
    assert np.array_equal(cr.argsort(cr.tensor(a), dim, descending).numpy(), ti.numpy())
    assert np.array_equal(cr.tensor(a).argsort(dim=dim, descending=descending).numpy(), ti.numpy())


def test_sort_nan_and_stable_ties_follow_torch():
    a = np.array([1.0, np.nan, 3.0, 1.0, -2.0, 3.0])
    for descending in (False, True):
        v, i = cr.sort(cr.tensor(a), descending=descending, stable=True)
        tv, ti = torch.sort(torch.tensor(a), descending=descending, stable=True)
        np.testing.assert_array_equal(v.numpy(), tv.numpy())
        np.testing.assert_array_equal(i.numpy(), ti.numpy())
    # ties: each position's gradient reaches exactly one element (the one its index names)
    x = cr.tensor(np.array([2.0, 1.0, 2.0, 2.0]), requires_grad=True)
    v, i = cr.sort(x)
    (v * cr.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[i.numpy()], [1.0, 2.0, 3.0, 4.0])


def test_sort_second_order_and_forward_mode_match_torch():
    a = _distinct(3, 4)
    w = RNG.standard_normal((3, 4))

    def f_cr(x):
        return (cr.sort(x, dim=1).values ** 3 * cr.tensor(w)).sum()

    def f_t(x):
        return (torch.sort(x, dim=1).values ** 3 * torch.tensor(w)).sum()

    h = cr.hessian(f_cr)(cr.tensor(a)).numpy()
    th = torch.autograd.functional.hessian(f_t, torch.tensor(a)).numpy()
    np.testing.assert_allclose(h, th, rtol=1e-12)
    t = RNG.standard_normal((3, 4))
    _, tangent = cr.jvp(lambda x: cr.sort(x, dim=1, descending=True).values, (cr.tensor(a),), (cr.tensor(t),))
    _, ttangent = torch.func.jvp(lambda x: torch.sort(x, dim=1, descending=True).values, (torch.tensor(a),), (torch.tensor(t),))
    np.testing.assert_allclose(tangent.numpy(), ttangent.numpy())


@pytest.mark.parametrize("k, dim, largest", [(2, -1, True), (3, 0, False), (1, 1, True), (4, 1, False)])
def test_topk_matches_torch(k, dim, largest):
    a = _distinct(4, 5)
    v, i = cr.topk(cr.tensor(a), k, dim, largest)
    tv, ti = torch.topk(torch.tensor(a), k, dim, largest)
    np.testing.assert_array_equal(v.numpy(), tv.numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    _grads_match(lambda x: x.topk(k, dim, largest).values, lambda x: x.topk(k, dim, largest).values, a)


@pytest.mark.parametrize("k, dim, keepdim", [(1, -1, False), (3, 0, True), (5, 1, False)])
def test_kthvalue_matches_torch(k, dim, keepdim):
    a = _distinct(4, 5)
    v, i = cr.kthvalue(cr.tensor(a), k, dim, keepdim)
    tv, ti = torch.kthvalue(torch.tensor(a), k, dim, keepdim)
    np.testing.assert_array_equal(v.numpy(), tv.numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    assert v.shape == tuple(tv.shape)
    _grads_match(lambda x: cr.kthvalue(x, k, dim, keepdim)[0], lambda x: torch.kthvalue(x, k, dim, keepdim)[0], a)


def test_take_along_dim_matches_torch():
    a = RNG.standard_normal((3, 4))
    for index, dim in [(np.array([[0, 3], [1, 1], [2, 0]]), 1), (np.array([[2, 0, 1, 1]]), 0),
                       (np.array([[1], [0], [3]]), None), (np.array([[0, 2]]), -1)]:
        _grads_match(lambda x, i=index, d=dim: cr.take_along_dim(x, cr.tensor(i), d),
                     lambda x, i=index, d=dim: torch.take_along_dim(x, torch.tensor(i), d), a)
    broadcast = np.array([[2, 0, 1, 1], [0, 0, 2, 1]])  # the input (3, 1) broadcast to (3, 4)
    _grads_match(lambda x: cr.take_along_dim(x, cr.tensor(broadcast), 0),
                 lambda x: torch.take_along_dim(x, torch.tensor(broadcast), 0), RNG.standard_normal((3, 1)))


def test_take_matches_torch():
    a = RNG.standard_normal((3, 4))
    index = np.array([[0, -1, 5], [5, 11, 2]])
    _grads_match(lambda x: x.take(cr.tensor(index)), lambda x: x.take(torch.tensor(index)), a)


def test_scatter_and_scatter_add_match_torch():
    a, s = RNG.standard_normal((3, 5)), RNG.standard_normal((2, 4))
    distinct_rows = np.array([[2, 0, 1, 2], [0, 1, 2, 0]])  # dim 0: no repeated target
    _grads_match(lambda x, y: cr.scatter(x, 0, cr.tensor(distinct_rows), y),
                 lambda x, y: torch.scatter(x, 0, torch.tensor(distinct_rows), y), a, s)
    repeated = np.array([[1, 1, 4], [0, 3, 3], [2, 2, 2]])
    _grads_match(lambda x, y: x.scatter_add(1, cr.tensor(repeated), y),
                 lambda x, y: x.scatter_add(1, torch.tensor(repeated), y), a, RNG.standard_normal((3, 3)))
    # src larger than the index: only its corner is read (PyTorch has no backward for this form)
    big = cr.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, y: cr.scatter_add(x, 1, cr.tensor(repeated), y), (cr.tensor(a, requires_grad=True), big))
    assert cr.autograd.gradgradcheck(lambda x, y: cr.scatter(x, 0, cr.tensor(distinct_rows), y), (cr.tensor(a, requires_grad=True), big))
    np.testing.assert_allclose(cr.scatter_add(cr.tensor(a), 1, cr.tensor(repeated), big.detach()).numpy(),
                               torch.scatter_add(torch.tensor(a), 1, torch.tensor(repeated), torch.tensor(big.detach().numpy())).numpy(),
                               rtol=1e-14)
    _grads_match(lambda x: x.scatter(1, cr.tensor(repeated), value=2.5), lambda x: x.scatter(1, torch.tensor(repeated), 2.5), a)
    _grads_match(lambda x: cr.scatter(x, 1, cr.tensor(repeated), value=-1.0),
                 lambda x: torch.scatter(x, 1, torch.tensor(repeated), value=-1.0), a)


def test_scatter_with_repeated_targets_gives_the_gradient_to_the_written_element():
    x = cr.zeros(3, dtype=cr.float64, requires_grad=True)
    src = cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64, requires_grad=True)
    out = cr.scatter(x, 0, cr.tensor([2, 0, 2]), src)
    np.testing.assert_array_equal(out.detach().numpy(), [2.0, 0.0, 3.0])  # the last write wins
    (out * cr.tensor([10.0, 20.0, 30.0])).sum().backward()
    np.testing.assert_array_equal(src.grad.numpy(), [0.0, 10.0, 30.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 20.0, 0.0])
    assert cr.autograd.gradcheck(lambda a, b: cr.scatter(a, 0, cr.tensor([2, 0, 2]), b),
                                 (cr.tensor(RNG.standard_normal(3), requires_grad=True),
                                  cr.tensor(RNG.standard_normal(3), requires_grad=True)))


def test_select_is_a_view_like_torch():
    a = RNG.standard_normal((3, 4))
    _grads_match(lambda x: x.select(1, -1), lambda x: x.select(1, -1), a)
    t = cr.tensor(a.copy())
    row = cr.select(t, 0, 1)
    row.mul_(0.0)
    assert np.all(t.numpy()[1] == 0.0)


def test_nonzero_and_where_with_one_argument_follow_torch():
    a = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    got, want = cr.nonzero(cr.tensor(a)), torch.nonzero(torch.tensor(a))
    assert got.dtype == cr.int64 and got.shape == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    for g, w in zip(cr.tensor(a).nonzero(as_tuple=True), torch.nonzero(torch.tensor(a), as_tuple=True)):
        np.testing.assert_array_equal(g.numpy(), w.numpy())
    for g, w in zip(cr.where(cr.tensor(a) > 0), torch.where(torch.tensor(a) > 0)):
        np.testing.assert_array_equal(g.numpy(), w.numpy())
    assert cr.nonzero(cr.tensor(5.0)).shape == (1, 0)
    assert cr.nonzero(cr.zeros(0, 3)).shape == (0, 2)
    x = cr.tensor(a, requires_grad=True)
    assert not cr.nonzero(x).requires_grad
    with pytest.raises(TypeError, match="where: give both"):
        cr.where(x > 0, x)


def test_zero_dimensional_and_empty_inputs():
    s = cr.tensor(2.5, requires_grad=True)
    v, i = cr.sort(s)
    assert v.shape == () and i.shape == () and int(i) == 0
    v.backward()
    assert float(s.grad) == 1.0
    assert cr.topk(cr.tensor([1.0, 2.0]), 0).values.shape == (0,)
    assert cr.kthvalue(cr.tensor(3.0), 1).values.shape == ()
    for shape in [(0,), (2, 0), (0, 3)]:
        e = np.zeros(shape)
        assert cr.sort(cr.tensor(e)).values.shape == shape
        assert np.sort(cr.tensor(e)).shape == np.sort(e).shape
        assert np.argsort(cr.tensor(e), axis=0).shape == shape


def test_kthvalue_ties_pick_one_index():
    """PyTorch's choice among tied elements is unspecified: chainrule takes the first in a
    stable order; the value is PyTorch's."""
    a = np.array([1.0, 3.0, 1.0, 1.0])
    v, i = cr.kthvalue(cr.tensor(a), 2)
    assert float(v) == torch.kthvalue(torch.tensor(a), 2).values.item() and int(i) in (0, 2, 3)


@pytest.mark.parametrize("call, error, match", [
    (lambda x: cr.topk(x, 5), RuntimeError, "topk: k"),
    (lambda x: cr.kthvalue(x, 0), RuntimeError, "kthvalue: k"),
    (lambda x: cr.sort(x, dim=2), IndexError, "sort: dimension out of range"),
    (lambda x: cr.take(x, cr.tensor([12])), IndexError, "take: index 12"),
    (lambda x: cr.take_along_dim(x, cr.tensor([[4]]), 1), RuntimeError, "take_along_dim: index 4"),
    (lambda x: cr.take_along_dim(x, cr.tensor([1]), 1), ValueError, "same number of dimensions"),
    (lambda x: cr.take_along_dim(x, cr.tensor([[0.5]]), 1), TypeError, "must hold integers"),
    (lambda x: cr.scatter(x, 0, cr.tensor([[3, 0, 0, 0]]), x), RuntimeError, "scatter: index 3"),
    (lambda x: cr.scatter(x, 0, cr.tensor([[0, 1, 2, 0, 1]]), x), RuntimeError, "larger"),
    (lambda x: cr.scatter(x, 0, cr.tensor([[0]]), x.float()), RuntimeError, "dtype"),
    (lambda x: cr.scatter(x, 0, cr.tensor([[0]])), TypeError, "give exactly one"),
    (lambda x: cr.scatter(x, 0, cr.tensor([[0]]), 2.5), TypeError, "value="),
    (lambda x: cr.topk(x > 0, 1), RuntimeError, "topk: bool"),
    (lambda x: cr.sort(x, descending=None), TypeError, "sort: descending must be a bool"),
    (lambda x: cr.take_along_axis(x, cr.tensor([[0]]), axis=2), ValueError, "take_along_axis: axis 2"),
    (lambda x: cr.scatter(x, 0, cr.tensor([[0]]), x, reduce="multiply"), NotImplementedError, "reduce"),
    (lambda x: cr.scatter_add(x, 1, cr.tensor([[0, 5]]), x), RuntimeError, "scatter_add: index 5"),
    (lambda x: cr.select(x, 1, 4), IndexError, "select: index 4"),
    (lambda x: cr.choose(cr.tensor([0, 3]), [x[0, :2], x[1, :2]]), ValueError, "invalid entry"),
    (lambda x: cr.choose(cr.tensor([0, 1]), [x[0, :2], x[1, :2]], mode="nearest"), ValueError, "mode must be"),
    (lambda x: cr.partition(x, 4), ValueError, "kth"),
    (lambda x: cr.linalg.multi_dot([x]), ValueError, "at least two"),
    (lambda x: cr.linalg.multi_dot([x, x]), ValueError, "cannot be multiplied"),
    (lambda x: cr.tensordot(x, x, dims=([0], [1])), ValueError, "tensordot: shape mismatch"),
    (lambda x: cr.vdot(x, x), RuntimeError, "vdot: expected a 1-D"),
])
def test_errors_name_the_operation(call, error, match):
    x = cr.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    with pytest.raises(error, match=match):
        call(x)


# ---------------------------------------------------------------------------------------------
# NumPy's functions on tensors: exact results over drawn shapes
# ---------------------------------------------------------------------------------------------

shapes = st.lists(st.integers(0, 4), min_size=1, max_size=3).map(tuple)


def _array(shape, seed, kind="f"):
    rng = np.random.default_rng(seed)
    if kind == "i":
        return rng.integers(-3, 4, size=shape)  # many ties
    return rng.standard_normal(shape)


def _same(got, want):
    got = got.detach().numpy() if isinstance(got, cr.Tensor) else np.asarray(got)
    assert got.shape == np.shape(want) and got.dtype == np.asarray(want).dtype, (got.shape, np.shape(want), got.dtype)
    np.testing.assert_array_equal(got, want)


@SETTINGS
@given(shapes, st.integers(0, 2**16), st.sampled_from("fi"), st.data())
def test_sort_argsort_partition_as_numpy(shape, seed, kind, data):
    a = _array(shape, seed, kind)
    t = cr.tensor(a, requires_grad=kind == "f")
    axis = data.draw(st.sampled_from([None, *range(-len(shape), len(shape))]))
    method = data.draw(st.sampled_from([None, "stable", "quicksort", "mergesort", "heapsort"]))
    _same(np.sort(t, axis=axis, kind=method), np.sort(a, axis=axis, kind=method))
    _same(np.argsort(t, axis=axis, kind=method), np.argsort(a, axis=axis, kind=method))
    n = a.size if axis is None else shape[axis]
    if n:
        kth = data.draw(st.one_of(st.integers(-n, n - 1), st.lists(st.integers(0, n - 1), min_size=1, max_size=3)))
        _same(np.partition(t, kth, axis=axis), np.partition(a, kth, axis=axis))
        _same(np.argpartition(t, kth, axis=axis), np.argpartition(a, kth, axis=axis))


@SETTINGS
@given(shapes, st.integers(0, 2**16), st.data())
def test_take_and_take_along_axis_as_numpy(shape, seed, data):
    a = _array(shape, seed)
    t = cr.tensor(a, requires_grad=True)
    rng = np.random.default_rng(seed)
    axis = data.draw(st.sampled_from([None, *range(-len(shape), len(shape))]))
    n = a.size if axis is None else shape[axis]
    index_shape = data.draw(st.lists(st.integers(0, 3), max_size=2).map(tuple))
    mode = data.draw(st.sampled_from(["raise", "wrap", "clip"]))
    if n:
        lo, hi = (-n, n) if mode == "raise" else (-3 * n, 3 * n)
        idx = rng.integers(lo, hi, size=index_shape)
        _same(np.take(t, idx, axis=axis, mode=mode), np.take(a, idx, axis=axis, mode=mode))
        along = rng.integers(-n, n, size=(a.size and 3,) if axis is None else shape[:axis % len(shape)] + (2,) + shape[axis % len(shape) + 1:])
        if axis is None or along.size:
            _same(np.take_along_axis(t, along, axis=axis), np.take_along_axis(a, along, axis=axis))


@SETTINGS
@given(shapes, st.integers(0, 2**16), st.data())
def test_put_along_axis_as_numpy(shape, seed, data):
    a = _array(shape, seed)
    axis = data.draw(st.sampled_from([None, *range(-len(shape), len(shape))]))
    n = a.size if axis is None else shape[axis]
    if not n:
        return
    rng = np.random.default_rng(seed)
    idx = rng.integers(-n, n, size=(3,) if axis is None else shape[:axis % len(shape)] + (2,) + shape[axis % len(shape) + 1:])
    values = rng.standard_normal(idx.shape[-1:] if data.draw(st.booleans()) else ())
    t = cr.tensor(a.copy())
    expected = a.copy()
    np.put_along_axis(expected, idx, values, axis)
    np.put_along_axis(t, idx, cr.tensor(values), axis)
    _same(t, expected)


def test_put_along_axis_is_an_in_place_write():
    x = cr.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    v = cr.tensor(RNG.standard_normal((3, 1)), requires_grad=True)
    y = x * 2.0
    saved = y * y  # saves y: the write must be seen by its check of versions
    assert np.put_along_axis(y, np.array([[1], [3], [0]]), v, 1) is None
    with pytest.raises(RuntimeError, match="modified"):
        saved.sum().backward()
    y.sum().backward()
    expected = np.full((3, 4), 2.0)
    expected[[0, 1, 2], [1, 3, 0]] = 0.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    np.testing.assert_array_equal(v.grad.numpy(), np.ones((3, 1)))
    with pytest.raises(RuntimeError):  # a leaf that requires grad cannot be written in place
        np.put_along_axis(x, np.array([[0], [0], [0]]), 1.0, 1)
    with pytest.raises(TypeError, match="put_along_axis"):
        np.put_along_axis(np.zeros((3, 4)), np.array([[0], [0], [0]]), v, 1)


def test_choose_and_select_as_numpy_with_gradients():
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    idx = np.array([[0, 1, 2], [2, 1, 0]])
    ta, tb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    out = np.choose(idx, [ta, tb, 0.5])
    _same(out, np.choose(idx, [a, b, 0.5]))
    out.sum().backward()
    np.testing.assert_array_equal(ta.grad.numpy(), idx == 0)
    np.testing.assert_array_equal(tb.grad.numpy(), (idx == 1).sum(0))
    conds = [a > 0, b > 0.5]
    got = np.select(conds, [ta, tb * 2], default=-1.0)
    _same(got, np.select(conds, [a, b * 2], -1.0))
    _same(np.select([a > 0], [idx]), np.select([a > 0], [idx]))
    with pytest.raises(TypeError, match="invalid entry 0"):
        np.select([idx], [ta])
    with pytest.raises(ValueError, match="same length"):
        np.select([a > 0], [ta, tb])
    o = cr.zeros(2, 3, dtype=cr.float64)
    assert np.choose(idx, [ta, tb, 0.5], out=o) is o


def test_numpy_errors_as_numpy():
    t = cr.tensor(RNG.standard_normal((3, 4)))
    with pytest.raises(IndexError):
        np.take(t, 12)
    with pytest.raises(ValueError, match="mode"):
        np.take(t, 1, mode="nearest")
    with pytest.raises(np.exceptions.AxisError):
        np.sort(t, axis=2)
    with pytest.raises(np.exceptions.AxisError):
        np.sort(cr.tensor(1.0))
    with pytest.raises(ValueError, match="can't be provided"):
        np.sort(t, kind="stable", stable=True)
    with pytest.raises(ValueError, match="0d"):
        np.nonzero(cr.tensor(1.0))
    with pytest.raises(ValueError):
        np.take_along_axis(t, np.zeros((2, 2), dtype=int), axis=None)


# ---------------------------------------------------------------------------------------------
# Products with NumPy's exact N-d semantics
# ---------------------------------------------------------------------------------------------

dims = st.integers(1, 3)


@SETTINGS
@given(st.lists(dims, max_size=3), st.lists(dims, max_size=3), st.integers(0, 2**16), st.sampled_from(["f8", "f4", "i8"]))
def test_dot_inner_outer_kron_vdot_as_numpy(sa, sb, seed, dtype):
    rng = np.random.default_rng(seed)
    sa, sb = tuple(sa), tuple(sb)
    # make the contracted dimensions agree for dot (a[-1] with b[-2] or b[0])
    if sa and sb:
        sb = sb[:-2] + (sa[-1],) + sb[-1:] if len(sb) >= 2 else (sa[-1],)
    a = (rng.standard_normal(sa) * 3).astype(dtype)
    b = (rng.standard_normal(sb) * 3).astype("f8")
    ta, tb = cr.tensor(a), cr.tensor(b)
    tol = dict(rtol=1e-5 if dtype == "f4" else 1e-12, atol=1e-6)

    def close(got, want):
        assert got.shape == np.shape(want) and got.dtype == np.asarray(want).dtype
        np.testing.assert_allclose(got.numpy(), want, **tol)

    close(np.dot(ta, tb), np.dot(a, b))
    close(np.outer(ta, tb), np.outer(a, b))
    close(np.kron(ta, tb), np.kron(a, b))
    close(cr.kron(ta, cr.tensor(b.astype(dtype))), torch.kron(torch.tensor(a), torch.tensor(b.astype(dtype))).numpy())
    if a.size == b.size:
        close(np.vdot(ta, tb), np.vdot(a, b))
    b_inner = rng.standard_normal(sb[:-1] + sa[-1:]) if sa and sb else b
    close(np.inner(ta, cr.tensor(b_inner)), np.inner(a, b_inner))
    if sa and sb:
        close(cr.inner(ta, cr.tensor(b_inner.astype(dtype))),
              torch.inner(torch.tensor(a), torch.tensor(b_inner.astype(dtype))).numpy())


@SETTINGS
@given(st.lists(dims, min_size=0, max_size=4), st.lists(dims, min_size=0, max_size=4), st.integers(0, 4),
       st.integers(0, 2**16), st.data())
def test_tensordot_as_numpy_and_torch(sa, sb, n, seed, data):
    rng = np.random.default_rng(seed)
    n = min(n, len(sa), len(sb))
    sb = list(sb)
    sb[:n] = sa[len(sa) - n:]
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    got = np.tensordot(cr.tensor(a), cr.tensor(b), n)
    np.testing.assert_allclose(got.numpy(), np.tensordot(a, b, n), rtol=1e-12, atol=1e-12)
    if n and data.draw(st.booleans()):  # the same contraction written as a pair of axis lists, permuted
        order = data.draw(st.permutations(range(n)))
        axes_a = [len(sa) - n + i for i in order]
        axes_b = [i - len(sb) for i in order]
        want = np.tensordot(a, b, (axes_a, axes_b))
        np.testing.assert_allclose(np.tensordot(cr.tensor(a), cr.tensor(b), axes=(axes_a, axes_b)).numpy(), want, rtol=1e-12)
        np.testing.assert_allclose(cr.tensordot(cr.tensor(a), cr.tensor(b), dims=(axes_a, axes_b)).numpy(),
                                   torch.tensordot(torch.tensor(a), torch.tensor(b), dims=(axes_a, axes_b)).numpy(), rtol=1e-12)


@SETTINGS
@given(st.lists(dims, min_size=3, max_size=6), st.booleans(), st.booleans(), st.integers(0, 2**16))
def test_multi_dot_as_numpy_and_torch(sizes, first_vector, last_vector, seed):
    rng = np.random.default_rng(seed)
    mats = [rng.standard_normal((sizes[i], sizes[i + 1])) for i in range(len(sizes) - 1)]
    if first_vector:
        mats[0] = mats[0][0]
    if last_vector:
        mats[-1] = mats[-1][:, 0]
    if len(mats) == 1:
        return
    want = np.linalg.multi_dot(mats)
    got = np.linalg.multi_dot([cr.tensor(m) for m in mats])
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cr.linalg.multi_dot([cr.tensor(m) for m in mats]).numpy(),
                               torch.linalg.multi_dot([torch.tensor(m) for m in mats]).numpy(), rtol=1e-10, atol=1e-12)


def test_product_gradients_match_torch():
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((4, 3))
    _grads_match(lambda x, y: cr.tensordot(x, y, dims=([1, 2], [1, 0])),
                 lambda x, y: torch.tensordot(x, y, dims=([1, 2], [1, 0])), a, b)
    _grads_match(lambda x, y: cr.kron(x, y), lambda x, y: torch.kron(x, y), a, b)
    _grads_match(lambda x, y: cr.inner(x, y), lambda x, y: torch.inner(x, y), a, RNG.standard_normal((5, 4)))
    _grads_match(lambda x, y: cr.vdot(x, y), lambda x, y: torch.vdot(x, y), RNG.standard_normal(4), RNG.standard_normal(4))
    mats = [RNG.standard_normal(3), RNG.standard_normal((3, 5)), RNG.standard_normal((5, 2)), RNG.standard_normal((2, 4))]
    _grads_match(lambda *ms: cr.linalg.multi_dot(list(ms)), lambda *ms: torch.linalg.multi_dot(list(ms)), *mats)


def test_numpy_products_keep_numpy_dtypes():
    f32 = cr.tensor(np.ones((2, 3), np.float32))
    assert np.dot(f32, np.ones(3)).dtype == cr.float64  # NumPy's result type, not PyTorch's
    assert np.tensordot(f32, np.ones((3, 2), np.float32), 1).dtype == cr.float32
    assert np.kron(cr.tensor(np.arange(3)), cr.tensor(np.arange(2))).dtype == cr.int64
    assert np.vdot(f32, f32).dtype == cr.float32


def test_index_primitives_batch_without_a_loop():
    """argsort and argpartition batch by shifting their dim (for vmap), equal to a loop."""
    from chainrule.core import dispatch as P
    from chainrule.transforms.batching import BatchedNamespace

    ns = BatchedNamespace(P.raw, 3)
    x = RNG.standard_normal((3, 2, 5))
    for name, params in [("argsort", {"dim": 1, "descending": True, "take": (0, 2)}), ("argsort", {"dim": 0}),
                         ("argpartition", {"kth": 2, "dim": 1})]:
        assert P.PRIMITIVES[name].batching == "shift_dim"
        got = getattr(ns, name)(ns.wrap(x), **params).value
        want = np.stack([getattr(P.raw, name)(x[i], **params) for i in range(3)])
        np.testing.assert_array_equal(got, want)
