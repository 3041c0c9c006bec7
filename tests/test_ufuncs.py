"""NumPy's remaining ufuncs on tensors (``ops/ufuncs.py``): NumPy's exact values, dtypes and
keywords; PyTorch's gradients (special points included) with torch as the oracle; ``%``;
``any``/``all``; ``x in t``; ``np.shares_memory``."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.tensor import version_counter

torch = pytest.importorskip("torch")
torch.set_default_dtype(torch.float32)

RNG = np.random.default_rng(12)
# NumPy warns of the domain edges (arctanh(1), arccosh(0), overflowing casts) that these tests probe.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

# name: (NumPy's function, torch's, an input domain)
UNARY = {
    "arccosh": (np.arccosh, torch.acosh, (1.1, 4.0)),
    "arcsinh": (np.arcsinh, torch.asinh, (-3.0, 3.0)),
    "arctanh": (np.arctanh, torch.atanh, (-0.9, 0.9)),
    "exp2": (np.exp2, torch.exp2, (-3.0, 3.0)),
    "cbrt": (np.cbrt, lambda t: torch.sign(t) * torch.abs(t) ** (1.0 / 3.0), (-3.0, 3.0)),
    "fabs": (np.fabs, torch.abs, (-3.0, 3.0)),
    "deg2rad": (np.deg2rad, torch.deg2rad, (-360.0, 360.0)),
    "rad2deg": (np.rad2deg, torch.rad2deg, (-7.0, 7.0)),
    "sinc": (np.sinc, torch.sinc, (-3.0, 3.0)),
}
ALIASES = {"acosh": "arccosh", "asinh": "arcsinh", "atanh": "arctanh", "radians": "deg2rad",
           "degrees": "rad2deg", "atan2": "arctan2", "mod": "remainder"}
# name: (NumPy's ufunc, torch's, domain of x, domain of y (|y| >= its lower end))
BINARY = {
    "arctan2": (np.arctan2, torch.atan2, (-2.0, 2.0), (0.3, 2.0)),
    "hypot": (np.hypot, torch.hypot, (-2.0, 2.0), (0.3, 2.0)),
    "logaddexp2": (np.logaddexp2, torch.logaddexp2, (-3.0, 3.0), (0.0, 3.0)),
    "copysign": (np.copysign, torch.copysign, (-2.0, 2.0), (0.3, 2.0)),
    "remainder": (np.remainder, torch.remainder, (-5.0, 5.0), (0.3, 2.0)),
    "fmod": (np.fmod, torch.fmod, (-5.0, 5.0), (0.3, 2.0)),
}
SPECIAL = np.array([0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.0, 1e-300, 1e300, np.inf, -np.inf, np.nan])


def _uniform(lo, hi, shape, signed=False):
    x = RNG.uniform(lo, hi, size=shape)
    return x * RNG.choice([-1.0, 1.0], size=shape) if signed else x


def _tensor(a, grad=False):
    return cr.tensor(np.array(a, copy=True), requires_grad=grad)


def _torch(a, grad=False):
    return torch.tensor(np.array(a, copy=True), requires_grad=grad)


def assert_same(t, a):
    """A tensor with exactly ``a``'s values (NaN where ``a`` has NaN), shape and dtype."""
    assert isinstance(t, cr.Tensor)
    got = t.detach().numpy()
    assert got.dtype == np.asarray(a).dtype, (got.dtype, np.asarray(a).dtype)
    np.testing.assert_array_equal(got, a)


