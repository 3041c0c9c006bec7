"""In-place updates (``add_``, ``x[i] = v``, ``+=``) with PyTorch's safety rules.

An in-place update of a tensor in a recorded graph is done out of place and the result written
back into the same buffer; the tensor's version counter is bumped, so a node that saved the old
value raises at ``backward`` instead of returning a wrong gradient.

Through a view (see "How views work" in tensor.py) the update is PyTorch's CopySlices: the
root base's new history is ``copy_slices(old root, new view value)`` — the old root with the
view's elements replaced — and every view of the root, the written one included, regenerates
its history from it.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import backend as B
from ..core import tracing
from ..core.dispatch import attach
from ..core.modes import state
from ..core.tensor import Tensor, bump_version
from ..core.tracing import active as _tracing
from ..core.views import rebase_views, view_info
from ._define import define
from .indexing import _index_key, _is_basic, index_put

_UFUNCS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}


def _check_leaf(op: str, target) -> None:
    if target._requires_grad and target._node is None and state.grad_enabled:
        raise RuntimeError(
            f"{op}: a leaf tensor that requires grad (shape {target._data.shape}) is being used in "
            f"an in-place operation. Do the update inside `with cr.no_grad():` (as optimizers do), "
            f"or use an out-of-place operation."
        )


def _check_batched(op: str, *operands) -> None:
    """In-place changes inside ``cr.vmap`` involving a batched tensor are refused: a batched
    tensor's views are not tracked, so a write could miss the tensors it should change."""
    for a in operands:
        if getattr(getattr(getattr(a, "_data", None), "ns", None), "level", 0):
            raise RuntimeError(
                f"{op}: an in-place change involving a batched tensor (inside cr.vmap) is not "
                f"supported; write it out of place (e.g. x = cr.where(mask, value, x), or "
                f"x = x * 2 for x.mul_(2)) and use the new tensor"
            )


def _check_view(op: str, target, *others) -> None:
    """The in-place changes of views that PyTorch refuses (they would need history it can't give)."""
    _check_batched(op, target, *others)
    info = view_info(target)
    if info is None:
        return
    root = info.base
    if not state.grad_enabled:
        return
    if root._requires_grad and root._node is None:
        raise RuntimeError(
            f"{op}: a view (shape {target._data.shape}) of a leaf tensor that requires grad "
            f"(shape {root._data.shape}) is being used in an in-place operation. Do the update "
            f"inside `with cr.no_grad():`, or clone() the leaf first."
        )
    if info.no_grad and root._requires_grad:
        raise RuntimeError(
            f"{op}: a view (shape {target._data.shape}) was created in no_grad mode and is being "
            f"modified in place with grad mode enabled; its base requires grad, so the change "
            f"can't be tracked. Make the view outside no_grad, or do the update inside no_grad."
        )


def _check_multi_view(op: str, target) -> None:
    info = view_info(target)
    if info is not None and info.multi:
        raise RuntimeError(
            f"{op}: this view (shape {target._data.shape}) is one of the outputs of a function that "
            f"returns several views (split, chunk, unbind); such outputs can't be modified in place "
            f"when gradients are recorded. clone() it first, or use indexing on the base."
        )


def _check_overlap(op: str, written, other, any_overlap: bool = False) -> None:
    """PyTorch's memory-overlap rule for in-place writes: an operand whose memory partly overlaps
    the region being written (or, for an advanced-index write, overlaps it at all) is refused.
    ``written`` is that region's array. Layouts PyTorch can't judge cheaply (not dense) pass: the
    write is computed out of place first, so its values are well defined."""
    if not isinstance(other, Tensor):
        return
    b = other._data
    if type(written) is not np.ndarray or type(b) is not np.ndarray:
        return
    if any_overlap and (not written.size or not b.size) and _owner(written) is _owner(b):
        pass  # an advanced-index write from the same (empty) storage: refused, as by PyTorch
    elif not written.size or not b.size or not np.may_share_memory(written, b):
        return
    if not any_overlap:
        if not _dense(written) or not _dense(b):
            return
        start_a, start_b = written.__array_interface__["data"][0], b.__array_interface__["data"][0]
        if start_a == start_b and written.nbytes == b.nbytes:
            return  # exactly the same memory (x.add_(x), t[None] = t): allowed
    raise RuntimeError(
        f"{op}: unsupported operation: some elements of the operand (shape {b.shape}) and of the "
        f"region being written (shape {written.shape}) refer to the same memory; clone() the "
        f"operand first"
    )


