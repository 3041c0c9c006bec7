"""``cr.linalg``'s decompositions and matrix functions (SPEC §12): NumPy's exact results through
``np.linalg`` on tensors, PyTorch's values and gradients (reverse, forward, second order),
degenerate cases, errors, and Jacobians batched without a loop."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.transforms import batching as _batching

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(12)


def _t(a):
    return cr.tensor(np.array(a, dtype=np.float64), requires_grad=True)


def _spd(shape):
    a = RNG.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


A = RNG.standard_normal((2, 4, 3))
SQ = RNG.standard_normal((3, 3))
SYM = SQ + SQ.T
SPD = _spd((3, 3))


# ---------------------------------------------------------------------------------------------
# NumPy's functions on tensors: NumPy's exact results
# ---------------------------------------------------------------------------------------------

def _np_cases():
    b, b1 = RNG.standard_normal((4, 2)), RNG.standard_normal(4)
    ints = np.arange(9).reshape(3, 3)
    x3, y3, y34 = RNG.standard_normal((4, 3)), RNG.standard_normal(3), RNG.standard_normal((3, 4))
    cases = [
        ("cholesky", lambda m: m.linalg.cholesky(SPD)),
        ("cholesky-upper", lambda m: m.linalg.cholesky(SPD, upper=True)),
        ("eigh", lambda m: m.linalg.eigh(SYM)),
        ("eigh-U", lambda m: m.linalg.eigh(SQ, UPLO="U")),
        ("eigvalsh", lambda m: m.linalg.eigvalsh(SQ)),
        ("svd", lambda m: m.linalg.svd(A)),
        ("svd-reduced", lambda m: m.linalg.svd(A, full_matrices=False)),
        ("svd-values", lambda m: m.linalg.svd(A, compute_uv=False)),
        ("svd-hermitian", lambda m: m.linalg.svd(SYM, hermitian=True)),
        ("svd-hermitian-values", lambda m: m.linalg.svd(SYM, False, False, True)),
        ("qr", lambda m: m.linalg.qr(A)),
        ("qr-complete", lambda m: m.linalg.qr(A, mode="complete")),
        ("qr-r", lambda m: m.linalg.qr(A, mode="r")),
        ("qr-wide", lambda m: m.linalg.qr(np.swapaxes(A, -1, -2))),
        ("pinv", lambda m: m.linalg.pinv(A)),
        ("pinv-rcond", lambda m: m.linalg.pinv(A, rcond=0.5)),
        ("pinv-hermitian", lambda m: m.linalg.pinv(SYM, hermitian=True)),
        ("lstsq", lambda m: m.linalg.lstsq(A[0], b)),
        ("lstsq-vector", lambda m: m.linalg.lstsq(A[0], b1)),
        ("lstsq-wide", lambda m: m.linalg.lstsq(A[0].T, A[0, :3, :2])),
        ("lstsq-rcond", lambda m: m.linalg.lstsq(A[0], b, rcond=0.9)),
        ("matrix_power-ints", lambda m: m.linalg.matrix_power(ints, 3)),
        ("matrix_power-0", lambda m: m.linalg.matrix_power(ints, 0)),
        ("cross", lambda m: m.cross(x3, y3)),
        ("cross-axisb", lambda m: m.cross(x3, y34, axisb=0)),
        ("cross-axisc", lambda m: m.cross(x3, y34, axisb=0, axisc=0)),
        ("cross-axis", lambda m: m.cross(A[:, :3], A[:, 1:], axis=1)),
        ("cross-ints", lambda m: m.cross(ints, ints[::-1])),
    ]
    cases += [(f"matrix_power{n}", lambda m, n=n: m.linalg.matrix_power(SPD, n)) for n in (1, 2, 5, -1, -3)]
    for o in (None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf):
        cases.append((f"norm-matrix-{o}", lambda m, o=o: m.linalg.norm(A, ord=o, axis=(1, 2))))
        cases.append((f"norm-matrix-{o}-keepdims", lambda m, o=o: m.linalg.norm(A, o, (2, 0), True)))
        cases.append((f"norm-2d-{o}", lambda m, o=o: m.linalg.norm(A[0], ord=o)))
    for o in (None, 2, 1, 0, 3, 0.5, -1, np.inf, -np.inf):
        cases.append((f"norm-vector-{o}", lambda m, o=o: m.linalg.norm(A, ord=o, axis=-2)))
    if hasattr(np.linalg, "svdvals"):  # NumPy 2's array-API functions
        cases += [("svdvals", lambda m: m.linalg.svdvals(A)),
                  ("linalg.cross", lambda m: m.linalg.cross(x3, y3))]
        for o in (2, 1, 0, 3.5, np.inf, -np.inf):
            cases.append((f"vector_norm-{o}", lambda m, o=o: m.linalg.vector_norm(A, ord=o)))
            cases.append((f"vector_norm-{o}-axes", lambda m, o=o: m.linalg.vector_norm(A, ord=o, axis=(0, 2), keepdims=True)))
        for o in ("fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf):
            cases.append((f"matrix_norm-{o}", lambda m, o=o: m.linalg.matrix_norm(A, ord=o, keepdims=True)))
    return cases


class _OnTensors:
    """``np`` with every array argument made a tensor (float ones requiring grad)."""

    def __init__(self, space=np):
        self.space = space

    def __getattr__(self, name):
        target = getattr(self.space, name)
        if not callable(target):
            return _OnTensors(target)

        def call(*args, **kwargs):
            args = [(_t(a) if a.dtype.kind == "f" else cr.tensor(a)) if isinstance(a, np.ndarray) else a for a in args]
            return target(*args, **kwargs)
        return call


def _same(got, expected):
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        if hasattr(expected, "_fields"):
            assert got._fields == expected._fields
        for g, e in zip(got, expected):
            _same(g, e)
        return
    value = got.detach().numpy() if isinstance(got, cr.Tensor) else np.asarray(got)
    expected = np.asarray(expected)
    assert value.shape == expected.shape and value.dtype == expected.dtype
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, call", _np_cases(), ids=[c[0] for c in _np_cases()])
def test_numpy_linalg_on_tensors_gives_numpys_results(name, call):
    _same(call(_OnTensors()), call(np))


def test_numpy_results_keep_the_graph():
    x = _t(A)
    (np.linalg.svd(x, compute_uv=False).sum() + np.linalg.norm(x, "nuc", axis=(1, 2)).sum()).backward()
    u, _, vh = np.linalg.svd(A, full_matrices=False)
    np.testing.assert_allclose(x.grad.numpy(), 2 * u @ vh, atol=1e-12)


def _numpy_crosses_2_vectors() -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            np.cross(np.zeros(2), np.zeros(3))
        except ValueError:
            return False
    return True


def test_numpy_cross_of_two_vectors_warns_as_numpy():
    a, b = RNG.standard_normal((4, 2)), RNG.standard_normal((4, 3))
    if not _numpy_crosses_2_vectors():  # the deprecation expired (NumPy 2.5): refused, as NumPy does
        with pytest.raises(ValueError, match="3-dimensional vectors"):
            np.cross(a, b)
        with pytest.raises(ValueError, match="3-dimensional vectors"):
            np.cross(_t(a), _t(b))
        return
    with pytest.warns(DeprecationWarning):
        got = np.cross(_t(a), _t(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(got, np.cross(a, b))
        _same(np.cross(_t(a), _t(a[::-1])), np.cross(a, a[::-1]))


def test_numpy_errors_are_numpys():
    with pytest.raises(ValueError):
        np.cross(_t(np.ones((2, 4))), _t(np.ones((2, 3))))
    with pytest.raises(ValueError, match="rtol"):
        np.linalg.pinv(_t(SQ), rcond=0.1, rtol=0.1)
    with pytest.raises(TypeError):
        np.linalg.matrix_power(_t(SQ), 1.5)
    with pytest.raises(NotImplementedError, match="raw"):
        np.linalg.qr(_t(SQ), mode="raw")


# ---------------------------------------------------------------------------------------------
# PyTorch as the oracle: values, gradients in both modes, second order
# ---------------------------------------------------------------------------------------------

def _w(shape):
    return RNG.standard_normal(shape)


W33, W43, W34, W2 = _w((2, 3, 3)), _w((2, 4, 3)), _w((2, 3, 4)), _w((2, 3, 2))
S2 = _spd((2, 3, 3))
TRI = np.triu(_w((2, 3, 3))) + 3 * np.eye(3)


def _torch_cases():
    """(name, chainrule function, torch function, inputs, symmetric tangents)."""
    def both(name, f, args, sym=False):
        return (name, lambda *x: f(cr, *x), lambda *x: f(torch, *x), args, sym)

    def w(lib, a):
        return lib.tensor(a) if lib is torch else cr.tensor(a)

    cases = [
        both("cholesky", lambda L, a: (L.linalg.cholesky(a) * w(L, W33)).sum(), (S2,), True),
        both("cholesky-upper", lambda L, a: (L.linalg.cholesky(a, upper=True) * w(L, W33)).sum(), (S2,), True),
        both("eigh", lambda L, a: (L.linalg.eigh(a)[1] ** 2 * w(L, W33)).sum() + (L.linalg.eigh(a)[0] ** 3).sum(), (S2,), True),
        both("eigh-U", lambda L, a: (L.linalg.eigh(a, UPLO="U")[1] ** 2 * w(L, W33)).sum(), (S2,), True),
        both("eigvalsh", lambda L, a: (L.linalg.eigvalsh(a) ** 3).sum(), (S2,), True),
        both("svdvals", lambda L, a: (L.linalg.svdvals(a) ** 2).sum(), (A,)),
        both("matrix_exp", lambda L, a: (L.linalg.matrix_exp(a) * w(L, W33)).sum(), (2 * S2 / 3,)),
        both("matrix_exp-large", lambda L, a: (L.linalg.matrix_exp(a) * w(L, W33)).sum(), (W33 * 3,)),
        both("pinv", lambda L, a: (L.linalg.pinv(a) ** 2).sum(), (A,)),
        both("pinv-wide", lambda L, a: (L.linalg.pinv(a) * w(L, W43)).sum(), (np.swapaxes(W43, -1, -2),)),
        both("pinv-atol", lambda L, a: (L.linalg.pinv(a, atol=0.5, rtol=0.1) ** 2).sum(), (A,)),
        both("lstsq", lambda L, a, b: (L.linalg.lstsq(a, b).solution ** 2).sum(), (A, W2[:, :1].repeat(4, 1)[:, :4])),
        both("lstsq-vector", lambda L, a, b: (L.linalg.lstsq(a, b).solution ** 2).sum(), (A, W43[:, :, 0])),
        both("cross", lambda L, a, b: (L.linalg.cross(a, b) ** 2).sum(), (W43, W43[:1] + 1)),
        both("cross-dim0", lambda L, a, b: (L.linalg.cross(a, b, dim=1) ** 2).sum(), (W34, W34 * 2 - 1)),
    ]
    for full in (False, True):
        for x, wu, wv in ((A, W43, W33), (np.swapaxes(A, -1, -2), W33, W34)):
            k = 3
            cases.append(both(f"svd-{x.shape}-full={full}", lambda L, a, x=x, wu=wu, wv=wv, full=full, k=k: (
                (L.linalg.svd(a, full_matrices=full)[0][..., :, :k] ** 2 * w(L, wu)).sum()
                + (L.linalg.svd(a, full_matrices=full)[2][..., :k, :] ** 2 * w(L, wv)).sum()
                + L.linalg.svd(a, full_matrices=full)[1].sum()), (x,)))
    for x, wq, wr in ((A, W43, W33), (np.swapaxes(A, -1, -2), W33, W34)):
        cases.append(both(f"qr-{x.shape}", lambda L, a, wq=wq, wr=wr: (
            (L.linalg.qr(a)[0] * w(L, wq)).sum() + (L.linalg.qr(a)[1] ** 2 * w(L, wr)).sum()), (x,)))
    for upper in (True, False):
        tri = TRI if upper else np.swapaxes(TRI, -1, -2)
        for left in (True, False):
            for unit in (False, True):
                rhs = W2 if left else np.swapaxes(W2, -1, -2)
                cases.append(both(f"solve_triangular-{upper}-{left}-{unit}", lambda L, a, b, upper=upper, left=left, unit=unit: (
                    L.linalg.solve_triangular(a, b, upper=upper, left=left, unitriangular=unit) ** 2).sum(), (tri, rhs)))
    for n in (0, 1, 3, -2):
        cases.append(both(f"matrix_power{n}", lambda L, a, n=n: (L.linalg.matrix_power(a, n) ** 2).sum(), (S2,)))
    for o in (2, 1, 3.5, 0.5, np.inf, -np.inf):
        cases.append(both(f"vector_norm-{o}", lambda L, a, o=o: L.linalg.vector_norm(a, o, dim=(0, 2)).sum(), (A,)))
    for o in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        cases.append(both(f"matrix_norm-{o}", lambda L, a, o=o: L.linalg.matrix_norm(a, o, dim=(2, 0), keepdim=True).sum(), (A,)))
        cases.append(both(f"norm-{o}", lambda L, a, o=o: L.linalg.norm(a, o, dim=(-2, -1)).sum(), (A,)))
    return cases


CASES = _torch_cases()


@pytest.mark.parametrize("name, f, tf, args, sym", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_equal_pytorchs(name, f, tf, args, sym):
    xs = [_t(a) for a in args]
    ts = [torch.tensor(a, requires_grad=True) for a in args]
    out, expected = f(*xs), tf(*ts)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-10)
    out.backward()
    grads = torch.autograd.grad(expected, ts)
    for x, g in zip(xs, grads):
        np.testing.assert_allclose(x.grad.numpy(), g.numpy(), rtol=1e-9, atol=1e-10)
    # forward mode
    tangents = [RNG.standard_normal(a.shape) for a in args]
    if sym:
        tangents = [t + np.swapaxes(t, -1, -2) for t in tangents]
    _, jt = torch.func.jvp(tf, tuple(torch.tensor(a) for a in args), tuple(torch.tensor(t) for t in tangents))
    _, jc = cr.jvp(f, tuple(cr.tensor(a) for a in args), tuple(cr.tensor(t) for t in tangents))
    np.testing.assert_allclose(np.asarray(jc.numpy()), jt.numpy(), rtol=1e-9, atol=1e-10)


SECOND = [c for c in CASES if c[0].split("-")[0] in
          ("cholesky", "eigh", "eigvalsh", "svdvals", "matrix_exp", "pinv", "lstsq", "qr", "solve_triangular", "svd", "matrix_norm")]


@pytest.mark.parametrize("name, f, tf, args, sym", SECOND, ids=[c[0] for c in SECOND])
def test_second_derivatives_equal_pytorchs(name, f, tf, args, sym):
    """A Hessian-vector product through each rule (the rules are differentiable again)."""
    v = [RNG.standard_normal(a.shape) for a in args]
    if sym:
        v = [t + np.swapaxes(t, -1, -2) for t in v]
    xs = [_t(a) for a in args]
    grads = cr.autograd.grad(f(*xs), xs, create_graph=True)
    got = cr.autograd.grad(sum((g * cr.tensor(d)).sum() for g, d in zip(grads, v)), xs)
    ts = [torch.tensor(a, requires_grad=True) for a in args]
    tg = torch.autograd.grad(tf(*ts), ts, create_graph=True)
    expected = torch.autograd.grad(sum((g * torch.tensor(d)).sum() for g, d in zip(tg, v)), ts)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a.numpy(), b.numpy(force=True), rtol=1e-7, atol=1e-8)


def test_matrix_exp_gradient_is_exact():
    a = RNG.standard_normal((4, 4)) * 4
    g = RNG.standard_normal((4, 4))
    x = _t(a)
    (cr.linalg.matrix_exp(x) * cr.tensor(g)).sum().backward()
    t = torch.tensor(a, requires_grad=True)
    (torch.linalg.matrix_exp(t) * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-10 * np.abs(t.grad.numpy()).max())


# ---------------------------------------------------------------------------------------------
# Degenerate cases, PyTorch's conventions
# ---------------------------------------------------------------------------------------------

REPEATED = np.diag([2.0, 2.0, 5.0])


def _grad(f, a):
    x = _t(a)
    f(x).backward()
    return x.grad.numpy()


def test_gauge_invariant_gradients_stay_finite_at_repeated_values():
    for f in (lambda x: (cr.linalg.eigvalsh(x) ** 2).sum(), lambda x: (cr.linalg.eigh(x)[0] ** 2).sum(),
              lambda x: cr.linalg.svdvals(x).sum(), lambda x: cr.linalg.svd(x)[1].sum(),
              lambda x: cr.linalg.matrix_norm(x, "nuc"), lambda x: cr.linalg.matrix_norm(x, 2)):
        g = _grad(f, REPEATED)
        assert np.isfinite(g).all()
    np.testing.assert_allclose(_grad(lambda x: cr.linalg.eigvalsh(x).sum(), REPEATED), np.eye(3), atol=1e-12)
    np.testing.assert_allclose(_grad(lambda x: cr.linalg.svdvals(x).sum(), np.eye(3)), np.eye(3), atol=1e-12)


def test_vectors_of_repeated_values_get_pytorchs_inf_or_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no NumPy warnings on the way
        ge = _grad(lambda x: cr.linalg.eigh(x)[1].sum(), REPEATED)
        gs = _grad(lambda x: cr.linalg.svd(x)[0].sum(), REPEATED)
    t = torch.tensor(REPEATED, requires_grad=True)
    torch.linalg.eigh(t)[1].sum().backward()
    assert not np.isfinite(ge).all() and not np.isfinite(t.grad.numpy()).all()
    assert not np.isfinite(gs).all()


def test_svd_full_matrices_ignores_the_extra_columns_as_pytorch():
    x = _t(A[0])
    u, s, vh = cr.linalg.svd(x, full_matrices=True)
    assert u.shape == (4, 4) and vh.shape == (3, 3)
    (u[:, 3].sum() + s.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), _grad(lambda y: cr.linalg.svdvals(y).sum(), A[0]), atol=1e-12)
    for a in (A[0], A[0].T):  # squares: the signs of singular vectors are LAPACK's choice
        wu, wv = RNG.standard_normal((a.shape[0],) * 2), RNG.standard_normal((a.shape[1],) * 2)
        t = torch.tensor(a, requires_grad=True)
        tu, ts, tvh = torch.linalg.svd(t, full_matrices=True)
        ((tu ** 2 * torch.tensor(wu)).sum() + (tvh ** 2 * torch.tensor(wv)).sum() + ts.sum()).backward()
        got = _grad(lambda y, wu=wu, wv=wv: (lambda r: (r.U ** 2 * cr.tensor(wu)).sum()
                                             + (r.Vh ** 2 * cr.tensor(wv)).sum()
                                             + r.S.sum())(cr.linalg.svd(y)), a)
        np.testing.assert_allclose(got, t.grad.numpy(), atol=1e-10)


def test_qr_gradient_refusals_follow_pytorch():
    with pytest.raises(RuntimeError, match="mode='r'"):
        cr.linalg.qr(_t(A[0]), mode="r").R.sum().backward()
    assert cr.linalg.qr(_t(A[0]), mode="r").Q.shape == (0,)
    with pytest.raises(RuntimeError, match="complete"):
        cr.linalg.qr(_t(A[0]), mode="complete").R.sum().backward()
    wide = np.swapaxes(A[0], 0, 1)
    got = _grad(lambda y: cr.linalg.qr(y, mode="complete").Q.sum(), wide)
    np.testing.assert_allclose(got, _grad(lambda y: cr.linalg.qr(y).Q.sum(), wide))


def test_lstsq_returns_pytorchs_named_tuple():
    b = RNG.standard_normal((2, 4, 2))
    for driver in (None, "gelsd"):
        got = cr.linalg.lstsq(cr.tensor(A), cr.tensor(b), driver=driver)
        expected = torch.linalg.lstsq(torch.tensor(A), torch.tensor(b), driver=driver)
        assert got._fields == ("solution", "residuals", "rank", "singular_values")
        for g, e in zip(got, expected):
            assert tuple(g.shape) == tuple(e.shape)
            np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-10, atol=1e-10)


def test_pinv_tolerances_as_pytorch():
    a = np.diag([3.0, 1.0, 1e-3])
    for kw in ({}, {"rtol": 0.01}, {"atol": 0.5}, {"atol": 0.5, "rtol": 0.5}, {"hermitian": True}):
        np.testing.assert_allclose(cr.linalg.pinv(cr.tensor(a), **kw).numpy(),
                                   torch.linalg.pinv(torch.tensor(a), **kw).numpy(), atol=1e-12)


def test_vector_norm_at_zero_has_pytorchs_zero_gradient():
    for o in (2, 3, 0.5, np.inf):
        g = _grad(lambda x, o=o: cr.linalg.vector_norm(x, o), np.zeros(3))
        t = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        torch.linalg.vector_norm(t, o).backward()
        np.testing.assert_array_equal(g, t.grad.numpy())


def test_float32_stays_float32():
    a = SPD.astype(np.float32)
    for f in (cr.linalg.cholesky, cr.linalg.eigvalsh, cr.linalg.svdvals, cr.linalg.matrix_exp, cr.linalg.pinv,
              lambda x: cr.linalg.qr(x).R, lambda x: cr.linalg.eigh(x).eigenvectors):
        x = cr.tensor(a, requires_grad=True)
        y = f(x)
        assert y.dtype == cr.float32
        y.sum().backward()
        assert x.grad.dtype == np.float32


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, match", [
    (lambda: cr.linalg.cholesky(cr.tensor(-np.eye(2))), RuntimeError, "positive-definite"),
    (lambda: cr.linalg.cholesky(cr.tensor(np.ones((2, 3)))), RuntimeError, "square"),
    (lambda: cr.linalg.eigh(cr.tensor(np.eye(2)), UPLO="X"), ValueError, "UPLO"),
    (lambda: cr.linalg.eigvalsh(cr.tensor(np.eye(2, dtype=np.int64))), RuntimeError, "float32, float64, complex64 or complex128"),
    (lambda: cr.linalg.svd(cr.tensor(np.ones(3))), RuntimeError, "matrix"),
    (lambda: cr.linalg.qr(cr.tensor(np.eye(2)), mode="full"), ValueError, "mode"),
    (lambda: cr.linalg.solve_triangular(cr.tensor(np.eye(3)), cr.tensor(np.ones((2, 2))), upper=True), RuntimeError, "incompatible"),
    (lambda: cr.linalg.solve_triangular(cr.tensor(np.zeros((2, 2))), cr.tensor(np.ones((2, 1))), upper=True), RuntimeError, "singular"),
    (lambda: cr.linalg.lstsq(cr.tensor(np.ones((3, 2))), cr.tensor(np.ones((2, 1)))), RuntimeError, "rows"),
    (lambda: cr.linalg.lstsq(cr.tensor(np.ones((3, 2))), cr.tensor(np.ones((3, 1))), driver="x"), RuntimeError, "driver"),
    (lambda: cr.linalg.matrix_power(cr.tensor(np.eye(2)), 1.5), TypeError, "integer"),
    (lambda: cr.linalg.matrix_exp(cr.tensor(np.ones((2, 3)))), RuntimeError, "square"),
    (lambda: cr.linalg.cross(cr.tensor(np.ones(4)), cr.tensor(np.ones(4))), RuntimeError, "size 3"),
    (lambda: cr.linalg.cross(cr.tensor(np.ones((2, 3))), cr.tensor(np.ones(3))), RuntimeError, "number of dimensions"),
    (lambda: cr.linalg.matrix_norm(cr.tensor(np.ones((2, 2))), ord=3), RuntimeError, "ord"),
    (lambda: cr.linalg.matrix_norm(cr.tensor(np.ones(2))), RuntimeError, "2 or more"),
])
def test_errors_name_the_operation_and_the_fix(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert "linalg." in str(info.value)


# ---------------------------------------------------------------------------------------------
# Batching: Jacobians (and every batched transform) without a loop over the batch
# ---------------------------------------------------------------------------------------------

BATCHED = [
    ("cholesky", lambda x: cr.linalg.cholesky(x @ x.mT + 3 * cr.eye(3)), (3, 3)),
    ("eigh", lambda x: cr.linalg.eigh(x + x.mT).eigenvalues + cr.linalg.eigh(x + x.mT).eigenvectors.sum(0) ** 2, (3, 3)),
    ("eigvalsh", lambda x: cr.linalg.eigvalsh(x + x.mT), (2, 3, 3)),
    ("svd", lambda x: cr.linalg.svd(x, full_matrices=False).U ** 2, (4, 3)),
    ("svdvals", cr.linalg.svdvals, (2, 3, 4)),
    ("qr", lambda x: cr.linalg.qr(x).R, (4, 3)),
    ("pinv", cr.linalg.pinv, (3, 2)),
    ("lstsq", lambda x: cr.linalg.lstsq(x, cr.tensor(np.arange(3.0))).solution, (3, 2)),
    ("matrix_exp", cr.linalg.matrix_exp, (2, 2, 2)),
    ("solve_triangular", lambda x: cr.linalg.solve_triangular(x + 3 * cr.eye(3), cr.tensor(np.ones((3, 2))), upper=True), (3, 3)),
    ("cross", lambda x: cr.linalg.cross(x, x * x), (2, 3)),
    ("det", cr.linalg.det, (2, 3, 3)),
    ("inv", lambda x: cr.linalg.inv(x + 3 * cr.eye(3)), (3, 3)),
    ("logabsdet", lambda x: cr.linalg.slogdet(x + 3 * cr.eye(3)).logabsdet, (3, 3)),
    ("solve-vector", lambda x: cr.linalg.solve(x + 3 * cr.eye(3), cr.tensor(np.arange(3.0))), (3, 3)),
    ("solve-vector-b", lambda b: cr.linalg.solve(cr.tensor(SPD), b), (3,)),
    ("solve-batch", lambda x: cr.linalg.solve(x + 3 * cr.eye(3), x[..., :2]), (2, 3, 3)),
]


@pytest.mark.parametrize("name, f, shape", BATCHED, ids=[b[0] for b in BATCHED])
def test_jacobians_batch_without_a_loop(name, f, shape, monkeypatch):
    base = RNG.standard_normal(shape)
    numeric = cr.numerical.gradient(f, base)

    def no_loop(*args, **kwargs):
        raise AssertionError("looped over the batch")

    monkeypatch.setattr(_batching, "_loop", no_loop)
    monkeypatch.setattr(_batching, "_BY_KIND", {**_batching._BY_KIND, None: no_loop})
    np.testing.assert_allclose(cr.jacrev(f)(base).numpy(), numeric, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cr.jacfwd(f)(base).numpy(), numeric, rtol=1e-5, atol=1e-6)


def test_linalg_primitives_have_batching_rules():
    assert not {"det", "inv", "logabsdet", "solve", "cholesky", "eigh", "eigvalsh", "svd", "svdvals", "qr",
                "solve_triangular", "pinv", "lstsq", "matrix_exp", "cross"} & set(_batching.fallback())


def _rule_cases():
    sq, spd, tri, v3 = (3, 3), _spd((3, 3)), np.triu(_w((3, 3))) + 3 * np.eye(3), _w((3,))
    return [  # (primitive, per-example arrays, which are batched, params)
        ("det", [_w(sq)], [True], {}), ("inv", [spd], [True], {}), ("logabsdet", [spd], [True], {}),
        ("solve", [spd, v3], [True, False], {}), ("solve", [spd, v3], [False, True], {}),
        ("solve", [spd, v3], [True, True], {}), ("solve", [_spd((2, 3, 3)), v3], [False, True], {}),
        ("solve", [spd, _w((2, 3, 2))], [True, False], {}), ("solve", [_spd((2, 3, 3)), _w((3, 2))], [True, True], {}),
        ("cholesky", [spd], [True], {"upper": False}), ("eigh", [spd], [True], {"upper": True}),
        ("eigvalsh", [spd], [True], {"upper": False}), ("svd", [_w((4, 3))], [True], {"full_matrices": True}),
        ("svdvals", [_w((2, 3, 4))], [True], {}), ("qr", [_w((4, 3))], [True], {"mode": "reduced"}),
        ("pinv", [_w((3, 2))], [True], {"rtol": 1e-15, "atol": 0.0, "hermitian": False}),
        ("lstsq", [_w((4, 2)), _w((4, 1))], [False, True], {"rcond": 1e-15}),
        ("lstsq", [_w((2, 4, 2)), _w((4, 3))], [True, False], {"rcond": 1e-15}),
        ("matrix_exp", [_w(sq)], [True], {}),
        ("solve_triangular", [tri, _w((2, 3, 2))], [True, False], {"upper": True, "left": True, "unitriangular": False}),
        ("solve_triangular", [tri, _w((2, 3))], [False, True], {"upper": True, "left": False, "unitriangular": True}),
        ("cross", [_w((2, 3)), _w((1, 3))], [True, False], {"dim": -1}),
        ("cross", [_w((3, 2)), _w((3, 2))], [False, True], {"dim": -2}),
    ]


@pytest.mark.parametrize("name, arrays, batched, params", _rule_cases(), ids=[f"{c[0]}-{c[2]}" for c in _rule_cases()])
def test_batching_rules_match_the_per_example_results(name, arrays, batched, params):
    """Each linalg primitive's batching rule (the batch axis leading, as vmap hands it) against
    the primitive applied to each example."""
    from chainrule.core import dispatch as P

    size = 3
    stacks = [np.stack([a + 0.1 * k * (i + 1) * np.eye(*a.shape[-2:]) if a.ndim >= 2 else a + 0.1 * k
                        for k in range(size)]) if b else a for i, (a, b) in enumerate(zip(arrays, batched))]
    ns = _batching.BatchedNamespace(P.raw, size)
    got = getattr(ns, name)(*[ns.wrap(s) if b else s for s, b in zip(stacks, batched)], **params)
    fn = getattr(P.raw, name)
    expected = np.stack([fn(*[s[k] if b else s for s, b in zip(stacks, batched)], **params) for k in range(size)])
    np.testing.assert_allclose(np.asarray(got.value), expected, rtol=1e-12, atol=1e-12)
