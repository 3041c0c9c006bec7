"""Elementwise operations: arithmetic, math functions, activations, comparisons."""

from __future__ import annotations

import cmath
import math
import operator

import numpy as np

from ..core import backend as B
from ..core import dtypes as D
from . import _template as T
from ._define import binary, define, elementwise, nondifferentiable
from ._refusals import _BOOL_RULES, _floating_required, _is_bool, _of_bool, _sub_bool
from ._table import public

_f64 = np.dtype(np.float64)
_f32 = np.dtype(np.float32)
_bool = np.dtype(np.bool_)
_PY_REAL = frozenset({float, int, bool})
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


# ---------------------------------------------------------------------------------------------
# dtypes: PyTorch's rules where NumPy's differ, decided off the float32/float64 path
#
# - Floating functions (exp, sin, sqrt, sigmoid, ...) of integer and bool tensors compute in the
#   default float dtype (``cr.get_default_dtype()``), not in NumPy's float16 (int8, uint8, bool)
#   or float64 (int32, int64).
# - Integer tensors combined with float tensors or Python floats give the float tensor's dtype,
#   else the default dtype (NumPy gives float64 for int64 with float32).
# - Complex tensors (complex64, complex128) take part in the operations NumPy and PyTorch define
#   for them (``COMPLEX``: arithmetic, exp, log, sqrt, trigonometric and hyperbolic functions,
#   ...); every other operation (orders: max, clamp, relu, comparisons <; floor, ...) refuses
#   them with an error naming it, as PyTorch does. Gradients follow PyTorch's convention: the
#   rules are written once, for real and complex numbers alike (see core/engine's doc).
# Each check runs only once a dtype is known not to be float32/float64 (or the kind not "f").
# ---------------------------------------------------------------------------------------------

# The operations of this module (and others') that compute complex values (see above).
COMPLEX = {
    "add", "sub", "mul", "div", "pow", "neg", "square", "exp", "expm1", "log", "log1p", "log2",
    "log10", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
    "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "exp2", "cast", "abs",
}


def complex_unsupported(op: str, dtype) -> TypeError:
    """The error for a complex operand: ``raise complex_unsupported("floor", x.dtype)``."""
    return TypeError(
        f"{op}: not defined for complex tensors (got dtype {dtype}), as in PyTorch; apply it to "
        f"the real part (x.real), the imaginary part (x.imag) or the modulus (cr.abs(x))"
    )


def _floating_input(op: str, x):
    """``x``, not a floating array, as PyTorch feeds it to a floating function: integers and
    bools in the default float dtype, Python numbers too; complex kept where ``op`` is in
    ``COMPLEX``, else refused."""
    if type(x) in _PY_REAL:
        return np.asarray(x, dtype=B.floating_dtype(None))
    if type(x) is complex:
        x = np.asarray(x, dtype=np.complex128 if B.floating_dtype(None) == _f64 else np.complex64)
    x = np.asarray(x)
    kind = x.dtype.kind
    if kind in "biu":
        return x.astype(B.floating_dtype(x.dtype))
    if kind == "f":
        return x
    if kind == "c":
        if op in COMPLEX and x.dtype.itemsize <= 16:
            return x
        raise complex_unsupported(op, x.dtype)
    raise TypeError(f"{op}: expected a tensor of numbers, got dtype {x.dtype}")


def _require_float(op: str, x):
    """Refuse what PyTorch refuses for ``op`` (integer and bool tensors) and complex tensors."""
    dt = B.dtype_of(x)
    if dt.kind == "c":
        raise complex_unsupported(op, dt)
    if dt.kind != "f":  # RuntimeError, as PyTorch's (and mean's) "not implemented for 'Long'"
        raise RuntimeError(f"{op}: expected a floating tensor, got dtype {dt}; convert it first, e.g. x.float()")


def _refuse_complex(op: str, *operands) -> None:
    """Raise if one of ``operands`` is complex (called off the hot path, on a result's dtype)."""
    for v in operands:
        if type(v) is complex or getattr(getattr(v, "dtype", None), "kind", None) == "c":
            raise complex_unsupported(op, np.result_type(v))
    raise AssertionError(f"{op}: a complex result with no complex operand")


