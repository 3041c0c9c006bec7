"""The recorded graph: one ``Node`` per operation run with history, made by ``record``.

``record`` makes the node of an operation as it runs: where each input came from, and what its
rules will read (one saving policy, ``_save_inputs``, which ``record`` runs unrolled for one and
two inputs). The reverse walk over these nodes is ``engine.compute_gradients``.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Mapping
from types import FrameType, MappingProxyType
from typing import TYPE_CHECKING, Any

from . import backend as B
from . import collector
from .hooks import RemovableHandle
from .modes import anomaly_threads as _anomaly_threads
from .modes import state
from .tensor import Tensor, version_counter

if TYPE_CHECKING:
    from .dispatch import Primitive

_new = object.__new__
_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})
_recorded = 0  # operations recorded since the last backward pass (see collector)
_RAISE_AFTER = collector.RAISE_AFTER

SMALL = 16  # outputs with at most this many elements keep their value for cr.viz / cr.explain


class _Freed:
    __slots__ = ()


FREED = _Freed()


class Meta:
    """Shape and dtype of an input whose values a rule does not need."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = shape
        self.dtype = dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)


class Node:
    """One recorded operation: what it was, where its inputs came from, what it saved.

    ``edges[i]`` is where input ``i`` came from: another node, a leaf tensor, or None when that
    input needs no gradient. Rarely used fields (hooks, retained tensor, anomaly origin, tangents
    of the output, gradient kept for pictures) live in ``extra`` so the common node stays small.
    """

    __slots__ = (
        "prim", "params", "edges", "saved", "saved_data", "versions", "ans", "ans_version",
        "in_meta", "output", "grad_value", "extra", "_leaf", "__weakref__",
    )
    # ``_leaf`` is False (True on tensors): a slot, read faster than a class attribute.
    prim: Primitive
    params: Mapping[str, Any]
    edges: tuple[Any, ...]  # a Node, a leaf Tensor or None per input
    saved: tuple[Any, ...] | _Freed | None  # what the rules read: tensors (watched), arrays, Meta, None
    saved_data: tuple[Any, ...] | None  # the same as arrays
    versions: tuple[Any, ...] | None  # (counter, version when saved) per watched tensor, flat
    ans: Any
    ans_version: Any  # [version of the output when kept], None when ans is None
    in_meta: tuple[Any, ...] | None  # (shape, dtype) per input that broadcasting changed
    output: Any
    grad_value: Any
    extra: dict[str, Any] | None
    _leaf: bool

    # ``output`` is the output itself when it is small (at most SMALL elements), else its shape;
    # ``grad_value`` is set by backward for small outputs. Both are for pictures of the graph.
    @property
    def shape(self):
        output = self.output
        return output if type(output) is tuple or output is None else B.shape_of(output)

    @property
    def value(self):
        output = self.output
        return None if type(output) is tuple else output

    # --- rarely used fields ---------------------------------------------------------------
    def _get(self, key):
        extra = self.extra
        return None if extra is None else extra.get(key)

    def _set(self, key, value) -> None:
        if self.extra is None:
            self.extra = {}
        self.extra[key] = value

    hooks = property(lambda self: self._get("hooks"), lambda self, v: self._set("hooks", v))
    retained = property(lambda self: self._get("retained"), lambda self, v: self._set("retained", v))
    origin = property(lambda self: self._get("origin"), lambda self, v: self._set("origin", v))
    ans_tangents = property(lambda self: self._get("ans_tangents"), lambda self, v: self._set("ans_tangents", v))

    @property
    def name(self) -> str:
        return self.prim.node_name

    def __repr__(self) -> str:
        return f"<{self.prim.node_name}>"

    @property
    def next_functions(self) -> tuple:
        """The nodes (or leaf tensors) this node's inputs came from, as in PyTorch."""
        return tuple(self.edges)

    def register_hook(self, fn):
        if self.hooks is None:
            self.hooks = {}
        return RemovableHandle(self.hooks, fn)

    def _check_versions(self) -> None:
        versions = self.versions or ()
        for i in range(0, len(versions), 2):
            counter, expected = versions[i], versions[i + 1]
            if counter[0] != expected:
                t = next((a for a in (self.saved if type(self.saved) is tuple else ()) if isinstance(a, Tensor) and a._version is counter),
                         None)
                what = "" if t is None else f", shape {tuple(B.shape_of(t._data))}, dtype {t._data.dtype}"
                raise RuntimeError(
                    f"{self.prim.name}: one of the tensors needed for its gradient (saved input "
                    f"{i // 2}{what}) was modified by an in-place operation after {self.prim.name} "
                    f"used it (version {counter[0]}, expected {expected}). Use an out-of-place "
                    f"operation (e.g. `y = y + 1` instead of `y += 1`) or .clone() first."
                )

    def _freed_error(self) -> RuntimeError:
        return RuntimeError(
            f"{self.prim.node_name}: trying to backward through the graph a second time (its "
            f"saved values were freed by the first backward). Pass retain_graph=True to the "
            f"first backward() if you need to backward twice."
        )

    def _inputs(self, traced: bool):
        """The saved inputs, checked against in-place changes; tensors when ``traced``."""
        saved = self.saved
        if saved is None:
            return (None,) * len(self.edges)
        if saved is FREED:
            raise self._freed_error()
        versions = self.versions  # (counter, expected, counter, expected, ...): two compared inline
        if versions is not None and (versions[0][0] != versions[1] or len(versions) > 2 and (
                versions[2][0] != versions[3] or len(versions) > 4)):
            self._check_versions()  # raises if a saved tensor changed in place
        return saved if traced else self.saved_data

    def _ans(self, traced: bool):
        ans = self.ans
        if ans is None or traced and self.prim.residual is not None:
            return None
        if self.ans_version[0] != 0:
            raise RuntimeError(
                f"{self.prim.name}: its output (shape {tuple(B.shape_of(ans))}) is needed for the "
                f"gradient but was modified by an in-place operation. Use an out-of-place "
                f"operation or .clone() the output before modifying it."
            )
        if traced:
            return Tensor._from_node(ans, self, self.ans_tangents)
        return ans


