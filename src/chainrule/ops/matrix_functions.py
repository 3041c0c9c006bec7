"""Functions of matrices (``cr.linalg``): pinv, lstsq, matrix_power, matrix_exp and cross,
batched over leading dimensions, with PyTorch's conventions and gradients."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from ..core import backend as B_
from ..core import tracing
from ..core.backend import data_of
from ..core.dispatch import traced
from ..core.dtypes import check_operand as _check_operand
from ._define import define, nondifferentiable
from ._table import public
from .linalg import _linalg_dtype, _matrix, _square, cj, flag, inv, is_complex, leading_batch, mH, numpy_names
from .piecewise import abs as abs_
from .piecewise import where
from .products import _mT, matmul
from .reductions import sum as sum_
from .shape import _ndim, _shape, clone, reshape, squeeze

# ---------------------------------------------------------------------------------------------
# pinv, lstsq
# ---------------------------------------------------------------------------------------------

def _pinv_impl(a, *, rtol, atol, hermitian):
    """NumPy's pinv (same steps, so the same numbers), with PyTorch's ``max(atol, rtol·σ₁)``."""
    r, c = a.shape[-2:]
    if a.size == 0:
        return np.zeros(a.shape[:-2] + (c, r), a.dtype)
    u, s, vt = np.linalg.svd(a, full_matrices=False, hermitian=hermitian)
    cutoff = np.maximum(atol, rtol * np.max(s, axis=-1, keepdims=True))
    large = s > cutoff
    s = np.divide(1, s, where=large, out=np.zeros_like(s))
    if u.dtype.kind == "c":
        u, vt = u.conj(), vt.conj()
    return np.matmul(np.swapaxes(vt, -1, -2), np.multiply(s[..., None], np.swapaxes(u, -1, -2)))


def _pinv_vjp(m, g, p, a, **params):
    """PyTorch's ``pinv_backward``: the adjoint of Golub and Pereyra's derivative (for complex
    ``a`` with conjugate transposes, in PyTorch's convention: the cotangent conjugated on the
    way in and the result on the way out)."""
    g = cj(m, g)
    gt, pt = mH(m, g), mH(m, p)
    x = m.matmul(gt, m.matmul(p, pt))
    y = m.matmul(m.matmul(pt, p), gt)
    out = -m.matmul(pt, m.matmul(g, pt)) + x - m.matmul(a, m.matmul(p, x)) + y - m.matmul(m.matmul(y, p), a)
    return cj(m, out)


def _pinv_jvp(m, tangents, p, a, **params):
    dt = mH(m, tangents[0])
    pt = mH(m, p)
    w = m.matmul(m.matmul(p, pt), dt - m.matmul(m.matmul(dt, a), p))
    v = m.matmul(dt, m.matmul(pt, p))
    return -m.matmul(p, m.matmul(tangents[0], p)) + w + v - m.matmul(p, m.matmul(a, v))


pinv_prim = define("pinv", _pinv_impl, (_pinv_vjp,), _pinv_jvp, save_ans=True, batching=leading_batch)


_F32 = np.dtype(np.float32)
_C64 = np.dtype(np.complex64)


def _eps(a) -> float:
    """The machine epsilon of ``a``'s dtype (float32 or complex64: single; else double)."""
    return 2.0 ** -23 if B_.numpy_dtype(data_of(data_of(a)).dtype) in (_F32, _C64) else 2.0 ** -52


def _default_rtol(A, atol):
    r, c = _shape(A)[-2:]
    return _eps(A) * max(r, c) if not atol else 0.0


