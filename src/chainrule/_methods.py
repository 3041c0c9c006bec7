"""Tensor methods and operators, attached once at import from the public functions."""

from __future__ import annotations

import numpy as np

from . import dtypes as D
from . import ops as O
from .ops import elementwise as E
from .ops import inplace as I
from .ops import shape as S
from .tensor import Tensor

_add, _sub, _mul, _div, _pow = E.add, E.sub, E.mul, E.div, E.pow


def _binary_operators():
    def __add__(self, other):
        return _add(self, other)

    def __radd__(self, other):
        return _add(other, self)

    def __sub__(self, other):
        return _sub(self, other)

    def __rsub__(self, other):
        return _sub(other, self)

    def __mul__(self, other):
        return _mul(self, other)

    def __rmul__(self, other):
        return _mul(other, self)

    def __truediv__(self, other):
        return _div(self, other)

    def __rtruediv__(self, other):
        return _div(other, self)

    def __pow__(self, other):
        return _pow(self, other)

    def __rpow__(self, other):
        return _pow(other, self)

    def __matmul__(self, other):
        return O.matmul(self, other)

    def __rmatmul__(self, other):
        return O.matmul(other, self)

    def __neg__(self):
        return E.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return E.abs(self)

    def __lt__(self, other):
        return E.lt(self, other)

    def __le__(self, other):
        return E.le(self, other)

    def __gt__(self, other):
        return E.gt(self, other)

    def __ge__(self, other):
        return E.ge(self, other)

    def __eq__(self, other):
        return E.eq(self, other)

    def __ne__(self, other):
        return E.ne(self, other)

    def __and__(self, other):
        return E.logical_and(self, other)

    def __or__(self, other):
        return E.logical_or(self, other)

    def __invert__(self):
        return E.logical_not(self)

    def __getitem__(self, key):
        return S.index(self, key)

    def __setitem__(self, key, value):
        I.setitem(self, key, value)

    def __iadd__(self, other):
        return I.apply_inplace("add_", self, _add, other)

    def __isub__(self, other):
        return I.apply_inplace("sub_", self, _sub, other)

    def __imul__(self, other):
        return I.apply_inplace("mul_", self, _mul, other)

    def __itruediv__(self, other):
        return I.apply_inplace("div_", self, _div, other)

    return {k: v for k, v in locals().items() if k.startswith("__")}


def _inplace_methods():
    def add_(self, other, alpha=1):
        return I.apply_inplace("add_", self, _add, other if alpha == 1 else _mul(other, alpha))

    def sub_(self, other, alpha=1):
        return I.apply_inplace("sub_", self, _sub, other if alpha == 1 else _mul(other, alpha))

    def mul_(self, other):
        return I.apply_inplace("mul_", self, _mul, other)

    def div_(self, other):
        return I.apply_inplace("div_", self, _div, other)

    def clamp_(self, min=None, max=None):  # noqa: A002
        return I.apply_inplace("clamp_", self, E.clamp, min=min, max=max)

    def zero_(self):
        return I.zero_(self)

    def fill_(self, value):
        return I.fill_(self, value)

    def copy_(self, src):
        return I.copy_(self, src)

    return dict(add_=add_, sub_=sub_, mul_=mul_, div_=div_, clamp_=clamp_, zero_=zero_,
                fill_=fill_, copy_=copy_)


_METHODS = [
    # elementwise
    "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "square", "reciprocal",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "asin", "acos", "atan", "sinh", "cosh",
    "tanh", "sigmoid", "relu", "leaky_relu", "elu", "gelu", "softplus", "erf", "sign", "floor",
    "ceil", "round", "clamp", "clip", "maximum", "minimum", "abs", "neg", "add", "sub", "mul",
    "div", "pow", "matmul", "isnan", "isinf", "isfinite",
    # reductions
    "sum", "mean", "prod", "max", "min", "amax", "amin", "var", "std", "norm", "logsumexp",
    "cumsum", "cumprod", "argmax", "argmin",
    # linear algebra
    "dot", "mv", "mm", "outer", "trace",
    # shape
    "reshape", "view", "flatten", "transpose", "permute", "squeeze", "unsqueeze", "expand",
    "expand_as", "broadcast_to", "flip", "repeat", "tile", "split", "chunk", "unbind", "gather",
    "index_select", "masked_fill", "diagonal", "narrow", "clone", "t", "swapaxes", "softmax", "log_softmax",
]


def _method(function):
    def method(self, *args, **kwargs):
        return function(self, *args, **kwargs)

    method.__name__ = getattr(function, "__name__", None) or function.name
    method.__doc__ = function.__doc__
    return method


def _conversions():
    def to(self, dtype=None, *args, **kwargs):
        """A tensor of ``dtype`` (itself when it already is); devices other than 'cpu' are refused."""
        dtype = kwargs.pop("dtype", dtype)
        if isinstance(dtype, str) and dtype in ("cpu",):
            return self
        if dtype is None:
            return self
        dtype = D.resolve(dtype)
        return self if dtype == self._data.dtype else E.cast(self, dtype=dtype)

    def type(self, dtype=None):  # noqa: A001
        if dtype is None:
            return f"chainrule.{self._data.dtype.name}"
        return to(self, dtype)

    def float(self):  # noqa: A001
        return to(self, D.float32)

    def double(self):
        return to(self, D.float64)

    def half(self):
        return to(self, D.float16)

    def long(self):
        return to(self, D.int64)

    def int(self):  # noqa: A001
        return to(self, D.int32)

    def bool(self):  # noqa: A001
        return to(self, D.bool)

    def contiguous(self):
        return self

    def cpu(self):
        return self

    def all(self, dim=None):
        return Tensor._wrap(np.asarray(np.all(self._data, axis=dim)))

    def any(self, dim=None):
        return Tensor._wrap(np.asarray(np.any(self._data, axis=dim)))

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    return dict(to=to, type=type, float=float, double=double, half=half, long=long, int=int,
                bool=bool, contiguous=contiguous, cpu=cpu, all=all, any=any,
                is_floating_point=is_floating_point)


def install() -> None:
    for name, fn in _binary_operators().items():
        setattr(Tensor, name, fn)
    for name, fn in _inplace_methods().items():
        setattr(Tensor, name, fn)
    for name in _METHODS:
        setattr(Tensor, name, _method(getattr(O, name)))
    for name, fn in _conversions().items():
        setattr(Tensor, name, fn)
    from . import _interop
    Tensor.__array_ufunc__ = _interop.array_ufunc
    Tensor.__array_function__ = _interop.array_function