def _torch_result(op, fn, out, *operands, floating=False):
    """``out = fn(*operands)`` (NumPy's promotion, not the common case) as PyTorch computes it:
    in PyTorch's result dtype (``backend.result_dtype``, decided there once), the operands cast
    to it first, as PyTorch's kernels do (a float32 tensor times a 0-d float64 tensor is computed
    in float32, not rounded from float64); complex refused. ``floating``: True for an operation
    whose integer result is the default float dtype (division), "require" for one PyTorch has
    for floating dtypes only (``logaddexp``)."""
    if out.dtype.kind == "c" and op not in COMPLEX:
        _refuse_complex(op, *operands)
    dtype = B.result_dtype(*operands, floating=floating is True)
    if floating == "require" and dtype.kind != "f":
        raise _floating_required(op, dtype)
    if op in _BOOL_RULES and (dtype.kind == "b" or any(map(_is_bool, operands))):
        special = _BOOL_RULES[op](dtype, *operands)
        if special is not None:
            return special
    if out.dtype == dtype:
        return out
    return fn(*(B.in_dtype(v, dtype) for v in operands))




# ---------------------------------------------------------------------------------------------
# Forwards for other array namespaces (the array API standard, see backend): operands in
# PyTorch's result dtype (``backend.result_dtype``, decided once), then the namespace's function.
# The NumPy implementations reach them only off their float32/float64 path, where the dtype is not
# one of NumPy's or an operation of the namespace refused mixed dtypes.
# ---------------------------------------------------------------------------------------------

def _foreign(*operands) -> bool:
    for v in operands:
        if type(v) not in B.NUMPY_TYPES and v is not None and B.foreign(v):
            return True
    return False


def _promoted(space, operands, floating=False, arrays=False):
    """``operands`` (arrays of ``space`` and Python numbers) in their common result dtype; Python
    numbers stay numbers unless ``arrays`` (then 0-d arrays on the arrays' device)."""
    dtype = B.dtype_in(space, B.result_dtype(*operands, floating=floating))  # NumPy scalars: 0-d
    operands = [v.item() if isinstance(v, np.generic) else v for v in operands]
    like = next(v for v in operands if hasattr(v, "dtype"))
    out = []
    for v in operands:
        if v is None:
            out.append(v)
        elif not hasattr(v, "dtype"):
            out.append(space.asarray(v, dtype=dtype, device=like.device) if arrays else v)
        elif v.dtype != dtype:
            out.append(space.astype(v, dtype))
        else:
            out.append(v)
    return out


def _xp_binary(name, floating=False, op=None):
    """The forward of a binary function ``name`` of the standard (complex refused)."""

    def forward(space, x, y):
        for v in (x, y):
            if hasattr(v, "dtype") and B.kind(v.dtype) == "c":
                raise complex_unsupported(op or name, v.dtype)
        x, y = _promoted(space, (x, y), floating is True)
        dtype = (x if hasattr(x, "dtype") else y).dtype  # one of them may be a Python number
        if floating == "require" and B.kind(dtype) != "f":
            raise _floating_required(op or name, B.numpy_dtype(dtype))
        return getattr(space, name)(x, y)

    return forward


def _xp_compare(name):
    def forward(space, x, y):
        x, y = _promoted(space, (x, y))
        return getattr(space, name)(x, y)

    return forward


def _xp_logical(name):
    def forward(space, x, y):
        like = x if hasattr(x, "dtype") else y
        x, y = (B.astype(B.as_array(v, like=like), _bool) for v in (x, y))
        return getattr(space, name)(x, y)

    return forward


def _xp_floating(name, op):
    """The forward of a floating function: integer and bool inputs in the default float dtype."""

    def forward(space, x):
        kind = B.kind(x.dtype)
        if kind == "c":
            raise complex_unsupported(op, x.dtype)
        return getattr(space, name)(x if kind == "f" else B.astype(x, B.floating_dtype(x.dtype)))

    return forward


def _xp_unary(name, op, bool_input="refuse"):
    """The forward of a function that keeps the input's dtype (abs, sign, floor, ...)."""

    def forward(space, x):
        k = B.kind(x.dtype)
        if k == "c":
            raise complex_unsupported(op, x.dtype)
        if k == "b":
            return _of_bool(op, bool_input, x, lambda v: getattr(space, name)(v))
        return getattr(space, name)(x)

    return forward


def _guarded(ufunc, op, forward):
    """``ufunc`` on NumPy inputs, ``forward`` on another namespace's: the primitive calls the bare
    ``ufunc`` on NumPy's float32/float64 arrays and this guard on anything else."""

    def impl(x):
        if _foreign(x):
            return forward(B.namespace(x), x)
        return ufunc(x)

    impl.__name__ = op
    impl.fast = ufunc
    impl.xp = forward
    return impl


