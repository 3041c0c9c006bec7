"""``cr.special``: special functions (SciPy's names), differentiable to any order.

The names are those the operation table declares as ``special.<name>`` (see ``ops/_table``).
"""

from __future__ import annotations

from .ops import _table

__all__: list[str] = []

_table.namespace_module(globals(), "special")
