"""More of NumPy's functions on tensors, composed from chainrule's operations with NumPy's
signatures and values (``FUNCTIONS``, merged into ``numpy_protocols``):

- ``logspace``/``geomspace`` (differentiable in ``start``, ``stop``), ``unwrap`` (the corrections
  are piecewise constant: gradient 1), ``block``, ``apply_along_axis``, ``apply_over_axes``,
  ``astype``;
- polynomials: ``polyadd``, ``polysub``, ``polymul``, ``polydiv``, ``polyder``, ``polyint``;
- selections: ``extract``, ``compress``, ``trim_zeros``, ``piecewise`` (the conditions are data);
- ``bincount`` (differentiable in ``weights``) and the set functions ``union1d``, ``intersect1d``,
  ``setdiff1d``, ``setxor1d`` (values gathered differentiably; which values is data);
- in-place writes: ``put``, ``putmask``, ``place``, ``fill_diagonal`` (in-place updates of the
  tensor, as ``t[...] = v``);
- queries that read values or shapes only (``lexsort``, ``unravel_index``, ``histogram``, ...):
  NumPy's results as tensors; a differentiable input that would lose its gradient raises.
"""

from __future__ import annotations

import operator

import numpy as np

from .. import ops as O
from ..core.tensor import Tensor
from ..ops import shape as S
from ..ops._define import per_example
from .numpy_common import _cast, _dtype_of, _finish, _meta, _not_differentiable, _operand, _raw, _records
from .numpy_extras import _gather_positions, _meta_query, _query, _tensor, _unique
from .numpy_series import _convolve, _linspace

# ---------------------------------------------------------------------------------------------
# Sequences: logspace, geomspace, unwrap
# ---------------------------------------------------------------------------------------------


def _logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    start, stop = _operand(start), _operand(stop)
    ndmax = len(np.broadcast_shapes(S._shape(start), S._shape(stop), S._shape(_operand(base))))

    def at_least(x):
        return S.reshape(x, (1,) * (ndmax - S._ndim(x)) + S._shape(x)) if isinstance(x, Tensor) else np.array(x, ndmin=ndmax)

    start, stop, base = at_least(start), at_least(stop), at_least(_operand(base))
    y = _linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    base = np.expand_dims(base, axis=axis) if S._ndim(base) else base
    out = np.power(base, y)
    return out if dtype is None else _cast(out, np.dtype(dtype))


@per_example
def _geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    name = "numpy.geomspace"
    start, stop = _tensor(start), _tensor(stop)
    if np.any(_raw(start) == 0) or np.any(_raw(stop) == 0):
        raise ValueError(f"{name}: Geometric sequence cannot include zero")
    dt = np.result_type(_dtype_of(start), _dtype_of(stop), float(num), np.zeros((), dtype))
    if dt.kind == "c":
        raise TypeError(f"{name}: complex start or stop are not supported on chainrule tensors")
    start, stop = _cast(start, dt), _cast(stop, dt)
    sign = O.sign(start)
    start, stop = start / sign, stop / sign
    result = _logspace(O.log10(start), O.log10(stop), num=num, endpoint=endpoint, base=10.0, dtype=dt)
    if num > 0:
        pieces = [S.reshape(start, (1,) + S._shape(start)) + result[:1] * 0]
        if num > 1 and endpoint:
            pieces += [result[1:-1], S.reshape(stop, (1,) + S._shape(stop)) + result[-1:] * 0]
        else:
            pieces.append(result[1:])
        result = O.cat(pieces, 0)
    result = sign * result
    if axis != 0:
        result = np.moveaxis(result, 0, axis)
    return result if dtype is None else _cast(result, np.dtype(dtype))


@per_example
def _unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    p = _tensor(p)
    data = np.asarray(_raw(p))
    fixed = np.unwrap(data, discont=discont, axis=axis, period=period)
    if p._data.dtype.kind not in "f":
        return Tensor._wrap(fixed)
    return p + Tensor._wrap(fixed - data)


# ---------------------------------------------------------------------------------------------
# block, apply_along_axis, apply_over_axes, astype
# ---------------------------------------------------------------------------------------------


