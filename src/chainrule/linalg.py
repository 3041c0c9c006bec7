"""``cr.linalg``: inverse, determinant, log-determinant, solve, norms, decompositions.

The names are those the operation table declares as ``linalg.<name>`` (see ``ops/_table``).
"""

from __future__ import annotations

from .ops import _table

__all__: list[str] = []

_table.namespace_module(globals(), "linalg")
