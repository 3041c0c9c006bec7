"""Sorting and selecting: sort, argsort, topk, kthvalue, partition, take, take_along_dim/axis,
put_along_axis, scatter, scatter_add, choose, select, nonzero.

The values are a ``gather`` of the input at indices computed without history (``argsort``,
``argpartition``: not differentiable), so the gradient is the upstream gradient scattered back
to the sorted positions, in both modes and to any order, batched by gather's rule. Ties take the
order of a stable sort (equal values keep their order; ``descending`` puts NaN first, as
PyTorch): PyTorch's own choice among tied indices is unspecified unless ``stable=True``, so
gradients equal PyTorch's wherever the values are distinct (and with ``stable=True``).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..core import backend as B
from ..core import tracing
from ..core.dtypes import check_operand as _check_operand
from ..core.tensor import Tensor
from . import _template as T
from ._define import named, nondifferentiable, per_example
from ._table import public
from .elementwise import cast
from .indexing import _check_bounds, gather_prim, getitem
from .indexing import scatter_add as scatter_add_prim
from .joins import stack, unbind
from .piecewise import _where as where_prim
from .reductions import values_indices
from .shape import _data, _dtype, _ndim, _shape, _view, broadcast_to, normalize_dim, reshape, squeeze

_AxisError = getattr(np, "exceptions", np).AxisError
_I64 = B._I64
_KINDS = (None, "quicksort", "mergesort", "heapsort", "stable")


# ---------------------------------------------------------------------------------------------
# Indices, without history
# ---------------------------------------------------------------------------------------------

def _argsort_impl(x, dim, descending=False, kind="stable", take=None):
    """The sorting order along ``dim`` (positions ``take = (start, stop)`` of it, if given)."""
    if x.dtype.kind == "c":
        raise TypeError(f"argsort: not defined for complex tensors (got dtype {x.dtype}), as in PyTorch: "
                        f"complex numbers have no order, so sort, argsort, topk, kthvalue, median "
                        f"and quantile refuse them; sort x.real or cr.abs(x) instead")
    if not descending:
        order = np.argsort(x, axis=dim, kind=kind)
    else:
        # Decreasing values, ties in increasing position, NaN first (PyTorch): the stable
        # ascending order of the reversed input, reversed, positions counted from the other end.
        n = x.shape[dim]
        order = np.flip(n - 1 - np.argsort(np.flip(x, axis=dim), axis=dim, kind=kind), axis=dim)
    if take is not None:
        order = np.take(order, np.arange(*take), axis=dim)
    return order.astype(np.int64, copy=False)


def _argsort_code(p, k, v):
    """How ``explain`` writes the argsort primitive in NumPy."""
    x, d, kind = p[0], k["dim"], k.get("kind", "stable")
    code = f"np.argsort({x}, axis={d}, kind={kind!r})"
    if k.get("descending"):
        code = (f"np.flip({x}.shape[{d}] - 1 - np.argsort(np.flip({x}, axis={d}), axis={d}, kind={kind!r}), "
                f"axis={d})")
    take = k.get("take")
    return code if take is None else f"np.take({code}, np.arange({take[0]}, {take[1]}), axis={d})"


argsort_prim = nondifferentiable("argsort", _argsort_impl, batching="shift_dim", template=T.Template(_argsort_code))


argpartition_prim = nondifferentiable(
    "argpartition", lambda x, kth, dim, kind="introselect": np.argpartition(x, kth, axis=dim, kind=kind),
    batching="shift_dim",
    template=T.Template(lambda p, k, v: f"np.argpartition({p[0]}, {k['kth']!r}, axis={k['dim']})"))


nonzero_prim = nondifferentiable("nonzero", lambda x: np.argwhere(x).astype(np.int64, copy=False),
                                 template=T.Template(lambda p, k, v: f"np.argwhere({p[0]})"))


def _int_index(op: str, index, name: str = "index"):
    """An index argument as an int64 array (a tensor's data, a list, an array); an empty list
    is an empty index."""
    if isinstance(index, Tensor) and tracing.active[0]:
        tracing.read(index)  # its values decide the result's layout: checked on every compiled call
    try:
        data = B.as_array(_data(index) if isinstance(index, Tensor) else index)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be an integer tensor or array, got {type(index).__name__} "
                        f"{index!r:.40}") from None
    kind = B.kind(data.dtype)
    if kind not in "iu" and not (data.size == 0 and kind == "f" and isinstance(index, (list, tuple))):
        raise TypeError(f"{op}: {name} must hold integers, got dtype {data.dtype}")
    return B.astype(data, _I64)


def _flags(op: str, **flags) -> None:
    """PyTorch's flags are bools (a string or None is a mistake, not a truth value)."""
    for name, value in flags.items():
        if not isinstance(value, (bool, B.bool_)):
            raise TypeError(f"{op}: {name} must be a bool, got {type(value).__name__} {value!r:.40}")


def _not_bool(op: str, x) -> None:
    if B.numpy_dtype(_dtype(x)) == B.BOOL:
        raise RuntimeError(f"{op}: bool tensors are not supported (as in PyTorch); convert to an integer dtype first")


def _int(op: str, name: str, value) -> int:
    try:
        return operator.index(value)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__} {value!r:.40}") from None


