"""Complex numbers (SPEC §12): dtypes, promotion, values against NumPy, gradients against
PyTorch (``.grad``, reverse and forward mode, second order), refusals, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def crandn(*shape, dtype=np.complex128):
    return (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(dtype)


def _np(t):
    """A torch tensor's values (conjugate bit resolved)."""
    return t.detach().resolve_conj().numpy()


# ---------------------------------------------------------------------------------------------
# dtypes and promotion
# ---------------------------------------------------------------------------------------------

def test_dtypes_and_default_complex_dtype():
    assert cr.complex64 == np.complex64 and cr.complex128 == np.complex128
    assert cr.tensor([1 + 2j]).dtype == cr.complex64  # follows the default float dtype (PyTorch)
    assert cr.tensor(1 + 2j).dtype == cr.complex64
    assert cr.tensor(np.array([1 + 2j])).dtype == cr.complex128  # arrays keep theirs
    old = cr.get_default_dtype()
    cr.set_default_dtype(cr.float64)
    try:
        assert cr.tensor([1 + 2j]).dtype == cr.complex128
    finally:
        cr.set_default_dtype(old)
    assert cr.zeros(2, dtype=cr.complex64).dtype == cr.complex64


@pytest.mark.parametrize("make", [
    lambda M: M.ones(2) * 1j,
    lambda M: M.ones(2, dtype=M.float64) * 1j,
    lambda M: M.ones(2, dtype=M.int64) * 1j,
    lambda M: M.ones(2, dtype=M.complex64) * M.ones(2, dtype=M.float64),
    lambda M: M.ones(2, dtype=M.complex64) * M.tensor(1.0, dtype=M.float64),
    lambda M: M.ones(2, dtype=M.float32) * M.tensor(1j, dtype=M.complex128),
    lambda M: M.ones(2, dtype=M.complex64) * 2.0,
    lambda M: M.ones(2, dtype=M.complex128) / 2,
    lambda M: M.ones(2, dtype=M.complex64).sum(),
    lambda M: M.abs(M.ones(2, dtype=M.complex64)),
    lambda M: M.ones(2, dtype=M.complex128).real,
    lambda M: M.angle(M.ones(2, dtype=M.complex64)),
])
def test_promotion_is_pytorchs(make):
    expected = str(make(torch).dtype).replace("torch.", "")
    assert make(cr).dtype.name == expected


def test_repr_as_pytorch():
    assert repr(cr.tensor([1 + 2j, 3.5 - 1j])) == repr(torch.tensor([1 + 2j, 3.5 - 1j]))
    c128 = repr(cr.tensor([[0.001 + 2j, 3.5 - 1j]], dtype=cr.complex128))
    assert c128 == repr(torch.tensor([[0.001 + 2j, 3.5 - 1j]], dtype=torch.complex128)).replace("torch", "chainrule")


# ---------------------------------------------------------------------------------------------
# Values against NumPy (and NumPy dispatch)
# ---------------------------------------------------------------------------------------------

UNARY = ["exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "reciprocal", "sin", "cos", "tan",
         "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
         "square", "negative", "conjugate", "real", "imag", "angle", "abs"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_unary_values_as_numpy(name, dtype):
    a = crandn(3, 4, dtype=dtype) * 0.7
    expected = getattr(np, name)(a)
    for out in (getattr(np, name)(cr.tensor(a)), getattr(cr, name)(cr.tensor(a))):
        assert isinstance(out, cr.Tensor)
        assert out.dtype == expected.dtype, name
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "true_divide", "power"])
def test_binary_values_as_numpy(op):
    a, b = crandn(3, 4), crandn(4)
    for x, y in [(a, b), (a, 2.0), (a, 1 - 2j), (a.real.copy(), b)]:
        expected = getattr(np, op)(x, y)
        out = getattr(np, op)(cr.tensor(x), cr.tensor(y) if isinstance(y, np.ndarray) else y)
        assert out.dtype == expected.dtype
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10)


def test_reductions_and_products_as_numpy():
    a, b = crandn(3, 4), crandn(4, 2)
    t, u = cr.tensor(a), cr.tensor(b)
    np.testing.assert_allclose(t.sum(0).numpy(), a.sum(0))
    np.testing.assert_allclose(t.mean().numpy(), a.mean())
    np.testing.assert_allclose(t.prod(1).numpy(), a.prod(1))
    np.testing.assert_allclose(cr.cumsum(t, 1).numpy(), np.cumsum(a, 1))
    np.testing.assert_allclose((t @ u).numpy(), a @ b)
    np.testing.assert_allclose(cr.einsum("ij,jk->ik", t, u).numpy(), np.einsum("ij,jk->ik", a, b))
    np.testing.assert_allclose(cr.vdot(t[0], t[1]).numpy(), np.vdot(a[0], a[1]))
    np.testing.assert_allclose(cr.where(t.real > 0, t, 0).numpy(), np.where(a.real > 0, a, 0))


