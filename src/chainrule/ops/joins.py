"""Joining and splitting: cat, stack, split, chunk, unbind, narrow; padding and diagonals."""

from __future__ import annotations

import builtins
import operator

import numpy as np

from ..core import backend as B
from ..core.dtypes import check_operand as _check_operand
from ..core.tensor import Tensor
from . import _template as T
from ._define import define, linear
from ._table import public
from .indexing import _at_least_1d, getitem
from .shape import (
    _check_sizes,
    _ndim,
    _shape,
    _view,
    normalize_dim,
    unsqueeze,
)


def _cat_xp(space, *xs, dim):
    dtype = B.dtype_in(space, B.result_dtype(*xs))
    return space.concat([x if x.dtype == dtype else space.astype(x, dtype) for x in xs], axis=dim)



def _cat_vjp(m, g, ans, needs, *inputs, dim):
    parts = []
    start = 0
    for x, need in zip(inputs, needs):
        size = x.shape[dim]
        if need:
            part = m.getitem(g, index=(slice(None),) * dim + (slice(start, start + size), Ellipsis))
            if part.dtype != x.dtype:  # joined with a wider dtype: the gradient comes back in x's
                part = m.cast(part, dtype=x.dtype)
            parts.append(part)
        else:
            parts.append(None)
        start += size
    return parts


def _cat_jvp(m, tangents, ans, *inputs, dim):
    if all(t is None for t in tangents):
        return None
    return m.cat(*[m.zeros_like(x) if t is None else t for t, x in zip(tangents, inputs)], dim=dim)


def _cat_impl(*xs, dim):
    """NumPy's concatenate in PyTorch's result dtype (``backend.result_dtype``: an int64 tensor
    joined with a float32 one is float32, not NumPy's float64)."""
    first = xs[0].dtype
    for x in xs:
        if x.dtype is not first:
            return np.concatenate(xs, axis=dim, dtype=B.result_dtype(*xs))
    return np.concatenate(xs, axis=dim)


cat_prim = define("cat", _cat_impl, _cat_vjp, _cat_jvp,
                  vjp_all=True, save_inputs="meta", template=T.Template(
        lambda p, k, v: f"np.concatenate(({', '.join(p)}{',' if len(p) == 1 else ''}), axis={k['dim']})"), xp=_cat_xp)


def _tensor_list(op, tensors) -> list:
    """``tensors`` (a list or tuple, not empty) as a list, each element checked as an operand."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    for item in tensors:
        _check_operand(op, item, "an element of tensors")
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    return list(tensors)


@public(aliases=("concat", "concatenate"), numpy="concatenate")
def cat(tensors, dim: int = 0):
    """Join tensors along an existing dimension."""
    tensors = _tensor_list("cat", tensors)
    for i, x in enumerate(tensors):
        if isinstance(x, (list, tuple)):
            raise TypeError(f"cat: element {i} is a {type(x).__name__}; pass tensors (cr.tensor(...) first)")
    ndim = _ndim(tensors[0])
    d = normalize_dim("cat", dim, ndim)
    shapes = [_shape(x) for x in tensors]
    for s in shapes:
        if len(s) != ndim or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != d):
            raise RuntimeError(
                f"cat: sizes of tensors must match except in dimension {d}; got shapes {shapes}"
            )
    return cat_prim(*tensors, dim=d)


@public(numpy="stack")
def stack(tensors, dim: int = 0):
    """Join tensors of equal shape along a new dimension."""
    tensors = _tensor_list("stack", tensors)
    shapes = [_shape(x) for x in tensors]
    if any(s != shapes[0] for s in shapes):
        raise RuntimeError(f"stack: expects each tensor to be equal size, got shapes {shapes}")
    d = normalize_dim("stack", dim, len(shapes[0]) + 1)
    return cat_prim(*[unsqueeze(x, d) for x in tensors], dim=d)


@public(method=True, numpy="split")
def split(input, split_size_or_sections, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes."""
    _check_operand("split", input, "input")
    _at_least_1d("split", input)
    _check_sizes("split", "split_size_or_sections", split_size_or_sections, many=True)
    shape = _shape(input)
    d = normalize_dim("split", dim, len(shape))
    n = shape[d]
    if isinstance(split_size_or_sections, (int, B.integer)):
        split_size_or_sections = operator.index(split_size_or_sections)
        size = split_size_or_sections
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != n:
            raise RuntimeError(f"split: sizes {sizes} do not add up to {n}, the size of dimension {d}")
    pieces, start = [], 0
    for s in sizes:
        pieces.append(_view(getitem, input, {"index": (slice(None),) * d + (slice(start, start + s), Ellipsis)},
                            multi=True))
        start += s
    return tuple(pieces)


