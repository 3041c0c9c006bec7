"""Jacobians in one pass: a batch of cotangents (reverse) or tangents (forward) pushed at once.

A ``Batched`` value stacks B per-example values along a leading axis. The table's rules run
unchanged on it through ``BatchedNamespace``, which gives each primitive a batching rule: the
elementwise ones broadcast after aligning axes, reductions and shape ops shift their axes by one,
``matmul`` and ``einsum`` batch natively. Primitives without a rule (``FALLBACK``) loop over the
batch — correct, just not vectorised.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np

from ..core import dispatch as P
from ..core.tensor import Tensor


class Batched:
    """B stacked values (leading axis of ``value``); ``shape`` is the per-example shape."""

    __slots__ = ("value", "ns")
    __array_ufunc__ = None  # NumPy defers to the reflected operators below

    def __array__(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("a batch of tangents/cotangents cannot be converted to one array")

    def __init__(self, value: Any, ns: BatchedNamespace) -> None:
        self.value = value
        self.ns = ns

    @property
    def shape(self) -> tuple:
        return _raw_shape(self.value)[1:]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    def __add__(self, other: Any) -> Any:
        return self.ns.add(self, other)

    def __radd__(self, other: Any) -> Any:
        return self.ns.add(other, self)

    def __sub__(self, other: Any) -> Any:
        return self.ns.sub(self, other)

    def __rsub__(self, other: Any) -> Any:
        return self.ns.sub(other, self)

    def __mul__(self, other: Any) -> Any:
        return self.ns.mul(self, other)

    def __rmul__(self, other: Any) -> Any:
        return self.ns.mul(other, self)

    def __truediv__(self, other: Any) -> Any:
        return self.ns.div(self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return self.ns.div(other, self)

    def __pow__(self, other: Any) -> Any:
        return self.ns.pow(self, other)

    def __rpow__(self, other: Any) -> Any:
        return self.ns.pow(other, self)

    def __neg__(self) -> Any:
        return self.ns.neg(self)

    def __matmul__(self, other: Any) -> Any:
        return self.ns.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return self.ns.matmul(other, self)

    def __gt__(self, other: Any) -> Any:
        return self.ns.gt(self, other)

    def __lt__(self, other: Any) -> Any:
        return self.ns.lt(self, other)

    def __ge__(self, other: Any) -> Any:
        return self.ns.ge(self, other)

    def __le__(self, other: Any) -> Any:
        return self.ns.le(self, other)

    def __eq__(self, other: object) -> Any:  # elementwise, as NumPy's
        return self.ns.eq(self, other)

    def __ne__(self, other: object) -> Any:  # elementwise, as NumPy's
        return self.ns.ne(self, other)

    __hash__ = object.__hash__


def _raw_shape(value: Any) -> tuple[int, ...]:
    if isinstance(value, Tensor):
        return tuple(value._data.shape)  # (one example's, for a batched tensor of vmap)
    return np.shape(value)


def _arg_shape(a: Any) -> tuple[int, ...]:
    return a.shape if isinstance(a, Batched) else _raw_shape(a)


def _shift(dim: Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(1, ndim + 1))
    return tuple(d + 1 for d in dim)


def _index_parts(index: Any) -> tuple:
    """An index as a tuple, a batched tensor in it as its batch."""
    parts = index if isinstance(index, tuple) else (index,)
    return tuple(i._data if isinstance(i, Tensor) and isinstance(i._data, Batched) else i for i in parts)


def _index_holds(ns: Any, params: dict) -> bool:
    """Whether an index parameter holds a batch of this namespace (vmap of ``x[idx]``)."""
    index = params.get("index")
    if index is None:
        return False
    return any(isinstance(i, Batched) and i.ns is ns for i in _index_parts(index))


class BatchedNamespace:
    """The rule namespace ``base`` (raw or traced) lifted to ``Batched`` arguments."""

    level = 0  # vmap's namespaces (see vmap) number their nesting from 1

    def __init__(self, base: Any, size: int) -> None:
        self.base = base
        self.size = size
        self._cache: dict[str, Callable[..., Any]] = {}

    def wrap(self, value: Any) -> Batched:
        return Batched(value, self)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("__"):
            raise AttributeError(name)
        fn = self._cache.get(name)
        if fn is None:
            fn = self._make(name)
            self._cache[name] = fn
        return fn

    def _make(self, name: str) -> Callable[..., Any]:
        base_fn = getattr(self.base, name)
        rule = _RULES.get(name)
        if rule is None:
            prim = P.PRIMITIVES.get(name)
            kind = None if prim is None else prim.batching
            # A primitive may carry its own rule: ``batching=f`` with ``f(ns, fn, args, params)``.
            rule = kind if callable(kind) else _BY_KIND.get(kind, _loop)

        def call(*args: Any, **params: Any) -> Any:
            if not any(isinstance(a, Batched) for a in args) and not _index_holds(self, params):
                return base_fn(*args, **params)
            return rule(self, base_fn, args, params)

        call.__name__ = name
        return call

    # helpers for rules
    def broadcast(self, a: Any) -> Any:
        """``a`` as a full batched value (unbatched values are repeated along the batch)."""
        if isinstance(a, Batched):
            return a.value
        shape = _raw_shape(a)
        return self.base.broadcast_to(a, shape=(self.size,) + tuple(shape))

    def conform(self, value: Any, shape: tuple[int, ...], dtype: np.dtype, resize: str) -> Batched:
        """``value`` as a batched value with per-example ``shape`` and ``dtype``; ``resize``
        names the primitive that changes the shape ("sum_to" for gradients, "broadcast_to" for
        tangents)."""
        if not isinstance(value, Batched):
            value = self.wrap(self.broadcast(value))
        if value.shape != shape:
            value = getattr(self, resize)(value, shape=shape)
        if value.dtype != dtype:
            value = self.cast(value, dtype=dtype)
        return value

    def pad_to(self, a: Batched, ndim: int) -> Any:
        """The batched value with size-1 axes after the batch axis up to ``ndim`` example axes."""
        missing = ndim - a.ndim
        if missing <= 0:
            return a.value
        return self.base.reshape(a.value, shape=(self.size,) + (1,) * missing + a.shape)


def _elementwise(ns, fn, args, params):
    ndim = max(len(_arg_shape(a)) for a in args)
    lifted = [ns.pad_to(a, ndim) if isinstance(a, Batched) else a for a in args]
    return ns.wrap(fn(*lifted, **params))


def _reduce_dims(ns, fn, args, params):
    x = args[0]
    params = dict(params)
    params["dim"] = _shift(params.get("dim"), x.ndim)
    return ns.wrap(fn(x.value, *args[1:], **params))


def _shift_dim(ns, fn, args, params):
    params = dict(params)
    params["dim"] = params["dim"] + 1
    return ns.wrap(fn(args[0].value, *args[1:], **params))


def _loop(ns, fn, args, params):
    """Per-example application, stacked: the rule for primitives without a vectorised one."""
    results = []
    for b in range(ns.size):
        results.append(fn(*[a.value[b] if isinstance(a, Batched) else a for a in args], **params))
    base = ns.base
    shape = _raw_shape(results[0])
    rows = [base.reshape(r, shape=(1,) + tuple(shape)) for r in results]
    return ns.wrap(base.cat(*rows, dim=0))


def _reshape(ns, fn, args, params):
    return ns.wrap(fn(args[0].value, shape=(ns.size,) + tuple(params["shape"])))


def _broadcast_to(ns, fn, args, params):
    shape = tuple(params["shape"])
    return ns.wrap(fn(ns.pad_to(args[0], len(shape)), shape=(ns.size,) + shape))


def _sum_to(ns, fn, args, params):
    x = args[0]
    shape = tuple(params["shape"])
    lead = x.ndim - len(shape)
    axes = tuple(range(1, lead + 1)) + tuple(
        i + lead + 1 for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1)
    value = x.value
    if axes:
        value = ns.base.sum(value, dim=axes, keepdim=True)
    return ns.wrap(ns.base.reshape(value, shape=(ns.size,) + shape))


def _permute(ns, fn, args, params):
    return ns.wrap(fn(args[0].value, dims=(0,) + tuple(d + 1 for d in params["dims"])))


def _flip(ns, fn, args, params):
    return ns.wrap(fn(args[0].value, dims=tuple(d + 1 for d in params["dims"])))


def _tile(ns, fn, args, params):
    reps = tuple(params["reps"])
    return ns.wrap(fn(ns.pad_to(args[0], len(reps)), reps=(1,) + reps))


def _basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer)) for i in items)


def _stand_in(i: Any) -> Any:
    """An index element as NumPy sees its shape: a batched value (of another level) as zeros of
    its per-example shape and dtype."""
    if isinstance(i, Batched) or isinstance(i, Tensor) and not isinstance(i._data, np.ndarray):
        data = i if isinstance(i, Batched) else i._data
        return np.zeros(data.shape, dtype=np.dtype(data.dtype))
    return i


def _batch_axis(index: tuple, shape: tuple, size: int) -> int:
    """Where the batch axis lands in ``x[(slice(None),) + index]`` for ``x`` of shape ``(size,) +
    shape``: first, unless NumPy moves the dimensions of separated advanced indices in front of
    it. Found by indexing a zero-strided stand-in whose batch size no other dimension has."""
    if _basic(index):
        return 0
    index = tuple(_stand_in(i) for i in index)
    sizes = [size, *shape] + [n for i in index for n in np.shape(i)]
    probe = max(sizes) + 1
    stand_in = np.broadcast_to(np.empty((), np.int8), (probe,) + tuple(shape))
    return stand_in[(slice(None),) + index].shape.index(probe)


def _index_data(value: Any) -> Any:
    """A batch of indices as an index part: its array (a batch of another level stays a batch)."""
    return value._data if isinstance(value, Tensor) else value


def _ours(ns: Any, i: Any) -> bool:
    return isinstance(i, Batched) and i.ns is ns


def _advanced(i: Any) -> bool:
    return not (i is None or i is Ellipsis or isinstance(i, slice))


def _block(index: tuple, ndim: int) -> tuple[int, int]:
    """For a per-example ``x[index]`` (``x`` with ``ndim`` axes) whose index holds arrays: where
    the dimensions of the advanced indices go in the result (NumPy: where the first of them
    stands if they are next to each other, else first) and how many axes of ``x`` come before."""
    consumed = sum(np.ndim(i) if np.asarray(i).dtype == bool else 1 for i in index
                   if _advanced(i) or isinstance(i, slice))
    positions, width = [], 0
    for k, i in enumerate(index):
        if _advanced(i):
            positions.append(k)
    if positions != list(range(positions[0], positions[-1] + 1)):
        return 0, 0
    for i in index[:positions[0]]:
        width += ndim - consumed if i is Ellipsis else 1
    return width, 0


def _refuse_masks(ns: Any, index: tuple) -> None:
    if any(np.dtype(i.dtype) == bool for i in index if _ours(ns, i)):
        raise ValueError("vmap: indexing with a batch of boolean masks gives each example a "
                         "different number of elements; use cr.where(mask, x, 0) instead")


def _batched_take(ns: Any, fn: Callable[..., Any], x: Any, index: tuple, extra: dict) -> Any:
    """``x[index]`` per example, where the index holds batches of integer indices of this level:
    one advanced index more (the example number, first) picks each example's row."""
    _refuse_masks(ns, index)
    per = tuple(_stand_in(i) for i in index)
    arrays = [np.asarray(i) for i in per if _advanced(i) and not isinstance(i, (int, np.integer))]
    depth = len(np.broadcast_shapes(*[a.shape for a in arrays])) if arrays else 0
    example = np.arange(ns.size).reshape((ns.size,) + (1,) * depth)
    full = (example,) + tuple(_index_data(i.value) if _ours(ns, i) else i for i in index)
    x_shape = _arg_shape(x)
    ndim = len(x_shape)
    width, _ = _block(per, ndim)
    out = fn(ns.broadcast(x), index=full, **extra)
    # NumPy put the example number and the index dimensions first; per example they go at ``width``.
    rank = len(_raw_shape(out))
    block = 1 + depth
    dims = [0] + list(range(block, block + width)) + list(range(1, block)) + list(range(block + width, rank))
    if dims != list(range(rank)):
        out = ns.base.permute(out, dims=tuple(dims))
    return out, dims


