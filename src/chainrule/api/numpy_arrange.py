"""NumPy's signatures for the arrange family: ``np.<name>(t, ...)`` with NumPy's exact arguments,
keywords and N-d semantics, mapped onto chainrule's operations (see ``numpy_protocols``).

NumPy's splits return lists (its ``atleast_*d`` of several arrays a tuple), its errors are
NumPy's exception types (``ValueError``, ``AxisError``) and its 1-D ``tril``/``triu`` give the
matrix that NumPy gives.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import tracing
from ..core.tensor import Tensor
from ..ops import arrange as AR
from ..ops import joins as JN
from ..ops import shape as S
from .numpy_common import _axes, _axis1, _cast, _cast_checked, _check_casting, _dtype_of, _NoValue, _operand


def _axis_or_error(name: str, axis, ndim: int) -> int:
    return _axis1(name, axis, ndim)


def numpy_joined(arrays: list) -> list:
    """``arrays`` cast (differentiably) to the dtype NumPy joins them in (``np.result_type`` of
    their dtypes: a float32 and an int64 array join as float64, where PyTorch's ``cat`` keeps
    float32)."""
    dtypes = [_dtype_of(a) for a in arrays]
    common = np.result_type(*dtypes)
    return arrays if all(d == common for d in dtypes) else [_cast(a, common) for a in arrays]


def _triangle(name: str, fn):
    def triangle(m, k=0):
        m = _operand(m)
        shape = S._shape(m)
        if not shape:
            raise ValueError(f"numpy.{name}: input must be at least 1-d, got a 0-d array")
        if len(shape) == 1:  # NumPy's mask (n, n) broadcasts a 1-D input to a matrix
            m = S.broadcast_to(m, (shape[0], shape[0]))
        return fn(m, operator.index(k))

    triangle.__name__ = name
    return triangle


def _diag(v, k=0):
    v = _operand(v)
    if S._ndim(v) not in (1, 2):
        raise ValueError(f"numpy.diag: input must be 1- or 2-d, got shape {S._shape(v)}")
    k = operator.index(k)
    return AR.diag_embed(v, k, 0, 1) if S._ndim(v) == 1 else JN.diagonal(v, k, 0, 1)


def _diagonal(a, offset=0, axis1=0, axis2=1):
    name = "numpy.diagonal"
    a = _operand(a)
    ndim = S._ndim(a)
    if ndim < 2:
        raise ValueError(f"{name}: diag requires an array of at least two dimensions, got shape {S._shape(a)}")
    d1, d2 = _axis1(name, axis1, ndim), _axis1(name, axis2, ndim)
    if d1 == d2:
        raise ValueError(f"{name}: axis1 and axis2 cannot be the same")
    return JN.diagonal(a, operator.index(offset), d1, d2)


def _diagflat(v, k=0):
    return AR.diagflat(_operand(v), operator.index(k))


def _repeat(a, repeats, axis=None):
    name = "numpy.repeat"
    a = _operand(a)
    if axis is not None:
        axis = _axis1(name, axis, max(S._ndim(a), 1) if S._ndim(a) == 0 else S._ndim(a))
    counts = np.asarray(repeats._data if isinstance(repeats, Tensor) else repeats)
    if counts.dtype.kind not in "iub" and counts.size:
        raise TypeError(f"{name}: cannot cast repeats of dtype {counts.dtype} to int64 under the 'safe' rule")
    counts = counts.astype(np.intp)
    n = S._shape(S.reshape(a, -1))[0] if axis is None or S._ndim(a) == 0 else S._shape(a)[axis]
    if counts.ndim > 1 or (counts.ndim == 1 and counts.size not in (1, n)):
        raise ValueError(f"{name}: operands could not be broadcast together with shape ({n},) ({counts.size},)")
    if (counts < 0).any():
        raise ValueError(f"{name}: repeats may not contain negative values.")
    return AR.repeat_interleave(a, counts, axis)


def _roll(a, shift, axis=None):
    name = "numpy.roll"
    a = _operand(a)
    if axis is None:
        total = int(np.sum(np.asarray(shift, dtype=np.intp)))
        return S.reshape(AR.roll(S.reshape(a, -1), total, 0), S._shape(a))
    ndim = S._ndim(a)
    shifts = [0] * ndim
    try:
        pairs = np.broadcast(np.asarray(shift), np.asarray(axis))
    except ValueError:
        raise ValueError(f"{name}: 'shift' and 'axis' should be scalars or 1D sequences") from None
    if pairs.ndim > 1:
        raise ValueError(f"{name}: 'shift' and 'axis' should be scalars or 1D sequences")
    for sh, ax in pairs:
        shifts[_axis1(name, int(ax), ndim)] += int(sh)
    dims = [d for d in range(ndim) if shifts[d]]
    if not dims:
        return S.clone(a)
    return AR.roll(a, tuple(shifts[d] for d in dims), tuple(dims))


def _rot90(m, k=1, axes=(0, 1)):
    name = "numpy.rot90"
    m = _operand(m)
    axes = tuple(axes)
    ndim = S._ndim(m)
    if len(axes) != 2:
        raise ValueError(f"{name}: len(axes) must be 2.")
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == ndim:
        raise ValueError(f"{name}: Axes must be different.")
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{name}: Axes={axes} out of range for array of ndim={ndim}.")
    return AR.rot90(m, operator.index(k), axes)


def _flip_lr(m):
    m = _operand(m)
    if S._ndim(m) < 2:
        raise ValueError("numpy.fliplr: Input must be >= 2-d.")
    return S.flip(m, 1)


def _flip_ud(m):
    m = _operand(m)
    if S._ndim(m) < 1:
        raise ValueError("numpy.flipud: Input must be >= 1-d.")
    return S.flip(m, 0)


def _moveaxis(a, source, destination):
    name = "numpy.moveaxis"
    a = _operand(a)
    ndim = S._ndim(a)
    src = _axes(name, tuple(np.atleast_1d(source).tolist()), ndim)
    dst = _axes(name, tuple(np.atleast_1d(destination).tolist()), ndim)
    if len(src) != len(dst):
        raise ValueError(f"{name}: `source` and `destination` arguments must have the same number of elements")
    return AR.movedim(a, src, dst)


def _swapaxes(a, axis1, axis2):
    name = "numpy.swapaxes"
    a = _operand(a)
    ndim = S._ndim(a)
    return S.transpose(a, _axis1(name, axis1, ndim), _axis1(name, axis2, ndim))


def _layout_positions(data, order):
    """The flat C-order positions of ``data``'s entries in ``np.ravel(data, order)``."""
    positions = np.empty_like(np.asarray(data), dtype=np.intp)  # the data's layout (order 'K')
    positions[...] = np.arange(positions.size).reshape(positions.shape)
    return np.ravel(positions, order=order)


