"""NumPy's signatures for the quantiles family: ``np.<name>(t, ...)`` with NumPy's exact arguments,
keywords and N-d semantics, mapped onto chainrule's operations (see ``numpy_protocols``).

``np.nansum nanmean nanvar nanstd nanmax nanmin``: NaN entries count as absent and get no
gradient; all-NaN slices give NumPy's result and warning. ``np.median``, ``np.quantile`` and
``np.percentile`` (NumPy's 13 methods) gather the values from a stable sort, so the gradient
goes to the elements the result is made of (see ``ops/quantiles``); ``np.average`` (weights,
``returned=``) and ``np.ptp`` are compositions, differentiable in every tensor argument.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ops as O
from ..core import backend as B
from ..core import tracing
from ..core.tensor import Tensor
from ..ops import elementwise as E
from ..ops import quantiles as Q
from ..ops import shape as S
from ..ops import statistics as ST
from ..ops._define import per_example
from .numpy_common import _axes, _cast, _dtype_of, _finish, _mask, _NoValue, _operand, _raw, _zero
from .numpy_signatures import SIGNATURES as _CORE

_F64 = np.dtype(np.float64)


def _numpy_behaviour() -> tuple[str, bool]:
    """What the installed NumPy does where versions differ: the text of np.mean's empty-slice
    warning (np.median's; "Mean of empty slice." before NumPy 2.3), and whether np.quantile
    promotes a Python-number q weakly (NumPy 2.4; before, a Python int or float q, np.float64
    included, is first converted to the array's floating dtype)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        np.mean(np.empty(0))
    empty = next((str(w.message) for w in caught if "empty" in str(w.message)), "Mean of empty slice")
    weak = np.quantile(np.zeros(2, np.float32), np.float64(0.5)).dtype == _F64
    return empty, bool(weak)


_EMPTY_MEAN, _WEAK_Q = _numpy_behaviour()


def _keep(keepdims) -> bool:
    return False if keepdims is _NoValue else bool(keepdims)


def _inexact(a) -> bool:
    return _dtype_of(a).kind in "fc"


def _where_mask(name, where, shape):
    """``where=`` as a bool array broadcast to ``shape`` (None: everything selected)."""
    if where is _NoValue or where is True:
        return None
    mask = _mask(name, where)
    if mask is None:
        return None
    try:
        return np.broadcast_to(mask, shape)
    except ValueError:
        raise ValueError(f"{name}: where= of shape {mask.shape} does not broadcast to the input's shape {shape}") from None


def _with_nan(a, valid):
    """``a`` with the entries not in ``valid`` replaced by 0 (no gradient there)."""
    return O.where(valid, a, _zero(_dtype_of(a)))


def _nansum(a, axis=None, dtype=None, out=None, keepdims=_NoValue, initial=_NoValue, where=_NoValue):
    a = _operand(a)
    if _inexact(a):
        a = _with_nan(a, O.logical_not(O.isnan(a)))
    return _CORE["sum"](a, axis, dtype, out, keepdims, initial, where)


def _nan_filled(name, core, fill):
    """NumPy's nanprod, nancumsum, nancumprod: NaN replaced by ``fill`` (no gradient there), then
    the plain function with all its keywords."""

    def call(a, *args, **kwargs):
        a = _operand(a)
        if _inexact(a):
            a = O.where(O.isnan(a), np.asarray(fill, dtype=_dtype_of(a)), a)
        return _CORE[core](a, *args, **kwargs)

    call.__name__ = name
    return call


def _nan_setup(name, a, axis, dtype, out, where):
    a = _operand(a)
    if dtype is not None and not np.issubdtype(np.dtype(dtype), np.inexact):
        raise TypeError(f"{name}: if a is inexact, then dtype must be inexact")
    if out is not None and not np.issubdtype(out.dtype, np.inexact):
        raise TypeError(f"{name}: if a is inexact, then out must be inexact")
    shape = S._shape(a)
    axes = _axes(name, axis, len(shape))
    return a, axes, ST.valid_mask(a, _where_mask(name, where, shape))


def _nanmean(a, axis=None, dtype=None, out=None, keepdims=_NoValue, *, where=_NoValue):
    name = "numpy.nanmean"
    if not _inexact(_operand(a)):
        return _CORE["mean"](a, axis, dtype, out, keepdims, where=where)
    a, axes, valid = _nan_setup(name, a, axis, dtype, out, where)
    result, empty = ST.nan_mean(a, axes, _keep(keepdims), valid, None if dtype is None else np.dtype(dtype))
    if tracing.decide(empty, B.any_of, "whether a slice has no values that count"):
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=3)
    return _finish(name, result, out, "unsafe", exact=True)


def _nan_variance(name, root):
    core = "std" if root else "var"

    def spread(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NoValue, *, where=_NoValue,
               mean=_NoValue, correction=_NoValue):
        if not _inexact(_operand(a)):
            return _CORE[core](a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction)
        if correction is not _NoValue:
            if ddof != 0:
                raise ValueError(f"{name}: ddof and correction can't be provided simultaneously.")
            ddof = correction
        a, axes, valid = _nan_setup(name, a, axis, dtype, out, where)
        center = None if mean is _NoValue else _operand(mean)
        result, bad = ST.nan_var(a, axes, _keep(keepdims), valid, ddof, None if dtype is None else np.dtype(dtype),
                                 center, root)
        if tracing.decide(bad, B.any_of, "whether a slice has no values that count"):
            warnings.warn("Degrees of freedom <= 0 for slice.", RuntimeWarning, stacklevel=3)
        return _finish(name, result, out, "unsafe", exact=True)

    spread.__name__ = name.rsplit(".", 1)[1]
    return spread


def _nan_extremum(name, kind):
    prim = O.nanmax if kind == "max" else O.nanmin
    ufunc = "fmax" if kind == "max" else "fmin"

    def reduce(a, axis=None, out=None, keepdims=_NoValue, initial=_NoValue, where=_NoValue):
        a = _operand(a)
        if not _inexact(a):
            return _CORE[kind](a, axis, out, keepdims, initial, where)
        shape = S._shape(a)
        axes = _axes(name, axis, len(shape))
        keep = _keep(keepdims)
        mask = _where_mask(name, where, shape)
        dt = _dtype_of(a)
        if mask is not None:
            if initial is _NoValue:
                raise ValueError(f"{name}: reduction operation '{ufunc}' does not have an identity, so to "
                                 f"use a where mask one has to specify 'initial'")
            a = O.where(mask, a, np.asarray(np.nan, dtype=dt))
        if 0 in (shape if axes is None else [shape[i] for i in axes]):
            if initial is _NoValue:
                raise ValueError(f"{name}: zero-size array to reduction operation {ufunc} which has no identity")
            result = O.sum(a, axes, keep) * 0 + np.asarray(initial, dtype=dt)
        else:
            result = prim(a, axes, keep)
            if initial is not _NoValue:
                init = np.asarray(initial, dtype=dt)
                r = np.asarray(result._data)
                beaten = np.isnan(r) | (r < init if kind == "max" else r > init)
                if not np.isnan(init) and np.any(beaten):
                    result = O.where(beaten, init, result)
        if np.isnan(np.asarray(result._data)).any():
            warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)
        return _finish(name, result, out, "unsafe", exact=True)

    reduce.__name__ = name.rsplit(".", 1)[1]
    return reduce


