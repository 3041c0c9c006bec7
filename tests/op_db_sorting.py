"""The sorting and products family's entries: sorting and selecting (a gather at indices computed
without history, or a where/scatter_add), called as ``cr.<name>`` (PyTorch's arguments) and as
``np.<name>`` on tensors (NumPy's), and NumPy's N-d products."""

from __future__ import annotations

import numpy as np
from op_db import NONDIFFERENTIABLE, S, distinct, entry, uniform

import chainrule as cr

# ---------------------------------------------------------------------------------------------
# Sorting and selecting
# ---------------------------------------------------------------------------------------------

entry("sort", lambda x, **kw: cr.sort(x, **kw).values, "gather",
      lambda rng: [S(distinct(rng, (5,))), S(distinct(rng, (3, 4)), dim=0),
                   S(distinct(rng, (2, 3, 4)), dim=1, descending=True), S(distinct(rng, ()))])
entry("sort.method", lambda x: x.sort(descending=True)[0], "gather", lambda rng: [S(distinct(rng, (3, 4)))])
entry("np.sort", lambda x, **kw: np.sort(x, **kw), "gather",
      lambda rng: [S(distinct(rng, (3, 4))), S(distinct(rng, (3, 4)), axis=0),
                   S(distinct(rng, (2, 3)), axis=None)])
entry("topk", lambda x, k, **kw: cr.topk(x, k, **kw).values, "gather",
      lambda rng: [S(distinct(rng, (6,)), k=3), S(distinct(rng, (3, 4)), k=2, dim=0, largest=False)])
entry("kthvalue", lambda x, k, **kw: x.kthvalue(k, **kw).values, ("gather", "reshape"),
      lambda rng: [S(distinct(rng, (5,)), k=2), S(distinct(rng, (3, 4)), k=3, dim=1)])
entry("kthvalue_keepdim", lambda x: cr.kthvalue(x, 1, 0, True)[0], "gather", lambda rng: [S(distinct(rng, (3, 4)))])
entry("partition", lambda x, **kw: cr.partition(x, **kw), "gather",
      lambda rng: [S(distinct(rng, (6,)), kth=2), S(distinct(rng, (3, 5)), kth=(0, 3), axis=1)])
entry("np.partition", lambda x, **kw: np.partition(x, **kw), "gather",
      lambda rng: [S(distinct(rng, (4, 3)), kth=1, axis=0), S(distinct(rng, (2, 3)), kth=-1, axis=None)])
entry("take_along_dim", lambda x, i, **kw: cr.take_along_dim(x, i, **kw), "gather",
      lambda rng: [S(uniform(rng, (3, 4)), np.array([[0, 3], [1, 1], [2, 0]]), dim=1, label="shape(3,4)-dim=1-repeated"),
                   S(uniform(rng, (3, 1)), np.array([[0], [0]]).reshape(1, 2), dim=0, label="shape(3,1)-broadcast"),
                   S(uniform(rng, (2, 3)), np.array([5, 0, 5]), label="shape(2,3)-flattened")])
entry("np.take_along_axis", lambda x, i, **kw: np.take_along_axis(x, i, **kw), "gather",
      lambda rng: [S(uniform(rng, (3, 4)), np.array([[-1], [0], [2]]), axis=1, label="shape(3,4)-negative"),
                   S(uniform(rng, (2, 3)), np.array([4, 4, 0]), axis=None, label="shape(2,3)-flattened")])
# Index arrays as keywords: NumPy's integer-array indexing (the array API sweep leaves them out).
entry("take", lambda x, index: cr.take(x, index), ("reshape", "getitem"),
      lambda rng: [S(uniform(rng, (3, 4)), index=np.array([[0, -1], [5, 5]]), label="shape(3,4)-repeated")])
entry("np.take", lambda x, i, **kw: np.take(x, i, **kw), "getitem",
      lambda rng: [S(uniform(rng, (3, 4)), np.array([3, 0, 3]), axis=1, label="shape(3,4)-axis=1"),
                   S(uniform(rng, (3, 4)), np.array([[7, -9]]), axis=0, mode="wrap", label="shape(3,4)-wrap"),
                   S(uniform(rng, (2, 3)), np.array([9, -2]), mode="clip", label="shape(2,3)-clip")])
entry("select", lambda x, **kw: x.select(**kw), "getitem",
      lambda rng: [S(uniform(rng, (3, 4)), dim=1, index=-1), S(uniform(rng, (2, 3, 2)), dim=0, index=1)])
entry("cr.scatter", lambda x, s, i, **kw: cr.scatter(x, kw.pop("dim"), i, s), ("scatter_add", "where"),
      lambda rng: [S(uniform(rng, (3, 4)), uniform(rng, (2, 4)), np.array([[2, 0, 1, 2], [0, 1, 2, 1]]), dim=0,
                     label="shapes(3,4)+(2,4)-dim=0"),
                   S(uniform(rng, (3, 4)), uniform(rng, (3, 3)), np.array([[1, 1], [0, 3], [2, 2]]), dim=1,
                     label="shapes(3,4)+(3,3)-dim=1-repeated")])
entry("scatter_value", lambda x, index: x.scatter(1, index, value=2.5), "where",
      lambda rng: [S(uniform(rng, (2, 3)), index=np.array([[2], [0]]), label="shape(2,3)")])
entry("scatter_add.public", lambda x, s, i, **kw: x.scatter_add(kw.pop("dim"), i, s), ("scatter_add", "add"),
      lambda rng: [S(uniform(rng, (3, 4)), uniform(rng, (3, 3)), np.array([[1, 1], [0, 3], [2, 2]]), dim=1,
                     label="shapes(3,4)+(3,3)-dim=1-repeated"),
                   S(uniform(rng, (4,)), uniform(rng, (5,)), np.array([3, 0, 3, 3, 1]), dim=0, label="shapes(4)+(5)")])


