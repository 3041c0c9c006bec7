"""The quantiles family against NumPy (values, dtypes, shapes, warnings, errors) and PyTorch
(gradients): nan-reductions, median, quantile, percentile, average, ptp, cumsum/cumprod."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr

RNG = np.random.default_rng(12)


def _with_nans(shape, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    a.reshape(-1)[rng.choice(a.size, size=max(1, a.size // 5), replace=False)] = np.nan
    return a


A = _with_nans((3, 5, 4))
A[1, :, 2] = np.nan  # an all-NaN slice along axis 1
CLEAN = np.nan_to_num(A, nan=0.25)


def _run(fn, x, *args, **kwargs):
    """(result or exception, sorted warning messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn(x, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - compared below
            out = exc
    return out, sorted(str(w.message) for w in caught if issubclass(w.category, RuntimeWarning))


def _same_as_numpy(fn, a, *args, warn=True, exact=True, **kwargs):
    expected, expected_warnings = _run(fn, a, *args, **kwargs)
    got, got_warnings = _run(fn, cr.tensor(a, requires_grad=a.dtype.kind == "f"), *args, **kwargs)
    if isinstance(expected, Exception):
        assert isinstance(got, type(expected)), (got, expected)
        return
    assert not isinstance(got, Exception), got
    expected_parts = expected if isinstance(expected, tuple) else (expected,)
    got_parts = got if isinstance(got, tuple) else (got,)
    for e, g in zip(expected_parts, got_parts):
        g = g.detach().numpy()
        e = np.asarray(e)
        assert g.shape == e.shape and g.dtype == e.dtype, (g.shape, g.dtype, e.shape, e.dtype)
        if exact:
            np.testing.assert_array_equal(g, e)
        else:
            np.testing.assert_allclose(g, e, rtol=1e-15, atol=1e-15)
    if warn:
        assert [w.split(" (")[0] for w in got_warnings] == expected_warnings


NAN_KWARGS = [{}, {"axis": 1}, {"axis": -1}, {"axis": (0, 2), "keepdims": True}, {"axis": None, "keepdims": True}]


@pytest.mark.parametrize("kwargs", NAN_KWARGS, ids=str)
@pytest.mark.parametrize("name", ["nansum", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nan_reductions_match_numpy(name, kwargs, dtype):
    _same_as_numpy(getattr(np, name), A.astype(dtype), **kwargs)


@pytest.mark.parametrize("name, kwargs", [
    ("nansum", {"axis": 1, "dtype": np.float32}),
    ("nansum", {"axis": 1, "where": A[0] > 0}), ("nanmean", {"axis": 1, "where": A[0] > 0}),
    ("nanmean", {"axis": 2, "dtype": np.float32}), ("nanvar", {"axis": 1, "ddof": 1}),
    ("nanvar", {"axis": 0, "ddof": 3}), ("nanstd", {"axis": 1, "correction": 1}),
    ("nanvar", {"axis": 1, "where": A[0] > 0}), ("nanstd", {"axis": 2, "dtype": np.float32}),
    ("nanmax", {"axis": 1, "initial": 0.5}), ("nanmin", {"axis": 1, "where": A[0] > 0, "initial": 1.0}),
    ("nanmax", {"axis": 1, "where": A[0] > 0}), ("nanvar", {"ddof": 1, "correction": 1}),
    ("nanmean", {"dtype": np.int64}),
], ids=str)
def test_nan_reduction_keywords_match_numpy(name, kwargs):
    _same_as_numpy(getattr(np, name), A, **kwargs)


def test_nansum_initial_is_added_as_numpy_does():
    # NumPy starts its sum at ``initial``; chainrule's np.sum adds it to the sum (last bit may differ).
    _same_as_numpy(np.nansum, A, axis=0, initial=2.0, exact=False)


@pytest.mark.parametrize("name, kwargs", [
    ("nanprod", {}), ("nanprod", {"axis": 1, "keepdims": True}), ("nanprod", {"axis": 1, "where": A[0] > 0}),
    ("nanprod", {"dtype": np.float32, "initial": 2.0}), ("nancumsum", {}), ("nancumsum", {"axis": 1}),
    ("nancumsum", {"axis": -1, "dtype": np.float32}), ("nancumprod", {"axis": 0}), ("nancumprod", {}),
], ids=str)
def test_nan_filled_functions_match_numpy(name, kwargs):
    _same_as_numpy(getattr(np, name), A / 2, exact="initial" not in kwargs, **kwargs)
    _same_as_numpy(getattr(np, name), np.arange(12).reshape(3, 4) - 5, **{k: v for k, v in kwargs.items() if k != "where"})


@pytest.mark.parametrize("name", ["nansum", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin"])
def test_nan_reductions_of_integers_are_the_plain_ones(name):
    _same_as_numpy(getattr(np, name), np.arange(12).reshape(3, 4) - 5, axis=1)


def test_nan_reductions_of_empty_slices():
    empty = np.ones((2, 0))
    for name in ["nansum", "nanmean", "nanvar", "nanmax"]:
        _same_as_numpy(getattr(np, name), empty, axis=1)
        _same_as_numpy(getattr(np, name), empty, axis=0)


def test_nan_entries_and_all_nan_slices_get_no_gradient():
    for name in ["nansum", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin"]:
        x = cr.tensor(A, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            y = getattr(np, name)(x, axis=1)
        cr.where(cr.isnan(y), 0.0, y).sum().backward()
        g = x.grad.numpy()
        assert np.isfinite(g).all(), name
        assert (g[np.isnan(A)] == 0).all(), name


def test_nan_reduction_gradients_equal_pytorch():
    torch = pytest.importorskip("torch")
    a = A[0]  # no all-NaN slice
    w = RNG.standard_normal(4)
    pairs = [
        (lambda x: cr.nansum(x, dim=0), lambda t: torch.nansum(t, dim=0)),
        (lambda x: cr.nanmean(x, dim=0), lambda t: torch.nanmean(t, dim=0)),
        (lambda x: x.nanmean(axis=0, keepdims=True)[0], lambda t: t.nanmean(dim=0, keepdim=True)[0]),
        (lambda x: cr.nanmax(x, dim=0), lambda t: torch.amax(torch.where(t.isnan(), -torch.inf, t), dim=0)),
        (lambda x: cr.nanmin(x, dim=0), lambda t: torch.amin(torch.where(t.isnan(), torch.inf, t), dim=0)),
        (lambda x: cr.nanvar(x, dim=0), lambda t: _torch_nanvar(torch, t, 1)),
        (lambda x: np.nanvar(x, axis=0), lambda t: _torch_nanvar(torch, t, 0)),
        (lambda x: np.nanstd(x, axis=0, ddof=1), lambda t: _torch_nanvar(torch, t, 1).sqrt()),
    ]
    for ours, theirs in pairs:
        _compare_with_torch(torch, ours, theirs, a, w)


def _torch_nanvar(torch, t, correction):
    valid = ~t.isnan()
    filled = torch.where(valid, t, 0.0)
    count = valid.sum(0)
    mean = filled.sum(0) / count
    centered = torch.where(valid, filled - mean, 0.0)
    return (centered * centered).sum(0) / (count - correction)


def _compare_with_torch(torch, ours, theirs, a, w, second=False):
    x = cr.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    y, yt = ours(x), theirs(t)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    (g,) = cr.autograd.grad((y * cr.tensor(w)).sum(), [x], create_graph=second)
    (gt,) = torch.autograd.grad((yt * torch.tensor(w)).sum(), [t], create_graph=second)
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=1e-12, atol=1e-12)
    if second:
        v = RNG.standard_normal(a.shape)
        (h,) = cr.autograd.grad((g * cr.tensor(v)).sum(), [x])
        (ht,) = torch.autograd.grad((gt * torch.tensor(v)).sum(), [t])
        np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# median, quantile, percentile
# ---------------------------------------------------------------------------------------------

METHODS = ["inverted_cdf", "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf",
           "hazen", "weibull", "linear", "median_unbiased", "normal_unbiased", "lower", "higher",
           "midpoint", "nearest"]
QS = [0.0, 0.3, 0.5, 1.0, 1, [0.1, 0.55, 1.0], np.array(0.4), np.array([[0.2], [0.9]])]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_quantile_matches_numpy_for_every_method(method, dtype):
    a = (CLEAN * 10).astype(dtype)
    for q in QS:
        for kwargs in [{}, {"axis": 1}, {"axis": (0, 2)}, {"axis": -1, "keepdims": True}]:
            _same_as_numpy(np.quantile, a, q, method=method, **kwargs)
            q100 = q * 100 if isinstance(q, (int, float)) else np.asarray(q) * 100
            _same_as_numpy(np.percentile, a, q100, method=method, **kwargs)


def test_quantile_and_median_with_nan_and_odd_shapes():
    for kwargs in [{}, {"axis": 1}, {"axis": 0, "keepdims": True}]:
        _same_as_numpy(np.quantile, A, [0.25, 0.5], **kwargs)
        _same_as_numpy(np.median, A, **kwargs)
    _same_as_numpy(np.median, np.array(3.5))
    _same_as_numpy(np.quantile, np.array(3.5), 0.3)
    _same_as_numpy(np.median, np.ones((2, 0)), axis=0)
    _same_as_numpy(np.median, np.array([]))  # NaN, "Mean of empty slice"
    _same_as_numpy(np.quantile, np.ones((2, 0)), 0.5, axis=1)  # IndexError, as NumPy


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int64, np.bool_])
def test_median_matches_numpy(dtype):
    for shape in [(3, 5, 4), (4, 6), (7,)]:
        a = (RNG.standard_normal(shape) * 5).astype(dtype)
        for kwargs in [{}, {"axis": 0}, {"axis": -1}, {"axis": (0, -1), "keepdims": True}]:
            if len(shape) == 1 and kwargs.get("axis") not in (None, 0, -1):
                continue
            _same_as_numpy(np.median, a, **kwargs)


def test_numpy_errors_are_numpys():
    x = cr.tensor(CLEAN)
    for call, exc, match in [
        (lambda: np.quantile(x, 1.5), ValueError, r"Quantiles must be in the range \[0, 1\]"),
        (lambda: np.percentile(x, -1), ValueError, r"Percentiles must be in the range \[0, 100\]"),
        (lambda: np.quantile(x, 0.5, method="foo"), ValueError, "'foo' is not a valid method"),
        (lambda: np.quantile(x, 0.5, weights=np.ones(x.shape)), ValueError, "Only method 'inverted_cdf'"),
        (lambda: np.quantile(x, 0.5, method="inverted_cdf", weights=np.ones(x.shape)), TypeError, "weights="),
        (lambda: np.quantile(x, 0.5, axis=3), np.exceptions.AxisError, "axis"),
        (lambda: np.median(x, axis=(0, 0)), ValueError, "repeated axis"),
        (lambda: np.quantile(x, np.ones((2, 2, 2)) / 2), ValueError, "q must be a scalar or 1d"),
        (lambda: np.ptp(cr.tensor([True, False])), TypeError, "boolean subtract"),
        (lambda: np.nanmax(cr.tensor(np.ones((2, 0))), axis=1), ValueError, "zero-size array"),
        (lambda: np.nanmean(x, dtype=np.int64), TypeError, "dtype must be inexact"),
    ]:
        with pytest.raises(exc, match=match):
            call()


def test_quantile_out_and_complex():
    out = cr.zeros(2, 3, 4, dtype=cr.float64)
    result = np.quantile(cr.tensor(CLEAN), [0.2, 0.8], axis=1, out=out)
    assert result is out
    np.testing.assert_array_equal(out.numpy(), np.quantile(CLEAN, [0.2, 0.8], axis=1))


def test_median_and_quantile_gradients_equal_pytorch():
    torch = pytest.importorskip("torch")
    ties = np.array([[1.0, 3.0, 3.0, 2.0, 3.0, 3.0], [5, 5, 5, 5, 5, 5], [2, 1, 2, 1, np.nan, 0]])
    smooth = RNG.standard_normal((4, 5, 6))
    for a in (ties, smooth, ties[:2]):
        cases = [
            (lambda x: cr.median(x).reshape(1), lambda t: torch.median(t).reshape(1)),
            (lambda x: cr.median(x, 1).values, lambda t: torch.median(t, 1).values),
            (lambda x: x.median(dim=0, keepdim=True).values, lambda t: t.median(dim=0, keepdim=True).values),
            (lambda x: np.median(x, axis=1), lambda t: torch.quantile(t, 0.5, dim=1)),
            (lambda x: np.quantile(x, [0.2, 0.7], axis=-1), lambda t: torch.quantile(t, _q(torch, [0.2, 0.7]), dim=-1)),
        ]
        for interpolation in ["linear", "lower", "higher", "midpoint", "nearest"]:
            for q in [0.5, [0.1, 0.37, 1.0]]:
                cases.append((lambda x, q=q, i=interpolation: cr.quantile(x, q, dim=1, interpolation=i),
                              lambda t, q=q, i=interpolation: torch.quantile(t, _q(torch, q), dim=1, interpolation=i)))
                cases.append((lambda x, q=q, i=interpolation: x.quantile(q, keepdim=True, interpolation=i),
                              lambda t, q=q, i=interpolation: t.quantile(_q(torch, q), keepdim=True, interpolation=i)))
        for ours, theirs in cases:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                y = theirs(torch.tensor(a))
            _compare_with_torch(torch, ours, theirs, a, RNG.standard_normal(tuple(y.shape)))
    indices = cr.median(cr.tensor(ties), 1).indices.numpy()
    np.testing.assert_array_equal(indices, torch.median(torch.tensor(ties), 1).indices.numpy())


def _q(torch, q):
    return torch.tensor(q, dtype=torch.float64)


def test_quantile_gradient_in_q_equals_pytorch():
    torch = pytest.importorskip("torch")
    a = np.array([1.0, 4.0, 2.0, 3.0, 9.0])
    for q in [0.3, 0.0, 1.0, 0.25, [0.1, 0.5, 0.9]]:
        for interpolation in ["linear", "lower", "midpoint"]:
            qc = cr.tensor(q, dtype=cr.float64, requires_grad=True)
            qt = torch.tensor(q, dtype=torch.float64, requires_grad=True)
            cr.quantile(cr.tensor(a), qc, interpolation=interpolation).sum().backward()
            try:
                torch.quantile(torch.tensor(a), qt, interpolation=interpolation).sum().backward()
            except RuntimeError:  # PyTorch records no history for a step function of q: gradient 0
                qt.grad = torch.zeros_like(qt)
            np.testing.assert_allclose(qc.grad.numpy(), qt.grad.numpy())


def test_torch_spellings_of_median_and_quantile():
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, np.nan, 3.0, np.nan], [4.0, 2.0, 2.0, 1.0]])
    got, want = cr.median(cr.tensor(a), dim=1), torch.median(torch.tensor(a), dim=1)
    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    assert np.isnan(cr.median(cr.tensor(a)).item())
    assert np.isnan(cr.median(cr.tensor(np.array([]))).item())
    scalar = cr.median(cr.tensor(3.0), 0)
    assert scalar.values.item() == 3.0 and scalar.indices.item() == 0
    assert cr.median(cr.tensor([3, 1, 2, 5])).item() == 2  # integers: the lower median, int64
    assert cr.quantile(cr.tensor(a[1:], dtype=cr.float32), 0.5).dtype == np.float32
    assert cr.quantile(cr.ones(3, 4), [0.2, 0.5], dim=1, keepdim=True).shape == (2, 3, 1)
    assert cr.quantile(cr.ones(3, 4), [0.2, 0.5], keepdim=True).shape == (2, 1, 1)
    for call, exc, match in [
        (lambda: cr.quantile(cr.tensor([1, 2]), 0.5), RuntimeError, "floating point"),
        (lambda: cr.quantile(cr.ones(3), 1.5), RuntimeError, r"range \[0, 1\]"),
        (lambda: cr.quantile(cr.ones(3), np.ones((2, 2)) / 2), RuntimeError, "scalar or 1-d"),
        (lambda: cr.quantile(cr.ones(3), 0.5, interpolation="hazen"), ValueError, "interpolation must be"),
        (lambda: cr.quantile(cr.ones(0), 0.5), RuntimeError, "non-empty"),
        (lambda: cr.median(cr.ones(2, 0), 1), RuntimeError, "non-zero size"),
        (lambda: cr.median(cr.ones(2, 3), dim=0, axis=0), TypeError, "both dim= and axis="),
    ]:
        with pytest.raises(exc, match=match):
            call()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nanquantile_matches_numpy_for_every_method(method, dtype):
    a = A.astype(dtype)  # NaNs, and an all-NaN slice along axis 1 (one warning per slice, as NumPy)
    for q in [0.0, 0.3, 1.0, [0.1, 0.55, 1.0], np.array(0.4)]:
        for kwargs in [{}, {"axis": 1}, {"axis": (0, 2)}, {"axis": -1, "keepdims": True}]:
            _same_as_numpy(np.nanquantile, a, q, method=method, **kwargs)
            q100 = q * 100 if isinstance(q, (int, float)) else np.asarray(q) * 100
            _same_as_numpy(np.nanpercentile, a, q100, method=method, **kwargs)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int64])
