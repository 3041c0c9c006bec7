"""A jitted call on tensors that require grad: one node of the caller's graph.

``cr.jit(f)(x)`` with ``x.requires_grad`` (or ``f`` reading a parameter that requires grad)
returns results whose ``grad_fn`` is one ``CompiledFunctionBackward`` node, as PyTorch's
``torch.compile`` does (AOTAutograd). The trace runs ``f`` on fresh leaves in place of those
arguments, then traces the backward pass of its results with their cotangents as further
inputs: one *joint* graph of ``f`` and its vector-Jacobian product. It is split in two:

- the **forward** code computes ``f``'s results and the *residuals*, the values the backward
  code reads (the joint graph's values that do not depend on a cotangent);
- the **backward** code computes the gradients from the residuals and the cotangents.

The call runs the forward code and records the node; ``backward()`` runs the backward code.
``backward(create_graph=True)`` (a derivative of the derivative) runs ``f``'s vector-Jacobian
product eagerly instead, recording its graph. In-place changes of the saved inputs between the
call and ``backward()`` raise, as for PyTorch's saved tensors. Example::

    >>> w = cr.randn(3, requires_grad=True)
    >>> loss = cr.jit(lambda x: ((x @ w).tanh() ** 2).sum())(cr.ones(4, 3))
    >>> loss.grad_fn
    <CompiledFunctionBackward>
    >>> loss.backward()                       # the backward code: w.grad
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..core.creation import _rng
from ..core.modes import enable_grad, state
from ..core.tensor import Tensor, version_counter
from . import codegen
from .graph import MISMATCH, NEEDS_GRAPH, Graph, _identifier
from .ir import Const, GuardMiss, Var
from .passes import dead_code
from .trace import Tracer

NAME = "CompiledFunction"


class JointGraph(Graph):
    """The graph of ``f`` and its vector-Jacobian product, run as forward and backward code."""

    # --- tracing (called by graph.trace) ------------------------------------------------------
    @staticmethod
    def leaves_for_trace(leaves: list[Any], statics: frozenset) -> list[Any]:
        """The arguments' leaves with each tensor that requires grad replaced by a fresh leaf
        on the same array (the same replacement for the same tensor twice): the traced backward
        pass ends there, so the node's gradients are those of ``f`` alone."""
        fresh: dict[int, Tensor] = {}
        out = []
        for i, leaf in enumerate(leaves):
            if i not in statics and isinstance(leaf, Tensor) and leaf._requires_grad:
                handle = fresh.get(id(leaf))
                if handle is None:
                    handle = Tensor._wrap(leaf._data)
                    handle._requires_grad = True
                    fresh[id(leaf)] = handle
                leaf = handle
            out.append(leaf)
        return out

    @staticmethod
    def trace_backward(tracer: Tracer, out_leaves: list[Any]) -> dict[str, Any]:
        """Trace the backward pass of ``f``'s results that require grad, each cotangent a new
        input of the trace: ``{"diff": positions of those results, "cots": their Vars,
        "targets": the Vars differentiated (inputs, then captured tensors), "grads": the
        gradients (Var, Const or None each)}``."""
        from ..autograd.core import grad as autograd_grad

        diff = [k for k, leaf in enumerate(out_leaves) if isinstance(leaf, Tensor) and leaf._requires_grad]
        targets: list[Tensor] = []
        target_vars: list[Var] = []
        for var, t in zip(tracer.inputs, tracer.input_tensors):
            if t is not None and t._requires_grad:
                targets.append(t)
                target_vars.append(var)
        for var, t in tracer.captured:
            if t._requires_grad and id(t) not in tracer.born_ids:
                if t._node is not None:
                    tracer.impure("a tensor it reads from outside (a closure) that requires grad and is not a "
                                  "leaf (its gradient would flow through the history before the call twice)")
                targets.append(t)
                target_vars.append(var)
        cots = []
        cot_vars = []
        for k in diff:
            cot = Tensor._wrap(np.ones_like(out_leaves[k]._data))
            cots.append(cot)
            cot_vars.append(tracer.add_input(cot))
            cot_vars[-1].name = f"ct{len(cot_vars)}"
        grads: list[Any] = [None] * len(targets)
        eager = False
        if diff and targets and not tracer.impurities:
            try:
                found = autograd_grad([out_leaves[k] for k in diff], targets, grad_outputs=cots, allow_unused=True)
            except Exception:  # noqa: BLE001 - a rule refusing these cotangents (a phase-dependent loss)
                eager = True  # the node's backward runs f's eagerly: errors come from backward(), as in eager mode
            else:
                grads = [None if g is None else tracer.operand(g) for g in found]
        return {"diff": diff, "cots": cot_vars, "targets": target_vars, "grads": grads, "eager": eager}

    # --- code generation (called by Graph.__init__) -------------------------------------------
    def _generate(self, hidden: list[Any]) -> None:
        """The forward and the backward code (``self.fn`` is the forward code)."""
        self.n_primal = len(self.outputs) - len(self.joint["grads"])
        primal, grads = self.outputs[:self.n_primal], self.outputs[self.n_primal:]
        self.outputs = primal
        self.n_out = len(primal)
        cots = self.joint["cots"]
        self.inputs = self.inputs[:len(self.inputs) - len(cots)]
        back = {v.index for v in cots}
        forward_eqs, backward_eqs = [], []
        for eq in self.equations:
            if any(v.index in back for v in eq.uses()):
                backward_eqs.append(eq)
                back.add(eq.out.index)
            else:
                forward_eqs.append(eq)
        # decisions on values of the backward pass are checked by the backward code: when one
        # differs (or the traced backward pass failed), backward() runs f's eagerly instead
        back_guards = [g for g in self.guards if g.var.index in back]
        self.guards = [g for g in self.guards if g.var.index not in back]
        self.eager_backward = bool(self.joint.get("eager"))
        if self.eager_backward:
            backward_eqs, grads, back_guards = [], [Const(None)] * len(grads), []
        draws = any(getattr(eq.prim, "draws", False) for eq in self.equations)
        self.splittable = not (draws and (back_guards or self.eager_backward))  # f's draws cannot be repeated
        defined = set(back)
        residuals: list[Var] = []
        seen: set[int] = set()
        for item in [v for eq in backward_eqs for v in eq.uses()] + [g for g in grads if isinstance(g, Var)]:
            if item.index not in defined and item.index not in seen:
                seen.add(item.index)
                residuals.append(item)
        self.n_residuals = len(residuals)
        forward_eqs = dead_code(forward_eqs, self.guards, primal + residuals)
        name = _identifier(self.name)
        captured = [v for v, _ in self.captured]
        fsource, fglobals = codegen.generate(f"{name}_forward", self.inputs, captured, forward_eqs, self.guards,
                                             primal + residuals)
        self.fn = codegen.build(fsource, fglobals, f"{name}_forward")
        for k, var in enumerate(residuals):
            var.name = f"r{k + 1}"  # as the backward code calls them
        # a gradient that is a constant (zero, None) or a residual comes out of the backward code as it is
        bsource, bglobals = codegen.generate(f"{name}_backward", residuals, cots, backward_eqs, back_guards,
                                             [Const(None) if g is None else g for g in grads])
        self.backward_fn = codegen.build(bsource, bglobals, f"{name}_backward")
        self.joint_source = f"{fsource}\n{bsource}"
        self.equations = forward_eqs + backward_eqs
        # which inputs of the node (arguments' tensors, then captured tensors) get a gradient
        slot = {v.index: k for k, v in enumerate(self.joint["targets"])}
        self.input_slots = [slot.get(v.index) for v in self.inputs]
        self.captured_slots = [slot.get(v.index) for v, _ in self.captured]
        self.node_class: Any = None  # made at the first call (the result kinds are known then)

    joint: dict[str, Any] = {}
    splittable = True
    joint_source = ""
    eager_backward = False

    @property
    def source(self) -> str:
        """The generated forward and backward code."""
        return self.joint_source

    def __init__(self, name: str, tracer: Tracer, *rest: Any) -> None:
        self.joint = tracer.joint or {}
        super().__init__(name, tracer, *rest)

    def unsplittable(self) -> list[str]:
        """Why the call cannot run as forward and backward code (then ``f`` runs eagerly)."""
        why = []
        if self.writes:
            why.append("in-place changes of tensors while recording a graph")
        if self.grad_sets or self.effects:
            why.append("backward() into .grad or optimizer state changed while recording a graph")
        if not self.splittable:
            why.append("a decision on a value of the backward pass")
        return why

    # --- running ----------------------------------------------------------------------------
    def call(self, f: Any, args: tuple, kwargs: dict, leaves: list[Any]) -> Any:
        """The results of ``f(*args, **kwargs)`` through one node (``MISMATCH`` or ``NEEDS_GRAPH``
        when this graph is not the one for the call; ``GuardMiss`` when a decision differs)."""
        arrays = self.arrays_of(leaves)
        if arrays is None:
            return MISMATCH
        tensors = list(self.last_tensors)
        captured = self.current(f, args)
        if captured is MISMATCH or captured is NEEDS_GRAPH:
            return captured
        for t, slot in zip(tensors, self.input_slots):
            if isinstance(t, Tensor) and t._requires_grad is not (slot is not None):
                return MISMATCH  # traced with the other flag
        node_inputs = [*tensors, *captured]
        if self.node_class is None:
            self.node_class = _node_class(self)
        outs = self.node_class.apply(*node_inputs, _Call(f, args, kwargs))
        outs = outs if isinstance(outs, tuple) else (outs,)
        values = iter(outs)
        leaves_out = [next(values) if k == "tensor" else spec.value
                      for spec, k in zip(self.outputs, self.out_kinds)]
        from ..transforms.pytree import tree_unflatten

        return tree_unflatten(self.out_def, leaves_out)