def test_real_imag_are_attributes_and_complex_builds():
    a = crandn(3)
    t = cr.tensor(a)
    np.testing.assert_array_equal(t.real.numpy(), a.real)
    np.testing.assert_array_equal(t.imag.numpy(), a.imag)
    np.testing.assert_array_equal(t.conj().numpy(), a.conj())
    np.testing.assert_array_equal(cr.complex(t.real, t.imag).numpy(), a)
    np.testing.assert_allclose(cr.polar(cr.abs(t), cr.angle(t)).numpy(), a)
    np.testing.assert_array_equal(cr.view_as_real(t).numpy(), np.stack([a.real, a.imag], -1))
    np.testing.assert_array_equal(cr.view_as_complex(cr.view_as_real(t)).numpy(), a)
    assert t.is_complex() and not t.real.is_complex()
    np.testing.assert_allclose(cr.angle(cr.tensor([-1.0, 2.0])).numpy(), [np.pi, 0.0], rtol=1e-7)


# ---------------------------------------------------------------------------------------------
# Gradients against PyTorch
# ---------------------------------------------------------------------------------------------

PROGRAMS = {
    "abs2": lambda M, z, w: (M.abs(z * w) ** 2).sum(),
    "holomorphic": lambda M, z, w: M.abs(M.exp(z) / w + M.sin(z) * M.sqrt(w)).sum(),
    "real_imag_angle": lambda M, z, w: (z.real * w.imag).sum() + M.angle(z * w).sum(),
    "pow": lambda M, z, w: M.abs(M.log(z) ** w).sum(),
    "conj": lambda M, z, w: (M.conj(z) * w).real.sum(),
    "mixed": lambda M, z, w: M.abs(M.tanh(z) - M.cosh(w) * 1j + 2).sum(),
    "matmul": lambda M, z, w: M.abs(z.reshape(2, 3) @ w.reshape(3, 2)).sum(),
    "einsum": lambda M, z, w: M.abs(M.einsum("ij,jk->ik", z.reshape(2, 3), w.reshape(3, 2))).sum(),
    "reductions": lambda M, z, w: M.abs(z.prod() + z.mean() + M.cumsum(w, 0)).sum(),
    "shapes": lambda M, z, w: M.abs(M.cat([z[2:], w.flip(0)]).reshape(2, 5).T[1:]).sum(),
    "stack_index": lambda M, z, w: M.abs(M.stack([z, w])[:, [0, 2]]).sum(),
    "where": lambda M, z, w: M.abs(M.where(z.real > 0, z, w * w)).sum(),
    "complex_exponent": lambda M, z, w: M.abs(z ** (1 + 2j) + 2.0 ** w).sum(),
    "inverse_trig": lambda M, z, w: M.abs(M.asin(z * 0.3) + M.acos(w * 0.3) + M.atan(z * 0.3)
                                          + M.asinh(w) + M.acosh(z) + M.atanh(w * 0.3)).sum(),
    "polar": lambda M, z, w: M.abs(M.polar(M.abs(z), M.angle(w)) * z).sum(),
    "view_as_real": lambda M, z, w: (M.view_as_real(z * w) ** 3).sum(),
    "complex_of_real": lambda M, z, w: M.abs(M.complex(z.real, w.imag) ** 2).sum(),
    "vdot": lambda M, z, w: M.abs(M.vdot(z, w)),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_reverse_mode_equals_torch(name):
    f = PROGRAMS[name]
    a, b = crandn(6), crandn(6)
    z, w = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    zt, wt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    loss, loss_t = f(cr, z, w), f(torch, zt, wt)
    loss.backward()
    loss_t.backward()
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-10)
    np.testing.assert_allclose(z.grad.numpy(), _np(zt.grad), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), _np(wt.grad), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_grad_transform_equals_torch_func(name):
    f = PROGRAMS[name]
    a, b = crandn(6), crandn(6)
    g = cr.grad(lambda z, w: f(cr, z, w), argnums=(0, 1))(cr.tensor(a), cr.tensor(b))
    gt = torch.func.grad(lambda z, w: f(torch, z, w), argnums=(0, 1))(torch.tensor(a), torch.tensor(b))
    for x, y in zip(g, gt):
        np.testing.assert_allclose(x.numpy(), _np(y), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_forward_mode_equals_torch(name):
    f = PROGRAMS[name]
    a, b, ta, tb = crandn(6), crandn(6), crandn(6), crandn(6)
    _, t = cr.jvp(lambda z, w: f(cr, z, w), (cr.tensor(a), cr.tensor(b)), (cr.tensor(ta), cr.tensor(tb)))
    _, tt = torch.func.jvp(lambda z, w: f(torch, z, w), (torch.tensor(a), torch.tensor(b)),
                           (torch.tensor(ta), torch.tensor(tb)))
    np.testing.assert_allclose(t.numpy(), _np(tt), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", ["abs2", "holomorphic", "mixed", "pow", "real_imag_angle", "matmul"])
def test_second_order_equals_torch(name):
    f = PROGRAMS[name]
    a, b = crandn(6), crandn(6)
    z, w = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    zt, wt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (gz,) = cr.autograd.grad(f(cr, z, w), [z], create_graph=True)
    (gzt,) = torch.autograd.grad(f(torch, zt, wt), [zt], create_graph=True)
    (cr.abs(gz) ** 2).sum().backward()
    (gzt.abs() ** 2).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), _np(zt.grad), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(w.grad.numpy(), _np(wt.grad), rtol=1e-7, atol=1e-9)


def test_backward_with_a_complex_cotangent_and_hooks_see_pytorchs_convention():
    a, v = crandn(4), crandn(4)
    z, zt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    seen, seen_t = [], []
    y, yt = cr.exp(z) * 2, torch.exp(zt) * 2
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    yt.register_hook(lambda g: seen_t.append(_np(g)))
    y.retain_grad()
    yt.retain_grad()
    y.backward(cr.tensor(v))
    yt.backward(torch.tensor(v))
    np.testing.assert_allclose(seen[0], seen_t[0])
    np.testing.assert_allclose(y.grad.numpy(), _np(yt.grad))
    np.testing.assert_allclose(z.grad.numpy(), _np(zt.grad))


def test_real_input_promoted_to_complex_gets_a_real_gradient():
    x = RNG.standard_normal(4)
    t, tt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (cr.abs(t * (1 + 2j) + cr.exp(t * 1j)) ** 2).sum().backward()
    ((tt * (1 + 2j) + torch.exp(tt * 1j)).abs() ** 2).sum().backward()
    assert t.grad.dtype == cr.float64
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy())