def _average(a, axis=None, weights=None, returned=False, *, keepdims=_NoValue):
    name = "numpy.average"
    a = _operand(a)
    shape = S._shape(a)
    axes = _axes(name, axis, len(shape))
    keep = {} if keepdims is _NoValue else {"keepdims": keepdims}
    if weights is None:
        avg = _CORE["mean"](a, axes, **keep)
        ratio = np.asarray(int(np.prod(shape)) / max(int(np.prod(avg.shape)), 1), dtype=avg.dtype)
        scl = Tensor._wrap(np.array(np.broadcast_to(ratio, avg.shape)))
    else:
        w = _operand(weights)
        dt, wdt = _dtype_of(a), _dtype_of(w)
        result_dtype = np.result_type(dt, wdt, "f8") if dt.kind in "biu" else np.result_type(dt, wdt)
        wshape = S._shape(w)
        if wshape != shape:
            if axes is None:
                raise TypeError(f"{name}: Axis must be specified when shapes of a and weights differ.")
            if wshape != tuple(shape[ax] for ax in axes):
                raise ValueError(f"{name}: Shape of weights must be consistent with shape of a along specified axis.")
            w = S.permute(w, tuple(int(i) for i in np.argsort(axes))) if len(axes) > 1 else w
            w = S.reshape(w, tuple(s if ax in axes else 1 for ax, s in enumerate(shape)))
        w = _cast(w, result_dtype)
        scl = _CORE["sum"](w, axes, **keep)
        if np.any(np.asarray(_raw(scl)) == 0.0):
            raise ZeroDivisionError(f"{name}: Weights sum to zero, can't be normalized")
        avg = _CORE["sum"](_cast(a, result_dtype) * w, axes, **keep) / scl
        if returned and S._shape(scl) != S._shape(avg):
            scl = S.broadcast_to(scl, S._shape(avg)) * 1
    return (avg, scl) if returned else avg


