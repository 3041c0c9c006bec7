"""Memory planning for generated code: which equations write into a buffer through ``out=``.

An equation whose callable is a NumPy ufunc (one output, no parameters, a float or complex
array result of one or more dimensions) computes into a buffer instead of allocating one:

- in place, into an operand of the same shape and dtype that no later line reads
  (``v5 = add(v4, 0.1, v4)``, as hand-written NumPy's ``t += 0.1``);
- else into a *slot* freed earlier in the call: the buffer of values no later line reads, kept
  alive (its ``del`` moved) until the equation that reuses it;
- else into a buffer that persists across calls: the generated function takes a set of them
  from a pool at its start (a new set when the pool is empty: two threads never share one) and
  puts it back at its end. A buffer whose values (or views of them) are returned never
  persists: each call's results are its own memory.

Aliasing: a slot is the memory of an array an equation is known to allocate (a ufunc, matmul,
relu, a comparison); any other equation's result may be a view of its operands (a transpose,
a reshape, ``sum_to`` returning its input), so a slot is free only when every value that may
alias it is dead. Layout: NumPy allocates a ufunc's result in its operands' memory order, and
a reduction's summation order follows the layout, so an equation writes into a (C-ordered)
buffer only where eager mode's result would be C-ordered too; the values are eager mode's,
bit for bit. Holding a freed buffer until its reuse, or a persistent one for the whole call,
is done only where it does not raise the call's peak memory as estimated from the liveness.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from .ir import Const, Var

ENABLED = True  # False: the generated code allocates every result (for A/B comparisons, debugging)

_OPERATORS = {operator.add: np.add, operator.sub: np.subtract, operator.mul: np.multiply,
              operator.truediv: np.true_divide}
# primitives whose implementation returns new memory (never a view of an operand)
_ELEMENTWISE_FRESH = frozenset({"relu", "lt", "le", "gt", "ge", "eq", "ne"})
_REDUCTIONS = frozenset({"sum", "mean"})


_KEYWORD_OUT = frozenset({np.maximum, np.minimum})  # a positional out= is deprecated for these
_WHOLE_VIEWS = frozenset({"reshape", "alias"})  # of a C-ordered buffer: all of it, C-ordered


class Plan:
    """Per equation, the ufunc to call and the buffer it writes into (``None``: as before); the
    lines that take and give back the persistent buffers, and the globals they use."""

    def __init__(self, n: int) -> None:
        self.ufuncs: list[Any] = [None] * n
        self.targets: list[str | None] = [None] * n
        self.prologue: list[str] = []
        self.epilogue: list[str] = []
        self.globals: dict[str, Any] = {}


class _Slot:
    __slots__ = ("alloc_shape", "contig", "dtype", "escapes", "first", "holder", "holders", "members", "nbytes", "pooled", "shape",
                 "name")

    def __init__(self, var: Var, contig: bool, first: int) -> None:
        self.shape = tuple(var.shape)
        self.dtype = np.dtype(var.dtype)
        self.nbytes = math.prod(self.shape) * self.dtype.itemsize
        self.contig = contig
        self.alloc_shape = self.shape  # (its shape changes when written through a reshaped view)
        self.holder = var  # the latest value that is this buffer itself (not a view)
        self.holders = [var]  # all of them
        self.members: list[Var] = [var]  # the values that may be (views of) this buffer now
        self.first = first  # the equation that allocates it (or writes it first, when persistent)
        self.escapes = False
        self.pooled = False
        self.name: str | None = None


def ufunc_of(eq: Any, fn: Any) -> Any:
    """The ufunc that computes ``eq`` (its callable ``fn``) with an ``out=`` buffer, or None."""
    if not eq.out.shape:
        return None
    u = fn if isinstance(fn, np.ufunc) else _OPERATORS.get(fn) if _hashable(fn) else None
    if u is None or u.nout != 1 or u.nin != len(eq.operands) or eq.params or getattr(eq.prim, "draws", False):
        return None
    if not eq.out.shape or np.dtype(eq.out.dtype).kind not in "fc" or 0 in eq.out.shape:
        return None
    for o in eq.operands:
        value = o.value if isinstance(o, Const) else None
        if not isinstance(o, Var) and not isinstance(value, (np.ndarray, np.generic, bool, int, float, complex)):
            return None
    return u


def _out(ufunc: Any, name: str) -> str:
    return f"out={name}" if ufunc in _KEYWORD_OUT else name


def _hashable(fn: Any) -> bool:
    try:
        hash(fn)
    except TypeError:
        return False
    return True


def _eager_c_order(eq: Any, contig: dict[int, bool]) -> bool:
    """Whether eager mode's result of elementwise ``eq`` is C-ordered whatever the inputs'
    layouts: 1-d, or every operand with two or more axes of the result's (not broadcast) sizes
    is known to be C-ordered (operands broadcast along all but one axis do not order them)."""
    shape = tuple(eq.out.shape)
    if len(shape) <= 1:
        return True
    for o in eq.operands:
        if isinstance(o, Var):
            s, c = tuple(o.shape), contig.get(o.index, False)
        elif isinstance(o, Const) and isinstance(o.value, np.ndarray):
            s, c = o.value.shape, bool(o.value.flags.c_contiguous)
        else:
            continue
        if c:
            continue
        real = sum(1 for a, b in zip(reversed(s), reversed(shape)) if a == b and b > 1)
        if real > 1:
            return False
    return True


def _orders_alone(eq: Any, var: Var) -> bool:
    """Whether ``var`` is the only operand of ``eq`` with two or more axes of its result's sizes."""
    shape = tuple(eq.out.shape)
    for o in eq.operands:
        if o is var:
            continue
        s = o.shape if isinstance(o, Var) else o.value.shape if isinstance(o, Const) and isinstance(
            o.value, np.ndarray) else ()
        if sum(1 for a, b in zip(reversed(s), reversed(shape)) if a == b and b > 1) > 1:
            return False
    return True


