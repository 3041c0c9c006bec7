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
from ..core.modes import state
from ..core.tensor import Tensor
from ..core.views import replay, view_info
from .ir import Const, Equation, Guard, Var

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_NUMBERS = frozenset((float, int, bool))  # operands that are constants as they are
_NUMPY = frozenset((np.ndarray, np.float64, np.float32, np.int64, np.bool_))  # with .shape and a NumPy .dtype


class _Random:
    """The "primitive" of a random draw (``creation.drawn``): its equations have no operands and
    run their ``impl`` (the draw) on every call."""

    name = "random"
    draws = True


RANDOM = _Random()
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


def _has_var(item: Any) -> bool:
    if isinstance(item, Var):
        return True
    if type(item) in (tuple, list):
        return any(_has_var(v) for v in item)
    if type(item) is slice:
        return any(_has_var(v) for v in (item.start, item.stop, item.step))
    return False


def chosen_impl(prim: Any, args: tuple) -> Any:
    """The implementation the dispatch ran for these operands (``Primitive.__call__``: the
    guarded form ``adapt`` for one operand of a dtype other than float32/float64)."""
    if prim.adapt is not None and len(args) == 1:
        dt = getattr(getattr(args[0], "_data", args[0]), "dtype", None)
        if dt is not _F64 and dt is not _F32:
            return prim.adapt
    return prim.impl


