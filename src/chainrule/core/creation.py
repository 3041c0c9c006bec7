"""Creating tensors: from data, filled, ranges, random."""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any, SupportsIndex

import numpy as np

from . import backend as B
from . import dtypes as D
from . import tracing
from .modes import state
from .tensor import Tensor, _as_data

if TYPE_CHECKING:
    from .._typing import DTypeLike, Scalar, Shape, SizeLike, TensorLike

_rng = [np.random.default_rng()]


def manual_seed(seed: int) -> None:
    """Make ``rand``, ``randn`` and dropout reproducible from ``seed``.

    There is one generator for the whole process, as in PyTorch: the seed applies to every
    thread, and threads drawing at the same time share the generator's stream (each draw is
    safe, but which thread gets which numbers depends on timing). For reproducible results,
    draw random tensors from one thread, or seed and draw under your own lock.
    """
    value = _integer("manual_seed", "seed", seed) % (1 << 64)
    _rng[0] = np.random.default_rng(value)
    if tracing.active[0]:  # inside a trace: compiled code seeds again at this point of every call
        tracing.drawn(np.zeros(()), lambda: _reseed(value), "manual_seed")


def _reseed(value: int) -> np.ndarray:
    _rng[0] = np.random.default_rng(value)
    return np.zeros(())


def generator(op: str = "generator", followed: bool = False) -> np.random.Generator:
    """The random generator behind ``rand``, ``randn`` and dropout (one for the process, shared
    by all threads; ``manual_seed`` replaces it). Inside ``cr.vmap`` drawing raises: the numbers
    would be drawn once and shared by every example (PyTorch's vmap refuses them by default).
    Draws a trace should repeat go through ``drawn`` (``followed``)."""
    if tracing.active[0] and not followed:
        tracing.impure(f"random numbers ({op}) drawn outside cr.rand/randn/randint/dropout")
    if state.vmap_levels:
        raise RuntimeError(
            f"{op}: random numbers inside cr.vmap would be drawn once and shared by every example; "
            f"draw them outside (e.g. cr.randn(batch, ...)) and pass them in, mapped with in_axes"
        )
    return _rng[0]


def drawn(op: str, make: Any) -> np.ndarray:
    """``make(generator)``: random numbers, drawn where a trace (``cr.jit``) records the draw, so
    that compiled code draws anew on every call, in eager mode's order."""
    array = make(generator(op, followed=True))
    if tracing.active[0]:
        tracing.drawn(array, lambda: make(_rng[0]), op)
    return array


def _flag(op: str, name: str, value: object) -> bool:
    """A bool argument (``requires_grad``): True or False, as PyTorch insists."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be True or False, got {type(value).__name__} {value!r:.40}")
    return bool(value)


def _finish(array: np.ndarray, requires_grad: bool, op: str = "tensor") -> Tensor:
    t = Tensor._wrap(array)
    if _flag(op, "requires_grad", requires_grad):
        if B.kind(array.dtype) not in "fc":
            raise RuntimeError(
                f"{op}: requires_grad=True needs a floating-point or complex tensor (only those can require "
                f"gradients), this one has dtype {array.dtype}; give dtype=cr.float32 (or float64)"
            )
        t.requires_grad_(True)
    return t


def _shape(op: str, sizes: tuple[Any, ...], size: SizeLike | None) -> Shape:
    if size is not None:
        if sizes:
            raise TypeError(f"{op}: give the shape either as sizes or as size=, not both")
        sizes = (size,)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    try:
        shape = tuple(operator.index(s) for s in sizes)
    except TypeError:
        raise TypeError(f"{op}: sizes must be ints, got {sizes!r:.60}") from None
    if any(s < 0 for s in shape):
        raise RuntimeError(f"{op}: negative dimension in shape {shape}")
    return shape


def _integer(op: str, name: str, value: Any) -> int:
    """An integer argument: Python and NumPy ints, one-element integer tensors."""
    if isinstance(value, Tensor) and value._data.size == 1 and value._data.dtype.kind in "iu":
        value = value._data.item()
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be an int, got bool {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__} {value!r:.40}") from None


def _number(op: str, name: str, value: Any, finite: bool = True) -> float:
    """A real-number argument (Python or NumPy number, or a one-element tensor) as a Python number."""
    if isinstance(value, Tensor):
        if value._data.size != 1:
            raise TypeError(f"{op}: {name} must be a number, got a tensor of shape {value._data.shape}")
        value = value._data.reshape(()).item()
    elif isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf":
        value = value.item()
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()
    if not isinstance(value, (int, float)):  # bool is an int
        why = " (complex numbers are not supported yet)" if isinstance(value, complex) else ""
        raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__} {value!r:.40}{why}")
    if finite and isinstance(value, float) and not np.isfinite(value):
        raise ValueError(f"{op}: {name} must be finite, got {value}")
    return value


def _float(dtype: DTypeLike, op: str = "dtype") -> np.dtype:
    return D.resolve(dtype, op) or D.get_default_dtype()


def _floating(op: str, dtype: DTypeLike) -> np.dtype:
    """``dtype`` (default: the default float dtype), which must be floating (random numbers)."""
    resolved = _float(dtype, op)
    if resolved.kind != "f":
        raise TypeError(
            f"{op}: random samples need a floating dtype, got {resolved}; draw floats and convert, "
            f"or use cr.randint for integers"
        )
    return resolved


def tensor(data: TensorLike, dtype: DTypeLike = None, requires_grad: bool = False, name: str | None = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (number, nested list, array or tensor); ``name``
    labels it in pictures and staged code (``Tensor.name``).

    >>> x = cr.tensor([1.0, 2.0], requires_grad=True, name="x")
    """
    t = _finish(_as_data(data, dtype, copy=True), requires_grad)
    if name is not None:
        t.name = name
    return t