def _as_1d(x):
    """A 0-d operand as 1-D (sorting it is the identity), with how to undo it."""
    if _ndim(x) == 0:
        return reshape(x, 1), True
    return x, False


def _along(x, idx, d, scalar: bool):
    """``x`` gathered at ``idx`` along ``d`` (back to 0-d when ``x`` was)."""
    values = gather_prim(x, idx, dim=d)
    if scalar:
        return reshape(values), reshape(idx)
    return values, idx


# ---------------------------------------------------------------------------------------------
# PyTorch's sort, argsort, topk, kthvalue
# ---------------------------------------------------------------------------------------------

@public(method=True, numpy="sort")
def sort(input, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:  # noqa: A002
    """``(values, indices)`` sorted along ``dim`` (NaN last; first when ``descending``).

    The gradient goes back to each value's position: ``x.grad[indices[i]] = g[i]``. Ties keep
    their order (a stable sort, whatever ``stable``).

    >>> cr.sort(cr.tensor([3.0, 1.0, 2.0])).values
    tensor([1., 2., 3.])
    """
    input = _check_operand("sort", input, "input")  # noqa: A001
    _flags("sort", descending=descending, stable=stable)
    d = normalize_dim("sort", dim, _ndim(input))
    x, scalar = _as_1d(input)
    idx = argsort_prim(x, dim=d, descending=bool(descending))
    return values_indices(*_along(x, idx, d, scalar))


@public(method=True, numpy="argsort")
def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False):  # noqa: A002
    """The indices that sort ``input`` along ``dim`` (not differentiable).

    >>> cr.argsort(cr.tensor([3.0, 1.0, 2.0]))
    tensor([1, 2, 0])
    """
    input = _check_operand("argsort", input, "input")  # noqa: A001
    _flags("argsort", descending=descending, stable=stable)
    d = normalize_dim("argsort", dim, _ndim(input))
    x, scalar = _as_1d(input)
    out = argsort_prim(x, dim=d, descending=bool(descending))
    return reshape(out) if scalar else out


def _k_of(op: str, k, n: int, lo: int) -> int:
    k = _int(op, "k", k)
    if not lo <= k <= n:
        raise RuntimeError(f"{op}: k ({k}) is out of range for a dimension of size {n}; it must be in {lo}..{n}")
    return k


