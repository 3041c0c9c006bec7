"""Order statistics: medians and quantiles.

``cr.median`` and ``cr.quantile`` follow PyTorch; ``order_statistics`` (NumPy's 13 methods) is
also the core of ``np.quantile``/``np.percentile``/``np.median`` on tensors (``api/numpy_quantiles``).
Values are picked from a stable sort of the data (NaN last) and gathered differentiably, so the
gradient goes to the elements the result is made of, as PyTorch's ``quantile`` (which sorts):
ties are broken by position (the first of equal values in the flattened order comes first).
``cr.median(x)`` without ``dim`` splits its gradient evenly among the elements equal to the
median, as PyTorch's ``median()``; ``cr.median(x, dim)`` gives it to the element its index names.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import backend as B
from ..core import tracing
from ..core.dtypes import check_operand as _check_operand
from ..core.tensor import Tensor
from . import _template as T
from ._define import define, per_example
from ._table import public
from .elementwise import cast
from .extrema import _extremum_jvp, _extremum_vjp
from .indexing import gather_prim
from .piecewise import where
from .reductions import _dims, _keepdim, _real_only, aliases, from_values, values_indices
from .shape import _ndim, _shape, normalize_dim, permute, reshape, squeeze

# ---------------------------------------------------------------------------------------------
# The lower median with PyTorch's evenly distributed gradient (``median()`` without dim)
# ---------------------------------------------------------------------------------------------


def _moved_last(data, dim):
    """``data`` with the axes ``dim`` (None: all) moved last and merged into one."""
    ndim = data.ndim
    axes = tuple(range(ndim)) if dim is None else tuple(dim)
    rest = [i for i in range(ndim) if i not in axes]
    kept = tuple(data.shape[i] for i in rest)
    n = math.prod(data.shape[i] for i in axes)
    return np.transpose(data, rest + list(axes)).reshape(kept + (n,)), kept, n


def _lower_median(skip_nan):
    """The forward of ``median()`` (NaN wherever a slice holds one) or, with ``skip_nan``, of
    ``nanmedian()`` (the lower median of the values that are not NaN; NaN for none)."""

    def impl(x, dim=None, keepdim=False):
        x = np.asarray(x)
        moved, kept, n = _moved_last(x, dim)
        floating = x.dtype.kind in "fc"
        if n == 0 and not floating:
            raise RuntimeError(f"median: cannot take the median of an empty {x.dtype} tensor")
        if n == 0:
            out = np.full(kept, np.nan, dtype=x.dtype)
        elif skip_nan and floating:
            count = (~np.isnan(moved)).sum(axis=-1)
            k = (np.maximum(count, 1) - 1) // 2
            out = np.take_along_axis(np.sort(moved, axis=-1), k[..., None], axis=-1)[..., 0]
        else:
            out = np.partition(moved, (n - 1) // 2, axis=-1)[..., (n - 1) // 2]
            if floating:
                out = np.where(np.isnan(moved).any(axis=-1), np.nan, out).astype(x.dtype)
        if keepdim:
            axes = range(x.ndim) if dim is None else dim
            out = out.reshape(tuple(1 if i in axes else s for i, s in enumerate(x.shape)))
        return np.asarray(out)

    return impl


def _evenly_shared(name, skip_nan):
    return define(
        name, _lower_median(skip_nan),
        (lambda m, g, ans, x, dim, keepdim: _extremum_vjp(m, g, ans, x, dim, keepdim, True),),
        lambda m, tangents, ans, x, dim, keepdim: _extremum_jvp(m, tangents, ans, x, dim, keepdim, True),
        save_ans=True, batching="reduce", template=T.fallback(name),
        doc=f"The lower {'NaN-ignoring ' if skip_nan else ''}median over ``dim`` (None: all); its "
            f"gradient is shared by the elements equal to it (the NaN elements for a NaN result), "
            f"as PyTorch's {name}()",
    )


median_prim = _evenly_shared("median", False)
nanmedian_prim = _evenly_shared("nanmedian", True)


# ---------------------------------------------------------------------------------------------
# Sorting positions, gathered differentiably
# ---------------------------------------------------------------------------------------------

def flatten_reduced(x, dims):
    """``x`` with the axes ``dims`` (None: all) moved last and merged: ``(tensor, kept, n)``."""
    shape = _shape(x)
    ndim = len(shape)
    axes = tuple(range(ndim)) if dims is None else tuple(dims)
    rest = tuple(i for i in range(ndim) if i not in axes)
    order = rest + axes
    if order != tuple(range(ndim)):
        x = permute(x, order)
    kept = tuple(shape[i] for i in rest)
    n = math.prod(shape[i] for i in axes)
    return reshape(x, kept + (n,)), kept, n


_INTP = B.numpy_dtype(B.intp)
_INT64 = B.numpy_dtype("int64")


def _flat(a):
    return B.namespace(a).reshape(a, (-1,))


def _stable_order(data):
    return B.namespace(data).argsort(data, axis=-1, stable=True)


def _nan_rows(data):
    space = B.namespace(data)
    return space.any(space.isnan(data), axis=-1)


def _take_sorted(order, wanted, nan_rows):
    """The positions in the data of the sorted positions ``wanted`` (kept + (k,)); those of a
    row holding a NaN all that of its last element (its last NaN)."""
    space = B.namespace(order)
    index = space.take(order, wanted, axis=-1)
    if nan_rows is not None and B.any_of(nan_rows):
        index = space.where(nan_rows[..., None], order[..., -1:], index)
    return index


class _Sorted:
    """The stable sort order of a flattened tensor's last axis (NaN last): tensors computed by
    ``from_values`` (again by a compiled call)."""

    def __init__(self, flat, kept, n):
        self.flat, self.kept, self.n = flat, kept, n
        self.order = from_values(flat, fn=_stable_order)
        floating = B.kind(B.data_of(flat).dtype) in "fc"
        self.nan_rows = from_values(flat, fn=_nan_rows) if floating else None

    def take(self, positions):
        """The elements at sorted ``positions`` (an int array), gathered: shape kept + (k,);
        slices holding a NaN take the last element instead (their last NaN)."""
        order = B.data_of(self.order)
        wanted = B.as_array(_flat(B.astype(B.as_array(positions), _INTP)) % self.n, like=order)
        if self.nan_rows is None:
            index = from_values(self.order, wanted, fn=_take_sorted, nan_rows=None)
        else:
            index = from_values(self.order, wanted, self.nan_rows, fn=_take_sorted)
        return gather_prim(self.flat, index, dim=len(self.kept))


# ---------------------------------------------------------------------------------------------
# NumPy's quantile methods (numpy.lib._function_base_impl._QuantileMethods, Hyndman & Fan),
# computed on q in its own namespace
# ---------------------------------------------------------------------------------------------

METHODS = ("inverted_cdf", "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf",
           "hazen", "weibull", "linear", "median_unbiased", "normal_unbiased", "lower", "higher",
           "midpoint", "nearest")
_DISCRETE = frozenset({"inverted_cdf", "closest_observation", "lower", "higher", "nearest"})
_ALPHA_BETA = {"interpolated_inverted_cdf": (0, 1), "hazen": (0.5, 0.5), "weibull": (0, 0),  # NumPy's types
               "median_unbiased": (1 / 3.0, 1 / 3.0), "normal_unbiased": (3 / 8.0, 3 / 8.0)}


def _boundaries(index, condition):
    space = B.namespace(index)
    previous = space.floor(index)
    chosen = B.astype(space.where(condition(index - previous, index), previous, previous + 1), _INTP)
    return space.where(chosen < 0, space.zeros_like(chosen), chosen)


def _virtual_index(method, n, q):
    """NumPy's virtual index of each quantile in the sorted values, and its slope in q (0 for
    the methods whose result moves in steps)."""
    space = B.namespace(q)
    if method == "linear":
        return (n - 1) * q, n - 1
    if method in _ALPHA_BETA:
        alpha, beta = _ALPHA_BETA[method]
        return n * q + (alpha + q * (1 - alpha - beta)) - 1, n + 1 - alpha - beta
    if method == "averaged_inverted_cdf":
        return n * q - 1, 0
    if method == "midpoint":
        return 0.5 * (space.floor((n - 1) * q) + space.ceil((n - 1) * q)), 0
    if method in ("lower", "higher", "nearest"):
        step = {"lower": space.floor, "higher": space.ceil, "nearest": space.round}[method]
        return B.astype(step((n - 1) * q), _INTP), 0
    if method == "inverted_cdf":
        return _boundaries(n * q - 1, lambda gamma, _: gamma == 0), 0
    return _boundaries(n * q - 1 - 0.5, lambda gamma, index: (gamma == 0) & (space.floor(index) % 2 == 1)), 0


def _gamma(method, virtual, previous):
    gamma = virtual - previous
    if method == "averaged_inverted_cdf":
        gamma = 1.0 - 0.5 * B.astype(gamma == 0, virtual.dtype)
    elif method == "midpoint":
        gamma = 0.5 - 0.5 * B.astype(virtual % 1 == 0, virtual.dtype)
    return B.astype(gamma, virtual.dtype)


def _clip(space, value, where, to):
    return space.where(where, space.full_like(value, to), value)


def order_statistics(x, dims, q, method="linear", work=None, q_tensor=None):
    """The ``q`` quantiles (an array of any shape, in [0, 1]) of ``x`` over ``dims`` by NumPy's
    ``method``: shape ``q.shape + kept``, interpolated in the dtype ``work`` (default: ``x``'s).
    ``q_tensor``: q as a tensor whose gradient is wanted (the slope of the continuous methods,
    0 at the ends and where the index is whole, as PyTorch). Slices holding a NaN give NaN, its
    gradient to their last NaN element (PyTorch's choice)."""
    flat, kept, n = flatten_reduced(x, dims)
    q = B.as_array(q)
    space = B.namespace(q)
    s = _Sorted(flat, kept, n)
    virtual, slope = _virtual_index(method, n, q)
    if method in _DISCRETE or (method == "linear" and B.kind(virtual.dtype) in "iu"):
        result = s.take(virtual)
        if q_tensor is not None and B.kind(result.dtype) == "f":  # a step function of q: gradient 0
            result = result + cast((reshape(q_tensor, (-1,)) - reshape(q_tensor, (-1,)).detach()) * 0,
                                   dtype=result.dtype)
    else:
        previous = space.floor(virtual)
        following = previous + 1
        above, below = virtual >= n - 1, virtual < 0
        previous, following = _clip(space, previous, above, -1), _clip(space, following, above, -1)
        previous, following = _clip(space, previous, below, 0), _clip(space, following, below, 0)
        unknown = space.isnan(virtual)
        previous, following = _clip(space, previous, unknown, -1), _clip(space, following, unknown, -1)
        gamma = _flat(_gamma(method, virtual, previous))
        a, b = s.take(previous), s.take(following)
        in_dt = B.numpy_dtype(B.data_of(flat).dtype)
        work = in_dt if work is None else work
        diff = b - a
        if work != in_dt:
            a, b, diff = (cast(v, dtype=work) for v in (a, b, diff))
        t, rest = B.astype(gamma, work), B.astype(1 - gamma, work)
        if q_tensor is not None:
            ends = _flat(above | below) | (gamma == 0)
            steps = B.astype(space.where(ends, space.zeros_like(gamma), space.full_like(gamma, slope)), work)
            moved = (reshape(q_tensor, (-1,)) - reshape(q_tensor, (-1,)).detach()) * steps
            if B.numpy_dtype(B.data_of(moved).dtype) != work:
                moved = cast(moved, dtype=work)
            t, rest = t + moved, rest - moved
        result = where(gamma >= 0.5, b - diff * rest, a + diff * t)
    if q.ndim == 0:
        return reshape(result, kept)
    result = permute(result, (len(kept),) + tuple(range(len(kept))))
    return reshape(result, tuple(q.shape) + kept)


def _take_rows(flat, order, positions, kept):
    """The elements at sorted ``positions`` (kept + (k,), one row of positions per slice;
    ``order`` and ``positions`` tensors computed by ``from_values``)."""
    index = gather_prim(order, positions, dim=len(kept))
    return gather_prim(flat, index, dim=len(kept))


def _not_nan_count(data):
    space = B.namespace(data)
    return space.sum(B.astype(~space.isnan(data), _INT64), axis=-1)


def _nan_plan(count, q, method, part):
    """``part`` of NumPy's nanquantile plan for slices of ``count`` values that are not NaN
    (kept + (nq,)): the sorted positions ``previous``, ``following`` (``positions`` for the
    discrete methods), the weight ``gamma`` and the slope ``steps`` of the result in q."""
    space = B.namespace(q)
    m = B.as_array(count, like=q)[..., None]
    if B.kind(q.dtype) == "f":
        m = B.astype(m, q.dtype)
    virtual, slope = _virtual_index(method, m, _flat(q))  # kept + (nq,)
    last = space.where(m > 0, m - 1, space.zeros_like(m))
    if part == "positions":
        return B.astype(space.where(virtual > last, last + 0 * virtual, virtual), _INTP)
    previous = space.floor(virtual)
    above, below = virtual >= m - 1, virtual < 0
    numpy_previous = _clip(space, _clip(space, previous, above, -1), below, 0)  # NumPy's, for gamma
    gamma = _gamma(method, virtual, numpy_previous)
    if part == "gamma":
        return gamma
    ends = above | below
    if part == "steps":
        return space.where(ends | (gamma == 0), space.zeros_like(gamma), slope + 0 * gamma)
    previous = space.where(above, last + 0 * previous, space.where(below, space.zeros_like(previous), previous))
    if part == "following":
        previous = space.where(ends, previous, previous + 1)
    return B.astype(previous, _INTP)


def nan_order_statistics(x, dims, q, method="linear", work=None, q_tensor=None):
    """NumPy's nanquantile: ``order_statistics`` of the values that are not NaN in each slice
    (``q.shape + kept``), and the mask of the all-NaN slices (NaN there, with no gradient).
    The counts, positions and weights are computed by ``from_values`` (again by a compiled call)."""
    flat, kept, n = flatten_reduced(x, dims)
    q = B.as_array(q)
    data = B.data_of(flat)
    order = from_values(flat, fn=_stable_order)
    count = from_values(flat, fn=_not_nan_count)
    empty = count == 0
    # linear with integer q: whole positions, as the discrete methods (the count is int64 then)
    if method in _DISCRETE or (method == "linear" and B.kind(q.dtype) not in "fc"):
        result = _take_rows(flat, order, from_values(count, q, fn=_nan_plan, method=method, part="positions"), kept)
        if q_tensor is not None and B.kind(result.dtype) == "f":
            result = result + cast((reshape(q_tensor, (-1,)) - reshape(q_tensor, (-1,)).detach()) * 0,
                                   dtype=result.dtype)
    else:
        gamma = from_values(count, q, fn=_nan_plan, method=method, part="gamma")
        a = _take_rows(flat, order, from_values(count, q, fn=_nan_plan, method=method, part="previous"), kept)
        b = _take_rows(flat, order, from_values(count, q, fn=_nan_plan, method=method, part="following"), kept)
        in_dt = B.numpy_dtype(data.dtype)
        work = in_dt if work is None else work
        diff = b - a
        if work != in_dt:
            a, b, diff = (cast(v, dtype=work) for v in (a, b, diff))
        t, rest = _as(gamma, work), _as(1 - gamma, work)
        if q_tensor is not None:
            steps = _as(from_values(count, q, fn=_nan_plan, method=method, part="steps"), work)
            moved = (reshape(q_tensor, (-1,)) - reshape(q_tensor, (-1,)).detach()) * steps
            if B.numpy_dtype(B.data_of(moved).dtype) != work:
                moved = cast(moved, dtype=work)
            t, rest = t + moved, rest - moved
        result = where(gamma >= 0.5, b - diff * rest, a + diff * t)
    if tracing.decide(empty, B.any_of, "whether a slice holds only NaN"):
        result = where(reshape(empty, tuple(kept) + (1,)), B.as_array(float("nan"), B.numpy_dtype(B.data_of(result).dtype)),
                       result)
    if q.ndim == 0:
        return reshape(result, kept), empty
    result = permute(result, (len(kept),) + tuple(range(len(kept))))
    return reshape(result, tuple(q.shape) + kept), empty


def _as(x, dtype):
    """``x`` (a tensor) in ``dtype`` (itself when it has it)."""
    return x if B.numpy_dtype(B.data_of(x).dtype) == dtype else cast(x, dtype=dtype)


def _nan_middle_positions(data):
    space = B.namespace(data)
    count = space.sum(B.astype(~space.isnan(data), _INT64), axis=-1)
    empty = count == 0
    low = (space.where(empty, space.ones_like(count), count) - 1) // 2
    high = space.where(empty, space.zeros_like(count), count // 2)
    return space.stack([low, high], axis=-1)


def nan_middle(x, dims):
    """The two middle values (equal for an odd count) of the values that are not NaN in each
    slice (kept + (2,)), and the mask of the all-NaN slices: the core of NumPy's nanmedian."""
    flat, kept, n = flatten_reduced(x, dims)
    order = from_values(flat, fn=_stable_order)
    empty = from_values(flat, fn=_not_nan_count) == 0
    return _take_rows(flat, order, from_values(flat, fn=_nan_middle_positions), kept), empty


def kept_dims(shape, dims):
    """``shape`` with the reduced axes ``dims`` (None: all) set to 1."""
    return tuple(1 if dims is None or i in dims else s for i, s in enumerate(shape))


# ---------------------------------------------------------------------------------------------
# PyTorch's median and quantile
# ---------------------------------------------------------------------------------------------

@public(method=True, numpy="median")
@per_example
def median(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):  # noqa: A002
    """PyTorch's median: without ``dim``, the lower of the two middle values of all elements (its
    gradient shared by the elements equal to it); with ``dim`` (``axis``), ``(values, indices)``
    of the lower medians along it. NaN wherever a slice holds one (the index of its first NaN).
    ``cr.median(x)``, ``cr.median(x, dim=1).values``; ``np.median`` averages the middle two."""
    _check_operand("median", input, "input")
    dim, keepdim = aliases("median", dim, axis, keepdim, keepdims)
    keepdim = _keepdim("median", keepdim)
    if _real_only("median", input).kind == "b":
        raise TypeError("median: bool tensors are not supported (as in PyTorch); convert with x.long() or x.float()")
    if dim is None:
        return median_prim(input, dim=None, keepdim=False)
    ndim = _ndim(input)
    d = normalize_dim("median", dim, ndim)
    if ndim == 0:
        return values_indices(input * 1, Tensor._wrap(B.zeros((), _INT64, like=B.data_of(input))))
    data = B.data_of(input)
    n = B.shape_of(data)[d]
    if n == 0:
        raise RuntimeError(f"median: expected reduction dim {d} to have non-zero size (shape {B.shape_of(data)})")
    index = from_values(input, fn=_median_index, d=d)
    values = gather_prim(input, index, dim=d)
    if not keepdim:
        values, index = squeeze(values, d), squeeze(index, d)
    return values_indices(values, index)


def _median_index(data, d):
    """The position of the lower median along ``d`` (kept as size 1; that of the first NaN in a
    slice holding one), int64: computed by ``from_values`` (again by a compiled call)."""
    space = B.namespace(data)
    n = B.shape_of(data)[d]
    order = space.argsort(data, axis=d, stable=True)
    index = space.take(order, B.as_array([(n - 1) // 2], like=order), axis=d)
    if B.kind(data.dtype) in "fc":
        nan = space.isnan(data)
        first = space.argmax(B.astype(nan, B.numpy_dtype(B.bool_)), axis=d, keepdims=True)
        index = space.where(space.any(nan, axis=d, keepdims=True), B.astype(first, index.dtype), index)
    return B.astype(index, _INT64)


def _nanmedian_index(data, d):
    """The position of the lower median of the values that are not NaN along ``d`` (kept as
    size 1), int64."""
    space = B.namespace(data)
    order = space.argsort(data, axis=d, stable=True)
    count = space.sum(B.astype(~space.isnan(data), _INT64), axis=d, keepdims=True)
    index = space.take_along_axis(order, (space.where(count > 0, count, space.ones_like(count)) - 1) // 2, axis=d)
    return B.astype(index, _INT64)


@public(method=True, numpy="nanmedian")
@per_example
def nanmedian(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):  # noqa: A002
    """PyTorch's nanmedian: ``median`` of the values that are not NaN (NaN only for an all-NaN
    slice). Without ``dim`` its gradient is shared by the elements equal to it; with ``dim``
    (``axis``), ``(values, indices)``. ``cr.nanmedian(x, dim=0).values``."""
    _check_operand("nanmedian", input, "input")
    dim, keepdim = aliases("nanmedian", dim, axis, keepdim, keepdims)
    keepdim = _keepdim("nanmedian", keepdim)
    kind = _real_only("nanmedian", input).kind
    if kind == "b":
        raise TypeError("nanmedian: bool tensors are not supported (as in PyTorch); convert with x.long() or x.float()")
    if kind not in "fc":
        return median(input, dim, keepdim)
    if dim is None:
        return nanmedian_prim(input, dim=None, keepdim=False)
    d = normalize_dim("nanmedian", dim, _ndim(input))
    if _ndim(input) == 0:
        return values_indices(input * 1, Tensor._wrap(B.zeros((), _INT64, like=B.data_of(input))))
    data = B.data_of(input)
    n = B.shape_of(data)[d]
    if n == 0:
        raise RuntimeError(f"nanmedian: expected reduction dim {d} to have non-zero size (shape {B.shape_of(data)})")
    index = from_values(input, fn=_nanmedian_index, d=d)
    values = gather_prim(input, index, dim=d)
    if not keepdim:
        values, index = squeeze(values, d), squeeze(index, d)
    return values_indices(values, index)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_q(op, q, lo=0.0, hi=1.0):
    """``q`` as an array, and as a tensor when it records a gradient."""
    q_tensor = q if isinstance(q, Tensor) and (q.requires_grad or q._tangents is not None) else None
    try:
        data = B.as_array(B.data_of(q) if isinstance(q, Tensor) else q)
    except (ValueError, TypeError):
        raise TypeError(f"{op}: q must be a number or a 1-d sequence of numbers, got {q!r:.40}") from None
    if B.kind(data.dtype) not in "biuf":
        raise TypeError(f"{op}: q must be a real number or a tensor of them, got {data.dtype}")
    if isinstance(q, Tensor):  # the positions are computed from q's values: a compiled call checks them
        tracing.read(q)
    space = B.namespace(data)
    outside = (data < lo) | (data > hi) | space.isnan(B.astype(data, B.numpy_dtype("float64")))
    if B.any_of(outside):
        bad = _flat(data)[_flat(outside)][0]
        raise RuntimeError(f"{op}: q must be in the range [{lo:g}, {hi:g}] but got {float(bad)}")
    return data, q_tensor


@public(method=True, numpy=("quantile", "percentile"))
@per_example
def quantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear",  # noqa: A002
             axis=None, keepdims=None):
    """PyTorch's quantile: the ``q``-th quantiles (a number or 1-d tensor in [0, 1]) over ``dim``
    (``axis``; None: all elements) by ``interpolation`` ('linear', 'lower', 'higher', 'midpoint',
    'nearest'); the q dimension comes first. Differentiable in ``input`` and (for 'linear') in
    ``q``. ``cr.quantile(x, 0.9, dim=1)``; ``np.quantile`` has NumPy's 13 methods."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, axis, keepdims)


def _quantile(op, input, q, dim, keepdim, interpolation, axis, keepdims):  # noqa: A002
    _check_operand(op, input, "input")
    dim, keepdim = aliases(op, dim, axis, keepdim, keepdims)
    keepdim = _keepdim(op, keepdim)
    dt = _real_only(op, input)
    if dt.kind != "f":
        raise RuntimeError(f"{op}: input tensor must be floating point, got {dt}; convert with x.float()")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation must be one of {', '.join(map(repr, _INTERPOLATIONS))}, "
                         f"got {interpolation!r}")
    data, q_tensor = _quantile_q(op, q)
    if data.ndim > 1:
        raise RuntimeError(f"{op}: q must be a scalar or 1-d tensor, got shape {data.shape}")
    shape = _shape(input)
    dims = _dims(op, dim, len(shape))
    if 0 in shape:
        raise RuntimeError(f"{op}: input tensor must be non-empty, got shape {shape}")
    if op == "quantile":
        result = order_statistics(input, dims, B.astype(data, dt), interpolation, q_tensor=q_tensor)
    else:
        result = nan_order_statistics(input, dims, B.astype(data, dt), interpolation, q_tensor=q_tensor)[0]
    if keepdim:
        result = reshape(result, tuple(data.shape) + kept_dims(shape, dims))
    return result


@public(method=True, numpy=("nanquantile", "nanpercentile"))
@per_example
def nanquantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear",  # noqa: A002
                axis=None, keepdims=None):
    """PyTorch's nanquantile: ``quantile`` of the values that are not NaN in each slice (NaN,
    with no gradient, for an all-NaN slice). ``cr.nanquantile(x, [0.1, 0.9], dim=1)``."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, axis, keepdims)
