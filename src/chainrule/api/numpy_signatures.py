"""NumPy's functions with their own signatures (``axis=`` for ``dim=``, ``out=``, ``dtype=``,
``keepdims=``, ...) mapped onto the operations that serve them: reductions, products, shapes,
linear algebra, queries and copies (see ``numpy_protocols`` for the rules).
"""

from __future__ import annotations

import operator

import numpy as np

from .. import ops as O
from ..core import tracing
from ..core.tensor import Tensor
from ..ops import elementwise as E
from ..ops import joins as JN
from ..ops import linalg as L
from ..ops import piecewise as PW
from ..ops import products as PR
from ..ops import shape as S
from .numpy_arrange import _sequence
from .numpy_common import (
    _axes,
    _axis1,
    _cast,
    _cast_checked,
    _cast_to_loop,
    _check_casting,
    _check_order,
    _dtype_of,
    _elementwise,
    _f16,
    _f32,
    _f64,
    _finish,
    _has_history,
    _legacy_0d_axis,
    _mask,
    _meta,
    _NoValue,
    _operand,
    _raw,
    _records,
    _refuse_keywords,
    _shape_arg,
    _ufunc_keywords,
    _zero,
)
from .numpy_sorting import _dot, _inner, _outer, _tensordot  # NumPy's products live there


def _reduce_mask(name: str, where, shape):
    if where is _NoValue or where is True:
        return None
    mask = _mask(name, where)
    if mask is not None:
        try:
            ok = np.broadcast_shapes(mask.shape, shape) == tuple(shape)
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"{name}: where= of shape {mask.shape} does not broadcast to the input's shape {shape}")
    return mask


def _count(shape, axes, mask, keepdims):
    """How many elements each reduction over ``axes`` takes (an int, or an array with a mask)."""
    if mask is None:
        return int(np.prod(shape if axes is None else [shape[i] for i in axes]))
    return np.broadcast_to(mask, shape).sum(axis=axes, keepdims=keepdims)


def _reduction(name, kind, a, axis, dtype, out, keepdims, initial, where):
    """``sum``/``prod``/``max``/``min`` with NumPy's ``axis``, ``dtype``, ``out``, ``keepdims``,
    ``initial`` and ``where``."""
    a = _operand(a)
    shape = S._shape(a)
    axes = _axes(name, _legacy_0d_axis(axis, len(shape)), len(shape))
    keepdims = False if keepdims is _NoValue else bool(keepdims)
    if dtype is not None:
        a = _cast(a, np.dtype(dtype))
    dt = _dtype_of(a)
    mask = _reduce_mask(name, where, shape)
    extremum = kind in ("max", "min")
    if mask is not None:
        if extremum and initial is _NoValue:
            raise ValueError(
                f"{name}: reduction operation '{'maximum' if kind == 'max' else 'minimum'}' does not "
                f"have an identity, so to use a where mask one has to specify 'initial'"
            )
        fill = np.array(initial if extremum else (0 if kind == "sum" else 1)).astype(dt)
        a = O.where(mask, a, fill)
    if kind == "sum":
        result = O.sum(a, axes, keepdims)
    elif kind == "prod":
        result = O.prod(a, axes, keepdims)
    else:
        empty = 0 in (shape if axes is None else [shape[i] for i in axes])
        if empty:
            if initial is _NoValue:
                op = "maximum" if kind == "max" else "minimum"
                raise ValueError(f"{name}: zero-size array to reduction operation {op} which has no identity")
            result = O.sum(a, axes, keepdims) * 0  # no elements: the initial value (history kept)
            if result._data.dtype != dt:
                result = E.cast(result, dtype=dt)
            result = result + np.array(initial).astype(dt)
        else:
            result = (O.amax if kind == "max" else O.amin)(a, axes, keepdims)
            if initial is not _NoValue:
                result = (PW.maximum if kind == "max" else PW.minimum)(result, np.array(initial).astype(dt))
    if initial is not _NoValue and not extremum:
        init = np.array(initial).astype(result._data.dtype)
        result = result + init if kind == "sum" else result * init
    return _finish(name, result, out, "unsafe", exact=True)


def _sum(a, axis=None, dtype=None, out=None, keepdims=_NoValue, initial=_NoValue, where=_NoValue):
    return _reduction("numpy.sum", "sum", a, axis, dtype, out, keepdims, initial, where)


