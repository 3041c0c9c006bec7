"""Piecewise functions and activations: relu, leaky_relu, elu, softplus, abs, sign, floor,
ceil, round, clamp, maximum, minimum, where (PyTorch's choices at the kinks)."""

from __future__ import annotations

import numpy as np

from ..core import backend as B
from ..core import dtypes as D
from ..core.tensor import Tensor
from . import _template as T
from ._define import define, elementwise
from ._table import public
from .elementwise import (
    _bool,
    _check_broadcast,
    _f32,
    _f64,
    _promoted,
    _real,
    _require_float,
    _torch_promotion,
    _torch_result,
)


def _relu(x):
    try:
        kind = x.dtype.kind
    except AttributeError:  # an array of another namespace
        return _relu_xp(B.namespace(x), x)
    if kind == "b" or kind == "c":  # PyTorch refuses bool; complex has no order
        _require_float("relu", x)
    return np.maximum(x, 0)


def _relu_xp(space, x):
    if B.kind(x.dtype) in "bc":
        _require_float("relu", x)
    return space.maximum(x, space.zeros_like(x))


# ``ans != 0`` is ``x > 0`` except at NaN, where (as PyTorch's threshold_backward) the gradient
# passes: relu(NaN) = NaN, never negative, so ``!= 0`` is one comparison, like ``> 0``.
relu = elementwise("relu", _relu, lambda m, ans, x: ans != 0, uses="ans", xp=_relu_xp,
                   doc="max(x, 0); gradient 1 for x > 0, 0 at and below 0, and 1 at NaN (PyTorch's)", method=True, cli=1, template=T.Template(lambda p, k, v: f"np.maximum({p[0]}, 0)"))


def _leaky_relu(x, negative_slope=0.01):
    if x.dtype.kind != "f":
        _require_float("leaky_relu", x)
    return np.where(x > 0, x, x * negative_slope)


def _leaky_relu_xp(space, x, negative_slope=0.01):
    _require_float("leaky_relu", x)
    return space.where(x > 0, x, x * negative_slope)


leaky_relu = define(
    "leaky_relu", _leaky_relu,
    (lambda m, g, ans, x, negative_slope=0.01: m.where(x > 0, g, g * negative_slope),),
    lambda m, tangents, ans, x, negative_slope=0.01: m.where(x > 0, tangents[0], tangents[0] * negative_slope),
    batching="elementwise", xp=_leaky_relu_xp, template=T.Template(
        lambda p, k, v: f"np.where({p[0]} > 0, {p[0]}, {p[0]} * {T.literal(k.get('negative_slope', 0.01))[0]})",
        (T.MUL,), repeats=True),
)


