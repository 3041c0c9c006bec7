"""NumPy's remaining ufuncs: inverse hyperbolics, arctan2, hypot, exp2, logaddexp2, angle
conversions, remainder and fmod (the ``%`` operator), fabs, sinc, cbrt, copysign; and ``any``/``all``.

Values are NumPy's (each forward is NumPy's ufunc), dtypes follow the elementwise family's
PyTorch rules (``elementwise._floating``, ``_torch_promotion``: integer and bool inputs of a
floating function in the default float dtype, complex refused), and gradients are PyTorch's,
special points included: ``remainder``'s ∂/∂y is ``-floor_divide(x, y)``, ``fmod``'s
``-trunc(x / y)``, ``copysign``'s ∂/∂x is ``±1`` (0 where x = 0) and ∂/∂y 0, ``sinc'(0) = 0``,
``cbrt'(0) = inf`` (as ``x ** (1/3)``).
"""

from __future__ import annotations

import math

import numpy as np

from ..core import backend as B
from ..core.dtypes import check_operand as _check_operand
from . import _template as T
from ._define import binary, define, elementwise, nondifferentiable
from ._refusals import _BOOL_RULES, _is_bool
from ._table import public
from .elementwise import (
    _floating,
    _floating_input,
    _foreign,
    _promoted,
    _torch_promotion,
    complex_unsupported,
)
from .reductions import _dims, _keepdim, aliases
from .shape import _ndim

_LN2 = math.log(2.0)
_PI = math.pi
_DEG = math.pi / 180.0
_RAD = 180.0 / math.pi
_PY_INT = frozenset({int, bool})


def _numpy_only(impl):
    """``impl`` without a forward for other array namespaces (the standard has no such function):
    arrays of another namespace are refused by name, never converted."""
    impl.xp = None
    return impl


# ---------------------------------------------------------------------------------------------
# Unary functions
# ---------------------------------------------------------------------------------------------

def _arccosh_derivative(m, ans, x):
    """1 / sqrt(x² - 1); for complex x 1 / (sqrt(x - 1) sqrt(x + 1)), the principal branch's."""
    dt = getattr(x, "dtype", None)
    if dt is not None and B.kind(dt) == "c":
        return 1.0 / (m.sqrt(x - 1.0) * m.sqrt(x + 1.0))
    return m.rsqrt(x * x - 1.0)


arccosh = elementwise("arccosh", _floating(np.arccosh, "arccosh", "acosh"), _arccosh_derivative,
                      ufunc="arccosh", aliases=("acosh",), method=True, cli=1,
                      doc="inverse hyperbolic cosine (x >= 1); gradient 1 / sqrt(x² - 1), inf at 1")
arcsinh = elementwise("arcsinh", _floating(np.arcsinh, "arcsinh", "asinh"), lambda m, ans, x: m.rsqrt(x * x + 1.0),
                      ufunc="arcsinh", aliases=("asinh",), method=True, cli=1,
                      doc="inverse hyperbolic sine; gradient 1 / sqrt(x² + 1)")
arctanh = elementwise("arctanh", _floating(np.arctanh, "arctanh", "atanh"), lambda m, ans, x: 1.0 / (1.0 - x * x),
                      ufunc="arctanh", aliases=("atanh",), method=True, cli=1,
                      doc="inverse hyperbolic tangent (|x| <= 1); gradient 1 / (1 - x²), inf at ±1")
exp2 = elementwise("exp2", _numpy_only(_floating(np.exp2, "exp2")), lambda m, ans, x: ans * _LN2, uses="ans",
                   ufunc="exp2", method=True, cli=1, doc="2 ** x; gradient 2 ** x · log 2")
cbrt = elementwise("cbrt", _numpy_only(_floating(np.cbrt, "cbrt")), lambda m, ans, x: 1.0 / (3.0 * ans * ans),
                   uses="ans", ufunc="cbrt", method=True, cli=1,
                   doc="real cube root (negative for x < 0); gradient 1 / (3 cbrt(x)²), inf at 0")
fabs = elementwise("fabs", _floating(np.fabs, "fabs", "abs"), lambda m, ans, x: m.sign(x),
                   ufunc="fabs", method=True, cli=1,
                   doc="|x| in a floating dtype (integers in the default float dtype); gradient sign(x), 0 at 0")
deg2rad = elementwise("deg2rad", _numpy_only(_floating(np.deg2rad, "deg2rad")), lambda m, ans, x: _DEG, uses="",
                      ufunc=("deg2rad", "radians"), aliases=("radians",), method=True, cli=1,
                      doc="degrees to radians: x · π / 180")
rad2deg = elementwise("rad2deg", _numpy_only(_floating(np.rad2deg, "rad2deg")), lambda m, ans, x: _RAD, uses="",
                      ufunc=("rad2deg", "degrees"), aliases=("degrees",), method=True, cli=1,
                      doc="radians to degrees: x · 180 / π")


