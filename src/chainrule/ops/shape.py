"""Shape operations and indexing: views, joins, splits, gathers and scatters."""

from __future__ import annotations

import builtins
import operator

import numpy as np

from ..core import backend as B
from ..core.dtypes import check_operand as _check_operand
from ..core.tensor import Tensor, View, make_view
from . import _template as T
from ._define import define, linear, named
from ._table import public
from .elementwise import where

_prod = B.prod


def _data(x):
    return x._data if isinstance(x, Tensor) else B.as_array(x)


def _dtype(x):
    """The NumPy dtype of a tensor, array or number (another namespace's mapped by name)."""
    return B.dtype_of(x._data if isinstance(x, Tensor) else x)


def _ndim(x) -> int:
    if isinstance(x, Tensor):
        x = x._data
    ndim = getattr(x, "ndim", None)  # arrays, NumPy scalars, Meta
    return B.ndim(x) if ndim is None else ndim


def _shape(x) -> tuple:
    if isinstance(x, Tensor):
        return x._data.shape
    return B.shape_of(x)


def normalize_dim(op: str, dim, ndim: int) -> int:
    """A non-negative axis from a possibly negative ``dim``, or an error naming ``op``."""
    try:
        dim = operator.index(dim)
    except TypeError:
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}") from None
    lo, hi = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not lo <= dim <= hi:
        raise IndexError(
            f"{op}: dimension out of range (expected to be in range of [{lo}, {hi}], but got "
            f"{dim}) for a tensor of {ndim} dimension(s)"
        )
    return dim % ndim if ndim else 0


def _sizes(op: str, sizes) -> tuple:
    """Shape arguments given as ``*sizes`` or one sequence."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    try:
        return tuple(operator.index(s) for s in sizes)
    except TypeError:
        raise TypeError(f"{op}: sizes must be ints, got {sizes!r}") from None


def _check_sizes(op: str, name: str, value, many: bool = False) -> None:
    """``value``: a non-negative int (or, with ``many``, a list or tuple of them), else an error
    naming ``op``."""
    values = value if many and isinstance(value, (list, tuple)) else [value]
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, B.integer)):
            raise TypeError(f"{op}: {name} must be an int{' or a list of ints' if many else ''}, got {value!r:.40}")
        if v < 0:
            raise ValueError(f"{op}: {name} must be non-negative, got {value!r:.40}")


def _view(prim, input, params, multi=False):  # noqa: A002
    """``prim(input, **params)``, marked a view of ``input`` (see "How views work" in tensor.py);
    ``reshape`` is one only where NumPy needed no copy."""
    if isinstance(input, Tensor):
        if type(input._data) is not B.ndarray and not B.foreign(input._data):
            input._buffer()  # a 0-d result held as a NumPy scalar: give it memory to share
        out = prim(input, **params)
        if prim is not _reshape or B.may_share_memory(out._data, input._data):
            make_view(out, input, prim, params, multi)
        return out
    return prim(input, **params)


# ---------------------------------------------------------------------------------------------
# Forwards for other array namespaces (the array API standard, see backend)
# ---------------------------------------------------------------------------------------------

def _scatter_xp(space, g, index, shape):
    if not _is_basic(index):
        raise TypeError(f"scatter: integer-array and mask indices are NumPy's only, got {index!r:.60}")
    out = space.zeros(tuple(shape), dtype=g.dtype, device=g.device)
    # The standard writes through ints, slices and ellipses only: a None adds an axis of size 1
    # to the region read, which g has and the region written has not.
    index = tuple(i for i in (index if isinstance(index, tuple) else (index,)) if i is not None)
    out[index] = space.reshape(g, out[index].shape)
    return out


def _cat_xp(space, *xs, dim):
    dtype = B.dtype_in(space, B.result_dtype(*xs))
    return space.concat([x if x.dtype == dtype else space.astype(x, dtype) for x in xs], axis=dim)



# ---------------------------------------------------------------------------------------------
# Views and rearrangements (linear: JVP applies the op to the tangent)
# ---------------------------------------------------------------------------------------------

_reshape = linear("reshape", lambda x, shape: np.reshape(x, shape),
                  lambda m, g, x, shape: m.reshape(g, shape=x.shape), template=T.Template(lambda p, k, v: f"np.reshape({p[0]}, {T.literal(tuple(k['shape']))[0]})"), xp=lambda space, x, shape: space.reshape(x, tuple(shape)))


@public(method=True, numpy="reshape")
def reshape(input, *shape):  # noqa: A002
    """The same elements in a new shape (one size may be -1)."""
    _check_operand("reshape", input, "input")
    shape = _sizes("reshape", shape)
    new = _infer_shape(_shape(input), shape)
    return _view(_reshape, input, {"shape": new})


@public(method=True)
def view(input, *shape):  # noqa: A002
    """``reshape`` that must not copy: raises where the data's layout needs a copy (PyTorch)."""
    _check_operand("view", input, "input")
    shape = _sizes("view", shape)
    new = _infer_shape(_shape(input), shape, "view")
    out = _view(_reshape, input, {"shape": new})
    if isinstance(input, Tensor) and not isinstance(out, View) and out._data.size:
        raise RuntimeError(
            f"view: shape {list(new)} is not compatible with the layout of the tensor of shape "
            f"{_shape(input)} (its memory would have to be copied); use .reshape(...) instead"
        )
    return out


