"""Products: matmul, dot, mv, mm, outer, tensordot, einsum and trace, with NumPy's N-d semantics
where NumPy's functions are served (np.dot, np.inner, np.tensordot)."""

from __future__ import annotations

import operator
import string

import numpy as np

from ..core import backend as B
from ..core.dtypes import check_operand as _check_operand
from ..core.tensor import Tensor
from . import _template as T
from ._define import define, named
from ._table import OPERATIONS, public
from .elementwise import mul
from .joins import diagonal
from .reductions import sum as sum_
from .shape import _ndim, _shape, broadcast_to, permute, reshape


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


def _matmul_xp(space, a, b):
    dtype = B.dtype_in(space, B.result_dtype(a, b))
    return space.matmul(*(v if v.dtype == dtype else space.astype(v, dtype) for v in (a, b)))


def _matmul_impl(a, b):
    """``a @ b``: NumPy's matmul on ndarrays (``ndarray.__matmul__``), the namespace's on others."""
    out = a @ b
    dt = out.dtype
    if (dt is _F32 or dt is _F64) and type(a) is B.ndarray and a.dtype is dt and b.dtype is dt:  # the common case
        return out
    if B.foreign(a) or B.foreign(b):
        return _matmul_xp(B.namespace_of(a, b), a, b)
    # Mixed dtypes (PyTorch refuses them; NumPy's interop passes float64 arrays to float32 tensors):
    # the dtype of the library's promotion (an int64 operand with float32 gives float32).
    dtype = B.result_dtype(a, b)
    if dt != dtype:
        return B.in_dtype(a, dtype) @ B.in_dtype(b, dtype)
    return out


_F32, _F64 = B.FLOAT32, B.FLOAT64
matmul_prim = define("matmul", _matmul_impl, (_matmul_grad_a, _matmul_grad_b), _matmul_jvp, broadcasts=True,
                     needs=((1,), (0,)), needs_meta=True, contiguous=True, template=T.operator("@"), xp=_matmul_xp)


@public(operator="@", ufunc="matmul", method=True)
def matmul(input, other):  # noqa: A002
    """Matrix product with NumPy's rules for vectors and batches (also the ``@`` operator)."""
    _check_operand("matmul", input, "input")
    _check_operand("matmul", other, "other")
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
            B.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise RuntimeError(f"matmul: batch dimensions of shapes {sa} and {sb} do not broadcast") from None
    return matmul_prim(input, other)


def _require(op, x, ndim):
    if _ndim(x) != ndim:
        raise RuntimeError(f"{op}: expected a {ndim}-D tensor, got shape {_shape(x)}")


@public(method=True, numpy="dot")
def dot(input, other):  # noqa: A002
    """Inner product of two 1-D tensors."""
    _check_operand("dot", input, "input")
    _check_operand("dot", other, "other")
    _require("dot", input, 1)
    _require("dot", other, 1)
    if _shape(input) != _shape(other):
        raise RuntimeError(f"dot: 1-D tensors must have the same size, got {_shape(input)} and {_shape(other)}")
    return matmul_prim(input, other)


@public(method=True)
def mv(input, vec):  # noqa: A002
    """Matrix–vector product."""
    _check_operand("mv", input, "input")
    _check_operand("mv", vec, "vec")
    _require("mv", input, 2)
    _require("mv", vec, 1)
    return named("mv", matmul, input, vec)


@public(method=True)
def mm(input, mat2):  # noqa: A002
    """Matrix–matrix product."""
    _check_operand("mm", input, "input")
    _check_operand("mm", mat2, "mat2")
    _require("mm", input, 2)
    _require("mm", mat2, 2)
    return named("mm", matmul, input, mat2)


@public(method=True, numpy="outer")
def outer(input, vec2):  # noqa: A002
    """Outer product of two 1-D tensors."""
    _check_operand("outer", input, "input")
    _check_operand("outer", vec2, "vec2")
    _require("outer", input, 1)
    _require("outer", vec2, 1)
    return reshape(input, -1, 1) * vec2


# ---------------------------------------------------------------------------------------------
# NumPy's products for N-d operands (np.dot, np.inner, np.tensordot on tensors): permutes and
# reshapes around one matmul, so both modes and every order come from the table's rules.
# ---------------------------------------------------------------------------------------------

