"""The arrange family: stacking, splitting, triangles, diagonals, repeating, rolling, rotating,
moving axes, padding and differences, as ``cr.<name>`` (PyTorch's arguments) and through NumPy
on tensors (NumPy's exact signatures and results); lists of tensors handed to NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from numpy_cases_arrange import A0, A5, A34, A234, CASES, E03, I34, joined  # noqa: E402, F401

import chainrule as cr


def _check(got, want):
    if isinstance(want, (list, tuple)):
        assert type(got) is type(want), (type(got), type(want))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _check(g, w)
        return
    assert isinstance(got, cr.Tensor), type(got)
    w = np.asarray(want)
    g = np.asarray(got.detach())
    assert g.shape == w.shape, (g.shape, w.shape)
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("label, fn, arrays, kwargs", [c if len(c) == 4 else (*c, {}) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_numpy_functions_on_tensors_give_numpy_results(label, fn, arrays, kwargs):
    if label == "pad-dict" and np.lib.NumpyVersion(np.__version__) < "2.3.0":
        pytest.skip("np.pad takes a dict pad_width from NumPy 2.3 (refused before, as test_numpy_semantics checks)")
    want = fn(*arrays, **kwargs)
    tensors = [cr.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]
    _check(fn(*tensors, **kwargs), want)
    floats = [i for i, a in enumerate(arrays) if isinstance(a, np.ndarray) and a.dtype == np.float64]
    if not floats:
        return
    tracked = [cr.tensor(a, requires_grad=True) if i in floats else t for i, (a, t) in enumerate(zip(arrays, tensors))]
    out = fn(*tracked, **kwargs)
    outs = out if isinstance(out, (list, tuple)) else [out]
    total = sum(o.sum() for o in outs if o._data.dtype.kind == "f")
    if isinstance(total, cr.Tensor):
        total.backward()
        grad = tracked[floats[0]].grad  # the history reached the input: ones where it was used
        assert grad is not None and grad.shape == arrays[floats[0]].shape


# ---------------------------------------------------------------------------------------------
# cr.<name>: PyTorch's arguments, values and gradients (PyTorch as the oracle)
# ---------------------------------------------------------------------------------------------

RNG = np.random.default_rng(1212)
X34 = RNG.standard_normal((3, 4))
X234 = RNG.standard_normal((2, 3, 4))
X5 = RNG.standard_normal(5)

TORCH_CASES = [
    ("tril", lambda m, x: m.tril(x), (X34,)), ("tril-k", lambda m, x: m.tril(x, diagonal=-1), (X234,)),
    ("triu-k", lambda m, x: m.triu(x, 2), (X34,)), ("triu-method", lambda m, x: x.triu(-1), (X234,)),
    ("diag-vector", lambda m, x: m.diag(x), (X5,)), ("diag-vector-k", lambda m, x: m.diag(x, diagonal=-2), (X5,)),
    ("diag-matrix", lambda m, x: m.diag(x, 1), (X34,)), ("diag-matrix-far", lambda m, x: m.diag(x, -3), (X34,)),
    ("diagonal", lambda m, x: m.diagonal(x, 1, 2, 0), (X234,)), ("diagonal-neg", lambda m, x: m.diagonal(x, offset=-1, dim1=-1, dim2=-2), (X234,)),
    ("diag_embed", lambda m, x: m.diag_embed(x, 1, 0, 2), (X34,)), ("diag_embed-default", lambda m, x: m.diag_embed(x), (X234,)),
    ("diag_embed-reversed", lambda m, x: m.diag_embed(x, -1, 2, 0), (X34,)), ("diagflat", lambda m, x: m.diagflat(x, -1), (X34,)),
    ("roll", lambda m, x: m.roll(x, 1), (X34,)), ("roll-dims", lambda m, x: m.roll(x, (1, -2), (0, 2)), (X234,)),
    ("roll-int-dim", lambda m, x: m.roll(x, 7, -1), (X34,)), ("roll-method", lambda m, x: x.roll(2, 1), (X234,)),
    ("rot90", lambda m, x: m.rot90(x), (X34,)), ("rot90-k", lambda m, x: m.rot90(x, 3, (2, 0)), (X234,)),
    ("rot90-k2", lambda m, x: m.rot90(x, -2, [1, 2]), (X234,)), ("rot90-k0", lambda m, x: m.rot90(x, 0), (X34,)),
    ("flip", lambda m, x: m.flip(x, (0, 2)), (X234,)), ("fliplr", lambda m, x: m.fliplr(x), (X234,)),
    ("flipud", lambda m, x: m.flipud(x), (X5,)),
    ("movedim", lambda m, x: m.movedim(x, 0, -1), (X234,)), ("movedim-seq", lambda m, x: m.movedim(x, (0, 2), (1, 0)), (X234,)),
    ("moveaxis", lambda m, x: m.moveaxis(x, -1, 0), (X234,)), ("swapaxes", lambda m, x: m.swapaxes(x, 0, 2), (X234,)),
    ("swapdims", lambda m, x: m.swapdims(x, 1, 2), (X234,)),
    ("repeat_interleave", lambda m, x: m.repeat_interleave(x, 2), (X34,)),
    ("repeat_interleave-dim", lambda m, x: m.repeat_interleave(x, 3, dim=-1), (X234,)),
    ("repeat_interleave-counts", lambda m, x: m.repeat_interleave(x, m.tensor([2, 0, 1]), dim=0), (X34,)),
    ("ravel", lambda m, x: m.ravel(x.transpose(0, 1)), (X34,)),
    ("atleast_3d", lambda m, x: m.atleast_3d(x), (X5,)), ("atleast_2d", lambda m, x: m.atleast_2d(x), (X5,)),
    ("vstack", lambda m, x, y: m.vstack([x, y]), (X5, X5)), ("row_stack", lambda m, x, y: m.row_stack((x, y)), (X34, X34)),
    ("hstack", lambda m, x, y: m.hstack([x, y]), (X34, X34)), ("hstack-1d", lambda m, x, y: m.hstack([x, y]), (X5, X5)),
    ("dstack", lambda m, x, y: m.dstack([x, y]), (X34, X34)), ("column_stack", lambda m, x, y: m.column_stack([x[:3], y]), (X5, X34)),
    ("tensor_split", lambda m, x: m.tensor_split(x, 3, dim=1), (X34,)),
    ("tensor_split-indices", lambda m, x: m.tensor_split(x, [1, 4], dim=-1), (X234,)),
    ("hsplit", lambda m, x: m.hsplit(x, 2), (X34,)), ("hsplit-indices", lambda m, x: m.hsplit(x, [1, 2]), (X234,)),
    ("vsplit", lambda m, x: m.vsplit(x, 3), (X34,)), ("dsplit", lambda m, x: m.dsplit(x, [3]), (X234,)),
    ("diff", lambda m, x: m.diff(x), (X34,)), ("diff-n", lambda m, x: m.diff(x, n=2, dim=0), (X34,)),
    ("diff-ends", lambda m, x, y: m.diff(x, dim=1, prepend=y[:, :1], append=y), (X34, X34)),
]


def _torch_value(torch, result):
    if isinstance(result, (list, tuple)):
        return [_torch_value(torch, r) for r in result]
    return result.detach().numpy()


def _flat(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


@pytest.mark.parametrize("label, fn, arrays", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_pytorch_named_functions_match_pytorch(label, fn, arrays):
    torch = pytest.importorskip("torch")
    ours = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    got, want = _flat(fn(cr, *ours)), _flat(fn(torch, *theirs))
    assert len(got) == len(want)
    cotangents = [RNG.standard_normal(tuple(w.shape)) for w in want]
    for g, w in zip(got, want):
        assert g.shape == tuple(w.shape)
        np.testing.assert_array_equal(np.asarray(g.detach()), w.detach().numpy())
    sum((g * c).sum() for g, c in zip(got, cotangents)).backward()
    sum((w * torch.tensor(c)).sum() for w, c in zip(want, cotangents)).backward()
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(o.grad), t.grad.numpy(), rtol=1e-13, atol=1e-13)


def test_second_order_through_roll_and_tril_matches_pytorch():
    torch = pytest.importorskip("torch")
    x, xt = cr.tensor(X34, requires_grad=True), torch.tensor(X34, requires_grad=True)

    def f(m, v):
        return (m.tril(m.roll(v, 1, 1)) ** 3).sum()

    (g,) = cr.autograd.grad(f(cr, x), [x], create_graph=True)
    (gt,) = torch.autograd.grad(f(torch, xt), [xt], create_graph=True)
    g.sum().backward()
    gt.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), xt.grad.numpy(), rtol=1e-12)


def test_jacobians_of_arrange_functions_agree_in_both_modes():
    """jacrev batches the VJPs and jacfwd the JVPs through the primitives' batching rules."""

    def f(v):
        rolled = cr.roll(cr.tril(v, -1), 2, 1)
        return cr.diff(rolled, dim=0).sum(0) + cr.rot90(cr.pad(v, (1, 0)), 2)[0, :4] + cr.diag(v)[:1]

    x = cr.tensor(X34)
    forward, reverse = cr.jacfwd(f)(x), cr.jacrev(f)(x)
    np.testing.assert_allclose(np.asarray(forward), np.asarray(reverse), rtol=1e-14)
    jac = cr.jacrev(lambda v: cr.repeat_interleave(v, cr.tensor([1, 2, 0]), dim=0))(cr.tensor(X34[:, :2]))
    assert jac.shape == (3, 2, 3, 2) and float(jac.sum()) == 6.0


