"""NumPy's remaining elementwise functions: ``fmax``/``fmin`` (NaN-ignoring extrema),
``float_power``, ``heaviside``, ``trunc`` (and ``fix``), ``floor_divide``, ``signbit``,
``logical_xor``, ``spacing``, ``nextafter`` and ``nan_to_num``.

Values are NumPy's; dtypes follow the elementwise family's PyTorch rules for tensors (NumPy's own
ufunc computes when no floating tensor is involved, see ``api/numpy_protocols``); gradients are
PyTorch's: ``fmax``'s gradient goes to ``x`` where ``x >= y`` or ``y`` is NaN, else to ``y``
(``torch.fmax``); ``trunc``, ``floor_divide`` are piecewise constant (zero gradient / none);
``heaviside``'s gradient is 0 in ``x`` and 1 in ``values`` where ``x == 0``; ``nan_to_num``
passes the gradient where the input is finite (``torch.nan_to_num``).
"""

from __future__ import annotations

import sys

import numpy as np

from ..core import backend as B
from ..core.dtypes import check_operand as _check_operand
from ..core.tensor import Tensor
from . import _table
from ._define import binary, named, nondifferentiable
from ._refusals import _BOOL_RULES
from .comparisons import _binary_numpy, isnan
from .elementwise import _torch_promotion, _xp_logical, cast, mul
from .elementwise import pow as _pow
from .piecewise import _real, _step, where
from .products import matmul
from .reductions import sum as _sum
from .shape import _shape, clone, reshape
from .ufuncs import _numpy_only

_F64 = np.dtype(np.float64)
_INF = float("inf")
_LARGEST = {2: 65504.0, 4: 3.4028234663852886e38, 8: sys.float_info.max}  # finfo(float16/32/64).max


def _x_wins(m, x, y):
    """Where ``fmax``/``fmin`` take ``x``: ``x`` beats or ties ``y``, or ``y`` is NaN."""
    return m.logical_or(x >= y, m.isnan(y))


def _x_loses(m, x, y):
    return m.logical_or(x <= y, m.isnan(y))


fmax = binary("fmax", _numpy_only(_torch_promotion(np.fmax, "fmax")),
              (lambda m, ans, x, y: _x_wins(m, x, y), lambda m, ans, x, y: m.logical_not(_x_wins(m, x, y))),
              ufunc="fmax", method=True, cli=2,
              doc="elementwise maximum ignoring NaN (NaN only where both are NaN); gradient to x where "
                  "x >= y or y is NaN, else to y (torch.fmax)")
fmin = binary("fmin", _numpy_only(_torch_promotion(np.fmin, "fmin")),
              (lambda m, ans, x, y: _x_loses(m, x, y), lambda m, ans, x, y: m.logical_not(_x_loses(m, x, y))),
              ufunc="fmin", method=True, cli=2,
              doc="elementwise minimum ignoring NaN (NaN only where both are NaN); gradient to x where "
                  "x <= y or y is NaN, else to y (torch.fmin)")


heaviside = binary("heaviside", _numpy_only(_torch_promotion(np.heaviside, "heaviside")),
                   (lambda m, ans, x, y: m.zeros_like(ans), lambda m, ans, x, y: x == 0),
                   uses="xy,ans", ufunc="heaviside", method=True, cli=2,
                   doc="0 where x < 0, values where x == 0, 1 where x > 0 (NaN at NaN); gradient 0 in x, "
                       "1 in values where x == 0")

trunc = _step("trunc", _real(np.trunc, "trunc"), ufunc="trunc", aliases=("fix",), numpy="fix", method=True,
              cli=1, doc="rounds toward zero, keeping the dtype (np.fix too); gradient 0")



def _signbit(x):
    kind = getattr(getattr(x, "dtype", None), "kind", None)
    if kind == "c":
        raise TypeError("signbit: complex tensors have no sign bit; take cr.real or cr.imag first")
    return np.asarray(np.signbit(x))