def _getitem(ns, fn, args, params):
    index = _index_parts(params["index"])
    x = args[0]
    if any(_ours(ns, i) for i in index):
        out, _ = _batched_take(ns, fn, x, index, {})
        return ns.wrap(out)
    out = fn(ns.broadcast(x), index=(slice(None),) + index)
    k = _batch_axis(index, x.shape if isinstance(x, Batched) else _raw_shape(x), ns.size)
    if k:
        dims = list(range(len(_raw_shape(out))))
        dims.insert(0, dims.pop(k))
        out = ns.base.permute(out, dims=tuple(dims))
    return ns.wrap(out)


def _scatter(ns, fn, args, params):
    index = _index_parts(params["index"])
    shape = tuple(params["shape"])
    g = ns.broadcast(args[0])
    if any(_ours(ns, i) for i in index):
        _refuse_masks(ns, index)
        per = tuple(_stand_in(i) for i in index)
        arrays = [np.asarray(i) for i in per if _advanced(i) and not isinstance(i, (int, np.integer))]
        depth = len(np.broadcast_shapes(*[a.shape for a in arrays])) if arrays else 0
        width, _ = _block(per, len(shape))
        rank = len(_raw_shape(g))
        block = 1 + depth
        dims = [0] + list(range(block, block + width)) + list(range(1, block)) + list(range(block + width, rank))
        inverse = tuple(int(k) for k in np.argsort(dims))  # into NumPy's layout: example, index, rest
        if list(inverse) != list(range(rank)):
            g = ns.base.permute(g, dims=inverse)
        example = np.arange(ns.size).reshape((ns.size,) + (1,) * depth)
        full = (example,) + tuple(_index_data(i.value) if _ours(ns, i) else i for i in index)
        return ns.wrap(fn(g, index=full, shape=(ns.size,) + shape))
    k = _batch_axis(index, shape, ns.size)
    if k:  # into the layout of x[(slice(None),) + index]: the batch axis at k
        dims = list(range(len(_raw_shape(g))))
        dims.insert(k, dims.pop(0))
        g = ns.base.permute(g, dims=tuple(dims))
    return ns.wrap(fn(g, index=(slice(None),) + index, shape=(ns.size,) + shape))


