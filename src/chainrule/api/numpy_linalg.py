"""NumPy's signatures for the linalg family: ``np.<name>(t, ...)`` with NumPy's exact arguments,
keywords and N-d semantics, mapped onto chainrule's operations (see ``numpy_protocols``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..core.tensor import Tensor
from ..ops import decompositions as D
from ..ops import linalg as L
from ..ops import matrix_functions as MF
from ..ops import shape as S
from ..ops.products import matmul
from ..ops.reductions import sum as sum_
from .numpy_common import _meta, _NoValue, _operand, _raw
from .numpy_signatures import _inexact


def _cholesky(a, /, *, upper=False):
    return D.cholesky(_inexact(a), upper=upper)


def _eigh(a, UPLO="L"):  # noqa: N803
    return D.eigh(_inexact(a), UPLO)


def _eigvalsh(a, UPLO="L"):  # noqa: N803
    return D.eigvalsh(_inexact(a), UPLO)


def _sorted_by_magnitude(w):
    """``(|w| descending, its signs, the permutation matrices)``: NumPy's hermitian SVD order."""
    data = np.asarray(_raw(w))
    order = np.argsort(np.abs(data), axis=-1)[..., ::-1]
    n = data.shape[-1]
    perm = (order[..., None, :] == np.arange(n)[:, None]).astype(data.dtype)  # perm[i, j]: j-th is i
    signs = np.take_along_axis(np.sign(data), order, axis=-1)
    return perm, signs


def _hermitian_svd(a, compute_uv):
    """NumPy's ``svd(a, hermitian=True)``: from ``eigh``, reordered by ``|eigenvalue|``."""
    if not compute_uv:
        w = D.eigvalsh(a)
        perm, _ = _sorted_by_magnitude(w)
        return S.squeeze(matmul(S.unsqueeze(abs(w), -2), perm), -2)
    w, v = D.eigh(a)
    perm, signs = _sorted_by_magnitude(w)
    s = S.squeeze(matmul(S.unsqueeze(abs(w), -2), perm), -2)
    u = matmul(v, perm)
    vt = (u * signs[..., None, :]).mT
    if L.is_complex(vt):
        vt = vt.conj()
    return D.svd_result(u, s, vt)


def _svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    a = _inexact(a)
    if hermitian:
        return _hermitian_svd(a, compute_uv)
    if not compute_uv:
        return D.svdvals(a)
    return D.svd(a, full_matrices=bool(full_matrices))


def _svdvals(x, /):
    return D.svdvals(_inexact(x))


def _qr(a, mode="reduced"):
    if mode == "raw":
        raise NotImplementedError("numpy.linalg.qr: mode='raw' (Householder reflectors) is not differentiable "
                                  "on chainrule tensors; use mode='reduced', 'complete' or 'r'")
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"Unrecognized mode '{mode}'")
    q, r = D.qr(_inexact(a), mode=mode)
    return r if mode == "r" else D.qr_result(q, r)


def _pinv(a, rcond=None, hermitian=False, *, rtol=_NoValue):
    a = _inexact(a)
    if rtol is not _NoValue and rcond is not None:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    if rcond is None:
        rcond = None if rtol is _NoValue else rtol
    if rcond is not None and np.ndim(rcond):
        raise NotImplementedError("numpy.linalg.pinv: rcond must be a number on chainrule tensors")
    return MF.pinv(a, rtol=None if rcond is None else float(rcond), hermitian=bool(hermitian))


def _lstsq(a, b, rcond=None):
    """NumPy's ``(x, residuals, rank, s)``: ``x``, ``residuals`` and ``s`` differentiable, ``rank`` a
    0-d integer tensor."""
    a, b = _inexact(a), _inexact(b)
    ra, rb = np.asarray(_raw(a)), np.asarray(_raw(b))
    _, _, rank, _ = np.linalg.lstsq(ra, rb, rcond=rcond)  # NumPy's checks and errors, its rank
    x = MF.lstsq(a, b, rcond).solution
    m, n = ra.shape
    if rank == n and m > n:
        fit = matmul(a, x) - b
        residuals = sum_(fit * fit, 0)
        if rb.ndim == 1:
            residuals = S.reshape(residuals, 1)
    else:
        residuals = Tensor._wrap(np.empty((0,), np.result_type(ra, rb)))
    return x, residuals, Tensor._wrap(np.asarray(rank)), D.svdvals(a)


