"""Function transforms in JAX's style: ``grad``, ``vjp``, ``jvp``, Jacobians, Hessians, checkpoint.

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
from typing import Any

import numpy as np

from . import engine
from ._batching import batched_jvp, batched_vjp
from .autograd.function import Function
from .creation import as_tensor
from .forward import (
    forward_level,
    internal_leaf,
    is_internal,
    local,
    make_dual,
    open_marks,
    outside_leaves,
    primal_of,
    recording_needed,
    tangent_of,
)
from .grad_mode import enable_grad, no_grad, state
from .ops.shape import alias
from .tensor import Tensor

# ---------------------------------------------------------------------------------------------
# Inputs and outputs
# ---------------------------------------------------------------------------------------------

def _tensor(op: str, value) -> Tensor:
    if isinstance(value, Tensor):
        return value
    try:
        return as_tensor(value)
    except TypeError as exc:
        raise TypeError(f"{op}: arguments must be tensors, arrays or numbers ({exc})") from None


def _argnums(op: str, argnums, n: int) -> tuple:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for a in nums:
        if not isinstance(a, int) or not -n <= a < n:
            raise ValueError(f"{op}: argnums {argnums!r} out of range for a function called with {n} argument(s)")
    return tuple(a % n for a in nums)


def _outputs(op: str, out) -> tuple[list, bool]:
    """The tensors a function returned, and whether it returned a single one.

    A plain number or array is a constant (its derivative is zero): conversions of traced
    tensors to numbers or arrays raise inside transforms (forward.check_conversion), so a plain
    result cannot have come out of one silently."""
    if isinstance(out, Tensor):
        return [out], True
    if isinstance(out, (tuple, list)) and all(isinstance(o, Tensor) for o in out):
        return list(out), False
    if isinstance(out, (int, float, np.ndarray, np.generic)) and not isinstance(out, bool):
        if isinstance(out, np.ndarray) and out.dtype == object:
            raise TypeError(f"{op}: the function returned a NumPy array of objects; return a tensor "
                            f"(cr.stack([...]) builds one from a list of tensors)")
        return [as_tensor(out)], True
    raise TypeError(f"{op}: the function must return a tensor or a tuple of tensors, got {type(out).__name__}")


def _reverse_input(op: str, value: Tensor) -> Tensor:
    """A fresh handle on ``value`` whose gradient this transform, and only it, collects."""
    if value._data.dtype.kind != "f":
        raise TypeError(
            f"{op}: can only differentiate with respect to floating-point inputs, got dtype "
            f"{value._data.dtype} (shape {value._data.shape}); pass floats, e.g. x.double()"
        )
    if value._requires_grad or value._tangents:
        handle = alias(value)
        if not handle._requires_grad:
            handle._requires_grad = True
        if handle._node is None:
            internal_leaf(handle)
        return handle
    handle = Tensor._wrap(value._data)
    handle._requires_grad = True
    return internal_leaf(handle)


def _other_leaves(outputs, inputs):
    """Leaves requiring grad that ``outputs`` depend on other than through ``inputs`` (closures
    over tensors that require grad), one at a time; transforms' own input leaves are constants."""
    return outside_leaves(outputs, inputs)


class _Nested:
    """Marks the extent of a reverse transform's call of the user's function (inner transforms
    see depth > 0 and record their backward pass for it)."""

    def __enter__(self):
        self.depth = state.transform_depth
        state.transform_depth = self.depth + 1
        return self

    def __exit__(self, *exc):
        state.transform_depth = self.depth
        return False


def _trace(op: str, f: Callable, args: Sequence, argnums: tuple, has_aux: bool):
    """Run ``f`` recording the graph from handles on the differentiated arguments (one handle per
    argument, however often ``argnums`` names it)."""
    outer_grad = state.grad_enabled
    args = list(args)
    handles = {}
    for i in argnums:
        if i not in handles:
            args[i] = _tensor(op, args[i])
            handles[i] = _reverse_input(op, args[i])
    inputs = [handles[i] for i in argnums]
    call_args = list(args)
    for i, handle in handles.items():
        call_args[i] = handle
    # While f runs, the handles are traced (conversions of what depends on them raise).
    opened = local.reverse
    opened.append((op, {id(h) if h._node is None else id(h._node): h for h in handles.values()}))
    try:
        with _Nested() as nested, enable_grad():
            result = f(*call_args)
    finally:
        opened.pop()
    aux = None
    if has_aux:
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise TypeError(f"{op}: with has_aux=True the function must return a pair (output, aux)")
        result, aux = result
    outputs, single = _outputs(op, result)
    # Record the backward pass only for an outer reverse transform, inputs that require grad, or
    # closures over tensors that require grad (tangents of an outer forward transform ride on
    # the unrecorded backward pass anyway).
    primals_need = any(args[i]._requires_grad for i in handles)
    create = outer_grad and (nested.depth > 0 or primals_need
                             or next(_other_leaves(outputs, inputs), None) is not None)
    return inputs, outputs, single, aux, create


