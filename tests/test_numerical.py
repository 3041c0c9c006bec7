"""cr.numerical: the four finite-difference methods, their error orders, and gradcheck."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import GradcheckError, gradcheck, gradgradcheck

METHOD_ORDERS = {"forward": 1, "backward": 1, "central": 2, "richardson": 4}

KNOWN = [
    # (name, f on tensors, f' as a Python function, point)
    ("exp", cr.exp, math.exp, 0.7),
    ("sin", cr.sin, math.cos, 1.1),
    ("x^5", lambda x: x ** 5, lambda x: 5 * x ** 4, 1.3),
    ("log", cr.log, lambda x: 1 / x, 2.0),
]


@pytest.mark.parametrize("method,order", METHOD_ORDERS.items())
@pytest.mark.parametrize("name,f,df,x0", KNOWN, ids=[k[0] for k in KNOWN])
def test_error_order(method, order, name, f, df, x0):
    """The error falls like h^p: the slope of log(error) against log(h) is the method's order."""
    steps = np.array([0.08, 0.04, 0.02, 0.01]) if order < 4 else np.array([0.4, 0.2, 0.1, 0.05])
    errors = np.array([abs(cr.numerical.derivative(f, x0, h=h, method=method) - df(x0)) for h in steps])
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(slope - order) < 0.35, f"{method} on {name}: measured order {slope:.2f}, expected {order}"


@pytest.mark.parametrize("method", METHOD_ORDERS)
def test_default_step_is_accurate(method):
    expected = {"forward": 1e-6, "backward": 1e-6, "central": 1e-9, "richardson": 1e-11}[method]
    got = cr.numerical.derivative(cr.exp, 1.0, method=method)
    assert abs(got - math.e) / math.e < expected


def test_default_step_scales_with_x_and_dtype():
    small = cr.numerical.default_step(1.0, "central")
    big = cr.numerical.default_step(1000.0, "central")
    assert big == pytest.approx(1000 * small)
    single = cr.numerical.default_step(np.float32(1.0), "central")
    assert single > 100 * small


def test_gradient_and_jacobian_shapes():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    g = cr.numerical.gradient(lambda t: (t ** 2).sum(), x)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-7)
    jac = cr.numerical.gradient(lambda t: t * 3.0, x)
    assert jac.shape == (2, 2, 2, 2)
    np.testing.assert_allclose(jac.reshape(4, 4), 3 * np.eye(4), atol=1e-8)


def test_derivative_of_vector_valued_function():
    d = cr.numerical.derivative(lambda t: cr.stack([t, t * t]), 3.0)
    np.testing.assert_allclose(d, [1.0, 6.0], rtol=1e-8)


def test_bad_method_and_shape():
    with pytest.raises(ValueError, match="method must be one of"):
        cr.numerical.derivative(cr.exp, 1.0, method="five-point")
    with pytest.raises(ValueError, match="single number"):
        cr.numerical.derivative(cr.exp, np.ones(3))


def test_relative_error():
    assert cr.numerical.relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert cr.numerical.relative_error([0.0], [0.0]) == 0.0
    assert cr.numerical.relative_error([1.0, 4.0], [1.0, 5.0]) == pytest.approx(0.2)
    assert cr.numerical.relative_error([np.nan], [1.0]) == math.inf


class WrongBackward(cr.autograd.Function):
    """x² with a wrong backward (x instead of 2x) but a correct jvp."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x

    @staticmethod
    def jvp(ctx, tangent):
        (x,) = ctx.saved_tensors
        return 2 * x * tangent


class WrongJvp(WrongBackward):
    """x² with a correct backward but a wrong jvp."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * grad * x

    @staticmethod
    def jvp(ctx, tangent):
        (x,) = ctx.saved_tensors
        return 3 * x * tangent


class Square(WrongJvp):
    @staticmethod
    def jvp(ctx, tangent):
        (x,) = ctx.saved_tensors
        return 2 * x * tangent


def _x():
    return cr.tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)


def test_gradcheck_catches_wrong_backward():
    with pytest.raises(GradcheckError, match=r"reverse-mode .* input 0 element \(0,\)"):
        gradcheck(WrongBackward.apply, (_x(),))


def test_gradcheck_catches_wrong_jvp():
    with pytest.raises(GradcheckError, match=r"forward-mode .* input 0 element \(0,\)"):
        gradcheck(WrongJvp.apply, (_x(),))


def test_gradcheck_passes_correct_function_and_second_order():
    assert gradcheck(Square.apply, (_x(),))
    assert gradgradcheck(lambda x: cr.sin(x) * x, (_x(),))


def test_gradgradcheck_catches_wrong_second_derivative():
    class WrongSecond(cr.autograd.Function):
        """sin with a backward whose own derivative is wrong: cos(x) written as a detached value."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return cr.sin(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * cr.cos(x).detach()

        @staticmethod
        def jvp(ctx, tangent):
            (x,) = ctx.saved_tensors
            return cr.cos(x) * tangent

    assert gradcheck(WrongSecond.apply, (_x(),))
    with pytest.raises(GradcheckError):
        gradgradcheck(WrongSecond.apply, (_x(),))


def test_gradcheck_needs_float64_inputs():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(cr.sin, (cr.tensor([1.0, 2.0], requires_grad=True),))
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(cr.sin, (cr.tensor(np.array([1.0])),))


@pytest.mark.parametrize("method", ["forward", "backward", "richardson"])
def test_gradcheck_with_every_method(method):
    """SPEC §5: gradcheck's ``method`` picks the finite-difference formula; each accepts a
    correct function and reports a wrong backward by input and element."""
    assert gradcheck(Square.apply, (_x(),), method=method)
    with pytest.raises(GradcheckError, match=r"reverse-mode .* input 0 element \(0,\)"):
        gradcheck(WrongBackward.apply, (_x(),), method=method)


def test_gradgradcheck_report_names_input_and_element():
    class DetachedCos(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return cr.sin(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * cr.cos(x).detach()

    with pytest.raises(GradcheckError, match=r"input 0 element \(0,\)"):
        gradgradcheck(DetachedCos.apply, (_x(),))


@pytest.mark.parametrize("method", ["forward", "backward", "central", "richardson"])
def test_numerical_gradient_with_method_and_step(method):
    """SPEC §5: cr.numerical.gradient takes ``method`` and ``h``; one-sided methods evaluate f(x)
    once, not once per element."""
    calls = []

    def f(v):
        calls.append(1)
        return (v * v * v).sum()

    x = np.array([0.5, -1.0, 2.0])
    g = cr.numerical.gradient(f, x, h=1e-6, method=method)
    np.testing.assert_allclose(g, 3 * x * x, rtol=1e-4)
    per_element = {"forward": 1, "backward": 1, "central": 2, "richardson": 4}[method]
    assert len(calls) == per_element * x.size + (method in ("forward", "backward"))
