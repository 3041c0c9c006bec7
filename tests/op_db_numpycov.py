"""The entries of NumPy's remaining functions (ops/numpy_extras.py, api/numpy_extras.py,
api/numpy_series.py): the new primitives (fmax, fmin, heaviside, trunc; signbit and logical_xor
without gradient) and the NumPy functions composed from existing primitives, called as
``np.<name>`` on tensors, reaching the primitives they claim."""

from __future__ import annotations

import numpy as np
from op_db import BINARY_SHAPES, NONDIFFERENTIABLE, S, away_from, distinct, entry, uniform, well_conditioned

import chainrule as cr


def _pair(rng, sx, sy):
    """Operands of fmax/fmin: no ties (the gradient jumps there)."""
    both = distinct(rng, (int(np.prod(sx)) + int(np.prod(sy)),))
    return both[:int(np.prod(sx))].reshape(sx), both[int(np.prod(sx)):].reshape(sy)


def _pairs(rng):
    return [S(*_pair(rng, sx, sy)) for sx, sy in BINARY_SHAPES]


entry("fmax", cr.fmax, "fmax", _pairs)
entry("np.fmax", lambda x, y: np.fmax(x, y), "fmax", lambda rng: [S(*_pair(rng, (3, 4), (4,)))])
entry("fmin", lambda x, y: x.fmin(y), "fmin", _pairs)
entry("np.fmin", lambda x, y: np.fmin(x, y), "fmin", lambda rng: [S(*_pair(rng, (2, 3), (2, 3)))])
entry("heaviside", cr.heaviside, "heaviside",
      lambda rng: [S(away_from(rng, (3, 4), [0.0]), uniform(rng, (4,))),
                   S(np.array([0, 2, -1, 0]), uniform(rng, (4,)), label="zeros")])
entry("np.heaviside", lambda x, y: np.heaviside(x, y), "heaviside", lambda rng: [S(away_from(rng, (5,), [0.0]), uniform(rng, ()))])
entry("trunc", cr.trunc, "trunc", lambda rng: [S(away_from(rng, (3, 4), np.arange(-3.0, 4.0)))])
entry("np.fix", lambda x: np.fix(x), "trunc", lambda rng: [S(away_from(rng, (5,), np.arange(-3.0, 4.0)))])
entry("float_power", cr.float_power, "pow",
      lambda rng: [S(uniform(rng, (3, 4), 0.5, 2.0), uniform(rng, (4,))), S(uniform(rng, (3,), 0.5, 2.0), exponent=2.5)])
entry("nan_to_num", cr.nan_to_num, "where", lambda rng: [S(uniform(rng, (3, 4))), S(uniform(rng, ()), nan=1.0)])
entry("np.nan_to_num", lambda x: np.nan_to_num(cr.cat([x, cr.tensor([np.inf, -np.inf, np.nan])]), posinf=5.0), "where",
      lambda rng: [S(uniform(rng, (4,)))])

_I, _J = np.array([12.0, 7.0, -5.0, 0.0]), np.array([8.0, 3.0, 2.0, 5.0])


def _ints(fn):
    """``fn`` of the integer values of float tensors (the op_db's nondifferentiable checks give
    float tensors that require grad)."""
    return lambda *ts: fn(*[t.long() for t in ts])


def _int_reference(fn):
    return lambda *arrays: fn(*[a.astype(np.int64) for a in arrays])


NONDIFFERENTIABLE.update({
    "bitwise_and": (_ints(cr.bitwise_and), _int_reference(np.bitwise_and), (_I, _J)),
    "bitwise_or": (_ints(cr.bitwise_or), _int_reference(np.bitwise_or), (_I, _J)),
    "bitwise_xor": (_ints(cr.bitwise_xor), _int_reference(np.bitwise_xor), (_I, _J)),
    "bitwise_not": (_ints(cr.invert), _int_reference(np.invert), (_I,)),
    "left_shift": (_ints(cr.left_shift), _int_reference(np.left_shift), (_I, np.abs(_J))),
    "right_shift": (_ints(cr.bitwise_right_shift), _int_reference(np.right_shift), (_I, np.abs(_J))),
    "gcd": (_ints(cr.gcd), _int_reference(np.gcd), (_I, _J)),
    **({"bitwise_count": (_ints(cr.bitwise_count), _int_reference(np.bitwise_count), (_I,))}
       if hasattr(np, "bitwise_count") else {}),
    "lcm": (_ints(cr.lcm), _int_reference(np.lcm), (_I, _J)),
    "spacing": (cr.spacing, np.spacing, (np.array([1.0, -2.0, 1e10]),)),
    "nextafter": (cr.nextafter, np.nextafter, (np.array([1.0, -2.0, 0.0]), np.array([2.0, -3.0, -1.0]))),
    "signbit": (cr.signbit, np.signbit, (np.array([-1.5, 0.0, -0.0, 2.0]),)),
    "logical_xor": (cr.logical_xor, np.logical_xor, (np.array([0.0, 1.0, 2.0, 0.0]), np.array([0.0, 0.0, 1.0, 3.0]))),
})

