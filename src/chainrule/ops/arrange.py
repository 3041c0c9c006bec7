"""Arranging arrays: stacking and splitting, triangles and diagonals, repeating, rolling, rotating, moving axes."""

from __future__ import annotations
