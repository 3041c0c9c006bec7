"""``cr.linalg`` on complex matrices (SPEC §12, issue 12): values as NumPy's and PyTorch's,
gradients (first and second order, forward mode) equal to PyTorch's, the phase errors of
complex eigen- and singular vectors, vmap against a loop, and what is still refused."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def crandn(*shape, seed=None):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def hermitian(*shape, seed=None):
    a = crandn(*shape, seed=seed)
    return (a + np.swapaxes(a.conj(), -1, -2)) / 2


def hpd(*shape, seed=None):
    a = crandn(*shape, seed=seed)
    return a @ np.swapaxes(a.conj(), -1, -2) + shape[-1] * np.eye(shape[-1])


def well(*shape, seed=None):
    return crandn(*shape, seed=seed) * 0.3 + shape[-1] * np.eye(shape[-1])


def _np(t):
    return t.detach().resolve_conj().numpy()


def _abs2(M, x):
    return (x * x.conj()).real


# (name, function of (module, *inputs) returning a tuple of outputs, input makers)
CASES = {
    "inv": (lambda M, a: (M.linalg.inv(a),), [lambda: well(2, 3, 3, seed=1)]),
    "det": (lambda M, a: (M.linalg.det(a),), [lambda: well(2, 3, 3, seed=2)]),
    "det_singular": (lambda M, a: (M.linalg.det(a),),
                     [lambda: (lambda x: np.concatenate([x, x[:1]], 0))(crandn(2, 3, seed=3))]),
    "slogdet": (lambda M, a: tuple(M.linalg.slogdet(a)), [lambda: well(2, 3, 3, seed=4)]),
    "solve": (lambda M, a, b: (M.linalg.solve(a, b),), [lambda: well(2, 3, 3, seed=5), lambda: crandn(2, 3, 2, seed=6)]),
    "solve_vector": (lambda M, a, b: (M.linalg.solve(a, b),), [lambda: well(3, 3, seed=7), lambda: crandn(3, seed=8)]),
    "solve_triangular": (lambda M, a, b: (M.linalg.solve_triangular(a, b, upper=True),
                                          M.linalg.solve_triangular(a, b.mT, upper=False, left=False)),
                         [lambda: well(2, 3, 3, seed=9), lambda: crandn(2, 3, 2, seed=10)]),
    "cholesky": (lambda M, a: (M.linalg.cholesky(a), M.linalg.cholesky(a, upper=True)), [lambda: hpd(2, 3, 3, seed=11)]),
    "eigvalsh": (lambda M, a: (M.linalg.eigvalsh(a),), [lambda: hermitian(2, 3, 3, seed=12)]),
    "eigh": (lambda M, a: (lambda r: (r[0], _abs2(M, r[1]), (r[1] * r[0][..., None, :]) @ r[1].conj().mT))(
        M.linalg.eigh(a)), [lambda: hermitian(2, 4, 4, seed=13)]),
    "eigh_upper": (lambda M, a: (lambda r: (r[0], _abs2(M, r[1])))(M.linalg.eigh(a, UPLO="U")),
                   [lambda: hermitian(3, 3, seed=14)]),
    "svdvals": (lambda M, a: (M.linalg.svdvals(a),), [lambda: crandn(2, 4, 3, seed=15)]),
    "svd_square": (lambda M, a: (lambda r: (_abs2(M, r[0]), r[1], _abs2(M, r[2]), r[0] @ r[2]))(
        M.linalg.svd(a, full_matrices=False)), [lambda: crandn(2, 3, 3, seed=16)]),
    "svd_tall": (lambda M, a: (lambda r: (_abs2(M, r[0]), r[1], r[0] @ r[2]))(M.linalg.svd(a, full_matrices=False)),
                 [lambda: crandn(4, 2, seed=17)]),
    "svd_wide": (lambda M, a: (lambda r: (_abs2(M, r[2]), r[1], r[0] @ r[2]))(M.linalg.svd(a, full_matrices=False)),
                 [lambda: crandn(2, 4, seed=18)]),
    "qr_tall": (lambda M, a: tuple(M.linalg.qr(a)), [lambda: crandn(2, 4, 3, seed=19)]),
    "qr_wide": (lambda M, a: tuple(M.linalg.qr(a)), [lambda: crandn(3, 5, seed=20)]),
    "qr_complete": (lambda M, a: tuple(M.linalg.qr(a, mode="complete")), [lambda: crandn(3, 3, seed=21)]),
    "pinv": (lambda M, a: (M.linalg.pinv(a),), [lambda: crandn(2, 4, 3, seed=22)]),
    "pinv_hermitian": (lambda M, a: (M.linalg.pinv(a, hermitian=True),), [lambda: hpd(3, 3, seed=23)]),
    "lstsq": (lambda M, a, b: (M.linalg.lstsq(a, b).solution,), [lambda: crandn(5, 3, seed=24), lambda: crandn(5, 2, seed=25)]),
    "matrix_exp": (lambda M, a: (M.linalg.matrix_exp(a),), [lambda: crandn(2, 3, 3, seed=26) * 0.7]),
    "matrix_power": (lambda M, a: (M.linalg.matrix_power(a, 3), M.linalg.matrix_power(a, -2)), [lambda: well(3, 3, seed=27)]),
    "multi_dot": (lambda M, a, b, c: (M.linalg.multi_dot([a, b, c]),),
                  [lambda: crandn(2, 3, seed=28), lambda: crandn(3, 4, seed=29), lambda: crandn(4, seed=30)]),
    "cross": (lambda M, a, b: (M.linalg.cross(a, b),), [lambda: crandn(2, 3, seed=31), lambda: crandn(2, 3, seed=32)]),
    "vector_norm": (lambda M, a: (M.linalg.vector_norm(a), M.linalg.vector_norm(a, ord=3, dim=1),
                                  M.linalg.vector_norm(a, ord=1), M.linalg.vector_norm(a, ord=float("inf"), dim=0),
                                  M.linalg.vector_norm(a, ord=0.5)), [lambda: crandn(3, 4, seed=33)]),
    "matrix_norm": (lambda M, a: tuple(M.linalg.matrix_norm(a, ord=o) for o in ("fro", "nuc", 2, -2, 1, -1, float("inf"))),
                    [lambda: crandn(2, 3, 3, seed=34)]),
    "norm": (lambda M, a: (M.linalg.norm(a), M.linalg.norm(a, ord="nuc"), M.linalg.norm(a, ord=2, dim=1)),
             [lambda: crandn(3, 4, seed=35)]),
}


def _loss(outs, seed=0):
    """``Σ Re(w · out)`` with fixed random (complex where the output is) weights."""
    rng = np.random.default_rng(seed)
    total = 0.0
    for o in outs:
        shape = tuple(o.shape)
        w = rng.standard_normal(shape)
        if o.dtype in (cr.complex64, cr.complex128, torch.complex64, torch.complex128):
            w = w + 1j * rng.standard_normal(shape)
            total = total + (o * (torch.tensor(w) if isinstance(o, torch.Tensor) else cr.tensor(w))).real.sum()
        else:
            total = total + (o * (torch.tensor(w) if isinstance(o, torch.Tensor) else cr.tensor(w))).sum()
    return total


def _inputs(name):
    return [make() for make in CASES[name][1]]


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_equal_torch(name):
    f, _ = CASES[name]
    arrays = _inputs(name)
    for got, want in zip(f(cr, *map(cr.tensor, arrays)), f(torch, *map(torch.tensor, arrays))):
        assert got.dtype.itemsize == want.dtype.itemsize and (got.dtype.kind == "c") == want.is_complex()
        np.testing.assert_allclose(got.numpy(), _np(want), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_equal_torch(name):
    f, _ = CASES[name]
    arrays = _inputs(name)
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    got = cr.autograd.grad(_loss(f(cr, *xs)), xs)
    want = torch.autograd.grad(_loss(f(torch, *ts)), ts)
    for g, w in zip(got, want):
        assert g.dtype == cr.complex128
        np.testing.assert_allclose(g.numpy(), _np(w), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_mode_equals_torch(name):
    f, _ = CASES[name]
    arrays = _inputs(name)
    if name.startswith(("eigh", "eigvalsh", "cholesky", "pinv_hermitian")):  # Hermitian directions only
        tangents = [hermitian(*a.shape, seed=40 + k) for k, a in enumerate(arrays)]
    else:
        tangents = [crandn(*a.shape, seed=40 + k) for k, a in enumerate(arrays)]
    _, got = cr.jvp(lambda *xs: f(cr, *xs), tuple(map(cr.tensor, arrays)), tuple(map(cr.tensor, tangents)))
    _, want = torch.func.jvp(lambda *xs: f(torch, *xs), tuple(map(torch.tensor, arrays)),
                             tuple(map(torch.tensor, tangents)))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), _np(w), rtol=1e-7, atol=1e-9)


SECOND_ORDER = ["inv", "det", "slogdet", "solve", "solve_triangular", "cholesky", "eigvalsh", "eigh", "svdvals",
                "svd_square", "svd_tall", "qr_tall", "qr_wide", "pinv", "lstsq", "matrix_exp", "matrix_norm",
                "vector_norm"]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_order_equals_torch(name):
    """The gradient of ``Σ|∇f|²``: PyTorch's double backward."""
    f, _ = CASES[name]
    arrays = _inputs(name)
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    g = cr.autograd.grad(_loss(f(cr, *xs)), xs, create_graph=True)
    gt = torch.autograd.grad(_loss(f(torch, *ts)), ts, create_graph=True)
    got = cr.autograd.grad(sum((cr.abs(x) ** 2).sum() for x in g), xs)
    want = torch.autograd.grad(sum((x.abs() ** 2).sum() for x in gt), ts)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), _np(b), rtol=1e-6, atol=1e-8)


