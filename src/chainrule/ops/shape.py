"""Shape operations and indexing: views, joins, splits, gathers and scatters."""

from __future__ import annotations

import builtins
import operator

import numpy as np

from ..core import backend as B
from ..core.dtypes import check_operand as _check_operand
from ..core.tensor import Tensor
from ..core.views import View, make_view
from . import _template as T
from ._define import linear, named
from ._table import public

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


MAY_COPY = {"reshape"}  # view operations that copy where the layout needs it (view_as_complex too)


def _view(prim, input, params, multi=False):  # noqa: A002
    """``prim(input, **params)``, marked a view of ``input`` (see "How views work" in tensor.py);
    the operations in ``MAY_COPY`` make one only where NumPy needed no copy."""
    if isinstance(input, Tensor):
        data = input._data
        if type(data) is not B.ndarray:
            if getattr(getattr(data, "ns", None), "level", 0):  # batched (vmap): views are the batch's
                return prim(input, **params)
            if not B.foreign(data):
                input._buffer()  # a 0-d result held as a NumPy scalar: give it memory to share
        out = prim(input, **params)
        if prim.name not in MAY_COPY or B.may_share_memory(out._data, input._data):
            make_view(out, input, prim, params, multi)
        return out
    return prim(input, **params)


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
    if isinstance(input, Tensor) and not isinstance(out, View) and out._data.size and \
            not getattr(getattr(out._data, "ns", None), "level", 0):  # (a batched tensor: no views)
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


@public(method=True, aliases=("swapaxes", "swapdims"), numpy=("transpose", "swapaxes"))
def transpose(input, dim0: int, dim1: int):  # noqa: A002
    """Swap two dimensions."""
    _check_operand("transpose", input, "input")
    ndim = _ndim(input)
    d0, d1 = normalize_dim("transpose", dim0, ndim), normalize_dim("transpose", dim1, ndim)
    dims = list(range(ndim))
    if ndim:  # a 0-d tensor: dims 0 and -1 name it, nothing to swap (PyTorch)
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


alias = linear("alias", lambda x: x, lambda m, g, x: g, save_inputs=False,
               doc="The same values (no copy) as a new node: the handle forward mode attaches tangents to.", batching="elementwise", xp=lambda space, x: x)
clone = linear("clone", B.copy, lambda m, g, x: g, save_inputs=False, batching="elementwise", ufunc="positive", method=True, template=T.call("np.copy"), xp=lambda space, x: space.asarray(x, copy=True))
