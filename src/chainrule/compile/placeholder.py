"""Placeholders and ``cr.function``: define the formula first, bind values later (Theano's way).

``cr.placeholder(shape, dtype)`` makes a *symbolic* tensor: operations on it build a graph
(through the same dispatch and operation table as eager mode) instead of giving values you can
read, and ``cr.function(inputs, outputs)`` compiles the part of that graph between the
placeholders ``inputs`` and the symbolic tensors ``outputs`` into a callable::

    >>> a, b = cr.placeholder(()), cr.placeholder(())
    >>> c = a * b + cr.sin(a)
    >>> f = cr.function([a, b], c)
    >>> f(1.0, 2.0)                                    # 2 + sin(1)
    >>> df = cr.function([a, b], cr.autograd.grad(c, [a, b]))   # a compiled gradient
    >>> df(1.0, 2.0)                                   # (b + cos(a), a)

How: a placeholder is a tensor holding *example data* of its shape and dtype (``value=`` sets
it) that requires grad when it is a float. While symbolic tensors exist, the *recorder* below is
registered with ``core.tracing`` and hears of every primitive applied in any thread; one with a
symbolic operand gives a symbolic result, whose ``SymVar`` remembers its equation. Since the
engine runs the rules as primitives while a recorder is reachable, ``cr.autograd.grad`` of
symbolic tensors records the backward pass too: gradients are symbolic tensors (graph to graph),
to any order (``create_graph=True``; as in PyTorch, a second ``grad`` through the same graph
needs ``retain_graph=True``). ``cr.grad``, ``cr.hessian``, ``cr.jacfwd``, ``cr.jvp``, ``cr.vmap``
and ``cr.jit`` take placeholders too.

Tensors with values met by a symbolic operation are *captured*: read at every call, never
frozen; what is computed from captured tensors afterwards (``W.T`` inside a gradient rule) is
recorded too and recomputed from them at every call, until a tensor is changed in place (then
such tensors are read as they are). Decisions that rules take on symbolic values
(``tracing.decide``: whether a determinant is 0) are guards, checked at every call: a different
outcome raises, naming the decision (a compiled function has one branch).

Refused, with an error naming the placeholders: reading a symbolic tensor's values (``.item()``,
``float()``, ``bool()``, ``.numpy()``, ``np.asarray``, ``.tolist()``, ``format``); an in-place
change of a symbolic tensor, or a write of a symbolic value into a tensor with values; dropout
(random numbers drawn on symbolic values); ``backward()`` of a symbolic tensor (use
``cr.autograd.grad``); rules that decide on values they cannot hand to ``tracing.decide``
(NaN-aware reductions, quantiles, degenerate eigenvalues in ``eigh``/``svd`` gradients).
"""

from __future__ import annotations

import collections
import itertools
import threading
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core import tracing
from ..core.dtypes import get_default_dtype, resolve
from ..core.tensor import Tensor
from .ir import Const, Equation, Guard, Var
from .trace import chosen_impl, user_line

# Random draws of creation functions make tensors with values (captured, read at each call);
# other impurities met just before a symbolic operation concern it and are refused.
_CAPTURABLE = ("random numbers (rand", "random numbers (generator)")


class SymbolicValueError(TypeError):
    """A symbolic tensor (from ``cr.placeholder``) was asked for values it does not have."""


class SymbolicError(RuntimeError):
    """Something a graph of symbolic tensors cannot hold (an in-place change, random numbers)."""


class SymVar(Var):
    """A value of the graph of symbolic tensors: a placeholder (``kind`` ``"input"``), the
    output of an equation (``"eq"``, ``eq`` says which) or a tensor with values met by a
    symbolic operation (``"captured"``, ``tensor`` is it). ``sources``: the placeholders it
    depends on; ``guards``: decisions taken on symbolic values just before it was computed;
    ``datas``: the example arrays standing for it (kept alive while it lives: the autograd
    graph hands them on bare, or wrapped in new tensors, after the tensor is gone)."""

    __slots__ = ("__weakref__", "datas", "eq", "guards", "label", "sources", "tensor")

    def __init__(self, index: int, shape: tuple, dtype: Any, kind: str) -> None:
        super().__init__(index, shape, dtype, kind)
        self.eq: Equation | None = None
        self.sources: frozenset = frozenset()
        self.guards: tuple = ()
        self.tensor: Tensor | None = None
        self.datas: list[Any] = []
        self.label = ""