@public("linalg.pinv", numpy="linalg.pinv")
def pinv(A, *, atol=None, rtol=None, hermitian: bool = False):
    """The Moore–Penrose pseudo-inverse, batched (``torch.linalg.pinv``): singular values (absolute
    eigenvalues with ``hermitian=True``) at or below ``max(atol, rtol·σ₁)`` count as zero; ``rtol``
    defaults to ``eps·max(m, n)`` (0 when ``atol > 0`` is given). Gradient: PyTorch's formula, the
    derivative where the rank does not change.

    >>> cr.linalg.pinv(cr.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    """
    _check_operand("linalg.pinv", A, "A")
    _matrix("pinv", A)
    atol = 0.0 if atol is None else float(atol)
    rtol = _default_rtol(A, atol) if rtol is None else float(rtol)
    return pinv_prim(A, rtol=rtol, atol=atol, hermitian=flag("pinv", "hermitian", hermitian))


def _lstsq_impl(a, b, *, rcond):
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.empty(batch + (a.shape[-1], b.shape[-1]), np.result_type(a, b))
    for i in np.ndindex(batch):
        out[i] = np.linalg.lstsq(a[i], b[i], rcond=rcond)[0]
    return out


def _lstsq_pinv(m, a):
    return m.pinv(a, rtol=_eps(a) * max(_shape(a)[-2:]),
                  atol=0.0, hermitian=False)


def _lstsq_grad_a(m, g, ans, a, b, *, rcond):
    return _pinv_vjp(m, m.matmul(g, _mT(m, b)), _lstsq_pinv(m, a), a)


def _lstsq_grad_b(m, g, ans, a, b, *, rcond):
    return m.matmul(_mT(m, _lstsq_pinv(m, a)), g)


def _lstsq_jvp(m, tangents, ans, a, b, *, rcond):
    ta, tb = tangents
    p = _lstsq_pinv(m, a)
    out = None if tb is None else m.matmul(p, tb)
    if ta is not None:
        da = m.matmul(_pinv_jvp(m, (ta,), p, a), b)
        out = da if out is None else out + da
    return out


lstsq_prim = define("lstsq", _lstsq_impl, (_lstsq_grad_a, _lstsq_grad_b), _lstsq_jvp, broadcasts=True,
                    batching=leading_batch)
lstsq_result = namedtuple("lstsq_result", ["solution", "residuals", "rank", "singular_values"])


class _FullRank:
    """Whether every matrix of a batch has rank ``k`` (lstsq's residuals need full rank): the
    decision a compiled call checks again on the ranks it computes."""

    def __init__(self, k: int) -> None:
        self.k = k

    def __call__(self, rank: Any) -> bool:
        return not B_.any_of(rank != self.k)


@public("linalg.lstsq", numpy="linalg.lstsq")
def lstsq(A, B, rcond=None, *, driver=None) -> Any:  # noqa: N803
    """The least-squares solution of ``A X = B`` as ``torch.linalg.lstsq``: a named tuple
    ``(solution, residuals, rank, singular_values)``, ``B`` a batch of matrices or (one fewer
    dimension than ``A``) of vectors. With the default driver ``'gelsy'`` ``residuals`` and
    ``singular_values`` are empty; ``'gelsd'``/``'gelss'`` fill them (residuals when m > n and
    ``A`` has full rank). Only the solution is differentiable (PyTorch's gradient: that of
    ``pinv(A) @ B``). NumPy has no batched ``lstsq``: a batch is solved matrix by matrix.

    >>> cr.linalg.lstsq(cr.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]), cr.tensor([1.0, 2.0, 2.0])).solution
    """
    _check_operand("linalg.lstsq", A, "A")
    _check_operand("linalg.lstsq", B, "B")
    _matrix("lstsq", A)
    _linalg_dtype("lstsq", B)
    da, db = (B_.dtype_of(data_of(v) if hasattr(v, "_data") else v) for v in (A, B))
    if da != db:
        raise RuntimeError(f"linalg.lstsq: A and B must have the same dtype (as in PyTorch), got {da} and {db}; "
                           f"convert one, e.g. B.to(A.dtype)")
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"linalg.lstsq: driver must be one of None, 'gels', 'gelsy', 'gelsd', 'gelss', got {driver!r}")
    sa, sb = _shape(A), _shape(B)
    if not 0 <= len(sa) - len(sb) <= 1:
        raise RuntimeError(f"linalg.lstsq: B must have as many dimensions as A (a batch of matrices) or one "
                           f"fewer (a batch of vectors), got shapes {sa} and {sb}")
    vector = len(sb) == len(sa) - 1
    if (vector and sb[-1] != sa[-2]) or (not vector and (len(sb) < 2 or sb[-2] != sa[-2])):
        raise RuntimeError(f"linalg.lstsq: A of shape {sa} and B of shape {sb} do not match ({sa[-2]} rows needed)")
    r, c = sa[-2:]
    rcond = _eps(A) * max(r, c) if rcond is None else float(rcond)
    x = lstsq_prim(A, reshape(B, *sb, 1) if vector else B, rcond=rcond)
    s = singular_values(A)
    rank = sum_(s > s[..., :1] * rcond, -1)
    empty = reshape(s[..., :0], 0)
    residuals = empty
    if driver not in (None, "gelsy") and r > c and tracing.decide(rank, _FullRank(min(r, c)), "whether A has full rank"):
        fit = matmul(A, x) - (reshape(B, *sb, 1) if vector else B)
        residuals = sum_(abs_(fit) ** 2 if is_complex(fit) else fit * fit, -2).detach()
        if vector:
            residuals = squeeze(residuals, -1)
    if vector:
        x = squeeze(x, -1)
    return lstsq_result(x, residuals, rank, s if driver in ("gelsd", "gelss") else empty)


