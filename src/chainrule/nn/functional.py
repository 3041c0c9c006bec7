"""``cr.nn.functional``: activations, softmax, losses, dropout, linear layers as functions."""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import backend as B
from ..core import tracing
from ..core.creation import drawn, generator
from ..core.dtypes import check_operand as _check_operand
from ..core.tensor import Tensor
from ..ops import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    matmul,
    mean,
    relu,
    sigmoid,
    softmax,
    softplus,
    sum,
    tanh,
)
from ..ops import piecewise as PW
from ..ops._define import named
from ..ops.elementwise import cast
from ..ops.neural import softmax_cross_entropy
from ..ops.shape import _data, _shape, permute

if TYPE_CHECKING:
    from .._typing import Operand, TensorLike

__all__ = [
    "relu", "leaky_relu", "elu", "gelu", "softplus", "sigmoid", "tanh", "softmax", "log_softmax",
    "linear", "mse_loss", "cross_entropy", "binary_cross_entropy_with_logits", "dropout",
]


def _reduce(op: str, losses: Any, reduction: str) -> Any:
    if reduction == "mean":
        return mean(losses)
    if reduction == "sum":
        return sum(losses)
    if reduction == "none":
        return losses
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def linear(input: TensorLike, weight: TensorLike, bias: TensorLike | None = None) -> Tensor:  # noqa: A002
    """``input @ weight.T + bias`` (weight of shape (out_features, in_features))."""
    input = _check_operand("linear", input, "input")
    weight = _check_operand("linear", weight, "weight")
    if bias is not None:
        bias = _check_operand("linear", bias, "bias")
    if len(_shape(weight)) not in (1, 2):
        raise RuntimeError(f"linear: weight must be 1-D or 2-D (out_features, in_features), got shape {_shape(weight)}")
    if bias is not None and _shape(bias) not in ((), _shape(weight)[:-1]):
        raise RuntimeError(f"linear: bias of shape {_shape(bias)} does not match weight of shape {_shape(weight)} "
                           f"(expected shape {_shape(weight)[:-1]})")
    ws = _shape(weight)
    if _shape(input)[-1:] != ws[-1:]:
        raise RuntimeError(
            f"linear: input of shape {_shape(input)} does not match weight of shape {ws} "
            f"(the input's last dimension must equal in_features = {ws[-1]})"
        )
    out = matmul(input, permute(weight, (1, 0)) if len(ws) == 2 else weight)
    return out if bias is None else out + bias


