"""Statistics and norms, composites of the reductions: var, std, norm, logsumexp."""

from __future__ import annotations

import builtins

import numpy as np

from ..core import backend as B
from ..core import dtypes as D
from ..core import tracing
from ..core.dtypes import check_operand as _check_operand
from ..core.tensor import Tensor
from . import _template as T
from ._define import define, nondifferentiable, per_example
from ._table import public
from .comparisons import isnan, logical_and, logical_not
from .complex_numbers import conj, real_
from .elementwise import _require_float, cast, complex_unsupported, sqrt
from .extrema import amax_prim, amin_prim
from .piecewise import abs as abs_
from .piecewise import where
from .reductions import (
    _count,
    _dims,
    _f16,
    _f32,
    _f64,
    _floating_only,
    _i64,
    _keep,
    _keepdim,
    _logsumexp_xp,
    _norm2_xp,
    _norm_p_xp,
    _real_only,
    aliases,
    mean_prim,
    sum_prim,
)
from .shape import _ndim, _shape


def _in_float32(fn, op, input, *args, **kwargs):  # noqa: A002
    """``fn(input, ...)`` for a floating ``input``; float16 computed in float32 and cast back
    (PyTorch's upcast: no float16 overflow of squares, no float16 running sums)."""
    if _floating_only(op, input) is _f16:
        return cast(fn(cast(input, dtype=_f32), *args, **kwargs), dtype=_f16)
    return fn(input, *args, **kwargs)


def _correction(op, correction, unbiased):
    if unbiased is not None and not isinstance(unbiased, (bool, B.bool_)):
        raise TypeError(f"{op}: unbiased must be a bool, got {type(unbiased).__name__} {unbiased!r:.40}")
    if correction is None:
        return 1 if unbiased is None else int(bool(unbiased))
    return correction


def _var(input, dims, correction, keepdim):  # noqa: A002
    n = _count(_shape(input), dims)
    centered = input - mean_prim(input, dim=dims, keepdim=True)
    if _dtype_of_tensor(input).kind == "c":  # |x - mean|², real (NumPy, PyTorch)
        squares = real_(centered * conj(centered))
    else:
        squares = centered * centered
    return sum_prim(squares, dim=dims, keepdim=keepdim) / builtins.max(n - correction, 0)


@public(method=True, numpy="var")
def var(input, dim=None, correction=None, keepdim: bool = False, *, unbiased=None, axis=None,  # noqa: A002
        keepdims=None):
    """Variance over ``dim`` with ``correction`` (1 by default: the unbiased estimate).

    Floating tensors only (as PyTorch); float16 is computed in float32.
    """
    _check_operand("var", input, "input")
    dim, keepdim = aliases("var", dim, axis, keepdim, keepdims)
    dims = _dims("var", dim, _ndim(input))
    return _in_float32(_var, "var", input, dims, _correction("var", correction, unbiased), _keepdim("var", keepdim))


def _std(input, dims, correction, keepdim):  # noqa: A002
    v = _var(input, dims, correction, keepdim)
    # PyTorch's std_backward: gradient 0 where the std is 0 (a constant input), not 0 * inf.
    # The square root of 1 there keeps its derivative finite at any order.
    zero = v == 0
    return where(zero, 0.0, sqrt(where(zero, 1.0, v)))


@public(method=True, numpy="std")
def std(input, dim=None, correction=None, keepdim: bool = False, *, unbiased=None, axis=None,  # noqa: A002
        keepdims=None):
    """Standard deviation: the square root of ``var``.

    Its gradient is 0 where the standard deviation is 0 (a constant input), as PyTorch's, where
    the chain rule through the square root would give 0 · inf = NaN.
    """
    _check_operand("std", input, "input")
    dim, keepdim = aliases("std", dim, axis, keepdim, keepdims)
    dims = _dims("std", dim, _ndim(input))
    return _in_float32(_std, "std", input, dims, _correction("std", correction, unbiased), _keepdim("std", keepdim))