def _ptp(a, axis=None, out=None, keepdims=_NoValue):
    name = "numpy.ptp"
    a = _operand(a)
    if _dtype_of(a).kind == "b":
        raise TypeError(f"{name}: numpy boolean subtract, the `-` operator, is not supported, use the "
                        f"bitwise_xor, the `^` operator, or the logical_xor function instead.")
    high = _CORE["max"](a, axis, None, keepdims)
    low = _CORE["min"](a, axis, None, keepdims)
    return _finish(name, E.sub(high, low), out, "unsafe", exact=True)


def _reduced(name, a, axis):
    a = _operand(a)
    if _dtype_of(a).kind == "c":
        raise TypeError(f"{name}: a must be an array of real numbers")
    shape = S._shape(a)
    axes = _axes(name, axis, len(shape))
    return a, shape, None if axes is None else tuple(sorted(axes))


def _kept(result, shape, axes, lead=()):
    return S.reshape(result, tuple(lead) + Q.kept_dims(shape, axes))


def _median_core(x, axes):
    """NumPy's median over ``axes``: the middle value, or the mean of the two middle values
    (their gradient halved, as PyTorch's quantile(0.5)); float64 for integers and bools."""
    if _dtype_of(x).kind in "biu":
        x = _cast(x, _F64)
    flat, kept, n = Q.flatten_reduced(x, axes)
    if n == 0:
        warnings.warn(_EMPTY_MEAN, RuntimeWarning, stacklevel=4)
        warnings.warn(f"invalid value encountered in {'divide' if kept else 'scalar divide'}", RuntimeWarning,
                      stacklevel=4)
        return O.sum(flat, -1) * np.asarray(np.nan, dtype=_dtype_of(flat))
    middle = [n // 2] if n % 2 else [(n - 1) // 2, n // 2]
    values = Q._Sorted(flat, kept, n).take(np.asarray(middle))
    if _dtype_of(values) == np.float16:  # np.mean adds float16 in float32
        return _cast(O.mean(_cast(values, np.dtype(np.float32)), -1), np.dtype(np.float16))
    return O.mean(values, -1)


def _median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    name = "numpy.median"
    a, shape, axes = _reduced(name, a, axis)
    result = _median_core(a, axes)
    if keepdims:
        result = _kept(result, shape, axes)
    return _finish(name, result, out, "unsafe", exact=True)


def _all_nan_warnings(empty) -> None:
    """NumPy's nan-medians and nan-quantiles warn once for each all-NaN slice."""
    tracing.read(empty)  # how many: a compiled call checks the mask again
    for _ in range(int(np.count_nonzero(B.data_of(empty)))):
        warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=4)


def _nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=_NoValue):
    name = "numpy.nanmedian"
    a, shape, axes = _reduced(name, a, axis)
    if not _inexact(a):
        return _median(a, axis, out, overwrite_input, _keep(keepdims))
    if 0 in shape:
        return _nanmean(a, axis, out=out, keepdims=keepdims)
    pair, empty = Q.nan_middle(a, axes)
    dt = _dtype_of(pair)
    if dt == np.float16:  # np.mean adds float16 in float32
        result = _cast(O.mean(_cast(pair, np.dtype(np.float32)), -1), dt)
    else:
        result = O.mean(pair, -1)
    if tracing.decide(empty, B.any_of, "whether a slice holds only NaN"):
        result = O.where(empty, np.asarray(np.nan, dtype=dt), result)
        _all_nan_warnings(empty)
    if _keep(keepdims):
        result = _kept(result, shape, axes)
    return _finish(name, result, out, "unsafe", exact=True)


