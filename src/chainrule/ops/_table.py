"""The public names of the operations, kept in their table entries.

Every public operation is declared once, where it is defined: a primitive by ``define(...)`` (and
the shortcuts ``elementwise``, ``binary``, ``linear``, ``nondifferentiable``) with keyword
names, a function built on primitives by the ``@public(...)`` decorator. Its ``Operation`` says
which names it serves:

- ``name``: ``cr.<name>`` (``"linalg.det"``: ``cr.linalg.det``), plus ``aliases``;
- ``method``: whether it is also a ``Tensor`` method (under the same names);
- ``operator``: the Python operator it implements (``"+"``, ``"<"``, unary ``"-"``, ...);
- ``ufunc``: the NumPy ufunc(s) it serves on tensors (``np.exp(t)``), with ``reduce`` and
  ``accumulate`` naming the operations that serve ``ufunc.reduce``/``ufunc.accumulate``;
- ``numpy``: the NumPy function(s) it serves (``np.sum(t)``, ``"linalg.inv"``);
- ``cli``: how many arguments it takes in ``chainrule`` command-line expressions (None: not
  callable there), ``cli_names`` extra names there.

Everything that lists operations (the exports of ``chainrule`` and ``chainrule.linalg``, the
Tensor methods and operators, NumPy's dispatch, the ``explain`` templates, the command line's
functions, the type stubs) is built from ``OPERATIONS`` and ``TEMPLATES`` by the modules that
``subscribe``; an operation defined later, at run time, reaches all of them the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._template import Template

PUBLIC_KEYS = frozenset({
    "public", "aliases", "method", "operator", "ufunc", "numpy", "cli", "cli_names", "reduce",
    "accumulate",
})


class Operation:
    """One public operation and the names it serves (see the module docstring)."""

    __slots__ = ("name", "function", "aliases", "method", "operator", "ufunc", "numpy", "cli",
                 "cli_names", "reduce", "accumulate")

    def __init__(self, name: str, function: Callable, *, aliases: tuple[str, ...] = (),
                 method: bool = False, operator: str | None = None,
                 ufunc: str | tuple[str, ...] | None = None,
                 numpy: str | tuple[str, ...] | None = None, cli: int | None = None,
                 cli_names: tuple[str, ...] = (), reduce: str | None = None,
                 accumulate: str | None = None) -> None:
        self.name = name
        self.function = function
        self.aliases = tuple(aliases)
        self.method = method
        self.operator = operator
        self.ufunc = _names(ufunc)
        self.numpy = _names(numpy)
        self.cli = cli
        self.cli_names = tuple(cli_names)
        self.reduce = reduce
        self.accumulate = accumulate

    @property
    def names(self) -> tuple[str, ...]:
        """Its public names: ``name`` first, then the aliases."""
        return (self.name, *self.aliases)

    @property
    def namespace(self) -> str:
        """``""`` for ``cr.<name>``, ``"linalg"`` for ``cr.linalg.<name>``."""
        return self.name.rpartition(".")[0]

    def __repr__(self) -> str:
        return f"<chainrule operation {self.name}>"


def _names(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


OPERATIONS: dict[str, Operation] = {}
_NAMES: dict[str, Operation] = {}  # every public name (aliases too) -> its operation
TEMPLATES: dict[str, Template] = {}  # primitive name -> how it is written in NumPy code
_subscribers: list[Callable[[Operation], None]] = []


def publish(function: Callable, name: str | None = None, **names: Any) -> Operation:
    """Declare ``function`` a public operation under ``name`` (default: its ``__name__``)."""
    unknown = set(names) - PUBLIC_KEYS
    if unknown:
        raise TypeError(f"publish: unknown keyword(s) {sorted(unknown)}; known: {sorted(PUBLIC_KEYS)}")
    names.pop("public", None)
    if name is None:
        name = getattr(function, "name", None) or function.__name__
    taken = [n for n in (name, *names.get("aliases", ())) if n in _NAMES]
    if taken:
        raise ValueError(f"publish: the public name(s) {taken} already belong to another operation")
    op = Operation(name, function, **names)
    OPERATIONS[name] = op
    _NAMES.update(dict.fromkeys(op.names, op))
    done = []
    try:
        for subscriber in _subscribers:
            subscriber(op)
            done.append(subscriber)
    except Exception:  # e.g. a method name that Tensor already has: undo, leave no trace
        OPERATIONS.pop(name)
        _forget(op)
        for subscriber in done:
            undo = getattr(subscriber, "withdraw", None)
            if undo is not None:
                undo(op)
        raise
    return op


def _forget(op: Operation) -> None:
    for n in op.names:
        _NAMES.pop(n, None)


def public(name: str | None = None, **names: Any) -> Callable[[Callable], Callable]:
    """Decorator: ``@public(method=True, numpy="sum")`` publishes the function it decorates."""

    def decorate(function: Callable) -> Callable:
        publish(function, name, **names)
        return function

    return decorate


def subscribe(subscriber: Callable[[Operation], None]) -> None:
    """Call ``subscriber(op)`` for every operation published so far and every one to come."""
    _subscribers.append(subscriber)
    for op in list(OPERATIONS.values()):
        subscriber(op)


def withdraw(name: str) -> None:
    """Remove a published operation and what the subscribers built for it (for tests that add
    operations at run time)."""
    op = OPERATIONS.pop(name)
    _forget(op)
    _undo(op)


def _undo(op: Operation) -> None:
    for subscriber in _subscribers:
        undo = getattr(subscriber, "withdraw", None)
        if undo is not None:
            undo(op)


def namespace_module(scope: dict, namespace: str) -> None:
    """Fill a namespace module (``chainrule.linalg``, ``chainrule.special``, ``chainrule.fft``)
    with the operations declared as ``<namespace>.<name>``, now and as they are published."""
    exported: list[str] = scope.setdefault("__all__", [])

    def export(op: Operation) -> None:
        if op.namespace == namespace:
            for name in op.names:
                short = name.rpartition(".")[2]
                scope[short] = op.function
                if short not in exported:
                    exported.append(short)

    def withdraw(op: Operation) -> None:
        if op.namespace == namespace:
            for name in op.names:
                short = name.rpartition(".")[2]
                scope.pop(short, None)
                if short in exported:
                    exported.remove(short)

    export.withdraw = withdraw  # type: ignore[attr-defined]
    subscribe(export)