def test_values_equal_numpy():
    a, h, p = crandn(2, 3, 3, seed=50), hermitian(2, 3, 3, seed=51), hpd(3, 3, seed=52)
    t = cr.tensor
    w, v = cr.linalg.eigh(t(h))
    nw, nv = np.linalg.eigh(h)
    assert w.dtype == cr.float64 and v.dtype == cr.complex128
    np.testing.assert_allclose(w.numpy(), nw, rtol=1e-12)
    np.testing.assert_allclose(v.numpy(), nv, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cr.linalg.eigvalsh(t(h)).numpy(), np.linalg.eigvalsh(h), rtol=1e-12)
    u, s, vh = cr.linalg.svd(t(a))
    for x, y in zip((u, s, vh), np.linalg.svd(a)):
        np.testing.assert_allclose(x.numpy(), y, rtol=1e-10, atol=1e-12)
    assert s.dtype == cr.float64
    np.testing.assert_allclose(cr.linalg.svdvals(t(a)).numpy(), np.linalg.svd(a, compute_uv=False), rtol=1e-12)
    for x, y in zip(cr.linalg.qr(t(a)), np.linalg.qr(a)):
        np.testing.assert_allclose(x.numpy(), y, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cr.linalg.cholesky(t(p)).numpy(), np.linalg.cholesky(p), rtol=1e-12)
    sign, logabs = cr.linalg.slogdet(t(a))
    nsign, nlogabs = np.linalg.slogdet(a)
    assert sign.dtype == cr.complex128 and logabs.dtype == cr.float64
    np.testing.assert_allclose(sign.numpy(), nsign, rtol=1e-12)
    np.testing.assert_allclose(logabs.numpy(), nlogabs, rtol=1e-12)
    np.testing.assert_allclose(cr.linalg.det(t(a)).numpy(), np.linalg.det(a), rtol=1e-12)
    np.testing.assert_allclose(cr.linalg.inv(t(a)).numpy(), np.linalg.inv(a), rtol=1e-10)
    np.testing.assert_allclose(cr.linalg.pinv(t(a)).numpy(), np.linalg.pinv(a), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cr.linalg.norm(t(a[0]), ord="nuc").numpy(), np.linalg.norm(a[0], ord="nuc"), rtol=1e-12)
    np.testing.assert_allclose(cr.linalg.norm(t(a[0])).numpy(), np.linalg.norm(a[0]), rtol=1e-12)
    hu, hs, hvh = np.linalg.svd(t(h), hermitian=True)  # NumPy's order by |eigenvalue|, Vh conjugated
    for x, y in zip((hs, hu @ hvh), (np.linalg.svd(h, hermitian=True)[1], np.linalg.svd(h, hermitian=True)[0]
                                     @ np.linalg.svd(h, hermitian=True)[2])):
        np.testing.assert_allclose(x.numpy(), y, rtol=1e-10, atol=1e-12)
    # NumPy's functions on complex tensors dispatch to cr.linalg and keep the history.
    x = t(a, requires_grad=True)
    np.testing.assert_allclose(np.linalg.inv(x).detach().numpy(), np.linalg.inv(a), rtol=1e-10)
    np.abs(np.linalg.det(x)).sum().backward()
    assert x.grad is not None and x.grad.dtype == cr.complex128


