"""Comparisons and logical operations: no gradient flows through them; tests of values
(isnan, isinf, isfinite)."""

from __future__ import annotations

import numpy as np

from ..core import backend as B
from ._define import nondifferentiable
from .elementwise import _bool, _foreign, _guarded, _xp_compare, _xp_logical


def _binary_numpy(ufunc, forward):
    """``ufunc`` of two operands, or ``forward`` where one is an array of another namespace (a
    NumPy ufunc would convert it)."""

    def impl(x, y):
        if type(x) is not B.ndarray and type(y) is not B.ndarray and _foreign(x, y):
            return forward(B.namespace_of(x, y), x, y)
        return ufunc(x, y)

    impl.__name__ = ufunc.__name__
    impl.xp = forward
    return impl


def _unordered(op, x, y) -> TypeError:
    from .elementwise import complex_unsupported

    names = {"less": "lt", "less_equal": "le", "greater": "gt", "greater_equal": "ge"}
    return complex_unsupported(names.get(op, op), B.result_dtype(x, y))


def _compare(ufunc, name, ordered=True):
    """A comparison computed as PyTorch does: in the operands' result dtype
    (``backend.result_dtype``), which decides its values (``float32 == 0-d float64`` compares in
    float32, an int64 tensor with a Python float in the default float dtype)."""
    forward = _xp_compare(name)

    def impl(x, y):
        if type(x) is not B.ndarray and type(y) is not B.ndarray and _foreign(x, y):
            return forward(B.namespace_of(x, y), x, y)
        xt = getattr(x, "dtype", None)
        yt = getattr(y, "dtype", None)
        if xt is yt or (xt is None and yt.kind == "f") or (yt is None and xt.kind == "f"):
            if ordered and (xt or yt).kind == "c":  # complex numbers have no order (PyTorch)
                raise _unordered(name, x, y)
            return ufunc(x, y)  # the common cases: one dtype, or a float tensor with a number
        dtype = B.result_dtype(x, y)
        if ordered and dtype.kind == "c":
            raise _unordered(name, x, y)
        return ufunc(B.in_dtype(x, dtype), B.in_dtype(y, dtype))

    impl.__name__ = ufunc.__name__
    impl.xp = forward
    return impl


lt = nondifferentiable("lt", _compare(np.less, "less"), batching="elementwise", operator="<", ufunc="less", method=True)


le = nondifferentiable("le", _compare(np.less_equal, "less_equal"), batching="elementwise", operator="<=", ufunc="less_equal", method=True)


gt = nondifferentiable("gt", _compare(np.greater, "greater"), batching="elementwise", operator=">", ufunc="greater", method=True)


ge = nondifferentiable("ge", _compare(np.greater_equal, "greater_equal"), batching="elementwise", operator=">=", ufunc="greater_equal", method=True)


eq = nondifferentiable("eq", _compare(np.equal, "equal", ordered=False), batching="elementwise", operator="==", ufunc="equal", method=True)


ne = nondifferentiable("ne", _compare(np.not_equal, "not_equal", ordered=False), batching="elementwise", operator="!=", ufunc="not_equal", method=True)


logical_and = nondifferentiable("logical_and", _binary_numpy(np.logical_and, _xp_logical("logical_and")), batching="elementwise", ufunc="logical_and", method=True)


logical_or = nondifferentiable("logical_or", _binary_numpy(np.logical_or, _xp_logical("logical_or")), batching="elementwise", ufunc="logical_or", method=True)


def _xp_logical_not(space, x):
    return space.logical_not(B.astype(x, _bool))


def _logical_not(x):
    if type(x) is not B.ndarray and _foreign(x):  # masks are bool: no float32/float64 fast path
        return _xp_logical_not(B.namespace(x), x)
    return np.logical_not(x)


logical_not = nondifferentiable("logical_not", _logical_not, batching="elementwise", ufunc="logical_not", method=True, xp=_xp_logical_not)


isnan = nondifferentiable("isnan", _guarded(np.isnan, "isnan", lambda space, x: space.isnan(x)), batching="elementwise", ufunc="isnan", method=True)


isinf = nondifferentiable("isinf", _guarded(np.isinf, "isinf", lambda space, x: space.isinf(x)), batching="elementwise", ufunc="isinf", method=True)


isfinite = nondifferentiable("isfinite", _guarded(np.isfinite, "isfinite", lambda space, x: space.isfinite(x)), batching="elementwise", ufunc="isfinite", method=True)
