"""Misuse (SPEC §3 and §9): each raises a standard exception whose message names the operation,
the shapes or dtypes involved, and what to do — never a bare NumPy error, never a wrong number."""

from __future__ import annotations

import os

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

THIS_FILE = os.path.basename(__file__)


def raises(kind, *fragments):
    """``pytest.raises(kind)`` that also checks every fragment appears in the message."""

    class _Check:
        def __enter__(self):
            self._ctx = pytest.raises(kind)
            self.info = self._ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            suppressed = self._ctx.__exit__(*exc)
            message = str(self.info.value)
            missing = [f for f in fragments if f not in message]
            assert not missing, f"message lacks {missing}: {message!r}"
            return suppressed

    return _Check()


# ---------------------------------------------------------------------------------------------
# §1 / §3: requires_grad, backward
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, dtype", [
    (lambda: cr.tensor([1, 2], requires_grad=True), "int64"),
    (lambda: cr.arange(4).requires_grad_(), "int64"),
    (lambda: cr.zeros(3, dtype=cr.int32, requires_grad=True), "int32"),
    (lambda: cr.tensor([True, False]).requires_grad_(True), "bool"),
], ids=["tensor-int", "arange-requires_grad_", "zeros-int32", "bool"])
def test_requires_grad_on_integer_tensor(make, dtype):
    with raises(RuntimeError, "requires_grad", dtype, "float") as info:
        make()
    assert isinstance(info.value, (RuntimeError, TypeError, ValueError))


def test_setting_requires_grad_attribute_on_integer_tensor():
    t = cr.arange(3)
    with raises(RuntimeError, "int64", "float"):
        t.requires_grad = True
    assert not t.requires_grad


def test_backward_on_non_scalar_without_gradient():
    x = cr.ones(2, 3, requires_grad=True)
    with raises(RuntimeError, "backward", "(2, 3)", "gradient"):
        (x * 2).backward()


def test_backward_with_gradient_of_wrong_shape():
    x = cr.ones(3, requires_grad=True)
    with raises(RuntimeError, "backward", "(4,)", "(3,)"):
        (x * 2).backward(cr.ones(4))
    with raises(RuntimeError, "(3, 1)", "(3,)"):
        (x * 2).backward(np.ones((3, 1)))


def test_autograd_grad_with_grad_outputs_of_wrong_shape():
    x = cr.ones(3, requires_grad=True)
    with raises(RuntimeError, "grad", "(2,)", "(3,)"):
        cr.autograd.grad(x * 2, x, grad_outputs=cr.ones(2))


def test_backward_on_tensor_without_history():
    with raises(RuntimeError, "backward", "requires_grad"):
        cr.ones(3).sum().backward()
    x = cr.ones(3, requires_grad=True)
    with cr.no_grad():
        y = (x * 2).sum()
    with raises(RuntimeError, "no_grad"):
        y.backward()


def test_backward_twice_without_retain_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with raises(RuntimeError, "second time", "retain_graph=True"):
        y.backward()


def test_backward_twice_with_retain_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (cr.sin(x) * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)
    with raises(RuntimeError, "retain_graph"):  # the second call did not retain the graph
        y.backward()


def test_autograd_grad_twice_without_retain_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    cr.autograd.grad(y, x)
    with raises(RuntimeError, "retain_graph"):
        cr.autograd.grad(y, x)


# ---------------------------------------------------------------------------------------------
# In-place changes
# ---------------------------------------------------------------------------------------------

def test_inplace_change_of_saved_output_names_the_operation():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # exp saves its output
    y.add_(1)
    with raises(RuntimeError, "exp", "in-place", "clone"):
        y.sum().backward()


def test_inplace_change_of_saved_input_names_the_operation():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = a * a  # mul saves both inputs
    a += 1
    with raises(RuntimeError, "mul", "in-place", "clone"):
        b.sum().backward()


def test_setitem_on_saved_input_names_the_operation():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * 1.0
    b = cr.sin(a)
    a[0] = 5.0
    with raises(RuntimeError, "sin", "in-place"):
        b.sum().backward()