def test_eigh_reads_one_triangle_as_torch():
    """A non-Hermitian input: eigh and eigvalsh read its lower triangle (``UPLO='U'``: upper),
    the diagonal's imaginary part ignored, as LAPACK, NumPy and PyTorch."""
    a = crandn(3, 3, seed=60)
    for uplo in ("L", "U"):
        w, v = cr.linalg.eigh(cr.tensor(a), UPLO=uplo)
        wt, vt = torch.linalg.eigh(torch.tensor(a), UPLO=uplo)
        np.testing.assert_allclose(w.numpy(), _np(wt), rtol=1e-10)
        np.testing.assert_allclose(_abs2(cr, v).numpy(), _np(vt.abs() ** 2), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(cr.linalg.eigvalsh(cr.tensor(a), UPLO=uplo).numpy(), _np(wt), rtol=1e-10)


@pytest.mark.parametrize("dtype, real", [(np.complex64, cr.float32), (np.complex128, cr.float64)])
def test_dtypes(dtype, real):
    a = hpd(3, 3, seed=61).astype(dtype)
    x = cr.tensor(a, requires_grad=True)
    w, v = cr.linalg.eigh(x)
    assert w.dtype == real and v.dtype == x.dtype
    assert cr.linalg.svdvals(x).dtype == real and cr.linalg.slogdet(x).logabsdet.dtype == real
    assert cr.linalg.vector_norm(x).dtype == real and cr.linalg.matrix_norm(x, ord="nuc").dtype == real
    for out in (cr.linalg.inv(x), cr.linalg.cholesky(x), cr.linalg.qr(x).Q, cr.linalg.pinv(x), cr.linalg.matrix_exp(x)):
        assert out.dtype == x.dtype
    (w.sum() + cr.linalg.svdvals(x).sum()).backward()
    assert x.grad.dtype == x.dtype


# ---------------------------------------------------------------------------------------------
# The phases of complex eigenvectors and singular vectors
# ---------------------------------------------------------------------------------------------

PHASE_LOSSES = {
    "eigh": (lambda M, a: M.linalg.eigh(a)[1].real.sum(), "linalg.eigh", "linalg_eigh_backward"),
    "eigh_with_values": (lambda M, a: (M.linalg.eigh(a)[1][..., 0, :].imag * M.linalg.eigh(a)[0]).sum(),
                         "linalg.eigh", "linalg_eigh_backward"),
    "svd_u": (lambda M, a: M.linalg.svd(a, full_matrices=False)[0].real.sum(), "linalg.svd", "svd_backward"),
    "svd_vh": (lambda M, a: M.linalg.svd(a, full_matrices=False)[2].imag.sum(), "linalg.svd", "svd_backward"),
}


@pytest.mark.parametrize("name", sorted(PHASE_LOSSES))
def test_a_loss_of_the_phases_raises_as_torch(name):
    f, op, torch_name = PHASE_LOSSES[name]
    a = hermitian(3, 3, seed=62) if op == "linalg.eigh" else crandn(3, 2, seed=62)
    with pytest.raises(RuntimeError, match=torch_name):
        f(torch, torch.tensor(a, requires_grad=True)).backward()
    x = cr.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match=rf"{op}: the .* complex case are specified up to multiplication by e\^\{{i phi\}}"):
        f(cr, x).backward()