def _index_put(ns, fn, args, params):
    """``x[index] = value`` per example (out of place): the batch axis leads ``x``; a batch of
    values goes where NumPy puts the batch axis of ``x[(slice(None),) + index]``."""
    index = _index_parts(params["index"])
    if any(isinstance(i, Batched) for i in index):
        return _loop(ns, fn, args, params)
    x, value = args
    shape = x.shape if isinstance(x, Batched) else _raw_shape(x)
    if isinstance(value, Batched):
        region = np.broadcast_to(np.empty((), np.int8), shape)[tuple(_stand_in(i) for i in index)].shape
        v = ns.pad_to(value, len(region))
        k = _batch_axis(index, tuple(shape), ns.size)
        if k:
            dims = list(range(len(_raw_shape(v))))
            dims.insert(k, dims.pop(0))
            v = ns.base.permute(v, dims=tuple(dims))
        value = v
    return ns.wrap(fn(ns.broadcast(x), value, index=(slice(None),) + index))


def _matmul(ns, fn, args, params):
    a, b = args
    sa, sb = _arg_shape(a), _arg_shape(b)
    base = ns.base
    squeeze = []

    def lift(x, shape, vector_axis):
        if len(shape) == 1:
            shape2 = (1,) + shape if vector_axis == 0 else shape + (1,)
            squeeze.append(-2 if vector_axis == 0 else -1)
            if isinstance(x, Batched):
                return Batched(base.reshape(x.value, shape=(ns.size,) + shape2), ns), shape2
            return base.reshape(x, shape=shape2), shape2
        return x, shape

    a, sa = lift(a, sa, 0)
    b, sb = lift(b, sb, 1)
    n_batch = ns.size
    if len(sa) == 2 and len(sb) == 2 and isinstance(a, Batched) != isinstance(b, Batched):
        # One matrix against a batch of matrices: a single GEMM instead of one per example.
        if isinstance(a, Batched):  # (B, n, k) @ (k, m) = ((B·n, k) @ (k, m)) reshaped
            flat = base.reshape(a.value, shape=(n_batch * sa[0], sa[1]))
            out = base.reshape(fn(flat, b), shape=(n_batch, sa[0], sb[1]))
        elif sb[1] == 1:  # (n, k) @ (B, k, 1): the batch of vectors as rows, (B, k) @ (k, n)
            rows = base.reshape(b.value, shape=(n_batch, sb[0]))
            out = base.reshape(fn(rows, base.permute(a, dims=(1, 0))), shape=(n_batch, sa[0], 1))
        else:  # (n, k) @ (B, k, m): columns of all examples side by side
            cols = base.reshape(base.permute(b.value, dims=(1, 0, 2)), shape=(sb[0], n_batch * sb[1]))
            out = base.permute(base.reshape(fn(a, cols), shape=(sa[0], n_batch, sb[1])), dims=(1, 0, 2))
    else:
        ndim = max(len(sa), len(sb))
        va = ns.pad_to(a, ndim) if isinstance(a, Batched) else a
        vb = ns.pad_to(b, ndim) if isinstance(b, Batched) else b
        out = fn(va, vb)
    shape = _raw_shape(out)
    for axis in sorted(squeeze):
        axis = len(shape) + axis
        shape = shape[:axis] + shape[axis + 1:]
    if squeeze:
        out = base.reshape(out, shape=shape)
    return ns.wrap(out)


