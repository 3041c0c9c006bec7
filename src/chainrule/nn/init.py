"""``cr.nn.init``: fill parameters in place with PyTorch's initialisation schemes.

Every function draws from ``cr.creation.generator()``, so ``cr.manual_seed`` makes it
reproducible, writes under ``no_grad`` (parameters stay leaves), and returns its argument.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.creation import generator
from ..core.tensor import Tensor, bump_version

__all__ = [
    "calculate_gain",
    "constant_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "uniform_",
    "xavier_uniform_",
    "zeros_",
]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale of weights feeding ``nonlinearity`` (PyTorch's table)."""
    return _gain("calculate_gain", nonlinearity, param)


def _gain(op: str, nonlinearity: object, param: Any) -> float:
    if not isinstance(nonlinearity, str):
        raise TypeError(f"{op}: nonlinearity must be a string such as 'relu', got {type(nonlinearity).__name__}")
    if param is not None:
        param = _real(op, "param", param)
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else _real(op, "param (the negative slope)", param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"{op}: unsupported nonlinearity {nonlinearity!r}; use one of "
        f"{', '.join(_LINEAR)}, tanh, relu, leaky_relu, selu"
    )


def _real(op: str, name: str, value: Any) -> float:
    """A finite real number (Python or NumPy number, or a one-element tensor)."""
    if isinstance(value, Tensor) and value._data.size == 1:
        value = value._data.reshape(()).item()
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        why = " (complex numbers are not supported yet)" if isinstance(value, complex) else ""
        raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__} {value!r:.40}{why}")
    if not math.isfinite(value):
        raise ValueError(f"{op}: {name} must be finite, got {value}")
    return float(value)


def _fans(op: str, tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape (out, in, *kernel)."""
    shape = _check(op, tensor).shape
    if len(shape) < 2:
        raise ValueError(
            f"{op}: fan in and fan out can not be computed for a tensor with fewer than 2 "
            f"dimensions (got shape {shape})"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _check(op: str, tensor: object, kinds: str = "f") -> np.ndarray:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a Tensor or Parameter, got {type(tensor).__name__}")
    if tensor._data.dtype.kind not in kinds:
        raise TypeError(f"{op}: can only fill floating tensors, got dtype {tensor._data.dtype}")
    tensor._buffer()
    return tensor._data


def _fill(tensor: Tensor, values: Any) -> Tensor:
    data = tensor._data
    data[...] = values
    bump_version(tensor)
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill ``tensor`` with samples from U(a, b)."""
    data = _check("uniform_", tensor)
    a, b = _real("uniform_", "a", a), _real("uniform_", "b", b)
    if a > b:
        raise ValueError(f"uniform_: expects a <= b, got a={a}, b={b}")
    return _fill(tensor, generator().uniform(a, b, size=data.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill ``tensor`` with samples from N(mean, std²)."""
    data = _check("normal_", tensor)
    mean, std = _real("normal_", "mean", mean), _real("normal_", "std", std)
    if std < 0:
        raise ValueError(f"normal_: expects std >= 0, got {std}")
    return _fill(tensor, generator().normal(mean, std, size=data.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` with ``val``."""
    return _constant("constant_", tensor, val)


def _constant(op: str, tensor: Tensor, val: Any) -> Tensor:
    _check(op, tensor)
    if isinstance(val, Tensor) and val._data.size == 1:
        val = val._data.reshape(()).item()
    if isinstance(val, np.generic) and val.dtype.kind in "biuf":
        val = val.item()
    if not isinstance(val, (int, float)):  # bool is an int
        why = " (complex numbers are not supported yet)" if isinstance(val, complex) else ""
        raise TypeError(f"{op}: val must be a real number, got {type(val).__name__} {val!r:.40}{why}")
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with zeros."""
    return _constant("zeros_", tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with ones."""
    return _constant("ones_", tensor, 1)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """He initialisation: U(−bound, bound) with ``bound = gain · √(3 / fan)``."""
    if not isinstance(mode, str) or mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming_uniform_: mode must be 'fan_in' or 'fan_out', got {mode!r:.40}")
    gain = _gain("kaiming_uniform_", nonlinearity, _real("kaiming_uniform_", "a", a))
    fan_in, fan_out = _fans("kaiming_uniform_", tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        return tensor
    bound = gain * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot initialisation: U(−bound, bound) with ``bound = gain · √(6 / (fan_in + fan_out))``."""
    gain = _real("xavier_uniform_", "gain", gain)
    fan_in, fan_out = _fans("xavier_uniform_", tensor)
    if fan_in + fan_out == 0:
        return tensor
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)
