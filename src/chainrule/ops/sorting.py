"""Sorting and selecting: sort, argsort, partition, topk, kthvalue, take, take_along_axis, put_along_axis, choose, select."""

from __future__ import annotations
