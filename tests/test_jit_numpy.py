"""Every NumPy function chainrule dispatches, under ``cr.jit``: traced at its case's arrays, then
called on the same arrays with their values permuted (the same shapes, dtypes and domain),
against eager mode on those values. A function that reads its tensors' values outside the
operations (a query: ``np.nanargmax``, ``np.count_nonzero``, ``np.unique``) must have its
compiled call read them again, never return what the trace saw.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_numpy_semantics import FUNCTION_CASES, _name

import chainrule as cr

RNG = np.random.default_rng(21)


def _moved(a, k):
    if not isinstance(a, np.ndarray) or a.size < 2:
        return a
    rng = np.random.default_rng(k)
    return rng.permutation(a.reshape(-1)).reshape(a.shape).astype(a.dtype)


def _tensors(args):
    return [cr.tensor(a) if isinstance(a, np.ndarray) and a.dtype.kind in "biufc" else a for a in args]


def _leaves(out):
    if isinstance(out, (tuple, list)):
        return [leaf for o in out for leaf in _leaves(o)]
    if isinstance(out, cr.Tensor):
        return [out.detach().numpy()]
    return [out]


def _cases():
    for func, cases in FUNCTION_CASES.items():
        for case in cases:
            if any(isinstance(a, np.ndarray) and a.size >= 2 for a in case.args):
                yield pytest.param(case, id=f"{_name(func)}-{case.label}")


@pytest.mark.parametrize("case", list(_cases()))
def test_jitted_numpy_functions_read_new_values(case):
    jf = cr.jit(case.call)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            jf(*_tensors(case.args))
        except Exception:  # noqa: BLE001  (NumPy's errors: test_numpy_semantics checks them)
            return
        for k in range(2):
            args = [_moved(a, k) for a in case.args]
            try:
                want = _leaves(case.call(*_tensors(args)))
            except Exception:  # noqa: BLE001
                continue
            got = _leaves(jf(*_tensors(args)))
            assert len(got) == len(want)
            for g, w in zip(got, want):
                g, w = np.asarray(g), np.asarray(w)
                assert g.shape == w.shape and g.dtype == w.dtype, f"call {k}: {g.shape} {g.dtype} vs {w.shape} {w.dtype}"
                np.testing.assert_array_equal(g, w, err_msg=f"call {k}: the compiled call on new values")


@pytest.mark.parametrize("call", [
    lambda a: np.reshape(a, (4, 3)), lambda a: np.reshape(a, -1, order="A"), lambda a: np.ones_like(a) + a,
    lambda a: np.full_like(a, 2.0) * a, lambda a: a * float(np.iscomplexobj(a)), lambda a: np.cross(a[:, :3], a[:, 1:]),
    lambda a: a[np.tril_indices_from(a[:, :3])], lambda a: np.insert(a, 1, 0.5, axis=1), lambda a: np.ravel(a, order="K"),
], ids=["reshape", "reshape-A", "ones_like", "full_like", "iscomplexobj", "cross", "tril_indices_from", "insert", "ravel-K"])
def test_functions_that_read_only_shapes_are_not_traced_again_for_new_values(call):
    """What reads only shapes, dtypes or the layout is checked on those, not on the values: new
    values of the same layout run the traced code."""
    jf = cr.jit(call)
    for _ in range(4):
        x = cr.tensor(RNG.standard_normal((3, 4)))
        np.testing.assert_array_equal(jf(x).numpy(), call(x).numpy())
    assert jf.traces == 1
