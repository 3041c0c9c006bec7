"""Elementwise operations: arithmetic, math functions, activations, comparisons."""

from __future__ import annotations

import math
import operator

import numpy as np

from .. import dtypes as D
from ._primitive import binary, define, elementwise, nondifferentiable

_f64 = np.dtype(np.float64)
_f32 = np.dtype(np.float32)
_erf_scalar = np.frompyfunc(math.erf, 1, 1)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _check_broadcast(op: str, *operands) -> None:
    """Raise a clear error naming ``op`` if the operands' shapes do not broadcast (called while
    handling NumPy's ValueError; returns when the shapes were not the problem)."""
    shapes = [tuple(np.shape(v)) for v in operands]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"{op}: operands of shapes {' and '.join(map(str, shapes))} cannot be broadcast together "
            f"(aligned from the right, each dimension must match or be 1); reshape or unsqueeze one "
            f"of them"
        ) from None


def _torch_promotion(ufunc, op):
    """``ufunc`` with PyTorch's rule that ints combined with a Python float give the default dtype.

    ``ufunc`` is Python's operator: on NumPy scalars (0-d results) it is ~15x cheaper than
    calling the NumPy ufunc, and on arrays it calls that same ufunc.
    """

    def impl(x, y):
        try:
            out = ufunc(x, y)
            dt = out.dtype
        except ValueError:
            _check_broadcast(op, x, y)
            raise
        except AttributeError:  # both operands were Python numbers
            return np.asarray(out)
        if (dt is _f64 and getattr(x, "dtype", None) is not _f64
                and getattr(y, "dtype", None) is not _f64 and (type(x) is float or type(y) is float)):
            out = out.astype(D.get_default_dtype())
        return out

    impl.__name__ = ufunc.__name__
    return impl


def _true_divide(x, y):
    try:
        out = operator.truediv(x, y)
        dt = out.dtype
    except AttributeError:  # both operands were Python numbers
        return np.asarray(out)
    except ValueError:
        _check_broadcast("div", x, y)
        raise
    if dt is _f64 and getattr(x, "dtype", _f64).kind != "f" and getattr(y, "dtype", _f64).kind != "f":
        out = out.astype(D.get_default_dtype())
    return out


# ---------------------------------------------------------------------------------------------
# Arithmetic
# ---------------------------------------------------------------------------------------------

add = binary("add", _torch_promotion(operator.add, "add"), (None, None), uses="")
sub = binary("sub", _torch_promotion(operator.sub, "sub"), (None, "neg"), uses="")
mul = binary("mul", _torch_promotion(operator.mul, "mul"),
             ("y", "x"), needs=((1,), (0,)))


def _div_jvp(m, tangents, ans, x, y):
    tx, ty = tangents
    result = None if tx is None else tx / y
    if ty is not None:
        other = -ty * x / (y * y)
        result = other if result is None else result + other
    return result


div = define(
    "div", _true_divide,
    (lambda m, g, ans, x, y: g / y, lambda m, g, ans, x, y: -g * x / (y * y)),
    _div_jvp, broadcasts=True, needs=((1,), (0, 1)),
    batching="elementwise",
)


def _pow_dx(m, ans, x, y):
    if isinstance(y, (int, float)):
        if y == 0:
            return 0.0 * x
        if y == 1:
            return 1.0 + 0.0 * x
        if y == 2:
            return 2.0 * x
        return y * x ** (y - 1)
    return m.where(y == 0, 0.0, y * x ** (y - 1))


def _pow_dy(m, ans, x, y):
    if isinstance(x, (int, float)):
        return ans * math.log(x) if x > 0 else ans * (0.0 if x == 0 else math.nan)
    return ans * m.log(m.where(x == 0, 1.0, x))


pow = binary("pow", _torch_promotion(operator.pow, "pow"), (_pow_dx, _pow_dy), uses="xy,ans")  # noqa: A001


def _neg(x):
    return np.negative(x)


neg = define("neg", _neg, (lambda m, g, ans, x: -g,), lambda m, tangents, ans, x: -tangents[0],
             save_inputs=False, batching="elementwise")

# ---------------------------------------------------------------------------------------------
# Math functions: f and f'
# ---------------------------------------------------------------------------------------------