def test_phase_invariant_losses_of_vectors_pass():
    """``U diag(S) Vh`` and ``|V|²`` do not depend on the phases: no error, PyTorch's gradient."""
    a = crandn(3, 3, seed=63)
    x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    u, s, vh = cr.linalg.svd(x)
    ut, st, vht = torch.linalg.svd(xt)
    cr.abs(u[:, :2] @ vh[:2, :]).sum().backward()
    (ut[:, :2] @ vht[:2, :]).abs().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), _np(xt.grad), rtol=1e-8, atol=1e-10)


def test_repeated_eigenvalues_follow_torch():
    """Degenerate spectrum: eigenvalue losses stay finite, eigenvector losses are inf/NaN."""
    h = np.diag([1.0, 1.0, 3.0]).astype(np.complex128)
    x = cr.tensor(h, requires_grad=True)
    cr.linalg.eigvalsh(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.eye(3), atol=1e-12)
    x = cr.tensor(h, requires_grad=True)
    _abs2(cr, cr.linalg.eigh(x)[1])[0].sum().backward()
    assert not np.isfinite(x.grad.numpy()).all()


# ---------------------------------------------------------------------------------------------
# vmap, refusals
# ---------------------------------------------------------------------------------------------

VMAPPED = {
    "inv": lambda a: cr.linalg.inv(a),
    "det": lambda a: cr.linalg.det(a),
    "slogdet_sign": lambda a: cr.linalg.slogdet(a).sign,
    "solve": lambda a: cr.linalg.solve(a, a[0]),
    "cholesky": lambda a: cr.linalg.cholesky(a @ a.conj().mT + 3.0 * cr.eye(3)),
    "eigh": lambda a: (lambda r: (r[0], _abs2(cr, r[1])))(cr.linalg.eigh(a + a.conj().mT)),
    "svd": lambda a: (lambda r: (r[1], r[0] @ r[2]))(cr.linalg.svd(a)),
    "qr": lambda a: tuple(cr.linalg.qr(a)),
    "pinv": lambda a: cr.linalg.pinv(a),
    "norms": lambda a: (cr.linalg.matrix_norm(a, ord="nuc"), cr.linalg.vector_norm(a, ord=3)),
    "grad_of_eigvalsh": lambda a: cr.grad(lambda b: (cr.linalg.eigvalsh(b + b.conj().mT) ** 2).sum())(a),
}


