"""NumPy's signatures for the ufuncs family: ``np.<name>(t, ...)`` with NumPy's exact arguments,
keywords and N-d semantics, mapped onto chainrule's operations (see ``numpy_protocols``).

The ufuncs themselves (``np.arctan2``, ``np.remainder``, ...) need no entry: their keywords
(``out=``, ``dtype=``, ``where=``) are handled for every table ufunc by ``numpy_protocols``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..ops import comparisons as CMP
from ..ops import piecewise as PW
from ..ops import shape as S
from ..ops import ufuncs as U
from .numpy_common import _axes, _finish, _legacy_0d_axis, _NoValue, _operand
from .numpy_signatures import _reduce_mask


def _bool_reduction(name: str, prim, neutral: bool):
    """``np.any``/``np.all`` (``a, axis=None, out=None, keepdims=False, *, where=True``): a bool
    tensor (no gradient); entries outside ``where`` count as ``neutral``."""

    def reduce(a, axis=None, out=None, keepdims=_NoValue, *, where=_NoValue):
        a = _operand(a)
        shape = S._shape(a)
        axes = _axes(name, _legacy_0d_axis(axis, len(shape)), len(shape))
        mask = _reduce_mask(name, where, shape)
        if mask is not None:
            a = PW.where(mask, CMP.ne(a, 0), neutral)
        keep = False if keepdims is _NoValue else bool(keepdims)
        result = prim(a, dim=axes, keepdim=keep)
        return _finish(name, result, out, "unsafe", exact=True)

    reduce.__name__ = name.rpartition(".")[2]
    return reduce


def _sinc(x):
    return U.sinc(_operand(x))


SIGNATURES: dict[str, Callable[..., Any]] = {
    "any": _bool_reduction("numpy.any", U._any, False),
    "all": _bool_reduction("numpy.all", U._all, True),
    "sinc": _sinc,
}