def _prod(a, axis=None, dtype=None, out=None, keepdims=_NoValue, initial=_NoValue, where=_NoValue):
    return _reduction("numpy.prod", "prod", a, axis, dtype, out, keepdims, initial, where)


def _extremum(name, kind):
    def reduce(a, axis=None, out=None, keepdims=_NoValue, initial=_NoValue, where=_NoValue):
        return _reduction(name, kind, a, axis, None, out, keepdims, initial, where)

    reduce.__name__ = name.rsplit(".", 1)[1]
    return reduce


def _float_work_dtype(a, dtype):
    """The dtype NumPy's mean/var compute in: ``dtype``, else float64 for integers and bools."""
    if dtype is not None:
        return np.dtype(dtype)
    return _f64 if _dtype_of(a).kind in "biu" else None


def _mean(a, axis=None, dtype=None, out=None, keepdims=_NoValue, *, where=_NoValue):
    name = "numpy.mean"
    a = _operand(a)
    shape = S._shape(a)
    axes = _axes(name, axis, len(shape))
    keepdims = False if keepdims is _NoValue else bool(keepdims)
    mask = _reduce_mask(name, where, shape)
    work = _float_work_dtype(a, dtype)
    final = work if work is not None else _dtype_of(a)
    if mask is None and final.kind == "f":
        result = O.mean(_cast(a, final), axes, keepdims)
    else:
        compute = _f32 if final == _f16 else (final if final.kind in "fc" else _f64)
        x = _cast(a, compute)
        if mask is not None:
            x = O.where(mask, x, _zero(compute))
        count = _count(shape, axes, mask, keepdims)
        result = O.sum(x, axes, keepdims) / np.asarray(count, dtype=compute)
        if result._data.dtype != final:
            result = E.cast(result, dtype=final)
    return _finish(name, result, out, "unsafe", exact=True)


def _variance(name, root, a, axis, dtype, out, ddof, keepdims, where, mean, correction):
    if correction is not _NoValue:
        if ddof != 0:
            raise ValueError(f"{name}: ddof and correction can't be provided simultaneously")
        ddof = correction
    a = _operand(a)
    shape = S._shape(a)
    axes = _axes(name, axis, len(shape))
    keepdims = False if keepdims is _NoValue else bool(keepdims)
    mask = _reduce_mask(name, where, shape)
    work = _float_work_dtype(a, dtype)
    x = a if mask is None else O.where(mask, a, _zero(_dtype_of(a)))
    count = _count(shape, axes, mask, True)
    if mean is _NoValue:
        x = x if work is None else _cast(x, work)
        if mask is None and _dtype_of(x).kind == "f":
            center = O.mean(x, axes, True)
        else:
            total = O.sum(x, axes, True)
            center = total / np.asarray(count, dtype=total._data.dtype)
    else:
        center = _operand(mean)
    centered = a - center
    if work is not None and centered._data.dtype != work:
        centered = _cast(centered, work)
    if mask is not None:
        centered = O.where(mask, centered, _zero(centered._data.dtype))
    if getattr(centered._data.dtype, "kind", None) == "c":  # |x - mean|², real (NumPy)
        from ..ops.complex_numbers import conj, real_

        squares = O.sum(real_(centered * conj(centered)), axes, keepdims)
    else:
        squares = O.sum(centered * centered, axes, keepdims)
    dt = squares._data.dtype
    if mask is None:
        denominator = np.asarray(max(count - ddof, 0), dtype=dt)
    else:
        denominator = np.maximum(_count(shape, axes, mask, keepdims) - ddof, 0).astype(dt)
    result = squares / denominator
    if root:
        result = E.sqrt(result)
    return _finish(name, result, out, "unsafe", exact=True)


def _var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NoValue, *, where=_NoValue, mean=_NoValue,
         correction=_NoValue):
    return _variance("numpy.var", False, a, axis, dtype, out, ddof, keepdims, where, mean, correction)


def _std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NoValue, *, where=_NoValue, mean=_NoValue,
         correction=_NoValue):
    return _variance("numpy.std", True, a, axis, dtype, out, ddof, keepdims, where, mean, correction)


