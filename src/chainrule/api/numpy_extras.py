"""NumPy functions served on tensors by compositions of chainrule's operations (no primitive of
their own), with NumPy's exact signatures: ``FUNCTIONS`` maps each NumPy function to its
servant, ``SIGNATURES`` maps NumPy's names to the signatures of the operations of
``ops/numpy_extras`` that declare them.

- Rearrangements (``rollaxis``, ``unstack``, ``broadcast_arrays``, ``resize``, ``insert``,
  ``delete``, ``copy``) move entries: their gradients are gathers and scatters. ``insert``,
  ``delete`` and ``resize`` run NumPy's own function on the entries' positions, so every form of
  ``obj``/``axis`` NumPy accepts means what it means in NumPy.
- ``linspace`` is differentiable in ``start`` and ``stop`` (NumPy dispatches it on them);
  ``trapezoid``, ``convolve``, ``correlate``, ``polyval``, ``vander``, ``cov``, ``corrcoef``,
  ``gradient``, ``linalg.cond`` in all their floating operands. ``interp`` is differentiable in
  ``fp`` (and ``left``/``right``); ``x`` and ``xp`` are data (their values choose the segments).
- NumPy 2's aliases: ``linalg.matmul``/``outer``/``tensordot``/``vecdot``/``diagonal``/``trace``/
  ``matrix_transpose``, ``matrix_transpose``, ``cumulative_sum``/``cumulative_prod``.
- Index and value queries (``count_nonzero``, ``flatnonzero``, ``argwhere``, ``searchsorted``,
  ``isin``, ``nanargmax``, ``isposinf``, ...) read the values: no gradient, NumPy's results as
  tensors. ``unique`` returns its values differentiably (each one gathered from its first
  occurrence); the indices and counts are data.
"""

from __future__ import annotations

import operator

import numpy as np

from .. import ops as O
from ..core.tensor import Tensor
from ..ops import joins as JN
from ..ops import shape as S
from ..ops._define import per_example
from .numpy_common import _axis1, _cast, _dtype_of, _finish, _meta, _operand, _raw, _records

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _tensor(x):
    """A tensor for ``x`` (tensors as they are; anything else as NumPy would see it)."""
    x = _operand(x)
    return x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x))


def _gather_positions(a, positions):
    """``ravel(a)[positions]``: the entries of ``a`` at the flat ``positions`` (any shape)."""
    return S.reshape(a, -1)[np.asarray(positions, dtype=np.intp)]


def _positions(a) -> np.ndarray:
    return np.arange(int(np.prod(S._shape(a), dtype=np.int64))).reshape(S._shape(a))


def _wrap_values(result):
    """NumPy's result of a query as tensors (tuples stay tuples; Python scalars stay scalars)."""
    if isinstance(result, (np.ndarray, np.generic)):
        return Tensor._wrap(np.asarray(result))
    if isinstance(result, tuple):
        return type(result)(*map(_wrap_values, result)) if hasattr(result, "_fields") else tuple(map(_wrap_values, result))
    if isinstance(result, list):
        return [_wrap_values(r) for r in result]
    return result


def _meta_query(fn):
    """A NumPy function that reads only shapes, dtypes or memory: NumPy's result, as tensors."""
    def call(*args, **kwargs):
        args = [_meta(a) for a in args]
        return _wrap_values(fn(*args, **{k: _meta(v) for k, v in kwargs.items()}))

    call.__name__ = fn.__name__
    return call


def _query(fn):
    """A NumPy function that only reads values: NumPy's result on the data, as tensors."""
    def data(v):
        if isinstance(v, (tuple, list)):
            return type(v)(data(e) for e in v)
        return _raw(v)

    def call(*args, **kwargs):
        args = [data(a) for a in args]
        kwargs = {k: data(v) for k, v in kwargs.items()}
        return _wrap_values(fn(*args, **kwargs))

    call.__name__ = fn.__name__
    return call


# ---------------------------------------------------------------------------------------------
# Rearrangements
# ---------------------------------------------------------------------------------------------


