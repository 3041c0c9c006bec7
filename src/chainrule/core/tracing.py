"""Where eager execution tells a tracer what it does (``cr.jit``, ``cr.graph``: see ``compile/``).

While a function is traced it runs eagerly, on real values; the tracer of the thread hears of
every primitive applied (``record``), every conversion of a tensor to a Python value
(``converted``: the decisions the compiled code must check again), and everything the compiled
code could not repeat (``impure``: in-place changes, random draws, ``.grad`` written). With no
tracer anywhere each hook costs the test of ``active[0]`` at its call site.

While symbolic tensors exist (``cr.placeholder``: see ``compile/placeholder``), the *symbolic
recorder* in ``symbolic[0]`` hears of primitives, decisions, impurities and in-place changes
in every thread, beside the thread's own tracer (``current()`` is that tracer only), and
``active[0]`` counts it once. It also hears of reads of values (``reading``), which it
refuses for symbolic tensors, and the engine asks it whether a backward pass is one of
symbolic tensors (``symbolic_roots``: the rules then run as primitives, recorded too).
"""

from __future__ import annotations

import threading
from typing import Any

# How many threads are tracing (plus one while symbolic tensors exist): the call sites test
# this plain list first.
active = [0]
# The symbolic recorder (compile/placeholder), while symbolic tensors exist; else None.
symbolic: list[Any] = [None]

_local = threading.local()
_lock = threading.Lock()


def current() -> Any:
    """The tracer of this thread (``cr.jit``, ``cr.graph``), or None."""
    return getattr(_local, "tracer", None)


def push(tracer: Any) -> Any:
    """Make ``tracer`` this thread's (returns the one it replaces, for ``pop``)."""
    previous = getattr(_local, "tracer", None)
    _local.tracer = tracer
    if previous is None:
        with _lock:
            active[0] += 1
    return previous


def pop(previous: Any) -> None:
    """Put back the tracer ``push`` replaced."""
    _local.tracer = previous
    if previous is None:
        with _lock:
            active[0] -= 1


def install(recorder: Any) -> None:
    """Start (``recorder``) or stop (None) the symbolic recorder."""
    with _lock:
        if (symbolic[0] is None) != (recorder is None):
            active[0] += 1 if recorder is not None else -1
        symbolic[0] = recorder


def record(prim: Any, args: tuple, params: dict, result: Any) -> None:
    """``result = prim(*args, **params)`` was computed."""
    tracer = getattr(_local, "tracer", None)
    if tracer is not None:
        tracer.record(prim, args, params, result)
    recorder = symbolic[0]
    if recorder is not None:
        recorder.record(prim, args, params, result)


def converted(tensor: Any, kind: str, value: Any) -> None:
    """``tensor`` became the Python value ``value`` by ``kind`` (``bool``, ``float``, ...)."""
    recorder = symbolic[0]
    if recorder is not None:
        recorder.reading(tensor, kind)
    tracer = getattr(_local, "tracer", None)
    if tracer is not None:
        tracer.converted(tensor, kind, value)


def reading(tensor: Any, what: str) -> None:
    """``tensor``'s values are about to be read by ``what`` (the recorder refuses symbolic ones)."""
    recorder = symbolic[0]
    if recorder is not None:
        recorder.reading(tensor, what)


def decided(tensor: Any, fn: Any, value: Any, what: str) -> None:
    """A rule decided ``value = fn(array of tensor)`` (e.g. whether a determinant is 0)."""
    tracer = getattr(_local, "tracer", None)
    if tracer is not None:
        tracer.decided(tensor, fn, value, what)
    recorder = symbolic[0]
    if recorder is not None:
        recorder.decided(tensor, fn, value, what)


def impure(what: str) -> None:
    """Something the compiled code could not repeat happened (``what`` names it)."""
    tracer = getattr(_local, "tracer", None)
    if tracer is not None:
        tracer.impure(what)
    recorder = symbolic[0]
    if recorder is not None:
        recorder.impure(what)


def symbolic_roots(roots: Any, accumulate: bool) -> bool:
    """Whether a backward pass from ``roots`` is one of symbolic tensors (its rules are then
    recorded); raises for one that would accumulate into ``.grad``."""
    recorder = symbolic[0]
    return recorder is not None and recorder.backward_of(roots, accumulate)


def rebuffered(old: Any, new: Any) -> None:
    """A tensor's 0-d NumPy scalar ``old`` was replaced by the array ``new`` holding it."""
    tracer = getattr(_local, "tracer", None)
    if tracer is not None:
        tracer.rebuffered(old, new)
    recorder = symbolic[0]
    if recorder is not None:
        recorder.rebuffered(old, new)


