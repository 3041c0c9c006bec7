"""Matrix decompositions (``cr.linalg``): cholesky, eigh, eigvalsh, svd, svdvals, qr and
solve_triangular, batched over leading dimensions, with PyTorch's conventions and gradients.

A decomposition with several results is one primitive whose output packs them (each flattened
over its matrix axes, joined along the last axis); the public function slices them apart, so
each result's gradient flows back through one rule that sees all the cotangents at once.

Complex matrices: the rules are PyTorch's (with conjugate transposes), in PyTorch's conjugate
convention inside (the cotangents conjugated on the way in, the gradient on the way out, so the
walk's transpose convention holds, see core/engine); real eigenvalues and singular values are
packed as complex and sliced back to real. Complex eigen- and singular vectors are defined up
to a phase each: a loss that depends on those phases raises, as in PyTorch.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from ..core.dispatch import traced
from ..core.dtypes import check_operand as _check_operand
from . import matrix_functions  # noqa: F401  (pinv, lstsq, matrix_power, matrix_exp, cross: defined with these)
from ._define import define
from ._matrix_parts import (
    _as_complex,
    _diag,
    _diag_embed,
    _eye,
    _gaps,
    _imag_diag,
    _is_zero,
    _join,
    _narrow,
    _phase_check,
    _phi,
    _quiet,
    _sl,
    _tri_mask,
    _tri_solve,
    _unpack,
    _zeros,
)
from ._table import public
from .linalg import _linalg_dtype, _matrix, _square, cj, flag, is_complex, leading_batch, mH, numpy_names
from .products import _col, _mT, _row
from .shape import _ndim, _shape

eigh_result = namedtuple("eigh_result", ["eigenvalues", "eigenvectors"])
svd_result = namedtuple("svd_result", ["U", "S", "Vh"])
qr_result = namedtuple("qr_result", ["Q", "R"])


# ---------------------------------------------------------------------------------------------
# solve_triangular
# ---------------------------------------------------------------------------------------------

def _triangle(a, upper, unitriangular):
    n = a.shape[-1]
    keep = np.tri(n, dtype=bool)
    t = np.where(keep.T if upper else keep, a, 0)
    if unitriangular:
        t = np.where(np.eye(n, dtype=bool), 1, t)
    return t.astype(a.dtype, copy=False)


def _solve_triangular_impl(a, b, *, upper, left, unitriangular):
    t = _triangle(a, upper, unitriangular)
    try:
        if left:
            return np.linalg.solve(t, b)
        return np.swapaxes(np.linalg.solve(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)
    except np.linalg.LinAlgError:
        raise RuntimeError(f"linalg.solve_triangular: the triangular matrix A (shape {a.shape}) has "
                           f"a zero on its diagonal: it is singular") from None


def _project(m, x, upper, unitriangular):
    n = _shape(x)[-1]
    return x * _tri_mask(n, x, upper, 0, 0.0 if unitriangular else 1.0)


def _st_grad_b(m, g, ans, a, b, *, upper, left, unitriangular):
    return _tri_solve(m, _mT(m, a), g, not upper, left, unitriangular)


def _st_grad_a(m, g, ans, a, b, *, upper, left, unitriangular):
    gb = _st_grad_b(m, g, ans, a, b, upper=upper, left=left, unitriangular=unitriangular)
    ga = -m.matmul(gb, _mT(m, ans)) if left else -m.matmul(_mT(m, ans), gb)
    return _project(m, ga, upper, unitriangular)


def _st_jvp(m, tangents, ans, a, b, *, upper, left, unitriangular):
    ta, tb = tangents
    rhs = tb
    if ta is not None:
        da = _project(m, ta, upper, unitriangular)
        prod = m.matmul(da, ans) if left else m.matmul(ans, da)
        rhs = -prod if rhs is None else rhs - prod
    return _tri_solve(m, a, rhs, upper, left, unitriangular)


solve_triangular_prim = define(
    "solve_triangular", _solve_triangular_impl, (_st_grad_a, _st_grad_b), _st_jvp,
    save_ans=True, broadcasts=True, batching=leading_batch)


@public("linalg.solve_triangular")
def solve_triangular(A, B, *, upper: bool, left: bool = True, unitriangular: bool = False):
    """The ``X`` with ``A @ X = B`` (``X @ A = B`` for ``left=False``), ``A`` triangular: only its
    upper (``upper=True``) or lower triangle is read, its diagonal taken as ones with
    ``unitriangular=True`` (``torch.linalg.solve_triangular``). Batched and broadcast.

    >>> cr.linalg.solve_triangular(cr.tensor([[2.0, 1.0], [0.0, 4.0]]), cr.ones(2, 1), upper=True)
    """
    _check_operand("linalg.solve_triangular", A, "A")
    _check_operand("linalg.solve_triangular", B, "B")
    upper, left = flag("solve_triangular", "upper", upper), flag("solve_triangular", "left", left)
    unitriangular = flag("solve_triangular", "unitriangular", unitriangular)
    _linalg_dtype("solve_triangular", A)
    _linalg_dtype("solve_triangular", B)
    sa, sb = _shape(A), _shape(B)
    if len(sa) < 2 or sa[-1] != sa[-2] or len(sb) < 2:
        raise RuntimeError(f"linalg.solve_triangular: A must be a batch of square matrices and B a batch "
                           f"of matrices, got shapes {sa} and {sb}")
    n = sb[-2] if left else sb[-1]
    if n != sa[-1]:
        raise RuntimeError(f"linalg.solve_triangular: incompatible shapes of A {sa} and B {sb} for "
                           f"left={left} (B needs {sa[-1]} {'rows' if left else 'columns'})")
    return solve_triangular_prim(A, B, upper=upper, left=left, unitriangular=unitriangular)


# ---------------------------------------------------------------------------------------------
# cholesky
# ---------------------------------------------------------------------------------------------

def _cholesky_impl(a, *, upper):
    try:
        lower = np.linalg.cholesky(np.swapaxes(a, -1, -2) if upper else a)
    except np.linalg.LinAlgError:
        raise RuntimeError(f"linalg.cholesky: the factorization could not be completed because the input "
                           f"(shape {a.shape}) is not positive-definite") from None
    return np.swapaxes(lower, -1, -2) if upper else lower


def _cholesky_vjp(m, g, ans, a, *, upper):
    """PyTorch's ``cholesky_backward``, ``L⁻ᴴ M L⁻¹`` with ``X = tril(Lᴴ gL)`` and
    ``M = (X + tril(X, -1)ᴴ) / 2``, in PyTorch's convention for complex numbers (the cotangent
    conjugated on the way in, the result on the way out; see core/engine)."""
    low, gl = (mH(m, ans), _mT(m, g)) if upper else (ans, cj(m, g))
    x = m.matmul(mH(m, low), gl)
    n = _shape(x)[-1]
    x = x * _tri_mask(n, x, False)
    mid = (x + mH(m, x * _tri_mask(n, x, False, -1))) * 0.5
    y = _tri_solve(m, mH(m, low), mid, True)           # L⁻ᴴ M
    return cj(m, _tri_solve(m, low, y, False, left=False))  # L⁻ᴴ M L⁻¹


def _cholesky_jvp(m, tangents, ans, a, *, upper):
    low = mH(m, ans) if upper else ans
    x = _tri_solve(m, low, tangents[0], False)
    x = _tri_solve(m, mH(m, low), x, True, left=False)  # L⁻¹ dA L⁻ᴴ
    dl = m.matmul(low, _phi(m, x))
    return mH(m, dl) if upper else dl


cholesky_prim = define("cholesky", _cholesky_impl, (_cholesky_vjp,), _cholesky_jvp, save_inputs=False,
                       save_ans=True, batching=leading_batch)


@public("linalg.cholesky", numpy="linalg.cholesky")
def cholesky(A, *, upper: bool = False):
    """The Cholesky factor ``L`` (lower, ``A = L Lᴴ``) or ``U = Lᴴ`` (``upper=True``) of a symmetric
    (complex: Hermitian) positive-definite ``A``, batched. The gradient is PyTorch's: symmetric
    for real ``A`` (taken to be symmetric; only one triangle is read).

    >>> cr.linalg.cholesky(cr.tensor([[4.0, 2.0], [2.0, 3.0]]))
    """
    _check_operand("linalg.cholesky", A, "A")
    _square("cholesky", A)
    return cholesky_prim(A, upper=flag("cholesky", "upper", upper))


# ---------------------------------------------------------------------------------------------
# eigh, eigvalsh
# ---------------------------------------------------------------------------------------------

def _pack_eig(w, v):
    return np.concatenate([w, v.reshape(w.shape[:-1] + (-1,))], axis=-1)


def _eigh_impl(a, *, upper):
    w, v = np.linalg.eigh(a, UPLO="U" if upper else "L")
    return _pack_eig(w, v)


def _eig_parts(m, x, n):
    """The eigenvalues (real) and eigenvectors packed in ``x`` (complex for complex inputs)."""
    w, v = _unpack(m, x, ((n,), (n, n)))
    return (m.real(w) if is_complex(x) else w), v


def _eigh_vjp(m, g, ans, a, *, upper):
    """PyTorch's ``linalg_eig_backward`` (Hermitian): ``V (diag(gw) + skew(Vᴴ gV) / 2E) Vᴴ``, in
    PyTorch's convention for complex numbers (cotangent and result conjugated)."""
    n = _shape(a)[-1]
    w, v = _eig_parts(m, ans, n)
    gw, gv = _eig_parts(m, g, n)
    inner = _diag_embed(m, gw)
    if not _is_zero(gv):
        vhg = m.matmul(mH(m, v), cj(m, gv))
        if is_complex(v):
            _phase_check(m, "eigh", "eigenvectors", _imag_diag(m, vhg), None,
                         "abs(V)**2, of V @ diag(f(w)) @ V.mH, or of the eigenvalues alone")
        skew = (vhg - mH(m, vhg)) * 0.5 / _gaps(m, w)
        if is_complex(v) and not _is_zero(gw):  # PyTorch: the diagonal is the eigenvalues' cotangent
            skew = skew * (1.0 - _eye(n, skew))
        inner = inner + skew
    return cj(m, m.matmul(v, m.matmul(inner, mH(m, v))))


