"""``vmap``: a function of one example mapped over an axis of its inputs, with JAX's conventions.

Inside ``vmap(f)``, ``f`` sees *batched tensors*: ordinary ``Tensor`` objects whose data is a
``Stacked`` value, the whole batch (its batch axis first) with the shape of one example. Every
primitive called on one is sent by the dispatch (``Primitive.__call__``) to the batching rule of
its level's ``BatchedNamespace`` (see ``batching``), which computes the whole batch at once
with the primitives on the full arrays. So:

- the computation is recorded at the level of the full arrays: ``grad`` of a ``vmap`` (and every
  other transform of it) differentiates the batched computation as it is;
- ``vmap`` of ``vmap`` nests: the inner level's full value is a batched tensor of the outer level;
- transforms inside ``vmap`` (``grad``, ``vjp``, ``jvp``, Jacobians: ``vmap(grad(loss),
  in_axes=(None, 0, 0))`` gives per-example gradients) work on the full arrays too: the
  differentiated inputs are made batched (an unbatched one is copied along the batch), and
  since the examples of a batch do not interact, the derivative of the full computation holds
  each example's derivative (see ``lifting``).

A batched tensor cannot be converted to a number or an array, or decide Python control flow
(``if x > 0``): its value differs per example. Write such code with ``cr.where``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np

from ..core import backend as B
from ..core import dispatch as P
from ..core.creation import as_tensor
from ..core.modes import state
from ..core.tensor import Tensor
from ..ops import shape as S
from .arguments import _check_callable, _describe
from .batching import Batched, BatchedNamespace
from .pytree import PyTreeDef, _node, _same_aux, tree_flatten, tree_map

__all__ = ["vmap"]


class VmapError(TypeError):
    """A batched tensor used where its per-example values would be needed (a conversion, ``if``)."""


def _conversion_error(what: str) -> VmapError:
    return VmapError(
        f"vmap: {what} of a batched tensor: inside cr.vmap a tensor holds a different value for each "
        f"example, so it cannot become one Python number, array or truth value; use chainrule "
        f"operations (cr.where(cond, a, b) for an if) or return the value from the mapped function"
    )


class Stacked(Batched):
    """The data of a batched tensor: ``value``, the batch (a tensor, batch axis first) and ``ns``,
    its level's namespace. ``shape``, ``ndim``, ``dtype`` and ``size`` are one example's."""

    __slots__ = ()

    @property
    def dtype(self) -> np.dtype:
        return self.value._data.dtype

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __array__(self, *args: object, **kwargs: object) -> NoReturn:
        raise _conversion_error("np.asarray()")

    def __bool__(self) -> bool:
        raise _conversion_error("bool() (a Python if or while)")

    def __float__(self) -> float:
        raise _conversion_error("float()")

    def __int__(self) -> int:
        raise _conversion_error("int()")

    def __index__(self) -> int:
        raise _conversion_error("an index")

    def detached(self) -> Stacked:
        """``t.detach()`` of the batched tensor: the batch, detached."""
        return Stacked(self.value.detach(), self.ns)

    def copy(self) -> Stacked:
        """``cr.tensor(t)``: a copy of the batch, without history."""
        return Stacked(S.clone(self.value.detach()), self.ns)

    def astype(self, dtype: Any, copy: bool = True) -> Stacked:
        return Stacked(self.value.detach().to(dtype), self.ns)

    def min(self) -> Any:
        """The smallest value of the whole batch (for checks of indices and labels)."""
        data = self.value._data
        return data.min() if data.size else data.dtype.type(0)

    def max(self) -> Any:
        """The largest value of the whole batch (for checks of indices and labels)."""
        data = self.value._data
        return data.max() if data.size else data.dtype.type(0)

    def refuse_conversion(self, what: str) -> NoReturn:
        """Called by the tensor for ``float(t)``, ``t.item()``, ``np.asarray(t)``, ``if t``."""
        raise _conversion_error(what)

    def item(self) -> NoReturn:
        raise _conversion_error(".item()")

    def tolist(self) -> NoReturn:
        raise _conversion_error(".tolist()")

    def __repr__(self) -> str:
        return f"<batched: {self.ns.size} examples of shape {self.shape}, vmap level {self.ns.level}>"

    # As the data of a tensor, arithmetic goes through the dispatch (to the level's rules), never
    # through Batched's operators: an implementation handed this data fails, and the dispatch
    # sends the call to the batching rule instead.
    def _refuse(self, *other: object) -> Any:
        return NotImplemented

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __matmul__ = __rmatmul__ = _refuse
    __gt__ = __lt__ = __ge__ = __le__ = __eq__ = __ne__ = _refuse
    __hash__ = object.__hash__

    def __neg__(self) -> NoReturn:
        raise TypeError("a batched value is not an array")


class VmapNamespace(BatchedNamespace):
    """A vmap level: the batching rules over ``traced`` for batches of ``size`` examples."""

    def __init__(self, size: int, level: int) -> None:
        super().__init__(P.traced, size)
        self.level = level

    def wrap(self, value: Any) -> Batched:
        return Stacked(value, self)

    def shell(self, value: Any) -> Any:
        """A rule's result as batched tensors (``Stacked`` data), tuples entry by entry."""
        if isinstance(value, Stacked):
            return Tensor._make(value)
        if isinstance(value, Batched):
            return Tensor._make(Stacked(value.value, self))
        if isinstance(value, tuple):
            return tuple(self.shell(v) for v in value)
        return value

    def per_example(self, function: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """``function`` example by example (see ``ops._define.per_example``), results stacked."""
        return _per_example(self, function, args, kwargs)

    def batch(self, t: Tensor) -> Tensor:
        """The full batch behind a tensor: its value if batched at this level, else ``t``
        repeated along a new first axis."""
        data = t._data
        if isinstance(data, Stacked) and data.ns is self:
            return data.value
        return self.base.broadcast_to(t, shape=(self.size,) + tuple(t.shape))




def batched_level(t: object) -> VmapNamespace | None:
    """The vmap level of a batched tensor (None for any other value)."""
    data = getattr(t, "_data", None)
    if isinstance(data, Stacked) and isinstance(data.ns, VmapNamespace):
        return data.ns
    return None


def _moveaxis(t: Tensor, source: int, destination: int) -> Tensor:
    if source == destination:
        return t
    dims = list(range(t.ndim))
    dims.insert(destination, dims.pop(source))
    return S.permute(t, *dims)  # a view that shares t's version counter


def _axes_for(op: str, axes: Any, tree: Any, what: str) -> list[Any]:
    """One axis (int or None) per leaf of ``tree``: ``axes`` is a prefix of its structure (an int
    or None standing for a whole subtree), JAX's rule."""
    leaves, treedef = tree_flatten(tree)
    if axes is None or isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        return [axes] * len(leaves)
    out: list[Any] = []
    _expand(op, axes, treedef, out, what)
    return out


def _expand(op: str, axes: Any, treedef: PyTreeDef, out: list[Any], what: str) -> None:
    if axes is None or isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        out.extend([axes] * treedef.num_leaves)
        return
    node = _node(axes)
    if treedef.is_leaf or node is None:
        raise ValueError(f"{op}: {what} {axes!r} goes deeper than the argument (a single value there)"
                         if treedef.is_leaf else f"{op}: {what} holds {axes!r}; use ints, None, or "
                         f"tuples, lists and dicts of them")
    children, aux = node[0](axes)
    children = list(children)
    if type(axes) is not treedef.kind or not _same_aux(aux, treedef.aux) or len(children) != len(treedef.children):
        raise ValueError(f"{op}: {what} has structure {tree_flatten(axes, lambda x: x is None)[1]._text()}, "
                         f"which is not a prefix of its value's structure {treedef._text()} (the same "
                         f"containers, the same dict keys)")
    for child_axes, child_def in zip(children, treedef.children):
        _expand(op, child_axes, child_def, out, what)


def _check_axis_spec(op: str, spec: Any, name: str) -> None:
    leaves = tree_flatten(spec, lambda x: x is None)[0]
    for a in leaves:
        if a is not None and not (isinstance(a, (int, np.integer)) and not isinstance(a, bool)):
            raise TypeError(f"{op}: {name} must be an int, None, or a tuple/list/dict of them, got "
                            f"{_describe(a)}")


def vmap(f: Callable[..., Any], in_axes: Any = 0, out_axes: Any = 0) -> Callable[..., Any]:
    """``f`` mapped over an axis of its inputs: ``vmap(f)(xs)[i] == f(xs[i])``, all examples at once.

    ``in_axes``: the batch axis of each argument (an int, None for an argument shared by all
    examples, or a tuple with one entry per argument, each an int, None or a pytree prefix of
    the argument); ``out_axes``: where the batch axis goes in each output (likewise). JAX's
    conventions.

    >>> per_example = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))(w, X, y)   # (B, *w.shape)
    """
    _check_callable("vmap", f)
    _check_axis_spec("vmap", in_axes, "in_axes")
    _check_axis_spec("vmap", out_axes, "out_axes")

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return _vmap_call(f, in_axes, out_axes, args, kwargs)

    wrapped.__name__ = f"vmap({getattr(f, '__name__', 'f')})"
    wrapped.__doc__ = f.__doc__
    return wrapped


def _vmap_call(f: Callable[..., Any], in_axes: Any, out_axes: Any, args: Sequence[Any],
               kwargs: dict[str, Any]) -> Any:
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    if isinstance(in_axes, tuple):
        if len(in_axes) != len(args):
            raise ValueError(f"vmap: in_axes has {len(in_axes)} entries for {len(args)} arguments; give "
                             f"one per argument (None for one shared by every example)")
        per_arg = in_axes
    else:
        per_arg = (in_axes,) * len(args)
    leaves, treedef = tree_flatten((tuple(args), kwargs))
    axes: list[Any] = []
    for i, (a, spec) in enumerate(zip(args, per_arg)):
        axes.extend(_axes_for("vmap", spec, a, f"in_axes[{i}]"))
    axes.extend([0] * (len(leaves) - len(axes)))  # keyword arguments: mapped over axis 0 (JAX's)
    size = None
    batched = []
    for k, (leaf, axis) in enumerate(zip(leaves, axes)):
        if axis is None:
            batched.append(leaf)
            continue
        t = leaf if isinstance(leaf, Tensor) else as_tensor(leaf)
        if t.ndim == 0:
            raise ValueError(f"vmap: in_axes {axis} for a 0-d argument (leaf {k}, {_describe(leaf)}); "
                             f"use None for an argument shared by every example")
        if not -t.ndim <= axis < t.ndim:
            raise ValueError(f"vmap: in_axes {axis} is out of range for an argument of shape "
                             f"{tuple(t.shape)} (leaf {k})")
        axis = int(axis) % t.ndim
        n = t.shape[axis]
        if size is None:
            size = n
        elif n != size:
            raise ValueError(f"vmap: the mapped axes have different sizes: {size} and {n} (leaf {k}, "
                             f"shape {tuple(t.shape)}, axis {axis}); every mapped axis must have the "
                             f"batch's size")
        batched.append((t, axis))
    if size is None:
        raise ValueError("vmap: no argument is mapped (every in_axes is None, or there are no "
                         "arguments); map at least one")
    ns = VmapNamespace(size, level=len(state.vmap_levels) + 1)
    call = []
    for b in batched:
        if isinstance(b, tuple):
            t, axis = b
            call.append(ns.shell(ns.wrap(_moveaxis(t, axis, 0))))
        else:
            call.append(b)
    state.vmap_levels.append(ns)
    try:
        call_args, call_kwargs = treedef.unflatten(call)
        out = f(*call_args, **call_kwargs)
    finally:
        state.vmap_levels.pop()
    inputs = [leaf._data for leaf in leaves if isinstance(leaf, Tensor) and isinstance(leaf._data, np.ndarray)]
    return _unbatch(ns, out, out_axes, inputs)


def _check_output(leaf: Any) -> None:
    if isinstance(leaf, (Tensor, bool, int, float, np.number, np.bool_)):
        return
    if isinstance(leaf, np.ndarray) and leaf.dtype.kind in "biuf":
        return
    raise TypeError(f"vmap: the mapped function returned {_describe(leaf)}; it must return tensors "
                    f"(or numbers, or tuples, lists and dicts of them)")


def _unbatch(ns: VmapNamespace, out: Any, out_axes: Any, inputs: Sequence[Any] = ()) -> Any:
    if out is None:
        raise TypeError("vmap: the mapped function returned None; it must return tensors (or numbers, "
                        "or tuples, lists and dicts of them)")
    leaves, treedef = tree_flatten(out)
    for leaf in leaves:
        _check_output(leaf)
    axes = _axes_for("vmap", out_axes, out, "out_axes")
    results = []
    for leaf, axis in zip(leaves, axes):
        level = batched_level(leaf)
        if level is not None and level is not ns and level.level > ns.level:
            raise ValueError("vmap: the mapped function returned a batched tensor of an inner vmap "
                             "(one that escaped its vmap, e.g. through a closure or a global)")
        if axis is None:
            if level is ns:
                raise ValueError("vmap: out_axes None for an output that differs between examples; "
                                 "use an int out_axes (where the batch axis goes)")
            results.append(leaf)
            continue
        if not isinstance(leaf, Tensor):
            leaf = as_tensor(leaf)
        full = ns.batch(leaf)
        ndim = full.ndim
        if not -ndim <= axis < ndim:
            raise ValueError(f"vmap: out_axes {axis} is out of range for an output of {ndim - 1} "
                             f"dimension(s) per example")
        out = _moveaxis(full, 0, int(axis) % ndim)
        if any(B.may_share_memory(out._data, d) for d in inputs):
            out = S.clone(out)  # no output aliases an input: vmap's results are new tensors (JAX's)
        results.append(out)
    return treedef.unflatten(results)


# ---------------------------------------------------------------------------------------------
# Lifting: transforms inside vmap work on the full batch
# ---------------------------------------------------------------------------------------------

def open_levels() -> tuple[VmapNamespace, ...]:
    """The vmap levels open now, outermost first."""
    return tuple(state.vmap_levels)


def lift(t: Any, levels: Sequence[VmapNamespace]) -> Tensor:
    """The full batch behind ``t`` at ``levels`` (outermost first): a tensor of shape
    ``(B1, ..., Bk) + t.shape``, ``t`` repeated along the levels where it is not batched."""
    v = t if isinstance(t, Tensor) else as_tensor(t)
    for level in reversed(levels):
        v = level.batch(v)
    return v


def unlift(full: Any, levels: Sequence[VmapNamespace]) -> Any:
    """A full batch (``lift``'s result) as the batched tensor of ``levels`` it stands for."""
    if not isinstance(full, Tensor):
        return full
    v = full
    for level in levels:
        v = level.shell(level.wrap(v))
    return v


def _per_example(ns: VmapNamespace, function: Callable[..., Any], args: Sequence[Any],
                 kwargs: dict[str, Any]) -> Any:
    """``function`` applied to each example of ``ns``'s batched tensors, the results stacked into
    batched tensors (tuples, namedtuples and lists entry by entry)."""
    if not ns.size:
        raise ValueError(f"vmap: {getattr(function, '__name__', 'this function')} over a batch of 0 "
                         f"examples: it reads its inputs' values, so it runs example by example")
    results = []
    for b in range(ns.size):
        def pick(v: Any, b: int = b) -> Any:
            if batched_level(v) is ns:
                return P.traced.getitem(v._data.value, index=(b,))
            return v

        picked_args, picked_kwargs = tree_map(pick, (tuple(args), kwargs))  # (lists of tensors too)
        results.append(function(*picked_args, **picked_kwargs))
    return _stack_results(ns, results)


def _stack_results(ns: VmapNamespace, results: list[Any]) -> Any:
    first = results[0]
    if isinstance(first, (tuple, list)):
        parts = [_stack_results(ns, [r[i] for r in results]) for i in range(len(first))]
        return type(first)(*parts) if hasattr(first, "_fields") else type(first)(parts)
    if not isinstance(first, Tensor):
        return first
    rows = [P.traced.reshape(r, shape=(1,) + tuple(r.shape)) for r in results]
    return ns.shell(ns.wrap(P.traced.cat(*rows, dim=0)))