exp = elementwise("exp", np.exp, lambda m, ans, x: ans, uses="ans")
expm1 = elementwise("expm1", np.expm1, lambda m, ans, x: ans + 1.0, uses="ans")
log = elementwise("log", np.log, lambda m, ans, x: 1.0 / x)
log1p = elementwise("log1p", np.log1p, lambda m, ans, x: 1.0 / (1.0 + x))
log2 = elementwise("log2", np.log2, lambda m, ans, x: 1.0 / (x * math.log(2.0)))
log10 = elementwise("log10", np.log10, lambda m, ans, x: 1.0 / (x * math.log(10.0)))
sqrt = elementwise("sqrt", np.sqrt, lambda m, ans, x: 0.5 / ans, uses="ans")
rsqrt = elementwise("rsqrt", lambda x: 1.0 / np.sqrt(x), lambda m, ans, x: -0.5 * ans * ans * ans,
                    uses="ans")
square = elementwise("square", np.square, lambda m, ans, x: 2.0 * x)
reciprocal = elementwise("reciprocal", lambda x: np.reciprocal(x) if x.dtype.kind == "f" else 1.0 / x,
                         lambda m, ans, x: -ans * ans, uses="ans")
sin = elementwise("sin", np.sin, lambda m, ans, x: m.cos(x))
cos = elementwise("cos", np.cos, lambda m, ans, x: -m.sin(x))
tan = elementwise("tan", np.tan, lambda m, ans, x: 1.0 + ans * ans, uses="ans")
arcsin = elementwise("arcsin", np.arcsin, lambda m, ans, x: m.rsqrt(1.0 - x * x))
arccos = elementwise("arccos", np.arccos, lambda m, ans, x: -m.rsqrt(1.0 - x * x))
arctan = elementwise("arctan", np.arctan, lambda m, ans, x: 1.0 / (1.0 + x * x))
sinh = elementwise("sinh", np.sinh, lambda m, ans, x: m.cosh(x))
cosh = elementwise("cosh", np.cosh, lambda m, ans, x: m.sinh(x))
tanh = elementwise("tanh", np.tanh, lambda m, ans, x: 1.0 - ans * ans, uses="ans")


def _sigmoid(x):
    dt = getattr(x, "dtype", None)
    if (dt is _f64 or dt is _f32) and (type(x) is not np.ndarray or x.ndim == 0):
        v = float(x)  # one number: math is an order of magnitude cheaper than ufuncs here
        e = math.exp(-math.fabs(v))  # math.fabs: this module defines its own `abs`
        return dt.type(1.0 / (1.0 + e) if v >= 0 else e / (1.0 + e))
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(D.get_default_dtype())
    return np.exp(-np.logaddexp(0.0, -x)).astype(x.dtype, copy=False)




sigmoid = elementwise("sigmoid", _sigmoid, lambda m, ans, x: ans * (1.0 - ans), uses="ans")


def _erf(x):
    # np.asarray: on a 0-d array the frompyfunc ufunc returns a Python float, not an array.
    return np.asarray(_erf_scalar(x)).astype(x.dtype if x.dtype.kind == "f" else D.get_default_dtype())


erf = elementwise("erf", _erf, lambda m, ans, x: _TWO_OVER_SQRT_PI * m.exp(-x * x))

# ---------------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------------

relu = elementwise("relu", lambda x: np.maximum(x, 0), lambda m, ans, x: ans > 0, uses="ans")
leaky_relu = define(
    "leaky_relu",
    lambda x, negative_slope=0.01: np.where(x > 0, x, x * negative_slope),
    (lambda m, g, ans, x, negative_slope=0.01: m.where(x > 0, g, g * negative_slope),),
    lambda m, tangents, ans, x, negative_slope=0.01: m.where(x > 0, tangents[0], tangents[0] * negative_slope),
    batching="elementwise",
)
elu = elementwise(
    "elu",
    lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
    lambda m, ans, x, alpha=1.0: m.where(x > 0, 1.0, ans + alpha),
    uses="x,ans",
)
softplus = elementwise(
    "softplus",
    lambda x, beta=1.0: np.logaddexp(0.0, beta * x) / beta,
    lambda m, ans, x, beta=1.0: m.sigmoid(beta * x),
)

# ---------------------------------------------------------------------------------------------
# Piecewise functions (PyTorch's choices at the kinks)
# ---------------------------------------------------------------------------------------------

abs = elementwise("abs", np.abs, lambda m, ans, x: m.sign(x))  # noqa: A001


def _zero_vjp(m, g, ans, x):
    return m.zeros_like(g)


