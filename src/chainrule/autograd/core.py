"""``backward`` and ``grad``: the PyTorch entry points to ``engine.compute_gradients``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, overload

import numpy as np

from ..core import backend as B
from ..core import engine
from ..core.dtypes import check_operand
from ..core.engine import _REAL_SCALARS
from ..core.tensor import Tensor

if TYPE_CHECKING:
    from .._typing import TensorLike

Tensors: TypeAlias = "Tensor | Sequence[Tensor]"
Gradients: TypeAlias = "TensorLike | Sequence[TensorLike | None] | None"


def _as_list(value: object, what: str) -> list[Any]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise TypeError(f"{what} must be a tensor or a sequence of tensors, got {type(value).__name__}")


def _root_cotangents(op: str, outputs: list[Any], grad_outputs: Gradients, create_graph: bool) -> list[Any]:
    for out in outputs:
        if hasattr(getattr(out, "_data", None), "refuse_conversion"):
            raise RuntimeError(f"{op}: a batched tensor inside cr.vmap has no history of its own (the "
                               f"batch's computation is recorded as a whole); differentiate with "
                               f"cr.grad / cr.vjp inside the vmapped function, or call backward "
                               f"on vmap's result")
    given: list[Any]
    if grad_outputs is None:
        given = [None] * len(outputs)
    else:
        given = list(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
        if len(given) != len(outputs):
            raise RuntimeError(f"{op}: got {len(given)} gradients for {len(outputs)} outputs")
    cotangents: list[Tensor | np.ndarray] = []
    for i, (out, g) in enumerate(zip(outputs, given)):
        if not isinstance(out, Tensor):
            raise TypeError(f"{op}: output {i} is a {type(out).__name__}, not a tensor")
        if not out._requires_grad:
            raise RuntimeError(
                f"{op}: element {i} of the outputs does not require grad and has no grad_fn "
                f"(shape {out._data.shape}). Make sure an input was created with "
                f"requires_grad=True and that the computation did not run under no_grad()."
            )
        data = out._data
        if g is None:
            if data.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for outputs with one element; "
                    f"this output has shape {data.shape}. Pass a gradient of that shape, e.g. "
                    f"y.backward(cr.ones_like(y)), which computes the vector-Jacobian product."
                )
            if data.dtype.kind == "c":
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for real scalar outputs (this one "
                    f"is {data.dtype}, as in PyTorch); take a real part, e.g. y.real or y.abs()"
                )
            cotangents.append(np.ones(data.shape, dtype=data.dtype))
            continue
        if isinstance(g, Tensor):
            # A gradient carrying tangents of an open forward level (backward inside jvp) keeps
            # them, as one that requires grad keeps its history under create_graph.
            if (create_graph and g._requires_grad) or g._tangents is not None:
                if g._data.shape != data.shape:
                    raise _shape_error(op, g._data.shape, data.shape)
                cotangents.append(g)
                continue
            g = g._data
        g = np.asarray(check_operand(op, g, f"gradient {i}"))
        if g.shape != data.shape:
            raise _shape_error(op, g.shape, data.shape)
        cotangents.append(g.astype(data.dtype, copy=False))
    return cotangents


def _shape_error(op: str, got: tuple[int, ...], expected: tuple[int, ...]) -> RuntimeError:
    return RuntimeError(
        f"{op}: mismatch in shape: the gradient has shape {got} but the output has shape "
        f"{expected}; the gradient (the vector of the vector-Jacobian product) must match the output"
    )


def _targets(op: str, inputs: object) -> list[Tensor]:
    targets = _as_list(inputs, f"{op}: inputs")
    for i, t in enumerate(targets):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: input {i} is a {type(t).__name__}, not a tensor")
        if not t._requires_grad:
            raise RuntimeError(
                f"{op}: input {i} (shape {t._data.shape}) does not require grad; create it with "
                f"requires_grad=True or call .requires_grad_() before the computation"
            )
    return targets


def backward(tensors: Tensors, grad_tensors: Gradients = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Tensors | None = None) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves (or ``inputs``)."""
    outputs = _as_list(tensors, "backward: tensors")
    cotangents = _root_cotangents("backward", outputs, grad_tensors, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    targets = None if inputs is None else _targets("backward", inputs)
    engine.compute_gradients(outputs, cotangents, targets, retain_graph=retain_graph,
                             create_graph=create_graph, accumulate=True)


def tensor_backward(self: Tensor, gradient: TensorLike | None = None, retain_graph: bool | None = None,
                    create_graph: bool = False, inputs: Tensor | list[Tensor] | tuple[Tensor, ...] | None = None) -> None:
    """``Tensor.backward``: accumulate ∂self/∂leaf (times ``gradient``) into the ``.grad`` of the
    leaves (or of ``inputs``); ``backward([self], [gradient], ...)``.

    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4.])
    """
    data = self._data
    if (gradient is None and inputs is None and not create_graph and self._node is not None
            and data.size == 1 and (type(data) in _REAL_SCALARS or getattr(data.dtype, "kind", "f") != "c")):
        # (a complex output: refused below, as PyTorch)
        # The common case, a scalar loss: straight to the engine.
        engine.compute_gradients([self], [B.one(data)], retain_graph=bool(retain_graph))
        return
    backward([self], None if gradient is None else [gradient], retain_graph=retain_graph,
             create_graph=create_graph, inputs=inputs)


tensor_backward.__name__, tensor_backward.__qualname__ = "backward", "Tensor.backward"

@overload
def grad(outputs: Tensors, inputs: Tensors, grad_outputs: Gradients = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: Literal[False] = False,
         materialize_grads: bool = False) -> tuple[Tensor, ...]: ...
@overload
def grad(outputs: Tensors, inputs: Tensors, grad_outputs: Gradients = None, retain_graph: bool | None = None,
         create_graph: bool = False, *, allow_unused: bool, materialize_grads: Literal[True]) -> tuple[Tensor, ...]: ...
@overload
def grad(outputs: Tensors, inputs: Tensors, grad_outputs: Gradients = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False,
         materialize_grads: bool = False) -> tuple[Tensor | None, ...]: ...


def grad(outputs: Tensors, inputs: Tensors, grad_outputs: Gradients = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False,
         materialize_grads: bool = False) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``.

    Each is a tensor, or None for an input the outputs do not depend on when ``allow_unused``
    (zeros instead with ``materialize_grads``)."""
    outs = _as_list(outputs, "grad: outputs")
    targets = _targets("grad", inputs)
    cotangents = _root_cotangents("grad", outs, grad_outputs, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    found = engine.compute_gradients(outs, cotangents, targets, retain_graph=retain_graph,
                                     create_graph=create_graph, accumulate=False)
    results: list[Tensor | None] = []
    seen: set[int] = set()
    for i, t in enumerate(targets):
        g = found.get(id(t))
        if g is None:
            if materialize_grads:
                results.append(Tensor._wrap(np.zeros_like(t._data)))
                continue
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {t._data.shape}) was not used to compute the outputs, "
                    f"so it has no gradient. Pass allow_unused=True to get None for it."
                )
            results.append(None)
            continue
        if isinstance(g, Tensor):
            results.append(g)
            continue
        g = np.asarray(g)
        if id(g) in seen or not g.flags.owndata or not g.flags.writeable:
            g = g.copy()
        seen.add(id(g))
        results.append(Tensor._wrap(g))
    return tuple(results)
