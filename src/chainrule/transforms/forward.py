"""Forward mode: tensors that carry a tangent per open level, pushed through the table's JVP rules.

Each ``forward_level()`` opens a new level; a tensor's ``_tangents`` maps level → tangent tensor.
Levels nest (a tangent can itself carry tangents of outer levels), which is what makes
``jvp`` of ``jvp`` and ``jvp`` of ``grad`` exact, with no confusion between levels.

This module also keeps the reverse transforms' levels that are open (whose function is running)
and decides which tensors are *traced*: those carrying a tangent of an open forward level or
history from an open reverse level. Converting a traced tensor to a Python number or a NumPy
array would silently drop its derivative, so ``check_conversion`` raises instead (SPEC §2).
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, overload

from ..core import backend as B
from ..core import dispatch as P
from ..core.modes import state
from ..core.tensor import Tensor, version_counter
from ..ops.elementwise import cast
from ..ops.shape import alias

_T = TypeVar("_T")

_levels = itertools.count(1)
# Whether each open level's tangent computations are recorded for reverse mode: only when an
# outer reverse transform, or an input that requires grad, may differentiate the tangents.
RECORDED = P.RECORDED


def recording_needed(values: Iterable[object]) -> bool:
    """Whether a forward pass from ``values`` must be recorded for reverse mode: inside a reverse
    transform, or from tensors that require grad."""
    return state.grad_enabled and (
        state.transform_depth > 0 or any(isinstance(v, Tensor) and v._requires_grad for v in values))


@contextmanager
def forward_level(record: bool = True, name: str = "jvp") -> Iterator[int]:
    """Open a forward-mode level for the extent of the ``with`` block; yields its number.
    ``name`` (the transform) is for error messages."""
    level = next(_levels)
    state.forward_levels.append(level)
    RECORDED[level] = record
    _LEVEL_NAMES[level] = name
    try:
        yield level
    finally:
        state.forward_levels.remove(level)
        del RECORDED[level]
        _LEVEL_NAMES.pop(level, None)


_LEVEL_NAMES: dict[int, str] = {}


def make_dual(primal: Tensor, tangent: Any, level: int) -> Tensor:
    """A tensor with ``primal``'s value (and history) carrying ``tangent`` at ``level``."""
    if getattr(getattr(primal._data, "ns", None), "level", 0):
        # A batched tensor of vmap: its operations run on its full batch, which would not carry
        # the tangent. Transforms lift their inputs to the full batch first (trees.Lifted).
        raise RuntimeError("forward mode: a tangent for a batched tensor of vmap must be given to its "
                           "full batch (an internal error: please report it)")
    if not isinstance(tangent, Tensor) and not hasattr(tangent, "ns"):
        tangent = Tensor._wrap(B.as_array(tangent, primal._data.dtype, like=primal._data))
    if tuple(tangent.shape) != primal._data.shape:
        raise ValueError(
            f"jvp: tangent shape {tuple(tangent.shape)} does not match primal shape "
            f"{primal._data.shape}; each tangent must have its primal's shape"
        )
    if isinstance(tangent, Tensor) and tangent._data.dtype != primal._data.dtype:
        tangent = cast(tangent, dtype=primal._data.dtype)
    dual = alias(primal)
    tangents = dict(dual._tangents) if dual._tangents else {}
    tangents[level] = tangent
    dual._tangents = tangents
    return dual


def tangent_of(t: object, level: int) -> Any:
    """The tangent of ``t`` at ``level`` (``None`` when it has none: a zero tangent)."""
    if isinstance(t, Tensor) and t._tangents:
        return t._tangents.get(level)
    return None


@overload
def primal_of(t: Tensor, level: int) -> Tensor: ...
@overload
def primal_of(t: _T, level: int) -> _T: ...


def primal_of(t: object, level: int) -> object:
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


# ---------------------------------------------------------------------------------------------
# Open reverse levels and conversions out of the graph
# ---------------------------------------------------------------------------------------------

class TracedConversionError(TypeError, RuntimeError):
    """A traced tensor was converted to a Python number or a NumPy array inside a transform,
    which would silently drop its derivative (both a ``TypeError`` and a ``RuntimeError``)."""


class _Local(threading.local):
    def __init__(self) -> None:
        # One entry per open reverse transform: (name, {id(handle or its node): handle}).
        self.reverse: list[tuple[str, dict[int, Tensor]]] = []
        # > 0 while conversions are allowed (a custom Function's forward: its own derivative rules).
        self.suspended = 0


