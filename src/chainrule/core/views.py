"""Views (PyTorch's model): tensors whose arrays are NumPy views of a root tensor's array, sharing
its version counter, whose history is replayed on the root's when an in-place change gives the
root a new one."""

from __future__ import annotations

import weakref

from .modes import state
from .tensor import Tensor, version_counter

# ---------------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------------
#
# How views work (PyTorch's model). A view — the result of basic indexing, reshape/view where
# NumPy needs no copy, transpose/permute/T, squeeze/unsqueeze/flatten, expand/broadcast_to,
# narrow, diagonal, split/chunk/unbind — is a ``View``: its array is a NumPy view of its
# *root* base's array and it shares the root's version counter, so an in-place change through
# any alias bumps the one counter that every saved copy of any alias is checked against.
#
# A view's autograd history is always "the view operations replayed on the root": the view
# keeps the chain of (primitive, params) that made it from the root, and the root's counter
# keeps (weakly) the views made from it. When an in-place operation gives the root a new
# history — through the root itself, or through a view as ``copy_slices(old root, new view
# value)`` (PyTorch's CopySlices, see ops/inplace.py) — every live view of that root, the one
# written through included, replays its chain on the new history (``rebase_views``), as
# PyTorch regenerates a view's grad_fn. Reading a view's history therefore costs nothing extra;
# the work is done by the (rare) in-place operations on tensors that have views. Operations
# PyTorch documents as copies (flip, advanced indexing) copy.

_node_slot = Tensor.__dict__["_node"]
_base_slot = Tensor.__dict__["_base"]
view_info = _base_slot.__get__  # the ViewInfo of a View, None for any other tensor


class ViewInfo:
    """What makes a view: its root base, the view ops from the root, and how it was made
    (``multi``: one of several outputs of split/chunk/unbind; ``no_grad``: made while grad mode
    was off — such a view never takes its base's history)."""

    __slots__ = ("base", "chain", "multi", "no_grad")

    def __init__(self, base, chain, multi, no_grad):
        self.base = base
        self.chain = chain
        self.multi = multi
        self.no_grad = no_grad


class View(Tensor):
    """A tensor sharing storage, version counter and (regenerated) history with its base."""

    __slots__ = ()

    @property
    def _base(self) -> Tensor:
        """The tensor this is a view of (the root: never itself a view), as PyTorch's ``_base``."""
        return _base_slot.__get__(self).base


class _UnrebasableView(View):
    """An output of split/chunk/unbind whose base's history changed in place: PyTorch refuses to
    give it the new history, so using its history raises (its values stay readable)."""

    __slots__ = ()

    @property
    def _node(self):
        if not state.grad_enabled:  # nothing is recorded: its old history may be read
            return _node_slot.__get__(self)
        info = _base_slot.__get__(self)
        raise RuntimeError(
            f"a view of shape {self._data.shape} returned by split/chunk/unbind (one of several "
            f"outputs) is used after its base (shape {info.base._data.shape}) or another view of it "
            f"was modified in place; such views can't be given the new history. clone() the outputs "
            f"before modifying the base, or take them by indexing the base after the change."
        )

    @_node.setter
    def _node(self, value):
        _node_slot.__set__(self, value)


class _RetainPendingView(View):
    """A view with ``retain_grad()`` whose history was rebuilt because another alias changed:
    as in PyTorch (which rebuilds lazily), ``retain_grad`` moves to the new node only when that
    node is first used; until then gradients reaching the old node still fill ``.grad``. The old
    node waits in the ``_hooks`` slot (unused by non-leaf tensors)."""

    __slots__ = ()

    @property
    def _node(self):
        node = _node_slot.__get__(self)
        old = self._hooks
        self._hooks = None
        self.__class__ = View
        if old is not None and node is not None and old.extra is not None:
            retained = old.extra.get("retained")
            if retained is not None and retained() is self:
                node.retained = retained
                old.retained = None
        return node

    @_node.setter
    def _node(self, value):
        _node_slot.__set__(self, value)


