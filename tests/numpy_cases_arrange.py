"""NumPy's arrange functions on tensors: the cases that ``test_numpy_semantics`` (forward against
NumPy, dtypes, NumPy's errors, gradients) and ``test_arrange`` (exact values, list/tuple results)
run. ``FUNCTION_CASES`` maps each NumPy function to ``(label, call, arrays)`` cases."""

from __future__ import annotations

import numpy as np


def joined(function, **kwargs):
    """``function`` of a sequence, called with the arrays as separate arguments."""
    def call(*arrays, **more):
        return function(arrays, **kwargs, **more)

    call.key = function  # type: ignore[attr-defined]
    return call


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
    ("stack", joined(np.stack), (A34, A34), {"axis": -1}),
    ("vstack", joined(np.vstack), (A5, A5), {}), ("vstack-2d", joined(np.vstack), (A34, A34[:1]), {}),
    ("vstack-0d", joined(np.vstack), (A0, A0), {}), ("hstack", joined(np.hstack), (A34, A34[:, :2]), {}),
    ("hstack-1d", joined(np.hstack), (A5, A5), {}), ("hstack-0d", joined(np.hstack), (A0, A5), {}),
    ("dstack", joined(np.dstack), (A34, A34), {}), ("dstack-1d", joined(np.dstack), (A5, A5), {}),
    ("column_stack", joined(np.column_stack), (A5[:3], A34), {}), ("column_stack-0d", joined(np.column_stack), (A0, A0), {}),
    ("concatenate-none", joined(np.concatenate, axis=None), (A34, A5), {}),
    ("concatenate-neg", joined(np.concatenate, axis=-1), (A34, A34), {}),
    ("vstack-dtype", joined(np.vstack, dtype=np.float32), (A5, A5), {}),
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


# NumPy raises for these: chainrule must raise too (a ValueError, TypeError or IndexError).
ERRORS = [
    ("split-unequal", np.split, (A5, 2), {}), ("split-axis", np.split, (A34, 2), {"axis": 2}),
    ("array_split-zero", np.array_split, (A5, 0), {}), ("hsplit-0d", np.hsplit, (A0, 1), {}),
    ("vsplit-1d", np.vsplit, (A5, 1), {}), ("dsplit-2d", np.dsplit, (A34, 2), {}),
    ("diag-3d", np.diag, (A234,), {}), ("diagonal-1d", np.diagonal, (A5,), {}),
    ("diagonal-same-axes", np.diagonal, (A34,), {"axis1": 1, "axis2": -1}), ("tril-0d", np.tril, (A0,), {}),
    ("fliplr-1d", np.fliplr, (A5,), {}), ("flipud-0d", np.flipud, (A0,), {}),
    ("rot90-same", np.rot90, (A34,), {"axes": (0, 0)}), ("rot90-wrap", np.rot90, (A34,), {"axes": (0, -2)}),
    ("rot90-three", np.rot90, (A234,), {"axes": (0, 1, 2)}), ("rot90-range", np.rot90, (A34,), {"axes": (0, 2)}),
    ("moveaxis-range", np.moveaxis, (A34, 0, 2), {}), ("moveaxis-count", np.moveaxis, (A234, (0, 1), 2), {}),
    ("moveaxis-repeated", np.moveaxis, (A234, (0, 0), (1, 2)), {}), ("swapaxes-range", np.swapaxes, (A34, 0, 3), {}),
    ("roll-axis-range", np.roll, (A34, 1), {"axis": 2}), ("roll-mismatch", np.roll, (A34, (1, 2, 3)), {"axis": (0, 1)}),
    ("repeat-counts", np.repeat, (A34, [1, 2]), {"axis": 0}), ("repeat-negative", np.repeat, (A34, -1), {}),
    ("repeat-axis-range", np.repeat, (A34, 2), {"axis": 2}), ("expand_dims-range", np.expand_dims, (A34, 3), {}),
    ("expand_dims-repeated", np.expand_dims, (A34, (0, 0)), {}), ("squeeze-size", np.squeeze, (A34,), {"axis": 0}),
    ("vstack-empty", joined(np.vstack), (), {}), ("vstack-shapes", joined(np.vstack), (A34, A5), {}),
    ("hstack-shapes", joined(np.hstack), (A34, A5), {}), ("ravel-order", np.ravel, (A34,), {"order": "X"}),
    ("pad-negative", np.pad, (A34, -1), {}), ("pad-float", np.pad, (A34, 1.5), {}),
    ("pad-shape", np.pad, (A34, ((1, 2, 3),)), {}), ("pad-mode", np.pad, (A34, 1), {"mode": "nonsense"}),
    ("pad-keyword", np.pad, (A34, 1), {"mode": "edge", "constant_values": 1}),
    ("pad-empty-edge", np.pad, (E03, 1), {"mode": "edge"}),
    ("append-ndim", np.append, (A34, A5), {"axis": 0}), ("diff-0d", np.diff, (A0,), {}),
    ("diff-negative", np.diff, (A5,), {"n": -1}), ("diff-axis", np.diff, (A34,), {"axis": 2}),
    ("ediff1d-cast", np.ediff1d, (I34,), {"to_begin": [0.5]}),
    ("concatenate-0d", joined(np.concatenate), (A0, A0), {}),
]


def _bound(fn, kwargs):
    def call(*arrays):
        return fn(*arrays, **kwargs)

    return call


# Gradients not checked: a float32 result (central differences in float64 need float64) and an
# empty input (nothing to differentiate).
NO_GRADIENT = {"vstack-dtype", "pad-empty"}

FUNCTION_CASES: dict = {}
for _label, _fn, _arrays, *_kwargs in CASES + ERRORS:
    _key = getattr(_fn, "key", _fn)
    _call = _bound(_fn, _kwargs[0] if _kwargs else {})
    FUNCTION_CASES.setdefault(_key, []).append((_label, _call, _arrays, _label not in NO_GRADIENT))
