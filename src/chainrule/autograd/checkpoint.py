"""``checkpoint``: run a function without keeping its intermediates; the backward pass runs it
again (PyTorch's ``torch.utils.checkpoint``), built on ``autograd.Function``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import backend as B
from ..core import engine
from ..core.dtypes import unsupported
from ..core.modes import enable_grad, state
from ..core.tensor import Tensor
from ..transforms.arguments import (
    _check_callable,
    _describe,
    _other_leaves,
    _outputs,
    _reverse_input,
)
from ..transforms.forward import (
    is_internal,
    local,
    open_marks,
)
from ..transforms.trees import Flat
from .function import Function

if TYPE_CHECKING:
    from .._typing import TensorLike


class _Checkpoint(Function):
    _allows_conversions = False  # fn is the user's code, differentiated by recomputation

    @staticmethod
    def forward(ctx, fn, done, *args):
        ctx.fn = fn
        ctx.args = args
        if done is None:
            out = fn(*args)
        else:  # computed already (inside a transform): only its values are kept
            out, done.value = done.value, None
        outputs, single = _outputs("checkpoint", out)
        return outputs[0] if single else tuple(outputs)

    @staticmethod
    def backward(ctx, *grad_outputs):
        create = state.grad_enabled  # backward(create_graph=True): gradients stay differentiable
        # Under an open forward level the cotangents may carry tangents: keep them as tensors.
        traced = create or bool(state.forward_levels)
        if create:
            handles = [_reverse_input("checkpoint", a) if _differentiable(a) else a for a in ctx.args]
        else:
            handles = [_reverse_input("checkpoint", a.detach()) if _differentiable(a) else a for a in ctx.args]
        with enable_grad():
            out = ctx.fn(*handles)
        outputs, _ = _outputs("checkpoint", out)
        roots, cots = [], []
        for o, g in zip(outputs, grad_outputs):
            if g is not None and o._requires_grad:
                roots.append(o)
                cots.append(g if traced else g._data)
        inputs = [h for h in handles if isinstance(h, Tensor) and h._requires_grad]
        grads = {}
        if roots:
            # Only paths to the inputs and to the leaves fn closes over (parameters) are walked,
            # and nothing is freed: the graphs fn reaches beyond its own are not its to consume.
            closure = list({id(leaf): leaf for leaf in _other_leaves(outputs, inputs)}.values())
            found = engine.compute_gradients(roots, cots, inputs + closure, retain_graph=True,
                                             create_graph=create, accumulate=False)
            for leaf in closure:  # their .grad, as PyTorch's (reentrant) checkpoint does
                g = found.get(id(leaf))
                if g is not None:
                    engine._accumulate_into(leaf, g, isinstance(g, Tensor))
            grads = {id(h): found.get(id(h)) for h in inputs}
        return (None, None) + tuple(grads.get(id(h)) if isinstance(h, Tensor) else None for h in handles)


class _Done:
    """The outputs of a run of a checkpointed function, handed to its ``forward``."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _differentiable(a: object) -> bool:
    return isinstance(a, Tensor) and B.kind(a._data.dtype) == "f"


def _only_through(outputs: Sequence[Tensor], args: Sequence[Any]) -> bool:
    """Whether every path of history from ``outputs`` ends in one of ``args`` (or in a constant:
    the input leaf of a transform that has returned), i.e. the function closes over nothing that
    an open transform or the caller differentiates."""
    stop = {id(a._node) if a._node is not None else id(a) for a in args if isinstance(a, Tensor)}
    marks = open_marks()
    seen: set[int] = set()
    stack: list[Any] = []
    for o in outputs:
        if not o._requires_grad:
            continue
        key = id(o._node) if o._node is not None else id(o)
        if key in stop:
            continue
        if o._node is None:
            return False
        stack.append(o._node)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if id(node) in marks:
            return False
        for parent in node.edges:
            if parent is None or id(parent) in stop:
                continue
            if parent._leaf:
                if id(parent) in marks or not is_internal(parent):
                    return False
            else:
                stack.append(parent)
    return True


_NUMBERS = (bool, int, float, np.bool_, np.integer, np.floating)


def _checkpoint_arguments(args: Sequence[Any]) -> None:
    """Refuse leaves that are not tensors, NumPy arrays of numbers or numbers: ``fn`` is
    differentiated with respect to its tensor leaves only, so anything else would be garbage."""
    for i, a in enumerate(args):
        if isinstance(a, (Tensor, _NUMBERS)):
            continue
        if isinstance(a, (np.ndarray, np.generic)):
            why = unsupported(a.dtype)
            if why is None:
                continue
            what = f"a NumPy array of dtype {a.dtype} ({why})"
        else:
            what = _describe(a)
        raise TypeError(f"checkpoint: leaf {i} of the arguments is {what}; checkpoint(fn, *args) takes "
                        f"pytrees of tensors, NumPy arrays and numbers (give fn anything else through a "
                        f"closure)")


def checkpoint(fn: Callable[..., Any], *args: TensorLike) -> Any:
    """``fn(*args)`` without keeping its intermediates: they are recomputed during backward.

    ``args`` are pytrees (tuples, lists, dicts) of tensors, NumPy arrays or numbers, and ``fn``
    returns a pytree of tensors. Gradients (also into parameters ``fn`` closes over) equal those without
    checkpointing, to any order. Under forward mode there is nothing to save, so ``fn`` simply
    runs; inside a reverse transform, a ``fn`` that closes over tensors being differentiated
    (rather than receiving them as arguments) also simply runs, so their gradients stay exact.
    """
    _check_callable("checkpoint", fn, "fn")
    flat = Flat("checkpoint", fn, args, range(len(args)))
    _checkpoint_arguments(flat.flat_args)
    return flat.output(_checkpoint(flat, flat.flat_args))


def _checkpoint(fn: Callable[..., Any], args: Sequence[Any]) -> Any:
    if state.forward_levels or state.vmap_levels or not state.grad_enabled or not local.reverse and not any(
            isinstance(a, Tensor) and a._requires_grad for a in args):
        out = fn(*args)
        _outputs("checkpoint", out)
        return out
    if local.reverse:
        # Inside a reverse transform: run fn recording, and keep only its inputs if nothing else
        # it used needs a gradient (then the recorded intermediates are dropped here).
        out = fn(*args)
        outputs, _ = _outputs("checkpoint", out)
        if not any(isinstance(a, Tensor) and a._requires_grad for a in args) or not _only_through(outputs, args):
            return out
        return _Checkpoint.apply(fn, _Done(out), *args)
    return _Checkpoint.apply(fn, None, *args)
