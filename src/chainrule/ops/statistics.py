"""Statistics and norms, composites of the reductions: var, std, norm, logsumexp."""

from __future__ import annotations

import builtins

import numpy as np

from ..core import backend as B
from ..core import dtypes as D
from ..core.dtypes import check_operand as _check_operand
from . import _template as T
from ._define import define
from ._table import public
from .elementwise import _require_float, cast, complex_unsupported, sqrt
from .extrema import amax_prim, amin_prim
from .piecewise import abs as abs_
from .piecewise import where
from .reductions import (
    _count,
    _dims,
    _f16,
    _f32,
    _f64,
    _floating_only,
    _keep,
    _keepdim,
    _logsumexp_xp,
    _norm2_xp,
    _norm_p_xp,
    mean_prim,
    sum_prim,
)
from .shape import _ndim, _shape


def _in_float32(fn, op, input, *args, **kwargs):  # noqa: A002
    """``fn(input, ...)`` for a floating ``input``; float16 computed in float32 and cast back
    (PyTorch's upcast: no float16 overflow of squares, no float16 running sums)."""
    if _floating_only(op, input) is _f16:
        return cast(fn(cast(input, dtype=_f32), *args, **kwargs), dtype=_f16)
    return fn(input, *args, **kwargs)


def _correction(op, correction, unbiased):
    if unbiased is not None and not isinstance(unbiased, (bool, B.bool_)):
        raise TypeError(f"{op}: unbiased must be a bool, got {type(unbiased).__name__} {unbiased!r:.40}")
    if correction is None:
        return 1 if unbiased is None else int(bool(unbiased))
    return correction


def _var(input, dims, correction, keepdim):  # noqa: A002
    n = _count(_shape(input), dims)
    centered = input - mean_prim(input, dim=dims, keepdim=True)
    return sum_prim(centered * centered, dim=dims, keepdim=keepdim) / builtins.max(n - correction, 0)


@public(method=True, numpy="var")
def var(input, dim=None, correction=None, keepdim: bool = False, *, unbiased=None):  # noqa: A002
    """Variance over ``dim`` with ``correction`` (1 by default: the unbiased estimate).

    Floating tensors only (as PyTorch); float16 is computed in float32.
    """
    _check_operand("var", input, "input")
    dims = _dims("var", dim, _ndim(input))
    return _in_float32(_var, "var", input, dims, _correction("var", correction, unbiased), _keepdim("var", keepdim))


def _std(input, dims, correction, keepdim):  # noqa: A002
    v = _var(input, dims, correction, keepdim)
    # PyTorch's std_backward: gradient 0 where the std is 0 (a constant input), not 0 * inf.
    # The square root of 1 there keeps its derivative finite at any order.
    zero = v == 0
    return where(zero, 0.0, sqrt(where(zero, 1.0, v)))


@public(method=True, numpy="std")
def std(input, dim=None, correction=None, keepdim: bool = False, *, unbiased=None):  # noqa: A002
    """Standard deviation: the square root of ``var``.

    Its gradient is 0 where the standard deviation is 0 (a constant input), as PyTorch's, where
    the chain rule through the square root would give 0 · inf = NaN.
    """
    _check_operand("std", input, "input")
    dims = _dims("std", dim, _ndim(input))
    return _in_float32(_std, "std", input, dims, _correction("std", correction, unbiased), _keepdim("std", keepdim))


def _norm2_weights(m, ans, x, dim, keepdim):
    """``x / ‖x‖``, with 0 where the norm is 0."""
    a = _keep(m, ans, x.shape, dim, keepdim)
    safe = m.where(a == 0, 1.0, a)
    return m.where(a == 0, 0.0, x / safe)


def _norm2_vjp(m, g, ans, x, dim, keepdim):
    return _keep(m, g, x.shape, dim, keepdim) * _norm2_weights(m, ans, x, dim, keepdim)


def _norm2_jvp(m, tangents, ans, x, dim, keepdim):
    return m.sum(tangents[0] * _norm2_weights(m, ans, x, dim, keepdim), dim=dim, keepdim=keepdim)


def _norm2_impl(x, dim, keepdim):
    dt = x.dtype
    if dt is not _f32 and dt is not _f64:
        if dt is _f16:
            return _norm2_impl(x.astype(_f32), dim, keepdim).astype(_f16)
        _require_float("norm", x)
    return np.sqrt(np.add.reduce(x * x, axis=dim, keepdims=keepdim))


norm2_prim = define("norm2", _norm2_impl, (_norm2_vjp,), _norm2_jvp, save_ans=True, batching="reduce", template=T.Template(
        lambda p, k, v: f"np.sqrt(np.sum({p[0]} * {p[0]}{T.axis(k['dim'])}{T.keep(k['keepdim'])}))",
        (T.MUL + 1,), repeats=True), xp=_norm2_xp)


