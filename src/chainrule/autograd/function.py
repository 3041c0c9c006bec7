"""Custom operations: subclass ``Function`` with ``forward``, ``backward`` and optionally ``jvp``."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..core import dispatch as P
from ..core import graph
from ..core.modes import state
from ..core.tensor import Tensor, version_counter
from ..ops._define import _vmap_level
from ..transforms.forward import local as _conversions


class FunctionCtx:
    """The ``ctx`` handed to ``forward``, ``backward`` and ``jvp``."""

    def __init__(self, name: str, needs_input_grad: tuple[bool, ...]) -> None:
        self._name = name
        self.needs_input_grad = needs_input_grad
        self._saved: tuple[Tensor | None, ...] = ()
        self._versions: tuple[int | None, ...] = ()
        self._non_differentiable: set[int] = set()
        self.materialize_grads = True

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep these tensors (or None) for ``backward``; in-place changes to them are detected."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"{self._name}.save_for_backward: can only save tensors or None, got "
                    f"{type(t).__name__}; store other values as attributes of ctx"
                )
        self._saved = tensors
        self._versions = tuple(None if t is None else version_counter(t)[0] for t in tensors)

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The tensors (or None) given to ``save_for_backward``, in order."""
        for i, (t, v) in enumerate(zip(self._saved, self._versions)):
            if t is not None and version_counter(t)[0] != v:
                raise RuntimeError(
                    f"{self._name}: saved tensor {i} (shape {t._data.shape}) was modified by an "
                    f"in-place operation after save_for_backward; clone it before modifying it."
                )
        return self._saved

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Outputs among ``tensors`` get no gradient (e.g. indices); ``backward`` receives none for them."""
        self._non_differentiable.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)


class _Cotangents(list):
    """Cotangents of a multi-output Function, one slot per output (None = zero)."""

    def __add__(self, other):
        return _Cotangents(a if b is None else b if a is None else a + b for a, b in zip(self, other))

    def __iadd__(self, other):
        for i, b in enumerate(other):
            if b is not None:
                self[i] = b if self[i] is None else self[i] + b
        return self


def _conj(t: Tensor, traced: bool) -> Tensor:
    """The complex conjugate of a cotangent: recorded when the backward pass is (create_graph)."""
    return t.conj() if traced else Tensor._wrap(np.conj(t._data))


def _select_vjp(m, g, ans, parent, index, count):
    slots = _Cotangents([None] * count)
    slots[index] = g
    return slots


def _function_vjp(cls):
    def one(traced, g, needs, ctx, shapes):
        grads = list(g) if isinstance(g, _Cotangents) else [g]
        wrapped = []
        for cot, (shape, dtype) in zip(grads, shapes):
            if cot is None:
                cot = np.zeros(shape, dtype=dtype) if ctx.materialize_grads else None
            if cot is not None and not isinstance(cot, Tensor):
                cot = Tensor._wrap(np.asarray(cot))
            if cot is not None and np.iscomplexobj(cot._data):
                cot = _conj(cot, traced)  # PyTorch's convention for the user's backward (engine.py's doc)
            wrapped.append(cot)
        result = cls.backward(ctx, *wrapped)
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) < len(needs):
            raise RuntimeError(
                f"{cls.__name__}.backward returned {len(result)} gradient(s) but forward took "
                f"{len(needs)} input(s); return one per input (None for non-tensor inputs)"
            )
        out: list[Tensor | np.ndarray | None] = []
        for i, need in enumerate(needs):
            r = result[i]
            if not need or r is None:
                out.append(None)
                continue
            if not isinstance(r, Tensor):
                r = Tensor._wrap(np.asarray(r))
            if np.iscomplexobj(r._data):
                r = _conj(r, traced)  # back to the walk's convention
            out.append(r if traced else r._data)
        return out

    def vjp(m, g, ans, needs, *inputs, ctx, shapes):
        if not hasattr(m, "size"):
            return one(m is P.traced, g, needs, ctx, shapes)
        # A batch of cotangents (Jacobians): the user's backward sees one cotangent at a time.
        per_example = []
        for b in range(m.size):
            if isinstance(g, _Cotangents):
                gb = _Cotangents(None if c is None else c.value[b] for c in g)
            else:
                gb = g.value[b]
            per_example.append(one(m.base is P.traced, gb, needs, ctx, shapes))
        return [_stack_batch(m, [p[i] for p in per_example]) for i in range(len(needs))]

    return vjp


def _stack_batch(m, parts):
    """One batched value from per-example values (``None`` entries are zeros)."""
    if all(p is None for p in parts):
        return None
    like = next(p for p in parts if p is not None)
    base = m.base
    rows = []
    for p in parts:
        if p is None:
            p = np.zeros(np.shape(like._data if isinstance(like, Tensor) else like),
                         dtype=like.dtype)
        shape = np.shape(p._data if isinstance(p, Tensor) else p)
        rows.append(base.reshape(p, shape=(1,) + tuple(shape)))
    return m.wrap(base.cat(*rows, dim=0))


class Function:
    """Base class of custom differentiable operations, used as ``MyOp.apply(*args)``.

    ``forward(ctx, *args)`` computes the outputs from tensors (nothing inside is recorded);
    ``backward(ctx, *grad_outputs)`` returns one gradient per input; ``jvp(ctx, *tangents)``,
    if defined, gives forward mode.
    """

    _allows_conversions = True
    _primitive_: ClassVar[P.Primitive]  # made on first use, per subclass (see _prim)

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Function subclasses must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("Function subclasses must define backward(ctx, *grad_outputs)")

    @classmethod
    def _prim(cls) -> P.Primitive:
        prim = cls.__dict__.get("_primitive_")
        if prim is None:
            prim = P.Primitive(cls.__name__, None, _function_vjp(cls), None, vjp_all=True,
                               save_inputs=False)
            prim.node_name = cls.__name__ + "Backward"
            cls._primitive_ = prim
        return prim

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run ``forward`` on ``args`` and record the call (when an input requires grad) so that
        ``backward`` (and ``jvp``, if defined) differentiate it; returns what ``forward`` returned,
        as tensors."""
        ns = _vmap_level(args)
        if ns is not None:  # inside cr.vmap: forward and backward are written for one example
            return ns.per_example(cls.apply, args, {})
        prim = cls._prim()
        needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        ctx = FunctionCtx(cls.__name__, needs)
        previous = state.grad_enabled
        state.grad_enabled = False
        if cls._allows_conversions:
            # forward computes the values; backward and jvp give the derivatives, so converting
            # its inputs to arrays (np.asarray(x), x.item()) drops nothing, even inside transforms.
            _conversions.suspended += 1
        try:
            outputs = cls.forward(ctx, *args)
        finally:
            state.grad_enabled = previous
            if cls._allows_conversions:
                _conversions.suspended -= 1
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        outs = tuple(o if isinstance(o, Tensor) else Tensor._wrap(np.asarray(o)) for o in outs)
        record = previous and any(needs)
        results: list[Tensor] = []
        if record:
            shapes = tuple((o._data.shape, o._data.dtype) for o in outs)
            node = _node(prim, args, {"ctx": ctx, "shapes": shapes})
            node.saved = node.saved_data = ()
            for i, o in enumerate(outs):
                if id(o) in ctx._non_differentiable or o._data.dtype.kind not in "fc":
                    results.append(_fresh(o))
                    continue
                target = node
                if not single:
                    parent = Tensor._from_node(o._data, node)
                    target = _node(_select_named(cls), (parent,), {"index": i, "count": len(outs)})
                results.append(Tensor._from_node(o._data, target))
        else:
            results = [_fresh(o) for o in outs]
        if state.forward_levels and any(isinstance(a, Tensor) and a._tangents for a in args):
            _push_function_tangents(cls, ctx, args, results)
        return results[0] if single else tuple(results)


