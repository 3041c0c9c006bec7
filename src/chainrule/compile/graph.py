"""``cr.Graph`` and ``cr.graph``: a traced, optimised function as an explicit graph.

``cr.graph(f, *example_args)`` runs ``f`` once on the examples, recording every operation, and
returns the ``Graph``: ``graph.inputs`` (shape and dtype each), ``graph.equations`` (primitive,
operands, parameters, output), ``graph.outputs``; ``str(graph)`` shows it as staged NumPy code
in ``cr.explain``'s style; ``graph(*args)`` runs the generated code on new values of the same
shapes and dtypes::

    >>> g = cr.graph(lambda x, w: (x @ w).tanh().sum(), cr.ones(2, 3), cr.ones(3))
    >>> g(cr.randn(2, 3), cr.randn(3))
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import tracing
from ..core.tensor import Tensor
from ..tools import symbolic as S
from ..transforms.pytree import tree_flatten, tree_unflatten
from . import codegen, scalar
from .capture import find_paths, resolve, resolver
from .freed import freed as records_freed
from .freed import freed_result
from .ir import Const, Equation, Guard, GuardMiss, Var
from .passes import optimise
from .trace import Tracer

_BUILDING = threading.Lock()  # one thread builds a graph's NumPy version
MISMATCH = object()     # a captured tensor is gone, or changed shape or dtype: trace again
NEEDS_GRAPH = object()  # a captured tensor carries tangents: run eagerly
CARRIES_GRAPH = ("results that carry a graph not recorded as one node (some freed by a backward pass in "
                 "the call, some not)")


class ImpureError(RuntimeError):
    """The traced function did something its compiled code could not repeat."""


def _leaf_kind(leaf: Any) -> str:
    if isinstance(leaf, Tensor):
        return "tensor"
    if isinstance(leaf, np.ndarray):
        return "array"
    return "static"


class Graph:
    """A traced function: inputs, captured tensors, equations, guards, outputs (see the module
    doc). Built by ``cr.graph`` or ``cr.jit(f).graph(*args)``."""

    def __init__(self, name: str, tracer: Tracer, in_def: Any, kinds: list[str], outputs: list[Any],
                 out_def: Any, optimised: bool = True) -> None:
        if not isinstance(tracer, Tracer):
            raise TypeError("Graph: a graph is made by tracing a function: cr.graph(f, *example_args) "
                            "or cr.jit(f).graph(*args)")
        self.name = name
        self.in_def = in_def
        self.kinds = kinds
        self.inputs: list[Var] = list(tracer.inputs)
        self.captured: list[tuple[Var, Tensor]] = list(tracer.captured)
        self.traced_equations = len(tracer.equations)
        writes = tracer.write_backs()
        grad_values = [v for _, v in tracer.grad_outputs if v is not None]
        n_grads = len(grad_values)
        equations, guards, outs = (list(tracer.equations), list(tracer.guards),
                                   outputs + grad_values + [w[1] for w in writes])
        if optimised:
            equations, guards, outs = optimise(equations, guards, outs)
        self.equations: list[Equation] = equations
        self.guards: list[Guard] = guards
        outs, hidden, finals = outs[:len(outputs)], outs[len(outputs):len(outputs) + n_grads], \
            outs[len(outputs) + n_grads:]
        self.outputs: list[Any] = outs
        self.n_out = len(outs)
        # .grad replaced by new tensors (values computed as hidden results) or set to None
        self.grad_sets = [(loc, v is not None) for loc, v in tracer.grad_outputs]
        self.state_checks = list(tracer.state_locators)
        self.effects = list(tracer.effects)
        self.slow = bool(self.grad_sets or self.state_checks or self.effects)
        # in-place changes of the caller's tensors: written back at the end of every call
        self.writes = [(initial, final) for (initial, _, _), final in zip(writes, finals)]
        written = {id(t) for _, _, t in writes}
        self.written_inputs = [k for k, t in enumerate(tracer.input_tensors) if t is not None and id(t) in written]
        self.written_ids = written
        self.out_def = out_def
        self.statics: dict[int, Any] = {}
        if self.captured:  # those the optimised graph still reads
            used = {v.index for eq in equations for v in eq.uses()} | {o.index for o in outs if isinstance(o, Var)}
            used |= {o.index for o in hidden if isinstance(o, Var)}
            used |= {g.var.index for g in guards} | {i.index for i, _ in self.writes}
            used |= {f.index for _, f in self.writes if isinstance(f, Var)}
            self.captured = [(v, t) for v, t in self.captured if v.index in used]
        # how each captured tensor is found again at every call (None: made by the trace itself)
        self.paths: list[tuple | None] = [tracer.paths.get(id(t)) for _, t in self.captured]
        self.written_captured = [id(t) in written for _, t in self.captured]
        self.any_written = bool(self.written_inputs) or any(self.written_captured)
        self.f: Any = None
        self.here = threading.local()  # this thread's call: its args, input tensors, resolved paths
        self.copy_out = [isinstance(o, Const) and isinstance(o.value, np.ndarray) for o in outs]
        self.single = False
        self.builder: Any = None
        self.flat_key: tuple | None = None
        self._generate(hidden)

    def _generate(self, hidden: list[Any]) -> None:
        """``self.fn``: the generated code of the graph (``source`` shows it)."""
        ident = _identifier(self.name)
        if ident in scalar.GLOBALS or ident in ("numpy_version", "float") or (ident[0] == "k" and ident[1:].isdigit()):
            ident += "_"  # (the scalar code's globals: the function's own name must not shadow one)
        self._numpy = _NumpyVersion(ident, self.inputs, [v for v, _ in self.captured], self.equations, self.guards,
                                    self.outputs + hidden, self.writes)
        fast = None if self.writes or self.slow else scalar.generate(
            ident, self.inputs, [v for v, _ in self.captured], self.equations, self.guards, self.outputs)
        self._scalar = None if fast is None else fast[0]
        if fast is None:
            self.fn = self._numpy.function()
        else:  # 0-d float64 values: Python floats; the NumPy version (built on first need) for special values
            self.fn = codegen.build(fast[0], {**scalar.GLOBALS, **fast[1], "numpy_version": self._numpy}, ident)

    @property
    def source(self) -> str:
        """The generated code: the function the calls run (and the NumPy version it falls back on)."""
        numpy_source = self._numpy.source()
        if self._scalar is None:
            return numpy_source
        return f"{self._scalar}\n# numpy_version: the same on NumPy values\n{numpy_source}"

    # --- running ----------------------------------------------------------------------------
    def current(self, f: Any, args: tuple) -> Any:  # noqa: C901
        """The captured tensors as they are now (each found again by its path), or ``MISMATCH``
        when one is gone or has another shape or dtype, or ``NEEDS_GRAPH`` when one requires grad
        or carries tangents (the call then runs eagerly)."""
        here = self.here
        here.args = args
        if self.resolve_all is None:
            self._index_paths()
        resolved = here.resolved = self.resolve_all(f, args)
        for locator, fn, value, _ in self.state_checks:
            t = self.locate(locator, f, args)
            if t is None or fn(t) != value:
                return MISMATCH
        found = []
        for (var, t), k in zip(self.captured, self.path_slots):
            if k is not None:
                t = resolved[k]
                if not isinstance(t, Tensor):
                    return MISMATCH
            if t._tangents is not None:
                return NEEDS_GRAPH
            if t._requires_grad is not var.requires_grad:  # traced with the other flag: not this graph
                return MISMATCH
            data = t._data
            if getattr(data, "shape", None) != var.shape or getattr(data, "dtype", None) != var.dtype:
                return MISMATCH
            found.append(t)
        return found

    def _index_paths(self) -> None:
        """One generated function following every access path this graph reads at each call
        (captured tensors, Python state it checks, ``.grad`` it sets): ``resolve_all``."""
        paths: dict[tuple, int] = {}
        for path in [*self.paths, *(loc[1] for loc, *_ in self.state_checks if loc[0] == "path"),
                     *(loc[1] for loc, _ in self.grad_sets if loc[0] == "path")]:
            if path is not None:
                paths.setdefault(path, len(paths))
        self.path_index = paths
        self.path_slots = [None if p is None else paths[p] for p in self.paths]
        self.resolve_all = resolver(list(paths))

    resolve_all: Any = None

    @property
    def last_tensors(self) -> list[Any]:
        """The input tensors of this thread's current call (``arrays_of`` found them)."""
        return getattr(self.here, "tensors", None) or []

    def locate(self, locator: tuple, f: Any, args: tuple) -> Any:
        """The caller's tensor a locator names now: an input of this call, or one found by path
        (in this call's ``resolved``)."""
        if locator[0] == "input":
            tensors = self.last_tensors
            return tensors[locator[1]] if locator[1] < len(tensors) else None
        k = self.path_index.get(locator[1]) if self.resolve_all is not None else None
        if k is not None and args is getattr(self.here, "args", None):
            return self.here.resolved[k]
        return resolve(f, args, locator[1])

    def captured_arrays(self, tensors: list[Tensor]) -> list[Any]:
        """The captured tensors' arrays (their own memory, for those written in place)."""
        if not self.any_written:
            return [t._data for t in tensors]
        return [t._buffer() if w else t._data for t, w in zip(tensors, self.written_captured)]

    def bump(self, inputs: list[Any], captured: list[Tensor]) -> None:
        """What eager mode does after its in-place writes: the written tensors' versions move."""
        from ..ops.inplace import _bumped

        for k in self.written_inputs:
            _bumped(inputs[k])
        for t, w in zip(captured, self.written_captured):
            if w:
                _bumped(t)

    def run_leaves(self, arrays: list[Any], tensors: list[Any] | None = None,
                   captured: list[Tensor] | None = None) -> list[Any]:
        """The outputs (arrays and constants) for the input leaves' arrays; raises ``GuardMiss``."""
        if captured is None:
            captured = [t for _, t in self.captured]
        if self.written_inputs and tensors is not None:
            arrays = list(arrays)
            for k in self.written_inputs:
                arrays[k] = tensors[k]._buffer()
        results = self.fn(*arrays, *self.captured_arrays(captured))
        if tensors is not None and self.any_written:
            self.bump(tensors, captured)
        for effect in self.effects:
            effect()
        if self.grad_sets:
            values = iter(results[self.n_out:])
            for locator, has_value in self.grad_sets:
                t = self.locate(locator, self.f, self.here.args)
                t._grad = Tensor._wrap(next(values)) if has_value else None
            results = results[:self.n_out]
        out = []
        for spec, value in zip(self.outputs, results):
            if isinstance(spec, Const) and isinstance(value, np.ndarray):
                value = value.copy()  # a folded constant: each call's result its own memory
            out.append(value)
        return out

    def finish(self, results: tuple) -> Any:
        """The generated function's results as the traced function returned them."""
        if self.builder is None:
            self.builder = _builder(self.out_def, self.out_kinds, self.copy_out)
        return self.builder(results)

    def wrap(self, values: list[Any]) -> Any:
        """The outputs as the traced function returned them (tensors where it returned tensors)."""
        leaves = [Tensor._wrap(v) if k == "tensor" else v for v, k in zip(values, self.out_kinds)]
        for k, name in self.freed.items():  # (their graphs freed by the call's backward(): as eager mode's)
            leaves[k] = freed_result(values[k], name)
        return tree_unflatten(self.out_def, leaves)

    freed: dict[int, str] = {}

    out_kinds: list[str] = []

    def arrays_of(self, leaves: list[Any]) -> list[Any] | None:
        """The input arrays for the flattened arguments ``leaves``, or None when they do not
        match the traced signature (shapes, dtypes, static values, the same object twice)."""
        arrays = []
        tensors: list[Any] = []
        self.here.tensors = tensors
        inputs = iter(self.inputs)
        first: dict[int, Any] = {}
        for i, (leaf, kind) in enumerate(zip(leaves, self.kinds)):
            if kind == "static":
                if not _same_static(leaf, self.statics.get(i)):
                    return None
                continue
            if kind == "alias":
                if not any(leaf is other for other in first.values()):
                    return None
                continue
            first[i] = leaf
            var = next(inputs)
            tensors.append(leaf)
            data = leaf._data if isinstance(leaf, Tensor) else leaf
            if not isinstance(data, (np.ndarray, np.generic)) or tuple(np.shape(data)) != var.shape \
                    or np.dtype(data.dtype) != np.dtype(var.dtype):
                return None
            arrays.append(data)
        return arrays

    def __call__(self, *args: Any) -> Any:
        leaves, in_def = tree_flatten([list(args), {}])
        arrays = self.arrays_of(leaves) if in_def == self.in_def and len(leaves) == len(self.kinds) else None
        if arrays is None:
            shown = ", ".join(f"{v.name}: {v.dtype}{list(v.shape)}" for v in self.inputs)
            raise TypeError(f"graph {self.name}: the arguments do not match the traced ones ({shown}, "
                            f"the same structure and Python values); trace it again (cr.graph) or use "
                            f"cr.jit, which traces once per signature")
        captured = self.current(self.f, tuple(args))
        if captured is MISMATCH or captured is NEEDS_GRAPH:
            raise RuntimeError(f"graph {self.name}: a tensor it reads from outside ("
                               + ("it requires grad: the graph records no gradient; use cr.jit, which runs such "
                                  "calls eagerly" if captured is NEEDS_GRAPH else
                                  "a closure, a module's parameter) is gone or has another shape or dtype; "
                                  "trace it again") + ")")
        try:
            return self.wrap(self.run_leaves(arrays, self.last_tensors, captured))
        except GuardMiss as miss:
            guard = self.guards[miss.index]
            raise RuntimeError(f"graph {self.name}: a decision came out differently than when traced: "
                               f"{guard.describe()} was {guard.value!r}; use cr.jit, which traces again "
                               f"when a decision changes") from None

    # --- showing ----------------------------------------------------------------------------
    def __str__(self) -> str:
        """The graph as staged NumPy code (``cr.explain``'s templates), inputs first."""
        self._numpy.function()  # (names the values)
        lines = [f"# graph {self.name}: {len(self.equations)} equations "
                 f"({self.traced_equations} traced)"]
        for var in self.inputs:
            lines.append(f"# input    {var.name}: {var.dtype}{list(var.shape)}")
        for var, _ in self.captured:
            lines.append(f"# captured {var.name}: {var.dtype}{list(var.shape)} (read at every call)")
        syms: dict[int, S.Sym] = {v.index: S.Sym(np.zeros(v.shape, v.dtype), v.name) for v in self.inputs}
        syms.update({v.index: S.Sym(np.zeros(v.shape, v.dtype), v.name) for v, _ in self.captured})
        guards = sorted(self.guards, key=lambda g: g.after)
        for eq in self.equations:
            args = [syms[o.index] if isinstance(o, Var) else S.lift(o.value) for o in eq.operands]
            code = _staged(eq, args, syms)
            lines.append(f"{eq.out.name} = {code}")
            syms[eq.out.index] = S.Sym(np.zeros(eq.out.shape, eq.out.dtype), eq.out.name)
            for g in guards:
                if g.var.index == eq.out.index:
                    lines.append(f"assert {g.kind}({eq.out.name}) == {g.value!r:.60}  # {g.describe()}")
        outs = [o.name if isinstance(o, Var) else repr(o.value) for o in self.outputs]
        lines.append(f"return {', '.join(str(o) for o in outs)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<cr.Graph {self.name}: {len(self.inputs)} inputs, {len(self.captured)} captured, "
                f"{len(self.equations)} equations, {len(self.guards)} guards>")