def as_tensor(data: TensorLike, dtype: DTypeLike = None) -> Tensor:
    """``data`` as a tensor, sharing memory with a NumPy array or tensor when possible."""
    if isinstance(data, Tensor) and (dtype is None or D.resolve(dtype, "as_tensor") == data.dtype):
        return data
    return Tensor._wrap(_as_data(data, dtype, copy=False, op="as_tensor"))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (a NumPy array)."""
    if not isinstance(array, (np.ndarray, np.generic)):
        raise TypeError(
            f"from_numpy: expected a NumPy array, got {type(array).__name__}; use cr.tensor or "
            f"cr.as_tensor for other data"
        )
    return Tensor._wrap(_as_data(array, copy=False, op="from_numpy"))


def zeros(*sizes: SizeLike, size: SizeLike | None = None, dtype: DTypeLike = None,
          requires_grad: bool = False) -> Tensor:
    return _finish(np.zeros(_shape("zeros", sizes, size), dtype=_float(dtype, "zeros")), requires_grad, "zeros")


def ones(*sizes: SizeLike, size: SizeLike | None = None, dtype: DTypeLike = None,
         requires_grad: bool = False) -> Tensor:
    return _finish(np.ones(_shape("ones", sizes, size), dtype=_float(dtype, "ones")), requires_grad, "ones")


def empty(*sizes: SizeLike, size: SizeLike | None = None, dtype: DTypeLike = None,
          requires_grad: bool = False) -> Tensor:
    return _finish(np.empty(_shape("empty", sizes, size), dtype=_float(dtype, "empty")), requires_grad, "empty")


def _fill_dtype(op: str, value: float, dtype: DTypeLike) -> np.dtype | None:
    """The dtype of a tensor filled with ``value``: ``dtype`` if given, else the value's own
    (bool, int64, or the default float dtype)."""
    if dtype is not None:
        return D.resolve(dtype, op)
    if isinstance(value, bool):
        return D.bool
    if isinstance(value, int):
        return D.int64
    return D.get_default_dtype()


def full(size: SizeLike, fill_value: Scalar, dtype: DTypeLike = None, requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value`` (its dtype follows the value)."""
    shape = _shape("full", (size,) if not isinstance(size, (tuple, list)) else (tuple(size),), None)
    value = _number("full", "fill_value", fill_value, finite=False)
    return _finish(np.full(shape, value, dtype=_fill_dtype("full", value, dtype)), requires_grad, "full")


def eye(n: SupportsIndex, m: SupportsIndex | None = None, dtype: DTypeLike = None,
        requires_grad: bool = False) -> Tensor:
    rows = _integer("eye", "n", n)
    cols = rows if m is None else _integer("eye", "m", m)
    if rows < 0 or cols < 0:
        raise RuntimeError(f"eye: n and m must be non-negative, got n={rows}, m={cols}")
    return _finish(np.eye(rows, cols, dtype=_float(dtype, "eye")), requires_grad, "eye")


