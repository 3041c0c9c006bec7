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

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeGuard, overload

import numpy as np

from . import _backend as B
from . import engine
from ._batching import batched_jvp, batched_vjp
from .autograd.function import Function
from .creation import as_tensor
from .dtypes import unsupported
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
from .tensor import Tensor, _as_data

if TYPE_CHECKING:
    from ._typing import ArgNums, TensorLike

# ---------------------------------------------------------------------------------------------
# Inputs and outputs
# ---------------------------------------------------------------------------------------------

def _tensor(op: str, value: Any) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (list, tuple)) and _holds_tensor(value):
        raise TypeError(
            f"{op}: an argument is a {type(value).__name__} of tensors; pass each tensor as its own "
            f"argument (or cr.stack them into one tensor)"
        )
    return Tensor._wrap(_as_data(value, copy=False, op=op))


def _holds_tensor(values: Sequence[Any]) -> bool:
    return any(isinstance(v, Tensor) or isinstance(v, (list, tuple)) and _holds_tensor(v) for v in values)


def _describe(value: object) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40] + '...' if len(text) > 40 else text}"


def _check_callable(op: str, f: object, name: str = "f") -> None:
    if not callable(f):
        raise TypeError(f"{op}: {name} must be a function (a callable), got {_describe(f)}")


def _check_flag(op: str, name: str, value: object) -> bool:
    if value is True or value is False:
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"{op}: {name} must be True or False, got {_describe(value)}")


def _is_index(a: object) -> TypeGuard[int | np.integer]:
    return isinstance(a, (int, np.integer)) and not isinstance(a, bool)


def _check_argnums(op: str, argnums: object) -> ArgNums:
    """``argnums`` checked when the transform is made: an int or a tuple of ints (JAX's and
    torch.func's types; an argument named twice in a tuple gets its gradient twice, as in JAX).
    Whether they are in range is checked at each call, against the number of arguments."""
    if type(argnums) is int:
        return argnums
    if isinstance(argnums, tuple):
        for a in argnums:
            if not _is_index(a):
                raise TypeError(f"{op}: argnums must be an int or a tuple of ints, got the tuple {argnums!r} "
                                f"holding {_describe(a)}")
        return tuple(int(a) for a in argnums)
    if _is_index(argnums):
        return int(argnums)
    hint = f"; use a tuple, argnums={tuple(argnums)!r}" if isinstance(argnums, list) and all(
        _is_index(a) for a in argnums) else ""
    raise TypeError(f"{op}: argnums must be an int or a tuple of ints, got {_describe(argnums)}{hint}")


def _argnums(op: str, argnums: ArgNums, n: int) -> tuple[int, ...]:
    """The argument positions ``argnums`` (as checked by ``_check_argnums``) names, for a call with
    ``n`` arguments; negative positions count from the end, as Python's indexing does."""
    nums: tuple[int, ...]
    if isinstance(argnums, tuple):
        nums = argnums
        if all(-n <= a < n for a in nums):
            return tuple(a % n for a in nums)
    else:
        if -n <= argnums < n:
            return (argnums % n,)
        nums = (argnums,)
    bad = next(a for a in nums if not -n <= a < n)
    raise ValueError(f"{op}: argnums {argnums!r} is out of range for a function called with {n} "
                     f"argument(s): {bad} is not in [{-n}, {n - 1}]" if n else
                     f"{op}: argnums {argnums!r} is out of range: the function was called with no arguments")


def _outputs(op: str, out: object) -> tuple[list[Tensor], bool]:
    """The tensors a function returned, and whether it returned a single one.

    A plain number or array is a constant (its derivative is zero): conversions of traced
    tensors to numbers or arrays raise inside transforms (forward.check_conversion), so a plain
    result cannot have come out of one silently."""
    if isinstance(out, Tensor):
        return [out], True
    if isinstance(out, (tuple, list)) and all(isinstance(o, Tensor) for o in out):
        return list(out), False
    if isinstance(out, (int, float, np.ndarray, np.generic)) and not isinstance(out, bool):
        if isinstance(out, (np.ndarray, np.generic)):
            why = unsupported(out.dtype)
            if why is not None:
                hint = " (cr.stack([...]) builds one from a list of tensors)" if out.dtype == object else ""
                raise TypeError(f"{op}: the function returned a NumPy {type(out).__name__} of dtype "
                                f"{out.dtype} ({why}); return a tensor{hint}")
        return [as_tensor(out)], True
    raise TypeError(f"{op}: the function must return a tensor or a tuple of tensors, got {type(out).__name__}")


