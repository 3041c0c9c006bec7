"""Arranging arrays: stacking and splitting, triangles and diagonals, repeating, rolling, rotating,
moving axes, padding and differences.

Every function here is built from existing primitives (``reshape``, ``permute``, ``getitem``,
``gather``, ``cat``, ``flip``, ``broadcast_to``, ``where``, ``pad``, ``diagonal``,
``diagonal_embed``), so both modes, every order and the batching rules come from theirs. PyTorch's names take PyTorch's arguments
(``cr.roll(x, shifts, dims)``, ``cr.tril(x, diagonal)``); the NumPy-only names (``append``,
``ediff1d``, ``expand_dims``) take NumPy's. NumPy's own signatures are in ``api/numpy_arrange``.
"""

from __future__ import annotations

import builtins
import itertools
import operator

from ..core import backend as B
from ..core import tracing
from ..core.dtypes import check_operand as _check_operand
from ..core.tensor import Tensor
from ._define import named
from ._table import public
from .elementwise import cast
from .indexing import gather_prim, getitem, masked_fill
from .joins import cat, diagonal, diagonal_embed, pad_prim
from .shape import (
    _ndim,
    _shape,
    _view,
    broadcast_to,
    clone,
    flip,
    normalize_dim,
    permute,
    reshape,
)


def _int(op: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, B.integer)):
        raise TypeError(f"{op}: {name} must be an int, got {value!r:.40}")
    return int(value)


def _ints(op: str, name: str, value) -> tuple:
    """An int or a sequence of ints as a tuple of ints."""
    items = value if isinstance(value, (tuple, list)) else (value,)
    return tuple(_int(op, name, v) for v in items)


def _along(d: int, key) -> tuple:
    """The index selecting ``key`` along dimension ``d``."""
    return (slice(None),) * d + (key, Ellipsis)


def _take(x, d: int, positions):
    """``x``'s entries at the integer ``positions`` (a sequence) along ``d``: a gather, whose
    backward accumulates repeats and which vmap batches without a loop."""
    shape = _shape(x)
    index = B.as_array(list(positions), B.intp).reshape((1,) * d + (-1,) + (1,) * (len(shape) - d - 1))
    index = index + B.zeros(shape[:d] + (1,) + shape[d + 1:], B.intp)  # the shape gather takes
    return gather_prim(x, index, dim=d)


def _pieces(x, d: int, bounds) -> list:
    """Views of ``x`` between consecutive ``bounds`` along ``d`` (Python's slice rules)."""
    return [_view(getitem, x, {"index": _along(d, slice(lo, hi))}, multi=True)
            for lo, hi in zip(bounds[:-1], bounds[1:])]


# ---------------------------------------------------------------------------------------------
# Triangles and diagonals
# ---------------------------------------------------------------------------------------------

def _triangle(op: str, input, diagonal, lower: bool):  # noqa: A002
    input = _check_operand(op, input, "input")  # noqa: A001
    k = _int(op, "diagonal", diagonal)
    shape = _shape(input)
    if len(shape) < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape {shape}")
    rows, cols = shape[-2:]
    like = input._data if isinstance(input, Tensor) else input
    above = B.arange(cols, like)[None, :] - B.arange(rows, like)[:, None]  # j - i, in input's namespace
    drop = above > k if lower else above < k
    return named(op, masked_fill, input, drop, 0)


@public(method=True, numpy="tril")
def tril(input, diagonal: int = 0):  # noqa: A002
    """The lower triangle of the last two dimensions (entries with ``j - i <= diagonal``), zeros
    above: ``cr.tril(cr.ones(3, 3))``."""
    return _triangle("tril", input, diagonal, True)


@public(method=True, numpy="triu")
def triu(input, diagonal: int = 0):  # noqa: A002
    """The upper triangle of the last two dimensions (entries with ``j - i >= diagonal``), zeros
    below: ``cr.triu(x, 1)``."""
    return _triangle("triu", input, diagonal, False)