def test_nanmedian_matches_numpy(dtype):
    a = (A * 5).astype(dtype) if dtype != np.int64 else (CLEAN * 5).astype(dtype)
    for kwargs in [{}, {"axis": 0}, {"axis": 1}, {"axis": -1}, {"axis": (0, 2), "keepdims": True}]:
        _same_as_numpy(np.nanmedian, a, **kwargs)
    _same_as_numpy(np.nanmedian, np.ones((2, 0)), axis=1)


def test_nan_medians_and_quantiles_gradients_equal_pytorch():
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, np.nan, 3.0, 3.0, 2.0, 3.0], [5, 5, np.nan, 5, 5, 5], [2, 1, 2, 1, np.nan, 0]])
    smooth = _with_nans((4, 7), seed=3)
    cases = [
        (lambda x: cr.nanmedian(x).reshape(1), lambda t: torch.nanmedian(t).reshape(1), a),
        (lambda x: cr.nanmedian(x, 1).values, lambda t: torch.nanmedian(t, 1).values, a),
        (lambda x: x.nanmedian(axis=0, keepdims=True).values, lambda t: t.nanmedian(0, keepdim=True).values, smooth),
        (lambda x: np.nanmedian(x, axis=1), lambda t: torch.nanquantile(t, 0.5, dim=1), smooth),
        (lambda x: np.nanquantile(x, [0.2, 0.9], axis=0), lambda t: torch.nanquantile(t, _q(torch, [0.2, 0.9]), dim=0),
         smooth),
    ]
    for interpolation in ["linear", "lower", "higher", "midpoint", "nearest"]:
        for q in [0.5, [0.1, 0.37, 1.0]]:
            cases.append((lambda x, q=q, i=interpolation: cr.nanquantile(x, q, dim=1, interpolation=i),
                          lambda t, q=q, i=interpolation: torch.nanquantile(t, _q(torch, q), dim=1, interpolation=i), a))
            cases.append((lambda x, q=q, i=interpolation: x.nanquantile(q, interpolation=i),
                          lambda t, q=q, i=interpolation: t.nanquantile(_q(torch, q), interpolation=i), smooth))
    for ours, theirs, data in cases:
        _compare_with_torch(torch, ours, theirs, data, RNG.standard_normal(tuple(theirs(torch.tensor(data)).shape)))
    np.testing.assert_array_equal(cr.nanmedian(cr.tensor(a), 1).indices.numpy(),
                                  torch.nanmedian(torch.tensor(a), 1).indices.numpy())


