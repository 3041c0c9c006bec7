"""Extrema: amax, amin, max, min (values and indices), argmax, argmin; ties share the gradient
as in PyTorch."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import backend as B
from ..core import tracing
from ..core.dtypes import check_operand as _check_operand
from ..core.tensor import Tensor
from . import _template as T
from ._define import define, nondifferentiable, per_example
from ._table import public
from .indexing import gather_prim
from .piecewise import maximum, minimum
from .reductions import (
    _amax_xp,
    _amin_xp,
    _argmax_xp,
    _argmin_xp,
    _dims,
    _keep,
    _keepdim,
    _real_only,
    aliases,
    from_values,
    values_indices,
)
from .shape import _ndim, _shape, normalize_dim, squeeze, unsqueeze


def _extremum_weights(m, ans, x, dim, keepdim, nan=False):
    """1/k on each of the k elements that attain the extremum, 0 elsewhere.

    A NaN extremum matches no element, so amax/amin's gradient is NaN there (0/0), as PyTorch's;
    with ``nan`` (``max()``/``min()`` without dim, PyTorch's evenly_distribute_backward) the NaN
    elements attain it and share the gradient.
    """
    a = _keep(m, ans, x.shape, dim, keepdim)
    if _followed(x):
        return from_values(x, a, fn=_weights, dim=dim, nan=nan)
    return _weights(B.data_of(x), B.data_of(a), dim, nan)


def _followed(x) -> bool:
    """Whether a rule runs on a tensor a tracer follows (cr.jit): the weights it computes from
    values are then an operation (``from_values``), which a compiled call computes again."""
    return bool(tracing.active[0]) and isinstance(x, Tensor) and type(x._data) is B.ndarray


def _weights(x, a, dim, nan):
    space = B.namespace(x)
    hit = x == a
    if nan:
        hit = space.logical_or(hit, space.logical_and(space.isnan(x), space.isnan(a)))
    weights = B.astype(hit, x.dtype)  # the input's dtype: so is the gradient
    return weights / space.sum(weights, axis=dim, keepdims=True)


def _extremum_vjp(m, g, ans, x, dim, keepdim, nan=False):
    weights = _extremum_weights(m, ans, x, dim, keepdim, nan)
    return _keep(m, g, x.shape, dim, keepdim) * weights


def _extremum_jvp(m, tangents, ans, x, dim, keepdim, nan=False):
    weights = _extremum_weights(m, ans, x, dim, keepdim, nan)
    return m.sum(tangents[0] * weights, dim=dim, keepdim=keepdim)




amax_prim = define("amax", lambda x, dim, keepdim, nan=False: np.amax(x, axis=dim, keepdims=keepdim),
                   (_extremum_vjp,), _extremum_jvp, save_ans=True, batching="reduce", template=T.reduction("max"), xp=_amax_xp)


amin_prim = define("amin", lambda x, dim, keepdim, nan=False: np.amin(x, axis=dim, keepdims=keepdim),
                   (_extremum_vjp,), _extremum_jvp, save_ans=True, batching="reduce", template=T.reduction("min"), xp=_amin_xp)


def _nan_extremum_weights(m, ans, x, dim, keepdim):
    """1/k on each of the k elements that attain the NaN-ignoring extremum, 0 elsewhere: NaN
    elements never attain it, and an all-NaN slice (NaN result) gives no gradient at all."""
    a = _keep(m, ans, x.shape, dim, keepdim)
    if _followed(x):
        return from_values(x, a, fn=_nan_weights, dim=dim)
    return _nan_weights(B.data_of(x), B.data_of(a), dim)


def _nan_weights(x, a, dim):
    space = B.namespace(x)
    weights = B.astype(x == a, x.dtype)
    count = space.sum(weights, axis=dim, keepdims=True)
    return weights / space.where(count == 0, space.ones_like(count), count)


def _nan_extremum_vjp(m, g, ans, x, dim, keepdim):
    return _keep(m, g, x.shape, dim, keepdim) * _nan_extremum_weights(m, ans, x, dim, keepdim)


def _nan_extremum_jvp(m, tangents, ans, x, dim, keepdim):
    return m.sum(tangents[0] * _nan_extremum_weights(m, ans, x, dim, keepdim), dim=dim, keepdim=keepdim)


def _nan_reduce(ufunc):
    def impl(x, dim, keepdim):
        return np.asarray(ufunc.reduce(x, axis=dim, keepdims=keepdim))

    return impl


# NumPy's nanmax/nanmin: fmax/fmin reductions (a NaN only where the whole slice is NaN).
nanmax_prim = define("nanmax", _nan_reduce(np.fmax), (_nan_extremum_vjp,), _nan_extremum_jvp, save_ans=True,
                     batching="reduce", template=T.reduction("fmax.reduce"))


nanmin_prim = define("nanmin", _nan_reduce(np.fmin), (_nan_extremum_vjp,), _nan_extremum_jvp, save_ans=True,
                     batching="reduce", template=T.reduction("fmin.reduce"))


def _check_nonempty(op, input, dim):
    shape = _shape(input)
    if (dim is None and 0 in shape) or (dim is not None and any(shape[d] == 0 for d in dim)):
        raise RuntimeError(f"{op}: cannot reduce over an empty dimension (shape {shape}); give a non-empty tensor")


def _extremum(op, prim, input, dim, keepdim, nan=False):  # noqa: A002
    dims = _dims(op, dim, _ndim(input))
    _check_nonempty(op, input, dims)
    _real_only(op, input)
    keepdim = _keepdim(op, keepdim)
    if nan:
        return prim(input, dim=dims, keepdim=keepdim, nan=True)
    return prim(input, dim=dims, keepdim=keepdim)


@public(method=True, numpy="ptp")
def amax(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):  # noqa: A002
    """Largest value over ``dim``; tied elements share the gradient equally.

    A NaN propagates to the result, and then, as in PyTorch, the gradient is NaN for every element
    of that slice (``max()`` without dim instead gives it to the NaN elements).
    """
    _check_operand("amax", input, "input")
    dim, keepdim = aliases("amax", dim, axis, keepdim, keepdims)
    return _extremum("amax", amax_prim, input, dim, keepdim)


@public(method=True)
def amin(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):  # noqa: A002
    """Smallest value over ``dim``; tied elements share the gradient equally."""
    _check_operand("amin", input, "input")
    dim, keepdim = aliases("amin", dim, axis, keepdim, keepdims)
    return _extremum("amin", amin_prim, input, dim, keepdim)


argmax_prim = nondifferentiable("argmax", lambda x, dim, keepdim: np.argmax(x, axis=dim, keepdims=keepdim), template=T.reduction("argmax"), xp=_argmax_xp)


argmin_prim = nondifferentiable("argmin", lambda x, dim, keepdim: np.argmin(x, axis=dim, keepdims=keepdim), template=T.reduction("argmin"), xp=_argmin_xp)


def _arg_extremum(op, prim, input, dim, keepdim):  # noqa: A002
    d = None if dim is None else normalize_dim(op, dim, _ndim(input))
    _check_nonempty(op, input, None if d is None else (d,))
    _real_only(op, input)
    return prim(input, dim=d, keepdim=_keepdim(op, keepdim) and d is not None)


@public(method=True, numpy="argmax")
def argmax(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):  # noqa: A002
    """Index of the largest value (of the flattened tensor when ``dim`` is None)."""
    _check_operand("argmax", input, "input")
    dim, keepdim = aliases("argmax", dim, axis, keepdim, keepdims)
    return _arg_extremum("argmax", argmax_prim, input, dim, keepdim)


@public(method=True, numpy="argmin")
def argmin(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):  # noqa: A002
    """Index of the smallest value (of the flattened tensor when ``dim`` is None)."""
    _check_operand("argmin", input, "input")
    dim, keepdim = aliases("argmin", dim, axis, keepdim, keepdims)
    return _arg_extremum("argmin", argmin_prim, input, dim, keepdim)


def _extremum_along(op, elementwise, prim, arg, input, dim, keepdim):  # noqa: A002
    """``max``/``min``: the elementwise op for a tensor ``dim``, the reduction without ``dim``,
    else ``(values, indices)`` along ``dim``."""
    if not isinstance(dim, (int, B.integer)) and hasattr(dim, "shape"):  # a tensor: elementwise
        return elementwise(input, dim)
    keepdim = _keepdim(op, keepdim)
    if dim is None:  # NaN elements share the gradient of a NaN result (PyTorch's max(), not amax)
        return _extremum(op, prim, input, None, False, nan=True)
    d = normalize_dim(op, dim, _ndim(input))
    indices = arg(input, d, keepdim=False)
    values = gather_prim(input, unsqueeze(indices, d), dim=d)
    if not keepdim:
        values = squeeze(values, d)
    return values_indices(values, arg(input, d, keepdim))


@public(method=True, numpy=("max", "amax"))
def max(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Any:  # noqa: A001,A002
    """Without ``dim``: the largest value. With ``dim``: ``(values, indices)`` along it.

    Two tensors as ``max(a, b)`` give the elementwise maximum. A NaN is the result wherever one
    is present (PyTorch, NumPy); its gradient goes to the NaN elements (shared equally), with
    ``dim`` to the one the index names.
    """
    _check_operand("max", input, "input")
    dim, keepdim = aliases("max", dim, axis, keepdim, keepdims)
    return _extremum_along("max", maximum, amax_prim, argmax, input, dim, keepdim)


@public(method=True, numpy=("min", "amin"))
def min(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Any:  # noqa: A001,A002
    """Without ``dim``: the smallest value. With ``dim``: ``(values, indices)`` along it."""
    _check_operand("min", input, "input")
    dim, keepdim = aliases("min", dim, axis, keepdim, keepdims)
    return _extremum_along("min", minimum, amin_prim, argmin, input, dim, keepdim)


@public(numpy="nanmax")
@per_example
def nanmax(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):  # noqa: A002
    """Largest value over ``dim`` (``axis``) ignoring NaNs (NaN only for an all-NaN slice), as
    ``np.nanmax``: ``cr.nanmax(x, dim=0)``. NaN elements get no gradient; ties share it."""
    _check_operand("nanmax", input, "input")
    dim, keepdim = aliases("nanmax", dim, axis, keepdim, keepdims)
    return _extremum("nanmax", nanmax_prim, input, dim, keepdim)


@public(numpy="nanmin")
@per_example
def nanmin(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):  # noqa: A002
    """Smallest value over ``dim`` (``axis``) ignoring NaNs, as ``np.nanmin``: ``cr.nanmin(x)``."""
    _check_operand("nanmin", input, "input")
    dim, keepdim = aliases("nanmin", dim, axis, keepdim, keepdims)
    return _extremum("nanmin", nanmin_prim, input, dim, keepdim)