# ---------------------------------------------------------------------------------------------
# Lists of tensors handed to NumPy: stacked with their history, or refused
# ---------------------------------------------------------------------------------------------

def test_numpy_joins_of_mixed_lists_keep_the_history():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for out in (np.stack([x, np.ones(3), 2 * x]), np.vstack([np.zeros(3), x]), np.hstack((x, np.ones(2))),
                np.concatenate([x, np.ones(1)]), np.column_stack([x, np.ones(3)]), np.append(x, [1.0]),
                np.dstack([x, x]), np.array_split(x, 2)[0]):
        assert isinstance(out, cr.Tensor) and out.requires_grad
        x.grad = None
        out.sum().backward()
        assert np.asarray(x.grad).sum() > 0  # the gradient flows to x


@pytest.mark.parametrize("call, name", [
    (lambda x, y: np.array([x, 2 * x]), "numpy.array"), (lambda x, y: np.asarray([x, y]), "numpy.asarray"),
    (lambda x, y: np.asarray((x,)), "numpy.asarray"), (lambda x, y: np.array([[x], [y]]), "numpy.array"),
    (lambda x, y: np.mean([x, y]), "numpy.mean"), (lambda x, y: np.sum([x, y]), "numpy.sum"),
    (lambda x, y: np.add([x, y], 1.0), "numpy.add"), (lambda x, y: np.max([x, y], axis=0), "numpy.max"),
], ids=["array", "asarray", "asarray-tuple", "nested", "mean", "sum", "ufunc", "max"])
def test_lists_of_tensors_with_history_are_refused_naming_the_function_and_the_fix(call, name):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    with pytest.raises(TypeError, match=rf"{name}: .*inside a list.*cr\.stack"):
        call(x, y)