class _NumpyVersion:
    """A graph's generated code on NumPy values, generated and compiled on first need (a graph
    that Python floats run needs it for special values only); called as that function."""

    def __init__(self, ident: str, *graph: Any) -> None:
        self.ident = ident
        self.graph = graph  # (inputs, captured, equations, guards, outputs, writes)
        self.built: tuple[str, Any] | None = None

    def _build(self) -> tuple[str, Any]:
        built = self.built
        if built is None:
            with _BUILDING:
                built = self.built
                if built is None:
                    source, globals_ = codegen.generate(self.ident, *self.graph)
                    built = self.built = (source, codegen.build(source, globals_, self.ident))
        return built

    def function(self) -> Any:
        return self._build()[1]

    def source(self) -> str:
        return self._build()[0]

    def __call__(self, *arrays: Any) -> Any:
        return self._build()[1](*arrays)


def _staged(eq: Equation, args: list[Any], syms: dict[int, Any]) -> str:
    """One equation as ``explain`` writes it (its template), parameters with tensors written by name."""
    params = {k: _named(v, syms) for k, v in eq.params.items()}
    template = S.template_of(eq.prim.name)
    values = [a.value for a in args]
    try:
        parts = [S.to_code(a) for a in args]
        return template.render(parts, params, values)
    except Exception:  # a template that needs what a placeholder value cannot give: the call form
        return S.fallback(eq.prim.name).render([S.to_code(a) for a in args], params, values)


