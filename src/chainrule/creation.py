"""Creating tensors: from data, filled, ranges, random."""

from __future__ import annotations

import operator

import numpy as np

from . import dtypes as D
from .tensor import Tensor, _as_data

_rng = [np.random.default_rng()]


def manual_seed(seed: int) -> None:
    """Make ``rand``, ``randn`` and dropout reproducible from ``seed``."""
    _rng[0] = np.random.default_rng(int(seed))


def generator() -> np.random.Generator:
    """The random generator behind ``rand``, ``randn`` and dropout."""
    return _rng[0]


def _finish(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _shape(op: str, sizes, size) -> tuple:
    if size is not None:
        if sizes:
            raise TypeError(f"{op}: give the shape either as sizes or as size=, not both")
        sizes = (size,)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    try:
        shape = tuple(operator.index(s) for s in sizes)
    except TypeError:
        raise TypeError(f"{op}: sizes must be ints, got {sizes!r}") from None
    if any(s < 0 for s in shape):
        raise RuntimeError(f"{op}: negative dimension in shape {shape}")
    return shape


def _float(dtype):
    return D.resolve(dtype) or D.get_default_dtype()


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (number, nested list, array or tensor)."""
    return _finish(_as_data(data, dtype, copy=True), requires_grad)


def as_tensor(data, dtype=None) -> Tensor:
    """``data`` as a tensor, sharing memory with a NumPy array or tensor when possible."""
    if isinstance(data, Tensor) and (dtype is None or D.resolve(dtype) == data.dtype):
        return data
    return Tensor._wrap(_as_data(data, dtype, copy=False))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array``."""
    return Tensor._wrap(np.asarray(array))


def zeros(*sizes, size=None, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.zeros(_shape("zeros", sizes, size), dtype=_float(dtype)), requires_grad)


def ones(*sizes, size=None, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.ones(_shape("ones", sizes, size), dtype=_float(dtype)), requires_grad)


def empty(*sizes, size=None, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.empty(_shape("empty", sizes, size), dtype=_float(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value`` (its dtype follows the value)."""
    shape = _shape("full", (size,) if not isinstance(size, (tuple, list)) else (tuple(size),), None)
    if dtype is None:
        dtype = _as_data(fill_value).dtype
    return _finish(np.full(shape, fill_value, dtype=D.resolve(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``stop`` (exclusive) by ``step``; float if any bound is float."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        is_float = any(isinstance(v, float) or (hasattr(v, "dtype") and np.dtype(v.dtype).kind == "f")
                       for v in (start, stop, step))
        dtype = D.get_default_dtype() if is_float else D.int64
    return _finish(np.arange(start, stop, step, dtype=D.resolve(dtype)), requires_grad)


def linspace(start, stop, num: int = 50, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.linspace(start, stop, int(num), dtype=_float(dtype)), requires_grad)


def rand(*sizes, size=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    shape = _shape("rand", sizes, size)
    return _finish(_rng[0].random(shape).astype(_float(dtype), copy=False), requires_grad)


def randn(*sizes, size=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    shape = _shape("randn", sizes, size)
    return _finish(np.asarray(_rng[0].standard_normal(shape)).astype(_float(dtype), copy=False), requires_grad)


def randint(low, high=None, size=(), dtype=None) -> Tensor:
    if high is None:
        low, high = 0, low
    return Tensor._wrap(np.asarray(_rng[0].integers(low, high, size=size)).astype(D.resolve(dtype) or D.int64))


def _like(input, dtype):  # noqa: A002
    data = input._data if isinstance(input, Tensor) else np.asarray(input)
    return data.shape, D.resolve(dtype) or data.dtype


def zeros_like(input, dtype=None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    shape, dt = _like(input, dtype)
    return _finish(np.zeros(shape, dtype=dt), requires_grad)


def ones_like(input, dtype=None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    shape, dt = _like(input, dtype)
    return _finish(np.ones(shape, dtype=dt), requires_grad)


def empty_like(input, dtype=None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    shape, dt = _like(input, dtype)
    return _finish(np.empty(shape, dtype=dt), requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    shape, dt = _like(input, dtype)
    return _finish(np.full(shape, fill_value, dtype=dt), requires_grad)


def randn_like(input, dtype=None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    shape, dt = _like(input, dtype)
    if dt.kind != "f":
        dt = D.get_default_dtype()
    return _finish(np.asarray(_rng[0].standard_normal(shape)).astype(dt, copy=False), requires_grad)


def rand_like(input, dtype=None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    shape, dt = _like(input, dtype)
    if dt.kind != "f":
        dt = D.get_default_dtype()
    return _finish(np.asarray(_rng[0].random(shape)).astype(dt, copy=False), requires_grad)
