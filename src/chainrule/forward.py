"""Forward mode: tensors that carry a tangent per open level, pushed through the table's JVP rules.

Each ``forward_level()`` opens a new level; a tensor's ``_tangents`` maps level → tangent tensor.
Levels nest (a tangent can itself carry tangents of outer levels), which is what makes
``jvp`` of ``jvp`` and ``jvp`` of ``grad`` exact, with no confusion between levels.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager

import numpy as np

from .grad_mode import state
from .ops import _primitive as P
from .ops.shape import alias
from .tensor import Tensor, version_counter

_levels = itertools.count(1)
# Whether each open level's tangent computations are recorded for reverse mode: only when an
# outer reverse transform, or an input that requires grad, may differentiate the tangents.
RECORDED = P.RECORDED


def recording_needed(values) -> bool:
    """Whether a forward pass from ``values`` must be recorded for reverse mode: inside a reverse
    transform, or from tensors that require grad."""
    return state.grad_enabled and (
        state.transform_depth > 0 or any(isinstance(v, Tensor) and v._requires_grad for v in values))


@contextmanager
def forward_level(record: bool = True):
    """Open a forward-mode level for the extent of the ``with`` block; yields its number."""
    level = next(_levels)
    state.forward_levels.append(level)
    RECORDED[level] = record
    try:
        yield level
    finally:
        state.forward_levels.remove(level)
        del RECORDED[level]


def make_dual(primal: Tensor, tangent, level: int) -> Tensor:
    """A tensor with ``primal``'s value (and history) carrying ``tangent`` at ``level``."""
    if not isinstance(tangent, Tensor) and not hasattr(tangent, "ns"):
        tangent = Tensor._wrap(np.asarray(tangent, dtype=primal._data.dtype))
    if tuple(tangent.shape) != primal._data.shape:
        raise ValueError(
            f"jvp: tangent shape {tuple(tangent.shape)} does not match primal shape "
            f"{primal._data.shape}; each tangent must have its primal's shape"
        )
    if isinstance(tangent, Tensor) and tangent._data.dtype != primal._data.dtype:
        from .ops.elementwise import cast
        tangent = cast(tangent, dtype=primal._data.dtype)
    dual = alias(primal)
    tangents = dict(dual._tangents) if dual._tangents else {}
    tangents[level] = tangent
    dual._tangents = tangents
    return dual


def tangent_of(t, level: int):
    """The tangent of ``t`` at ``level`` (``None`` when it has none: a zero tangent)."""
    if isinstance(t, Tensor) and t._tangents:
        return t._tangents.get(level)
    return None


def primal_of(t, level: int):
    """``t`` without its tangent at ``level`` (same data and history, other levels kept)."""
    if not isinstance(t, Tensor) or not t._tangents or level not in t._tangents:
        return t
    out = Tensor._wrap(t._data)
    out._node = t._node
    out._requires_grad = t._requires_grad
    out._version = version_counter(t)
    rest = {k: v for k, v in t._tangents.items() if k != level}
    out._tangents = rest or None
    return out