def _norm_p_impl(x, p, dim, keepdim):
    dt = x.dtype
    if dt is not _f32 and dt is not _f64:
        if dt is _f16:
            return _norm_p_impl(x.astype(_f32), p, dim, keepdim).astype(_f16)
        _require_float("norm", x)
    return np.add.reduce(np.abs(x) ** p, axis=dim, keepdims=keepdim) ** (1.0 / p)


def _norm_p_weights(m, ans, x, p, dim, keepdim):
    """∂‖x‖_p/∂x = sign(x) |x|^(p-1) / ‖x‖^(p-1), with PyTorch's zeros (norm_backward): 0 where
    the norm is 0, and for p < 1 also where x is 0 (|x|^(p-1) = inf there). The masked inputs are
    replaced by 1 before the power, so no branch is infinite and higher orders stay finite."""
    a = _keep(m, ans, x.shape, dim, keepdim)
    zero_norm = a == 0
    scale = m.where(zero_norm, 0.0, m.where(zero_norm, 1.0, a) ** (1.0 - p))
    magnitude = m.abs(x)
    if p < 1:
        zero = x == 0
        powered = m.where(zero, 0.0, m.where(zero, 1.0, magnitude) ** (p - 1.0))
    else:
        powered = magnitude ** (p - 1.0)
    return m.sign(x) * powered * scale


norm_p_prim = define(
    "norm_p", _norm_p_impl,
    (lambda m, g, ans, x, p, dim, keepdim:
        _keep(m, g, x.shape, dim, keepdim) * _norm_p_weights(m, ans, x, p, dim, keepdim),),
    lambda m, tangents, ans, x, p, dim, keepdim:
        m.sum(tangents[0] * _norm_p_weights(m, ans, x, p, dim, keepdim), dim=dim, keepdim=keepdim),
    save_ans=True, batching="reduce",
    doc="``sum(|x|^p) ** (1/p)`` over ``dim`` for p other than 1, 2 and ±inf", xp=_norm_p_xp
)


@public(method=True)
def norm(input, p=2, dim=None, keepdim: bool = False):  # noqa: A002
    """Vector p-norm over ``dim`` (all elements when None); ``p`` may be ``inf`` or ``'fro'``.

    Floating tensors only (as PyTorch); float16 is computed in float32. Gradients at zero are
    PyTorch's: 0 where the norm is 0 (any p), and 0 at zero elements for p < 1.
    """
    _check_operand("norm", input, "input")
    dims = _dims("norm", dim, _ndim(input))
    keepdim = _keepdim("norm", keepdim)
    _floating_only("norm", input)
    if p in (2, 2.0, "fro", None):
        return norm2_prim(input, dim=dims, keepdim=keepdim)
    if p in (float("inf"), "inf"):
        return amax_prim(abs_(input), dim=dims, keepdim=keepdim, nan=True)
    if p in (float("-inf"), "-inf"):
        return amin_prim(abs_(input), dim=dims, keepdim=keepdim, nan=True)
    if p == 1:
        return sum_prim(abs_(input), dim=dims, keepdim=keepdim)
    if not isinstance(p, (int, float)) or p <= 0:
        raise ValueError(f"norm: p must be a positive number, inf, -inf or 'fro', got {p!r}")
    return norm_p_prim(input, p=float(p), dim=dims, keepdim=keepdim)


def _logsumexp_impl(x, dim, keepdim):
    dt = x.dtype
    if dt is _f16:  # exponentials summed in float32, as PyTorch
        return _logsumexp_impl(x.astype(_f32), dim, keepdim).astype(_f16)
    if dt.kind != "f":
        if dt.kind == "c":
            raise complex_unsupported("logsumexp", dt)
        x = x.astype(D.get_default_dtype())  # integers: the default float dtype, as PyTorch
    top = np.amax(x, axis=dim, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    out = np.log(np.sum(np.exp(x - top), axis=dim, keepdims=True)) + top
    return out if keepdim else np.squeeze(out, axis=dim) if dim is not None else out.reshape(())


def _logsumexp_weights(m, ans, x, dim, keepdim):
    return m.exp(x - _keep(m, ans, x.shape, dim, keepdim))


logsumexp_prim = define(
    "logsumexp", _logsumexp_impl,
    (lambda m, g, ans, x, dim, keepdim: _keep(m, g, x.shape, dim, keepdim) * _logsumexp_weights(m, ans, x, dim, keepdim),),
    lambda m, tangents, ans, x, dim, keepdim: m.sum(tangents[0] * _logsumexp_weights(m, ans, x, dim, keepdim),
                                                    dim=dim, keepdim=keepdim),
    save_ans=True,
    batching="reduce", xp=_logsumexp_xp
)


@public(method=True)
def logsumexp(input, dim=None, keepdim: bool = False):  # noqa: A002
    """``log(sum(exp(input)))`` over ``dim``, computed without overflow."""
    _check_operand("logsumexp", input, "input")
    return logsumexp_prim(input, dim=_dims("logsumexp", dim, _ndim(input)), keepdim=_keepdim("logsumexp", keepdim))