def _check_internal_overlap(op: str, written) -> None:
    """PyTorch refuses to write (other than fill) where several elements share one memory
    location (an expanded view): the result would depend on the order of the writes."""
    if type(written) is np.ndarray and written.size and 0 in written.strides and any(
            st == 0 and n > 1 for st, n in zip(written.strides, written.shape)):
        raise RuntimeError(
            f"{op}: unsupported operation: more than one element of the tensor being written (an "
            f"expanded view of shape {written.shape}) refers to a single memory location; clone() it first"
        )


def _owner(a):
    """The array that owns ``a``'s memory (NumPy points every view's ``base`` at it)."""
    return a if a.base is None else a.base


def _dense(a) -> bool:
    return a.flags.c_contiguous or a.flags.f_contiguous


def _check_broadcastable(op: str, shape, target_shape) -> None:
    try:
        ok = np.broadcast_shapes(shape, target_shape) == tuple(target_shape)
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(
            f"{op}: the source of shape {tuple(shape)} can't be broadcast to the tensor's shape "
            f"{tuple(target_shape)}"
        )


def _write(op: str, target, values: np.ndarray) -> None:
    target._buffer()
    if values.shape != target._data.shape:
        raise RuntimeError(
            f"{op}: the result has shape {values.shape} but the tensor being modified has shape "
            f"{target._data.shape}; an in-place operation cannot change the shape"
        )
    try:
        np.copyto(target._data, values, casting="same_kind")
    except TypeError:
        raise RuntimeError(
            f"{op}: result dtype {values.dtype} can't be cast to the tensor's dtype "
            f"{target._data.dtype} in place; use an out-of-place operation"
        ) from None
    except ValueError:
        data = target._data
        expanded = any(st == 0 and n > 1 for st, n in zip(data.strides, data.shape))
        root = view_info(target).base._data if view_info(target) is not None else None
        if expanded and op == "fill_" and root is not None and root.flags.writeable:
            # PyTorch fills an expanded view (every alias of an element gets the same value).
            writable = data.view()
            writable.flags.writeable = True
            np.copyto(writable, values, casting="same_kind")
            return
        if expanded:
            raise RuntimeError(
                f"{op}: unsupported operation: more than one element of the tensor being written "
                f"(an expanded view of shape {data.shape}) refers to a single memory location; "
                f"clone() it first"
            ) from None
        raise RuntimeError(f"{op}: the tensor's memory is read-only; clone() it first") from None


def _records(target, others) -> bool:
    """Whether the update must go through the table: it is recorded, or tangents ride on it."""
    if state.forward_levels and (target._tangents or any(isinstance(o, Tensor) and o._tangents for o in others)):
        return True
    if not state.grad_enabled:
        return False
    return target._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)


def apply_inplace(op: str, target, prim, *others, **params):
    """``target ← prim(target, *others)`` in place; returns ``target``."""
    _check_leaf(op, target)
    _check_view(op, target, *others)
    if op != "setitem":  # setitem checked the region it writes
        _check_internal_overlap(op, target._data)
        for other in others:
            _check_overlap(op, target._data, other)
    if not _records(target, others):
        if _tracing[0] and tracing.current() is not None:  # cr.jit: the new value through the table
            return _traced_write(op, target, prim(target, *others, **params))
        datas = [o._data if isinstance(o, Tensor) else o for o in others]
        ufunc = _UFUNCS.get(prim.name)
        target._buffer()
        dt = target._data.dtype
        # NumPy's ufunc in place when it computes in PyTorch's dtype: the tensor's own, with Python
        # numbers or operands of its dtype; else the table's impl (``backend.result_dtype``: a 0-d
        # float64 operand of a float32 tensor is taken in float32), then cast back.
        own = ufunc is not None and dt.kind == "f"
        for d in datas:
            if own and (getattr(d, "dtype", dt) is not dt or type(d) is complex):
                own = False
        if own and ufunc is not None:
            try:
                ufunc(target._data, *datas, out=target._data, casting="same_kind")  # type: ignore[call-overload]
            except ValueError:
                # through the table's impl: its error names the operation and the shapes
                _write(op, target, np.asarray(prim.impl(target._data, *datas, **params)))
        else:
            _write(op, target, np.asarray(prim.impl(target._data, *datas, **params)))
        _bumped(target)
        return target
    old = _snapshot(target, prim.save_inputs is True)
    raw = None
    if op == "setitem" and _aliases_itself(target._data):
        # An expanded view: write only the indexed elements, in NumPy's order (as PyTorch),
        # not the whole result, whose aliased elements would overwrite each other.
        value = others[0]._data if isinstance(others[0], Tensor) else others[0]
        raw = lambda: target._data.__setitem__(params["index"], value)  # noqa: E731
    return _assign(op, target, prim(old, *others, **params), raw)


