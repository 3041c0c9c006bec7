"""cr.explain: staged code that, executed, reproduces the engine's gradients."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.dispatch import PRIMITIVES


def run_staged(code: str) -> dict:
    namespace: dict = {}
    exec(compile(code, "<explain>", "exec"), namespace)  # noqa: S102 (running the staged code is the check)
    return namespace


def check_reproduces(out, leaves: dict, gradient=None, rtol=1e-5):
    """Explain ``out``, run backward, and compare every d<leaf> of the code with ``leaf.grad``."""
    code = cr.explain(out, gradient=gradient, names={**leaves, "out": out})
    out.backward(gradient)
    namespace = run_staged(code)
    for name, leaf in leaves.items():
        if leaf.grad is None:  # not used by the graph: the code must not invent a gradient
            assert "d" + name not in namespace, code
            continue
        staged = np.asarray(namespace["d" + name])
        assert staged.shape == leaf.grad.shape, (name, code)
        np.testing.assert_allclose(staged, leaf.grad.numpy(), rtol=rtol, atol=1e-6, err_msg=code)
    return code


def leaf(data, dtype=cr.float64):
    return cr.tensor(data, dtype=dtype, requires_grad=True)


def test_staged_example_matches_backward():
    x = cr.tensor(3.0, requires_grad=True)
    y = cr.tensor(-4.0, requires_grad=True)
    sigy = cr.sigmoid(y)
    num = x + sigy
    sigx = cr.sigmoid(x)
    xpy = x + y
    xpy_sq = xpy ** 2
    den = sigx + xpy_sq
    invden = 1.0 / den
    f = num * invden
    code = cr.explain(f)  # names come from these local variables
    f.backward()
    namespace = run_staged(code)
    assert "num = x + sigy" in code
    assert "f = num * invden" in code
    assert "dx += " in code and "dy += " in code  # x and y fan out
    assert "F." not in code  # every operation here has a NumPy one-liner
    assert abs(namespace["f"] - f.item()) < 1e-6
    np.testing.assert_allclose(namespace["dx"], x.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(namespace["dy"], y.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose([x.grad.item(), y.grad.item()], [2.0595697, 1.5922328], rtol=1e-6)


def test_fan_out_with_python_constant():
    a = cr.tensor(2.0, requires_grad=True)
    b = cr.tensor(1.0, requires_grad=True)
    e = (a + b) * (b + 1)
    code = cr.explain(e)
    e.backward()
    namespace = run_staged(code)
    assert "b + 1" in code  # the constant, recovered although `add` saves nothing
    assert "db = np.zeros_like(b)" in code and code.count("db += ") == 2
    assert namespace["da"] == a.grad.item() == 2.0
    assert namespace["db"] == b.grad.item() == 5.0


def test_matrix_with_broadcasting():
    cr.manual_seed(0)
    W = cr.randn(3, 4, requires_grad=True)
    X = cr.randn(4, 5)
    b = cr.randn(3, 1, requires_grad=True)
    c = cr.randn(5, requires_grad=True)
    h = cr.tanh(W @ X + b) * c
    loss = (h ** 2).mean()
    code = check_reproduces(loss, {"W": W, "X": X, "b": b, "c": c})
    assert "np.sum(" in code and "keepdims=True" in code  # b's and c's gradients summed to their shapes


def test_vector_output_needs_a_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    with pytest.raises(RuntimeError, match="gradient"):
        cr.explain(y)
    check_reproduces(y, {"x": x}, gradient=np.array([1.0, 0.1, 0.01]))


GRAPHS = {
    "dot": lambda x, w: 2 * cr.dot(x, x) + cr.dot(x, w),
    "reductions": lambda x, w: x.sum() * w.mean() + (x * w).prod() + x.norm() + cr.amax(x * 0 + w),
    "with zero in prod": lambda x, w: (x * cr.tensor([1.0, 0.0, 1.0], dtype=cr.float64)).prod() + w.sum(),
    "cumulative": lambda x, w: (cr.cumsum(x, 0) * cr.cumprod(w, 0)).sum(),
    "shape ops": lambda x, w: (cr.stack([x, w]).T.reshape(6)[1:5] * cr.flip(cr.cat([x, w]), 0)[:4]).sum(),
    "where and clamp": lambda x, w: cr.where(x > 1.5, x * w, w ** 3).sum() + x.clamp(1.2, 2.5).sum(),
    "softmax family": lambda x, w: (cr.softmax(x * w, dim=0) * cr.log_softmax(w, dim=0)).sum()
    + cr.logsumexp(x, 0),
    "pow with tensor exponent": lambda x, w: (x ** w).sum() + (2.0 ** x).sum(),
    "activations": lambda x, w: (cr.relu(x - 2) + cr.leaky_relu(w - 2) + cr.elu(x - 2) + cr.softplus(w)
                                 + cr.erf(x) + cr.abs(w - 2)).sum(),
    "einsum and linalg": lambda x, w: cr.einsum("i,j->ij", x, w).sum() + cr.linalg.det(cr.outer(x, w) + cr.eye(3, dtype=cr.float64)),
    "constant tensor and detach": lambda x, w: (x * (x * w).detach() + cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64)).sum(),
    "indexing": lambda x, w: (x[cr.tensor([0, 2, 2])] * w[1]).sum() + cr.gather(x, 0, cr.tensor([1, 1])).sum(),
    "constants the graph did not keep": lambda x, w: ((1 - x) * (w - 2.5) + x - 0.1).sum()
    + (cr.cat([x, cr.zeros(2, dtype=cr.float64)]) * cr.cat([w, w[:2]])).sum()
    + (x + cr.tensor([0.1, 0.2, 0.3], dtype=cr.float64) * w).prod(),
    "in-place write": lambda x, w: _written(x * w),
    "matrix ops": lambda x, w: (cr.linalg.inv(cr.outer(x, x) + 3 * cr.eye(3, dtype=cr.float64)) @ w).sum()
    + cr.trace(cr.outer(w, x)),
}


def _written(t):
    t[1] = 7.5
    return (t * t).sum()


@pytest.mark.parametrize("name", list(GRAPHS))
def test_staged_code_reproduces_gradients(name):
    x = leaf([1.0, 2.0, 3.0])
    w = leaf([0.5, -1.0, 2.0])
    out = GRAPHS[name](x, w)
    check_reproduces(out, {"x": x, "w": w}, rtol=1e-9)


def test_float32_inputs_reproduce_bit_for_bit_without_sigmoid():
    x = cr.tensor([0.3, -1.7, 2.2], requires_grad=True)
    y = (cr.sin(x) * cr.exp(x) / (x * x + 1)).sum()
    code = cr.explain(y)
    y.backward()
    namespace = run_staged(code)
    assert namespace["dx"].dtype == np.float32
    np.testing.assert_array_equal(namespace["dx"], x.grad.numpy())


def test_operations_without_numpy_one_liner_use_raw_namespace():
    x = leaf([1.0, 2.0, 3.0])
    code = check_reproduces(cr.logsumexp(x * 2, 0), {"x": x})
    assert "from chainrule.core.dispatch import raw as F" in code
    assert "F.logsumexp(" in code


def test_default_names_for_unnamed_values():
    x = leaf([1.0, 2.0])
    code = cr.explain(cr.sin(x).sum(), names={"x": x})
    assert "v1 = np.sin(x)" in code
    assert "out = np.sum(v1)" in code
    assert "dv1 = np.broadcast_to(" in code
    assert "dx = dv1 * np.cos(x)" in code


def test_backward_lines_come_from_the_operation_table(monkeypatch):
    """explain runs the table's rule: change the rule and the staged code follows."""
    sin = PRIMITIVES["sin"]
    monkeypatch.setattr(sin, "vjp", (lambda m, g, ans, x: g * m.cos(x) * 1.5,))
    x = leaf(0.5)
    code = cr.explain(cr.sin(x), names={"x": x})
    assert "dx = dout * np.cos(x) * 1.5" in code