def _block(arrays):
    name = "numpy.block"

    def depth_of(x, where=()):
        if isinstance(x, tuple):
            raise TypeError(f"{name}: arrays is a tuple. Only lists can be used to arrange blocks, and np.block "
                            f"does not allow implicit conversion from tuple to ndarray.")
        if isinstance(x, list):
            if not x:
                raise ValueError(f"{name}: List at arrays{''.join(f'[{i}]' for i in where)} cannot be empty")
            depths = {depth_of(e, where + (i,)) for i, e in enumerate(x)}
            if len(depths) != 1:
                raise ValueError(f"{name}: List depths are mismatched")
            return depths.pop() + 1
        return 0

    depth = depth_of(arrays)
    leaves = []

    def collect(x):
        if isinstance(x, list):
            for e in x:
                collect(e)
        else:
            leaves.append(_operand(x))

    collect(arrays)
    ndim = max(depth, *(S._ndim(a) for a in leaves))
    common = np.result_type(*[_dtype_of(a) for a in leaves])

    def build(x, level):
        if level == depth:
            t = _tensor(_cast(_operand(x), common))
            return S.reshape(t, (1,) * (ndim - S._ndim(t)) + S._shape(t))
        return np.concatenate([build(e, level + 1) for e in x], axis=-(depth - level))

    return build(arrays, 0)


def _apply_along_axis(func1d, axis, arr, *args, **kwargs):
    arr = _tensor(arr)
    nd = S._ndim(arr)
    axis = operator.index(axis)
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(f"numpy.apply_along_axis: axis {axis} is out of bounds for array of dimension {nd}")
    axis %= nd
    moved = np.moveaxis(arr, axis, -1)
    outer = S._shape(moved)[:-1]
    if not all(outer):
        raise ValueError("numpy.apply_along_axis: Cannot apply_along_axis when any iteration dimensions are 0")
    results = [_tensor(func1d(moved[index], *args, **kwargs)) for index in np.ndindex(*outer)]
    stacked = O.stack(results, 0) if results else None
    res_shape = S._shape(results[0])
    out = S.reshape(stacked, outer + res_shape)
    for k in range(len(res_shape)):  # the result's dimensions go where axis was
        out = np.moveaxis(out, len(outer) + k, axis + k)
    return out


def _apply_over_axes(func, a, axes):
    val = _tensor(a)
    n = S._ndim(val)
    for axis in np.atleast_1d(np.asarray(axes)):
        axis = int(axis) + n if axis < 0 else int(axis)
        res = func(val, axis)
        if S._ndim(res) == S._ndim(val):
            val = res
        elif S._ndim(res) == S._ndim(val) - 1:
            val = np.expand_dims(res, axis)
        else:
            raise ValueError("numpy.apply_over_axes: function is not returning an array of the correct shape")
    return val


def _astype(x, dtype, /, *, copy=True, device=None):
    x = _tensor(x)
    dtype = np.dtype(dtype)
    if not copy and _dtype_of(x) == dtype:
        return x
    return S.clone(x) if _dtype_of(x) == dtype else _cast(x, dtype)


def _tensorinv(a, ind=2):
    a = _tensor(a)
    shape = S._shape(a)
    if ind <= 0:
        raise ValueError("numpy.linalg.tensorinv: Invalid ind argument.")
    prod = int(np.prod(shape[ind:], dtype=np.int64))
    return S.reshape(np.linalg.inv(S.reshape(a, (prod, -1))), shape[ind:] + shape[:ind])