def _eigh_jvp(m, tangents, ans, a, *, upper):
    n = _shape(a)[-1]
    w, v = _eig_parts(m, ans, n)
    dp = m.matmul(mH(m, v), m.matmul(tangents[0], v))
    dv = m.matmul(v, dp / _gaps(m, w) * (1.0 - _eye(n, dp)))
    dw = _diag(m, dp)
    return _join(m, [_as_complex(m, m.real(dw), ans) if is_complex(dw) else dw, dv])


eigh_prim = define("eigh", _eigh_impl, (_quiet(_eigh_vjp),), _quiet(_eigh_jvp), save_ans=True, batching=leading_batch)


def _uplo(op, UPLO):
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.{op}: UPLO must be 'L' or 'U', got {UPLO!r}")
    return UPLO == "U"


@public("linalg.eigh", numpy="linalg.eigh")
def eigh(A, UPLO: str = "L") -> Any:
    """Eigenvalues (ascending) and eigenvectors of a symmetric or complex Hermitian ``A`` (its
    lower triangle, or upper with ``UPLO='U'``), batched: ``(eigenvalues, eigenvectors)`` as
    ``torch.linalg.eigh``; the eigenvalues are real.

    Gradients are PyTorch's (symmetric). With repeated eigenvalues the eigenvectors are not
    unique and their gradient is undefined: as in PyTorch it comes out inf or NaN when the loss
    uses the eigenvectors; a loss of the eigenvalues alone (or any function invariant to the
    choice of basis, ``eigvalsh``) keeps a finite gradient. Complex eigenvectors are defined up
    to a phase each (``v e^{iφ}``): a loss that depends on the phases raises, as in PyTorch
    (``|V|**2`` or ``V diag(f(w)) Vᴴ`` do not).

    >>> w, V = cr.linalg.eigh(cr.tensor([[2.0, 1.0], [1.0, 2.0]]))
    """
    _check_operand("linalg.eigh", A, "A")
    _square("eigh", A)
    n = _shape(A)[-1]
    w, v = _eig_parts(traced, eigh_prim(A, upper=_uplo("eigh", UPLO)), n)
    return eigh_result(w, v)


