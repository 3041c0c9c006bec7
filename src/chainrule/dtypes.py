"""Data types (NumPy dtypes) and the default floating dtype."""

from __future__ import annotations

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
bool = np.dtype(np.bool_)  # noqa: A001 - the public name is PyTorch's

_FLOATS = (float16, float32, float64)
_default = [float32]


def set_default_dtype(dtype) -> None:
    """Make ``dtype`` (a floating dtype) the dtype of Python floats and float lists."""
    resolved = np.dtype(dtype)
    if resolved not in _FLOATS:
        raise TypeError(
            f"set_default_dtype: only floating dtypes (float16, float32, float64) can be the "
            f"default, got {resolved}"
        )
    _default[0] = resolved


def get_default_dtype() -> np.dtype:
    """The dtype that Python floats and float lists become."""
    return _default[0]


def resolve(dtype) -> np.dtype | None:
    """A NumPy dtype from anything NumPy accepts (``None`` stays ``None``)."""
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"unknown dtype {dtype!r}; use cr.float32, cr.float64, cr.int64, ...") from exc
