"""Generated code: a graph as one Python function of NumPy arrays.

Each equation is a call of the implementation the eager dispatch ran (so results are those of
eager mode, bit for bit), named after its primitive; each guard a check that raises
``GuardMiss`` when a decision comes out differently. Constants that are not plain Python values
are bound as globals ``k1, k2, ...``. Example (``cr.jit(f).source(x)`` for
``f = lambda x: (x * x).sum()``)::

    def f(x):
        v1 = mul(x, x)
        v2 = sum_(v1, dim=None, keepdim=False)
        return (v2,)
"""

from __future__ import annotations

import builtins
import keyword
import math
from typing import Any

import numpy as np

from . import memory
from .ir import Const, Guard, GuardMiss, Var, same

_SCALARS = (bool, int, float, complex, str, type(None))
_TAKEN = frozenset(dir(builtins)) | frozenset(keyword.kwlist)  # names a generated one must not shadow


def _literal_ok(value: Any) -> bool:
    if type(value) in _SCALARS:
        return not (type(value) in (float, complex) and not all(
            math.isfinite(p) for p in ((value.real, value.imag) if type(value) is complex else (value,))))
    if type(value) in (tuple, list):
        return all(_literal_ok(v) for v in value)
    if type(value) is slice:
        return all(_literal_ok(v) for v in (value.start, value.stop, value.step))
    return value is Ellipsis


class _Writer:
    def __init__(self, name: str) -> None:
        self.name = name
        self.globals: dict[str, Any] = {"np": np, "GuardMiss": GuardMiss, "same": same}
        self.by_id: dict[int, str] = {}
        self.lines: list[str] = []
        self.used = set(self.globals) | _TAKEN | {name}  # (the function's own name: its globals must not shadow it)

    def fresh(self, stem: str) -> str:
        if stem not in self.used and stem.isidentifier():
            self.used.add(stem)
            return stem
        k = 1
        while f"{stem}_{k}" in self.used:
            k += 1
        self.used.add(f"{stem}_{k}")
        return f"{stem}_{k}"

    def global_(self, value: Any, stem: str) -> str:
        name = self.by_id.get(id(value))
        if name is None:
            name = self.fresh(stem)
            self.globals[name] = value
            self.by_id[id(value)] = name
        return name

    def function(self, fn: Any, prim_name: str) -> str:
        stem = prim_name if prim_name.isidentifier() else "op"
        if stem in _TAKEN:
            stem += "_"
        return self.global_(fn, stem)

    def value(self, item: Any) -> str:
        """An operand or a parameter as code."""
        if isinstance(item, Var):
            assert item.name is not None
            return item.name
        if isinstance(item, Const):
            item = item.value
        if type(item) is tuple:
            inner = ", ".join(self.value(v) for v in item)
            return f"({inner}{',' if len(item) == 1 else ''})"
        if type(item) is list:
            return f"[{', '.join(self.value(v) for v in item)}]"
        if type(item) is slice:
            return f"slice({self.value(item.start)}, {self.value(item.stop)}, {self.value(item.step)})"
        if _literal_ok(item):
            return repr(item)
        return self.global_(item, "k")


