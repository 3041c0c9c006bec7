"""Function transforms in JAX's style: ``grad``, ``value_and_grad``, ``vjp``, ``jvp`` (Jacobians
and Hessians: ``jacobians``; checkpointing: ``autograd.checkpoint``).

Every transform takes a Python function of tensors (NumPy arrays and Python numbers are accepted
and made tensors) and is a thin wrapper over the engine: reverse mode over
``engine.compute_gradients``, forward mode over ``forward.forward_level``. Transforms nest to
any depth; each call is its own level, so closures over outer variables are differentiated
correctly.

Composition rules (issue 10):

- A transform only strips what it owns: its own tangent level, its own input handles. Tensors
  it is handed (primals, tangents, cotangents, closures) keep their history and the tangents of
  other levels, so ``jvp`` of a ``vjp_fn``, ``grad`` through a ``vjp_fn`` made outside, or a
  tangent that requires grad are all differentiated.
- Results are connected to a graph exactly when the caller's tensors are (inputs, tangents,
  cotangents, or closures that require grad, or an enclosing transform): torch.func's
  convention. With plain inputs at top level they are plain tensors, as JAX's arrays are.
- Inside a transform, converting a traced tensor to a number or an array raises
  (``forward.check_conversion``); a plain number or array returned by the function is a constant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from ..core import backend as B
from ..core.tensor import Tensor, _as_data
from .arguments import (
    _argnums,
    _check_argnums,
    _check_callable,
    _check_flag,
    _closure_history,
    _cotangent,
    _finish,
    _outputs,
    _pull_back,
    _split_aux,
    _tensor,
    _trace,
)
from .forward import (
    forward_level,
    make_dual,
    primal_of,
    recording_needed,
    tangent_of,
)
from .trees import Flat, Lifted, tangent_leaves
from .vmap import lift, open_levels, unlift

if TYPE_CHECKING:
    from .._typing import ArgNums, TensorLike

# ---------------------------------------------------------------------------------------------
# Reverse mode
# ---------------------------------------------------------------------------------------------

@overload
def vjp(f: Callable[..., Any], *primals: TensorLike,
        has_aux: Literal[False] = False) -> tuple[Any, Callable[..., tuple[Tensor, ...]]]: ...
@overload
def vjp(f: Callable[..., Any], *primals: TensorLike,
        has_aux: Literal[True]) -> tuple[Any, Callable[..., tuple[Tensor, ...]], Any]: ...
@overload
def vjp(f: Callable[..., Any], *primals: TensorLike, has_aux: bool = False) -> tuple[Any, ...]: ...


def vjp(f: Callable[..., Any], *primals: TensorLike, has_aux: bool = False) -> tuple[Any, ...]:
    """``(f(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` returns the gradients, one per primal.

    ``vjp_fn`` can be called many times (each call is one reverse pass).
    """
    _check_callable("vjp", f)
    has_aux = _check_flag("vjp", "has_aux", has_aux)
    nums = tuple(range(len(primals)))
    flat = Flat("vjp", f, primals, nums, has_aux)
    levels = open_levels()
    target: Flat | Lifted = Lifted(flat, levels) if levels else flat
    inputs, outputs, single, aux, create = _trace("vjp", target, target.flat_args, flat.flat_nums, has_aux)

    def vjp_fn(*cotangents: Any) -> tuple[Any, ...]:
        leaves = flat.cotangent_leaves(cotangents)
        if len(leaves) != len(outputs):
            raise ValueError(f"vjp: got {len(leaves)} cotangents for {len(outputs)} outputs")
        if levels:
            _same_levels("vjp", levels)
            leaves = [None if c is None else lift(c, levels) for c in leaves]
        cots = [_cotangent("vjp", o, c) for o, c in zip(outputs, leaves)]
        # Called inside a vmap opened after it was made (vmap of a vjp_fn): the rules run on the
        # batched cotangents through the dispatch, which sends them to that vmap's batching rules.
        grads = _pull_back(inputs, outputs, cots, create, traced=not levels and bool(open_levels()))
        return flat.group([unlift(g, levels) for g in grads] if levels else grads, nums, False)

    out = _finish(outputs, single, create)
    out = flat.output(target.unlift(out) if levels else out)  # type: ignore[union-attr]
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _same_levels(op: str, levels: Sequence[Any]) -> None:
    if open_levels() != tuple(levels):
        raise ValueError(f"{op}: vjp_fn was made inside one cr.vmap and is called inside another "
                         f"one opened after it; this is not supported: call cr.vjp inside the "
                         f"innermost vmapped function, or make vjp_fn outside every vmap")


def _scalar_output(op: str, outputs: Sequence[Tensor], single: bool, lead: tuple[int, ...] = ()) -> None:
    """``outputs`` are one scalar (per example: a full batch of shape ``lead``, inside vmap)."""
    if not single or (outputs[0]._data.size != 1 if not lead else tuple(outputs[0]._data.shape) != lead):
        shape = (outputs[0]._data.shape[len(lead):] if single else f"{len(outputs)} outputs")
        raise TypeError(
            f"{op}: the function must return a single one-element tensor (a scalar), got {shape}; "
            f"use cr.jacrev / cr.vjp for functions with array outputs"
        )
    if B.kind(outputs[0]._data.dtype) != "f":
        raise TypeError(f"{op}: the function's output must be floating point, got {outputs[0]._data.dtype}")


def _value_and_grad(op: str, f: Callable[..., Any], argnums: ArgNums, has_aux: bool,
                    args: tuple[Any, ...]) -> tuple[Any, Any, Any]:
    """``(value, aux, gradient)`` of scalar ``f`` at ``args`` (``argnums`` as checked by
    ``_check_argnums``; a tuple gives a tuple of gradients, one per entry)."""
    nums = _argnums(op, argnums, len(args))
    flat = Flat(op, f, args, nums, has_aux)
    levels = open_levels()
    lifted = None
    if levels:  # inside vmap: on the full batch, one gradient per example (see trees.Lifted)
        lifted = Lifted(flat, levels)
        inputs, outputs, single, aux, create = _trace(op, lifted, lifted.flat_args, flat.flat_nums, has_aux)
        _scalar_output(op, outputs, single, lifted.lead)
    else:
        inputs, outputs, single, aux, create = _trace(op, flat, flat.flat_args, flat.flat_nums, has_aux)
        _scalar_output(op, outputs, single)
    out = outputs[0]
    grads = _pull_back(inputs, outputs, [B.ones(out._data.shape, out._data.dtype, like=out._data)], create)
    value = _finish(outputs, single, create)
    if lifted is not None:
        value, grads = lifted.unlift(value), lifted.unlift(grads)
    return value, aux, flat.group(grads, nums, type(argnums) is int)


def value_and_grad(f: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False, *,
                   _op: str = "value_and_grad") -> Callable[..., tuple[Any, Any]]:
    """A function returning ``(f(*args), ∂f/∂args[argnums])`` (JAX's conventions for ``has_aux``).

    A tuple ``argnums`` gives a tuple of gradients, one per entry (an argument named twice gets
    its gradient twice, as in JAX)."""
    _check_callable(_op, f)
    checked = _check_argnums(_op, argnums)
    has_aux = _check_flag(_op, "has_aux", has_aux)

    def wrapped(*args: Any) -> tuple[Any, Any]:
        value, aux, g = _value_and_grad(_op, f, checked, has_aux, args)
        return ((value, aux), g) if has_aux else (value, g)

    return wrapped


def grad(f: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function returning the gradient of scalar ``f`` with respect to ``args[argnums]``.

    With ``has_aux``, ``f`` returns ``(value, aux)`` and the result is ``(gradient, aux)``.
    """
    _check_callable("grad", f)
    checked = _check_argnums("grad", argnums)
    has_aux = _check_flag("grad", "has_aux", has_aux)

    def wrapped(*args: Any) -> Any:
        _, aux, g = _value_and_grad("grad", f, checked, has_aux, args)
        return (g, aux) if has_aux else g

    return wrapped


# ---------------------------------------------------------------------------------------------
# Forward mode
# ---------------------------------------------------------------------------------------------

def _as_tuple(op: str, value: object, name: str) -> tuple[Any, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(value)
    raise TypeError(f"{op}: {name} must be a tuple (or list) with one entry per argument, got {type(value).__name__}")


def _dual_inputs(op: str, primals: object, tangents: object) -> tuple[list[Tensor], list[Any]]:
    """``primals`` as floating-point tensors and ``tangents`` checked against them: as many, each
    of its primal's shape and floating point (a tensor of another floating dtype is cast, as in
    PyTorch; other data is made an array of the primal's dtype)."""
    primals = _as_tuple(op, primals, "primals")
    tangents = _as_tuple(op, tangents, "tangents")
    if len(tangents) != len(primals):
        raise ValueError(f"{op}: got {len(tangents)} tangents for {len(primals)} primals; pass one "
                         f"tangent per primal, each of its primal's shape")
    ps, ts = [], []
    for i, (p, t) in enumerate(zip(primals, tangents)):
        p = _tensor(op, p)
        shape, dtype = p._data.shape, p._data.dtype
        if B.kind(dtype) not in "fc":
            raise TypeError(f"{op}: primals must be floating point (or complex), got dtype {dtype} for primal {i} "
                            f"(shape {shape}); pass floats, e.g. x.double()")
        if isinstance(t, Tensor):
            tshape, tdtype = t._data.shape, t._data.dtype
            if B.kind(tdtype) not in "fc" or B.kind(tdtype) == "c" and B.kind(dtype) != "c":
                raise TypeError(f"{op}: tangents must be floating point (complex for complex primals), got dtype {tdtype} for tangent "
                                f"{i} (its primal is {dtype})")
        else:
            if not (isinstance(t, np.ndarray) and B.kind(t.dtype) in "biufc" or isinstance(t, (float, int, complex))):
                t = _as_data(t, copy=False, op=op)  # anything that is not numbers raises, naming op
            t = np.asarray(t, dtype=dtype)
            tshape = t.shape
        if tshape != shape:
            raise ValueError(f"{op}: tangent shape {tshape} does not match primal shape {shape} (argument "
                             f"{i}); each tangent must have its primal's shape")
        ps.append(p)
        ts.append(t)
    return ps, ts


@overload
def jvp(f: Callable[..., Any], primals: Sequence[TensorLike], tangents: Sequence[TensorLike],
        has_aux: Literal[False] = False) -> tuple[Any, Any]: ...
@overload
def jvp(f: Callable[..., Any], primals: Sequence[TensorLike], tangents: Sequence[TensorLike],
        has_aux: Literal[True]) -> tuple[Any, Any, Any]: ...
@overload
def jvp(f: Callable[..., Any], primals: Sequence[TensorLike], tangents: Sequence[TensorLike],
        has_aux: bool = False) -> tuple[Any, ...]: ...


def jvp(f: Callable[..., Any], primals: Sequence[TensorLike], tangents: Sequence[TensorLike],
        has_aux: bool = False) -> tuple[Any, ...]:
    """``(f(*primals), J·tangents)`` in one forward pass carrying tangents (no backward graph).

    Tangents are used as given (a tangent that requires grad or carries tangents of an outer
    level keeps them). The results carry history only where the caller's tensors had some
    (inputs, tangents, or closures over tensors that require grad, as in PyTorch)."""
    _check_callable("jvp", f)
    has_aux = _check_flag("jvp", "has_aux", has_aux)
    primals = _as_tuple("jvp", primals, "primals")
    tangents = _as_tuple("jvp", tangents, "tangents")
    if len(tangents) != len(primals):
        raise ValueError(f"jvp: got {len(tangents)} tangents for {len(primals)} primals; pass one "
                         f"tangent per primal, each of its primal's structure and shape")
    flat = Flat("jvp", f, primals, tuple(range(len(primals))), has_aux)
    p_leaves, t_leaves = tangent_leaves("jvp", primals, tangents)
    levels = open_levels()
    if levels:  # inside vmap: on the full batch (see trees.Lifted)
        p_leaves = [lift(p, levels) for p in p_leaves]
        t_leaves = [lift(t, levels) for t in t_leaves]
    ps, ts = _dual_inputs("jvp", p_leaves, t_leaves)
    target: Flat | Lifted = Lifted(flat, levels) if levels else flat
    values, outs, single, aux = _jvp("jvp", target, ps, ts, has_aux)
    if levels:
        values, outs = target.unlift(values), target.unlift(outs)  # type: ignore[union-attr]
    value = flat.output(values[0] if single else tuple(values))
    tangent = flat.output(outs[0] if single else tuple(outs))
    return (value, tangent, aux) if has_aux else (value, tangent)


def _jvp(op: str, f: Callable[..., Any], primals: list[Tensor], tangents: list[Any],
         has_aux: bool) -> tuple[list[Tensor], list[Any], bool, Any]:
    record = recording_needed(primals + tangents)
    result = _jvp_pass(op, f, primals, tangents, has_aux, record)
    if not record and _closure_history(result[0]):
        # f closes over tensors that require grad: the tangents must be recorded too (rare; the
        # pass is repeated rather than recording every forward pass).
        result = _jvp_pass(op, f, primals, tangents, has_aux, True)
    return result


def _jvp_pass(op: str, f: Callable[..., Any], primals: list[Tensor], tangents: list[Any], has_aux: bool,
              record: bool) -> tuple[list[Tensor], list[Any], bool, Any]:
    with forward_level(record, op) as level:
        duals = [make_dual(p, t, level) for p, t in zip(primals, tangents)]
        result = f(*duals)
        result, aux = _split_aux(op, result, has_aux)
        outputs, single = _outputs(op, result)
        values = [primal_of(o, level) for o in outputs]
        outs = []
        for o in outputs:
            t = tangent_of(o, level)
            outs.append(Tensor._wrap(B.zeros(o._data.shape, o._data.dtype, like=o._data)) if t is None else t)
    return values, outs, single, aux


