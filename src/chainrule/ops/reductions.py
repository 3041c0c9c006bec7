"""Reductions: sums, means, products, extrema, variances, norms, cumulative ops."""

from __future__ import annotations

import builtins
import math
from collections import namedtuple

import numpy as np

from ..core import backend as B
from ..core import dtypes as D
from ..core import tracing
from ..core.dtypes import check_operand as _check_operand
from . import _template as T
from ._define import define, linear, nondifferentiable
from ._table import public
from .elementwise import COMPLEX, _require_float, cast, complex_unsupported
from .shape import _ndim, _shape, normalize_dim

_prod = math.prod
_f16 = np.dtype(np.float16)
_f32 = np.dtype(np.float32)
_f64 = np.dtype(np.float64)
_i64 = np.dtype(np.int64)

values_indices = namedtuple("values_indices", ["values", "indices"])


def _dims(op: str, dim, ndim: int):
    """``dim`` (int, sequence or None) as a sorted tuple of non-negative axes, or None for all.

    A 0-d tensor accepts dim 0 and -1, as in PyTorch, and reduces over no axis: ``()``."""
    if dim is None:
        return None
    if ndim == 0:
        for d in dim if isinstance(dim, (tuple, list)) else (dim,):
            normalize_dim(op, d, ndim)
        return ()
    if isinstance(dim, (tuple, list)):
        dims = [normalize_dim(op, d, ndim) for d in dim]
        if len(set(dims)) != len(dims):
            repeated = next(d for d in dims if dims.count(d) > 1)
            raise RuntimeError(f"{op}: dim {repeated} appears multiple times in the list of dims {list(dim)}")
        return tuple(sorted(dims))
    return (normalize_dim(op, dim, ndim),)


def _keepdim(op: str, keepdim) -> bool:
    """``keepdim``, which must be a bool (PyTorch refuses anything else: ``bool("no")`` is True)."""
    if keepdim is True or keepdim is False or isinstance(keepdim, B.bool_):
        return bool(keepdim)
    raise TypeError(f"{op}: keepdim must be a bool, got {type(keepdim).__name__} {keepdim!r:.40}")


def aliases(op: str, dim, axis, keepdim=False, keepdims=None):
    """PyTorch's spellings: ``axis=`` for ``dim=`` and ``keepdims=`` for ``keepdim=`` (one of
    each pair, as PyTorch accepts)."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: got both dim= and axis= (axis is another name for dim); give one")
        dim = axis
    if keepdims is not None:
        if keepdim is not False:
            raise TypeError(f"{op}: got both keepdim= and keepdims= (the same argument); give one")
        keepdim = keepdims
    return dim, keepdim


def _required_dim(op: str, dim, axis) -> int:
    dim, _ = aliases(op, dim, axis)
    if dim is None:
        raise TypeError(f"{op}: missing the required argument dim (an int)")
    return dim


def _kept_shape(shape, dim):
    """``shape`` with the reduced dimensions set to 1 (what ``keepdim=True`` gives)."""
    if dim is None:
        return (1,) * len(shape)
    return tuple(1 if i in dim else n for i, n in enumerate(shape))


def _keep(m, g, shape, dim, keepdim):
    """A reduction's output gradient reshaped so it broadcasts against the input."""
    if keepdim or not shape:
        return g
    return m.reshape(g, shape=_kept_shape(shape, dim))


def _expand_back(m, g, shape, dim, keepdim):
    return m.broadcast_to(_keep(m, g, shape, dim, keepdim), shape=tuple(shape))


def _count(shape, dim) -> int:
    return _prod(shape) if dim is None else _prod(shape[d] for d in dim)


# ---------------------------------------------------------------------------------------------
# dtypes. float16 reductions accumulate in float32 and return float16, as PyTorch's: a float16
# running sum stops at 2048 (2048 + 1 rounds to 2048) and 300² overflows. Primitives do it in
# their forward (``_accumulated``, norms, logsumexp); composites (var, std) compute in float32
# throughout and cast the result back, so their gradients are float32 too until the cast's. Integer inputs
# follow PyTorch: sum, prod, cumsum, cumprod, amax, ... keep integers (sum of int8 is int64);
# mean, var, std and norm refuse them (RuntimeError); logsumexp computes in the default float
# dtype. Complex inputs: sum, mean, prod, cumsum, cumprod take them (``elementwise.COMPLEX``),
# the others refuse them (TypeError, as PyTorch: no order).
# ---------------------------------------------------------------------------------------------