def generate(name: str, inputs: list[Var], captured: list[Var], equations: list, guards: list[Guard],
             outputs: list[Any], writes: list | None = None) -> tuple[str, dict[str, Any]]:
    """The source of ``def name(*inputs, *captured)`` returning the outputs as a tuple, and the
    globals it runs with; ``writes``: ``(input or captured Var, value)`` pairs written into that
    argument's memory at the end (in-place changes of the caller's tensors)."""
    w = _Writer(name)
    for var in inputs + captured:
        var.name = w.fresh(var.name or f"x{var.index}")
    for k, eq in enumerate(equations):
        eq.out.name = w.fresh(f"v{k + 1}")
    body: list[str] = []
    # Each guard runs right after its value is computed (what the liveness below assumes: a
    # guard checked later could read a value already deleted or overwritten by a buffer of the
    # memory plan, and the equations between would run on a path the guard rules out). Guards
    # on one value in the order they were made; a guard made late (in the backward pass, or
    # moved onto an earlier equal value by the passes) on a value computed early goes early.
    waiting: dict[int, list[int]] = {}
    for i in sorted(range(len(guards)), key=lambda i: guards[i].after):
        waiting.setdefault(guards[i].var.index, []).append(i)

    def flush(index: int) -> None:
        for i in waiting.pop(index, ()):
            body.append(_guard_line(w, guards[i], i))

    for var in inputs + captured:
        flush(var.index)
    dead = _dead_after(equations, guards, outputs, writes or ())
    probes: dict[Any, Any] = {}
    fns = [_specialised(eq, probes) for eq in equations]
    buffers = memory.plan(equations, fns, outputs, writes or (), dead, w.fresh)  # out= buffers, moves dels
    w.globals.update(buffers.globals)
    body[:0] = buffers.prologue
    for k, eq in enumerate(equations):
        ufunc = buffers.ufuncs[k]
        fn = w.function(ufunc, ufunc.__name__) if ufunc is not None else w.function(fns[k], eq.prim.name)
        args = [w.value(o) for o in eq.operands]
        if buffers.targets[k] is not None:  # computed into a buffer (see memory)
            body.append(f"{eq.out.name} = {fn}({', '.join(args)}, {buffers.targets[k]})")
        elif getattr(eq.prim, "draws", False):  # a random draw: its parameters say what it draws
            body.append(f"{eq.out.name} = {fn}()  # random numbers ({eq.params['op']})")
        else:
            args += [f"{key}={w.value(value)}" for key, value in eq.params.items()]
            body.append(f"{eq.out.name} = {fn}({', '.join(args)})")
        flush(eq.out.index)
        if dead[k]:  # values no later line reads: their memory goes back now (liveness)
            body.append(f"del {', '.join(str(v.name) for v in dead[k])}")
    if waiting:
        raise AssertionError("a guard on a value no equation computes")
    for target, value in writes or ():
        body.append(f"np.copyto({target.name}, {w.value(value)})  # written in place")
    body += buffers.epilogue
    results = ", ".join(w.value(o) for o in outputs)
    body.append(f"return ({results}{',' if len(outputs) == 1 else ''})")
    params = ", ".join(v.name for v in inputs + captured if v.name)
    source = f"def {name}({params}):\n" + "".join(f"    {line}\n" for line in reroll(body))
    return source, w.globals


def _dead_after(equations: list, guards: list[Guard], outputs: list[Any], writes: Any) -> list[list[Var]]:
    """For each equation, the values computed by equations whose last reader it is (or its
    guard): deleted after it, so the peak memory is that of the live values only, as in eager
    mode. Values returned or written back stay."""
    position = {eq.out.index: k for k, eq in enumerate(equations)}
    last: dict[int, int] = {}
    values: dict[int, Var] = {}
    for k, eq in enumerate(equations):
        values[eq.out.index] = eq.out
        last.setdefault(eq.out.index, k)  # a value nothing reads dies at once
        for v in eq.uses():
            if v.index in position:
                last[v.index] = k
    emitted = -1  # a guard runs once its value and every earlier guard's are computed (generate)
    for g in sorted(guards, key=lambda g: g.after):
        emitted = max(emitted, position.get(g.var.index, -1))
        if g.var.index in position:
            last[g.var.index] = max(last.get(g.var.index, 0), emitted)
    kept = {o.index for o in outputs if isinstance(o, Var)}
    kept |= {v.index for _, v in writes if isinstance(v, Var)}
    dead: list[list[Var]] = [[] for _ in equations]
    for index, k in last.items():
        if index not in kept:
            dead[k].append(values[index])
    return dead


REROLL_PERIOD = 8  # the longest block of lines repeated that is written as a loop
REROLL_MIN = 64    # the fewest lines a loop replaces