def record(prim, args, datas, params, out, result) -> Node:
    """The node of one operation just computed: ``args`` as given, ``datas`` their arrays,
    ``result`` the output tensor (or None)."""
    global _recorded
    _recorded += 1
    if _recorded == _RAISE_AFTER:
        collector.large_graph()
    node = _new(Node)
    node._leaf = False
    node.prim = prim
    node.params = params if params else _NO_PARAMS  # one shared empty dict: less memory per node
    # edges[i]: where input i came from (its node, or the leaf tensor), None if it needs no
    # gradient; in_meta[i]: its shape and dtype where broadcasting or promotion changed them.
    n = len(args)
    edges: tuple[Any, ...]
    fit: tuple[Any, Any] | None
    versions: tuple[Any, ...]
    if n == 2:  # the hot case (arithmetic), unrolled
        a, b = args
        ea = (a._node or a) if isinstance(a, Tensor) and a._requires_grad else None
        eb = (b._node or b) if isinstance(b, Tensor) and b._requires_grad else None
        node.edges = edges = (ea, eb)
        fit = None
        if prim.broadcasts:
            # Fitted: an input that broadcasting or promotion changed, and one whose partner has
            # another dtype than the result (a float32 tensor times a 0-d float64 one is float32,
            # but the rule's ``g * y`` is float64); a Python number never changes it. Dtypes by
            # identity: an equal one that is not the same object is only fitted for nothing.
            shape = out.shape
            dtype = out.dtype
            da, db = datas
            if ea is not None:
                ta = da.dtype
                if eb is not None:  # both require grad: mixed dtypes fit both gradients
                    tb = db.dtype
                    if ta is not dtype or tb is not dtype:
                        fit = ((da.shape, ta), (db.shape, tb))
                    elif da.shape != shape or db.shape != shape:
                        fit = ((da.shape, ta) if da.shape != shape else None,
                               (db.shape, tb) if db.shape != shape else None)
                elif ta is not dtype or da.shape != shape or (
                        type(db) is not float and type(db) is not int and getattr(db, "dtype", dtype) is not dtype):
                    fit = ((da.shape, ta), None)
            elif eb is not None:
                tb = db.dtype
                if tb is not dtype or db.shape != shape or (
                        type(da) is not float and type(da) is not int and getattr(da, "dtype", dtype) is not dtype):
                    fit = (None, (db.shape, tb))
        node.in_meta = fit
    elif n == 1:
        a = args[0]
        node.edges = edges = ((a._node or a) if isinstance(a, Tensor) and a._requires_grad else None,)
        node.in_meta = None
    else:
        node.edges = edges = tuple([(a._node or a) if isinstance(a, Tensor) and a._requires_grad else None
                                    for a in args])
        node.in_meta = _in_meta(datas, edges, out) if prim.broadcasts else None
    save = prim.save_inputs
    if save is True:
        if n == 2:  # _save_inputs, unrolled for the hot case
            masks = prim.needs_masks
            needed = -1 if masks is None else (0 if ea is None else masks[0]) | (0 if eb is None else masks[1])  # type: ignore[possibly-undefined]  # ea, eb: bound above for n == 2
            x, y = datas
            ta = isinstance(a, Tensor)  # type: ignore[possibly-undefined]  # a, b: bound above for n == 2
            tb = isinstance(b, Tensor)  # type: ignore[possibly-undefined]
            if ta and not needed & 1:
                x = Meta(B.shape_of(x), x.dtype) if prim.needs_meta else None
                ta = False
            if tb and not needed & 2:
                y = Meta(B.shape_of(y), y.dtype) if prim.needs_meta else None
                tb = False
            node.saved_data = kept = (x, y)
            if ta or tb:
                node.saved = (a if ta else x, b if tb else y)
                versions = ()
                if ta:
                    counter = a._version or version_counter(a)
                    versions = (counter, counter[0])
                if tb:
                    counter = b._version or version_counter(b)
                    versions += (counter, counter[0])
                node.versions = versions
            else:
                node.saved = kept
                node.versions = None
        elif n == 1 and (prim.needs_masks is None or prim.needs_masks[0] & 1):
            node.saved = args  # _save_inputs for one input (a tensor) that its VJP reads: kept, watched
            node.saved_data = tuple(datas)
            counter = a._version or version_counter(a)  # type: ignore[possibly-undefined]  # a: bound above for n == 1
            node.versions = (counter, counter[0])
        else:
            _save_inputs(node, prim, args, datas, edges)
    elif save is False:
        node.saved = node.saved_data = node.versions = None
    else:  # "meta": the rules read only the inputs' shapes and dtypes
        node.saved = node.saved_data = _metas(args, datas)
        node.versions = None
    if prim.save_ans and (prim.ans_for is None or _needs_ans(edges, prim.ans_for)):
        node.ans = out
        node.ans_version = result._version = [0] if result is not None else None
    else:
        node.ans = node.ans_version = None
    # Small outputs (and, after backward, their gradients) or else their shapes are kept for
    # pictures of the graph.
    node.output = out if out is None or out.size <= SMALL else out.shape
    node.extra = {"origin": current_location()} if _anomaly_threads[0] and state.anomaly else None
    return node


