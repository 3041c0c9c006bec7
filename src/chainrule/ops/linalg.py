"""Functions of matrices (``cr.linalg``): inv, det, slogdet, solve and norm, with PyTorch's
gradients, singular matrices included.

Real (float32, float64) and complex (complex64, complex128) matrices, as PyTorch. The rules are
written in the backward walk's transpose convention (see core/engine): holomorphic functions
(inv, det, solve) keep the real formulas; the others (norms, the sign and log-modulus of the
determinant, and the decompositions) conjugate where PyTorch's conjugate transposes require:
``cj`` and ``mH`` below, which are no-ops on real numbers.
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

import numpy as np

from ..core import backend as B
from ..core import tracing
from ..core.dtypes import check_operand as _check_operand
from . import _template as T
from ._define import define, named, nondifferentiable
from ._table import public
from .comparisons import isnan
from .elementwise import complex_unsupported
from .extrema import amax, amin
from .piecewise import abs as abs_
from .piecewise import sign, where
from .products import _INF, _LINALG_DTYPES, _axis_of, _col, _dtype, _mT, _row
from .reductions import sum as sum_
from .reductions import sum_prim
from .shape import _ndim, _shape, permute, reshape, squeeze
from .statistics import norm2_prim, norm_p_prim

slogdet_result = namedtuple("slogdet_result", ["sign", "logabsdet"])


def flag(op: str, name: str, value) -> bool:
    """``value`` of the bool option ``name`` of ``linalg.<op>`` (PyTorch refuses anything else)."""
    if not isinstance(value, (bool, B.bool_)):
        raise TypeError(f"linalg.{op}: {name} must be a bool, got {type(value).__name__} {value!r:.40}")
    return bool(value)


def numpy_names(*names: str) -> tuple[str, ...]:
    """The NumPy functions among ``names`` that this NumPy has (``np.linalg.svdvals`` is 2.0's)."""
    found = []
    for name in names:
        target: Any = np
        for part in name.split("."):
            target = getattr(target, part, None)
        if target is not None:
            found.append(name)
    return tuple(found)


def leading_batch(ns, fn, args, params):
    """The batching rule of the operations NumPy batches over leading axes (``np.linalg``): the
    batch axis leads, the batched operands get size-1 axes after it up to the largest number of
    per-example axes, and the operation broadcasts the rest."""
    ndim = max(len(_shape(a)) for a in args)
    return ns.wrap(fn(*[ns.pad_to(a, ndim) if getattr(a, "ns", None) is ns else a for a in args], **params))


def _solve_batching(ns, fn, args, params):
    """``leading_batch`` for ``solve``, whose vector right-hand sides go through as columns."""
    a, b = args
    if len(_shape(b)) != 1 or getattr(b, "ns", None) is not ns:
        return leading_batch(ns, fn, args, params)
    lead = max(len(_shape(a)) - 2, 0)
    column = ns.base.reshape(b.value, shape=(ns.size,) + (1,) * lead + (_shape(b)[0], 1))
    out = fn(a.value if getattr(a, "ns", None) is ns else a, column)
    shape = B.data_of(out).shape
    return ns.wrap(ns.base.reshape(out, shape=shape[:-1]))


def _square(op, a):
    s = _shape(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise RuntimeError(f"linalg.{op}: expected a square matrix (or a batch of them), got shape {s}")
    _linalg_dtype(op, a)


_C64 = np.dtype(np.complex64)
_C128 = np.dtype(np.complex128)


def _linalg_dtype(op, a, complex_ok: bool = True):
    """float32, float64, complex64 and complex128, as PyTorch (NumPy would compute integers in
    float64 and refuse float16 with a bare error); ``complex_ok=False`` refuses complex too."""
    dt = _dtype(a._data if hasattr(a, "_data") else a)
    if dt not in _LINALG_DTYPES and not (complex_ok and dt in (_C64, _C128)):
        if dt.kind == "c":
            raise complex_unsupported(f"linalg.{op}", dt)
        raise RuntimeError(
            f"linalg.{op}: expected a float32, float64, complex64 or complex128 tensor, got dtype "
            f"{dt}; convert it first, e.g. A.double()"
        )


def is_complex(x) -> bool:
    """Whether ``x`` (an array, a tensor, a rule's operand) holds complex numbers."""
    return B.kind(B.data_of(B.data_of(x)).dtype) == "c"


def cj(m, x):
    """``conj(x)`` for complex ``x``, ``x`` itself for real (no copy, no extra node)."""
    return m.conj(x) if is_complex(x) else x


def mH(m, x):
    """The conjugate transpose of a batch of matrices (the transpose for real ones)."""
    return _mT(m, cj(m, x))


def _inv_impl(a):
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise RuntimeError(f"linalg.inv: the matrix (shape {a.shape}) is singular and has no inverse") from None


inv_prim = define(
    "inv", _inv_impl,
    (lambda m, g, ans, a: -m.matmul(_mT(m, ans), m.matmul(g, _mT(m, ans))),),
    lambda m, tangents, ans, a: -m.matmul(ans, m.matmul(tangents[0], ans)),
    save_inputs=False, save_ans=True, template=T.call("np.linalg.inv"), batching=leading_batch,
)


@public("linalg.inv", numpy="linalg.inv")
def inv(A):
    """Matrix inverse (batched over leading dimensions)."""
    _check_operand("linalg.inv", A, "A")
    _square("inv", A)
    return inv_prim(A)


def _expand2(m, v):
    s = _shape(v)
    return m.reshape(v, shape=s + (1, 1))


def _cofactors(m, a):
    """The matrix of cofactors of ``a`` (``adj(a)ᵀ = det(a) a⁻ᵀ``: the gradient of det), batched,
    for singular matrices too: the signed determinants of the minors, differentiable again. (A
    plain backward pass computes the same matrix from the SVD, ``_svd_cofactors``.)"""
    n = _shape(a)[-1]
    if n == 1:
        return a * 0.0 + 1.0  # the 1x1 cofactor, kept in the graph (its derivative is 0)
    like = B.data_of(a)
    keep = B.as_array([[j for j in range(n) if j != i] for i in range(n)], like=like)  # keep[i]: all but i
    minors = m.getitem(a, index=(Ellipsis, keep[:, None, :, None], keep[None, :, None, :]))
    signs = B.as_array([[1 - 2 * ((i + j) % 2) for j in range(n)] for i in range(n)], _dtype(a), like=like)
    return m.det(minors) * signs


def _svd_cofactors(a):
    """``_cofactors`` of a NumPy array from the SVD ``a = U diag(s) Vh``, as PyTorch:
    ``det(U) det(Vh) conj(U) diag(∏_{j≠i} s_j) conj(Vh)`` (the conjugates for complex ``a``:
    ``det(a) a⁻ᵀ``; O(n³) where the minors cost O(n⁵); first order)."""
    space = B.namespace(a)
    u, s, vh = space.linalg.svd(a)
    ones = B.ones(s.shape[:-1] + (1,), s.dtype, like=s)
    before = space.concat([ones, space.cumulative_prod(s[..., :-1], axis=-1)], axis=-1)
    tail = space.flip(space.cumulative_prod(space.flip(s[..., 1:], axis=-1), axis=-1), axis=-1)
    after = space.concat([tail, ones], axis=-1)
    scale = (space.linalg.det(u) * space.linalg.det(vh))[..., None] * before * after
    if B.kind(u.dtype) == "c":
        u, vh = space.conj(u), space.conj(vh)
    return space.matmul(u * scale[..., None, :], vh)


def _singular(det) -> bool:
    return tracing.decide(det, _zero_in, "whether the determinant is 0")


def _zero_in(data) -> bool:
    return B.any_of(data == 0)


def _det_vjp(m, g, ans, a):
    if _singular(ans):  # the inverse does not exist, the cofactors do
        return _expand2(m, g) * _cofactors(m, a)
    return _expand2(m, g * ans) * _mT(m, m.inv(a))


def _det_raw_vjp(m, g, ans, a):
    """``_det_vjp`` with the cofactors from the SVD."""
    if _singular(ans):
        return _expand2(m, g) * _svd_cofactors(a)
    return _det_vjp(m, g, ans, a)


def _det_jvp(m, tangents, ans, a):
    if _singular(ans):
        return _sum_last2(m, _cofactors(m, a) * tangents[0])
    return ans * _batched_trace(m, m.solve(a, tangents[0]))


def _sum_last2(m, x):
    n = _ndim(x)
    return m.sum(x, dim=(n - 2, n - 1), keepdim=False)


def _batched_trace(m, x):
    n = _ndim(x)
    return m.sum(m.diagonal(x, offset=0, dim1=n - 2, dim2=n - 1), dim=(n - 2,), keepdim=False)


det_prim = define("det", np.linalg.det, (_det_vjp,), _det_jvp, save_ans=True, raw_vjp=(_det_raw_vjp,),
                  template=T.call("np.linalg.det"), batching=leading_batch)


@public("linalg.det", numpy="linalg.det")
def det(A):
    """Determinant (batched over leading dimensions).

    Its gradient is the matrix of cofactors, also where ``A`` is singular (computed from the SVD,
    as PyTorch does with ``create_graph=True``; PyTorch's first-order backward and forward mode
    return 0 there instead, which is not the derivative).
    """
    _check_operand("linalg.det", A, "A")
    _square("det", A)
    return det_prim(A)


def _logabsdet_vjp(m, g, ans, a):
    if _singular_log(ans):  # a⁻ᵀ = cofactors / det: ±inf (or NaN for 0/0), as PyTorch
        return _expand2(m, g / m.det(a)) * _cofactors(m, a)
    return _expand2(m, g) * _mT(m, m.inv(a))


def _logabsdet_raw_vjp(m, g, ans, a):
    """``_logabsdet_vjp`` with the cofactors from the SVD."""
    if _singular_log(ans):
        return _expand2(m, g / m.det(a)) * _svd_cofactors(a)
    return _logabsdet_vjp(m, g, ans, a)


def _logabsdet_jvp(m, tangents, ans, a):
    """``Re tr(a⁻¹ da)`` (the real part for complex ``a``: ``log|det|`` is real)."""
    if _singular_log(ans):
        out = _sum_last2(m, _cofactors(m, a) * tangents[0]) / m.det(a)
    else:
        out = _batched_trace(m, m.solve(a, tangents[0]))
    return m.real(out) if is_complex(a) else out


def _singular_log(logabsdet) -> bool:
    return tracing.decide(logabsdet, _minus_inf_in, "whether the log-determinant is -inf")


def _minus_inf_in(data) -> bool:
    return B.any_of(data == -math.inf)


logabsdet_prim = define("logabsdet", lambda a: np.linalg.slogdet(a)[1], (_logabsdet_vjp,), _logabsdet_jvp,
                        save_ans=True, raw_vjp=(_logabsdet_raw_vjp,), batching=leading_batch,
                        template=T.Template(lambda p, k, v: f"np.linalg.slogdet({p[0]})[1]"))


sign_det = nondifferentiable("slogdet_sign", lambda a: np.linalg.slogdet(a)[0], batching=leading_batch, template=T.Template(lambda p, k, v: f"np.linalg.slogdet({p[0]})[0]"))


def _tr_inv_times(m, a, t, sign):
    """``tr(a⁻¹ t)`` (cofactors over the determinant where ``a`` is singular)."""
    if _singular(sign):
        return _sum_last2(m, _cofactors(m, a) * t) / m.det(a)
    return _batched_trace(m, m.solve(a, t))


def _inv_t(m, a, sign):
    """``a⁻ᵀ`` (cofactors over the determinant, inf or NaN, where ``a`` is singular)."""
    if _singular(sign):
        return _cofactors(m, a) / _expand2(m, m.det(a))
    return _mT(m, m.inv(a))


def _csign_vjp(m, g, ans, a):
    """The sign ``det/|det|`` of a complex matrix moves by ``i sign Im tr(a⁻¹ da)``: its
    transpose is ``i Im(g sign) a⁻ᵀ`` (PyTorch's ``slogdet_backward``, transposed)."""
    return _expand2(m, m.imag(g * ans) * 1j) * _inv_t(m, a, ans)


def _csign_jvp(m, tangents, ans, a):
    return ans * m.imag(_tr_inv_times(m, a, tangents[0], ans)) * 1j


complex_sign_det = define("slogdet_complex_sign", lambda a: np.linalg.slogdet(a)[0], (_csign_vjp,), _csign_jvp,
                          save_ans=True, batching=leading_batch,
                          doc="the sign det/|det| of complex matrices (differentiable, as PyTorch's)")


@public("linalg.slogdet", numpy="linalg.slogdet")
def slogdet(A) -> Any:
    """``(sign, log|det A|)``; the log-determinant is differentiable, and so is the sign of a
    complex ``A`` (``det/|det|``, as PyTorch's)."""
    _check_operand("linalg.slogdet", A, "A")
    _square("slogdet", A)
    return slogdet_result(complex_sign_det(A) if is_complex(A) else sign_det(A), logabsdet_prim(A))


def _solve_impl(a, b):
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        raise RuntimeError(f"linalg.solve: the matrix A (shape {a.shape}) is singular") from None


def _solve_vector(m, a, rhs, shape):
    """``solve(a, rhs)`` for a vector right-hand side (``rhs`` of shape (..., n)), batched or not.

    NumPy takes a 2-D ``rhs`` for a matrix, so batches of vectors go through as columns.
    """
    return m.reshape(m.solve(a, _col(m, rhs)), shape=shape)


def _solve_grad_b(m, g, ans, a, b):
    if _ndim(b) == 1:
        return _solve_vector(m, _mT(m, a), g, _shape(g))
    return m.solve(_mT(m, a), g)


def _solve_grad_a(m, g, ans, a, b):
    if _ndim(b) == 1:
        gb = _solve_vector(m, _mT(m, a), g, _shape(g))
        return -_col(m, gb) * _row(m, ans)
    gb = m.solve(_mT(m, a), g)
    return -m.matmul(gb, _mT(m, ans))


def _solve_jvp(m, tangents, ans, a, b):
    ta, tb = tangents
    if _ndim(b) == 1:  # work with columns (..., n, 1): a batch of vectors is not a matrix
        rhs = None if tb is None else _col(m, tb)
        if ta is not None:
            prod = m.matmul(ta, _col(m, ans))
            rhs = -prod if rhs is None else rhs - prod
        return m.reshape(m.solve(a, rhs), shape=_shape(ans))
    rhs = tb
    if ta is not None:
        prod = m.matmul(ta, ans)
        rhs = -prod if rhs is None else rhs - prod
    return m.solve(a, rhs)


solve_prim = define("solve", _solve_impl, (_solve_grad_a, _solve_grad_b), _solve_jvp,
                    save_ans=True, broadcasts=True, template=T.call("np.linalg.solve"), batching=_solve_batching)


@public("linalg.solve", numpy="linalg.solve")
def solve(A, B):
    """The ``X`` with ``A @ X = B`` (``B`` a vector or a batch of matrices)."""
    _check_operand("linalg.solve", A, "A")
    _check_operand("linalg.solve", B, "B")
    _square("solve", A)
    sa, sb = _shape(A), _shape(B)
    if (len(sb) == 1 and sb[0] != sa[-1]) or (len(sb) > 1 and sb[-2] != sa[-1]):
        raise RuntimeError(f"linalg.solve: A of shape {sa} and B of shape {sb} do not match ({sa[-1]} rows needed)")
    return solve_prim(A, B)


@public("linalg.norm", numpy="linalg.norm")
def linalg_norm(A, ord=None, dim=None, keepdim: bool = False):  # noqa: A002
    """Vector or matrix norm, with NumPy's and PyTorch's rules for choosing between them.

    ``dim`` an int or a 1-tuple: the vector norm along it; a 2-tuple: the matrix norm over those
    dimensions; None: the 2-norm of all elements when ``ord`` is None, else the vector norm of a
    1-D tensor or the matrix norm of a 2-D one. Vector ``ord``: any number (0 counts the
    non-zeros), ``inf``, ``-inf``; matrix ``ord``: ``'fro'``, ``'nuc'``, 1, -1, 2, -2, ``inf``,
    ``-inf`` (``'nuc'``, 2 and -2 through the singular values).
    """
    _check_operand("linalg.norm", A, "A")
    if not hasattr(A, "_data") and not isinstance(A, B.ndarray):
        raise TypeError(f"linalg.norm: A must be a tensor, got {type(A).__name__} {A!r:.40}")
    if not isinstance(keepdim, (bool, B.bool_)):
        raise TypeError(f"linalg.norm: keepdim must be a bool, got {type(keepdim).__name__} {keepdim!r:.40}")
    ndim = _ndim(A)
    if dim is None:
        if ord is None:
            return norm2_prim(_modulus(A), dim=None, keepdim=bool(keepdim))
        if ndim == 1:
            return _vector_norm(A, ord, (0,), keepdim)
        if ndim == 2:
            return _matrix_norm(A, ord, 0, 1, keepdim)
        raise ValueError(
            f"linalg.norm: with ord={ord!r} and no dim the input must be 1-D or 2-D, got shape "
            f"{_shape(A)}; give dim (an int for a vector norm, a pair for a matrix norm)"
        )
    if isinstance(dim, (tuple, list)):
        if len(dim) == 1:
            return _vector_norm(A, ord, (_axis_of("linalg.norm", dim[0], ndim),), keepdim)
        if len(dim) == 2:
            return _matrix_norm(A, ord, _axis_of("linalg.norm", dim[0], ndim),
                                _axis_of("linalg.norm", dim[1], ndim), keepdim)
        raise ValueError(f"linalg.norm: dim must be an int, a 1-tuple or a 2-tuple, got {dim!r}")
    return _vector_norm(A, ord, (_axis_of("linalg.norm", dim, ndim),), keepdim)


def _modulus(A):
    """``|A|`` for a complex ``A`` (every norm is a norm of the moduli; gradient PyTorch's,
    0 at 0), ``A`` itself for a real one."""
    return abs_(A) if is_complex(A) else A


def _vector_norm(A, ord, dims, keepdim):  # noqa: A002
    keepdim = bool(keepdim)
    A = _modulus(A)
    if ord is None or (not isinstance(ord, str) and ord == 2):
        return norm2_prim(A, dim=dims, keepdim=keepdim)
    if isinstance(ord, str) or not isinstance(ord, (int, float, B.integer, B.floating)):
        raise ValueError(f"linalg.norm: invalid norm order {ord!r} for vectors; use a number, inf or -inf")
    if ord == _INF:
        return amax(abs_(A), dims, keepdim)
    if ord == -_INF:
        return amin(abs_(A), dims, keepdim)
    if ord == 0:  # the number of non-zeros (NaN counts): a zero gradient, history kept
        return sum_prim(where(isnan(A), 1.0, sign(abs_(A))), dim=dims, keepdim=keepdim)
    if ord == 1:
        return sum_prim(abs_(A), dim=dims, keepdim=keepdim)
    return norm_p_prim(A, p=float(ord), dim=dims, keepdim=keepdim)


def _matrix_norm(A, ord, d0, d1, keepdim):  # noqa: A002
    if d0 == d1:
        raise ValueError(f"linalg.norm: the two dims of a matrix norm must differ, got ({d0}, {d1})")
    if ord is None or ord == "fro":
        return norm2_prim(_modulus(A), dim=tuple(sorted((d0, d1))), keepdim=bool(keepdim))
    if isinstance(ord, str) and ord != "nuc":
        raise ValueError(f"linalg.norm: invalid norm order {ord!r} for matrices; use 'fro', 'nuc', 1, -1, 2, -2, inf or -inf")
    if ord in (2, -2, "nuc"):
        return _spectral_norm(A, ord, d0, d1, keepdim)
    if ord in (1, -1):
        col = sum_(abs_(A), d0, keepdim=True)
        out = amax(col, d1, keepdim=True) if ord == 1 else amin(col, d1, keepdim=True)
    elif ord in (_INF, -_INF):
        row = sum_(abs_(A), d1, keepdim=True)
        out = amax(row, d0, keepdim=True) if ord > 0 else amin(row, d0, keepdim=True)
    else:
        raise ValueError(f"linalg.norm: invalid norm order {ord!r} for matrices; use 'fro', 'nuc', 1, -1, 2, -2, inf or -inf")
    return out if keepdim else squeeze(out, (d0, d1))


def _spectral_norm(A, ord, d0, d1, keepdim):  # noqa: A002
    """The nuclear norm (``'nuc'``), the largest (2) or smallest (-2) singular value over the
    matrix dimensions ``(d0, d1)``, from ``svdvals`` (gradients as PyTorch's)."""
    from .decompositions import svdvals  # decompositions builds on this module

    shape = _shape(A)
    rest = [i for i in range(len(shape)) if i not in (d0, d1)]
    sv = svdvals(permute(A, *rest, d0, d1))
    out = sum_(sv, -1) if ord == "nuc" else amax(sv, -1) if ord == 2 else amin(sv, -1)
    if keepdim:
        out = reshape(out, *[1 if i in (d0, d1) else n for i, n in enumerate(shape)])
    return out


@public("linalg.vector_norm", numpy=numpy_names("linalg.vector_norm"))
def vector_norm(x, ord=2, dim=None, keepdim: bool = False):  # noqa: A002
    """``(Σ |x|^ord)^(1/ord)`` over ``dim`` (all elements when None), as ``torch.linalg.vector_norm``:
    ``ord`` any number (0 counts the non-zeros), ``inf`` or ``-inf``. The gradient at a zero
    vector is PyTorch's 0.

    >>> cr.linalg.vector_norm(cr.tensor([3.0, 4.0]))
    """
    _check_operand("linalg.vector_norm", x, "x")
    keepdim = flag("vector_norm", "keepdim", keepdim)
    if isinstance(ord, (bool, B.bool_)) or not isinstance(ord, (int, float, B.integer, B.floating)):
        raise TypeError(f"linalg.vector_norm: ord must be a number, inf or -inf, got {type(ord).__name__} {ord!r:.40}")
    ndim = _ndim(x)
    if ndim == 0:
        return abs_(x) if ord != 0 else _vector_norm(reshape(x, 1), 0, (0,), False)
    if dim is None:
        dims = tuple(range(ndim))
    else:
        listed = [_axis_of("linalg.vector_norm", d, ndim) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
        if len(set(listed)) != len(listed):
            raise RuntimeError(f"linalg.vector_norm: dim {dim!r} names a dimension more than once")
        dims = tuple(listed)
    return named("linalg.vector_norm", _vector_norm, x, ord, dims, keepdim)


@public("linalg.matrix_norm", numpy=numpy_names("linalg.matrix_norm"))
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False):  # noqa: A002
    """A matrix norm over the two dimensions ``dim`` (``torch.linalg.matrix_norm``): ``ord`` one of
    ``'fro'``, ``'nuc'``, ``inf``, ``-inf``, 1, -1, 2, -2.

    >>> cr.linalg.matrix_norm(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), ord="nuc")
    """
    _check_operand("linalg.matrix_norm", A, "A")
    ndim = _ndim(A)
    if ndim < 2 or not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: needs a tensor of 2 or more dimensions and dim a pair, got "
                           f"shape {_shape(A)} and dim={dim!r}")
    keepdim = flag("matrix_norm", "keepdim", keepdim)
    if ord is None or (not isinstance(ord, str) and ord not in (1, -1, 2, -2, _INF, -_INF)) \
            or (isinstance(ord, str) and ord not in ("fro", "nuc")):
        raise RuntimeError(f"linalg.matrix_norm: invalid ord {ord!r}; use 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2")
    return named("linalg.matrix_norm", _matrix_norm, A, ord, _axis_of("linalg.matrix_norm", dim[0], ndim),
                 _axis_of("linalg.matrix_norm", dim[1], ndim), keepdim)


def _matrix(op, A):
    if _ndim(A) < 2:
        raise RuntimeError(f"linalg.{op}: expected a matrix (or a batch of them), got shape {_shape(A)}")
    _linalg_dtype(op, A)
