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

import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .core import dtypes as D
from .core.modes import no_grad
from .core.tensor import Tensor, _as_data

if TYPE_CHECKING:
    from ._typing import DTypeLike, TensorLike

__all__ = ["METHODS", "default_step", "derivative", "gradient", "relative_error"]

METHODS = {"forward": 1, "backward": 1, "central": 2, "richardson": 4}


def _check_method(op: str, method: str) -> int:
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"{op}: method must be one of {sorted(METHODS)}, got {method!r:.40}")
    return METHODS[method]


def _check_function(op: str, f: object) -> None:
    if not callable(f):
        raise TypeError(f"{op}: f must be a function (of a tensor), got {type(f).__name__} {f!r:.40}")


def _values(op: str, x: object, what: str = "x") -> np.ndarray:
    """``x`` (a number, nested list, array or tensor) as a new array of its own dtype; anything that
    is not real numbers raises an error naming ``op``."""
    if isinstance(x, Tensor):
        return np.array(x._data)
    if isinstance(x, (np.ndarray, np.generic)):
        why = D.unsupported(x.dtype)
        if why is not None:
            raise TypeError(f"{op}: {what} must hold real numbers, got an array of dtype {x.dtype} ({why})")
        return np.array(x)
    if isinstance(x, (list, tuple)) and any(isinstance(v, Tensor) for v in x):
        raise TypeError(f"{op}: {what} must be one tensor, array or number, got a {type(x).__name__} of "
                        f"tensors; join them first (cr.stack or cr.cat)")
    _as_data(x, copy=False, op=op)  # refuses None, strings, objects, complex, ragged lists
    return np.array(x)


def _positive_steps(op: str, h: object, shape: tuple[int, ...]) -> np.ndarray:
    if isinstance(h, Tensor):
        h = h._data
    if isinstance(h, (numbers.Real, np.ndarray, np.generic, list, tuple)) and not isinstance(h, bool):
        steps = _values(op, h, "h")
        if steps.dtype.kind in "iuf":
            steps = steps.astype(np.float64)
            if not (np.all(np.isfinite(steps)) and np.all(steps > 0)):
                raise ValueError(f"{op}: the step h must be positive and finite, got {h!r:.60}")
            try:
                return np.broadcast_to(steps, shape)
            except ValueError:
                raise ValueError(f"{op}: steps h of shape {steps.shape} do not match x of shape {shape}") from None
    raise TypeError(f"{op}: the step h must be a positive number (or an array of them), got {type(h).__name__} {h!r:.40}")


def default_step(x: TensorLike, method: str = "central", dtype: DTypeLike = None) -> np.ndarray:
    """The step ``h`` each method uses by default at ``x`` (elementwise for arrays)."""
    order = _check_method("default_step", method)
    values = _values("default_step", x)
    resolved = D.resolve(dtype, "default_step")  # None only when dtype is None
    if resolved is not None:
        if resolved.kind != "f":
            raise TypeError(f"default_step: dtype must be floating (its machine epsilon sets the step), got {resolved}")
    else:
        resolved = values.dtype if values.dtype.kind == "f" else np.dtype(np.float64)
    eps = np.finfo(resolved).eps
    scale = np.maximum(1.0, np.abs(values.astype(np.float64)))
    return (eps ** (1.0 / (order + 1))) * scale


def _as_float_array(x: object, op: str = "gradient") -> np.ndarray:
    values = _values(op, x)
    if values.dtype.kind != "f":
        values = values.astype(np.float64)
    return values


def _evaluate(f: Callable[[Tensor], Any], x: np.ndarray, op: str = "gradient") -> np.ndarray:
    """f at a copy of ``x`` that nothing else holds (f may change its input in place)."""
    with no_grad():
        out = f(Tensor._wrap(x))
    if isinstance(out, Tensor):
        values = out._data
    elif isinstance(out, (numbers.Real, np.ndarray, np.generic)) and not isinstance(out, bool):
        values = np.asarray(out)
    else:
        raise TypeError(
            f"{op}: f must return a tensor, an array or a number, got {type(out).__name__} {out!r:.40}"
        )
    why = D.unsupported(values.dtype)
    if why is not None:
        raise TypeError(f"{op}: f returned values of dtype {values.dtype} ({why}); it must return real numbers")
    return np.asarray(values, dtype=np.float64)