# Rearrangements and aliases (compositions).
entry("np.rollaxis", lambda x: np.rollaxis(x, 2), "permute", lambda rng: [S(uniform(rng, (2, 3, 4)))])
entry("np.unstack", lambda x: np.unstack(x, axis=1), "getitem", lambda rng: [S(uniform(rng, (2, 3)))])
entry("np.copy", lambda x: np.copy(x), "clone", lambda rng: [S(uniform(rng, (2, 3)))])
entry("np.broadcast_arrays", lambda x, y: cr.cat(np.broadcast_arrays(x, y)), "broadcast_to",
      lambda rng: [S(uniform(rng, (3, 1)), uniform(rng, (4,)))])
entry("np.resize", lambda x: np.resize(x, (3, 5)), "getitem", lambda rng: [S(uniform(rng, (2, 3)))])
entry("np.insert", lambda x, v: np.insert(x, [1, 1], v, axis=1), ("cat", "getitem"),
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (2, 1)))])
entry("np.delete", lambda x: np.delete(x, [0, 2], axis=1), "getitem", lambda rng: [S(uniform(rng, (2, 4)))])
entry("np.matrix_transpose", lambda x: np.matrix_transpose(x), "permute", lambda rng: [S(uniform(rng, (2, 3, 4)))])
entry("np.linalg.vecdot", lambda x, y: np.linalg.vecdot(x, y), ("mul", "sum"),
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (3,)))])
entry("np.linalg.trace", lambda x: np.linalg.trace(x, offset=1), ("diagonal", "sum"), lambda rng: [S(uniform(rng, (2, 3, 4)))])
entry("np.linalg.outer", lambda x, y: np.linalg.outer(x, y), "mul", lambda rng: [S(uniform(rng, (3,)), uniform(rng, (2,)))])
entry("np.cumulative_sum", lambda x: np.cumulative_sum(x, axis=1, include_initial=True), ("cumsum", "cat"),
      lambda rng: [S(uniform(rng, (2, 3)))])
entry("np.cumulative_prod", lambda x: np.cumulative_prod(x, axis=0), "cumprod", lambda rng: [S(uniform(rng, (3, 2), 0.5, 2.0))])
entry("np.round", lambda x: np.round(x, 1), "round", lambda rng: [S(away_from(rng, (3,), np.arange(-2.0, 2.1, 0.1) + 0.05, 0.02))])
entry("np.unique", lambda x: np.unique(x), "getitem", lambda rng: [S(distinct(rng, (2, 3)))])

# Numerical functions of sequences.
entry("np.linspace", lambda a, b: np.linspace(a, b, 5), ("sub", "div", "cat"),
      lambda rng: [S(uniform(rng, ()), uniform(rng, ())), S(uniform(rng, (3,)), uniform(rng, (3,)))])
entry("np.linspace_axis", lambda a, b: np.linspace(a, b, 4, endpoint=False, axis=-1), ("sub", "div"),
      lambda rng: [S(uniform(rng, (2,)), uniform(rng, (2,)))])
entry("np.trapezoid", lambda y, x: np.trapezoid(y, x), ("sub", "sum"),
      lambda rng: [S(uniform(rng, (2, 5)), np.sort(uniform(rng, (5,))))])
entry("np.convolve", lambda a, v: np.convolve(a, v), ("getitem", "matmul"),
      lambda rng: [S(uniform(rng, (5,)), uniform(rng, (3,))), S(uniform(rng, (2,)), uniform(rng, (4,)))])
entry("np.correlate", lambda a, v: np.correlate(a, v, "same"), ("getitem", "matmul"),
      lambda rng: [S(uniform(rng, (5,)), uniform(rng, (2,)))])
entry("np.polyval", lambda p, x: np.polyval(p, x), ("mul", "add"), lambda rng: [S(uniform(rng, (3,)), uniform(rng, (4,)))])
entry("np.vander", lambda x: np.vander(x, 4), "mul", lambda rng: [S(uniform(rng, (3,)))])
entry("np.cov", lambda m: np.cov(m), ("mean", "matmul"), lambda rng: [S(uniform(rng, (3, 5)))])
entry("np.corrcoef", lambda m: np.corrcoef(m), ("matmul", "sqrt"), lambda rng: [S(uniform(rng, (3, 5)))])
entry("np.interp", lambda x, xp, fp: np.interp(x, xp, fp), ("getitem", "where"),
      lambda rng: [S(np.array([-0.3, 0.1, 0.55, 1.4]), np.array([-1.0, 0.0, 0.5, 1.0, 2.0]), uniform(rng, (5,)))])