def test_a_list_bound_to_a_name_is_refused_too():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    pair = [x, x * 2.0]
    with pytest.raises(TypeError, match="numpy.asarray: .*cr.stack"):
        np.asarray(pair)


def test_lists_are_found_however_the_call_is_written():
    """Python 3.11+ reads the call from its source positions, 3.10 from its bytecode: the same
    answers either way."""
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    pair = (y,)
    refused = [lambda: np.array([y for _ in range(2)]), lambda: np.array(pair), lambda: np.asarray([*pair]),
               lambda: np.array([y, x], dtype=np.float32), lambda: np.add((x, y), 1.0)]
    for call in refused:
        with pytest.raises(TypeError, match=r"numpy\.(array|asarray|add): .*cr\.stack"):
            call()
    kept = [np.asarray(y), np.asarray(x, dtype=np.float32), np.asarray(y if y is not None else x),
            np.asarray(list(pair)[0]), np.array(pair[0], copy=True)]
    for got in kept:
        assert got.tolist() == [2.0, 4.0] or got.tolist() == [1.0, 2.0]
    assert isinstance(np.stack([x, y]), cr.Tensor)


def test_conversions_that_lose_nothing_still_work():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert np.asarray(x).tolist() == [1.0, 2.0]  # the read-only view (SPEC §2)
    assert np.array(x).tolist() == [1.0, 2.0]
    assert np.asarray([x.detach(), x.detach()]).shape == (2, 2)
    plain = cr.tensor([1.0, 2.0])
    assert np.mean([plain, plain]) == 1.5 and np.array([plain, 2 * plain]).shape == (2, 2)
    np.testing.assert_allclose(x, [1.0, 2.0])  # numpy.testing only reads values