def test_all_nan_slices_of_nan_quantiles_are_nan_without_gradient():
    x = cr.tensor(A, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = cr.nanquantile(x, [0.3, 0.8], dim=1)
        z = np.nanmedian(x, axis=1)
    assert np.isnan(y.detach().numpy()[:, 1, 2]).all() and np.isnan(z.detach().numpy()[1, 2])
    (cr.where(cr.isnan(y), 0.0, y).sum() + cr.where(cr.isnan(z), 0.0, z).sum()).backward()
    assert np.isfinite(x.grad.numpy()).all() and (x.grad.numpy()[np.isnan(A)] == 0).all()
    assert np.isnan(cr.nanmedian(cr.tensor([np.nan, np.nan])).item())


# ---------------------------------------------------------------------------------------------
# average, ptp
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {}, {"axis": 1}, {"axis": (0, 2), "keepdims": True}, {"returned": True}, {"axis": 1, "returned": True},
    {"axis": 1, "weights": np.arange(1.0, 6.0)}, {"weights": np.full(CLEAN.shape, 2.0), "returned": True},
    {"axis": (2, 0), "weights": np.arange(12.0).reshape(4, 3) + 1, "returned": True},
    {"axis": 1, "weights": np.arange(1, 6), "keepdims": True, "returned": True},
    {"weights": np.arange(5.0)}, {"axis": 1, "weights": np.ones(4)}, {"axis": 1, "weights": np.zeros(5)},
], ids=str)
def test_average_matches_numpy(kwargs):
    _same_as_numpy(np.average, CLEAN, **kwargs)
    _same_as_numpy(np.average, (CLEAN * 4).astype(np.int64), **kwargs)


