"""Known closed forms: the textbook examples of automatic differentiation, checked number by number.

Every expected value is computed independently (by hand-written formulas in NumPy), never by the
library itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
import chainrule.transforms.jacobians as CF


def _np(t):
    return t.detach().numpy() if isinstance(t, cr.Tensor) else np.asarray(t)


def close(actual, expected, rtol=1e-7, atol=1e-10):
    np.testing.assert_allclose(_np(actual).astype(np.float64), np.asarray(expected, dtype=np.float64),
                               rtol=rtol, atol=atol)


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


# ---------------------------------------------------------------------------------------------
# The PyTorch / d2l classics
# ---------------------------------------------------------------------------------------------

def test_two_x_dot_x():
    x = cr.arange(4.0, requires_grad=True)
    y = 2 * cr.dot(x, x)
    y.backward()
    close(y, 28.0)
    close(x.grad, 4 * np.arange(4.0))
    assert x.grad.dtype == cr.float32 and x.grad.shape == (4,)


def test_sum_gives_ones():
    x = cr.arange(4.0, requires_grad=True)
    x.sum().backward()
    close(x.grad, np.ones(4))


def test_detach_stops_the_gradient():
    x = cr.arange(4.0, requires_grad=True)
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    close(x.grad, np.arange(4.0) ** 2)  # u, treated as a constant
    assert not u.requires_grad and u.grad_fn is None
    x.grad = None
    y.sum().backward()
    close(x.grad, 2 * np.arange(4.0))


def _doubling(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


@pytest.mark.parametrize("value", [0.7, -0.3, 1500.0])
def test_control_flow_gradient_is_d_over_a(value):
    a = cr.tensor(value, dtype=cr.float64, requires_grad=True)
    d = _doubling(a)
    d.backward()
    close(a.grad, (d / a).item(), rtol=1e-12)


def test_control_flow_vector():
    a = cr.tensor([0.1, -0.2, 0.05], dtype=cr.float64, requires_grad=True)
    d = _doubling(a)
    d.sum().backward()
    scale = d.detach().numpy() / a.detach().numpy()  # one common factor k: d = k a
    assert np.allclose(scale, scale[0])
    close(a.grad, np.full(3, scale[0]))


def test_recursion_just_works():
    def power(x, n):
        return x if n == 1 else x * power(x, n - 1)

    x = cr.tensor(1.3, dtype=cr.float64, requires_grad=True)
    power(x, 7).backward()
    close(x.grad, 7 * 1.3 ** 6)


def test_backward_with_vector_equals_weighted_sum():
    rng = np.random.default_rng(0)
    data, v = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    x1 = cr.tensor(data, requires_grad=True)
    y1 = cr.sin(x1) * x1
    y1.backward(cr.tensor(v))
    x2 = cr.tensor(data, requires_grad=True)
    (cr.tensor(v) * (cr.sin(x2) * x2)).sum().backward()
    close(x1.grad, x2.grad.numpy(), rtol=1e-14)
    close(x1.grad, v * (np.cos(data) * data + np.sin(data)))  # the closed form


def test_staged_cs231n_example():
    """f(x, y) = (x + σ(y)) / (σ(x) + (x + y)²) at x = 3, y = −4, staged backprop by hand."""
    x, y = 3.0, -4.0
    # forward, one line per stage
    sigy = 1.0 / (1 + math.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + math.exp(-x))
    xpy = x + y
    xpysqr = xpy ** 2
    den = sigx + xpysqr
    invden = 1.0 / den
    f = num * invden
    # backward, in reverse order, += where a value fans out
    dnum = invden
    dinvden = num
    dden = (-1.0 / den ** 2) * dinvden
    dsigx = dden
    dxpysqr = dden
    dxpy = 2 * xpy * dxpysqr
    dx = dxpy
    dy = dxpy
    dx += (1 - sigx) * sigx * dsigx
    dx += dnum
    dsigy = dnum
    dy += (1 - sigy) * sigy * dsigy

    X = cr.tensor(x, dtype=cr.float64, requires_grad=True)
    Y = cr.tensor(y, dtype=cr.float64, requires_grad=True)
    out = (X + cr.sigmoid(Y)) / (cr.sigmoid(X) + (X + Y) ** 2)
    out.backward()
    close(out, f, rtol=1e-14)
    close(X.grad, dx, rtol=1e-12)
    close(Y.grad, dy, rtol=1e-12)
    # the same through the transform API
    gx, gy = cr.grad(lambda a, b: (a + cr.sigmoid(b)) / (cr.sigmoid(a) + (a + b) ** 2), argnums=(0, 1))(
        cr.tensor(x, dtype=cr.float64), cr.tensor(y, dtype=cr.float64))
    close(gx, dx, rtol=1e-12)
    close(gy, dy, rtol=1e-12)


def test_colah_sum_product():
    a = cr.tensor(2.0, requires_grad=True)
    b = cr.tensor(1.0, requires_grad=True)
    e = (a + b) * (b + 1)
    e.backward()
    close(e, 6.0)
    close(a.grad, 2.0)
    close(b.grad, 5.0)


def test_matrix_product_gradients():
    rng = np.random.default_rng(1)
    w, x, dd = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((3, 2))
    W = cr.tensor(w, requires_grad=True)
    X = cr.tensor(x, requires_grad=True)
    D = W @ X
    D.backward(cr.tensor(dd))
    close(W.grad, dd @ x.T, rtol=1e-12)
    close(X.grad, w.T @ dd, rtol=1e-12)


def test_least_squares_gradient():
    rng = np.random.default_rng(2)
    x, w, y = rng.standard_normal((5, 3)), rng.standard_normal(3), rng.standard_normal(5)
    W = cr.tensor(w, requires_grad=True)
    loss = ((cr.tensor(x) @ W - cr.tensor(y)) ** 2).sum()
    loss.backward()
    close(W.grad, 2 * x.T @ (x @ w - y), rtol=1e-12)
    close(cr.grad(lambda v: cr.norm(cr.tensor(x) @ v - cr.tensor(y)) ** 2)(cr.tensor(w)),
          2 * x.T @ (x @ w - y), rtol=1e-10)


# ---------------------------------------------------------------------------------------------
# Functional transforms: closed-form gradients, Jacobians and Hessians
# ---------------------------------------------------------------------------------------------

def rosenbrock(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def rosenbrock_grad(x):
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


def rosenbrock_hessian(x):
    n = x.size
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
        h[i, i + 1] = h[i + 1, i] = -400.0 * x[i]
        h[i + 1, i + 1] += 200.0
    return h


@pytest.mark.parametrize("point", [[-1.2, 1.0], [0.5, -0.3, 1.5, 2.0]], ids=["n=2", "n=4"])
def test_rosenbrock_gradient_hessian_hvp(point):
    x = np.array(point)
    close(cr.grad(rosenbrock)(cr.tensor(x)), rosenbrock_grad(x), rtol=1e-12)
    close(cr.hessian(rosenbrock)(cr.tensor(x)), rosenbrock_hessian(x), rtol=1e-12)
    v = np.linspace(-1.0, 1.0, x.size)
    value, product = cr.hvp(rosenbrock, (cr.tensor(x),), (cr.tensor(v),))
    close(value, rosenbrock(cr.tensor(x)).item(), rtol=1e-14)
    close(product, rosenbrock_hessian(x) @ v, rtol=1e-12)
    # at the minimum the gradient vanishes
    close(cr.grad(rosenbrock)(cr.ones(x.size, dtype=cr.float64)), np.zeros(x.size), atol=1e-12)


def test_tanh_layer_jacobian_both_modes():
    rng = np.random.default_rng(3)
    a, x = rng.standard_normal((4, 3)), rng.standard_normal(3)
    expected = (1 - np.tanh(a @ x) ** 2)[:, None] * a

    def f(v):
        return cr.tanh(cr.tensor(a) @ v)

    for transform in (cr.jacrev, cr.jacfwd, cr.jacobian):
        jac = transform(f)(cr.tensor(x))
        assert jac.shape == (4, 3)
        close(jac, expected, rtol=1e-12)


@pytest.mark.parametrize("shape, expected_mode", [((5, 2), "forward"), ((2, 5), "reverse"), ((3, 3), "reverse")])
def test_jacobian_auto_picks_the_cheaper_mode(shape, expected_mode, monkeypatch):
    used = []
    real_fwd, real_rev = CF._jacfwd, CF._jacrev
    monkeypatch.setattr(CF, "_jacfwd", lambda *a, **k: (used.append("forward"), real_fwd(*a, **k))[1])
    monkeypatch.setattr(CF, "_jacrev", lambda *a, **k: (used.append("reverse"), real_rev(*a, **k))[1])
    rng = np.random.default_rng(4)
    a, x = rng.standard_normal(shape), rng.standard_normal(shape[1])
    jac = CF.jacobian(lambda v: cr.tanh(cr.tensor(a) @ v))(cr.tensor(x))
    assert used == [expected_mode]
    close(jac, (1 - np.tanh(a @ x) ** 2)[:, None] * a, rtol=1e-12)


def test_jacobian_shape_is_out_shape_plus_in_shape():
    x = cr.tensor(np.arange(6.0).reshape(2, 3))
    for transform in (cr.jacrev, cr.jacfwd):
        jac = transform(lambda t: (t * t).sum(dim=0))(x)
        assert jac.shape == (3, 2, 3)
        expected = np.zeros((3, 2, 3))
        for j in range(3):
            expected[j, :, j] = 2 * np.arange(6.0).reshape(2, 3)[:, j]
        close(jac, expected)


def test_softmax_cross_entropy_gradient_and_hessian():
    z = np.array([0.2, -1.0, 1.5, 0.3])
    target = 2
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()

    def loss(logits):
        return F.cross_entropy(logits[None], cr.tensor([target]))

    close(cr.grad(loss)(cr.tensor(z)), p - np.eye(4)[target], rtol=1e-12)
    close(cr.hessian(loss)(cr.tensor(z)), np.diag(p) - np.outer(p, p), rtol=1e-10, atol=1e-14)
    # unbatched logits, sum reduction, and reverse-over-reverse give the same
    hess = cr.jacrev(cr.grad(lambda t: F.cross_entropy(t, cr.tensor(target), reduction="sum")))(cr.tensor(z))
    close(hess, np.diag(p) - np.outer(p, p), rtol=1e-10, atol=1e-14)


def test_third_order_nesting():
    """f(x) = x² sin x: f' = 2x sin x + x² cos x, f'' = 2 sin x + 4x cos x − x² sin x,
    f''' = 6 cos x − 6x sin x − x² cos x."""
    def f(x):
        return x * x * cr.sin(x)

    x0 = 0.7
    d1 = 2 * x0 * math.sin(x0) + x0 ** 2 * math.cos(x0)
    d2 = 2 * math.sin(x0) + 4 * x0 * math.cos(x0) - x0 ** 2 * math.sin(x0)
    d3 = 6 * math.cos(x0) - 6 * x0 * math.sin(x0) - x0 ** 2 * math.cos(x0)
    x = cr.tensor(x0, dtype=cr.float64)
    close(cr.grad(f)(x), d1, rtol=1e-12)
    close(cr.grad(cr.grad(f))(x), d2, rtol=1e-12)
    close(cr.grad(cr.grad(cr.grad(f)))(x), d3, rtol=1e-12)
    # forward over reverse and forward over forward
    close(cr.jvp(cr.grad(f), (x,), (cr.tensor(1.0, dtype=cr.float64),))[1], d2, rtol=1e-12)
    close(cr.jacfwd(cr.jacrev(cr.grad(f)))(x), d3, rtol=1e-12)
    close(cr.jacfwd(cr.jacfwd(cr.jacfwd(f)))(x), d3, rtol=1e-12)
    # and with backward(create_graph=True), PyTorch's way
    xt = cr.tensor(x0, dtype=cr.float64, requires_grad=True)
    (g1,) = cr.autograd.grad(f(xt), xt, create_graph=True)
    (g2,) = cr.autograd.grad(g1, xt, create_graph=True)
    g2.backward()
    close(g1, d1, rtol=1e-12)
    close(g2, d2, rtol=1e-12)
    close(xt.grad, d3, rtol=1e-12)


def test_jacfwd_of_jacrev_is_the_hessian_of_a_vector_function():
    # f(x) = sum(x_i^3) + x0 x1: H = diag(6 x) + [[0,1],[1,0]]
    x = np.array([0.4, -1.1])

    def f(v):
        return (v ** 3).sum() + v[0] * v[1]

    expected = np.diag(6 * x) + np.array([[0.0, 1.0], [1.0, 0.0]])
    close(cr.jacfwd(cr.jacrev(f))(cr.tensor(x)), expected, rtol=1e-12)
    close(cr.jacrev(cr.jacrev(f))(cr.tensor(x)), expected, rtol=1e-12)
    close(cr.jacrev(cr.jacfwd(f))(cr.tensor(x)), expected, rtol=1e-12)
    close(cr.hessian(f)(cr.tensor(x)), expected, rtol=1e-12)


def test_jvp_of_grad_is_hessian_vector_product():
    x, v = np.array([0.4, -1.1, 2.0]), np.array([1.0, 0.5, -2.0])

    def f(t):
        return (cr.exp(t[0]) * t[1] * t[2])

    e = math.exp(x[0])
    h = np.array([[e * x[1] * x[2], e * x[2], e * x[1]], [e * x[2], 0, e], [e * x[1], e, 0]])
    grad_value, hv = cr.jvp(cr.grad(f), (cr.tensor(x),), (cr.tensor(v),))
    close(grad_value, [e * x[1] * x[2], e * x[2], e * x[1]], rtol=1e-12)
    close(hv, h @ v, rtol=1e-12)


def test_hvp_and_jacobians_with_several_arguments():
    # f(x, y) = Σ x² y with y a scalar: H = [[2y I, 2x], [2xᵀ, 0]]
    x, y = np.array([0.5, -1.0, 2.0]), 1.5
    u, v = np.array([1.0, 2.0, -1.0]), -0.5

    def f(a, b):
        return (a * a * b).sum()

    value, (hx, hy) = cr.hvp(f, (cr.tensor(x), cr.tensor(y, dtype=cr.float64)),
                             (cr.tensor(u), cr.tensor(v, dtype=cr.float64)))
    close(value, (x * x * y).sum())
    close(hx, 2 * y * u + 2 * x * v, rtol=1e-12)
    close(hy, 2 * x @ u, rtol=1e-12)
    for transform in (cr.jacrev, cr.jacfwd):
        jx, jy = transform(lambda a, b: a * a * b, argnums=(0, 1))(cr.tensor(x), cr.tensor(y, dtype=cr.float64))
        assert jx.shape == (3, 3) and jy.shape == (3,)
        close(jx, np.diag(2 * x * y), rtol=1e-12)
        close(jy, x * x, rtol=1e-12)


def test_jvp_is_one_forward_pass_without_a_backward_graph():
    calls = []

    def f(t):
        calls.append(1)
        return cr.exp(t) * t

    x, t = np.array([0.2, -0.7]), np.array([1.0, 3.0])
    out, tangent = cr.jvp(f, (cr.tensor(x),), (cr.tensor(t),))
    assert len(calls) == 1
    assert out.grad_fn is None and tangent.grad_fn is None
    assert not out.requires_grad and not tangent.requires_grad
    close(tangent, np.exp(x) * (x + 1) * t, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Closures over outer variables (perturbation confusion)
# ---------------------------------------------------------------------------------------------

def test_perturbation_confusion_reverse():
    # d/dx [x · d/dy (x + y)] at x = 1: the inner derivative is 1, so the answer is 1 (not 2).
    out = cr.grad(lambda x: x * cr.grad(lambda y: x + y)(cr.tensor(1.0, dtype=cr.float64)))(
        cr.tensor(1.0, dtype=cr.float64))
    close(out, 1.0)
    # d/dx [x · d/dy (x·y)|_{y=x}] = d/dx [x · x] = 2x
    x0 = 1.7
    out = cr.grad(lambda x: x * cr.grad(lambda y: x * y)(x))(cr.tensor(x0, dtype=cr.float64))
    close(out, 2 * x0, rtol=1e-12)
    # d/dx [d/dy (x·y²)|_{y=x}] = d/dx [2 x x] = 4x
    out = cr.grad(lambda x: cr.grad(lambda y: x * y * y)(x))(cr.tensor(x0, dtype=cr.float64))
    close(out, 4 * x0, rtol=1e-12)


def test_perturbation_confusion_forward():
    one = cr.tensor(1.0, dtype=cr.float64)

    def inner(x):
        return cr.jvp(lambda y: x + y, (one,), (one,))[1]

    _, out = cr.jvp(lambda x: x * inner(x), (one,), (one,))
    close(out, 1.0)
    # mixed: forward mode over a reverse-mode closure, d/dx [x · d/dy (x·y)|_{y=x}] = 2x
    x0 = cr.tensor(1.7, dtype=cr.float64)
    _, out = cr.jvp(lambda x: x * cr.grad(lambda y: x * y)(x), (x0,), (one,))
    close(out, 3.4, rtol=1e-12)
    # reverse over a forward-mode closure
    out = cr.grad(lambda x: x * cr.jvp(lambda y: x * y, (x,), (one,))[1])(x0)
    close(out, 3.4, rtol=1e-12)


def test_closure_over_a_tensor_that_requires_grad():
    # g(w) = d/dx (w x²) at x = 3 is 6w; backward through it into w gives 6.
    w = cr.tensor(0.5, dtype=cr.float64, requires_grad=True)
    inner = cr.grad(lambda x: w * x * x)(cr.tensor(3.0, dtype=cr.float64))
    close(inner, 3.0)
    inner.backward()
    close(w.grad, 6.0)


# ---------------------------------------------------------------------------------------------
# grad / value_and_grad conventions (JAX's), vjp, jvp of a custom Function, checkpoint
# ---------------------------------------------------------------------------------------------

def _f_aux(x, y):
    value = (x * x * y).sum()
    return value, {"x_squared": x * x}


def test_grad_and_value_and_grad_conventions():
    x, y = cr.tensor([1.0, 2.0], dtype=cr.float64), cr.tensor(3.0, dtype=cr.float64)

    g = cr.grad(lambda a, b: (a * a * b).sum())(x, y)
    assert isinstance(g, cr.Tensor)
    close(g, [6.0, 12.0])

    gx, gy = cr.grad(lambda a, b: (a * a * b).sum(), argnums=(0, 1))(x, y)
    close(gx, [6.0, 12.0])
    close(gy, 5.0)
    (only_y,) = cr.grad(lambda a, b: (a * a * b).sum(), argnums=(1,))(x, y)
    close(only_y, 5.0)
    close(cr.grad(lambda a, b: (a * a * b).sum(), argnums=-1)(x, y), 5.0)

    grad_value, aux = cr.grad(_f_aux, has_aux=True)(x, y)
    close(grad_value, [6.0, 12.0])
    close(aux["x_squared"], [1.0, 4.0])

    (value, aux), grads = cr.value_and_grad(_f_aux, argnums=(0, 1), has_aux=True)(x, y)
    close(value, 15.0)
    close(aux["x_squared"], [1.0, 4.0])
    assert isinstance(grads, tuple) and len(grads) == 2
    close(grads[0], [6.0, 12.0])
    close(grads[1], 5.0)

    value, g = cr.value_and_grad(lambda a: (a * a).sum())(x)
    close(value, 5.0)
    close(g, [2.0, 4.0])


def test_transforms_accept_arrays_and_floats():
    close(cr.grad(lambda a: (a ** 3).sum())(np.array([1.0, 2.0])), [3.0, 12.0])
    close(cr.grad(lambda a: a ** 3)(2.0), 12.0, rtol=1e-6)
    _, t = cr.jvp(lambda a: a * a, (np.array([3.0]),), (np.array([1.0]),))
    close(t, [6.0])


def test_unused_argument_gets_zero_gradient():
    gx, gy = cr.grad(lambda a, b: (a * 2).sum(), argnums=(0, 1))(cr.ones(2, dtype=cr.float64),
                                                                cr.ones(3, dtype=cr.float64))
    close(gx, [2.0, 2.0])
    close(gy, np.zeros(3))


def test_vjp_called_twice():
    x = np.array([0.5, -1.0, 2.0])
    out, vjp_fn = cr.vjp(lambda t: cr.sin(t) * t, cr.tensor(x))
    close(out, np.sin(x) * x)
    jac_diag = np.cos(x) * x + np.sin(x)
    v1, v2 = np.array([1.0, 0.0, 2.0]), np.array([-1.0, 3.0, 0.5])
    (g1,) = vjp_fn(cr.tensor(v1))
    (g2,) = vjp_fn(cr.tensor(v2))
    close(g1, v1 * jac_diag, rtol=1e-12)
    close(g2, v2 * jac_diag, rtol=1e-12)
    (g1_again,) = vjp_fn(cr.tensor(v1))
    close(g1_again, g1.numpy(), rtol=1e-15)


def test_vjp_of_several_primals():
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -1.0])
    out, vjp_fn = cr.vjp(lambda m, v: m @ v, cr.tensor(a), cr.tensor(b))
    close(out, a @ b)
    ct = np.array([1.0, -2.0])
    ga, gb = vjp_fn(cr.tensor(ct))
    close(ga, np.outer(ct, b))
    close(gb, a.T @ ct)


class ScaledExp(cr.autograd.Function):
    """y = exp(s·x) with a hand-written backward; the scale is a Python float (gradient None)."""

    @staticmethod
    def forward(ctx, x, scale):
        y = cr.exp(x * scale)
        ctx.save_for_backward(y)
        ctx.scale = scale
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return grad_output * y * ctx.scale, None


class Cube(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 3 * x * x * grad_output

    @staticmethod
    def jvp(ctx, x_tangent):
        (x,) = ctx.saved_tensors
        return 3 * x * x * x_tangent


class CubeNoJvp(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 3 * x * x * grad_output


def test_jvp_of_custom_function():
    x, t = np.array([0.5, -2.0]), np.array([1.0, 3.0])
    out, tangent = cr.jvp(Cube.apply, (cr.tensor(x),), (cr.tensor(t),))
    close(out, x ** 3)
    close(tangent, 3 * x ** 2 * t)
    # inside a larger function
    _, tangent = cr.jvp(_sin_of_cube, (cr.tensor(x),), (cr.tensor(t),))
    close(tangent, np.cos(8 * x ** 3) * 24 * x ** 2 * t, rtol=1e-12)
    # reverse mode through the same Function
    xt = cr.tensor(x, requires_grad=True)
    Cube.apply(xt).sum().backward()
    close(xt.grad, 3 * x ** 2)
    assert Cube.apply(xt).grad_fn.name == "CubeBackward"


def _sin_of_cube(v):
    return cr.sin(Cube.apply(v * 2.0))


def test_jacobians_through_custom_function():
    x = np.array([0.5, -2.0])
    expected = np.diag(np.cos(8 * x ** 3) * 24 * x ** 2)
    close(cr.jacrev(_sin_of_cube)(cr.tensor(x)), expected, rtol=1e-12)
    close(cr.jacfwd(_sin_of_cube)(cr.tensor(x)), expected, rtol=1e-12)


def test_jacobian_through_checkpoint():
    x = np.array([0.5, -2.0])
    close(cr.jacrev(lambda v: cr.checkpoint(cr.sin, v))(cr.tensor(x)), np.diag(np.cos(x)), rtol=1e-12)


def test_jvp_of_custom_function_without_jvp_raises():
    with pytest.raises(NotImplementedError, match="CubeNoJvp"):
        cr.jvp(CubeNoJvp.apply, (cr.tensor([1.0]),), (cr.tensor([1.0]),))


def test_function_needs_input_grad_and_none_gradient():
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    y = ScaledExp.apply(x, 3.0)
    y.sum().backward()
    close(x.grad, 3.0 * np.exp(3.0 * np.array([1.0, 2.0])), rtol=1e-12)


def _checkpointed_problem():
    rng = np.random.default_rng(5)
    w = cr.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    b = cr.tensor(rng.standard_normal(3), requires_grad=True)
    x = cr.tensor(rng.standard_normal((2, 3)), requires_grad=True)

    def block(h):  # closes over the parameters w and b
        return cr.tanh(h @ w + b) * cr.sigmoid(h)

    return w, b, x, block


def test_checkpoint_gives_identical_gradients():
    w, b, x, block = _checkpointed_problem()
    (block(block(x)) ** 2).sum().backward()
    plain = [t.grad.numpy().copy() for t in (w, b, x)]
    w2, b2, x2, block2 = _checkpointed_problem()
    out = cr.checkpoint(block2, cr.checkpoint(block2, x2))
    (out ** 2).sum().backward()
    for got, expected, name in zip((w2.grad, b2.grad, x2.grad), plain, "wbx"):
        assert got is not None, f"no gradient reached {name} through checkpoint"
        close(got, expected, rtol=1e-13, atol=0)


def _checkpointed_sin_x(v):
    return cr.checkpoint(lambda t: (cr.sin(t) * t).sum(), v)


_X = np.array([0.3, -1.0])
_SIN_X_HESSIAN = np.diag(2 * np.cos(_X) - _X * np.sin(_X))


def test_checkpoint_under_grad_transform():
    close(cr.grad(_checkpointed_sin_x)(cr.tensor(_X)), np.cos(_X) * _X + np.sin(_X), rtol=1e-12)


def test_checkpoint_second_order_reverse_over_reverse():
    close(cr.jacrev(cr.grad(_checkpointed_sin_x))(cr.tensor(_X)), _SIN_X_HESSIAN, rtol=1e-12)


def test_checkpoint_double_backward():
    xt = cr.tensor(_X, requires_grad=True)
    (g,) = cr.autograd.grad(_checkpointed_sin_x(xt), xt, create_graph=True)
    g.sum().backward()
    close(xt.grad, np.diag(_SIN_X_HESSIAN), rtol=1e-12)


def test_checkpoint_forward_mode_and_hessian():
    _, tangent = cr.jvp(_checkpointed_sin_x, (cr.tensor(_X),), (cr.tensor([1.0, 2.0]),))
    close(tangent, (np.cos(_X) * _X + np.sin(_X)) @ np.array([1.0, 2.0]), rtol=1e-12)
    close(cr.hessian(_checkpointed_sin_x)(cr.tensor(_X)), _SIN_X_HESSIAN, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Kinks and ties: PyTorch's choices
# ---------------------------------------------------------------------------------------------

def _grad_of(fn, values):
    x = cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)
    fn(x).sum().backward()
    return x.grad.numpy()


def test_ties_split_the_gradient_like_pytorch():
    close(_grad_of(lambda x: x.max(), [1.0, 3.0, 3.0, 2.0]), [0, 0.5, 0.5, 0])
    close(_grad_of(lambda x: x.min(), [1.0, 1.0, 1.0, 2.0]), [1 / 3, 1 / 3, 1 / 3, 0])
    close(_grad_of(lambda x: cr.amax(x, dim=1), [[1.0, 2.0, 2.0], [5.0, 0.0, 5.0]]),
          [[0, 0.5, 0.5], [0.5, 0, 0.5]])
    # max(dim) returns one index and the gradient goes to it alone
    values, indices = cr.tensor([[1.0, 2.0, 2.0]]).max(dim=1)
    x = cr.tensor([[1.0, 2.0, 2.0]], dtype=cr.float64, requires_grad=True)
    x.max(dim=1).values.sum().backward()
    expected = np.zeros((1, 3))
    expected[0, int(indices.item())] = 1.0
    close(x.grad, expected)
    assert values.item() == 2.0
    # binary maximum / minimum at ties: half each
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([1.0, 1.0], requires_grad=True)
    cr.maximum(a, b).sum().backward()
    close(a.grad, [0.5, 1.0])
    close(b.grad, [0.5, 0.0])


def test_gradients_at_kinks_follow_pytorch():
    close(_grad_of(cr.relu, [-1.0, 0.0, 2.0]), [0, 0, 1])
    close(_grad_of(cr.abs, [-1.0, 0.0, 2.0]), [-1, 0, 1])
    close(_grad_of(lambda x: cr.clamp(x, min=0.0, max=1.0), [-0.5, 0.0, 0.5, 1.0, 1.5]), [0, 1, 1, 1, 0])
    close(_grad_of(cr.sqrt, [4.0]), [0.25])
    close(_grad_of(lambda x: x ** 2.0, [0.0]), [0.0])
    close(_grad_of(lambda x: x ** 0.0, [0.0, 2.0]), [0.0, 0.0])


def test_prod_and_cumprod_with_zeros():
    close(_grad_of(lambda x: x.prod(), [2.0, 0.0, 3.0]), [0.0, 6.0, 0.0])
    close(_grad_of(lambda x: x.prod(), [0.0, 0.0, 3.0]), [0.0, 0.0, 0.0])
    close(_grad_of(lambda x: x.prod(dim=1), [[2.0, 0.0, 3.0], [1.0, 2.0, 4.0]]),
          [[0.0, 6.0, 0.0], [8.0, 4.0, 2.0]])
    # cumprod([a, 0, c]) = [a, 0, 0]; the sum's gradient: [1, a + a c, 0]
    close(_grad_of(lambda x: x.cumprod(0), [2.0, 0.0, 3.0]), [1.0, 2.0 + 2.0 * 3.0, 0.0])


def test_repeated_indices_accumulate():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 2, 0, 0]].sum().backward()
    close(x.grad, [3.0, 0.0, 1.0])


@pytest.mark.parametrize("name, derivative", [
    ("exp", np.exp), ("tanh", lambda v: 1 - np.tanh(v) ** 2), ("sigmoid", lambda v: (s := 1 / (1 + np.exp(-v))) * (1 - s)),
])
def test_large_unary_gradients_multiplied_in_place(name, derivative):
    """From 4,096 elements a unary VJP multiplies into the cotangent the engine owns; the
    gradient is the same closed form as on small arrays (the generic checker's samples are small)."""
    x = np.random.default_rng(7).standard_normal((64, 65))
    w = np.random.default_rng(8).standard_normal((64, 65))
    xt = cr.tensor(x, requires_grad=True)
    (getattr(cr, name)(xt) * cr.tensor(w)).sum().backward()
    close(xt.grad, derivative(x) * w, rtol=1e-12)


def test_copy_and_fill_record_gradients():
    """``copy_`` from a tensor that requires grad, and ``fill_`` with one, carry gradients."""
    source = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    target = cr.zeros(2, 3, dtype=cr.float64)
    target.copy_(source)
    (target * target).sum().backward()
    close(source.grad, 2 * np.arange(6.0).reshape(2, 3))

    value = cr.tensor(1.5, dtype=cr.float64, requires_grad=True)
    filled = cr.zeros(2, 3, dtype=cr.float64)
    filled.fill_(value)
    (filled * cr.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    close(value.grad, 15.0)


def test_a_custom_function_with_two_results_differentiates_twice():
    """``create_graph=True`` through a multi-output ``Function`` (its backward written with
    tensor operations): the second derivative, against the closed form. It used to crash in the
    engine (a node with several results kept its cotangents for pictures as one array)."""

    class Two(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2, x * x

        @staticmethod
        def backward(ctx, g1, g2):
            (x,) = ctx.saved_tensors
            return g1 * 2 + g2 * 2 * x

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a, b = Two.apply(x)
    (g,) = cr.autograd.grad((a + b ** 2).sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 + 4 * np.array([1.0, 8.0]))  # d/dx (2x + x^4)
    (h,) = cr.autograd.grad(g.sum(), [x])
    np.testing.assert_allclose(h.numpy(), 12 * np.array([1.0, 4.0]))