def _ravel(a, order="C"):
    name = "numpy.ravel"
    if order not in ("C", "F", "A", "K", None):
        raise ValueError(f"{name}: order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")
    a = _operand(a)
    flat = S.reshape(a, -1)
    if order in ("C", None) or S._ndim(a) < 2:
        return flat
    data = a._data if isinstance(a, Tensor) else np.asarray(a)
    if hasattr(data, "refuse_conversion"):  # a batched tensor of vmap: its examples are in C order
        data = np.broadcast_to(np.zeros((), np.int8), S._shape(a))
    positions = _layout_positions(data, order)
    if tracing.active[0] and isinstance(a, Tensor):  # a compiled call checks the layout again
        tracing.decide(a, lambda d, want=positions: np.array_equal(_layout_positions(d, order), want),
                       f"the memory layout of {name}(order={order!r})'s input")
    if (positions == np.arange(positions.size)).all():
        return flat
    return AR._take(flat, 0, positions)


def _atleast(fn):
    def atleast(*arys):
        out = fn(*[_operand(a) for a in arys])
        return out if len(arys) == 1 else tuple(out)

    atleast.__name__ = fn.__name__
    return atleast


def _expand_dims(a, axis):
    a = _operand(a)
    axes = axis if type(axis) in (tuple, list) else (axis,)
    _axes("numpy.expand_dims", tuple(axes), S._ndim(a) + len(axes))  # NumPy's AxisError and ValueError
    return AR.expand_dims(a, axis)


