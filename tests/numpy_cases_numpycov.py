"""NumPy's remaining functions on tensors (api/numpy_extras.py, api/numpy_series.py and the
functions of ops/numpy_extras.py): the cases that ``test_numpy_semantics`` runs (forward against
NumPy with dtypes, NumPy's errors, gradients against central differences).
``FUNCTION_CASES`` maps each NumPy function to ``(label, call, arrays[, grad[, dtype]])`` cases."""

from __future__ import annotations

import numpy as np

RNG = np.random.default_rng(1212)
A34 = RNG.standard_normal((3, 4))
A234 = RNG.standard_normal((2, 3, 4))
A5 = RNG.standard_normal(5)
A3 = RNG.standard_normal(3)
A0 = np.array(0.75)
I34 = np.arange(12).reshape(3, 4) - 5
INF = np.array([np.nan, np.inf, -np.inf, 1.5, -2.0])
SORTED = np.sort(RNG.standard_normal(6))
WC = RNG.uniform(-0.3, 0.3, (3, 3)) + 2 * np.eye(3)
WC2 = RNG.uniform(-0.3, 0.3, (2, 3, 3)) + 2 * np.eye(3)


def _shape_of(call):
    return lambda *a: np.shape(call(*a))


FUNCTION_CASES: dict = {
    np.nan_to_num: [
        ("basic", np.nan_to_num, (INF,)), ("values", lambda a: np.nan_to_num(a, nan=1.0, posinf=9.0, neginf=-9.0), (INF,)),
        ("copy-positional", lambda a: np.nan_to_num(a, True, 2.0), (INF,)), ("finite-3d", np.nan_to_num, (A234,)),
        ("float32", np.nan_to_num, (INF.astype(np.float32),)), ("int", np.nan_to_num, (I34,)), ("0d", np.nan_to_num, (A0,)),
    ],
    np.fix: [("2d", np.fix, (A34 * 3,)), ("0d", np.fix, (A0,)), ("int", np.fix, (I34,))],
    np.rollaxis: [
        ("last-to-front", lambda a: np.rollaxis(a, 2), (A234,)), ("start", lambda a: np.rollaxis(a, 0, 3), (A234,)),
        ("negative", lambda a: np.rollaxis(a, -1, 1), (A234,)), ("same", lambda a: np.rollaxis(a, 1, 1), (A234,)),
        ("neg-start", lambda a: np.rollaxis(a, 0, -1), (A234,)), ("start-range", lambda a: np.rollaxis(a, 0, 4), (A234,)),
        ("axis-range", lambda a: np.rollaxis(a, 3), (A234,)),
    ],
    np.real_if_close: [("real", np.real_if_close, (A34,)), ("int", np.real_if_close, (I34,))],
    np.linspace: [
        ("tensors", lambda a, b: np.linspace(a, b, 5), (A0, np.array(A0 + 1.0))),
        ("vector", lambda a, b: np.linspace(a, b, 4), (A3, A3 + 2)),
        ("no-endpoint", lambda a, b: np.linspace(a, b, 4, endpoint=False), (A3, A5[:3])),
        ("retstep", lambda a, b: np.linspace(a, b, 6, retstep=True), (A3, A5[:3])),
        ("axis", lambda a, b: np.linspace(a, b, 3, axis=-1), (A34, A34 + 1.0)),
        ("scalar-stop", lambda a: np.linspace(a, 2.0, 7), (A3,)),
        ("one", lambda a, b: np.linspace(a, b, 1), (A3, A3 + 1)), ("zero", lambda a, b: np.linspace(a, b, 0), (A3, A3 + 1)),
        ("one-no-endpoint", lambda a, b: np.linspace(a, b, 1, endpoint=False, retstep=True), (A3, A3 + 1)),
        ("dtype-int", lambda a, b: np.linspace(a, b, 5, dtype=int), (np.array(A0 * 4), np.array(A0 * 20))),
        ("float32", lambda a, b: np.linspace(a, b, 5), (A3.astype(np.float32), A3.astype(np.float32) + 1)),
        ("negative-num", lambda a, b: np.linspace(a, b, -1), (A0, A0)),
    ],
    np.copy: [("2d", np.copy, (A34,)), ("0d", np.copy, (A0,)), ("int", np.copy, (I34,))],
    np.broadcast_arrays: [
        ("two", np.broadcast_arrays, (A34, A5[:4])), ("three", np.broadcast_arrays, (A234, A34[:, :1], A0)),
        ("one", np.broadcast_arrays, (A3,)), ("mismatch", np.broadcast_arrays, (A34, A5)),
    ],
    np.resize: [
        ("grow", lambda a: np.resize(a, (4, 5)), (A34,)), ("shrink", lambda a: np.resize(a, 5), (A34,)),
        ("0d", lambda a: np.resize(a, (2, 2)), (A0,)), ("zero", lambda a: np.resize(a, (0, 3)), (A34,)),
        ("negative", lambda a: np.resize(a, (-1, 3)), (A34,)),
    ],
    np.insert: [
        ("flat", lambda a, v: np.insert(a, 2, v), (A34, A0)), ("axis", lambda a, v: np.insert(a, 1, v, axis=1), (A34, A3)),
        ("many", lambda a, v: np.insert(a, [0, 2, 2], v, axis=0), (A34, A34[:1])),
        ("slice", lambda a, v: np.insert(a, slice(0, 4, 2), v, axis=-1), (A34, A3[:2])),
        ("scalar-value", lambda a: np.insert(a, 1, 7.5, axis=0), (A34,)), ("int", lambda a: np.insert(a, 0, 2.7), (I34,)),
        ("broadcast-row", lambda a, v: np.insert(a, [1], v, axis=1), (A34, A3[:, None])),
        ("out-of-range", lambda a: np.insert(a, 9, 0.0, axis=0), (A34,)),
    ],
    np.delete: [
        ("flat", lambda a: np.delete(a, 3), (A34,)), ("axis", lambda a: np.delete(a, [0, 2], axis=1), (A34,)),
        ("slice", lambda a: np.delete(a, slice(None, None, 2), axis=0), (A234,)),
        ("mask", lambda a: np.delete(a, np.array([True, False, True, False]), axis=-1), (A34,)),
        ("out-of-range", lambda a: np.delete(a, 5, axis=0), (A34,)),
    ],
    np.round: [
        ("0", np.round, (A34 * 10,)), ("2", lambda a: np.round(a, 2), (A34,)), ("neg", lambda a: np.round(a * 100, -1), (A34,)),
        ("int", lambda a: np.round(a, -1), (I34 * 7,)), ("0d", np.round, (A0,)),
        ("out", lambda a, o: np.round(a, 1, o), (A34, np.zeros((3, 4))), False),
    ],
    np.around: [("1", lambda a: np.around(a, 1), (A234,))],
    np.ones_like: [("2d", np.ones_like, (A34,), False), ("dtype", lambda a: np.ones_like(a, dtype=int), (A34,), False),
                   ("shape", lambda a: np.ones_like(a, shape=(2, 5)), (A3,), False)],
    np.full_like: [("2d", lambda a: np.full_like(a, 2.5), (A34,), False), ("int", lambda a: np.full_like(a, 2.5), (I34,), False)],
    np.empty_like: [("shape", _shape_of(np.empty_like), (A234,), False),
                    ("dtype", lambda a: np.empty_like(a, dtype=np.float32).dtype, (A34,), False)],
    np.unique: [
        ("values", np.unique, (np.round(A34),), False),
        ("all", lambda a: np.unique(a, True, True, True), (np.round(A34 * 2),), False),
        ("axis", lambda a: np.unique(a, axis=0), (np.array([[1.0, 2.0], [0.5, 1.0], [1.0, 2.0]]),), False),
        ("distinct", np.unique, (A34,)),
        ("int", np.unique, (I34 % 3,)), ("empty", np.unique, (np.zeros(0),)),
    ],
    np.count_nonzero: [("all", np.count_nonzero, (I34,), False), ("axis", lambda a: np.count_nonzero(a, axis=1), (I34,), False),
                       ("keepdims", lambda a: np.count_nonzero(a, axis=0, keepdims=True), (A34,), False)],
    np.flatnonzero: [("2d", np.flatnonzero, (I34,), False)],
    np.argwhere: [("2d", np.argwhere, (I34,), False), ("0d", np.argwhere, (A0,), False)],
    np.searchsorted: [("left", np.searchsorted, (SORTED, A5), False),
                      ("right", lambda a, v: np.searchsorted(a, v, side="right"), (SORTED, SORTED[2:4]), False),
                      ("scalar", lambda a: np.searchsorted(a, 0.1), (SORTED,), False)],
    np.isin: [("basic", np.isin, (I34, np.array([1, 2, -5])), False),
              ("invert", lambda a, b: np.isin(a, b, invert=True), (I34, np.array([0, 3])), False)],
    np.nanargmax: [("nan", np.nanargmax, (INF,), False), ("axis", lambda a: np.nanargmax(a, axis=1), (A34,), False)],
    np.nanargmin: [("nan", np.nanargmin, (INF,), False)],
    np.isposinf: [("inf", np.isposinf, (INF,), False)],
    np.isneginf: [("inf", np.isneginf, (INF,), False)],
    np.iscomplex: [("real", np.iscomplex, (A3,), False)],
    np.isreal: [("real", np.isreal, (A3,), False)],
    np.iscomplexobj: [("real", np.iscomplexobj, (A3,), False)],
    np.isrealobj: [("real", np.isrealobj, (A3,), False)],
    np.array_equiv: [("broadcast", np.array_equiv, (A34, A34[:1]), False), ("same", np.array_equiv, (A34[:1], A34[:1].repeat(3, 0)), False)],
    np.digitize: [("bins", np.digitize, (A5, SORTED), False), ("right", lambda a, b: np.digitize(a, b, right=True), (SORTED, SORTED), False)],
    np.diag_indices_from: [("square", np.diag_indices_from, (WC,), False)],
    np.tril_indices_from: [("k", lambda a: np.tril_indices_from(a, -1), (A34,), False)],
    np.triu_indices_from: [("k", lambda a: np.triu_indices_from(a, 1), (A34,), False)],
    np.linalg.matrix_rank: [("full", np.linalg.matrix_rank, (WC,), False), ("batched", np.linalg.matrix_rank, (WC2,), False)],
    np.trapezoid: [
        ("1d", np.trapezoid, (A5,)), ("dx", lambda y: np.trapezoid(y, dx=0.5), (A34,)),
        ("x", lambda y, x: np.trapezoid(y, x), (A34, np.cumsum(np.abs(A5[:4])))),
        ("x-axis", lambda y, x: np.trapezoid(y, x, axis=0), (A34, SORTED[:3])),
        ("x-nd", lambda y, x: np.trapezoid(y, x, axis=1), (A234, np.sort(A234, axis=1))),
    ],
    np.convolve: [
        ("full", np.convolve, (A5, A3)), ("same", lambda a, v: np.convolve(a, v, "same"), (A5, A3[:2])),
        ("valid", lambda a, v: np.convolve(a, v, mode="valid"), (A5, A3)),
        ("swap", lambda a, v: np.convolve(a, v, "same"), (A3, A5)), ("int", np.convolve, (I34[0], I34[1])),
        ("scalar", np.convolve, (A0, A3)), ("empty", np.convolve, (A3, np.zeros(0))),
        ("2d", np.convolve, (A34, A3)), ("mode", lambda a, v: np.convolve(a, v, "nope"), (A5, A3)),
    ],
    np.correlate: [
        ("valid", np.correlate, (A5, A3)), ("full", lambda a, v: np.correlate(a, v, "full"), (A5, A3)),
        ("same", lambda a, v: np.correlate(a, v, "same"), (A5, A3[:2])),
        ("swap-full", lambda a, v: np.correlate(a, v, "full"), (A3, A5)),
        ("swap-same", lambda a, v: np.correlate(a, v, "same"), (A3[:2], A5)),
    ],
    np.polyval: [("vector", np.polyval, (A3, A5)), ("scalar-x", np.polyval, (A5, A0)), ("int-p", np.polyval, (I34[0], A34)),
                 ("int", np.polyval, (I34[0], I34[1]))],
    np.vander: [("square", np.vander, (A3,)), ("N", lambda x: np.vander(x, 5), (A3,)),
                ("increasing", lambda x: np.vander(x, 2, increasing=True), (A5,)), ("zero", lambda x: np.vander(x, 0), (A3,)),
                ("2d", np.vander, (A34,))],
    np.cov: [
        ("rows", np.cov, (A34,)), ("cols", lambda m: np.cov(m, rowvar=False), (A34,)), ("1d", np.cov, (A5,)),
        ("y", np.cov, (A34, A5[:4])), ("bias", lambda m: np.cov(m, bias=True), (A34,)), ("ddof", lambda m: np.cov(m, ddof=2), (A34,)),
        ("fweights", lambda m: np.cov(m, fweights=np.array([1, 2, 1, 3])), (A34,)),
        ("aweights", lambda m: np.cov(m, aweights=np.array([0.5, 2.0, 1.0, 1.5])), (A34,)),
        ("both-weights", lambda m: np.cov(m, ddof=1, fweights=np.array([1, 2, 1, 3]), aweights=np.array([0.5, 2.0, 1.0, 1.5])), (A34,)),
        ("int", np.cov, (I34,)), ("3d", np.cov, (A234,)), ("float32", lambda m: np.cov(m, dtype=np.float32), (A34,), False),
    ],
    np.corrcoef: [("rows", np.corrcoef, (A34,)), ("y", lambda x, y: np.corrcoef(x, y, rowvar=False), (A34, A34[:, :2])),
                  ("1d", np.corrcoef, (A5,))],
    np.interp: [
        ("basic", np.interp, (A5, SORTED, A34[0, :4].repeat(2)[:6])),
        ("ends", lambda x, xp, fp: np.interp(x, xp, fp, left=-7.0, right=9.0), (np.array([-5.0, 0.0, 5.0, SORTED[0], SORTED[-1]]), SORTED, A5.repeat(2)[:6]), False),
        ("ends-fp", lambda fp: np.interp([-5.0, 0.0, 5.0, SORTED[0], SORTED[-1]], SORTED, fp, left=-7.0, right=9.0), (A5.repeat(2)[:6],)),
        ("scalar-x", lambda xp, fp: np.interp(0.1, xp, fp), (SORTED, A5.repeat(2)[:6])),
        ("one-point", np.interp, (A5, SORTED[:1], A3[:1])),
        ("period", lambda fp: np.interp(A5 * 3, SORTED, fp, period=2.0), (A5.repeat(2)[:6],)),
        ("2d-x", np.interp, (A34, SORTED, A5.repeat(2)[:6])), ("lengths", np.interp, (A5, SORTED, A3)),
        ("empty", np.interp, (A5, np.zeros(0), np.zeros(0))),
    ],
    np.gradient: [
        ("1d", np.gradient, (A5,)), ("2d", np.gradient, (A34,)), ("spacing", lambda f: np.gradient(f, 0.5), (A34,)),
        ("axis", lambda f: np.gradient(f, axis=-1), (A234,)), ("edge2", lambda f: np.gradient(f, edge_order=2), (A34,)),
        ("coords", lambda f: np.gradient(f, np.array([0.0, 0.3, 1.0, 1.1, 2.0])), (A5,)),
        ("coords-edge2", lambda f: np.gradient(f, np.array([0.0, 0.3, 1.0, 1.1, 2.0]), edge_order=2), (A5,)),
        ("per-axis", lambda f: np.gradient(f, 2.0, np.array([0.0, 1.0, 1.5, 3.0])), (A34,)),
        ("int", np.gradient, (I34,)), ("small", lambda f: np.gradient(f, edge_order=2), (A34[:2],)),
    ],
    np.linalg.cond: [("2", np.linalg.cond, (WC,)), ("batched", np.linalg.cond, (WC2,)), ("-2", lambda a: np.linalg.cond(a, -2), (WC,)),
                     ("fro", lambda a: np.linalg.cond(a, "fro"), (WC,)), ("1", lambda a: np.linalg.cond(a, 1), (WC,)),
                     ("rect", np.linalg.cond, (A34,)), ("1d", np.linalg.cond, (A3,))],
    np.meshgrid: [("xy", np.meshgrid, (A3, A5)), ("ij", lambda a, b: np.meshgrid(a, b, indexing="ij"), (A3, A5)),
                  ("sparse", lambda a, b, c: np.meshgrid(a, b, c, sparse=True), (A3, A5[:2], A0)),
                  ("one", np.meshgrid, (A3,)), ("none", lambda: np.meshgrid(), ())],
}