def _fresh_kind(eq: Any) -> str | None:
    """``"elementwise"``/``"matmul"``/``"reduction"`` for equations known to return new memory."""
    name = eq.prim.name
    if eq.impl is not getattr(eq.prim, "impl", None) or not eq.out.shape and name not in _REDUCTIONS:
        return None
    if name in _ELEMENTWISE_FRESH:
        return "elementwise"
    if name == "matmul" and len(eq.out.shape) <= 2:
        return "matmul"
    if name in _REDUCTIONS and not eq.out.shape and all(isinstance(o, Var) and o.shape for o in eq.operands):
        return "reduction"
    return None


def plan(equations: list, fns: list, outputs: list, writes: Any, dead: list[list[Var]],
         fresh_name: Callable[[str], str]) -> Plan:
    """The plan for ``equations`` (each calling ``fns[k]``); moves ``del``s in ``dead`` (the
    liveness: the values deleted after each equation) where a buffer is kept for its reuse."""
    n = len(equations)
    result = Plan(n)
    if not ENABLED:
        return result
    ufuncs = [ufunc_of(eq, fn) for eq, fn in zip(equations, fns)]
    if not any(ufuncs):
        return result
    last: dict[int, int] = {}
    for k, vs in enumerate(dead):
        for v in vs:
            last[v.index] = k
    for eq in equations:  # values never deleted (results, written back) live to the end
        last.setdefault(eq.out.index, n)
    escaping = {o.index for o in outputs if isinstance(o, Var)}
    live = _live_bytes(equations, ufuncs, last, n)
    peak = float(live.max()) if n else 0.0
    extra = np.zeros(n + 1)

    def fits(lo: int, hi: int, nbytes: int) -> bool:  # holding nbytes more over [lo, hi) keeps the peak
        if lo >= hi:
            return True
        return float((live[lo:hi] + extra[lo:hi]).max()) + nbytes <= peak

    contig: dict[int, bool] = {}
    whole: dict[int, _Slot] = {}  # value index -> the slot it is all of, reshaped (C order)
    slot_of: dict[int, _Slot] = {}  # value index -> the slots it may alias
    aliases: dict[int, set[_Slot]] = {}
    free: dict[tuple, list[_Slot]] = {}
    slots: list[_Slot] = []
    for k, eq in enumerate(equations):
        out = eq.out
        u = ufuncs[k]
        kind = "ufunc" if u is not None else _fresh_kind(eq)
        if kind is None and eq.prim.name in _WHOLE_VIEWS and eq.impl is getattr(eq.prim, "impl", None):
            base = eq.operands[0] if eq.operands else None
            s_ = (slot_of.get(base.index) or whole.get(base.index)) if isinstance(base, Var) else None
            if s_ is not None and isinstance(base, Var) and s_.contig \
                    and (s_.holder is base or whole.get(base.index) is s_) \
                    and math.prod(out.shape) == math.prod(s_.shape):
                whole[out.index] = s_  # the whole C-ordered buffer, another shape: writable in place
                contig[out.index] = True
        if kind is None:  # may be a view of its operands: it aliases their slots
            found: set[_Slot] = set()
            for v in eq.uses():
                found |= aliases.get(v.index, set())
            for s in found:
                s.members.append(out)
            if found:
                aliases[out.index] = found
            _release(k, dead, aliases, last, free)
            continue
        if kind == "reduction":
            _release(k, dead, aliases, last, free)
            continue
        c_ok = True if kind == "matmul" else _eager_c_order(eq, contig)
        slot = None
        if u is not None:
            slot = _in_place(eq, k, slot_of, last, c_ok, whole)
            if slot is None and c_ok:
                slot = _reuse(free.get((tuple(out.shape), np.dtype(out.dtype).str)), k, last, fits, extra)
            via = next((o for o in eq.operands if isinstance(o, Var) and slot is not None
                        and whole.get(o.index) is slot and o is not slot.holder), None)
            if via is not None:  # in place through a reshaped view of the buffer (it keeps the buffer alive)
                result.targets[k] = _out(u, str(via.name))
                result.ufuncs[k] = u
            elif slot is not None:
                result.targets[k] = _out(u, str(slot.holder.name))
                result.ufuncs[k] = u
            if slot is not None and via is None and last.get(slot.holder.index, n) < k:
                dead[last[slot.holder.index]].remove(slot.holder)  # keep the buffer alive until now
                dead[k].append(slot.holder)
                last[slot.holder.index] = k
            if slot is not None:
                slot.holder = out
                slot.shape = tuple(out.shape)  # (written in place through a reshaped view: its shape now)
                slot.holders.append(out)
                slot.members = [out]
        if slot is None:
            slot = _Slot(out, c_ok, k)
            slots.append(slot)
            if u is not None and c_ok:
                result.ufuncs[k] = u  # its buffer: persistent if it may be, decided below
        contig[out.index] = slot.contig
        slot_of[out.index] = slot
        aliases[out.index] = {slot}
        _release(k, dead, aliases, last, free)
    for index in escaping:
        for s in aliases.get(index, ()):
            s.escapes = True
    _pool(result, dead, slots, last, n, fits, extra, fresh_name)
    return result