_SINC_NEAR = 0.01
# sinc(x) = Σ c_k (πx)^(2k): its derivative near 0, where (cos(πx) - sinc(x)) / x cancels.
_SINC_SERIES = (1.0, -1 / 6, 1 / 120, -1 / 5040, 1 / 362880, -1 / 39916800)


def _sinc_derivative(m, ans, x):
    """``(cos(πx) - sinc(x)) / x``, and within 0.01 of 0 the derivative of sinc's Taylor series
    (so derivatives of every order are right at 0 too: sinc''(0) = -π²/3). Each branch sees a
    safe stand-in where it is not taken, so differentiating this rule again gives no 0/0."""
    near = m.abs(x) < _SINC_NEAR
    safe = m.where(near, 1.0, x)
    far = (m.cos(_PI * safe) - m.where(near, 1.0, ans)) / safe
    v = m.where(near, x, 0.0) * _PI
    v2 = v * v
    series = _SINC_SERIES[-1] * (2 * (len(_SINC_SERIES) - 1))
    for k in range(len(_SINC_SERIES) - 2, 0, -1):
        series = series * v2 + _SINC_SERIES[k] * (2 * k)
    return m.where(near, series * v * _PI, far)


def _sinc(x):
    if getattr(x, "dtype", None) is None or B.kind(x.dtype) != "f":
        x = _floating_input("sinc", x)
    return np.asarray(np.sinc(x))


sinc = elementwise("sinc", _sinc, _sinc_derivative, uses="x,ans", numpy="sinc", method=True, cli=1,
                   template=T.call("np.sinc"),
                   doc="normalised sinc: sin(πx) / (πx), 1 at 0; gradient (cos(πx) - sinc(x)) / x, its "
                       "Taylor series near 0 (exact to every order there)")


# ---------------------------------------------------------------------------------------------
# Binary functions
# ---------------------------------------------------------------------------------------------

def _ratio(m, ans, x, y):
    return x * x + y * y


arctan2 = binary("arctan2", _torch_promotion(np.arctan2, "arctan2", "atan2", floating=True),
                 (lambda m, ans, x, y: y / _ratio(m, ans, x, y), lambda m, ans, x, y: -x / _ratio(m, ans, x, y)),
                 ufunc="arctan2", aliases=("atan2",), method=True, cli=2,
                 doc="the angle of the point (x2, x1), arctan2(x1, x2), in [-π, π]; gradient "
                     "(x2, -x1) / (x1² + x2²), NaN at (0, 0) as in PyTorch")
hypot = binary("hypot", _torch_promotion(np.hypot, "hypot", floating="require"),
               (lambda m, ans, x, y: x / ans, lambda m, ans, x, y: y / ans), uses="xy,ans",
               ufunc="hypot", method=True, cli=2,
               doc="sqrt(x² + y²) without overflow; gradient (x, y) / hypot(x, y), NaN at (0, 0) as in PyTorch")
logaddexp2 = binary("logaddexp2", _numpy_only(_torch_promotion(np.logaddexp2, "logaddexp2", floating="require")),
                    (lambda m, ans, x, y: m.sigmoid((x - y) * _LN2), lambda m, ans, x, y: m.sigmoid((y - x) * _LN2)),
                    ufunc="logaddexp2", method=True, cli=2,
                    doc="log2(2 ** x + 2 ** y), computed without overflow; gradient 1 / (1 + 2 ** (y - x))")


def _copysign_dx(m, g, ans, x, y):
    """``g · copysign(1, y) · sign(x)``: ``ans / x``, 0 where x = 0 (PyTorch's)."""
    zero = x == 0
    return g * m.where(zero, 0.0, ans / m.where(zero, 1.0, x))


def _copysign_dy(m, g, ans, x, y):
    return m.zeros_like(g)


def _copysign_jvp(m, tangents, ans, x, y):
    tx = tangents[0]
    return None if tx is None else _copysign_dx(m, tx, ans, x, y)


copysign = define("copysign", _torch_promotion(np.copysign, "copysign", floating=True),
                  (_copysign_dx, _copysign_dy), _copysign_jvp, broadcasts=True, save_ans=True,
                  batching="elementwise", ufunc="copysign", method=True, cli=2,
                  doc="|x| with the sign of y (its sign bit: -0.0 counts as negative); gradient "
                      "±1 for x (0 at x = 0, as PyTorch), 0 for y")


# Remainder and fmod keep integer dtypes: an integer divisor of 0 raises (RuntimeError), as in
# PyTorch (NumPy gives 0 with a warning); bool operands are refused, as in PyTorch ("not implemented for 'Bool'").

def _refuse_bool(op):
    def rule(dtype, *operands):
        if dtype.kind == "b":
            raise RuntimeError(f"{op}: not implemented for bool tensors (as in PyTorch), got dtype bool; "
                               f"convert them first, e.g. x.int()")
        return None

    return rule


_BOOL_RULES["remainder"] = _refuse_bool("remainder")
_BOOL_RULES["fmod"] = _refuse_bool("fmod")