_OPTIONAL = {
    "unstack": [("axis0", np.unstack if hasattr(np, "unstack") else None, (A34,)), ("axis", lambda a: np.unstack(a, axis=-1), (A234,)),
                ("0d", lambda a: np.unstack(a), (A0,))],
    "matrix_transpose": [("3d", getattr(np, "matrix_transpose", None), (A234,)), ("1d", getattr(np, "matrix_transpose", None), (A3,))],
    "cumulative_sum": [("1d", lambda a: np.cumulative_sum(a), (A5,)), ("initial", lambda a: np.cumulative_sum(a, axis=1, include_initial=True), (A34,)),
                       ("2d-no-axis", lambda a: np.cumulative_sum(a), (A34,)), ("dtype", lambda a: np.cumulative_sum(a, axis=0, dtype=np.float64), (I34,))],
    "cumulative_prod": [("initial", lambda a: np.cumulative_prod(a, axis=-1, include_initial=True), (A234,)),
                        ("int", lambda a: np.cumulative_prod(a, axis=0), (I34,))],
    "linalg.matmul": [("2d", lambda a, b: np.linalg.matmul(a, b), (A34, A234.transpose(0, 2, 1)))],
    "linalg.outer": [("1d", lambda a, b: np.linalg.outer(a, b), (A3, A5)), ("2d", lambda a, b: np.linalg.outer(a, b), (A34, A5))],
    "linalg.tensordot": [("axes", lambda a, b: np.linalg.tensordot(a, b, axes=1), (A34, A34.T)),
                         ("default", lambda a, b: np.linalg.tensordot(a, b), (A234, A34))],
    "linalg.vecdot": [("1d", lambda a, b: np.linalg.vecdot(a, b), (A5, A5)), ("broadcast", lambda a, b: np.linalg.vecdot(a, b), (A234, A34)),
                      ("axis", lambda a, b: np.linalg.vecdot(a, b, axis=0), (A34, A34)), ("mismatch", lambda a, b: np.linalg.vecdot(a, b), (A34, A3))],
    "linalg.diagonal": [("3d", lambda a: np.linalg.diagonal(a), (A234,)), ("offset", lambda a: np.linalg.diagonal(a, offset=1), (A34,))],
    "linalg.trace": [("3d", lambda a: np.linalg.trace(a), (A234,)), ("offset", lambda a: np.linalg.trace(a, offset=-1), (A34,))],
    "linalg.matrix_transpose": [("3d", lambda a: np.linalg.matrix_transpose(a), (A234,))],
}
for _name, _cases in _OPTIONAL.items():
    _base = np.linalg if _name.startswith("linalg.") else np
    _fn = getattr(_base, _name.rpartition(".")[2], None)
    if _fn is not None:
        FUNCTION_CASES[_fn] = _cases


