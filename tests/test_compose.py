"""Transforms compose: every transform inside every other one (and a few triples), checked
against float64 central differences of the outer transform (and against torch.func where it is
installed).

The check of ``outer(inner(f))`` is: chainrule's result equals the outer transform taken by
finite differences of chainrule's ``inner(f)``; together with the single-transform tests (each
transform of ``f`` against finite differences of ``f``) this pins the whole composition. The
test functions cover scalar and vector outputs, 0-d inputs, broadcasting, a product of inputs,
closures over plain values, over a ``vjp_fn`` made outside any transform, and over the variable
of the outer transform (where levels could be confused).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import chainrule as cr

TRANSFORMS = ["grad", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "hvp", "checkpoint", "vmap"]


def _batch(ns, x):
    """The batch ``vmap`` maps over: ``x`` and an affine image of it (a function of ``x``, so
    outer transforms differentiate through the batching)."""
    return ns.stack([x, 0.7 * x + 0.1, -0.4 * x])

A = np.array([[0.4, -0.3, 0.2], [0.1, 0.5, -0.6], [-0.2, 0.3, 0.7], [0.6, 0.1, -0.1]])
Y = np.array([1.3, -0.7, 0.9])
Z0 = np.array([0.3, -0.2, 0.5])


def _weights(shape, phase):
    """A fixed, generic array of ``shape`` (scalarising weights, cotangents, tangents)."""
    size = int(np.prod(shape, dtype=int))
    return np.cos(np.arange(size) * 0.7 + phase).reshape(shape)


def W(shape):  # scalarises a non-scalar output for grad / hessian / hvp
    return _weights(shape, 0.3)


def C(shape):  # the cotangent of vjp
    return _weights(shape, 1.1)


def V(shape):  # the tangent of jvp and hvp
    return _weights(shape, 2.3) + 0.5


# ---------------------------------------------------------------------------------------------
# Test functions, written once for chainrule and for torch (``ns`` is the module)
# ---------------------------------------------------------------------------------------------

def _const(ns, array):
    return ns.tensor(array, dtype=ns.float64)


def f_scalar(ns, x):
    """R^3 -> R: transcendental terms and a product of the inputs."""
    return (ns.sin(x) * ns.exp(0.3 * x)).sum() + x[0] * x[1] * x[2]


def f_vector(ns, x):
    """R^3 -> R^(4x3), with broadcasting of a column against a row and of a row against a matrix."""
    return ns.tanh(_const(ns, A) @ x)[:, None] * x[None, :] + x


def f_0d(ns, x):
    """R -> R on 0-d tensors."""
    return ns.sin(x) * x ** 3 + ns.exp(-x)


def f_closure(ns, x):
    """R^3 -> R^3 closing over a plain value: products of the inputs with it and with each other."""
    y = _const(ns, Y)
    return (x * y).prod() * x + ns.cos(x * y) * x.sum()


def f_complex(ns, x):
    """R^3 -> R^3 through complex intermediates (a phase, a product, the modulus and real part)."""
    z = ns.exp(x * 1j) * (x + 2j)
    return ns.abs(z * z.conj().sum()) + (z * z).real * x


_PULLS = {}


def _outside_pull(ns):
    """A vjp_fn made outside any transform (once per library), used inside them."""
    if ns not in _PULLS:
        z0 = _const(ns, Z0)
        if ns is cr:
            _, pull = cr.vjp(lambda z: cr.sin(z) * z.sum(), z0)
        else:
            import torch.func
            _, pull = torch.func.vjp(lambda z: ns.sin(z) * z.sum(), z0)
        _PULLS[ns] = pull
    return _PULLS[ns]


_outside_pull(cr)  # made here, outside any transform


def f_pull(ns, x):
    """R^3 -> R through a vjp_fn made outside: its cotangent is the traced value."""
    return (_outside_pull(ns)(x * x)[0] * ns.cos(x)).sum() + (x ** 3).sum()


FUNCTIONS = {
    "scalar": (f_scalar, np.array([0.4, -0.8, 1.1])),
    "vector": (f_vector, np.array([0.3, -0.5, 0.7])),
    "0d": (f_0d, np.array(0.6)),
    "closure": (f_closure, np.array([0.5, 0.2, -0.4])),
    "outside_vjp_fn": (f_pull, np.array([0.2, -0.6, 0.9])),
    "complex_inside": (f_complex, np.array([0.3, -0.7, 1.2])),
}


# ---------------------------------------------------------------------------------------------
# The transforms as operators on functions of one tensor
# ---------------------------------------------------------------------------------------------

def _scal(ns, out):
    return (out * _const(ns, W(tuple(out.shape)))).sum()


def cr_apply(name, F):
    """``x -> T(F)(x)`` with chainrule's transform ``T`` (fixed scalarisation/cotangent/tangent)."""
    if name == "grad":
        return lambda x: cr.grad(lambda z: _scal(cr, F(z)))(x)
    if name == "vjp":
        def vjp_of(x):
            out, pull = cr.vjp(F, x)
            return pull(_const(cr, C(out.shape)))[0]
        return vjp_of
    if name == "jvp":
        return lambda x: cr.jvp(F, (x,), (_const(cr, V(x.shape)),))[1]
    if name == "jacrev":
        return lambda x: cr.jacrev(F)(x)
    if name == "jacfwd":
        return lambda x: cr.jacfwd(F)(x)
    if name == "hessian":
        return lambda x: cr.hessian(lambda z: _scal(cr, F(z)))(x)
    if name == "hvp":
        return lambda x: cr.hvp(lambda z: _scal(cr, F(z)), (x,), (_const(cr, V(x.shape)),))[1]
    if name == "checkpoint":
        return lambda x: cr.checkpoint(F, x)
    if name == "vmap":
        return lambda x: cr.vmap(F)(_batch(cr, x))
    raise AssertionError(name)


