"""What NumPy's protocols share: operands, axes, dtypes and castings checked as NumPy checks
them, and results written to ``out=`` (see ``numpy_protocols``)."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .. import ops as O
from ..core import tracing
from ..core.modes import state
from ..core.tensor import Tensor
from ..ops import elementwise as E
from ..ops import shape as S

_NoValue = np._NoValue


_AxisError = getattr(np, "exceptions", np).AxisError


_f64 = np.dtype(np.float64)


_f32 = np.dtype(np.float32)


_f16 = np.dtype(np.float16)


_CASTINGS = ("no", "equiv", "safe", "same_kind", "unsafe")


_ORDERS = ("K", "A", "C", "F", None)


def _records(x) -> bool:
    """Whether an operation on ``x`` would be recorded (grad) or carry tangents."""
    return isinstance(x, Tensor) and (
        (x._requires_grad and state.grad_enabled) or (x._tangents is not None and bool(state.forward_levels))
    )


def _has_history(t) -> bool:
    return isinstance(t, Tensor) and (t._requires_grad or t._tangents is not None)


def _raw(x):
    """A tensor's array (anything else as it is), read outside the operations: inside a trace
    (``cr.jit``) the compiled code checks these values again at every call (what a NumPy
    function computes from them — a query's indices, counts, a mask — is no traced value)."""
    if isinstance(x, Tensor):
        if tracing.active[0]:
            tracing.read(x)
        return x._data
    return x


def _meta(x):
    """A tensor's array read for its shape, dtype or memory only (no value: nothing to check
    again at a compiled call, unlike ``_raw``)."""
    return x._data if isinstance(x, Tensor) else x


def _contains_tensor(seq) -> bool:
    return any(isinstance(e, Tensor) or (isinstance(e, (list, tuple)) and _contains_tensor(e)) for e in seq)


def _operand(x):
    """A tensor as is; anything else as NumPy would see it (lists holding tensors are stacked,
    keeping their history, where ``np.asarray`` would drop it)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (list, tuple)) and x and _contains_tensor(x):
        return O.stack([_operand(e) for e in x])
    return np.asarray(x)


def _dtype_of(x):
    return x._data.dtype if isinstance(x, Tensor) else np.asarray(x).dtype


def _axes(name: str, axis, ndim: int):
    """NumPy's ``axis`` (None, an int or a tuple of ints) as a tuple of non-negative axes."""
    if axis is None:
        return None
    if type(axis) is int and -ndim <= axis < ndim:
        return (axis % ndim,)
    given = axis if isinstance(axis, tuple) else (axis,)
    try:
        items = [operator.index(a) for a in given]
    except TypeError:
        raise TypeError(f"{name}: axis must be None, an int or a tuple of ints, got {axis!r}") from None
    out = []
    for a in items:
        if not -ndim <= a < ndim:
            raise _AxisError(a, ndim, name)
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in {axis!r}")
    return tuple(out)


def _legacy_0d_axis(axis, ndim: int):
    """NumPy's ufunc reductions (sum, prod, max, min, argmax, squeeze) accept an int axis of 0
    or -1 on a 0-d input, meaning all of it."""
    if ndim == 0 and not isinstance(axis, tuple) and axis is not None:
        try:
            if operator.index(axis) in (0, -1):
                return None
        except TypeError:
            pass
    return axis


def _axis1(name: str, axis, ndim: int) -> int:
    """One axis (an int, as NumPy requires here)."""
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{name}: axis must be an int, got {axis!r}") from None
    return _axes(name, axis, ndim)[0]


def _shape_arg(name: str, shape) -> tuple:
    try:
        if np.ndim(shape) == 0:
            return (operator.index(shape),)
        return tuple(operator.index(s) for s in shape)
    except TypeError:
        raise TypeError(f"{name}: shape must be an int or a sequence of ints, got {shape!r}") from None


def _check_casting(name: str, casting) -> None:
    if casting not in _CASTINGS:
        raise ValueError(f"{name}: casting must be one of {', '.join(map(repr, _CASTINGS))} (got {casting!r})")


def _check_order(name: str, order) -> None:
    if order not in _ORDERS:
        raise ValueError(f"{name}: order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")


def _cast(x, dtype):
    """``x`` in ``dtype`` (a differentiable cast for tensors)."""
    if isinstance(x, Tensor):
        return x if x._data.dtype == dtype else E.cast(x, dtype=dtype)
    return np.asarray(x).astype(dtype, copy=False)


def _cast_checked(name: str, x, dtype, casting: Any):
    dtype = np.dtype(dtype)
    have = _dtype_of(x)
    if not np.can_cast(have, dtype, casting):
        raise TypeError(f"{name}: cannot cast an input from dtype('{have}') to dtype('{dtype}') with casting rule {casting!r}")
    return _cast(x, dtype)


def _zero(dtype):
    return np.zeros((), dtype=dtype)


def _not_differentiable(name: str) -> TypeError:
    return TypeError(
        f"{name} is not supported on chainrule tensors that require grad (it cannot be "
        f"differentiated and would drop the history). Use a chainrule function, or, to drop the "
        f"history on purpose, np.asarray(t.detach())."
    )


def _store(name: str, result, out, casting, exact: bool):
    """Write ``result`` into ``out`` (a tensor: an in-place update; an array: values only)."""
    if not isinstance(out, (Tensor, np.ndarray)):
        raise TypeError(f"{name}: out= must be a chainrule tensor or a NumPy array, got {type(out).__name__}")
    if not isinstance(result, Tensor):
        result = Tensor._wrap(np.asarray(result))
    shape, target = result._data.shape, tuple(out.shape)
    if exact:
        ok = shape == target
    else:
        try:
            ok = np.broadcast_shapes(shape, target) == target
        except ValueError:
            ok = False
    if not ok:
        raise ValueError(f"{name}: out= has shape {target} but the result has shape {shape}")
    have, want = result._data.dtype, out.dtype
    if casting is not None and not np.can_cast(have, want, casting):
        raise TypeError(
            f"{name}: cannot cast the result from dtype('{have}') to out's dtype('{want}') with "
            f"casting rule {casting!r}"
        )
    if isinstance(out, Tensor):
        return out.copy_(result)
    if _has_history(result):
        raise TypeError(
            f"{name} with out= a NumPy array is not supported for a result that requires grad: the "
            f"array cannot hold its history. Pass a chainrule tensor as out=, or, to drop the "
            f"history on purpose, np.asarray(t.detach())."
        )
    np.copyto(out, result._data, casting="unsafe")
    return out


def _finish(name: str, result, out, casting="same_kind", exact=False, subok=True):
    if out is not None:
        return _store(name, result, out, casting, exact)
    if not subok:
        if _has_history(result):
            raise TypeError(
                f"{name} with subok=False (a plain NumPy array) is not supported for a result that "
                f"requires grad: the array cannot hold its history; use np.asarray(result.detach())"
            )
        return np.asarray(result._data)
    return result


def _refuse_keywords(name, kwargs) -> None:
    if kwargs:
        raise TypeError(f"{name}: keyword argument(s) {', '.join(sorted(kwargs))} are not supported on chainrule tensors")


def _elementwise(name, fn, inputs, out, where, casting, subok, out_dtype=None):
    """``fn(*inputs)`` (cast to ``out_dtype``) with NumPy's ``where=``, ``out=`` and ``subok=``."""
    mask = _mask(name, where)
    if isinstance(out, Tensor) and (_records(out) or any(_records(x) for x in inputs)):
        # An input that shares memory with out is read by nodes after out is written: give them
        # a copy (as in-place operations snapshot their target).
        inputs = [S.clone(x) if isinstance(x, Tensor) and _overlaps(x, out) else x for x in inputs]
    result = fn(*inputs)
    if out_dtype is not None and result._data.dtype != out_dtype:
        result = E.cast(result, dtype=out_dtype)
    if mask is not None:
        if out is None:
            raise ValueError(
                f"{name}: where= without out= leaves the unselected entries uninitialised (in NumPy "
                f"too); pass out= as well, or use np.where"
            )
        old = S.clone(out) if isinstance(out, Tensor) else np.asarray(out)
        result = O.where(mask, result, old)
    return _finish(name, result, out, casting, subok=subok)


def _overlaps(x, out) -> bool:
    return x is out or np.may_share_memory(np.asarray(x._data), np.asarray(out._data))


def _mask(name: str, where):
    """``where=`` as a bool array, or None when it selects everything."""
    if where is True:
        return None
    mask = np.asarray(_raw(where))
    if mask.dtype != np.bool_:
        if not np.can_cast(mask.dtype, np.bool_, "safe"):
            raise TypeError(f"{name}: where= must be a bool mask, got dtype {mask.dtype}")
        mask = mask.astype(np.bool_)
    return None if mask.all() else mask


def _cast_to_loop(name, ufunc, inputs, dtype, signature, casting):
    """Inputs cast to the dtypes of NumPy's loop for ``dtype``/``signature``; and its output dtype."""
    if dtype is not None and signature is not None:
        raise TypeError(f"{name}: cannot specify both 'signature' and 'dtype'")
    if dtype is not None:
        signature = (None,) * ufunc.nin + (np.dtype(dtype),) * ufunc.nout
    described = []
    for i, x in enumerate(inputs):
        if type(x) in (int, float, complex):
            described.append(type(x))  # a Python scalar: weakly typed, as in NumPy
        else:
            if not isinstance(x, (Tensor, np.ndarray, np.generic)):
                x = inputs[i] = np.asarray(x)
            described.append(_dtype_of(x))
    try:
        loop = ufunc.resolve_dtypes(tuple(described) + (None,) * ufunc.nout, signature=signature, casting=casting)
    except (TypeError, ValueError) as exc:
        raise (TypeError if isinstance(exc, TypeError) else ValueError)(f"{name}: {exc}") from None
    cast = []
    for x, want in zip(inputs, loop[:ufunc.nin]):
        if isinstance(x, (Tensor, np.ndarray, np.generic)):
            x = _cast(x, want)
        cast.append(x)
    return cast, loop[ufunc.nin]


def _ufunc_keywords(name, kwargs):
    """Pop a ufunc's keywords (checking ``casting`` and ``order``): where, dtype, signature,
    casting, subok."""
    where = kwargs.pop("where", True)
    dtype = kwargs.pop("dtype", None)
    signature = kwargs.pop("signature", None)
    casting = kwargs.pop("casting", "same_kind")
    _check_casting(name, casting)
    _check_order(name, kwargs.pop("order", "K"))
    return where, dtype, signature, casting, kwargs.pop("subok", True)