# The common cases, where NumPy's promotion is PyTorch's, return NumPy's result at once:
# a float32 or float64 result ``dt`` of operands of that dtype (two arrays; two NumPy scalars of
# one type, the 0-d tensors' data; an array and a scalar), or of one such operand with a Python
# float or int (not a bool: subtraction refuses it). It reads the fewest dtypes it can (a NumPy
# scalar's costs ~40 ns). Anything else goes to ``_torch_result``, which asks
# ``backend.result_dtype``.
ndarray = B.ndarray
_NUMPY_TYPES = B.NUMPY_TYPES


def _torch_promotion(ufunc, op, name=None, floating=False):
    """``ufunc`` with PyTorch's dtype rules (see above) and a clear error for shapes that do
    not broadcast; ``name``: the standard's function, for operands of other namespaces.

    ``ufunc`` is Python's operator: on NumPy scalars (0-d results) it is ~15x cheaper than
    calling the NumPy ufunc, and on arrays it calls that same ufunc. A NumPy ufunc (maximum, ...)
    would convert another namespace's arrays: it runs only on NumPy operands.
    """
    forward = _xp_binary(name or op, floating, op)
    numpy_only = isinstance(ufunc, np.ufunc)

    def impl(x, y):
        if numpy_only and type(x) is not B.ndarray and type(y) is not B.ndarray and _foreign(x, y):
            return forward(B.namespace_of(x, y), x, y)
        try:
            out = ufunc(x, y)
            dt = out.dtype
        except ValueError:
            _check_broadcast(op, x, y)
            raise
        except AttributeError:  # both operands were Python numbers
            if type(out) is complex:
                if op not in COMPLEX:
                    raise complex_unsupported(op, np.result_type(out)) from None
                return np.asarray(out, dtype=B.result_dtype(x, y))
            return np.asarray(out)
        except TypeError:  # another namespace refused mixed dtypes
            if _foreign(x, y):
                return forward(B.namespace_of(x, y), x, y)
            if op == "sub" and (_is_bool(x) or _is_bool(y)):  # NumPy's own refusal: PyTorch's words
                _sub_bool(None, x, y)
            raise
        if dt is _f64 or dt is _f32:  # the common cases (see the comment above)
            yt = type(y)
            if yt is ndarray:
                xd = getattr(x, "dtype", None)
                if xd is dt is y.dtype or xd is None and (type(x) is float or type(x) is int) and y.dtype is dt:
                    return out
            elif yt is float or yt is int:
                if getattr(x, "dtype", None) is dt:
                    return out
            elif yt is type(x):
                if yt in _NUMPY_TYPES:
                    return out
            elif getattr(y, "dtype", None) is dt and getattr(x, "dtype", None) is dt:
                return out
        if _foreign(out):
            return forward(B.namespace(out), x, y)
        return _torch_result(op, ufunc, out, x, y, floating=floating)

    impl.__name__ = op
    impl.xp = forward
    impl.raw = ufunc  # NumPy's own promotion: compiled code calls it where it gives PyTorch's dtype
    return impl


_true_divide = _torch_promotion(operator.truediv, "div", name="divide", floating=True)


def _floating(ufunc, op, name=None):
    """Unary ``ufunc`` for a floating function: integer/bool inputs in the default float dtype,
    complex refused (one kind check on the float path)."""

    forward = _xp_floating(name or op, op)

    def impl(x):
        try:
            if x.dtype.kind == "f":
                return ufunc(x)
        except AttributeError:  # a Python number, or an array of another namespace
            if _foreign(x):
                return forward(B.namespace(x), x)
        return ufunc(_floating_input(op, x))

    impl.__name__ = op
    impl.fast = ufunc  # what the primitive calls on a float32/float64 input (see Primitive.adapt)
    impl.xp = forward
    return impl


def _real(ufunc, op, name=None, bool_input="refuse"):
    """Unary ``ufunc`` that keeps integer dtypes (abs, square, sign, floor, ...): complex refused,
    bool as PyTorch has it (``bool_input``, see ``_of_bool``)."""
    forward = _xp_unary(name or op, op, bool_input)

    def impl(x):
        try:
            kind = x.dtype.kind
        except AttributeError:  # a Python number, or an array of another namespace
            if _foreign(x):
                return forward(B.namespace(x), x)
            if type(x) is not complex or op in COMPLEX:
                return ufunc(x)
            raise complex_unsupported(op, np.result_type(x)) from None
        if kind == "b":
            return _of_bool(op, bool_input, x, ufunc)
        if kind != "c" or op in COMPLEX:
            return ufunc(x)
        raise complex_unsupported(op, x.dtype)

    impl.__name__ = op
    impl.fast = ufunc  # what the primitive calls on a float32/float64 input (see Primitive.adapt)
    impl.xp = forward
    return impl