def _accumulated(op, reduce, x, **kwargs):
    """``reduce(x, **kwargs)`` for ``x`` not float32/float64: float16 accumulated in float32,
    complex refused, integers and bools as NumPy (which sums small integers in int64)."""
    dt = x.dtype
    if dt is _f16:
        return reduce(x, dtype=_f32, **kwargs).astype(_f16)
    if dt.kind == "c" and op not in COMPLEX:
        raise complex_unsupported(op, dt)
    return reduce(x, **kwargs)


def _dtype_of(x):
    return B.dtype_of(x._data if hasattr(x, "_data") else x)  # NumPy's dtype, for any namespace


def _floating_only(op, input):  # noqa: A002
    """The dtype of ``input``, which PyTorch's ``op`` (mean, var, std, norm) requires to be a
    floating tensor (or array)."""
    if not hasattr(input, "dtype") and not hasattr(input, "_data"):
        raise TypeError(f"{op}: input must be a tensor, got {type(input).__name__} {input!r:.40}")
    dt = _dtype_of(input)
    if dt.kind != "f":
        if dt.kind == "c":
            if op in COMPLEX:
                return dt
            raise complex_unsupported(op, dt)
        raise RuntimeError(
            f"{op}: could not infer output dtype. Input dtype must be floating point, got {dt}; "
            f"use x.float().{op}() or convert with x.to(cr.float32)"
        )
    return dt


def _real_only(op, input):  # noqa: A002
    dt = _dtype_of(input)
    if dt.kind == "c" and op not in COMPLEX:
        raise complex_unsupported(op, dt)
    return dt


# ---------------------------------------------------------------------------------------------
# Forwards for other array namespaces (the array API standard, see backend): the same dtype
# rules as above, through the namespace's functions.
# ---------------------------------------------------------------------------------------------

def _xp_real(op, x):
    """``x`` ready for a sum or product: complex refused, bools summed as int64 (NumPy, PyTorch)."""
    kind = B.kind(x.dtype)
    if kind == "c":
        raise complex_unsupported(op, x.dtype)
    return B.astype(x, _i64) if kind == "b" else x


def _sum_xp(space, x, dim=None, keepdim=False):
    return space.sum(_xp_real("sum", x), axis=dim, keepdims=keepdim)


def _mean_xp(space, x, dim=None, keepdim=False):
    return space.mean(x, axis=dim, keepdims=keepdim)


def _prod_xp(space, x, dim, keepdim):
    return space.prod(_xp_real("prod", x), axis=dim, keepdims=keepdim)


def _cumulative_xp(name):
    def forward(space, x, dim):
        x = _xp_real(name, x)
        if x.ndim == 0:
            return space.asarray(x, copy=True)
        return getattr(space, "cumulative_" + name[3:])(x, axis=dim)

    return forward


def _amax_xp(space, x, dim, keepdim, nan=False):
    return space.max(x, axis=dim, keepdims=keepdim)


def _amin_xp(space, x, dim, keepdim, nan=False):
    return space.min(x, axis=dim, keepdims=keepdim)


def _argmax_xp(space, x, dim, keepdim):
    return space.argmax(x, axis=dim, keepdims=keepdim)


def _argmin_xp(space, x, dim, keepdim):
    return space.argmin(x, axis=dim, keepdims=keepdim)


def _norm2_xp(space, x, dim, keepdim):
    _require_float("norm", x)
    return space.sqrt(space.sum(x * x, axis=dim, keepdims=keepdim))


def _norm_p_xp(space, x, p, dim, keepdim):
    _require_float("norm", x)
    return space.sum(space.abs(x) ** p, axis=dim, keepdims=keepdim) ** (1.0 / p)


def _logsumexp_xp(space, x, dim, keepdim):
    kind = B.kind(x.dtype)
    if kind == "c":
        raise complex_unsupported("logsumexp", x.dtype)
    if kind != "f":
        x = B.astype(x, B.floating_dtype(x.dtype))  # integers: the default float dtype, as PyTorch
    top = space.max(x, axis=dim, keepdims=True)
    top = space.where(space.isfinite(top), top, space.zeros_like(top))
    out = space.log(space.sum(space.exp(x - top), axis=dim, keepdims=True)) + top
    if keepdim:
        return out
    return space.squeeze(out, axis=dim) if dim is not None else space.reshape(out, ())