def _cumulative(name, op):
    def accumulate(a, axis=None, dtype=None, out=None):
        a = _operand(a)
        if axis is None or S._ndim(a) == 0:  # NumPy treats a 0-d input as 1-D
            a = S.reshape(a, -1)
        d = 0 if axis is None else _axis1(name, axis, S._ndim(a))
        if dtype is not None:
            a = _cast(a, np.dtype(dtype))
        return _finish(name, op(a, d), out, "unsafe", exact=True)

    accumulate.__name__ = name.rsplit(".", 1)[1]
    return accumulate


def _arg_extremum(name, op):
    def arg(a, axis=None, out=None, *, keepdims=_NoValue):
        a = _operand(a)
        ndim = S._ndim(a)
        keepdims = False if keepdims is _NoValue else bool(keepdims)
        axis = _legacy_0d_axis(axis, ndim)
        if axis is None:
            result = op(a)
            if keepdims:
                result = S.reshape(result, (1,) * ndim)
        else:
            result = op(a, _axis1(name, axis, ndim), keepdims)
        return _finish(name, result, out, "safe", exact=True)

    arg.__name__ = name.rsplit(".", 1)[1]
    return arg


def _sublist_letters(sub) -> str:
    letters = ""
    for v in sub:
        if v is Ellipsis:
            letters += "..."
            continue
        i = operator.index(v)
        if not 0 <= i < 52:
            raise ValueError(f"numpy.einsum: subscript {i} is not in [0, 52)")
        letters += chr(ord("A") + i) if i < 26 else chr(ord("a") + i - 26)
    return letters


def _einsum(*operands, out=None, optimize=False, **kwargs):
    """``optimize`` chooses the order of the contractions only; the result is the same."""
    dtype = kwargs.pop("dtype", None)
    order = kwargs.pop("order", "K")
    casting = kwargs.pop("casting", "safe")
    if kwargs:
        raise TypeError(f"numpy.einsum: keyword argument(s) {', '.join(sorted(kwargs))} are not supported")
    _check_casting("numpy.einsum", casting)
    _check_order("numpy.einsum", order)
    if not operands:
        raise ValueError("numpy.einsum: no operands given")
    if isinstance(operands[0], str):
        subscripts, arrays = operands[0], list(operands[1:])
    else:  # the interleaved form: op0, sublist0, op1, sublist1, ..., [sublistout]
        items = list(operands)
        output = items.pop() if len(items) % 2 else None
        arrays = items[0::2]
        subscripts = ",".join(_sublist_letters(s) for s in items[1::2])
        if output is not None:
            subscripts += "->" + _sublist_letters(output)
    arrays = [_operand(x) for x in arrays]
    if dtype is not None:
        arrays = [_cast_checked("numpy.einsum", x, dtype, casting) for x in arrays]
    return _finish("numpy.einsum", PR.einsum(subscripts, *arrays), out, casting, exact=True)


def _trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    name = "numpy.trace"
    a = _operand(a)
    ndim = S._ndim(a)
    if ndim < 2:
        raise ValueError(f"{name}: diag requires an array of at least two dimensions, got shape {S._shape(a)}")
    d1, d2 = _axis1(name, axis1, ndim), _axis1(name, axis2, ndim)
    if d1 == d2:
        raise ValueError(f"{name}: axis1 and axis2 cannot be the same")
    diagonal = JN.diagonal(a, operator.index(offset), d1, d2)
    return _finish(name, O.sum(diagonal, -1, dtype=dtype), out, "unsafe", exact=True)


def _reshape(a, /, shape=None, order="C", *, newshape=None, copy=None):
    name = "numpy.reshape"
    if shape is None:
        if newshape is None:
            raise TypeError(f"{name}: missing the new shape")
        shape = newshape
    elif newshape is not None:
        raise TypeError(f"{name}: give shape or newshape, not both")
    if order not in ("C", "F", "A", None):
        raise ValueError(f"{name}: order must be 'C', 'F' or 'A', got {order!r}")
    a = _operand(a)
    old = S._shape(a)
    try:
        new = S._infer_shape(old, _shape_arg(name, shape))
    except RuntimeError:
        raise ValueError(f"{name}: cannot reshape array of size {int(np.prod(old))} into shape {shape!r}") from None
    raw = _meta(a)
    batched = hasattr(raw, "refuse_conversion")  # inside cr.vmap: each example is in C order
    data = np.broadcast_to(np.zeros((), raw.dtype), old) if batched else np.asarray(raw)
    fortran = order == "F" or (order == "A" and np.isfortran(data))
    if order == "A" and tracing.active[0] and isinstance(a, Tensor):  # a compiled call checks the layout again
        tracing.decide(a, lambda d, want=fortran: bool(np.isfortran(d)) == want,
                       f"the memory layout of {name}(order='A')'s input")
    if copy is False and not batched:
        try:
            np.reshape(data, new, order="F" if fortran else "C", copy=False)
        except ValueError:
            raise ValueError(f"{name}: unable to avoid creating a copy while reshaping (copy=False)") from None
        except TypeError:  # NumPy < 2.1 has no copy=
            pass
    if fortran:  # Fortran order: the C-order reshape of the axes reversed, reversed back
        n = len(old)
        flipped = S.permute(a, tuple(range(n - 1, -1, -1))) if n > 1 else a
        result = S.reshape(flipped, new[::-1])
        result = S.permute(result, tuple(range(len(new) - 1, -1, -1))) if len(new) > 1 else result
    else:
        result = S.reshape(a, new)
    return S.clone(result) if copy else result


