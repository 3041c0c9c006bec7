"""Linear algebra: products, einsum, trace, and ``cr.linalg`` (inv, det, slogdet, solve, norm)."""

from __future__ import annotations

import string
from collections import namedtuple

import numpy as np

from ._primitive import define, nondifferentiable
from .elementwise import abs as abs_
from .reductions import amax, amin, norm
from .reductions import sum as sum_
from .shape import _ndim, _shape, diagonal, reshape, squeeze

slogdet_result = namedtuple("slogdet_result", ["sign", "logabsdet"])


def _mT(m, x):
    n = _ndim(x)
    dims = tuple(range(n - 2)) + (n - 1, n - 2)
    return m.permute(x, dims=dims)


# ---------------------------------------------------------------------------------------------
# matmul: the one product primitive (NumPy's semantics for 1-D and batched operands)
# ---------------------------------------------------------------------------------------------

def _matmul_grad_a(m, g, ans, a, b):
    na, nb = _ndim(a), _ndim(b)
    if na == 1 and nb == 1:
        return g * b
    if nb == 1:  # (..., n, k) @ (k,) -> (..., n)
        return _outer_last(m, g, b)
    if na == 1:  # (k,) @ (..., k, m) -> (..., m)
        return m.reshape(m.matmul(b, _col(m, g)), shape=_shape(g)[:-1] + (_shape(b)[-2],))
    return m.matmul(g, _mT(m, b))


def _matmul_grad_b(m, g, ans, a, b):
    na, nb = _ndim(a), _ndim(b)
    if na == 1 and nb == 1:
        return g * a
    if na == 1:  # (k,) @ (..., k, m): grad (..., k, m) = a[:, None] * g[..., None, :]
        return m.reshape(a, shape=(_shape(a)[0], 1)) * _row(m, g)
    if nb == 1:  # (..., n, k) @ (k,): grad (k,) summed over batch by the engine
        return m.reshape(m.matmul(_mT(m, a), _col(m, g)), shape=_shape(g)[:-1] + (_shape(a)[-1],))
    return m.matmul(_mT(m, a), g)


def _col(m, v):
    return m.reshape(v, shape=_shape(v) + (1,))


def _row(m, v):
    s = _shape(v)
    return m.reshape(v, shape=s[:-1] + (1, s[-1]))


def _outer_last(m, u, v):
    """``u[..., :, None] * v[None, :]``: the outer product over the last axes."""
    return _col(m, u) * v


def _matmul_jvp(m, tangents, ans, a, b):
    ta, tb = tangents
    result = None if ta is None else m.matmul(ta, b)
    if tb is not None:
        other = m.matmul(a, tb)
        result = other if result is None else result + other
    return result


matmul_prim = define("matmul", np.matmul, (_matmul_grad_a, _matmul_grad_b), _matmul_jvp, broadcasts=True,
                     needs=((1,), (0,)), needs_meta=True, contiguous=True)


def matmul(input, other):  # noqa: A002
    """Matrix product with NumPy's rules for vectors and batches (also the ``@`` operator)."""
    sa, sb = _shape(input), _shape(other)
    if not sa or not sb:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes {sa} and {sb}; use * for scalars")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise RuntimeError(
            f"matmul: shapes {sa} and {sb} cannot be multiplied ({ka} != {kb}: the last dimension "
            f"of the first must equal the {'only' if len(sb) == 1 else 'second-to-last'} dimension of the second)"
        )
    if len(sa) > 2 and len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise RuntimeError(f"matmul: batch dimensions of shapes {sa} and {sb} do not broadcast") from None
    return matmul_prim(input, other)


def _require(op, x, ndim):
    if _ndim(x) != ndim:
        raise RuntimeError(f"{op}: expected a {ndim}-D tensor, got shape {_shape(x)}")


def dot(input, other):  # noqa: A002
    """Inner product of two 1-D tensors."""
    _require("dot", input, 1)
    _require("dot", other, 1)
    if _shape(input) != _shape(other):
        raise RuntimeError(f"dot: 1-D tensors must have the same size, got {_shape(input)} and {_shape(other)}")
    return matmul_prim(input, other)


def mv(input, vec):  # noqa: A002
    """Matrix–vector product."""
    _require("mv", input, 2)
    _require("mv", vec, 1)
    return matmul(input, vec)


def mm(input, mat2):  # noqa: A002
    """Matrix–matrix product."""
    _require("mm", input, 2)
    _require("mm", mat2, 2)
    return matmul(input, mat2)