def _eigvalsh_vjp(m, g, ans, a, *, upper):
    n = _shape(a)[-1]
    v = _unpack(m, m.eigh(a, upper=upper), ((n,), (n, n)))[1]
    return m.matmul(cj(m, v) * _row(m, g), _mT(m, v))  # conj(V diag(g) Vᴴ)


def _eigvalsh_jvp(m, tangents, ans, a, *, upper):
    n = _shape(a)[-1]
    v = _unpack(m, m.eigh(a, upper=upper), ((n,), (n, n)))[1]
    out = m.sum(cj(m, v) * m.matmul(tangents[0], v), dim=(_ndim(v) - 2,), keepdim=False)
    return m.real(out) if is_complex(out) else out


eigvalsh_prim = define("eigvalsh", lambda a, *, upper: np.linalg.eigvalsh(a, UPLO="U" if upper else "L"),
                       (_eigvalsh_vjp,), _eigvalsh_jvp, batching=leading_batch)


@public("linalg.eigvalsh", numpy="linalg.eigvalsh")
def eigvalsh(A, UPLO: str = "L"):
    """The eigenvalues (ascending) of a symmetric ``A``, batched; gradient ``V diag(g) Vᵀ``, finite
    for repeated eigenvalues too.

    >>> cr.linalg.eigvalsh(cr.tensor([[2.0, 1.0], [1.0, 2.0]]))
    """
    _check_operand("linalg.eigvalsh", A, "A")
    _square("eigvalsh", A)
    return eigvalsh_prim(A, upper=_uplo("eigvalsh", UPLO))