@public(numpy="tensordot")
def tensordot(a, b, dims=2):
    """Sum of products over ``dims``: an int ``n`` (the last ``n`` axes of ``a`` with the first
    ``n`` of ``b``) or a pair of axis sequences; NumPy's ``tensordot`` (PyTorch's ``dims``).

    >>> cr.tensordot(cr.ones(2, 3, 4), cr.ones(4, 3), dims=([1, 2], [1, 0])).shape
    (2,)
    """
    a = _check_operand("tensordot", a, "a")
    b = _check_operand("tensordot", b, "b")
    if isinstance(dims, Tensor):
        dims = dims._data.tolist()
    if not isinstance(dims, (int, B.integer)) and not (
            isinstance(dims, (list, tuple)) and len(dims) == 2 and all(isinstance(d, (list, tuple)) for d in dims)):
        raise TypeError(f"tensordot: dims must be an int or a pair of lists of dimensions, got {dims!r:.60}")
    return numpy_tensordot(a, b, dims)


def numpy_tensordot(a, b, dims=2):
    """NumPy's ``tensordot``: ``dims`` an int or a pair of axes (ints or sequences of them)."""
    sa, sb = _shape(a), _shape(b)
    na, nb = len(sa), len(sb)
    try:
        n = operator.index(dims)
    except TypeError:
        try:
            axes_a, axes_b = dims
        except (TypeError, ValueError):
            raise TypeError(f"tensordot: dims must be an int or a pair of axis sequences, got {dims!r}") from None
        axes_a = (axes_a,) if B.ndim(axes_a) == 0 else tuple(axes_a)
        axes_b = (axes_b,) if B.ndim(axes_b) == 0 else tuple(axes_b)
    else:
        if n < 0 or n > na or n > nb:
            raise ValueError(f"tensordot: cannot sum over the last {n} axes of shape {sa} and the first {n} of shape {sb}")
        axes_a, axes_b = tuple(range(na - n, na)), tuple(range(n))
    if len(axes_a) != len(axes_b):
        raise ValueError(f"tensordot: {len(axes_a)} axes of a {list(axes_a)} but {len(axes_b)} of b {list(axes_b)}")
    axes_a = tuple(_axis_of("tensordot", x, na) for x in axes_a)
    axes_b = tuple(_axis_of("tensordot", x, nb) for x in axes_b)
    if len(set(axes_a)) != len(axes_a) or len(set(axes_b)) != len(axes_b):
        raise ValueError(f"tensordot: repeated axis in {list(axes_a)} or {list(axes_b)}")
    for x, y in zip(axes_a, axes_b):
        if sa[x] != sb[y]:
            raise ValueError(
                f"tensordot: shape mismatch for sum: axis {x} of shape {sa} has size {sa[x]} but axis "
                f"{y} of shape {sb} has size {sb[y]}"
            )
    free_a = tuple(i for i in range(na) if i not in axes_a)
    free_b = tuple(i for i in range(nb) if i not in axes_b)
    k = int(B.prod([sa[i] for i in axes_a]))
    out_a = tuple(sa[i] for i in free_a)
    out_b = tuple(sb[i] for i in free_b)
    if free_a + axes_a != tuple(range(na)):
        a = permute(a, free_a + axes_a)
    if axes_b + free_b != tuple(range(nb)):
        b = permute(b, axes_b + free_b)
    a2 = reshape(a, int(B.prod(out_a)), k)
    b2 = reshape(b, k, int(B.prod(out_b)))
    return reshape(matmul(a2, b2), out_a + out_b)


_AxisError = getattr(np, "exceptions", np).AxisError


def _axis_of(op, axis, ndim):
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{op}: a dimension must be an int, got {type(axis).__name__} {axis!r}") from None
    if not -ndim <= axis < ndim:
        raise _AxisError(axis, ndim, op)
    return axis % ndim


@public(method=True, numpy="inner")
def inner(input, other):  # noqa: A002
    """Sum of products over the last axes (``input.shape[:-1] + other.shape[:-1]``; a product
    with a 0-d operand). PyTorch's and NumPy's ``inner``."""
    _check_operand("inner", input, "input")
    _check_operand("inner", other, "other")
    return named("inner", numpy_inner, input, other)


