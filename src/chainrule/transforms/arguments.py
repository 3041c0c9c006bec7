"""What every function transform does with its arguments and results: checks them, makes
fresh input handles whose gradients only this transform collects, traces the function, pulls
cotangents back and strips what the transform owns."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeGuard

import numpy as np

from ..core import backend as B
from ..core import engine, tracing
from ..core.creation import as_tensor
from ..core.dtypes import unsupported
from ..core.modes import enable_grad, state
from ..core.tensor import Tensor, _as_data
from ..ops.elementwise import cast
from ..ops.shape import alias
from .batching import Batched
from .forward import (
    internal_leaf,
    local,
    outside_leaves,
)

if TYPE_CHECKING:
    from .._typing import ArgNums


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
    if B.kind(value._data.dtype) not in "fc":
        raise TypeError(
            f"{op}: can only differentiate with respect to floating-point or complex inputs, got dtype "
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
    result, aux = _split_aux(op, result, has_aux)
    outputs, single = _outputs(op, result)
    # Record the backward pass only for an outer reverse transform, inputs that require grad, or
    # closures over tensors that require grad (tangents of an outer forward transform ride on
    # the unrecorded backward pass anyway).
    primals_need = any(args[i]._requires_grad for i in handles)
    create = outer_grad and (nested.depth > 0 or primals_need
                             or next(_other_leaves(outputs, inputs), None) is not None)
    return inputs, outputs, single, aux, create


def _pull_back(inputs: Sequence[Tensor], outputs: Sequence[Tensor], cotangents: Sequence[Any],
               create: bool, traced: bool = False) -> list[Tensor]:
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
    create = state.grad_enabled and (create or any(_requires_grad(c) for c in cots))
    found = {}
    if roots:
        found = engine.compute_gradients(roots, cots, inputs, retain_graph=True,
                                         create_graph=create, accumulate=False, traced=traced)
    grads = []
    for t in inputs:
        g = found.get(id(t))
        if g is None:
            grads.append(tracing.constant(Tensor._wrap(B.zeros(t._data.shape, t._data.dtype, like=t._data))))
        elif isinstance(g, Tensor):
            grads.append(g if create else _without_history(g))
        else:
            g = np.asarray(g)
            grads.append(Tensor._wrap(g if g.flags.owndata and g.flags.writeable else g.copy()))
    return grads


def _requires_grad(value: Any) -> bool:
    """Whether ``value`` is a tensor that requires grad (a batched tensor: whether its batch does)."""
    if not isinstance(value, Tensor):
        return False
    data = value._data
    return value._requires_grad or isinstance(data, Batched) and _requires_grad(data.value)


def _cotangent(op: str, out: Tensor, value: Any) -> Any:
    """The cotangent for ``out``: a tensor is used as it is (with its own history and tangents,
    for transforms of ``vjp_fn``), other data becomes an array of ``out``'s dtype."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        if value._data.shape != out._data.shape:
            raise ValueError(f"{op}: cotangent shape {value._data.shape} does not match output shape {out._data.shape}")
        if value._data.dtype != out._data.dtype:
            value = cast(value, dtype=out._data.dtype)
        return value
    if not (isinstance(value, (float, int)) or isinstance(value, np.ndarray) and B.kind(value.dtype) in "biuf"):
        value = _as_data(value, copy=False, op=op)  # anything that is not numbers raises, naming op
    data = np.asarray(value, dtype=out._data.dtype)
    if data.shape != out._data.shape:
        raise ValueError(f"{op}: cotangent shape {data.shape} does not match output shape {out._data.shape}")
    return data


def _without_history(t: Tensor) -> Tensor:
    """``t`` detached from the reverse graph, keeping the tangents of open forward levels (those
    of a batched tensor's batch too)."""
    data = t._data
    if isinstance(data, Batched) and isinstance(data.value, Tensor):
        out = Tensor._wrap(type(data)(_without_history(data.value), data.ns))
    else:
        out = t.detach()
    out._tangents = t._tangents
    return out


def _finish(outputs: Sequence[Tensor], single: bool, create: bool) -> Any:
    values = [o if create else _without_history(o) for o in outputs]
    return values[0] if single else tuple(values)


def _split_aux(op: str, result: Any, has_aux: bool) -> tuple[Any, Any]:
    """``(output, aux)`` of a function's result: with ``has_aux`` it must return that pair."""
    if not has_aux:
        return result, None
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise TypeError(f"{op}: with has_aux=True the function must return a pair (output, aux)")
    return result[0], result[1]


def _closure_history(values: Sequence[Tensor]) -> bool:
    """Whether a forward pass run without recording its tangents produced values with history
    from tensors that require grad (closures), which the tangents then lack."""
    return state.grad_enabled and any(v._requires_grad for v in values) and \
        next(outside_leaves(values), None) is not None
