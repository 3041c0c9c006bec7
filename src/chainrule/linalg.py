"""``cr.linalg``: inverse, determinant, log-determinant, solve, norms.

The names are those the operation table declares as ``linalg.<name>`` (see ``ops/_table``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .ops import _table

if TYPE_CHECKING:  # what type checkers see of the names built below
    pass

__all__: list[str] = []


def _export(op: _table.Operation) -> None:
    if op.namespace == "linalg":
        for name in op.names:
            short = name.rpartition(".")[2]
            globals()[short] = op.function
            if short not in __all__:
                __all__.append(short)


def _unexport(op: _table.Operation) -> None:
    if op.namespace == "linalg":
        for name in op.names:
            short = name.rpartition(".")[2]
            globals().pop(short, None)
            if short in __all__:
                __all__.remove(short)


_export.withdraw = _unexport  # type: ignore[attr-defined]
_table.subscribe(_export)