def _snapshot(target, copy: bool):
    """A stand-in for ``target``'s value before the update (a copy when the op saves it). For a
    view, its history is its chain replayed on the root afresh, as PyTorch's CopySlices reads
    it: hooks registered on the view's own node see only gradients of what it was."""
    data = target._data.copy() if copy else target._data
    info = view_info(target)
    if info is not None and not info.no_grad and (info.base._requires_grad or info.base._tangents is not None):
        current = info.base
        for prim, params in info.chain:
            current = prim(current, **params)
    else:
        current = target
    snapshot = Tensor._make(data, node=current._node, requires_grad=current._requires_grad,
                            tangents=current._tangents)
    if _tracing[0]:
        tracing.same(snapshot, target)  # (a copy, when the operation saves it: the same value)
    return snapshot


def setitem(target, key, value) -> None:
    """``target[key] = value``."""
    key = _index_key(key, "setitem")
    _check_view("setitem", target, value)
    if B.dtype_of(getattr(value, "_data", value)).kind == "c" and B.kind(target._data.dtype) != "c":
        raise TypeError(f"setitem: complex values cannot be written into a tensor of dtype "
                        f"{target._data.dtype} (the imaginary part would be lost); take value.real")
    if isinstance(value, Tensor):
        basic = _is_basic(key)
        try:
            written = target._buffer()[key] if basic else target._data
        except (IndexError, TypeError):
            written = target._data  # the write itself reports a bad index
        _check_overlap("setitem", written, value, any_overlap=not basic)
    if _is_basic(key):
        try:
            _check_internal_overlap("setitem", target._buffer()[key])
        except (IndexError, TypeError):
            pass  # the write itself reports a bad index
    if not _records(target, (value,)):
        _check_leaf("setitem", target)
        if _tracing[0] and tracing.current() is not None:
            _traced_write("setitem", target, index_put(target, value, index=key))
            return
        target._buffer()
        try:
            target._data[key] = value._data if isinstance(value, Tensor) else value
        except (IndexError, ValueError) as exc:
            # PyTorch: IndexError for an int or slice out of range, RuntimeError for an index array
            kind = IndexError if isinstance(exc, IndexError) and _is_basic(key) else \
                RuntimeError if isinstance(exc, IndexError) else type(exc)
            raise kind(f"setitem: {exc} (tensor of shape {target._data.shape})") from None
        _bumped(target)
        return
    apply_inplace("setitem", target, index_put, value, index=key)


def zero_(target):
    return fill_(target, 0)


def fill_(target, value):
    _check_leaf("fill_", target)
    _check_view("fill_", target, value)
    if _records(target, (value,)):
        return _assign("fill_", target, overwrite(_snapshot(target, False), value))
    if _tracing[0] and tracing.current() is not None:
        return _traced_write("fill_", target, overwrite(target, value))
    target._buffer()[...] = value._data if hasattr(value, "_data") else value
    _bumped(target)
    return target


def _overwrite_impl(old, value):
    return np.broadcast_to(np.asarray(value, dtype=old.dtype), old.shape)


def _overwrite_jvp(m, tangents, ans, old, value):
    if tangents[1] is None:
        return None if tangents[0] is None else m.zeros_like(tangents[0])
    return m.broadcast_to(tangents[1], shape=ans.shape)


# ``fill_`` and ``copy_`` as PyTorch's FillBackward/CopyBackwards: the result still has history,
# the old value gets a zero gradient that is a constant (so its own graph is still walked and
# its saved tensors checked), the new value the cotangent summed to its shape.
overwrite = define(
    "overwrite", _overwrite_impl,
    (lambda m, g, ans, old, value: m.zeros_like(g), lambda m, g, ans, old, value: g),
    _overwrite_jvp, save_inputs="meta", broadcasts=True,
    doc="The old value replaced by ``value`` broadcast to its shape (fill_, copy_).",
)