# ---------------------------------------------------------------------------------------------
# svd, svdvals
# ---------------------------------------------------------------------------------------------

def _svd_shapes(shape, full):
    r, c = shape[-2], shape[-1]
    k = min(r, c)
    return ((r, r if full else k), (k,), (c if full else k, c)), r, c, k


def _svd_impl(a, *, full_matrices):
    r, c = a.shape[-2:]
    if min(r, c) == 0:
        (su, ss, sv), *_ = _svd_shapes(a.shape, full_matrices)
        batch = a.shape[:-2]
        eye = np.broadcast_to(np.eye(max(r, c), dtype=a.dtype), batch + (max(r, c),) * 2)
        u = eye[..., :su[0], :su[1]]
        vh = eye[..., :sv[0], :sv[1]]
        return np.concatenate([x.reshape(batch + (-1,)) for x in (u, np.zeros(batch + ss, a.dtype), vh)], -1)
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    batch = s.shape[:-1]
    return np.concatenate([u.reshape(batch + (-1,)), s, vh.reshape(batch + (-1,))], axis=-1)


def _svd_unpack(m, x, shapes):
    u, s, vh = _unpack(m, x, shapes)
    return u, (m.real(s) if is_complex(x) else s), vh


def _svd_vjp(m, g, ans, a, *, full_matrices):
    """PyTorch's ``svd_backward``, in its convention for complex numbers (the cotangents
    conjugated on the way in, the result on the way out; see core/engine)."""
    shapes, r, c, k = _svd_shapes(_shape(a), full_matrices)
    u, s, vh = _svd_unpack(m, ans, shapes)
    gu, gs, gvh = _svd_unpack(m, g, shapes)
    if full_matrices:  # the extra columns are an arbitrary basis: their cotangents are ignored
        u, gu, vh, gvh = _narrow(m, u, -1, k), _narrow(m, gu, -1, k), _narrow(m, vh, -2, k), _narrow(m, gvh, -2, k)
    use_u, use_v = not _is_zero(gu), not _is_zero(gvh)
    gu, gvh = cj(m, gu), cj(m, gvh)
    inner = _diag_embed(m, gs)
    if use_u or use_v:
        off = uhgu = vhgv = None
        if use_u:
            utg = m.matmul(mH(m, u), gu)
            uhgu = utg - mH(m, utg)
            off = uhgu * _row(m, s)
        if use_v:
            vtg = m.matmul(vh, mH(m, gvh))
            vhgv = vtg - mH(m, vtg)
            term = _col(m, s) * vhgv
            off = term if off is None else off + term
        inner = inner + off / _gaps(m, s * s)
        if is_complex(u):
            _phase_check(m, "svd", "singular vectors", None if uhgu is None else _imag_diag(m, uhgu),
                         None if vhgv is None else _imag_diag(m, vhgv),
                         "abs(U)**2, of U @ diag(f(S)) @ Vh, or of the singular values alone")
            if use_u and use_v:
                inner = inner + _diag_embed(m, _diag(m, uhgu) / (s * 2.0))
    if r > c and use_u:
        ga = m.matmul(u, inner)
        gu_s = gu / _row(m, s)
        ga = ga + gu_s - m.matmul(u, m.matmul(mH(m, u), gu_s))
        return cj(m, m.matmul(ga, vh))
    if r < c and use_v:
        ga = m.matmul(inner, vh)
        gv_s = gvh / _col(m, s)
        ga = ga + gv_s - m.matmul(m.matmul(gv_s, mH(m, vh)), vh)
        return cj(m, m.matmul(u, ga))
    return cj(m, m.matmul(u, m.matmul(inner, vh)))