# ---------------------------------------------------------------------------------------------
# Arithmetic
# ---------------------------------------------------------------------------------------------

add = binary("add", _torch_promotion(operator.add, "add"), (None, None), uses="", operator="+", ufunc="add", method=True, reduce="sum", accumulate="cumsum")
sub = binary("sub", _torch_promotion(operator.sub, "sub", "subtract"), (None, "neg"), uses="", operator="-", ufunc="subtract", aliases=("subtract",), method=True)
mul = binary("mul", _torch_promotion(operator.mul, "mul", "multiply"),
             ("y", "x"), needs=((1,), (0,)), operator="*", ufunc="multiply", aliases=("multiply",), method=True, reduce="prod", accumulate="cumprod")


def _dtype_of(x):
    data = getattr(x, "_data", x)
    return B.dtype_of(data if hasattr(data, "dtype") else B.as_array(data))


@public()
def rsub(input, other):  # noqa: A002
    """``other - input`` (PyTorch's ``rsub``)."""
    D.check_operand("rsub", input, "input")
    D.check_operand("rsub", other, "other")
    if _dtype_of(input).kind == "b" or _dtype_of(other).kind == "b":
        raise RuntimeError("rsub: subtraction with a bool tensor is not supported (as in PyTorch); to "
                           "invert a mask use ~mask or cr.logical_not(mask)")
    try:
        return sub(other, input)
    except ValueError:
        _check_broadcast("rsub", other, input)
        raise


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
    batching="elementwise", operator="/", ufunc="true_divide", aliases=("divide", "true_divide"), method=True,
    xp=_true_divide.xp,
)


def _is_complex(v) -> bool:
    """Whether ``v`` (a number, array, tensor or batch) is complex (off the float path)."""
    if type(v) is complex:
        return True
    dt = getattr(v, "dtype", None)
    return dt is not None and B.kind(dt) == "c"


def _pow_dx(m, ans, x, y):
    """``y x^(y-1)``, 0 where ``y == 0`` (also at x = inf or NaN) and 1 where ``y == 1``, as PyTorch."""
    if isinstance(y, (int, float, complex)):
        if y == 0:
            return m.zeros_like(x)
        if y == 1:
            return 1.0
        if y == 2:
            return 2.0 * x
        return y * x ** (y - 1)
    return m.where(y == 0, 0.0, y * x ** (y - 1))


def _pow_dy(m, ans, x, y):
    """``x^y log x``, with PyTorch's values at x = 0: 0 for y >= 0 (0^y is constant there) and
    -inf for y < 0. The branch not taken sees only finite values (1 for an infinite ``ans``, 1
    for a zero ``x``), so that differentiating this rule again gives no 0 · inf = NaN.
    Complex: ``x^y log x``, 0 where ``x == 0`` (PyTorch's)."""
    if _is_complex(x) or _is_complex(y):
        if isinstance(x, (int, float, complex)):
            return ans * (0.0 if x == 0 else cmath.log(x))
        zero = x == 0
        return m.where(zero, 0.0, ans * m.log(m.where(zero, 1.0, x)))
    if isinstance(x, (int, float)):
        if x > 0:
            return ans * math.log(x)
        if x == 0:
            negative = y < 0
            return m.where(negative, -math.inf, m.where(negative, 1.0, ans) * 0.0)
        return ans * math.nan
    zero = x == 0
    infinite = m.logical_and(zero, y < 0)
    finite = m.where(infinite, 1.0, ans) * m.log(m.where(zero, 1.0, x))
    return m.where(infinite, -math.inf, finite)


pow = binary("pow", _torch_promotion(operator.pow, "pow"), (_pow_dx, _pow_dy), uses="xy,ans",  # noqa: A001
             ans_for=(1,), operator="**", ufunc="power", method=True, cli=2)

logaddexp = binary("logaddexp", _torch_promotion(np.logaddexp, "logaddexp", floating="require"),
                   (lambda m, ans, x, y: m.sigmoid(x - y), lambda m, ans, x, y: m.sigmoid(y - x)),
                   ufunc="logaddexp", method=True, cli=2,
                   doc="log(exp(x) + exp(y)), computed without overflow; gradient sigmoid(x - y)")


