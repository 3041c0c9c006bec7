"""The graph IR (``cr.Graph``): the explicit DAG of the lesson, traced from a function.

A graph has inputs (each a ``Var``: shape and dtype), *captured* tensors (tensors the function
reached other than through its arguments: closures, module parameters; read at every call,
never frozen), equations in order (primitive, operands, parameters, output), the decisions the
function made on traced values (``Guard``: checked again at every call) and outputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Var:
    """A value of the graph: an input (``kind`` ``"input"``), a captured tensor (``"captured"``)
    or the output of an equation (``"eq"``); ``shape`` and ``dtype`` as traced."""

    __slots__ = ("dtype", "index", "kind", "name", "requires_grad", "shape")

    def __init__(self, index: int, shape: tuple, dtype: Any, kind: str) -> None:
        self.index = index
        self.shape = shape
        self.dtype = dtype
        self.kind = kind
        self.name: str | None = None
        self.requires_grad = False  # a captured tensor's flag when traced

    def __repr__(self) -> str:
        return f"{self.name or f'%{self.index}'}: {self.dtype}{list(self.shape)}"


class Const:
    """An operand that is not a tensor (a Python number, an array, None), used as it is."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Const({self.value!r:.40})"


class Equation:
    """``out = prim(*operands, **params)``; ``impl`` is the implementation the eager dispatch
    ran for these dtypes (the one the generated code calls)."""

    __slots__ = ("impl", "operands", "out", "params", "prim")

    def __init__(self, prim: Any, impl: Any, operands: list, params: dict, out: Var) -> None:
        self.prim = prim
        self.impl = impl
        self.operands = operands
        self.params = params
        self.out = out

    def uses(self) -> list[Var]:
        """The variables it reads (operands, and tensors inside its parameters: an index)."""
        found = [o for o in self.operands if isinstance(o, Var)]
        if self.params:
            for value in self.params.values():
                found.extend(_vars_in(value))
        return found

    def __repr__(self) -> str:
        return f"{self.out!r} = {self.prim.name}({', '.join(map(repr, self.operands))})"


def _vars_in(value: Any) -> list[Var]:
    if isinstance(value, Var):
        return [value]
    if isinstance(value, (tuple, list)):
        return [v for item in value for v in _vars_in(item)]
    if isinstance(value, slice):
        return [v for item in (value.start, value.stop, value.step) for v in _vars_in(item)]
    return []


class Guard:
    """A decision made on a traced value: ``kind`` (``bool``, ``item``, ``tolist``, ``numpy``, or
    ``rule``: ``fn`` of the array) gave ``value``; ``where`` is the user's line that made it, and
    ``after`` how many equations had been traced (the check runs as soon as ``var`` exists)."""

    __slots__ = ("after", "fn", "kind", "value", "var", "what", "where")

    def __init__(self, var: Var, kind: str, value: Any, where: str, after: int, fn: Any = None,
                 what: str = "") -> None:
        self.var = var
        self.kind = kind
        self.value = value
        self.where = where
        self.after = after
        self.fn = fn
        self.what = what

    def describe(self) -> str:
        """The decision in words, for the retracing warning and errors."""
        what = self.what or f"{self.kind}() of a traced tensor"
        return f"{what} at {self.where}" if self.where else what


class GuardMiss(Exception):
    """Raised by generated code when a decision comes out differently than when traced."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


def same(a: Any, b: Any) -> bool:
    """Whether a decision's value equals the traced one (NaN equals NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if a != a and b != b:  # NaN
        return True
    return type(a) is type(b) and a == b