def _einsum(ns, fn, args, params):
    lhs, out = params["subscripts"].split("->")
    terms = lhs.split(",")
    letter = next(c for c in string.ascii_letters if c not in params["subscripts"])
    new_terms = [letter + t if isinstance(a, Batched) else t for t, a in zip(terms, args)]
    values = [a.value if isinstance(a, Batched) else a for a in args]
    return ns.wrap(fn(*values, subscripts=",".join(new_terms) + "->" + letter + out))


def _cat(ns, fn, args, params):
    return ns.wrap(fn(*[ns.broadcast(a) for a in args], dim=params["dim"] + 1))


def _batched_index(ns, index):
    """An index operand (gather, scatter_add) with the batch axis first: a batch of indices as it
    is, a shared one repeated."""
    if isinstance(index, Batched):
        return index.value
    if isinstance(index, Tensor):
        return ns.base.broadcast_to(index, shape=(ns.size,) + tuple(index.shape))
    return np.broadcast_to(index, (ns.size,) + np.shape(index))


def _gather(ns, fn, args, params):
    x, index = args
    return ns.wrap(fn(ns.broadcast(x), _batched_index(ns, index), dim=params["dim"] + 1))


def _scatter_add(ns, fn, args, params):
    src, index = args
    return ns.wrap(fn(ns.broadcast(src), _batched_index(ns, index), dim=params["dim"] + 1,
                      shape=(ns.size,) + tuple(params["shape"])))