class _Name:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


def _named(value: Any, syms: dict[int, Any]) -> Any:
    if isinstance(value, Var):
        return _Name(value.name or "?")
    if type(value) is tuple:
        return tuple(_named(v, syms) for v in value)
    return value


def _same_static(a: Any, b: Any) -> bool:
    """Whether a Python argument equals the traced one (the same object for anything else)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except Exception:
        return False


def _identifier(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "f"
    return cleaned if not cleaned[0].isdigit() else f"f_{cleaned}"


def trace(f: Callable[..., Any], args: tuple, kwargs: dict, name: str, statics: frozenset = frozenset(),
          optimised: bool = True, op: str = "jit", joint: Any = None,
          records: Any = None) -> tuple[Any, Graph | None, list[str]]:
    """Run ``f(*args, **kwargs)`` eagerly, tracing it: ``(result, graph, impurities)``, the graph
    None when the function did something compiled code could not repeat. ``joint``: the class
    of a graph of ``f`` and its vector-Jacobian product together (``joint.JointGraph``: ``f`` runs
    on fresh leaves in place of the arguments that require grad, then the backward pass of its
    results is traced with cotangents as further inputs). ``records``: that class, taken for a
    call whose results turn out to require grad (through tensors ``f`` reads from outside)."""
    leaves, in_def = tree_flatten([list(args), kwargs])
    tracer = Tracer()
    kinds = []
    seen: dict[int, int] = {}
    call_leaves = leaves
    if joint is not None:
        call_leaves = joint.leaves_for_trace(leaves, statics)
        call_args, kwargs = tree_unflatten(in_def, call_leaves)
        args = tuple(call_args)
    for i, leaf in enumerate(call_leaves):
        kind = _leaf_kind(leaf) if i not in statics else "static"
        if kind != "static" and id(leaf) in seen:
            kind = "alias"  # the same object twice: one input (the signature records it)
        kinds.append(kind)
        if kind in ("tensor", "array"):
            seen[id(leaf)] = i
            tracer.add_input(leaf)
    previous = tracing.push(tracer)
    found: dict[str, Any] = {}
    freed_outputs: dict[int, str] = {}
    try:
        result = f(*args, **kwargs)
        out_leaves, out_def = tree_flatten(result)
        graphed = [k for k, leaf in enumerate(out_leaves)
                   if isinstance(leaf, Tensor) and leaf._requires_grad and leaf._tangents is None]
        if joint is None and graphed and tracer.grad_targets and all(records_freed(out_leaves[k]) for k in graphed):
            # a training step returning its loss: backward() freed the results' graphs
            freed_outputs = {k: out_leaves[k]._node.prim.node_name for k in graphed}
        elif joint is None and records is not None and graphed:
            joint = records
        if joint is not None:
            tracer.joint = found = joint.trace_backward(tracer, out_leaves)
        outputs: list[Any] = []
        out_kinds = []
        for leaf in out_leaves:
            if isinstance(leaf, Tensor):
                outputs.append(tracer.var_of(leaf))
                out_kinds.append("tensor")
            else:
                _check_output(op, name, leaf)
                outputs.append(Const(leaf))
                out_kinds.append("static")
        if joint is not None:  # the gradients: outputs after f's own
            outputs += [Const(None) if g is None else g for g in found["grads"]]
    finally:
        tracing.pop(previous)
    inputs_by_id = {id(t): k for k, t in enumerate(tracer.input_tensors) if t is not None}
    wanted = {id(t): t for _, t in tracer.captured if id(t) not in tracer.born_ids}
    for t in [*tracer.grad_targets.values(), *(c[0] for c in tracer.state_checks)]:
        if id(t) not in tracer.born_ids and id(t) not in inputs_by_id:
            wanted[id(t)] = t
    if wanted:
        tracer.paths = find_paths(f, tuple(args), wanted)
        for key, t in wanted.items():
            if key not in tracer.paths:
                what = f"a tensor of shape {t.shape}" if isinstance(t, Tensor) else f"a {type(t).__name__}"
                tracer.impure(f"{what} reached in a way jit cannot look up again at every call (pass "
                              f"it as an argument, or keep it in a closure, a global, a module or an "
                              f"optimizer)")
    if any(isinstance(leaf, Tensor) and leaf._tangents is not None for leaf in out_leaves):
        tracer.impure("results that carry tangents (jvp or jacfwd of tensors it reads from outside)")
    if op == "jit" and any(isinstance(leaf, Tensor) and leaf._requires_grad and joint is None and k not in freed_outputs
                           for k, leaf in enumerate(out_leaves)):
        tracer.impure(CARRIES_GRAPH)  # (cr.graph: a graph of the values, recording nothing when run)
    if any(t._grad is not None and t._grad._requires_grad for t in tracer.grad_targets.values()):
        tracer.impure("gradients that carry a graph (backward(create_graph=True) into .grad)")
    if tracer.impurities:
        return result, None, tracer.impurities

    def locate(t: Tensor) -> tuple:
        k = inputs_by_id.get(id(t))
        return ("input", k) if k is not None else ("path", tracer.paths[id(t)])

    grads = []  # (locator, value): .grad of a caller's tensor replaced by a new tensor (or None)
    for t in tracer.grad_targets.values():
        if id(t) in tracer.born_ids:
            continue
        final = t._grad
        value = None if final is None else tracer.operand(final)
        if final is not None and any(final is c for _, c in tracer.captured):
            continue  # the gradient it had, accumulated in place: written back
        grads.append((locate(t), value))
    tracer.grad_outputs = grads
    tracer.state_locators = [(locate(t), fn, value, what) for t, fn, value, what in tracer.state_checks]
    _name_inputs(tracer, f, leaves, kinds, len(args) if not kwargs else -1)
    if joint is not None:
        graph: Graph = joint(name, tracer, in_def, kinds, outputs, out_def, optimised)
    else:
        graph = Graph(name, tracer, in_def, kinds, outputs, out_def, optimised)
    graph.out_kinds = out_kinds
    graph.freed = freed_outputs
    graph.f = f
    graph.statics = {i: leaf for i, (leaf, kind) in enumerate(zip(leaves, kinds)) if kind == "static"}
    graph.single = len(outputs) == 1 and out_kinds == ["tensor"] and out_def.num_leaves == 1 and _is_leaf_def(out_def)
    if joint is None and not kwargs and all(k == "tensor" for k in kinds):
        flat = flat_signature(args)
        graph.flat_key = None if flat is None else flat[0]
    return result, graph, []


def flat_signature(args: tuple) -> tuple[tuple, list[Any]] | None:
    """``(key, arrays)`` of a call whose arguments are tensors of NumPy data and tuples or lists
    of them (none requiring grad or carrying tangents): the key holds each tensor's shape and
    dtype and each container's type and length, the arrays are the tensors' data in order;
    None for any other call (``cr.jit``'s fast path)."""
    key: list[Any] = []
    datas: list[Any] = []
    for a in args:
        if type(a) is tuple or type(a) is list:
            key.append((type(a), len(a)))
            items = a
        else:
            items = (a,)
        for t in items:
            if not isinstance(t, Tensor) or t._requires_grad or t._tangents is not None:
                return None
            d = t._data
            if type(d) is not np.ndarray and not isinstance(d, np.generic):
                return None
            datas.append(d)
            key.append((d.shape, d.dtype))
    return tuple(key), datas


class _Slot:
    def __init__(self, index: int) -> None:
        self.index = index


def _builder(out_def: Any, kinds: list[str], copies: list[bool]) -> Callable[[tuple], Any]:
    """A function building the traced function's result structure from the generated code's
    results (tuples, lists and dicts written out; other containers through tree_unflatten)."""
    template = tree_unflatten(out_def, [_Slot(i) for i in range(len(kinds))])

    def code(node: Any) -> str | None:
        if isinstance(node, _Slot):
            i = node.index
            value = f"r[{i}].copy()" if copies[i] else f"r[{i}]"
            return f"T({value})" if kinds[i] == "tensor" else value
        if node is None:
            return "None"
        if type(node) in (tuple, list):
            parts = [code(v) for v in node]
            if None in parts:
                return None
            inner = ", ".join(parts)  # type: ignore[arg-type]
            return f"({inner}{',' if len(parts) == 1 else ''})" if type(node) is tuple else f"[{inner}]"
        if type(node) is dict and all(type(k) is str for k in node):
            parts = [code(v) for v in node.values()]
            if None in parts:
                return None
            return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(node, parts)) + "}"
        return None

    body = code(template)
    if body is None:
        def slow(results: tuple) -> Any:
            leaves = [r.copy() if c else r for r, c in zip(results, copies)]
            return tree_unflatten(out_def, [Tensor._wrap(v) if k == "tensor" else v for v, k in zip(leaves, kinds)])
        return slow
    return eval(f"lambda r: {body}", {"T": Tensor._wrap})  # noqa: S307


