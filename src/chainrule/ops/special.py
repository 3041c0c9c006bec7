"""Special functions (``cr.special``): gamma family, error functions, Bessel functions, logistic functions.

SciPy's names and values (``scipy.special``), differentiable to any order: every derivative is
written with primitives (``gammaln′ = digamma``, ``digamma′ = polygamma(1, ·)``, ``i0′ = i1``,
...), so second and third derivatives work in both modes.

SciPy is an optional dependency (``pip install chainrule[special]``), imported the first time a
function needs it: without it, the functions that need SciPy raise an ``ImportError`` naming
the package; ``expit``, ``logit``, ``xlogy``, ``xlog1py``, ``logsumexp``, ``sinc``, ``entr``,
``erf`` (Python's ``math.erf``) and the Bessel functions ``i0``, ``i0e``, ``i1``, ``i1e``
(Cephes' Chebyshev series, SciPy's own algorithm) are computed with NumPy and work without it,
derivatives included. Integer and bool inputs compute in the default float dtype, as PyTorch's floating
functions; float32 stays float32.

``scipy.special.<name>(t)`` on a tensor (SciPy's ufuncs reach ``Tensor.__array_ufunc__``)
dispatches to ``cr.special.<name>`` for these names (the ``ufunc="scipy.special.<name>"`` key);
any other SciPy ufunc on a tensor raises naming it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.dtypes import check_operand as _check_operand
from . import elementwise as _E
from . import piecewise as _PW
from . import shape as _SH
from . import statistics as _ST
from . import ufuncs as _U
from ._define import binary, elementwise
from ._table import public
from .comparisons import isfinite as _isfinite
from .comparisons import isinf as _isinf
from .comparisons import logical_and as _logical_and
from .extrema import amax_prim as _amax_prim
from .reductions import _dims, _keepdim, sum_prim
from .shape import _dtype, _ndim, _shape

_SQRT_PI = math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2.0 / _SQRT_PI
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_INV_SQRT_2PI = 1.0 / _SQRT_2PI


def _scipy(op: str):
    """``scipy.special``, or the ImportError that names the package and the extra."""
    sp = _E._scipy_special()
    if sp is None:
        raise ImportError(  # the primitive's name first: the dispatcher passes the error on as it is
            f"{op}: cr.special.{op} needs SciPy (scipy.special), which is not installed: pip install "
            f"chainrule[special] (or pip install scipy)"
        )
    return sp


def _float(op: str, x):
    """``x`` as a floating array: integers and bools in the default float dtype, complex refused."""
    dt = getattr(x, "dtype", None)
    if not isinstance(dt, np.dtype) or dt.kind != "f":
        if _E._foreign(x):
            raise _numpy_only(op, x)
        return _E._floating_input(f"special.{op}", x)
    return x


def _numpy_only(op: str, x) -> TypeError:
    return TypeError(f"{op}: cr.special.{op} computes with NumPy and SciPy only; got an array of another "
                     f"namespace ({type(x).__module__}.{type(x).__name__}): convert it to a NumPy array first")


def _in(dtype, out):
    """``out`` in ``dtype`` (SciPy computes float16 and some float32 inputs in float64)."""
    return out if out.dtype == dtype else out.astype(dtype)


def _unary(op: str, scipy_name: str):
    """The forward of a unary SciPy ufunc, in the input's floating dtype."""

    def impl(x):
        x = _float(op, x)
        return _in(x.dtype, getattr(_scipy(op), scipy_name)(x))

    impl.__name__ = op
    return impl


def _safe(m, x, at, value=1.0):
    """``x`` with ``value`` where ``at`` holds: the branch not taken of a ``where`` sees no
    singular point, so differentiating it again gives no 0 · inf."""
    return m.where(at, value, x)


# ---------------------------------------------------------------------------------------------
# Primitives: their derivatives are primitives again
# ---------------------------------------------------------------------------------------------

gammaln_prim = elementwise("gammaln", _unary("gammaln", "gammaln"), lambda m, ans, x: m.digamma(x),
                           doc="log |Γ(x)|; gradient digamma(x)")