def test_average_is_differentiable_in_the_weights():
    torch = pytest.importorskip("torch")
    a, w = RNG.standard_normal((3, 4)), RNG.uniform(0.5, 2.0, 4)
    x, wt = cr.tensor(a, requires_grad=True), cr.tensor(w, requires_grad=True)
    avg, total = np.average(x, axis=1, weights=wt, returned=True)
    (avg * total).sum().backward()
    tx, tw = torch.tensor(a, requires_grad=True), torch.tensor(w, requires_grad=True)
    tavg = (tx * tw).sum(1) / tw.sum()
    (tavg * tw.sum()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(wt.grad.numpy(), tw.grad.numpy())


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int8, np.uint8])
def test_ptp_matches_numpy(dtype):
    a = (RNG.standard_normal((3, 4)) * 60).astype(dtype)
    for kwargs in [{}, {"axis": 0}, {"axis": -1, "keepdims": True}, {"axis": (0, 1)}]:
        # (NumPy warns of integer overflow for a 0-d result only; the values wrap the same)
        _same_as_numpy(np.ptp, a, warn=False, **kwargs)
    _same_as_numpy(np.ptp, np.ones((2, 0)), axis=1)


def test_ptp_gradient_splits_ties_as_amax_and_amin():
    x = cr.tensor([[1.0, 3.0, 3.0, 0.0]], requires_grad=True)
    np.ptp(x, axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.5, 0.5, -1.0]])


