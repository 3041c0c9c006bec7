"""Optimisation passes over a traced graph: constant folding, common subexpressions, dead code.

Each takes and returns the lists of a graph (equations, guards, outputs); none changes what the
graph computes. Folding runs an equation whose operands are all constants once, at compile
time; common-subexpression elimination keeps one of two equations with the same primitive,
implementation, operands and parameters; dead-code elimination drops what neither an output
nor a guard needs.
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


def fold_constants(equations: list[Equation]) -> tuple[list[Equation], dict[int, Const]]:
    """Equations whose operands are all constants, computed now: ``(kept, folded)`` where
    ``folded`` maps each folded output's index to its constant."""
    folded: dict[int, Const] = {}
    kept = []
    for eq in equations:
        operands = [_substitute(o, folded) for o in eq.operands]
        params = {k: _substitute(v, folded) for k, v in eq.params.items()}
        if all(isinstance(o, Const) for o in operands) and not Equation(eq.prim, eq.impl, [], params, eq.out).uses():
            with np.errstate(all="ignore"):
                value = eq.impl(*[o.value for o in operands], **params)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False  # shared by every call
            folded[eq.out.index] = Const(value)
            continue
        kept.append(Equation(eq.prim, eq.impl, operands, params, eq.out))
    return kept, folded


def common_subexpressions(equations: list[Equation]) -> tuple[list[Equation], dict[int, Var]]:
    """One equation per distinct computation: ``(kept, replaced)``, ``replaced`` mapping each
    dropped output's index to the Var computing the same value."""
    seen: dict[Any, Var] = {}
    replaced: dict[int, Var] = {}
    kept = []
    for eq in equations:
        operands = [_substitute(o, replaced) for o in eq.operands]
        params = {k: _substitute(v, replaced) for k, v in eq.params.items()}
        key = (eq.prim.name, id(eq.impl), _key(operands), _key(sorted(params.items())))
        if None not in key[2:] and key in seen:
            replaced[eq.out.index] = seen[key]
            continue
        if None not in key[2:]:
            seen[key] = eq.out
        kept.append(Equation(eq.prim, eq.impl, operands, params, eq.out))
    return kept, replaced


def dead_code(equations: list[Equation], guards: list[Guard], outputs: list[Any]) -> list[Equation]:
    """The equations an output or a guard needs, in order."""
    needed = {o.index for o in outputs if isinstance(o, Var)} | {g.var.index for g in guards}
    kept = []
    for eq in reversed(equations):
        if eq.out.index in needed:
            kept.append(eq)
            needed.update(v.index for v in eq.uses())
    kept.reverse()
    return kept


def optimise(equations: list[Equation], guards: list[Guard], outputs: list[Any]) -> tuple[list, list, list]:
    """All passes: ``(equations, guards, outputs)`` computing the same values."""
    equations, folded = fold_constants(equations)
    equations, replaced = common_subexpressions(equations)
    table: dict[int, Any] = {**folded, **replaced}
    outputs = [_substitute(o, table) for o in outputs]
    live_guards = []
    for g in guards:
        var = _substitute(g.var, table)
        if isinstance(var, Const):
            continue  # decided on a constant: always the same
        live_guards.append(Guard(var, g.kind, g.value, g.where, g.after, g.fn, g.what))
    equations = dead_code(equations, live_guards, outputs)
    return equations, live_guards, outputs
