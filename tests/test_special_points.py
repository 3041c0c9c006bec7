"""No wrong numbers at the edges (issue 10, item 5).

- float16 reductions accumulate in float32 and return float16 (PyTorch's accumulation type);
- integer and bool inputs to floating functions compute in the default float dtype, as PyTorch;
- complex inputs are refused with a clear TypeError by the operations PyTorch does not define
  for them (the others compute them: tests/test_complex.py);
- values and gradients at special points (zeros, NaN, ±inf, huge arguments, singular matrices)
  equal PyTorch's, in reverse mode, forward mode and at second order.

Every expectation is written down (closed forms that run without PyTorch); where PyTorch is
installed the same cases are also compared against it. Where chainrule deliberately differs from
PyTorch, the case says why (``differs``) and the function's docstring says so too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

nan, inf = math.nan, math.inf
LOG3000 = math.log(3000.0)


def _torch():
    return pytest.importorskip("torch")


def _assert_close(actual, expected, what, rtol=1e-7, atol=1e-12):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    # inf must match inf of the same sign, NaN must match NaN.
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=f"{what}: NaN positions")
    np.testing.assert_array_equal(np.isposinf(actual), np.isposinf(expected), err_msg=f"{what}: +inf positions")
    np.testing.assert_array_equal(np.isneginf(actual), np.isneginf(expected), err_msg=f"{what}: -inf positions")
    finite = np.isfinite(expected)
    np.testing.assert_allclose(actual[finite], expected[finite], rtol=rtol, atol=atol, err_msg=what)


# ---------------------------------------------------------------------------------------------
# 1. float16: accumulate in float32, return float16
# ---------------------------------------------------------------------------------------------

def _h(values):
    return cr.tensor(np.asarray(values, dtype=np.float16))


HALF_CASES = {
    # name: (chainrule function, torch function, input, expected value)
    "cumsum": (lambda x: cr.cumsum(x, 0)[-1], lambda x: x.cumsum(0)[-1], np.ones(3000), 3000.0),
    # Along a strided axis NumPy's pairwise summation does not apply: float16 stops at 2048.
    "sum_dim0": (lambda x: x.sum(0), lambda x: x.sum(0), np.ones((3000, 2)), [3000.0, 3000.0]),
    "mean_dim0": (lambda x: x.mean(0), lambda x: x.mean(0), np.full((3000, 2), 0.5), [0.5, 0.5]),
    "norm": (lambda x: cr.norm(x), lambda x: x.norm(), [300.0, 400.0], 500.0),  # 300² overflows
    "norm_p3": (lambda x: cr.norm(x, 3), lambda x: x.norm(3), [30.0, 40.0], 91000.0 ** (1 / 3)),
    "var": (lambda x: x.var(), lambda x: x.var(), [0.0, 300.0, 300.0, 0.0], 30000.0),
    "std": (lambda x: x.std(), lambda x: x.std(), [0.0, 600.0], 600.0 / math.sqrt(2.0)),
    "cumprod": (lambda x: cr.cumprod(x, 0), lambda x: x.cumprod(0), [300.0, 300.0, 1 / 300], [300.0, inf, 300.0]),
    "logsumexp": (lambda x: cr.logsumexp(x, 0), lambda x: x.logsumexp(0), np.zeros((3000, 2)), [LOG3000] * 2),
    "softmax": (lambda x: cr.softmax(x, 0)[0], lambda x: x.softmax(0)[0], np.zeros((3000, 2)), [1 / 3000] * 2),
    "log_softmax": (lambda x: cr.log_softmax(x, 0)[0], lambda x: x.log_softmax(0)[0], np.zeros((3000, 2)),
                    [-LOG3000] * 2),
    "cross_entropy": (lambda x: F.cross_entropy(x, cr.zeros((1, 2), dtype=cr.int64)),
                      lambda x: __import__("torch").nn.functional.cross_entropy(
                          x, __import__("torch").zeros((1, 2), dtype=__import__("torch").long)),
                      np.zeros((1, 3000, 2)), LOG3000),
}


@pytest.mark.parametrize("name", sorted(HALF_CASES))
def test_float16_reduction_accumulates_in_float32(name):
    fn, _, data, expected = HALF_CASES[name]
    with np.errstate(over="ignore"):  # cumprod's 90000 is inf in float16
        out = fn(_h(data))
    assert out.dtype == cr.float16
    # float16 has 11 significant bits: the expected value rounded to float16 is what comes back.
    _assert_close(out.numpy(), np.asarray(expected, dtype=np.float16), name, rtol=1e-3)


@pytest.mark.parametrize("name", sorted(HALF_CASES))
def test_float16_reduction_matches_torch(name):
    torch = _torch()
    fn, torch_fn, data, _ = HALF_CASES[name]
    with np.errstate(over="ignore"):
        ours = fn(_h(data)).numpy()
    theirs = torch_fn(torch.tensor(np.asarray(data, dtype=np.float16))).numpy()
    assert ours.dtype == theirs.dtype == np.float16
    _assert_close(ours, theirs, name, rtol=1e-3)


def test_float16_prod_accumulates_in_float32():
    # Deliberately not PyTorch's number: its CPU prod multiplies float16 partial products (300 *
    # 300 overflows, giving inf) although its cumprod does not; float32 accumulation gives 300.
    out = cr.prod(_h([300.0, 300.0, 1 / 300]))
    assert out.dtype == cr.float16 and abs(float(out) - 300.0) < 0.5


HALF_GRAD_CASES = {
    # Gradients go through the same float32 accumulation (cumsum's VJP is a reversed cumsum).
    # Each cotangent is 1/3000: a float16 running sum of them stalls near 0.5.
    "cumsum": (lambda x: cr.cumsum(x, 0).mean(), lambda x: x.cumsum(0).mean(), np.ones(3000),
               lambda g: g[0], 1.0),
    "norm": (lambda x: cr.norm(x), lambda x: x.norm(), [300.0, 400.0], lambda g: g, [0.6, 0.8]),
    "std": (lambda x: x.std(), lambda x: x.std(), [0.0, 600.0], lambda g: g, [-0.5 ** 0.5, 0.5 ** 0.5]),
    "logsumexp": (lambda x: cr.logsumexp(x, 0).sum(), lambda x: x.logsumexp(0).sum(), np.zeros((3000, 2)),
                  lambda g: g[0], [1 / 3000] * 2),
    "softmax": (lambda x: (cr.softmax(x, 0) * cr.tensor(np.arange(2.0, dtype=np.float16))).sum(),
                lambda x: (x.softmax(0) * __import__("torch").arange(2.0, dtype=x.dtype)).sum(),
                np.zeros((3000, 2)), lambda g: g[0], [0.0, 0.0]),
}


@pytest.mark.parametrize("name", sorted(HALF_GRAD_CASES))
def test_float16_gradients(name):
    fn, torch_fn, data, pick, expected = HALF_GRAD_CASES[name]
    x = _h(data).requires_grad_()
    fn(x).backward()
    assert x.grad.dtype == cr.float16
    _assert_close(pick(x.grad.numpy()), np.asarray(expected, dtype=np.float16), name, rtol=2e-3, atol=1e-4)
    try:
        import torch
    except ImportError:
        return
    t = torch.tensor(np.asarray(data, dtype=np.float16), requires_grad=True)
    torch_fn(t).backward()
    _assert_close(pick(x.grad.numpy()), pick(t.grad.numpy()), f"{name} vs torch", rtol=2e-3, atol=1e-4)


def test_float16_accumulation_costs_nothing_for_float32():
    # The float32/float64 path is untouched: same dtype, and float32 sums are exact here.
    x = cr.ones((3000, 2), dtype=cr.float32)
    assert x.sum(0).dtype == cr.float32 and x.sum(0).tolist() == [3000.0, 3000.0]
    assert cr.cumsum(x, 0)[-1].tolist() == [3000.0, 3000.0]


# ---------------------------------------------------------------------------------------------
# 2. Integer and bool inputs: PyTorch's promotion
# ---------------------------------------------------------------------------------------------

INT_DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.int32, np.int64]
FLOATING_FUNCTIONS = ["exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "reciprocal",
                      "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
                      "sigmoid", "erf"]
_TORCH_NAMES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan"}
_REFERENCE = {"rsqrt": lambda a: 1 / np.sqrt(a), "reciprocal": lambda a: 1 / a,
              "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
              "erf": np.vectorize(math.erf)}


def _int_input(dtype):
    values = [0, 1, 1, 0] if dtype is np.bool_ else [0, 1, 2, 3]
    return np.array(values).astype(dtype)


@pytest.fixture
def default_float64():
    old = cr.get_default_dtype()
    cr.set_default_dtype(cr.float64)
    yield
    cr.set_default_dtype(old)


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", FLOATING_FUNCTIONS)
def test_floating_function_of_integers_gives_default_float(name, dtype):
    data = _int_input(dtype)
    with np.errstate(all="ignore"):
        out = getattr(cr, name)(cr.tensor(data))
        reference = (_REFERENCE[name] if name in _REFERENCE else getattr(np, name))(data.astype(np.float64))
    assert out.dtype == cr.get_default_dtype() == cr.float32
    _assert_close(out.numpy(), reference.astype(np.float32), name, rtol=1e-6)


@pytest.mark.parametrize("name", ["exp", "sqrt", "sigmoid", "erf", "tanh"])
def test_floating_function_of_integers_follows_set_default_dtype(name, default_float64):
    assert getattr(cr, name)(cr.tensor(np.array([1, 2], dtype=np.int8))).dtype == cr.float64


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", FLOATING_FUNCTIONS)
def test_floating_function_of_integers_dtype_matches_torch(name, dtype):
    torch = _torch()
    data = _int_input(dtype)
    theirs = getattr(torch, _TORCH_NAMES.get(name, name))(torch.from_numpy(data))
    with np.errstate(all="ignore"):
        ours = getattr(cr, name)(cr.tensor(data))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")


MIXED_CASES = {
    # name: (function of an int64 tensor, expected dtype, expected values)
    "int_times_float": (lambda i: i * 1.5, cr.float32, [0.0, 1.5, 3.0, 4.5]),
    "int_div_int": (lambda i: i / i[1:2], cr.float32, [0.0, 1.0, 2.0, 3.0]),
    "int_plus_float32": (lambda i: i + cr.ones(4), cr.float32, [1.0, 2.0, 3.0, 4.0]),
    "int_plus_float16": (lambda i: i + cr.ones(4, dtype=cr.float16), cr.float16, [1.0, 2.0, 3.0, 4.0]),
    "int_maximum_float32": (lambda i: cr.maximum(i, cr.full((4,), 1.5)), cr.float32, [1.5, 1.5, 2.0, 3.0]),
    "where_int_float": (lambda i: cr.where(i > 1, i, 0.5), cr.float32, [0.5, 0.5, 2.0, 3.0]),
    "clamp_int_float_bounds": (lambda i: cr.clamp(i, 0.5, 2.5), cr.float32, [0.5, 1.0, 2.0, 2.5]),
    "clamp_int_tensor_bound": (lambda i: cr.clamp(i, min=cr.full((4,), 0.5)), cr.float32, [0.5, 1.0, 2.0, 3.0]),
    "logsumexp_int": (lambda i: cr.logsumexp(i, 0), cr.float32, math.log(sum(math.exp(k) for k in range(4)))),
    # Integer-preserving operations keep the integer dtype (PyTorch too).
    "square_int": (lambda i: cr.square(i), cr.int64, [0, 1, 4, 9]),
    "relu_int": (lambda i: cr.relu(i - 1), cr.int64, [0, 0, 1, 2]),
    "abs_int": (lambda i: cr.abs(i - 2), cr.int64, [2, 1, 0, 1]),
    "clamp_int_int_bounds": (lambda i: cr.clamp(i, 1, 2), cr.int64, [1, 1, 2, 2]),
    "floor_int": (lambda i: cr.floor(i), cr.int64, [0, 1, 2, 3]),
    "sum_int8": (lambda i: i.to(cr.dtypes.np.int8).sum(), cr.int64, 6),
    "cumsum_int8": (lambda i: cr.cumsum(i.to(cr.dtypes.np.int8), 0), cr.int64, [0, 1, 3, 6]),
    "prod_bool": (lambda i: (i > 0).prod(), cr.int64, 0),
}


@pytest.mark.parametrize("name", sorted(MIXED_CASES))
def test_integer_promotion(name):
    fn, dtype, expected = MIXED_CASES[name]
    out = fn(cr.tensor(np.arange(4)))
    assert out.dtype == dtype
    _assert_close(out.numpy(), expected, name, rtol=1e-6)


def test_integer_promotion_matches_torch():
    torch = _torch()
    i = torch.arange(4)
    assert (i * 1.5).dtype == (i / i).dtype == (i + torch.ones(4)).dtype == torch.float32
    assert (i + torch.ones(4, dtype=torch.float16)).dtype == torch.float16
    assert torch.where(i > 1, i, 0.5).dtype == torch.clamp(i, 0.5, 2.5).dtype == torch.float32
    assert torch.logsumexp(i, 0).dtype == torch.float32
    assert torch.square(i).dtype == torch.relu(i).dtype == torch.clamp(i, 1, 2).dtype == torch.int64
    assert i.to(torch.int8).sum().dtype == i.to(torch.int8).cumsum(0).dtype == torch.int64


# PyTorch refuses integer and bool tensors for these (RuntimeError); so does chainrule.
REFUSED_FOR_INTEGERS = {
    "mean": lambda x: x.mean(), "var": lambda x: x.var(), "std": lambda x: x.std(),
    "norm": lambda x: cr.norm(x), "norm_p3": lambda x: cr.norm(x, 3),
    "softmax": lambda x: cr.softmax(x, 0), "log_softmax": lambda x: cr.log_softmax(x, 0),
    "leaky_relu": cr.leaky_relu, "elu": cr.elu, "softplus": cr.softplus,
    "cross_entropy": lambda x: F.cross_entropy(x.reshape(1, -1), cr.tensor([0])),
    "det": lambda x: cr.linalg.det(x.reshape(2, 2)), "inv": lambda x: cr.linalg.inv(x.reshape(2, 2)),
}


@pytest.mark.parametrize("name", sorted(REFUSED_FOR_INTEGERS))
def test_integer_input_refused_as_pytorch(name):
    with pytest.raises(RuntimeError, match="int64"):
        REFUSED_FOR_INTEGERS[name](cr.tensor(np.arange(4)))


def test_relu_refuses_bool_as_pytorch():
    with pytest.raises(RuntimeError, match="relu.*bool"):
        cr.relu(cr.tensor([True, False]))


# ---------------------------------------------------------------------------------------------
# 3. Complex inputs: refused where PyTorch has no complex form, never the real part silently
# ---------------------------------------------------------------------------------------------

COMPLEX_REFUSED = {
    **{name: getattr(cr, name) for name in FLOATING_FUNCTIONS},
    **{name: getattr(cr, name) for name in ["abs", "square", "neg", "sign", "floor", "ceil", "round", "relu"]},
    "leaky_relu": cr.leaky_relu, "elu": cr.elu, "softplus": cr.softplus,
    "clamp": lambda z: cr.clamp(z, 0.0, 1.0), "clamp_tensor": lambda z: cr.clamp(z, cr.zeros(2)),
    "add": lambda z: z + 1.0, "sub": lambda z: 1.0 - z, "mul": lambda z: z * z, "div": lambda z: z / 2,
    "pow": lambda z: z ** 2, "maximum": lambda z: cr.maximum(z, z), "minimum": lambda z: cr.minimum(z, z),
    "where": lambda z: cr.where(cr.tensor([True, False]), z, 0.0),
    "cast": lambda z: z.to(cr.float64),
    "sum": lambda z: z.sum(), "mean": lambda z: z.mean(), "prod": lambda z: z.prod(),
    "cumsum": lambda z: cr.cumsum(z, 0), "cumprod": lambda z: cr.cumprod(z, 0),
    "amax": lambda z: z.amax(), "amin": lambda z: z.amin(), "max": lambda z: z.max(), "min": lambda z: z.min(),
    "argmax": lambda z: z.argmax(), "argmin": lambda z: z.argmin(),
    "var": lambda z: z.var(), "std": lambda z: z.std(), "norm": lambda z: cr.norm(z),
    "logsumexp": lambda z: cr.logsumexp(z, 0), "softmax": lambda z: cr.softmax(z, 0),
    "log_softmax": lambda z: cr.log_softmax(z, 0),
    "cross_entropy": lambda z: F.cross_entropy(z.reshape(1, 2), cr.tensor([0])),
}  # (complex linear algebra: tests/test_clinalg.py)


# Defined for complex numbers (values and gradients: tests/test_complex.py).
COMPLEX_SUPPORTED = {
    *FLOATING_FUNCTIONS, "abs", "square", "neg", "add", "sub", "mul", "div", "pow", "where", "cast",
    "sum", "mean", "prod", "cumsum", "cumprod", "var", "std",
} - {"sigmoid", "erf"}


def _complex_tensor(values):
    return cr.Tensor._wrap(np.asarray(values, dtype=np.complex128))


@pytest.mark.parametrize("name", sorted(set(COMPLEX_REFUSED) - COMPLEX_SUPPORTED))
def test_complex_input_refused(name):
    z = _complex_tensor([1 + 2j, -0.5 + 0.25j])
    with pytest.raises(TypeError, match=r"not defined for complex tensors") as info:
        COMPLEX_REFUSED[name](z)
    assert name.split("_")[0] in str(info.value) or name.split(".")[-1] in str(info.value)


@pytest.mark.parametrize("name", sorted(COMPLEX_SUPPORTED & set(COMPLEX_REFUSED)))
def test_complex_input_computed(name):
    z = _complex_tensor([1 + 2j, -0.5 + 0.25j])
    out = COMPLEX_REFUSED[name](z)
    assert out.dtype.kind == ("f" if name in ("abs", "cast", "var", "std") else "c")


def test_complex_python_scalar_promotes():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert (x * 1j).dtype == cr.complex64
    np.testing.assert_allclose((x + np.array([1j, 2j])).detach().numpy(), [1 + 1j, 2 + 2j])


def test_sigmoid_of_complex_no_longer_drops_the_imaginary_part():
    # The bug: sigmoid(1 + 2j) came back as sigmoid(1) = 0.7311 with no warning.
    with pytest.raises(TypeError, match="sigmoid"):
        cr.sigmoid(_complex_tensor([1 + 2j]))


# ---------------------------------------------------------------------------------------------
# 4. Values and gradients at special points, against closed forms and PyTorch
# ---------------------------------------------------------------------------------------------

@dataclass
class Case:
    """``fn(*inputs)``, its value and the gradients of its sum with respect to each input."""

    id: str
    fn: Callable
    torch_fn: Callable
    inputs: tuple
    value: object
    grads: tuple
    # Why chainrule's gradient deliberately differs from PyTorch's (only the values are compared).
    differs: str = ""
    # PyTorch's gradient with create_graph=True (its first-order formula differs: see the case).
    torch_create_graph: bool = False
    # Gradients whose ±inf signs are not determined (0/0 or the sign of a zero): compare |g|.
    unsigned: bool = False
    # Why forward and reverse mode cannot agree here (the 1ᵀJ1 check is skipped).
    modes_differ: str = ""
    tol: dict = field(default_factory=dict)


def _tf(name):
    """A torch function by dotted name, imported only when the torch comparison runs."""
    def call(*args, **kwargs):
        import torch
        obj = torch
        for part in name.split("."):
            obj = getattr(obj, part)
        return obj(*args, **kwargs)
    return call


def _lse(x):
    return _tf("logsumexp")(x, 0)


SIGN_NAN = ("sign(NaN) is NaN (NumPy, JAX), so |x|' and the inf-norm's gradient are NaN at NaN; "
            "PyTorch's sign(NaN) is 0, which hides the NaN")
WHERE_MODES = ("forward mode selects the taken branch's tangent (finite); reverse mode multiplies the "
               "untaken branch's infinite derivative by a zero cotangent (NaN): PyTorch alike")
INFINITE_SLOPE = ("the first derivative is infinite at y < 0: differentiating it again multiplies zero "
                  "cotangents by it in reverse mode (NaN in 1'H1), not in forward mode")
DET_FIRST_ORDER = ("PyTorch's first-order det backward (LU) returns 0 at singular matrices, which is "
                   "not the derivative; its create_graph=True (SVD) gradient is the cofactor matrix, "
                   "as chainrule's at every order")

COF_12_24 = [[4.0, -2.0], [-2.0, 1.0]]
M123 = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]
COF_M123 = [[-3.0, 6.0, -3.0], [6.0, -12.0, 6.0], [-3.0, 6.0, -3.0]]

CASES = [
    # --- domain edges of elementwise functions
    Case("sqrt_at_0", cr.sqrt, _tf("sqrt"), ([0.0, 1.0],), [0.0, 1.0], ([inf, 0.5],)),
    Case("log_at_0", cr.log, _tf("log"), ([0.0, 1.0],), [-inf, 0.0], ([inf, 1.0],)),
    Case("log2_at_0", cr.log2, _tf("log2"), ([0.0],), [-inf], ([inf],)),
    Case("log1p_at_-1", cr.log1p, _tf("log1p"), ([-1.0],), [-inf], ([inf],)),
    Case("rsqrt_at_0", cr.rsqrt, _tf("rsqrt"), ([0.0],), [inf], ([-inf],)),
    Case("reciprocal_at_0", cr.reciprocal, _tf("reciprocal"), ([0.0, -0.0, 1.0],), [inf, -inf, 1.0],
         ([-inf, -inf, -1.0],)),
    Case("arcsin_at_1", cr.arcsin, _tf("asin"), ([1.0, -1.0],), [math.pi / 2, -math.pi / 2], ([inf, inf],)),
    Case("exp_overflow", cr.exp, _tf("exp"), ([1000.0],), [inf], ([inf],)),
    Case("expm1_overflow", cr.expm1, _tf("expm1"), ([1000.0],), [inf], ([inf],)),
    Case("tanh_large", cr.tanh, _tf("tanh"), ([1e4, -1e4, 20.0],), [1.0, -1.0, 1.0], ([0.0, 0.0, 0.0],)),
    Case("sigmoid_large", cr.sigmoid, _tf("sigmoid"), ([1e4, -1e4],), [1.0, 0.0], ([0.0, 0.0],)),
    Case("erf_large", cr.erf, _tf("erf"), ([30.0, -30.0],), [1.0, -1.0], ([0.0, 0.0],)),
    Case("softplus_large", cr.softplus, _tf("nn.functional.softplus"), ([1e4, -1e4, 25.0, 0.0],),
         [1e4, 0.0, 25.0, math.log(2.0)], ([1.0, 0.0, 1.0, 0.5],)),
    Case("softplus_threshold", lambda x: cr.softplus(x, threshold=1.0),
         lambda x: _tf("nn.functional.softplus")(x, threshold=1.0), ([2.0, 0.5],),
         [2.0, math.log1p(math.exp(0.5))], ([1.0, 1 / (1 + math.exp(-0.5))],)),
    Case("sqrt_of_square_at_0", lambda x: cr.sqrt(x * x), lambda x: (x * x).sqrt(), ([0.0],), [0.0], ([nan],)),
    Case("arctan_of_ratio_0_over_0", lambda y, x: cr.arctan(y / x), lambda y, x: (y / x).atan(),
         ([0.0, 1.0], [0.0, 0.0]), [nan, math.pi / 2], ([nan, nan], [nan, nan])),
    Case("div_by_0", lambda x, y: x / y, lambda x, y: x / y, ([1.0, 0.0], [0.0, 0.0]), [inf, nan],
         ([inf, inf], [-inf, nan])),
    # --- powers at 0, inf and NaN (PyTorch's pow_backward / pow_backward_exponent)
    Case("pow_half_at_0", lambda x: x ** 0.5, lambda x: x ** 0.5, ([0.0, 1.0],), [0.0, 1.0], ([inf, 0.5],)),
    Case("pow_3_at_0", lambda x: x ** 3, lambda x: x ** 3, ([0.0, 1.0],), [0.0, 1.0], ([0.0, 3.0],)),
    Case("pow_0", lambda x: x ** 0, lambda x: x ** 0, ([0.0, inf, nan],), [1.0, 1.0, 1.0], ([0.0, 0.0, 0.0],)),
    Case("pow_1", lambda x: x ** 1, lambda x: x ** 1, ([0.0, inf, nan],), [0.0, inf, nan], ([1.0, 1.0, 1.0],)),
    Case("pow_-1_at_0", lambda x: x ** -1, lambda x: x ** -1, ([0.0, 1.0],), [inf, 1.0], ([-inf, -1.0],)),
    Case("pow_-2_at_0", lambda x: x ** -2, lambda x: x ** -2, ([0.0, 1.0],), [inf, 1.0], ([-inf, -2.0],)),
    Case("zero_to_the_y", lambda y: 0.0 ** y, lambda y: 0.0 ** y, ([-1.0, 0.0, 2.0, 0.5],),
         [inf, 1.0, 0.0, 0.0], ([-inf, 0.0, 0.0, 0.0],), modes_differ=INFINITE_SLOPE),
    Case("zero_tensor_to_the_y", lambda x, y: x ** y, lambda x, y: x ** y,
         ([0.0, 0.0, 0.0, 0.0], [-1.0, 0.0, 2.0, 0.5]), [inf, 1.0, 0.0, 0.0],
         ([-inf, 0.0, 0.0, inf], [-inf, 0.0, 0.0, 0.0]), modes_differ=INFINITE_SLOPE),
    Case("negative_base", lambda x, y: x ** y, lambda x, y: x ** y, ([-2.0, -2.0], [2.0, 0.5]), [4.0, nan],
         ([-4.0, nan], [nan, nan])),
    Case("negative_scalar_base", lambda y: (-2.0) ** y, lambda y: (-2.0) ** y, ([2.0, 0.5],), [4.0, nan],
         ([nan, nan],)),
    # --- activations and piecewise functions with NaN
    Case("relu_nan", cr.relu, _tf("relu"), ([nan, 0.0, 1.0],), [nan, 0.0, 1.0], ([1.0, 0.0, 1.0],)),
    Case("leaky_relu_nan", cr.leaky_relu, _tf("nn.functional.leaky_relu"), ([0.0, nan],), [0.0, nan],
         ([0.01, 0.01],)),
    Case("elu_nan", cr.elu, _tf("nn.functional.elu"), ([nan, 0.0, -1e4],), [nan, 0.0, -1.0], ([1.0, 1.0, 0.0],)),
    Case("gelu_nan", cr.gelu, _tf("nn.functional.gelu"), ([0.0, -1e4, nan],), [0.0, -0.0, nan], ([0.5, 0.0, nan],)),
    Case("abs_nan", cr.abs, _tf("abs"), ([nan, 0.0, -1.0],), [nan, 0.0, 1.0], ([nan, 0.0, -1.0],), differs=SIGN_NAN),
    Case("sign_nan", lambda x: cr.sign(x) * x, lambda x: x.sign() * x, ([0.0, nan, -2.0],), [0.0, nan, 2.0],
         ([0.0, nan, -1.0],), differs=SIGN_NAN),
    Case("clamp_nan", lambda x: cr.clamp(x, 0.0, 1.0), lambda x: x.clamp(0.0, 1.0), ([nan, 0.0, 1.0, 0.5],),
         [nan, 0.0, 1.0, 0.5], ([0.0, 1.0, 1.0, 1.0],)),
    Case("clamp_tensor_nan_and_tie", lambda x, lo: cr.clamp(x, min=lo), lambda x, lo: x.clamp(min=lo),
         ([nan, 0.0, 1.0], [0.0, nan, 1.0]), [nan, nan, 1.0], ([0.0, 0.0, 1.0], [0.0, 0.0, 0.0])),
    Case("clamp_tensor_min_above_max", lambda x, lo, hi: cr.clamp(x, lo, hi), lambda x, lo, hi: x.clamp(lo, hi),
         ([0.5, 2.0], [1.0, 1.0], [0.0, 0.0]), [0.0, 0.0], ([0.0, 0.0], [0.0, 0.0], [1.0, 1.0])),
    Case("maximum_nan", cr.maximum, _tf("maximum"), ([nan, 1.0, nan], [1.0, nan, nan]), [nan, nan, nan],
         ([1.0, 1.0, 1.0], [1.0, 1.0, 1.0])),
    Case("minimum_nan", cr.minimum, _tf("minimum"), ([nan, 1.0, nan], [1.0, nan, nan]), [nan, nan, nan],
         ([1.0, 1.0, 1.0], [1.0, 1.0, 1.0])),
    Case("maximum_tie", cr.maximum, _tf("maximum"), ([1.0, 2.0], [1.0, 3.0]), [1.0, 3.0], ([0.5, 0.0], [0.5, 1.0])),
    # --- reductions with NaN, ties, zeros
    Case("max_nan", lambda x: x.max(), lambda x: x.max(), ([nan, 1.0, 2.0],), nan, ([1.0, 0.0, 0.0],)),
    Case("max_two_nans", lambda x: x.max(), lambda x: x.max(), ([nan, 1.0, nan],), nan, ([0.5, 0.0, 0.5],)),
    Case("min_nan", lambda x: x.min(), lambda x: x.min(), ([nan, 1.0, 2.0],), nan, ([1.0, 0.0, 0.0],)),
    Case("amax_nan", lambda x: x.amax(), lambda x: x.amax(), ([nan, 1.0, 2.0],), nan, ([nan, nan, nan],)),
    Case("amin_nan", lambda x: x.amin(0), lambda x: x.amin(0), ([nan, 1.0, 2.0],), nan, ([nan, nan, nan],)),
    Case("max_dim_nan", lambda x: x.max(0)[0], lambda x: x.max(0)[0], ([1.0, nan, 2.0],), nan, ([0.0, 1.0, 0.0],)),
    Case("max_tie", lambda x: x.max(), lambda x: x.max(), ([2.0, 1.0, 2.0],), 2.0, ([0.5, 0.0, 0.5],)),
    Case("prod_one_zero", lambda x: x.prod(), lambda x: x.prod(), ([2.0, 0.0, 3.0],), 0.0, ([0.0, 6.0, 0.0],)),
    Case("prod_two_zeros", lambda x: x.prod(), lambda x: x.prod(), ([2.0, 0.0, 0.0],), 0.0, ([0.0, 0.0, 0.0],)),
    Case("cumprod_zeros", lambda x: cr.cumprod(x, 0), lambda x: x.cumprod(0), ([2.0, 0.0, 3.0, 0.0],),
         [2.0, 0.0, 0.0, 0.0], ([1.0, 8.0, 0.0, 0.0],)),
    Case("logsumexp_large", lambda x: cr.logsumexp(x, 0), _lse, ([1e4, -1e4],), 1e4, ([1.0, 0.0],)),
    Case("logsumexp_all_-inf", lambda x: cr.logsumexp(x, 0), _lse, ([-inf, -inf],), -inf, ([nan, nan],)),
    Case("logsumexp_inf", lambda x: cr.logsumexp(x, 0), _lse, ([inf, 1.0],), inf, ([nan, 0.0],)),
    Case("logsumexp_nan", lambda x: cr.logsumexp(x, 0), _lse, ([nan, 1.0],), nan, ([nan, nan],)),
    Case("softmax_large", lambda x: cr.softmax(x, 0), lambda x: x.softmax(0), ([1e4, -1e4],), [1.0, 0.0],
         ([0.0, 0.0],)),
    Case("softmax_-inf", lambda x: cr.softmax(x, 0), lambda x: x.softmax(0), ([-inf, 0.0],), [0.0, 1.0],
         ([0.0, 0.0],)),
    Case("log_softmax_large", lambda x: cr.log_softmax(x, 0), lambda x: x.log_softmax(0), ([1e4, -1e4],),
         [0.0, -2e4], ([-1.0, 1.0],)),
    Case("log_softmax_-inf", lambda x: cr.log_softmax(x, 0), lambda x: x.log_softmax(0), ([-inf, 0.0],),
         [-inf, 0.0], ([1.0, -1.0],)),
    Case("cross_entropy_large", lambda x: F.cross_entropy(x, cr.tensor([1])),
         lambda x: _tf("nn.functional.cross_entropy")(x, _tf("tensor")([1])), ([[1e4, -1e4]],), 2e4,
         ([[1.0, -1.0]],)),
    Case("bce_with_logits_large", F.binary_cross_entropy_with_logits,
         _tf("nn.functional.binary_cross_entropy_with_logits"), ([1e4, -1e4, 30.0], [0.0, 1.0, 0.0]),
         2e4 / 3 + 10.0, ([1 / 3, -1 / 3, 1 / 3], [-1e4 / 3, 1e4 / 3, -10.0])),
    # --- norms at zero (PyTorch's norm_backward) and with NaN
    Case("norm2_at_0", lambda x: cr.norm(x), lambda x: x.norm(), ([0.0, 0.0],), 0.0, ([0.0, 0.0],)),
    Case("norm_p3_at_0", lambda x: cr.norm(x, 3), lambda x: x.norm(3), ([0.0, 0.0],), 0.0, ([0.0, 0.0],)),
    Case("norm_p1.5_at_0", lambda x: cr.norm(x, 1.5), lambda x: x.norm(1.5), ([0.0, 0.0],), 0.0, ([0.0, 0.0],)),
    Case("norm_p0.5_at_0", lambda x: cr.norm(x, 0.5), lambda x: x.norm(0.5), ([0.0, 0.0],), 0.0, ([0.0, 0.0],)),
    Case("norm_p0.5_zero_element", lambda x: cr.norm(x, 0.5), lambda x: x.norm(0.5), ([0.0, 2.0],), 2.0,
         ([0.0, 1.0],)),
    Case("norm_p3_zero_element", lambda x: cr.norm(x, 3), lambda x: x.norm(3), ([0.0, -2.0],), 2.0,
         ([0.0, -1.0],)),
    Case("norm_p1_zero_element", lambda x: cr.norm(x, 1), lambda x: x.norm(1), ([0.0, 1.0, -2.0],), 3.0,
         ([0.0, 1.0, -1.0],)),
    Case("norm_inf_tie", lambda x: cr.norm(x, inf), lambda x: x.norm(inf), ([2.0, 1.0, -2.0],), 2.0,
         ([0.5, 0.0, -0.5],)),
    Case("norm_inf_nan", lambda x: cr.norm(x, inf), lambda x: x.norm(inf), ([nan, 1.0, -2.0],), nan,
         ([nan, 0.0, 0.0],), differs=SIGN_NAN),
    # --- standard deviation of a constant (PyTorch's std_backward)
    Case("std_constant", lambda x: x.std(correction=0), lambda x: x.std(correction=0), ([2.0, 2.0, 2.0],), 0.0,
         ([0.0, 0.0, 0.0],)),
    Case("std_constant_unbiased", lambda x: x.std(), lambda x: x.std(), ([2.0, 2.0, 2.0],), 0.0, ([0.0, 0.0, 0.0],)),
    Case("std_constant_rows", lambda x: x.std(dim=1), lambda x: x.std(dim=1), ([[1.0, 1.0], [1.0, 3.0]],),
         [0.0, math.sqrt(2.0)], ([[0.0, 0.0], [-0.5 ** 0.5, 0.5 ** 0.5]],)),
    Case("std_one_element", lambda x: x.std(), lambda x: x.std(), ([2.0],), nan, ([nan],)),
    Case("var_one_element", lambda x: x.var(), lambda x: x.var(), ([2.0],), nan, ([nan],)),
    # --- where: the branch not taken gets a zero cotangent, times its own derivative (inf): NaN,
    # in PyTorch and JAX too. Guard the branch's input instead (see cr.where's docstring).
    Case("where_sqrt_untaken", lambda x: cr.where(x > 0, cr.sqrt(x), x * 0),
         lambda x: _tf("where")(x > 0, x.sqrt(), x * 0), ([0.0, -1.0, 4.0],), [0.0, -0.0, 2.0],
         ([nan, nan, 0.25],), modes_differ=WHERE_MODES),
    Case("where_log_untaken", lambda x: cr.where(x > 0, cr.log(x), x * 0),
         lambda x: _tf("where")(x > 0, x.log(), x * 0), ([0.0, -1.0, 4.0],), [0.0, -0.0, math.log(4.0)],
         ([nan, 0.0, 0.25],), modes_differ=WHERE_MODES),
    Case("where_sqrt_guarded", lambda x: cr.where(x > 0, cr.sqrt(cr.where(x > 0, x, 1.0)), 0.0),
         lambda x: _tf("where")(x > 0, _tf("where")(x > 0, x, 1.0).sqrt(), 0.0), ([0.0, -1.0, 4.0],),
         [0.0, 0.0, 2.0], ([0.0, 0.0, 0.25],)),
    # --- determinants of singular matrices: the cofactor matrix (PyTorch's SVD formula)
    Case("det_singular", cr.linalg.det, _tf("linalg.det"), ([[1.0, 2.0], [2.0, 4.0]],), 0.0, (COF_12_24,),
         torch_create_graph=True, differs=DET_FIRST_ORDER),
    Case("det_rank1_2x2", cr.linalg.det, _tf("linalg.det"), ([[1.0, 0.0], [0.0, 0.0]],), 0.0,
         ([[0.0, 0.0], [0.0, 1.0]],), torch_create_graph=True, differs=DET_FIRST_ORDER),
    Case("det_zero", cr.linalg.det, _tf("linalg.det"), ([[0.0, 0.0], [0.0, 0.0]],), 0.0,
         ([[0.0, 0.0], [0.0, 0.0]],), torch_create_graph=True, differs=DET_FIRST_ORDER),
    Case("det_rank2_3x3", cr.linalg.det, _tf("linalg.det"), (M123,), 0.0, (COF_M123,),
         torch_create_graph=True, differs=DET_FIRST_ORDER, tol={"atol": 1e-12}),
    Case("det_1x1_zero", cr.linalg.det, _tf("linalg.det"), ([[0.0]],), 0.0, ([[1.0]],)),
    Case("det_batch_one_singular", cr.linalg.det, _tf("linalg.det"),
         ([[[2.0, 1.0], [1.0, 3.0]], [[1.0, 2.0], [2.0, 4.0]]],), [5.0, 0.0],
         ([[[3.0, -1.0], [-1.0, 2.0]], COF_12_24],), torch_create_graph=True, differs=DET_FIRST_ORDER),
    # log|det| of a singular matrix: -inf, gradient cofactors / det = ±inf (NaN where a cofactor
    # is 0). The sign of the zero determinant LAPACK returns decides the sign of each inf.
    Case("slogdet_singular", lambda a: cr.linalg.slogdet(a)[1], lambda a: _tf("linalg.slogdet")(a)[1],
         ([[1.0, 2.0], [2.0, 4.0]],), -inf, ([[inf, inf], [inf, inf]],), unsigned=True,
         modes_differ="1'J1 sums infinities of both signs in reverse mode (NaN), one quotient in forward (inf)"),
]
CASE_IDS = [c.id for c in CASES]


def _chainrule_grads(case, create_graph=False):
    xs = [cr.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in case.inputs]
    out = case.fn(*xs)
    grads = cr.autograd.grad(out.sum(), xs, allow_unused=True, create_graph=create_graph)
    return out, xs, grads


def _check_grads(actual, expected, case, what):
    for k, (g, e) in enumerate(zip(actual, expected)):
        g = np.zeros(np.shape(e)) if g is None else np.asarray(g.detach().numpy() if hasattr(g, "detach") else g)
        if case.unsigned:
            g, e = np.abs(g), np.abs(np.asarray(e, dtype=np.float64))
        _assert_close(g, e, f"{case.id}: {what} of input {k}", **case.tol)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_special_point_closed_form(case):
    with np.errstate(all="ignore"):
        out, _, grads = _chainrule_grads(case)
    _assert_close(out.detach().numpy(), case.value, f"{case.id}: value", **case.tol)
    _check_grads(grads, case.grads, case, "gradient")


@pytest.mark.filterwarnings("ignore:.*degrees of freedom:UserWarning")
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_special_point_matches_torch(case):
    torch = _torch()
    ts = [torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in case.inputs]
    out = case.torch_fn(*ts)
    theirs = torch.autograd.grad(out.sum(), ts, allow_unused=True, create_graph=case.torch_create_graph)
    theirs = [np.zeros(t.shape) if g is None else g.detach().numpy() for g, t in zip(theirs, ts)]
    with np.errstate(all="ignore"):
        ours_out, _, ours = _chainrule_grads(case)
    _assert_close(ours_out.detach().numpy(), out.detach().numpy(), f"{case.id}: value vs torch", rtol=1e-6)
    if case.differs and not case.torch_create_graph:
        # Deliberate: chainrule's gradient is the closed form above (see ``differs``), PyTorch's is not.
        assert not all(np.array_equal(np.asarray(a.detach().numpy()), b, equal_nan=True)
                       for a, b in zip(ours, theirs)), f"{case.id}: now equal to torch; drop 'differs'"
        return
    _check_grads(ours, theirs, case, "gradient vs torch")


def test_det_first_order_differs_from_torch_only_without_create_graph():
    torch = _torch()
    a = torch.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=torch.float64, requires_grad=True)
    (first,) = torch.autograd.grad(torch.linalg.det(a), a)
    assert not first.any(), "PyTorch now computes the cofactors at first order too: update DET_FIRST_ORDER"


# Second order and forward mode at the same points. A full Jacobian at a point where a derivative
# is infinite holds 0 · inf = NaN products of the zero seeds, in different entries in forward and
# reverse mode (PyTorch's too), so the modes are compared on the entries both define, and on
# 1ᵀJ1 (all-ones seeds: forward's J·1 and reverse's 1ᵀJ summed), one input at a time.

SMOOTH_AROUND = {  # cases whose gradient is differentiable at the point (finite differences apply)
    "tanh_large", "sigmoid_large", "erf_large", "softplus_large", "pow_3_at_0",
    "logsumexp_large", "softmax_large", "log_softmax_large", "cross_entropy_large",
    "det_singular", "det_rank1_2x2", "det_zero", "det_rank2_3x3", "det_1x1_zero", "det_batch_one_singular",
    "norm_p3_zero_element", "prod_one_zero", "prod_two_zeros", "cumprod_zeros",
}


def _alone(case, k, args):
    """``case.fn`` as a function of its input ``k`` only (the others constants)."""
    def f(x):
        xs = list(args)
        xs[k] = x
        return case.fn(*xs)
    return f


def _both_defined_agree(actual, expected, what):
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    both = ~np.isnan(actual) & ~np.isnan(expected)
    _assert_close(actual[both], expected[both], what, atol=1e-10)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_forward_mode_matches_reverse_at_special_point(case):
    args = [cr.tensor(np.asarray(v, dtype=np.float64)) for v in case.inputs]
    with np.errstate(all="ignore"):
        for k, x in enumerate(args):
            f = _alone(case, k, args)
            forward = cr.jacfwd(f)(x).numpy()
            reverse = cr.jacrev(f)(x).numpy()
            _both_defined_agree(forward, reverse, f"{case.id}: jacfwd vs jacrev, input {k}")
            if case.modes_differ:
                continue
            ones = cr.ones_like(x)
            along = cr.jvp(f, (x,), (ones,))[1].numpy().sum()
            across = cr.grad(lambda v, f=f: f(v).sum())(x).numpy().sum()
            _assert_close(along, across, f"{case.id}: 1'J1 forward vs reverse, input {k}", atol=1e-10)


def _hessian(case, k, args, method):
    """The Hessian of ``sum(case.fn)`` in input ``k``: reverse-over-reverse or forward-over-reverse."""
    f = _alone(case, k, args)
    gradient = cr.grad(lambda v: f(v).sum())
    with np.errstate(all="ignore"):
        return (cr.jacrev if method == "rev" else cr.jacfwd)(gradient)(args[k]).numpy()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_second_order_modes_agree_at_special_point(case):
    args = [cr.tensor(np.asarray(v, dtype=np.float64)) for v in case.inputs]
    for k, x in enumerate(args):
        rev, fwd = _hessian(case, k, args, "rev"), _hessian(case, k, args, "fwd")
        _both_defined_agree(fwd, rev, f"{case.id}: Hessian in input {k}, forward-over-reverse")
        if case.modes_differ:
            continue
        f = _alone(case, k, args)
        gradient = cr.grad(lambda v, f=f: f(v).sum())
        ones = cr.ones_like(x)
        with np.errstate(all="ignore"):
            along = cr.jvp(gradient, (x,), (ones,))[1].numpy().sum()
            across = cr.grad(lambda v, gradient=gradient: gradient(v).sum())(x).numpy().sum()
        _assert_close(along, across, f"{case.id}: 1'H1 forward-over-reverse vs reverse-over-reverse", atol=1e-10)


@pytest.mark.parametrize("case", [c for c in CASES if c.id in SMOOTH_AROUND], ids=lambda c: c.id)
def test_second_order_matches_finite_differences_of_the_gradient(case):
    base = [np.asarray(v, dtype=np.float64) for v in case.inputs]
    args = [cr.tensor(b) for b in base]
    eps = 1e-6
    for k, x in enumerate(base):
        analytic = _hessian(case, k, args, "rev")
        for index in np.ndindex(x.shape):
            grads = []
            for step in (eps, -eps):
                moved = x.copy()
                moved[index] += step
                grads.append(cr.grad(lambda v, k=k: _alone(case, k, args)(v).sum())(cr.tensor(moved)).numpy())
            numeric = (grads[0] - grads[1]) / (2 * eps)
            _assert_close(analytic[(...,) + index], numeric, f"{case.id}: d2/dx{k}[{index}]", rtol=1e-4, atol=1e-4)


SECOND_ORDER_VS_TORCH = ["det_singular", "det_rank1_2x2", "det_rank2_3x3", "norm_p3_zero_element",
                         "prod_one_zero", "cumprod_zeros", "std_constant_rows", "logsumexp_large",
                         "softplus_large"]


@pytest.mark.parametrize("case", [c for c in CASES if c.id in SECOND_ORDER_VS_TORCH], ids=lambda c: c.id)
def test_second_order_matches_torch(case):
    torch = _torch()
    ts = [torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in case.inputs]
    first = torch.autograd.grad(case.torch_fn(*ts).sum(), ts, create_graph=True)
    theirs = [[g.detach().numpy() for g in torch.autograd.grad(f.sum(), ts, allow_unused=True, retain_graph=True)]
              for f in first]
    _, xs, grads = _chainrule_grads(case, create_graph=True)
    for i, g in enumerate(grads):
        ours = cr.autograd.grad(g.sum(), xs, allow_unused=True, retain_graph=True)
        _check_grads(ours, theirs[i], case, f"d/dx of the gradient of input {i}")


def test_det_second_order_at_zero_matrix_is_finite():
    # Deliberate: the Hessian of det at the zero 2x2 matrix is [[1, -1], [-1, 1]] (det = ad - bc);
    # PyTorch's SVD-based double backward gives NaN there.
    x = cr.tensor(np.zeros((2, 2)), requires_grad=True)
    (g,) = cr.autograd.grad(cr.linalg.det(x), [x], create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), [x])
    np.testing.assert_array_equal(h.numpy(), [[1.0, -1.0], [-1.0, 1.0]])


def test_norm_p_second_order_at_zero_is_finite():
    # Masked inputs are replaced before the power, so no branch is infinite: the Hessian of
    # the 3-norm at 0 (where PyTorch's gradient is 0) is finite, not 0 · inf.
    x = cr.tensor(np.zeros(3), requires_grad=True)
    h = cr.hessian(lambda v: cr.norm(v, 3))(x.detach())
    assert np.isfinite(h.numpy()).all()


# ---------------------------------------------------------------------------------------------
# 5. Arguments PyTorch refuses (found by tests/test_bad_inputs.py's sweep), and 0-d reductions
# ---------------------------------------------------------------------------------------------

_M = cr.tensor(np.arange(6.0).reshape(2, 3))

REFUSED_ARGUMENTS = {
    "sum_repeated_dim": (lambda: _M.sum(dim=(0, 0)), RuntimeError, "appears multiple times"),
    "norm_repeated_dim": (lambda: cr.norm(_M, dim=[1, -1]), RuntimeError, "appears multiple times"),
    "mean_keepdim_str": (lambda: _M.mean(0, keepdim="yes"), TypeError, "keepdim must be a bool"),
    "amax_keepdim_none": (lambda: _M.amax(0, keepdim=None), TypeError, "keepdim must be a bool"),
    "max_keepdim_str": (lambda: _M.max(keepdim="no"), TypeError, "keepdim must be a bool"),
    "var_unbiased_str": (lambda: _M.var(unbiased="yes"), TypeError, "unbiased must be a bool"),
    "amax_empty": (lambda: cr.zeros(0).amax(), RuntimeError, "empty"),
    "max_empty": (lambda: cr.zeros(0, 3).max(), RuntimeError, "empty"),
    "std_python_float": (lambda: cr.std(0.5), TypeError, "std: input must be a tensor"),
    "gelu_int": (lambda: cr.gelu(cr.tensor([1, 2])), RuntimeError, "gelu"),
    "rsub_bool": (lambda: cr.rsub(cr.tensor([True]), 1.0), RuntimeError, "rsub: subtraction with a bool"),
    "rsub_shapes": (lambda: cr.rsub(cr.ones(2), cr.ones(3)), ValueError, "rsub"),
    "bce_int_target": (lambda: F.binary_cross_entropy_with_logits(cr.ones(2), cr.tensor([1, 0])),
                       RuntimeError, "target must be a floating tensor"),
    "bce_pos_weight_shape": (lambda: F.binary_cross_entropy_with_logits(cr.ones(2, 3), cr.ones(2, 3),
                                                                        pos_weight=cr.ones(2, 3, 3)),
                             ValueError, "pos_weight of shape"),
}


@pytest.mark.parametrize("name", sorted(REFUSED_ARGUMENTS))
def test_arguments_pytorch_refuses(name):
    call, error, fragment = REFUSED_ARGUMENTS[name]
    with pytest.raises(error, match=fragment):
        call()


def test_sum_with_dtype_bool_is_bool():
    out = cr.tensor([0.0, 2.0]).sum(dtype=cr.bool)
    assert out.dtype == cr.bool and bool(out) is True


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "norm", "logsumexp", "prod"])
def test_reduction_of_0d_tensor_along_dim_0(name):
    # PyTorch accepts dim 0 and -1 for a 0-d tensor and reduces over nothing.
    x = cr.tensor(2.0, requires_grad=True)
    out = getattr(x, name)(dim=0) if name != "norm" else cr.norm(x, dim=-1)
    assert out.shape == () and float(out) == 2.0
    (g,) = cr.autograd.grad(out, [x])
    assert float(g) == 1.0