def _put_along(x, v, i, axis):
    y = x * 1.0
    np.put_along_axis(y, i, v, axis)
    return y


entry("np.put_along_axis", _put_along, ("mul", "index_put"),
      lambda rng: [S(uniform(rng, (3, 4)), uniform(rng, (3, 1)), np.array([[1], [3], [0]]), axis=1, label="shapes(3,4)+(3,1)"),
                   S(uniform(rng, (2, 3)), uniform(rng, ()), np.array([5, -6]), axis=None, label="shapes(2,3)+()-flat")])
entry("choose", lambda a, b, i, **kw: cr.choose(i, [a, b, 1.5], **kw), ("cat", "gather"),
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (3,)), np.array([[0, 1, 2], [1, 1, 0]]), label="shapes(2,3)+(3)"),
                   S(uniform(rng, (3,)), uniform(rng, (3,)), np.array([4, -1, 2]), mode="wrap", label="shapes(3)+(3)-wrap")])
entry("np.choose", lambda a, b, i: np.choose(i, [a, b]), "gather",
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (2, 3)), np.array([[0, 1, 1], [1, 0, 0]]), label="shapes(2,3)+(2,3)")])
entry("np.select", lambda a, b, **kw: np.select(**kw, choicelist=[a, b], default=-1.0), "where",
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (3,)),
                     condlist=[np.array([[True, False, False], [False, True, False]]), np.array([True, True, False])])])

# ---------------------------------------------------------------------------------------------
# Products with NumPy's N-d semantics
# ---------------------------------------------------------------------------------------------

_DOT = [((2, 3), (3,)), ((2, 3, 4), (3, 4, 2)), ((4,), (2, 4, 3)), ((), (2, 3)), ((2, 3), (3, 2))]
entry("np.dot.nd", lambda a, b: np.dot(a, b), "matmul",
      lambda rng: [S(uniform(rng, sa), uniform(rng, sb)) for sa, sb in _DOT if sa])
entry("np.dot.scalar", lambda a, b: np.dot(a, b), "mul", lambda rng: [S(uniform(rng, ()), uniform(rng, (2, 3)))])
entry("np.inner", lambda a, b: np.inner(a, b), "matmul",
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (4, 3))), S(uniform(rng, (3,)), uniform(rng, (2, 3))),
                   S(uniform(rng, (2, 2, 3)), uniform(rng, (3,)))])
entry("inner", lambda a, b: a.inner(b), "matmul", lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (4, 3)))])
entry("tensordot", lambda a, b, **kw: cr.tensordot(a, b, **kw), ("matmul", "permute"),
      lambda rng: [S(uniform(rng, (2, 3, 4)), uniform(rng, (4, 3)), dims=([1, 2], [1, 0])),
                   S(uniform(rng, (2, 3)), uniform(rng, (3, 4)), dims=1)])
entry("np.tensordot", lambda a, b, **kw: np.tensordot(a, b, **kw), "matmul",
      lambda rng: [S(uniform(rng, (2, 3, 4)), uniform(rng, (3, 4, 2))), S(uniform(rng, (2,)), uniform(rng, (3,)), axes=0),
                   S(uniform(rng, (3, 2)), uniform(rng, (2, 3)), axes=(1, 0))])
entry("kron", lambda a, b: cr.kron(a, b), ("reshape", "mul"),
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (2, 2))), S(uniform(rng, (3,)), uniform(rng, (2, 1, 2)))])
entry("np.kron", lambda a, b: np.kron(a, b), "mul", lambda rng: [S(uniform(rng, (2,)), uniform(rng, (3, 2)))])
entry("vdot", lambda a, b: cr.vdot(a, b), "matmul", lambda rng: [S(uniform(rng, (4,)), uniform(rng, (4,)))])
entry("np.vdot", lambda a, b: np.vdot(a, b), ("reshape", "matmul"), lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (3, 2)))])
entry("np.outer.nd", lambda a, b: np.outer(a, b), ("reshape", "mul"), lambda rng: [S(uniform(rng, (2, 2)), uniform(rng, (3,)))])
entry("multi_dot", lambda *ms: cr.linalg.multi_dot(list(ms)), "matmul",
      lambda rng: [S(uniform(rng, (3,)), uniform(rng, (3, 4)), uniform(rng, (4, 2)), uniform(rng, (2, 5))),
                   S(uniform(rng, (2, 3)), uniform(rng, (3, 2)), uniform(rng, (2,)))])
entry("np.linalg.multi_dot", lambda *ms: np.linalg.multi_dot(list(ms)), "matmul",
      lambda rng: [S(uniform(rng, (3,)), uniform(rng, (3, 4)), uniform(rng, (4,)))])

# ---------------------------------------------------------------------------------------------
# Not differentiable: indices
# ---------------------------------------------------------------------------------------------

_ROWS = np.array([[0.5, -1.0, 2.0, 0.0], [3.0, 1.5, -2.0, 0.0]])
NONDIFFERENTIABLE.update({
    "argsort": (lambda a: cr.argsort(a, dim=1, descending=True), lambda a: np.argsort(-a, axis=1, kind="stable"), (_ROWS,)),
    "argpartition": (lambda a: np.argpartition(a, 2, axis=1), lambda a: np.argpartition(a, 2, axis=1), (_ROWS,)),
    "nonzero": (lambda a: a.nonzero(), np.argwhere, (_ROWS,)),
})