def _norm2_weights(m, ans, x, dim, keepdim):
    """``x / ‖x‖``, with 0 where the norm is 0."""
    a = _keep(m, ans, x.shape, dim, keepdim)
    safe = m.where(a == 0, 1.0, a)
    return m.where(a == 0, 0.0, x / safe)


def _norm2_vjp(m, g, ans, x, dim, keepdim):
    return _keep(m, g, x.shape, dim, keepdim) * _norm2_weights(m, ans, x, dim, keepdim)


def _norm2_jvp(m, tangents, ans, x, dim, keepdim):
    return m.sum(tangents[0] * _norm2_weights(m, ans, x, dim, keepdim), dim=dim, keepdim=keepdim)


def _norm2_impl(x, dim, keepdim):
    dt = x.dtype
    if dt is not _f32 and dt is not _f64:
        if dt is _f16:
            return _norm2_impl(x.astype(_f32), dim, keepdim).astype(_f16)
        _require_float("norm", x)
    return np.sqrt(np.add.reduce(x * x, axis=dim, keepdims=keepdim))


norm2_prim = define("norm2", _norm2_impl, (_norm2_vjp,), _norm2_jvp, save_ans=True, batching="reduce", template=T.Template(
        lambda p, k, v: f"np.sqrt(np.sum({p[0]} * {p[0]}{T.axis(k['dim'])}{T.keep(k['keepdim'])}))",
        (T.MUL + 1,), repeats=True), xp=_norm2_xp)


def _norm_p_impl(x, p, dim, keepdim):
    dt = x.dtype
    if dt is not _f32 and dt is not _f64:
        if dt is _f16:
            return _norm_p_impl(x.astype(_f32), p, dim, keepdim).astype(_f16)
        _require_float("norm", x)
    return np.add.reduce(np.abs(x) ** p, axis=dim, keepdims=keepdim) ** (1.0 / p)


def _norm_p_weights(m, ans, x, p, dim, keepdim):
    """∂‖x‖_p/∂x = sign(x) |x|^(p-1) / ‖x‖^(p-1), with PyTorch's zeros (norm_backward): 0 where
    the norm is 0, and for p < 1 also where x is 0 (|x|^(p-1) = inf there). The masked inputs are
    replaced by 1 before the power, so no branch is infinite and higher orders stay finite."""
    a = _keep(m, ans, x.shape, dim, keepdim)
    zero_norm = a == 0
    scale = m.where(zero_norm, 0.0, m.where(zero_norm, 1.0, a) ** (1.0 - p))
    magnitude = m.abs(x)
    if p < 1:
        zero = x == 0
        powered = m.where(zero, 0.0, m.where(zero, 1.0, magnitude) ** (p - 1.0))
    else:
        powered = magnitude ** (p - 1.0)
    return m.sign(x) * powered * scale


norm_p_prim = define(
    "norm_p", _norm_p_impl,
    (lambda m, g, ans, x, p, dim, keepdim:
        _keep(m, g, x.shape, dim, keepdim) * _norm_p_weights(m, ans, x, p, dim, keepdim),),
    lambda m, tangents, ans, x, p, dim, keepdim:
        m.sum(tangents[0] * _norm_p_weights(m, ans, x, p, dim, keepdim), dim=dim, keepdim=keepdim),
    save_ans=True, batching="reduce",
    doc="``sum(|x|^p) ** (1/p)`` over ``dim`` for p other than 1, 2 and ±inf", xp=_norm_p_xp
)