def _neg(x):
    try:
        kind = x.dtype.kind
    except AttributeError:  # a Python number, or an array of another namespace
        if _foreign(x):
            return _neg_xp(B.namespace(x), x)
        return np.negative(x)
    if kind == "b":
        raise _neg_bool()
    return np.negative(x)


def _neg_bool() -> RuntimeError:
    return RuntimeError("neg: negation, the `-` operator, of a bool tensor is not supported (as in "
                        "PyTorch), got dtype bool; to invert a mask use ~mask or cr.logical_not(mask)")


_xp_negative = _xp_unary("negative", "neg")


def _neg_xp(space, x):
    if B.kind(x.dtype) == "b":
        raise _neg_bool()
    return _xp_negative(space, x)


neg = define("neg", _neg, (lambda m, g, ans, x: -g,), lambda m, tangents, ans, x: -tangents[0],
             save_inputs=False, batching="elementwise", operator="neg", ufunc="negative", aliases=("negative",), method=True,
             xp=_neg_xp)

# ---------------------------------------------------------------------------------------------
# Math functions: f and f'. At the edges of their domains the derivatives are PyTorch's:
# sqrt'(0) = inf, log'(0) = inf, reciprocal'(0) = -inf, tanh'(±1e4) = 0, ...
# ---------------------------------------------------------------------------------------------

exp = elementwise("exp", _floating(np.exp, "exp"), lambda m, ans, x: ans, uses="ans", ufunc="exp", method=True, cli=1)
expm1 = elementwise("expm1", _floating(np.expm1, "expm1"), lambda m, ans, x: ans + 1.0, uses="ans", ufunc="expm1", method=True, cli=1)
log = elementwise("log", _floating(np.log, "log"), lambda m, ans, x: 1.0 / x, ufunc="log", method=True, cli=1)
log1p = elementwise("log1p", _floating(np.log1p, "log1p"), lambda m, ans, x: 1.0 / (1.0 + x), ufunc="log1p", method=True, cli=1)
log2 = elementwise("log2", _floating(np.log2, "log2"), lambda m, ans, x: 1.0 / (x * math.log(2.0)), ufunc="log2", method=True, cli=1)
log10 = elementwise("log10", _floating(np.log10, "log10"), lambda m, ans, x: 1.0 / (x * math.log(10.0)), ufunc="log10", method=True, cli=1)
sqrt = elementwise("sqrt", _floating(np.sqrt, "sqrt"), lambda m, ans, x: 0.5 / ans, uses="ans", ufunc="sqrt", method=True, cli=1)


def _rsqrt(x):
    dt = getattr(x, "dtype", None)
    if dt is not _f32 and dt is not _f64:
        if _foreign(x):
            return _rsqrt_xp(B.namespace(x), x)
        if dt is None or dt.kind != "f":
            x = _floating_input("rsqrt", x)
    return 1.0 / np.sqrt(x)


def _rsqrt_xp(space, x):
    return 1.0 / _xp_floating("sqrt", "rsqrt")(space, x)


rsqrt = elementwise("rsqrt", _rsqrt, lambda m, ans, x: -0.5 * ans * ans * ans, uses="ans", method=True, cli=1, xp=_rsqrt_xp, template=T.Template(lambda p, k, v: f"1.0 / np.sqrt({p[0]})", (), T.MUL))
square = elementwise("square", _real(np.square, "square", bool_input="promote"), lambda m, ans, x: 2.0 * x, ufunc="square", method=True, cli=1)
reciprocal = elementwise("reciprocal", _floating(np.reciprocal, "reciprocal"),
                         lambda m, ans, x: -ans * ans, uses="ans", ufunc="reciprocal", method=True, cli=1)
