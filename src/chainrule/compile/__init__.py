"""Define-then-run (SPEC §10): traced graphs (``cr.graph``, ``cr.Graph``) and ``cr.jit``."""

from . import graph, jit  # noqa: F401