def _transpose(a, axes=None):
    name = "numpy.transpose"
    a = _operand(a)
    ndim = S._ndim(a)
    if axes is None:
        return S.permute(a, tuple(range(ndim - 1, -1, -1)))
    axes = (axes,) if np.ndim(axes) == 0 else tuple(axes)
    if len(axes) != ndim:
        raise ValueError(f"{name}: axes {axes} don't match array of shape {S._shape(a)}")
    normalized = [_axis1(name, x, ndim) for x in axes]
    if len(set(normalized)) != ndim:
        raise ValueError(f"{name}: repeated axis in transpose {axes}")
    return S.permute(a, tuple(normalized))


def _squeeze(a, axis=None):
    name = "numpy.squeeze"
    a = _operand(a)
    shape = S._shape(a)
    axis = _legacy_0d_axis(axis, len(shape))
    if axis is None:
        return S.squeeze(a)
    axes = _axes(name, axis, len(shape))
    for d in axes:
        if shape[d] != 1:
            raise ValueError(
                f"{name}: cannot select an axis to squeeze out which has size not equal to one "
                f"(axis {d} of shape {shape})"
            )
    return S.squeeze(a, axes)


def _expand_dims(a, axis):
    name = "numpy.expand_dims"
    a = _operand(a)
    shape = S._shape(a)
    axes = axis if type(axis) in (tuple, list) else (axis,)
    axes = _axes(name, tuple(axes), len(shape) + len(axes))
    rest = iter(shape)
    return S.reshape(a, tuple(1 if i in axes else next(rest) for i in range(len(shape) + len(axes))))


def _joined(name, arrays, dtype, casting):
    return _sequence(name, arrays, dtype, casting, "join")


def _concatenate(arrays, /, axis=0, out=None, *, dtype=None, casting="same_kind"):
    name = "numpy.concatenate"
    arrays = _joined(name, arrays, dtype, casting)
    if axis is None:
        arrays, axis = [S.reshape(x, -1) for x in arrays], 0
    ndim = S._ndim(arrays[0])
    if ndim == 0:
        raise ValueError(f"{name}: zero-dimensional arrays cannot be concatenated")
    for x in arrays:
        if S._ndim(x) != ndim:
            raise ValueError(
                f"{name}: all the input arrays must have the same number of dimensions, got shapes "
                f"{[S._shape(y) for y in arrays]}"
            )
    result = JN.cat(arrays, _axis1(name, axis, ndim))
    return _finish(name, result, out, casting, exact=True)


def _stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    name = "numpy.stack"
    arrays = _joined(name, arrays, dtype, casting)
    shapes = {S._shape(x) for x in arrays}
    if len(shapes) != 1:
        raise ValueError(f"{name}: all input arrays must have the same shape, got {sorted(shapes)}")
    result = JN.stack(arrays, _axis1(name, axis, S._ndim(arrays[0]) + 1))
    return _finish(name, result, out, casting, exact=True)


