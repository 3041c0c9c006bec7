"""NumPy's numerical functions of sequences on tensors, composed from chainrule's operations with
NumPy's signatures and values: ``linspace`` (differentiable in ``start`` and ``stop``),
``trapezoid``, ``convolve``/``correlate`` (modes full, same, valid), ``polyval``, ``vander``,
``cov``/``corrcoef``, ``interp`` (differentiable in ``fp``; ``x`` and ``xp`` are data: their values
choose the segments; they are differentiable too where they are tensors, away from the sample
points, except with ``period``), ``gradient`` and ``linalg.cond``. ``FUNCTIONS`` maps each NumPy function
to its servant (see ``numpy_protocols``).
"""

from __future__ import annotations

import operator

import numpy as np

from .. import ops as O
from ..core.tensor import Tensor
from ..ops import decompositions as DC
from ..ops import shape as S
from ..ops._define import per_example
from .numpy_common import _axis1, _cast, _dtype_of, _operand, _raw, _records


def _tensor(x):
    x = _operand(x)
    return x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x))


def _scalar_or_dtype(x):
    return _dtype_of(x) if isinstance(x, Tensor) or np.ndim(x) else x


# ---------------------------------------------------------------------------------------------
# linspace
# ---------------------------------------------------------------------------------------------


def _linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None):
    name = "numpy.linspace"
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"{name}: Number of samples, {num}, must be non-negative.")
    div = (num - 1) if endpoint else num
    start, stop = _operand(start), _operand(stop)
    dt = np.result_type(_scalar_or_dtype(start), _scalar_or_dtype(stop), float(num))
    if dt.kind != "f":
        raise TypeError(f"{name}: start and stop must be real numbers on chainrule tensors, got dtype {dt}")
    start, stop = _cast(start, dt), _cast(stop, dt)
    start, stop = _tensor(start), _tensor(stop)
    delta = stop - start
    rest = S._shape(delta)
    y = Tensor._wrap(np.arange(num, dtype=dt).reshape((-1,) + (1,) * len(rest)))
    if div > 0:
        step = delta / div
        y = y * step
    else:
        step = Tensor._wrap(np.full(rest, np.nan, dt))
        y = y * delta
    y = y + start
    if endpoint and num > 1:
        last = S.broadcast_to(S.reshape(stop, (1,) + S._shape(stop)), (1,) + rest)
        y = O.cat([y[:-1], last], 0)
    if axis != 0:
        y = np.moveaxis(y, 0, axis)
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind in "iu":
            y = O.floor(y)
        y = _cast(y, dtype)
    return (y, step) if retstep else y


# ---------------------------------------------------------------------------------------------
# trapezoid, convolve, correlate, polyval, vander
# ---------------------------------------------------------------------------------------------


def _trapezoid(y, x=None, dx=1.0, axis=-1):
    y = _tensor(y)
    nd = S._ndim(y)
    axis = _axis1("numpy.trapezoid", axis, nd)
    if x is None:
        d = dx
    else:
        x = _operand(x)
        if S._ndim(x) == 1:
            d = np.diff(x)
            shape = [1] * nd
            shape[axis] = S._shape(d)[0]
            d = S.reshape(d, tuple(shape))
        else:
            d = np.diff(x, axis=axis)
    hi = (slice(None),) * axis + (slice(1, None),)
    lo = (slice(None),) * axis + (slice(None, -1),)
    return np.sum(d * (y[hi] + y[lo]) / 2.0, axis=axis)


def _correlate_valid(a, v):
    """``out[k] = Σ_j a[k + j] v[j]`` for the valid ``k`` (``len(a) >= len(v)``): a gather of
    ``a``'s windows and a matrix-vector product."""
    n, m = S._shape(a)[0], S._shape(v)[0]
    windows = np.arange(n - m + 1)[:, None] + np.arange(m)[None, :]
    return O.matmul(a[windows], v)