@public(method=True)
def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) along ``dim``,
    in sorted order; the gradient goes to the selected positions.

    >>> cr.topk(cr.tensor([1.0, 4.0, 2.0]), 2).values
    tensor([4., 2.])
    """
    input = _check_operand("topk", input, "input")  # noqa: A001
    _flags("topk", largest=largest, sorted=sorted)
    _not_bool("topk", input)
    d = normalize_dim("topk", dim, _ndim(input))
    x, scalar = _as_1d(input)
    k = _k_of("topk", k, _shape(x)[d], 0)
    idx = argsort_prim(x, dim=d, descending=bool(largest), take=(0, k))
    return values_indices(*_along(x, idx, d, scalar))


@public(method=True)
def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False) -> Any:  # noqa: A002
    """``(values, indices)`` of the ``k``-th smallest element (``k`` from 1) along ``dim``.

    >>> cr.kthvalue(cr.tensor([3.0, 1.0, 2.0]), 2).values
    tensor(2.)
    """
    input = _check_operand("kthvalue", input, "input")  # noqa: A001
    _flags("kthvalue", keepdim=keepdim)
    _not_bool("kthvalue", input)
    d = normalize_dim("kthvalue", dim, _ndim(input))
    x, scalar = _as_1d(input)
    k = _k_of("kthvalue", k, _shape(x)[d], 1)
    idx = argsort_prim(x, dim=d, take=(k - 1, k))
    values, indices = _along(x, idx, d, scalar)
    if not keepdim and not scalar:
        values, indices = squeeze(values, d), squeeze(idx, d)
    return values_indices(values, indices)


# ---------------------------------------------------------------------------------------------
# NumPy's partition and argpartition
# ---------------------------------------------------------------------------------------------

def _numpy_axis(op: str, x, axis):
    """NumPy's ``axis`` of one int, or None (the flattened input): ``(x, axis)``."""
    if axis is None:
        return reshape(x, -1), 0
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{op}: axis must be an int or None, got {axis!r}") from None
    ndim = _ndim(x)
    if not -ndim <= axis < ndim:
        if op.startswith("numpy."):
            raise _AxisError(axis, ndim, op)
        raise ValueError(f"{op}: axis {axis} is out of bounds for an array of dimension {ndim}")
    return x, axis % ndim


def _kth(op: str, kth, n: int):
    kth_array = None
    try:
        kth_array = B.as_array(_data(kth) if isinstance(kth, Tensor) else kth)
    except (TypeError, ValueError):  # a ragged list, an object
        pass
    if kth_array is None or B.kind(kth_array.dtype) not in "iu" or kth_array.ndim > 1:
        raise TypeError(f"{op}: kth must be an int or a sequence of ints, got {kth!r:.60}")
    bad = kth_array[(kth_array < -n) | (kth_array >= n)]
    if bad.size:
        raise ValueError(f"{op}: kth(={int(bad[0])}) out of bounds ({n})")
    return int(kth_array) if kth_array.ndim == 0 else tuple(int(k) for k in kth_array)


def _partition_indices(op: str, a, kth, axis, kind):
    if kind != "introselect":
        raise ValueError(f"{op}: kind must be 'introselect', got {kind!r}")
    a = _check_operand(op, a, "a")
    if _ndim(a) == 0:
        raise ValueError(f"{op}: cannot partition a 0-d array; give at least one dimension")
    a, d = _numpy_axis(op, a, axis)
    kth = _kth(op, kth, _shape(a)[d])
    return a, d, argpartition_prim(a, kth=kth, dim=d, kind=kind)


@public(numpy="argpartition")
def argpartition(a, kth, axis: int | None = -1, kind: str = "introselect", order=None):
    """NumPy's ``argpartition``: indices putting the ``kth`` element(s) where sorting would,
    smaller ones before and larger ones after (not differentiable)."""
    if order is not None:
        raise ValueError("argpartition: order= applies to structured arrays only")
    return _partition_indices("argpartition", a, kth, axis, kind)[2]


@public(numpy="partition")
def partition(a, kth, axis: int | None = -1, kind: str = "introselect", order=None):
    """NumPy's ``partition``: the values ``np.partition`` gives (taken at ``np.argpartition``'s
    indices); the gradient goes back to each value's position.

    >>> cr.partition(cr.tensor([3.0, 1.0, 2.0, 0.0]), 1)[1]
    tensor(1.)
    """
    if order is not None:
        raise ValueError("partition: order= applies to structured arrays only")
    a, d, idx = _partition_indices("partition", a, kth, axis, kind)
    return gather_prim(a, idx, dim=d)