def _rollaxis(a, axis, start=0):
    name = "numpy.rollaxis"
    a = _operand(a)
    n = S._ndim(a)
    axis = _axis1(name, axis, n)
    start = operator.index(start)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(f"{name}: 'start' arg requires {-n} <= start < {n + 1}, but {start} was passed in")
    if axis < start:
        start -= 1
    if axis == start:
        return a[...]
    axes = list(range(n))
    axes.remove(axis)
    axes.insert(start, axis)
    return S.permute(a, tuple(axes))


def _unstack(x, /, *, axis=0):
    x = _operand(x)
    if S._ndim(x) == 0:
        raise ValueError("numpy.unstack: Input array must be at least 1-d.")
    return tuple(JN.unbind(x, _axis1("numpy.unstack", axis, S._ndim(x))))


def _copy(a, order="K", subok=False):
    """A new tensor with ``a``'s values (a tensor also for ``subok=False``: ``np.copy`` is how
    NumPy code copies, and a plain array would drop the history)."""
    return S.clone(_tensor(a))


def _broadcast_arrays(*args, subok=False):
    tensors = [_tensor(a) for a in args]
    shape = np.broadcast_shapes(*[S._shape(t) for t in tensors])
    return tuple(t if S._shape(t) == shape else S.broadcast_to(t, shape) for t in tensors)


def _resize(a, new_shape):
    a = _tensor(a)
    if isinstance(new_shape, (int, np.integer)):
        new_shape = (new_shape,)
    for d in new_shape:
        if operator.index(d) < 0:
            raise ValueError("numpy.resize: all elements of `new_shape` must be non-negative")
    positions = np.resize(_positions(a), new_shape)
    if positions.size == 0 or S._shape(S.reshape(a, -1))[0] == 0:
        return Tensor._wrap(np.zeros(new_shape, _dtype_of(a)))
    return _gather_positions(a, positions)


def _insert(arr, obj, values, axis=None):
    arr = _tensor(arr)
    values = _operand(values)
    dtype = _dtype_of(arr)
    n = int(np.prod(S._shape(arr), dtype=np.int64))
    shape = np.shape(_meta(values))
    labels = np.insert(_positions(arr), _raw(obj), n + np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape), axis)
    values = _cast(values, dtype) if isinstance(values, Tensor) else Tensor._wrap(np.asarray(values).astype(dtype))
    pool = O.cat([S.reshape(arr, -1), S.reshape(values, -1)])
    return _gather_positions(pool, labels)


def _delete(arr, obj, axis=None):
    arr = _tensor(arr)
    return _gather_positions(arr, np.delete(_positions(arr), _raw(obj), axis))


# ---------------------------------------------------------------------------------------------
# NumPy 2 aliases
# ---------------------------------------------------------------------------------------------


def _matrix_transpose(x, /):
    x = _operand(x)
    if S._ndim(x) < 2:
        raise ValueError(f"numpy.matrix_transpose: Input array must be at least 2-dimensional, got shape {S._shape(x)}")
    return S.transpose(x, -2, -1)


def _linalg_matmul(x1, x2, /):
    return O.matmul(_operand(x1), _operand(x2))


def _linalg_outer(x1, x2, /):
    x1, x2 = _operand(x1), _operand(x2)
    if S._ndim(x1) != 1 or S._ndim(x2) != 1:
        raise ValueError(f"numpy.linalg.outer: Input arrays must be one-dimensional, got shapes {S._shape(x1)} and {S._shape(x2)}")
    return np.outer(x1, x2)


def _linalg_tensordot(x1, x2, /, *, axes=2):
    return np.tensordot(x1, x2, axes=axes)


def _linalg_vecdot(x1, x2, /, *, axis=-1):
    name = "numpy.linalg.vecdot"
    x1, x2 = _operand(x1), _operand(x2)
    if S._ndim(x1) == 0 or S._ndim(x2) == 0:
        raise ValueError(f"{name}: the operands must be at least 1-d, got shapes {S._shape(x1)} and {S._shape(x2)}")
    d1, d2 = _axis1(name, axis, S._ndim(x1)), _axis1(name, axis, S._ndim(x2))
    if S._shape(x1)[d1] != S._shape(x2)[d2]:
        raise ValueError(f"{name}: the vectors' lengths differ ({S._shape(x1)[d1]} and {S._shape(x2)[d2]})")
    return np.sum(np.moveaxis(x1, d1, -1) * np.moveaxis(x2, d2, -1), axis=-1)