class _Call:
    """The call's arguments, kept for ``backward(create_graph=True)`` (not a tensor input)."""

    def __init__(self, f: Any, args: tuple, kwargs: dict) -> None:
        self.f, self.args, self.kwargs = f, args, kwargs


def _node_class(graph: JointGraph) -> type:
    """A ``Function`` whose forward runs the forward code and whose backward the backward code."""
    n_in = len(graph.inputs)
    diff = set(graph.joint["diff"])
    tensor_positions = [k for k, kind in enumerate(graph.out_kinds) if kind == "tensor"]
    copies = [isinstance(graph.outputs[k], Const) for k in tensor_positions]

    def forward(ctx: Any, *inputs: Any) -> Any:  # (a FunctionCtx, holding this call's values)
        *tensors, call = inputs
        arrays = [t._data if isinstance(t, Tensor) else t for t in tensors[:n_in]]
        arrays += graph.captured_arrays(list(tensors[n_in:]))
        values = graph.fn(*arrays)
        ctx.residuals = values[graph.n_primal:]
        ctx.call = call
        ctx.tensors = tensors
        ctx.versions = [version_counter(t)[0] if isinstance(t, Tensor) else None for t in tensors]
        outs = []
        for k, copy in zip(tensor_positions, copies):
            value = values[k]
            out = Tensor._wrap(np.array(value, copy=True) if copy else value)
            if k not in diff:
                ctx.mark_non_differentiable(out)
            outs.append(out)
        return tuple(outs) if len(outs) != 1 else outs[0]

    def backward(ctx: Any, *cotangents: Any) -> Any:
        tensors = ctx.tensors
        for k, (t, version) in enumerate(zip(tensors, ctx.versions)):
            if version is not None and version_counter(t)[0] != version:
                what = f"argument tensor {k + 1}" if k < n_in else "a tensor it read from outside"
                raise RuntimeError(
                    f"jit({graph.name}): {what} (shape {t._data.shape}) was changed in place after the "
                    f"compiled call and before backward(): the gradient would be of other values; clone "
                    f"it before changing it, or call backward() first (as for PyTorch's saved tensors)")
        slots = graph.input_slots + graph.captured_slots
        grads: Any = None
        if state.grad_enabled:  # create_graph: the gradients must carry their own graph
            grads = _eager_vjp(graph, ctx.call, tensors, cotangents, tensor_positions)
        elif not graph.eager_backward:
            cots = [c._data for k, c in zip(tensor_positions, cotangents) if k in diff]
            try:
                grads = [None if g is None else Tensor._wrap(g) for g in graph.backward_fn(*ctx.residuals, *cots)]
            except GuardMiss:  # a decision of the backward pass differs: f's, eagerly
                grads = None
        if grads is None:
            with enable_grad():  # f records its graph again, for this backward pass only
                found = _eager_vjp(graph, ctx.call, tensors, cotangents, tensor_positions, False)
            grads = [None if g is None else g.detach() for g in found]
        return (*(None if s is None else grads[s] for s in slots), None)

    return type(NAME, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward),
                                    "_allows_conversions": False})


