"""op_db entries for NumPy's remaining ufuncs (``ops/ufuncs.py``): each as ``cr.NAME``, its
aliases, the Tensor method and NumPy's ufunc on tensors; samples away from kinks and poles, in
broadcasting pairs and 0-d."""

from __future__ import annotations

import numpy as np
from op_db import BINARY_SHAPES, NONDIFFERENTIABLE, S, entry, nonzero, unary_samples, uniform

import chainrule as cr
from chainrule.ops import ufuncs as U


def _in(lo, hi):
    return lambda rng, shape: uniform(rng, shape, lo, hi)


# ---------------------------------------------------------------------------------------------
# Unary functions: cr.NAME in four shapes, the method, the aliases, np.<ufunc>
# ---------------------------------------------------------------------------------------------

UNARY = {
    "arccosh": (_in(1.2, 3.0), ("acosh",), "arccosh"),
    "arcsinh": (_in(-2.0, 2.0), ("asinh",), "arcsinh"),
    "arctanh": (_in(-0.8, 0.8), ("atanh",), "arctanh"),
    "exp2": (_in(-2.0, 2.0), (), "exp2"),
    "cbrt": (nonzero, (), "cbrt"),
    "fabs": (nonzero, (), "fabs"),
    "deg2rad": (_in(-200.0, 200.0), ("radians",), "deg2rad"),
    "rad2deg": (_in(-3.0, 3.0), ("degrees",), "rad2deg"),
    "sinc": (nonzero, (), "sinc"),  # smooth at 0, but its rule's cancellation near 0 is float64's
}

for _name, (_make, _aliases, _np_name) in UNARY.items():
    entry(_name, getattr(cr, _name), _name, unary_samples(_make))
    entry(f"{_name}.method", lambda x, _n=_name: getattr(x, _n)(), _name, unary_samples(_make, [(2, 3)]))
    entry(f"np.{_np_name}", lambda x, _f=getattr(np, _np_name): _f(x), _name, unary_samples(_make, [(), (2, 3)]))
    for _alias in _aliases:
        entry(f"cr.{_alias}", getattr(cr, _alias), _name, unary_samples(_make, [(2, 3)]))
        if hasattr(np, _alias):
            entry(f"np.{_alias}", lambda x, _f=getattr(np, _alias): _f(x), _name, unary_samples(_make, [(3,)]))


# ---------------------------------------------------------------------------------------------
# Binary functions
# ---------------------------------------------------------------------------------------------

def _pairs(maker_x, maker_y, shapes=BINARY_SHAPES):
    return lambda rng: [S(maker_x(rng, sx), maker_y(rng, sy)) for sx, sy in shapes]


def _off_integers(margin=0.05):
    """Pairs ``(x, y)`` (broadcasting shapes) whose ratio ``x / y`` is at least ``margin`` from
    every integer: away from the jumps of remainder (floor) and fmod (trunc)."""

    def samples(rng):
        out = []
        for sx, sy in BINARY_SHAPES:
            for _ in range(10_000):
                x, y = uniform(rng, sx, -3.0, 3.0), nonzero(rng, sy, 0.4, 2.0)
                q = x / y
                if np.all(np.abs(q - np.round(q)) > margin):
                    break
            else:
                raise AssertionError("no sample away from the jumps")
            out.append(S(x, y))
        return out

    return samples


def _scalar_divisor(c, shapes=((), (2, 3))):
    """``x`` with ``x / c`` away from the integers."""
    return lambda rng: [S(c * (rng.integers(-3, 3, size=s) + uniform(rng, s, 0.1, 0.9))) for s in shapes]


def _scalar_dividend(c, shapes=((), (2, 3))):
    """``y`` with ``c / y`` away from the integers: ``c / y`` in (k + 0.1, k + 0.9), k = 1..3."""
    return lambda rng: [S(c / (rng.integers(1, 4, size=s) + uniform(rng, s, 0.1, 0.9))
                          * rng.choice([-1.0, 1.0], size=s)) for s in shapes]


_two = _pairs(uniform, uniform, BINARY_SHAPES[:1])
_nonzero_pairs = _pairs(nonzero, nonzero)