def _in_place(eq: Any, k: int, slot_of: dict[int, _Slot], last: dict[int, int], c_ok: bool,
              whole: dict[int, _Slot]) -> _Slot | None:
    """The slot of an operand that eq ``k`` reads for the last time and may overwrite (the same
    shape and dtype as its result, read by no other value after it, and by no view at ``k``);
    of two, the one allocated first (the allocator can give the newer one back: less memory).
    The result keeps eager mode's layout: the buffer is C-ordered as eager mode's result would
    be, or its operand is the only one that orders the axes (eager mode's result takes its order)."""
    out = eq.out
    found = None
    for o in eq.operands:
        if not isinstance(o, Var):
            continue
        s = slot_of.get(o.index) or whole.get(o.index)
        if s is None or (s.holder is not o and whole.get(o.index) is not s) or tuple(o.shape) != tuple(out.shape) \
                or s.dtype != np.dtype(out.dtype):
            continue
        if not (s.contig and c_ok) and not _orders_alone(eq, o):
            continue
        if all(last.get(m.index, 1 << 62) < k or (last.get(m.index) == k and m is o) for m in s.members):
            if found is None or s.first < found.first:  # the oldest: the newer one goes back first
                found = s
    return found


def _reuse(candidates: list[_Slot] | None, k: int, last: dict[int, int], fits: Any, extra: Any) -> _Slot | None:
    """A freed slot for eq ``k`` (the latest freed first), if holding it until ``k`` keeps the peak."""
    if not candidates:
        return None
    for i in range(len(candidates) - 1, -1, -1):
        s = candidates[i]
        since = max(last.get(m.index, 1 << 62) for m in s.members)
        if since < k and fits(since + 1, k, s.nbytes):
            extra[since + 1:k] += s.nbytes
            del candidates[i]
            return s
    return None