def arange(start: Scalar, stop: Scalar | None = None, step: Scalar = 1, dtype: DTypeLike = None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``stop`` (exclusive) by ``step``; float if any bound is float."""
    if stop is None:
        start, stop = 0, start
    start = _number("arange", "start", start)
    stop = _number("arange", "end", stop)
    step = _number("arange", "step", step)
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, stop, step))
        dtype = D.get_default_dtype() if is_float else D.int64
    return _finish(np.arange(start, stop, step, dtype=D.resolve(dtype, "arange")), requires_grad, "arange")


def linspace(start: Scalar, stop: Scalar, num: SupportsIndex = 50, dtype: DTypeLike = None,
             requires_grad: bool = False) -> Tensor:
    start = _number("linspace", "start", start)
    stop = _number("linspace", "end", stop)
    steps = _integer("linspace", "steps", num)
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    return _finish(np.linspace(start, stop, steps, dtype=_float(dtype, "linspace")), requires_grad, "linspace")


def rand(*sizes: SizeLike, size: SizeLike | None = None, dtype: DTypeLike = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    shape = _shape("rand", sizes, size)
    dtype = _floating("rand", dtype)
    return _finish(drawn("rand", lambda g: g.random(shape).astype(dtype, copy=False)), requires_grad, "rand")


def randn(*sizes: SizeLike, size: SizeLike | None = None, dtype: DTypeLike = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    shape = _shape("randn", sizes, size)
    dtype = _floating("randn", dtype)
    return _finish(drawn("randn", lambda g: np.asarray(g.standard_normal(shape)).astype(dtype, copy=False)),
                   requires_grad, "randn")


def randint(low: SupportsIndex, high: SupportsIndex | None = None, size: SizeLike = (),
            dtype: DTypeLike = None) -> Tensor:
    """Integers drawn uniformly from ``low`` (inclusive) to ``high`` (exclusive)."""
    if high is None:
        low, high = 0, low
    low = _integer("randint", "low", low)
    high = _integer("randint", "high", high)
    if high <= low:
        raise RuntimeError(f"randint: expects low < high, got low={low}, high={high}")
    shape = _shape("randint", (), size)
    dtype = D.resolve(dtype, "randint") or D.int64
    if dtype.kind == "c":
        raise RuntimeError(f"randint: random integers need an integer, floating or bool dtype, got {dtype}")
    if dtype.kind == "b" and high > 2:
        raise RuntimeError(f"randint: high={high} is out of range for dtype bool (at most 2)")
    return Tensor._wrap(drawn("randint", lambda g: np.asarray(g.integers(low, high, size=shape)).astype(dtype)))


def _like(op: str, input: Tensor | np.ndarray, dtype: DTypeLike) -> tuple[Shape, np.dtype]:  # noqa: A002
    if isinstance(input, Tensor):
        data = input._data
    elif isinstance(input, np.ndarray):
        data = _as_data(input, copy=False, op=op)
    else:
        raise TypeError(f"{op}: input must be a tensor (or a NumPy array), got {type(input).__name__} {input!r:.40}")
    return data.shape, D.resolve(dtype, op) or data.dtype


def zeros_like(input: Tensor | np.ndarray, dtype: DTypeLike = None,  # noqa: A002
               requires_grad: bool = False) -> Tensor:
    shape, dt = _like("zeros_like", input, dtype)
    return _finish(np.zeros(shape, dtype=dt), requires_grad, "zeros_like")


def ones_like(input: Tensor | np.ndarray, dtype: DTypeLike = None,  # noqa: A002
              requires_grad: bool = False) -> Tensor:
    shape, dt = _like("ones_like", input, dtype)
    return _finish(np.ones(shape, dtype=dt), requires_grad, "ones_like")


def empty_like(input: Tensor | np.ndarray, dtype: DTypeLike = None,  # noqa: A002
               requires_grad: bool = False) -> Tensor:
    shape, dt = _like("empty_like", input, dtype)
    return _finish(np.empty(shape, dtype=dt), requires_grad, "empty_like")


def full_like(input: Tensor | np.ndarray, fill_value: Scalar, dtype: DTypeLike = None,  # noqa: A002
              requires_grad: bool = False) -> Tensor:
    shape, dt = _like("full_like", input, dtype)
    value = _number("full_like", "fill_value", fill_value, finite=False)
    return _finish(np.full(shape, value, dtype=dt), requires_grad, "full_like")


def _random_like(op: str, input: Tensor | np.ndarray, dtype: DTypeLike) -> tuple[Shape, np.dtype]:  # noqa: A002
    shape, dt = _like(op, input, dtype)
    if dt.kind != "f":
        raise TypeError(
            f"{op}: random samples need a floating dtype, got {dt}; give dtype=cr.float32 (or "
            f"float64), or use cr.randint"
        )
    return shape, dt


def randn_like(input: Tensor | np.ndarray, dtype: DTypeLike = None,  # noqa: A002
               requires_grad: bool = False) -> Tensor:
    shape, dt = _random_like("randn_like", input, dtype)
    return _finish(drawn("randn_like", lambda g: np.asarray(g.standard_normal(shape)).astype(dt, copy=False)),
                   requires_grad, "randn_like")


def rand_like(input: Tensor | np.ndarray, dtype: DTypeLike = None,  # noqa: A002
              requires_grad: bool = False) -> Tensor:
    shape, dt = _random_like("rand_like", input, dtype)
    return _finish(drawn("rand_like", lambda g: np.asarray(g.random(shape)).astype(dt, copy=False)),
                   requires_grad, "rand_like")


# ---------------------------------------------------------------------------------------------
# PyTorch's ``t.new_*``: new tensors with the dtype of ``t`` (unless ``dtype=`` says otherwise)
# ---------------------------------------------------------------------------------------------

def _new_dtype(self: Tensor, dtype: DTypeLike, op: str) -> np.dtype:
    resolved = D.resolve(dtype, op)
    return B.numpy_dtype(self._data.dtype) if resolved is None else resolved


def new_tensor(self: Tensor, data: TensorLike, dtype: DTypeLike = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` in ``self``'s dtype (or ``dtype``), as PyTorch's
    ``t.new_tensor``: ``x.new_tensor([1, 2])`` is float when ``x`` is."""
    if isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) and v._data.size != 1 for v in data):
        raise ValueError("new_tensor: only one-element tensors can be converted to numbers in a list "
                         "(as PyTorch); use cr.stack to join tensors")
    return _finish(_as_data(data, _new_dtype(self, dtype, "new_tensor"), copy=True, op="new_tensor"),
                   requires_grad, "new_tensor")