def _reverse_input(op: str, value: Tensor) -> Tensor:
    """A fresh handle on ``value`` whose gradient this transform, and only it, collects."""
    if B.kind(value._data.dtype) != "f":
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


def _other_leaves(outputs: Sequence[Tensor], inputs: Sequence[Tensor]) -> Iterator[Tensor]:
    """Leaves requiring grad that ``outputs`` depend on other than through ``inputs`` (closures
    over tensors that require grad), one at a time; transforms' own input leaves are constants."""
    return outside_leaves(outputs, inputs)


class _Nested:
    """Marks the extent of a reverse transform's call of the user's function (inner transforms
    see depth > 0 and record their backward pass for it)."""

    def __enter__(self) -> _Nested:
        self.depth = state.transform_depth
        state.transform_depth = self.depth + 1
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        state.transform_depth = self.depth
        return False


def _trace(op: str, f: Callable[..., Any], args: Sequence[Any], argnums: tuple[int, ...],
           has_aux: bool) -> tuple[list[Tensor], list[Tensor], bool, Any, bool]:
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


def _pull_back(inputs: Sequence[Tensor], outputs: Sequence[Tensor], cotangents: Sequence[Any],
               create: bool) -> list[Tensor]:
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
            grads.append(Tensor._wrap(B.zeros(t._data.shape, t._data.dtype, like=t._data)))
        elif isinstance(g, Tensor):
            grads.append(g if create else _without_history(g))
        else:
            g = np.asarray(g)
            grads.append(Tensor._wrap(g if g.flags.owndata and g.flags.writeable else g.copy()))
    return grads


def _cotangent(op: str, out: Tensor, value: Any) -> Any:
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
    if not (isinstance(value, (float, int)) or isinstance(value, np.ndarray) and B.kind(value.dtype) in "biuf"):
        value = _as_data(value, copy=False, op=op)  # anything that is not numbers raises, naming op
    data = np.asarray(value, dtype=out._data.dtype)
    if data.shape != out._data.shape:
        raise ValueError(f"{op}: cotangent shape {data.shape} does not match output shape {out._data.shape}")
    return data


def _without_history(t: Tensor) -> Tensor:
    """``t`` detached from the reverse graph, keeping the tangents of open forward levels."""
    out = t.detach()
    out._tangents = t._tangents
    return out


def _finish(outputs: Sequence[Tensor], single: bool, create: bool) -> Any:
    values = [o if create else _without_history(o) for o in outputs]
    return values[0] if single else tuple(values)


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
    inputs, outputs, single, aux, create = _trace("vjp", f, primals, tuple(range(len(primals))), has_aux)

    def vjp_fn(*cotangents: Any) -> tuple[Tensor, ...]:
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


def _scalar_output(op: str, outputs: Sequence[Tensor], single: bool) -> None:
    if not single or outputs[0]._data.size != 1:
        shape = outputs[0]._data.shape if single else f"{len(outputs)} outputs"
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
    inputs, outputs, single, aux, create = _trace(op, f, args, nums, has_aux)
    _scalar_output(op, outputs, single)
    out = outputs[0]
    grads = _pull_back(inputs, outputs, [B.ones(out._data.shape, out._data.dtype, like=out._data)], create)
    g = grads[0] if type(argnums) is int else tuple(grads)
    return _finish(outputs, single, create), aux, g


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
        if B.kind(dtype) != "f":
            raise TypeError(f"{op}: primals must be floating point, got dtype {dtype} for primal {i} "
                            f"(shape {shape}); pass floats, e.g. x.double()")
        if isinstance(t, Tensor):
            tshape, tdtype = t._data.shape, t._data.dtype
            if B.kind(tdtype) != "f":
                raise TypeError(f"{op}: tangents must be floating point, got dtype {tdtype} for tangent "
                                f"{i} (its primal is {dtype})")
        else:
            if not (isinstance(t, np.ndarray) and B.kind(t.dtype) in "biuf" or isinstance(t, (float, int))):
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
    ps, ts = _dual_inputs("jvp", primals, tangents)
    values, outs, single, aux = _jvp("jvp", f, ps, ts, has_aux)
    value = values[0] if single else tuple(values)
    tangent = outs[0] if single else tuple(outs)
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
        aux = None
        if has_aux:
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise TypeError(f"{op}: with has_aux=True the function must return a pair (output, aux)")
            result, aux = result
        outputs, single = _outputs(op, result)
        values = [primal_of(o, level) for o in outputs]
        outs = []
        for o in outputs:
            t = tangent_of(o, level)
            outs.append(Tensor._wrap(B.zeros(o._data.shape, o._data.dtype, like=o._data)) if t is None else t)
    return values, outs, single, aux


