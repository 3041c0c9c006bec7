"""op_db entries for the quantiles family: NaN-ignoring reductions, medians, quantiles and
percentiles (PyTorch's and NumPy's), average and ptp, and the ``axis=``/``keepdims=`` spellings
of the reductions. Inputs have distinct values (no ties: the gradient of an order statistic is
then smooth), some with NaN entries (which get no gradient, numerically too)."""

from __future__ import annotations

import numpy as np
from op_db import S, distinct, entry, nonzero, uniform

import chainrule as cr


def _with_nans(rng, shape, count=2):
    x = distinct(rng, shape)
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, size=count, replace=False)] = np.nan
    return x


def _nan_samples(rng):
    return [
        S(_with_nans(rng, (3, 4))),
        S(_with_nans(rng, (3, 4)), dim=1),
        S(_with_nans(rng, (3, 4)), dim=0, keepdim=True),
        S(_with_nans(rng, (2, 3, 2), 3), dim=(0, 2)),
        S(distinct(rng, (4,)), dim=0),
    ]


entry("nansum", lambda x, **kw: cr.nansum(x, **kw), ("where", "sum"), _nan_samples)
entry("nansum.method", lambda x: x.nansum(axis=1), ("where", "sum"), lambda rng: [S(_with_nans(rng, (2, 3), 1))])
entry("nanmean", lambda x, **kw: cr.nanmean(x, **kw), ("where", "sum", "div"), _nan_samples)
entry("nanvar", lambda x, **kw: cr.nanvar(x, **kw), ("where", "sum", "sub", "mul", "div"), _nan_samples)
entry("nanstd", lambda x, **kw: cr.nanstd(x, **kw), ("where", "sqrt"), _nan_samples)
entry("nanmax", lambda x, **kw: cr.nanmax(x, **kw), "nanmax", _nan_samples)
entry("nanmin", lambda x, **kw: cr.nanmin(x, **kw), "nanmin", _nan_samples)
entry("np.nansum", lambda x: np.nansum(x, axis=0), "sum", lambda rng: [S(_with_nans(rng, (3, 4)))])
entry("np.nanmean", lambda x: np.nanmean(x, axis=1, keepdims=True), ("sum", "div"),
      lambda rng: [S(_with_nans(rng, (3, 4)))])
entry("np.nanvar", lambda x: np.nanvar(x, axis=1, ddof=1), ("sum", "mul"), lambda rng: [S(_with_nans(rng, (3, 4)))])
entry("np.nanstd", lambda x: np.nanstd(x), "sqrt", lambda rng: [S(_with_nans(rng, (3, 4)))])
entry("np.nanmax", lambda x: np.nanmax(x, axis=1), "nanmax", lambda rng: [S(_with_nans(rng, (3, 4)))])
entry("np.nanmin", lambda x: np.nanmin(x, axis=(0, 1)), "nanmin", lambda rng: [S(_with_nans(rng, (3, 4)))])


def _median_samples(rng):
    return [S(distinct(rng, (3, 4))), S(distinct(rng, (5,))), S(distinct(rng, ())), S(distinct(rng, (2, 3, 2)))]


entry("median_all", lambda x: cr.median(x), "median", _median_samples)
entry("median.method", lambda x: x.median(), "median", lambda rng: [S(distinct(rng, (3, 4)))])
entry("median_dim", lambda x, **kw: cr.median(x, **kw).values, "gather",
      lambda rng: [S(distinct(rng, (3, 4)), dim=1), S(distinct(rng, (3, 4)), dim=0, keepdim=True),
                   S(distinct(rng, (2, 3, 2)), axis=-2)])
entry("quantile", lambda x, **kw: cr.quantile(x, **kw), ("gather", "sub", "mul", "add", "where"),
      lambda rng: [S(distinct(rng, (3, 4)), q=0.3), S(distinct(rng, (3, 5)), q=[0.1, 0.55, 0.9], dim=1),
                   S(distinct(rng, (2, 3, 2)), q=0.62, dim=0, keepdim=True),
                   S(distinct(rng, (6,)), q=0.75, interpolation="midpoint")])
entry("quantile_lower", lambda x, **kw: x.quantile(**kw), "gather",
      lambda rng: [S(distinct(rng, (3, 4)), q=[0.2, 0.7], dim=1, interpolation="lower"),
                   S(distinct(rng, (7,)), q=0.4, interpolation="nearest")])
entry("quantile_q", lambda x, q: cr.quantile(x, q, dim=-1), ("gather", "sub", "mul", "add"),
      lambda rng: [S(distinct(rng, (2, 5)), np.array([0.1, 0.35, 0.8])), S(distinct(rng, (6,)), np.array(0.3))])
entry("np.median", lambda x, **kw: np.median(x, **kw), ("gather", "mean"),
      lambda rng: [S(distinct(rng, (3, 4))), S(distinct(rng, (3, 4)), axis=1),
                   S(distinct(rng, (3, 5)), axis=1, keepdims=True), S(distinct(rng, (2, 3, 2)), axis=(0, 2))])