digamma_prim = elementwise("digamma", _unary("digamma", "psi"), lambda m, ans, x: m.polygamma(x, n=1),
                           doc="ψ(x) = Γ′(x)/Γ(x); gradient polygamma(1, x)")


def _polygamma(x, n):
    x = _float("polygamma", x)
    return _in(x.dtype, _scipy("polygamma").polygamma(n, x))


polygamma_prim = elementwise("polygamma", _polygamma, lambda m, ans, x, n: m.polygamma(x, n=n + 1),
                             doc="the n-th derivative of digamma (n ≥ 1); gradient polygamma(n + 1, x)")
erfc_prim = elementwise("erfc", _unary("erfc", "erfc"), lambda m, ans, x: -_TWO_OVER_SQRT_PI * m.exp(-x * x),
                        doc="1 - erf(x) without cancellation")
erfinv_prim = elementwise("erfinv", _unary("erfinv", "erfinv"),
                          lambda m, ans, x: (0.5 * _SQRT_PI) * m.exp(ans * ans), uses="ans",
                          doc="the inverse of erf on (-1, 1); gradient √π/2 · exp(erfinv(x)²)")
erfcx_prim = elementwise("erfcx", _unary("erfcx", "erfcx"), lambda m, ans, x: 2.0 * x * ans - _TWO_OVER_SQRT_PI,
                         uses="x,ans", doc="exp(x²) · erfc(x); gradient 2x · erfcx(x) - 2/√π")
ndtr_prim = elementwise("ndtr", _unary("ndtr", "ndtr"), lambda m, ans, x: _INV_SQRT_2PI * m.exp(-0.5 * x * x),
                        doc="the standard normal CDF Φ(x)")
log_ndtr_prim = elementwise("log_ndtr", _unary("log_ndtr", "log_ndtr"),
                            lambda m, ans, x: _INV_SQRT_2PI * m.exp(-0.5 * x * x - ans), uses="x,ans",
                            doc="log Φ(x), accurate far in the left tail; gradient φ(x)/Φ(x)")
ndtri_prim = elementwise("ndtri", _unary("ndtri", "ndtri"), lambda m, ans, x: _SQRT_2PI * m.exp(0.5 * ans * ans),
                         uses="ans", doc="the inverse of Φ on (0, 1); gradient √(2π) · exp(ndtri(p)²/2)")


# Without SciPy, the Bessel functions by Cephes' Chebyshev series (as SciPy, PyTorch and np.i0
# compute them; Cephes Math Library, 3-clause BSD licence): exp(-|x|) I(x) on [0, 8] in x/2 - 2,
# and exp(-|x|) sqrt(|x|) I(x) on (8, inf) in 32/|x| - 2.
_I0E_A = (
    -4.41534164647933937950e-18, 3.33079451882223809783e-17, -2.43127984654795469359e-16,
    1.71539128555513303061e-15, -1.16853328779934516808e-14, 7.67618549860493561688e-14,
    -4.85644678311192946090e-13, 2.95505266312963983461e-12, -1.72682629144155570723e-11,
    9.67580903537323691224e-11, -5.18979560163526290666e-10, 2.65982372468238665035e-09,
    -1.30002500998624804212e-08, 6.04699502254191894932e-08, -2.67079385394061173391e-07,
    1.11738753912010371815e-06, -4.41673835845875056359e-06, 1.64484480707288970893e-05,
    -5.75419501008210370398e-05, 1.88502885095841655729e-04, -5.76375574538582365885e-04,
    1.63947561694133579842e-03, -4.32430999505057594430e-03, 1.05464603945949983183e-02,
    -2.37374148058994688156e-02, 4.93052842396707084878e-02, -9.49010970480476444210e-02,
    1.71620901522208775349e-01, -3.04682672343198398683e-01, 6.76795274409476084995e-01)
