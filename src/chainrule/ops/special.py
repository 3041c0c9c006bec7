"""Special functions (``cr.special``): gamma family, error functions, Bessel functions, logistic functions."""

from __future__ import annotations