def torch_apply(name, F):
    import torch
    import torch.func as tf

    if name == "grad":
        return lambda x: tf.grad(lambda z: _scal(torch, F(z)))(x)
    if name == "vjp":
        def vjp_of(x):
            out, pull = tf.vjp(F, x)
            return pull(_const(torch, C(tuple(out.shape))))[0]
        return vjp_of
    if name == "jvp":
        return lambda x: tf.jvp(F, (x,), (_const(torch, V(tuple(x.shape))),))[1]
    if name == "jacrev":
        return lambda x: tf.jacrev(F)(x)
    if name == "jacfwd":
        return lambda x: tf.jacfwd(F)(x)
    if name == "hessian":
        return lambda x: tf.hessian(lambda z: _scal(torch, F(z)))(x)
    if name == "hvp":
        return lambda x: tf.jvp(tf.grad(lambda z: _scal(torch, F(z))), (x,),
                                (_const(torch, V(tuple(x.shape))),))[1]
    if name == "checkpoint":
        return F
    if name == "vmap":
        return lambda x: tf.vmap(F)(_batch(torch, x))
    raise AssertionError(name)


# Finite differences (float64, central) of a function of NumPy arrays.

def num_jacobian(G, x, h=1e-5):
    x = np.asarray(x, dtype=np.float64)
    out = np.asarray(G(x))
    jac = np.zeros(out.shape + x.shape)
    for idx in np.ndindex(*x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        jac[(...,) + idx] = (np.asarray(G(x + e)) - np.asarray(G(x - e))) / (2 * h)
    return jac


def num_hessian(g, x, h=1e-4):
    """Second derivatives of scalar ``g`` (the four-point central formula)."""
    x = np.asarray(x, dtype=np.float64)
    hess = np.zeros(x.shape + x.shape)
    for i in np.ndindex(*x.shape):
        for j in np.ndindex(*x.shape):
            ei = np.zeros_like(x)
            ej = np.zeros_like(x)
            ei[i] = h
            ej[j] = h
            hess[i + j] = (g(x + ei + ej) - g(x + ei - ej) - g(x - ei + ej) + g(x - ei - ej)) / (4 * h * h)
    return hess


def _in_axes(x):
    return list(range(np.ndim(x)))


def num_apply(name, G, x):
    """The transform ``name`` of ``G`` (NumPy in, NumPy out) at ``x``, by finite differences."""
    x = np.asarray(x, dtype=np.float64)
    if name == "checkpoint":
        return np.asarray(G(x))
    if name == "vmap":  # the loop it replaces
        return np.stack([np.asarray(G(z)) for z in _batch(np, x)])
    out = np.asarray(G(x))
    if name in ("grad", "hessian", "hvp"):
        def g(z):
            return float(np.sum(np.asarray(G(z)) * W(out.shape)))
        if name == "grad":
            return num_jacobian(g, x)
        hess = num_hessian(g, x)
        if name == "hessian":
            return hess
        return np.tensordot(hess, V(x.shape), axes=x.ndim)
    jac = num_jacobian(G, x)
    if name in ("jacrev", "jacfwd"):
        return jac
    if name == "jvp":
        return np.tensordot(jac, V(x.shape), axes=x.ndim)
    if name == "vjp":
        return np.tensordot(C(out.shape), jac, axes=out.ndim)
    raise AssertionError(name)


def as_numpy_function(F):
    """A chainrule function of one tensor as a function of NumPy arrays (checking, on the way,
    that every top-level result is a plain tensor: no history, no tangents)."""
    def G(x):
        out = F(cr.tensor(x, dtype=cr.float64))
        _assert_plain(out)
        return out.numpy().copy()
    return G


def _assert_plain(out):
    assert isinstance(out, cr.Tensor), type(out)
    assert not out.requires_grad and out.grad_fn is None, "a top-level transform result kept its history"
    assert not out._tangents, "a top-level transform result kept tangents of a closed level"


def _tolerance(names):
    second = sum(n in ("hessian", "hvp") for n in names[:1])  # finite differences of second order
    return (1e-5, 1e-7) if second else (1e-6, 1e-8)


def _check(names, f, x0):
    """``names[0]`` of ``names[1]`` of ... of ``f`` at ``x0``: chainrule against finite differences
    of the outermost transform (over chainrule's inner ones), and against torch.func."""
    F = lambda x: f(cr, x)  # noqa: E731
    for name in reversed(names[1:]):
        F = cr_apply(name, F)
    inner = as_numpy_function(F)
    full = cr_apply(names[0], F)
    got = full(cr.tensor(x0, dtype=cr.float64))
    _assert_plain(got)
    expected = num_apply(names[0], inner, x0)
    rtol, atol = _tolerance(names)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_allclose(got.numpy(), expected, rtol=rtol, atol=atol,
                               err_msg=f"{' of '.join(names)} differs from finite differences")
    _check_torch(names, f, x0, got)


def _check_torch(names, f, x0, got):
    try:
        import torch
    except ImportError:
        return
    _outside_pull(torch)  # outside any transform
    T = lambda x: f(torch, x)  # noqa: E731
    for name in reversed(names):
        T = torch_apply(name, T)
    want = T(torch.tensor(x0, dtype=torch.float64))
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-9, atol=1e-11,
                               err_msg=f"{' of '.join(names)} differs from torch.func")


