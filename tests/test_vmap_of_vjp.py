"""``vmap`` of a ``vjp_fn`` made outside the vmap (the Jacobian-by-vmap idiom of JAX and
torch.func: ``vmap(vjp_fn)(basis)``): the backward pass runs once over the whole batch of
cotangents, through the vmap's batching rules, for every op_db sample."""

from __future__ import annotations

import numpy as np
import pytest
from op_db import ENTRIES

import chainrule as cr

RNG = np.random.default_rng(7)
IN_PLACE = {"setitem", "setitem_through_views", "setitem_into_constant", "inplace_through_view", "fill_",
            "copy_", "np.put_along_axis", "dropout_train"}


def _outputs(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


CASES = [pytest.param(e, s, id=f"{e.name}-{s.label}") for e in ENTRIES for s in e.samples
         if s.differentiable and e.name not in IN_PLACE and not e.name.endswith("_") and "inplace" not in e.name]


def _random_like(t, size):
    shape = (size,) + tuple(t.shape)
    data = RNG.standard_normal(shape)
    if t.dtype.kind == "c":
        data = data + 1j * RNG.standard_normal(shape)
    return cr.tensor(data.astype(t.numpy().dtype))


@pytest.mark.parametrize("entry, sample", CASES)
def test_vmap_of_vjp_fn_matches_a_loop(entry, sample):
    nums = sample.differentiable
    values = [t.detach() if isinstance(t, cr.Tensor) else t for t in sample.tensors()]

    def f(*xs):
        call = list(values)
        for i, x in zip(nums, xs):
            call[i] = x
        out = entry.op(*call, **sample.kwargs)
        return tuple(out) if isinstance(out, (tuple, list)) else out

    out, vjp_fn = cr.vjp(f, *[values[i] for i in nums])
    outs = _outputs(out)
    if not all(o.dtype.kind in "fc" for o in outs):
        pytest.skip("an integer output has no cotangent")
    cots = [_random_like(o, 3) for o in outs]
    single = not isinstance(out, tuple)
    got = cr.vmap(vjp_fn)(cots[0] if single else tuple(cots))
    for k in range(3):
        want = vjp_fn(cots[0][k] if single else tuple(c[k] for c in cots))
        for position, g, w in zip(nums, got, want):
            np.testing.assert_allclose(g.numpy()[k], w.numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"vmap(vjp_fn), cotangent {k}, argument {position}")


def _f(x, a):
    return (x @ a).tanh() * x.sum()


X = np.array([0.3, -1.2, 2.0])
A = RNG.standard_normal((3, 4))


def test_vmap_of_vjp_fn_over_the_basis_is_the_jacobian():
    x = cr.tensor(X)
    out, vjp_fn = cr.vjp(lambda x: _f(x, cr.tensor(A)), x)
    (jac,) = cr.vmap(vjp_fn)(cr.eye(4, dtype=cr.float64))
    np.testing.assert_allclose(jac.numpy(), cr.jacrev(lambda x: _f(x, cr.tensor(A)))(x).numpy(), rtol=1e-12)


def test_nested_vmap_of_vjp_fn_and_in_axes():
    x, a = cr.tensor(X), cr.tensor(A)
    out, vjp_fn = cr.vjp(_f, x, a)
    cots = cr.tensor(RNG.standard_normal((2, 5, 4)))
    gx, ga = cr.vmap(cr.vmap(vjp_fn))(cots)
    assert gx.shape == (2, 5, 3) and ga.shape == (2, 5, 3, 4)
    for i in range(2):
        for j in range(5):
            wx, wa = vjp_fn(cots[i, j])
            np.testing.assert_allclose(gx[i, j].numpy(), wx.numpy(), rtol=1e-12)
            np.testing.assert_allclose(ga[i, j].numpy(), wa.numpy(), rtol=1e-12)
    # the batch along axis 1 of the cotangents, gradients batched along their last axis
    gx, _ = cr.vmap(vjp_fn, in_axes=1, out_axes=-1)(cr.tensor(RNG.standard_normal((4, 6))))
    assert gx.shape == (3, 6)


def test_vmap_of_vjp_fn_is_differentiable_again():
    x = cr.tensor(X)
    a = cr.tensor(A)
    basis = cr.eye(4, dtype=cr.float64)

    def rows_sum(x):
        _, vjp_fn = cr.vjp(lambda x: _f(x, a), x)
        return cr.vmap(vjp_fn)(basis)[0].sum()

    def looped(x):
        _, vjp_fn = cr.vjp(lambda x: _f(x, a), x)
        return sum(vjp_fn(basis[k])[0].sum() for k in range(4))

    np.testing.assert_allclose(cr.grad(rows_sum)(x).numpy(), cr.grad(looped)(x).numpy(), rtol=1e-12)
    t = cr.tensor(X, requires_grad=True)  # and the .backward() way
    rows_sum(t).backward()
    np.testing.assert_allclose(t.grad.numpy(), cr.grad(looped)(x).numpy(), rtol=1e-12)
    np.testing.assert_allclose(cr.jacfwd(rows_sum)(x).numpy(), cr.grad(looped)(x).numpy(), rtol=1e-12)


def test_complex_cotangents_follow_pytorch():
    torch = pytest.importorskip("torch")
    z = np.array([1 + 2j, 0.5 - 1j])
    cots = RNG.standard_normal((3, 2)) + 1j * RNG.standard_normal((3, 2))
    _, vjp_fn = cr.vjp(lambda z: z.exp() * z.conj(), cr.tensor(z))
    (got,) = cr.vmap(vjp_fn)(cr.tensor(cots))
    _, theirs = torch.func.vjp(lambda z: z.exp() * z.conj(), torch.tensor(z))
    want = torch.func.vmap(theirs)(torch.tensor(cots))[0].numpy()
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


def test_a_vjp_fn_made_inside_one_vmap_and_called_inside_a_newer_one_is_refused():
    def inner(x):
        _, vjp_fn = cr.vjp(lambda x: x.sin(), x)
        return cr.vmap(vjp_fn)(cr.tensor(np.ones((2, 3))))[0]

    with pytest.raises(ValueError, match="vjp_fn was made inside one cr.vmap and is called inside another"):
        cr.vmap(inner)(cr.tensor(np.ones((4, 3))))