def _svd_jvp(m, tangents, ans, a, *, full_matrices):
    """PyTorch's ``linalg_svd_jvp`` (complex: with its ``i Im diag(dP) / 2S`` terms)."""
    shapes, r, c, k = _svd_shapes(_shape(a), full_matrices)
    u, s, vh = _svd_unpack(m, ans, shapes)
    if full_matrices:
        u, vh = _narrow(m, u, -1, k), _narrow(m, vh, -2, k)
    da = tangents[0]
    v = mH(m, vh)
    dp = m.matmul(mH(m, u), m.matmul(da, v))
    ds = _diag(m, dp)
    if is_complex(ds):
        ds = m.real(ds)
    dp = dp - _diag_embed(m, ds)
    e = _gaps(m, s * s)
    du = (dp * _row(m, s) + mH(m, dp * _row(m, s))) / e
    dvh = -(_col(m, s) * dp + mH(m, _col(m, s) * dp)) / e
    if is_complex(dp):
        half = _diag_embed(m, _diag(m, dp) / (s * 2.0))
        du, dvh = du + half, dvh + half
    du, dvh = m.matmul(u, du), m.matmul(dvh, vh)
    if r > c:
        dav = m.matmul(da, v / _row(m, s))
        du = du + dav - m.matmul(u, m.matmul(mH(m, u), dav))
        if full_matrices:
            du = m.cat(du, _zeros(_shape(du)[:-1] + (r - c,), ans), dim=_ndim(du) - 1)
    if r < c:
        uda = m.matmul(mH(m, u) / _col(m, s), da)
        dvh = dvh + uda - m.matmul(m.matmul(uda, v), vh)
        if full_matrices:
            dvh = m.cat(dvh, _zeros(_shape(dvh)[:-2] + (c - r, c), ans), dim=_ndim(dvh) - 2)
    return _join(m, [du, _as_complex(m, ds, ans), dvh])


svd_prim = define("svd", _svd_impl, (_quiet(_svd_vjp),), _quiet(_svd_jvp), save_ans=True, batching=leading_batch)