def reroll(lines: list[str]) -> list[str]:
    """``lines`` with each run of a block of up to ``REROLL_PERIOD`` lines repeated (``REROLL_MIN``
    lines at least) written as ``for _ in range(n):`` over the block: the same statements, in
    the same order. Linear time: the periods tried at a line are the distances to its next
    copies (``after``), and a run is followed by comparing each line with the one a period before."""
    n = len(lines)
    after = [0] * n  # the index of the next copy of each line (0: none)
    seen: dict[str, int] = {}
    for k in range(n - 1, -1, -1):
        after[k] = seen.get(lines[k], 0)
        seen[lines[k]] = k
    out: list[str] = []
    i = 0
    while i < n:
        best_p, best_reps = 0, 1
        j = after[i]
        while j and j - i <= REROLL_PERIOD:
            p = j - i
            end = j
            while end < n and lines[end] == lines[end - p]:
                end += 1
            reps = (end - i) // p
            if reps * p >= REROLL_MIN and reps * p > best_reps * best_p:
                best_p, best_reps = p, reps
            j = after[j]
        if best_p:
            out.append(f"for _ in range({best_reps}):")
            out.extend(f"    {line}" for line in lines[i:i + best_p])
            i += best_p * best_reps
        else:
            out.append(lines[i])
            i += 1
    return out


def _dummy(item: Any) -> Any:
    if isinstance(item, Var):
        return np.ones(item.shape, item.dtype) if item.shape else np.dtype(item.dtype).type(1)
    return item.value if isinstance(item, Const) else item


def _probe_key(item: Any) -> Any:
    """What a probe of ``_specialised`` depends on, for an operand: a Var's shape and dtype, a
    Python float's type (NEP 50: not its value), or else the constant itself (by identity)."""
    if type(item) is Var:
        return (item.shape, item.dtype)
    value = item.value if isinstance(item, Const) else item
    if type(value) in (float, bool, complex):
        return type(value)
    if type(value) is int:
        return (int, value)
    return ("id", id(value))


def _specialised(eq: Any, cache: dict[Any, Any] | None = None) -> Any:
    """The function an equation calls: its implementation, or the bare NumPy operation behind a
    binary one with PyTorch's promotion rules where, for the traced dtypes, NumPy's own gives
    the same result dtype and shape (the promotion logic then returns NumPy's result as it is).
    ``cache``: the answers for one graph, by operation, operands' shapes and dtypes, result."""
    raw = getattr(eq.impl, "raw", None)
    if raw is None or eq.params or len(eq.operands) != 2 or np.dtype(eq.out.dtype).kind not in "fc":
        return eq.impl
    key = None
    if cache is not None:
        key = (id(eq.impl), eq.out.shape, eq.out.dtype, _probe_key(eq.operands[0]), _probe_key(eq.operands[1]))
        found = cache.get(key)
        if found is not None:
            return found
    chosen = raw
    try:
        with np.errstate(all="ignore"):
            probe = raw(*[_dummy(o) for o in eq.operands])
    except Exception:
        chosen = eq.impl
    else:
        if np.dtype(getattr(probe, "dtype", None) or np.float64) != np.dtype(eq.out.dtype) \
                or tuple(np.shape(probe)) != tuple(eq.out.shape) or not hasattr(probe, "dtype"):
            chosen = eq.impl
    if cache is not None:
        cache[key] = chosen
    return chosen


def _guard_line(w: _Writer, guard: Guard, index: int) -> str:
    name = guard.var.name
    if guard.kind == "bool":
        test = f"bool({name}) is not {guard.value!r}"
    elif guard.kind == "rule":
        test = f"bool({w.global_(guard.fn, 'decide')}({name})) is not {guard.value!r}"
    elif guard.kind == "item":
        test = f"not same(np.asarray({name}).reshape(()).item(), {w.value(Const(guard.value))})"
    elif guard.kind == "tolist":
        test = f"np.asarray({name}).tolist() != {w.global_(guard.value, 'k')}"
    else:  # the whole array (np.asarray, .numpy())
        test = f"not same(np.asarray({name}), {w.global_(guard.value, 'k')})"
    return f"if {test}: raise GuardMiss({index})  # {guard.describe()}"


def build(source: str, globals_: dict[str, Any], name: str) -> Any:
    """The function defined by ``source``."""
    namespace = dict(globals_)
    exec(compile(source, f"<chainrule.jit {name}>", "exec"), namespace)  # noqa: S102
    return namespace[name]
