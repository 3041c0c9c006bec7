"""Indexing: basic and advanced indices, gathers and scatters, masked fills (PyTorch's
semantics; basic indices give views)."""

from __future__ import annotations

import numpy as np

from ..core import backend as B
from ..core import tracing
from ..core.dtypes import check_operand as _check_operand
from ..core.tensor import Tensor
from . import _template as T
from ._define import define, linear, named, per_example
from ._table import public
from .elementwise import cast
from .piecewise import where
from .shape import (
    _data,
    _dtype,
    _ndim,
    _shape,
    _view,
    normalize_dim,
)


def _scatter_xp(space, g, index, shape):
    if not _is_basic(index):
        raise TypeError(f"scatter: integer-array and mask indices are NumPy's only, got {index!r:.60}")
    out = space.zeros(tuple(shape), dtype=g.dtype, device=g.device)
    # The standard writes through ints, slices and ellipses only: a None adds an axis of size 1
    # to the region read, which g has and the region written has not.
    index = tuple(i for i in (index if isinstance(index, tuple) else (index,)) if i is not None)
    out[index] = space.reshape(g, out[index].shape)
    return out



def _index_key(index, op="index"):
    """An index with tensors and lists turned into arrays (hashable form not needed)."""
    if isinstance(index, tuple):
        return tuple(_index_key(i, op) for i in index)
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, B.ndarray) and index.dtype.kind not in "biu":
        raise TypeError(f"{op}: arrays used as indices must be of integer or boolean type, got {index.dtype}")
    if isinstance(index, list):
        array = B.as_array(index)
        if array.size and array.dtype.kind not in "biu":
            raise TypeError(f"{op}: lists used as indices must hold integers or booleans, got {array.dtype}")
        return array.astype(B.intp) if array.size == 0 else array  # t[[]]: NumPy's empty integer index
    return index


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice, B.integer)) for i in items)


def _has_ellipsis(index) -> bool:
    return index is Ellipsis or isinstance(index, tuple) and any(i is Ellipsis for i in index)


def _scatter_impl(g, index, shape):
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


getitem = linear("getitem", lambda x, index: x[index],
                 lambda m, g, x, index: m.scatter(g, index=index, shape=x.shape), template=T.Template(lambda p, k, v: f"{p[0]}[{T.index_code(k['index'])}]", (T.ATOM,)), xp=lambda space, x, index: x[index])


scatter = linear("scatter", _scatter_impl,
                 lambda m, g, x, index, shape: m.getitem(g, index=index), xp=_scatter_xp)


def index(input, key):  # noqa: A002
    """``input[key]`` with ints, slices, None, ..., integer arrays and boolean masks."""
    key = given = _index_key(key)
    try:
        if _is_basic(key):
            # A trailing ``...`` makes NumPy return a 0-d view, not a copied scalar, for t[0] of a
            # 1-D tensor: basic indexing is a view (PyTorch), advanced indexing a copy.
            key = (key + (Ellipsis,) if isinstance(key, tuple) else (key, Ellipsis)) \
                if not _has_ellipsis(key) else key
            return _view(getitem, input, {"index": key})
        out = getitem(input, index=key)
        if type(out._data) is B.ndarray and not out._data.flags.c_contiguous:
            # A new tensor laid out in C order, as PyTorch's: its reshape/view is then a view.
            out._data = B.contiguous(out._data)
        return out
    except IndexError as exc:
        message = str(exc).split(" (inputs: ")[0].removeprefix("getitem: ")
        raise IndexError(f"index: {message} (tensor of shape {_shape(input)}, index {given!r})") from None


def _index_put_impl(x, value, index):
    out = x.copy() if isinstance(x, np.ndarray) else np.array(x)  # (a 0-d cotangent may be a NumPy scalar)
    out[index] = value
    return out


def _index_put_jvp(m, tangents, ans, x, value, index):
    tx, tv = tangents
    if tx is None and tv is None:
        return None
    base = m.zeros_like(ans) if tx is None else tx
    return m.index_put(base, 0.0 if tv is None else tv, index=index)


def _index_put_value_vjp(m, g, ans, x, value, index):
    # The written region's cotangent, summed to the value's shape (``t[None] = v`` writes a
    # region of shape (1,) + v.shape: its sum, not the broadcast, is the value's gradient).
    part = m.getitem(g, index=index)
    shape = _shape(value)
    return part if _shape(part) == shape else m.sum_to(part, shape=shape)


index_put = define(
    "index_put", _index_put_impl,
    (lambda m, g, ans, x, value, index: m.index_put(g, 0.0, index=index), _index_put_value_vjp),
    _index_put_jvp, broadcasts=True, save_inputs="meta",
)