def _matrix_power(a, n):
    a = _operand(a)
    try:
        n = int(n) if not isinstance(n, bool) and int(n) == n else n
    except (TypeError, ValueError):
        pass
    if not isinstance(n, int):
        raise TypeError("exponent must be an integer")
    if n < 0:
        a = _inexact(a)
    return MF.matrix_power(a, n)


def _matrix_norm(x, /, *, keepdims=False, ord="fro"):  # noqa: A002
    return L.matrix_norm(_inexact(x), ord, (-2, -1), bool(keepdims))


def _vector_norm(x, /, *, axis=None, keepdims=False, ord=2):  # noqa: A002
    x = _inexact(x)
    if isinstance(axis, (tuple, list)) and len(axis) > 1 and ord not in (2, None):
        ndim = len(S._shape(x))
        axes = tuple(sorted(a % ndim for a in axis))
        rest = [i for i in range(ndim) if i not in axes]
        moved = S.permute(x, *rest, *axes)
        shape = S._shape(moved)
        flat = S.reshape(moved, *shape[:len(rest)], -1)
        out = L.vector_norm(flat, ord, -1, False)
        if keepdims:
            out = S.reshape(out, *[1 if i in axes else n for i, n in enumerate(S._shape(x))])
        return out
    return L.vector_norm(x, 2 if ord is None else ord, axis, bool(keepdims))


def _move_last(t, axis):
    ndim = len(S._shape(t))
    axis = axis % ndim
    return S.permute(t, *[i for i in range(ndim) if i != axis], axis)


def _cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """``np.cross``: 2- or 3-vectors along ``axisa``/``axisb`` (``axis`` for all three), the
    result's vectors along ``axisc``, the other axes broadcast."""
    a, b = _operand(a), _operand(b)
    # NumPy's checks and result shape, on zero-strided stand-ins of the operands' shapes
    expected = np.cross(*(np.broadcast_to(np.zeros((), _meta(v).dtype), S._shape(v)) for v in (a, b)),
                        axisa, axisb, axisc, axis)
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _move_last(a, axisa), _move_last(b, axisb)
    two = [S._shape(v)[-1] == 2 for v in (a, b)]
    a, b = (_three(v) if t else v for v, t in zip((a, b), two))
    ndim = max(len(S._shape(a)), len(S._shape(b)))
    a, b = (S.reshape(v, *((1,) * (ndim - len(S._shape(v))) + S._shape(v))) for v in (a, b))
    c = MF.cross(a, b, dim=-1)
    if all(two):
        return S.reshape(c[..., 2], *expected.shape)
    nd = len(S._shape(c))
    axisc = axisc % nd
    dims = list(range(nd - 1))
    dims.insert(axisc, nd - 1)
    return S.permute(c, *dims)


def _three(v):
    """A 2-vector ``(x, y)`` as ``(x, y, 0)``."""
    from ..ops.joins import cat

    return cat([v, v[..., :1] * 0], -1)


def _linalg_cross(x1, x2, /, *, axis=-1):
    x1, x2 = _operand(x1), _operand(x2)
    np.linalg.cross(np.asarray(_meta(x1)), np.asarray(_meta(x2)), axis=axis)  # NumPy's checks
    return _cross(x1, x2, axis=axis)


SIGNATURES: dict[str, Callable[..., Any]] = {
    "linalg.cholesky": _cholesky, "linalg.eigh": _eigh, "linalg.eigvalsh": _eigvalsh,
    "linalg.svd": _svd, "linalg.svdvals": _svdvals, "linalg.qr": _qr, "linalg.pinv": _pinv,
    "linalg.lstsq": _lstsq, "linalg.matrix_power": _matrix_power,
    "linalg.matrix_norm": _matrix_norm, "linalg.vector_norm": _vector_norm, "cross": _cross,
    "linalg.cross": _linalg_cross,
}