_I0E_B = (
    -7.23318048787475395456e-18, -4.83050448594418207126e-18, 4.46562142029675999901e-17,
    3.46122286769746109310e-17, -2.82762398051658348494e-16, -3.42548561967721913462e-16,
    1.77256013305652638360e-15, 3.81168066935262242075e-15, -9.55484669882830764870e-15,
    -4.15056934728722208663e-14, 1.54008621752140982691e-14, 3.85277838274214270114e-13,
    7.18012445138366623367e-13, -1.79417853150680611778e-12, -1.32158118404477131188e-11,
    -3.14991652796324136454e-11, 1.18891471078464383424e-11, 4.94060238822496958910e-10,
    3.39623202570838634515e-09, 2.26666899049817806459e-08, 2.04891858946906374183e-07,
    2.89137052083475648297e-06, 6.88975834691682398426e-05, 3.36911647825569408990e-03,
    8.04490411014108831608e-01)
_I1E_A = (
    2.77791411276104639959e-18, -2.11142121435816608115e-17, 1.55363195773620046921e-16,
    -1.10559694773538630805e-15, 7.60068429473540693410e-15, -5.04218550472791168711e-14,
    3.22379336594557470981e-13, -1.98397439776494371520e-12, 1.17361862988909016308e-11,
    -6.66348972350202774223e-11, 3.62559028155211703701e-10, -1.88724975172282928790e-09,
    9.38153738649577178388e-09, -4.44505912879632808065e-08, 2.00329475355213526229e-07,
    -8.56872026469545474066e-07, 3.47025130813767847674e-06, -1.32731636560394358279e-05,
    4.78156510755005422638e-05, -1.61760815825896745588e-04, 5.12285956168575772895e-04,
    -1.51357245063125314899e-03, 4.15642294431288815669e-03, -1.05640848946261981558e-02,
    2.47264490306265168283e-02, -5.29459812080949914269e-02, 1.02643658689847095384e-01,
    -1.76416518357834055153e-01, 2.52587186443633654823e-01)
_I1E_B = (
    7.51729631084210481353e-18, 4.41434832307170791151e-18, -4.65030536848935832153e-17,
    -3.20952592199342395980e-17, 2.96262899764595013876e-16, 3.30820231092092828324e-16,
    -1.88035477551078244854e-15, -3.81440307243700780478e-15, 1.04202769841288027642e-14,
    4.27244001671195135429e-14, -2.10154184277266431302e-14, -4.08355111109219731823e-13,
    -7.19855177624590851209e-13, 2.03562854414708950722e-12, 1.41258074366137813316e-11,
    3.25260358301548823856e-11, -1.89749581235054123450e-11, -5.58974346219658380687e-10,
    -3.83538038596423702205e-09, -2.63146884688951950684e-08, -2.51223623787020892529e-07,
    -3.88256480887769039346e-06, -1.10588938762623716291e-04, -9.76109749136146840777e-03,
    7.78576235018280120474e-01)


def _chbevl(y, coefficients):
    """Cephes' ``chbevl``: the Chebyshev series ``coefficients`` at ``y`` (Clenshaw's recurrence)."""
    b0, b1, b2 = np.full_like(y, coefficients[0]), np.zeros_like(y), np.zeros_like(y)
    for c in coefficients[1:]:
        b2, b1 = b1, b0
        b0 = y * b1 - b2 + c
    return 0.5 * (b0 - b2)


