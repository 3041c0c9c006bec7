"""PyTorch's spellings that users type on day one (SPEC §12): ``axis=`` beside ``dim=`` and
``keepdims=`` beside ``keepdim=`` on the reductions, ``t.new_*``, ``t.clone()``, and
``cr.Tensor(...)`` as ``torch.Tensor(...)``. PyTorch is the oracle where it is importable."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

A = np.random.default_rng(3).standard_normal((3, 4, 2))

# (name, extra positional arguments): each is called as a method and as cr.<name> with axis=/dim=.
REDUCTIONS = [
    ("sum", ()), ("mean", ()), ("prod", ()), ("var", ()), ("std", ()), ("amax", ()), ("amin", ()),
    ("logsumexp", ()), ("nansum", ()), ("nanmean", ()), ("argmax", ()), ("argmin", ()),
]
ALONG = [("max", ()), ("min", ()), ("median", ()), ("nanmedian", ())]  # (values, indices) along a dim
CUMULATIVE = ["cumsum", "cumprod"]


def _values(out):
    out = out.values if hasattr(out, "values") and not isinstance(out, (cr.Tensor, torch.Tensor)) else out
    return out.detach().numpy()


@pytest.mark.parametrize("name", [n for n, _ in REDUCTIONS + ALONG])
@pytest.mark.parametrize("keyword", ["axis", "dim"])
@pytest.mark.parametrize("keep", ["keepdim", "keepdims"])
def test_reductions_take_axis_and_keepdims(name, keyword, keep):
    x, t = cr.tensor(A), torch.tensor(A)
    for axis in (1, -1):
        want = getattr(t, name)(dim=axis, keepdim=True)
        got_method = getattr(x, name)(**{keyword: axis, keep: True})
        got_function = getattr(cr, name)(x, **{keyword: axis, keep: True})
        for got in (got_method, got_function):
            np.testing.assert_allclose(_values(got), _values(want), rtol=1e-12)
            assert _values(got).shape == tuple(want[0].shape if isinstance(want, tuple) else want.shape)
    # torch's own spelling agrees (torch also accepts axis= and keepdims=)
    np.testing.assert_allclose(_values(getattr(t, name)(axis=0)), _values(getattr(x, name)(axis=0)), rtol=1e-12)


@pytest.mark.parametrize("name", [n for n, _ in REDUCTIONS] + ["max", "median"])
def test_reductions_over_several_axes_and_both_spellings(name):
    x = cr.tensor(A)
    if name not in ("argmax", "argmin", "max", "median"):
        np.testing.assert_allclose(getattr(x, name)(axis=(0, 2)).numpy(), getattr(x, name)(dim=(0, 2)).numpy())
    with pytest.raises(TypeError, match="both dim= and axis="):
        getattr(x, name)(dim=0, axis=0)
    with pytest.raises(TypeError, match="both keepdim= and keepdims="):
        getattr(x, name)(dim=0, keepdim=True, keepdims=True)


@pytest.mark.parametrize("name", CUMULATIVE)
def test_cumulative_take_axis(name):
    x, t = cr.tensor(A), torch.tensor(A)
    for axis in (0, -1):
        want = getattr(torch, name)(t, axis).numpy()
        np.testing.assert_allclose(getattr(x, name)(axis=axis).numpy(), want, rtol=1e-12)
        np.testing.assert_allclose(getattr(cr, name)(x, axis=axis).numpy(), want, rtol=1e-12)
        np.testing.assert_allclose(getattr(cr, name)(x, dim=axis).numpy(), want, rtol=1e-12)
    with pytest.raises(TypeError, match="missing the required argument dim"):
        getattr(x, name)()


def test_other_reductions_take_axis():
    x, t = cr.tensor(A), torch.tensor(A)
    np.testing.assert_allclose(x.quantile(0.3, axis=1, keepdims=True).numpy(),
                               t.quantile(0.3, axis=1, keepdims=True).numpy(), rtol=1e-12)
    for name in ("all", "any"):
        b, tb = cr.tensor(A > 0), torch.tensor(A > 0)
        for kwargs in ({}, {"axis": 1}, {"dim": 0, "keepdim": True}, {"dim": -1, "keepdims": True}):
            np.testing.assert_array_equal(getattr(b, name)(**kwargs).numpy(), getattr(tb, name)(**kwargs).numpy())
        assert getattr(b, name)(axis=1).dtype == np.bool_


def test_gradients_through_the_axis_spelling():
    x = cr.tensor(A, requires_grad=True)
    t = torch.tensor(A, requires_grad=True)
    (x.sum(axis=1, keepdims=True) * x.std(axis=1, keepdims=True)).sum().backward()
    (t.sum(axis=1, keepdims=True) * t.std(axis=1, keepdims=True)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# new_*, clone
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("base_dtype", ["float32", "float64", "int64"])
def test_new_factories_follow_pytorch(base_dtype):
    x = cr.tensor(np.ones((2, 2)), dtype=getattr(cr, base_dtype))
    t = torch.ones(2, 2, dtype=getattr(torch, base_dtype))
    calls = [
        ("new_zeros", (2, 3), {}), ("new_zeros", ((2, 3),), {}), ("new_zeros", ([4],), {}),
        ("new_zeros", ((),), {}), ("new_ones", (3,), {}), ("new_ones", (2,), {"dtype": "int64"}),
        ("new_full", ((2,), 3.5), {}), ("new_full", ([2, 1], 7), {"dtype": "float64"}),
        ("new_tensor", ([1, 2],), {}), ("new_tensor", ([1.5, 2.5],), {}), ("new_empty", (2, 3), {}),
    ]
    for name, args, kwargs in calls:
        ours = getattr(x, name)(*args, **{k: getattr(cr, v) for k, v in kwargs.items()})
        theirs = getattr(t, name)(*args, **{k: getattr(torch, v) for k, v in kwargs.items()})
        assert ours.shape == tuple(theirs.shape), name
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), (name, ours.dtype, theirs.dtype)
        if name != "new_empty":
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert not ours.requires_grad


def test_new_factories_keywords():
    x = cr.ones(2)
    y = x.new_ones(3, requires_grad=True)
    assert y.requires_grad and y.grad_fn is None
    assert x.new_zeros(size=(2, 3)).shape == (2, 3)
    with pytest.raises(RuntimeError, match="requires_grad"):
        cr.tensor([1, 2]).new_zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="sizes must be ints"):
        x.new_zeros("a")


def test_clone_is_differentiable_and_a_copy():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    assert y.grad_fn is not None
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    z = x.detach().clone()
    z[0] = 5.0
    assert x[0].item() == 1.0


# ---------------------------------------------------------------------------------------------
# cr.Tensor as torch.Tensor
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [([1, 2],), ([[1, 2], [3, 4]],), ([True, False],), ((1, 2),),
                                  (np.array([1, 2]),), (np.array([1.5, 2.5]),), (2, 3), (3,), ()],
                         ids=str)
def test_tensor_constructor_is_torchs(args):
    ours, theirs = cr.Tensor(*args), torch.Tensor(*args)
    assert ours.shape == tuple(theirs.shape)
    assert ours.dtype == np.float32 and theirs.dtype == torch.float32
    if args and not isinstance(args[0], int):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_tensor_constructor_details():
    assert cr.tensor([1, 2]).dtype == np.int64  # cr.tensor infers, as torch.tensor
    assert cr.Tensor(cr.tensor([1, 2])).dtype == np.int64  # a tensor keeps its dtype, as torch
    assert cr.Tensor([1, 2], dtype=cr.float64).dtype == np.float64
    assert cr.Tensor(size=(2, 3)).shape == (2, 3)
    x = cr.Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    with pytest.raises(TypeError, match="give one sequence or sizes"):
        cr.Tensor(2.5)
    with pytest.raises(TypeError, match="one sequence"):
        cr.Tensor([1], [2])
    cr.set_default_dtype(cr.float64)
    try:
        assert cr.Tensor([1, 2]).dtype == np.float64
    finally:
        cr.set_default_dtype(cr.float32)