@public(method=True)
@per_example
def index_select(input, dim: int, index):  # noqa: A002
    """The entries of ``input`` at positions ``index`` (1-D integers) along ``dim``."""
    _check_operand("index_select", input, "input")
    _check_operand("index_select", index, "index")
    _at_least_1d("index_select", input)
    d = normalize_dim("index_select", dim, _ndim(input))
    if isinstance(index, Tensor) and tracing.active[0]:
        tracing.read(index)
    idx = _data(index)
    if idx.ndim > 1 or B.kind(idx.dtype) not in "iu":
        raise RuntimeError(f"index_select: index must be a 1-D integer tensor, got shape {idx.shape} dtype {idx.dtype}")
    idx = idx.reshape(-1)
    _check_bounds("index_select", idx, d, _shape(input), IndexError if _shape(input)[d] else RuntimeError)
    return getitem(input, index=(slice(None),) * d + (idx,))


def _at_least_1d(op: str, input) -> None:  # noqa: A002
    if _ndim(input) == 0:
        raise RuntimeError(f"{op}: expects a tensor with at least one dimension, got a 0-d tensor")


def _check_bounds(op: str, idx, dim: int, shape: tuple, error=IndexError) -> None:
    """Indices must lie in ``0 .. shape[dim] - 1`` (PyTorch's rule; NumPy's error names no op)."""
    n = shape[dim]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise error(
            f"{op}: index {bad} is out of range for dimension {dim} of size {n} (tensor of shape "
            f"{shape}); indices must be in 0..{n - 1}"
        )


@public(method=True)
def masked_fill(input, mask, value):  # noqa: A002
    """``value`` where ``mask`` is True, ``input`` elsewhere."""
    _check_operand("masked_fill", input, "input")
    _check_operand("masked_fill", mask, "mask")
    _check_operand("masked_fill", value, "value")
    if _dtype(mask) != B.BOOL:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {_dtype(mask)}; compare first, e.g. x > 0")
    if isinstance(input, Tensor) and not isinstance(value, Tensor) and _ndim(value) == 0:
        # the result keeps input's dtype (PyTorch)
        if B.dtype_of(value).kind == "c" and B.kind(input._data.dtype) != "c":
            raise TypeError(f"masked_fill: a complex value cannot fill a tensor of dtype {input._data.dtype}")
        value = B.as_array(value, input._data.dtype, like=input._data)
    elif isinstance(input, Tensor) and isinstance(value, Tensor) and _ndim(value) == 0 \
            and B.numpy_dtype(value._data.dtype) != B.numpy_dtype(input._data.dtype):
        value = cast(value, dtype=B.numpy_dtype(input._data.dtype))  # a 0-d tensor too (PyTorch)
    return named("masked_fill", where, mask, value, input)


def _gather_impl(x, index, dim):
    # PyTorch's gather reads only the corner of x that the index spans in the other dimensions
    # (index.size(d) <= x.size(d)); NumPy's take_along_axis would broadcast a size-1 index.
    if any(i != dim and m != n for i, (m, n) in enumerate(zip(index.shape, x.shape))):
        x = x[tuple(slice(None) if i == dim else slice(0, m) for i, m in enumerate(index.shape))]
    return np.take_along_axis(x, index, axis=dim)


def _scatter_add_impl(src, index, dim, shape):
    out = np.zeros(shape, dtype=src.dtype)
    grids = list(np.ogrid[tuple(slice(n) for n in index.shape)])
    grids[dim] = index
    np.add.at(out, tuple(grids), src)
    return out


gather_prim = define(
    "gather", _gather_impl,
    (lambda m, g, ans, x, index, dim: m.scatter_add(g, index, dim=dim, shape=x.shape), None),
    lambda m, tangents, ans, x, index, dim: m.gather(tangents[0], index, dim=dim),
    needs=((1,), ()), needs_meta=True, template=T.Template(lambda p, k, v: f"np.take_along_axis({p[0]}, {p[1]}, axis={k['dim']})"),
)


scatter_add = define(
    "scatter_add", _scatter_add_impl,
    (lambda m, g, ans, src, index, dim, shape: m.gather(g, index, dim=dim), None),
    lambda m, tangents, ans, src, index, dim, shape: m.scatter_add(tangents[0], index, dim=dim, shape=shape),
    needs=((1,), ()), needs_meta=True,
)


@public(method=True)
@per_example
def gather(input, dim: int, index):  # noqa: A002
    """``out[i][j] = input[index[i][j]][j]`` for ``dim=0`` (and likewise for other dims)."""
    _check_operand("gather", input, "input")
    _check_operand("gather", index, "index")
    ndim = _ndim(input)
    d = normalize_dim("gather", dim, ndim)
    idx = _data(index)
    if B.kind(idx.dtype) not in "iu" or idx.ndim != ndim:
        raise RuntimeError(
            f"gather: index must be an integer tensor with the same number of dimensions as the "
            f"input ({ndim}), got shape {idx.shape} dtype {idx.dtype}"
        )
    _check_bounds("gather", idx, d, _shape(input), RuntimeError)
    for i, (a, b) in enumerate(zip(idx.shape, _shape(input))):
        if i != d and a > b:
            raise RuntimeError(
                f"gather: index of shape {idx.shape} is larger than the input of shape {_shape(input)} "
                f"in dimension {i}"
            )
    return gather_prim(input, idx, dim=d)