def outer(input, vec2):  # noqa: A002
    """Outer product of two 1-D tensors."""
    _require("outer", input, 1)
    _require("outer", vec2, 1)
    return reshape(input, -1, 1) * vec2


# ---------------------------------------------------------------------------------------------
# einsum
# ---------------------------------------------------------------------------------------------

def _parse_einsum(subscripts: str, shapes):
    """Explicit, ellipsis-free subscripts: ``(input_terms, output_term)``."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        lhs, out = subscripts.split("->")
    else:
        lhs, out = subscripts, None
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(terms)} operands but {len(shapes)} were given")
    used = set(c for c in subscripts if c.isalpha())
    free = [c for c in string.ascii_letters if c not in used]
    ell_dims = 0
    for term, shape in zip(terms, shapes):
        if "..." in term:
            ell_dims = max(ell_dims, len(shape) - (len(term) - 3))
    ell = "".join(free[:ell_dims])
    expanded = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            k = len(shape) - (len(term) - 3)
            term = term.replace("...", ell[ell_dims - k:] if k else "")
        if len(term) != len(shape):
            raise ValueError(f"einsum: term {term!r} has {len(term)} indices for an operand of shape {shape}")
        expanded.append(term)
    if out is None:
        counts = {}
        for term in expanded:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return expanded, out


def _einsum_grad(m, g, terms, out, operands, i):
    """Gradient of operand ``i``: an einsum of the cotangent with the other operands."""
    target = terms[i]
    shape = _shape(operands[i])
    sizes = {}
    for term, op in zip(terms, operands):
        for c, n in zip(term, _shape(op)):
            sizes[c] = n
    others = [(t, op) for j, (t, op) in enumerate(zip(terms, operands)) if j != i]
    names = [out] + [t for t, _ in others]
    values = [g] + [op for _, op in others]
    available = set("".join(names))
    # Repeated indices in the target (a diagonal): rename repeats, tie them with an identity.
    fresh = iter(c for c in string.ascii_letters if c not in available and c not in target)
    seen, renamed = set(), ""
    for c in target:
        if c in seen:
            r = next(fresh)
            renamed += r
            names.append(c + r)
            values.append(np.eye(sizes[c], dtype=_dtype(g)))
            available |= {c, r}
        else:
            renamed += c
            seen.add(c)
    for c in set(renamed) - available:  # summed only in this operand: broadcast with ones
        names.append(c)
        values.append(np.ones(sizes[c], dtype=_dtype(g)))
    result = m.einsum_prim(*values, subscripts=",".join(names) + "->" + renamed)
    if _shape(result) != tuple(shape):
        result = m.reshape(result, shape=tuple(shape))
    if _dtype(result) != _dtype(operands[i]):  # mixed dtypes: the gradient keeps the operand's
        result = m.cast(result, dtype=_dtype(operands[i]))
    return result


def _dtype(x):
    return x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype


def _einsum_vjp(m, g, ans, needs, *operands, subscripts):
    lhs, out = subscripts.split("->")
    terms = lhs.split(",")
    return [_einsum_grad(m, g, terms, out, operands, i) if need else None for i, need in enumerate(needs)]


def _einsum_jvp(m, tangents, ans, *operands, subscripts):
    result = None
    for i, t in enumerate(tangents):
        if t is None:
            continue
        ops = list(operands)
        ops[i] = t
        term = m.einsum_prim(*ops, subscripts=subscripts)
        result = term if result is None else result + term
    return result


einsum_prim = define(
    "einsum_prim", lambda *ops, subscripts: np.einsum(subscripts, *ops, optimize=len(ops) > 2),
    _einsum_vjp, _einsum_jvp, vjp_all=True,
)


def einsum(subscripts: str, *operands):
    """Einstein summation, e.g. ``einsum('ij,jk->ik', a, b)``; ellipses and repeats allowed."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    shapes = [_shape(op) for op in operands]
    try:
        terms, out = _parse_einsum(subscripts, shapes)
        return einsum_prim(*operands, subscripts=",".join(terms) + "->" + out)
    except ValueError as exc:
        raise ValueError(f"einsum: {exc} (subscripts {subscripts!r}, operand shapes {shapes})") from None


def trace(input):  # noqa: A002
    """Sum of the main diagonal of a matrix."""
    _require("trace", input, 2)
    return sum_(diagonal(input))