# ---------------------------------------------------------------------------------------------
# The matrix
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fname", list(FUNCTIONS))
@pytest.mark.parametrize("name", TRANSFORMS)
def test_single_transform_against_finite_differences(name, fname):
    f, x0 = FUNCTIONS[fname]
    _check([name], f, x0)


PAIRS = list(itertools.product(TRANSFORMS, TRANSFORMS))


@pytest.mark.parametrize("fname", list(FUNCTIONS))
@pytest.mark.parametrize("outer,inner", PAIRS, ids=[f"{o}-of-{i}" for o, i in PAIRS])
def test_pair(outer, inner, fname):
    f, x0 = FUNCTIONS[fname]
    _check([outer, inner], f, x0)


TRIPLES = [
    ("grad", "grad", "grad"), ("jacfwd", "jacrev", "jvp"), ("jvp", "vjp", "jvp"),
    ("hvp", "checkpoint", "vjp"), ("jacrev", "hessian", "checkpoint"), ("vjp", "jvp", "hvp"),
    ("checkpoint", "jacfwd", "grad"), ("hessian", "jvp", "vjp"), ("jvp", "jvp", "jvp"),
    ("vjp", "vjp", "vjp"), ("vmap", "vmap", "grad"), ("jacfwd", "vmap", "vjp"), ("vmap", "hessian", "vmap"),
    ("hvp", "vmap", "checkpoint"),
]