def _step(name, impl):
    return define(name, impl, (_zero_vjp,), lambda m, tangents, ans, x: None, save_inputs=False,
                  batching="elementwise")


sign = _step("sign", np.sign)
floor = _step("floor", np.floor)
ceil = _step("ceil", np.ceil)
round = _step("round", np.round)  # noqa: A001


def _clamp_impl(x, min=None, max=None):  # noqa: A002
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return np.clip(x, min, max)


def _clamp_mask(m, ans, x, min=None, max=None):  # noqa: A002
    if min is not None and max is not None:
        return (x >= min) * (x <= max)
    return x >= min if min is not None else x <= max


clamp = elementwise("clamp", _clamp_impl, _clamp_mask)


def _extremum(name, impl, wins):
    """``maximum``/``minimum``: the gradient goes to the winner, half to each at a tie (PyTorch).

    The masks multiply the cotangent (``g * mask``), never a float built from them, so the
    gradient keeps the input's dtype (``0.5 * mask`` alone would be float64).
    """

    def share(g, x, y):
        return g * wins(x, y) + (g * 0.5) * (x == y)

    def jvp(m, tangents, ans, x, y):
        tx, ty = tangents
        result = None if tx is None else share(tx, x, y)
        if ty is not None:
            other = share(ty, y, x)
            result = other if result is None else result + other
        return result

    def vjp_x(m, g, ans, x, y):
        return share(g, x, y)

    def vjp_y(m, g, ans, x, y):
        return share(g, y, x)

    return define(name, impl, (vjp_x, vjp_y), jvp, broadcasts=True, batching="elementwise")


def _checked(ufunc, op):
    def impl(x, y):
        try:
            return ufunc(x, y)
        except ValueError:
            _check_broadcast(op, x, y)
            raise

    impl.__name__ = ufunc.__name__
    return impl


maximum = _extremum("maximum", _checked(np.maximum, "maximum"), lambda x, y: x > y)
minimum = _extremum("minimum", _checked(np.minimum, "minimum"), lambda x, y: x < y)


def _where_impl(condition, x, y):
    try:
        return np.where(condition, x, y)
    except ValueError:
        _check_broadcast("where", condition, x, y)
        raise


def _where_jvp(m, tangents, ans, condition, x, y):
    _, tx, ty = tangents
    if tx is None and ty is None:
        return None
    return m.where(condition, 0.0 if tx is None else tx, 0.0 if ty is None else ty)


_where = define(
    "where", _where_impl,
    (None, lambda m, g, ans, c, x, y: m.where(c, g, 0.0), lambda m, g, ans, c, x, y: m.where(c, 0.0, g)),
    _where_jvp, broadcasts=True,
    batching="elementwise",
)


def where(condition, input, other):  # noqa: A002
    """Elementwise ``input`` where ``condition`` holds, else ``other`` (broadcasting)."""
    from ..tensor import Tensor

    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}; compare first, e.g. x > 0")
    return _where(cond, input, other)


# ---------------------------------------------------------------------------------------------
# Not differentiable
# ---------------------------------------------------------------------------------------------

lt = nondifferentiable("lt", np.less, batching="elementwise")
le = nondifferentiable("le", np.less_equal, batching="elementwise")
gt = nondifferentiable("gt", np.greater, batching="elementwise")
ge = nondifferentiable("ge", np.greater_equal, batching="elementwise")
eq = nondifferentiable("eq", np.equal, batching="elementwise")
ne = nondifferentiable("ne", np.not_equal, batching="elementwise")
logical_and = nondifferentiable("logical_and", np.logical_and, batching="elementwise")
logical_or = nondifferentiable("logical_or", np.logical_or, batching="elementwise")
logical_not = nondifferentiable("logical_not", np.logical_not, batching="elementwise")
isnan = nondifferentiable("isnan", np.isnan, batching="elementwise")
isinf = nondifferentiable("isinf", np.isinf, batching="elementwise")
isfinite = nondifferentiable("isfinite", np.isfinite, batching="elementwise")
zeros_like_ = nondifferentiable("zeros_like", lambda x: np.zeros_like(x), batching="elementwise")


def _cast_vjp(m, g, ans, x, dtype):
    return m.cast(g, dtype=x.dtype)


cast = define("cast", lambda x, dtype: x.astype(dtype, copy=False), (_cast_vjp,),
              lambda m, tangents, ans, x, dtype: m.cast(tangents[0], dtype=dtype), save_inputs="meta", batching="elementwise")