def _sequence(name: str, tup, dtype, casting, what: str = "concatenate") -> list:
    """The arrays of a NumPy join (``np.vstack``, ``np.concatenate``...) as tensors, cast to
    ``dtype`` (checked against ``casting``) or else to NumPy's common result dtype."""
    if isinstance(tup, Tensor):
        tup = list(tup)
    arrays = [_operand(x) for x in tup]
    if not arrays:
        raise ValueError(f"{name}: need at least one array to {what}")
    _check_casting(name, casting)
    if dtype is not None:
        return [_cast_checked(name, x, dtype, casting) for x in arrays]
    return numpy_joined(arrays)


def _vstack(tup, *, dtype=None, casting="same_kind"):
    return AR.vstack(_sequence("numpy.vstack", tup, dtype, casting))


def _hstack(tup, *, dtype=None, casting="same_kind"):
    return AR.hstack(_sequence("numpy.hstack", tup, dtype, casting))


def _dstack(tup):
    return AR.dstack(_sequence("numpy.dstack", tup, None, "same_kind"))


def _column_stack(tup):
    return AR.column_stack(_sequence("numpy.column_stack", tup, None, "same_kind"))


def _splitter(name: str, equal: bool, least: int = 1, axis_of=None):
    def split(ary, indices_or_sections, axis=0):
        ary = _operand(ary)
        ndim = S._ndim(ary)
        if ndim < least:
            raise ValueError(f"numpy.{name}: {name} only works on arrays of {least} or more dimensions")
        d = axis_of(ndim) if axis_of is not None else _axis_or_error(f"numpy.{name}", axis, max(ndim, 1) if ndim else 0)
        bounds = AR.split_bounds(f"numpy.{name}", S._shape(ary)[d], indices_or_sections, equal)
        return AR._pieces(ary, d, bounds)

    if axis_of is not None:
        def directional(ary, indices_or_sections):
            return split(ary, indices_or_sections)

        directional.__name__ = name
        return directional
    split.__name__ = name
    return split


_PAD_DICT = np.lib.NumpyVersion(np.__version__) >= "2.3.0"  # np.pad(a, {axis: width}) is NumPy 2.3's
_PAD_KEYWORDS = {
    "empty": (), "edge": (), "wrap": (), "constant": ("constant_values",), "linear_ramp": ("end_values",),
    "maximum": ("stat_length",), "mean": ("stat_length",), "median": ("stat_length",),
    "minimum": ("stat_length",), "reflect": ("reflect_type",), "symmetric": ("reflect_type",),
}


def _pairs(name: str, x, ndim: int, as_index: bool) -> list:
    """NumPy's ``_as_pairs``: one ``(before, after)`` per dimension from a number, a pair or
    per-dimension pairs."""
    x = np.asarray(x)
    if as_index:
        x = np.round(x).astype(np.intp)
    if x.ndim < 3 and x.size in (1, 2) and not (x.size == 2 and x.shape == (2, 1)):
        flat = x.ravel()
        pair = (flat[0], flat[0]) if x.size == 1 else (flat[0], flat[1])
        if as_index and min(pair) < 0:
            raise ValueError(f"{name}: index can't contain negative values")
        return [pair] * ndim
    if as_index and x.size and x.min() < 0:
        raise ValueError(f"{name}: index can't contain negative values")
    try:
        return np.broadcast_to(x, (ndim, 2)).tolist()
    except ValueError:
        raise ValueError(f"{name}: operands could not be broadcast to ({ndim}, 2), got shape {x.shape}") from None