def _bessel_e(x, order: int, scaled: bool):
    """``I_order(x)`` (``exp(-|x|) I_order(x)`` when ``scaled``) in float64, without SciPy."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        near = _chbevl(a / 2.0 - 2.0, _I1E_A if order else _I0E_A) * (a if order else 1.0)
        far = _chbevl(32.0 / a - 2.0, _I1E_B if order else _I0E_B) / np.sqrt(a)
        out = np.where(a <= 8.0, near, far)
        if not scaled:
            out = np.exp(a) * out  # (NaN at ±inf, as SciPy's)
    return np.where(x < 0, -out, out) if order else out


def _bessel(op: str, order: int, scaled: bool):
    """The forward of ``op``: SciPy's when installed, else Cephes' series here."""

    def impl(x):
        x = _float(op, x)
        special = _E._scipy_special()
        if special is None:
            out = _bessel_e(x, order, scaled)
            return _in(x.dtype, out if np.ndim(x) else out[()])
        return _in(x.dtype, getattr(special, op)(x))

    impl.__name__ = op
    return impl


def _i0(x):
    x = _float("i0", x)
    sp = _E._scipy_special()
    if sp is None:  # NumPy's own (Cephes' Chebyshev series, as SciPy's): the same values, slower
        return _in(x.dtype, np.asarray(np.i0(x)) if np.ndim(x) else np.i0(np.reshape(x, (1,)))[0])
    return _in(x.dtype, sp.i0(x))


i0_prim = elementwise("i0", _i0, lambda m, ans, x: m.i1(x), doc="the modified Bessel function I₀; gradient i1(x)")
i0e_prim = elementwise("i0e", _bessel("i0e", 0, True), lambda m, ans, x: m.i1e(x) - m.sign(x) * ans, uses="x,ans",
                       doc="exp(-|x|) · I₀(x); gradient i1e(x) - sign(x) · i0e(x)")


def _i1_derivative(m, ans, x):
    """``I₁′ = I₀ - I₁/x``, ½ at 0 (its limit)."""
    zero = x == 0
    return m.where(zero, 0.5, m.i0(x) - ans / _safe(m, x, zero))


def _i1e_derivative(m, ans, x):
    """``(e^{-|x|} I₁)′ = i0e - i1e/x - sign(x) i1e``, ½ at 0 (its limit)."""
    zero = x == 0
    return m.where(zero, 0.5, m.i0e(x) - ans * (1.0 / _safe(m, x, zero) + m.sign(x)))


i1_prim = elementwise("i1", _bessel("i1", 1, False), _i1_derivative, uses="x,ans",
                      doc="the modified Bessel function I₁; gradient i0(x) - i1(x)/x")
i1e_prim = elementwise("i1e", _bessel("i1e", 1, True), _i1e_derivative, uses="x,ans",
                       doc="exp(-|x|) · I₁(x)")


def _logit(x):
    x = _float("logit", x)
    with np.errstate(divide="ignore", invalid="ignore"):
        # log(x / (1 - x)), with log1p near ½ where the quotient is close to 1 (as SciPy).
        near = np.abs(x - 0.5) < 0.2
        out = np.where(near, np.log1p((2.0 * x - 1.0) / (1.0 - x)), np.log(x / (1.0 - x)))
    return _in(x.dtype, out)


logit_prim = elementwise("logit", _logit, lambda m, ans, x: 1.0 / (x * (1.0 - x)),
                         doc="log(p / (1 - p)), the inverse of expit; gradient 1 / (p (1 - p))")


def _entr(x):
    x = _float("entr", x)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(x > 0, -x * np.log(np.where(x > 0, x, 1.0)), np.where(x == 0, 0.0, -np.inf))
    return _in(x.dtype, np.where(np.isnan(x), x, out))


entr_prim = elementwise("entr", _entr, lambda m, ans, x: -(m.log(x) + 1.0),
                        doc="-x log x for x > 0, 0 at 0, -inf for x < 0; gradient -(log x + 1)")


def _binary_float(op: str, fn):
    """``fn(x, y)`` on operands in PyTorch's floating result dtype (integers: the default float)."""

    def impl(x, y):
        for v in (x, y):
            if _E._foreign(v):
                raise _numpy_only(op, v)
        dt = _E.B.result_dtype(x, y, floating=True)
        if dt.kind != "f":
            _E._refuse_complex(f"special.{op}", x, y)
        x, y = (np.asarray(_E.B.in_dtype(v, dt)) for v in (x, y))
        with np.errstate(divide="ignore", invalid="ignore"):
            out = fn(x, y)
        return _in(dt, np.asarray(out))

    impl.__name__ = op
    return impl


def _xlogy(x, y):
    zero = x == 0
    return np.where(zero, np.where(np.isnan(y), y, 0.0), x * np.log(np.where(zero, 1.0, y))).astype(x.dtype)


def _xlog1py(x, y):
    zero = x == 0
    return np.where(zero, np.where(np.isnan(y), y, 0.0), x * np.log1p(np.where(zero, 0.0, y))).astype(x.dtype)


