"""Pytrees: nested tuples, lists and dicts of tensors, as JAX defines them.

A pytree is a container (tuple, list, dict, ``collections.OrderedDict``, ``defaultdict``, a
namedtuple, or a type registered with ``register_pytree_node``) of pytrees, or a leaf (anything
else: a tensor, an array, a number). ``None`` is an empty container (no leaves), as in JAX. A
dict's children are taken in sorted key order (insertion order when its keys do not sort), an
``OrderedDict``'s in insertion order.

>>> leaves, treedef = cr.tree_flatten({"w": w, "b": [b1, b2]})
>>> cr.tree_unflatten(treedef, [2 * x for x in leaves])   # {'b': [2*b1, 2*b2], 'w': 2*w}

Every transform flattens its arguments and results this way (see ``trees``).
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

__all__ = ["PyTreeDef", "tree_flatten", "tree_unflatten", "tree_map", "tree_leaves", "tree_structure",
           "register_pytree_node"]

# type -> (flatten: node -> (children, aux), unflatten: (aux, children) -> node)
_NODES: dict[type, tuple[Callable[[Any], tuple[Iterable[Any], Hashable]],
                         Callable[[Hashable, list[Any]], Any]]] = {}


def register_pytree_node(nodetype: type, flatten: Callable[[Any], tuple[Iterable[Any], Hashable]],
                         unflatten: Callable[[Hashable, list[Any]], Any]) -> None:
    """Make ``nodetype`` a container: ``flatten(node) -> (children, aux)`` and
    ``unflatten(aux, children) -> node`` (JAX's ``register_pytree_node``).

    >>> cr.register_pytree_node(Point, lambda p: ((p.x, p.y), None), lambda aux, xy: Point(*xy))
    """
    if not isinstance(nodetype, type):
        raise TypeError(f"register_pytree_node: expected a type, got {nodetype!r}")
    if nodetype in _NODES or nodetype in _BUILTIN:
        raise ValueError(f"register_pytree_node: {nodetype.__name__} is already a pytree node type")
    _NODES[nodetype] = (flatten, unflatten)


def _dict_keys(d: dict) -> list[Any]:
    try:
        return sorted(d)
    except TypeError:
        return list(d)


def _flatten_dict(d: dict) -> tuple[list[Any], Hashable]:
    keys = _dict_keys(d)
    return [d[k] for k in keys], tuple(keys)


def _flatten_defaultdict(d: defaultdict) -> tuple[list[Any], Hashable]:
    keys = _dict_keys(d)
    return [d[k] for k in keys], (d.default_factory, tuple(keys))


_BUILTIN: dict[type, tuple[Callable[[Any], tuple[Iterable[Any], Hashable]],
                           Callable[[Any, list[Any]], Any]]] = {
    tuple: (lambda t: (t, None), lambda aux, c: tuple(c)),
    list: (lambda t: (t, None), lambda aux, c: list(c)),
    dict: (_flatten_dict, lambda keys, c: dict(zip(keys, c))),
    OrderedDict: (lambda d: (list(d.values()), tuple(d)), lambda keys, c: OrderedDict(zip(keys, c))),
    defaultdict: (_flatten_defaultdict, lambda aux, c: defaultdict(aux[0], zip(aux[1], c))),
}


def _node(x: Any) -> tuple[Callable[[Any], tuple[Iterable[Any], Hashable]],
                           Callable[[Any, list[Any]], Any]] | None:
    kind = type(x)
    found = _BUILTIN.get(kind) or _NODES.get(kind)
    if found is None and isinstance(x, tuple) and hasattr(kind, "_fields"):  # a namedtuple
        found = (lambda t: (tuple(t), None), lambda aux, c, _k=kind: _k(*c))
    return found


class PyTreeDef:
    """The structure of a pytree: its containers, with a hole for each leaf."""

    __slots__ = ("kind", "aux", "children", "num_leaves")

    def __init__(self, kind: type | None, aux: Any, children: tuple[PyTreeDef, ...]) -> None:
        self.kind = kind  # None: a leaf
        self.aux = aux
        self.children = children
        self.num_leaves: int = 1 if kind is None else sum(c.num_leaves for c in children)

    @property
    def is_leaf(self) -> bool:
        return self.kind is None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PyTreeDef):
            return NotImplemented
        return (self.kind is other.kind and _same_aux(self.aux, other.aux)
                and self.children == other.children)

    def __hash__(self) -> int:
        return hash((self.kind, len(self.children), self.num_leaves))

    def __repr__(self) -> str:
        return f"PyTreeDef({self._text()})"

    def _text(self) -> str:
        if self.kind is None:
            return "*"
        inner = [c._text() for c in self.children]
        if self.kind is type(None):
            return "None"
        if self.kind is tuple:
            return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
        if self.kind is list:
            return "[" + ", ".join(inner) + "]"
        if self.kind is dict:
            return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(self.aux, inner)) + "}"
        return f"{self.kind.__name__}(" + ", ".join(inner) + ")"

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        """The pytree of this structure with ``leaves`` in its holes (in order)."""
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(f"tree_unflatten: the structure {self._text()} has {self.num_leaves} leaves, "
                             f"got {len(leaves)}")
        it = iter(leaves)
        return self._build(it)

    def _build(self, it: Any) -> Any:
        if self.kind is None:
            return next(it)
        if self.kind is type(None):
            return None
        children = [c._build(it) for c in self.children]
        found = _node_for_type(self.kind)
        return found[1](self.aux, children)


def _node_for_type(kind: type) -> Any:
    found = _BUILTIN.get(kind) or _NODES.get(kind)
    if found is None:  # a namedtuple
        return (None, lambda aux, c: kind(*c))
    return found


def _same_aux(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # aux data that does not compare (arrays): identity
        return a is b


_LEAF = PyTreeDef(None, None, ())
_NONE = PyTreeDef(type(None), None, ())


def _flatten(x: Any, leaves: list[Any], is_leaf: Callable[[Any], bool] | None) -> PyTreeDef:
    if x is None:
        return _NONE
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return _LEAF
    node = _node(x)
    if node is None:
        leaves.append(x)
        return _LEAF
    children, aux = node[0](x)
    return PyTreeDef(type(x), aux, tuple(_flatten(c, leaves, is_leaf) for c in children))


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list[Any], PyTreeDef]:
    """``(leaves, treedef)``: the leaves of ``tree`` in order, and its structure.

    >>> cr.tree_flatten({"b": 2.0, "a": (x, None)})
    ([x, 2.0], PyTreeDef({'a': (*, None), 'b': *}))
    """
    leaves: list[Any] = []
    treedef = _flatten(tree, leaves, is_leaf)
    return leaves, treedef


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Any]) -> Any:
    """The pytree of structure ``treedef`` (from ``tree_flatten``) holding ``leaves``."""
    if not isinstance(treedef, PyTreeDef):
        raise TypeError(f"tree_unflatten: expected a PyTreeDef (from cr.tree_flatten), got {type(treedef).__name__}")
    return treedef.unflatten(leaves)


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list[Any]:
    """The leaves of ``tree``, in order."""
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> PyTreeDef:
    """The structure of ``tree``."""
    return tree_flatten(tree, is_leaf)[1]


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """``f`` applied leafwise: a pytree of ``tree``'s structure holding ``f(leaf, *others)``, the
    others taken from ``rest`` (pytrees with ``tree``'s structure).

    >>> cr.tree_map(lambda p, g: p - 0.1 * g, params, grads)
    """
    if not callable(f):
        raise TypeError(f"tree_map: f must be a function (a callable), got {type(f).__name__} {f!r:.40}")
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = []
    for i, r in enumerate(rest):
        r_leaves, r_def = tree_flatten(r, is_leaf)
        if r_def != treedef:
            raise ValueError(f"tree_map: argument {i + 2} has structure {r_def._text()}, the first tree has "
                             f"{treedef._text()}; the trees must have the same structure")
        others.append(r_leaves)
    return treedef.unflatten(f(*xs) for xs in zip(leaves, *others))