def _diagonal(ns, fn, args, params):
    return ns.wrap(fn(args[0].value, offset=params["offset"], dim1=params["dim1"] + 1, dim2=params["dim2"] + 1))


def _diagonal_embed(ns, fn, args, params):
    return ns.wrap(fn(args[0].value, shape=(ns.size,) + tuple(params["shape"]), offset=params["offset"],
                      dim1=params["dim1"] + 1, dim2=params["dim2"] + 1))


def _pad(ns, fn, args, params):
    return ns.wrap(fn(args[0].value, widths=((0, 0),) + tuple(params["widths"]), value=params["value"]))


def _arg_reduce(ns, fn, args, params):
    """argmax/argmin: along a dim (shifted past the batch axis), or over each example's elements."""
    x = args[0]
    if params.get("dim") is None:
        flat = ns.base.reshape(x.value, shape=(ns.size, -1))
        out = fn(flat, dim=1, keepdim=False)
        if params.get("keepdim"):
            out = ns.base.reshape(out, shape=(ns.size,) + (1,) * x.ndim)
        return ns.wrap(out)
    return ns.wrap(fn(x.value, dim=params["dim"] + 1 if params["dim"] >= 0 else params["dim"],
                      keepdim=params.get("keepdim", False)))


_RULES: dict[str, Callable[..., Any]] = {
    "argmax": _arg_reduce, "argmin": _arg_reduce, "index_put": _index_put,
    "reshape": _reshape, "broadcast_to": _broadcast_to, "sum_to": _sum_to, "permute": _permute,
    "flip": _flip, "tile": _tile, "getitem": _getitem, "scatter": _scatter, "matmul": _matmul,
    "einsum_prim": _einsum, "cat": _cat, "gather": _gather, "scatter_add": _scatter_add,
    "diagonal": _diagonal, "diagonal_embed": _diagonal_embed, "pad": _pad,
}
_BY_KIND: dict[str | None, Callable[..., Any]] = {"elementwise": _elementwise, "reduce": _reduce_dims, "shift_dim": _shift_dim}

def fallback() -> list[str]:
    """The differentiable primitives with no batching rule: each loops over the batch."""
    return sorted(name for name, prim in P.PRIMITIVES.items()
                  if prim.differentiable and name not in _RULES and prim.batching is None)


def __getattr__(name: str) -> Any:
    """``FALLBACK``: ``fallback()`` once every operation table is loaded (this module is imported
    while they load)."""
    if name == "FALLBACK":
        return fallback()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