def _save_inputs(node, prim, args, datas, edges) -> None:
    """The saving policy: keep the inputs that the VJPs of the inputs requiring grad read (all
    of them without ``needs``, else those that ``needs`` names for them), watching the kept
    tensors for in-place changes; an input not read becomes its shape and dtype
    (``needs_meta``) or nothing. Tuples of arrays and numbers are invisible to the cyclic GC.
    (``record`` runs it unrolled for one and two inputs.)"""
    masks = prim.needs_masks  # masks[i]: a bit per input that the VJP of input i reads
    needed = -1  # every input
    if masks is not None:
        needed = 0
        for edge, mask in zip(edges, masks):
            if edge is not None:
                needed |= mask
    kept: list[Any] = []
    saved: list[Any] = []
    versions: tuple[Any, ...] = ()
    bit = 1
    for a, d in zip(args, datas):
        if isinstance(a, Tensor):
            if needed & bit:
                counter = a._version or version_counter(a)
                versions += (counter, counter[0])
                saved.append(a)
            else:
                d = Meta(B.shape_of(d), d.dtype) if prim.needs_meta else None
                saved.append(d)
        else:
            saved.append(d)
        kept.append(d)
        bit <<= 1
    node.saved_data = data = tuple(kept)
    node.saved = tuple(saved) if versions else data
    node.versions = versions or None


def _metas(args, datas):
    return tuple(Meta(B.shape_of(d), d.dtype) if isinstance(a, Tensor) else d for a, d in zip(args, datas))


def _in_meta(datas, edges, out):
    """Shape and dtype of each input that requires grad and was broadcast or promoted."""
    fit = None
    shape = out.shape
    dtype = out.dtype
    # An operand of another dtype than the result's (a 0-d float64 with float32 tensors; not a
    # bool mask): every gradient is fitted, as the rules' products with it may come back in its
    # dtype.
    mixed = False
    for d in datas:
        dt = getattr(d, "dtype", dtype)
        if dt != dtype and B.kind(dt) != "b":
            mixed = True
    i = 0
    for edge in edges:
        if edge is not None:
            d = datas[i]
            if mixed or d.shape != shape or d.dtype != dtype:
                if fit is None:
                    fit = [None] * len(edges)
                fit[i] = (d.shape, d.dtype)
        i += 1
    return None if fit is None else tuple(fit)


def _needs_ans(edges, ans_for) -> bool:
    """Whether an input whose VJP reads the output requires grad (a helper: a generator in
    ``record`` would make its locals closure cells, slowing every recorded operation)."""
    for i in ans_for:
        if edges[i] is not None:
            return True
    return False


def current_location() -> str:
    """The innermost frame outside chainrule, as 'file:line in function' (for anomaly reports)."""
    frame: FrameType | None = sys._getframe(1)
    package = __name__.rsplit(".", 2)[0]
    while frame is not None and frame.f_globals.get("__name__", "").startswith(package):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    info = traceback.extract_stack(frame, limit=1)[-1]
    return f"{info.filename}:{info.lineno} in {info.name}\n    {info.line}"


def backward_ran() -> None:
    """The backward pass freed what was recorded before it: count again from zero (see
    collector)."""
    global _recorded
    _recorded = 0