# ---------------------------------------------------------------------------------------------
# Taking along an axis
# ---------------------------------------------------------------------------------------------

def _broadcast_along(op: str, x, idx, d: int):
    """``x`` and ``idx`` broadcast against each other except along ``d`` (PyTorch's and NumPy's
    rule for take_along_dim/take_along_axis)."""
    sx, si = _shape(x), idx.shape
    if len(sx) != len(si):
        raise ValueError(
            f"{op}: indices must have the same number of dimensions as the input, got shapes {si} and {sx}")
    try:
        common = B.broadcast_shapes(sx[:d] + (1,) + sx[d + 1:], si[:d] + (1,) + si[d + 1:])
    except ValueError:
        raise ValueError(f"{op}: shapes {sx} and {si} do not broadcast (outside dimension {d})") from None
    want_x = common[:d] + (sx[d],) + common[d + 1:]
    want_i = common[:d] + (si[d],) + common[d + 1:]
    if want_x != sx:
        x = broadcast_to(x, want_x)
    if want_i != si:
        idx = idx + B.zeros(want_i, idx.dtype)  # broadcast, in new memory
    return x, idx


def _wrap_negative(op: str, idx, n: int):
    """NumPy's integer indices: negative ones count from the end; out of range raises (an
    IndexError for NumPy's functions and PyTorch's take, as they do; a RuntimeError, as
    PyTorch's gather, for the rest)."""
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = int(idx.min()) if idx.min() < -n else int(idx.max())
        error = IndexError if op.startswith("numpy.") or op == "take" else RuntimeError
        raise error(f"{op}: index {bad} is out of bounds for an axis of size {n}")
    return idx + n * (idx < 0) if idx.size and idx.min() < 0 else idx


@public(method=True)
@per_example
def take_along_dim(input, indices, dim: int | None = None):  # noqa: A002
    """``input`` taken at ``indices`` along ``dim`` (broadcasting the other dimensions); with
    ``dim=None`` both are flattened. PyTorch's ``take_along_dim``.

    >>> cr.take_along_dim(cr.tensor([[3.0, 1.0], [0.0, 2.0]]), cr.tensor([[1], [0]]), dim=1)
    tensor([[1.], [0.]])
    """
    input = _check_operand("take_along_dim", input, "input")  # noqa: A001
    idx = _int_index("take_along_dim", indices, "indices")
    if dim is None:
        x, idx, d = reshape(input, -1), idx.reshape(-1), 0
    else:
        try:
            d = normalize_dim("take_along_dim", dim, _ndim(input))
        except IndexError as exc:  # PyTorch: a RuntimeError here
            raise RuntimeError(str(exc)) from None
        x, idx = _broadcast_along("take_along_dim", input, idx, d) if _ndim(input) else (reshape(input, 1), idx.reshape(-1))
    _check_bounds("take_along_dim", idx, d, _shape(x), RuntimeError)
    out = gather_prim(x, idx, dim=d)
    return reshape(out) if _ndim(input) == 0 and dim is not None else out


@public(numpy="take_along_axis")
@per_example
def take_along_axis(arr, indices, axis: int | None = -1):
    """NumPy's ``take_along_axis`` (negative indices count from the end; ``axis=None`` takes
    from the flattened array with 1-D indices); differentiable in ``arr``."""
    return _take_along_axis("take_along_axis", arr, indices, axis)


def _take_along_axis(op: str, arr, indices, axis):
    arr = _check_operand(op, arr, "arr")
    idx = _int_index(op, indices, "indices")
    if axis is None:
        if idx.ndim != 1:
            raise ValueError(f"{op}: when axis=None, indices must have a single dimension, got shape {idx.shape}")
        x, d = reshape(arr, -1), 0
    else:
        x, d = _numpy_axis(op, arr, axis)
        x, idx = _broadcast_along(op, x, idx, d)
    return gather_prim(x, _wrap_negative(op, idx, _shape(x)[d]), dim=d)