def _correlate_mode(name, a, v, mode):
    a, v = _tensor(a), _tensor(v)
    if S._ndim(a) == 0:
        a = S.reshape(a, (1,))
    if S._ndim(v) == 0:
        v = S.reshape(v, (1,))
    if S._ndim(a) != 1 or S._ndim(v) != 1:
        raise ValueError(f"{name}: object too deep for desired array (1-D sequences only), got shapes "
                         f"{S._shape(a)} and {S._shape(v)}")
    n, m = S._shape(a)[0], S._shape(v)[0]
    if n == 0 or m == 0:
        raise ValueError(f"{name}: {'a' if n == 0 else 'v'} cannot be empty")
    modes = {"valid": 0, "same": 1, "full": 2, 0: 0, 1: 1, 2: 2}
    if mode not in modes:
        raise ValueError(f"{name}: mode must be one of 'valid', 'same', or 'full' (got {mode!r})")
    mode = modes[mode]
    common = np.result_type(_dtype_of(a), _dtype_of(v))
    a, v = _cast(a, common), _cast(v, common)
    swap = m > n
    if swap:
        a, v, n, m = v, a, m, n
    left = {0: 0, 1: m // 2, 2: m - 1}[mode]
    right = {0: 0, 1: m - m // 2 - 1, 2: m - 1}[mode]
    if left or right:
        a = np.pad(a, (left, right))
    out = _correlate_valid(a, v)
    return np.flip(out) if swap else out


def _correlate(a, v, mode="valid"):
    return _correlate_mode("numpy.correlate", a, v, mode)


def _convolve(a, v, mode="full"):
    a, v = _tensor(a), _tensor(v)
    if S._ndim(v) >= 1 and S._ndim(a) >= 1 and S._shape(v)[0] > S._shape(a)[0]:
        a, v = v, a
    if S._ndim(v) == 1:
        v = np.flip(v)
    return _correlate_mode("numpy.convolve", a, v, mode)


def _polyval(p, x):
    p, x = _operand(p), _operand(x)
    if S._ndim(p) != 1:
        p = np.atleast_1d(p) if S._ndim(p) == 0 else p
    dt = np.result_type(_dtype_of(p), _dtype_of(x))
    p, x = _cast(p, dt), _cast(x, dt)
    y = Tensor._wrap(np.zeros(S._shape(x), dt))
    for i in range(S._shape(p)[0]):
        y = y * x + p[i]
    return y


def _vander(x, N=None, increasing=False):  # noqa: N803
    x = _tensor(x)
    if S._ndim(x) != 1:
        raise ValueError("numpy.vander: x must be a one-dimensional array or sequence.")
    n = S._shape(x)[0] if N is None else operator.index(N)
    columns = []
    power = None
    for k in range(n):
        power = Tensor._wrap(np.ones(S._shape(x), _dtype_of(x))) if k == 0 else (x if k == 1 else power * x)
        columns.append(power)
    if not columns:
        return Tensor._wrap(np.empty((S._shape(x)[0], 0), _dtype_of(x)))
    if not increasing:
        columns = columns[::-1]
    return O.stack(columns, 1)


@per_example
def _polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    name = "numpy.polyfit"
    order = int(deg) + 1
    x, y = _tensor(x) + 0.0, _tensor(y) + 0.0
    if deg < 0:
        raise ValueError(f"{name}: expected deg >= 0")
    if S._ndim(x) != 1:
        raise TypeError(f"{name}: expected 1D vector for x")
    if S._shape(x)[0] == 0:
        raise TypeError(f"{name}: expected non-empty vector for x")
    if S._ndim(y) < 1 or S._ndim(y) > 2:
        raise TypeError(f"{name}: expected 1D or 2D array for y")
    if S._shape(x)[0] != S._shape(y)[0]:
        raise TypeError(f"{name}: expected x and y to have same length")
    n = S._shape(x)[0]
    if rcond is None:
        rcond = n * np.finfo(_dtype_of(x)).eps
    lhs, rhs = _vander(x, order), y
    if w is not None:
        w = _tensor(w) + 0.0
        if S._ndim(w) != 1:
            raise TypeError(f"{name}: expected a 1-d array for weights")
        if S._shape(w)[0] != n:
            raise TypeError(f"{name}: expected w and y to have the same length")
        lhs = lhs * S.reshape(w, (-1, 1))
        rhs = rhs * (S.reshape(w, (-1, 1)) if S._ndim(rhs) == 2 else w)
    scale = np.sqrt(np.sum(lhs * lhs, axis=0))
    lhs = lhs / scale
    c, resids, rank, s = np.linalg.lstsq(lhs, rhs, rcond)
    c = (c.T / scale).T
    if full:
        return c, resids, rank, s, rcond
    if cov:
        vbase = np.linalg.inv(O.matmul(lhs.T, lhs)) / np.outer(scale, scale)
        if cov == "unscaled":
            fac = 1.0
        else:
            if n <= order:
                raise ValueError(f"{name}: the number of data points must exceed order to scale the covariance matrix")
            fac = resids / (n - order)
        return (c, vbase * fac) if S._ndim(y) == 1 else (c, S.reshape(vbase, S._shape(vbase) + (1,)) * fac)
    return c


# ---------------------------------------------------------------------------------------------
# cov, corrcoef
# ---------------------------------------------------------------------------------------------


def _weights(name, w, what):
    if w is None:
        return None
    if _records(w):
        raise TypeError(f"{name}: {what} are data (the counts or importances of the observations), "
                        f"not differentiable; pass them detached")
    return np.asarray(_raw(w))


def _cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None):
    name = "numpy.cov"
    m = _operand(m)
    if S._ndim(m) > 2:
        raise ValueError(f"{name}: m has more than 2 dimensions")
    if y is not None:
        y = _operand(y)
        if S._ndim(y) > 2:
            raise ValueError(f"{name}: y has more than 2 dimensions")
    if dtype is None:
        dtype = np.result_type(_dtype_of(m), np.float64) if y is None else \
            np.result_type(_dtype_of(m), _dtype_of(y), np.float64)
    X = _tensor(_cast(m, np.dtype(dtype)))
    if S._ndim(X) < 2:
        X = S.reshape(X, (1,) * (2 - S._ndim(X)) + S._shape(X))
    if not rowvar and S._ndim(m) != 1:
        X = S.transpose(X, 0, 1)
    if S._shape(X)[0] == 0:
        return Tensor._wrap(np.array([]).reshape(0, 0))
    if y is not None:
        Y = _tensor(_cast(y, np.dtype(dtype)))
        if S._ndim(Y) < 2:
            Y = S.reshape(Y, (1,) * (2 - S._ndim(Y)) + S._shape(Y))
        if not rowvar and S._shape(Y)[0] != 1:
            Y = S.transpose(Y, 0, 1)
        X = O.cat([X, Y], 0)
    if ddof is None:
        ddof = 1 if bias == 0 else 0
    n = S._shape(X)[1]
    w = None
    fw, aw = _weights(name, fweights, "fweights"), _weights(name, aweights, "aweights")
    if fw is not None:
        if fw.ndim > 1 or fw.shape[0] != n:
            raise RuntimeError(f"{name}: incompatible numbers of samples and fweights")
        if not np.all(fw == np.around(fw)):
            raise TypeError(f"{name}: fweights must be integer")
        if np.any(fw < 0):
            raise ValueError(f"{name}: fweights cannot be negative")
        w = fw.astype(np.float64)
    if aw is not None:
        if aw.ndim > 1 or aw.shape[0] != n:
            raise RuntimeError(f"{name}: incompatible numbers of samples and aweights")
        if np.any(aw < 0):
            raise ValueError(f"{name}: aweights cannot be negative")
        w = aw if w is None else w * aw
    if w is None:
        avg = np.mean(X, axis=1)
        fact = n - ddof
    else:
        w_sum = float(np.sum(w))
        avg = np.sum(X * w, axis=1) / w_sum
        if ddof == 0:
            fact = w_sum
        elif aw is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * float(np.sum(w * aw)) / w_sum
    if fact <= 0:
        fact = 0.0
    X = X - S.reshape(avg, (-1, 1))
    X_T = S.transpose(X if w is None else X * w, 0, 1)
    c = O.matmul(X, X_T) * (1.0 / fact if fact else np.inf)
    return np.squeeze(c)


def _corrcoef(x, y=None, rowvar=True, *, dtype=None):
    c = _cov(x, y, rowvar, dtype=dtype)
    if S._ndim(c) == 0:
        return c / c
    d = np.diagonal(c)
    stddev = np.sqrt(d)
    c = c / S.reshape(stddev, (-1, 1))
    c = c / S.reshape(stddev, (1, -1))
    return np.clip(c, -1, 1)


# ---------------------------------------------------------------------------------------------
# interp
# ---------------------------------------------------------------------------------------------


@per_example
def _interp(x, xp, fp, left=None, right=None, period=None):
    name = "numpy.interp"
    xs = np.asarray(_raw(x), dtype=np.float64)
    xps = np.asarray(_raw(xp), dtype=np.float64)
    fp = _tensor(fp)
    if _dtype_of(fp).kind == "c":
        raise TypeError(f"{name}: complex fp is not supported on chainrule tensors")
    fp = _cast(fp, np.dtype(np.float64))
    if xps.ndim != 1 or S._ndim(fp) != 1:
        raise ValueError(f"{name}: xp and fp must be 1-D sequences")
    if xps.shape[0] != S._shape(fp)[0]:
        raise ValueError(f"{name}: fp and xp are not of the same length.")
    if xps.shape[0] == 0:
        raise ValueError(f"{name}: array of sample points is empty")
    # x and xp take part in the arithmetic as tensors where they are tensors (and no period):
    # the result is then differentiable in them too, away from the sample points.
    xt = _cast(_tensor(x), np.dtype(np.float64)) if isinstance(x, Tensor) else xs
    xpt = _cast(xp, np.dtype(np.float64)) if isinstance(xp, Tensor) else xps
    if period is not None:
        if period == 0:
            raise ValueError(f"{name}: period must be a non-zero value")
        period = abs(period)
        left = right = None
        xs = xt = xs % period
        xps = xps % period
        order = np.argsort(xps, kind="stable")
        xps = np.concatenate((xps[order][-1:] - period, xps[order], xps[order][0:1] + period))
        xpt = xps
        fp = fp[order]
        fp = O.cat([fp[-1:], fp, fp[0:1]])
    n = xps.shape[0]
    lo_value = fp[0] if left is None else left
    hi_value = fp[n - 1] if right is None else right
    if n == 1:
        inside = S.broadcast_to(fp[0], xs.shape)
    else:
        j = np.clip(np.searchsorted(xps, xs, side="right") - 1, 0, n - 2)
        lo, hi = fp[j], fp[j + 1]
        t = (xt - xpt[j]) / (xpt[j + 1] - xpt[j])
        inside = (hi - lo) * t + lo
        inside = O.where(xs == xps[-1], S.broadcast_to(fp[n - 1], xs.shape), inside)
    out = O.where(xs > xps[-1], hi_value, inside)
    out = O.where(xs < xps[0], lo_value, out)
    return out if isinstance(out, Tensor) else Tensor._wrap(np.asarray(out))


# ---------------------------------------------------------------------------------------------
# gradient
# ---------------------------------------------------------------------------------------------


def _along(axis, key):
    return (slice(None),) * axis + (key,)


def _gradient_axis(f, axis, h, edge_order):
    """NumPy's second-order central differences along ``axis`` with spacing ``h`` (a number or the
    1-D coordinates), and one-sided differences of ``edge_order`` at the ends."""
    n = S._shape(f)[axis]
    ndim = S._ndim(f)

    def sl(key):
        return f[_along(axis, key)]

    def shaped(v):
        shape = [1] * ndim
        shape[axis] = -1
        return np.asarray(v, dtype=np.float64).reshape(shape)

    uniform = np.ndim(h) == 0
    if uniform:
        interior = (sl(slice(2, None)) - sl(slice(None, -2))) / (2.0 * h)
    else:
        dx = np.diff(h)
        dx1, dx2 = dx[:-1], dx[1:]
        a = -(dx2) / (dx1 * (dx1 + dx2))
        b = (dx2 - dx1) / (dx1 * dx2)
        c = dx1 / (dx2 * (dx1 + dx2))
        interior = shaped(a) * sl(slice(None, -2)) + shaped(b) * sl(slice(1, -1)) + shaped(c) * sl(slice(2, None))
    if edge_order == 1:
        d0 = h if uniform else float(dx[0])
        dn = h if uniform else float(dx[-1])
        first = (sl(slice(1, 2)) - sl(slice(0, 1))) / d0
        last = (sl(slice(n - 1, n)) - sl(slice(n - 2, n - 1))) / dn
    else:
        if uniform:
            a0, b0, c0 = -1.5 / h, 2.0 / h, -0.5 / h
            an, bn, cn = 0.5 / h, -2.0 / h, 1.5 / h
        else:
            d1, d2 = float(dx[0]), float(dx[1])
            a0 = -(2.0 * d1 + d2) / (d1 * (d1 + d2))
            b0 = (d1 + d2) / (d1 * d2)
            c0 = -d1 / (d2 * (d1 + d2))
            d1, d2 = float(dx[-2]), float(dx[-1])
            an = d2 / (d1 * (d1 + d2))
            bn = -(d2 + d1) / (d1 * d2)
            cn = (2.0 * d2 + d1) / (d2 * (d1 + d2))
        first = a0 * sl(slice(0, 1)) + b0 * sl(slice(1, 2)) + c0 * sl(slice(2, 3))
        last = an * sl(slice(n - 3, n - 2)) + bn * sl(slice(n - 2, n - 1)) + cn * sl(slice(n - 1, n))
    return O.cat([first, interior, last], axis)


def _gradient(f, *varargs, axis=None, edge_order=1):
    name = "numpy.gradient"
    f = _tensor(f)
    ndim = S._ndim(f)
    axes = tuple(range(ndim)) if axis is None else (axis,) if np.ndim(axis) == 0 else tuple(axis)
    axes = tuple(_axis1(name, a, ndim) for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}: duplicate value in 'axis'")
    if len(varargs) == 0:
        spacing = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(_raw(varargs[0])) == 0:
        spacing = [_raw(varargs[0])] * len(axes)
    elif len(varargs) == len(axes):
        spacing = [_raw(v) for v in varargs]
    else:
        raise TypeError(f"{name}: invalid number of arguments")
    if edge_order > 2:
        raise ValueError(f"{name}: 'edge_order' greater than 2 not supported")
    if _dtype_of(f).kind in "iub":
        f = _cast(f, np.dtype(np.float64))
    out = []
    for ax, h in zip(axes, spacing):
        h = np.asarray(h)
        if h.ndim == 0:
            h = float(h)
        elif h.ndim != 1 or h.shape[0] != S._shape(f)[ax]:
            raise ValueError(f"{name}: distances must be either scalars or match the length of the corresponding dimension")
        else:
            h = h.astype(np.float64)
            diffs = np.diff(h)
            if np.all(diffs == diffs[0]):
                h = float(diffs[0])
        if S._shape(f)[ax] < edge_order + 1:
            raise ValueError(f"{name}: Shape of array too small to calculate a numerical gradient, at least "
                             f"(edge_order + 1) elements are required.")
        out.append(_gradient_axis(f, ax, h, edge_order))
    return out[0] if len(out) == 1 else tuple(out)


# ---------------------------------------------------------------------------------------------
# linalg.cond, meshgrid
# ---------------------------------------------------------------------------------------------


def _cond(x, p=None):
    x = _tensor(x)
    if S._ndim(x) < 2:
        raise np.linalg.LinAlgError(f"numpy.linalg.cond: {S._ndim(x)}-dimensional array given. Array must be at least two-dimensional")
    if p is None or p == 2 or p == -2:
        s = DC.svdvals(x)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    return np.linalg.norm(x, p, axis=(-2, -1)) * np.linalg.norm(np.linalg.inv(x), p, axis=(-2, -1))


def _meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError("numpy.meshgrid: Valid values for `indexing` are 'xy' and 'ij'.")
    xs = [S.reshape(_tensor(x), -1) for x in xi]
    ndim = len(xs)
    shapes = []
    for i in range(ndim):
        shape = [1] * ndim
        shape[i] = -1
        shapes.append(shape)
    if indexing == "xy" and ndim > 1:
        for shape in shapes:
            shape[0], shape[1] = shape[1], shape[0]
    grids = [S.reshape(x, s) for x, s in zip(xs, shapes)]
    if not sparse:
        full = np.broadcast_shapes(*[S._shape(g) for g in grids])
        grids = [S.broadcast_to(g, full) for g in grids]
    if copy:
        grids = [S.clone(g) for g in grids]
    return tuple(grids)


FUNCTIONS: dict = {
    np.linspace: _linspace, np.trapezoid: _trapezoid, np.convolve: _convolve, np.correlate: _correlate,
    np.polyval: _polyval, np.polyfit: _polyfit, np.vander: _vander, np.cov: _cov, np.corrcoef: _corrcoef, np.interp: _interp,
    np.gradient: _gradient, np.linalg.cond: _cond, np.meshgrid: _meshgrid,
}
