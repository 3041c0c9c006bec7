"""Reading a recorded graph for pictures and staged code: its nodes in order, and their names."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from ..core import engine
from ..core.tensor import Tensor


def walk(output: Tensor) -> tuple[list[Any], dict[Any, int]]:
    """The nodes and leaves behind ``output``, in the order backward visits them, and consumer counts.

    The order is the engine's own (``engine._topological``), so code that follows it accumulates
    gradients in the same order as ``backward``. ``consumers`` maps each node or leaf to the number
    of edges leading into it: more than one means its value fans out.
    """
    root = key_of(output)
    consumers = engine._count_consumers([root])
    return engine._topological([root], consumers), consumers


def caller_tensors(depth: int) -> dict[str, Tensor]:
    """The tensors bound to local variables ``depth`` frames above the caller of this function."""
    frame = sys._getframe(depth + 1)
    return {name: value for name, value in frame.f_locals.items()
            if isinstance(value, Tensor) and not name.startswith("_")}


def names_by_key(names: Mapping[str, object]) -> dict[Any, str]:
    """Map each graph key (a node, or a leaf tensor) to the first variable name holding it."""
    keys: dict[Any, str] = {}
    for name, value in names.items():
        if isinstance(value, Tensor) and name.isidentifier():
            keys.setdefault(key_of(value), name)
    return keys


def with_own_names(keys: dict[Any, str], order: list[Any], explicit: bool) -> dict[Any, str]:
    """``keys`` (graph key -> name) with the names leaves carry (``Tensor.name``): over the
    caller's variable names, under names given explicitly (``names=``)."""
    out = dict(keys)
    taken = set(out.values())
    for key in order:
        own = key.name if isinstance(key, Tensor) else None
        if own is None or explicit and key in out:
            continue
        if own in taken and out.get(key) != own:
            continue  # (another tensor goes by it)
        out[key] = own
        taken.add(own)
    return out


def key_of(t: Tensor) -> Any:
    """The graph key of a tensor: its node, or the tensor itself for a leaf."""
    return t._node if t._node is not None else t