@pytest.mark.parametrize("fname", ["scalar", "0d", "outside_vjp_fn"])
@pytest.mark.parametrize("names", TRIPLES, ids=["-of-".join(t) for t in TRIPLES])
def test_triple(names, fname):
    f, x0 = FUNCTIONS[fname]
    _check(list(names), f, x0)


# Levels that must not be confused: the inner transform differentiates with respect to y while
# its function closes over x, the variable of the outer transform (and y itself depends on x).

def f_two(ns, x, y):
    return ns.sin(x * y) + x ** 2 * y.sum()


@pytest.mark.parametrize("outer,inner", PAIRS, ids=[f"{o}-of-{i}" for o, i in PAIRS])
def test_pair_with_closure_over_the_outer_variable(outer, inner):
    x0 = np.array([0.5, -0.3, 0.8])

    def mixed(ns, apply):
        def F(x):
            return apply(inner, lambda y: f_two(ns, x, y))(ns.cos(x))
        return F

    F = mixed(cr, cr_apply)
    got = cr_apply(outer, F)(cr.tensor(x0, dtype=cr.float64))
    _assert_plain(got)
    expected = num_apply(outer, as_numpy_function(F), x0)
    rtol, atol = _tolerance([outer])
    np.testing.assert_allclose(got.numpy(), expected, rtol=rtol, atol=atol)
    try:
        import torch
    except ImportError:
        return
    want = torch_apply(outer, mixed(torch, torch_apply))(torch.tensor(x0, dtype=torch.float64))
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-9, atol=1e-11)


# ---------------------------------------------------------------------------------------------
# The cases of issue 10, and argnums / top-level results
# ---------------------------------------------------------------------------------------------

def test_jvp_of_a_vjp_fn_keeps_the_tangent_of_the_cotangent():
    x = cr.tensor(0.3, dtype=cr.float64)

    def g(v):
        _, vjp_fn = cr.vjp(cr.sin, x)
        return vjp_fn(v)[0]

    v, t = cr.tensor(0.7, dtype=cr.float64), cr.tensor(1.0, dtype=cr.float64)
    np.testing.assert_allclose(cr.jvp(g, (v,), (t,))[1].numpy(), np.cos(0.3), rtol=1e-14)


def test_grad_through_a_vjp_fn_made_outside():
    x = cr.tensor(0.3, dtype=cr.float64)
    _, f = cr.vjp(cr.sin, x)
    g = cr.grad(lambda v: f(v)[0])(cr.tensor(0.7, dtype=cr.float64))
    np.testing.assert_allclose(g.numpy(), np.cos(0.3), rtol=1e-14)
    _assert_plain(g)