# api/numpy_misc.py
def _written(fn, *rest):
    """``fn(a, *rest)`` writes into ``a``: the case's result is ``a`` afterwards (a fresh copy
    of a tensor first: the tensors of the cases are leaves)."""
    def call(a, *more):
        a = a * 1.0 if hasattr(a, "requires_grad") else a.copy()
        fn(a, *rest, *more)
        return a

    return call


P3 = np.array([2.0, -1.0, 0.5])
P5 = np.array([0.0, 0.0, 1.5, -2.0, 3.0])
FUNCTION_CASES.update({
    np.logspace: [("tensors", lambda a, b: np.logspace(a, b, 5), (A3, A3 + 1)), ("base", lambda a, b: np.logspace(a, b, 4, base=2.0, endpoint=False), (A3, A5[:3])),
                  ("base-array", lambda a: np.logspace(a, 1.0, 3, base=np.array([2.0, 3.0, 4.0]), axis=-1), (A3,)),
                  ("dtype", lambda a, b: np.logspace(a, b, 3, dtype=np.float32), (A3, A3 + 1), False)],
    np.geomspace: [("positive", lambda a, b: np.geomspace(a, b, 5), (np.abs(A3) + 0.5, np.abs(A5[:3]) + 2)),
                   ("negative", lambda a, b: np.geomspace(a, b, 4, endpoint=False), (-np.abs(A3) - 0.5, -np.abs(A5[:3]) - 2)),
                   ("axis", lambda a, b: np.geomspace(a, b, 3, axis=1), (np.abs(A3) + 0.5, np.abs(A5[:3]) + 2)),
                   ("zero", lambda a: np.geomspace(a, 2.0, 3), (np.zeros(2),))],
    np.unwrap: [("1d", np.unwrap, (np.cumsum(A5 * 3),)), ("axis", lambda p: np.unwrap(p, axis=0), (A34 * 4,)),
                ("period", lambda p: np.unwrap(p, period=3.0), (A34 * 4,)), ("discont", lambda p: np.unwrap(p, discont=4.0), (A5 * 5,))],
    np.block: [("2x2", lambda a, b, c, d: np.block([[a, b], [c, d]]), (A34, A34[:, :1], A34[:1], A34[:1, :1])),
               ("1d", lambda a, b: np.block([a, b, 1.5]), (A3, A5)), ("3-deep", lambda a: np.block([[[a]], [[a]]]), (A3,)),
               ("mismatched", lambda a: np.block([[a], a]), (A3,)), ("tuple", lambda a: np.block((a, a)), (A3,))],
    np.apply_along_axis: [("sum", lambda a: np.apply_along_axis(np.sum, 1, a), (A234,)),
                          ("vector", lambda a: np.apply_along_axis(lambda v: v * v[0], 0, a), (A34,)),
                          ("matrix", lambda a: np.apply_along_axis(np.diag, -1, a), (A34,))],
    np.apply_over_axes: [("sum", lambda a: np.apply_over_axes(np.sum, a, [0, 2]), (A234,))],
    np.polyadd: [("longer", np.polyadd, (P3, P5)), ("equal", np.polyadd, (P3, A3)), ("shorter", np.polyadd, (P5, A3[:1]))],
    np.polysub: [("sub", np.polysub, (P3, P5))],
    np.polymul: [("mul", np.polymul, (P3, P5), False), ("zeros", np.polymul, (np.zeros(2), A3), False),
                 ("grad", np.polymul, (P3, A5))],
    np.polydiv: [("div", np.polydiv, (P5[2:] * 3 + 1, A3[:2])), ("exact", np.polydiv, (np.polymul(P3, [1.0, 2.0]), P3), False),
                 ("short", np.polydiv, (A3[:1], P3))],
    np.polyder: [("1", np.polyder, (P5,)), ("2", lambda p: np.polyder(p, 2), (A5,)), ("0", lambda p: np.polyder(p, 0), (A5,))],
    np.polyint: [("1", np.polyint, (P5,)), ("k", lambda p: np.polyint(p, 2, k=[1.0, 2.0]), (A3,)),
                 ("k-scalar", lambda p: np.polyint(p, 3, k=0.5), (A3,))],
    np.extract: [("mask", lambda a: np.extract(a > 0, a), (A34,)), ("int-cond", lambda a: np.extract(I34 % 2, a), (A34,))],
    np.compress: [("axis", lambda a: np.compress([True, False, True], a, axis=0), (A34,)),
                  ("flat", lambda a: np.compress([0, 1, 1], a), (A34,)),
                  ("short", lambda a: np.compress([False, True], a, axis=1), (A34,)),
                  ("long", lambda a: np.compress([0, 0, 0, 1], a, axis=0), (A34,))],
    np.trim_zeros: [("fb", np.trim_zeros, (np.array([0.0, 0.0, 1.5, 0.0, -2.0, 0.0]),), False),
                    ("f", lambda a: np.trim_zeros(a, "f"), (np.array([0.0, 1.5, 0.0, 2.0, 0.0]),), False),
                    ("b", lambda a: np.trim_zeros(a, "b"), (np.array([0.0, 1.5, 0.0, 2.0, 0.0]),), False),
                    ("all-zero", np.trim_zeros, (np.zeros(4),))],
    np.piecewise: [("funcs", lambda x: np.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v * v]), (A5,)),
                   ("default", lambda x: np.piecewise(x, [x < -0.5, x > 0.5], [-1.0, 1.0, lambda v: v * 3]), (A34,)),
                   ("scalar", lambda x: np.piecewise(x, [x > 0], [lambda v: v + 1]), (A0,))],
    np.bincount: [("counts", np.bincount, (np.array([0, 3, 1, 3, 3]),)),
                  ("weights", lambda w: np.bincount(np.array([0, 3, 1, 3, 3]), weights=w, minlength=6), (A5,))],
    np.union1d: [("union", np.union1d, (A3, np.concatenate([A3[:1], A5])), False)],
    np.intersect1d: [("values", np.intersect1d, (A5, np.concatenate([A5[::2], A3])), False),
                     ("indices", lambda a, b: np.intersect1d(a, b, return_indices=True), (A5, A5[1:3]), False)],
    np.setdiff1d: [("values", np.setdiff1d, (np.concatenate([A5, A5[:2]]), A5[1:3]), False),
                   ("unique", lambda a, b: np.setdiff1d(a, b, assume_unique=True), (A5, A5[1:3]), False)],
    np.setxor1d: [("values", np.setxor1d, (A5, np.concatenate([A5[1:3], A3])), False)],
    np.put: [("flat", _written(np.put, [0, 5, 11]), (A34, A3)), ("cycle", _written(np.put, [1, 2, 3]), (A34, A3[:2])),
             ("negative", _written(np.put, [-1]), (A34, A0)), ("wrap", _written(np.put, [13], mode="wrap") if False else
                                                            _written(lambda a, v: np.put(a, [13], v, mode="wrap")), (A34, A0)),
             ("repeated", _written(np.put, [2, 2]), (A34, A3[:2])), ("range", _written(np.put, [12]), (A34, A0))],
    np.putmask: [("mask", lambda a, v: _written(np.putmask, a > 0)(a, v), (A34, A3))],
    np.place: [("mask", lambda a, v: _written(np.place, a > 0)(a, v), (A34, A3)),
               ("empty", lambda a: _written(np.place, a > 0)(a, np.zeros(0)), (A34,))],
    np.fill_diagonal: [("square", _written(np.fill_diagonal, 2.5), (WC,)), ("tall", _written(np.fill_diagonal), (A34.T, A3)),
                       ("wrap", lambda a: _written(np.fill_diagonal, 7.0, True)(a), (np.zeros((7, 3)),)),
                       ("cube", _written(np.fill_diagonal, -1.0), (np.zeros((3, 3, 3)),))],
    np.lexsort: [("keys", lambda a, b: np.lexsort((a, b)), (A5, np.round(A5)), False)],
    np.unravel_index: [("2d", lambda i: np.unravel_index(i, (3, 4)), (np.array([0, 5, 11]),), False)],
    np.ravel_multi_index: [("2d", lambda i, j: np.ravel_multi_index((i, j), (3, 4)), (np.array([0, 2]), np.array([1, 3])), False)],
    np.packbits: [("bits", np.packbits, (I34 > 0,), False)],
    np.unpackbits: [("bytes", np.unpackbits, (np.array([3, 255], np.uint8),), False)],
    np.einsum_path: [("path", lambda a, b: np.einsum_path("ij,jk->ik", a, b)[0], (A34, A34.T), False)],
    np.min_scalar_type: [("float", np.min_scalar_type, (A0,), False)],
    np.can_cast: [("safe", lambda a: np.can_cast(a, np.float32), (A34,), False)],
    np.histogram: [("bins", lambda a: np.histogram(a, bins=4), (A34,), False),
                   ("weights", lambda a, w: np.histogram(a, bins=3, weights=w, density=True), (A34, np.abs(A34)), False)],
    np.histogram_bin_edges: [("auto", lambda a: np.histogram_bin_edges(a, "auto"), (A5,), False)],
    np.histogram2d: [("xy", lambda x, y: np.histogram2d(x, y, bins=2), (A5, A5[::-1]), False)],
    np.histogramdd: [("xyz", lambda s: np.histogramdd(s, bins=2), (A34.T,), False)],
})
if hasattr(np, "astype"):
    FUNCTION_CASES[np.astype] = [("float32", lambda a: np.astype(a, np.float32), (A34,), False),
                                 ("same", lambda a: np.astype(a, np.float64), (A34,)), ("int", lambda a: np.astype(a, np.int64), (A34 * 3,))]

