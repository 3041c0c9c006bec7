"""The operation tables and the public functions built on them.

The submodules define the primitives (``PRIMITIVES``) and declare the public operations
(``OPERATIONS``, see ``_table``); this package's names are built from those declarations, so
an operation is exported where it is defined, never listed here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import (  # each module defines its operations as it is imported
    activations,
    arrange,
    complex_numbers,
    decompositions,
    elementwise,
    extrema,
    fft,
    indexing,
    joins,
    linalg,
    neural,
    numpy_extras,
    products,
    quantiles,
    reductions,
    shape,
    sorting,
    special,
    statistics,
    ufuncs,
)
from ..core.dispatch import PRIMITIVES, Primitive
from ._table import OPERATIONS, Operation, public, subscribe

if TYPE_CHECKING:  # what type checkers see of the names built below (generated, see tools/stubs)
    from ._api import *  # noqa: F403


__all__: list[str] = []


def _export(op: Operation) -> None:
    if op.namespace:
        return
    for name in op.names:
        globals()[name] = op.function
        if name not in __all__:
            __all__.append(name)


def _unexport(op: Operation) -> None:
    for name in op.names:
        if globals().get(name) is op.function:
            del globals()[name]
            __all__.remove(name)


_export.withdraw = _unexport  # type: ignore[attr-defined]
subscribe(_export)