@public(method=True)
def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1):  # noqa: A002
    """Matrices with the last dimension of ``input`` on their ``offset`` diagonal over the new
    dimensions ``dim1``, ``dim2``: ``cr.diag_embed(cr.ones(2, 3)).shape == (2, 3, 3)``."""
    _check_operand("diag_embed", input, "input")
    k = _int("diag_embed", "offset", offset)
    shape = _shape(input)
    if not shape:
        raise RuntimeError("diag_embed: input must have at least 1 dimension, got a 0-d tensor")
    ndim = len(shape) + 1
    d1, d2 = normalize_dim("diag_embed", dim1, ndim), normalize_dim("diag_embed", dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diag_embed: dim1 and dim2 cannot be equal (both {d1})")
    n = shape[-1] + builtins.abs(k)
    rest = iter(shape[:-1])
    out = tuple(n if i in (d1, d2) else next(rest) for i in range(ndim))
    return diagonal_embed(input, shape=out, offset=k, dim1=d1, dim2=d2)


@public(method=True, numpy="diag")
def diag(input, diagonal: int = 0):  # noqa: A002
    """A 1-D tensor: the square matrix with it on the ``diagonal``-th diagonal; a matrix: its
    ``diagonal``-th diagonal (a copy). ``cr.diag(cr.tensor([1., 2.]))`` is ``[[1, 0], [0, 2]]``."""
    _check_operand("diag", input, "input")
    k = _int("diag", "diagonal", diagonal)
    ndim = _ndim(input)
    if ndim == 1:
        return diag_embed(input, k, 0, 1)
    if ndim == 2:
        return clone(diagonal_of(input, k))
    raise RuntimeError(f"diag: expects a 1-D or 2-D tensor, got shape {_shape(input)}")


def diagonal_of(input, offset: int = 0, dim1: int = 0, dim2: int = 1):  # noqa: A002
    """``cr.diagonal`` (the view), for callers whose own argument is called ``diagonal``."""
    return diagonal(input, offset, dim1, dim2)


@public(method=True, numpy="diagflat")
def diagflat(input, offset: int = 0):  # noqa: A002
    """The square matrix with the flattened input on its ``offset`` diagonal."""
    _check_operand("diagflat", input, "input")
    k = _int("diagflat", "offset", offset)
    return diag_embed(reshape(input, -1), k, 0, 1)


# ---------------------------------------------------------------------------------------------
# Moving, flipping, rotating, rolling
# ---------------------------------------------------------------------------------------------

@public(method=True, aliases=("moveaxis",), numpy="moveaxis")
def movedim(input, source, destination):  # noqa: A002
    """Move the dimensions ``source`` to the positions ``destination`` (ints or sequences), the
    others keeping their order: ``cr.movedim(x, 0, -1)``."""
    _check_operand("movedim", input, "input")
    ndim = _ndim(input)
    src, dst = _ints("movedim", "source", source), _ints("movedim", "destination", destination)
    if len(src) != len(dst):
        raise ValueError(
            f"movedim: source {list(src)} and destination {list(dst)} must have the same number of dims")
    src = tuple(normalize_dim("movedim", d, ndim) for d in src)
    dst = tuple(normalize_dim("movedim", d, ndim) for d in dst)
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise ValueError(f"movedim: repeated dim in {name} {list(dims)}")
    order = [d for d in range(ndim) if d not in src]
    for to, fro in sorted(zip(dst, src)):
        order.insert(to, fro)
    return permute(input, order)


@public(method=True, numpy="fliplr")
def fliplr(input):  # noqa: A002
    """Reverse the columns (dimension 1) of a tensor of at least 2 dimensions."""
    _check_operand("fliplr", input, "input")
    if _ndim(input) < 2:
        raise RuntimeError(f"fliplr: input must be >= 2-d, got shape {_shape(input)}")
    return flip(input, 1)


@public(method=True, numpy="flipud")
def flipud(input):  # noqa: A002
    """Reverse the rows (dimension 0) of a tensor of at least 1 dimension."""
    _check_operand("flipud", input, "input")
    if _ndim(input) < 1:
        raise RuntimeError("flipud: input must be >= 1-d, got a 0-d tensor")
    return flip(input, 0)


@public(method=True, numpy="rot90")
def rot90(input, k: int = 1, dims=(0, 1)):  # noqa: A002
    """Rotate by ``k`` quarter turns in the plane of ``dims``, from the first towards the second."""
    _check_operand("rot90", input, "input")
    k = _int("rot90", "k", k) % 4
    dims = _ints("rot90", "dims", dims)
    ndim = _ndim(input)
    if len(dims) != 2:
        raise ValueError(f"rot90: dims must hold exactly 2 dims, got {list(dims)}")
    if dims[0] == dims[1] or builtins.abs(dims[0] - dims[1]) == ndim:
        raise ValueError(f"rot90: the two dims must be different, got {list(dims)}")
    if ndim < 2:
        raise RuntimeError(f"rot90: expects a tensor of at least 2 dimensions, got shape {_shape(input)}")
    d0, d1 = (normalize_dim("rot90", d, ndim) for d in dims)
    if k == 0:
        return clone(input)
    if k == 2:
        return flip(input, (d0, d1))
    order = list(range(ndim))
    order[d0], order[d1] = order[d1], order[d0]
    if k == 1:
        return permute(flip(input, d1), order)
    return flip(permute(input, order), d1)


def _roll_dim(x, shift: int, d: int):
    n = _shape(x)[d]
    shift = shift % n if n else 0
    if shift == 0:
        return x
    return cat([getitem(x, index=_along(d, slice(n - shift, None))),
                getitem(x, index=_along(d, slice(0, n - shift)))], d)


@public(method=True, numpy="roll")
def roll(input, shifts, dims=None):  # noqa: A002
    """Shift the entries by ``shifts`` along ``dims`` (ints or tuples of equal length), wrapping
    around; without ``dims``, along the flattened tensor: ``cr.roll(cr.arange(4), 1)`` is
    ``[3, 0, 1, 2]``."""
    _check_operand("roll", input, "input")
    shifts = _ints("roll", "shifts", shifts)
    shape = _shape(input)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: without dims, shifts must be one int, got {list(shifts)}")
        return reshape(_roll_dim(reshape(input, -1), shifts[0], 0), shape) if shape else clone(input)
    dims = _ints("roll", "dims", dims)
    if not shape:
        raise IndexError(f"roll: dimension specified as {dims[0]} but the tensor has no dimensions (shape ())")
    if len(dims) != len(shifts):
        raise RuntimeError(f"roll: shifts {list(shifts)} and dims {list(dims)} must have the same length")
    out = input
    for s, d in zip(shifts, dims):
        out = _roll_dim(out, s, normalize_dim("roll", d, len(shape)))
    return clone(out) if out is input else out


# ---------------------------------------------------------------------------------------------
# Repeating, flattening, adding dimensions
# ---------------------------------------------------------------------------------------------

@public(method=True, numpy="repeat")
def repeat_interleave(input, repeats, dim=None, *, output_size=None):  # noqa: A002
    """Repeat each entry ``repeats`` times (an int, or one count per entry) along ``dim``, of the
    flattened tensor without ``dim`` (NumPy's ``repeat``): ``cr.repeat_interleave(x, 2)``."""
    _check_operand("repeat_interleave", input, "input")
    if dim is None:
        input, d = reshape(input, -1), 0  # noqa: A001
    else:
        d = normalize_dim("repeat_interleave", dim, _ndim(input))
    shape = _shape(input)
    if not shape:
        input, shape = reshape(input, 1), (1,)  # noqa: A001
    n = shape[d]
    counts = _counts(repeats)
    if builtins.min(counts, default=0) < 0:
        raise ValueError(f"repeat_interleave: repeats must be non-negative, got {repeats!r:.60}")
    if len(counts) not in (1, n):
        raise ValueError(f"repeat_interleave: repeats has {len(counts)} counts for a dimension of size {n}")
    if len(counts) == 1:
        r = counts[0]
        spread = broadcast_to(reshape(input, shape[:d + 1] + (1,) + shape[d + 1:]),
                              shape[:d + 1] + (r,) + shape[d + 1:])
        out = reshape(spread, shape[:d] + (n * r,) + shape[d + 1:])
    else:
        out = _take(input, d, [i for i, c in enumerate(counts) for _ in range(c)])
    if output_size is not None and _shape(out)[d] != output_size:
        raise RuntimeError(f"repeat_interleave: output_size {output_size} is not the result's size {_shape(out)[d]}")
    return out


def _counts(repeats) -> list:
    """``repeats`` (an int, or a 1-D sequence or tensor of ints) as a list of ints."""
    if isinstance(repeats, Tensor) and tracing.active[0]:
        tracing.read(repeats)
    data = repeats._data if isinstance(repeats, Tensor) else repeats
    try:
        if isinstance(data, bool):
            raise TypeError
        if isinstance(data, (int, B.integer)):
            return [int(data)]
        if isinstance(data, (list, tuple)):
            if any(isinstance(v, bool) for v in data):
                raise TypeError
            return [operator.index(v) for v in data]
        if B.ndim(data) > 1 or B.kind(B.dtype_of(data)) not in "iu":
            raise TypeError
        return [operator.index(v) for v in (data.reshape(1) if B.ndim(data) == 0 else data)]
    except (TypeError, ValueError, AttributeError):
        raise TypeError(f"repeat_interleave: repeats must be an int or a 1-D tensor of ints, got {repeats!r:.60}") from None


@public(method=True, numpy="ravel")
def ravel(input):  # noqa: A002
    """The entries as a 1-D tensor (a view where possible)."""
    _check_operand("ravel", input, "input")
    return reshape(input, -1)


def _atleast(op: str, n: int, tensors):
    """One tensor for one argument; a tuple for several, or for one list or tuple (PyTorch)."""
    listed = len(tensors) == 1 and isinstance(tensors[0], (list, tuple))
    if listed:
        tensors = tuple(tensors[0])
    outs = []
    for x in tensors:
        _check_operand(op, x, "an argument")
        shape = _shape(x)
        if len(shape) < n:
            if n == 3 and len(shape) == 1:
                shape = (1,) + shape + (1,)
            elif n == 3 and len(shape) == 2:
                shape = shape + (1,)
            else:
                shape = (1,) * (n - len(shape)) + shape
            x = reshape(x, shape)
        outs.append(x)
    return outs[0] if len(outs) == 1 and not listed else tuple(outs)


@public(numpy="atleast_1d")
def atleast_1d(*tensors):
    """Each tensor with at least 1 dimension (a 0-d one becomes shape (1,)); one tensor, or a tuple."""
    return _atleast("atleast_1d", 1, tensors)


@public(numpy="atleast_2d")
def atleast_2d(*tensors):
    """Each tensor with at least 2 dimensions (leading ones added); one tensor, or a tuple."""
    return _atleast("atleast_2d", 2, tensors)


@public(numpy="atleast_3d")
def atleast_3d(*tensors):
    """Each tensor with at least 3 dimensions (NumPy's rule: (n,) → (1, n, 1), (m, n) → (m, n, 1))."""
    return _atleast("atleast_3d", 3, tensors)


@public(numpy="expand_dims")
def expand_dims(input, axis):  # noqa: A002
    """NumPy's ``expand_dims``: new dimensions of size 1 at the positions ``axis`` (an int or a
    tuple) of the result."""
    _check_operand("expand_dims", input, "input")
    shape = _shape(input)
    axes = _ints("expand_dims", "axis", axis)
    ndim = len(shape) + len(axes)
    normal = [normalize_dim("expand_dims", a, ndim) for a in axes]
    if len(set(normal)) != len(normal):
        raise ValueError(f"expand_dims: repeated axis in {axis!r}")
    rest = iter(shape)
    return reshape(input, tuple(1 if i in normal else next(rest) for i in range(ndim)))


# ---------------------------------------------------------------------------------------------
# Stacking and splitting
# ---------------------------------------------------------------------------------------------

def _joined(op: str, tensors) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    for x in tensors:
        _check_operand(op, x, "an element of tensors")
    return list(tensors)


@public(aliases=("row_stack",), numpy="vstack")
def vstack(tensors):
    """Join along dimension 0 after making each tensor at least 2-D (1-D ones become rows)."""
    parts = _joined("vstack", tensors)
    return named("vstack", cat, [atleast_2d(x) for x in parts], 0)


@public(numpy="hstack")
def hstack(tensors):
    """Join along dimension 1 (dimension 0 for 1-D tensors) after making each at least 1-D."""
    parts = [atleast_1d(x) for x in _joined("hstack", tensors)]
    return named("hstack", cat, parts, 0 if _ndim(parts[0]) == 1 else 1)


@public(numpy="dstack")
def dstack(tensors):
    """Join along dimension 2 after making each tensor at least 3-D (see ``atleast_3d``)."""
    return named("dstack", cat, [atleast_3d(x) for x in _joined("dstack", tensors)], 2)


@public(numpy="column_stack")
def column_stack(tensors):
    """Join 1-D tensors as columns (and 2-D ones as they are) along dimension 1."""
    parts = []
    for x in _joined("column_stack", tensors):
        shape = _shape(x)
        parts.append(reshape(x, (-1, 1)) if len(shape) < 2 else x)
    return named("column_stack", cat, parts, 1)


def split_bounds(op: str, n: int, indices_or_sections, equal: bool) -> list:
    """The bounds of NumPy's ``split``/``array_split`` pieces of a dimension of size ``n``:
    ``indices_or_sections`` a number of sections (an int, or a 0-d integer tensor) or the
    indices to split at (a sequence, or a 1-D integer tensor)."""
    spec = indices_or_sections._data if isinstance(indices_or_sections, Tensor) else indices_or_sections
    try:
        if isinstance(spec, bool) or isinstance(spec, (list, tuple)) and any(isinstance(i, bool) for i in spec):
            raise TypeError
        if isinstance(spec, (list, tuple)):
            return [0] + [operator.index(i) for i in spec] + [n]
        if not isinstance(spec, (int, B.integer)) and (B.ndim(spec) > 1 or B.kind(B.dtype_of(spec)) not in "iu"):
            raise TypeError
        if B.ndim(spec) == 1:
            return [0] + [operator.index(i) for i in spec] + [n]
        sections = operator.index(spec)
    except (TypeError, ValueError, AttributeError):
        raise TypeError(f"{op}: indices_or_sections must be an int or a 1-D sequence of ints, got "
                        f"{indices_or_sections!r:.60}") from None
    if sections <= 0:
        raise ValueError(f"{op}: number sections must be larger than 0, got {sections}")
    if equal and n % sections:
        raise ValueError(f"{op}: array split does not result in an equal division ({n} into {sections})")
    each, extra = divmod(n, sections)
    return list(itertools.accumulate([0] + extra * [each + 1] + (sections - extra) * [each]))


@public(method=True, aliases=("array_split",), numpy="array_split")
def tensor_split(input, indices_or_sections, dim: int = 0) -> tuple:  # noqa: A002
    """Split along ``dim`` into ``indices_or_sections`` nearly equal pieces (the first ones one
    longer), or at the given indices (NumPy's ``array_split``); a tuple of views."""
    _check_operand("tensor_split", input, "input")
    if _ndim(input) == 0:
        raise RuntimeError("tensor_split: expected at least a 1-dimensional tensor, got a 0-d tensor")
    d = normalize_dim("tensor_split", dim, _ndim(input))
    return tuple(_pieces(input, d, split_bounds("tensor_split", _shape(input)[d], indices_or_sections, False)))


def _directional(op: str, input, sections, least: int, dim):  # noqa: A002
    _check_operand(op, input, "input")
    ndim = _ndim(input)
    if ndim < least:
        raise RuntimeError(f"{op}: requires a tensor with at least {least} dimension(s), got shape {_shape(input)}")
    d = dim(ndim)
    return tuple(_pieces(input, d, split_bounds(op, _shape(input)[d], sections, True)))


@public(method=True, numpy="hsplit")
def hsplit(input, indices_or_sections) -> tuple:  # noqa: A002
    """Split along dimension 1 (0 for 1-D tensors) into equal pieces or at the given indices."""
    return _directional("hsplit", input, indices_or_sections, 1, lambda n: 1 if n > 1 else 0)


@public(method=True, numpy="vsplit")
def vsplit(input, indices_or_sections) -> tuple:  # noqa: A002
    """Split along dimension 0 of a tensor of at least 2 dimensions."""
    return _directional("vsplit", input, indices_or_sections, 2, lambda n: 0)


@public(method=True, numpy="dsplit")
def dsplit(input, indices_or_sections) -> tuple:  # noqa: A002
    """Split along dimension 2 of a tensor of at least 3 dimensions."""
    return _directional("dsplit", input, indices_or_sections, 3, lambda n: 2)


# ---------------------------------------------------------------------------------------------
# Padding (NumPy's per-axis form), appending, differences
# ---------------------------------------------------------------------------------------------

INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad_axes(x, widths, mode: str = "constant", values=None, reflect_type: str = "even"):
    """``x`` padded by ``widths`` (one ``(before, after)`` per dimension, non-negative ints) as
    ``np.pad`` pads: ``mode='constant'`` with ``values`` (one ``(before, after)`` pair per
    dimension), or a mode whose padding repeats entries (``INDEX_MODES``)."""
    shape = _shape(x)
    if mode == "constant":
        flat = {v for pair in values for v in pair}
        if len(flat) == 1:
            return pad_prim(x, widths=tuple(widths), value=float(next(iter(flat))))
        like = x._data if isinstance(x, Tensor) else x
        dtype = B.dtype_of(like)
        for d, ((lo, hi), (vlo, vhi)) in enumerate(zip(widths, values)):
            if lo or hi:
                here = _shape(x)
                blocks = [B.full(here[:d] + (w,) + here[d + 1:], B.in_dtype(B.as_array(v), dtype), dtype, like)
                          for w, v in ((lo, vlo), (hi, vhi))]
                x = cat([blocks[0], x, blocks[1]], d)
        return x
    if reflect_type != "even":
        raise NotImplementedError(f"pad: reflect_type={reflect_type!r} is not supported, only 'even'")
    for d, (lo, hi) in enumerate(widths):
        if lo or hi:
            if shape[d] == 0:
                raise ValueError(f"pad: can't extend the empty axis {d} using modes other than 'constant' or 'empty'")
            x = _take(x, d, [_source(mode, i - lo, shape[d]) for i in range(lo + shape[d] + hi)])
    return x


def _source(mode: str, i: int, n: int) -> int:
    """The entry that position ``i`` (``0 .. n - 1`` inside) of a padded axis of size ``n`` repeats."""
    if mode == "edge":
        return builtins.min(builtins.max(i, 0), n - 1)
    if mode == "wrap":
        return i % n
    if mode == "symmetric":
        i %= 2 * n
        return i if i < n else 2 * n - 1 - i
    if n == 1:  # reflect
        return 0
    i %= 2 * n - 2
    return i if i < n else 2 * n - 2 - i


@public(numpy="append")
def append(arr, values, axis=None):
    """NumPy's ``append``: ``values`` joined after ``arr`` along ``axis``, or both flattened
    without one: ``cr.append(x, y)``."""
    _check_operand("append", arr, "arr")
    _check_operand("append", values, "values")
    if axis is None:
        return named("append", cat, [reshape(arr, -1), reshape(values, -1)], 0)
    return named("append", cat, [arr, values], axis)


@public(method=True, numpy="diff")
def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None):  # noqa: A002
    """The ``n``-th forward difference along ``dim`` (``out[i] = x[i + 1] - x[i]``, repeated),
    after joining ``prepend`` and ``append`` (broadcast to size 1 along ``dim`` if 0-d)."""
    _check_operand("diff", input, "input")
    n = _int("diff", "n", n)
    if n < 0:
        raise ValueError(f"diff: order n must be non-negative, got {n}")
    ndim = _ndim(input)
    if ndim == 0:
        raise RuntimeError("diff: expects a tensor with at least one dimension, got a 0-d tensor")
    d = normalize_dim("diff", dim, ndim)
    if n == 0:
        return input
    parts = []
    for extra in (prepend, input, append):
        if extra is None:
            continue
        _check_operand("diff", extra, "prepend/append")
        if extra is not input and _ndim(extra) == 0:
            shape = _shape(input)
            extra = broadcast_to(extra, shape[:d] + (1,) + shape[d + 1:])
        parts.append(extra)
    x = parts[0] if len(parts) == 1 else named("diff", cat, parts, d)
    boolean = B.dtype_of(x._data if isinstance(x, Tensor) else x) == B.BOOL
    for _ in range(n):
        size = _shape(x)[d]
        hi = getitem(x, index=_along(d, slice(1, None)))
        lo = getitem(x, index=_along(d, slice(0, builtins.max(size - 1, 0))))
        x = (hi != lo) if boolean else hi - lo
    return x