entry("np.gradient", lambda f: np.gradient(f), ("sub", "cat"), lambda rng: [S(uniform(rng, (4, 3)))])
entry("np.gradient_coords", lambda f: np.gradient(f, np.array([0.0, 0.4, 1.0, 1.3]), edge_order=2), ("mul", "cat"),
      lambda rng: [S(uniform(rng, (4,)))])
entry("np.meshgrid", lambda x, y: cr.cat(np.meshgrid(x, y)), "broadcast_to", lambda rng: [S(uniform(rng, (3,)), uniform(rng, (2,)))])
entry("np.linalg.cond", lambda a: np.linalg.cond(a), ("svdvals", "div"), lambda rng: [S(well_conditioned(rng, (2, 3, 3)))])

# api/numpy_misc.py
entry("np.logspace", lambda a, b: np.logspace(a, b, 4, base=2.0), ("sub", "pow"),
      lambda rng: [S(uniform(rng, (2,)), uniform(rng, (2,)))])
entry("np.geomspace", lambda a, b: np.geomspace(a, b, 4), ("log10", "cat"),
      lambda rng: [S(uniform(rng, (2,), 0.5, 2.0), uniform(rng, (2,), 2.5, 4.0))])
entry("np.unwrap", lambda p: np.unwrap(p), "add", lambda rng: [S(np.cumsum(uniform(rng, (6,), 1.0, 3.0)))])
entry("np.block", lambda a, b: np.block([[a, b], [b, a]]), "cat", lambda rng: [S(uniform(rng, (2, 2)), uniform(rng, (2, 2)))])
entry("np.apply_along_axis", lambda a: np.apply_along_axis(lambda v: v * v[0], 1, a), ("mul", "getitem"),
      lambda rng: [S(uniform(rng, (2, 3)))])
entry("np.polyadd", lambda a, b: np.polyadd(a, b), ("add", "cat"), lambda rng: [S(uniform(rng, (2,)), uniform(rng, (4,)))])
entry("np.polymul", lambda a, b: np.polymul(a, b), ("getitem", "matmul"),
      lambda rng: [S(uniform(rng, (3,), 0.5, 2.0), uniform(rng, (2,), 0.5, 2.0))])
entry("np.polyder", lambda p: np.polyder(p, 2), "mul", lambda rng: [S(uniform(rng, (5,)))])
entry("np.polyint", lambda p: np.polyint(p, 2), ("div", "cat"), lambda rng: [S(uniform(rng, (3,)))])
entry("np.polydiv", lambda u, v: np.polydiv(u, v)[0], ("div", "mul", "sub"),
      lambda rng: [S(uniform(rng, (4,), 0.5, 2.0), uniform(rng, (2,), 0.5, 2.0))])
entry("np.extract", lambda a: np.extract(np.array([[True, False, True], [False, True, True]]), a), "getitem",
      lambda rng: [S(uniform(rng, (2, 3)))])
entry("np.compress", lambda a: np.compress([True, False, True], a, axis=1), "getitem", lambda rng: [S(uniform(rng, (2, 3)))])
entry("np.piecewise", lambda x: np.piecewise(x, [np.array([True, False, True, False])], [lambda v: v * v, lambda v: -v]),
      ("scatter", "where"), lambda rng: [S(uniform(rng, (4,)))])
entry("np.bincount", lambda w: np.bincount(np.array([0, 2, 2, 1, 2]), weights=w), "scatter", lambda rng: [S(uniform(rng, (5,)))])
entry("np.setxor1d", lambda a, b: np.setxor1d(a, b), "getitem",
      lambda rng: [S(distinct(rng, (4,)), distinct(rng, (3,)) + 5.0)])
entry("np.polyfit", lambda x, y: np.polyfit(x, y, 2), ("lstsq", "mul"),
      lambda rng: [S(np.sort(uniform(rng, (6,))), uniform(rng, (6,)))])
entry("np.linalg.tensorsolve", lambda a, b: np.linalg.tensorsolve(a, b), ("solve", "reshape"),
      lambda rng: [S(well_conditioned(rng, (6, 6)).reshape(2, 3, 2, 3), uniform(rng, (2, 3)))])
entry("np.vecdot", lambda x, y: np.vecdot(x, y), ("mul", "sum"), lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (3,)))])
entry("np.vecdot_axis", lambda x, y: np.vecdot(x, y, axis=0), ("mul", "sum", "permute"),
      lambda rng: [S(uniform(rng, (3, 2)), uniform(rng, (3, 1)))])
entry("np.matvec", lambda a, v: np.matvec(a, v), "matmul", lambda rng: [S(uniform(rng, (2, 3, 4)), uniform(rng, (4,)))])
entry("cr.vecmat", cr.vecmat, "matmul", lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (3, 4)))])