def test_inplace_change_of_saved_input_names_shape_and_dtype():
    x = cr.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    a = x * 2
    b = a * a
    a.mul_(3)
    with raises(RuntimeError, "mul", "(1, 3)", "float32"):
        b.sum().backward()


def test_inplace_change_of_unsaved_value_is_fine():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = a + 1  # add saves nothing
    a.mul_(10)
    b.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


@pytest.mark.parametrize("update", [
    lambda x: x.add_(1), lambda x: x.sub_(1), lambda x: x.mul_(2), lambda x: x.div_(2),
    lambda x: x.zero_(), lambda x: x.fill_(3.0), lambda x: x.copy_(cr.ones(2)), lambda x: x.clamp_(0, 1),
    lambda x: x.__iadd__(1), lambda x: x.__imul__(2), lambda x: x.__setitem__(0, 7.0),
], ids=["add_", "sub_", "mul_", "div_", "zero_", "fill_", "copy_", "clamp_", "+=", "*=", "setitem"])
def test_inplace_on_leaf_requiring_grad_raises_at_once(update):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with raises(RuntimeError, "leaf", "(2,)", "no_grad"):
        update(x)
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0])  # unchanged


def test_inplace_on_leaf_allowed_under_no_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.no_grad():
        x.add_(1)
        x *= 2
        x[0] = 0.5
        x.clamp_(max=5.0)
    np.testing.assert_array_equal(x.detach().numpy(), [0.5, 5.0])
    assert x.requires_grad and x.is_leaf and x.grad_fn is None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 10.0])


def test_inplace_on_view_of_leaf_requiring_grad():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        x[0:2].add_(1)


def test_inplace_cannot_change_shape():
    a = cr.ones(3)
    with raises(RuntimeError, "add_", "(2, 3)", "(3,)"):
        a += cr.ones(2, 3)
    with raises(ValueError, "add", "(3,)", "(4,)"):
        a += cr.ones(4)


# ---------------------------------------------------------------------------------------------
# autograd.grad
# ---------------------------------------------------------------------------------------------

def test_autograd_grad_unused_input():
    x = cr.ones(3, requires_grad=True)
    unused = cr.ones(2, requires_grad=True)
    with raises(RuntimeError, "input 1", "(2,)", "allow_unused=True"):
        cr.autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = cr.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    np.testing.assert_array_equal(gx.numpy(), [2.0, 2.0, 2.0])
    assert gu is None


def test_autograd_grad_input_not_requiring_grad():
    x = cr.ones(3, requires_grad=True)
    with raises(RuntimeError, "(2,)", "requires_grad"):
        cr.autograd.grad((x * 2).sum(), [cr.ones(2)])


