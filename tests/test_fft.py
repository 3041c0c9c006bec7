"""``cr.fft`` (SPEC §12): NumPy's values, shapes, dtypes and keywords (also as ``np.fft.*`` on
tensors), gradients equal to ``torch.fft``'s in both modes (the Hermitian weighting of
rfft/irfft included), vmap, and clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 8))
Z = X + 1j * RNG.standard_normal((3, 8))
Z3 = RNG.standard_normal((2, 3, 4)) + 1j * RNG.standard_normal((2, 3, 4))

CASES = [
    ("fft", Z, {}), ("fft", X, {"n": 5}), ("fft", X, {"n": 11, "axis": 0, "norm": "ortho"}),
    ("fft", Z, {"axis": -2, "norm": "forward"}), ("ifft", Z, {"norm": "forward"}), ("ifft", Z, {"n": 3}),
    ("rfft", X, {}), ("rfft", X, {"n": 7}), ("rfft", X, {"n": 12, "axis": 0, "norm": "ortho"}),
    ("irfft", Z, {}), ("irfft", Z, {"n": 9}), ("irfft", Z, {"n": 4, "norm": "ortho"}), ("irfft", Z, {"n": 20}),
    ("irfft", Z, {"axis": 0, "norm": "forward"}),
    ("fft2", Z, {}), ("fft2", Z3, {"axes": (0, 2)}), ("ifft2", Z, {"s": (4, 5)}),
    ("fftn", X, {}), ("fftn", Z3, {"axes": (1,)}), ("ifftn", Z, {"axes": (0,)}), ("ifftn", Z3, {"s": (3, 3), "axes": (0, 1)}),
    ("rfftn", X, {}), ("rfftn", Z3.real.copy(), {"axes": (0, 2), "norm": "ortho"}), ("rfft2", X, {}),
    ("irfftn", Z, {}), ("irfftn", Z, {"s": (2, 6), "axes": (0, 1)}), ("irfftn", Z3, {"axes": (0, 1)}), ("irfft2", Z, {}),
    ("hfft", Z, {}), ("hfft", Z, {"n": 7, "norm": "ortho"}), ("hfft", Z, {"axis": 0, "norm": "forward"}),
    ("ihfft", X, {}), ("ihfft", X, {"n": 5, "norm": "forward"}), ("ihfft", X, {"axis": 0, "norm": "ortho"}),
    ("fftshift", X, {}), ("fftshift", Z3, {"axes": (0, 2)}), ("ifftshift", X, {"axes": 1}), ("ifftshift", Z, {}),
]


def _ids(cases):
    return [f"{name}-{a.dtype}{a.shape}-{kw}" for name, a, kw in cases]


@pytest.mark.parametrize("name,a,kw", CASES, ids=_ids(CASES))
def test_values_shapes_dtypes_as_numpy(name, a, kw):
    expected = getattr(np.fft, name)(a, **kw)
    for out in (getattr(cr.fft, name)(cr.tensor(a), **kw), getattr(np.fft, name)(cr.tensor(a), **kw)):
        assert isinstance(out, cr.Tensor)
        assert out.shape == expected.shape and out.dtype == expected.dtype
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "fft2", "rfftn", "irfft"])
def test_single_precision_stays_single(name):
    a = (Z if name == "irfft" else X).astype(np.complex64 if name == "irfft" else np.float32)
    expected = getattr(np.fft, name)(a)
    out = getattr(cr.fft, name)(cr.tensor(a))
    assert out.dtype == expected.dtype
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_integer_input_takes_the_default_complex_dtype():
    out = cr.fft.fft(cr.tensor([1, 2, 3]))
    assert out.dtype == cr.complex64
    np.testing.assert_allclose(out.numpy(), np.fft.fft([1, 2, 3]), rtol=1e-6)


def _torch_kwargs(kw):
    kw = dict(kw)
    if "axis" in kw:
        kw["dim"] = kw.pop("axis")
    if "axes" in kw:
        kw["dim"] = kw.pop("axes")
    return kw


def _np(t):
    return t.detach().resolve_conj().numpy()


@pytest.mark.parametrize("name,a,kw", CASES, ids=_ids(CASES))
def test_gradients_equal_torch(name, a, kw):
    if name == "irfftn" and "s" in kw and "axes" not in kw:
        pytest.skip("torch.fft.irfftn takes s for the last axes too")
    t, tt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out = getattr(cr.fft, name)(t, **kw)
    out_t = getattr(torch.fft, name)(tt, **_torch_kwargs(kw))
    w = RNG.standard_normal(tuple(out.shape))
    if out.is_complex():
        w = w + 1j * RNG.standard_normal(tuple(out.shape))
    loss = cr.abs(out * cr.tensor(w) + 0.5).sum()
    loss_t = (out_t * torch.tensor(w) + 0.5).abs().sum()
    loss.backward()
    loss_t.backward()
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-10)
    np.testing.assert_allclose(t.grad.numpy(), _np(tt.grad), rtol=1e-8, atol=1e-10)
    # forward mode: the tangent of the transform (torch.func.jvp)
    tangent = RNG.standard_normal(a.shape) + (1j * RNG.standard_normal(a.shape) if np.iscomplexobj(a) else 0)
    _, jv = cr.jvp(lambda v: getattr(cr.fft, name)(v, **kw), (cr.tensor(a),), (cr.tensor(tangent),))
    _, jvt = torch.func.jvp(lambda v: getattr(torch.fft, name)(v, **_torch_kwargs(kw)),
                            (torch.tensor(a),), (torch.tensor(tangent),))
    np.testing.assert_allclose(jv.numpy(), _np(jvt), rtol=1e-8, atol=1e-10)


def test_irfft_hermitian_weighting_matches_torch():
    # The imaginary parts of X[0] and X[n/2] do not reach the output: their gradient is 0, and
    # the other frequencies count twice.
    a = Z[0, :5]
    t, tt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    cr.fft.irfft(t).sum().backward()
    torch.fft.irfft(tt).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), _np(tt.grad), atol=1e-12)
    x = X[0]
    u, ut = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (cr.fft.rfft(u).imag ** 2).sum().backward()
    (torch.fft.rfft(ut).imag ** 2).sum().backward()
    np.testing.assert_allclose(u.grad.numpy(), ut.grad.numpy(), atol=1e-12)


def test_second_order():
    x = X[0]
    u, ut = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g,) = cr.autograd.grad((cr.fft.rfft(u).abs() ** 3).sum(), [u], create_graph=True)
    (gt,) = torch.autograd.grad((torch.fft.rfft(ut).abs() ** 3).sum(), [ut], create_graph=True)
    (g ** 2).sum().backward()
    (gt ** 2).sum().backward()
    np.testing.assert_allclose(u.grad.numpy(), ut.grad.numpy(), rtol=1e-8)


def test_gradcheck_through_the_transforms():
    z = cr.tensor(Z[:2, :4], requires_grad=True)
    assert cr.autograd.gradcheck(lambda v: cr.fft.fft2(v, norm="ortho"), (z,))
    assert cr.autograd.gradgradcheck(lambda v: cr.fft.irfft(v, n=5), (z,))


def test_vmap_and_jacobians():
    out = cr.vmap(lambda t: cr.fft.fft(t, axis=0))(cr.tensor(Z3))
    np.testing.assert_allclose(out.numpy(), np.fft.fft(Z3, axis=1))
    out = cr.vmap(lambda t: cr.fft.irfftn(t, axes=(0, 1)))(cr.tensor(Z3))
    np.testing.assert_allclose(out.numpy(), np.stack([np.fft.irfftn(z, axes=(0, 1)) for z in Z3]))
    f = lambda v: cr.fft.rfft(v).abs()  # noqa: E731
    np.testing.assert_allclose(cr.jacrev(f)(cr.tensor(X[0])).numpy(), cr.jacfwd(f)(cr.tensor(X[0])).numpy(), atol=1e-12)
    g = cr.vmap(cr.grad(lambda v: (cr.fft.fft(v).abs() ** 2).sum()))(cr.tensor(X))
    np.testing.assert_allclose(g.numpy(), 2 * 8 * X)  # Parseval


def test_fftfreq():
    np.testing.assert_allclose(cr.fft.fftfreq(5, 0.1).numpy(), np.fft.fftfreq(5, 0.1), rtol=1e-6)
    np.testing.assert_allclose(cr.fft.rfftfreq(6).numpy(), np.fft.rfftfreq(6), rtol=1e-6)


@pytest.mark.parametrize("call,error,match", [
    (lambda: cr.fft.fft(cr.tensor(X), norm="bogus"), ValueError, r"fft\.fft: invalid norm"),
    (lambda: cr.fft.fft(cr.tensor(X), axis=2), ValueError, r"fft\.fft: axis 2 is out of bounds"),
    (lambda: cr.fft.fft(cr.tensor(X), n=0), ValueError, r"fft\.fft: invalid number of data points"),
    (lambda: cr.fft.fft(cr.tensor(X), n=1.5), TypeError, r"fft\.fft: n must be an int"),
    (lambda: cr.fft.rfft(cr.tensor(Z)), TypeError, r"fft\.rfft: expected a real tensor"),
    (lambda: cr.fft.fftn(cr.tensor(X), s=(2, 3, 4), axes=(0, 1)), ValueError, r"fft\.fftn: s and axes"),
    (lambda: cr.fft.fft2(cr.tensor(X), axes=(0, 0)), ValueError, r"fft\.fft2: repeated axes"),
    (lambda: cr.fft.fft(cr.tensor(X), out=np.empty((3, 8), complex)), TypeError, r"fft\.fft: out="),
])
def test_errors_name_the_function(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_numpy_raises_for_the_same_inputs():
    # (the cases above are errors in NumPy too)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f in (lambda: np.fft.fft(X, norm="bogus"), lambda: np.fft.fft(X, n=0), lambda: np.fft.fft(X, axis=2)):
            with pytest.raises((ValueError, IndexError)):
                f()


def test_empty_inputs_as_numpy():
    with pytest.raises(ValueError, match=r"fft\.fft: invalid number of data points \(0\)"):
        cr.fft.fft(cr.zeros(0))
    with pytest.raises(ValueError, match=r"fft\.irfft: invalid number of data points \(0\)"):
        cr.fft.irfft(cr.zeros(1, dtype=cr.complex64))
    assert cr.fft.fft(cr.zeros((0, 3)), axis=1).shape == np.fft.fft(np.zeros((0, 3)), axis=1).shape
