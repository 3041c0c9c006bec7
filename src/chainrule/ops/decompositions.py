"""Matrix decompositions and functions (``cr.linalg``): cholesky, eigh, svd, qr, pinv, lstsq, solve_triangular, matrix_power, matrix_exp, norms, cross."""

from __future__ import annotations