# ---------------------------------------------------------------------------------------------
# Shapes, indices, dtypes
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, kind, fragments", [
    (lambda: cr.ones(2, 3) @ cr.ones(2, 3), RuntimeError, ("matmul", "(2, 3)")),
    (lambda: cr.matmul(cr.ones(3), cr.ones(4, 2)), RuntimeError, ("matmul", "(3,)", "(4, 2)")),
    (lambda: cr.ones(2, 2, 3) @ cr.ones(3, 3, 2), RuntimeError, ("matmul", "batch", "(2, 2, 3)", "(3, 3, 2)")),
    (lambda: cr.mm(cr.ones(3), cr.ones(3, 2)), RuntimeError, ("mm", "2-D", "(3,)")),
    (lambda: cr.dot(cr.ones(3), cr.ones(4)), RuntimeError, ("dot", "(3,)", "(4,)")),
    (lambda: cr.cat([cr.ones(2, 3), cr.ones(2, 4)]), RuntimeError, ("cat", "(2, 3)", "(2, 4)")),
    (lambda: cr.stack([cr.ones(3), cr.ones(4)]), RuntimeError, ("stack", "(3,)", "(4,)")),
    (lambda: cr.ones(2, 3).reshape(4, 2), RuntimeError, ("reshape", "[4, 2]", "(2, 3)")),
    (lambda: cr.ones(2, 3).view(-1, 4), RuntimeError, ("view", "(2, 3)")),
    (lambda: cr.ones(2, 3).expand(3, 3), RuntimeError, ("expand", "(2, 3)", "(3, 3)")),
    (lambda: cr.broadcast_to(cr.ones(3), (2, 4)), RuntimeError, ("broadcast_to", "(3,)", "(2, 4)")),
    (lambda: cr.ones(3) + cr.ones(4), ValueError, ("add", "(3,)", "(4,)", "broadcast")),
    (lambda: cr.ones(3, requires_grad=True) * np.ones((2, 4)), ValueError, ("mul", "(3,)", "(2, 4)")),
    (lambda: cr.ones(3) - cr.ones(2), ValueError, ("sub", "(3,)", "(2,)")),
    (lambda: cr.ones(3) / cr.ones(2), ValueError, ("div", "(3,)", "(2,)")),
    (lambda: cr.ones(3) ** cr.ones(2), ValueError, ("pow", "(3,)", "(2,)")),
    (lambda: cr.maximum(cr.ones(3), cr.ones(2)), ValueError, ("maximum", "(3,)", "(2,)")),
    (lambda: cr.where(cr.tensor([True, False]), cr.ones(3), 0.0), ValueError, ("where", "(2,)", "(3,)")),
    (lambda: F.linear(cr.ones(2, 3), cr.ones(4, 2)), RuntimeError, ("linear", "(2, 3)", "(4, 2)")),
    (lambda: F.mse_loss(cr.ones(3), cr.ones(3, 1)), ValueError, ("mse_loss", "(3,)", "(3, 1)")),
    (lambda: cr.linalg.solve(cr.eye(3), cr.ones(4)), RuntimeError, ("solve", "(3, 3)", "(4,)")),
    (lambda: cr.linalg.inv(cr.ones(2, 3)), RuntimeError, ("inv", "square", "(2, 3)")),
    (lambda: cr.einsum("ij,jk->ik", cr.ones(2, 3), cr.ones(2, 3)), ValueError, ("einsum", "(2, 3)")),
    (lambda: cr.ones(2, 3).permute(0), RuntimeError, ("permute", "2 dimensions")),
], ids=["matmul", "matmul-vector", "matmul-batch", "mm", "dot", "cat", "stack", "reshape", "view",
        "expand", "broadcast_to", "add", "mul-ndarray", "sub", "div", "pow", "maximum", "where", "linear",
        "mse_loss", "solve", "inv", "einsum", "permute"])
def test_shape_mismatch(call, kind, fragments):
    with raises(kind, *fragments):
        call()


@pytest.mark.parametrize("call, fragments", [
    (lambda: cr.ones(3)[5], ("index", "5", "(3,)")),
    (lambda: cr.ones(3, 2)[:, 7], ("index", "7", "(3, 2)")),
    (lambda: cr.ones(3)[[0, 5]], ("index", "5", "(3,)")),
    (lambda: cr.ones(3, requires_grad=True)[-4], ("index", "-4", "(3,)")),
    (lambda: cr.ones(3).__setitem__(5, 1.0), ("setitem", "5", "(3,)")),
    (lambda: cr.ones(2, 3).sum(dim=2), ("sum", "dimension out of range", "2")),
    (lambda: cr.ones(2, 3).transpose(0, 3), ("transpose", "3")),
    (lambda: cr.ones(2, 3).size(4), ("size", "4")),
    (lambda: cr.ones(3).index_select(0, cr.tensor([0, 9])), ("index_select", "9", "(3,)")),
], ids=["int", "slice-int", "array", "negative", "setitem", "sum-dim", "transpose-dim", "size-dim",
        "index_select"])
def test_index_out_of_range(call, fragments):
    with raises(IndexError, *fragments):
        call()


def test_gather_index_out_of_range_is_a_runtime_error_as_in_pytorch():
    with raises(RuntimeError, "gather", "5", "(2, 3)"):
        cr.gather(cr.ones(2, 3), 1, cr.tensor([[0, 5], [0, 0]]))