class Recorder:
    """The registry of symbolic tensors and the hooks of ``core.tracing`` (one per process).

    Symbolic tensors are known by id, with a weak reference that tells when one is gone (and
    that an id met again is the same object); their arrays by id too, each mapped to a weak
    reference to its SymVar, which keeps the array alive. Weak references' callbacks only note
    what died; the next operation drops it, and the recorder leaves ``core.tracing`` when no
    symbolic tensor is left.
    """

    def __init__(self) -> None:
        self.tensors: dict[int, tuple] = {}    # id(symbolic tensor) -> (weak reference to it, SymVar)
        self.by_data: dict[int, Any] = {}      # id(array) -> weak reference to the SymVar holding it
        self.keys: dict[int, tuple] = {}       # id(weak reference) -> ("tensor" or "data", id)
        self.captured: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self.dead: collections.deque = collections.deque()  # weak references whose object is gone
        self.lock = threading.RLock()
        self.counter = itertools.count()
        self.live = 0  # how many symbolic tensors (computed from placeholders) are registered
        self.derived = False  # whether tensors computed from captured ones were registered
        self.local = threading.local()  # pending guards and impurity, last equation (per thread)

    # --- the registry -------------------------------------------------------------------------
    def new_var(self, data: Any, kind: str) -> SymVar:
        return SymVar(next(self.counter), tuple(np.shape(data)), np.asarray(data).dtype
                      if not hasattr(data, "dtype") else np.dtype(data.dtype), kind)

    def register(self, tensor: Tensor, var: SymVar, foreign: tuple = ()) -> None:
        """``tensor`` is symbolic, with value ``var`` (its array is not one of ``foreign``)."""
        key, data = id(tensor), tensor._data
        with self.lock:
            self._flush()
            old = self.tensors.get(key)
            if old is not None:
                self.keys.pop(id(old[0]), None)
                self.live -= bool(old[1].sources)
            ref = weakref.ref(tensor, self.dead.append)
            self.tensors[key] = (ref, var)
            self.live += bool(var.sources)
            self.derived = self.derived or not var.sources
            self.keys[id(ref)] = ("tensor", key)
            if id(data) not in foreign:
                self.add_data(var, data)
            if tracing.symbolic[0] is not self:
                tracing.install(self)

    def add_data(self, var: SymVar, data: Any) -> None:
        """``data`` is an example array of ``var`` (kept alive by it)."""
        if isinstance(data, np.bool_):  # np.True_ and np.False_ are shared by every 0-d bool result
            return
        held = self.by_data.get(id(data))
        if held is not None and held() is not None and any(d is data for d in held().datas):
            return  # already the array of a value (the first one keeps it: an identity operation)
        var.datas.append(data)
        ref = weakref.ref(var, self.dead.append)
        self.by_data[id(data)] = ref
        self.keys[id(ref)] = ("data", id(data))

    def _flush(self) -> None:
        dead = self.dead
        if not dead:
            return
        with self.lock:
            while dead:
                ref = dead.popleft()
                kind, key = self.keys.pop(id(ref), (None, None))
                if kind == "tensor":
                    entry = self.tensors.get(key)
                    if entry is not None and entry[0] is ref:
                        del self.tensors[key]
                        self.live -= bool(entry[1].sources)
                elif kind == "data" and self.by_data.get(key) is ref:
                    del self.by_data[key]
            if not self.live:
                self._stop()

    def _stop(self) -> None:
        """No symbolic tensor is left: forget everything and leave ``core.tracing``."""
        self.tensors.clear()
        self.by_data.clear()
        self.keys.clear()
        self.dead.clear()
        tracing.install(None)

    def lookup(self, value: Any) -> SymVar | None:
        """The SymVar of a symbolic tensor (or of the array of one), else None."""
        if isinstance(value, Tensor):
            entry = self.tensors.get(id(value))
            if entry is not None and entry[0]() is value:  # (not a dead tensor's id, reused)
                return entry[1]
            value = value._data
        if isinstance(value, (np.ndarray, np.generic)):
            ref = self.by_data.get(id(value))
            if ref is not None:
                var = ref()
                if var is not None and any(d is value for d in var.datas):
                    return var
        return None

    def symbolic(self, value: Any) -> SymVar | None:
        """The SymVar of a symbolic tensor (computed from placeholders), else None."""
        var = self.lookup(value)
        return var if var is not None and var.sources else None

    def holds(self, leaves: Sequence[Any]) -> bool:
        """Whether one of ``leaves`` is symbolic (``cr.jit`` then runs eagerly, recorded here)."""
        return any(self.symbolic(leaf) is not None for leaf in leaves)

    def known(self, value: Any) -> SymVar | None:
        """The SymVar of a symbolic tensor, of a tensor computed from captured ones, or of a
        captured tensor; else None."""
        var = self.lookup(value)
        if var is None and isinstance(value, Tensor):
            var = self.captured.get(id(value))
            if var is not None and var.tensor is not value:
                return None
        return var

    def capture(self, tensor: Tensor) -> SymVar:
        """The SymVar of a tensor with values used by a symbolic operation (one per tensor)."""
        with self.lock:
            var = self.captured.get(id(tensor))
            if var is None or var.tensor is not tensor:
                var = self.new_var(tensor._data, "captured")
                var.tensor = tensor
                self.captured[id(tensor)] = var
            return var

    # --- operands ------------------------------------------------------------------------------
    def _symbolic_in(self, value: Any) -> bool:
        """Whether ``value`` (an operand, a parameter) involves a tensor the recorder follows."""
        if isinstance(value, (Tensor, np.ndarray, np.generic)):
            return self.known(value) is not None
        if type(value) in (tuple, list):
            return any(self._symbolic_in(v) for v in value)
        if type(value) is slice:
            return any(self._symbolic_in(v) for v in (value.start, value.stop, value.step))
        return False

    def operand(self, value: Any, sources: set) -> Any:
        var = self.lookup(value)
        if var is not None:
            sources.update(var.sources)
            return var
        if isinstance(value, Tensor):
            data = value._data
            if type(data) is not np.ndarray and not isinstance(data, np.generic):
                raise SymbolicError("a symbolic operation met a tensor whose data is not a NumPy array "
                                    f"({type(data).__name__}: a batched tensor of vmap, or another array "
                                    "library's); a graph of placeholders holds NumPy arrays only")
            base = getattr(data, "base", None)
            while base is not None:
                if id(base) in self.by_data:
                    raise SymbolicError("a view of a symbolic tensor's array was made outside the operations; "
                                        "a graph of placeholders cannot follow it")
                base = getattr(base, "base", None)
            return self.capture(value)
        return Const(value)

    def param(self, value: Any, sources: set) -> Any:
        if isinstance(value, Tensor) or self.lookup(value) is not None:
            return self.operand(value, sources)
        if type(value) is tuple:
            return tuple(self.param(v, sources) for v in value)
        if type(value) is list:
            return [self.param(v, sources) for v in value]
        if type(value) is slice and self._symbolic_in(value):
            raise SymbolicError("a slice bound that is a symbolic tensor: the size of the result would "
                                "depend on values a graph does not have yet")
        return value

    # --- the hooks of core.tracing ----------------------------------------------------------
    def record(self, prim: Any, args: tuple, params: dict, result: Tensor) -> None:
        if self.dead:
            self._flush()
        local = self.local
        pending = getattr(local, "impurity", None)
        if not any(self._symbolic_in(a) for a in args) and not (params and self._symbolic_in(tuple(params.values()))):
            local.impurity = None
            local.last = None
            local.guards = None
            return
        sources: set = set()
        operands = [self.operand(a, sources) for a in args]
        kept = {k: self.param(v, sources) for k, v in params.items()}
        if pending is not None and sources:
            local.impurity = None
            raise SymbolicError(f"{pending} on symbolic tensors (from the placeholders {_names(sources)}; "
                                f"noticed at {prim.name}): a graph cannot hold it")
        local.impurity = None
        out = self.new_var(result._data, "eq")
        out.eq = Equation(prim, chosen_impl(prim, args), operands, kept, out)
        out.sources = frozenset(sources)
        guards = getattr(local, "guards", None)
        if guards:
            out.guards = tuple(guards)
            local.guards = []
        foreign = tuple(id(getattr(a, "_data", a)) for a in args if isinstance(a, (Tensor, np.ndarray))
                        and self.lookup(a) is None)
        self.register(result, out, foreign)
        local.last = out

    def reading(self, tensor: Any, what: str) -> None:
        var = self.symbolic(tensor)
        if var is None:
            return
        hint = "; branch with cr.where(condition, x, y) instead" if what.startswith("bool") else ""
        raise SymbolicValueError(
            f"{what}: this tensor is symbolic (shape {var.shape}, {var.dtype}, computed from the "
            f"placeholder{'s' if len(var.sources) != 1 else ''} {_names(var.sources)}): it has no values "
            f"until a compiled function runs; make one with cr.function([{_names(var.sources)}], outputs) "
            f"and call it with values{hint}")

    def converted(self, tensor: Any, kind: str, value: Any) -> None:
        self.reading(tensor, f"{kind}()")

    def decided(self, tensor: Any, fn: Any, value: bool, what: str) -> None:
        var = self.known(tensor)
        if var is None:
            return
        guard = Guard(var, "rule", value, user_line(), var.index, fn=fn, what=what)
        local = self.local
        if getattr(local, "guards", None) is None:
            local.guards = []
        local.guards.append(guard)

    def backward_of(self, roots: Any, accumulate: bool) -> bool:
        """Whether a backward pass from ``roots`` is one of symbolic tensors (refused when it
        would put symbolic gradients into ``.grad``)."""
        for root in roots:
            var = self.symbolic(root)
            if var is not None:
                if accumulate:
                    raise SymbolicError(f"backward() of a symbolic tensor (computed from the placeholders "
                                        f"{_names(var.sources)}) would put symbolic gradients into .grad: use "
                                        f"cr.autograd.grad(outputs, inputs) for symbolic gradients")
                return True
        return False

    def impure(self, what: str) -> None:
        """Something a graph cannot hold: refused now when it follows a symbolic operation of
        this thread (a decision on what that computed), else when the next operation recorded
        is symbolic (it happened inside that operation: its rule or implementation)."""
        if what.startswith(_CAPTURABLE):
            return
        last = getattr(self.local, "last", None)
        if last is not None and last.sources and last.eq is not None:
            self.local.last = None
            raise SymbolicError(f"{what} on symbolic tensors (from the placeholders {_names(last.sources)}; "
                                f"after {last.eq.prim.name}): a graph cannot hold it")
        self.local.impurity = what

    def changed(self, tensor: Any) -> None:
        var = self.symbolic(tensor)
        if var is not None:
            raise SymbolicError(f"an in-place change of a symbolic tensor (shape {var.shape}, computed from "
                                f"the placeholders {_names(var.sources)}): a graph cannot hold it; write it "
                                f"out of place (x = x + y rather than x += y)")
        last = getattr(self.local, "last", None)
        if last is not None and last.eq is not None and last.sources and last.datas:
            data: Any = getattr(tensor, "_data", None)
            written = last.datas[0]  # the symbolic result was just written into the tensor?
            if np.shape(written) == np.shape(data) and np.array_equal(written, data, equal_nan=True):
                for o in last.eq.operands:
                    if isinstance(o, SymVar) and o.kind == "captured" and o.tensor is not None and (
                            o.tensor is tensor or o.tensor._data is data):
                        self.local.last = None
                        raise SymbolicError(f"an in-place write of a symbolic value (from the placeholders "
                                            f"{_names(last.sources)}) into a tensor with values (shape "
                                            f"{np.shape(data)}): a graph cannot hold it; build a new tensor "
                                            f"out of place (cr.where, cr.stack, ...)")
        self._forget_derived()

    def _forget_derived(self) -> None:
        """A tensor with values changed in place: the tensors computed from captured ones before
        no longer equal their equations (they are read as they are from now on, captured)."""
        if not self.derived:
            return
        with self.lock:
            self.derived = False
            for key, (ref, var) in list(self.tensors.items()):
                if not var.sources:
                    del self.tensors[key]
                    self.keys.pop(id(ref), None)
            for key, ref in list(self.by_data.items()):
                var = ref()
                if var is None or not var.sources:
                    del self.by_data[key]
                    self.keys.pop(id(ref), None)
            if not self.live:
                self._stop()

    def rebuffered(self, old: Any, new: Any) -> None:
        var = self.lookup(old)
        if var is not None:
            with self.lock:
                self.add_data(var, new)

    def describe(self, tensor: Any) -> str | None:
        var = self.symbolic(tensor)
        if var is None:
            return None
        if var.kind == "input":
            return f"placeholder({var.label!r}, shape={var.shape}, dtype={var.dtype})"
        return f"tensor(<symbolic>, shape={var.shape}, dtype={var.dtype}, placeholders=[{_names(var.sources)}])"


