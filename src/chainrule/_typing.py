"""Type aliases for chainrule's annotations (what the public functions accept and return).

Only annotations use them, so modules import them under ``typing.TYPE_CHECKING``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, SupportsIndex, TypeAlias, Union

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from .core.tensor import Tensor

__all__ = ["ArgNums", "DTypeLike", "Operand", "Scalar", "Shape", "SizeLike", "TensorLike"]

TensorLike: TypeAlias = Union["Tensor", npt.ArrayLike]
"""Data a tensor operation accepts: a tensor, a NumPy array, a number or nested lists of numbers."""

Operand: TypeAlias = Union["Tensor", np.ndarray, float, complex]
"""A checked operand (``dtypes.check_operand``): a tensor, an array or a number (lists have become
arrays). NumPy scalars count as numbers here, as ``np.float64`` (a ``float``) does: they support the
same arithmetic."""

Scalar: TypeAlias = Union[float, np.generic, "Tensor"]
"""A real number: a Python or NumPy number (ints and bools included), or a one-element tensor."""

DTypeLike: TypeAlias = npt.DTypeLike | None
"""A dtype: ``cr.float32``, ``np.float64``, ``"int64"``, ``float``, ... (``None``: the default)."""

Shape: TypeAlias = tuple[int, ...]

SizeLike: TypeAlias = SupportsIndex | Sequence[SupportsIndex]
"""A shape given as one size or a sequence of sizes."""

ArgNums: TypeAlias = int | tuple[int, ...]
"""Which positional arguments a transform differentiates: one position or a tuple of them."""