signbit = nondifferentiable("signbit", _numpy_only(_signbit), batching="elementwise", ufunc="signbit",
                            method=True, doc="whether the sign bit is set (True for -0.0 and negative NaNs)")
def _real_only(op, *values):
    for v in values:
        if getattr(getattr(v, "dtype", None), "kind", None) == "c":
            raise TypeError(f"{op}: complex tensors are not supported")


def _spacing(x):
    _real_only("spacing", x)
    return np.asarray(np.spacing(x))


def _nextafter(x, y):
    _real_only("nextafter", x, y)
    return np.asarray(np.nextafter(x, y))


spacing = nondifferentiable("spacing", _numpy_only(_spacing), batching="elementwise", ufunc="spacing",
                            doc="the distance to the nearest adjacent number (NumPy's spacing); no gradient")
nextafter = nondifferentiable("nextafter", _numpy_only(_torch_promotion(_nextafter, "nextafter", floating="require")), batching="elementwise", ufunc="nextafter",
                              doc="the next floating-point value after x towards y; no gradient")
logical_xor = nondifferentiable("logical_xor", _binary_numpy(np.logical_xor, _xp_logical("logical_xor")),
                                batching="elementwise", ufunc="logical_xor", method=True)


@_table.public(ufunc="float_power", method=True, cli=2)
def float_power(input, exponent):  # noqa: A002
    """``input ** exponent`` computed in float64 whatever the dtypes (as NumPy's and PyTorch's
    ``float_power``): ``cr.float_power(cr.tensor([2, 3]), 2)`` is ``[4., 9.]`` in float64."""
    def in_float64(v):
        if isinstance(v, (bool, int, float)):
            return float(v)
        if not isinstance(v, Tensor):
            v = Tensor._wrap(B.as_array(v))
        if B.numpy_dtype(v.dtype).kind == "c":
            raise TypeError("float_power: complex operands are not supported on chainrule tensors")
        return v if B.numpy_dtype(v.dtype) == _F64 else named("float_power", cast, v, dtype=_F64)

    _check_operand("float_power", input, "input")
    _check_operand("float_power", exponent, "exponent")
    return named("float_power", _pow, in_float64(input), in_float64(exponent))


def _real_number(value) -> bool:
    """A Python or NumPy real number (not a bool)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    dtype = getattr(value, "dtype", None)
    return dtype is not None and getattr(value, "ndim", 1) == 0 and dtype.kind in "iuf"


@_table.public(method=True, numpy="nan_to_num")
def nan_to_num(input, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None):  # noqa: A002
    """``input`` with NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (by default
    the largest and the most negative finite numbers of its dtype); the gradient passes where
    ``input`` is finite (torch.nan_to_num): ``cr.nan_to_num(cr.tensor([float('nan'), 1.0]))``."""
    _check_operand("nan_to_num", input, "input")
    if not isinstance(input, Tensor):
        input = Tensor._wrap(B.as_array(input))  # noqa: A001
    dtype = B.numpy_dtype(input.dtype)
    if dtype.kind not in "fc":
        return clone(input)
    if dtype.kind == "c":
        raise TypeError("nan_to_num: complex tensors are not supported here; convert real and imaginary parts")
    for value, what in ((nan, "nan"), (posinf, "posinf"), (neginf, "neginf")):
        if (value is not None or what == "nan") and not _real_number(value):
            raise TypeError(f"nan_to_num: {what} must be a real number, got {value!r:.40}")
    largest = _LARGEST.get(dtype.itemsize, sys.float_info.max)
    high = largest if posinf is None else float(posinf)
    low = -largest if neginf is None else float(neginf)
    out = where(isnan(input), float(nan), input)
    out = where(input == _INF, high, out)
    return where(input == -_INF, low, out)


# ---------------------------------------------------------------------------------------------
# NumPy 2's vector gufuncs: vecdot (n),(n)->(), matvec (m,n),(n)->(m), vecmat (n),(n,m)->(m)
# ---------------------------------------------------------------------------------------------

def _gufunc(name: str):
    """The ufunc to serve where the installed NumPy has it (vecdot: NumPy 2.0, matvec: 2.2)."""
    return name if hasattr(np, name) else None


def _core(op: str, signature: str, operands, needs) -> list:
    """The operands as tensors, checked as NumPy checks a gufunc's core dimensions."""
    out = []
    for position, (v, n) in enumerate(zip(operands, needs)):
        _check_operand(op, v, f"x{position + 1}")
        if not isinstance(v, Tensor):
            v = Tensor._wrap(B.as_array(v))
        if B.numpy_dtype(v.dtype).kind == "c":
            raise TypeError(f"{op}: complex tensors are not supported here")
        if len(_shape(v)) < n:
            raise ValueError(f"{op}: Input operand {position} does not have enough dimensions (has "
                             f"{len(_shape(v))}, gufunc core with signature {signature} requires {n})")
        out.append(v)
    return out


