"""The operation table (``PRIMITIVES``) and the public functions built on it."""

from __future__ import annotations

import types as _types

from . import elementwise as _E
from . import linalg as _L
from . import neural as _N
from . import reductions as _R
from . import shape as _S
from ._primitive import PRIMITIVES, Primitive
from ..dtypes import check_operand as _check_operand
from ..dtypes import check_real as _check_real
from .. import dtypes as _dtypes
from .elementwise import (
    abs, add, arccos, arcsin, arctan, ceil, cos, cosh, div, eq, erf, exp, expm1, floor, ge, gt,
    isfinite, isinf, isnan, le, log, log1p, log2, log10, logical_and, logical_not, logical_or, lt,
    maximum, minimum, mul, ne, neg, pow, reciprocal, relu, round, rsqrt, sigmoid, sign, sin, sinh,
    sqrt, square, sub, tan, tanh, where,
)
from .linalg import dot, einsum, matmul, mm, mv, outer, trace
from .reductions import (
    amax, amin, argmax, argmin, cumprod, cumsum, logsumexp, max, mean, min, norm, prod, std, sum,
    var,
)
from .shape import (
    broadcast_to, cat, chunk, clone, concat, concatenate, diagonal, expand, expand_as, flatten,
    flip, gather, index_select, masked_fill, narrow, pad, permute, repeat, reshape, split, squeeze, stack,
    swapaxes, t, tile, transpose, unbind, unsqueeze, view,
)

absolute = abs
asin, acos, atan = arcsin, arccos, arctan
divide, true_divide = div, div
multiply, subtract, negative = mul, sub, neg


def clamp(input, min=None, max=None):  # noqa: A002, F811
    """Limit values to ``[min, max]``; the gradient passes where ``min <= x <= max``.

    With tensor bounds the gradient goes to x where it is inside (ties included), to a bound
    where x is beyond it, and nowhere at NaN (PyTorch's ``clamp_backward_min_max``).
    """
    _check_operand("clamp", input, "input")
    for _bound, _name in ((min, "min"), (max, "max")):
        if _bound is not None:
            _check_operand("clamp", _bound, _name)
    from ..tensor import Tensor
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return _E.clamp_tensor(input, min, max)
    return _E.clamp(input, min=min, max=max)


clip = clamp


def leaky_relu(input, negative_slope: float = 0.01):  # noqa: A002
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise."""
    _check_operand("leaky_relu", input, "input")
    _check_real("leaky_relu", "negative_slope", negative_slope)
    return _E.leaky_relu(input, negative_slope=float(negative_slope))


def elu(input, alpha: float = 1.0):  # noqa: A002
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""
    _check_operand("elu", input, "input")
    _check_real("elu", "alpha", alpha)
    return _E.elu(input, alpha=float(alpha))


def softplus(input, beta: float = 1.0, threshold: float = 20.0):  # noqa: A002
    """``log(1 + exp(beta x)) / beta``, computed without overflow; ``x`` itself where
    ``beta x > threshold`` (PyTorch's linear tail)."""
    _check_operand("softplus", input, "input")
    _check_real("softplus", "beta", beta)
    _check_real("softplus", "threshold", threshold)
    return _E.softplus(input, beta=float(beta), threshold=float(threshold))


def gelu(input, approximate: str = "none"):  # noqa: A002
    """Gaussian error linear unit: ``x Φ(x)`` (or its tanh approximation)."""
    _check_operand("gelu", input, "input")
    if _S._data(input).dtype.kind != "f":  # PyTorch refuses integer and bool tensors
        _E._require_float("gelu", _S._data(input))
    if approximate == "tanh":
        inner = 0.7978845608028654 * (input + 0.044715 * input * input * input)
        return 0.5 * input * (1.0 + tanh(inner))
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * input * (1.0 + erf(input * 0.7071067811865476))


def softmax(input, dim: int | None = None, dtype=None):  # noqa: A002
    """``exp(x) / sum(exp(x))`` along ``dim``, computed stably."""
    _check_operand("softmax", input, "input")
    _dtypes.resolve(dtype, "softmax")
    input = _prepare_dim_op("softmax", input, dim, dtype)
    return _N.softmax_prim(input, dim=_S.normalize_dim("softmax", dim, _S._ndim(input)))


def log_softmax(input, dim: int | None = None, dtype=None):  # noqa: A002
    """``x - logsumexp(x)`` along ``dim``, computed stably."""
    _check_operand("log_softmax", input, "input")
    _dtypes.resolve(dtype, "log_softmax")
    input = _prepare_dim_op("log_softmax", input, dim, dtype)
    return _N.log_softmax_prim(input, dim=_S.normalize_dim("log_softmax", dim, _S._ndim(input)))


def _prepare_dim_op(op, input, dim, dtype):  # noqa: A002
    if dim is None:
        raise TypeError(f"{op}: dim must be given (e.g. {op}(x, dim=-1)); PyTorch's implicit choice is deprecated")
    if dtype is not None:
        input = _E.cast(input, dtype=dtype)
    return input


def rsub(input, other):  # noqa: A002
    _check_operand("rsub", input, "input")
    _check_operand("rsub", other, "other")
    if _S._data(input).dtype == bool or _S._data(other).dtype == bool:
        raise RuntimeError("rsub: subtraction with a bool tensor is not supported (as in PyTorch); to "
                           "invert a mask use ~mask or cr.logical_not(mask)")
    try:
        return sub(other, input)
    except ValueError:
        _E._check_broadcast("rsub", other, input)
        raise


__all__ = [name for name, value in dict(globals()).items()
           if not name.startswith("_") and not isinstance(value, _types.ModuleType)]
