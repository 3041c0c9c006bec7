"""NumPy's signatures for the arrange family: ``np.<name>(t, ...)`` with NumPy's exact arguments,
keywords and N-d semantics, mapped onto chainrule's operations (see ``numpy_protocols``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SIGNATURES: dict[str, Callable[..., Any]] = {}