def test_lists_of_tensors_inside_a_transform_are_refused():
    def f(v):
        return cr.tensor(np.array([v, v])).sum()

    with pytest.raises(Exception, match="np.asarray|detach"):
        cr.grad(f)(cr.tensor([1.0, 2.0]))


# ---------------------------------------------------------------------------------------------
# Errors name the operation
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, pattern", [
    (lambda: cr.tril(cr.ones(3)), "tril: input tensor must have at least 2 dimensions"),
    (lambda: cr.triu(cr.ones(2, 2), 0.5), "triu: diagonal must be an int"),
    (lambda: cr.diag(cr.ones(2, 2, 2)), "diag: expects a 1-D or 2-D tensor"),
    (lambda: cr.roll(cr.ones(3), (1, 2), 0), "roll: shifts .* and dims .* must have the same length"),
    (lambda: cr.roll(cr.ones(3, 2), (1, 2)), "roll: without dims"),
    (lambda: cr.rot90(cr.ones(3, 3), 1, (0, 0)), "rot90: the two dims must be different"),
    (lambda: cr.movedim(cr.ones(3, 3), (0, 1), 0), "movedim: source .* and destination"),
    (lambda: cr.fliplr(cr.ones(3)), "fliplr: input must be >= 2-d"),
    (lambda: cr.repeat_interleave(cr.ones(3), cr.tensor([1, 2])), "repeat_interleave: repeats has 2 counts"),
    (lambda: cr.repeat_interleave(cr.ones(3), -1), "repeat_interleave: repeats must be non-negative"),
    (lambda: cr.vstack(cr.ones(3)), "vstack: expected a list or tuple of tensors"),
    (lambda: cr.hstack([]), "hstack: expected a non-empty sequence"),
    (lambda: cr.hsplit(cr.ones(5), 2), "hsplit: array split does not result in an equal division"),
    (lambda: cr.vsplit(cr.ones(5), 1), "vsplit: requires a tensor with at least 2 dimension"),
    (lambda: cr.tensor_split(cr.ones(5), 0), "tensor_split: number sections must be larger than 0"),
    (lambda: cr.diff(cr.ones(3), n=-1), "diff: order n must be non-negative"),
    (lambda: cr.diff(cr.tensor(1.0)), "diff: expects a tensor with at least one dimension"),
    (lambda: cr.ediff1d(cr.ones(3, dtype=cr.int64), to_begin=[0.5]), "ediff1d: dtype of to_begin"),
    (lambda: cr.expand_dims(cr.ones(3), 5), "expand_dims"),
    (lambda: np.pad(cr.ones(3), 1, mode="median"), "numpy.pad: mode 'median' is not supported on chainrule tensors"),
    (lambda: np.pad(cr.ones(3), 1, mode="reflect", reflect_type="odd"), "numpy.pad: mode 'reflect' with reflect_type='odd'"),
    (lambda: np.pad(cr.ones(3), 1, mode=lambda *a: None), "numpy.pad: a function as mode"),
    (lambda: np.pad(cr.ones(3), -1), "numpy.pad: index can't contain negative values"),
    (lambda: np.pad(cr.ones((0, 3)), 1, mode="wrap"), "pad: can't extend the empty axis 0"),
    (lambda: np.split(cr.ones(5), 2), "numpy.split: array split does not result in an equal division"),
    (lambda: np.fliplr(cr.ones(3)), "numpy.fliplr: Input must be >= 2-d"),
    (lambda: np.diag(cr.ones((2, 2, 2))), "numpy.diag: input must be 1- or 2-d"),
    (lambda: np.diff(cr.tensor(1.0)), "numpy.diff: diff requires input that is at least one dimensional"),
    (lambda: np.rot90(cr.ones((2, 2)), axes=(0, 0)), "numpy.rot90: Axes must be different"),
    (lambda: np.moveaxis(cr.ones((2, 2)), (0, 1), 0), "numpy.moveaxis: `source` and `destination`"),
    (lambda: np.repeat(cr.ones((2, 2)), [1, 2, 3], axis=0), "numpy.repeat: operands could not be broadcast"),
])
def test_errors_name_the_operation(call, pattern):
    with pytest.raises((ValueError, TypeError, RuntimeError, IndexError, NotImplementedError), match=pattern):
        call()