def _quantile_samples(scale):
    return lambda rng: [
        S(distinct(rng, (3, 5)), q=0.3 * scale),
        S(distinct(rng, (3, 5)), q=np.array([0.15, 0.6]) * scale, axis=1),
        S(distinct(rng, (2, 3, 4)), q=0.62 * scale, axis=(0, 2), keepdims=True),
        S(distinct(rng, (7,)), q=0.4 * scale, method="hazen"),
        S(distinct(rng, (7,)), q=0.4 * scale, method="median_unbiased"),
        S(distinct(rng, (7,)), q=0.5 * scale, method="averaged_inverted_cdf"),
        S(distinct(rng, (7,)), q=0.4 * scale, method="closest_observation"),
    ]


entry("np.quantile", lambda x, **kw: np.quantile(x, **kw), "gather", _quantile_samples(1.0))
entry("np.percentile", lambda x, **kw: np.percentile(x, **kw), "gather", _quantile_samples(100.0))
entry("np.average", lambda x, **kw: np.average(x, **kw), "mean",
      lambda rng: [S(uniform(rng, (3, 4))), S(uniform(rng, (3, 4)), axis=1, keepdims=True)])
def _product(pair):
    average, weights_sum = pair
    return average * weights_sum


entry("np.average_weights", lambda x, w, **kw: np.average(x, weights=w, **kw), ("mul", "sum", "div"),
      lambda rng: [S(uniform(rng, (3, 4)), nonzero(rng, (4,), 0.5, 2.0), axis=1),
                   S(uniform(rng, (2, 3)), nonzero(rng, (2, 3), 0.5, 2.0))])
entry("np.average_returned", lambda x, w: _product(np.average(x, axis=0, weights=w, returned=True)),
      "sum", lambda rng: [S(uniform(rng, (3, 4)), nonzero(rng, (3,), 0.5, 2.0))])
entry("np.ptp", lambda x, **kw: np.ptp(x, **kw), ("amax", "amin", "sub"),
      lambda rng: [S(distinct(rng, (3, 4))), S(distinct(rng, (3, 4)), axis=1, keepdims=True)])

# PyTorch's spellings: axis= for dim=, keepdims= for keepdim=.
entry("sum_axis", lambda x: x.sum(axis=0, keepdims=True), "sum", lambda rng: [S(uniform(rng, (3, 4)))])
entry("var_axis", lambda x: cr.var(x, axis=1), ("mean", "sum"), lambda rng: [S(uniform(rng, (3, 4)))])
entry("max_axis", lambda x: x.max(axis=1).values, "gather", lambda rng: [S(distinct(rng, (3, 4)))])
entry("cumsum_axis", lambda x: x.cumsum(axis=1), "cumsum", lambda rng: [S(uniform(rng, (3, 4)))])
entry("cumprod_axis", lambda x: cr.cumprod(x, axis=0), "cumprod", lambda rng: [S(nonzero(rng, (3, 4)))])
entry("logsumexp_axis", lambda x: x.logsumexp(axis=-1, keepdims=True), "logsumexp",
      lambda rng: [S(uniform(rng, (3, 4)))])

# NaN-ignoring medians and quantiles (PyTorch's nanmedian/nanquantile, NumPy's nan* forms).
entry("nanmedian_all", lambda x: cr.nanmedian(x), "nanmedian",
      lambda rng: [S(_with_nans(rng, (3, 4))), S(distinct(rng, (5,))), S(_with_nans(rng, (2, 3, 2), 3))])
entry("nanmedian_dim", lambda x, **kw: x.nanmedian(**kw).values, "gather",
      lambda rng: [S(_with_nans(rng, (3, 5)), dim=1), S(_with_nans(rng, (4, 3)), dim=0, keepdim=True)])
entry("nanquantile", lambda x, **kw: cr.nanquantile(x, **kw), ("gather", "sub", "mul", "add", "where"),
      lambda rng: [S(_with_nans(rng, (3, 6)), q=[0.2, 0.65], dim=1), S(_with_nans(rng, (4, 5), 3), q=0.4),
                   S(_with_nans(rng, (3, 4)), q=0.7, dim=0, keepdim=True, interpolation="midpoint")])
entry("np.nanmedian", lambda x, **kw: np.nanmedian(x, **kw), ("gather", "mean"),
      lambda rng: [S(_with_nans(rng, (3, 5))), S(_with_nans(rng, (3, 5)), axis=1),
                   S(_with_nans(rng, (4, 3)), axis=0, keepdims=True)])
entry("np.nanquantile", lambda x, **kw: np.nanquantile(x, **kw), "gather",
      lambda rng: [S(_with_nans(rng, (3, 6)), q=[0.15, 0.8], axis=1), S(_with_nans(rng, (3, 6)), q=0.3, method="weibull"),
                   S(_with_nans(rng, (3, 6)), q=0.3, axis=0, method="higher")])
entry("np.nanpercentile", lambda x, **kw: np.nanpercentile(x, **kw), "gather",
      lambda rng: [S(_with_nans(rng, (3, 6)), q=40.0, axis=-1)])
entry("np.nanprod", lambda x: np.nanprod(x, axis=1), ("where", "prod"), lambda rng: [S(_with_nans(rng, (3, 4)) / 2)])
entry("np.nancumsum", lambda x: np.nancumsum(x, axis=0), ("where", "cumsum"), lambda rng: [S(_with_nans(rng, (3, 4)))])
entry("np.nancumprod", lambda x: np.nancumprod(x, axis=1), ("where", "cumprod"),
      lambda rng: [S(_with_nans(rng, (3, 4)) / 2)])
