"""Tracing: run a function eagerly on real values and write down what it computes.

The tracer (registered with ``core.tracing``) hears of every primitive applied and turns it into
an ``Equation`` over ``Var``\\ s: a tensor it has not seen before is an input if the caller
handed it in, else a *captured* tensor, read again at every call. Decisions made on traced
values become ``Guard``\\ s; what compiled code could not repeat (in-place changes, random
draws, ``.grad`` written) is noted as an impurity, and the function then runs eagerly.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from ..core import backend as B
from ..core.tensor import Tensor
from .ir import Const, Equation, Guard, Var

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_line() -> str:
    """``file:line`` of the innermost frame outside chainrule (the user's code)."""
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(_PACKAGE):
            return f"{os.path.basename(path)}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return ""


class Tracer:
    """What one traced call computed (see the module's doc)."""

    def __init__(self) -> None:
        self.vars: dict[int, Var] = {}     # id(tensor) -> its Var
        self.by_data: dict[int, Var] = {}  # id(array) -> the Var whose value it is
        self.keep: list[Any] = []          # the tensors and arrays behind those ids, kept alive
        self.inputs: list[Var] = []
        self.captured: list[tuple[Var, Tensor]] = []
        self.equations: list[Equation] = []
        self.guards: list[Guard] = []
        self.impurities: list[str] = []
        self.consts: dict[int, Const] = {}  # id(tensor) -> the constant it holds (see constant)
        self.count = 0

    # --- variables ----------------------------------------------------------------------------
    def new_var(self, data: Any, kind: str) -> Var:
        var = Var(self.count, tuple(B.shape_of(data)), B.dtype_of(data), kind)
        self.count += 1
        return var

    def bind(self, tensor: Any, var: Var) -> None:
        self.vars[id(tensor)] = var
        self.keep.append(tensor)
        data = getattr(tensor, "_data", tensor)
        self.by_data[id(data)] = var
        self.keep.append(data)

    def add_input(self, value: Any) -> Var:
        """An argument of the traced call (a tensor, or a NumPy array)."""
        data = value._data if isinstance(value, Tensor) else value
        var = self.new_var(data, "input")
        self.inputs.append(var)
        self.bind(value, var)
        return var

    def var_of(self, tensor: Tensor) -> Var:
        """The Var of a tensor operand: traced already, or captured now."""
        var = self.vars.get(id(tensor))
        if var is not None:
            return var
        data = tensor._data
        var = self.by_data.get(id(data))
        if var is not None:  # another tensor around a traced array (detach(), a wrapper)
            self.vars[id(tensor)] = var
            self.keep.append(tensor)
            return var
        if getattr(data, "ns", None) is not None:
            self.impure("a batched tensor of vmap met outside its batching rules")
        elif type(data) is not np.ndarray and not isinstance(data, np.generic):
            self.impure(f"an array of {type(data).__module__} (only NumPy arrays are compiled)")
        base = getattr(data, "base", None)
        while base is not None:
            if id(base) in self.by_data:
                self.impure("a view of a traced array made outside the operations")
                break
            base = getattr(base, "base", None)
        var = self.new_var(data, "captured")
        self.captured.append((var, tensor))
        self.bind(tensor, var)
        return var

    def constant(self, tensor: Tensor) -> None:
        """A tensor made from plain arrays inside chainrule (a seed, zeros): a constant, unless
        its array is a traced value's."""
        if id(tensor) not in self.vars and id(tensor._data) not in self.by_data:
            self.consts[id(tensor)] = Const(tensor._data)
            self.keep.append(tensor)

    def operand(self, value: Any) -> Any:
        if isinstance(value, Tensor):
            const = self.consts.get(id(value))
            if const is not None:
                return const
            return self.var_of(value)
        if isinstance(value, np.ndarray):
            var = self.by_data.get(id(value))  # the array of a traced tensor, handed on bare
            if var is not None:
                return var
        if getattr(value, "ns", None) is not None:
            self.impure("a batch of tangents or cotangents met outside its rules")
        return Const(value)

    def param(self, value: Any) -> Any:
        """A parameter, with the tensors (and traced arrays) inside it made Vars (an index)."""
        if isinstance(value, Tensor) or (isinstance(value, np.ndarray) and id(value) in self.by_data):
            return self.operand(value)
        if type(value) is tuple:
            return tuple(self.param(v) for v in value)
        if type(value) is list:
            return [self.param(v) for v in value]
        if type(value) is slice and any(isinstance(v, Tensor) for v in (value.start, value.stop, value.step)):
            self.impure("a slice bound that is a tensor")
        return value

    # --- the hooks of core.tracing ----------------------------------------------------------
    def record(self, prim: Any, args: tuple, params: dict, result: Tensor) -> None:
        operands = [self.operand(a) for a in args]
        kept = {k: self.param(v) for k, v in params.items()}
        impl = prim.impl
        if prim.adapt is not None and len(args) == 1:
            dt = getattr(getattr(args[0], "_data", args[0]), "dtype", None)
            if dt is not _F64 and dt is not _F32:
                impl = prim.adapt
        out = self.new_var(result._data, "eq")
        self.equations.append(Equation(prim, impl, operands, kept, out))
        self.bind(result, out)

    def converted(self, tensor: Tensor, kind: str, value: Any) -> None:
        var = self.var_of(tensor)
        if isinstance(value, np.ndarray):
            value = value.copy()
        self.guards.append(Guard(var, kind, value, user_line(), len(self.equations)))

    def decided(self, tensor: Tensor, fn: Any, value: bool, what: str) -> None:
        var = self.var_of(tensor)
        self.guards.append(Guard(var, "rule", value, user_line(), len(self.equations), fn=fn, what=what))

    def impure(self, what: str) -> None:
        if what not in self.impurities:
            self.impurities.append(what)

    def rebuffered(self, old: Any, new: Any) -> None:
        var = self.by_data.get(id(old))
        if var is not None:
            self.by_data[id(new)] = var
            self.keep.append(new)
