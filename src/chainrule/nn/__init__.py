"""Neural-network building blocks (``cr.nn``)."""

from . import functional

__all__ = ["functional"]