xlogy_prim = binary(
    "xlogy", _binary_float("xlogy", _xlogy),
    (lambda m, ans, x, y: m.where(x == 0, 0.0, m.log(_safe(m, y, x == 0))), lambda m, ans, x, y: x / y),
    doc="x · log(y), 0 where x = 0 (unless y is NaN); gradients log(y) (0 where x = 0) and x / y")
xlog1py_prim = binary(
    "xlog1py", _binary_float("xlog1py", _xlog1py),
    (lambda m, ans, x, y: m.where(x == 0, 0.0, m.log1p(_safe(m, y, x == 0, 0.0))), lambda m, ans, x, y: x / (1.0 + y)),
    doc="x · log1p(y), 0 where x = 0 (unless y is NaN); gradients log1p(y) (0 where x = 0) and x / (1 + y)")


# ---------------------------------------------------------------------------------------------
# Public functions: SciPy's names and signatures
# ---------------------------------------------------------------------------------------------

def _unary_public(name: str, prim, doc: str, numpy: str | None = None):
    def function(x: Any):
        _check_operand(f"special.{name}", x, "x")
        return prim(x)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    function.__module__ = "chainrule.special"
    public(f"special.{name}", ufunc=f"scipy.special.{name}", **({"numpy": numpy} if numpy else {}))(function)
    return function


gammaln = _unary_public("gammaln", gammaln_prim, """``log |Γ(x)|``; its gradient is ``digamma(x)``.

    >>> cr.special.gammaln(cr.tensor([1.0, 5.0]))  # log 0! = 0, log 4! = log 24
""")
digamma = _unary_public("digamma", digamma_prim, """The digamma function ``ψ(x) = d/dx log Γ(x)``
    (SciPy's ``psi``); its gradient is ``polygamma(1, x)``.

    >>> cr.special.digamma(cr.tensor([1.0]))  # -0.5772... (minus Euler's constant)
""")
erf = _unary_public("erf", _E.erf, """The error function ``2/√π ∫₀ˣ exp(-t²) dt``; gradient
    ``2/√π · exp(-x²)``. SciPy's values when SciPy is installed, Python's ``math.erf`` otherwise.

    >>> cr.special.erf(cr.tensor([0.0, 1.0]))  # [0, 0.8427...]
""")
erfc = _unary_public("erfc", erfc_prim, """``1 - erf(x)``, accurate where it is tiny (large x).

    >>> cr.special.erfc(cr.tensor([10.0]))  # 2.088e-45
""")
erfinv = _unary_public("erfinv", erfinv_prim, """The inverse of ``erf`` on ``(-1, 1)`` (±inf at ±1);
    gradient ``√π/2 · exp(erfinv(x)²)``.

    >>> cr.special.erfinv(cr.special.erf(cr.tensor([0.3])))  # [0.3]
""")
erfcx = _unary_public("erfcx", erfcx_prim, """The scaled complementary error function
    ``exp(x²) · erfc(x)``, without overflow for large x; gradient ``2x · erfcx(x) - 2/√π``.

    >>> cr.special.erfcx(cr.tensor([30.0]))  # 0.0187... (exp(900) would overflow)
""")
ndtr = _unary_public("ndtr", ndtr_prim, """The standard normal CDF ``Φ(x) = ½ erfc(-x/√2)``;
    gradient the normal density ``φ(x)``.

    >>> cr.special.ndtr(cr.tensor([0.0]))  # [0.5]
""")
log_ndtr = _unary_public("log_ndtr", log_ndtr_prim, """``log Φ(x)``, accurate in the far left tail;
    gradient ``φ(x) / Φ(x)``.

    >>> cr.special.log_ndtr(cr.tensor([-40.0]))  # -804.6..., where log(ndtr(x)) gives -inf
""")
ndtri = _unary_public("ndtri", ndtri_prim, """The inverse of the standard normal CDF on ``(0, 1)``;
    gradient ``√(2π) · exp(ndtri(p)²/2)``.

    >>> cr.special.ndtri(cr.tensor([0.975]))  # [1.95996...]
""")
i0 = _unary_public("i0", i0_prim, """The modified Bessel function of the first kind, order 0;
    gradient ``i1(x)``. Computed by SciPy when installed, by ``np.i0`` otherwise. Also serves
    ``np.i0(t)``.

    >>> cr.special.i0(cr.tensor([0.0, 1.0]))  # [1, 1.2660...]
""", numpy="i0")
i0e = _unary_public("i0e", i0e_prim, """``exp(-|x|) · i0(x)``, without overflow; gradient
    ``i1e(x) - sign(x) · i0e(x)``.

    >>> cr.special.i0e(cr.tensor([1000.0]))  # [0.01261...]
""")
i1 = _unary_public("i1", i1_prim, """The modified Bessel function of the first kind, order 1;
    gradient ``i0(x) - i1(x)/x`` (½ at 0).

    >>> cr.special.i1(cr.tensor([1.0]))  # [0.5651...]
""")
i1e = _unary_public("i1e", i1e_prim, """``exp(-|x|) · i1(x)``, without overflow; gradient
    ``i0e(x) - i1e(x) · (1/x + sign(x))`` (½ at 0).

    >>> cr.special.i1e(cr.tensor([1.0]))  # [0.2079...]
""")
logit = _unary_public("logit", logit_prim, """``log(p / (1 - p))``, the inverse of ``expit``
    (±inf at 1 and 0, NaN outside [0, 1]); gradient ``1 / (p (1 - p))``.

    >>> cr.special.logit(cr.tensor([0.5, 0.75]))  # [0, log 3]
""")
entr = _unary_public("entr", entr_prim, """The elementwise entropy ``-x log x`` (0 at 0, -inf for
    x < 0); gradient ``-(log x + 1)``.

    >>> cr.special.entr(cr.tensor([0.5]))  # [0.3466...]
""")


