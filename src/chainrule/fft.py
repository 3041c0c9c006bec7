"""``cr.fft``: discrete Fourier transforms with NumPy's conventions, differentiable.

The names are those the operation table declares as ``fft.<name>`` (see ``ops/_table``).
"""

from __future__ import annotations

from .ops import _table

__all__: list[str] = []

_table.namespace_module(globals(), "fft")