def _infer_shape(old: tuple, shape: tuple, op: str = "reshape") -> tuple:
    count = int(_prod(old))
    unknown = [i for i, s in enumerate(shape) if s == -1]
    known = int(_prod([s for s in shape if s != -1]))
    bad = len(unknown) > 1 or any(s < -1 for s in shape)
    if not bad and unknown:
        bad = known == 0 or count % known != 0
        if not bad:
            shape = shape[:unknown[0]] + (count // known,) + shape[unknown[0] + 1:]
    if bad or int(_prod(shape)) != count:
        raise RuntimeError(
            f"{op}: shape {list(shape)} is invalid for a tensor of shape {old} ({count} elements)"
        )
    return shape


permute_prim = linear(
    "permute", lambda x, dims: np.transpose(x, dims),
    lambda m, g, x, dims: m.permute(g, dims=_inverse(dims)), template=T.Template(lambda p, k, v: f"np.transpose({p[0]}, {T.literal(tuple(k['dims']))[0]})"), xp=lambda space, x, dims: space.permute_dims(x, tuple(dims))
)


def _inverse(dims):
    """The permutation that undoes ``dims``."""
    inverse = [0] * len(dims)
    for i, d in enumerate(dims):
        inverse[d] = i
    return tuple(inverse)


@public(method=True)
def permute(input, *dims):  # noqa: A002
    """Reorder the dimensions: output dim ``i`` is input dim ``dims[i]``."""
    _check_operand("permute", input, "input")
    dims = _sizes("permute", dims)
    ndim = _ndim(input)
    if len(dims) != ndim:
        raise RuntimeError(f"permute: got {len(dims)} dims {list(dims)} for a tensor of {ndim} dimensions")
    dims = tuple(normalize_dim("permute", d, ndim) for d in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError(f"permute: repeated dim in {list(dims)}")
    return _view(permute_prim, input, {"dims": dims})


@public(method=True, aliases=("swapaxes",), numpy="transpose")
def transpose(input, dim0: int, dim1: int):  # noqa: A002
    """Swap two dimensions."""
    _check_operand("transpose", input, "input")
    ndim = _ndim(input)
    d0, d1 = normalize_dim("transpose", dim0, ndim), normalize_dim("transpose", dim1, ndim)
    dims = list(range(ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return _view(permute_prim, input, {"dims": tuple(dims)})


@public(method=True)
def t(input):  # noqa: A002
    """Transpose of a matrix (a vector is returned as is)."""
    _check_operand("t", input, "input")
    if _ndim(input) > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, got shape {_shape(input)}; use transpose(d0, d1)")
    return transpose(input, 0, 1) if _ndim(input) == 2 else _view(permute_prim, input, {"dims": tuple(range(_ndim(input)))})


@public(method=True, numpy="squeeze")
def squeeze(input, dim=None):  # noqa: A002
    """Remove dimensions of size 1 (only ``dim``, when given)."""
    _check_operand("squeeze", input, "input")
    shape = _shape(input)
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        listed = [normalize_dim("squeeze", d, len(shape)) for d in dims]
        dims = set(listed)
        if len(dims) != len(listed):
            raise RuntimeError(f"squeeze: a dim appears more than once in {list(dim)}")
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return _view(_reshape, input, {"shape": new})


@public(method=True)
def unsqueeze(input, dim: int):  # noqa: A002
    """Insert a dimension of size 1 at ``dim``."""
    _check_operand("unsqueeze", input, "input")
    shape = _shape(input)
    d = normalize_dim("unsqueeze", dim, len(shape) + 1)
    return _view(_reshape, input, {"shape": shape[:d] + (1,) + shape[d:]})


@public(method=True)
def flatten(input, start_dim: int = 0, end_dim: int = -1):  # noqa: A002
    """Merge dimensions ``start_dim..end_dim`` into one."""
    _check_operand("flatten", input, "input")
    shape = _shape(input)
    if not shape:
        return _view(_reshape, input, {"shape": (1,)})
    s = normalize_dim("flatten", start_dim, len(shape))
    e = normalize_dim("flatten", end_dim, len(shape))
    if s > e:
        raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    new = shape[:s] + (int(_prod(shape[s:e + 1])),) + shape[e + 1:]
    return _view(_reshape, input, {"shape": new}) if new != shape else input


def _broadcast_check(op, old, shape):
    try:
        ok = len(shape) >= len(old) and B.broadcast_shapes(old, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(
            f"{op}: the tensor of shape {old} cannot be expanded to shape {tuple(shape)}; each "
            f"dimension must match or be 1, and new dimensions go on the left"
        )


sum_to = linear("sum_to", lambda x, shape: _sum_to_impl(x, shape),
                lambda m, g, x, shape: m.broadcast_to(g, shape=x.shape), template=T.Template(T.sum_to), xp=lambda space, x, shape: B.sum_to_shape(x, tuple(shape)))
def _broadcast_impl(x, shape):
    out = np.broadcast_to(x, shape)
    if type(x) is np.ndarray and x.flags.writeable:
        out.flags.writeable = True  # PyTorch's expanded views are writable (writes alias)
    return out


broadcast_prim = linear("broadcast_to", _broadcast_impl,
                        lambda m, g, x, shape: m.sum_to(g, shape=x.shape), template=T.Template(lambda p, k, v: f"np.broadcast_to({p[0]}, {T.literal(tuple(k['shape']))[0]})"), xp=lambda space, x, shape: space.broadcast_to(x, tuple(shape)))


def _sum_to_impl(x, shape):
    return B.sum_to_shape(x, tuple(shape))


@public(method=True, numpy="broadcast_to")
def broadcast_to(input, *shape):  # noqa: A002
    """The tensor repeated (without copying) along dimensions of size 1 to ``shape``."""
    _check_operand("broadcast_to", input, "input")
    shape = _sizes("broadcast_to", shape)
    old = _shape(input)
    _broadcast_check("broadcast_to", old, shape)
    return _view(broadcast_prim, input, {"shape": shape})


@public(method=True)
def expand(input, *sizes):  # noqa: A002
    """``broadcast_to`` where a size of -1 keeps that dimension."""
    _check_operand("expand", input, "input")
    sizes = _sizes("expand", sizes)
    old = _shape(input)
    lead = len(sizes) - len(old)
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes {list(sizes)} is less than the tensor's {len(old)} dimensions")
    shape = tuple(old[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    _broadcast_check("expand", old, shape)
    return _view(broadcast_prim, input, {"shape": shape})


@public(method=True)
def expand_as(input, other):  # noqa: A002
    _check_operand("expand_as", input, "input")
    _check_operand("expand_as", other, "other")
    return named("expand_as", expand, input, _shape(other))


flip_prim = linear("flip", lambda x, dims: np.flip(x, dims).copy(order="K"),  # a copy in the input's layout, as PyTorch's
                   lambda m, g, x, dims: m.flip(g, dims=dims), template=T.Template(lambda p, k, v: f"np.flip({p[0]}, {T.literal(tuple(k['dims']))[0]})"), xp=lambda space, x, dims: space.flip(x, axis=tuple(dims)))


@public(method=True, numpy="flip")
def flip(input, dims):  # noqa: A002
    """Reverse the order of elements along ``dims``."""
    _check_operand("flip", input, "input")
    dims = (dims,) if isinstance(dims, (int, B.integer)) else tuple(dims)
    ndim = _ndim(input)
    dims = tuple(normalize_dim("flip", d, ndim) for d in dims)
    return flip_prim(input, dims=dims if ndim else ())  # a 0-d tensor: its copy (PyTorch)


def _tile_transpose(m, g, x, reps):
    shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    interleaved = []
    for r, s in zip(reps, shape):
        interleaved += [r, s]
    summed = m.sum(m.reshape(g, shape=tuple(interleaved)), dim=tuple(range(0, 2 * len(reps), 2)))
    return m.reshape(summed, shape=x.shape)


tile_prim = linear("tile", lambda x, reps: np.tile(x, reps), _tile_transpose, template=T.Template(lambda p, k, v: f"np.tile({p[0]}, {T.literal(tuple(k['reps']))[0]})"), xp=lambda space, x, reps: space.tile(x, tuple(reps)))


@public(method=True, numpy="tile")
def tile(input, *reps):  # noqa: A002
    """Repeat the tensor ``reps[i]`` times along dimension ``i`` (NumPy's ``tile``)."""
    _check_operand("tile", input, "input")
    reps = _sizes("tile", reps)
    reps = (1,) * (_ndim(input) - len(reps)) + reps
    return tile_prim(input, reps=reps)


@public(method=True)
def repeat(input, *sizes):  # noqa: A002
    """PyTorch's ``Tensor.repeat``: tile with at least as many sizes as dimensions."""
    _check_operand("repeat", input, "input")
    sizes = _sizes("repeat", sizes)
    if len(sizes) < _ndim(input):
        raise RuntimeError(
            f"repeat: the number of repeat sizes {list(sizes)} can't be smaller than the tensor's "
            f"{_ndim(input)} dimensions"
        )
    if builtins.min(sizes, default=0) < 0:
        raise RuntimeError(f"repeat: repeat sizes can't be negative, got {list(sizes)}")
    return tile_prim(input, reps=sizes)


# ---------------------------------------------------------------------------------------------
# Indexing
# ---------------------------------------------------------------------------------------------

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
    out = x.copy()
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
def index_select(input, dim: int, index):  # noqa: A002
    """The entries of ``input`` at positions ``index`` (1-D integers) along ``dim``."""
    _check_operand("index_select", input, "input")
    _check_operand("index_select", index, "index")
    _at_least_1d("index_select", input)
    d = normalize_dim("index_select", dim, _ndim(input))
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
        value = B.as_array(value, input._data.dtype, like=input._data)
    return named("masked_fill", where, mask, value, input)


def _gather_impl(x, index, dim):
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
    save_inputs="meta", template=T.Template(lambda p, k, v: f"np.take_along_axis({p[0]}, {p[1]}, axis={k['dim']})"),
)
scatter_add = define(
    "scatter_add", _scatter_add_impl,
    (lambda m, g, ans, src, index, dim, shape: m.gather(g, index, dim=dim), None),
    lambda m, tangents, ans, src, index, dim, shape: m.scatter_add(tangents[0], index, dim=dim, shape=shape),
    save_inputs="meta",
)


@public(method=True)
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


# ---------------------------------------------------------------------------------------------
# Joining and splitting
# ---------------------------------------------------------------------------------------------

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


cat_prim = define("cat", lambda *xs, dim: np.concatenate(xs, axis=dim), _cat_vjp, _cat_jvp,
                  vjp_all=True, save_inputs="meta", template=T.Template(
        lambda p, k, v: f"np.concatenate(({', '.join(p)}{',' if len(p) == 1 else ''}), axis={k['dim']})"), xp=_cat_xp)


@public(aliases=("concat", "concatenate"), numpy="concatenate")
def cat(tensors, dim: int = 0):
    """Join tensors along an existing dimension."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"cat: expected a list or tuple of tensors, got {type(tensors).__name__}")
    for _item in tensors:
        _check_operand("cat", _item, "an element of tensors")
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
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
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"stack: expected a list or tuple of tensors, got {type(tensors).__name__}")
    for _item in tensors:
        _check_operand("stack", _item, "an element of tensors")
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    shapes = [_shape(x) for x in tensors]
    if any(s != shapes[0] for s in shapes):
        raise RuntimeError(f"stack: expects each tensor to be equal size, got shapes {shapes}")
    d = normalize_dim("stack", dim, len(shapes[0]) + 1)
    return cat_prim(*[unsqueeze(x, d) for x in tensors], dim=d)


@public(method=True)
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


@public()
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


@public(method=True)
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


alias = linear("alias", lambda x: x, lambda m, g, x: g, save_inputs=False,
               doc="The same values (no copy) as a new node: the handle forward mode attaches tangents to.", batching="elementwise", xp=lambda space, x: x)
clone = linear("clone", B.copy, lambda m, g, x: g, save_inputs=False, batching="elementwise", ufunc="positive", method=True, template=T.call("np.copy"), xp=lambda space, x: space.asarray(x, copy=True))
