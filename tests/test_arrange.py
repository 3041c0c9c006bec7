"""The arrange family: stacking, splitting, triangles, diagonals, repeating, rolling, rotating,
moving axes, padding and differences, as ``cr.<name>`` (PyTorch's arguments) and through NumPy
on tensors (NumPy's exact signatures and results); lists of tensors handed to NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

RNG = np.random.default_rng(12)
A34 = RNG.standard_normal((3, 4))
A234 = RNG.standard_normal((2, 3, 4))
A5 = RNG.standard_normal(5)
A0 = np.array(1.5)
E03 = np.zeros((0, 3))
I34 = np.arange(12).reshape(3, 4)

# (label, NumPy function, arrays, keyword arguments): np.f(tensors) must equal np.f(arrays).
CASES = [
    ("tril", np.tril, (A34,), {}), ("tril-k", np.tril, (A34,), {"k": -1}), ("tril-k2", np.tril, (A34,), {"k": 2}),
    ("tril-3d", np.tril, (A234,), {"k": 1}), ("tril-1d", np.tril, (A5,), {}), ("triu", np.triu, (A34,), {}),
    ("triu-k", np.triu, (A234,), {"k": -2}), ("triu-1d", np.triu, (A5,), {"k": 1}), ("tril-int", np.tril, (I34,), {}),
    ("tril-empty", np.tril, (E03,), {}),
    ("diag-1d", np.diag, (A5,), {}), ("diag-1d-k", np.diag, (A5,), {"k": 2}), ("diag-1d-neg", np.diag, (A5,), {"k": -1}),
    ("diag-2d", np.diag, (A34,), {}), ("diag-2d-k", np.diag, (A34,), {"k": 1}), ("diag-2d-neg", np.diag, (A34,), {"k": -2}),
    ("diag-2d-far", np.diag, (A34,), {"k": 9}),
    ("diagonal", np.diagonal, (A234,), {}), ("diagonal-axes", np.diagonal, (A234,), {"offset": 1, "axis1": -1, "axis2": 0}),
    ("diagflat", np.diagflat, (A34,), {}), ("diagflat-k", np.diagflat, (A5,), {"k": -2}),
    ("trace", np.trace, (A234,), {"offset": 1, "axis1": 1, "axis2": 2}), ("trace-neg", np.trace, (A34,), {"offset": -1}),
    ("repeat", np.repeat, (A34, 2), {}), ("repeat-axis", np.repeat, (A34, 3), {"axis": 1}),
    ("repeat-each", np.repeat, (A34, [1, 0, 2]), {"axis": 0}), ("repeat-neg-axis", np.repeat, (A234, [2]), {"axis": -1}),
    ("repeat-0d", np.repeat, (A0, 3), {}), ("repeat-zero", np.repeat, (A34, 0), {"axis": 0}),
    ("tile", np.tile, (A34, (2, 1, 2)), {}), ("tile-int", np.tile, (A5, 2), {}),
    ("roll", np.roll, (A34, 1), {}), ("roll-axis", np.roll, (A34, -1), {"axis": 1}),
    ("roll-tuple", np.roll, (A234, (1, 2)), {"axis": (0, -1)}), ("roll-same-axis", np.roll, (A234, (1, 2)), {"axis": (1, 1)}),
    ("roll-broadcast", np.roll, (A234, 2), {"axis": (0, 2)}), ("roll-none-tuple", np.roll, (A34, (1, 3)), {}),
    ("roll-big", np.roll, (A5, 13), {}), ("roll-0d", np.roll, (A0, 1), {}), ("roll-empty", np.roll, (E03, 1), {"axis": 1}),
    ("rot90", np.rot90, (A34,), {}), ("rot90-k2", np.rot90, (A34,), {"k": 2}), ("rot90-k3", np.rot90, (A234,), {"k": 3}),
    ("rot90-neg", np.rot90, (A234,), {"k": -1, "axes": (2, 0)}), ("rot90-k0", np.rot90, (A34,), {"k": 4}),
    ("flip", np.flip, (A234,), {}), ("flip-axis", np.flip, (A234,), {"axis": (0, -1)}), ("fliplr", np.fliplr, (A234,), {}),
    ("flipud", np.flipud, (A5,), {}),
    ("moveaxis", np.moveaxis, (A234, 0, -1), {}), ("moveaxis-seq", np.moveaxis, (A234, [0, 1], [-1, 0]), {}),
    ("swapaxes", np.swapaxes, (A234, 0, -1), {}), ("ravel", np.ravel, (A234,), {}),
    ("ravel-F", np.ravel, (A234,), {"order": "F"}), ("ravel-K-transposed", np.ravel, (A234.transpose(2, 0, 1),), {"order": "K"}),
    ("ravel-A", np.ravel, (A34.T,), {"order": "A"}),
    ("atleast_1d", np.atleast_1d, (A0,), {}), ("atleast_2d", np.atleast_2d, (A5,), {}),
    ("atleast_3d-1d", np.atleast_3d, (A5,), {}), ("atleast_3d-2d", np.atleast_3d, (A34,), {}),
    ("atleast_3d-0d", np.atleast_3d, (A0,), {}), ("atleast_2d-many", np.atleast_2d, (A0, A5, A234), {}),
    ("expand_dims", np.expand_dims, (A34, (0, -1)), {}), ("expand_dims-neg", np.expand_dims, (A5, -1), {}),
    ("squeeze", np.squeeze, (A34.reshape(3, 1, 4, 1),), {}), ("squeeze-axis", np.squeeze, (A34.reshape(3, 1, 4, 1),), {"axis": (1, -1)}),
    ("squeeze-0d", np.squeeze, (A0,), {"axis": 0}),
    ("stack", lambda *a, **k: np.stack(a, **k), (A34, A34), {"axis": -1}),
    ("vstack", lambda *a: np.vstack(a), (A5, A5), {}), ("vstack-2d", lambda *a: np.vstack(a), (A34, A34[:1]), {}),
    ("vstack-0d", lambda *a: np.vstack(a), (A0, A0), {}), ("hstack", lambda *a: np.hstack(a), (A34, A34[:, :2]), {}),
    ("hstack-1d", lambda *a: np.hstack(a), (A5, A5), {}), ("hstack-0d", lambda *a: np.hstack(a), (A0, A5), {}),
    ("dstack", lambda *a: np.dstack(a), (A34, A34), {}), ("dstack-1d", lambda *a: np.dstack(a), (A5, A5), {}),
    ("column_stack", lambda *a: np.column_stack(a), (A5[:3], A34), {}), ("column_stack-0d", lambda *a: np.column_stack(a), (A0, A0), {}),
    ("concatenate-none", lambda *a: np.concatenate(a, axis=None), (A34, A5), {}),
    ("concatenate-neg", lambda *a: np.concatenate(a, axis=-1), (A34, A34), {}),
    ("vstack-dtype", lambda *a: np.vstack(a, dtype=np.float32), (A5, A5), {}),
    ("split", np.split, (A34, 2), {"axis": 1}), ("split-indices", np.split, (A34, [1, 3]), {"axis": -1}),
    ("split-unsorted", np.split, (A5, [3, 1, 9]), {}), ("split-negative-index", np.split, (A5, [-2]), {}),
    ("array_split", np.array_split, (A5, 3), {}), ("array_split-indices", np.array_split, (A234, [1]), {"axis": 2}),
    ("array_split-more", np.array_split, (A5, 7), {}), ("hsplit", np.hsplit, (A34, 2), {}), ("hsplit-1d", np.hsplit, (A5, [2])),
    ("vsplit", np.vsplit, (A34, 3), {}), ("dsplit", np.dsplit, (A234, [1, 2]), {}),
    ("pad-int", np.pad, (A34, 1), {}), ("pad-pair", np.pad, (A34, (1, 2)), {}), ("pad-axes", np.pad, (A34, ((0, 1), (2, 0))), {}),
    ("pad-column", np.pad, (A34, [[1], [2]]), {}), ("pad-value", np.pad, (A34, 1), {"constant_values": 7.5}),
    ("pad-values", np.pad, (A34, ((1, 2), (2, 1))), {"constant_values": ((1, 2), (3, 4))}),
    ("pad-values-pair", np.pad, (A234, 1), {"constant_values": (-1, 5)}),
    ("pad-int-values", np.pad, (I34, 1), {"constant_values": 2.7}),
    ("pad-edge", np.pad, (A34, ((2, 1), (1, 3))), {"mode": "edge"}), ("pad-reflect", np.pad, (A34, ((2, 1), (1, 3))), {"mode": "reflect"}),
    ("pad-reflect-wide", np.pad, (A34, ((5, 7), (9, 2))), {"mode": "reflect"}),
    ("pad-symmetric", np.pad, (A234, 3), {"mode": "symmetric"}), ("pad-wrap", np.pad, (A34, ((4, 5), (9, 1))), {"mode": "wrap"}),
    ("pad-reflect-1", np.pad, (A34[:1], 2), {"mode": "reflect"}), ("pad-dict", np.pad, (A34, {-1: (1, 2)}), {}),
    ("pad-0d", np.pad, (A0, 2), {}), ("pad-empty", np.pad, (E03, 1), {}),
    ("append", np.append, (A34, A5), {}), ("append-axis", np.append, (A34, A34[:1]), {"axis": 0}),
    ("diff", np.diff, (A34,), {}), ("diff-n", np.diff, (A34,), {"n": 2, "axis": 0}), ("diff-n0", np.diff, (A5,), {"n": 0}),
    ("diff-big-n", np.diff, (A5,), {"n": 7}), ("diff-prepend", np.diff, (A34,), {"prepend": 0.5, "append": A34[:, :2]}),
    ("diff-int", np.diff, (I34,), {"axis": 0}), ("diff-bool", np.diff, (A5 > 0,), {}),
    ("ediff1d", np.ediff1d, (A34,), {}), ("ediff1d-ends", np.ediff1d, (A5,), {"to_begin": [1.0, 2.0], "to_end": 3}),
    ("ediff1d-int", np.ediff1d, (I34,), {"to_end": [7]}), ("ediff1d-empty", np.ediff1d, (np.zeros(0),), {}),
]


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
