"""Array helpers shared by the engine (the broadcasting reduction).

Rules reach arrays only through the rule namespaces of ``ops._primitive`` (``raw`` holds each
primitive's NumPy implementation); with this module they are where another array module with
NumPy's API (CuPy, Dask) would plug in.
"""

from __future__ import annotations

import numpy as np

xp = np
ndarray = np.ndarray


def sum_to_shape(array: ndarray, shape: tuple[int, ...]) -> ndarray:
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