def copy_(target, source):
    _check_leaf("copy_", target)
    _check_view("copy_", target, source)
    _check_overlap("copy_", target._data, source)
    if _records(target, (source,)):
        src = source if isinstance(source, Tensor) else Tensor(source, dtype=target.dtype)
        _check_broadcastable("copy_", src._data.shape, target._data.shape)
        return _assign("copy_", target, overwrite(_snapshot(target, False), src))
    if _tracing[0] and tracing.current() is not None:
        src_t = source if isinstance(source, Tensor) else Tensor(source, dtype=target.dtype)
        _check_broadcastable("copy_", src_t._data.shape, target._data.shape)
        return _traced_write("copy_", target, overwrite(target, src_t))
    src = source._data if isinstance(source, Tensor) else np.asarray(source)
    _write("copy_", target, np.broadcast_to(src, target._data.shape).astype(target._data.dtype, copy=False))
    _bumped(target)
    return target


def _aliases_itself(data) -> bool:
    return type(data) is np.ndarray and data.size > 0 and 0 in data.strides and any(
        st == 0 and n > 1 for st, n in zip(data.strides, data.shape))


def _assign(op, target, result, raw=None):
    """Write ``result`` into ``target``'s memory and make ``target`` carry its history (through
    a view: make its root carry ``copy_slices(old root, result)``)."""
    _check_multi_view(op, target)
    info = view_info(target)
    traced = _tracing[0] and tracing.current() is not None
    if traced:
        tracing.writing(target)
    if info is None:
        _write(op, target, result._data) if raw is None else raw()
        bump_version(target)
        _take_history(target, result._node, result._requires_grad, result._tangents)
        rebase_views(target)
        if traced:
            tracing.wrote(target, result)
        return target
    root = info.base
    if _aliases_itself(target._data) and (result._requires_grad or result._tangents is not None) \
            and not (op == "fill_" and result._node is not None and result._node.edges[1] is None):
        # Its elements share memory: which write lands is NumPy's order, which no history here
        # can follow (PyTorch refuses this at backward). Refused before anything is written;
        # fill_ with a constant is fine (every alias gets the same value).
        raise RuntimeError(
            f"{op}: unsupported operation: more than one element of the tensor being written (an "
            f"expanded view of shape {target._data.shape}) refers to a single memory location, and "
            f"the write is recorded for gradients; clone() the view first"
        )
    old_root = _snapshot(root, False)
    parts = any(prim.name in _PARTS for prim, _ in info.chain)
    positions = (_slots if parts else _positions)(root._data, info.chain)
    _write(op, target, result._data) if raw is None else raw()
    bump_version(target)
    # The root's array already holds the new values: record the node onto it, computing nothing.
    fresh = attach(copy_parts if parts else copy_slices, (old_root, result), {"positions": positions}, root._data)
    _take_history(root, fresh._node, fresh._requires_grad, fresh._tangents)
    rebase_views(root, written=target)  # the view written through included
    if traced:
        tracing.wrote(target, result)
    return target


def _traced_write(op: str, target, value):
    """``target ← value`` (computed by the table, so a tracer heard of it) inside a trace: the
    write done as eager mode does it, and the tracer told what ``target`` now holds."""
    tracing.writing(target)
    _write(op, target, np.asarray(value._data))
    _bumped(target)
    tracing.wrote(target, value)
    return target


def _bumped(target) -> None:
    """An in-place change that recorded nothing: bump the version; the outputs of split/chunk/
    unbind of a base that requires grad can no longer be given a history (PyTorch)."""
    bump_version(target)
    counter = target._version
    if counter is not None and len(counter) > 1:
        # As PyTorch regenerates a view's grad_fn when the counter moved: the views' nodes are
        # rebuilt (hooks registered on their old nodes no longer fire), same history.
        info = view_info(target)
        rebase_views(target if info is None else info.base, history_changed=False)


def _take_history(target, node, requires_grad, tangents) -> None:
    """``target`` now holds a new value computed by ``node``; ``retain_grad`` follows it."""
    old = target._node
    if old is not None and node is not None and old.extra is not None:
        retained = old.extra.get("retained")
        if retained is not None and retained() is target:
            node.retained = retained
            old.retained = None
    target._node = node
    target._requires_grad = requires_grad
    target._tangents = tangents


def _positions(data, chain):
    """The flat (C-order) index in the root's array ``data`` of each element of the view ``chain``."""
    index = np.arange(data.size, dtype=np.intp).reshape(data.shape)
    for prim, params in chain:
        index = prim.impl(index, **params)
    return np.asarray(index)


# Views of the parts of complex numbers: their elements are real or imaginary parts (slots).
_PARTS = {"real", "imag", "view_as_real", "view_as_complex"}