# ---------------------------------------------------------------------------------------------
# Values: NumPy's, bit for bit, through cr.NAME, the method, the aliases and np.NAME(t)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unary_values_are_numpys(name, dtype):
    ref = UNARY[name][0]
    a = np.concatenate([SPECIAL, _uniform(*UNARY[name][2], (20,))]).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = ref(a)
        assert_same(getattr(cr, name)(cr.tensor(a)), expected)
        assert_same(getattr(cr.tensor(a), name)(), expected)
        assert_same(ref(cr.tensor(a)), expected)
        for shape in [(), (2, 3, 1)]:
            b = np.asarray(_uniform(*UNARY[name][2], shape), dtype=dtype)
            assert_same(getattr(cr, name)(cr.tensor(b)), ref(b))


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_aliases_are_the_same_operation(alias):
    assert getattr(cr, alias) is getattr(cr, ALIASES[alias])
    x = cr.tensor([1.5, 1.25])
    np.testing.assert_array_equal(getattr(x, alias)(*([] if alias in UNARY or ALIASES[alias] in UNARY else [x])).numpy(),
                          getattr(x, ALIASES[alias])(*([] if ALIASES[alias] in UNARY else [x])).numpy())


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_values_are_numpys(name, dtype):
    ref = BINARY[name][0]
    x = np.concatenate([SPECIAL, _uniform(-4, 4, (12,))]).astype(dtype)
    grid_x, grid_y = np.meshgrid(x, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = ref(grid_x, grid_y)
        assert_same(getattr(cr, name)(cr.tensor(grid_x), cr.tensor(grid_y)), expected)
        assert_same(ref(cr.tensor(grid_x), cr.tensor(grid_y)), expected)
        assert_same(ref(grid_x, cr.tensor(grid_y)), expected)  # an ndarray on the left
        assert_same(getattr(cr.tensor(grid_x), name)(cr.tensor(grid_y)), expected)
        # broadcasting, Python numbers on either side, 0-d
        col, row = x[:, None], x[None, :5]
        assert_same(getattr(cr, name)(cr.tensor(col), cr.tensor(row)), ref(col, row))
        assert_same(getattr(cr, name)(cr.tensor(x), 1.5), ref(x, dtype(1.5)))
        assert_same(getattr(cr, name)(-2.5, cr.tensor(x)), ref(dtype(-2.5), x))
        assert_same(getattr(cr, name)(cr.tensor(x[3]), cr.tensor(x[4])), ref(x[3], x[4]))


def test_both_python_numbers():
    assert_same(cr.remainder(-7, 3), np.asarray(np.remainder(-7, 3)))
    assert_same(cr.fmod(-7.5, 2.0), np.asarray(np.fmod(-7.5, 2.0), dtype=np.float32))  # PyTorch's dtype
    assert cr.arctan2(1.0, -1.0).item() == np.arctan2(np.float32(1.0), np.float32(-1.0))  # default dtype


def test_sinc_is_numpys_function():
    a = np.array([0.0, 0.5, -1.5, 2.0])
    assert_same(np.sinc(cr.tensor(a)), np.sinc(a))
    assert_same(np.sinc(x=cr.tensor(a)), np.sinc(a))
    assert_same(cr.sinc(cr.tensor(np.float32(0.25))), np.sinc(np.float32(0.25)))


# ---------------------------------------------------------------------------------------------
# dtypes: PyTorch's rules for integers and bools, complex refused
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_of_integers_and_bools_is_the_default_float(name):
    ref, reference = UNARY[name][0], UNARY[name][1]
    for a in (np.array([1, 2, 3]), np.array([True, False])):
        out = getattr(cr, name)(cr.tensor(a))
        assert out.dtype == cr.float32
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.testing.assert_array_equal(out.numpy(), ref(a.astype(np.float32)))
        if name not in ("cbrt", "fabs"):  # torch has neither
            expected = reference(torch.tensor(a))
            np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)
    # NumPy's own dtype where no operand is a floating tensor and NumPy's ufunc is called
    if name != "sinc":
        assert_same(ref(cr.tensor(np.array([1, 2]))), ref(np.array([1, 2])))


def test_binary_dtypes_follow_pytorch():
    i, j = cr.tensor([5, -7, 9]), cr.tensor([2, 3, -4])
    for name in ("remainder", "fmod"):
        out = getattr(cr, name)(i, j)
        expected = getattr(torch, name)(torch.tensor([5, -7, 9]), torch.tensor([2, 3, -4]))
        assert out.dtype == cr.int64 and out.tolist() == expected.tolist()
    for name in ("arctan2", "copysign"):
        out = getattr(cr, name)(i, j)
        assert out.dtype == cr.float32
        expected = getattr(torch, {"arctan2": "atan2"}.get(name, name))(torch.tensor([5, -7, 9]), torch.tensor([2, 3, -4]))
        np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)
    # float32 with a Python float, or with an integer tensor: float32
    f = cr.tensor([1.5, -2.5], dtype=cr.float32)
    for name in BINARY:
        assert getattr(cr, name)(f, 0.7).dtype == cr.float32
        assert getattr(cr, name)(f, cr.tensor([2, 3])).dtype == cr.float32
        assert getattr(cr, name)(f, cr.tensor(0.5, dtype=cr.float64)).dtype == cr.float32


@pytest.mark.parametrize("name", ["hypot", "logaddexp2"])
def test_floating_only_functions_refuse_integers_as_pytorch(name):
    with pytest.raises(RuntimeError, match=f"{name}: expected floating"):
        getattr(cr, name)(cr.tensor([1, 2]), cr.tensor([3, 4]))