def _mismatch(op: str, signature: str, a: int, b: int) -> ValueError:
    return ValueError(f"{op}: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
                      f"{signature} (size {b} is different from {a})")


@_table.public(ufunc=_gufunc("vecdot"))
def vecdot(x1, x2, /):
    """The dot products of the vectors along the last axes (NumPy's ``vecdot`` gufunc,
    ``(n),(n)->()``), broadcasting the others: ``cr.vecdot(cr.ones(2, 3), cr.ones(3))`` is ``[3, 3]``."""
    a, b = _core("vecdot", "(n),(n)->()", (x1, x2), (1, 1))
    if _shape(a)[-1] != _shape(b)[-1]:
        raise _mismatch("vecdot", "(n),(n)->()", _shape(a)[-1], _shape(b)[-1])
    return named("vecdot", lambda: _sum(mul(a, b), -1))


@_table.public(ufunc=_gufunc("matvec"))
def matvec(x1, x2, /):
    """Matrix-vector products over the last axes (NumPy's ``matvec`` gufunc, ``(m,n),(n)->(m)``),
    broadcasting the others: ``cr.matvec(cr.eye(2), cr.tensor([1.0, 2.0]))`` is ``[1, 2]``."""
    a, v = _core("matvec", "(m,n),(n)->(m)", (x1, x2), (2, 1))
    if _shape(a)[-1] != _shape(v)[-1]:
        raise _mismatch("matvec", "(m,n),(n)->(m)", _shape(a)[-1], _shape(v)[-1])
    out = named("matvec", matmul, a, reshape(v, _shape(v) + (1,)))
    return reshape(out, _shape(out)[:-1])


@_table.public(ufunc=_gufunc("vecmat"))
def vecmat(x1, x2, /):
    """Vector-matrix products over the last axes (NumPy's ``vecmat`` gufunc, ``(n),(n,m)->(m)``),
    broadcasting the others: ``cr.vecmat(cr.tensor([1.0, 2.0]), cr.eye(2))`` is ``[1, 2]``."""
    v, a = _core("vecmat", "(n),(n,m)->(m)", (x1, x2), (1, 2))
    if _shape(a)[-2] != _shape(v)[-1]:
        raise _mismatch("vecmat", "(n),(n,m)->(m)", _shape(v)[-1], _shape(a)[-2])
    out = named("vecmat", matmul, reshape(v, _shape(v)[:-1] + (1, _shape(v)[-1])), a)
    return reshape(out, _shape(out)[:-2] + _shape(out)[-1:])


# ---------------------------------------------------------------------------------------------
# Integer ufuncs: bitwise operations, shifts, gcd, lcm (no gradient; NumPy's values and dtypes)
# ---------------------------------------------------------------------------------------------