def _linalg_diagonal(x, /, *, offset=0):
    return np.diagonal(x, offset=offset, axis1=-2, axis2=-1)


def _linalg_trace(x, /, *, offset=0, dtype=None):
    return np.trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


def _cumulative(name: str, accumulate, neutral):
    def cumulative(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        x = _operand(x)
        ndim = S._ndim(x)
        if ndim == 0:
            raise ValueError(f"numpy.{name}: the input must be at least 1-d")
        if axis is None:
            if ndim > 1:
                raise ValueError(f"numpy.{name}: axis must be specified for multi-dimensional arrays")
            axis = 0
        axis = _axis1(f"numpy.{name}", axis, ndim)
        result = accumulate(x, axis=axis, dtype=dtype)
        if include_initial:
            shape = list(S._shape(result))
            shape[axis] = 1
            first = Tensor._wrap(np.full(shape, neutral, dtype=_dtype_of(result)))
            result = O.cat([first, result], axis)
        return _finish(f"numpy.{name}", result, out, "unsafe", exact=True)

    cumulative.__name__ = name
    return cumulative


# ---------------------------------------------------------------------------------------------
# Rounding: np.round / np.around (zero gradient, NumPy's values)
# ---------------------------------------------------------------------------------------------


def _round(a, decimals=0, out=None):
    a = _operand(a)
    decimals = operator.index(decimals)
    if not isinstance(a, Tensor) or _dtype_of(a).kind not in "fc":
        return _finish("numpy.round", Tensor._wrap(np.asarray(np.round(np.asarray(_raw(a)), decimals))), out, "unsafe")
    if decimals == 0:
        result = O.round(a)
    elif decimals > 0:
        scale = 10.0 ** decimals
        result = O.round(a * scale) / scale
    else:
        scale = 10.0 ** -decimals
        result = O.round(a / scale) * scale
    return _finish("numpy.round", result, out, "unsafe")


# ---------------------------------------------------------------------------------------------
# Creation from a template array: ones_like, full_like, empty_like (no gradient: new values)
# ---------------------------------------------------------------------------------------------


def _like(fn):
    def like(a, *args, dtype=None, order="K", subok=True, shape=None, device=None):
        kwargs = {} if device is None else {"device": device}
        data = _meta(a) if isinstance(a, Tensor) else np.asarray(a)
        if args and _records(args[0]):  # full_like of a fill value with history: broadcast it
            dt = np.dtype(dtype) if dtype is not None else data.dtype
            out_shape = data.shape if shape is None else tuple(np.atleast_1d(shape))
            return S.clone(S.broadcast_to(_cast(args[0], dt), out_shape))
        args = [_raw(v) for v in args]
        result = fn(data, *args, dtype=dtype, order=order, subok=False, shape=shape, **kwargs)
        return Tensor._wrap(result) if subok else result

    like.__name__ = fn.__name__
    return like


# ---------------------------------------------------------------------------------------------
# Values: unique (differentiable values), real_if_close
# ---------------------------------------------------------------------------------------------


@per_example
def _unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
            equal_nan=True, sorted=True):  # noqa: A002
    ar = _tensor(ar)
    data = np.asarray(_raw(ar))
    keywords = {} if sorted is True else {"sorted": sorted}  # (sorted= is NumPy >= 2.3's)
    found = np.unique(data, return_index=True, return_inverse=return_inverse, return_counts=return_counts,
                      axis=axis, equal_nan=equal_nan, **keywords)
    first = found[1]
    if axis is None:
        values = _gather_positions(ar, first)
    else:
        d = _axis1("numpy.unique", axis, data.ndim)
        values = ar[(slice(None),) * d + (np.asarray(first, dtype=np.intp),)]
    extra = []
    if return_index:
        extra.append(Tensor._wrap(first))
    extra += [Tensor._wrap(v) for v in found[2:]]
    return (values, *extra) if extra else values