# ---------------------------------------------------------------------------------------------
# cr.linalg
# ---------------------------------------------------------------------------------------------

def _square(op, a):
    s = _shape(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise RuntimeError(f"linalg.{op}: expected a square matrix (or a batch of them), got shape {s}")


def _inv_impl(a):
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise RuntimeError(f"linalg.inv: the matrix (shape {a.shape}) is singular and has no inverse") from None


inv_prim = define(
    "inv", _inv_impl,
    (lambda m, g, ans, a: -m.matmul(_mT(m, ans), m.matmul(g, _mT(m, ans))),),
    lambda m, tangents, ans, a: -m.matmul(ans, m.matmul(tangents[0], ans)),
    save_inputs=False, save_ans=True,
)


def inv(A):
    """Matrix inverse (batched over leading dimensions)."""
    _square("inv", A)
    return inv_prim(A)


def _expand2(m, v):
    s = _shape(v)
    return m.reshape(v, shape=s + (1, 1))


def _det_vjp(m, g, ans, a):
    return _expand2(m, g * ans) * _mT(m, m.inv(a))


def _det_jvp(m, tangents, ans, a):
    return ans * _batched_trace(m, m.solve(a, tangents[0]))


def _batched_trace(m, x):
    n = _ndim(x)
    return m.sum(m.diagonal(x, offset=0, dim1=n - 2, dim2=n - 1), dim=(n - 2,), keepdim=False)


det_prim = define("det", np.linalg.det, (_det_vjp,), _det_jvp, save_ans=True)


def det(A):
    """Determinant (batched over leading dimensions)."""
    _square("det", A)
    return det_prim(A)


logabsdet_prim = define(
    "logabsdet", lambda a: np.linalg.slogdet(a)[1],
    (lambda m, g, ans, a: _expand2(m, g) * _mT(m, m.inv(a)),),
    lambda m, tangents, ans, a: _batched_trace(m, m.solve(a, tangents[0])),
)
sign_det = nondifferentiable("slogdet_sign", lambda a: np.linalg.slogdet(a)[0])


def slogdet(A):
    """``(sign, log|det A|)``; the log-determinant is differentiable."""
    _square("slogdet", A)
    return slogdet_result(sign_det(A), logabsdet_prim(A))


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
                    save_ans=True, broadcasts=True)


def solve(A, B):
    """The ``X`` with ``A @ X = B`` (``B`` a vector or a batch of matrices)."""
    _square("solve", A)
    sa, sb = _shape(A), _shape(B)
    if (len(sb) == 1 and sb[0] != sa[-1]) or (len(sb) > 1 and sb[-2] != sa[-1]):
        raise RuntimeError(f"linalg.solve: A of shape {sa} and B of shape {sb} do not match ({sa[-1]} rows needed)")
    return solve_prim(A, B)


def linalg_norm(A, ord=None, dim=None, keepdim: bool = False):  # noqa: A002
    """Vector 2-norm (of all elements when ``dim`` is None), or a matrix norm with ``ord``."""
    matrix = isinstance(dim, tuple) or (dim is None and _ndim(A) == 2 and ord is not None)
    if matrix and ord in (2, -2, "nuc"):
        raise NotImplementedError(
            f"linalg.norm: the matrix norm ord={ord!r} (singular values) is not supported; use "
            f"ord='fro', 1, -1, inf or -inf, or flatten the matrix for a vector norm"
        )
    if ord is None or (ord == "fro" and (dim is None or isinstance(dim, tuple))):
        return norm(A, 2, dim, keepdim)
    if isinstance(dim, tuple) or (dim is None and _ndim(A) == 2 and ord in (1, -1, float("inf"), float("-inf"))):
        d0, d1 = dim if dim is not None else (0, 1)
        if ord in (1, -1):
            col = sum_(abs_(A), d0, keepdim=True)
            out = amax(col, d1, keepdim=True) if ord == 1 else amin(col, d1, keepdim=True)
        elif ord in (float("inf"), float("-inf")):
            row = sum_(abs_(A), d1, keepdim=True)
            out = amax(row, d0, keepdim=True) if ord > 0 else amin(row, d0, keepdim=True)
        else:
            raise ValueError(f"linalg.norm: matrix ord {ord!r} is not supported; use None, 'fro', 1, -1, inf or -inf")
        return out if keepdim else squeeze(out, (d0, d1))
    return norm(A, ord, dim, keepdim)

