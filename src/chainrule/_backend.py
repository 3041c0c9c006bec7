"""The narrow array layer: every array call the engine makes outside the rules goes here.

Rules reach arrays through a rule namespace (see ``ops._namespace``); the engine and the
tensor class use the helpers below. Swapping ``xp`` for another array module with NumPy's API
(CuPy, Dask) is the one place a new backend has to touch.
"""

from __future__ import annotations

import numpy as np

xp = np
ndarray = np.ndarray


def asarray(value, dtype=None):
    """``value`` as an array of the backend (no copy when already one of ``dtype``)."""
    return xp.asarray(value, dtype=dtype)


def sum_to_shape(array, shape: tuple):
    """Sum ``array`` over the axes broadcasting added or stretched to reach ``shape``."""
    if array.shape == shape:
        return array
    lead = array.ndim - len(shape)
    # Leading axes are summed away without keepdims, so the result owns its memory (the engine
    # may then hand it to .grad without a copy).
    result = array.sum(axis=tuple(range(lead))) if lead else array
    rest = tuple(i for i, n in enumerate(shape) if n == 1 and array.shape[i + lead] != 1)
    if rest:
        result = result.sum(axis=rest, keepdims=True)
    return result


def zeros(shape, dtype):
    return xp.zeros(shape, dtype=dtype)


def ones(shape, dtype):
    return xp.ones(shape, dtype=dtype)