def _tensorsolve(a, b, axes=None):
    a, b = _tensor(a), _tensor(b)
    an = S._ndim(a)
    if axes is not None:
        order = list(range(an))
        for k in axes:
            order.remove(k)
            order.insert(an, k)
        a = S.permute(a, tuple(order))
    old = S._shape(a)[-(an - S._ndim(b)):]
    prod = int(np.prod(old, dtype=np.int64))
    if int(np.prod(S._shape(a), dtype=np.int64)) != prod ** 2:
        raise np.linalg.LinAlgError("numpy.linalg.tensorsolve: Input arrays must satisfy the requirement "
                                    "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    return S.reshape(np.linalg.solve(S.reshape(a, (prod, prod)), S.reshape(b, (-1,))), old)


# ---------------------------------------------------------------------------------------------
# Polynomials
# ---------------------------------------------------------------------------------------------


def _poly1d(p):
    """NumPy's ``poly1d(p).coeffs``: at least 1-D, leading zeros stripped (``[0.]`` if all are)."""
    p = _tensor(p)
    if S._ndim(p) == 0:
        p = S.reshape(p, (1,))
    if S._ndim(p) > 1:
        raise ValueError("Polynomial must be 1d only.")
    nonzero = np.flatnonzero(np.asarray(_raw(p)))
    if nonzero.size == 0:
        return Tensor._wrap(np.array([0], dtype=_dtype_of(p)))
    return p[int(nonzero[0]):]


def _polyadd(a1, a2, sign=1):
    a1, a2 = np.atleast_1d(_tensor(a1)), np.atleast_1d(_tensor(a2))
    diff = S._shape(a2)[0] - S._shape(a1)[0]
    if diff > 0:
        a1 = O.cat([Tensor._wrap(np.zeros(diff, _dtype_of(a1))), a1])
    elif diff < 0:
        a2 = O.cat([Tensor._wrap(np.zeros(-diff, _dtype_of(a2))), a2])
    return a1 + a2 if sign > 0 else a1 - a2


def _polysub(a1, a2):
    return _polyadd(a1, a2, -1)


@per_example
def _polymul(a1, a2):
    return _convolve(_poly1d(a1), _poly1d(a2))


def _polyder(p, m=1):
    m = operator.index(m)
    if m < 0:
        raise ValueError("numpy.polyder: Order of derivative must be positive (see polyint)")
    p = _tensor(p)
    for _ in range(m):
        n = S._shape(p)[0] - 1
        p = p[:-1] * np.arange(n, 0, -1)
    return p


def _polyint(p, m=1, k=None):
    m = int(m)
    if m < 0:
        raise ValueError("numpy.polyint: Order of integral must be positive (see polyder)")
    k = np.zeros(m, float) if k is None else k
    k = np.atleast_1d(k)
    if S._shape(k)[0] == 1 and m > 1:
        k = k[0] * np.ones(m, float)
    if S._shape(k)[0] < m:
        raise ValueError("numpy.polyint: k must be a scalar or a rank-1 array of length 1 or >m.")
    y = _tensor(p)
    for i in range(m):
        y = O.cat([y / np.arange(S._shape(y)[0], 0, -1), S.reshape(_tensor(_cast(k[i], np.dtype(np.float64))), (1,))])
    return y


@per_example
def _polydiv(u, v):
    u, v = np.atleast_1d(_tensor(u)) + 0.0, np.atleast_1d(_tensor(v)) + 0.0
    m, n = S._shape(u)[0] - 1, S._shape(v)[0] - 1
    scale = 1.0 / v[0]
    r = [u[i] for i in range(m + 1)]
    q = []
    for k in range(m - n + 1):
        d = scale * r[k]
        q.append(d)
        for j in range(n + 1):
            r[k + j] = r[k + j] - d * v[j]
    quotient = O.stack(q) if q else Tensor._wrap(np.zeros(1, _dtype_of(u)))
    rem = O.stack(r)
    while np.allclose(np.asarray(_raw(rem[0])), 0, rtol=1e-14) and S._shape(rem)[-1] > 1:
        rem = rem[1:]
    return quotient, rem


# ---------------------------------------------------------------------------------------------
# Selections, counts and sets
# ---------------------------------------------------------------------------------------------


@per_example
def _extract(condition, arr):
    arr = _tensor(arr)
    mask = np.ravel(np.asarray(_raw(condition))) != 0
    return S.reshape(arr, -1)[np.flatnonzero(mask)]


@per_example
def _compress(condition, a, axis=None, out=None):
    name = "numpy.compress"
    a = _tensor(a)
    cond = np.asarray(_raw(condition))
    if cond.ndim != 1:
        raise ValueError(f"{name}: condition must be a 1-d array")
    picked = np.flatnonzero(cond)
    if axis is None:
        a, axis = S.reshape(a, -1), 0
    n = S._shape(a)[operator.index(axis)]
    if picked.size and picked[-1] >= n:
        raise IndexError(f"{name}: index {picked[-1]} is out of bounds for axis {axis} with size {n}")
    result = a[(slice(None),) * (operator.index(axis) % S._ndim(a)) + (picked,)]
    return _finish(name, result, out, "unsafe", exact=True)


@per_example
def _trim_zeros(filt, trim="fb", axis=None):
    a = _tensor(filt)
    data = np.asarray(_raw(a))
    trim = trim.lower()
    if any(c not in "fb" for c in trim):
        raise ValueError(f"numpy.trim_zeros: unexpected character(s) in `trim`: {trim!r}")
    axes = range(data.ndim) if axis is None else [operator.index(ax) % data.ndim for ax in np.atleast_1d(axis)]
    nz = np.nonzero(data)
    key = [slice(None)] * data.ndim
    for ax in axes:
        if nz[ax].size == 0:
            key[ax] = slice(0, 0)
            continue
        key[ax] = slice(int(nz[ax].min()) if "f" in trim else None, int(nz[ax].max()) + 1 if "b" in trim else None)
    return a[tuple(key)]


@per_example
def _piecewise(x, condlist, funclist, *args, **kw):
    from ..ops import indexing as IX

    x = _tensor(x)
    data = np.asarray(_raw(x))
    n2 = len(funclist)
    if isinstance(condlist, Tensor):
        condlist = np.asarray(_raw(condlist))
    if np.ndim(condlist) == 0 and not isinstance(condlist, list):
        condlist = [condlist]
    elif np.isscalar(condlist) or (not isinstance(condlist[0], (list, np.ndarray, Tensor)) and data.ndim != 0):
        condlist = [condlist]
    conds = np.asarray([np.asarray(_raw(c)) for c in condlist], dtype=bool)
    n = len(conds)
    if n == n2 - 1:
        conds = np.concatenate([conds, ~np.any(conds, axis=0, keepdims=True)], axis=0)
        n += 1
    elif n != n2:
        raise ValueError(f"numpy.piecewise: with {n} condition(s), either {n} or {n + 1} functions are expected")
    out = Tensor._wrap(np.zeros(data.shape, data.dtype))
    for cond, func in zip(conds, funclist):
        cond = np.broadcast_to(cond, data.shape)
        if not callable(func):
            out = O.where(cond, _cast(_tensor(func), data.dtype), out)
        elif cond.any():
            values = _cast(_tensor(func(x[cond], *args, **kw)), data.dtype)
            values = S.broadcast_to(values, (int(cond.sum()),)) if S._ndim(values) == 0 else values
            if data.ndim == 0:
                spread = S.reshape(values, ())
            else:
                spread = IX.scatter(values, index=np.nonzero(cond), shape=data.shape)
            out = O.where(cond, spread, out)
    return out


def _bincount(x, /, weights=None, minlength=0):
    xs = np.asarray(_raw(x))
    counts = np.bincount(xs, minlength=minlength)
    if weights is None:
        return Tensor._wrap(counts)
    w = _cast(_tensor(weights), np.dtype(np.float64))
    if S._shape(w) != xs.shape:
        raise ValueError("numpy.bincount: The weights and list don't have the same length.")
    from ..ops import indexing as IX

    return IX.scatter(w, index=(xs,), shape=counts.shape)


@per_example
def _union1d(ar1, ar2):
    return _unique(O.cat([S.reshape(_tensor(ar1), -1), S.reshape(_tensor(ar2), -1)]))


@per_example
def _intersect1d(ar1, ar2, assume_unique=False, return_indices=False):
    a, b = _tensor(ar1), _tensor(ar2)
    values, i1, i2 = np.intersect1d(np.asarray(_raw(a)), np.asarray(_raw(b)), assume_unique, return_indices=True)
    picked = _gather_positions(a, i1)
    return (picked, Tensor._wrap(i1), Tensor._wrap(i2)) if return_indices else picked


@per_example
def _setdiff1d(ar1, ar2, assume_unique=False):
    a = _tensor(ar1)
    u = S.reshape(a, -1) if assume_unique else _unique(a)
    keep = np.isin(np.asarray(_raw(u)), np.asarray(_raw(ar2)), invert=True)
    return u[np.flatnonzero(keep)]


@per_example
def _setxor1d(ar1, ar2, assume_unique=False):
    a, b = _tensor(ar1), _tensor(ar2)
    if not assume_unique:
        a, b = _unique(a), _unique(b)
    aux = O.cat([S.reshape(a, -1), S.reshape(b, -1)])
    if S._shape(aux)[0] == 0:
        return aux
    aux = np.sort(aux)
    data = np.asarray(_raw(aux))
    flag = np.concatenate(([True], data[1:] != data[:-1], [True]))
    return aux[np.flatnonzero(flag[1:] & flag[:-1])]


# ---------------------------------------------------------------------------------------------
# In-place writes
# ---------------------------------------------------------------------------------------------


def _write(name, a, positions, values):
    if not isinstance(a, Tensor):
        raise TypeError(f"{name}: the target must be a chainrule tensor here (a NumPy array cannot hold a "
                        f"tensor's history)")
    positions = np.asarray(positions, dtype=np.intp)
    if positions.size == 0:
        return None
    v = _tensor(values)
    v = S.reshape(v, -1)
    count = S._shape(v)[0]
    if count == 0:
        return None
    v = _gather_positions(v, np.resize(np.arange(count), positions.size))
    a[np.unravel_index(positions.ravel(), a.shape)] = _cast(v, _dtype_of(a))
    return None


def _put(a, ind, v, mode="raise"):
    size = int(np.prod(np.shape(_meta(a)), dtype=np.int64))
    ind = np.asarray(_raw(ind)).astype(np.intp).ravel()
    if mode == "raise":
        if ind.size and (ind.max() >= size or ind.min() < -size):
            raise IndexError(f"numpy.put: index {ind.max() if ind.max() >= size else ind.min()} is out of bounds "
                             f"for axis 0 with size {size}")
        ind = ind % max(size, 1)
    elif mode == "wrap":
        ind = ind % size
    elif mode == "clip":
        ind = np.clip(ind, 0, size - 1)
    else:
        raise ValueError(f"numpy.put: clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    _, last = np.unique(ind[::-1], return_index=True)  # NumPy: the last write to a position wins
    keep = np.sort(ind.size - 1 - last)
    v = _tensor(v)
    flat = S.reshape(v, -1)
    count = S._shape(flat)[0]
    if count == 0:
        return None
    return _write("numpy.put", a, ind[keep], _gather_positions(flat, np.arange(ind.size)[keep] % count))


def _putmask(a, mask, values):
    m = np.broadcast_to(np.asarray(_raw(mask), dtype=bool), np.shape(_meta(a)))
    positions = np.flatnonzero(m)
    v = S.reshape(_tensor(values), -1)
    count = S._shape(v)[0]
    if count == 0:
        return None
    return _write("numpy.putmask", a, positions, _gather_positions(v, positions % count))


def _place(arr, mask, vals):
    positions = np.flatnonzero(np.asarray(_raw(mask), dtype=bool))
    if positions.size and S._shape(S.reshape(_tensor(vals), -1))[0] == 0:
        raise ValueError("numpy.place: Cannot insert from an empty array!")
    return _write("numpy.place", arr, positions, vals)


def _fill_diagonal(a, val, wrap=False):
    shape = np.shape(_meta(a))
    if len(shape) < 2:
        raise ValueError("numpy.fill_diagonal: array must be at least 2-d")
    end = None
    if len(shape) == 2:
        step = shape[1] + 1
        if not wrap:
            end = shape[1] * shape[1]
    else:
        if not np.all(np.diff(shape) == 0):
            raise ValueError("numpy.fill_diagonal: All dimensions of input must be of equal length")
        step = 1 + int(np.cumprod(shape[:-1]).sum())
    positions = np.arange(int(np.prod(shape)))[:end:step]
    return _write("numpy.fill_diagonal", a, positions, val)


# ---------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------


def _data_of_inputs(fn, differentiable_args=()):
    """A NumPy function whose results are data; inputs named in ``differentiable_args`` (weights
    whose gradient would be lost) raise when they carry history."""
    query = _query(fn)

    def call(*args, **kwargs):
        for key in differentiable_args:
            if _records(kwargs.get(key)):
                raise _not_differentiable(f"numpy.{fn.__name__} with {key}= that requires grad")
        return query(*args, **kwargs)

    call.__name__ = fn.__name__
    return call


FUNCTIONS: dict = {
    np.logspace: _logspace, np.geomspace: _geomspace, np.unwrap: _unwrap, np.block: _block,
    np.linalg.tensorinv: _tensorinv, np.linalg.tensorsolve: _tensorsolve,
    np.apply_along_axis: _apply_along_axis, np.apply_over_axes: _apply_over_axes,
    np.polyadd: _polyadd, np.polysub: _polysub, np.polymul: _polymul, np.polydiv: _polydiv,
    np.polyder: _polyder, np.polyint: _polyint,
    np.extract: _extract, np.compress: _compress, np.trim_zeros: _trim_zeros, np.piecewise: _piecewise,
    np.bincount: _bincount, np.union1d: _union1d, np.intersect1d: _intersect1d, np.setdiff1d: _setdiff1d,
    np.setxor1d: _setxor1d,
    np.put: _put, np.putmask: _putmask, np.place: _place, np.fill_diagonal: _fill_diagonal,
    np.lexsort: _query(np.lexsort), np.unravel_index: _query(np.unravel_index),
    np.ravel_multi_index: _query(np.ravel_multi_index), np.packbits: _query(np.packbits),
    np.unpackbits: _query(np.unpackbits), np.einsum_path: _query(np.einsum_path), np.ix_: _query(np.ix_),
    np.array2string: _query(np.array2string), np.array_repr: _query(np.array_repr), np.array_str: _query(np.array_str),
    np.min_scalar_type: _query(np.min_scalar_type), np.can_cast: _meta_query(np.can_cast),
    np.histogram: _data_of_inputs(np.histogram, ("weights",)),
    np.histogram_bin_edges: _data_of_inputs(np.histogram_bin_edges, ("weights",)),
    np.histogram2d: _data_of_inputs(np.histogram2d, ("weights",)),
    np.histogramdd: _data_of_inputs(np.histogramdd, ("weights",)),
}
if hasattr(np, "astype"):
    FUNCTIONS[np.astype] = _astype
