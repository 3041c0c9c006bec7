"""In-place updates (``add_``, ``x[i] = v``, ``+=``) with PyTorch's safety rules.

An in-place update of a tensor in a recorded graph is done out of place and the result written
back into the same buffer; the tensor's version counter is bumped, so a node that saved the old
value raises at ``backward`` instead of returning a wrong gradient.
"""

from __future__ import annotations

import numpy as np

from ..grad_mode import state
from . import _primitive as _P
from . import elementwise as E
from .shape import _index_key, _tensor_type, broadcast_to, index_put

_UFUNCS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}


def _check_leaf(op: str, target) -> None:
    if target._requires_grad and target._node is None and state.grad_enabled:
        raise RuntimeError(
            f"{op}: a leaf tensor that requires grad (shape {target._data.shape}) is being used in "
            f"an in-place operation. Do the update inside `with cr.no_grad():` (as optimizers do), "
            f"or use an out-of-place operation."
        )


def _check_view(op: str, target) -> None:
    base = target._base
    if base is not None and (base._requires_grad or target._requires_grad):
        raise RuntimeError(
            f"{op}: in-place modification of a view (shape {target._data.shape}) of a tensor that "
            f"requires grad is not supported; modify the base tensor with indexing "
            f"(`base[idx] = value`) or use an out-of-place operation."
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
        raise RuntimeError(
            f"{op}: the tensor's memory is read-only (it may be an expanded view); clone() it first"
        ) from None


def _records(target, others) -> bool:
    """Whether the update must go through the table: it is recorded, or tangents ride on it."""
    Tensor = _tensor_type()
    if state.forward_levels and (target._tangents or any(isinstance(o, Tensor) and o._tangents for o in others)):
        return True
    if not state.grad_enabled:
        return False
    return target._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)


def apply_inplace(op: str, target, prim, *others, **params):
    """``target ← prim(target, *others)`` in place; returns ``target``."""
    _check_leaf(op, target)
    if not _records(target, others):
        Tensor = _tensor_type()
        datas = [o._data if isinstance(o, Tensor) else o for o in others]
        ufunc = _UFUNCS.get(prim.name)
        target._buffer()
        if ufunc is not None and target._data.dtype.kind == "f":
            try:
                ufunc(target._data, *datas, out=target._data, casting="same_kind")
            except ValueError:
                # through the table's impl: its error names the operation and the shapes
                _write(op, target, np.asarray(prim.impl(target._data, *datas, **params)))
        else:
            _write(op, target, np.asarray(prim.impl(target._data, *datas, **params)))
        _P.bump_version(target)
        return target
    _check_view(op, target)
    old = _snapshot(target, prim.save_inputs is True)
    return _assign(op, target, prim(old, *others, **params))


def _snapshot(target, copy: bool):
    """A stand-in for ``target``'s value before the update (a copy when the op saves it)."""
    Tensor = _tensor_type()
    old = Tensor._wrap(target._data.copy() if copy else target._data)
    old._node = target._node
    old._requires_grad = target._requires_grad
    old._tangents = target._tangents
    return old


def setitem(target, key, value) -> None:
    """``target[key] = value``."""
    key = _index_key(key)
    Tensor = _tensor_type()
    if not _records(target, (value,)):
        _check_leaf("setitem", target)
        target._buffer()
        try:
            target._data[key] = value._data if isinstance(value, Tensor) else value
        except (IndexError, ValueError) as exc:
            raise type(exc)(f"setitem: {exc} (tensor of shape {target._data.shape})") from None
        _P.bump_version(target)
        return
    apply_inplace("setitem", target, index_put, value, index=key)


def zero_(target):
    return fill_(target, 0)


def fill_(target, value):
    _check_leaf("fill_", target)
    if _records(target, (value,)):
        Tensor = _tensor_type()
        filled = E.add(E.mul(target, 0.0), value)
        if not isinstance(value, Tensor):
            filled = filled.detach()
        return _assign("fill_", target, filled)
    target._buffer()[...] = value._data if hasattr(value, "_data") else value
    _P.bump_version(target)
    return target


def copy_(target, source):
    _check_leaf("copy_", target)
    Tensor = _tensor_type()
    if _records(target, (source,)):
        src = source if isinstance(source, Tensor) else Tensor(source, dtype=target.dtype)
        return _assign("copy_", target, broadcast_to(E.cast(src, dtype=target._data.dtype), target._data.shape))
    src = source._data if isinstance(source, Tensor) else np.asarray(source)
    _write("copy_", target, np.broadcast_to(src, target._data.shape).astype(target._data.dtype, copy=False))
    _P.bump_version(target)
    return target


def _assign(op, target, result):
    """Write ``result`` into ``target``'s memory and make ``target`` carry its history."""
    _check_view(op, target)
    _write(op, target, result._data)
    _P.bump_version(target)
    target._node = result._node
    target._requires_grad = result._requires_grad
    target._tangents = result._tangents
    return target
