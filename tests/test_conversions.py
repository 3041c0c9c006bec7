"""No silent conversion (SPEC §2): ``np.asarray`` of a tensor with history is a read-only view,
and inside a transform every way out of the graph that would drop a traced value's derivative
raises an error naming the conversion and the fix, instead of giving a zero derivative.

"Traced" means: carrying a tangent of an open forward level (``jvp``, ``jacfwd``, ``hessian``,
``hvp``), or history reaching the inputs of an open reverse transform (``grad``, ``vjp``,
``jacrev``, ...). Plain values, closures over them, parameters that require grad outside any
transform (PyTorch style) and explicitly detached tensors convert freely.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.transforms.forward import TracedConversionError


def _f64(value, **kwargs):
    return cr.tensor(value, dtype=cr.float64, **kwargs)


# ---------------------------------------------------------------------------------------------
# np.asarray outside transforms
# ---------------------------------------------------------------------------------------------

def test_asarray_of_a_plain_tensor_is_the_writable_buffer():
    t = _f64([1.0, 2.0])
    a = np.asarray(t)
    assert a.flags.writeable and np.shares_memory(a, t.numpy())
    a[0] = 5.0
    assert t.tolist() == [5.0, 2.0]


@pytest.mark.parametrize("make", [
    lambda: _f64([1.0, 2.0], requires_grad=True),
    lambda: _f64([1.0, 2.0], requires_grad=True) * 2.0,
])
def test_asarray_of_a_tensor_with_history_is_a_read_only_view(make):
    t = make()
    a = np.asarray(t)
    assert not a.flags.writeable
    np.testing.assert_array_equal(a, t.detach().numpy())
    assert np.shares_memory(a, t.detach().numpy())
    with pytest.raises(ValueError, match="read-only"):
        a[0] = 100.0
    # a copy, or another dtype, is the caller's own
    assert np.array(t).flags.writeable
    assert np.asarray(t, dtype=np.float32).flags.writeable


def test_writing_through_asarray_cannot_corrupt_a_gradient():
    x = _f64([1.0, 2.0], requires_grad=True)
    y = x * x
    with pytest.raises(ValueError):
        np.asarray(x)[0] = 100.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_pytorch_style_conversions_outside_transforms_still_work():
    x = _f64([1.5], requires_grad=True)
    y = (x * 2.0).sum()
    assert float(y) == 3.0 and y.item() == 3.0 and int(y) == 3 and y.tolist() == 3.0
    assert math.sin(y) == math.sin(3.0)
    assert np.asarray(y).tolist() == 3.0
    with pytest.raises(TypeError, match=r"numpy\.asarray: .*cr\.stack"):
        np.asarray([y, y])  # a list would drop the history silently (PyTorch raises too)
    assert np.asarray([y.detach(), y.detach()]).tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()  # as PyTorch


def test_training_loop_with_logging_outside_transforms():
    w = _f64([0.0, 0.0], requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.1)
    target = _f64([1.0, -1.0])
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = ((w - target) ** 2).sum()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses == sorted(losses, reverse=True)


# ---------------------------------------------------------------------------------------------
# Inside transforms: every way out raises
# ---------------------------------------------------------------------------------------------

CONVERSIONS = {
    "float": (lambda x: float(x.sum()) * x, "float()"),
    "int": (lambda x: int(x.sum()) * x, "int()"),
    "item": (lambda x: x.sum().item() * x, ".item()"),
    "tolist": (lambda x: cr.tensor(x.tolist(), dtype=cr.float64), ".tolist()"),
    "asarray": (lambda x: np.asarray(x) * 2.0, "np.asarray()"),
    "array": (lambda x: np.array(x) * 2.0, "np.asarray()"),
    "array_of_list": (lambda x: np.array([x.sum(), (x ** 2).sum()]), "np.asarray()"),
    "mean_of_list": (lambda x: np.mean([x, x + 2.0], axis=0), "np.asarray()"),
    "math_sin": (lambda x: math.sin(x.sum()) * x, "float()"),
    "math_exp": (lambda x: math.exp(x.sum()) * x, "float()"),
}

TRANSFORMS = {
    "grad": lambda f, x: cr.grad(lambda z: cr.sum(f(z)))(x),
    "value_and_grad": lambda f, x: cr.value_and_grad(lambda z: cr.sum(f(z)))(x),
    "vjp": lambda f, x: cr.vjp(f, x),
    "jvp": lambda f, x: cr.jvp(f, (x,), (cr.ones_like(x),)),
    "jacrev": lambda f, x: cr.jacrev(f)(x),
    "jacfwd": lambda f, x: cr.jacfwd(f)(x),
    "jacobian": lambda f, x: cr.jacobian(f)(x),
    "hessian": lambda f, x: cr.hessian(lambda z: cr.sum(f(z)))(x),
    "hvp": lambda f, x: cr.hvp(lambda z: cr.sum(f(z)), (x,), (cr.ones_like(x),)),
    "checkpoint_in_grad": lambda f, x: cr.grad(lambda z: cr.sum(cr.checkpoint(f, z)))(x),
    "grad_of_grad": lambda f, x: cr.grad(lambda z: cr.sum(cr.grad(lambda u: cr.sum(f(u)))(z) * z))(x),
}


@pytest.mark.parametrize("transform", list(TRANSFORMS))
@pytest.mark.parametrize("conversion", list(CONVERSIONS))
def test_conversion_of_a_traced_value_raises(conversion, transform):
    f, what = CONVERSIONS[conversion]
    x = _f64([0.2, 0.3])
    with pytest.raises(TracedConversionError) as info:
        TRANSFORMS[transform](f, x)
    message = str(info.value)
    assert message.startswith(what) and "detach()" in message and "cr." in message
    assert isinstance(info.value, TypeError) and isinstance(info.value, RuntimeError)


def test_tensor_of_a_list_of_traced_values_raises():
    with pytest.raises(TypeError, match=r"np\.asarray\(\).*cr\.grad.*detach\(\)"):
        cr.grad(lambda x: cr.tensor([x.sum(), x.sum() ** 2]).sum())(_f64([0.2, 0.3]))


def test_the_cases_of_the_issue_raise():
    with pytest.raises(TracedConversionError, match=r"np\.asarray"):
        cr.grad(lambda x: np.mean([x, x + 2.0]))(0.0)
    with pytest.raises(TracedConversionError, match=r"np\.asarray"):
        cr.jacobian(lambda x: np.array([x, x ** 2]))(2.0)
    with pytest.raises(TracedConversionError, match=r"float\(\)"):
        cr.grad(lambda x: float(x) ** 2)(3.0)
    with pytest.raises(TracedConversionError, match=r"float\(\)"):
        cr.grad(lambda x: math.sin(x))(3.0)


def test_scipy_functions_that_convert_raise():
    special = pytest.importorskip("scipy.special")
    with pytest.raises(TracedConversionError):
        cr.grad(lambda x: special.logsumexp(x))(np.array([0.1, 0.2]))


def test_numpy_of_a_dual_inside_jvp_raises():
    with pytest.raises(TracedConversionError, match=r"\.numpy\(\).*cr\.jvp.*tangent"):
        cr.jvp(lambda x: x.numpy() * 2.0, (_f64([1.0]),), (_f64([1.0]),))


def test_a_value_traced_only_by_the_outer_transform_raises_inside_the_inner_one():
    with pytest.raises(TracedConversionError, match="cr.grad"):
        cr.grad(lambda x: cr.grad(lambda y: y * float(x))(_f64(1.0)))(_f64(2.0))
    with pytest.raises(TracedConversionError, match="cr.jvp"):
        cr.jvp(lambda x: cr.grad(lambda y: y * float(x))(_f64(1.0)), (_f64(2.0),), (_f64(1.0),))


def test_no_grad_inside_a_transform():
    """Under no_grad nothing is recorded, so a value used there is a constant by request (as in
    PyTorch): converting it drops nothing more. Tangents still flow under no_grad, so inside a
    forward transform the conversion raises."""
    def f(x):
        with cr.no_grad():
            scale = float(x.sum())
        return (x * x).sum() * scale
    np.testing.assert_allclose(cr.grad(f)(_f64([1.0, 2.0])).numpy(), [6.0, 12.0])
    with pytest.raises(TracedConversionError, match="cr.jvp.*tangent"):
        cr.jvp(f, (_f64([1.0, 2.0]),), (_f64([1.0, 0.0]),))


def test_custom_function_with_numpy_rules_under_second_order_transforms():
    """A custom Function whose rules use NumPy works wherever its rules are not themselves
    differentiated, and raises (instead of a wrong number) where they would be."""
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return cr.tensor(np.asarray(x) ** 3)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * cr.tensor(3 * np.asarray(x) ** 2)

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return t * cr.tensor(3 * np.asarray(x) ** 2)

    x = _f64([1.0, 2.0])
    np.testing.assert_allclose(cr.grad(lambda z: Cube.apply(z).sum())(x).numpy(), [3.0, 12.0])
    np.testing.assert_allclose(cr.jacfwd(Cube.apply)(x).numpy(), np.diag([3.0, 12.0]))
    np.testing.assert_allclose(cr.jacrev(Cube.apply)(x).numpy(), np.diag([3.0, 12.0]))
    with pytest.raises(TracedConversionError):
        cr.hessian(lambda z: Cube.apply(z).sum())(x)  # its backward is differentiated
    with pytest.raises(TracedConversionError):
        cr.grad(lambda z: cr.grad(lambda u: Cube.apply(u).sum())(z).sum())(x)


# ---------------------------------------------------------------------------------------------
# Inside transforms: what stays allowed
# ---------------------------------------------------------------------------------------------

def test_detached_values_plain_closures_and_outside_parameters_convert_freely():
    c = _f64([1.0, 2.0])  # a plain closure
    w = _f64([3.0, 4.0], requires_grad=True)  # a parameter outside any transform (PyTorch style)
    seen = []

    def f(x):
        seen.append(float(x.detach().sum()))  # explicitly detached
        seen.append(x.detach().item() if x.numel() == 1 else x.detach().tolist())
        seen.append(np.asarray(x.detach()).sum())
        seen.append(float(c.sum()) + c.tolist()[0] + np.asarray(c).sum())
        seen.append(float(w.sum()) + np.asarray(w).sum())  # not differentiated by this transform
        seen.append(math.sqrt(c[1]))
        return (x * x).sum() * float(c.sum())

    g = cr.grad(f)(_f64([0.5, 1.5]))
    np.testing.assert_allclose(g.numpy(), [3.0, 9.0])
    assert seen[0] == 2.0 and seen[3] == 3.0 + 1.0 + 3.0 and seen[4] == 14.0
    h = cr.hessian(f)(_f64([0.5, 1.5]))
    np.testing.assert_allclose(h.numpy(), 6.0 * np.eye(2))
    _, t = cr.jvp(f, (_f64([0.5, 1.5]),), (_f64([1.0, 0.0]),))
    assert float(t) == 3.0


def test_control_flow_printing_and_comparisons_on_traced_values():
    def f(x):
        text = f"{x.sum():.3f} {x!r}"
        assert text.startswith("0.500")
        if x.sum() > 0:  # bool() of a comparison decides control flow
            return (x ** 2).sum()
        return (x ** 3).sum()
    np.testing.assert_allclose(cr.grad(f)(_f64([0.2, 0.3])).numpy(), [0.4, 0.6])
    assert bool(cr.grad(lambda x: x * x)(_f64(1.0)) == 2.0)


def test_results_of_closed_inner_transforms_convert_freely():
    def f(x):
        inner = cr.grad(lambda y: (y ** 3).sum())(_f64([1.0, 2.0]))  # nothing here depends on x
        return (x * float(inner.sum())).sum()
    np.testing.assert_allclose(cr.grad(f)(_f64([0.1, 0.2])).numpy(), [15.0, 15.0])
    outside = cr.grad(lambda y: (y ** 3).sum())(_f64([1.0, 2.0]))
    assert outside.tolist() == [3.0, 12.0] and np.asarray(outside).flags.writeable


def test_custom_function_forward_may_use_numpy_inside_transforms():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return cr.tensor(np.asarray(x) ** 3 + 0.0 * float(np.asarray(x).sum()))

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return t * 3 * x * x

    x = _f64([1.0, 2.0])
    np.testing.assert_allclose(cr.grad(lambda z: Cube.apply(z).sum())(x).numpy(), [3.0, 12.0])
    np.testing.assert_allclose(cr.hessian(lambda z: Cube.apply(z).sum())(x).numpy(), np.diag([6.0, 12.0]))
    np.testing.assert_allclose(cr.jvp(Cube.apply, (x,), (cr.ones_like(x),))[1].numpy(), [3.0, 12.0])


def test_nn_module_parameters_inside_grad_of_the_input():
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.Tanh(), cr.nn.Linear(4, 1))
    model.double()
    x = cr.tensor(np.array([[0.1, -0.2, 0.3]]), dtype=cr.float64)
    g = cr.grad(lambda z: model(z).sum())(x)
    numeric = cr.numerical.gradient(lambda z: model(z).sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), numeric, rtol=1e-6)
    norms = [float(p.sum()) for p in model.parameters()]  # outside: PyTorch style, fine
    assert len(norms) == 4


def test_constant_functions_have_zero_derivatives():
    """A plain number returned by the function is a constant (any conversion of a traced value
    that could have produced it raises first)."""
    assert float(cr.grad(lambda x: 3.0)(_f64(1.0))) == 0.0
    np.testing.assert_array_equal(cr.jacrev(lambda x: np.ones(2))(_f64([1.0, 2.0])).numpy(), np.zeros((2, 2)))