@pytest.mark.parametrize("call, name", [
    (lambda t: np.roots(t), "roots"),
    (lambda t: np.ldexp(t, 2), "ldexp"),
    (lambda t: np.maximum.accumulate(t), "maximum.accumulate"),
    (lambda t: np.exp(t, out=np.empty(3)), "exp"),
    (lambda t: np.savetxt("never-written.txt", t), "savetxt"),
], ids=["roots", "ldexp-ufunc", "ufunc-method", "ufunc-out", "savetxt"])
def test_unsupported_numpy_function(call, name):
    t = cr.ones(3, requires_grad=True)
    with raises(TypeError, name, "not supported", "np.asarray(t.detach())"):
        call(t)


@pytest.mark.parametrize("target, bad", [([0, 3], "3"), ([-1, 0], "-1")], ids=["too-large", "negative"])
def test_cross_entropy_target_out_of_range(target, bad):
    with raises(IndexError, "cross_entropy", bad, "3 classes", "0..2"):
        F.cross_entropy(cr.ones(2, 3, requires_grad=True), cr.tensor(target))


def test_cross_entropy_target_of_wrong_shape_or_dtype():
    with raises(ValueError, "cross_entropy", "(2,)", "(3,)"):
        F.cross_entropy(cr.ones(2, 3), cr.tensor([0, 1, 2]))
    with raises(TypeError, "cross_entropy", "bool"):
        F.cross_entropy(cr.ones(2, 3), cr.tensor([True, False]))


@pytest.mark.parametrize("call, kind, fragments", [
    (lambda: cr.ones(3).item(), ValueError, ("item", "(3,)")),
    (lambda: float(cr.ones(3)), ValueError, ("float", "(3,)")),
    (lambda: bool(cr.ones(3)), RuntimeError, ("ambiguous", "(3,)", ".any()")),
    (lambda: cr.ones(3, requires_grad=True).numpy(), RuntimeError, ("numpy", "detach")),
    (lambda: cr.tensor([[1, 2], [3]]), TypeError, ("tensor", "regular shape")),
    (lambda: cr.arange(3).mean(), RuntimeError, ("mean", "int64", "float")),
    (lambda: cr.set_default_dtype(cr.int64), TypeError, ("set_default_dtype", "int64")),
    (lambda: cr.ones(2, dtype="not-a-dtype"), TypeError, ("dtype", "not-a-dtype")),
    (lambda: cr.softmax(cr.ones(3)), TypeError, ("softmax", "dim")),
    (lambda: cr.clamp(cr.ones(2)), ValueError, ("clamp", "min", "max")),
    (lambda: cr.where(cr.ones(2), cr.ones(2), 0.0), TypeError, ("where", "bool", "float32")),
    (lambda: cr.linalg.inv(cr.zeros(2, 2)), RuntimeError, ("inv", "singular", "(2, 2)")),
    (lambda: cr.ones(3).register_hook(print), RuntimeError, ("register_hook", "require")),
    (lambda: cr.ones(3).retain_grad(), RuntimeError, ("retain_grad", "require")),
    (lambda: (cr.ones(3, requires_grad=True) * 2).requires_grad_(False), RuntimeError, ("non-leaf", "detach")),
], ids=["item", "float", "bool", "numpy-requires-grad", "ragged", "mean-int", "default-dtype", "dtype",
        "softmax-dim", "clamp-bounds", "where-condition", "inv-singular", "hook-no-grad", "retain-no-grad",
        "requires_grad-non-leaf"])
def test_other_misuse(call, kind, fragments):
    with raises(kind, *fragments):
        call()


def test_tensor_from_string():
    with raises(TypeError, "tensor", "str"):
        cr.tensor("abc")