def describe(tensor: Any) -> str | None:
    """How ``repr`` shows a symbolic tensor, or None for a tensor with values."""
    recorder = symbolic[0]
    return recorder.describe(tensor) if recorder is not None else None


def decide(x: Any, fn: Any, what: str) -> bool:
    """A rule's decision on the values of ``x`` (a tensor, or an array): ``bool(fn(array))``,
    which a tracer checks again on every call of the compiled code (``what`` names it). An
    array is guarded when it is a traced value (an operation's result handed on bare); one
    computed outside the operations cannot be followed (the call then runs eagerly): decide on
    the tensor it came from, with ``fn`` computing the condition from that."""
    data = getattr(x, "_data", x)
    value = bool(fn(data))
    if active[0]:
        if hasattr(x, "_data") or knows(data):
            decided(x, fn, value, what)
        else:
            impure(f"a decision inside a rule on values it cannot follow ({what})")
    return value


def knows(array: Any) -> bool:
    """Whether ``array`` is the value of a tensor the tracers follow (an operation's result or
    an input, handed on bare): a decision on it can be checked again at every call."""
    tracer = getattr(_local, "tracer", None)
    if tracer is not None and id(array) in tracer.by_data:
        return True
    recorder = symbolic[0]
    return recorder is not None and recorder.lookup(array) is not None


def constant(tensor: Any) -> Any:
    """``tensor`` (made by the engine or a transform from plain arrays: a seed, zeros) holds a
    constant, not a value read from the caller's tensors; returns it."""
    if active[0]:
        tracer = current()
        if tracer is not None:
            tracer.constant(tensor)
    return tensor


def writing(tensor: Any) -> None:
    """An in-place write into ``tensor`` that the tracer will be told of (``wrote``) follows:
    its version bump is not an impurity."""
    tracer = current()
    if tracer is not None:
        tracer.writing(tensor)


def wrote(tensor: Any, value: Any) -> None:
    """``tensor`` (or the view ``tensor`` of its root) now holds ``value`` (a traced tensor)."""
    tracer = current()
    if tracer is not None:
        tracer.wrote(tensor, value)


def bumped(tensor: Any) -> None:
    """``tensor``'s version moved: an impurity unless a write the tracer follows did it."""
    tracer = current()
    if tracer is not None:
        tracer.bumped(tensor)
    recorder = symbolic[0]
    if recorder is not None:  # refused for a symbolic tensor
        recorder.changed(tensor)


def same(new: Any, old: Any) -> None:
    """``new`` holds ``old``'s value (a copy made outside the operations: a snapshot)."""
    tracer = current()
    if tracer is not None:
        tracer.same(new, old)


def born(tensor: Any) -> None:
    """``tensor`` was made while tracing (not by an operation): it holds no caller's value."""
    tracer = current()
    if tracer is not None:
        tracer.born_ids.add(id(tensor))
        tracer.keep.append(tensor)


def grad_set(tensor: Any) -> None:
    """``tensor.grad`` was given a new tensor (or None)."""
    tracer = current()
    if tracer is not None:
        tracer.grad_set(tensor)


def check_state(tensor: Any, fn: Any, value: Any, what: str) -> Any:
    """A decision on ``tensor``'s Python state, ``value = fn(tensor)`` (whether ``.grad`` is
    None): checked again before every call of compiled code. Returns ``value``."""
    if active[0]:
        tracer = current()
        if tracer is not None:
            tracer.check_state(tensor, fn, value, what)
    return value


def read(tensor: Any) -> None:
    """A function read ``tensor``'s values outside the operations (integer indices, counts): the
    compiled code checks them again on every call (a trace holds what they were)."""
    if active[0]:
        recorder = symbolic[0]
        if recorder is not None:
            recorder.reading(tensor, "a read of its values outside the operations (indices, counts)")
        tracer = current()
        if tracer is not None:
            data: Any = getattr(tensor, "_data", None)
            tracer.converted(tensor, "value", data.copy() if hasattr(data, "copy") else data)


def drawn(array: Any, redraw: Any, op: str) -> None:
    """``array`` holds random numbers that ``redraw()`` draws anew (the next ones)."""
    tracer = current()
    if tracer is not None:
        tracer.drawn(array, redraw, op)


def effect(fn: Any) -> None:
    """``fn()``: a change of Python state the traced call made (an optimizer's step count), which
    compiled code cannot make: it is run after each compiled call."""
    tracer = current()
    if tracer is not None:
        tracer.effects.append(fn)