# ---------------------------------------------------------------------------------------------
# cumsum and cumprod
# ---------------------------------------------------------------------------------------------

def test_cumprod_with_zeros_equals_pytorch_to_second_order():
    torch = pytest.importorskip("torch")
    for a in [np.array([[2.0, 0.0, 3.0, 0.0, 5.0], [1.0, 2.0, 0.0, 4.0, 5.0], [1.5, -2.0, 3.0, 0.5, 1.0]]),
              np.array([[0.0, 0.0, 1.0], [0.0, 2.0, 3.0]])]:
        for dim in (0, 1, -1):
            _compare_with_torch(torch, lambda x, d=dim: cr.cumprod(x, d), lambda t, d=dim: torch.cumprod(t, d),
                                a, RNG.standard_normal(a.shape), second=True)
        _compare_with_torch(torch, lambda x: x.cumsum(axis=1), lambda t: t.cumsum(1), a,
                            RNG.standard_normal(a.shape))
        _compare_with_torch(torch, lambda x: cr.prod(x, axis=1), lambda t: t.prod(1), a,
                            RNG.standard_normal(a.shape[0]), second=True)


def test_cumsum_cumprod_through_numpy():
    a = RNG.standard_normal((3, 4))
    for fn in (np.cumsum, np.cumprod):
        for kwargs in [{}, {"axis": 0}, {"axis": -1, "dtype": np.float32}]:
            _same_as_numpy(fn, a, **kwargs)
    assert cr.cumsum(cr.tensor([1, 2, 3]), 0, dtype=cr.float64).dtype == np.float64
    with pytest.raises(TypeError, match="missing the required argument dim"):
        cr.cumsum(cr.ones(3))