@pytest.mark.parametrize("name", sorted(VMAPPED))
def test_vmap_matches_a_loop(name):
    f = VMAPPED[name]
    batch = well(4, 3, 3, seed=70)
    got = cr.vmap(f)(cr.tensor(batch))
    got = got if isinstance(got, tuple) else (got,)
    for k in range(batch.shape[0]):
        want = f(cr.tensor(batch[k]))
        want = want if isinstance(want, tuple) else (want,)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g[k].numpy(), w.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f", [cr.linalg.inv, cr.linalg.det, cr.linalg.eigh, cr.linalg.svd, cr.linalg.cholesky])
def test_integer_and_half_are_still_refused(f):
    for dtype in (np.int64, np.float16):
        with pytest.raises(RuntimeError, match="float32, float64, complex64 or complex128"):
            f(cr.tensor(np.eye(2, dtype=dtype)))


def test_complex_cholesky_of_an_indefinite_matrix_raises():
    with pytest.raises(RuntimeError, match="linalg.cholesky: .*not positive-definite"):
        cr.linalg.cholesky(cr.tensor(np.array([[1.0, 2j], [-2j, 1.0]])))


def test_lstsq_residuals_and_empty_matrices_as_torch():
    a, b = crandn(5, 2, seed=80), crandn(5, 3, seed=81)
    got = cr.linalg.lstsq(cr.tensor(a), cr.tensor(b), driver="gelsd")
    want = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver="gelsd")
    assert got.residuals.dtype == cr.float64
    for g, w in zip((got.solution, got.residuals, got.singular_values), (want.solution, want.residuals,
                                                                         want.singular_values)):
        np.testing.assert_allclose(g.numpy(), _np(w), rtol=1e-10, atol=1e-12)
    empty = np.zeros((2, 0, 0), np.complex128)
    for f in (lambda M, x: M.linalg.inv(x), lambda M, x: M.linalg.det(x), lambda M, x: M.linalg.eigvalsh(x),
              lambda M, x: M.linalg.slogdet(x)[0], lambda M, x: M.linalg.matrix_norm(x, ord="nuc")):
        g, w = f(cr, cr.tensor(empty)), f(torch, torch.tensor(empty))
        assert tuple(g.shape) == tuple(w.shape) and g.dtype.itemsize == w.dtype.itemsize
        np.testing.assert_allclose(g.numpy(), _np(w))