def test_autograd_grad_inside_jvp_keeps_the_tangent_of_grad_outputs():
    x = cr.tensor([0.3, 0.4], dtype=cr.float64, requires_grad=True)
    y = cr.sin(x)

    def pull(v):
        return cr.autograd.grad(y, x, grad_outputs=v, retain_graph=True)[0]

    _, t = cr.jvp(pull, (cr.tensor([1.0, 2.0], dtype=cr.float64),), (cr.tensor([1.0, -1.0], dtype=cr.float64),))
    np.testing.assert_allclose(t.numpy(), np.cos([0.3, 0.4]) * [1.0, -1.0], rtol=1e-14)


def test_vjp_fn_cotangent_that_requires_grad_outside_transforms():
    """PyTorch style: a cotangent that requires grad makes the pullback differentiable."""
    x = cr.tensor([0.3, 0.4], dtype=cr.float64)
    _, f = cr.vjp(cr.sin, x)
    v = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    (g,) = f(v)
    assert g.requires_grad
    g.sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), np.cos([0.3, 0.4]), rtol=1e-14)


def test_jvp_tangent_that_requires_grad_is_recorded():
    x = cr.tensor([0.3, 0.4], dtype=cr.float64)
    t = cr.tensor([1.0, -2.0], dtype=cr.float64, requires_grad=True)
    _, out = cr.jvp(lambda z: cr.sin(z) * z, (x,), (t,))
    out.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), np.cos([0.3, 0.4]) * [0.3, 0.4] + np.sin([0.3, 0.4]), rtol=1e-14)


def test_jvp_closing_over_a_parameter_keeps_its_gradient():
    """As torch.func: transforms compose with the PyTorch-style graph of outside parameters."""
    w = cr.tensor([2.0, 3.0], dtype=cr.float64, requires_grad=True)
    x = cr.tensor([0.5, -1.0], dtype=cr.float64)
    value, tangent = cr.jvp(lambda z: w * z * z, (x,), (cr.ones(2, dtype=cr.float64),))
    assert value.requires_grad and tangent.requires_grad
    tangent.sum().backward()  # d/dw sum(2 w x t) = 2 x
    np.testing.assert_allclose(w.grad.numpy(), 2 * x.numpy(), rtol=1e-14)
    w.grad = None
    jac = cr.jacfwd(lambda z: w * z * z)(x)
    jac.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * x.numpy(), rtol=1e-14)


@pytest.mark.parametrize("transform", [cr.grad, cr.value_and_grad])
def test_repeated_argnums_give_the_gradient_each_time(transform):
    x = cr.tensor(3.0, dtype=cr.float64)
    result = transform(lambda a, b: a ** 2 * b, argnums=(0, 0, 1))(x, cr.tensor(2.0, dtype=cr.float64))
    grads = result if transform is cr.grad else result[1]
    assert [float(g) for g in grads] == [12.0, 12.0, 9.0]
    jx1, jx2 = cr.jacrev(lambda a: a * a, argnums=(0, 0))(cr.tensor([1.0, 2.0], dtype=cr.float64))
    np.testing.assert_allclose(jx1.numpy(), np.diag([2.0, 4.0]))
    np.testing.assert_allclose(jx2.numpy(), np.diag([2.0, 4.0]))


def test_top_level_results_are_plain_even_through_outside_vjp_fns():
    x = cr.tensor([0.3, 0.4], dtype=cr.float64)
    _, f = cr.vjp(cr.sin, x)
    for result in (cr.grad(lambda v: (f(v)[0] * v).sum())(x),
                   cr.hessian(lambda v: (f(v)[0] * v).sum())(x),
                   cr.jacrev(lambda v: f(v * v)[0])(x),
                   cr.hvp(lambda v: (f(v)[0] * v).sum(), (x,), (x,))[1]):
        _assert_plain(result)