def _eager_vjp(graph: JointGraph, call: _Call, tensors: tuple, cotangents: tuple,
               positions: list[int], create_graph: bool = True) -> list[Any]:
    """The node's gradients as tensors with a graph: ``f`` run again eagerly on handles of its
    inputs (``backward(create_graph=True)``; without ``create_graph``: a backward pass whose
    decisions differ from the traced one's)."""
    from ..autograd.core import grad as autograd_grad
    from ..ops.shape import alias
    from ..transforms.pytree import tree_flatten, tree_unflatten

    if any(getattr(eq.prim, "draws", False) for eq in graph.equations):
        raise RuntimeError(f"jit: backward(create_graph=True) through a compiled call of {graph.name}, which "
                           f"draws random numbers: its derivative cannot be recorded without drawing them "
                           f"again; call {graph.name} without cr.jit to differentiate it twice")
    leaves, in_def = tree_flatten([list(call.args), call.kwargs])
    handles: dict[int, Tensor] = {}
    new_leaves = []
    for leaf in leaves:
        if isinstance(leaf, Tensor) and leaf._requires_grad:
            if id(leaf) not in handles:
                handles[id(leaf)] = alias(leaf)
            leaf = handles[id(leaf)]
        new_leaves.append(leaf)
    args, kwargs = tree_unflatten(in_def, new_leaves)
    with enable_grad():
        out_leaves, _ = tree_flatten(call.f(*args, **kwargs))
        n_in = len(graph.inputs)
        targets = [handles[id(t)] if k < n_in else t for k, t in enumerate(tensors)
                   if (graph.input_slots + graph.captured_slots)[k] is not None]
        diff = graph.joint["diff"]
        outs = [out_leaves[k] for k in diff]
        cots = [c for k, c in zip(positions, cotangents) if k in diff]
        return list(autograd_grad(outs, targets, grad_outputs=cots, create_graph=create_graph, allow_unused=True))


def rng_state() -> tuple[Any, Any]:
    """The random generator and its state (restored after a trace: the compiled call then draws
    what the eager call would have)."""
    return _rng[0], _rng[0].bit_generator.state


def restore_rng(saved: tuple[Any, Any]) -> None:
    _rng[0] = saved[0]
    saved[0].bit_generator.state = saved[1]