def _closure_history(values: Sequence[Tensor]) -> bool:
    """Whether a forward pass run without recording its tangents produced values with history
    from tensors that require grad (closures), which the tangents then lack."""
    return state.grad_enabled and any(v._requires_grad for v in values) and \
        next(outside_leaves(values), None) is not None


# ---------------------------------------------------------------------------------------------
# Jacobians and Hessians
# ---------------------------------------------------------------------------------------------

def jacrev(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """A function returning the Jacobian of ``f`` by reverse mode, shape ``out.shape + in.shape``.

    All rows come from one backward pass over a batch of cotangents (see ``_batching``). A tuple
    ``argnums`` gives a tuple of Jacobians, one per entry; a function returning a tuple (or list)
    of tensors gives a tuple with an entry per output (JAX's nesting: outputs, then inputs).
    """
    _check_callable("jacrev", f)
    return _jacrev(f, _check_argnums("jacrev", argnums), "jacrev")


def _jacrev(f: Callable[..., Any], argnums: ArgNums, op: str) -> Callable[..., Any]:
    def wrapped(*args: Any) -> Any:
        nums = _argnums(op, argnums, len(args))
        inputs, outputs, single, _, create = _trace(op, f, args, nums, False)
        per_output = []
        for out in outputs:
            jacs = batched_vjp(inputs, out, create)
            if not create:
                jacs = [_without_history(j) for j in jacs]
            per_output.append(jacs[0] if type(argnums) is int else tuple(jacs))
        return per_output[0] if single else tuple(per_output)

    return wrapped


def jacfwd(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """A function returning the Jacobian of ``f`` by forward mode, shape ``out.shape + in.shape``.

    All columns come from one forward pass carrying a batch of tangents (see ``_batching``).
    ``argnums`` and functions returning several tensors as in ``jacrev``.
    """
    _check_callable("jacfwd", f)
    return _jacfwd(f, _check_argnums("jacfwd", argnums), "jacfwd")


def _float_arguments(op: str, args: Sequence[Any], nums: Sequence[int]) -> list[Any]:
    args = list(args)
    for i in nums:
        a = args[i] = _tensor(op, args[i])
        if B.kind(a._data.dtype) != "f":
            raise TypeError(f"{op}: argument {i} must be floating point, got dtype {a._data.dtype} "
                            f"(shape {a._data.shape}); pass floats, e.g. x.double()")
    return args


def _jacfwd(f: Callable[..., Any], argnums: ArgNums, op: str) -> Callable[..., Any]:
    def wrapped(*args: Any) -> Any:
        nums = _argnums(op, argnums, len(args))
        floats = _float_arguments(op, args, nums)
        jacs, single = batched_jvp(f, floats, nums, op)  # jacs[k][j]: argument nums[k], output j
        pick = (lambda j: jacs[0][j]) if type(argnums) is int else (lambda j: tuple(c[j] for c in jacs))
        if single:
            return pick(0)
        return tuple(pick(j) for j in range(len(jacs[0]))) if jacs else ()

    return wrapped


def jacobian(f: Callable[..., Any], argnums: ArgNums = 0, mode: str = "auto") -> Callable[..., Any]:
    """The Jacobian of ``f``; ``mode='auto'`` uses forward mode when the inputs have fewer
    elements than the output, reverse mode otherwise."""
    _check_callable("jacobian", f)
    checked = _check_argnums("jacobian", argnums)
    if not isinstance(mode, str) or mode not in ("auto", "forward", "reverse"):
        raise ValueError(f"jacobian: mode must be 'auto', 'forward' or 'reverse', got {mode!r}")
    if mode == "forward":
        return _jacfwd(f, checked, "jacobian")
    if mode == "reverse":
        return _jacrev(f, checked, "jacobian")

    def wrapped(*args: Any) -> Any:
        nums = _argnums("jacobian", checked, len(args))
        floats = _float_arguments("jacobian", args, nums)
        n_in = sum(int(floats[i]._data.size) for i in nums)
        with no_grad():
            probe = f(*floats)
        outputs, _ = _outputs("jacobian", probe)
        n_out = sum(int(o._data.size) for o in outputs)
        chosen = jacfwd if n_in < n_out else jacrev
        return chosen(f, checked)(*floats)

    return wrapped


def hessian(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """The Hessian of scalar ``f``: forward mode over reverse mode (``jacfwd(jacrev(f))``). A tuple
    ``argnums`` gives the blocks as a tuple of tuples (``H[i][j]``: ∂²f/∂args[i]∂args[j])."""
    _check_callable("hessian", f)
    argnums = _check_argnums("hessian", argnums)
    return _jacfwd(_jacrev(f, argnums, "hessian"), argnums, "hessian")


def hvp(f: Callable[..., Any], primals: Sequence[TensorLike], tangents: Sequence[TensorLike]) -> tuple[Tensor, Any]:
    """``(f(*primals), H·tangents)`` by forward mode over reverse mode, in one pass each way."""
    _check_callable("hvp", f)
    ps, ts = _dual_inputs("hvp", primals, tangents)
    nums = tuple(range(len(ps)))
    captured = []

    def gradient(*xs: Any) -> Any:
        value, _, g = _value_and_grad("hvp", f, nums, False, xs)
        captured.append(value)
        return g

    _, products, _, _ = _jvp("hvp", gradient, ps, ts, False)
    value = captured[-1]
    for level in list(value._tangents or ()):
        if level not in state.forward_levels:
            value = primal_of(value, level)
    return value, products[0] if len(ps) == 1 else tuple(products)


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
    """Refuse arguments that are not tensors, NumPy arrays of numbers or numbers: ``fn`` is
    differentiated with respect to its tensor arguments only, so anything else is either garbage
    or (a list of tensors) would silently lose its gradient."""
    for i, a in enumerate(args):
        if isinstance(a, (Tensor, _NUMBERS)):
            continue
        if isinstance(a, (np.ndarray, np.generic)):
            why = unsupported(a.dtype)
            if why is None:
                continue
            what = f"a NumPy array of dtype {a.dtype} ({why})"
        elif isinstance(a, (list, tuple)):
            what = (f"a {type(a).__name__} (its tensors would not be differentiated); pass each tensor as its "
                    f"own argument, or one tensor (cr.tensor / cr.stack)")
        else:
            what = _describe(a)
        raise TypeError(f"checkpoint: argument {i} is {what}; checkpoint(fn, *args) takes tensors, NumPy "
                        f"arrays and numbers (give fn anything else through a closure)")


def checkpoint(fn: Callable[..., Any], *args: TensorLike) -> Any:
    """``fn(*args)`` without keeping its intermediates: they are recomputed during backward.

    ``args`` are tensors, NumPy arrays or numbers, and ``fn`` returns a tensor or a tuple of
    tensors. Gradients (also into parameters ``fn`` closes over) equal those without
    checkpointing, to any order. Under forward mode there is nothing to save, so ``fn`` simply
    runs; inside a reverse transform, a ``fn`` that closes over tensors being differentiated
    (rather than receiving them as arguments) also simply runs, so their gradients stay exact.
    """
    _check_callable("checkpoint", fn, "fn")
    _checkpoint_arguments(args)
    if state.forward_levels or not state.grad_enabled or not local.reverse and not any(
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
