"""Activation functions with parameters, checked here and computed by the primitives of
``elementwise`` and ``neural``."""

from __future__ import annotations

from ..core import dtypes as _dtypes
from ..core.dtypes import check_operand as _check_operand
from ..core.dtypes import check_real as _check_real
from . import elementwise as _E
from . import neural as _N
from . import piecewise as PW
from . import shape as _S
from ._table import public


@public(method=True, cli=1)
def leaky_relu(input, negative_slope: float = 0.01):  # noqa: A002
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise."""
    _check_operand("leaky_relu", input, "input")
    _check_real("leaky_relu", "negative_slope", negative_slope)
    return PW.leaky_relu(input, negative_slope=float(negative_slope))


@public(method=True, cli=1)
def elu(input, alpha: float = 1.0):  # noqa: A002
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""
    _check_operand("elu", input, "input")
    _check_real("elu", "alpha", alpha)
    return PW.elu(input, alpha=float(alpha))


@public(method=True, cli=1)
def softplus(input, beta: float = 1.0, threshold: float = 20.0):  # noqa: A002
    """``log(1 + exp(beta x)) / beta``, computed without overflow; ``x`` itself where
    ``beta x > threshold`` (PyTorch's linear tail)."""
    _check_operand("softplus", input, "input")
    _check_real("softplus", "beta", beta)
    _check_real("softplus", "threshold", threshold)
    return PW.softplus(input, beta=float(beta), threshold=float(threshold))


@public(method=True, cli=1)
def gelu(input, approximate: str = "none"):  # noqa: A002
    """Gaussian error linear unit: ``x Φ(x)`` (or its tanh approximation)."""
    _check_operand("gelu", input, "input")
    if _S._dtype(input).kind != "f":  # PyTorch refuses integer and bool tensors
        _E._require_float("gelu", _S._data(input))
    if approximate == "tanh":
        inner = 0.7978845608028654 * (input + 0.044715 * input * input * input)
        return 0.5 * input * (1.0 + _E.tanh(inner))
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * input * (1.0 + _E.erf(input * 0.7071067811865476))


@public(method=True)
def softmax(input, dim: int | None = None, dtype=None):  # noqa: A002
    """``exp(x) / sum(exp(x))`` along ``dim``, computed stably."""
    return _along_dim("softmax", _N.softmax_prim, input, dim, dtype)


@public(method=True)
def log_softmax(input, dim: int | None = None, dtype=None):  # noqa: A002
    """``x - logsumexp(x)`` along ``dim``, computed stably."""
    return _along_dim("log_softmax", _N.log_softmax_prim, input, dim, dtype)


def _along_dim(op, prim, input, dim, dtype):  # noqa: A002
    """``prim`` along ``dim`` (required, as PyTorch now requires), in ``dtype`` when given."""
    _check_operand(op, input, "input")
    _dtypes.resolve(dtype, op)
    input = _prepare_dim_op(op, input, dim, dtype)
    return prim(input, dim=_S.normalize_dim(op, dim, _S._ndim(input)))


def _prepare_dim_op(op, input, dim, dtype):  # noqa: A002
    if dim is None:
        raise TypeError(f"{op}: dim must be given (e.g. {op}(x, dim=-1)); PyTorch's implicit choice is deprecated")
    if dtype is not None:
        input = _E.cast(input, dtype=dtype)
    return input