def _pad(array, pad_width, mode="constant", **kwargs):
    name = "numpy.pad"
    array = _operand(array)
    ndim = S._ndim(array)
    if isinstance(pad_width, dict) and _PAD_DICT:  # older NumPy: refused below, as NumPy does
        seq = [(0, 0)] * ndim
        for axis, width in pad_width.items():
            seq[axis] = (width, width) if np.ndim(width) == 0 else tuple(width)
        pad_width = seq
    widths = np.asarray(pad_width)
    if widths.dtype.kind not in "iu":
        raise TypeError(f"{name}: `pad_width` must be of integral type.")
    pairs = [(int(lo), int(hi)) for lo, hi in _pairs(name, widths, ndim, True)]
    if callable(mode):
        raise NotImplementedError(f"{name}: a function as mode is not supported on chainrule tensors; "
                                  f"pad with cr.cat of the pieces you compute")
    if mode not in _PAD_KEYWORDS:
        raise ValueError(f"{name}: mode '{mode}' is not supported")
    unsupported = set(kwargs) - set(_PAD_KEYWORDS[mode])
    if unsupported:
        raise ValueError(f"{name}: unsupported keyword arguments for mode '{mode}': {unsupported}")
    if mode in ("constant", "empty"):  # NumPy leaves mode='empty' padding undefined: zeros here
        values = kwargs.get("constant_values", 0)
        if isinstance(values, Tensor):
            raise TypeError(f"{name}: constant_values must be numbers, not a tensor")
        return AR.pad_axes(array, pairs, "constant", _pairs(name, values, ndim, False))
    if mode not in AR.INDEX_MODES:
        raise NotImplementedError(
            f"{name}: mode '{mode}' is not supported on chainrule tensors (supported: 'constant', 'empty', "
            f"{', '.join(repr(m) for m in AR.INDEX_MODES)}); build it with cr.cat"
        )
    reflect_type = kwargs.get("reflect_type", "even")
    if reflect_type != "even":
        raise NotImplementedError(f"{name}: mode '{mode}' with reflect_type={reflect_type!r} is not supported; "
                                  f"only reflect_type='even'")
    return AR.pad_axes(array, pairs, mode, reflect_type=reflect_type)


def _append(arr, values, axis=None):
    name = "numpy.append"
    arr, values = _operand(arr), _operand(values)
    arr, values = numpy_joined([arr, values])
    if axis is None:
        return JN.cat([S.reshape(arr, -1), S.reshape(values, -1)], 0)
    ndim = S._ndim(arr)
    if ndim == 0 or S._ndim(values) != ndim:
        raise ValueError(f"{name}: all the input arrays must have the same number of dimensions, got shapes "
                         f"{S._shape(arr)} and {S._shape(values)}")
    return JN.cat([arr, values], _axis1(name, axis, ndim))


def _diff(a, n=1, axis=-1, prepend=_NoValue, append=_NoValue):
    name = "numpy.diff"
    a = _operand(a)
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"{name}: order must be non-negative but got {n}")
    ndim = S._ndim(a)
    if ndim == 0:
        raise ValueError(f"{name}: diff requires input that is at least one dimensional")
    d = _axis1(name, axis, ndim)
    if n == 0:
        return a
    given = [_operand(e) for e in (prepend, append) if e is not _NoValue]
    a, *given = numpy_joined([a, *given])
    extras = [None if e is _NoValue else given.pop(0) for e in (prepend, append)]
    return AR.diff(a, n, d, *extras)


def _ediff1d(ary, to_end=None, to_begin=None):
    return AR.ediff1d(_operand(ary), to_end, to_begin)


SIGNATURES: dict[str, Callable[..., Any]] = {
    "tril": _triangle("tril", AR.tril), "triu": _triangle("triu", AR.triu), "diag": _diag,
    "diagonal": _diagonal, "diagflat": _diagflat, "repeat": _repeat, "roll": _roll, "rot90": _rot90,
    "fliplr": _flip_lr, "flipud": _flip_ud, "moveaxis": _moveaxis, "swapaxes": _swapaxes,
    "ravel": _ravel, "atleast_1d": _atleast(AR.atleast_1d), "atleast_2d": _atleast(AR.atleast_2d),
    "atleast_3d": _atleast(AR.atleast_3d), "expand_dims": _expand_dims,
    "vstack": _vstack, "hstack": _hstack, "dstack": _dstack, "column_stack": _column_stack,
    "split": _splitter("split", True), "array_split": _splitter("array_split", False),
    "hsplit": _splitter("hsplit", True, 1, lambda n: 1 if n > 1 else 0),
    "vsplit": _splitter("vsplit", True, 2, lambda n: 0),
    "dsplit": _splitter("dsplit", True, 3, lambda n: 2),
    "pad": _pad, "append": _append, "diff": _diff, "ediff1d": _ediff1d,
}