@public(method=True, numpy="kron")
def kron(input, other):  # noqa: A002
    """Kronecker product: block ``(i, j, ...)`` is ``input[i, j, ...] * other``; the operand with
    fewer dimensions gets leading size-1 ones (PyTorch's and NumPy's ``kron``).

    >>> cr.kron(cr.eye(2), cr.ones(2, 2)).shape
    (4, 4)
    """
    input = _check_operand("kron", input, "input")  # noqa: A001
    other = _check_operand("kron", other, "other")
    sa, sb = _shape(input), _shape(other)
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    a = reshape(input, tuple(d for m in sa for d in (m, 1)))
    b = reshape(other, tuple(d for m in sb for d in (1, m)))
    return reshape(mul(a, b), tuple(x * y for x, y in zip(sa, sb)))


def _conjugated(op, x):
    """``conj(x)`` for complex ``x`` (the operation another module defines), else ``x``."""
    if B.kind(_dtype(x)) != "c":
        return x
    conj = OPERATIONS.get("conj")
    if conj is None:
        raise TypeError(f"{op}: complex operands need cr.conj, which this build does not have")
    return conj.function(x)


@public(method=True, numpy="vdot")
def vdot(input, other):  # noqa: A002
    """``sum(conj(input) * other)`` of two 1-D tensors of one size (PyTorch's ``vdot``)."""
    _check_operand("vdot", input, "input")
    _check_operand("vdot", other, "other")
    _require("vdot", input, 1)
    _require("vdot", other, 1)
    if _shape(input) != _shape(other):
        raise RuntimeError(f"vdot: 1-D tensors must have the same size, got {_shape(input)} and {_shape(other)}")
    return matmul_prim(_conjugated("vdot", input), other)


def numpy_vdot(a, b):
    """NumPy's ``vdot``: both operands flattened (equal sizes), the first conjugated."""
    a, b = reshape(a, -1), reshape(b, -1)
    if _shape(a) != _shape(b):
        raise ValueError(f"vdot: vectors have different lengths ({_shape(a)[0]} and {_shape(b)[0]})")
    return matmul_prim(_conjugated("vdot", a), b)


@public("linalg.multi_dot", numpy="linalg.multi_dot")
def multi_dot(tensors):
    """The product of a chain of matrices in the cheapest order; the first may be 1-D (a row)
    and the last 1-D (a column), as in NumPy and PyTorch.

    >>> cr.linalg.multi_dot([cr.ones(3), cr.ones(3, 2), cr.ones(2)])
    tensor(6.)
    """
    op = "linalg.multi_dot"
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    items = [_check_operand(op, t, "each matrix") for t in tensors]
    if len(items) < 2:
        raise ValueError(f"{op}: expecting at least two tensors, got {len(items)}")
    first, last = _ndim(items[0]) == 1, _ndim(items[-1]) == 1
    if first:
        items[0] = reshape(items[0], 1, -1)
    if last:
        items[-1] = reshape(items[-1], -1, 1)
    for i, t in enumerate(items):
        if _ndim(t) != 2:
            raise ValueError(f"{op}: tensor {i} has shape {_shape(t)}; all but the first and last must be "
                             f"2-D (those may be 1-D)")
    for i in range(len(items) - 1):
        if _shape(items[i])[1] != _shape(items[i + 1])[0]:
            raise ValueError(f"{op}: shapes {_shape(items[i])} and {_shape(items[i + 1])} (tensors {i} and {i + 1}) "
                             f"cannot be multiplied")
    out = _chain(items, _chain_order([_shape(t)[0] for t in items] + [_shape(items[-1])[1]]), 0, len(items) - 1)
    if first and last:
        return reshape(out)
    if first or last:
        return reshape(out, -1)
    return out


def _chain_order(p):
    """NumPy's dynamic programme for the cheapest parenthesisation of matrices ``p[i] x p[i+1]``:
    ``split[i][j]`` where the product of matrices ``i..j`` is cut."""
    n = len(p) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = _INF
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(items, split, i, j):
    if i == j:
        return items[i]
    k = split[i][j]
    return matmul(_chain(items, split, i, k), _chain(items, split, k + 1, j))