RECORDER = Recorder()
_numbers = itertools.count(1)


def _names(sources: Any) -> str:
    return ", ".join(sorted((v.label for v in sources), key=_natural)) or "none"


def _natural(name: str) -> tuple:
    digits = "".join(c for c in name if c.isdigit())
    return (name.rstrip("0123456789"), int(digits) if digits and name.endswith(digits) else -1, name)


def _example(shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Example data: generic values in (0.3, 0.7) for floats (no domain of the usual functions is
    left, matrices are invertible), 0 for integers, True for booleans."""
    if dtype.kind in "fc":
        size = int(np.prod(shape, dtype=np.int64))
        values = 0.5 + 0.2 * np.sin(np.arange(1, size + 1) * 1.3)
        return values.reshape(shape).astype(dtype)
    if dtype.kind == "b":
        return np.ones(shape, dtype)
    return np.zeros(shape, dtype)


def placeholder(shape: int | Sequence[int], dtype: Any = None, name: str | None = None, *,
                value: Any = None) -> Tensor:
    """A symbolic tensor of ``shape`` and ``dtype`` (default: the default dtype), an input of graphs that
    ``cr.function`` compiles; ``name`` shows in errors and generated code. ``value`` gives the
    example data the graph is recorded on (rarely needed: a Cholesky factor needs a positive
    definite example). Example::

        >>> x = cr.placeholder((3,), name="x")
        >>> f = cr.function([x], (x ** 2).sum())
        >>> f([1.0, 2.0, 3.0])      # tensor(14.)
    """
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    if not isinstance(shape, (tuple, list)) or not all(
            isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise TypeError(f"placeholder: shape must be a tuple of sizes (ints >= 0), got {shape!r:.60}")
    shape = tuple(int(n) for n in shape)
    dt: np.dtype = resolve(dtype, "placeholder") if dtype is not None else get_default_dtype()  # type: ignore[assignment]
    if name is not None and not isinstance(name, str):
        raise TypeError(f"placeholder: name must be a str, got {type(name).__name__}")
    if value is None:
        data = _example(shape, dt)
    else:
        try:
            given = np.array(value.detach().numpy() if isinstance(value, Tensor) else value)
        except Exception as exc:  # ragged lists and the like
            raise TypeError(f"placeholder: value must be an array of numbers, got {type(value).__name__} "
                            f"({exc})") from None
        if given.dtype.kind not in "biufc" or not np.can_cast(given.dtype, dt, "same_kind"):
            raise TypeError(f"placeholder: value must be an array of numbers castable to {dt}, got "
                            f"{type(value).__name__} of dtype {given.dtype}")
        data = given.astype(dt)
        if data.shape != shape:
            raise ValueError(f"placeholder: value has shape {data.shape}, the placeholder {shape}")
    t = Tensor._wrap(data)
    if dt.kind in "fc":
        t.requires_grad_(True)
    var = RECORDER.new_var(data, "input")
    var.label = name if name is not None else f"p{next(_numbers)}"
    var.sources = frozenset((var,))
    RECORDER.register(t, var)
    return t


def is_symbolic(t: Any) -> bool:
    """Whether ``t`` is a symbolic tensor (a placeholder or computed from one)."""
    return isinstance(t, Tensor) and RECORDER.symbolic(t) is not None