# ---------------------------------------------------------------------------------------------
# gradcheck with complex inputs
# ---------------------------------------------------------------------------------------------

def _leaf(a):
    return cr.tensor(a, requires_grad=True)


@pytest.mark.parametrize("name,f,n", [
    ("mul", lambda a, b: a * b, 2), ("div", lambda a, b: a / b, 2), ("pow", lambda a, b: a ** (b * 0.3), 2),
    ("exp", cr.exp, 1), ("log", cr.log, 1), ("sqrt", cr.sqrt, 1), ("tanh", cr.tanh, 1),
    ("abs", cr.abs, 1), ("angle", cr.angle, 1), ("real", lambda a: a.real, 1), ("imag", lambda a: a.imag, 1),
    ("conj", cr.conj, 1), ("prod", lambda a: a.prod(), 1), ("matmul", lambda a, b: a[:, None] @ b[None, :], 2),
])
def test_gradcheck_complex(name, f, n):
    args = tuple(_leaf(crandn(3)) for _ in range(n))
    assert gradcheck(f, args)
    assert gradgradcheck(f, args)


def test_gradcheck_finds_a_wrong_complex_gradient():
    from chainrule.ops._define import define, undefine

    # exp with the conjugated derivative in its VJP (the mistake the convention invites)
    define("bad_exp", np.exp, (lambda m, g, ans, x: g * m.conj(ans),), lambda m, t, ans, x: t[0] * ans,
           save_ans=True, public=False, batching="elementwise")
    try:
        from chainrule.core.dispatch import PRIMITIVES

        with pytest.raises(cr.autograd.GradcheckError):
            gradcheck(PRIMITIVES["bad_exp"], (_leaf(crandn(3)),))
    finally:
        undefine("bad_exp")


# ---------------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,f", [
    ("max", lambda z: z.max()), ("min", lambda z: cr.min(z)), ("clamp", lambda z: cr.clamp(z, 0, 1)),
    ("relu", cr.relu), ("lt", lambda z: z < z), ("ge", lambda z: z >= 1.0), ("floor", cr.floor),
    ("maximum", lambda z: cr.maximum(z, z)), ("sign", cr.sign), ("sigmoid", cr.sigmoid),
    ("argmax", lambda z: z.argmax()), ("argsort", cr.sort), ("logsumexp", lambda z: cr.logsumexp(z, 0)),
    ("imag", lambda z: z.real.imag),
])
def test_undefined_for_complex_raises_naming_the_operation(name, f):
    z = cr.tensor(crandn(3))
    with pytest.raises(TypeError, match=rf"^{name}: .*(complex|real tensors)"):
        f(z)


def test_equality_is_defined():
    z = cr.tensor(crandn(3))
    assert (z == z).numpy().all() and not (z != z).numpy().any()


