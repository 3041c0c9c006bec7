"""Results whose graph a backward pass inside a compiled call freed (a training step that
returns its loss): given to the caller as eager mode gives them, ``requires_grad`` with a
``grad_fn`` named as eager mode's, ``backward()`` through which raises eager mode's error."""

from __future__ import annotations

from typing import Any

from ..core import dispatch as P
from ..core import graph as core_graph
from ..core.graph import FREED
from ..core.tensor import Tensor


def freed(tensor: Tensor) -> bool:
    """Whether ``backward()`` already ran through ``tensor``'s graph, freeing it (a training
    step that returns its loss)."""
    stack = [tensor._node]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node.saved is FREED:
            return True
        stack.extend(e for e in node.edges if e is not None and not isinstance(e, Tensor))
    return False


_FREED_PRIMS: dict[str, Any] = {}


def freed_result(data: Any, node_name: str) -> Tensor:
    """A result whose graph a backward pass freed, as eager mode returns it: ``requires_grad``,
    a ``grad_fn`` named as eager mode's, and ``backward()`` through it raises eager mode's error."""
    prim = _FREED_PRIMS.get(node_name)
    if prim is None:
        prim = P.Primitive(node_name, None, None, None, vjp_all=True, save_inputs=False)
        prim.node_name = node_name
        _FREED_PRIMS[node_name] = prim
    node = core_graph.record(prim, (), (), None, None, None)
    node.saved = FREED
    return Tensor._from_node(data, node)
