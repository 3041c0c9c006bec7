"""Order statistics and NaN-ignoring reductions: median, quantile, percentile, ptp, average, nan* reductions."""

from __future__ import annotations