def make_view(result: Tensor, input: Tensor, prim, params, multi: bool = False) -> Tensor:  # noqa: A002
    """Mark ``result`` (just computed as ``prim(input, **params)``, sharing its memory) a view."""
    step = ((prim, params),)
    info = _base_slot.__get__(input)
    if info is not None:
        root, chain = info.base, info.chain + step
        multi = multi or info.multi
        no_grad = info.no_grad or not state.grad_enabled
    else:
        root, chain, no_grad = input, step, not state.grad_enabled
    counter = root._version or version_counter(root)
    result._version = counter
    _base_slot.__set__(result, ViewInfo(root, chain, multi, no_grad))
    result.__class__ = View
    if len(counter) == 1:
        counter.append([])  # the views of this storage (weakly), after the version number
    views = counter[1]
    while views and views[-1]() is None:  # views made and dropped one after another (x.T in a
        views.pop()                       # layer, t[i] in a loop) keep the list short
    views.append(weakref.ref(result))
    if len(views) >= 64 and len(views) & (len(views) - 1) == 0:  # at 64, 128, 256, ... prune
        views[:] = [ref for ref in views if ref() is not None]
    return result


def rebase_views(root: Tensor, history_changed: bool = True, written: Tensor | None = None) -> None:
    """The storage of ``root`` was changed in place (``history_changed``: ``root`` has a new
    history). Every live view of that storage whose base has a history — through any alias, a
    detached one too — replays its chain on it (see "How views work" above); an output of
    split/chunk/unbind whose base requires grad can no longer be given a history."""
    counter = root._version
    if counter is None or len(counter) < 2:
        return
    live = []
    for ref in counter[1]:
        view = ref()
        if view is None:
            continue
        live.append(ref)
        info = _base_slot.__get__(view)
        base = info.base
        if info.no_grad:  # its history stays as it is (PyTorch); its tangents follow the storage
            if base._tangents is not None or view._tangents is not None:
                _retangent(view, info, base)
            continue
        if history_changed and base is root or base._requires_grad or base._tangents is not None:
            # its storage changed (through any alias, a detached one too): its history is
            # rebuilt, as PyTorch rebuilds a view's grad_fn once the version moved
            _rebase(view, info, base, view is written)
    counter[1][:] = live


def replay(root, chain, grad_enabled: bool):
    """A view's chain of view operations applied to ``root`` again, in the grad mode given."""
    previous = state.grad_enabled
    state.grad_enabled = grad_enabled
    try:
        current = root
        for prim, params in chain:
            current = prim(current, **params)
    finally:
        state.grad_enabled = previous
    return current


def _retangent(view, info, root) -> None:
    """The forward-mode tangents of a view made in no_grad mode, replayed from ``root``'s (its
    values changed in place: so did their tangents)."""
    view._tangents = replay(root, info.chain, False)._tangents


def _rebase(view, info, root, written: bool) -> None:
    """Replay ``view``'s chain on ``root``'s history. ``retain_grad()`` moves to the new node at
    once for the view written through, and for another view when its new node is first used
    (its old node may still be the one a loss uses: PyTorch rebuilds views lazily)."""
    if info.multi and root._requires_grad:
        view.__class__ = _UnrebasableView
        view._requires_grad = True
        return
    old = _node_slot.__get__(view)
    if not root._requires_grad and root._tangents is None:
        node = requires = tangents = None
    else:
        current = replay(root, info.chain, True)
        node, requires, tangents = current._node, current._requires_grad, current._tangents
    if type(view) is _RetainPendingView:  # the node that holds its retain_grad() is waiting
        old = view._hooks
        if written:
            view.__class__ = View  # type: ignore[assignment]  # (mypy narrowed view's class above)
            view._hooks = None
    if old is not None and node is not None and old.extra is not None:
        retained = old.extra.get("retained")
        if retained is not None and retained() is view:
            if written:
                node.retained = retained  # retain_grad() follows the tensor to its new history
                old.retained = None
            elif type(view) is View:
                view._hooks = old  # moves when the new node is first used (see below)
                view.__class__ = _RetainPendingView
    _node_slot.__set__(view, node)
    view._requires_grad = bool(requires)
    view._tangents = tangents