def _along_axis_key(idx, shape, d):
    """The integer-array index that ``arr[key]`` reads ``take_along_axis(arr, idx, d)`` with."""
    ndim = len(shape)
    return tuple(idx if i == d else B.arange(n).reshape((1,) * i + (n,) + (1,) * (ndim - i - 1))
                 for i, n in enumerate(shape))


def _unravel(flat, shape):
    """NumPy's ``unravel_index``: the coordinates of flat (C-order) positions in ``shape``."""
    coords = []
    for n in reversed(shape):
        coords.append(flat % n)
        flat = flat // n
    return tuple(reversed(coords))


@public(numpy="put_along_axis")
def put_along_axis(arr, indices, values, axis: int | None) -> None:
    """NumPy's ``put_along_axis``: writes ``values`` into ``arr`` in place at ``indices`` along
    ``axis`` (a tensor's version and history change as for ``t[key] = values``)."""
    _put_along_axis("put_along_axis", arr, indices, values, axis)


def _put_along_axis(op: str, arr, indices, values, axis) -> None:
    if not isinstance(arr, Tensor) and not isinstance(arr, B.ndarray):
        raise TypeError(f"{op}: arr must be a tensor (or a NumPy array) to write into, got {type(arr).__name__}")
    _check_operand(op, arr, "arr")
    idx = _int_index(op, indices, "indices")
    if not isinstance(arr, Tensor) and isinstance(values, Tensor):
        if values._requires_grad or values._tangents is not None:
            raise TypeError(f"{op}: a NumPy array cannot hold the history of values that require grad; "
                            f"write into a chainrule tensor instead")
        values = _data(values)
    shape = _shape(arr)
    if axis is None:
        if idx.ndim != 1:
            raise ValueError(f"{op}: when axis=None, indices must have a single dimension, got shape {idx.shape}")
        key = _unravel(_wrap_negative(op, idx, B.prod(shape)), shape)
    else:
        _, d = _numpy_axis(op, arr, axis)
        if idx.ndim != len(shape):
            raise ValueError(f"{op}: indices must have the same number of dimensions as arr, got shapes {idx.shape} and {shape}")
        key = _along_axis_key(_wrap_negative(op, idx, shape[d]), shape, d)
    named(op, arr.__setitem__, key, values)
    return None


# ---------------------------------------------------------------------------------------------
# PyTorch's take, scatter, scatter_add, select; NumPy's take, choose, select
# ---------------------------------------------------------------------------------------------

@public(method=True, numpy="take")
@per_example
def take(input, index):  # noqa: A002
    """The elements of the flattened ``input`` at ``index`` (shaped as ``index``; negative
    indices count from the end). PyTorch's ``take``."""
    input = _check_operand("take", input, "input")  # noqa: A001
    idx = _int_index("take", index)
    flat = reshape(input, -1)
    return getitem(flat, index=_wrap_negative("take", idx, _shape(flat)[0]))


def _check_scatter(op: str, input, d: int, idx, src_shape) -> None:  # noqa: A002
    shape = _shape(input)
    if idx.ndim != len(shape) or (src_shape is not None and len(src_shape) != len(shape)):
        raise RuntimeError(
            f"{op}: index{' and src' if src_shape is not None else ''} must have as many dimensions as the "
            f"input ({len(shape)}), got index shape {idx.shape}" + (f", src shape {src_shape}" if src_shape is not None else ""))
    for i, m in enumerate(idx.shape):
        if src_shape is not None and m > src_shape[i] or i != d and m > shape[i]:
            raise RuntimeError(
                f"{op}: index shape {idx.shape} is larger than the input's {shape} or src's {src_shape} "
                f"in dimension {i} (index.size(i) <= src.size(i), and <= input.size(i) for i != dim)")
    _check_bounds(op, idx, d, shape, RuntimeError)


