"""PyTorch as an optional oracle: a handful of workflows compared number by number.

Skipped as a whole when torch is not importable; the core suite never needs it.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import chainrule as cr  # noqa: E402
import chainrule.nn.functional as F  # noqa: E402

TF = torch.nn.functional


def both(array, requires_grad=True):
    """The same float64 values as a chainrule tensor and a torch tensor."""
    array = np.asarray(array, dtype=np.float64)
    return (cr.tensor(array.copy(), requires_grad=requires_grad),
            torch.tensor(array.copy(), requires_grad=requires_grad))


def same(ours, theirs, rtol=1e-10, atol=1e-12):
    ours = ours.detach().numpy() if isinstance(ours, cr.Tensor) else np.asarray(ours)
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


@pytest.fixture
def rng():
    return np.random.default_rng(123)


def test_mlp_with_cross_entropy(rng):
    x = rng.standard_normal((5, 4))
    w1, b1 = rng.standard_normal((6, 4)), rng.standard_normal(6)
    w2, b2 = rng.standard_normal((3, 6)), rng.standard_normal(3)
    target = np.array([0, 2, 1, 1, 2])
    params = [both(p) for p in (w1, b1, w2, b2)]
    (cw1, tw1), (cb1, tb1), (cw2, tb2_w), (cb2, tb2) = params

    ours = F.cross_entropy(F.linear(cr.tanh(F.linear(cr.tensor(x), cw1, cb1)), cw2, cb2), cr.tensor(target))
    theirs = TF.cross_entropy(TF.linear(torch.tanh(TF.linear(torch.tensor(x), tw1, tb1)), tb2_w, tb2),
                              torch.tensor(target))
    ours.backward()
    theirs.backward()
    same(ours, theirs)
    for c, t in params:
        same(c.grad, t.grad)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses(rng, reduction):
    logits, target = rng.standard_normal((4, 3, 2)), rng.integers(0, 3, size=(4, 2))
    c, t = both(logits)
    ours = F.cross_entropy(c, cr.tensor(target), reduction=reduction)
    theirs = TF.cross_entropy(t, torch.tensor(target), reduction=reduction)
    same(ours, theirs)
    ours.sum().backward()
    theirs.sum().backward()
    same(c.grad, t.grad)

    x, y = rng.standard_normal(5) * 30, rng.uniform(0, 1, 5)
    pos_weight = rng.uniform(0.5, 2.0, 5)
    c, t = both(x)
    ours = F.binary_cross_entropy_with_logits(c, cr.tensor(y), reduction=reduction, pos_weight=cr.tensor(pos_weight))
    theirs = TF.binary_cross_entropy_with_logits(t, torch.tensor(y), reduction=reduction,
                                                 pos_weight=torch.tensor(pos_weight))
    same(ours, theirs)
    ours.sum().backward()
    theirs.sum().backward()
    same(c.grad, t.grad)

    c, t = both(rng.standard_normal((2, 3)))
    target = rng.standard_normal((2, 3))
    ours, theirs = F.mse_loss(c, cr.tensor(target), reduction=reduction), TF.mse_loss(t, torch.tensor(target), reduction=reduction)
    same(ours, theirs)


def test_elementwise_composite(rng):
    data = rng.uniform(0.2, 2.0, (3, 4)) * rng.choice([-1.0, 1.0], (3, 4))
    c, t = both(data)

    def ours_fn(x):
        return (cr.sin(x) * cr.exp(-x) + cr.log(x.abs()) + cr.sqrt(x * x + 1) + cr.sigmoid(x) * cr.tanh(x)
                + cr.nn.functional.softplus(x, beta=2.0) + cr.nn.functional.gelu(x)
                + cr.nn.functional.gelu(x, approximate="tanh") + cr.elu(x, 1.5) + cr.leaky_relu(x, 0.2)
                + cr.erf(x) + cr.arctan(x) + x ** 3 + 2.0 ** x + cr.expm1(x) / (1 + cr.square(x))
                + cr.clamp(x, -1.0, 1.0) + cr.rsqrt(x.abs()) + cr.log1p(x.abs()) + cr.cosh(x) - cr.sinh(x))

    def theirs_fn(x):
        return (torch.sin(x) * torch.exp(-x) + torch.log(x.abs()) + torch.sqrt(x * x + 1)
                + torch.sigmoid(x) * torch.tanh(x) + TF.softplus(x, beta=2.0) + TF.gelu(x)
                + TF.gelu(x, approximate="tanh") + TF.elu(x, 1.5) + TF.leaky_relu(x, 0.2) + torch.erf(x)
                + torch.arctan(x) + x ** 3 + 2.0 ** x + torch.expm1(x) / (1 + torch.square(x))
                + torch.clamp(x, -1.0, 1.0) + torch.rsqrt(x.abs()) + torch.log1p(x.abs()) + torch.cosh(x)
                - torch.sinh(x))

    ours, theirs = ours_fn(c), theirs_fn(t)
    same(ours, theirs, rtol=1e-9)
    v = rng.standard_normal((3, 4))
    ours.backward(cr.tensor(v))
    theirs.backward(torch.tensor(v))
    same(c.grad, t.grad, rtol=1e-9)


def test_reductions_and_ties():
    data = np.array([[1.0, 3.0, 3.0, -2.0], [0.0, 0.0, 5.0, 5.0], [2.0, 0.0, 1.0, 4.0]])
    cases = [
        (lambda x: x.max(), lambda x: x.max()),
        (lambda x: x.min(), lambda x: x.min()),
        (lambda x: cr.amax(x, dim=1), lambda x: torch.amax(x, dim=1)),
        (lambda x: cr.amin(x, dim=0), lambda x: torch.amin(x, dim=0)),
        (lambda x: x.prod(dim=1), lambda x: x.prod(dim=1)),
        (lambda x: x.prod(), lambda x: x.prod()),
        (lambda x: x.cumprod(1), lambda x: x.cumprod(1)),
        (lambda x: x.var(dim=1), lambda x: x.var(dim=1)),
        (lambda x: x.std(correction=0), lambda x: x.std(correction=0)),
        (lambda x: x.norm(dim=0), lambda x: x.norm(dim=0)),
        (lambda x: x.logsumexp(dim=1), lambda x: x.logsumexp(dim=1)),
        (lambda x: cr.relu(x - 1.0), lambda x: torch.relu(x - 1.0)),
        (lambda x: cr.abs(x - 3.0), lambda x: torch.abs(x - 3.0)),
        (lambda x: cr.clamp(x, 0.0, 3.0), lambda x: torch.clamp(x, 0.0, 3.0)),
        (lambda x: cr.maximum(x, x.flip(1)), lambda x: torch.maximum(x, x.flip(1))),
        (lambda x: cr.minimum(x, x[:, :1]), lambda x: torch.minimum(x, x[:, :1])),
        (lambda x: x.softmax(0), lambda x: x.softmax(0)),
        (lambda x: x.log_softmax(1), lambda x: x.log_softmax(1)),
        (lambda x: x.mean(dim=(0, 1), keepdim=True), lambda x: x.mean(dim=(0, 1), keepdim=True)),
    ]
    rng = np.random.default_rng(7)
    for ours_fn, theirs_fn in cases:
        c, t = both(data)
        ours, theirs = ours_fn(c), theirs_fn(t)
        same(ours, theirs)
        v = rng.standard_normal(tuple(theirs.shape))
        ours.backward(cr.tensor(v))
        theirs.backward(torch.tensor(v))
        same(c.grad, t.grad)


def test_linear_algebra(rng):
    a = 3 * np.eye(3) + rng.uniform(-0.5, 0.5, (2, 3, 3))
    b = rng.standard_normal((2, 3, 2))
    (ca, ta), (cb, tb) = both(a), both(b)
    ours = (cr.linalg.solve(ca, cb).sum() + cr.linalg.inv(ca).sum() + cr.linalg.det(ca).sum()
            + cr.linalg.slogdet(ca).logabsdet.sum() + cr.einsum("bij,bjk->bk", ca, cb).sum()
            + cr.trace(ca[0] @ ca[1]) + (ca @ cb).pow(2).sum())
    theirs = (torch.linalg.solve(ta, tb).sum() + torch.linalg.inv(ta).sum() + torch.linalg.det(ta).sum()
              + torch.linalg.slogdet(ta).logabsdet.sum() + torch.einsum("bij,bjk->bk", ta, tb).sum()
              + torch.trace(ta[0] @ ta[1]) + (ta @ tb).pow(2).sum())
    same(ours, theirs)
    ours.backward()
    theirs.backward()
    same(ca.grad, ta.grad, rtol=1e-9)
    same(cb.grad, tb.grad, rtol=1e-9)


def test_indexing_and_shapes(rng):
    c, t = both(rng.standard_normal((3, 4)))
    idx = np.array([2, 0, 2])
    mask = np.array([True, False, True, True])
    ours = (c[idx].sum() * 2 + c[:, mask].pow(2).sum() + c[1:, ::2].exp().sum() + c.T.reshape(-1)[3:].sum()
            + cr.cat([c, c[:1]], 0).prod() + cr.stack([c, c], 2).flip(0)[0].sum()
            + cr.gather(c, 1, cr.tensor([[0, 0], [3, 1], [2, 2]])).sum() * 3
            + cr.pad(c, (1, 1)).sum() + c.repeat(2, 1).cumsum(0).sum() + c.diagonal(1).sum())
    theirs = (t[torch.tensor(idx)].sum() * 2 + t[:, torch.tensor(mask)].pow(2).sum()
              + t[1:, ::2].exp().sum() + t.T.reshape(-1)[3:].sum() + torch.cat([t, t[:1]], 0).prod()
              + torch.stack([t, t], 2).flip(0)[0].sum()
              + torch.gather(t, 1, torch.tensor([[0, 0], [3, 1], [2, 2]])).sum() * 3
              + TF.pad(t, (1, 1)).sum() + t.repeat(2, 1).cumsum(0).sum() + t.diagonal(1).sum())
    same(ours, theirs)
    ours.backward()
    theirs.backward()
    same(c.grad, t.grad)


def test_hessian_hvp_and_jacobian(rng):
    x = rng.standard_normal(4)
    v = rng.standard_normal(4)

    def ours_f(z):
        return (cr.sin(z) * z.flip(0)).sum() + (z ** 4).sum()

    def theirs_f(z):
        return (torch.sin(z) * z.flip(0)).sum() + (z ** 4).sum()

    same(cr.hessian(ours_f)(cr.tensor(x)), torch.autograd.functional.hessian(theirs_f, torch.tensor(x)))
    value, product = cr.hvp(ours_f, (cr.tensor(x),), (cr.tensor(v),))
    t_value, t_product = torch.autograd.functional.hvp(theirs_f, torch.tensor(x), torch.tensor(v))
    same(value, t_value)
    same(product, t_product)
    a = rng.standard_normal((3, 4))
    same(cr.jacobian(lambda z: cr.tanh(cr.tensor(a) @ z))(cr.tensor(x)),
         torch.autograd.functional.jacobian(lambda z: torch.tanh(torch.tensor(a) @ z), torch.tensor(x)))


def test_create_graph_double_backward(rng):
    c, t = both(rng.standard_normal(3))
    (gc,) = cr.autograd.grad((c ** 3 * cr.sin(c)).sum(), c, create_graph=True)
    (gt,) = torch.autograd.grad((t ** 3 * torch.sin(t)).sum(), t, create_graph=True)
    same(gc, gt)
    (gc * gc).sum().backward()
    (gt * gt).sum().backward()
    same(c.grad, t.grad)


def test_hooks_and_retain_grad():
    c, t = both([1.0, 2.0, 3.0])
    results = []
    for x, _lib in ((c, cr), (t, torch)):
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 10)
        x.register_hook(lambda g: g + 1)
        (y * y).sum().backward()
        results.append((y.grad, x.grad))
    same(results[0][0], results[1][0])
    same(results[0][1], results[1][1])


REPR_CASES = [
    [0.0, 4.0, 8.0, 12.0], [1.5, 2.25], 6.0, [1e-5, 1.0], [1e9, 1.0], [[1, 2], [3, 4]], [True, False],
    [-1.5, 0.0], [float("nan"), float("inf"), 1.5], [[0.1234567, 100.0], [-3.0, 2.5]], 3, [],
    [0.001, 0.5], list(range(12)),
]


@pytest.mark.parametrize("data", REPR_CASES, ids=[str(i) for i in range(len(REPR_CASES))])
def test_repr_matches_pytorch(data):
    assert repr(cr.tensor(data)) == repr(torch.tensor(data))


def test_repr_matches_pytorch_dtype_and_grad():
    assert repr(cr.tensor([1.0, 2.0], dtype=cr.float64)) == repr(
        torch.tensor([1.0, 2.0], dtype=torch.float64)).replace("torch.", "chainrule.")
    assert repr(cr.tensor([1.0, 2.0], requires_grad=True)) == repr(torch.tensor([1.0, 2.0], requires_grad=True))
    assert repr(cr.arange(12.0).reshape(3, 4)) == repr(torch.arange(12.0).reshape(3, 4))
    assert repr(cr.zeros(2, 0)) == repr(torch.zeros(2, 0))
    assert repr(cr.tensor([1, 2], dtype=cr.int32)) == repr(torch.tensor([1, 2], dtype=torch.int32)).replace(
        "torch.", "chainrule.")
