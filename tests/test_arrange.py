"""The arrange family: stacking, splitting, triangles, diagonals, repeating, rolling, rotating,
moving axes, padding and differences, as ``cr.<name>`` (PyTorch's arguments) and through NumPy
on tensors (NumPy's exact signatures and results); lists of tensors handed to NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

from numpy_cases_arrange import A0, A5, A34, A234, CASES, E03, I34, joined  # noqa: E402, F401


def _check(got, want):
    if isinstance(want, (list, tuple)):
        assert type(got) is type(want), (type(got), type(want))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _check(g, w)
        return
    assert isinstance(got, cr.Tensor), type(got)
    w = np.asarray(want)
    g = np.asarray(got.detach())
    assert g.shape == w.shape, (g.shape, w.shape)
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("label, fn, arrays, kwargs", [c if len(c) == 4 else (*c, {}) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_numpy_functions_on_tensors_give_numpy_results(label, fn, arrays, kwargs):
    want = fn(*arrays, **kwargs)
    tensors = [cr.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]
    _check(fn(*tensors, **kwargs), want)
    floats = [i for i, a in enumerate(arrays) if isinstance(a, np.ndarray) and a.dtype == np.float64]
    if not floats:
        return
    tracked = [cr.tensor(a, requires_grad=True) if i in floats else t for i, (a, t) in enumerate(zip(arrays, tensors))]
    out = fn(*tracked, **kwargs)
    outs = out if isinstance(out, (list, tuple)) else [out]
    total = sum(o.sum() for o in outs if o._data.dtype.kind == "f")
    if isinstance(total, cr.Tensor):
        total.backward()
        grad = tracked[floats[0]].grad  # the history reached the input: ones where it was used
        assert grad is not None and grad.shape == arrays[floats[0]].shape