def _src_part(src, idx_shape):
    """``src`` cut to the index's shape (PyTorch reads only that corner of ``src``)."""
    if _shape(src) == idx_shape:
        return src
    return _view(getitem, src, {"index": tuple(slice(0, m) for m in idx_shape)})


def _writers(idx, d: int, shape):
    """For each element of the output, the flat position in ``idx`` of the element that writes
    it (the last one, as NumPy's assignment), or -1."""
    writer = B.full(shape, -1, _I64)
    writer[_along_axis_key(idx, idx.shape, d)] = B.arange(idx.size).reshape(idx.shape)
    return writer


def _same_dtype(op: str, input, src):  # noqa: A002
    if isinstance(src, Tensor) and _dtype(src) != _dtype(input):
        raise RuntimeError(f"{op}: src (dtype {_dtype(src)}) must have the input's dtype ({_dtype(input)}); cast one")


@public(method=True)
@per_example
def scatter(input, dim: int, index, src=None, *, value=None, reduce=None):  # noqa: A002
    """A copy of ``input`` with ``src[i][j]`` written at ``[index[i][j]][j]`` (``dim=0``; likewise
    for other dims), or the number ``value``. PyTorch's ``scatter``: differentiable in
    ``input`` (zero where written) and ``src`` (the gradient at its target). Where ``index``
    repeats a target, the last write wins and only it gets the gradient (PyTorch leaves the
    winner unspecified and gives every one the gradient).

    >>> cr.scatter(cr.zeros(3), 0, cr.tensor([2, 0]), cr.tensor([5.0, 7.0]))
    tensor([7., 0., 5.])
    """
    op = "scatter"
    if reduce is not None:
        raise NotImplementedError(f"{op}: reduce= is not supported; use scatter_add for reduce='add'")
    if (src is None) == (value is None):
        raise TypeError(f"{op}: give exactly one of src (a tensor) and value (a number)")
    if src is not None:
        src = _check_operand(op, src, "src")
        if not isinstance(src, Tensor) and not B.is_array(src):
            raise TypeError(f"{op}: src must be a tensor; give a number as value=, got {src!r:.40}")
    elif not isinstance(value, (int, float)):
        raise TypeError(f"{op}: value must be a number, got {type(value).__name__} {value!r:.40}")
    src = value if src is None else src
    input = _check_operand(op, input, "input")  # noqa: A001
    d = normalize_dim(op, dim, _ndim(input))
    idx = _int_index(op, index)
    shape = _shape(input)
    number = not isinstance(src, Tensor) and not B.is_array(src)
    if not number:
        _same_dtype(op, input, src)
    _check_scatter(op, input, d, idx, None if number else _shape(src))
    writer = _writers(idx, d, shape)
    mask = writer >= 0
    dtype = B.numpy_dtype(_dtype(input))
    if number:
        return where_prim(mask, B.as_array(src, dtype), input)
    part = _src_part(src, idx.shape)
    written = writer[mask]
    if written.size != idx.size:  # repeated targets: only the last write counts
        winner = B.zeros((idx.size,), B.BOOL)
        winner[written] = True
        part = where_prim(winner.reshape(idx.shape), part, B.zeros((), dtype))
    written = scatter_add_prim(part, idx, dim=d, shape=shape)
    return where_prim(mask, written, input)


@public(method=True)
@per_example
def scatter_add(input, dim: int, index, src):  # noqa: A002
    """``input`` plus ``src[i][j]`` added at ``[index[i][j]][j]`` (``dim=0``; likewise for other
    dims); repeated targets accumulate. PyTorch's ``scatter_add``."""
    op = "scatter_add"
    input = _check_operand(op, input, "input")  # noqa: A001
    src = _check_operand(op, src, "src")
    d = normalize_dim(op, dim, _ndim(input))
    idx = _int_index(op, index)
    _same_dtype(op, input, src)
    _check_scatter(op, input, d, idx, _shape(src))
    return input + scatter_add_prim(_src_part(src, idx.shape), idx, dim=d, shape=_shape(input))