def _unique_array_api(fn):
    """``np.unique_values``/``unique_counts``/``unique_inverse``/``unique_all``: NumPy's result,
    its values gathered (differentiably) from their first occurrences, the rest data."""

    @per_example
    def unique(x, /):
        x = _tensor(x)
        data = np.asarray(_raw(x))
        found = fn(data)
        values = found if isinstance(found, np.ndarray) else found.values
        every = np.unique_all(data)
        if np.array_equal(every.values, values, equal_nan=True):
            first = every.indices
        else:  # another order: find each value's first occurrence
            flat = data.ravel()
            first = np.array([np.flatnonzero((flat == v) | (np.isnan(flat) & np.isnan(v)))[0] for v in values], np.intp)
        gathered = _gather_positions(x, first)
        if isinstance(found, np.ndarray):
            return gathered
        return type(found)(gathered, *[Tensor._wrap(np.asarray(v)) for v in found[1:]])

    unique.__name__ = fn.__name__
    return unique


def _real_if_close(a, tol=100):
    a = _operand(a)
    if _dtype_of(a).kind != "c":
        return a
    data = np.asarray(_raw(a))
    eps = np.finfo(data.dtype).eps
    tol = tol * eps if tol > 1 else tol
    if np.all(np.abs(data.imag) < tol):
        return O.real(a) if hasattr(O, "real") else Tensor._wrap(data.real)
    return a


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------

FUNCTIONS: dict = {
    np.rollaxis: _rollaxis, np.copy: _copy, np.broadcast_arrays: _broadcast_arrays, np.resize: _resize,
    np.insert: _insert, np.delete: _delete, np.round: _round, np.around: _round,
    np.ones_like: _like(np.ones_like), np.full_like: _like(np.full_like), np.empty_like: _like(np.empty_like),
    np.unique: _unique, np.real_if_close: _real_if_close,
    np.count_nonzero: _query(np.count_nonzero), np.flatnonzero: _query(np.flatnonzero),
    np.argwhere: _query(np.argwhere), np.searchsorted: _query(np.searchsorted), np.isin: _query(np.isin),
    np.nanargmax: _query(np.nanargmax), np.nanargmin: _query(np.nanargmin),
    np.isposinf: _query(np.isposinf), np.isneginf: _query(np.isneginf),
    np.iscomplex: _query(np.iscomplex), np.isreal: _query(np.isreal),
    np.iscomplexobj: _meta_query(np.iscomplexobj), np.isrealobj: _meta_query(np.isrealobj),
    np.array_equiv: _query(np.array_equiv), np.digitize: _query(np.digitize),
    np.diag_indices_from: _meta_query(np.diag_indices_from),
    np.tril_indices_from: _meta_query(np.tril_indices_from), np.triu_indices_from: _meta_query(np.triu_indices_from),
    np.linalg.matrix_rank: _query(np.linalg.matrix_rank),
}
_OPTIONAL = {
    "unstack": _unstack, "matrix_transpose": _matrix_transpose,
    "cumulative_sum": _cumulative("cumulative_sum", np.cumsum, 0),
    "cumulative_prod": _cumulative("cumulative_prod", np.cumprod, 1),
    "linalg.matmul": _linalg_matmul, "linalg.outer": _linalg_outer, "linalg.tensordot": _linalg_tensordot,
    "linalg.vecdot": _linalg_vecdot, "linalg.diagonal": _linalg_diagonal, "linalg.trace": _linalg_trace,
    "linalg.matrix_transpose": _matrix_transpose,
}
for _name in ("unique_values", "unique_counts", "unique_inverse", "unique_all"):
    if hasattr(np, _name):
        _OPTIONAL[_name] = _unique_array_api(getattr(np, _name))
for _name, _fn in _OPTIONAL.items():  # NumPy 2's names, where the installed NumPy has them
    _target = np.linalg if _name.startswith("linalg.") else np
    _found = getattr(_target, _name.rpartition(".")[2], None)
    if _found is not None:
        FUNCTIONS[_found] = _fn


def _nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NumPy's ``copy=False`` replaces the values of ``x`` itself (an in-place update of a tensor)."""
    result = O.nan_to_num(_tensor(x), nan, posinf, neginf)
    if not copy and isinstance(x, Tensor):
        return x.copy_(result)
    return result


def _fix(x, out=None):
    return _finish("numpy.fix", O.trunc(_tensor(x)), out, "unsafe")


SIGNATURES: dict = {"nan_to_num": _nan_to_num, "fix": _fix}
