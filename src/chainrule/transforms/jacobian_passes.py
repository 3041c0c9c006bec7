"""Jacobians in one pass: the whole identity pushed through the table's rules as one batch of
cotangents (reverse) or tangents (forward), with the batching rules of ``batching``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..core import dispatch as P
from ..core import engine
from ..core.tensor import Tensor
from .arguments import _closure_history, _outputs
from .batching import Batched, BatchedNamespace
from .forward import forward_level, make_dual, recording_needed, tangent_of

# ---------------------------------------------------------------------------------------------
# Jacobians
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=16)
def _identity(n: int, dtype: np.dtype) -> np.ndarray:
    """The seeds of a Jacobian: a read-only identity, built once per size and dtype."""
    eye = np.eye(n, dtype=dtype)
    eye.flags.writeable = False
    return eye


def _seeds(n: int, dtype: np.dtype, lead: tuple[int, ...], shape: tuple[int, ...]) -> np.ndarray:
    """The identity as ``n`` seeds of shape ``lead + shape``: seed ``j`` holds the ``j``-th basis
    vector of ``shape`` at every position of the leading (vmap) axes ``lead``."""
    eye = _identity(n, dtype).reshape((n,) + (1,) * len(lead) + shape)
    return np.broadcast_to(eye, (n,) + lead + shape) if lead else eye


def _per_example(value: Any, lead: tuple[int, ...], shape: tuple[int, ...]) -> Any:
    """A batch of ``n`` derivatives of shape ``lead + rest`` (``n`` first) as ``lead + shape``,
    ``shape`` the Jacobian's per-example shape (the seed index becomes the first axes)."""
    k = len(lead)
    if not isinstance(value, Tensor):
        value = Tensor._wrap(np.asarray(value))
    if k:
        ndim = len(value._data.shape)
        value = P.traced.permute(value, dims=tuple(range(1, k + 1)) + (0,) + tuple(range(k + 1, ndim)))
    return P.traced.reshape(value, shape=lead + shape)


def batched_vjp(inputs: Sequence[Tensor], out: Tensor, create: bool, lead: tuple[int, ...] = ()) -> list[Tensor]:
    """The Jacobian of ``out`` with respect to each input (``out.shape + in.shape``), from one
    backward pass carrying the whole identity as a batch of cotangents. With ``lead`` (inside
    vmap, see ``trees.Lifted``) the leading axes of ``out`` and the inputs are independent
    examples: the result is each example's Jacobian, ``lead + out + in`` (per-example shapes)."""
    k = len(lead)
    out_shape = tuple(out._data.shape[k:])
    n = int(np.prod(out_shape, dtype=np.int64))
    dtype = out._data.dtype
    found: dict[int, Any] = {}
    if out._requires_grad and n:
        seeds = _seeds(n, dtype, lead, out_shape)
        found = engine.compute_gradients([out], [seeds], inputs, retain_graph=True,
                                         create_graph=create, accumulate=False,
                                         batch=lambda m: BatchedNamespace(m, n))
    jacs: list[Tensor] = []
    for t in inputs:
        g = found.get(id(t))
        shape = out_shape + tuple(t._data.shape[k:])
        if g is None:
            jacs.append(Tensor._wrap(np.zeros(lead + shape, dtype=t._data.dtype)))
            continue
        value = g.value if isinstance(g, Batched) else g
        if not k and not isinstance(value, Tensor):
            jacs.append(Tensor._wrap(np.asarray(value).reshape(shape)))
        else:
            jacs.append(_per_example(value, lead, shape))
    return jacs


def batched_jvp(f: Callable[..., Any], args: Sequence[Any], argnums: Sequence[int],
                name: str = "jacfwd", lead: tuple[int, ...] = ()) -> tuple[list[list[Any]], bool]:
    """The Jacobians of ``f`` for each argument in ``argnums`` (``out.shape + in.shape``), each from
    one forward pass carrying the whole identity as a batch of tangents: ``(jacs, single)`` where
    ``jacs[k][j]`` is output ``j``'s Jacobian for argument ``argnums[k]`` and ``single`` says whether
    ``f`` returned one tensor (rather than a tuple or list of them)."""
    record = recording_needed(args)
    jacs, single = [], True
    for i in argnums:
        columns, outputs, single = _jacobian_column_pass(f, args, i, record, name, lead)
        if not record and _closure_history(outputs):
            # f closes over tensors that require grad: record the tangents too (see jvp).
            columns, outputs, single = _jacobian_column_pass(f, args, i, True, name, lead)
        jacs.append(columns)
    return jacs, single


def _jacobian_column_pass(f, args, i, record, name, lead):
    x = args[i]
    in_shape = tuple(x._data.shape[len(lead):])
    n = int(np.prod(in_shape, dtype=np.int64))
    with forward_level(record, name) as level:
        ns = BatchedNamespace(P.traced, n)
        seeds = Tensor._wrap(_seeds(n, x._data.dtype, lead, in_shape))
        call = list(args)
        call[i] = make_dual(x, ns.wrap(seeds), level)
        outputs, single = _outputs(name, f(*call))
        tangents = [tangent_of(out, level) for out in outputs]
    return [_jacobian_columns(out, t, in_shape, n, lead) for out, t in zip(outputs, tangents)], outputs, single


def _jacobian_columns(out, t, in_shape, n, lead):
    """The Jacobian ``lead + out + in`` (per-example shapes) from ``t``, the batch of ``out``'s
    tangents (``(n,) + out.shape``, indexed by input element first: that axis goes last)."""
    k = len(lead)
    out_shape = tuple(out._data.shape[k:])
    shape = out_shape + in_shape
    if t is None:
        return Tensor._wrap(np.zeros(lead + shape, dtype=out._data.dtype))
    value = t.value if isinstance(t, Batched) else P.traced.broadcast_to(t, shape=(n,) + tuple(out._data.shape))
    ndim = len(out._data.shape)
    moved = P.traced.permute(value, dims=tuple(range(1, ndim + 1)) + (0,)) if ndim else value
    return P.traced.reshape(moved, shape=lead + shape)