# ---------------------------------------------------------------------------------------------
# Linear reductions
# ---------------------------------------------------------------------------------------------

def _sum_impl(x, dim=None, keepdim=False):
    try:
        dt = x.dtype
    except AttributeError:  # a Python number
        x = np.asarray(x)
        dt = x.dtype
    if dt is _f32 or dt is _f64:
        return np.add.reduce(x, axis=dim, keepdims=keepdim)
    return _accumulated("sum", np.add.reduce, x, axis=dim, keepdims=keepdim)


sum_prim = linear("sum", _sum_impl,
                  lambda m, g, x, dim, keepdim: _expand_back(m, g, x.shape, dim, keepdim), batching="reduce", template=T.reduction("sum"), xp=_sum_xp)


def _mean_impl(x, dim=None, keepdim=False):
    dtype = x.dtype
    if dtype.kind == "f" and dtype.itemsize >= 4:  # np.mean's own result, without its overhead
        total = np.add.reduce(x, axis=dim, keepdims=keepdim)
        count = _count(x.shape, dim)
        return total / total.dtype.type(count) if count else total * np.nan
    return np.mean(x, axis=dim, keepdims=keepdim)  # float16: accumulated in float32 by NumPy


def _mean_vjp(m, g, x, dim, keepdim):
    return _expand_back(m, g * _mean_scale(x, dim), x.shape, dim, keepdim)


def _mean_raw_vjp(m, g, ans, x, dim, keepdim):
    """``_mean_vjp`` of the mean of all elements as a new array: a small one filled with the
    value costs less than a broadcast view of it."""
    if dim is None and _prod(x.shape) <= _FILL_MAX:
        return B.full(x.shape, g * _mean_scale(x, dim), x.dtype, like=g)
    return _mean_vjp(m, g, x, dim, keepdim)


def _mean_scale(x, dim) -> float:
    return 1.0 / builtins.max(_count(x.shape, dim), 1)


_FILL_MAX = 1 << 16

mean_prim = linear("mean", _mean_impl, _mean_vjp, batching="reduce", raw_vjp=(_mean_raw_vjp,), template=T.reduction("mean"), xp=_mean_xp)


@public(method=True, numpy="sum")
def sum(input, dim=None, keepdim: bool = False, dtype=None, *, axis=None, keepdims=None):  # noqa: A001,A002
    """Sum over ``dim`` (an int, a tuple, or None for all elements); ``axis``/``keepdims`` are
    other names for ``dim``/``keepdim``. ``cr.sum(x, dim=0)``."""
    _check_operand("sum", input, "input")
    dim, keepdim = aliases("sum", dim, axis, keepdim, keepdims)
    dtype = D.resolve(dtype, "sum")
    if dtype is not None:
        input = cast(input, dtype=dtype)
    out = sum_prim(input, dim=_dims("sum", dim, _ndim(input)), keepdim=_keepdim("sum", keepdim))
    if dtype is not None and dtype == B.BOOL:  # NumPy sums bools as int64; PyTorch keeps bool
        out = cast(out, dtype=B.BOOL)
    return out


@public(method=True, numpy=("mean", "average"))
def mean(input, dim=None, keepdim: bool = False, dtype=None, *, axis=None, keepdims=None):  # noqa: A002
    """Arithmetic mean over ``dim`` (``axis``); floating tensors only, as in PyTorch."""
    _check_operand("mean", input, "input")
    dim, keepdim = aliases("mean", dim, axis, keepdim, keepdims)
    dtype = D.resolve(dtype, "mean")
    if dtype is not None:
        input = cast(input, dtype=dtype)
    _floating_only("mean", input)
    return mean_prim(input, dim=_dims("mean", dim, _ndim(input)), keepdim=_keepdim("mean", keepdim))


def _cumsum_transpose(m, g, x, dim):
    return m.flip(m.cumsum(m.flip(g, dims=(dim,)), dim=dim), dims=(dim,))


def _cumulative_impl(name, fn):
    """``fn`` (np.cumsum or np.cumprod) along ``dim``; other dtypes through ``_accumulated``."""

    def impl(x, dim):
        try:
            dt = x.dtype
        except AttributeError:  # a Python number
            x = np.asarray(x)
            dt = x.dtype
        if dt is _f32 or dt is _f64:
            return fn(x, axis=dim)
        return _accumulated(name, fn, x, axis=dim)

    return impl


