"""Optimisation passes over a traced graph: constant folding, common subexpressions, dead code.

Each takes and returns the lists of a graph (equations, guards, outputs); none changes what the
graph computes. Folding runs an equation whose operands are all constants once, at compile
time; common-subexpression elimination keeps one of two equations with the same primitive,
implementation, operands and parameters (both in one pass, ``fold_and_share``); dead-code
elimination drops what neither an output, a guard nor a write needs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .ir import Const, Equation, Guard, Var


def _substitute(item: Any, table: dict[int, Any]) -> Any:
    """``item`` with each Var replaced by its entry in ``table`` (by index), where it has one."""
    if isinstance(item, Var):
        return table.get(item.index, item)
    if type(item) is tuple:
        return tuple(_substitute(v, table) for v in item)
    if type(item) is list:
        return [_substitute(v, table) for v in item]
    return item


def _key(item: Any) -> Any:
    """A hashable stand-in for an operand or parameter value (None where there is none)."""
    if isinstance(item, Var):
        return ("var", item.index)
    if isinstance(item, Const):
        return _key(item.value)
    if type(item) in (tuple, list):
        parts = tuple(_key(v) for v in item)
        return None if None in parts else (type(item).__name__, parts)
    if isinstance(item, np.ndarray):
        if item.size > 64:
            return ("array-id", id(item))
        return ("array", item.dtype.str, item.shape, item.tobytes())
    if isinstance(item, np.generic):
        return ("scalar", item.dtype.str, item.tobytes())
    try:
        hash(item)
    except TypeError:
        return ("id", id(item))
    return (type(item).__name__, item)


def dead_code(equations: list[Equation], guards: list[Guard], outputs: list[Any]) -> list[Equation]:
    """The equations an output or a guard needs, in order."""
    needed = {o.index for o in outputs if isinstance(o, Var)} | {g.var.index for g in guards}
    kept = []
    add = needed.add
    for eq in reversed(equations):
        if eq.out.index in needed or getattr(eq.prim, "draws", False):  # (a draw moves the generator)
            kept.append(eq)
            if eq.params:
                needed.update(v.index for v in eq.uses())
            else:
                for o in eq.operands:
                    if type(o) is Var:
                        add(o.index)
    kept.reverse()
    return kept


def _has_var(item: Any) -> bool:
    if isinstance(item, Var):
        return True
    if type(item) in (tuple, list):
        return any(_has_var(v) for v in item)
    return False


def _operand_key(item: Any) -> Any:
    value = item.value
    if type(value) in (float, int, bool):
        return (type(value), value)
    return _key(value)


def fold_and_share(equations: list[Equation]) -> tuple[list[Equation], dict[int, Any]]:
    """Constant folding and common-subexpression elimination in one pass: ``(kept, table)``,
    ``table`` mapping each dropped output's index to the constant or the Var that has its value."""
    table: dict[int, Any] = {}
    seen: dict[Any, Var] = {}
    kept = []
    with np.errstate(all="ignore"):  # (once: folding runs the implementations, which may warn)
        for eq in equations:
            operands = eq.operands
            if table:
                operands = [table.get(o.index, o) if type(o) is Var else o for o in operands]
            params = eq.params
            if params and table:
                params = {k: _substitute(v, table) for k, v in params.items()}
            if getattr(eq.prim, "draws", False):  # random numbers: drawn on every call, in order
                kept.append(eq)
                continue
            variable = False
            parts = []
            for o in operands:
                if type(o) is Var:
                    variable = True
                    parts.append(o.index)
                else:
                    parts.append(_operand_key(o))
            if not variable and not (params and any(_has_var(v) for v in params.values())):
                value = eq.impl(*[o.value for o in operands], **params)
                if isinstance(value, np.ndarray):
                    value.flags.writeable = False  # shared by every call
                table[eq.out.index] = Const(value)
                continue
            key = (eq.prim.name, id(eq.impl), tuple(parts), _key(sorted(params.items())) if params else ())
            previous = seen.get(key)
            if previous is not None:
                table[eq.out.index] = previous
                continue
            seen[key] = eq.out
            kept.append(eq if operands is eq.operands and params is eq.params
                        else Equation(eq.prim, eq.impl, list(operands), params, eq.out))
    return kept, table


def optimise(equations: list[Equation], guards: list[Guard], outputs: list[Any]) -> tuple[list, list, list]:
    """All passes: ``(equations, guards, outputs)`` computing the same values."""
    equations, table = fold_and_share(equations)
    outputs = [_substitute(o, table) for o in outputs]
    live_guards = []
    for g in guards:
        var = _substitute(g.var, table)
        if isinstance(var, Const):
            continue  # decided on a constant: always the same
        live_guards.append(Guard(var, g.kind, g.value, g.where, g.after, g.fn, g.what))
    equations = dead_code(equations, live_guards, outputs)
    return equations, live_guards, outputs