def _where(condition, x=None, y=None, /):
    if x is None and y is None:  # np.nonzero: integer indices, not differentiable
        return tuple(Tensor._wrap(i) for i in np.where(np.asarray(_raw(condition))))
    if x is None or y is None:
        raise ValueError("numpy.where: either both or neither of x and y should be given")
    x = x if type(x) in (int, float, complex, bool) else _operand(x)
    y = y if type(y) in (int, float, complex, bool) else _operand(y)
    if any(isinstance(v, Tensor) and hasattr(v._data, "refuse_conversion") for v in (condition, x, y)):
        # inside cr.vmap: one value per example, so the mask stays a tensor
        mask = condition if S._dtype(condition) == np.bool_ else O.ne(condition, 0)
        return O.where(mask, x, y)
    mask = np.asarray(_raw(condition)).astype(np.bool_, copy=False)
    if not (_is_float_tensor(x) or _is_float_tensor(y)):  # nothing to differentiate: NumPy's dtypes
        return Tensor._wrap(np.where(mask, _raw(x), _raw(y)))
    return O.where(mask, x, y)


def _is_float_tensor(x) -> bool:
    return isinstance(x, Tensor) and x._data.dtype.kind in "fc"


_CLIP_UFUNC = getattr(getattr(np, "_core", None), "umath", None)


_CLIP_UFUNC = getattr(_CLIP_UFUNC, "clip", None)


def _clip_values(a, low, high):
    if not any(_is_float_tensor(x) for x in (a, low, high)):  # nothing to differentiate
        return Tensor._wrap(np.asarray(np.clip(_raw(a), _raw(low), _raw(high))))
    if low is None and high is None:
        return S.clone(a)
    bounds = [b for b in (low, high) if b is not None]
    if any(isinstance(b, Tensor) or np.ndim(b) > 0 for b in bounds):
        # Array bounds broadcast with ``a``: NumPy's minimum(maximum(a, low), high).
        result = a if low is None else PW.maximum(a, low)
        return result if high is None else PW.minimum(result, high)
    return PW.clamp_prim(a, min=low, max=high)


def _clip(a, a_min=_NoValue, a_max=_NoValue, out=None, *, min=_NoValue, max=_NoValue, **kwargs):  # noqa: A002
    name = "numpy.clip"
    if a_min is not _NoValue and min is not _NoValue or a_max is not _NoValue and max is not _NoValue:
        raise ValueError(f"{name}: give a_min/a_max or min/max, not both")
    low = None if a_min is _NoValue and min is _NoValue else (min if a_min is _NoValue else a_min)
    high = None if a_max is _NoValue and max is _NoValue else (max if a_max is _NoValue else a_max)
    where, dtype, signature, casting, subok = _ufunc_keywords(name, kwargs)
    _refuse_keywords(name, kwargs)
    a = _operand(a)
    out_dtype = None
    if dtype is not None or signature is not None:
        if _CLIP_UFUNC is None:
            raise TypeError(f"{name}: dtype= and signature= need NumPy's clip ufunc (NumPy 2)")
        # The loop's dtypes, with ``a`` standing in for a missing bound.
        stand_in = [a, a if low is None else low, a if high is None else high]
        cast, out_dtype = _cast_to_loop(name, _CLIP_UFUNC, stand_in, dtype, signature, casting)
        a, low, high = cast[0], None if low is None else cast[1], None if high is None else cast[2]
    return _elementwise(name, _clip_values, [a, low, high], out, where, casting, subok, out_dtype)


def _tile(A, reps):  # noqa: N803
    reps = _shape_arg("numpy.tile", reps)
    if any(r < 0 for r in reps):
        raise ValueError(f"numpy.tile: negative repetitions {reps}")
    return O.tile(_operand(A), reps)


def _flip(m, axis=None):
    m = _operand(m)
    ndim = S._ndim(m)
    return O.flip(m, tuple(range(ndim)) if axis is None else _axes("numpy.flip", axis, ndim))


def _broadcast_to(array, shape, subok=False):
    name = "numpy.broadcast_to"
    array = _operand(array)
    shape = _shape_arg(name, shape)
    old = S._shape(array)
    try:
        ok = min(shape, default=0) >= 0 and len(shape) >= len(old) and np.broadcast_shapes(old, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name}: cannot broadcast an array of shape {old} to shape {shape}")
    return S.broadcast_to(array, shape)


def _inexact(x):
    """NumPy's linalg computes integers and bools in float64."""
    x = _operand(x)
    return x if _dtype_of(x).kind in "fc" else _cast(x, _f64)


def _inv(a):
    return L.inv(_inexact(a))


def _det(a):
    return L.det(_inexact(a))


def _slogdet(a):
    return L.slogdet(_inexact(a))