def _is_leaf_def(treedef: Any) -> bool:
    """Whether a tree definition is a single leaf (the function returned one tensor)."""
    return tree_unflatten(treedef, [0]) == 0


def _check_output(op: str, name: str, leaf: Any) -> None:
    """Results are tensors, arrays and numbers (in pytrees), as JAX's jit requires."""
    numeric = isinstance(leaf, (bool, int, float, complex, np.bool_, np.number)) or (
        isinstance(leaf, np.ndarray) and leaf.dtype.kind in "biufc")
    if not numeric:
        raise TypeError(f"{op}: {name} returned a {type(leaf).__name__} ({leaf!r:.40}) among its results; a "
                        f"compiled function returns tensors, arrays and numbers (in tuples, lists and dicts)")


def _name_inputs(tracer: Tracer, f: Callable[..., Any], leaves: list[Any], kinds: list[str], n_args: int) -> None:
    """Input names from ``f``'s parameters where each argument is one tensor, else ``x1, x2...``."""
    import inspect

    try:
        names = [p.name for p in inspect.signature(f).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    inputs = iter(tracer.inputs)
    for i, kind in enumerate(kinds):
        if kind in ("tensor", "array"):
            var = next(inputs)
            var.name = names[i] if i < len(names) and len(leaves) == n_args else f"x{i + 1}"
    for k, (var, _) in enumerate(tracer.captured):
        var.name = f"c{k + 1}"


def graph(f: Callable[..., Any], *example_args: Any) -> Graph:
    """The graph of ``f`` traced at ``example_args`` (see the module doc); raises if ``f`` does
    something a graph cannot hold (an in-place change of a tensor, random numbers)."""
    if not callable(f):
        raise TypeError(f"graph: expected a function, got {type(f).__name__}")
    _, g, impurities = trace(f, example_args, {}, getattr(f, "__name__", "f"), op="graph")
    if g is None:
        raise ImpureError(f"graph: {getattr(f, '__name__', 'f')} does what a graph cannot hold: "
                          f"{'; '.join(impurities)}; cr.jit runs such functions eagerly")
    return g