# casting="same_kind": a kind may go to the same or a later one (unsigned and signed alike).
_KINDS = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


@public(numpy="ediff1d")
def ediff1d(ary, to_end=None, to_begin=None):
    """NumPy's ``ediff1d``: the differences of the flattened input, with ``to_begin`` and
    ``to_end`` (flattened) joined before and after, in the input's dtype."""
    _check_operand("ediff1d", ary, "ary")
    flat = reshape(ary, -1)
    dtype = B.dtype_of(flat._data if isinstance(flat, Tensor) else flat)
    size = _shape(flat)[0]
    ahead, behind = getitem(flat, index=(slice(1, None),)), getitem(flat, index=(slice(0, builtins.max(size - 1, 0)),))
    parts = [named("ediff1d", operator.sub, ahead, behind)]
    for where, extra in ((0, to_begin), (1, to_end)):
        if extra is None:
            continue
        raw = extra._data if isinstance(extra, Tensor) else B.as_array(extra)
        if _KINDS[B.kind(B.dtype_of(raw))] > _KINDS[B.kind(dtype)]:
            raise TypeError(f"ediff1d: dtype of to_{'begin' if where == 0 else 'end'} ({raw.dtype}) must be "
                            f"compatible with the input's {dtype} under the 'same_kind' rule")
        extra = reshape(extra if isinstance(extra, Tensor) else B.astype(raw, dtype), -1)
        if isinstance(extra, Tensor) and extra._data.dtype != dtype:
            extra = cast(extra, dtype=dtype)
        parts.insert(0 if where == 0 else len(parts), extra)
    return parts[0] if len(parts) == 1 else cat(parts, 0)
