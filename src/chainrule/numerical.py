"""Numerical differentiation: finite differences of four orders, and their comparison with autodiff.

=============  ======================================  ===========
method         formula                                 error
=============  ======================================  ===========
``forward``    D+ = (f(x + h) − f(x)) / h              O(h)
``backward``   D− = (f(x) − f(x − h)) / h              O(h)
``central``    D0 = (f(x + h) − f(x − h)) / 2h         O(h²)
``richardson`` (4·D0(h) − D0(2h)) / 3                  O(h⁴)
=============  ======================================  ===========

The default step balances truncation against rounding for each method: ``h = c · ε^(1/(p+1)) ·
max(1, |x|)`` with ε the machine epsilon of x's dtype and p the method's order.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .grad_mode import no_grad
from .tensor import Tensor

METHODS = {"forward": 1, "backward": 1, "central": 2, "richardson": 4}


def _check_method(op: str, method: str) -> int:
    if method not in METHODS:
        raise ValueError(f"{op}: method must be one of {sorted(METHODS)}, got {method!r}")
    return METHODS[method]


def default_step(x, method: str = "central", dtype=None) -> np.ndarray:
    """The step ``h`` each method uses by default at ``x`` (elementwise for arrays)."""
    order = _check_method("default_step", method)
    values = np.asarray(x.detach() if isinstance(x, Tensor) else x)
    dtype = np.dtype(dtype) if dtype is not None else (values.dtype if values.dtype.kind == "f" else np.dtype(np.float64))
    eps = np.finfo(dtype).eps
    scale = np.maximum(1.0, np.abs(values.astype(np.float64)))
    return (eps ** (1.0 / (order + 1))) * scale


def _as_float_array(x) -> np.ndarray:
    values = np.array(x.detach() if isinstance(x, Tensor) else x)
    if values.dtype.kind != "f":
        values = values.astype(np.float64)
    return values


def _evaluate(f: Callable, x: np.ndarray) -> np.ndarray:
    """f at a copy of ``x`` that nothing else holds (f may change its input in place)."""
    with no_grad():
        out = f(Tensor._wrap(x))
    return np.asarray(out.detach() if isinstance(out, Tensor) else out, dtype=np.float64)


def _value_at(f: Callable, x: np.ndarray, method: str):
    """f(x), which the one-sided methods use for every element: evaluated once by the caller."""
    return _evaluate(f, x.copy()) if method in ("forward", "backward") else None


def _difference(f: Callable, x: np.ndarray, index, h: float, method: str, fx=None) -> np.ndarray:
    def at(delta):
        moved = x.copy()
        moved[index] += delta
        return _evaluate(f, moved)

    if method == "forward":
        return (at(h) - (at(0.0) if fx is None else fx)) / h
    if method == "backward":
        return ((at(0.0) if fx is None else fx) - at(-h)) / h
    central = (at(h) - at(-h)) / (2 * h)
    if method == "central":
        return central
    wide = (at(2 * h) - at(-2 * h)) / (4 * h)
    return (4 * central - wide) / 3


def derivative(f: Callable, x, h=None, method: str = "central"):
    """d f / d x of a function of one scalar (values of ``f`` may be arrays: one derivative each).

    ``h`` defaults to :func:`default_step`; returns a float, or an array shaped like ``f(x)``.
    """
    _check_method("derivative", method)
    values = _as_float_array(x)
    if values.size != 1:
        raise ValueError(
            f"derivative: x must be a single number, got shape {values.shape}; use "
            f"cr.numerical.gradient for functions of several variables"
        )
    values = values.reshape(())
    step = float(default_step(values, method)) if h is None else float(h)
    result = _difference(f, values, (), step, method)
    return float(result) if result.ndim == 0 else result


def gradient(f: Callable, x, h=None, method: str = "central") -> np.ndarray:
    """The gradient of a scalar function ``f`` at ``x`` (an array of x's shape), one element at a time.

    For a function with array values, returns the Jacobian with shape ``f(x).shape + x.shape``.
    """
    _check_method("gradient", method)
    values = _as_float_array(x)
    steps = default_step(values, method) if h is None else np.broadcast_to(np.asarray(h, dtype=np.float64), values.shape)
    fx = _value_at(f, values, method)
    columns = []
    for index in np.ndindex(values.shape):
        columns.append(_difference(f, values, index, float(steps[index]), method, fx))
    if not columns:
        return np.zeros(values.shape)
    out_shape = columns[0].shape
    stacked = np.stack(columns, axis=-1).reshape(out_shape + values.shape)
    return stacked


def relative_error(a, b) -> float:
    """The largest elementwise ``|a − b| / max(|a|, |b|)`` (0 where both are 0)."""
    a = np.asarray(a.detach() if isinstance(a, Tensor) else a, dtype=np.float64)
    b = np.asarray(b.detach() if isinstance(b, Tensor) else b, dtype=np.float64)
    diff = np.abs(a - b)
    scale = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), 0.0)
    ratio = np.where(np.isnan(a) | np.isnan(b), np.inf, ratio)
    return float(np.max(ratio)) if ratio.size else 0.0