def test_freed_graph_is_reported():
    x = leaf(2.0)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        cr.explain(y)


def test_retained_graph_can_be_explained_after_backward():
    x = leaf(2.0)
    y = cr.exp(x) * x
    y.backward(retain_graph=True)
    namespace = run_staged(cr.explain(y))
    assert namespace["dx"] == pytest.approx(x.grad.item())


def test_leaf_and_non_tensor_are_refused():
    with pytest.raises(ValueError, match="no recorded operations"):
        cr.explain(leaf(1.0))
    with pytest.raises(TypeError, match="Tensor"):
        cr.explain(np.ones(3))


def test_custom_function_is_refused():
    class Square(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = leaf(3.0)
    with pytest.raises(TypeError, match="custom autograd.Function"):
        cr.explain(Square.apply(x) + 1)


def test_unrecoverable_constant_is_reported():
    x = cr.ones(5, 5, dtype=cr.float64, requires_grad=True)
    y = (x + 1.0).sum()  # 25 elements: the add node keeps no value to recover 1.0 from
    with pytest.raises(RuntimeError, match="constant input 1 of 'add'"):
        cr.explain(y)


def test_staged_code_prints_as_code():
    x = leaf(1.0)
    code = cr.explain(x * 3, names={"x": x})
    assert isinstance(code, str)
    assert repr(code) == str(code)
    assert code._repr_markdown_().startswith("```python")


def test_tensors_carry_their_own_names_into_staged_code_and_pictures():
    """``cr.tensor(..., name=...)`` (issue 15): the name labels the input in ``cr.explain`` and
    ``cr.viz`` where no variable holds the tensor (a function's locals, Jupyter); names given
    with ``names=`` win; a name must be an identifier."""
    def build():
        a = cr.tensor(2.0, requires_grad=True, name="weight")
        b = cr.tensor(3.0, requires_grad=True, name="bias")
        return (a * 4.0 + b).tanh(), a

    y, a = build()
    code = str(cr.explain(y))
    assert "weight = np.float32(2.0)" in code and "bias = np.float32(3.0)" in code and "dweight" in code
    assert "<b>weight</b>" in cr.viz.to_dot(y) and "<b>bias</b>" in cr.viz.to_dot(y)
    assert "w = np.float32(2.0)" in str(cr.explain(y, names={"w": a, "y": y}))  # explicit names win
    assert a.name == "weight" and (a * 2).name is None
    a.name = None
    assert a.name is None and "weight" not in str(cr.explain(y, names={"y": y}))
    with pytest.raises(ValueError, match="identifier"):
        cr.tensor(1.0, name="not a name")
