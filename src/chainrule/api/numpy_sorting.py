"""NumPy's signatures for the sorting family: ``np.<name>(t, ...)`` with NumPy's exact arguments,
keywords and N-d semantics, mapped onto chainrule's operations (see ``numpy_protocols``).

``np.sort``, ``np.partition``, ``np.take``, ``np.take_along_axis``, ``np.choose`` and
``np.select`` are differentiable (a gather of the input at indices NumPy itself computes, or
``where``); ``np.argsort``, ``np.argpartition`` and ``np.nonzero`` give integer tensors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ops as O
from ..core.tensor import Tensor
from ..ops import elementwise as E
from ..ops import indexing as IX
from ..ops import products as PR
from ..ops import shape as S
from ..ops import sorting as SO
from ..ops._define import per_example
from .numpy_common import _cast, _dtype_of, _finish, _operand, _raw


def _sort_kind(name: str, kind, stable):
    if kind not in SO._KINDS:
        raise ValueError(f"{name}: kind must be one of {SO._KINDS[1:]}, got {kind!r}")
    if stable is not None:
        if kind is not None:
            raise ValueError(f"{name}: `kind` and `stable` parameters can't be provided at the same time")
        return "stable" if stable else "quicksort"
    return kind or "quicksort"


def _sorted_indices(name, a, axis, kind, order, stable):
    if order is not None:
        raise ValueError(f"{name}: order= applies to structured arrays only")
    kind = _sort_kind(name, kind, stable)
    a = _operand(a)
    a, d = SO._numpy_axis(name, a, axis)
    if S._ndim(a) == 0:
        raise np.exceptions.AxisError(-1 if axis is None else axis, 0, name)
    return a, d, SO.argsort_prim(a, dim=d, kind=kind)


def _sort(a, axis=-1, kind=None, order=None, *, stable=None):
    a, d, idx = _sorted_indices("numpy.sort", a, axis, kind, order, stable)
    return IX.gather_prim(a, idx._data, dim=d)


def _argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    return _sorted_indices("numpy.argsort", a, axis, kind, order, stable)[2]


def _take(a, indices, axis=None, out=None, mode="raise"):
    name = "numpy.take"
    a = _operand(a)
    if axis is None:
        a, d = S.reshape(a, -1), 0
    else:
        a, d = SO._numpy_axis(name, a, axis)
    idx = SO._int_index(name, indices, "indices")
    n = S._shape(a)[d]
    if mode == "raise":
        idx = SO._wrap_negative(name, idx, n)
    elif mode in ("wrap", "clip"):
        if n == 0 and idx.size:
            raise IndexError(f"{name}: cannot do a non-empty take from an empty axis")
        idx = np.mod(idx, n) if mode == "wrap" else np.clip(idx, 0, max(n - 1, 0))
    else:
        raise ValueError(f"{name}: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    result = IX.getitem(a, index=(slice(None),) * d + (idx,))
    return _finish(name, result, out, "same_kind", exact=True)


def _choose(a, choices, out=None, mode="raise"):
    if isinstance(choices, Tensor):
        choices = list(choices.unbind(0)) if S._ndim(choices) else [choices]
    choices = [_operand(c) for c in choices]
    if choices:  # NumPy's result dtype (chainrule's choose promotes as PyTorch)
        dtype = np.result_type(*(_dtype_of(c) for c in choices))
        choices = [_cast(c, dtype) for c in choices]
    try:
        result = SO.choose(a, choices, mode)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"numpy.{exc}") from None
    return _finish("numpy.choose", result, out, "same_kind", exact=True)


def _select(condlist, choicelist, default=0):
    name = "numpy.select"
    if len(condlist) != len(choicelist):
        raise ValueError(f"{name}: list of cases must be same length as list of conditions")
    if len(condlist) == 0:
        raise ValueError(f"{name}: select with an empty condition list is not possible")
    choices = [c if type(c) in (int, float, complex) else _operand(c) for c in choicelist]
    default = default if type(default) in (int, float, complex) else _operand(default)
    stand_ins = [c if type(c) in (int, float, complex) else np.empty((0,), _dtype_of(c)) for c in (*choices, default)]
    try:
        dtype = np.result_type(*stand_ins)
    except TypeError as exc:
        raise TypeError(f"{name}: Choicelist and default value do not have a common dtype: {exc}") from None
    # A batched condition (inside cr.vmap) stays a tensor: only its shape and dtype are read here.
    conds = [c if _batched(c) else np.asarray(_raw(c)) for c in condlist]
    for i, cond in enumerate(conds):
        if np.dtype(_dtype_of(cond)) != np.bool_:
            raise TypeError(f"{name}: invalid entry {i} in condlist: should be boolean ndarray")
    shape = np.broadcast_shapes(*(S._shape(c) for c in conds), *(S._shape(c) for c in choices))
    if not any(isinstance(c, Tensor) for c in (*conds, *choices, default)):
        return Tensor._wrap(np.select(conds, [_raw(c) for c in choices], _raw(default)))

    def typed(value):
        if isinstance(value, Tensor):
            return value if value._data.dtype == dtype else E.cast(value, dtype=dtype)
        return np.asarray(value, dtype=dtype)

    result = S.broadcast_to(typed(default), shape) if isinstance(default, Tensor) else \
        Tensor._wrap(np.full(shape, typed(default), dtype))
    for cond, choice in zip(conds[::-1], choices[::-1]):
        result = O.where(cond, typed(choice), result)
    if S._shape(result) != shape:
        result = S.broadcast_to(result, shape)
    return result


def _batched(value) -> bool:
    """A batched tensor of cr.vmap (one value per example: never converted to an array)."""
    return isinstance(value, Tensor) and hasattr(value._data, "refuse_conversion")


def _nonzero(a):
    a = _operand(a)
    if S._ndim(a) == 0:
        raise ValueError("numpy.nonzero: Calling nonzero on 0d arrays is not allowed. Use "
                         "np.atleast_1d(scalar).nonzero() instead.")
    return SO.nonzero(a, as_tuple=True)


# NumPy's products (dot, inner, outer, tensordot, kron, vdot, multi_dot) with NumPy's dtypes and
# N-d semantics; einsum is in numpy_signatures.

def _numpy_pair(a, b):
    """Two operands of NumPy's products in NumPy's result dtype (a tensor cast differentiably)."""
    a, b = _operand(a), _operand(b)
    dtype = np.result_type(_dtype_of(a), _dtype_of(b))
    return _cast(a, dtype), _cast(b, dtype)


def _dot(a, b, out=None):
    result = PR.numpy_dot(*_numpy_pair(a, b))
    if out is not None and (tuple(out.shape) != result.shape or out.dtype != result.dtype):
        raise ValueError(
            f"numpy.dot: output array is not acceptable (must have the right datatype {result.dtype} "
            f"and shape {result.shape}, got {out.dtype} and {tuple(out.shape)})"
        )
    return _finish("numpy.dot", result, out, None, exact=True)


def _inner(a, b, /):
    return PR.numpy_inner(*_numpy_pair(a, b))


def _outer(a, b, out=None):
    a, b = _numpy_pair(a, b)
    a, b = S.reshape(a, -1), S.reshape(b, -1)
    return _finish("numpy.outer", E.mul(S.reshape(a, -1, 1), b), out)


def _tensordot(a, b, axes=2):
    try:
        return PR.numpy_tensordot(*_numpy_pair(a, b), axes)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"numpy.{exc}") from None


def _kron(a, b):
    return PR.kron(*_numpy_pair(a, b))


def _vdot(a, b, /):
    try:
        return PR.numpy_vdot(*_numpy_pair(a, b))
    except ValueError as exc:
        raise ValueError(f"numpy.{exc}") from None


def _multi_dot(arrays, *, out=None):
    arrays = [_operand(x) for x in arrays]
    if len(arrays) >= 2:
        dtype = np.result_type(*(_dtype_of(x) for x in arrays))
        arrays = [_cast(x, dtype) for x in arrays]
    try:
        result = PR.multi_dot(arrays)
    except ValueError as exc:
        raise ValueError(f"numpy.{exc}") from None
    return _finish("numpy.linalg.multi_dot", result, out, "same_kind", exact=True)


def _take_along_axis(arr, indices, axis=-1):
    return SO._take_along_axis("numpy.take_along_axis", _operand(arr), indices, axis)


def _put_along_axis(arr, indices, values, axis):
    return SO._put_along_axis("numpy.put_along_axis", arr, indices, values, axis)


SIGNATURES: dict[str, Callable[..., Any]] = {
    # (these read their indices' values: under cr.vmap, example by example)
    "take_along_axis": per_example(_take_along_axis), "take": per_example(_take), "choose": per_example(_choose),
    "put_along_axis": _put_along_axis, "sort": _sort, "argsort": _argsort, "select": _select,
    "nonzero": _nonzero, "kron": _kron, "vdot": _vdot, "linalg.multi_dot": _multi_dot,
}