@pytest.mark.parametrize("name", ["remainder", "fmod"])
def test_integer_division_by_zero_and_bools_are_refused(name):
    with pytest.raises(RuntimeError, match=f"{name}: integer division by zero"):
        getattr(cr, name)(cr.tensor([5, 6]), cr.tensor([2, 0]))
    with pytest.raises(RuntimeError, match=name):
        getattr(cr, name)(cr.tensor([5, 6]), 0)
    with pytest.raises(RuntimeError, match=f"{name}: not implemented for bool"):
        getattr(cr, name)(cr.tensor([True, False]), cr.tensor([True, True]))
    # floats divide by zero as NumPy does: NaN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(getattr(cr, name)(cr.tensor([5.0]), 0.0).numpy()).all()


@pytest.mark.parametrize("name", sorted(set(UNARY) - {"arccosh", "arcsinh", "arctanh", "exp2"}) + sorted(BINARY))
def test_complex_is_refused_naming_the_operation(name):
    z = np.array([1 + 1j, 2 - 1j])
    args = (z,) if name in UNARY else (z, cr.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match=f"{name}: .*complex"):
        getattr(cr, name)(*args)


# ---------------------------------------------------------------------------------------------
# Gradients: PyTorch's, first and second order
# ---------------------------------------------------------------------------------------------

def _grads(fn, inputs, weights):
    """The gradient of ``sum(w * fn(*inputs))``, and the gradient of the sum of its squares
    (double backward; None where the first gradient is constant)."""
    lib = cr if isinstance(inputs[0], cr.Tensor) else torch
    total = (fn(*inputs) * weights).sum()
    first = lib.autograd.grad(total, inputs, create_graph=True)
    second_total = sum((g * g).sum() for g in first)
    if not second_total.requires_grad:
        return first, None
    return first, lib.autograd.grad(second_total, inputs, allow_unused=True)


