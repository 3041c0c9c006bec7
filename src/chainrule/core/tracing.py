"""Where eager execution tells a tracer what it does (``cr.jit``, ``cr.graph``: see ``compile/``).

While a function is traced it runs eagerly, on real values; the tracer of the thread hears of
every primitive applied (``record``), every conversion of a tensor to a Python value
(``converted``: the decisions the compiled code must check again), and everything the compiled
code could not repeat (``impure``: in-place changes, random draws, ``.grad`` written). With no
tracer anywhere each hook costs the test of ``active[0]`` at its call site.

While symbolic tensors exist (``cr.placeholder``: see ``compile/placeholder``), the *symbolic
recorder* in ``symbolic[0]`` hears of the same events in every thread, beside the thread's own
tracer, and ``active[0]`` counts it once; ``current()`` returns it where a thread traces nothing
(so the engine runs the rules as primitives, and the backward pass of symbolic tensors is
recorded too). It also hears of reads of values (``reading``) and in-place changes
(``changed``), which it refuses for symbolic tensors.
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
    """The tracer of this thread, else the symbolic recorder, or None."""
    tracer = getattr(_local, "tracer", None)
    return tracer if tracer is not None else symbolic[0]


def thread_tracer() -> Any:
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


def accumulating(roots: Any) -> None:
    """``backward()`` of ``roots`` is about to accumulate gradients into ``.grad``."""
    tracer = getattr(_local, "tracer", None)
    if tracer is not None:
        tracer.impure("backward() accumulating into .grad")
    recorder = symbolic[0]
    if recorder is not None:
        recorder.accumulating(roots)


def changed(tensor: Any, what: str) -> None:
    """``tensor`` was changed in place (``what`` says so, for a tracer)."""
    tracer = getattr(_local, "tracer", None)
    if tracer is not None:
        tracer.impure(what)
    recorder = symbolic[0]
    if recorder is not None:
        recorder.changed(tensor)


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
    which a tracer checks again on every call of the compiled code (``what`` names it)."""
    data = getattr(x, "_data", x)
    value = bool(fn(data))
    if active[0]:
        if hasattr(x, "_data"):
            decided(x, fn, value, what)
        else:
            impure(f"a decision inside a rule on values it cannot follow ({what})")
    return value