def _value_at(f: Callable[[Tensor], Any], x: np.ndarray, method: str, op: str = "gradient") -> np.ndarray | None:
    """f(x), which the one-sided methods use for every element: evaluated once by the caller."""
    return _evaluate(f, x.copy(), op) if method in ("forward", "backward") else None


def _difference(f: Callable[[Tensor], Any], x: np.ndarray, index: tuple[int, ...], h: float, method: str,
                fx: np.ndarray | None = None, op: str = "gradient") -> np.ndarray:
    def at(delta: float) -> np.ndarray:
        moved = x.copy()
        moved[index] += delta
        return _evaluate(f, moved, op)

    if method == "forward":
        return (at(h) - (at(0.0) if fx is None else fx)) / h
    if method == "backward":
        return ((at(0.0) if fx is None else fx) - at(-h)) / h
    central = (at(h) - at(-h)) / (2 * h)
    if method == "central":
        return central
    wide = (at(2 * h) - at(-2 * h)) / (4 * h)
    return (4 * central - wide) / 3


def derivative(f: Callable[[Tensor], Any], x: TensorLike, h: TensorLike | None = None,
               method: str = "central") -> float | np.ndarray:
    """d f / d x of a function of one scalar (values of ``f`` may be arrays: one derivative each).

    ``h`` defaults to :func:`default_step`; returns a float, or an array shaped like ``f(x)``.
    """
    _check_method("derivative", method)
    _check_function("derivative", f)
    values = _as_float_array(x, "derivative")
    if values.size != 1:
        raise ValueError(
            f"derivative: x must be a single number, got shape {values.shape}; use "
            f"cr.numerical.gradient for functions of several variables"
        )
    values = values.reshape(())
    if h is None:
        step = float(default_step(values, method))
    else:
        step = float(_positive_steps("derivative", h, ()))
    result = _difference(f, values, (), step, method, op="derivative")
    return float(result) if result.ndim == 0 else result


def gradient(f: Callable[[Tensor], Any], x: TensorLike, h: TensorLike | None = None,
             method: str = "central") -> np.ndarray:
    """The gradient of a scalar function ``f`` at ``x`` (an array of x's shape), one element at a time.

    For a function with array values, returns the Jacobian with shape ``f(x).shape + x.shape``.
    """
    _check_method("gradient", method)
    _check_function("gradient", f)
    values = _as_float_array(x, "gradient")
    steps = default_step(values, method) if h is None else _positive_steps("gradient", h, values.shape)
    fx = _value_at(f, values, method, "gradient")
    columns = []
    for index in np.ndindex(values.shape):
        columns.append(_difference(f, values, index, float(steps[index]), method, fx, "gradient"))
    if not columns:
        return np.zeros(values.shape)
    out_shape = columns[0].shape
    if any(c.shape != out_shape for c in columns):
        raise ValueError(
            f"gradient: f returned values of different shapes at nearby points "
            f"({sorted({c.shape for c in columns})}); it must return one shape"
        )
    stacked = np.stack(columns, axis=-1).reshape(out_shape + values.shape)
    return stacked


def relative_error(a: TensorLike, b: TensorLike) -> float:
    """The largest elementwise ``|a − b| / max(|a|, |b|)`` (0 where a and b are equal, inf where
    either is NaN or only one is infinite)."""
    a = _values("relative_error", a, "a").astype(np.float64)
    b = _values("relative_error", b, "b").astype(np.float64)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"relative_error: a of shape {a.shape} and b of shape {b.shape} do not broadcast") from None
    diff = np.abs(a - b)
    scale = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), 0.0)
    ratio = np.where(a == b, 0.0, ratio)  # equal infinities agree
    ratio = np.where(np.isnan(ratio) | np.isnan(a) | np.isnan(b), np.inf, ratio)  # inf against any other value
    return float(np.max(ratio)) if ratio.size else 0.0
