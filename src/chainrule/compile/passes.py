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
    made: dict[int, Equation] = {}  # value index -> the kept equation computing it
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
            same = _identity(eq, operands, params, made)
            if same is not None:  # a view that is its operand: the operand itself
                table[eq.out.index] = same
                continue
            if eq.prim.name == "permute" and type(operands[0]) is Var:  # a permutation of a permutation: one
                inner = made.get(operands[0].index)
                if inner is not None and inner.prim.name == "permute" and inner.impl is eq.impl:
                    dims = tuple(inner.params["dims"][d] for d in params["dims"])
                    operands, params = [inner.operands[0]], {"dims": dims}
                    parts = [inner.operands[0].index] if type(inner.operands[0]) is Var else parts
                    if dims == tuple(range(len(dims))) and type(operands[0]) is Var:
                        table[eq.out.index] = operands[0]
                        continue
            key = (eq.prim.name, id(eq.impl), tuple(parts), _key(sorted(params.items())) if params else ())
            previous = seen.get(key)
            if previous is not None:
                table[eq.out.index] = previous
                continue
            seen[key] = eq.out
            kept.append(eq if operands is eq.operands and params is eq.params
                        else Equation(eq.prim, eq.impl, list(operands), params, eq.out))
            made[eq.out.index] = kept[-1]
    return kept, table


def _identity(eq: Equation, operands: list, params: dict, made: dict[int, Equation]) -> Var | None:
    """The operand of a view that returns it unchanged (``alias``; a permutation or reshape that
    changes nothing): the same array, as eager mode's view holds the same values in the same
    layout."""
    name = eq.prim.name
    if not operands or type(operands[0]) is not Var or eq.impl is not getattr(eq.prim, "impl", None):
        return None
    x = operands[0]
    if name == "alias" and len(operands) == 1:
        return x
    if name == "permute" and tuple(params.get("dims", ())) == tuple(range(len(x.shape))):
        return x
    if name == "reshape" and tuple(params.get("shape", ())) == tuple(x.shape):
        return x
    return None


def _scalar_const(item: Any) -> bool:
    """A constant a sign moves through exactly (a float, a nonzero int, a 0-d float array)."""
    if type(item) is not Const:
        return False
    v = item.value
    if type(v) is float or type(v) is int and v != 0:
        return True
    return isinstance(v, (np.floating, np.ndarray)) and np.ndim(v) == 0 and np.dtype(v.dtype).kind == "f"


def _negated(value: Any) -> Any:
    return -value if not isinstance(value, np.ndarray) else np.negative(value)


def fold_signs(equations: list[Equation], guards: list[Guard], outputs: list[Any]) -> list[Equation]:
    """Negations folded into their neighbours, exactly (IEEE negation is exact and rounding is
    symmetric): ``neg(mul(a, c))`` and ``mul(neg(a), c)`` for a constant ``c`` become
    ``mul(a, -c)``, ``add(a, neg(b))`` becomes ``sub(a, b)`` (the backward passes of ``sub``
    and of squares make such negations). Only where the negation's or the product's value has
    no other reader; the equation left without readers goes in ``dead_code``."""
    from ..ops import elementwise as E

    uses: dict[int, int] = {}
    for eq in equations:
        for v in eq.uses():
            uses[v.index] = uses.get(v.index, 0) + 1
    for o in outputs:
        if isinstance(o, Var):
            uses[o.index] = uses.get(o.index, 0) + 2  # (never folded away)
    for g in guards:
        uses[g.var.index] = uses.get(g.var.index, 0) + 2
    made: dict[int, Equation] = {}
    out: list[Equation] = []
    for eq in equations:
        name, ops = eq.prim.name, eq.operands
        new = None
        plain = eq.impl is getattr(eq.prim, "impl", None) and not eq.params and np.dtype(eq.out.dtype).kind == "f"
        if plain and name == "neg" and type(ops[0]) is Var and uses.get(ops[0].index) == 1:
            inner = made.get(ops[0].index)
            if inner is not None and inner.prim is E.mul and inner.impl is E.mul.impl and not inner.params:
                a, b = inner.operands
                if _scalar_const(b) and type(a) is Var:
                    new = Equation(E.mul, E.mul.impl, [a, Const(_negated(b.value))], {}, eq.out)
                elif _scalar_const(a) and type(b) is Var:
                    new = Equation(E.mul, E.mul.impl, [Const(_negated(a.value)), b], {}, eq.out)
        elif plain and eq.prim is E.mul and len(ops) == 2:
            for i in (0, 1):
                x, c = ops[i], ops[1 - i]
                inner = made.get(x.index) if type(x) is Var else None
                if inner is not None and inner.prim is E.neg and inner.impl is E.neg.impl and _scalar_const(c) \
                        and uses.get(x.index) == 1 and type(inner.operands[0]) is Var:
                    operands = [inner.operands[0], Const(_negated(c.value))]
                    new = Equation(E.mul, E.mul.impl, operands if i == 0 else operands[::-1], {}, eq.out)
                    break
        elif plain and eq.prim is E.add and len(ops) == 2:
            for i in (1, 0):
                x, other = ops[i], ops[1 - i]
                inner = made.get(x.index) if type(x) is Var else None
                if inner is not None and inner.prim is E.neg and inner.impl is E.neg.impl \
                        and uses.get(x.index) == 1 and type(inner.operands[0]) is Var:
                    new = Equation(E.sub, E.sub.impl, [other, inner.operands[0]], {}, eq.out)
                    break
        if new is not None:
            for v in eq.uses():
                uses[v.index] -= 1
            for v in new.uses():
                uses[v.index] = uses.get(v.index, 0) + 1
            eq = new
        out.append(eq)
        made[eq.out.index] = eq
    return out


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
    equations = dead_code(fold_signs(equations, live_guards, outputs), live_guards, outputs)
    return equations, live_guards, outputs