def _release(k: int, dead: list[list[Var]], aliases: dict[int, set[_Slot]],
             last: dict[int, int], free: dict[tuple, list[_Slot]]) -> None:
    """The slots whose every value is dead after eq ``k``: free for reuse."""
    for v in dead[k]:
        for s in aliases.get(v.index, ()):
            if s.contig and all(last.get(m.index, 1 << 62) <= k for m in s.members):
                bucket = free.setdefault((s.shape, s.dtype.str), [])
                if s not in bucket:
                    bucket.append(s)


def _live_bytes(equations: list, ufuncs: list, last: dict[int, int], n: int) -> Any:
    """Bytes of the arrays the equations allocate that are alive at each equation (an estimate
    of eager mode's memory: results of unknown kind count as views, allocating nothing)."""
    delta = np.zeros(n + 2)
    for k, eq in enumerate(equations):
        if not eq.out.shape or ufuncs[k] is None and _fresh_kind(eq) is None:
            continue
        size = math.prod(eq.out.shape) * np.dtype(eq.out.dtype).itemsize
        delta[k] += size
        delta[last.get(eq.out.index, n) + 1] -= size
    return np.cumsum(delta)[:n + 1]


def _pool(result: Plan, dead: list[list[Var]], slots: list[_Slot], last: dict[int, int], n: int,
          fits: Any, extra: Any, fresh_name: Callable[[str], str]) -> None:
    """Persistent buffers for the slots a ufunc writes first that never escape (where holding
    them for the whole call keeps the peak); the others are allocated by their ufunc. The names
    of a persistent buffer are not deleted (it stays alive anyway)."""
    pooled: list[_Slot] = []
    for s in slots:
        if result.ufuncs[s.first] is None or result.targets[s.first] is not None:
            continue
        end = max([last.get(m.index, n) for m in s.members] + [s.first])
        if s.escapes or not fits(0, s.first, s.nbytes) or not fits(end + 1, n + 1, s.nbytes):
            result.ufuncs[s.first] = None  # allocated by the call, as eager mode does
            continue
        extra[0:s.first] += s.nbytes
        extra[end + 1:n + 1] += s.nbytes
        s.name = fresh_name(f"b{len(pooled) + 1}")
        for h in s.holders:
            if last.get(h.index, n) < n and h in dead[last[h.index]]:
                dead[last[h.index]].remove(h)
        result.targets[s.first] = _out(result.ufuncs[s.first], s.name)
        pooled.append(s)
    if not pooled:
        return
    pool, alloc, bufs = fresh_name("pool"), fresh_name("buffers"), fresh_name("bufs")
    specs = [(s.alloc_shape, s.dtype) for s in pooled]
    result.globals[pool] = []
    result.globals[alloc] = lambda: tuple(np.empty(shape, dtype) for shape, dtype in specs)
    names = ", ".join(str(s.name) for s in pooled)
    result.prologue = ["try:  # buffers kept across calls: a set of its own for each call running",
                       f"    {bufs} = {pool}.pop()", "except IndexError:", f"    {bufs} = {alloc}()",
                       f"{names}{',' if len(pooled) == 1 else ''} = {bufs}"]
    result.epilogue = [f"{pool}.append({bufs})"]