entry("arctan2", cr.arctan2, "arctan2", _pairs(uniform, nonzero))  # x1 off 0: no branch cut
entry("cr.atan2", cr.atan2, "arctan2", _pairs(uniform, nonzero, BINARY_SHAPES[1:2]))
entry("arctan2.method", lambda x, y: x.arctan2(y), "arctan2", _pairs(nonzero, uniform, BINARY_SHAPES[:1]))
entry("np.arctan2", lambda x, y: np.arctan2(x, y), "arctan2", _pairs(nonzero, uniform, BINARY_SHAPES[2:3]))
entry("arctan2_scalar", lambda x: cr.arctan2(x, -1.5), "arctan2", unary_samples(nonzero, [(), (2, 3)]))
entry("hypot", cr.hypot, "hypot", _nonzero_pairs)
entry("hypot.method", lambda x, y: x.hypot(y), "hypot", _pairs(nonzero, nonzero, BINARY_SHAPES[:1]))
entry("np.hypot", lambda x, y: np.hypot(x, y), "hypot", _pairs(nonzero, nonzero, BINARY_SHAPES[3:4]))
entry("hypot_scalar", lambda x: cr.hypot(3.0, x), "hypot", unary_samples(nonzero, [(), (2, 3)]))
entry("logaddexp2", cr.logaddexp2, "logaddexp2", _pairs(uniform, uniform))
entry("logaddexp2.method", lambda x, y: x.logaddexp2(y), "logaddexp2", _two)
entry("np.logaddexp2", lambda x, y: np.logaddexp2(x, y), "logaddexp2", _pairs(uniform, uniform, BINARY_SHAPES[4:5]))
entry("logaddexp2_scalar", lambda x: cr.logaddexp2(x, 0.5), "logaddexp2", unary_samples(uniform, [(), (2, 3)]))
entry("copysign", cr.copysign, "copysign", _nonzero_pairs)
entry("copysign.method", lambda x, y: x.copysign(y), "copysign", _pairs(nonzero, nonzero, BINARY_SHAPES[:1]))
entry("np.copysign", lambda x, y: np.copysign(x, y), "copysign", _pairs(nonzero, nonzero, BINARY_SHAPES[5:6]))
entry("copysign_scalar", lambda x: cr.copysign(x, -1.0), "copysign", unary_samples(nonzero, [(), (2, 3)]))

_floor_pairs = _off_integers()
_trunc_pairs = _off_integers()
entry("remainder", cr.remainder, "remainder", _floor_pairs)
entry("cr.mod", cr.mod, "remainder", lambda rng: _floor_pairs(rng)[1:2])
entry("remainder.method", lambda x, y: x.remainder(y), "remainder", lambda rng: _floor_pairs(rng)[:1])
entry("np.remainder", lambda x, y: np.remainder(x, y), "remainder", lambda rng: _floor_pairs(rng)[2:3])
entry("np.mod", lambda x, y: np.mod(x, y), "remainder", lambda rng: _floor_pairs(rng)[3:4])
entry("mod_operator", lambda x, y: x % y, "remainder", _floor_pairs)
entry("mod_operator_scalar_right", lambda x: x % 1.5, "remainder", _scalar_divisor(1.5))
entry("mod_operator_negative_divisor", lambda x: x % -1.5, "remainder", _scalar_divisor(-1.5))
entry("mod_operator_scalar_left", lambda y: 2.5 % y, "remainder", _scalar_dividend(2.5))
entry("fmod", cr.fmod, "fmod", _trunc_pairs)
entry("fmod.method", lambda x, y: x.fmod(y), "fmod", lambda rng: _trunc_pairs(rng)[:1])
entry("np.fmod", lambda x, y: np.fmod(x, y), "fmod", lambda rng: _trunc_pairs(rng)[5:6])
entry("fmod_scalar_right", lambda x: cr.fmod(x, -1.5), "fmod", _scalar_divisor(-1.5))
entry("fmod_scalar_left", lambda y: cr.fmod(-2.5, y), "fmod", _scalar_dividend(-2.5))

# ---------------------------------------------------------------------------------------------
# Not differentiable: any/all, and the divisions in remainder's and fmod's rules
# ---------------------------------------------------------------------------------------------

_Z = np.array([[0.0, -1.0, 2.0], [0.0, 0.0, 0.0]])
_Q = np.array([[7.5, -7.5, 2.0], [-0.5, 3.0, 1.0]])
_D = np.array([[2.0, 2.0, -0.75], [1.5, -4.0, 0.3]])

NONDIFFERENTIABLE.update({
    "any": (lambda a: cr.any(a, dim=1), lambda a: np.any(a, axis=1), (_Z,)),
    "all": (lambda a: a.all(), np.all, (_Z,)),
    "floor_divide": (U.floor_divide_, np.floor_divide, (_Q, _D)),
    "trunc_divide": (U.trunc_divide_, lambda a, b: np.trunc(a / b), (_Q, _D)),
})