@public(method=True, numpy="select")
def select(input, dim: int, index: int):  # noqa: A002
    """The slice of ``input`` at ``index`` along ``dim`` (a view, one dimension fewer).
    PyTorch's ``select``; ``np.select`` on tensors has NumPy's meaning."""
    input = _check_operand("select", input, "input")  # noqa: A001
    d = normalize_dim("select", dim, _ndim(input))
    n = _shape(input)[d]
    i = _int("select", "index", index)
    if not -n <= i < n:
        raise IndexError(f"select: index {i} is out of range for dimension {d} of size {n}")
    return _view(getitem, input, {"index": (slice(None),) * d + (i, Ellipsis)})


@public(numpy="choose")
@per_example
def choose(a, choices, mode: str = "raise"):
    """NumPy's ``choose``: ``choices[a[i]][i]`` (everything broadcast, NumPy's result dtype);
    differentiable in the choices. ``mode`` is 'raise', 'wrap' or 'clip'.

    >>> cr.choose([1, 0], [cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0])])
    tensor([3., 2.])
    """
    op = "choose"
    idx = _int_index(op, a, "a")
    if not isinstance(choices, (list, tuple, Tensor)):
        raise TypeError(f"{op}: choices must be a sequence of arrays, got {type(choices).__name__}")
    if isinstance(choices, Tensor):
        choices = list(unbind(choices, 0)) if _ndim(choices) else [choices]
    items = [c if isinstance(c, Tensor) else B.as_array(_check_operand(op, c, "a choice")) for c in choices]
    if not items:
        raise ValueError(f"{op}: choices must not be empty")
    idx = _mode(op, idx, len(items), mode)
    dtype = B.result_dtype(*items)
    try:
        common = B.broadcast_shapes(idx.shape, *(_shape(c) for c in items))
    except ValueError:
        raise ValueError(f"{op}: shape mismatch: a {idx.shape} and the choices {[_shape(c) for c in items]} "
                         f"cannot be broadcast to a single shape") from None
    rows = [broadcast_to(c if B.numpy_dtype(_dtype(c)) == dtype else cast(c, dtype=dtype), common)
            if isinstance(c, Tensor) else Tensor._wrap(B.astype(c, dtype) + B.zeros(common, dtype)) for c in items]
    where = (idx + B.zeros(common, _I64)).reshape((1,) + common)
    return reshape(gather_prim(stack(rows), where, dim=0), common)


def _mode(op: str, idx, n: int, mode: str):
    if mode == "raise":
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise ValueError(f"{op}: invalid entry in choice array (indices must be in 0..{n - 1}, mode='raise')")
        return idx
    if mode == "wrap":
        return idx % n
    if mode == "clip":
        return idx.clip(0, n - 1)
    raise ValueError(f"{op}: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")


# ---------------------------------------------------------------------------------------------
# nonzero
# ---------------------------------------------------------------------------------------------

@public(method=True, numpy="nonzero")
def nonzero(input, *, as_tuple: bool = False) -> Any:  # noqa: A002
    """The indices of the nonzero elements: a ``(n, ndim)`` int64 tensor, or with
    ``as_tuple=True`` one 1-D tensor per dimension (a 0-d input counts as 1-D). Not
    differentiable.

    >>> cr.nonzero(cr.tensor([0.0, 2.0, 3.0]))
    tensor([[1], [2]])
    """
    input = _check_operand("nonzero", input, "input")  # noqa: A001
    _flags("nonzero", as_tuple=as_tuple)
    found = nonzero_prim(input)
    if not as_tuple:
        return found
    data = found._data
    if _ndim(input) == 0:
        return (Tensor._wrap(B.zeros((data.shape[0],), _I64)),)
    return tuple(Tensor._wrap(B.contiguous(data[:, i])) for i in range(data.shape[1]))