def _integral(v) -> bool:
    if type(v) in _PY_INT:
        return True
    kind = getattr(getattr(v, "dtype", None), "kind", None)
    return kind is not None and kind in "biu"


def _integer_division(op, impl):
    """``impl`` refusing an integer division by zero (checked only for an integer divisor)."""

    def checked(x, y):
        if _integral(y) and _integral(x) and not (_is_bool(x) and _is_bool(y)) and not _foreign(x, y) \
                and np.any(np.asarray(y) == 0):
            # PyTorch's RuntimeError ("ZeroDivisionError"); NumPy would give 0 with a warning
            raise RuntimeError(
                f"{op}: integer division by zero (ZeroDivisionError, as in PyTorch; NumPy would give 0); "
                f"use floating tensors for NaN, or mask the zeros first")
        return impl(x, y)

    checked.__name__ = op
    checked.xp = impl.xp
    return checked


def _floor_divide_xp(space, x, y):
    x, y = _promoted(space, (x, y))
    return space.floor_divide(x, y)


_BOOL_RULES["floor_divide"] = _refuse_bool("floor_divide")
_floor_divide = _integer_division("floor_divide", _torch_promotion(np.floor_divide, "floor_divide"))


floor_divide_ = nondifferentiable(
    "floor_divide", _floor_divide, batching="elementwise", xp=_floor_divide_xp, ufunc="floor_divide", method=True,
    cli=2,
    doc="x // y rounded toward -inf (NumPy's floor_divide): remainder's derivative in its divisor")
trunc_divide_ = nondifferentiable(
    "trunc_divide", lambda x, y: np.trunc(np.true_divide(x, y)), batching="elementwise",
    doc="trunc(x / y) (PyTorch's rounding_mode='trunc'): fmod's derivative in its divisor")

remainder = binary("remainder", _integer_division("remainder", _torch_promotion(np.remainder, "remainder")),
                   (None, lambda m, ans, x, y: -m.floor_divide(x, y)), needs=((), (0, 1)),
                   operator="%", template=T.binop("%", T.MUL),
                   ufunc="remainder", aliases=("mod",), method=True, cli=2,
                   doc="x - y · floor(x / y): the sign of y, as Python's % (and torch.remainder); "
                       "gradient 1 for x, -floor(x / y) for y")
fmod = binary("fmod", _integer_division("fmod", _numpy_only(_torch_promotion(np.fmod, "fmod"))),
              (None, lambda m, ans, x, y: -m.trunc_divide(x, y)), needs=((), (0, 1)),
              ufunc="fmod", method=True, cli=2,
              doc="x - y · trunc(x / y): the sign of x, as C's fmod; gradient 1 for x, -trunc(x / y) for y")


# ---------------------------------------------------------------------------------------------
# any / all: bool reductions (not differentiable)
# ---------------------------------------------------------------------------------------------

def _any_impl(x, dim=None, keepdim=False):
    if getattr(getattr(x, "dtype", None), "kind", None) == "c":
        raise complex_unsupported("any", x.dtype)
    return np.asarray(np.any(x, axis=dim, keepdims=keepdim))


def _all_impl(x, dim=None, keepdim=False):
    if getattr(getattr(x, "dtype", None), "kind", None) == "c":
        raise complex_unsupported("all", x.dtype)
    return np.asarray(np.all(x, axis=dim, keepdims=keepdim))


def _any_xp(space, x, dim=None, keepdim=False):
    return space.any(x, axis=dim, keepdims=keepdim)


def _all_xp(space, x, dim=None, keepdim=False):
    return space.all(x, axis=dim, keepdims=keepdim)


_any = nondifferentiable("any", _any_impl, batching="reduce", xp=_any_xp, template=T.reduction("any"))
_all = nondifferentiable("all", _all_impl, batching="reduce", xp=_all_xp, template=T.reduction("all"))


def _reduce_bool(op, prim, input, dim, keepdim):  # noqa: A002
    _check_operand(op, input, "input")
    return prim(input, dim=_dims(op, dim, _ndim(input)), keepdim=_keepdim(op, keepdim))


@public(method=True, numpy="any")
def any(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):  # noqa: A001,A002
    """Whether any element is nonzero (over ``dim``: an int, a tuple or None for all), a bool tensor.

    >>> cr.any(cr.tensor([[0.0, 1.0], [0.0, 0.0]]), dim=1)   # tensor([ True, False])
    """
    dim, keepdim = aliases("any", dim, axis, keepdim, keepdims)
    return _reduce_bool("any", _any, input, dim, keepdim)


@public(method=True, numpy="all")
def all(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):  # noqa: A001,A002
    """Whether every element is nonzero (over ``dim``: an int, a tuple or None for all), a bool tensor.

    >>> cr.all(cr.tensor([[1.0, 2.0], [0.0, 3.0]]), dim=1)   # tensor([ True, False])
    """
    dim, keepdim = aliases("all", dim, axis, keepdim, keepdims)
    return _reduce_bool("all", _all, input, dim, keepdim)