@public(method=True)
def norm(input, p=2, dim=None, keepdim: bool = False):  # noqa: A002
    """Vector p-norm over ``dim`` (all elements when None); ``p`` may be ``inf`` or ``'fro'``.

    Floating tensors only (as PyTorch); float16 is computed in float32. Gradients at zero are
    PyTorch's: 0 where the norm is 0 (any p), and 0 at zero elements for p < 1.
    """
    _check_operand("norm", input, "input")
    dims = _dims("norm", dim, _ndim(input))
    keepdim = _keepdim("norm", keepdim)
    _floating_only("norm", input)
    if p in (2, 2.0, "fro", None):
        return norm2_prim(input, dim=dims, keepdim=keepdim)
    if p in (float("inf"), "inf"):
        return amax_prim(abs_(input), dim=dims, keepdim=keepdim, nan=True)
    if p in (float("-inf"), "-inf"):
        return amin_prim(abs_(input), dim=dims, keepdim=keepdim, nan=True)
    if p == 1:
        return sum_prim(abs_(input), dim=dims, keepdim=keepdim)
    if not isinstance(p, (int, float)) or p <= 0:
        raise ValueError(f"norm: p must be a positive number, inf, -inf or 'fro', got {p!r}")
    return norm_p_prim(input, p=float(p), dim=dims, keepdim=keepdim)