def test_vjp_with_a_complex_cotangent_equals_torch_func():
    a, v = crandn(4), crandn(4)
    _, pull = cr.vjp(lambda z: cr.exp(z) * z, cr.tensor(a))
    _, pull_t = torch.func.vjp(lambda z: torch.exp(z) * z, torch.tensor(a))
    (g,) = pull(cr.tensor(v))
    (gt,) = pull_t(torch.tensor(v))
    np.testing.assert_allclose(g.numpy(), _np(gt), rtol=1e-10)


def test_backward_of_a_complex_scalar_needs_a_gradient():
    z = cr.tensor(crandn(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="real scalar outputs"):
        z.sum().backward()


# Random programs: compositions of entire functions and of the non-holomorphic operations (no
# branch cuts, so any random input is inside every domain), their loss |.|² summed.
_STEPS = [
    lambda M, z, w: M.exp(z * 0.3), lambda M, z, w: M.sin(z), lambda M, z, w: M.cos(z) * w,
    lambda M, z, w: M.tanh(z * 0.2), lambda M, z, w: z * w + 1j, lambda M, z, w: z - w.conj(),
    lambda M, z, w: z / (w * w.conj() + 1.0), lambda M, z, w: M.sinh(z * 0.5) + z.real,
    lambda M, z, w: z.imag * w + M.abs(z), lambda M, z, w: (z ** 2) * 0.3, lambda M, z, w: z.sum() * w,
    lambda M, z, w: M.cumsum(z, 0) * 0.5, lambda M, z, w: M.flip(z, (0,)) * w.mean(),
    lambda M, z, w: M.angle(z + 3.0) * z,
]


@pytest.mark.parametrize("seed", range(12))
def test_random_programs_equal_torch(seed):
    rng = np.random.default_rng(seed)
    steps = [_STEPS[k] for k in rng.integers(0, len(_STEPS), size=5)]

    def program(M, z, w):
        for step in steps:
            z = step(M, z, w)
        return (M.abs(z) ** 2).sum()

    a, b = crandn(5), crandn(5)
    z, w = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    zt, wt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    program(cr, z, w).backward()
    program(torch, zt, wt).backward()
    np.testing.assert_allclose(z.grad.numpy(), _np(zt.grad), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), _np(wt.grad), rtol=1e-8, atol=1e-10)
    ta, tb = crandn(5), crandn(5)
    _, t = cr.jvp(lambda z, w: program(cr, z, w), (cr.tensor(a), cr.tensor(b)), (cr.tensor(ta), cr.tensor(tb)))
    _, tt = torch.func.jvp(lambda z, w: program(torch, z, w), (torch.tensor(a), torch.tensor(b)),
                           (torch.tensor(ta), torch.tensor(tb)))
    np.testing.assert_allclose(t.numpy(), _np(tt), rtol=1e-8, atol=1e-10)


def test_custom_functions_with_complex_values_follow_pytorchs_convention():
    """``cr.autograd.Function`` written as for PyTorch (its backward receives and returns
    PyTorch's conjugate-convention gradients) on complex inputs and results: the gradients equal
    PyTorch's. Complex results used to get no gradient at all, silently."""
    torch = pytest.importorskip("torch")
    c = 0.3 - 1.2j

    def functions(lib):
        class Scale(lib.autograd.Function):  # holomorphic: complex in, complex out
            @staticmethod
            def forward(ctx, z):
                return z * c

            @staticmethod
            def backward(ctx, g):
                return g * np.conj(c)

        class Power(lib.autograd.Function):  # complex in, real out: |z|^2
            @staticmethod
            def forward(ctx, z):
                ctx.save_for_backward(z)
                return (z * z.conj()).real

            @staticmethod
            def backward(ctx, g):
                (z,) = ctx.saved_tensors
                return 2 * g * z

        class Embed(lib.autograd.Function):  # real in, complex out: x * c
            @staticmethod
            def forward(ctx, x):
                return x * c

            @staticmethod
            def backward(ctx, g):
                return (g * np.conj(c)).real

        return Scale, Power, Embed

    z0 = np.array([1 + 2j, -0.5 + 1j, 0.25 - 3j])
    x0 = np.array([0.5, -1.5, 2.0])
    grads = []
    for lib, make in ((torch, lambda a: torch.tensor(a, requires_grad=True)), (cr, lambda a: cr.tensor(a, requires_grad=True))):
        Scale, Power, Embed = functions(lib)
        z, x = make(z0), make(x0)
        loss = (Scale.apply(z).abs() ** 3).sum() + (Power.apply(Scale.apply(z)) * x).sum() \
            + (Embed.apply(x) * z).imag.sum() + (z * z).real.sum()
        loss.backward()
        grads.append((z.grad.detach().numpy(), x.grad.detach().numpy()))
    np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-12)
    np.testing.assert_allclose(grads[1][1], grads[0][1], rtol=1e-12)