def numpy_dot(a, b):
    """NumPy's ``dot``: a product with a scalar, the inner product of vectors, else the sum over
    the last axis of ``a`` and the second-to-last of ``b`` (the only one when ``b`` is 1-D)."""
    sa, sb = _shape(a), _shape(b)
    na, nb = len(sa), len(sb)
    if na == 0 or nb == 0:
        return mul(a, b)
    kb = 0 if nb == 1 else nb - 2
    if sa[-1] != sb[kb]:
        raise ValueError(f"dot: shapes {sa} and {sb} not aligned: {sa[-1]} (dim {na - 1}) != {sb[kb]} (dim {kb})")
    if nb <= 2 or na == 1:  # matmul's rules give dot's result here
        return matmul(a, b)
    return numpy_tensordot(a, b, ((na - 1,), (nb - 2,)))


def numpy_inner(a, b):
    """NumPy's ``inner``: a product with a scalar, else the sum over the last axes of both
    (the result has shape ``a.shape[:-1] + b.shape[:-1]``)."""
    sa, sb = _shape(a), _shape(b)
    na, nb = len(sa), len(sb)
    if na == 0 or nb == 0:
        return mul(a, b)
    if sa[-1] != sb[-1]:
        raise ValueError(f"inner: shapes {sa} and {sb} not aligned: {sa[-1]} (dim {na - 1}) != {sb[-1]} (dim {nb - 1})")
    if nb == 1:
        return matmul(a, b)
    if na == 1:
        return matmul(b, a)
    return numpy_tensordot(a, b, ((na - 1,), (nb - 1,)))


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
        counts: dict[str, int] = {}
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
            values.append(B.eye(sizes[c], _dtype(g), like=B.data_of(g)))
            available |= {c, r}
        else:
            renamed += c
            seen.add(c)
    for c in set(renamed) - available:  # summed only in this operand: broadcast with ones
        names.append(c)
        values.append(B.ones((sizes[c],), _dtype(g), like=B.data_of(g)))
    result = m.einsum_prim(*values, subscripts=",".join(names) + "->" + renamed)
    if _shape(result) != tuple(shape):
        result = m.reshape(result, shape=tuple(shape))
    if _dtype(result) != _dtype(operands[i]):  # mixed dtypes: the gradient keeps the operand's
        result = m.cast(result, dtype=_dtype(operands[i]))
    return result


def _dtype(x):
    return x.dtype if hasattr(x, "dtype") else B.dtype_of(x)


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
    _einsum_vjp, _einsum_jvp, vjp_all=True, template=T.Template(
        lambda p, k, v: f"np.einsum({k['subscripts']!r}, {', '.join(p)}{', optimize=True' if len(p) > 2 else ''})"),
)


@public(numpy="einsum")
def einsum(subscripts: str, *operands):
    """Einstein summation, e.g. ``einsum('ij,jk->ik', a, b)``; ellipses and repeats allowed."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string such as 'ij,jk->ik', got {type(subscripts).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for _operand in operands:
        _check_operand("einsum", _operand, "an operand")
    shapes = [_shape(op) for op in operands]
    try:
        terms, out = _parse_einsum(subscripts, shapes)
        operands = _einsum_broadcast(terms, operands, shapes)
        return einsum_prim(*operands, subscripts=",".join(terms) + "->" + out)
    except ValueError as exc:
        raise ValueError(f"einsum: {exc} (subscripts {subscripts!r}, operand shapes {shapes})") from None


def _einsum_broadcast(terms, operands, shapes):
    """Operands with a size-1 dimension where another operand has that index longer, broadcast
    to it (NumPy broadcasts such dimensions; the rules of ``einsum_prim`` assume equal sizes)."""
    sizes = {}
    for term, shape in zip(terms, shapes):
        for c, n in zip(term, shape):
            if n != 1:
                if sizes.setdefault(c, n) != n:
                    raise ValueError(f"index {c!r} has sizes {sizes[c]} and {n}")
    operands = list(operands)
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        target = tuple(sizes.get(c, 1) for c in term)
        if target != tuple(shape) and len(set(term)) == len(term):
            operands[i] = broadcast_to(operands[i], target)
    return operands


@public(method=True, numpy="trace")
def trace(input):  # noqa: A002
    """Sum of the main diagonal of a matrix."""
    _check_operand("trace", input, "input")
    _require("trace", input, 2)
    return sum_(diagonal(input))


# ---------------------------------------------------------------------------------------------
# cr.linalg
# ---------------------------------------------------------------------------------------------


_LINALG_DTYPES = (B.FLOAT32, B.FLOAT64)


_INF = float("inf")