def _quantiles(name, scale, message, skip_nan=False):
    def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                 weights=None):
        a, shape, axes = _reduced(name, a, axis)
        weak = type(q) in (int, float) and _WEAK_Q
        if isinstance(q, Tensor):  # the positions are computed from q's values: a compiled call checks them
            tracing.read(q)
        q_tensor = q if isinstance(q, Tensor) and (q.requires_grad or q._tangents is not None) else None
        floating = _dtype_of(a).kind == "f"
        if _WEAK_Q:
            qs = np.true_divide(np.asarray(_raw(q)), scale) if scale != 1 else np.asanyarray(_raw(q))
        elif scale != 1:  # older NumPy: q / 100 in the array's floating dtype (weakly for a Python q)
            qs = np.asanyarray(np.true_divide(_raw(q), _dtype_of(a).type(scale) if floating else scale))
        elif isinstance(q, (int, float)) and floating:  # older NumPy: in the array's dtype
            qs = np.asanyarray(q, dtype=_dtype_of(a))
        else:
            qs = np.asanyarray(_raw(q))
        if q_tensor is not None and scale != 1:
            q_tensor = q_tensor / scale
        if qs.size and not (qs.min() >= 0 and qs.max() <= 1):
            raise ValueError(f"{name}: {message}")
        if weights is not None:
            if method != "inverted_cdf":
                raise ValueError(f"{name}: Only method 'inverted_cdf' supports weights. Got: {method}.")
            raise TypeError(f"{name}: weights= is not supported on chainrule tensors; sort and use "
                            f"cr.cumsum on the weights instead")
        if method not in Q.METHODS:
            raise ValueError(f"{name}: {method!r} is not a valid method. Use one of: {', '.join(Q.METHODS)}")
        if qs.ndim > 2:
            raise ValueError(f"{name}: q must be a scalar or 1d")
        if 0 in (shape if axes is None else [shape[i] for i in axes]):
            raise IndexError(f"{name}: index -1 is out of bounds for axis 0 with size 0")
        in_dt = _dtype_of(a)
        if weak:  # a Python number: NumPy's weak promotion keeps the array's floating dtype
            work = np.result_type(in_dt, 0.0)
        else:  # the dtype of NumPy's interpolation weights joins in
            n = int(np.prod(shape if axes is None else [shape[i] for i in axes]))
            work = np.result_type(in_dt, np.asarray(Q._virtual_index(method, n, qs)[0]).dtype)
        if skip_nan and _inexact(a):
            result, empty = Q.nan_order_statistics(a, axes, qs, method, work, q_tensor=q_tensor)
            _all_nan_warnings(empty)
        else:
            result = Q.order_statistics(a, axes, qs, method, work, q_tensor=q_tensor)
        if _keep(keepdims):
            result = _kept(result, shape, axes, qs.shape)
        return _finish(name, result, out, "unsafe", exact=True)

    quantile.__name__ = name.rsplit(".", 1)[1]
    return quantile


SIGNATURES: dict[str, Callable[..., Any]] = {name: per_example(fn) for name, fn in {
    "nansum": _nansum, "nanmean": _nanmean,
    "nanvar": _nan_variance("numpy.nanvar", False), "nanstd": _nan_variance("numpy.nanstd", True),
    "nanmax": _nan_extremum("numpy.nanmax", "max"), "nanmin": _nan_extremum("numpy.nanmin", "min"),
    "average": _average, "ptp": _ptp, "median": _median,
    "quantile": _quantiles("numpy.quantile", 1, "Quantiles must be in the range [0, 1]"),
    "percentile": _quantiles("numpy.percentile", 100, "Percentiles must be in the range [0, 100]"),
    "nanmedian": _nanmedian,
    "nanprod": _nan_filled("nanprod", "prod", 1), "nancumsum": _nan_filled("nancumsum", "cumsum", 0),
    "nancumprod": _nan_filled("nancumprod", "cumprod", 1),
    "nanquantile": _quantiles("numpy.nanquantile", 1, "Quantiles must be in the range [0, 1]", True),
    "nanpercentile": _quantiles("numpy.nanpercentile", 100, "Percentiles must be in the range [0, 100]", True),
}.items()}  # they read the values (NaN masks, sort orders): under vmap, per example