sin = elementwise("sin", _floating(np.sin, "sin"), lambda m, ans, x: m.cos(x), ufunc="sin", method=True, cli=1)
cos = elementwise("cos", _floating(np.cos, "cos"), lambda m, ans, x: -m.sin(x), ufunc="cos", method=True, cli=1)
tan = elementwise("tan", _floating(np.tan, "tan"), lambda m, ans, x: 1.0 + ans * ans, uses="ans", ufunc="tan", method=True, cli=1)
arcsin = elementwise("arcsin", _floating(np.arcsin, "arcsin", "asin"), lambda m, ans, x: m.rsqrt(1.0 - x * x), ufunc="arcsin", aliases=("asin",), method=True, cli=1)
arccos = elementwise("arccos", _floating(np.arccos, "arccos", "acos"), lambda m, ans, x: -m.rsqrt(1.0 - x * x), ufunc="arccos", aliases=("acos",), method=True, cli=1)
arctan = elementwise("arctan", _floating(np.arctan, "arctan", "atan"), lambda m, ans, x: 1.0 / (1.0 + x * x), ufunc="arctan", aliases=("atan",), method=True, cli=1)
sinh = elementwise("sinh", _floating(np.sinh, "sinh"), lambda m, ans, x: m.cosh(x), ufunc="sinh", method=True, cli=1)
cosh = elementwise("cosh", _floating(np.cosh, "cosh"), lambda m, ans, x: m.sinh(x), ufunc="cosh", method=True, cli=1)
tanh = elementwise("tanh", _floating(np.tanh, "tanh"), lambda m, ans, x: 1.0 - ans * ans, uses="ans", ufunc="tanh", method=True, cli=1)


def _sigmoid(x):
    dt = getattr(x, "dtype", None)
    if (dt is _f64 or dt is _f32) and (type(x) is not np.ndarray or x.ndim == 0):
        v = float(x)  # one number: math is an order of magnitude cheaper than ufuncs here
        e = math.exp(-math.fabs(v))  # math.fabs: this module defines its own `abs`
        return dt.type(1.0 / (1.0 + e) if v >= 0 else e / (1.0 + e))
    if _foreign(x):
        return _sigmoid_xp(B.namespace(x), x)
    if dt is None or dt.kind != "f":
        x = _floating_input("sigmoid", x)
    return np.exp(-np.logaddexp(0.0, -x)).astype(x.dtype, copy=False)


def _sigmoid_xp(space, x):
    x = _xp_floating("positive", "sigmoid")(space, x)
    return space.exp(-space.logaddexp(space.zeros_like(x), -x))


sigmoid = elementwise("sigmoid", _sigmoid, lambda m, ans, x: ans * (1.0 - ans), uses="ans", method=True, cli=1, xp=_sigmoid_xp, template=T.Template(lambda p, k, v: f"1.0 / (1.0 + np.exp(-{p[0]}))", (T.POW,), T.MUL))


_SCIPY: list = []  # [scipy.special] or [None] once looked for (tests empty it to simulate its absence)


def _scipy_special():
    """``scipy.special``, or None when SciPy (an optional dependency: ``pip install
    chainrule[special]``) is not installed; looked for once, on first use."""
    if not _SCIPY:
        try:
            import scipy.special as special
        except ImportError:
            special = None
        _SCIPY.append(special)
    return _SCIPY[0]


def _erf(x):
    if getattr(x, "dtype", None) is None or x.dtype.kind != "f":
        x = _floating_input("erf", x)
    special = _scipy_special()
    if special is not None:
        out = special.erf(x)
        return out if out.dtype == x.dtype else out.astype(x.dtype)  # float16: SciPy's is float64
    # Without SciPy, Python's math.erf per element (correctly rounded, slow on large arrays).
    # np.asarray: on a 0-d array the frompyfunc ufunc returns a Python float, not an array.
    return np.asarray(_erf_scalar(x)).astype(x.dtype)


erf = elementwise("erf", _erf, lambda m, ans, x: _TWO_OVER_SQRT_PI * m.exp(-x * x), method=True, cli=1)

zeros_like_ = nondifferentiable("zeros_like", _guarded(np.zeros_like, "zeros_like", lambda space, x: space.zeros_like(x)), batching="elementwise", template=T.call("np.zeros_like"))


def _cast_vjp(m, g, ans, x, dtype):
    return m.cast(g, dtype=x.dtype)


def _cast(x, dtype):
    if x.dtype.kind == "c" and dtype.kind != "c":  # the real part, as PyTorch's (which warns)
        return np.real(x).astype(dtype)
    return x.astype(dtype, copy=False)


def _cast_xp(space, x, dtype):
    if B.kind(x.dtype) == "c" and B.kind(dtype) != "c":
        return B.astype(space.real(x), dtype)
    return B.astype(x, dtype)


cast = define("cast", _cast, (_cast_vjp,),
              lambda m, tangents, ans, x, dtype: m.cast(tangents[0], dtype=dtype), xp=_cast_xp, save_inputs="meta", batching="elementwise", template=T.Template(lambda p, k, v: f"{p[0]}.astype({T.dtype_code(k['dtype'])})", (T.ATOM,)))