# ---------------------------------------------------------------------------------------------
# Cases in test_numpy_semantics' form (label, call, args): every NumPy function this family
# serves, for FUNCTION_CASES there (forward equal to NumPy's, gradients checked); run here too.
# ---------------------------------------------------------------------------------------------

_D = np.random.default_rng(7).permutation(24).reshape(2, 3, 4) * 0.37 - 4.0  # distinct values
_N = _D.copy()
_N[0, 1, 2] = _N[1, 0, 0] = np.nan
_W = np.arange(1.0, 5.0)

NUMPY_CASES = {
    np.nansum: [("3d", np.nansum, (_N,)), ("axis=1-keepdims", lambda a: np.nansum(a, axis=1, keepdims=True), (_N,))],
    np.nanmean: [("3d", np.nanmean, (_N,)), ("axis=(0,2)", lambda a: np.nanmean(a, axis=(0, 2)), (_N,))],
    np.nanvar: [("axis=2-ddof", lambda a: np.nanvar(a, axis=2, ddof=1), (_N,))],
    np.nanstd: [("axis=-1", lambda a: np.nanstd(a, axis=-1), (_N,))],
    np.nanmax: [("axis=1", lambda a: np.nanmax(a, axis=1), (_N,)), ("3d", np.nanmax, (_N,))],
    np.nanmin: [("axis=0", lambda a: np.nanmin(a, axis=0), (_N,))],
    np.average: [("weights", lambda a, w: np.average(a, axis=2, weights=w), (_D, _W)),
                 ("plain", np.average, (_D,))],
    np.ptp: [("axis=1", lambda a: np.ptp(a, axis=1), (_D,))],
    np.median: [("3d", np.median, (_D,)), ("axis=2-even", lambda a: np.median(a, axis=2), (_D,)),
                ("axis=1-odd", lambda a: np.median(a, axis=1, keepdims=True), (_D,))],
    np.quantile: [("q-list", lambda a: np.quantile(a, [0.15, 0.6], axis=2), (_D,)),
                  ("hazen", lambda a: np.quantile(a, 0.3, method="hazen"), (_D,)),
                  ("lower", lambda a: np.quantile(a, 0.3, axis=1, method="lower"), (_D,))],
    np.percentile: [("q", lambda a: np.percentile(a, 35.0, axis=(0, 2)), (_D,))],
    np.nanmedian: [("axis=2", lambda a: np.nanmedian(a, axis=2), (_N,)), ("3d", np.nanmedian, (_N,))],
    np.nanquantile: [("q-list", lambda a: np.nanquantile(a, [0.2, 0.7], axis=1), (_N,))],
    np.nanpercentile: [("q", lambda a: np.nanpercentile(a, 65.0, axis=-1), (_N,))],
    np.nanprod: [("axis=1", lambda a: np.nanprod(a / 4, axis=1), (_N,))],
    np.nancumsum: [("axis=2", lambda a: np.nancumsum(a, axis=2), (_N,)), ("flat", np.nancumsum, (_N,))],
    np.nancumprod: [("axis=0", lambda a: np.nancumprod(a / 4, axis=0), (_N,))],
}