local = _Local()


# The fresh leaves reverse transforms differentiate with respect to (one per input). Once the
# transform has returned they are constants: history that ends in them is nobody's to keep.
_INTERNAL: weakref.WeakValueDictionary[int, Tensor] = weakref.WeakValueDictionary()


def internal_leaf(handle: Tensor) -> Tensor:
    """Register ``handle`` as a transform's own input leaf; returns it."""
    _INTERNAL[id(handle)] = handle
    return handle


def is_internal(leaf: object) -> bool:
    return _INTERNAL.get(id(leaf)) is leaf


def outside_leaves(outputs: Iterable[Tensor], stop: Iterable[Tensor] = ()) -> Iterator[Tensor]:
    """Leaves requiring grad, other than transforms' own inputs, that ``outputs`` depend on (user
    tensors and closures over them), one at a time; ``stop``: tensors whose history is not entered."""
    halt = {id(t._node) if t._node is not None else id(t) for t in stop}
    seen: set[int] = set()
    stack: list[Any] = []
    for o in outputs:
        if not o._requires_grad:
            continue
        if o._node is None:
            if id(o) not in halt and not is_internal(o):
                yield o
        else:
            stack.append(o._node)
    while stack:
        node = stack.pop()
        if id(node) in seen or id(node) in halt:
            continue
        seen.add(id(node))
        for parent in node.edges:
            if parent is None or id(parent) in halt:
                continue
            if parent._leaf:
                if not is_internal(parent):
                    yield parent
            else:
                stack.append(parent)


def open_marks() -> dict[int, str]:
    """``{id(handle or its node): transform name}`` of the open reverse transforms."""
    marks = {}
    for name, ids in local.reverse:
        for key in ids:
            marks[key] = name
    return marks


def traced_by(t: Tensor) -> tuple[str, str] | None:
    """The name of the open transform that traces ``t`` and what it would lose, or None."""
    tangents = t._tangents
    levels = state.forward_levels
    if tangents and levels:
        cap = state.forward_cap  # computing a level-cap tangent (a JVP rule): only lower levels count
        for level in tangents:
            if level in levels and (cap is None or level < cap):
                return _LEVEL_NAMES.get(level, "jvp"), "tangent"
    # History only matters while it is recorded: under no_grad (or in a backward pass that is
    # not recorded) a tensor is used as a constant anyway.
    if not (t._requires_grad and local.reverse and state.grad_enabled):
        return None
    marks = open_marks()
    start: Any = t if t._node is None else t._node
    found = marks.get(id(start))
    if found is not None:
        return found, "gradient"
    seen = {id(start)}
    stack = [] if start._leaf else [start]
    while stack:
        node = stack.pop()
        for parent in node.edges:
            if parent is None or id(parent) in seen:
                continue
            found = marks.get(id(parent))
            if found is not None:
                return found, "gradient"
            seen.add(id(parent))
            if not parent._leaf:
                stack.append(parent)
    return None


_FIXES = {
    "float()": "Use chainrule operations instead (cr.sin(x), not math.sin(x))",
    "int()": "Use chainrule operations instead (cr.floor / cr.round keep the tensor)",
    ".item()": "Keep the tensor (it is a one-element tensor already)",
    ".tolist()": "Keep the tensor and index it, or cr.unbind / iteration over it",
    ".numpy()": "Use chainrule operations on the tensor",
    "np.asarray()": ("Use chainrule operations: cr.stack([...]) instead of np.array([...]), "
                     "cr.mean instead of np.mean of a list, chainrule functions instead of "
                     "NumPy/SciPy ones it lacks"),
}


def check_conversion(t: Tensor, what: str) -> None:
    """Raise ``TracedConversionError`` if converting ``t`` (by ``what``) would drop a derivative."""
    if local.suspended:
        return
    traced = traced_by(t)
    if traced is None:
        return
    name, kind = traced
    shape = tuple(t._data.shape)
    raise TracedConversionError(
        f"{what}: cannot convert a tensor (shape {shape}, dtype {t._data.dtype}) that cr.{name} "
        f"is differentiating to a plain {'array' if what in ('np.asarray()', '.numpy()', '.tolist()') else 'number'}: "
        f"its {kind} would be silently dropped, giving a wrong (zero) derivative. "
        f"{_FIXES.get(what, 'Use chainrule operations instead')}; if dropping the "
        f"derivative is meant, convert t.detach() instead (e.g. float(t.detach()), "
        f"np.asarray(t.detach()))."
    )