def _pull_back(inputs, outputs, cotangents, create: bool) -> list:
    """Gradients of ``outputs`` (weighted by ``cotangents``) with respect to ``inputs``; zeros if unused.

    The backward pass is recorded when ``create`` (the forward pass had history worth keeping) or
    when a cotangent requires grad (an open reverse level differentiates through it); cotangents
    carrying tangents push them through it (forward over reverse)."""
    roots, cots = [], []
    for out, cot in zip(outputs, cotangents):
        if cot is None or not out._requires_grad:
            continue
        roots.append(out)
        cots.append(cot)
    create = state.grad_enabled and (
        create or any(isinstance(c, Tensor) and c._requires_grad for c in cots))
    found = {}
    if roots:
        found = engine.compute_gradients(roots, cots, inputs, retain_graph=True,
                                         create_graph=create, accumulate=False)
    grads = []
    for t in inputs:
        g = found.get(id(t))
        if g is None:
            grads.append(Tensor._wrap(np.zeros_like(t._data)))
        elif isinstance(g, Tensor):
            grads.append(g if create else _without_history(g))
        else:
            g = np.asarray(g)
            grads.append(Tensor._wrap(g if g.flags.owndata and g.flags.writeable else g.copy()))
    return grads


def _cotangent(op: str, out: Tensor, value) -> Any:
    """The cotangent for ``out``: a tensor is used as it is (with its own history and tangents,
    for transforms of ``vjp_fn``), other data becomes an array of ``out``'s dtype."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        if value._data.shape != out._data.shape:
            raise ValueError(f"{op}: cotangent shape {value._data.shape} does not match output shape {out._data.shape}")
        if value._data.dtype != out._data.dtype:
            from .ops.elementwise import cast
            value = cast(value, dtype=out._data.dtype)
        return value
    data = np.asarray(value, dtype=out._data.dtype)
    if data.shape != out._data.shape:
        raise ValueError(f"{op}: cotangent shape {data.shape} does not match output shape {out._data.shape}")
    return data


def _without_history(t: Tensor) -> Tensor:
    """``t`` detached from the reverse graph, keeping the tangents of open forward levels."""
    out = t.detach()
    out._tangents = t._tangents
    return out


def _finish(outputs, single, create):
    values = [o if create else _without_history(o) for o in outputs]
    return values[0] if single else tuple(values)


# ---------------------------------------------------------------------------------------------
# Reverse mode
# ---------------------------------------------------------------------------------------------

def vjp(f: Callable, *primals, has_aux: bool = False):
    """``(f(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` returns the gradients, one per primal.

    ``vjp_fn`` can be called many times (each call is one reverse pass).
    """
    inputs, outputs, single, aux, create = _trace("vjp", f, primals, tuple(range(len(primals))), has_aux)

    def vjp_fn(*cotangents):
        if single and len(cotangents) == 1:
            cots = [_cotangent("vjp", outputs[0], cotangents[0])]
        else:
            if len(cotangents) == 1 and isinstance(cotangents[0], (tuple, list)):
                cotangents = tuple(cotangents[0])
            if len(cotangents) != len(outputs):
                raise ValueError(f"vjp: got {len(cotangents)} cotangents for {len(outputs)} outputs")
            cots = [_cotangent("vjp", o, c) for o, c in zip(outputs, cotangents)]
        return tuple(_pull_back(inputs, outputs, cots, create))

    out = _finish(outputs, single, create)
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _scalar_output(op: str, outputs, single):
    if not single or outputs[0]._data.size != 1:
        shape = outputs[0]._data.shape if single else f"{len(outputs)} outputs"
        raise TypeError(
            f"{op}: the function must return a single one-element tensor (a scalar), got {shape}; "
            f"use cr.jacrev / cr.vjp for functions with array outputs"
        )
    if outputs[0]._data.dtype.kind != "f":
        raise TypeError(f"{op}: the function's output must be floating point, got {outputs[0]._data.dtype}")


def value_and_grad(f: Callable, argnums=0, has_aux: bool = False, *, _op: str = "value_and_grad") -> Callable:
    """A function returning ``(f(*args), ∂f/∂args[argnums])`` (JAX's conventions for ``has_aux``).

    A tuple ``argnums`` gives a tuple of gradients, one per entry (an argument named twice gets
    its gradient twice, as in JAX)."""

    def wrapped(*args):
        nums = _argnums(_op, argnums, len(args))
        inputs, outputs, single, aux, create = _trace(_op, f, args, nums, has_aux)
        _scalar_output(_op, outputs, single)
        out = outputs[0]
        grads = _pull_back(inputs, outputs, [np.ones(out._data.shape, dtype=out._data.dtype)], create)
        g = grads[0] if isinstance(argnums, int) else tuple(grads)
        value = _finish(outputs, single, create)
        return ((value, aux), g) if has_aux else (value, g)

    return wrapped


def grad(f: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """A function returning the gradient of scalar ``f`` with respect to ``args[argnums]``.

    With ``has_aux``, ``f`` returns ``(value, aux)`` and the result is ``(gradient, aux)``.
    """
    inner = value_and_grad(f, argnums, has_aux, _op="grad")

    def wrapped(*args):
        (value, g) = inner(*args)
        if has_aux:
            return g, value[1]
        return g

    return wrapped


# ---------------------------------------------------------------------------------------------
# Forward mode
# ---------------------------------------------------------------------------------------------

def _as_tuple(op: str, value, name: str) -> tuple:
    if isinstance(value, (tuple, list)):
        return tuple(value)
    raise TypeError(f"{op}: {name} must be a tuple (or list) with one entry per argument, got {type(value).__name__}")


def jvp(f: Callable, primals, tangents, has_aux: bool = False):
    """``(f(*primals), J·tangents)`` in one forward pass carrying tangents (no backward graph).

    Tangents are used as given (a tangent that requires grad or carries tangents of an outer
    level keeps them). The results carry history only where the caller's tensors had some
    (inputs, tangents, or closures over tensors that require grad, as in PyTorch)."""
    primals = [_tensor("jvp", p) for p in _as_tuple("jvp", primals, "primals")]
    tangents = _as_tuple("jvp", tangents, "tangents")
    if len(tangents) != len(primals):
        raise ValueError(f"jvp: got {len(tangents)} tangents for {len(primals)} primals")
    for p in primals:
        if p._data.dtype.kind != "f":
            raise TypeError(f"jvp: primals must be floating point, got dtype {p._data.dtype}")
    record = recording_needed(list(primals) + list(tangents))
    values, outs, single, aux = _jvp_pass(f, primals, tangents, has_aux, record)
    if not record and _closure_history(values):
        # f closes over tensors that require grad: the tangents must be recorded too (rare; the
        # pass is repeated rather than recording every forward pass).
        values, outs, single, aux = _jvp_pass(f, primals, tangents, has_aux, True)
    value = values[0] if single else tuple(values)
    tangent = outs[0] if single else tuple(outs)
    return (value, tangent, aux) if has_aux else (value, tangent)


def _jvp_pass(f, primals, tangents, has_aux, record):
    with forward_level(record, "jvp") as level:
        duals = [make_dual(p, t, level) for p, t in zip(primals, tangents)]
        result = f(*duals)
        aux = None
        if has_aux:
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise TypeError("jvp: with has_aux=True the function must return a pair (output, aux)")
            result, aux = result
        outputs, single = _outputs("jvp", result)
        values = [primal_of(o, level) for o in outputs]
        outs = []
        for o in outputs:
            t = tangent_of(o, level)
            outs.append(Tensor._wrap(np.zeros_like(o._data)) if t is None else t)
    return values, outs, single, aux


def _closure_history(values) -> bool:
    """Whether a forward pass run without recording its tangents produced values with history
    from tensors that require grad (closures), which the tangents then lack."""
    return state.grad_enabled and any(v._requires_grad for v in values) and \
        next(outside_leaves(values), None) is not None


# ---------------------------------------------------------------------------------------------
# Jacobians and Hessians
# ---------------------------------------------------------------------------------------------

def jacrev(f: Callable, argnums=0) -> Callable:
    """A function returning the Jacobian of ``f`` by reverse mode, shape ``out.shape + in.shape``.

    All rows come from one backward pass over a batch of cotangents (see ``_batching``).
    """

    def wrapped(*args):
        nums = _argnums("jacrev", argnums, len(args))
        inputs, outputs, single, _, create = _trace("jacrev", f, args, nums, False)
        if not single:
            raise TypeError("jacrev: the function must return a single tensor")
        out = outputs[0]
        jacs = batched_vjp(inputs, out, create)
        jacs = [j if create else _without_history(j) for j in jacs]
        return jacs[0] if isinstance(argnums, int) else tuple(jacs)

    return wrapped


def jacfwd(f: Callable, argnums=0) -> Callable:
    """A function returning the Jacobian of ``f`` by forward mode, shape ``out.shape + in.shape``.

    All columns come from one forward pass carrying a batch of tangents (see ``_batching``).
    """

    def wrapped(*args):
        nums = _argnums("jacfwd", argnums, len(args))
        args = [_tensor("jacfwd", a) if i in nums else a for i, a in enumerate(args)]
        for i in nums:
            if args[i]._data.dtype.kind != "f":
                raise TypeError(f"jacfwd: argument {i} must be floating point, got dtype {args[i]._data.dtype}")
        jacs = batched_jvp(f, args, nums)
        return jacs[0] if isinstance(argnums, int) else tuple(jacs)

    return wrapped


def jacobian(f: Callable, argnums=0, mode: str = "auto") -> Callable:
    """The Jacobian of ``f``; ``mode='auto'`` uses forward mode when the inputs have fewer
    elements than the output, reverse mode otherwise."""
    if mode not in ("auto", "forward", "reverse"):
        raise ValueError(f"jacobian: mode must be 'auto', 'forward' or 'reverse', got {mode!r}")
    if mode == "forward":
        return jacfwd(f, argnums)
    if mode == "reverse":
        return jacrev(f, argnums)

    def wrapped(*args):
        nums = _argnums("jacobian", argnums, len(args))
        args = [_tensor("jacobian", a) if i in nums else a for i, a in enumerate(args)]
        n_in = sum(int(args[i]._data.size) for i in nums)
        with no_grad():
            probe = f(*args)
        outputs, _ = _outputs("jacobian", probe)
        n_out = sum(int(o._data.size) for o in outputs)
        chosen = jacfwd if n_in < n_out else jacrev
        return chosen(f, argnums)(*args)

    return wrapped


def hessian(f: Callable, argnums=0) -> Callable:
    """The Hessian of scalar ``f``: forward mode over reverse mode (``jacfwd(jacrev(f))``)."""
    return jacfwd(jacrev(f, argnums), argnums)


def hvp(f: Callable, primals, tangents):
    """``(f(*primals), H·tangents)`` by forward mode over reverse mode, in one pass each way."""
    primals = _as_tuple("hvp", primals, "primals")
    tangents = _as_tuple("hvp", tangents, "tangents")
    captured = []

    def gradient(*xs):
        value, g = value_and_grad(f, tuple(range(len(xs))))(*xs)
        captured.append(value)
        return tuple(g)

    _, products = jvp(gradient, primals, tangents)
    value = captured[-1]
    for level in list(value._tangents or ()):
        if level not in state.forward_levels:
            value = primal_of(value, level)
    products = products[0] if len(primals) == 1 else products
    return value, products


# ---------------------------------------------------------------------------------------------
# Checkpointing
# ---------------------------------------------------------------------------------------------

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

    def __init__(self, value) -> None:
        self.value = value


def _differentiable(a) -> bool:
    return isinstance(a, Tensor) and a._data.dtype.kind == "f"


def _only_through(outputs, args) -> bool:
    """Whether every path of history from ``outputs`` ends in one of ``args`` (or in a constant:
    the input leaf of a transform that has returned), i.e. the function closes over nothing that
    an open transform or the caller differentiates."""
    stop = {id(a._node) if a._node is not None else id(a) for a in args if isinstance(a, Tensor)}
    marks = open_marks()
    seen, stack = set(), []
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


def checkpoint(fn: Callable, *args):
    """``fn(*args)`` without keeping its intermediates: they are recomputed during backward.

    Gradients (also into parameters ``fn`` closes over) equal those without checkpointing, to
    any order. Under forward mode there is nothing to save, so ``fn`` simply runs; inside a
    reverse transform, a ``fn`` that closes over tensors being differentiated (rather than
    receiving them as arguments) also simply runs, so their gradients stay exact.
    """
    if state.forward_levels or not state.grad_enabled:
        return fn(*args)
    if local.reverse:
        # Inside a reverse transform: run fn recording, and keep only its inputs if nothing else
        # it used needs a gradient (then the recorded intermediates are dropped here).
        out = fn(*args)
        outputs, _ = _outputs("checkpoint", out)
        if not any(isinstance(a, Tensor) and a._requires_grad for a in args) or not _only_through(outputs, args):
            return out
        return _Checkpoint.apply(fn, _Done(out), *args)
    if not any(isinstance(a, Tensor) and a._requires_grad for a in args):
        return fn(*args)
    return _Checkpoint.apply(fn, None, *args)
