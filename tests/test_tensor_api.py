"""SPEC §1–§3 surface of the Tensor: creation, dtypes, attributes, conversions, repr, grad modes,
hooks, accumulation, in-place updates and NumPy interop."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture
def default_float64():
    previous = cr.get_default_dtype()
    cr.set_default_dtype(cr.float64)
    try:
        yield
    finally:
        cr.set_default_dtype(previous)


def values(t):
    return t.detach().numpy()


# ---------------------------------------------------------------------------------------------
# Creation
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [cr.zeros, cr.ones, cr.empty, cr.rand, cr.randn],
                         ids=["zeros", "ones", "empty", "rand", "randn"])
def test_shape_as_sizes_tuple_or_size_keyword(make):
    for t in (make(2, 3), make((2, 3)), make([2, 3]), make(size=(2, 3))):
        assert t.shape == (2, 3) and t.dtype == cr.float32 and not t.requires_grad
    assert make().shape == () and make(size=()).shape == ()
    assert make(4).shape == (4,) and make(0).shape == (0,)
    t = make(2, dtype=cr.float64, requires_grad=True)
    assert t.dtype == cr.float64 and t.requires_grad and t.is_leaf


def test_scalar_random_leaf():
    t = cr.randn(size=(), requires_grad=True)
    assert t.shape == () and t.ndim == 0 and t.requires_grad and t.is_leaf
    (t * 3).backward()
    assert t.grad.item() == 3.0


def test_filled_values_and_ranges():
    np.testing.assert_array_equal(values(cr.zeros(2, 2)), np.zeros((2, 2)))
    np.testing.assert_array_equal(values(cr.ones(3)), np.ones(3))
    full = cr.full((2, 3), 1.5)
    assert full.shape == (2, 3) and full.dtype == cr.float32 and np.all(values(full) == 1.5)
    assert cr.full((2,), 7).dtype == cr.int64
    assert cr.full((2,), 2.0, dtype=cr.float64, requires_grad=True).requires_grad
    np.testing.assert_array_equal(values(cr.eye(3)), np.eye(3))
    np.testing.assert_array_equal(values(cr.eye(2, 3)), np.eye(2, 3))
    np.testing.assert_allclose(values(cr.linspace(0, 1, 5)), [0, 0.25, 0.5, 0.75, 1.0])
    assert cr.linspace(0, 1, 5).dtype == cr.float32


def test_arange_int_versus_float():
    assert cr.arange(4).dtype == cr.int64
    np.testing.assert_array_equal(values(cr.arange(4)), [0, 1, 2, 3])
    assert cr.arange(4.0).dtype == cr.float32
    np.testing.assert_array_equal(values(cr.arange(4.0)), [0.0, 1.0, 2.0, 3.0])
    assert cr.arange(1, 4, 0.5).dtype == cr.float32
    np.testing.assert_array_equal(values(cr.arange(1, 4, 0.5)), np.arange(1, 4, 0.5))
    assert cr.arange(2, 8, 2).tolist() == [2, 4, 6]
    assert cr.arange(3, dtype=cr.float64).dtype == cr.float64
    x = cr.arange(4.0, requires_grad=True)
    assert x.requires_grad and x.is_leaf


def test_like_functions_keep_shape_and_dtype():
    base = cr.ones(2, 3, dtype=cr.float64)
    for t in (cr.zeros_like(base), cr.ones_like(base), cr.full_like(base, 7.0), cr.randn_like(base)):
        assert t.shape == (2, 3) and t.dtype == cr.float64
    assert np.all(values(cr.full_like(base, 7.0)) == 7.0)
    assert cr.zeros_like(cr.arange(3)).dtype == cr.int64
    assert cr.zeros_like(base, dtype=cr.float32).dtype == cr.float32
    assert cr.ones_like(base, requires_grad=True).requires_grad


def test_tensor_copies_and_as_tensor_shares():
    array = np.array([1.0, 2.0, 3.0])
    copied = cr.tensor(array)
    shared = cr.as_tensor(array)
    array[0] = 100.0
    assert copied.tolist() == [1.0, 2.0, 3.0]
    assert shared.tolist() == [100.0, 2.0, 3.0]
    source = cr.tensor([1.0, 2.0], requires_grad=True)
    clone = cr.tensor(source)
    assert not clone.requires_grad and clone.grad_fn is None
    assert not np.shares_memory(values(clone), values(source))
    assert cr.as_tensor(source) is source
    assert cr.tensor([1, 2], dtype=cr.float64).dtype == cr.float64
    assert cr.as_tensor([1.5, 2.5]).dtype == cr.float32


def test_default_dtype_rules(default_float64):
    assert cr.get_default_dtype() == cr.float64
    assert cr.tensor(1.5).dtype == cr.float64
    assert cr.tensor([1.0, 2.0]).dtype == cr.float64
    assert cr.zeros(2).dtype == cr.float64 and cr.arange(2.0).dtype == cr.float64
    assert cr.randn(2).dtype == cr.float64


def test_default_dtype_is_float32_and_arrays_keep_theirs():
    assert cr.get_default_dtype() == cr.float32
    assert cr.tensor(1.5).dtype == cr.float32
    assert cr.tensor([[1.0, 2.0]]).dtype == cr.float32
    assert cr.tensor(np.array([1.0, 2.0])).dtype == cr.float64
    assert cr.tensor(np.array([1.0], dtype=np.float16)).dtype == cr.float16
    assert cr.tensor([1, 2]).dtype == cr.int64
    assert cr.tensor([True, False]).dtype == cr.bool
    assert cr.tensor(np.array([1, 2], dtype=np.int32)).dtype == cr.int32


def test_set_default_dtype_restores():
    previous = cr.get_default_dtype()
    try:
        cr.set_default_dtype(cr.float16)
        assert cr.ones(1).dtype == cr.float16
    finally:
        cr.set_default_dtype(previous)
    assert cr.ones(1).dtype == previous == cr.float32


def test_dtypes_are_numpy_dtypes():
    for name, expected in [("float16", np.float16), ("float32", np.float32), ("float64", np.float64),
                           ("int32", np.int32), ("int64", np.int64), ("bool", np.bool_)]:
        assert getattr(cr, name) == np.dtype(expected)
        assert isinstance(getattr(cr, name), np.dtype)


def test_manual_seed_reproducibility():
    cr.manual_seed(42)
    a, b = cr.rand(3), cr.randn(2, 2)
    cr.manual_seed(42)
    c, d = cr.rand(3), cr.randn(2, 2)
    np.testing.assert_array_equal(values(a), values(c))
    np.testing.assert_array_equal(values(b), values(d))
    e = cr.rand(3)
    assert not np.array_equal(values(a), values(e))
    cr.manual_seed(7)
    assert not np.array_equal(values(cr.rand(3)), values(a))
    assert np.all((values(a) >= 0) & (values(a) < 1))


# ---------------------------------------------------------------------------------------------
# Attributes and conversions
# ---------------------------------------------------------------------------------------------

def test_attributes():
    t = cr.ones(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.ndim == 3 and t.dtype == cr.float32
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.numel() == 24
    assert t.requires_grad is False and t.grad is None and t.grad_fn is None and t.is_leaf
    assert t.T.shape == (4, 3, 2) and t.mT.shape == (2, 4, 3)
    m = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert m.T.tolist() == [[1.0, 3.0], [2.0, 4.0]] and m.mT.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    x = cr.ones(2, requires_grad=True)
    y = x * 2
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None and x.grad_fn is None


def test_numpy_shares_memory():
    t = cr.zeros(3)
    a = t.numpy()
    assert isinstance(a, np.ndarray)
    a[1] = 5.0
    assert t.tolist() == [0.0, 5.0, 0.0]
    result = cr.tensor([1.0, 2.0]) * 3
    result.numpy()[0] = -1.0
    assert result.tolist() == [-1.0, 6.0]
    scalar = cr.tensor(2.0) * 3  # a 0-d result
    s = scalar.numpy()
    assert isinstance(s, np.ndarray) and s.shape == ()
    s[...] = 5.0
    assert scalar.item() == 5.0


def test_numpy_asarray_and_scalars():
    x = cr.tensor([1.5, 2.5], requires_grad=True)
    plain = np.asarray(x)
    assert type(plain) is np.ndarray and plain.tolist() == [1.5, 2.5]
    assert np.asarray(x * 2).tolist() == [3.0, 5.0]
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert cr.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert cr.tensor(2.5).tolist() == 2.5
    assert cr.tensor([3.5]).item() == 3.5 and isinstance(cr.tensor([3.5]).item(), float)
    assert isinstance(cr.tensor(3).item(), int)
    assert float(cr.tensor([[2.5]])) == 2.5
    assert int(cr.tensor(3.7)) == 3
    assert bool(cr.tensor([1.0])) is True and bool(cr.tensor(0.0)) is False
    assert float((x * x).sum()) == pytest.approx(8.5)


# ---------------------------------------------------------------------------------------------
# repr, exactly as PyTorch prints
# ---------------------------------------------------------------------------------------------

def test_repr_spec_examples():
    x = cr.arange(4.0, requires_grad=True)
    y = 2 * cr.dot(x, x)
    y.backward()
    assert repr(x.grad) == "tensor([ 0.,  4.,  8., 12.])"
    assert repr(cr.tensor(2.0, requires_grad=True) * 3) == "tensor(6., grad_fn=<MulBackward>)"
    assert repr(cr.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    assert repr(cr.tensor([1.0, 2.0], dtype=cr.float64)) == "tensor([1., 2.], dtype=chainrule.float64)"


@pytest.mark.parametrize("make, text", [
    (lambda: cr.tensor([1.5, 2.25]), "tensor([1.5000, 2.2500])"),
    (lambda: cr.tensor(6.0), "tensor(6.)"),
    (lambda: cr.tensor([[1, 2], [3, 4]]), "tensor([[1, 2],\n        [3, 4]])"),
    (lambda: cr.tensor([True, False]), "tensor([ True, False])"),
    (lambda: cr.tensor([-1.5, 0.0]), "tensor([-1.5000,  0.0000])"),
    (lambda: cr.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: cr.tensor(3), "tensor(3)"),
    (lambda: cr.zeros(0), "tensor([])"),
    (lambda: cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True),
     "tensor([1., 2.], dtype=chainrule.float64, requires_grad=True)"),
    (lambda: (cr.tensor([1.0, 2.0], requires_grad=True) * 1).sum(), "tensor(3., grad_fn=<SumBackward>)"),
    (lambda: cr.tensor([1.0], requires_grad=True) + 1, "tensor([2.], grad_fn=<AddBackward>)"),
], ids=["decimals", "scalar", "int-matrix", "bool", "negative", "scientific", "int-scalar", "empty",
        "float64-requires-grad", "sum-backward", "add-backward"])
def test_repr_cases(make, text):
    assert repr(make()) == text


# ---------------------------------------------------------------------------------------------
# Grad modes
# ---------------------------------------------------------------------------------------------

def test_grad_mode_context_managers():
    x = cr.ones(2, requires_grad=True)
    assert cr.is_grad_enabled()
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        assert not (x * 2).requires_grad
        with cr.enable_grad():
            assert cr.is_grad_enabled()
            assert (x * 2).requires_grad
        assert not cr.is_grad_enabled()
        with cr.set_grad_enabled(True):
            assert (x * 2).requires_grad
    with cr.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert cr.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ZeroDivisionError), cr.no_grad():
        raise ZeroDivisionError
    assert cr.is_grad_enabled()


def test_grad_mode_decorators():
    x = cr.ones(2, requires_grad=True)

    @cr.no_grad()
    def off(t):
        return t * 2, cr.is_grad_enabled()

    @cr.enable_grad()
    def on(t):
        return t * 2

    @cr.set_grad_enabled(False)
    def off_again(t):
        return t * 2

    assert cr.is_grad_enabled()  # decorating does not switch the mode
    out, mode = off(x)
    assert not out.requires_grad and mode is False
    assert cr.is_grad_enabled()
    with cr.no_grad():
        assert on(x).requires_grad
        assert not cr.is_grad_enabled()
    assert not off_again(x).requires_grad
    assert cr.is_grad_enabled()


def test_set_grad_enabled_as_a_function():
    try:
        cr.set_grad_enabled(False)
        assert not cr.is_grad_enabled()
        assert not (cr.ones(1, requires_grad=True) * 2).requires_grad
    finally:
        cr.set_grad_enabled(True)
    assert cr.is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = {}
    entered = threading.Event()
    release = threading.Event()

    def worker():
        seen["start"] = cr.is_grad_enabled()
        seen["records"] = (cr.ones(1, requires_grad=True) * 2).requires_grad
        with cr.no_grad():
            entered.set()
            release.wait(5)
            seen["inside"] = cr.is_grad_enabled()

    with cr.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        assert entered.wait(5)
        # the other thread is inside its own no_grad; this one is inside its own
        assert not cr.is_grad_enabled()
        release.set()
        thread.join(5)
    assert seen == {"start": True, "records": True, "inside": False}
    assert cr.is_grad_enabled()

    def switch_off():
        cr.set_grad_enabled(False)
        seen["other"] = cr.is_grad_enabled()

    thread = threading.Thread(target=switch_off)
    thread.start()
    thread.join(5)
    assert seen["other"] is False and cr.is_grad_enabled()


# ---------------------------------------------------------------------------------------------
# Hooks, retain_grad, accumulation
# ---------------------------------------------------------------------------------------------

def test_hook_on_leaf_sees_and_replaces_the_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.tolist()))
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]] and x.grad.tolist() == [3.0, 3.0]
    x.grad = None
    replace = x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    assert x.grad.tolist() == [30.0, 30.0]
    handle.remove()
    replace.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0] and len(seen) == 2


def test_hook_on_non_leaf_changes_what_flows_upstream():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    y.register_hook(lambda g: g + 1)  # hooks run in registration order
    (y * y).sum().backward()
    assert seen == [[4.0, 8.0]]
    assert x.grad.tolist() == [2 * (4.0 + 1), 2 * (8.0 + 1)]
    assert y.grad is None  # a non-leaf keeps no .grad unless retain_grad


def test_hook_removed_from_non_leaf():
    x = cr.tensor([1.0], requires_grad=True)
    y = x * 2
    handle = y.register_hook(lambda g: g * 100)
    handle.remove()
    y.sum().backward()
    assert x.grad.tolist() == [2.0]


def test_retain_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.retain_grad()
    assert y.retains_grad
    z = (y * 3).sum()
    z.backward()
    assert y.grad.tolist() == [3.0, 3.0]
    assert x.grad.tolist() == [6.0, 12.0]


def test_gradients_accumulate_and_can_be_cleared():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [2.0 + 3.0, 4.0 + 3.0]
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0]
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    x.grad = None
    assert x.grad is None
    (x * 5).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_grad_accumulates_when_a_leaf_is_used_twice():
    x = cr.tensor(3.0, requires_grad=True)
    (x * x + x).backward()
    assert x.grad.item() == 7.0


def test_grad_dtype_follows_the_leaf():
    x32 = cr.tensor([1.0, 2.0], requires_grad=True)
    x64 = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    (x32 * x64).sum().backward()
    assert x32.grad.dtype == cr.float32 and x64.grad.dtype == cr.float64
    b = cr.tensor(2.0, requires_grad=True)
    (cr.ones(3, 2) * b).sum().backward()
    assert b.grad.shape == () and b.grad.item() == 6.0


def test_backward_inputs_restricts_accumulation():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [3.0, 4.0] and b.grad is None
    h = a * 2
    (h * b).sum().backward(inputs=[b])
    assert b.grad.tolist() == [2.0, 4.0] and a.grad.tolist() == [3.0, 4.0]


def test_autograd_grad_leaves_dot_grad_alone():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (g,) = cr.autograd.grad((x * x).sum(), x)
    assert g.tolist() == [2.0, 4.0] and x.grad is None
    y = x * 3
    (gy,) = cr.autograd.grad((y * y).sum(), y)  # with respect to a non-leaf
    assert gy.tolist() == [6.0, 12.0]


def test_detach_shares_data():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    assert np.shares_memory(d.numpy(), np.asarray(x))


# ---------------------------------------------------------------------------------------------
# In-place updates and t[idx] = v
# ---------------------------------------------------------------------------------------------

def test_inplace_methods_without_grad():
    t = cr.tensor([1.0, 2.0, 3.0])
    t.add_(1).mul_(2).sub_(cr.tensor([1.0, 1.0, 1.0])).div_(2)
    assert t.tolist() == [1.5, 2.5, 3.5]
    t.add_(cr.ones(3), alpha=2)
    assert t.tolist() == [3.5, 4.5, 5.5]
    t.clamp_(min=4.0, max=5.0)
    assert t.tolist() == [4.0, 4.5, 5.0]
    t.copy_(cr.tensor([7.0]))
    assert t.tolist() == [7.0, 7.0, 7.0]
    t.fill_(2.0)
    assert t.tolist() == [2.0, 2.0, 2.0]
    t.zero_()
    assert t.tolist() == [0.0, 0.0, 0.0]
    t += 1
    t *= 3
    t -= 1
    t /= 4
    assert t.tolist() == [0.5, 0.5, 0.5]
    t[1] = 9.0
    t[cr.tensor([True, False, True])] = -1.0
    assert t.tolist() == [-1.0, 9.0, -1.0]


def test_inplace_methods_with_grad():
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    y = x * 1.0
    y.mul_(x)          # x²
    y.add_(x, alpha=3)  # x² + 3x
    y.sub_(1.0)
    y.div_(2.0)        # (x² + 3x - 1) / 2
    y += x             # (x² + 5x - 1) / 2
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (2 * np.array([1.0, 2.0]) + 5) / 2)
    assert not y.is_leaf and y.grad_fn is not None


def test_clamp_and_copy_in_place_with_grad():
    x = cr.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    y = x * 2
    y.clamp_(min=-1.0, max=1.0)
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 2.0, 0.0]
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    buffer = cr.zeros(2)
    buffer.copy_(a * 3)
    assert buffer.requires_grad
    (buffer * buffer).sum().backward()
    assert a.grad.tolist() == [18.0, 36.0]


def test_setitem_with_grad():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = cr.tensor(5.0, requires_grad=True)
    y = x * 1
    y[0] = v * x[2]      # y = [v x2, x1, x2]
    y[1:] = x[1:] * 2    # y = [v x2, 2 x1, 2 x2]
    assert y.tolist() == [15.0, 4.0, 6.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 2.0, 5.0 + 2.0]
    assert v.grad.item() == 3.0


def test_setitem_from_its_own_slice():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y[0] = 5.0 * x[2]
    y[1:] = y[1:] * 2
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 2.0, 7.0]


def test_setitem_into_a_constant_buffer_records():
    v = cr.tensor([1.0, 2.0], requires_grad=True)
    buffer = cr.zeros(2, 2)
    buffer[1] = v * v
    assert buffer.requires_grad and not buffer.is_leaf
    buffer.sum().backward()
    assert v.grad.tolist() == [2.0, 4.0]


def test_fill_and_zero_on_non_leaf_cut_the_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.zero_()
    (y + x).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


# ---------------------------------------------------------------------------------------------
# NumPy interop
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, derivative", [
    (lambda t: np.sin(t), lambda v: np.cos(v)),
    (lambda t: np.exp(t), lambda v: np.exp(v)),
    (lambda t: t * np.ones(3), lambda v: np.ones(3)),
    (lambda t: np.ones(3) * t, lambda v: np.ones(3)),
    (lambda t: np.array([1.0, 2.0, 3.0]) - t, lambda v: -np.ones(3)),
    (lambda t: np.sum(t * t), lambda v: 2 * v),
    (lambda t: np.mean(t), lambda v: np.full(3, 1 / 3)),
    (lambda t: np.sqrt(t), lambda v: 0.5 / np.sqrt(v)),
    (lambda t: np.tanh(t) ** 2, lambda v: 2 * np.tanh(v) * (1 - np.tanh(v) ** 2)),
    (lambda t: np.maximum(t, 1.1), lambda v: (v > 1.1).astype(float)),
], ids=["sin", "exp", "t*ones", "ones*t", "array-t", "sum", "mean", "sqrt", "tanh", "maximum"])
def test_numpy_functions_return_differentiable_tensors(call, derivative):
    v = np.array([0.5, 1.0, 2.0])
    x = cr.tensor(v, requires_grad=True)
    out = call(x)
    assert isinstance(out, cr.Tensor) and out.requires_grad
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), derivative(v), rtol=1e-12)


def test_numpy_matmul_with_array_on_the_left():
    a = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    x = cr.tensor([0.5, -1.0], requires_grad=True)
    out = np.matmul(a, x)
    assert isinstance(out, cr.Tensor) and out.shape == (3,)
    np.testing.assert_allclose(values(out), a @ np.array([0.5, -1.0]))
    out.backward(cr.tensor([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(x.grad.numpy(), a.T @ np.array([1.0, 0.0, 2.0]))
    y = cr.tensor([1.0, 1.0], requires_grad=True)
    (a @ y).sum().backward()  # the @ operator with an ndarray on the left
    np.testing.assert_allclose(y.grad.numpy(), a.sum(axis=0))


def test_numpy_reductions_take_axis_and_keepdims():
    x = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    out = np.sum(x, axis=1, keepdims=True)
    assert isinstance(out, cr.Tensor) and out.shape == (2, 1)
    out.sum().backward()
    assert x.grad.tolist() == [[1.0] * 3] * 2
    assert np.var(cr.tensor([1.0, 2.0, 3.0, 4.0])).item() == pytest.approx(1.25)  # NumPy's ddof=0
    assert np.std(cr.tensor([1.0, 3.0])).item() == pytest.approx(1.0)