_DUPS = np.array([[3.0, 1.0, np.nan], [3.0, 2.0, 1.0]])
for _name in ("unique_values", "unique_counts", "unique_inverse", "unique_all"):
    if hasattr(np, _name):
        FUNCTION_CASES[getattr(np, _name)] = [("dups", getattr(np, _name), (_DUPS,), False),
                                              ("distinct", getattr(np, _name), (A34,)), ("int", getattr(np, _name), (I34 % 4,))]

_T4 = (RNG.uniform(-0.2, 0.2, (6, 6)) + 2 * np.eye(6)).reshape(2, 3, 6)
FUNCTION_CASES.update({
    np.linalg.tensorinv: [("ind1", lambda a: np.linalg.tensorinv(a, ind=1), (_T4.reshape(6, 2, 3),)),
                          ("ind2", np.linalg.tensorinv, (_T4.reshape(2, 3, 2, 3),)), ("ind0", lambda a: np.linalg.tensorinv(a, 0), (WC,))],
    np.linalg.tensorsolve: [("2d", np.linalg.tensorsolve, (_T4.reshape(2, 3, 2, 3), A34[:2, :3])),
                            ("axes", lambda a, b: np.linalg.tensorsolve(a, b, axes=(0,)), (_T4.reshape(2, 3, 2, 3), A34[:3, :2])),
                            ("bad", np.linalg.tensorsolve, (A234, A3))],
})

