"""Function transforms: batched Jacobians, mode choice, errors, checkpoint."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import dispatch as P
from chainrule.core import engine
from chainrule.ops import _define
from chainrule.transforms import batching as _batching
from chainrule.transforms import jacobians as CFN

RNG = np.random.default_rng(7)
A = RNG.standard_normal((5, 3))


def f_tanh(x):
    return cr.tanh(cr.tensor(A) @ x)


def expected_tanh_jacobian(x):
    return (1 - np.tanh(A @ x) ** 2)[:, None] * A


def test_jacrev_is_one_backward_pass(monkeypatch):
    calls = []
    original = engine.compute_gradients

    def counting(*args, **kwargs):
        batch = kwargs.get("batch")  # makes the batched rule namespace
        calls.append(None if batch is None else batch(P.raw).size)
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "compute_gradients", counting)
    x = RNG.standard_normal(3)
    jac = cr.jacrev(f_tanh)(x)
    np.testing.assert_allclose(jac.numpy(), expected_tanh_jacobian(x), rtol=1e-12)
    assert calls == [5]


def test_jacfwd_is_one_forward_pass():
    evaluations = []

    def f(x):
        evaluations.append(1)
        return f_tanh(x)

    x = RNG.standard_normal(3)
    jac = cr.jacfwd(f)(x)
    np.testing.assert_allclose(jac.numpy(), expected_tanh_jacobian(x), rtol=1e-12)
    assert len(evaluations) == 1


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_of_matrix_input_and_output(mode):
    w = RNG.standard_normal((2, 3))
    jac = cr.jacobian(lambda m: m.T @ m, mode=mode)(w)
    numeric = cr.numerical.gradient(lambda m: m.T @ m, w)
    assert jac.shape == (3, 3, 2, 3)
    np.testing.assert_allclose(jac.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_jacobian_auto_picks_forward_for_few_inputs(monkeypatch):
    chosen = []
    for name in ("jacfwd", "jacrev"):
        original = getattr(CFN, "_" + name)

        def spy(f, argnums, op, holomorphic=False, _name=name, _original=original):
            chosen.append(_name)
            return _original(f, argnums, op, holomorphic)

        monkeypatch.setattr(CFN, "_" + name, spy)
    x_small = RNG.standard_normal(2)
    cr.jacobian(lambda x: cr.tile(x, 10))(x_small)  # 2 -> 20: forward
    x_big = RNG.standard_normal(20)
    cr.jacobian(lambda x: x.sum(0, keepdim=True))(x_big)  # 20 -> 1: reverse
    assert chosen == ["jacfwd", "jacrev"]


def test_argnums_tuple_gives_tuple_of_jacobians():
    x, y = RNG.standard_normal(3), RNG.standard_normal(3)
    jx, jy = cr.jacrev(lambda a, b: a * b, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(jx.numpy(), np.diag(y))
    np.testing.assert_allclose(jy.numpy(), np.diag(x))
    fx, fy = cr.jacfwd(lambda a, b: a * b, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(fx.numpy(), np.diag(y))
    np.testing.assert_allclose(fy.numpy(), np.diag(x))


@pytest.mark.parametrize("name", _batching.FALLBACK)
def test_operations_without_a_batching_rule_still_give_exact_jacobians(name):
    """The primitives listed in FALLBACK loop over the batch; their Jacobians are still exact."""
    base = RNG.standard_normal((3, 3)) + 4 * np.eye(3)
    functions = {
        "det": lambda m: cr.linalg.det(m).reshape(1),
        "inv": lambda m: cr.linalg.inv(m),
        "logabsdet": lambda m: cr.linalg.slogdet(m)[1].reshape(1),
        "solve": lambda m: cr.linalg.solve(m, cr.tensor(np.arange(3.0))),
        "softmax_cross_entropy": lambda m: cr.nn.functional.cross_entropy(m, cr.tensor([0, 2, 1]), reduction="none"),
        "index_put": lambda m: _put(m),
        "copy_slices": lambda m: _put_through_view(m),
        "overwrite": lambda m: _copy_into(m),
        "copy_parts": lambda m: _write_into_pairs(m),
    }
    f = functions[name]
    numeric = cr.numerical.gradient(f, base)
    np.testing.assert_allclose(cr.jacrev(f)(base).numpy(), numeric, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(cr.jacfwd(f)(base).numpy(), numeric, rtol=1e-5, atol=1e-7)


def test_batching_kind_comes_from_the_operation_table():
    """Primitives made by the table's elementwise/binary helpers batch elementwise without being
    listed anywhere else; only the documented few fall back to a loop."""
    probe = _define.elementwise("_probe_cube", lambda x: x ** 3, lambda m, ans, x: 3.0 * x * x)
    try:
        assert probe.batching == "elementwise"
        x = cr.tensor(RNG.standard_normal(4))
        np.testing.assert_allclose(cr.jacrev(probe)(x).numpy(), np.diag(3 * x.numpy() ** 2), rtol=1e-12)
        np.testing.assert_allclose(cr.jacfwd(probe)(x).numpy(), np.diag(3 * x.numpy() ** 2), rtol=1e-12)
    finally:
        del P.PRIMITIVES["_probe_cube"]
        delattr(P.raw, "_probe_cube")
        delattr(P.traced, "_probe_cube")
    assert {P.PRIMITIVES[n].batching for n in ("sum", "amax", "logsumexp")} == {"reduce"}
    assert {P.PRIMITIVES[n].batching for n in ("cumsum", "softmax")} == {"shift_dim"}
    assert _batching.FALLBACK == ["copy_parts", "copy_slices", "overwrite"]


def _write_into_pairs(m):
    out = m[:, :2] * 1.0
    cr.view_as_complex(out).mul_(cr.tensor(np.array([1 + 2j, 0.5j, -1.0])))
    return out * m[:, 1:]


def _copy_into(m):
    out = m * m
    out[0].copy_(m[1] * 3.0)
    return out


def _put_through_view(m):
    out = m * 1.0
    out[1][:2] = m[0, 1:] * 2.0  # a write through a view: CopySlices on ``out``
    return out


def _put(m):
    out = m * 1.0
    out[1] = m[0] * 2.0
    return out


def test_hessian_of_matrix_function():
    w = RNG.standard_normal((2, 2))
    h = cr.hessian(lambda m: (m ** 3).sum())(w)
    assert h.shape == (2, 2, 2, 2)
    np.testing.assert_allclose(h.numpy().reshape(4, 4), np.diag(6 * w.ravel()), atol=1e-12)


def test_grad_needs_scalar_output():
    with pytest.raises(TypeError, match=r"grad: the function must return a single one-element tensor.*jacrev"):
        cr.grad(lambda x: x * 2)(np.ones(3))


def test_grad_rejects_integer_input():
    with pytest.raises(TypeError, match="floating-point"):
        cr.grad(lambda x: (x * 2).sum())(np.arange(3))


def test_jvp_tangent_shape_mismatch():
    with pytest.raises(ValueError, match=r"tangent shape \(2,\) does not match primal shape \(3,\)"):
        cr.jvp(cr.sin, (np.ones(3),), (np.ones(2),))


def test_jvp_needs_tuples():
    with pytest.raises(TypeError, match="primals must be a tuple"):
        cr.jvp(cr.sin, np.ones(3), np.ones(3))


def test_results_of_top_level_transforms_hold_no_graph():
    x = RNG.standard_normal(3)
    assert not cr.grad(lambda t: (t ** 3).sum())(x).requires_grad
    assert not cr.hessian(lambda t: (t ** 3).sum())(x).requires_grad
    value, tangent = cr.jvp(lambda t: t ** 3, (x,), (np.ones(3),))
    assert not value.requires_grad and not tangent.requires_grad


def test_transform_results_stay_differentiable_for_inputs_that_require_grad():
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    g = cr.grad(lambda t: (t ** 3).sum())(x)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.detach().numpy())


def test_closure_over_tensor_that_requires_grad():
    w = cr.tensor(np.array([2.0, 3.0]), requires_grad=True)
    g = cr.grad(lambda x: (w * x * x).sum())(np.array([1.0, 1.0]))
    g.sum().backward()  # d/dw sum(2 w x) = 2 x
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 2.0])


def test_checkpoint_keeps_only_its_inputs():
    x = cr.tensor(RNG.standard_normal((64, 64)), requires_grad=True)

    def block(t):
        for _ in range(5):
            t = cr.tanh(t @ t.T * 0.01)
        return t

    def saved_bytes(y):
        total, seen, stack = 0, set(), [y.grad_fn]
        while stack:
            node = stack.pop()
            if node is None or id(node) in seen or node._leaf:
                continue
            seen.add(id(node))
            for value in (node.saved_data or []):
                total += getattr(value, "nbytes", 0)
            total += getattr(node.ans, "nbytes", 0)
            stack.extend(e for e in node.edges if e is not None)
        return total

    plain = block(x).sum()
    checkpointed = cr.checkpoint(block, x).sum()
    assert saved_bytes(checkpointed) < saved_bytes(plain) / 4
    plain.backward()
    expected = x.grad.numpy().copy()
    x.grad = None
    checkpointed.backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)