def _logsumexp_impl(x, dim, keepdim):
    dt = x.dtype
    if dt is _f16:  # exponentials summed in float32, as PyTorch
        return _logsumexp_impl(x.astype(_f32), dim, keepdim).astype(_f16)
    if dt.kind != "f":
        if dt.kind == "c":
            raise complex_unsupported("logsumexp", dt)
        x = x.astype(D.get_default_dtype())  # integers: the default float dtype, as PyTorch
    top = np.amax(x, axis=dim, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    out = np.log(np.sum(np.exp(x - top), axis=dim, keepdims=True)) + top
    return out if keepdim else np.squeeze(out, axis=dim) if dim is not None else out.reshape(())


def _logsumexp_weights(m, ans, x, dim, keepdim):
    return m.exp(x - _keep(m, ans, x.shape, dim, keepdim))


logsumexp_prim = define(
    "logsumexp", _logsumexp_impl,
    (lambda m, g, ans, x, dim, keepdim: _keep(m, g, x.shape, dim, keepdim) * _logsumexp_weights(m, ans, x, dim, keepdim),),
    lambda m, tangents, ans, x, dim, keepdim: m.sum(tangents[0] * _logsumexp_weights(m, ans, x, dim, keepdim),
                                                    dim=dim, keepdim=keepdim),
    save_ans=True,
    batching="reduce", xp=_logsumexp_xp
)


@public(method=True)
def logsumexp(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):  # noqa: A002
    """``log(sum(exp(input)))`` over ``dim`` (``axis``), computed without overflow."""
    _check_operand("logsumexp", input, "input")
    dim, keepdim = aliases("logsumexp", dim, axis, keepdim, keepdims)
    return logsumexp_prim(input, dim=_dims("logsumexp", dim, _ndim(input)), keepdim=_keepdim("logsumexp", keepdim))


# ---------------------------------------------------------------------------------------------
# NaN-ignoring reductions: NaN entries count as absent and get no gradient. The cores take the
# mask of the entries that count (``valid``: not NaN, and selected by NumPy's ``where=``) and
# compute as NumPy's nan-functions do; the ``cr.*`` functions and ``np.nan*`` on tensors share them.
# ---------------------------------------------------------------------------------------------

def valid_mask(input, where_mask=None):  # noqa: A002
    """The entries that count: not NaN (for floating tensors) and selected by ``where_mask``. A
    tensor computed by the operations (a compiled call computes it again from its input)."""
    data = B.data_of(input)
    if B.kind(data.dtype) in "fc":
        valid = logical_not(isnan(input))
    else:
        valid = B.full(B.shape_of(data), True, B.BOOL, like=data)
    if where_mask is not None:
        valid = logical_and(valid, where_mask) if isinstance(valid, Tensor) else valid & where_mask
    return valid


def _valid_count(valid, dims, keepdim):
    """How many entries count in each slice (int64)."""
    if isinstance(valid, Tensor):
        return sum_prim(valid, dim=dims, keepdim=keepdim)  # bool sums are int64
    return B.namespace(valid).sum(B.astype(valid, _i64), axis=dims, keepdims=keepdim)


def _at_least_one_impl(count, dtype):
    space = B.namespace(count)
    return B.astype(space.where(count > 0, count, space.ones_like(count)), dtype)


# ``count`` with zeros replaced by ones, in ``dtype``: a divisor that never divides by 0
at_least_one = nondifferentiable("at_least_one", _at_least_one_impl, batching="elementwise",
                                 xp=lambda space, count, dtype: _at_least_one_impl(count, dtype))


def _at_least_one(count, dtype):
    """``count`` with zeros replaced by ones, in ``dtype``: a divisor that never divides by 0."""
    if isinstance(count, Tensor):
        return at_least_one(count, dtype=dtype)
    return _at_least_one_impl(count, dtype)


def _nan_where(bad, result, dt):
    """``result`` with NaN where ``bad`` holds (no gradient there). Whether ``bad`` holds
    anywhere is a decision a compiled call checks again."""
    if (tracing.decide(bad, B.any_of, "whether a slice has no values that count") if isinstance(bad, Tensor)
            else B.any_of(bad)):  # counts of a mask that is a constant (no NaN possible): a constant
        return where(bad, B.as_array(float("nan"), dt, like=B.data_of(bad)), result)
    return result


def _dtype_of_tensor(x):
    return B.numpy_dtype(B.data_of(x).dtype)


def nan_sum(input, dims, keepdim, valid, dtype=None):  # noqa: A002
    """The sum of the entries that count (NumPy's nansum: NaN replaced by 0, then summed)."""
    filled = where(valid, input, B.as_array(0, _dtype_of_tensor(input), like=B.data_of(valid)))
    if dtype is not None:
        filled = cast(filled, dtype=dtype)
    return sum_prim(filled, dim=dims, keepdim=keepdim)


def nan_mean(input, dims, keepdim, valid, dtype=None):  # noqa: A002
    """NumPy's nanmean: the sum of the entries that count over their number; NaN (and ``empty``
    True) for a slice with none. Returns ``(mean, empty)``."""
    total = nan_sum(input, dims, keepdim, valid, dtype)
    count = _valid_count(valid, dims, keepdim)
    dt = _dtype_of_tensor(total)
    empty = count == 0
    return _nan_where(empty, total / _at_least_one(count, dt), dt), empty


def nan_var(input, dims, keepdim, valid, ddof, dtype=None, mean=None, root=False):  # noqa: A002
    """NumPy's nanvar (nanstd with ``root``) over the entries that count, with ``ddof``; NaN
    (and ``bad`` True) where the degrees of freedom are ≤ 0. Returns ``(variance, bad)``.

    As NumPy: the mean is summed in ``dtype`` and subtracted in the input's dtype, the squares
    summed in ``dtype``. The standard deviation's gradient is 0 where it is 0 (PyTorch's rule)."""
    in_dt = _dtype_of_tensor(input)
    zero = B.as_array(0, in_dt, like=B.data_of(valid))
    filled = where(valid, input, zero)
    if mean is None:
        total = sum_prim(filled if dtype is None else cast(filled, dtype=dtype), dim=dims, keepdim=True)
        mean = total / _at_least_one(_valid_count(valid, dims, True), _dtype_of_tensor(total))
    centered = filled - mean
    if _dtype_of_tensor(centered) != in_dt:
        centered = cast(centered, dtype=in_dt)
    centered = where(valid, centered, zero)
    squares = centered * centered
    if dtype is not None:
        squares = cast(squares, dtype=dtype)
    total = sum_prim(squares, dim=dims, keepdim=keepdim)
    dof = _valid_count(valid, dims, keepdim) - ddof
    bad = dof <= 0
    dt = _dtype_of_tensor(total)
    result = total / _at_least_one(dof, dt)
    if root:
        is_zero = result == 0
        result = where(is_zero, B.as_array(0, dt, like=B.data_of(is_zero)), sqrt(where(is_zero, B.as_array(1, dt, like=B.data_of(is_zero)), result)))
    return _nan_where(bad, result, dt), bad


def _nan_reduction(op, input, dim, keepdim):  # noqa: A002
    _check_operand(op, input, "input")
    if not hasattr(input, "_data") and not hasattr(input, "dtype"):
        raise TypeError(f"{op}: input must be a tensor, got {type(input).__name__} {input!r:.40}")
    return _dims(op, dim, _ndim(input)), _keepdim(op, keepdim)


@public(method=True, numpy="nansum")
@per_example
def nansum(input, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):  # noqa: A002
    """Sum over ``dim`` (``axis``) treating NaN as 0, as PyTorch's and NumPy's: NaN entries get
    no gradient. ``cr.nansum(x, dim=1)``."""
    dim, keepdim = aliases("nansum", dim, axis, keepdim, keepdims)
    dims, keepdim = _nan_reduction("nansum", input, dim, keepdim)
    dtype = D.resolve(dtype, "nansum")
    if _real_only("nansum", input).kind != "f":
        out = sum_prim(input if dtype is None else cast(input, dtype=dtype), dim=dims, keepdim=keepdim)
    else:
        out = nan_sum(input, dims, keepdim, valid_mask(input), dtype)
    if dtype is not None and dtype == B.BOOL:  # as sum: NumPy sums bools as int64, PyTorch keeps bool
        out = cast(out, dtype=B.BOOL)
    return out


@public(method=True, numpy="nanmean")
@per_example
def nanmean(input, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):  # noqa: A002
    """Mean over ``dim`` (``axis``) of the entries that are not NaN; NaN for an all-NaN slice.
    Floating tensors only (as PyTorch). NaN entries get no gradient, and neither do all-NaN
    slices (PyTorch gives NaN there). ``cr.nanmean(x, dim=0)``."""
    dim, keepdim = aliases("nanmean", dim, axis, keepdim, keepdims)
    dims, keepdim = _nan_reduction("nanmean", input, dim, keepdim)
    dtype = D.resolve(dtype, "nanmean")
    _floating_only("nanmean", input if dtype is None else cast(input, dtype=dtype))
    return nan_mean(input, dims, keepdim, valid_mask(input), dtype)[0]


def _nan_spread(op, root, input, dim, correction, keepdim, axis, keepdims):  # noqa: A002
    dim, keepdim = aliases(op, dim, axis, keepdim, keepdims)
    dims, keepdim = _nan_reduction(op, input, dim, keepdim)
    _floating_only(op, input)
    if isinstance(correction, (bool, B.bool_)) or not isinstance(correction, (int, float, B.integer, B.floating)):
        raise TypeError(f"{op}: correction must be a number, got {type(correction).__name__} {correction!r:.40}")
    return nan_var(input, dims, keepdim, valid_mask(input), correction, root=root)[0]


@public(numpy="nanvar")
@per_example
def nanvar(input, dim=None, *, correction=1, keepdim: bool = False, axis=None, keepdims=None):  # noqa: A002
    """Variance over ``dim`` (``axis``) of the entries that are not NaN, with ``correction``
    (1 by default, as ``cr.var``; ``np.nanvar``'s ``ddof`` is 0); NaN where fewer than
    ``correction + 1`` entries count. NaN entries get no gradient. ``cr.nanvar(x, dim=1)``."""
    return _nan_spread("nanvar", False, input, dim, correction, keepdim, axis, keepdims)


@public(numpy="nanstd")
@per_example
def nanstd(input, dim=None, *, correction=1, keepdim: bool = False, axis=None, keepdims=None):  # noqa: A002
    """Standard deviation over ``dim`` (``axis``) ignoring NaNs: the square root of
    ``nanvar``, with gradient 0 where it is 0 (as ``cr.std``). ``cr.nanstd(x)``."""
    return _nan_spread("nanstd", True, input, dim, correction, keepdim, axis, keepdims)