def _node(prim, args, params):
    datas = [a._data if isinstance(a, Tensor) else a for a in args]
    return graph.record(prim, args, datas, params, None, None)


_select_prims: dict[type, P.Primitive] = {}


def _select_named(cls: type) -> P.Primitive:
    prim = _select_prims.get(cls)
    if prim is None:
        prim = P.Primitive("select_output", None, (_select_vjp,), None, save_inputs=False)
        prim.node_name = cls.__name__ + "Backward"
        _select_prims[cls] = prim
    return prim


def _fresh(t: Tensor) -> Tensor:
    out = Tensor._wrap(t._data)
    out._version = version_counter(t)
    return out


def _push_function_tangents(cls, ctx, args, results) -> None:
    if not hasattr(cls, "jvp"):
        raise NotImplementedError(
            f"{cls.__name__}: forward mode needs a jvp; define "
            f"@staticmethod jvp(ctx, *tangents) returning the output tangent(s)"
        )
    cap = state.forward_cap
    levels = sorted({lv for a in args if isinstance(a, Tensor) and a._tangents for lv in a._tangents
                     if lv in state.forward_levels and (cap is None or lv < cap)})
    grad_mode = state.grad_enabled
    for level in levels:
        tangents = [a._tangents.get(level) if isinstance(a, Tensor) and a._tangents else None for a in args]
        batch = next((t.ns for t in tangents if t is not None and hasattr(t, "ns")), None)
        state.forward_cap = level
        # As for the table's rules: the tangent is recorded only where its level asks for it.
        state.grad_enabled = grad_mode and P.RECORDED.get(level, True)
        try:
            if batch is None:
                outs = _call_jvp(cls, ctx, args, tangents)
            else:  # a batch of tangents (Jacobians): the user's jvp sees one at a time
                per_example = [
                    _call_jvp(cls, ctx, args, [t.value[b] if t is not None and hasattr(t, "ns") else t
                                               for t in tangents])
                    for b in range(batch.size)
                ]
                outs = tuple(_stack_batch(batch, [p[k] for p in per_example]) for k in range(len(results)))
        finally:
            state.forward_cap = cap
            state.grad_enabled = grad_mode
        for r, t in zip(results, outs):
            if t is None:
                continue
            if not isinstance(t, Tensor) and not hasattr(t, "ns"):
                t = Tensor._wrap(np.asarray(t))
            if r._tangents is None:
                r._tangents = {}
            r._tangents[level] = t


def _call_jvp(cls, ctx, args, tangents) -> tuple:
    filled = []
    for a, t in zip(args, tangents):
        if t is None and isinstance(a, Tensor):
            t = Tensor._wrap(np.zeros_like(a._data))
        filled.append(t)
    out = cls.jvp(ctx, *filled)
    return out if isinstance(out, tuple) else (out,)
