"""Jacobians in one pass: a batch of cotangents (reverse) or tangents (forward) pushed at once.

A ``Batched`` value stacks B per-example values along a leading axis. The table's rules run
unchanged on it through ``BatchedNamespace``, which gives each primitive a batching rule: the
elementwise ones broadcast after aligning axes, reductions and shape ops shift their axes by one,
``matmul`` and ``einsum`` batch natively. Primitives without a rule (``FALLBACK``) loop over the
batch — correct, just not vectorised.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np

from ..core import dispatch as P
from ..core import engine
from ..core.tensor import Tensor
from .arguments import _closure_history, _outputs
from .forward import forward_level, make_dual, recording_needed, tangent_of


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
    return value._data.shape if isinstance(value, Tensor) else np.shape(value)


def _arg_shape(a: Any) -> tuple[int, ...]:
    return a.shape if isinstance(a, Batched) else _raw_shape(a)


def _shift(dim: Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(1, ndim + 1))
    return tuple(d + 1 for d in dim)


class BatchedNamespace:
    """The rule namespace ``base`` (raw or traced) lifted to ``Batched`` arguments."""

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
            if not any(isinstance(a, Batched) for a in args):
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


def _getitem(ns, fn, args, params):
    index = params["index"]
    if not _basic(index):
        return _loop(ns, fn, args, params)
    index = index if isinstance(index, tuple) else (index,)
    return ns.wrap(fn(args[0].value, index=(slice(None),) + index))


def _scatter(ns, fn, args, params):
    index = params["index"]
    if not _basic(index):
        return _loop(ns, fn, args, params)
    index = index if isinstance(index, tuple) else (index,)
    return ns.wrap(fn(args[0].value, index=(slice(None),) + index, shape=(ns.size,) + tuple(params["shape"])))


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


def _gather(ns, fn, args, params):
    x, index = args
    if isinstance(index, Batched):
        return _loop(ns, fn, args, params)
    index = np.broadcast_to(index, (ns.size,) + np.shape(index))
    return ns.wrap(fn(x.value, index, dim=params["dim"] + 1))


def _scatter_add(ns, fn, args, params):
    src, index = args
    if isinstance(index, Batched):
        return _loop(ns, fn, args, params)
    index = np.broadcast_to(index, (ns.size,) + np.shape(index))
    return ns.wrap(fn(src.value, index, dim=params["dim"] + 1, shape=(ns.size,) + tuple(params["shape"])))


def _diagonal(ns, fn, args, params):
    return ns.wrap(fn(args[0].value, offset=params["offset"], dim1=params["dim1"] + 1, dim2=params["dim2"] + 1))


def _diagonal_embed(ns, fn, args, params):
    return ns.wrap(fn(args[0].value, shape=(ns.size,) + tuple(params["shape"]), offset=params["offset"],
                      dim1=params["dim1"] + 1, dim2=params["dim2"] + 1))


def _pad(ns, fn, args, params):
    return ns.wrap(fn(args[0].value, widths=((0, 0),) + tuple(params["widths"]), value=params["value"]))


_RULES: dict[str, Callable[..., Any]] = {
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


FALLBACK = fallback()


# ---------------------------------------------------------------------------------------------
# Jacobians
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=16)
def _identity(n: int, dtype: np.dtype) -> np.ndarray:
    """The seeds of a Jacobian: a read-only identity, built once per size and dtype."""
    eye = np.eye(n, dtype=dtype)
    eye.flags.writeable = False
    return eye


def batched_vjp(inputs: Sequence[Tensor], out: Tensor, create: bool) -> list[Tensor]:
    """The Jacobian of ``out`` with respect to each input (``out.shape + in.shape``), from one
    backward pass carrying the whole identity as a batch of cotangents."""
    n = out._data.size
    dtype = out._data.dtype
    found: dict[int, Any] = {}
    if out._requires_grad and n:
        seeds = _identity(n, dtype).reshape((n,) + out._data.shape)
        found = engine.compute_gradients([out], [seeds], inputs, retain_graph=True,
                                         create_graph=create, accumulate=False,
                                         batch=lambda m: BatchedNamespace(m, n))
    jacs: list[Tensor] = []
    for t in inputs:
        g = found.get(id(t))
        shape = out._data.shape + t._data.shape
        if g is None:
            jacs.append(Tensor._wrap(np.zeros(shape, dtype=t._data.dtype)))
            continue
        value = g.value if isinstance(g, Batched) else g
        if isinstance(value, Tensor):
            jacs.append(value.reshape(shape))
        else:
            jacs.append(Tensor._wrap(np.asarray(value).reshape(shape)))
    return jacs


def batched_jvp(f: Callable[..., Any], args: Sequence[Any], argnums: Sequence[int],
                name: str = "jacfwd") -> tuple[list[list[Any]], bool]:
    """The Jacobians of ``f`` for each argument in ``argnums`` (``out.shape + in.shape``), each from
    one forward pass carrying the whole identity as a batch of tangents: ``(jacs, single)`` where
    ``jacs[k][j]`` is output ``j``'s Jacobian for argument ``argnums[k]`` and ``single`` says whether
    ``f`` returned one tensor (rather than a tuple or list of them)."""
    record = recording_needed(args)
    jacs, single = [], True
    for i in argnums:
        columns, outputs, single = _jacobian_column_pass(f, args, i, record, name)
        if not record and _closure_history(outputs):
            # f closes over tensors that require grad: record the tangents too (see jvp).
            columns, outputs, single = _jacobian_column_pass(f, args, i, True, name)
        jacs.append(columns)
    return jacs, single


def _jacobian_column_pass(f, args, i, record, name):
    x = args[i]
    n = x._data.size
    with forward_level(record, name) as level:
        ns = BatchedNamespace(P.traced, n)
        seeds = Tensor._wrap(_identity(n, x._data.dtype).reshape((n,) + x._data.shape))
        call = list(args)
        call[i] = make_dual(x, ns.wrap(seeds), level)
        outputs, single = _outputs(name, f(*call))
        tangents = [tangent_of(out, level) for out in outputs]
    return [_jacobian_columns(out, t, x, n) for out, t in zip(outputs, tangents)], outputs, single


def _jacobian_columns(out, t, x, n):
    """The Jacobian ``out.shape + x.shape`` from ``t``, the batch of ``out``'s tangents."""
    shape = out._data.shape + x._data.shape
    if t is None:
        return Tensor._wrap(np.zeros(shape, dtype=out._data.dtype))
    value = t.value if isinstance(t, Batched) else P.traced.broadcast_to(t, shape=(n,) + out._data.shape)
    # value: (n,) + out.shape, indexed by input element first; move that axis last.
    ndim = len(out._data.shape)
    moved = P.traced.permute(value, dims=tuple(range(1, ndim + 1)) + (0,)) if ndim else value
    return P.traced.reshape(moved, shape=shape)