def _solve(a, b):
    return L.solve(_inexact(a), _inexact(b))


def _norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002
    return L.linalg_norm(_inexact(x), ord, axis, bool(keepdims))


def _size(a, axis=None):
    shape = S._shape(_operand(a))
    return int(np.prod(shape)) if axis is None else shape[_axis1("numpy.size", axis, len(shape))]


def _zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    if dtype is None and shape is None and subok and device is None and isinstance(a, Tensor):
        return E.zeros_like_(a)
    kwargs = {} if device is None else {"device": device}
    data = a._data if isinstance(a, Tensor) else np.asarray(_raw(a))  # only its shape and dtype are read
    zeros = np.zeros_like(data, dtype=dtype, order=order, subok=False, shape=shape, **kwargs)
    return Tensor._wrap(zeros) if subok else zeros


def _copyto(dst, src, casting="same_kind", where=True):
    name = "numpy.copyto"
    mask = _mask(name, where)
    if not isinstance(dst, Tensor):
        if _has_history(src):
            raise TypeError(
                f"{name} into a NumPy array is not supported for a source that requires grad: the "
                f"array cannot hold its history. Copy into a chainrule tensor, or, to drop the "
                f"history on purpose, np.asarray(t.detach())."
            )
        _numpy_copyto(dst, src, casting, mask)
        return None
    # NumPy's own checks (casting, broadcasting) and values on a scratch copy of the buffer.
    scratch = np.array(dst._data, copy=True)
    _numpy_copyto(scratch, src, casting, mask)
    if not (_records(src) or _records(dst)):
        dst.copy_(scratch)
        return None
    value = src if isinstance(src, Tensor) else np.asarray(src)
    if mask is not None:
        value = O.where(mask, value, S.clone(dst))
    dst.copy_(value)
    return None


def _numpy_copyto(dst, src, casting, mask):
    try:
        np.copyto(dst, _raw(src), casting=casting, where=True if mask is None else mask)
    except (TypeError, ValueError) as exc:
        raise (TypeError if isinstance(exc, TypeError) else ValueError)(f"numpy.copyto: {exc}") from None


def _meta_only(fn):
    """A NumPy function that reads only dtypes or memory (``result_type``, ``shares_memory``):
    the data directly, no value a compiled call must check again."""
    def call(*args, **kwargs):
        return fn(*[a._data if isinstance(a, Tensor) else a for a in args], **kwargs)

    return call


def _data_only(fn):
    """A NumPy function that only reads values (comparisons, dtype queries): no history to keep,
    so it reads the data directly (np.asarray would refuse a traced tensor inside a transform)."""
    def call(*args, **kwargs):
        for a in args:
            if isinstance(a, Tensor) and tracing.active[0]:
                tracing.read(a)  # (a compiled call reads the values again)
        args = [a._data if isinstance(a, Tensor) else a for a in args]
        return fn(*args, **kwargs)

    return call


# How NumPy's signature maps onto the operation serving it, for the NumPy functions whose
# signatures differ from chainrule's (``axis=`` for ``dim=``, ``out=``, ``dtype=``, ...); an
# operation that declares ``numpy=name`` with no entry here is called with NumPy's arguments.
SIGNATURES = {
    "sum": _sum, "mean": _mean, "prod": _prod,
    "max": _extremum("numpy.max", "max"), "amax": _extremum("numpy.amax", "max"),
    "min": _extremum("numpy.min", "min"), "amin": _extremum("numpy.amin", "min"),
    "var": _var, "std": _std,
    "cumsum": _cumulative("numpy.cumsum", O.cumsum), "cumprod": _cumulative("numpy.cumprod", O.cumprod),
    "argmax": _arg_extremum("numpy.argmax", O.argmax), "argmin": _arg_extremum("numpy.argmin", O.argmin),
    "dot": _dot, "outer": _outer, "einsum": _einsum, "trace": _trace, "inner": _inner, "tensordot": _tensordot,
    "reshape": _reshape, "transpose": _transpose, "squeeze": _squeeze,
    "concatenate": _concatenate, "stack": _stack, "where": _where, "clip": _clip,
    "tile": _tile, "flip": _flip, "broadcast_to": _broadcast_to,
    "linalg.inv": _inv, "linalg.det": _det, "linalg.solve": _solve,
    "linalg.slogdet": _slogdet, "linalg.norm": _norm,
}