def mse_loss(input: TensorLike, target: TensorLike, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean squared error ``(input - target)²`` reduced by ``reduction``."""
    input = _check_operand("mse_loss", input, "input")
    target = _check_operand("mse_loss", target, "target")
    if _shape(input) != _shape(target):
        raise ValueError(
            f"mse_loss: input shape {_shape(input)} and target shape {_shape(target)} differ; "
            f"broadcasting here is almost always a bug, reshape one of them"
        )
    dtype = B.result_dtype(_data(input), _data(target))
    if dtype.kind == "c":
        raise TypeError(f"mse_loss: not defined for complex tensors (got dtype {dtype}), as in PyTorch; "
                        f"use ((input - target).abs() ** 2).mean()")
    if dtype.kind != "b":  # PyTorch computes in the promoted dtype: a bool operand is taken in it
        input, target = (cast(v, dtype=dtype) if B.dtype_of(_data(v)).kind == "b" else v for v in (input, target))
    diff = named("mse_loss", operator.sub, input, target)
    return _reduce("mse_loss", diff * diff, reduction)


def cross_entropy(input: TensorLike, target: TensorLike, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Softmax cross-entropy of logits ``input`` (N, C, ...) against class indices ``target`` (N, ...)
    or class probabilities of the same shape as ``input``."""
    input = _check_operand("cross_entropy", input, "input")
    target = _check_operand("cross_entropy", target, "target")
    shape = _shape(input)
    labels = _data(target)
    class_dim = 0 if len(shape) == 1 else 1
    if B.kind(labels.dtype) == "f":
        if labels.shape != shape:
            raise ValueError(f"cross_entropy: probability targets must have the input's shape {shape}, got {labels.shape}")
        losses = -sum(target * log_softmax(input, class_dim), class_dim)
        return _reduce("cross_entropy", losses, reduction)
    if B.kind(labels.dtype) not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class indices (or float probabilities), got dtype {labels.dtype}")
    expected = shape[:class_dim] + shape[class_dim + 1:]
    if labels.shape != expected:
        raise ValueError(
            f"cross_entropy: for input of shape {shape} the target must have shape {expected}, got {labels.shape}"
        )
    n_classes = shape[class_dim]
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise IndexError(
            f"cross_entropy: target holds class {int(labels.min()) if labels.min() < 0 else int(labels.max())} "
            f"but the input has {n_classes} classes (valid: 0..{n_classes - 1})"
        )
    losses = softmax_cross_entropy(input, labels.astype(np.intp, copy=False), dim=class_dim)
    return _reduce("cross_entropy", losses, reduction)


def binary_cross_entropy_with_logits(input: TensorLike, target: TensorLike, reduction: str = "mean",  # noqa: A002
                                     pos_weight: TensorLike | None = None) -> Tensor:
    """``-[y log σ(x) + (1 - y) log(1 - σ(x))]``, computed stably from logits ``x``."""
    input = _check_operand("binary_cross_entropy_with_logits", input, "input")
    target = _check_operand("binary_cross_entropy_with_logits", target, "target")
    if pos_weight is not None:
        pos_weight = _check_operand("binary_cross_entropy_with_logits", pos_weight, "pos_weight")
    if _shape(input) != _shape(target):
        raise ValueError(f"binary_cross_entropy_with_logits: input shape {_shape(input)} and target shape {_shape(target)} differ")
    _bce_check(input, target, pos_weight)
    # log(1 + exp(x)) without softplus's linear tail (threshold): PyTorch's formula is exact there.
    if pos_weight is None:
        losses = PW.softplus(input, beta=1.0, threshold=None) - input * target
    else:
        losses = (1 - target) * input + (1 + (pos_weight - 1) * target) * PW.softplus(-input, beta=1.0, threshold=None)
    return _reduce("binary_cross_entropy_with_logits", losses, reduction)


def _bce_check(input: Operand, target: Operand, pos_weight: Operand | None) -> None:  # noqa: A002
    """PyTorch's refusals: logits, targets and weights are floating; one weight per class (the
    weights broadcast to the input's shape without changing it)."""
    op = "binary_cross_entropy_with_logits"
    named = (("input", input), ("target", target)) + ((("pos_weight", pos_weight),) if pos_weight is not None else ())
    for name, value in named:
        dtype = _data(value).dtype
        if B.kind(dtype) != "f":
            raise RuntimeError(f"{op}: {name} must be a floating tensor, got dtype {dtype}; convert it, e.g. {name}.float()")
    if pos_weight is not None:
        shape, weights = _shape(input), _shape(pos_weight)
        try:
            fits = np.broadcast_shapes(weights, shape) == tuple(shape)
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"{op}: pos_weight of shape {weights} does not broadcast to the input's shape {shape}; give one "
                f"weight per class (the last dimension), e.g. shape ({shape[-1] if shape else 1},)"
            )


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:  # noqa: A002
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (training only)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout: input must be a tensor, got {type(input).__name__} {input!r:.40}")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a number between 0 and 1, got {p!r:.40}")
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"dropout: training must be True or False, got {type(training).__name__}")
    if not training or p == 0.0:
        return input
    data = _data(input)
    if p == 1.0:
        return input * np.zeros_like(data)
    if tracing.active[0] and tracing.current() is not None:  # cr.jit: the same numbers through the table
        draws = Tensor._wrap(drawn("dropout", lambda g: g.random(data.shape)))
        return input * ((draws >= p).to(data.dtype) * (1.0 / (1.0 - p)))
    keep = generator("dropout").random(data.shape) >= p
    return input * (keep.astype(data.dtype) * (1.0 / (1.0 - p)))


