"""Transforms of functions of pytrees: the function seen as one of the leaves of its arguments.

Every transform runs its tensor-only form on ``Flat(f, args, nums)``: the arguments at ``nums``
are flattened into their leaves (one positional argument each), the function is called with the
pytrees rebuilt, and its result is flattened too; the transform's results are then put back in
the structures of the arguments (gradients, Jacobians' input side) and of the result (values,
tangents, Jacobians' output side).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..core.tensor import Tensor
from .arguments import _split_aux
from .pytree import _LEAF, PyTreeDef, tree_flatten
from .vmap import lift, unlift


def _none_is_leaf(x: object) -> bool:
    return x is None


class Flat:
    """``f`` with the pytrees at positions ``nums`` of ``args`` replaced by their leaves.

    ``flat_args`` are the arguments to call it with, ``flat_nums`` the positions of the leaves
    that replace ``args[nums[k]]`` (in order, repeated as ``nums`` repeats); after a call,
    ``out_def`` is the structure of ``f``'s result (without the aux of ``has_aux``).
    """

    __slots__ = ("op", "f", "has_aux", "slots", "flat_args", "flat_nums", "out_def")

    def __init__(self, op: str, f: Callable[..., Any], args: Sequence[Any], nums: Sequence[int],
                 has_aux: bool = False) -> None:
        self.op = op
        self.f = f
        self.has_aux = has_aux
        wanted = set(nums)
        slots: list[tuple[int, int, PyTreeDef | None]] = []
        flat: list[Any] = []
        for i, a in enumerate(args):
            start = len(flat)
            if i in wanted:
                if type(a) is Tensor:  # the common case: a leaf, no flattening
                    flat.append(a)
                    slots.append((start, start + 1, _LEAF))
                    continue
                leaves, treedef = tree_flatten(a)
                flat.extend(leaves)
                slots.append((start, len(flat), treedef))
            else:
                flat.append(a)
                slots.append((start, start + 1, None))
        self.slots = slots
        self.flat_args = flat
        self.flat_nums = tuple(k for i in nums for k in range(slots[i][0], slots[i][1]))
        self.out_def: PyTreeDef | None = None

    def rebuild(self, xs: Sequence[Any]) -> list[Any]:
        """The original arguments from flat ones."""
        args = []
        for start, end, treedef in self.slots:
            args.append(xs[start] if treedef is None or treedef is _LEAF else treedef.unflatten(xs[start:end]))
        return args

    def __call__(self, *xs: Any) -> Any:
        result = self.f(*self.rebuild(xs))
        result, aux = _split_aux(self.op, result, self.has_aux)
        if type(result) is Tensor:  # the common case: one tensor
            self.out_def = _LEAF
            return (result, aux) if self.has_aux else result
        leaves, treedef = tree_flatten(result)
        self.out_def = treedef
        # No leaves (None, {}): handed on as it is, for the transform to refuse or accept.
        out = leaves[0] if treedef.is_leaf else tuple(leaves) if leaves else result
        return (out, aux) if self.has_aux else out

    def group(self, values: Sequence[Any], nums: Sequence[int], single: bool) -> Any:
        """Per-leaf ``values`` (in ``flat_nums``' order) as a pytree per entry of ``nums``: the
        entry's structure; one of them if ``single`` (an int ``argnums``), else a tuple."""
        per = []
        pos = 0
        for i in nums:
            start, end, treedef = self.slots[i]
            n = end - start
            assert treedef is not None
            per.append(values[pos] if treedef is _LEAF else treedef.unflatten(values[pos:pos + n]))
            pos += n
        return per[0] if single else tuple(per)

    def output(self, values: Any) -> Any:
        """A value the tensor-only transform returned per output (one, or a tuple of them) in
        the structure of ``f``'s result."""
        treedef = self.out_def
        assert treedef is not None
        if treedef.is_leaf:
            return values
        return treedef.unflatten(values if treedef.num_leaves else ())

    def cotangent_leaves(self, cotangents: tuple[Any, ...]) -> list[Any]:
        """The leaves of a cotangent for ``f``'s result (``vjp_fn(cot)``): a pytree of the result's
        structure (``None`` for an output that gets no cotangent), or, for a tuple or list result,
        its entries as separate arguments."""
        treedef = self.out_def
        assert treedef is not None
        if len(cotangents) == 1:
            cot = cotangents[0]
        elif treedef.kind in (tuple, list):
            cot = treedef.kind(cotangents)
        else:
            raise ValueError(f"{self.op}: got {len(cotangents)} cotangents for a result of structure "
                             f"{treedef._text()}; pass one cotangent of that structure")
        if treedef.is_leaf:
            return [cot]
        leaves, found = tree_flatten(cot, _none_is_leaf)
        if found != treedef:
            if treedef.kind in (tuple, list) and isinstance(cot, (tuple, list)) and \
                    len(cot) == len(treedef.children) and all(c.is_leaf for c in treedef.children):
                return list(cot)  # a list for a tuple result, or the other way round
            raise ValueError(f"{self.op}: the cotangent has structure {found._text()}, the function's "
                             f"result has {treedef._text()}; pass a cotangent of the result's structure")
        return leaves


def tangent_leaves(op: str, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """The leaves of ``primals`` and of ``tangents`` (one pytree per primal, of its structure)."""
    ps: list[Any] = []
    ts: list[Any] = []
    for i, (p, t) in enumerate(zip(primals, tangents)):
        p_leaves, p_def = tree_flatten(p)
        t_leaves, t_def = tree_flatten(t)
        if p_def != t_def:
            raise ValueError(f"{op}: tangent {i} has structure {t_def._text()}, its primal has "
                             f"{p_def._text()}; each tangent must have its primal's structure")
        ps.extend(p_leaves)
        ts.extend(t_leaves)
    return ps, ts


class Lifted:
    """A ``Flat`` function inside ``vmap``, on full batches (see ``vmap``: lifting): the leaves it
    differentiates are lifted to the open vmap ``levels`` (an unbatched one repeated along the
    batch), and so are its results. The examples of a batch do not interact, so every derivative
    of this function holds each example's derivative: the gradient of the sum of the results is
    every example's gradient, and a Jacobian's blocks on the diagonal are the examples'."""

    __slots__ = ("flat", "levels", "nums", "flat_args")

    def __init__(self, flat: Flat, levels: Sequence[Any]) -> None:
        self.flat = flat
        self.levels = levels
        self.nums = sorted(set(flat.flat_nums))
        args = list(flat.flat_args)
        for i in self.nums:
            args[i] = lift(args[i], levels)
        self.flat_args = args

    @property
    def lead(self) -> tuple[int, ...]:
        """The batch sizes of the levels: the leading axes of every full batch."""
        return tuple(level.size for level in self.levels)

    def __call__(self, *xs: Any) -> Any:
        call = list(xs)
        for i in self.nums:
            call[i] = unlift(xs[i], self.levels)
        result = self.flat(*call)
        aux = None
        if self.flat.has_aux:
            result, aux = result
        if isinstance(result, tuple):
            result = tuple(lift(r, self.levels) for r in result)
        elif result is not None:
            result = lift(result, self.levels)
        return (result, aux) if self.flat.has_aux else result

    def unlift(self, value: Any) -> Any:
        """A full batch, or a tuple or list of them, as batched tensors."""
        if isinstance(value, (tuple, list)):
            return type(value)(unlift(v, self.levels) for v in value)
        return unlift(value, self.levels)