class Tracer:
    """What one traced call computed (see the module's doc)."""

    def __init__(self) -> None:
        self.vars: dict[int, Any] = {}     # id(tensor) -> its Var (a Const after a constant write)
        self.by_data: dict[int, Any] = {}  # id(array) -> the Var whose value it is
        self.keep: list[Any] = []          # the tensors and arrays behind those ids, kept alive
        self.inputs: list[Var] = []
        self.captured: list[tuple[Var, Tensor]] = []
        self.equations: list[Equation] = []
        self.guards: list[Guard] = []
        self.impurities: list[str] = []
        self.consts: dict[int, Const] = {}  # id(tensor) -> the constant it holds (see constant)
        self.expected: set[int] = set()  # ids of tensors being written in place by a followed write
        self.input_tensors: list[Any] = []  # the tensor of each input (None for an array)
        self.born_ids: set[int] = set()  # tensors made while tracing, not by an operation
        self.paths: dict[int, tuple] = {}  # id(captured tensor) -> how it is found at each call
        self.grad_targets: dict[int, Tensor] = {}  # tensors whose .grad the call replaced
        self.state_checks: list[tuple] = []  # (tensor, fn, value, what): Python state the call decided on
        self.state_seen: set[tuple] = set()
        self.grad_outputs: list[tuple] = []  # (locator, value): filled in once the call returned
        self.effects: list[Any] = []  # Python state changes to make after each compiled call
        self.state_locators: list[tuple] = []
        self.joint: dict[str, Any] | None = None  # the traced backward pass (joint.JointGraph)
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
        self.input_tensors.append(value if isinstance(value, Tensor) else None)
        self.bind(value, var)
        return var

    def var_of(self, tensor: Tensor) -> Var:
        """The Var of a tensor operand: traced already, or captured now."""
        var = self.vars.get(id(tensor))
        if var is not None:
            return var
        const = self.consts.get(id(tensor))
        if const is not None:
            return const  # type: ignore[return-value]
        data = tensor._data
        var = self.by_data.get(id(data))
        if var is not None:  # another tensor around a traced array (detach(), a wrapper)
            self.vars[id(tensor)] = var
            self.keep.append(tensor)
            return var
        if id(tensor) in self.born_ids and not tensor._requires_grad:
            # made by f from Python values (cr.zeros(3)): a constant, as it was when first read
            const = self.consts[id(tensor)] = Const(np.array(data, copy=True))
            self.keep.append(tensor)
            return const  # type: ignore[return-value]
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
        var.requires_grad = tensor._requires_grad
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
        # (on the path of every traced operation: ``operand``, ``new_var`` and ``bind`` written
        # out for the common cases, a traced tensor and a Python number)
        consts, variables = self.consts, self.vars
        operands = []
        variable = False  # whether an operand is a traced value (else the result is a constant)
        for a in args:
            if type(a) in _NUMBERS:
                operands.append(Const(a))
                continue
            operand = variables.get(id(a))  # (the ids of the tensors traced, kept alive)
            if operand is None or consts and id(a) in consts:
                operand = self.operand(a)
            if type(operand) is not Const:
                variable = True
            operands.append(operand)
        if params:
            kept = {k: self.param(v) for k, v in params.items()}
            if not variable and any(_has_var(v) for v in kept.values()):
                variable = True
        else:
            kept = {}
        data = result._data
        numpy = type(data) in _NUMPY
        if not variable and numpy and type(data) is not np.ndarray:
            # constants only, and a NumPy scalar (which no write changes): a constant, folded now
            # (an array is folded by passes.fold_and_share, computed again: a broadcast stays a view)
            self.rebind(result, Const(data))
            return
        if numpy:
            out = Var(self.count, data.shape, data.dtype, "eq")
            self.count += 1
        else:
            out = self.new_var(data, "eq")
        impl = prim.impl
        if prim.adapt is not None and len(args) == 1:
            impl = chosen_impl(prim, args)
        self.equations.append(Equation(prim, impl, operands, kept, out))
        variables[id(result)] = out
        self.by_data[id(data)] = out
        self.keep += (result, data)

    def converted(self, tensor: Tensor, kind: str, value: Any) -> None:
        if kind == "numpy":  # NumPy holds the tensor's memory now: its writes could not be followed
            self.impure("a tensor's memory handed to NumPy (.numpy() or np.asarray(t))")
            return
        var = self.var_of(tensor)
        if isinstance(var, Const):
            return  # a constant: the same decision every time
        if isinstance(value, np.ndarray):
            value = value.copy()
        self.guards.append(Guard(var, kind, value, user_line(), len(self.equations)))

    def decided(self, tensor: Any, fn: Any, value: bool, what: str) -> None:
        """A rule's decision ``value = bool(fn(array))`` on a tensor's values (or on a traced
        array, handed on bare): a guard."""
        var = self.var_of(tensor) if isinstance(tensor, Tensor) else self.by_data.get(id(tensor))
        if var is None:
            self.impure(f"a decision inside a rule on values it cannot follow ({what})")
            return
        if isinstance(var, Const):
            return
        self.guards.append(Guard(var, "rule", value, user_line(), len(self.equations), fn=fn, what=what))

    def impure(self, what: str) -> None:
        if what not in self.impurities:
            self.impurities.append(what)

    # --- in-place writes ------------------------------------------------------------------
    def writing(self, tensor: Tensor) -> None:
        self.expected.add(id(tensor))
        self._before_write(tensor)
        info = view_info(tensor)
        if info is not None:
            self.expected.add(id(info.base))
            self._before_write(info.base)

    def _before_write(self, tensor: Tensor) -> None:
        """A tensor about to be changed in place whose value the trace holds as a constant: the
        constant keeps the value from before the write (the equations that read it see that)."""
        const = self.consts.get(id(tensor))
        if const is None and id(tensor) in self.born_ids and id(tensor) not in self.vars \
                and id(tensor._data) not in self.by_data:
            self.var_of(tensor)  # made by f, first met by this write: its value now, a constant
        elif const is not None and isinstance(const.value, np.ndarray) and const.value is tensor._data:
            const.value = const.value.copy()

    def bumped(self, tensor: Tensor) -> None:
        if id(tensor) not in self.expected:
            self.impure(f"an in-place change of a tensor of shape {B.shape_of(tensor._data)} made "
                        f"outside the operations")

    def same(self, new: Tensor, old: Tensor) -> None:
        self.rebind(new, self.operand(old))

    def rebind(self, tensor: Any, value: Any) -> None:
        """``tensor`` (and every tensor around its array) holds ``value`` (a Var or a Const) now."""
        self.vars[id(tensor)] = value
        self.consts.pop(id(tensor), None)
        self.by_data[id(tensor._data)] = value
        self.keep.append(tensor)
        self.keep.append(tensor._data)

    def wrote(self, target: Tensor, value: Any) -> None:
        """``target`` was written in place with ``value``'s values: it (through a view: its root,
        as ``copy_slices`` of the old root) holds a new value, and so does every view of it."""
        from ..ops import inplace as I

        self.expected.discard(id(target))
        new = self.operand(value)
        info = view_info(target)
        if info is None:
            if id(target) not in self.vars and id(target._data) not in self.by_data:
                self.var_of(target)  # a captured tensor first met by a write: its old value is read
            self.rebind(target, new)
            self._rebase(target, skip=None)
            return
        root = info.base
        self.expected.discard(id(root))
        old = self.var_of(root)
        parts = any(prim.name in I._PARTS for prim, _ in info.chain)
        positions = (I._slots if parts else I._positions)(root._data, info.chain)
        prim = I.copy_parts if parts else I.copy_slices
        out = self.new_var(root._data, "eq")
        self.equations.append(Equation(prim, prim.impl, [old, new], {"positions": positions}, out))
        self.rebind(root, out)
        self._rebase(root, skip=None)

    def _rebase(self, root: Tensor, skip: Any) -> None:
        """Every view of ``root`` made through the operations holds its chain of ``root``'s new
        value (replayed: the tracer hears the operations)."""
        counter = root._version
        if counter is None or len(counter) < 2:
            return
        for ref in list(counter[1]):
            view = ref()
            if view is None or view is skip:
                continue
            info = view_info(view)
            if info is None or info.base is not root:
                continue
            self.rebind(view, self.operand(replay(root, info.chain, state.grad_enabled)))

    def write_backs(self) -> list[tuple[Var, Any, Tensor]]:
        """``(initial Var, final value, tensor)`` for each input or captured tensor whose value
        the traced call changed in place: the compiled code writes it back."""
        found = []
        for var, tensor in [(v, t) for v, t in zip(self.inputs, self.input_tensors)] + self.captured:
            if tensor is None:
                continue
            final = self.vars.get(id(tensor), var)
            if final is not var:
                found.append((var, final, tensor))
        return found

    def drawn(self, array: Any, redraw: Any, op: str) -> None:
        """Random numbers: an equation that draws anew (never folded, shared or dropped)."""
        out = self.new_var(array, "eq")
        self.equations.append(Equation(RANDOM, redraw, [], {"op": op}, out))
        self.by_data[id(array)] = out
        self.keep.append(array)

    # --- .grad and Python state -------------------------------------------------------------
    def grad_set(self, tensor: Tensor) -> None:
        if id(tensor) not in self.grad_targets:
            self.grad_targets[id(tensor)] = tensor
            self.keep.append(tensor)

    def check_state(self, tensor: Any, fn: Any, value: Any, what: str) -> None:
        """A decision on ``tensor``'s (or a module's, an optimizer's) Python state."""
        if id(tensor) in self.born_ids:
            return  # made by this call: the same every time
        if what == "whether .grad is None" and id(tensor) in self.grad_targets:
            return  # the call set .grad itself before (zero_grad): the same every time
        key = (id(tensor), what)
        if key not in self.state_seen:  # the state as the call found it (later ones are its own doing)
            self.state_seen.add(key)
            self.state_checks.append((tensor, fn, value, what))
            self.keep.append(tensor)

    def rebuffered(self, old: Any, new: Any) -> None:
        var = self.by_data.get(id(old))
        if var is not None:
            self.by_data[id(new)] = var
            self.keep.append(new)
