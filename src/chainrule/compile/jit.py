"""``cr.jit``: trace a function once per signature, optimise its graph, run generated code.

``cr.jit(f)`` returns a function with ``f``'s results (computed by the same implementations as
eager mode). Its first call for a signature — the structure of the arguments (pytrees), each
tensor's or array's shape and dtype, the Python values (static) — runs ``f`` eagerly while
tracing it; later calls run the generated code. Decisions ``f`` made on traced values (``if
x.sum() > 0``, ``float(t)``) are checked on every call: when one comes out differently, ``f``
is traced again for that case (up to ``MAX_TRACES`` per signature, then a warning names the
decision that keeps changing). Tensors ``f`` reaches through closures or modules are read at
every call; in-place changes, random numbers and ``backward()`` into ``.grad`` are repeated by
the generated code (a whole training step compiles). A call on tensors that require grad (its
arguments, or parameters ``f`` reads) records one node, ``CompiledFunctionBackward``, whose
backward pass is generated code too (``joint``); ``cr.grad(cr.jit(f))`` runs both. ``f`` runs
eagerly where compiled code could not repeat it (one warning says why), and when a call needs
tangents (inside ``jvp``/``jacfwd``/``vmap``), so ``jit`` composes with every transform. Example::

    >>> step = cr.jit(lambda w, x: cr.grad(lambda w: ((x @ w).tanh() ** 2).sum())(w))
    >>> step(cr.ones(3), cr.ones(4, 3))        # traced
    >>> step(cr.zeros(3), cr.ones(4, 3))       # generated code
    >>> print(step.source(cr.ones(3), cr.ones(4, 3)))
"""

from __future__ import annotations

import functools
import gc
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..core import tracing
from ..core.modes import state
from ..core.tensor import Tensor
from ..transforms.pytree import tree_flatten
from .graph import MISMATCH, NEEDS_GRAPH, Graph, ImpureError, flat_signature, trace
from .ir import GuardMiss
from .joint import JointGraph, restore_rng, rng_state

MAX_TRACES = 8  # per signature: past this, the oldest trace goes and a warning names the decision

_EAGER = "eager"


_PLAIN, _GRAPH, _EAGERLY = 0, 1, 2


def _call_kind(leaves: Sequence[Any]) -> int:
    """How this call runs: ``_EAGERLY`` (``f`` itself) when a transform or vmap is open, an
    argument carries tangents, or a trace is running (an inner jit is part of the outer one's
    trace); ``_GRAPH`` (compiled, recording one node) when an argument requires grad and grad
    mode is on; else ``_PLAIN`` (compiled, recording nothing)."""
    if state.forward_levels or state.vmap_levels or tracing.active[0] and tracing.current():
        return _EAGERLY
    if tracing.symbolic[0] is not None and tracing.symbolic[0].holds(leaves):
        return _EAGERLY  # symbolic tensors (cr.placeholder): f runs on them, recorded into their graph
    kind = _PLAIN
    for leaf in leaves:
        if isinstance(leaf, Tensor):
            data = leaf._data
            if leaf._tangents is not None or (type(data) is not np.ndarray and not isinstance(data, np.generic)):
                return _EAGERLY
            if leaf._requires_grad:
                kind = _GRAPH if state.grad_enabled else kind
    return kind


def _signature(leaves: list[Any], statics: frozenset) -> tuple:
    key: list[tuple] = []
    first: dict[int, int] = {}
    for i, leaf in enumerate(leaves):
        if i not in statics and isinstance(leaf, (Tensor, np.ndarray)):
            data = leaf._data if isinstance(leaf, Tensor) else leaf
            alias = first.setdefault(id(leaf), i)
            key.append(("t" if isinstance(leaf, Tensor) else "a", tuple(np.shape(data)), np.dtype(data.dtype).str,
                        alias if alias != i else None))
        else:
            try:
                hash(leaf)
                key.append(("s", type(leaf).__name__, leaf))
            except TypeError:
                key.append(("o", id(leaf)))
    return tuple(key)