_cumsum_impl = _cumulative_impl("cumsum", np.cumsum)


cumsum_prim = linear("cumsum", _cumsum_impl, _cumsum_transpose, batching="shift_dim", template=T.Template(lambda p, k, v: f"np.cumsum({p[0]}, axis={k['dim']})"), xp=_cumulative_xp("cumsum"))


@public(method=True, numpy=("cumsum", "nancumsum"))
def cumsum(input, dim: int | None = None, *, axis: int | None = None, dtype=None):  # noqa: A002
    """Running sums along ``dim`` (or ``axis``), in ``dtype`` if given: ``cr.cumsum(x, 0)``."""
    _check_operand("cumsum", input, "input")
    dim = _required_dim("cumsum", dim, axis)
    dtype = D.resolve(dtype, "cumsum")
    if dtype is not None:
        if dtype == B.BOOL:  # PyTorch has no bool running sums or products
            raise TypeError("cumsum: dtype bool is not supported; give an integer or floating dtype")
        input = cast(input, dtype=dtype)
    return cumsum_prim(input, dim=normalize_dim("cumsum", dim, _ndim(input)))


# ---------------------------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------------------------

def _product_of_others(m, x, axis):
    """For each element, the product of the other elements along ``axis`` (zeros handled)."""
    ones = B.ones(_shape(x)[:axis] + (1,) + _shape(x)[axis + 1:], _dtype(x), like=B.data_of(x))
    n = _shape(x)[axis]
    head = (slice(None),) * axis
    before = m.cat(ones, m.getitem(m.cumprod(x, dim=axis), index=head + (slice(0, n - 1),)), dim=axis)
    flipped = m.flip(x, dims=(axis,))
    after = m.cat(ones, m.getitem(m.cumprod(flipped, dim=axis), index=head + (slice(0, n - 1),)), dim=axis)
    return before * m.flip(after, dims=(axis,))


def _has_zero(x) -> bool:
    return tracing.decide(x, _zero_in, "whether the product has a zero factor")


def _zero_in(data) -> bool:
    return B.any_of(data == 0)


def _prod_vjp(m, g, ans, x, dim, keepdim):
    shape = x.shape
    gk = _keep(m, g, shape, dim, keepdim)
    if not _has_zero(x):
        return gk * _keep(m, ans, shape, dim, keepdim) / x
    axes = tuple(range(len(shape))) if dim is None else dim
    rest = tuple(i for i in range(len(shape)) if i not in axes)
    order = rest + axes
    moved = m.permute(x, dims=order) if order != tuple(range(len(shape))) else x
    moved_shape = tuple(shape[i] for i in order)
    flat = m.reshape(moved, shape=moved_shape[:len(rest)] + (_count(shape, axes),))
    others = m.reshape(_product_of_others(m, flat, len(rest)), shape=moved_shape)
    if order != tuple(range(len(shape))):
        others = m.permute(others, dims=_inverse(order))
    return gk * others


def _prod_jvp(m, tangents, ans, x, dim, keepdim):
    weights = _prod_vjp(m, B.ones(_shape(ans), _dtype(ans), like=B.data_of(ans)), ans, x, dim, keepdim)
    return m.sum(weights * tangents[0], dim=dim, keepdim=keepdim)


def _prod_impl(x, dim, keepdim):
    try:
        dt = x.dtype
    except AttributeError:  # a Python number
        x = np.asarray(x)
        dt = x.dtype
    if dt is _f32 or dt is _f64:
        return np.multiply.reduce(x, axis=dim, keepdims=keepdim)
    return _accumulated("prod", np.multiply.reduce, x, axis=dim, keepdims=keepdim)


prod_prim = define("prod", _prod_impl, (_prod_vjp,), _prod_jvp, save_ans=True, batching="reduce", template=T.reduction("prod"), xp=_prod_xp)


@public(method=True, numpy=("prod", "nanprod"))
def prod(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):  # noqa: A002
    """Product over ``dim`` (``axis``; int or None); gradients are exact when elements are zero.

    float16 products accumulate in float32 (as PyTorch's cumprod; PyTorch's CPU prod overflows
    float16 partial products that float32 holds).
    """
    _check_operand("prod", input, "input")
    dim, keepdim = aliases("prod", dim, axis, keepdim, keepdims)
    return prod_prim(input, dim=_dims("prod", dim, _ndim(input)), keepdim=_keepdim("prod", keepdim))