def _compare(ours, theirs, rtol=1e-10, atol=1e-12):
    for o, t in zip(ours, theirs):
        o = np.zeros(1) if o is None else o.detach().numpy()
        t = np.zeros(1) if t is None else t.detach().numpy(force=True)  # force: torch's ZeroTensor
        np.testing.assert_allclose(o, np.broadcast_to(t, o.shape) if t.size == 1 else t, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradients_are_pytorchs(name):
    _, reference, (lo, hi) = UNARY[name]
    a = _uniform(max(lo, 0.2) if name in ("cbrt", "sinc") else lo, hi, (3, 4), signed=name in ("cbrt", "sinc"))
    w = RNG.standard_normal((3, 4))
    ours = _grads(getattr(cr, name), [_tensor(a, True)], cr.tensor(w))
    theirs = _grads(reference, [_torch(a, True)], torch.tensor(w))
    _compare(ours[0], theirs[0])
    if theirs[1] is None:  # a constant derivative
        assert ours[1] is None or all(g is None or not g.numpy().any() for g in ours[1])
    else:
        _compare(ours[1], theirs[1], rtol=1e-8)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradients_are_pytorchs(name):
    _, reference, (lo, hi), (ylo, yhi) = BINARY[name]
    a = _uniform(lo, hi, (3, 4))
    b = _uniform(ylo, yhi, (4,), signed=True)
    if name in ("remainder", "fmod"):  # away from the jumps at integer ratios
        q = a / b
        a = np.where(np.abs(q - np.round(q)) < 0.05, a + 0.1 * b, a)
    w = RNG.standard_normal((3, 4))
    ours = _grads(getattr(cr, name), [_tensor(a, True), _tensor(b, True)], cr.tensor(w))
    if name in ("remainder", "fmod"):  # torch has no double backward for these: it is 0
        theirs = _grads(reference, [_torch(a, True), _torch(b, True)], torch.tensor(w))[0], None
    else:
        theirs = _grads(reference, [_torch(a, True), _torch(b, True)], torch.tensor(w))
    _compare(ours[0], theirs[0])
    if theirs[1] is None:
        assert ours[1] is None or all(g is None or not g.numpy().any() for g in ours[1])
    else:
        _compare(ours[1], theirs[1], rtol=1e-8)


def _grad(fn, *arrays):
    ts = [_tensor(a, True) for a in arrays]
    fn(*ts).sum().backward()
    return [t.grad.numpy() for t in ts]


def _torch_grad(fn, *arrays):
    ts = [_torch(a, True) for a in arrays]
    fn(*ts).sum().backward()
    return [t.grad.numpy() for t in ts]


def test_gradients_at_special_points_are_pytorchs():
    x = np.array([0.0, -0.0, 3.0, -3.0, 2.5, -2.5, 1e-3])
    y = np.array([2.0, -2.0, 1.5, 1.5, -1.0, 0.0, 0.5])
    for name in ("remainder", "fmod", "copysign", "arctan2", "hypot"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = _grad(getattr(cr, name), x, y)
            theirs = _torch_grad(getattr(torch, {"arctan2": "atan2"}.get(name, name)), x, y)
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o, t, rtol=1e-12, err_msg=name)
    # (0, 0): NaN for both, as PyTorch
    for name in ("arctan2", "hypot"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gx, gy = _grad(getattr(cr, name), np.array([0.0]), np.array([0.0]))
        assert np.isnan(gx).all() and np.isnan(gy).all()
    # copysign: d/dx is ±1 with 0 at x = 0, d/dy is 0
    gx, gy = _grad(cr.copysign, np.array([0.0, 2.0, -2.0, 2.0]), np.array([1.0, -1.0, 3.0, -0.0]))
    assert gx.tolist() == [0.0, -1.0, -1.0, -1.0] and gy.tolist() == [0.0] * 4
    # remainder's divisor: -floor(x / y); fmod's: -trunc(x / y)
    assert _grad(cr.remainder, np.array([7.0, -7.0]), np.array([2.0, 2.0]))[1].tolist() == [-3.0, 4.0]
    assert _grad(cr.fmod, np.array([7.0, -7.0]), np.array([2.0, 2.0]))[1].tolist() == [-3.0, 3.0]


def test_unary_special_points():
    assert _grad(cr.sinc, np.array([0.0]))[0].tolist() == [0.0]  # PyTorch's
    np.testing.assert_allclose(_grad(cr.sinc, np.array([0.0, 0.5, -1.25]))[0],
                               _torch_grad(torch.sinc, np.array([0.0, 0.5, -1.25]))[0], rtol=1e-12)
    assert _grad(cr.cbrt, np.array([0.0]))[0].tolist() == [math.inf]  # as x ** (1/3)
    np.testing.assert_allclose(_grad(cr.cbrt, np.array([-8.0, 27.0]))[0], [1 / 12, 1 / 27], rtol=1e-14)
    assert _grad(cr.fabs, np.array([0.0, -2.0, 3.0]))[0].tolist() == [0.0, -1.0, 1.0]
    assert _grad(cr.arctanh, np.array([1.0]))[0].tolist() == [math.inf]
    assert _grad(cr.arccosh, np.array([1.0]))[0].tolist() == [math.inf]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(_grad(cr.logaddexp2, np.array([-1e4, 1e4, 0.0]), np.array([1e4, -1e4, 0.0]))[0],
                                   [0.0, 1.0, 0.5])


def test_sinc_second_derivative_at_zero_is_finite():
    x = cr.tensor([0.0, 1e-3], dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad(cr.sinc(x).sum(), [x], create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), [x])
    assert np.isfinite(h.numpy()).all()


@pytest.mark.parametrize("name", sorted(BINARY))
def test_forward_mode_matches_reverse_mode(name):
    a, b = _uniform(0.3, 2.0, (2, 3)), _uniform(0.35, 1.7, (3,))
    fn = getattr(cr, name)
    jf = cr.jacfwd(fn, argnums=(0, 1))(_tensor(a), _tensor(b))
    jr = cr.jacrev(fn, argnums=(0, 1))(_tensor(a), _tensor(b))
    for f, r in zip(jf, jr):
        np.testing.assert_allclose(f.numpy(), r.numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# The % operator
# ---------------------------------------------------------------------------------------------

def test_mod_operator_follows_pythons_sign_convention():
    a = np.array([-7.5, -3.0, -0.5, 0.0, 2.0, 7.5])
    t = cr.tensor(a)
    assert_same(t % 2, np.remainder(a, 2))
    assert_same(t % -2.0, np.remainder(a, -2.0))
    assert_same(5 % cr.tensor(np.array([2.0, -3.0, 1.5])), np.remainder(5, np.array([2.0, -3.0, 1.5])))
    assert_same(t % cr.tensor(a[::-1].copy() + 0.25), np.remainder(a, a[::-1] + 0.25))
    assert_same(a % cr.tensor(1.5), np.remainder(a, 1.5))  # ndarray % tensor
    for v, d in [(-7.5, 2.0), (7.5, -2.0), (-3.0, 3.0)]:
        assert (cr.tensor(v) % d).item() == v % d
    assert (cr.tensor([-7, 7]) % 3).tolist() == [-7 % 3, 7 % 3]
    assert torch.equal(torch.tensor(a) % 2, torch.tensor((t % 2).numpy()))


def test_mod_operator_gradient_and_in_place():
    x = cr.tensor([2.5, -3.25], requires_grad=True)
    y = cr.tensor([2.0, 1.5], requires_grad=True)
    (x % y).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0] and y.grad.tolist() == [-1.0, 3.0]
    x = cr.tensor([2.5, -3.25], requires_grad=True)
    (2.0 % x).sum().backward()
    assert x.grad.tolist() == [-0.0, 1.0]  # -floor(2 / x) (torch has no gradient for a Python dividend)
    t = cr.tensor([5.5, -5.5])
    u = t
    t %= 2.0
    assert u is t and t.tolist() == [1.5, 0.5]
    x = cr.tensor([2.5, -3.25], requires_grad=True)
    z = x * 1.0
    z %= 2.0
    z.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_mod_is_written_as_an_operator_by_explain():
    from chainrule.tools import symbolic

    assert symbolic.template_of("remainder").render(["a", "b"], {}, []) == "a % b"
    assert symbolic.template_of("fmod").render(["a", "b"], {}, []) == "np.fmod(a, b)"


# ---------------------------------------------------------------------------------------------
# NumPy's ufunc keywords on the new ufuncs
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ufunc", [np.arctan2, np.hypot, np.logaddexp2, np.copysign, np.remainder, np.fmod])
def test_binary_ufunc_keywords(ufunc):
    a, b = np.array([[1.5, -2.5, 0.75]]), np.array([0.5, 1.25, -2.0])
    x = cr.tensor(a, requires_grad=True)
    out = cr.zeros((1, 3), dtype=cr.float64)
    before = version_counter(out)[0]
    assert ufunc(x, cr.tensor(b), out=out) is out
    assert version_counter(out)[0] == before + 1 and out.requires_grad
    np.testing.assert_array_equal(out.detach().numpy(), ufunc(a, b))
    out.sum().backward()
    assert x.grad is not None
    # dtype=: computed in that dtype
    assert_same(ufunc(cr.tensor(a), cr.tensor(b), dtype=np.float32), ufunc(a, b, dtype=np.float32))
    # where= with out=
    mask = np.array([True, False, True])
    target = np.full((1, 3), 9.0)
    expected = ufunc(a, b, out=target.copy(), where=mask)
    got = cr.tensor(np.full((1, 3), 9.0))
    ufunc(cr.tensor(a), cr.tensor(b), out=got, where=mask)
    np.testing.assert_array_equal(got.numpy(), expected)
    # out= a NumPy array, for a result without history
    plain = np.empty((1, 3))
    assert ufunc(cr.tensor(a), b, out=plain) is plain
    np.testing.assert_array_equal(plain, ufunc(a, b))
    # outer
    assert_same(ufunc.outer(cr.tensor(a[0]), cr.tensor(b)), ufunc.outer(a[0], b))


@pytest.mark.parametrize("ufunc", [np.arccosh, np.arcsinh, np.arctanh, np.exp2, np.cbrt, np.fabs,
                                   np.deg2rad, np.rad2deg, np.radians, np.degrees])
def test_unary_ufunc_keywords(ufunc):
    a = np.array([1.25, 1.5, 1.75]) if ufunc is np.arccosh else np.array([0.25, -0.5, 0.75])
    x = cr.tensor(a, requires_grad=True)
    out = cr.zeros(3, dtype=cr.float64)
    assert ufunc(x, out=out) is out
    np.testing.assert_array_equal(out.detach().numpy(), ufunc(a))
    out.sum().backward()
    assert x.grad is not None
    assert_same(ufunc(cr.tensor(a), dtype=np.float32), ufunc(a, dtype=np.float32))
    got = cr.tensor(np.full(3, 9.0))
    ufunc(cr.tensor(a), out=got, where=np.array([False, True, True]))
    np.testing.assert_array_equal(got.numpy(), ufunc(a, out=np.full(3, 9.0), where=np.array([False, True, True])))
    with pytest.raises(ValueError, match="where= without out="):
        ufunc(x, where=np.array([False, True, True]))


def test_out_is_an_in_place_update_that_later_backward_sees():
    x = cr.tensor([0.5, 1.5], requires_grad=True)
    o = cr.tensor([3.0, 4.0])
    y = (x * o).sum()  # saves o
    np.hypot(cr.tensor([3.0, 5.0]), cr.tensor([4.0, 12.0]), out=o)
    assert o.tolist() == [5.0, 13.0]
    with pytest.raises(RuntimeError):
        y.backward()


# ---------------------------------------------------------------------------------------------
# any / all, x in t, shares_memory
# ---------------------------------------------------------------------------------------------

ANY_CASES = [
    np.array([[0.0, -1.0, 2.0], [0.0, 0.0, 0.0]]),
    np.array([[1, 0, 3], [2, 5, 6]]),
    np.array([True, False]),
    np.array(0.0),
    np.zeros((0, 3)),
    np.array([np.nan, 0.0]),
]


@pytest.mark.parametrize("fn", [np.any, np.all])
@pytest.mark.parametrize("case", range(len(ANY_CASES)))
def test_any_all_are_numpys(fn, case):
    a = ANY_CASES[case]
    t = cr.tensor(a, requires_grad=a.dtype.kind == "f")
    assert_same(fn(t), np.asarray(fn(a)))
    axes = [None] + list(range(-a.ndim, a.ndim)) + ([(0, 1)] if a.ndim == 2 else [])
    for axis in axes:
        for keepdims in (False, True):
            r = fn(t, axis=axis, keepdims=keepdims)
            assert_same(r, np.asarray(fn(a, axis=axis, keepdims=keepdims)))
            assert not r.requires_grad
            name = fn.__name__
            assert_same(getattr(cr, name)(t, dim=axis, keepdim=keepdims), np.asarray(fn(a, axis=axis, keepdims=keepdims)))
    if a.ndim:
        assert_same(getattr(t, fn.__name__)(dim=-1), fn(a, axis=-1))


def test_any_all_keywords():
    a = np.array([[0.0, -1.0, 2.0], [0.0, 3.0, 0.0]])
    t = cr.tensor(a)
    mask = np.array([True, False, True])
    for fn in (np.any, np.all):
        assert_same(fn(t, where=mask), np.asarray(fn(a, where=mask)))
        assert_same(fn(t, axis=1, where=mask), fn(a, axis=1, where=mask))
        out = cr.zeros(3, dtype=cr.bool)
        assert fn(t, axis=0, out=out) is out
        assert out.tolist() == fn(a, axis=0).tolist()
    assert_same(np.any(cr.tensor(np.array(2.0)), axis=0), np.asarray(np.any(np.array(2.0), axis=0)))
    with pytest.raises(np.exceptions.AxisError):
        np.any(t, axis=2)
    with pytest.raises(IndexError, match="any"):
        cr.any(t, dim=2)
    with pytest.raises(RuntimeError, match="all: dim 1 appears multiple times"):
        cr.all(t, dim=(1, -1))


def test_any_all_inside_transforms():
    def f(x):
        return cr.where(cr.all(x > 0, dim=1, keepdim=True), x * 2.0, x)

    x = cr.tensor([[1.0, 2.0], [-1.0, 3.0]])
    np.testing.assert_array_equal(cr.jacrev(f)(x).numpy(), cr.jacfwd(f)(x).numpy())


def test_contains_is_pytorchs():
    a = np.array([[1.0, 2.5], [np.nan, -3.0]])
    t = cr.tensor(a, requires_grad=True)
    tt = torch.tensor(a)
    for v in (2.5, 3, -3, np.float32(2.5), cr.tensor(-3.0), cr.tensor([9.0, 2.5]), math.nan):
        expected = (torch.tensor(np.asarray(v.numpy() if isinstance(v, cr.Tensor) else v)) in tt)
        assert (v in t) is expected, v
    assert cr.tensor([True, False]).__contains__(False) is True
    with pytest.raises(RuntimeError, match="`in` takes a tensor or a number"):
        _ = "a" in t


def test_shares_memory():
    base = cr.tensor(np.arange(6.0).reshape(2, 3))
    view = base[1]
    other = cr.tensor(np.arange(6.0))
    for fn in (np.shares_memory, np.may_share_memory):
        assert fn(base, view) is True
        assert fn(base, other) is False
        assert fn(base, base.detach()) is True
        assert fn(base, np.asarray(base)) is True
    assert np.shares_memory(base[0], base[1]) is False