singular_values = nondifferentiable("singular_values", lambda a: np.linalg.svd(a, compute_uv=False),
                                    doc="the singular values, with no gradient (lstsq's)", batching=leading_batch)


# ---------------------------------------------------------------------------------------------
# matrix_power, matrix_exp, cross
# ---------------------------------------------------------------------------------------------

@public("linalg.matrix_power", numpy="linalg.matrix_power")
def matrix_power(A, n: int):
    """``A`` multiplied by itself ``n`` times (by repeated squaring), batched: ``n = 0`` gives the
    identity (zero gradient), ``n < 0`` powers of ``inv(A)``.

    >>> cr.linalg.matrix_power(cr.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
    """
    _check_operand("linalg.matrix_power", A, "A")
    if not isinstance(n, (int, B_.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: n must be an integer, got {type(n).__name__} {n!r:.40}")
    s = _shape(A)
    if len(s) < 2 or s[-1] != s[-2]:
        raise RuntimeError(f"linalg.matrix_power: expected a square matrix (or a batch of them), got shape {s}")
    if n == 0:
        data = data_of(A)
        eye = B_.eye(s[-1], data.dtype, like=data)
        return where(B_.ones(s[-2:], B_.BOOL, like=data), eye, A)  # the identity, with A's history (zero gradient)
    base = inv(A) if n < 0 else A
    n = abs(int(n))
    result = None
    while True:
        if n & 1:
            result = base if result is None else traced.matmul(result, base)
        n >>= 1
        if not n:
            return clone(result) if result is A else result  # a new tensor, as PyTorch's (n = 1)
        base = traced.matmul(base, base)


_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)


def _expm_impl(a):
    """``exp(a)``, batched: Higham's scaling and squaring with the degree-13 Padé approximant,
    each matrix scaled by its own power of two, in float64."""
    dtype = a.dtype
    a = a.astype(np.complex128 if dtype.kind == "c" else np.float64)
    n = a.shape[-1]
    if a.size == 0:
        return a.astype(dtype)
    norm = np.abs(a).sum(axis=-2).max(axis=-1)
    s = np.maximum(0, np.ceil(np.log2(np.maximum(norm, 1e-300) / 5.371920351148152))).astype(int)
    x = a / (2.0 ** s)[..., None, None]
    b, eye = _PADE13, np.eye(n)
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    u = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2) + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * eye)
    v = x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * eye
    r = np.linalg.solve(v - u, v + u)
    for i in range(int(s.max(initial=0))):
        r = np.where((s > i)[..., None, None], r @ r, r)
    return r.astype(dtype)