@public("special.expit", ufunc="scipy.special.expit")
def expit(x: Any):
    """The logistic function ``1 / (1 + exp(-x))`` (``cr.sigmoid``); gradient
    ``expit(x) (1 - expit(x))``.

    >>> cr.special.expit(cr.tensor([0.0]))  # [0.5]
    """
    _check_operand("special.expit", x, "x")
    return _E.sigmoid(x)


def _binary_public(name: str, prim, doc: str):
    def function(x: Any, y: Any):
        _check_operand(f"special.{name}", x, "x")
        _check_operand(f"special.{name}", y, "y")
        try:
            return prim(x, y)
        except ValueError:
            _E._check_broadcast(f"special.{name}", x, y)
            raise

    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    function.__module__ = "chainrule.special"
    public(f"special.{name}", ufunc=f"scipy.special.{name}")(function)
    return function


xlogy = _binary_public("xlogy", xlogy_prim, """``x · log(y)``, 0 where ``x == 0`` (even at y = 0),
    broadcasting; gradients ``log(y)`` (0 where x = 0, as PyTorch) and ``x / y``.

    >>> cr.special.xlogy(cr.tensor([0.0, 2.0]), cr.tensor([0.0, 3.0]))  # [0, 2 log 3]
""")
xlog1py = _binary_public("xlog1py", xlog1py_prim, """``x · log1p(y)``, 0 where ``x == 0`` (even at
    y = -1), broadcasting; gradients ``log1p(y)`` (0 where x = 0) and ``x / (1 + y)``.

    >>> cr.special.xlog1py(cr.tensor([0.0, 2.0]), cr.tensor([-1.0, 1e-20]))  # [0, 2e-20]
""")


@public("special.polygamma")
def polygamma(n: int, x: Any):
    """The ``n``-th derivative of ``digamma`` (``n`` a non-negative Python int; 0 gives digamma);
    its gradient is ``polygamma(n + 1, x)``. Unlike SciPy, ``n`` cannot be an array.

    >>> cr.special.polygamma(1, cr.tensor([1.0]))  # [π²/6]
    """
    _check_operand("special.polygamma", x, "x")
    if isinstance(n, (bool, _E.B.bool_)) or not isinstance(n, (int, _E.B.integer)):
        raise TypeError(f"special.polygamma: n must be a non-negative int, got {type(n).__name__} {n!r:.40}; "
                        f"for several orders call it once per order")
    if n < 0:
        raise ValueError(f"special.polygamma: n must be a non-negative int, got {n}")
    return digamma_prim(x) if n == 0 else polygamma_prim(x, n=int(n))