def test_results_keep_history_when_the_caller_has_some():
    """torch.func's convention: results are connected to the caller's graph (inputs or closures
    that require grad), and only then."""
    w = cr.tensor([2.0, 3.0], dtype=cr.float64, requires_grad=True)
    x = cr.tensor([0.5, -1.0], dtype=cr.float64)
    g = cr.grad(lambda z: (w * z ** 3).sum())(x)  # 3 w z^2
    g.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 3 * x.numpy() ** 2)
    w.grad = None
    h = cr.hessian(lambda z: (w * z ** 3).sum())(x)  # diag(6 w z): through jacfwd's rerun
    h.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 6 * x.numpy())
    w.grad = None
    _, hv = cr.hvp(lambda z: (w * z ** 3).sum(), (x,), (cr.ones_like(x),))
    hv.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 6 * x.numpy())
    xr = cr.tensor([0.5, -1.0], dtype=cr.float64, requires_grad=True)
    h = cr.hessian(lambda z: (z ** 3).sum())(xr)
    h.sum().backward()
    np.testing.assert_allclose(xr.grad.numpy(), [6.0, 6.0])


def test_checkpoint_closing_over_the_differentiated_variable():
    x0 = cr.tensor([0.5, -0.3], dtype=cr.float64)
    z0 = cr.tensor([1.5, 2.0], dtype=cr.float64)
    g = cr.grad(lambda x: cr.checkpoint(lambda z: (z * x * x).sum(), z0))(x0)
    np.testing.assert_allclose(g.numpy(), 2 * z0.numpy() * x0.numpy(), rtol=1e-14)
    w = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    y = cr.checkpoint(lambda z: (z * w).sum(), z0)  # no argument requires grad, the closure does
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), z0.numpy())


def test_checkpoint_inside_grad_still_drops_intermediates():
    """Inside a reverse transform a function that only uses its arguments is still checkpointed."""
    x = cr.tensor(np.linspace(-1, 1, 16).reshape(4, 4), dtype=cr.float64)
    seen = []

    def block(t):
        for _ in range(3):
            t = cr.tanh(t @ t.T * 0.1)
        return t

    def f(v):
        out = cr.checkpoint(block, v * 1.0)
        seen.append(out.grad_fn)
        return out.sum()

    g = cr.grad(f)(x)
    assert type(seen[0]).__name__ == "Node" and seen[0].name == "_CheckpointBackward"
    expected = cr.grad(lambda v: block(v * 1.0).sum())(x)
    np.testing.assert_allclose(g.numpy(), expected.numpy(), rtol=1e-13)


# The tangent of jvp and the cotangent of a vjp_fn are differentiable arguments like any other.

@pytest.mark.parametrize("outer", TRANSFORMS)
@pytest.mark.parametrize("through", ["tangent", "cotangent"])
def test_differentiating_with_respect_to_a_tangent_or_a_cotangent(outer, through):
    t0 = np.array([0.4, 1.2, -0.9])
    x0 = np.array([0.3, -0.5, 0.7])
    c0 = C((4, 3))

    def build(ns):
        x = _const(ns, x0)
        if through == "tangent":
            if ns is cr:
                return lambda t: cr.jvp(lambda z: f_vector(cr, z) * t.sum(), (x,), (t,))[1]
            import torch.func
            return lambda t: torch.func.jvp(lambda z: f_vector(ns, z) * t.sum(), (x,), (t,))[1]
        if ns is cr:
            _, pull = cr.vjp(lambda z: f_vector(cr, z), x)
        else:
            import torch.func
            _, pull = torch.func.vjp(lambda z: f_vector(ns, z), x)
        c = _const(ns, c0)
        return lambda v: pull(c * (v * v).sum())[0] * v

    F = build(cr)
    got = cr_apply(outer, F)(cr.tensor(t0, dtype=cr.float64))
    _assert_plain(got)
    expected = num_apply(outer, as_numpy_function(F), t0)
    rtol, atol = _tolerance([outer])
    np.testing.assert_allclose(got.numpy(), expected, rtol=rtol, atol=atol)
    try:
        import torch
    except ImportError:
        return
    want = torch_apply(outer, build(torch))(torch.tensor(t0, dtype=torch.float64))
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-9, atol=1e-11)
