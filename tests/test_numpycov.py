"""NumPy's remaining functions on tensors (ops/numpy_extras.py, api/numpy_extras.py,
api/numpy_series.py): gradients against PyTorch where it has the function, NumPy's exact values
in the cases test_numpy_semantics does not reach, errors and edge cases."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(99)


def _grad(fn, *arrays):
    xs = [cr.tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(*xs)
    w = RNG.standard_normal(out.shape)
    (out * cr.tensor(w)).sum().backward()
    return [x.grad.numpy() for x in xs], w


def _torch_grad(fn, arrays, w):
    xs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    (fn(*xs) * torch.tensor(w)).sum().backward()
    return [x.grad.numpy() for x in xs]


def _against_torch(ours, theirs, *arrays, rtol=1e-10):
    got, w = _grad(ours, *arrays)
    want = _torch_grad(theirs, arrays, w)
    for g, t in zip(got, want):
        np.testing.assert_allclose(g, t, rtol=rtol, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Gradients against PyTorch
# ---------------------------------------------------------------------------------------------

def test_fmax_fmin_gradients_match_torch_with_nans_and_ties():
    x = np.array([1.0, np.nan, 3.0, np.nan, 2.0, -1.0])
    y = np.array([2.0, 0.5, np.nan, np.nan, 2.0, -3.0])
    _against_torch(lambda a, b: np.fmax(a, b), torch.fmax, x, y)
    _against_torch(lambda a, b: np.fmin(a, b), torch.fmin, x, y)
    _against_torch(cr.fmax, torch.fmax, RNG.standard_normal((3, 1)), RNG.standard_normal(4))


def test_fmax_values_ignore_nan():
    x = cr.tensor([np.nan, 1.0, np.nan])
    y = cr.tensor([2.0, np.nan, np.nan])
    np.testing.assert_array_equal(np.fmax(x, y).numpy(), np.fmax(x.numpy(), y.numpy()))
    np.testing.assert_array_equal(np.fmin(x, y).numpy(), [2.0, 1.0, np.nan])


def test_nan_to_num_gradient_matches_torch():
    x = np.array([np.nan, np.inf, -np.inf, 1.5, -2.0])
    _against_torch(lambda a: np.nan_to_num(a, nan=1.0, posinf=3.0), lambda a: torch.nan_to_num(a, nan=1.0, posinf=3.0), x)
    _against_torch(cr.nan_to_num, torch.nan_to_num, x)


def test_nan_to_num_float32_defaults_are_its_dtype_limits():
    x = cr.tensor(np.array([np.inf, -np.inf], np.float32))
    np.testing.assert_array_equal(cr.nan_to_num(x).numpy(), np.nan_to_num(np.array([np.inf, -np.inf], np.float32)))


def test_float_power_matches_torch():
    x, y = RNG.uniform(0.5, 2, (3, 4)), RNG.uniform(-1, 2, (4,))
    _against_torch(lambda a, b: np.float_power(a, b), torch.float_power, x, y)
    assert cr.float_power(cr.tensor([2, 3]), 2).dtype == np.float64
    assert np.float_power(cr.tensor(np.float32([2.0])), 2).dtype == np.float64


def test_trunc_and_round_have_zero_gradient():
    x = np.array([1.7, -2.3, 0.4])
    _against_torch(lambda a: np.trunc(a), torch.trunc, x)
    _against_torch(lambda a: np.fix(a), torch.fix, x)
    _against_torch(lambda a: np.round(a, 1), lambda a: torch.round(a, decimals=1), x)


def test_heaviside_values_and_gradient_in_values():
    x = cr.tensor([-1.0, 0.0, 2.0, 0.0])
    v = cr.tensor([0.5, 0.25, 0.5, 0.75], requires_grad=True)
    out = np.heaviside(x, v)
    np.testing.assert_array_equal(out.detach().numpy(), np.heaviside(x.numpy(), v.detach().numpy()))
    out.sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [0.0, 1.0, 0.0, 1.0])


def test_linalg_vecdot_matches_torch():
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((3, 4))
    _against_torch(lambda x, y: np.linalg.vecdot(x, y), torch.linalg.vecdot, a, b)


def test_linalg_cond_matches_torch():
    a = RNG.uniform(-0.3, 0.3, (2, 3, 3)) + 2 * np.eye(3)
    _against_torch(lambda x: np.linalg.cond(x), torch.linalg.cond, a)
    _against_torch(lambda x: np.linalg.cond(x, "fro"),
                   lambda x: torch.linalg.norm(x, "fro", dim=(-2, -1)) * torch.linalg.norm(torch.linalg.inv(x), "fro", dim=(-2, -1)), a)


def test_cov_and_corrcoef_match_torch():
    m = RNG.standard_normal((3, 6))
    _against_torch(lambda x: np.cov(x), torch.cov, m)
    _against_torch(lambda x: np.cov(x, bias=True), lambda x: torch.cov(x, correction=0), m)
    fw, aw = np.array([1, 2, 1, 3, 1, 2]), RNG.uniform(0.5, 2, 6)
    _against_torch(lambda x: np.cov(x, fweights=fw, aweights=aw),
                   lambda x: torch.cov(x, fweights=torch.tensor(fw), aweights=torch.tensor(aw)), m)
    _against_torch(lambda x: np.corrcoef(x), torch.corrcoef, m)


def test_trapezoid_matches_torch():
    y, x = RNG.standard_normal((2, 5)), np.sort(RNG.standard_normal(5))
    _against_torch(lambda a, b: np.trapezoid(a, b), lambda a, b: torch.trapezoid(a, b), y, x)
    _against_torch(lambda a: np.trapezoid(a, dx=0.5, axis=0), lambda a: torch.trapezoid(a, dx=0.5, dim=0), y)


def test_convolve_matches_torch_conv1d():
    a, v = RNG.standard_normal(7), RNG.standard_normal(3)

    def conv_full(x, k):
        return torch.nn.functional.conv1d(x[None, None], k.flip(0)[None, None], padding=2)[0, 0]

    _against_torch(lambda x, k: np.convolve(x, k), conv_full, a, v)
    _against_torch(lambda x, k: np.correlate(x, k),
                   lambda x, k: torch.nn.functional.conv1d(x[None, None], k[None, None])[0, 0], a, v)


def test_interp_is_differentiable_in_fp_x_and_xp():
    x, xp, fp = np.array([0.1, 0.7, 1.9]), np.array([0.0, 0.5, 1.0, 2.0]), RNG.standard_normal(4)
    got, w = _grad(lambda a, b, c: np.interp(a, b, c), x, xp, fp)
    eps = 1e-6
    for k, arr in enumerate((x, xp, fp)):
        for i in range(arr.size):
            up, down = [a.copy() for a in (x, xp, fp)], [a.copy() for a in (x, xp, fp)]
            up[k][i] += eps
            down[k][i] -= eps
            numeric = (np.interp(*up) - np.interp(*down)) @ w / (2 * eps)
            assert abs(got[k][i] - numeric) < 1e-6


def test_linspace_gradient_goes_to_start_and_stop():
    a = cr.tensor(np.array([0.0, 1.0]), requires_grad=True)
    b = cr.tensor(np.array([1.0, 3.0]), requires_grad=True)
    y = np.linspace(a, b, 5)
    np.testing.assert_allclose(y.detach().numpy(), np.linspace([0.0, 1.0], [1.0, 3.0], 5))
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.5, 2.5])
    np.testing.assert_allclose(b.grad.numpy(), [2.5, 2.5])


def test_unique_values_are_differentiable_through_the_first_occurrence():
    x = cr.tensor([2.0, 1.0, 2.0, 3.0], requires_grad=True)
    values, counts = np.unique(x, return_counts=True)
    np.testing.assert_array_equal(values.detach().numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(counts.numpy(), [1, 2, 1])
    (values * cr.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 1.0, 0.0, 100.0])


def test_insert_and_delete_route_gradients():
    x = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    v = cr.tensor([10.0, 20.0], requires_grad=True)
    out = np.insert(x, 1, v, axis=1)
    np.testing.assert_array_equal(out.detach().numpy(), np.insert(np.arange(6.0).reshape(2, 3), 1, [10.0, 20.0], axis=1))
    np.delete(out, 0, axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 1], [0, 1, 1]])
    np.testing.assert_array_equal(v.grad.numpy(), [1.0, 1.0])


# ---------------------------------------------------------------------------------------------
# Values, dtypes and errors
# ---------------------------------------------------------------------------------------------

def test_queries_return_tensors_and_keep_no_history():
    x = cr.tensor([0.0, 1.5, 0.0, -2.0], requires_grad=True)
    for fn in (np.flatnonzero, np.argwhere, lambda t: np.count_nonzero(t, axis=0), np.isposinf):
        out = fn(x)
        assert isinstance(out, cr.Tensor) and not out.requires_grad
    assert np.count_nonzero(x) == 2


def test_round_keeps_integer_dtypes_and_writes_out():
    assert np.round(cr.tensor(np.array([15, 24])), -1).dtype == np.int64
    out = cr.zeros(3, dtype=cr.float64)
    assert np.round(cr.tensor(np.array([1.26, 2.5, -0.45])), 1, out) is out
    np.testing.assert_array_equal(out.numpy(), np.round(np.array([1.26, 2.5, -0.45]), 1))


def test_copy_of_a_tensor_is_a_tensor_with_history():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = np.copy(x)
    assert isinstance(y, cr.Tensor) and y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("call, match", [
    (lambda t: np.rollaxis(t, 0, 5), "start"),
    (lambda t: np.convolve(t, t[:0]), "empty"),
    (lambda t: np.correlate(t, t, "middle"), "mode"),
    (lambda t: np.cov(t.reshape(1, 2, 2)), "dimensions"),
    (lambda t: np.interp(t, [0.0, 1.0], [1.0]), "same length"),
    (lambda t: np.gradient(t[:1]), "too small"),
    (lambda t: np.linspace(t, t, -2), "non-negative"),
    (lambda t: np.resize(t, -1), "non-negative"),
])
def test_errors_name_the_function(call, match):
    t = cr.tensor([1.0, 2.0, 3.0, 4.0])
    with pytest.raises((ValueError, TypeError, np.exceptions.AxisError), match=match):
        call(t)


def test_floor_divide_and_signbit_and_logical_xor_values():
    a = np.array([-3.5, -0.0, 2.0, 7.0])
    b = np.array([2.0, 1.0, -3.0, 0.5])
    np.testing.assert_array_equal(np.floor_divide(cr.tensor(a), cr.tensor(b)).numpy(), np.floor_divide(a, b))
    np.testing.assert_array_equal(np.signbit(cr.tensor(a)).numpy(), np.signbit(a))
    np.testing.assert_array_equal(np.logical_xor(cr.tensor(a), cr.tensor(b - 1)).numpy(), np.logical_xor(a, b - 1))


# ---------------------------------------------------------------------------------------------
# api/numpy_misc.py
# ---------------------------------------------------------------------------------------------

def test_bincount_weights_gradient_is_a_scatter_add():
    idx = np.array([0, 3, 1, 3, 3])
    w = RNG.standard_normal(5)
    _against_torch(lambda t: np.bincount(idx, weights=t, minlength=5),
                   lambda t: torch.zeros(5, dtype=t.dtype).index_add(0, torch.tensor(idx), t), w)


def test_block_matches_torch_cat():
    a, b = RNG.standard_normal((2, 2)), RNG.standard_normal((2, 3))
    _against_torch(lambda x, y: np.block([[x, y], [y, x]]),
                   lambda x, y: torch.cat([torch.cat([x, y], 1), torch.cat([y, x], 1)], 0), a, b)


def test_put_writes_in_place_and_routes_gradients():
    x = cr.tensor(np.arange(6.0), requires_grad=True)
    v = cr.tensor([10.0, 20.0], requires_grad=True)
    y = x * 1.0
    assert np.put(y, [1, 4, 5], v) is None
    np.testing.assert_array_equal(y.detach().numpy(), [0.0, 10.0, 2.0, 3.0, 20.0, 10.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(v.grad.numpy(), [2.0, 1.0])


def test_writing_a_tensor_with_history_into_an_array_raises():
    with pytest.raises(TypeError, match="put"):
        np.put(np.zeros(3), [0], cr.tensor([1.0], requires_grad=True))


def test_histogram_with_differentiable_weights_raises_and_counts_are_data():
    x = cr.tensor(RNG.standard_normal(10), requires_grad=True)
    counts, edges = np.histogram(x, bins=3)
    assert counts.sum().item() == 10 and not edges.requires_grad
    with pytest.raises(TypeError, match="histogram"):
        np.histogram(x, bins=3, weights=cr.tensor(np.ones(10), requires_grad=True))


def test_geomspace_gradient_matches_torch_composition():
    a, b = np.array([1.5, -2.0]), np.array([8.0, -0.5])
    _against_torch(lambda s, e: np.geomspace(s, e, 4)[1:-1],
                   lambda s, e: torch.sign(s) * torch.pow(10.0, torch.log10(s.abs()) + torch.tensor([[1 / 3], [2 / 3]],
                                                          dtype=s.dtype) * (torch.log10(e / torch.sign(s)) - torch.log10(s.abs()))),
                   a, b, rtol=1e-9)


def test_polyval_polyder_polyint_are_consistent():
    p = cr.tensor([1.0, -2.0, 0.5, 3.0], requires_grad=True)
    x = cr.tensor([0.3, -1.2])
    np.testing.assert_allclose(np.polyval(np.polyder(p), x).detach().numpy(), np.polyval(np.polyder(p.detach().numpy()), x.numpy()))
    np.testing.assert_allclose(np.polyder(np.polyint(p)).detach().numpy(), p.detach().numpy())


def test_unique_all_values_gather_first_occurrences():
    x = cr.tensor([3.0, 1.0, 3.0, 2.0], requires_grad=True)
    res = np.unique_all(x)
    np.testing.assert_array_equal(res.values.detach().numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(res.counts.numpy(), [1, 1, 2])
    res.values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 0.0, 1.0])


def test_vmap_of_value_reading_functions_matches_a_loop():
    xs = RNG.standard_normal((3, 5))
    fp = RNG.standard_normal((3, 4))
    xp = np.array([-1.0, 0.0, 0.5, 1.5])
    got = cr.vmap(lambda a, f: np.interp(a, xp, f))(cr.tensor(xs), cr.tensor(fp))
    for k in range(3):
        np.testing.assert_allclose(got.numpy()[k], np.interp(xs[k], xp, fp[k]))


def test_nan_to_num_copy_false_updates_the_tensor_in_place():
    x = cr.tensor([np.nan, 1.0, np.inf])
    assert np.nan_to_num(x, copy=False) is x
    np.testing.assert_array_equal(x.numpy(), np.nan_to_num(np.array([np.nan, 1.0, np.inf], np.float32)))


def test_full_like_with_a_differentiable_fill_value_keeps_its_history():
    v = cr.tensor(2.5, dtype=cr.float64, requires_grad=True)
    out = np.full_like(cr.zeros(2, 3, dtype=cr.float64), v)
    assert out.shape == (2, 3) and out.requires_grad
    out.sum().backward()
    assert v.grad.item() == 6.0


def test_vector_gufuncs_match_numpy_and_torch():
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal(4)
    _against_torch(lambda x, y: np.vecdot(x, y), torch.linalg.vecdot, a, b)
    _against_torch(lambda x, y: np.matvec(x, y), lambda x, y: x @ y, a, b)
    _against_torch(lambda x, y: np.vecmat(x, y), lambda x, y: x @ y, a[0, :, 0], a)
    got = np.vecdot(cr.tensor(a), cr.tensor(a), axis=1)
    np.testing.assert_allclose(got.numpy(), np.vecdot(a, a, axis=1))
    with pytest.raises(TypeError, match="vecdot"):
        np.vecdot(cr.tensor(a), cr.tensor(a), axes=[(1,), (1,), ()])
    with pytest.raises(ValueError, match="vecdot"):
        np.vecdot(cr.tensor(a), cr.tensor(b[:3]))


def test_integer_ufuncs_give_numpys_values_and_refuse_floats():
    a, b = np.array([12, -7, 5, 0]), np.array([8, 3, 2, 5])
    for fn in (np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.gcd, np.lcm, np.left_shift, np.right_shift):
        np.testing.assert_array_equal(fn(cr.tensor(a), cr.tensor(b)).numpy(), fn(a, b))
        np.testing.assert_array_equal(cr.tensor(a).numpy(), a)
    np.testing.assert_array_equal(np.invert(cr.tensor(a)).numpy(), np.invert(a))
    np.testing.assert_array_equal((np.array([3, 5]) & cr.tensor([1, 4])).numpy(), [1, 4])
    with pytest.raises(TypeError, match="bitwise_and"):
        cr.bitwise_and(cr.tensor([1.5]), cr.tensor([2.0]))