# ---------------------------------------------------------------------------------------------
# Functional transforms
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, kind, fragments", [
    (lambda: cr.grad(lambda t: t * 2)(cr.ones(3)), TypeError, ("grad", "scalar", "(3,)", "jacrev")),
    (lambda: cr.grad(lambda t: (t * 2).sum())(cr.arange(3)), TypeError, ("grad", "floating", "int64")),
    (lambda: cr.grad(lambda t: t.sum(), argnums=2)(cr.ones(3)), ValueError, ("grad", "argnums", "2")),
    (lambda: cr.grad(lambda t: "nope")(cr.ones(3)), TypeError, ("grad", "str")),
    (lambda: cr.grad(lambda t: t.sum(), has_aux=True)(cr.ones(3)), TypeError, ("has_aux", "pair")),
    (lambda: cr.jvp(lambda t: t * 2, (cr.ones(3),), (cr.ones(4),)), ValueError, ("jvp", "(4,)", "(3,)")),
    (lambda: cr.jvp(lambda t: t * 2, cr.ones(3), cr.ones(3)), TypeError, ("jvp", "tuple")),
    (lambda: cr.jvp(lambda t: t * 2, (cr.ones(3),), ()), ValueError, ("jvp", "0 tangents", "1 primals")),
    (lambda: cr.vjp(lambda t: t * 2, cr.ones(3))[1](cr.ones(4)), ValueError, ("vjp", "(4,)", "(3,)")),
    (lambda: cr.jacobian(lambda t: t, mode="sideways"), ValueError, ("jacobian", "mode", "sideways")),
    (lambda: cr.autograd.gradcheck(lambda t: t * 2, (cr.ones(3, requires_grad=True),)), TypeError,
     ("gradcheck", "float32", "float64")),
    (lambda: cr.autograd.gradcheck(lambda t: t * 2, (cr.ones(3, dtype=cr.float64),)), ValueError,
     ("gradcheck", "requires_grad")),
], ids=["grad-nonscalar", "grad-int", "argnums", "grad-output-type", "has_aux", "jvp-tangent-shape",
        "jvp-not-tuple", "jvp-count", "vjp-cotangent-shape", "jacobian-mode", "gradcheck-float32",
        "gradcheck-no-input"])
def test_transform_misuse(call, kind, fragments):
    with raises(kind, *fragments):
        call()


def test_gradcheck_report_names_input_and_element():
    def wrong(x):  # derivative of x² reported as 3x via a custom Function
        class Bad(cr.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                ctx.save_for_backward(t)
                return t * t

            @staticmethod
            def backward(ctx, g):
                (t,) = ctx.saved_tensors
                return 3 * t * g

            @staticmethod
            def jvp(ctx, tangent):
                (t,) = ctx.saved_tensors
                return 2 * t * tangent

        return Bad.apply(x)

    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    with raises(cr.autograd.GradcheckError, "reverse", "input 0", "element (0,)") as info:
        cr.autograd.gradcheck(wrong, (x,))
    assert isinstance(info.value, RuntimeError)


def test_custom_function_backward_returning_too_few_gradients():
    class TwoInputs(cr.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g

    a, b = cr.ones(2, requires_grad=True), cr.ones(2, requires_grad=True)
    with raises(RuntimeError, "TwoInputs", "backward", "1 gradient", "2 input"):
        TwoInputs.apply(a, b).sum().backward()


# ---------------------------------------------------------------------------------------------
# detect_anomaly
# ---------------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("op, values", [("sqrt", [0.0, 1.0]), ("log", [0.0, 2.0])])
def test_detect_anomaly_names_forward_op_and_user_line(op, values):
    x = cr.tensor(values, requires_grad=True)
    with cr.autograd.detect_anomaly():
        y = getattr(cr, op)(x) * 2.0  # the line the report must point at
        with raises(RuntimeError, op, THIS_FILE, "getattr(cr, op)(x) * 2.0") as info:
            y.sum().backward()
    assert "NaN or inf" in str(info.value) or "nan" in str(info.value).lower()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_without_detect_anomaly_inf_gradients_pass_silently_like_pytorch():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    cr.log(x).sum().backward()
    assert np.isinf(x.grad.numpy()[0]) and x.grad.numpy()[1] == 1.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_nan_from_zero_times_inf():
    # sqrt(x) at 0 has an infinite derivative; times 0 downstream gives 0 · inf = NaN in the
    # gradient of x, produced by sqrt's backward.
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        y = cr.sqrt(x)
        z = y * cr.tensor([0.0, 1.0])
        with raises(RuntimeError, "sqrt", THIS_FILE):
            z.sum().backward()


def test_detect_anomaly_is_a_decorator_and_restores_state():
    assert not cr.autograd.is_anomaly_enabled()

    @cr.autograd.detect_anomaly()
    def inside():
        return cr.autograd.is_anomaly_enabled()

    assert inside()
    assert not cr.autograd.is_anomaly_enabled()
