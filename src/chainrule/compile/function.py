"""``cr.function(inputs, outputs)``: the graph between placeholders and symbolic tensors, compiled.

The equations that the outputs need are collected backwards from them (``SymVar.eq``), checked
to start from the ``inputs`` only (a placeholder missing from them is named), copied into a
fresh ``cr.Graph`` (so one symbolic graph gives any number of functions), optimised and turned
into generated code by the same passes and generator as ``cr.jit``. Tensors with values that
the graph met are captured: read at every call. Example::

    >>> x, w = cr.placeholder((3,), name="x"), cr.placeholder((3,), name="w")
    >>> loss = ((x * w).sum() - 1) ** 2
    >>> step = cr.function([x, w], [loss, cr.autograd.grad(loss, w)[0]])
    >>> step([1.0, 2.0, 3.0], [0.1, 0.1, 0.1])     # [loss, dloss/dw]
    >>> print(step.source)                        # the generated code
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.tensor import Tensor
from ..transforms.pytree import tree_flatten, tree_unflatten
from .graph import Graph
from .ir import Const, Equation, Guard, GuardMiss, Var
from .placeholder import RECORDER, SymVar, _names
from .trace import Tracer


class Function:
    """The compiled callable ``cr.function`` returns: ``f(*values)`` gives the outputs (as
    tensors, in the structure they were given) for values of the placeholders (tensors, arrays,
    numbers or nested lists, of the placeholders' shapes; cast to their dtypes when NumPy casts
    them safely). ``f.graph`` is the ``cr.Graph``, ``f.source`` its generated code."""

    def __init__(self, graph: Graph, names: list[str], out_def: Any, copies: list[bool]) -> None:
        self.graph = graph
        self.names = names
        self.out_def = out_def
        self.copies = copies  # outputs that are an input's or a captured tensor's own array

    @property
    def source(self) -> str:
        """The generated Python source."""
        return self.graph.source

    def _arrays(self, args: tuple, kwargs: dict) -> list[Any]:
        inputs = self.graph.inputs
        if kwargs:
            unknown = [k for k in kwargs if k not in self.names[len(args):]]
            if unknown:
                raise TypeError(f"function: no placeholder named {unknown[0]!r} among the inputs not given by "
                                f"position ({', '.join(self.names[len(args):]) or 'none'})")
            missing = [n for n in self.names[len(args):] if n not in kwargs]
            if missing:
                raise TypeError(f"function: no value for the placeholder {missing[0]}")
            args = args + tuple(kwargs[n] for n in self.names[len(args):])
        if len(args) != len(inputs):
            raise TypeError(f"function: takes {len(inputs)} value{'s' if len(inputs) != 1 else ''} (for the "
                            f"placeholders {', '.join(self.names) or 'none'}), got {len(args)}")
        arrays = []
        for name, var, value in zip(self.names, inputs, args):
            if isinstance(value, Tensor):
                if RECORDER.symbolic(value) is not None:
                    raise TypeError(f"function: the value for {name} is itself symbolic; call the function "
                                    f"with values (or build the graph again from placeholders)")
                data = value._data
            else:
                data = value
            try:
                array = np.asarray(data)
            except Exception as exc:
                raise TypeError(f"function: the value for {name} is not an array ({type(value).__name__}: "
                                f"{exc})") from None
            dtype = np.dtype(var.dtype)
            if array.dtype != dtype:
                if array.dtype.kind == "O" or not np.can_cast(array.dtype, dtype, "same_kind"):
                    raise TypeError(f"function: the value for {name} has dtype {array.dtype}, the placeholder "
                                    f"{dtype} (cast it first)")
                array = array.astype(dtype)
            if array.shape != tuple(var.shape):
                raise ValueError(f"function: the value for {name} has shape {array.shape}, the placeholder "
                                 f"{tuple(var.shape)}")
            arrays.append(array)
        return arrays

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        arrays = self._arrays(args, kwargs)
        for var, t in self.graph.captured:
            if tuple(np.shape(t._data)) != tuple(var.shape) or np.dtype(t._data.dtype) != np.dtype(var.dtype):
                raise RuntimeError(f"function: a captured tensor (read at every call) was {var.dtype}"
                                   f"{list(var.shape)} when compiled and is {t._data.dtype}"
                                   f"{list(np.shape(t._data))} now; compile the function again")
        try:
            values = self.graph.run_leaves(arrays)
        except GuardMiss as miss:
            guard = self.graph.guards[miss.index]
            raise RuntimeError(f"function: a decision came out differently than when the graph was built: "
                               f"{guard.describe()} was {guard.value!r}; a compiled function has one branch "
                               f"(build the graph on an example that takes the other one, value=...)") from None
        owned = {id(a) for a in _chain(arrays + [t._data for _, t in self.graph.captured])}
        leaves = [Tensor._wrap(np.array(v, copy=True) if copy or _views(v, owned) else v)
                  for v, copy in zip(values, self.copies)]
        return tree_unflatten(self.out_def, leaves)

    def __repr__(self) -> str:
        return (f"<cr.function of {', '.join(self.names) or 'no inputs'}: {len(self.graph.equations)} "
                f"equations, {len(self.graph.captured)} captured>")


def _chain(arrays: list[Any]) -> list[Any]:
    """The arrays and the ones whose memory they view (NumPy links a view to the owner)."""
    found = []
    for a in arrays:
        while a is not None:
            found.append(a)
            a = getattr(a, "base", None)
    return found


def _views(value: Any, owned: set[int]) -> bool:
    """Whether ``value`` is a view of one of the arrays ``owned`` (the caller's, a captured one):
    results never share memory with them, nor with another call's results."""
    base = getattr(value, "base", None)
    while base is not None:
        if id(base) in owned:
            return True
        base = getattr(base, "base", None)
    return False


def _clone(item: Any, table: dict[int, Var]) -> Any:
    if isinstance(item, Var):
        return table[item.index]
    if type(item) is tuple:
        return tuple(_clone(v, table) for v in item)
    if type(item) is list:
        return [_clone(v, table) for v in item]
    if type(item) is slice:
        return slice(*(_clone(v, table) for v in (item.start, item.stop, item.step)))
    return item


def _identifier(name: str, k: int) -> str:
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    if not cleaned or cleaned[0].isdigit():
        cleaned = f"x{k + 1}_{cleaned}" if cleaned else f"x{k + 1}"
    return cleaned


def function(inputs: Sequence[Tensor], outputs: Any, name: str = "function") -> Function:
    """Compile the graph from the placeholders ``inputs`` to ``outputs`` (a symbolic tensor, or
    lists/tuples/dicts of them; tensors with values and numbers are constants, read at each
    call) into a callable (see the module doc)::

        >>> a, b = cr.placeholder(()), cr.placeholder(())
        >>> f = cr.function([a, b], [a * b + cr.sin(a)])
        >>> f(1.0, 2.0)        # [tensor(2.8415)]
    """
    if isinstance(inputs, Tensor) or not isinstance(inputs, (list, tuple)):
        raise TypeError(f"function: inputs must be a list of placeholders, got {type(inputs).__name__}"
                        + (" (wrap it in a list: [x])" if isinstance(inputs, Tensor) else ""))
    in_vars: list[SymVar] = []
    for i, t in enumerate(inputs):
        var = RECORDER.lookup(t) if isinstance(t, Tensor) else None
        if var is None or var.kind != "input":
            what = (f"a symbolic tensor computed from {_names(var.sources)}" if var is not None and var.sources else
                    "a tensor with values" if isinstance(t, Tensor) else type(t).__name__)
            raise TypeError(f"function: inputs[{i}] is not a placeholder ({what}); the inputs are the "
                            f"placeholders made by cr.placeholder that the outputs are computed from")
        if any(var is v for v in in_vars):
            raise ValueError(f"function: the placeholder {var.label} is given twice among the inputs")
        in_vars.append(var)
    leaves, out_def = tree_flatten(outputs)
    out_vars: list[Any] = []
    for k, leaf in enumerate(leaves):
        if isinstance(leaf, Tensor):
            var = RECORDER.lookup(leaf)
            out_vars.append(var if var is not None else RECORDER.capture(leaf))
        elif isinstance(leaf, (bool, int, float, complex, np.number, np.bool_, np.ndarray)):
            out_vars.append(Const(np.asarray(leaf)))
        else:
            raise TypeError(f"function: output {k} is a {type(leaf).__name__}; outputs are tensors (symbolic "
                            f"or not) and numbers, in lists, tuples and dicts")
    # The equations the outputs need, each once, in the order they were recorded (a topological one).
    needed: dict[int, SymVar] = {}
    stack = [v for v in out_vars if isinstance(v, SymVar)]
    while stack:
        var = stack.pop()
        if var.index in needed:
            continue
        needed[var.index] = var
        if var.eq is not None:
            stack.extend(u for u in var.eq.uses() if isinstance(u, SymVar) and u.index not in needed)
        for g in var.guards:
            if g.var.index not in needed:
                stack.append(g.var)
    allowed = {v.index for v in in_vars}
    missing = {v for v in needed.values() if v.kind == "input" and v.index not in allowed}
    if missing:
        raise ValueError(f"function: the outputs depend on the placeholder{'s' if len(missing) > 1 else ''} "
                         f"{_names(missing)}, not among the inputs ({_names(in_vars)}); add "
                         f"{'them' if len(missing) > 1 else 'it'} to the inputs")
    tracer = Tracer()
    table: dict[int, Var] = {}
    names = []
    for k, var in enumerate(in_vars):
        new = Var(len(table), var.shape, var.dtype, "input")
        new.name = _identifier(var.label, k)
        names.append(var.label)
        table[var.index] = new
        tracer.inputs.append(new)
    ordered = sorted(needed.values(), key=lambda v: v.index)
    for var in ordered:
        if var.kind == "captured":
            new = Var(len(table), var.shape, var.dtype, "captured")
            new.name = f"c{len(tracer.captured) + 1}"
            table[var.index] = new
            assert var.tensor is not None
            tracer.captured.append((new, var.tensor))
    guards: list[Guard] = []
    for var in ordered:
        if var.kind != "eq":
            continue
        assert var.eq is not None
        new = Var(len(table), var.shape, var.dtype, "eq")
        eq = var.eq
        tracer.equations.append(Equation(eq.prim, eq.impl, [_clone(o, table) for o in eq.operands],
                                         {key: _clone(v, table) for key, v in eq.params.items()}, new))
        table[var.index] = new
        guards.extend(var.guards)
    seen = set()
    for g in sorted(guards, key=lambda g: g.var.index):
        if id(g) not in seen:
            seen.add(id(g))
            target = table[g.var.index]
            tracer.guards.append(Guard(target, g.kind, g.value, g.where, target.index, g.fn, g.what))
    graph_outputs = [table[v.index] if isinstance(v, SymVar) else v for v in out_vars]
    in_def = tree_flatten([list(inputs), {}])[1]
    graph = Graph(name, tracer, in_def, ["tensor"] * len(in_vars), graph_outputs, out_def)
    graph.out_kinds = ["tensor"] * len(graph_outputs)
    copies = [isinstance(o, Var) and o.kind in ("input", "captured") for o in graph.outputs]
    return Function(graph, names, out_def, copies)