_XS = np.sort(RNG.uniform(-2, 2, 8))
FUNCTION_CASES.update({
    np.polyfit: [("line", lambda x, y: np.polyfit(x, y, 1), (_XS, 2 * _XS + RNG.standard_normal(8) * 0.1)),
                 ("cubic-2d", lambda x, y: np.polyfit(x, y, 3), (_XS, RNG.standard_normal((8, 2)))),
                 ("weights", lambda x, y, w: np.polyfit(x, y, 2, w=w), (_XS, RNG.standard_normal(8), RNG.uniform(0.5, 2, 8))),
                 ("full", lambda x, y: np.polyfit(x, y, 2, full=True)[:2], (_XS, RNG.standard_normal(8))),
                 ("cov", lambda x, y: np.polyfit(x, y, 2, cov=True), (_XS, RNG.standard_normal(8))),
                 ("cov-unscaled", lambda x, y: np.polyfit(x, y, 1, cov="unscaled"), (_XS, RNG.standard_normal((8, 3)))),
                 ("bad-deg", lambda x, y: np.polyfit(x, y, -1), (_XS, _XS))],
    np.ix_: [("two", lambda a, b: np.ix_(a, b), (np.array([0, 2]), np.array([1, 3, 0])), False)],
    np.array2string: [("2d", lambda a: np.array2string(a, precision=3), (A34,), False)],
    np.array_repr: [("1d", np.array_repr, (A3,), False)],
    np.array_str: [("0d", np.array_str, (A0,), False)],
})