def _svd_parts(A, full_matrices):
    shapes = _svd_shapes(_shape(A), full_matrices)[0]
    return _svd_unpack(traced, svd_prim(A, full_matrices=bool(full_matrices)), shapes)


@public("linalg.svd", numpy="linalg.svd")
def svd(A, full_matrices: bool = True) -> Any:
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``, singular values descending, batched
    (``torch.linalg.svd``). ``full_matrices=True`` gives square ``U`` and ``Vh``.

    Gradients are PyTorch's: with ``full_matrices=True`` the cotangents of the extra columns of
    ``U`` (rows of ``Vh``) are ignored; with repeated (or zero, for non-square ``A``) singular
    values the singular vectors are not unique and a loss that uses them gets an inf or NaN
    gradient, as in PyTorch; losses of the singular values alone (``svdvals``) stay finite.
    The signs of the singular vectors are NumPy's (LAPACK's) choice, which may differ from
    PyTorch's. Complex singular vectors are defined up to a phase each (``(u e^{iφ}, v e^{iφ})``):
    a loss that depends on the phases raises, as in PyTorch (``|U|**2`` or ``U @ Vh`` do not).

    >>> U, S, Vh = cr.linalg.svd(cr.tensor([[3.0, 0.0], [4.0, 5.0]]), full_matrices=False)
    """
    _check_operand("linalg.svd", A, "A")
    _matrix("svd", A)
    return svd_result(*_svd_parts(A, flag("svd", "full_matrices", full_matrices)))


def _svdvals_uv(m, a):
    shapes = _svd_shapes(_shape(a), False)[0]
    u, _, vh = _unpack(m, m.svd(a, full_matrices=False), shapes)
    return u, vh


def _svdvals_vjp(m, g, ans, a):
    u, vh = _svdvals_uv(m, a)
    return m.matmul(cj(m, u) * _row(m, g), cj(m, vh))  # conj(U diag(g) Vh)


def _svdvals_jvp(m, tangents, ans, a):
    u, vh = _svdvals_uv(m, a)
    out = m.sum(cj(m, u) * m.matmul(tangents[0], mH(m, vh)), dim=(_ndim(u) - 2,), keepdim=False)
    return m.real(out) if is_complex(out) else out


svdvals_prim = define("svdvals", lambda a: np.linalg.svd(a, compute_uv=False), (_svdvals_vjp,), _svdvals_jvp,
                      batching=leading_batch)


@public("linalg.svdvals", numpy=numpy_names("linalg.svdvals"))
def svdvals(A):
    """The singular values of ``A``, descending, batched; gradient ``U diag(g) Vh``, finite for
    repeated singular values too.

    >>> cr.linalg.svdvals(cr.tensor([[3.0, 0.0], [4.0, 5.0]]))
    """
    _check_operand("linalg.svdvals", A, "A")
    _matrix("svdvals", A)
    return svdvals_prim(A)


# ---------------------------------------------------------------------------------------------
# qr
# ---------------------------------------------------------------------------------------------

def _qr_shapes(shape, mode):
    r, c = shape[-2], shape[-1]
    k = min(r, c)
    q, rr = ((r, r), (r, c)) if mode == "complete" else ((r, k), (k, c))
    return ((rr,) if mode == "r" else (q, rr)), r, c


def _qr_impl(a, *, mode):
    batch = a.shape[:-2]
    if mode == "r":
        return np.linalg.qr(a, mode="r").reshape(batch + (-1,))
    q, rr = np.linalg.qr(a, mode=mode)
    return np.concatenate([q.reshape(batch + (-1,)), rr.reshape(batch + (-1,))], axis=-1)


def _qr_check(a, mode):
    if mode == "r":
        raise RuntimeError("linalg.qr: the derivative of linalg.qr depends on Q, which is not computed "
                           "when mode='r'; use linalg.qr(A, mode='reduced') to differentiate through it")
    r, c = _shape(a)[-2:]
    if mode == "complete" and r > c:
        raise RuntimeError("linalg.qr: the QR decomposition is not differentiable when mode='complete' "
                           "and nrows > ncols; use mode='reduced'")


def _qr_vjp(m, g, ans, a, *, mode):
    """PyTorch's ``linalg_qr_backward``, in its convention for complex numbers (the cotangents
    conjugated on the way in, the result on the way out; see core/engine)."""
    _qr_check(a, mode)
    shapes, r, c = _qr_shapes(_shape(a), mode)
    q, rr = _unpack(m, ans, shapes)
    gq, gr = (cj(m, x) for x in _unpack(m, g, shapes))
    x = m.matmul(gr, mH(m, rr)) - m.matmul(mH(m, q), gq)
    k = _shape(x)[-1]
    if r >= c:
        t = x * _tri_mask(k, x, True)
        d = _diag(m, t)
        sym = t + mH(m, t) - _diag_embed(m, m.real(d) if is_complex(d) else d)
        ga = m.matmul(q, sym) + gq
        return cj(m, _tri_solve(m, mH(m, rr), ga, False, left=False))  # (gQ + Q sym) R⁻ᴴ
    ga = m.matmul(q, _phi(m, mH(m, x) - x))
    ga = _tri_solve(m, mH(m, _sl(m, rr, cols=slice(0, r))), ga, False, left=False)
    ga = m.cat(ga, _zeros(_shape(ga)[:-1] + (c - r,), ga), dim=_ndim(ga) - 1)
    return cj(m, ga + m.matmul(q, gr))


def _qr_jvp(m, tangents, ans, a, *, mode):
    """PyTorch's ``linalg_qr_jvp``."""
    _qr_check(a, mode)
    shapes, r, c = _qr_shapes(_shape(a), mode)
    q, rr = _unpack(m, ans, shapes)
    da = tangents[0]
    if r >= c:
        dar = _tri_solve(m, rr, da, True, left=False)  # dA R⁻¹
        x = m.matmul(mH(m, q), dar)
        dr = (x + mH(m, x)) * _tri_mask(c, x, True, 0, 0.5)
        return _join(m, [dar - m.matmul(q, dr), m.matmul(dr, rr)])
    qhda = m.matmul(mH(m, q), da)
    y = _tri_solve(m, _sl(m, rr, cols=slice(0, r)), _sl(m, qhda, cols=slice(0, r)), True, left=False)
    low = y * _tri_mask(r, y, False, -1)
    if is_complex(y):
        low = low + _diag_embed(m, m.imag(_diag(m, y)) * 1j)
    z = low - mH(m, low)
    dq = z - _diag_embed(m, _diag(m, z)) * 0.5
    return _join(m, [m.matmul(q, dq), qhda - m.matmul(dq, rr)])


qr_prim = define("qr", _qr_impl, (_qr_vjp,), _qr_jvp, save_ans=True, batching=leading_batch)


@public("linalg.qr", numpy="linalg.qr")
def qr(A, mode: str = "reduced") -> Any:
    """``(Q, R)`` with ``A = Q R``, batched (``torch.linalg.qr``): ``mode='reduced'`` (``Q`` of
    ``min(m, n)`` columns), ``'complete'`` (square ``Q``) or ``'r'`` (``Q`` empty).

    Gradients are PyTorch's, for full-rank ``A``; as in PyTorch they raise for ``mode='r'`` and for
    ``mode='complete'`` with more rows than columns.

    >>> Q, R = cr.linalg.qr(cr.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    """
    _check_operand("linalg.qr", A, "A")
    _matrix("qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    shapes = _qr_shapes(_shape(A), mode)[0]
    parts = _unpack(traced, qr_prim(A, mode=mode), shapes)
    if mode == "r":
        return qr_result(traced.reshape(traced.getitem(parts[0], index=(Ellipsis, slice(0, 0), 0)),
                                        shape=_shape(A)[:-2] + (0,)), parts[0])
    return qr_result(*parts)