@public(method=True)
def chunk(input, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """Split into ``chunks`` pieces of equal size (the last may be smaller)."""
    _check_operand("chunk", input, "input")
    _at_least_1d("chunk", input)
    _check_sizes("chunk", "chunks", chunks)
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = _shape(input)[normalize_dim("chunk", dim, _ndim(input))]
    size = max(1, -(-n // chunks))
    return split(input, size, dim)


@public(method=True)
def unbind(input, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    _check_operand("unbind", input, "input")
    _at_least_1d("unbind", input)
    d = normalize_dim("unbind", dim, _ndim(input))
    return tuple(_view(getitem, input, {"index": (slice(None),) * d + (i, Ellipsis)}, multi=True)
                 for i in range(_shape(input)[d]))


@public(method=True)
def narrow(input, dim: int, start: int, length: int):  # noqa: A002
    """The view ``input[..., start:start + length, ...]`` along ``dim``."""
    _check_operand("narrow", input, "input")
    _at_least_1d("narrow", input)
    _check_sizes("narrow", "length", length)
    if isinstance(start, bool) or not isinstance(start, (int, B.integer)):
        raise TypeError(f"narrow: start must be an int, got {start!r:.40}")
    shape = _shape(input)
    d = normalize_dim("narrow", dim, len(shape))
    n = shape[d]
    start, length = operator.index(start), operator.index(length)
    if start < 0:
        start += n
    if not (0 <= start <= n and 0 <= length <= n - start):
        raise RuntimeError(
            f"narrow: start {start} and length {length} are out of range for dimension {d} of size "
            f"{n} (tensor of shape {shape})"
        )
    return _view(getitem, input, {"index": (slice(None),) * d + (slice(start, start + length), Ellipsis)})


def _pad_impl(x, widths, value):
    return np.pad(x, widths, constant_values=value)


def _pad_vjp(m, g, ans, x, widths, value):
    return m.getitem(g, index=tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape)))


pad_prim = define("pad", _pad_impl, (_pad_vjp,),
                  lambda m, tangents, ans, x, widths, value: m.pad(tangents[0], widths=widths, value=0.0),
                  save_inputs="meta", template=T.Template(
        lambda p, k, v: f"np.pad({p[0]}, {T.literal(k['widths'])[0]}, constant_values={T.literal(k['value'])[0]})"))


@public(numpy="pad")
def pad(input, pad, mode: str = "constant", value: float = 0.0):  # noqa: A002
    """Pad with ``value``; ``pad`` lists (left, right) widths starting from the last dimension."""
    _check_operand("pad", input, "input")
    if not isinstance(pad, (list, tuple)) or any(isinstance(p, bool) or not isinstance(p, (int, B.integer)) for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints (left, right, ...), got {pad!r:.40}")
    if isinstance(value, bool) or not isinstance(value, (int, float, B.integer, B.floating)):
        raise TypeError(f"pad: value must be a real number, got {type(value).__name__} {value!r:.40}")
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is supported, got mode={mode!r}")
    pad = tuple(int(p) for p in pad)
    ndim = _ndim(input)
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise ValueError(
            f"pad: padding length must be even and at most 2 * ndim ({2 * ndim}), got {len(pad)}"
        )
    if builtins.min(pad, default=0) < 0:
        raise ValueError(f"pad: negative padding {pad} is not supported")
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return pad_prim(input, widths=tuple(widths), value=float(value))


def _diagonal_embed_impl(x, shape, offset, dim1, dim2):
    out = np.zeros(shape, dtype=x.dtype)
    # np.diagonal gives a read-only view: write through index arrays on a moved view instead.
    n = x.shape[-1]
    rows = np.arange(n) + builtins.max(-offset, 0)
    cols = np.arange(n) + builtins.max(offset, 0)
    moved = np.moveaxis(x, -1, 0)
    target = np.moveaxis(out, (dim1, dim2), (0, 1))
    target[rows, cols] = moved
    return out


def _diagonal_impl(x, offset, dim1, dim2):
    out = np.diagonal(x, offset, dim1, dim2)
    if x.flags.writeable:
        out.flags.writeable = True  # NumPy's diagonal view is read-only only by caution; PyTorch's is writable
    return out


diagonal_prim = linear(
    "diagonal", _diagonal_impl,
    lambda m, g, x, offset, dim1, dim2: m.diagonal_embed(g, shape=x.shape, offset=offset, dim1=dim1, dim2=dim2), template=T.Template(lambda p, k, v: f"np.diagonal({p[0]}, {k['offset']}, {k['dim1']}, {k['dim2']})"),
)


diagonal_embed = linear(
    "diagonal_embed", _diagonal_embed_impl,
    lambda m, g, x, shape, offset, dim1, dim2: m.diagonal(g, offset=offset, dim1=dim1, dim2=dim2),
)


@public(method=True, numpy="diagonal")
def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1):  # noqa: A002
    """The diagonal over dims ``dim1``, ``dim2`` (appended as the last dimension)."""
    _check_operand("diagonal", input, "input")
    if isinstance(offset, bool) or not isinstance(offset, (int, B.integer)):
        raise TypeError(f"diagonal: offset must be an int, got {offset!r:.40}")
    ndim = _ndim(input)
    d1, d2 = normalize_dim("diagonal", dim1, ndim), normalize_dim("diagonal", dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal: dim1 and dim2 cannot be equal (both {d1})")
    return _view(diagonal_prim, input, {"offset": int(offset), "dim1": d1, "dim2": d2})