def _floating_operand(op: str, x, name: str):
    """``x`` (a tensor or array of real numbers, or a number) in a floating dtype: integers and
    bools in the default float dtype; a floating operand unchanged."""
    x = _check_operand(op, x, name)
    if hasattr(x, "_data"):
        dt = _dtype(x)
        return x if dt.kind == "f" else _E.cast(x, dtype=_E.B.floating_dtype(dt))
    return _float(op.rpartition(".")[2], x)


@public("special.sinc")
def sinc(x: Any):
    """The normalised sinc function ``sin(πx) / (πx)``, 1 at 0: ``cr.sinc`` (NumPy's ``np.sinc``),
    whose derivatives of every order are right at 0 too.

    >>> cr.special.sinc(cr.tensor([0.0, 0.5]))  # [1, 2/π]
    """
    return _U.sinc(_floating_operand("special.sinc", x, "x"))


@public("special.logsumexp")
def logsumexp(a: Any, axis=None, b: Any = None, keepdims: bool = False, return_sign: bool = False):
    """``log(sum(b · exp(a)))`` over ``axis`` (an int, a tuple or None: all), computed without
    overflow; SciPy's signature. ``b`` (weights, broadcast against ``a``) may be negative or 0:
    with ``return_sign`` the result is ``(log |sum|, sign)`` (the sign carries no gradient),
    otherwise a negative sum gives NaN, as in SciPy. The gradient is ``b · exp(a - result)``
    (the softmax for ``b = None``). An empty sum is ``-inf``.

    >>> cr.special.logsumexp(cr.tensor([0.0, 0.0]))  # log 2
    >>> cr.special.logsumexp(cr.tensor([1.0, 2.0]), b=cr.tensor([1.0, -3.0]), return_sign=True)
    """
    op = "special.logsumexp"
    a = _floating_operand(op, a, "a")
    keepdims = _keepdim(op, keepdims)
    if not isinstance(return_sign, (bool, _E.B.bool_)):
        raise TypeError(f"{op}: return_sign must be a bool, got {type(return_sign).__name__}")
    if b is not None:
        _check_operand(op, b, "b")
        try:
            shape = _E.B.broadcast_shapes(_shape(a), _shape(b))
        except ValueError:
            raise ValueError(f"{op}: a of shape {_shape(a)} and b of shape {_shape(b)} cannot be broadcast "
                             f"together; give weights b of a's shape (or one that broadcasts to it)") from None
        a, b = _SH.broadcast_to(a, shape), _SH.broadcast_to(b, shape)
    dims = _dims(op, axis, _ndim(a))
    empty = 0 in _shape(a) if dims is None else any(_shape(a)[d] == 0 for d in dims)
    if b is None and not return_sign and not empty:
        return _ST.logsumexp_prim(a, dim=dims, keepdim=keepdims)
    top: Any = 0.0
    if not empty:  # shift by the largest exponent that counts: its gradient cancels exactly
        top = _amax_prim(a if b is None else _PW.where(b != 0, a, -math.inf), dim=dims, keepdim=True)
        top = _PW.where(_isfinite(top), top, 0.0)
    terms = _E.exp(a - top)
    if b is not None:  # a weight 0 where exp overflows (a term that does not count): 0, not 0 · inf
        terms = _PW.where(_logical_and(b == 0, _isinf(terms)), 0.0, b * terms)
    total = sum_prim(terms, dim=dims, keepdim=True)
    result = _E.log(_PW.abs(total) if return_sign else total) + top
    kept = _shape(result)
    if not keepdims:
        kept = tuple(n for i, n in enumerate(_shape(a)) if dims is not None and i not in dims)
        result = _SH.reshape(result, kept)
    if not return_sign:
        return result
    return result, _SH.reshape(_PW.sign(total), kept)