def test_numpy_split_results_are_lists_of_views_with_history():
    x = cr.tensor(np.arange(6.0), requires_grad=True)
    pieces = np.split(x, [2, 5])
    assert type(pieces) is list and [p.shape for p in pieces] == [(2,), (3,), (1,)]
    assert type(cr.tensor_split(x, 2)) is tuple and type(np.atleast_1d(x, x)) is tuple
    (pieces[0].sum() + pieces[2].sum() * 3.0).backward()
    assert np.asarray(x.grad).tolist() == [1.0, 1.0, 0.0, 0.0, 0.0, 3.0]


def test_tril_keeps_dtype_and_zeros_infinities():
    x = cr.tensor([[1.0, float("inf")], [float("-inf"), 2.0]], dtype=cr.float32, requires_grad=True)
    out = cr.tril(x)
    assert out.dtype == cr.float32 and np.asarray(out.detach()).tolist() == [[1.0, 0.0], [float("-inf"), 2.0]]
    out.sum().backward()
    assert np.asarray(x.grad).tolist() == [[1.0, 0.0], [1.0, 1.0]]
    assert cr.triu(cr.tensor([[1, 2], [3, 4]])).dtype == cr.int64


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric", "wrap"])
def test_pad_index_modes_match_numpy_for_every_width(mode):
    """The padding repeats entries by index maps computed in Python: equal to NumPy's for widths
    far beyond the axis (NumPy pads those iteratively)."""
    for n in range(1, 5):
        a = np.arange(1.0, n + 1.0)
        for lo in range(0, 10, 3):
            for hi in range(0, 11, 2):
                want = np.pad(a, (lo, hi), mode=mode)
                np.testing.assert_array_equal(np.asarray(np.pad(cr.tensor(a), (lo, hi), mode=mode)), want)
    a = RNG.standard_normal((2, 3, 1))
    widths = ((3, 1), (0, 7), (2, 2))
    np.testing.assert_array_equal(np.asarray(np.pad(cr.tensor(a), widths, mode=mode)), np.pad(a, widths, mode=mode))


def test_empty_and_zero_d_inputs():
    e = np.zeros((0, 3))
    for fn in (lambda t: np.split(t, 3, axis=1), lambda t: np.array_split(t, 2), lambda t: np.repeat(t, 2, axis=0),
               lambda t: np.diff(t, axis=0), lambda t: np.rot90(t), lambda t: np.roll(t, 2), lambda t: np.tril(t, 1),
               lambda t: np.pad(t, ((0, 0), (1, 1)), mode="edge"), lambda t: np.column_stack([t, t]),
               lambda t: np.moveaxis(t, 0, 1), lambda t: np.atleast_3d(t), lambda t: np.ravel(t), lambda t: np.diag(t)):
        _check(fn(cr.tensor(e)), fn(e))
    z = np.array(2.5)
    for fn in (np.atleast_1d, np.atleast_2d, np.ravel, lambda t: np.expand_dims(t, 0), lambda t: np.repeat(t, 2),
               lambda t: np.roll(t, 3), lambda t: np.pad(t, 2), lambda t: np.append(t, t), lambda t: np.ediff1d(t)):
        _check(fn(cr.tensor(z)), fn(z))