def new_zeros(self: Tensor, *sizes: SizeLike, size: SizeLike | None = None, dtype: DTypeLike = None,
              requires_grad: bool = False) -> Tensor:
    """Zeros of the shape ``sizes`` in ``self``'s dtype: ``x.new_zeros(2, 3)``."""
    return _finish(np.zeros(_shape("new_zeros", sizes, size), dtype=_new_dtype(self, dtype, "new_zeros")),
                   requires_grad, "new_zeros")


def new_ones(self: Tensor, *sizes: SizeLike, size: SizeLike | None = None, dtype: DTypeLike = None,
             requires_grad: bool = False) -> Tensor:
    """Ones of the shape ``sizes`` in ``self``'s dtype: ``x.new_ones((2, 3))``."""
    return _finish(np.ones(_shape("new_ones", sizes, size), dtype=_new_dtype(self, dtype, "new_ones")),
                   requires_grad, "new_ones")


def new_empty(self: Tensor, *sizes: SizeLike, size: SizeLike | None = None, dtype: DTypeLike = None,
              requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of the shape ``sizes`` in ``self``'s dtype: ``x.new_empty(3)``."""
    return _finish(np.empty(_shape("new_empty", sizes, size), dtype=_new_dtype(self, dtype, "new_empty")),
                   requires_grad, "new_empty")


def new_full(self: Tensor, size: SizeLike, fill_value: Scalar, dtype: DTypeLike = None,
             requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``, in ``self``'s dtype (the value is
    converted, as PyTorch: 3.5 in an int64 tensor is 3): ``x.new_full((2,), 7.0)``."""
    shape = _shape("new_full", (size,) if not isinstance(size, (tuple, list)) else (tuple(size),), None)
    value = _number("new_full", "fill_value", fill_value, finite=False)
    return _finish(np.full(shape, value, dtype=_new_dtype(self, dtype, "new_full")), requires_grad, "new_full")


NEW_METHODS = {"new_tensor": new_tensor, "new_zeros": new_zeros, "new_ones": new_ones, "new_empty": new_empty,
               "new_full": new_full}