def _refuse_bool(op):
    def rule(dtype, *operands):
        if dtype.kind == "b":
            raise RuntimeError(f"{op}: not implemented for bool tensors (as in PyTorch); convert them first, e.g. x.int()")
        return None

    return rule


for _op in ("left_shift", "right_shift", "gcd", "lcm"):
    _BOOL_RULES[_op] = _refuse_bool(_op)


def _integers_only(op: str, *values) -> None:
    for v in values:
        kind = getattr(getattr(v, "dtype", None), "kind", "i")
        if kind not in "biu":
            raise TypeError(f"{op}: only integer and bool tensors are supported (as in NumPy), got dtype {v.dtype}")


def _integers(op, ufunc):
    """NumPy's integer ufunc ``ufunc`` for operation ``op``: integer and bool operands only."""
    if ufunc.nin == 1:
        def impl(x):
            _integers_only(op, x)
            return np.asarray(ufunc(x))
    else:
        def impl(x, y):  # type: ignore[misc]
            _integers_only(op, x, y)
            return np.asarray(ufunc(x, y))

    impl.__name__ = f"_{op}"
    return impl


_bitwise_and = _integers("bitwise_and", np.bitwise_and)
_bitwise_or = _integers("bitwise_or", np.bitwise_or)
_bitwise_xor = _integers("bitwise_xor", np.bitwise_xor)
_invert = _integers("bitwise_not", np.invert)
_left_shift = _integers("left_shift", np.left_shift)
_right_shift = _integers("right_shift", np.right_shift)
_gcd = _integers("gcd", np.gcd)
_lcm = _integers("lcm", np.lcm)


bitwise_and = nondifferentiable("bitwise_and", _numpy_only(_torch_promotion(_bitwise_and, "bitwise_and")), batching="elementwise", ufunc="bitwise_and",
                                doc="bitwise (bool: logical) and of integer tensors")
bitwise_or = nondifferentiable("bitwise_or", _numpy_only(_torch_promotion(_bitwise_or, "bitwise_or")), batching="elementwise", ufunc="bitwise_or",
                               doc="bitwise (bool: logical) or of integer tensors")
bitwise_xor = nondifferentiable("bitwise_xor", _numpy_only(_torch_promotion(_bitwise_xor, "bitwise_xor")), batching="elementwise", ufunc="bitwise_xor",
                                doc="bitwise (bool: logical) exclusive or of integer tensors")
bitwise_not = nondifferentiable("bitwise_not", _numpy_only(_invert), batching="elementwise", ufunc="invert",
                                aliases=("invert", "bitwise_invert"),
                                doc="bitwise (bool: logical) not of integer tensors (NumPy's invert)")
left_shift = nondifferentiable("left_shift", _numpy_only(_torch_promotion(_left_shift, "left_shift")), batching="elementwise", ufunc="left_shift",
                               aliases=("bitwise_left_shift",), doc="x << y of integer tensors")
right_shift = nondifferentiable("right_shift", _numpy_only(_torch_promotion(_right_shift, "right_shift")), batching="elementwise", ufunc="right_shift",
                                aliases=("bitwise_right_shift",), doc="x >> y of integer tensors")
gcd = nondifferentiable("gcd", _numpy_only(_torch_promotion(_gcd, "gcd")), batching="elementwise", ufunc="gcd",
                        doc="the greatest common divisor of integer tensors")
lcm = nondifferentiable("lcm", _numpy_only(_torch_promotion(_lcm, "lcm")), batching="elementwise", ufunc="lcm",
                        doc="the least common multiple of integer tensors")
if hasattr(np, "bitwise_count"):  # NumPy 2.0
    bitwise_count = nondifferentiable("bitwise_count", _numpy_only(_integers("bitwise_count", np.bitwise_count)), batching="elementwise",
                                      ufunc="bitwise_count", doc="the number of 1-bits in |x| (uint8)")