def _elu(x, alpha=1.0):
    if x.dtype.kind != "f":
        _require_float("elu", x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _elu_xp(space, x, alpha=1.0):
    _require_float("elu", x)
    return space.where(x > 0, x, alpha * space.expm1(space.minimum(x, space.zeros_like(x))))


# ``x <= 0`` rather than ``x > 0`` picks the branch: at NaN the slope is 1, as PyTorch's elu_backward.
elu = elementwise("elu", _elu, lambda m, ans, x, alpha=1.0: m.where(x <= 0, ans + alpha, 1.0), uses="x,ans", xp=_elu_xp, template=T.Template(
        lambda p, k, v: f"np.where({p[0]} > 0, {p[0]}, {T.literal(k.get('alpha', 1.0))[0]} * np.expm1(np.minimum({p[0]}, 0)))",
        (T.CMP + 1,), repeats=True))


def _softplus(x, beta=1.0, threshold=20.0):
    if x.dtype.kind != "f":
        _require_float("softplus", x)
    scaled = beta * x
    out = np.logaddexp(0.0, scaled) / beta
    if threshold is not None:  # PyTorch's linear tail: exactly x where beta * x > threshold
        out = np.where(scaled > threshold, x, out)
    return out


def _softplus_xp(space, x, beta=1.0, threshold=20.0):
    _require_float("softplus", x)
    scaled = beta * x
    out = space.logaddexp(space.zeros_like(scaled), scaled) / beta
    return out if threshold is None else space.where(scaled > threshold, x, out)


def _softplus_derivative(m, ans, x, beta=1.0, threshold=20.0):
    slope = m.sigmoid(beta * x)
    return slope if threshold is None else m.where(beta * x > threshold, 1.0, slope)


softplus = elementwise("softplus", _softplus, _softplus_derivative, xp=_softplus_xp, template=T.Template(
        lambda p, k, v: f"np.logaddexp(0.0, {T.literal(k.get('beta', 1.0))[0]} * {p[0]}) / {T.literal(k.get('beta', 1.0))[0]}",
        (T.MUL + 1,), T.MUL))


# sign(NaN) is NaN (NumPy, JAX), so abs'(NaN) = NaN; PyTorch's sign(NaN) is 0, which would hide
# the NaN from the gradient (a deliberate difference, see tests/test_special_points.py).
def _abs_derivative(m, ans, x):
    """sign(x); for complex ``x`` conj(x) / |x| (0 at 0): the walk's transpose convention (see
    core/engine), whose product with a tangent is cast to the real output (its real part)."""
    dt = getattr(x, "dtype", None)
    if dt is not None and B.kind(dt) == "c":
        zero = x == 0
        return m.where(zero, 0.0, m.conj(x) / m.where(zero, 1.0, m.abs(x)))
    return m.sign(x)


abs = elementwise("abs", _real(np.abs, "abs"), _abs_derivative,  # noqa: A001
                  doc="|x|; gradient sign(x): 0 at 0 (PyTorch's), NaN at NaN (PyTorch's is 0: it hides the NaN); for complex x, x/|x| (0 at 0)", operator="abs", ufunc="absolute", aliases=("absolute",), method=True, cli=1)


def _zero_vjp(m, g, ans, x):
    return m.zeros_like(g)


def _step(name, impl, doc=None, **names):
    return define(name, impl, (_zero_vjp,), lambda m, tangents, ans, x: None, save_inputs=False,
                  batching="elementwise", doc=doc, **names)


sign = _step("sign", _real(np.sign, "sign", bool_input="same"),
             doc="-1, 0 or 1; NaN at NaN, as NumPy and JAX (PyTorch gives 0, hiding the NaN); gradient 0", ufunc="sign", method=True, cli=1)


floor = _step("floor", _real(np.floor, "floor"), ufunc="floor", method=True, cli=1)


ceil = _step("ceil", _real(np.ceil, "ceil"), ufunc="ceil", method=True, cli=1)


round = _step("round", _real(np.round, "round"), ufunc="rint", method=True, cli=1)  # noqa: A001


def _clamp_impl(x, min=None, max=None):  # noqa: A002
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    out = np.clip(x, min, max)
    dt = out.dtype
    if (dt is _f64 or dt is _f32) and getattr(x, "dtype", None) is dt and getattr(min, "dtype", dt) is dt \
            and getattr(max, "dtype", dt) is dt:  # the common case: Python bounds, a float tensor
        return out
    return _torch_result("clamp", np.clip, out, x, min, max)


def _clamp_xp(space, x, min=None, max=None):  # noqa: A002
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    dtype = B.dtype_in(space, B.result_dtype(x, min, max))
    return space.clip(B.astype(x, dtype), min, max)


def _clamp_mask(m, ans, x, min=None, max=None):  # noqa: A002
    if min is not None and max is not None:
        return m.logical_and(x >= min, x <= max)
    return x >= min if min is not None else x <= max


clamp_prim = elementwise("clamp", _clamp_impl, _clamp_mask, xp=_clamp_xp, template=T.Template(lambda p, k, v: f"np.clip({p[0]}, {T.literal(k.get('min'))[0]}, {T.literal(k.get('max'))[0]})"))


def _clamp_tensor_impl(x, low, high):
    try:
        out = np.clip(x, low, high)
    except ValueError:
        _check_broadcast("clamp", *(v for v in (x, low, high) if v is not None))
        raise
    dt = out.dtype
    if (dt is _f64 or dt is _f32) and getattr(x, "dtype", None) is dt and getattr(low, "dtype", dt) is dt \
            and getattr(high, "dtype", dt) is dt:  # the common case: one dtype
        return out
    return _torch_result("clamp", np.clip, out, x, low, high)


def _clamp_tensor_xp(space, x, low, high):
    """PyTorch's ``min(max(x, low), high)`` (NumPy's clip): where low > high the result is high."""
    x, low, high = _promoted(space, (x, low, high), arrays=True)
    out = x if low is None else space.maximum(x, low)
    return out if high is None else space.minimum(out, high)


def _clamp_tensor_masks(m, x, low, high):
    """PyTorch's ``clamp_backward_min_max``: which of x, low, high each output element came from.
    A tie with a bound goes to x; where low > high the result is high; NaN anywhere: none."""
    if low is None:
        return x <= high, None, x > high
    if high is None:
        return x >= low, x < low, None
    return (m.logical_and(x >= low, x <= high), m.logical_and(x < low, low < high),
            m.logical_or(x > high, high < low))


def _clamp_tensor_vjp(k):
    def vjp(m, g, ans, x, low, high):
        return m.mul(g, _clamp_tensor_masks(m, x, low, high)[k])

    return vjp


def _clamp_tensor_jvp(m, tangents, ans, x, low, high):
    result = None
    for t, mask in zip(tangents, _clamp_tensor_masks(m, x, low, high)):
        if t is not None:
            term = m.mul(t, mask)
            result = term if result is None else result + term
    return result


clamp_tensor = define(
    "clamp_tensor", _clamp_tensor_impl,
    (_clamp_tensor_vjp(0), _clamp_tensor_vjp(1), _clamp_tensor_vjp(2)), _clamp_tensor_jvp,
    broadcasts=True, batching="elementwise", optional_operands=True, xp=_clamp_tensor_xp,
    doc="``clamp(x, min, max)`` with tensor bounds (either may be None).",
)


@public(aliases=("clip",), method=True, numpy="clip", cli=3)
def clamp(input, min=None, max=None):  # noqa: A002
    """Limit values to ``[min, max]``; the gradient passes where ``min <= x <= max``.

    With tensor bounds the gradient goes to x where it is inside (ties included), to a bound
    where x is beyond it, and nowhere at NaN (PyTorch's ``clamp_backward_min_max``).
    """
    D.check_operand("clamp", input, "input")
    for _bound, _name in ((min, "min"), (max, "max")):
        if _bound is not None:
            D.check_operand("clamp", _bound, _name)
    # NumPy scalars are numbers (PyTorch's wrapped numbers), as everywhere (see dispatch._constant).
    if isinstance(min, B.generic):
        min = min.item()  # noqa: A001
    if isinstance(max, B.generic):
        max = max.item()  # noqa: A001
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return clamp_tensor(input, min, max)
    return clamp_prim(input, min=min, max=max)


def _extremum(name, impl, loses, **names):
    """``maximum``/``minimum``: the gradient goes to the winner, half to each at a tie, and (as
    PyTorch) all of it to both where either is NaN: each side gets ``g`` unless it loses.

    The masks multiply the cotangent (``g * mask``), never a float built from them, so the
    gradient keeps the input's dtype (``0.5 * mask`` alone would be float64).
    """

    def share(m, g, x, y):
        return m.where(loses(x, y), 0.0, g) - m.mul(g * 0.5, x == y)

    def jvp(m, tangents, ans, x, y):
        tx, ty = tangents
        result = None if tx is None else share(m, tx, x, y)
        if ty is not None:
            other = share(m, ty, y, x)
            result = other if result is None else result + other
        return result

    def vjp_x(m, g, ans, x, y):
        return share(m, g, x, y)

    def vjp_y(m, g, ans, x, y):
        return share(m, g, y, x)

    return define(name, impl, (vjp_x, vjp_y), jvp, broadcasts=True, batching="elementwise", **names)


maximum = _extremum("maximum", _torch_promotion(np.maximum, "maximum"), lambda x, y: x < y, ufunc="maximum", method=True, cli=2, cli_names=("max",), reduce="max")


minimum = _extremum("minimum", _torch_promotion(np.minimum, "minimum"), lambda x, y: x > y, ufunc="minimum", method=True, cli=2, cli_names=("min",), reduce="min")


def _where_impl(condition, x, y):
    try:
        out = np.where(condition, x, y)
    except ValueError:
        _check_broadcast("where", condition, x, y)
        raise
    dt = out.dtype
    if dt is _f64 or dt is _f32:  # the common cases: one dtype, or with a Python number
        xt = getattr(x, "dtype", None)
        yt = getattr(y, "dtype", None)
        if (xt is dt or xt is None) and (yt is dt or yt is None) and (xt is not None or yt is not None):
            return out
    return _torch_result("where", lambda x, y: np.where(condition, x, y), out, x, y)


def _where_xp(space, condition, x, y):
    x, y = _promoted(space, (x, y), arrays=True)
    return space.where(condition, x, y)


def _where_jvp(m, tangents, ans, condition, x, y):
    _, tx, ty = tangents
    if tx is None and ty is None:
        return None
    return m.where(condition, 0.0 if tx is None else tx, 0.0 if ty is None else ty)


_where = define(
    "where", _where_impl,
    (None, lambda m, g, ans, c, x, y: m.where(c, g, 0.0), lambda m, g, ans, c, x, y: m.where(c, 0.0, g)),
    _where_jvp, broadcasts=True, xp=_where_xp,
    batching="elementwise", template=T.call("np.where"),
)


@public(numpy="where")
def where(condition, input=None, other=None):  # noqa: A002
    """Elementwise ``input`` where ``condition`` holds, else ``other`` (broadcasting); with
    ``condition`` alone, ``nonzero(condition, as_tuple=True)`` (PyTorch).

    As in PyTorch and JAX, the branch not taken still gets a (zero) gradient, which its own
    backward multiplies by its derivative: ``where(x > 0, sqrt(x), 0)`` has gradient NaN at
    ``x = 0`` (0 · inf). Guard the input of that branch instead:
    ``where(x > 0, sqrt(where(x > 0, x, 1.0)), 0.0)``.
    """
    if input is None and other is None:
        from .sorting import nonzero  # imported here: sorting imports this module

        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither (for the indices where condition holds)")
    for _value, _name in ((condition, "condition"), (input, "input"), (other, "other")):
        D.check_operand("where", _value, _name)
    cond = condition._data if isinstance(condition, Tensor) else B.as_array(condition)
    if B.numpy_dtype(cond.dtype) != _bool:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}; compare first, e.g. x > 0")
    return _where(cond, input, other)