class Jitted:
    """The function ``cr.jit(f)`` returns (see the module doc)."""

    def __init__(self, f: Callable[..., Any], static_argnums: Sequence[int] = ()) -> None:
        self.f = f
        self.static_argnums = tuple(static_argnums)
        self.name = getattr(f, "__name__", "f")
        if self.name == "<lambda>":
            self.name = "f"
        self._cache: dict[tuple, list[Any]] = {}
        self._flat: dict[tuple, list[Graph]] = {}  # the graphs of calls with tensors only (see _fast)
        self._lock = threading.RLock()
        self._warned: set[str] = set()
        self.traces = 0  # how many times f was traced (for tests and the curious)
        self._hot: tuple[Any, Any] | None = None  # see __call__
        functools.update_wrapper(self, f)

    def _prepare(self, args: tuple, kwargs: dict, leaves: list[Any] | None = None) -> tuple[tuple, list[Any], frozenset]:
        if leaves is None:
            leaves, _ = tree_flatten([list(args), kwargs])
        statics = self._static_leaves(args)
        return _signature(leaves, statics), leaves, statics

    def _static_leaves(self, args: tuple) -> frozenset:
        if not self.static_argnums:
            return frozenset()
        found: set[int] = set()
        offset = 0
        wanted = {a % len(args) for a in self.static_argnums if args}
        for i, a in enumerate(args):
            count = len(tree_flatten(a)[0])
            if i in wanted:
                found.update(range(offset, offset + count))
            offset += count
        return frozenset(found)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        hot = self._hot
        if hot is not None and not kwargs and len(args) == len(hot[1]):
            # the graph of the last fast call, for tensors of the same shapes and dtypes
            s = state
            if not (s.forward_levels or s.vmap_levels or s.transform_depth or tracing.active[0]):
                graph, specs = hot
                datas = []
                for a, (shape, dtype) in zip(args, specs):
                    if type(a) is not Tensor or a._requires_grad or a._tangents is not None:
                        break
                    d = a._data
                    if type(d) is not np.ndarray and not isinstance(d, np.generic) or d.shape != shape \
                            or d.dtype != dtype:
                        break
                    datas.append(d)
                else:
                    try:
                        return graph.finish(graph.fn(*datas))
                    except GuardMiss as miss:
                        self._last_miss = graph.guards[miss.index]
        if not kwargs:  # the common case first: tensors as the arguments, each one input
            result = self._fast(args)
            if result is not _MISS:
                return result
        leaves, _ = tree_flatten([list(args), kwargs])
        kind = _call_kind(leaves)
        if kind == _EAGERLY:
            return self.f(*args, **kwargs)
        key, leaves, statics = self._prepare(args, kwargs, leaves)
        key = self._keyed(key, kind, leaves)
        with self._lock:
            entries = list(self._cache.get(key, ()))
        for entry in entries:
            if entry is _EAGER:
                return self.f(*args, **kwargs)
            if isinstance(entry, JointGraph):  # results that need a graph: one node records the call
                try:
                    result = entry.call(self.f, args, kwargs, leaves)
                except GuardMiss as miss:
                    self._last_miss = entry.guards[miss.index]
                    continue
                if result is NEEDS_GRAPH:
                    return self.f(*args, **kwargs)
                if result is not MISMATCH:
                    return result
                continue
            result = self._run(entry, leaves, args)
            if result is _RUN_EAGER:
                return self.f(*args, **kwargs)
            if result is not _MISS:
                return result
        saved = rng_state()
        traced, graph = self._trace_and_store(key, args, kwargs, statics, bool(entries),
                                              JointGraph if kind == _GRAPH else None)
        if graph is None and kind == _GRAPH:
            # f runs eagerly: the traced run's results are not those of the caller's tensors (it
            # ran on fresh leaves in their place), so f runs again, drawing the same numbers
            restore_rng(saved)
            return self.f(*args, **kwargs)
        if not isinstance(graph, JointGraph):  # (or none: f runs eagerly) the traced run's results are the call's
            return traced
        # The traced run's results are not recorded as one node: the compiled forward code runs
        # now, drawing the random numbers the traced run drew.
        restore_rng(saved)
        result = graph.call(self.f, args, kwargs, leaves)
        if result is MISMATCH or result is NEEDS_GRAPH:
            raise AssertionError("jit: a graph traced for a call does not match it")
        return result

    @staticmethod
    def _keyed(key: tuple, kind: int, leaves: list[Any]) -> tuple:
        """The cache key of a call: its signature, grad mode, and which arguments require grad."""
        if kind == _GRAPH:
            return ("graph", key, tuple(isinstance(leaf, Tensor) and leaf._requires_grad for leaf in leaves))
        return (key, state.grad_enabled)

    def _fast(self, args: tuple) -> Any:
        """A call whose arguments are tensors of NumPy data (or tuples or lists of them), none
        requiring grad, no transform open: the graphs traced for their shapes and dtypes, tried
        in turn (``_MISS`` when there is none, or anything else is the case: then the general
        path decides)."""
        s = state
        if s.forward_levels or s.vmap_levels or s.transform_depth or tracing.active[0] or self.static_argnums:
            return _MISS
        found = flat_signature(args)
        if found is None:
            return _MISS
        key, datas = found
        graphs = self._flat.get(key)
        if not graphs:
            return _MISS
        for graph in graphs:
            if graph.any_written or graph.slow:  # the general path writes back, sets .grad, checks state
                return _MISS
            if graph.captured:
                captured = graph.current(self.f, args)
                if captured is NEEDS_GRAPH:
                    return _MISS
                if captured is MISMATCH:
                    continue
                arrays = graph.captured_arrays(captured)
            else:  # (nothing read from outside, no state checked: a slow graph is not here)
                arrays = []
            try:
                values = graph.fn(*datas, *arrays)
            except GuardMiss as miss:
                self._last_miss = graph.guards[miss.index]
                continue
            if not graph.captured and all(type(a) is Tensor for a in args):
                self._hot = (graph, graph.flat_key)  # (tensors as the arguments, each one input)
            return graph.finish(values)
        return _MISS

    def _run(self, graph: Graph, leaves: list[Any], args: tuple) -> Any:
        arrays = graph.arrays_of(leaves)
        if arrays is None:
            return _MISS
        captured = graph.current(self.f, args)  # closures and parameters: found again now
        if captured is NEEDS_GRAPH:
            return _RUN_EAGER
        if captured is MISMATCH:
            return _MISS
        try:
            return graph.wrap(graph.run_leaves(arrays, graph.last_tensors, captured))
        except GuardMiss as miss:
            self._last_miss = graph.guards[miss.index]
            return _MISS

    def _trace_and_store(self, key: tuple, args: tuple, kwargs: dict, statics: frozenset,
                         retrace: bool, joint: Any = None) -> tuple[Any, Graph | None]:
        collecting = gc.isenabled()
        gc.disable()  # tracing and compiling make many objects and no cycles: the collector would rescan them
        try:
            result, graph, impurities = trace(self.f, args, kwargs, self.name, statics, joint=joint,
                                              records=JointGraph if state.grad_enabled else None)
        finally:
            if collecting:
                gc.enable()
        self.traces += 1
        if isinstance(graph, JointGraph):
            impurities = graph.unsplittable()
            if impurities:
                graph = None
        with self._lock:
            entries = self._cache.setdefault(key, [])
            if graph is None:
                entries[:] = [_EAGER]
                self._warn_once(f"cr.jit: {self.name} runs eagerly: it does what compiled code cannot repeat "
                                f"({'; '.join(impurities)})")
            else:
                entries.insert(0, graph)
                if graph.flat_key is not None:
                    flat = self._flat.setdefault(graph.flat_key, [])
                    flat.insert(0, graph)
                    del flat[MAX_TRACES:]
                if len(entries) > MAX_TRACES:
                    entries.pop()
                    miss = getattr(self, "_last_miss", None)
                    decision = miss.describe() if miss is not None else "a decision on traced values"
                    self._warn_once(f"cr.jit: {self.name} keeps being traced again: {decision} keeps changing "
                                    f"(more than {MAX_TRACES} traces for one signature); write it with cr.where, "
                                    f"or make the value a static argument (static_argnums)")
        return result, graph

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            warnings.warn(message, RuntimeWarning, stacklevel=4)

    # --- inspection ---------------------------------------------------------------------------
    def graph(self, *args: Any, **kwargs: Any) -> Graph:
        """The optimised graph the call ``f(*args, **kwargs)`` runs (traced now if need be)."""
        key, leaves, statics = self._prepare(args, kwargs)
        kind = _call_kind(leaves)
        key = self._keyed(key, kind, leaves)
        with self._lock:
            entries = list(self._cache.get(key, ()))
        for entry in entries:  # the latest trace for this signature (its guards are not run here)
            if isinstance(entry, Graph) and entry.arrays_of(leaves) is not None:
                return entry
        _, graph = self._trace_and_store(key, args, kwargs, statics, False, JointGraph if kind == _GRAPH else None)
        if graph is None:
            raise ImpureError(f"jit: {self.name} has no graph: it runs eagerly (see the warning)")
        return graph

    def source(self, *args: Any, **kwargs: Any) -> str:
        """The generated Python source that the call ``f(*args, **kwargs)`` runs."""
        return self.graph(*args, **kwargs).source

    def __repr__(self) -> str:
        return f"<cr.jit of {self.name}: {sum(len(v) for v in self._cache.values())} traces cached>"


class _Miss:
    pass


_MISS = _Miss()
_RUN_EAGER = _Miss()  # a captured tensor needs a graph or tangents: this call runs f eagerly


def jit(f: Callable[..., Any] | None = None, static_argnums: int | Sequence[int] = ()) -> Any:
    """``f`` compiled: traced once per signature, then run as generated NumPy code (see the
    module doc). Usable as a decorator, with or without ``static_argnums``."""
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    if f is None:
        return lambda g: jit(g, static_argnums)
    if not callable(f):
        raise TypeError(f"jit: expected a function, got {type(f).__name__}")
    if any(isinstance(a, bool) or not isinstance(a, int) for a in static_argnums):
        raise TypeError(f"jit: static_argnums must be ints, got {static_argnums!r}")
    return Jitted(f, static_argnums)
