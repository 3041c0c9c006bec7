"""``cr.linalg``: inverse, determinant, log-determinant, solve, norms."""

from .ops.linalg import det, inv, slogdet, solve
from .ops.linalg import linalg_norm as norm

__all__ = ["det", "inv", "slogdet", "solve", "norm"]