def _slots(data, chain):
    """The views whose chain has a step in ``_PARTS``: the index of each real number of the view
    in the root's array seen as real numbers (a complex number ``k`` is slots ``2k`` and
    ``2k + 1``), shape ``view.shape`` (``+ (2,)`` for a complex view: real, imaginary slot)."""
    count = np.arange(data.size, dtype=np.float64)
    index = (2 * count + 1j * (2 * count + 1) if data.dtype.kind == "c" else count).reshape(data.shape)
    for prim, params in chain:
        index = prim.impl(index, **params)
    index = np.asarray(index)
    if index.dtype.kind == "c":
        index = np.stack([index.real, index.imag], axis=-1)
    return index.astype(np.intp)


def _copy_slices_impl(base, value, positions):
    out = np.array(base, copy=True, order="C")
    out.reshape(-1)[positions] = value
    return out


def _flat(m, x, shape):
    return m.reshape(x, shape=(math.prod(shape),))


copy_slices = define(
    "copy_slices", _copy_slices_impl,
    (lambda m, g, ans, base, value, positions:
        m.reshape(m.index_put(_flat(m, g, base.shape), 0.0, index=positions), shape=base.shape),
     lambda m, g, ans, base, value, positions: m.getitem(_flat(m, g, base.shape), index=positions)),
    lambda m, tangents, ans, base, value, positions: m.reshape(m.index_put(
        _flat(m, m.zeros_like(ans) if tangents[0] is None else tangents[0], ans.shape),
        0.0 if tangents[1] is None else tangents[1], index=positions), shape=ans.shape),
    save_inputs="meta", broadcasts=True,
    doc="The base with a view's elements replaced (an in-place change through a view; PyTorch's CopySlices).",
)


def _real_numbers(x):
    """A complex array as its real numbers (last axis: real, imaginary part); others as they are."""
    x = np.asarray(x)
    return np.stack([x.real, x.imag], axis=-1) if x.dtype.kind == "c" else x


def _copy_parts_impl(base, value, positions):
    out = np.array(base, copy=True, order="C")
    flat = out.reshape(-1)
    if out.dtype.kind == "c":
        flat = flat.view(out.real.dtype)
    flat[positions] = _real_numbers(value)
    return out


def _kept(base, positions):
    """Masks of the base's real numbers a write at ``positions`` leaves: ``(real part, imaginary
    part)`` of a complex base, ``(kept, None)`` of a real one, in the base's shape."""
    real = np.dtype(base.dtype).kind != "c"
    dtype = np.dtype(base.dtype) if real else np.empty(0, base.dtype).real.dtype
    keep = np.ones(math.prod(base.shape) * (1 if real else 2), dtype=dtype)
    keep[positions.reshape(-1)] = 0
    if real:
        return keep.reshape(base.shape), None
    return keep[0::2].reshape(base.shape), keep[1::2].reshape(base.shape)


def _copy_parts_base(m, g, ans, base, value, positions):
    kept_real, kept_imag = _kept(base, positions)
    if kept_imag is None:
        return g * kept_real
    # (the walk's pairing is Re(sum g t): the real and the imaginary part of g pair with those of t)
    return m.complex(m.real(g) * kept_real, m.imag(g) * kept_imag)


def _copy_parts_value(m, g, ans, base, value, positions):
    n = math.prod(base.shape)
    if np.dtype(base.dtype).kind == "c":  # slot 2k pairs with Re g[k], slot 2k + 1 with -Im g[k]
        element, odd = positions // 2, (positions % 2).astype(bool)
        real_part = m.getitem(m.reshape(m.real(g), shape=(n,)), index=element)
        imag_part = m.getitem(m.reshape(m.imag(g), shape=(n,)), index=element)
        slots = m.where(odd, -imag_part, real_part)
    else:
        slots = m.getitem(m.reshape(g, shape=(n,)), index=positions)
    if np.dtype(value.dtype).kind == "c":
        return m.complex(m.getitem(slots, index=(Ellipsis, 0)), -m.getitem(slots, index=(Ellipsis, 1)))
    return slots


def _copy_parts_jvp(m, tangents, ans, base, value, positions):
    t_base, t_value = tangents
    return m.copy_parts(m.zeros_like(ans) if t_base is None else t_base,
                        np.zeros(value.shape, value.dtype) if t_value is None else t_value, positions=positions)


copy_parts = define(
    "copy_parts", _copy_parts_impl, (_copy_parts_base, _copy_parts_value), _copy_parts_jvp,
    save_inputs="meta",
    doc="The base with some real numbers replaced: an in-place change through a view of the parts "
        "of complex numbers (t.real, t.imag, view_as_real, view_as_complex).",
)