def _cumprod_vjp(m, g, ans, x, dim):
    if not _has_zero(x):
        return _cumsum_transpose(m, g * ans, None, dim) / x
    # grad_i = sum_{j >= i} g_j * prod_{k <= j, k != i} x_k
    partial, upper = _partial_products(m, x, dim)
    moved_g = m.permute(g, dims=_to_last(len(x.shape), dim))
    terms = m.where(upper, partial * _insert_axis(m, moved_g, -2), 0.0)
    return _from_last(m, m.sum(terms, dim=(len(x.shape),), keepdim=False), x, dim)


def _cumprod_jvp(m, tangents, ans, x, dim):
    if not _has_zero(x):
        return ans * m.cumsum(tangents[0] / x, dim=dim)
    # tangent_j = sum_{i <= j} t_i * prod_{k <= j, k != i} x_k
    partial, upper = _partial_products(m, x, dim)
    moved_t = m.permute(tangents[0], dims=_to_last(len(x.shape), dim))
    terms = m.where(upper, partial * _insert_axis(m, moved_t, -1), 0.0)
    return _from_last(m, m.sum(terms, dim=(len(x.shape) - 1,), keepdim=False), x, dim)


def _partial_products(m, x, dim):
    """With ``dim`` moved last: ``partial[..., i, j] = prod_{k <= j, k != i} x_k`` (exact with
    zeros: built with x_i replaced by 1), and the mask of the pairs j >= i that count."""
    n = x.shape[dim]
    moved = m.permute(x, dims=_to_last(len(x.shape), dim))
    like = B.data_of(x)
    replaced = m.where(B.eye(n, B.BOOL, like), 1.0, _insert_axis(m, moved, -2))  # (..., i, j)
    return m.cumprod(replaced, dim=len(x.shape)), B.upper_mask(n, like)


def _from_last(m, result, x, dim):
    """``result`` (``dim`` moved last) with the axes back in ``x``'s order."""
    return m.permute(result, dims=_inverse(_to_last(len(x.shape), dim)))


def _inverse(order):
    """The permutation that undoes ``order`` (a tuple of axes)."""
    inverse = [0] * len(order)
    for i, axis in enumerate(order):
        inverse[axis] = i
    return tuple(inverse)


def _insert_axis(m, x, position):
    shape = _shape(x)
    position = position % (len(shape) + 1)
    return m.reshape(x, shape=shape[:position] + (1,) + shape[position:])


def _to_last(ndim, dim):
    return tuple(i for i in range(ndim) if i != dim) + (dim,)


_cumprod_impl = _cumulative_impl("cumprod", np.cumprod)


cumprod_prim = define("cumprod", _cumprod_impl, (_cumprod_vjp,), _cumprod_jvp,
                      save_ans=True, batching="shift_dim", template=T.Template(lambda p, k, v: f"np.cumprod({p[0]}, axis={k['dim']})"), xp=_cumulative_xp("cumprod"))


@public(method=True, numpy=("cumprod", "nancumprod"))
def cumprod(input, dim: int | None = None, *, axis: int | None = None, dtype=None):  # noqa: A002
    """Running products along ``dim`` (or ``axis``); gradients are exact when elements are
    zero, as PyTorch's: ``cr.cumprod(x, 0)``."""
    _check_operand("cumprod", input, "input")
    dim = _required_dim("cumprod", dim, axis)
    dtype = D.resolve(dtype, "cumprod")
    if dtype is not None:
        if dtype == B.BOOL:  # PyTorch has no bool running sums or products
            raise TypeError("cumprod: dtype bool is not supported; give an integer or floating dtype")
        input = cast(input, dtype=dtype)
    return cumprod_prim(input, dim=normalize_dim("cumprod", dim, _ndim(input)))


def _dtype(x):
    return x._data.dtype if hasattr(x, "_data") else x.dtype


def _from_values_impl(x, *more, fn, **params):
    return fn(x, *more, **params)


# Positions, masks and weights computed from tensors' values by ``fn(arrays, **params)`` (a sort
# order, counts of the values that are not NaN): an operation, so that a compiled call (cr.jit)
# computes them again from its values instead of holding the traced ones
from_values = nondifferentiable("from_values", _from_values_impl, template=T.fallback("from_values"),
                                xp=lambda space, x, *more, fn, **params: fn(x, *more, **params))