@pytest.mark.parametrize("func, label", [(f, c[0]) for f, cs in NUMPY_CASES.items() for c in cs],
                         ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_numpy_cases(func, label):
    (_, call, args), = [c for c in NUMPY_CASES[func] if c[0] == label]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = call(*args)
        tensors = [cr.tensor(a, requires_grad=True) for a in args]
        got = call(*tensors)
    np.testing.assert_array_equal(got.detach().numpy(), want)
    assert got.dtype == np.asarray(want).dtype
    clean = [np.nan_to_num(a, nan=0.0) if np.isnan(a).any() else a for a in args]
    assert cr.autograd.gradcheck(lambda *xs: call(*xs), [cr.tensor(a, requires_grad=True) for a in clean])


@pytest.mark.parametrize("name", ["median", "nanmedian", "nanmax", "nanmin"])
def test_new_primitives_batch_by_shifting_dim(name):
    """Their batching rule ("reduce") equals applying them example by example."""
    from chainrule.core import dispatch as P
    from chainrule.transforms.batching import BatchedNamespace

    x = _with_nans((5, 3, 4), seed=9)
    ns = BatchedNamespace(P.raw, 5)
    for dim, keepdim in [(None, False), ((1,), True), ((0, 1), False)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            got = getattr(ns, name)(ns.wrap(x), dim=dim, keepdim=keepdim).value
            want = np.stack([getattr(P.raw, name)(x[b], dim=dim, keepdim=keepdim) for b in range(5)])
        np.testing.assert_array_equal(got, want)