def _sl(m, x, rows, cols):
    return m.getitem(x, index=(Ellipsis, rows, cols))


def _block_exp(m, a, t):
    """``exp([[a, t], [0, a]])``'s upper-right block: the Fréchet derivative of exp at ``a``
    in the direction ``t`` (exact, and differentiable again)."""
    nd, n = _ndim(a), _shape(a)[-1]
    zero = m.zeros_like(a)
    top = m.cat(a, t, dim=nd - 1)
    bottom = m.cat(zero, a, dim=nd - 1)
    e = m.matrix_exp(m.cat(top, bottom, dim=nd - 2))
    return _sl(m, e, slice(0, n), slice(n, 2 * n))


matrix_exp_prim = define(
    "matrix_exp", _expm_impl, (lambda m, g, ans, a: _block_exp(m, _mT(m, a), g),),
    lambda m, tangents, ans, a: _block_exp(m, a, tangents[0]), batching=leading_batch)


@public("linalg.matrix_exp")
def matrix_exp(A):
    """The matrix exponential ``Σ Aᵏ/k!``, batched (``torch.linalg.matrix_exp``); its derivative
    is the exponential of the block matrix ``[[A, dA], [0, A]]`` (exact).

    >>> cr.linalg.matrix_exp(cr.tensor([[0.0, 1.0], [-1.0, 0.0]]))
    """
    _check_operand("linalg.matrix_exp", A, "A")
    _square("matrix_exp", A)
    return matrix_exp_prim(A)


def _cross_vjps():
    def ga(m, g, ans, a, b, *, dim):
        return m.cross(b, g, dim=dim)

    def gb(m, g, ans, a, b, *, dim):
        return m.cross(g, a, dim=dim)

    return ga, gb


def _cross_jvp(m, tangents, ans, a, b, *, dim):
    ta, tb = tangents
    out = None if ta is None else m.cross(ta, b, dim=dim)
    if tb is not None:
        other = m.cross(a, tb, dim=dim)
        out = other if out is None else out + other
    return out


cross_prim = define("cross", lambda a, b, *, dim: np.cross(a, b, axis=dim), _cross_vjps(), _cross_jvp,
                    broadcasts=True, batching=leading_batch)


@public("linalg.cross", numpy=numpy_names("cross", "linalg.cross"))
def cross(input, other, *, dim: int = -1):  # noqa: A002
    """The cross product of 3-vectors along ``dim``, broadcasting the other dimensions of inputs
    with the same number of dimensions (``torch.linalg.cross``).

    >>> cr.linalg.cross(cr.tensor([1.0, 0.0, 0.0]), cr.tensor([0.0, 1.0, 0.0]))
    """
    _check_operand("linalg.cross", input, "input")
    _check_operand("linalg.cross", other, "other")
    sa, sb = _shape(input), _shape(other)
    if len(sa) != len(sb):
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got shapes {sa} and {sb}")
    ndim = len(sa)
    if isinstance(dim, bool) or not isinstance(dim, (int, B_.integer)):
        raise TypeError(f"linalg.cross: dim must be an int, got {type(dim).__name__} {dim!r:.40}")
    if not -ndim <= dim < ndim:
        raise IndexError(f"linalg.cross: dim {dim!r} is out of range for shapes {sa} and {sb}")
    d = int(dim) % ndim - ndim  # negative: the same axis once broadcast
    if sa[d] != 3 or sb[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs of shapes {sa} and {sb} need size 3 along dim {dim}")
    try:
        B_.broadcast_shapes(sa, sb)
    except ValueError:
        raise RuntimeError(f"linalg.cross: shapes {sa} and {sb} do not broadcast") from None
    return cross_prim(input, other, dim=d)
