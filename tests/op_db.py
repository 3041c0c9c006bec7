"""The operation database: every primitive of ``cr.ops.PRIMITIVES``, reached through the public API.

One ``OpEntry`` per way of calling an operation (``cr.sin(x)``, ``x.sin()``, ``np.sin(x)``,
``x[idx]``, ``F.cross_entropy``, ...). Each has

- ``op``: a function of tensors (the sample's ``args``) and keyword constants (its ``kwargs``);
- ``samples``: float64 inputs inside the operation's domain, in several shapes (broadcasting,
  size-1 dimensions, 0-d scalars where meaningful). Float arrays become tensors that require
  grad; integer and bool arrays become plain tensors (indices, targets, masks);
- ``covers``: the primitive names the call reaches (``test_op_table`` checks the claim by counting
  each primitive's forward calls);
- ``tol``: gradcheck tolerances, only where a sample needs more than the defaults (float32 casts).

A few primitives are internal (``sum_to``, ``scatter``, ``scatter_add``, ``diagonal_embed``,
``alias``): they are the VJPs of public operations and the handles transforms attach to. Their
entries call them directly from ``cr.ops.shape`` (marked ``internal``); ``gradgradcheck`` of the
public operations reaches them a second time as the transposes they are.

``NONDIFFERENTIABLE`` lists the primitives made with ``nondifferentiable(...)``, each with a call
through the public API and its NumPy reference.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops import indexing as IX
from chainrule.ops import joins as JN
from chainrule.ops import shape as _shape_ops

# ---------------------------------------------------------------------------------------------
# Structure
# ---------------------------------------------------------------------------------------------


_DIFFERENTIABLE = (np.dtype(np.float64), np.dtype(np.complex128))


@dataclass(frozen=True)
class Sample:
    """One call: positional arrays (float64 ones are differentiated) and keyword constants."""

    args: tuple
    kwargs: dict
    label: str

    def tensors(self) -> list:
        """Fresh tensors for ``args``: float64 (and complex128) arrays require grad, others are
        constants."""
        out = []
        for a in self.args:
            if isinstance(a, np.ndarray) and a.dtype in _DIFFERENTIABLE:
                out.append(cr.tensor(a.copy(), requires_grad=True))
            elif isinstance(a, np.ndarray):
                out.append(cr.tensor(a.copy()))
            else:
                out.append(a)
        return out

    @property
    def differentiable(self) -> tuple:
        """Positions of the arguments that are differentiated."""
        return tuple(i for i, a in enumerate(self.args)
                     if isinstance(a, np.ndarray) and a.dtype in _DIFFERENTIABLE)

    @property
    def complex(self) -> bool:
        """Whether a differentiated argument is complex (tests/op_db_complex.py)."""
        return any(self.args[i].dtype.kind == "c" for i in self.differentiable)


@dataclass(frozen=True)
class OpEntry:
    name: str
    op: Callable
    samples: tuple
    covers: tuple
    tol: dict = field(default_factory=dict)
    internal: bool = False

    def call(self, sample: Sample, tensors=None):
        tensors = sample.tensors() if tensors is None else tensors
        return self.op(*tensors, **sample.kwargs)


def _fmt_shape(shape) -> str:
    return "(" + ",".join(str(n) for n in shape) + ")"


def _fmt_value(v) -> str:
    if isinstance(v, (tuple, list)):
        return "(" + ",".join(_fmt_value(x) for x in v) + ")"
    if isinstance(v, np.ndarray):
        return "array" + _fmt_shape(v.shape)
    if isinstance(v, cr.Tensor):
        return "tensor" + _fmt_shape(v.shape)
    if isinstance(v, float) and v == float("inf"):
        return "inf"
    if isinstance(v, slice):
        return f"{'' if v.start is None else v.start}:{'' if v.stop is None else v.stop}" + (
            f":{v.step}" if v.step is not None else "")
    return str(v)


def S(*args, label: str | None = None, **kwargs) -> Sample:
    """A sample; the label defaults to the shapes of the arrays and the keyword constants."""
    args = tuple(np.asarray(a) if isinstance(a, np.generic) else a for a in args)
    if label is None:
        shapes = [a.shape for a in args if isinstance(a, np.ndarray)]
        label = ("shape" if len(shapes) == 1 else "shapes") + "+".join(_fmt_shape(s) for s in shapes)
        shown = {k: v for k, v in kwargs.items() if not isinstance(v, np.ndarray)}
        if shown:
            label += "-" + ",".join(f"{k}={_fmt_value(v)}" for k, v in shown.items())
    return Sample(tuple(args), dict(kwargs), label)


ENTRIES: list[OpEntry] = []


def entry(name: str, op: Callable, covers, samples, *, tol=None, internal=False) -> None:
    """Add an entry; ``samples`` is a function of a seeded NumPy generator returning samples."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    made = tuple(samples(rng))
    covers = (covers,) if isinstance(covers, str) else tuple(covers)
    ENTRIES.append(OpEntry(name, op, made, covers, dict(tol or {}), internal))


# ---------------------------------------------------------------------------------------------
# Inputs inside each operation's domain
# ---------------------------------------------------------------------------------------------

UNARY_SHAPES = [(), (5,), (3, 4), (2, 1, 3)]
# Pairs of shapes that broadcast: equal, trailing, both stretched, scalar on either side, new axes.
BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((), (2, 3)), ((2, 3), ()),
                 ((2, 1, 3), (4, 1))]


def uniform(rng, shape, lo=-2.0, hi=2.0) -> np.ndarray:
    return np.asarray(rng.uniform(lo, hi, size=shape), dtype=np.float64)


def away_from(rng, shape, points, margin=0.1, lo=-2.0, hi=2.0) -> np.ndarray:
    """Uniform values at least ``margin`` from each of ``points`` (kinks, jumps)."""
    x = uniform(rng, shape, lo, hi)
    points = np.asarray(points, dtype=np.float64)
    while True:
        close = np.min(np.abs(x[..., None] - points), axis=-1) < margin
        if not close.any():
            return x
        x = np.where(close, uniform(rng, shape, lo, hi), x)


def nonzero(rng, shape, lo=0.3, hi=2.0) -> np.ndarray:
    """Values with ``lo <= |x| <= hi`` and random signs."""
    return uniform(rng, shape, lo, hi) * rng.choice([-1.0, 1.0], size=shape)


def distinct(rng, shape, lo=-2.0, hi=2.0) -> np.ndarray:
    """Values pairwise at least ``(hi - lo) / (2n)`` apart: no ties for max, min or sorting."""
    n = int(np.prod(shape))
    spacing = (hi - lo) / max(n, 1)
    x = lo + spacing * (rng.permutation(n) + 0.5 + rng.uniform(-0.25, 0.25, size=n))
    return x.reshape(shape)


def well_conditioned(rng, shape, sign=1.0) -> np.ndarray:
    """Square matrices (batched over leading dims) near ``n·I``: invertible, det of sign ``sign``."""
    n = shape[-1]
    a = n * np.eye(n) + uniform(rng, shape, -0.5, 0.5)
    if sign < 0:
        a = a.copy()
        a[..., [0, 1], :] = a[..., [1, 0], :]
    return a


def away_from_integers(rng, shape, half=False, margin=0.1) -> np.ndarray:
    points = np.arange(-3.0, 3.5, 0.5 if half else 1.0)
    return away_from(rng, shape, points, margin, -2.5, 2.5)


def unary_samples(make, shapes=UNARY_SHAPES):
    return lambda rng: [S(make(rng, s)) for s in shapes]


# ---------------------------------------------------------------------------------------------
# Elementwise: arithmetic
# ---------------------------------------------------------------------------------------------

def _binary(maker_x=uniform, maker_y=uniform):
    return lambda rng: [S(maker_x(rng, sx), maker_y(rng, sy)) for sx, sy in BINARY_SHAPES]


entry("add", lambda x, y: x + y, "add", _binary())
entry("cr.add", cr.add, "add", lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (3,)))])
entry("add_scalar_right", lambda x: x + 2.5, "add", unary_samples(uniform, [(), (3, 4)]))
entry("add_scalar_left", lambda x: 2.5 + x, "add", unary_samples(uniform, [(2, 3)]))
entry("add_ndarray_right", lambda x, c: x + c, "add",
      lambda rng: [S(uniform(rng, (3, 4)), c=np.arange(4.0))])
entry("add_ndarray_left", lambda x, c: c + x, "add",
      lambda rng: [S(uniform(rng, (3, 4)), c=np.arange(4.0))])
entry("sub", lambda x, y: x - y, "sub", _binary())
entry("cr.sub", cr.sub, "sub", lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (2, 1)))])
entry("rsub_scalar", lambda x: 1.5 - x, "sub", unary_samples(uniform, [(), (2, 3)]))
entry("mul", lambda x, y: x * y, "mul", _binary())
entry("cr.mul", cr.mul, "mul", lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (2, 3)))])
entry("mul_scalar", lambda x: x * -3.0, "mul", unary_samples(uniform, [(), (2, 3)]))
entry("mul_self", lambda x: x * x, "mul", unary_samples(uniform, [(4,)]))
entry("mul_ndarray_right", lambda x, c: x * c, "mul",
      lambda rng: [S(uniform(rng, (2, 3)), c=np.array([1.0, -2.0, 3.0]))])
entry("mul_ndarray_left", lambda x, c: c * x, "mul",
      lambda rng: [S(uniform(rng, (2, 3)), c=np.array([1.0, -2.0, 3.0]))])
entry("div", lambda x, y: x / y, "div", _binary(uniform, nonzero))
entry("cr.div", cr.div, "div", lambda rng: [S(uniform(rng, (2, 3)), nonzero(rng, (3,)))])
entry("div_scalar", lambda x: x / 4.0, "div", unary_samples(uniform, [(), (2, 3)]))
entry("rdiv_scalar", lambda x: 2.0 / x, "div", unary_samples(nonzero, [(), (2, 3)]))
entry("div_self", lambda x: x / x, "div", unary_samples(nonzero, [(3,)]))


def _pos(rng, shape):
    return uniform(rng, shape, 0.3, 2.0)


entry("pow_int", lambda x: x ** 3, "pow", unary_samples(uniform, [(), (2, 3)]))
entry("pow_two", lambda x: x ** 2, "pow", unary_samples(uniform, [(2, 3)]))
entry("pow_one", lambda x: x ** 1, "pow", unary_samples(uniform, [(2, 3)]))
entry("pow_zero", lambda x: x ** 0, "pow", unary_samples(uniform, [(2, 3)]))
entry("pow_float", lambda x: x ** 2.5, "pow", unary_samples(_pos, [(), (2, 3)]))
entry("pow_negative", lambda x: x ** -1.5, "pow", unary_samples(_pos, [(2, 3)]))
entry("pow_tensor", lambda x, y: x ** y, "pow", _binary(_pos, uniform))
entry("rpow_scalar", lambda x: 2.0 ** x, "pow", unary_samples(uniform, [(), (2, 3)]))
entry("cr.pow", cr.pow, "pow", lambda rng: [S(_pos(rng, (2, 3)), uniform(rng, (3,)))])
entry("pow_method", lambda x: x.pow(3.0), "pow", unary_samples(uniform, [(2, 3)]))
entry("neg", lambda x: -x, "neg", unary_samples(uniform))
entry("logaddexp", cr.logaddexp, "logaddexp", _binary())
entry("cr.neg", cr.neg, "neg", unary_samples(uniform, [(2, 3)]))
entry("np.add", lambda x, y: np.add(x, y), "add", lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (3,)))])
entry("np.ones*t", lambda x: np.ones(3) * x, "mul", unary_samples(uniform, [(3,), (2, 3)]))
entry("t*np.ones", lambda x: x * np.ones(3), "mul", unary_samples(uniform, [(3,), (2, 3)]))

# ---------------------------------------------------------------------------------------------
# Elementwise: math functions, each as cr.NAME(x) in four shapes and as the method x.NAME()
# ---------------------------------------------------------------------------------------------

def _in(lo, hi):
    return lambda rng, shape: uniform(rng, shape, lo, hi)


UNARY = {
    "exp": _in(-2, 2), "expm1": _in(-2, 2), "log": _in(0.2, 3), "log1p": _in(-0.8, 3),
    "log2": _in(0.2, 3), "log10": _in(0.2, 3), "sqrt": _in(0.2, 3), "rsqrt": _in(0.2, 3),
    "square": _in(-2, 2), "reciprocal": nonzero, "sin": _in(-3, 3), "cos": _in(-3, 3),
    "tan": _in(-1.2, 1.2), "arcsin": _in(-0.9, 0.9), "arccos": _in(-0.9, 0.9),
    "arctan": _in(-3, 3), "sinh": _in(-2, 2), "cosh": _in(-2, 2), "tanh": _in(-2, 2),
    "sigmoid": _in(-4, 4), "erf": _in(-2, 2),
}

for _name, _make in UNARY.items():
    entry(_name, getattr(cr, _name), _name, unary_samples(_make))
    entry(f"{_name}.method", lambda x, _n=_name: getattr(x, _n)(), _name,
          unary_samples(_make, [(2, 3)]))

for _alias, _target in [("asin", "arcsin"), ("acos", "arccos"), ("atan", "arctan")]:
    entry(f"cr.{_alias}", getattr(cr, _alias), _target, unary_samples(UNARY[_target], [(2, 3)]))

for _ufunc in ["sin", "exp", "log", "sqrt", "tanh", "arctan"]:
    _np_function = getattr(np, _ufunc)
    entry(f"np.{_ufunc}", lambda x, _u=_np_function: _u(x), _ufunc,
          unary_samples(UNARY[_ufunc], [(), (2, 3)]))

entry("sigmoid_extreme", cr.sigmoid, "sigmoid",
      lambda rng: [S(np.array([-800.0, -40.0, -1.0, 0.5, 40.0, 800.0]), label="values(-800..800)")])
entry("F.sigmoid", F.sigmoid, "sigmoid", unary_samples(_in(-4, 4), [(2, 3)]))
entry("F.tanh", F.tanh, "tanh", unary_samples(_in(-2, 2), [(2, 3)]))

# ---------------------------------------------------------------------------------------------
# Activations and piecewise functions (samples keep away from kinks and jumps)
# ---------------------------------------------------------------------------------------------

def _off_zero(rng, shape):
    return away_from(rng, shape, [0.0])


entry("relu", cr.relu, "relu", unary_samples(_off_zero))
entry("F.relu", F.relu, "relu", unary_samples(_off_zero, [(2, 3)]))
entry("relu.method", lambda x: x.relu(), "relu", unary_samples(_off_zero, [(2, 3)]))
entry("leaky_relu", lambda x, **kw: cr.leaky_relu(x, **kw), "leaky_relu",
      lambda rng: [S(_off_zero(rng, (3, 4))), S(_off_zero(rng, (2, 3)), negative_slope=0.2),
                   S(_off_zero(rng, ()), negative_slope=0.2)])
entry("F.leaky_relu", lambda x: F.leaky_relu(x, 0.1), "leaky_relu", unary_samples(_off_zero, [(2, 3)]))
entry("elu", lambda x, **kw: cr.elu(x, **kw), "elu",
      lambda rng: [S(_off_zero(rng, (3, 4))), S(_off_zero(rng, (2, 3)), alpha=1.5),
                   S(_off_zero(rng, ()), alpha=0.5)])
entry("F.elu", F.elu, "elu", unary_samples(_off_zero, [(2, 3)]))
entry("softplus", lambda x, **kw: cr.softplus(x, **kw), "softplus",
      lambda rng: [S(uniform(rng, (3, 4))), S(uniform(rng, (2, 3)), beta=2.0), S(uniform(rng, ()))])
entry("softplus_extreme", cr.softplus, "softplus",
      lambda rng: [S(np.array([-800.0, -30.0, 0.5, 30.0, 800.0]), label="values(-800..800)")])
entry("F.softplus", F.softplus, "softplus", unary_samples(uniform, [(2, 3)]))
entry("softplus_threshold", lambda x, **kw: cr.softplus(x, **kw), "softplus",  # both sides of the linear tail
      lambda rng: [S(away_from(rng, (3, 4), [1.0], 0.1, -3.0, 3.0), threshold=1.0),
                   S(away_from(rng, (2, 3), [0.5], 0.1, -3.0, 3.0), beta=2.0, threshold=1.0)])
entry("gelu", cr.gelu, ("mul", "add", "erf"), unary_samples(uniform, [(), (2, 3)]))
entry("gelu_tanh", lambda x: cr.gelu(x, approximate="tanh"), ("mul", "add", "tanh"),
      unary_samples(uniform, [(2, 3)]))
entry("F.gelu", F.gelu, ("mul", "add", "erf"), unary_samples(uniform, [(2, 3)]))
entry("abs", cr.abs, "abs", unary_samples(_off_zero))
entry("abs_operator", lambda x: abs(x), "abs", unary_samples(_off_zero, [(2, 3)]))
entry("cr.absolute", cr.absolute, "abs", unary_samples(_off_zero, [(2, 3)]))
entry("sign", cr.sign, "sign", unary_samples(_off_zero, [(), (2, 3)]))
entry("sign.method", lambda x: x.sign() * x, ("sign", "mul"), unary_samples(_off_zero, [(2, 3)]))
entry("floor", cr.floor, "floor", unary_samples(away_from_integers, [(), (2, 3)]))
entry("ceil", cr.ceil, "ceil", unary_samples(away_from_integers, [(), (2, 3)]))
entry("round", cr.round, "round",
      unary_samples(lambda rng, s: away_from_integers(rng, s, half=True), [(), (2, 3)]))
entry("floor_times_x", lambda x: cr.floor(x) * x, ("floor", "mul"),
      unary_samples(away_from_integers, [(2, 3)]))


def _off_bounds(rng, shape):
    return away_from(rng, shape, [-0.5, 0.7])


entry("clamp", lambda x, **kw: cr.clamp(x, **kw), "clamp",
      lambda rng: [S(_off_bounds(rng, (3, 4)), min=-0.5, max=0.7),
                   S(_off_bounds(rng, (2, 3)), min=-0.5),
                   S(_off_bounds(rng, (2, 3)), max=0.7),
                   S(_off_bounds(rng, ()), min=-0.5, max=0.7)])
entry("clamp.method", lambda x: x.clamp(min=-0.5, max=0.7), "clamp", unary_samples(_off_bounds, [(2, 3)]))
entry("cr.clip", lambda x: cr.clip(x, -0.5, 0.7), "clamp", unary_samples(_off_bounds, [(2, 3)]))


def _clamp_tensor_samples(rng):
    x = distinct(rng, (3, 4), -2, 2)
    lo = x[:1] - np.array([0.3, -0.3, 0.3, -0.3])  # below x in columns 0, 2: x passes there
    hi = x[:, :1] + 0.2
    return [S(x, lo, hi, label="shapes(3,4)+(1,4)+(3,1)")]


entry("clamp_tensor_bounds", lambda x, lo, hi: cr.clamp(x, min=lo, max=hi), "clamp_tensor",
      _clamp_tensor_samples)


def _clamp_one_bound_samples(rng):
    x = distinct(rng, (3, 4), -2, 2)
    bound = x[:1] + np.array([0.3, -0.3, 0.3, -0.3])  # above x in columns 0, 2
    return [S(x, bound, label="shapes(3,4)+(1,4)")]


entry("clamp_tensor_min", lambda x, lo: cr.clamp(x, min=lo), "clamp_tensor", _clamp_one_bound_samples)
entry("clamp_tensor_max", lambda x, hi: cr.clamp(x, max=hi), "clamp_tensor", _clamp_one_bound_samples)
entry("clamp_tensor_min_above_max", lambda x, lo, hi: cr.clamp(x, min=lo, max=hi), "clamp_tensor",
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (2, 3), 0.5, 1.0), uniform(rng, (3,), -1.0, 0.4),
                     label="shapes(2,3)+(2,3)+(3,)-min>max")])


def _no_ties(rng):
    out = []
    for sx, sy in BINARY_SHAPES:
        shape = np.broadcast_shapes(sx, sy)
        both = distinct(rng, (2,) + shape)
        x, y = both[0], both[1]
        # Reduce to the operand shapes by taking a slice (keeps values distinct after broadcasting).
        x = x[tuple(slice(0, n) for n in (1,) * (len(shape) - len(sx)) + sx)].reshape(sx)
        y = y[tuple(slice(0, n) for n in (1,) * (len(shape) - len(sy)) + sy)].reshape(sy)
        out.append(S(x, y))
    return out


entry("maximum", cr.maximum, "maximum", _no_ties)
entry("minimum", cr.minimum, "minimum", _no_ties)
entry("np.maximum", lambda x, y: np.maximum(x, y), "maximum", lambda rng: _no_ties(rng)[:1])
entry("max_binary", lambda x, y: cr.max(x, y), "maximum", lambda rng: _no_ties(rng)[1:2])
entry("min_binary", lambda x, y: cr.min(x, y), "minimum", lambda rng: _no_ties(rng)[1:2])


def _where_samples(rng):
    mask = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
    return [
        S(uniform(rng, (3, 4)), uniform(rng, (3, 4)), cond=mask),
        S(uniform(rng, (4,)), uniform(rng, (3, 1)), cond=mask),
        S(uniform(rng, ()), uniform(rng, (3, 4)), cond=mask),
        S(uniform(rng, (2, 3, 4)), uniform(rng, (1,)), cond=mask),
    ]


entry("where", lambda x, y, cond: cr.where(cr.tensor(cond), x, y), "where", _where_samples)
entry("where_scalar_other", lambda x, cond: cr.where(cr.tensor(cond), x, 0.0), "where",
      lambda rng: [S(uniform(rng, (3, 4)), cond=_where_samples(rng)[0].kwargs["cond"])])
entry("where_from_comparison", lambda x, y: cr.where(x > y, x * y, y - x), ("where", "mul", "sub"),
      lambda rng: [S(*_no_ties(rng)[0].args)])
entry("masked_fill", lambda x, mask: x.masked_fill(mask, -1.0), "where",
      lambda rng: [S(uniform(rng, (3, 4)), np.array([True, False, False, True]), label="shape(3,4)-mask(4,)")])

# ---------------------------------------------------------------------------------------------
# Casts (float32 values: larger step, looser tolerance)
# ---------------------------------------------------------------------------------------------

_F32_TOL = {"eps": 1e-3, "atol": 1e-4, "rtol": 1e-3}
entry("float_double", lambda x: x.float().double() * 2.0, ("cast", "mul"),
      unary_samples(uniform, [(), (2, 3)]), tol=_F32_TOL)
entry("to_float32", lambda x: x.to(cr.float32), "cast", unary_samples(uniform, [(2, 3)]), tol=_F32_TOL)
entry("sum_dtype", lambda x: cr.sum(x, dtype=cr.float32), ("cast", "sum"),
      unary_samples(uniform, [(2, 3)]), tol=_F32_TOL)

# ---------------------------------------------------------------------------------------------
# Reductions
# ---------------------------------------------------------------------------------------------

def _reduce_samples(make=uniform):
    return lambda rng: [
        S(make(rng, (3, 4))),
        S(make(rng, (3, 4)), dim=1),
        S(make(rng, (3, 4)), dim=-2, keepdim=True),
        S(make(rng, (2, 3, 2)), dim=(0, 2)),
        S(make(rng, (2, 1, 3)), dim=(0, 1), keepdim=True),
        S(make(rng, ())),
        S(make(rng, (4,)), dim=0),
    ]


entry("sum", lambda x, **kw: x.sum(**kw), "sum", _reduce_samples())
entry("cr.sum", lambda x, **kw: cr.sum(x, **kw), "sum", lambda rng: [S(uniform(rng, (2, 3)), dim=0)])
entry("np.sum", lambda x, **kw: np.sum(x, **kw), "sum",
      lambda rng: [S(uniform(rng, (2, 3))), S(uniform(rng, (2, 3)), axis=1)])
entry("mean", lambda x, **kw: x.mean(**kw), "mean", _reduce_samples())
entry("cr.mean", lambda x, **kw: cr.mean(x, **kw), "mean", lambda rng: [S(uniform(rng, (2, 3)), dim=1)])


def _with_zeros(rng, shape, count):
    x = uniform(rng, shape, 0.5, 1.5) * rng.choice([-1.0, 1.0], size=shape)
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, size=count, replace=False)] = 0.0
    return flat.reshape(shape)


def _prod_samples(rng):
    nonzero_ = lambda s: uniform(rng, s, 0.5, 1.5) * rng.choice([-1.0, 1.0], size=s)
    x_one = nonzero_((3, 4))
    x_one[1, 2] = 0.0
    x_two = nonzero_((3, 4))
    x_two[1, 0] = x_two[1, 3] = 0.0
    return [
        S(nonzero_((3, 4))),
        S(nonzero_((3, 4)), dim=1),
        S(nonzero_((2, 3)), dim=0, keepdim=True),
        S(nonzero_(())),
        S(nonzero_((2, 3, 2)), dim=(0, 2)),
        S(_with_zeros(rng, (5,), 1), label="shape(5)-one_zero"),
        S(_with_zeros(rng, (5,), 2), label="shape(5)-two_zeros"),
        S(x_one, dim=1, label="shape(3,4)-dim=1-one_zero"),
        S(x_two, dim=1, label="shape(3,4)-dim=1-two_zeros"),
        S(x_one, dim=0, keepdim=True, label="shape(3,4)-dim=0-keepdim-one_zero"),
    ]


entry("prod", lambda x, **kw: x.prod(**kw), "prod", _prod_samples)
entry("cumsum", lambda x, dim: x.cumsum(dim), "cumsum",
      lambda rng: [S(uniform(rng, (3, 4)), dim=0), S(uniform(rng, (3, 4)), dim=1),
                   S(uniform(rng, (2, 3, 2)), dim=-2), S(uniform(rng, (5,)), dim=0)])
entry("cr.cumsum", lambda x: cr.cumsum(x, dim=-1), "cumsum", unary_samples(uniform, [(2, 3)]))


def _cumprod_samples(rng):
    x_one = _with_zeros(rng, (3, 4), 0)
    x_one[0, 1] = x_one[2, 3] = 0.0
    x_two = _with_zeros(rng, (3, 4), 0)
    x_two[1, 0] = x_two[1, 2] = 0.0
    return [
        S(_with_zeros(rng, (3, 4), 0), dim=1),
        S(_with_zeros(rng, (3, 4), 0), dim=0),
        S(_with_zeros(rng, (2, 3, 2), 0), dim=1),
        S(_with_zeros(rng, (5,), 1), dim=0, label="shape(5)-dim=0-one_zero"),
        S(x_one, dim=1, label="shape(3,4)-dim=1-zeros"),
        S(x_two, dim=1, label="shape(3,4)-dim=1-two_zeros_in_a_row"),
        S(x_two, dim=0, label="shape(3,4)-dim=0-zeros"),
    ]


entry("cumprod", lambda x, dim: x.cumprod(dim), "cumprod", _cumprod_samples)


def _extremum_samples(rng):
    return [
        S(distinct(rng, (3, 4))),
        S(distinct(rng, (3, 4)), dim=1),
        S(distinct(rng, (3, 4)), dim=0, keepdim=True),
        S(distinct(rng, (2, 3, 2)), dim=(0, 2)),
        S(distinct(rng, ())),
    ]


entry("amax", lambda x, **kw: cr.amax(x, **kw), "amax", _extremum_samples)
entry("amin", lambda x, **kw: cr.amin(x, **kw), "amin", _extremum_samples)
entry("amax.method", lambda x: x.amax(dim=-1), "amax", unary_samples(distinct, [(2, 3)]))
entry("max_all", lambda x: x.max(), "amax", unary_samples(distinct, [(), (3, 4)]))
entry("min_all", lambda x: cr.min(x), "amin", unary_samples(distinct, [(3, 4)]))
entry("max_dim", lambda x, **kw: x.max(**kw).values, ("gather", "reshape"),
      lambda rng: [S(distinct(rng, (3, 4)), dim=1), S(distinct(rng, (3, 4)), dim=0),
                   S(distinct(rng, (2, 3, 2)), dim=-1)])
entry("max_dim_keepdim", lambda x: cr.max(x, dim=1, keepdim=True)[0], "gather",
      unary_samples(distinct, [(3, 4)]))
entry("min_dim", lambda x, **kw: x.min(**kw).values, ("gather", "reshape"),
      lambda rng: [S(distinct(rng, (3, 4)), dim=1), S(distinct(rng, (4,)), dim=0)])
entry("np.max", lambda x: np.max(x, axis=0), "amax", unary_samples(distinct, [(3, 4)]))
entry("var", lambda x, **kw: x.var(**kw), ("mean", "sub", "mul", "sum", "div"),
      lambda rng: [S(uniform(rng, (3, 4))), S(uniform(rng, (3, 4)), dim=1),
                   S(uniform(rng, (3, 4)), dim=0, correction=0, keepdim=True),
                   S(uniform(rng, (2, 3, 2)), dim=(0, 2), unbiased=False)])
entry("std", lambda x, **kw: x.std(**kw), ("sqrt", "sum", "mean"),
      lambda rng: [S(uniform(rng, (3, 4))), S(uniform(rng, (3, 4)), dim=1),
                   S(uniform(rng, (3, 4)), dim=-1, correction=0, keepdim=True)])
entry("np.var", lambda x: np.var(x, axis=1), ("mean", "sum"), unary_samples(uniform, [(3, 4)]))


def _norm_samples(rng):
    return [
        S(nonzero(rng, (3, 4))),
        S(nonzero(rng, (3, 4)), dim=1),
        S(nonzero(rng, (3, 4)), dim=0, keepdim=True),
        S(nonzero(rng, (2, 3, 2)), dim=(0, 2)),
        S(nonzero(rng, ()), label="shape()-scalar"),
    ]


entry("norm", lambda x, **kw: x.norm(**kw), "norm2", _norm_samples)
entry("norm_fro", lambda x: cr.norm(x, p="fro"), "norm2", unary_samples(nonzero, [(3, 4)]))
entry("norm_p1", lambda x, **kw: cr.norm(x, p=1, **kw), ("abs", "sum"),
      lambda rng: [S(nonzero(rng, (3, 4))), S(nonzero(rng, (3, 4)), dim=1)])
entry("norm_inf", lambda x, **kw: cr.norm(x, p=float("inf"), **kw), ("abs", "amax"),
      lambda rng: [S(distinct(rng, (3, 4), 0.2, 2.0) * rng.choice([-1.0, 1.0], size=(3, 4)), label="shape(3,4)")])
entry("norm_neg_inf", lambda x: cr.norm(x, p=float("-inf")), ("abs", "amin"),
      lambda rng: [S(distinct(rng, (3, 4), 0.2, 2.0) * rng.choice([-1.0, 1.0], size=(3, 4)), label="shape(3,4)")])
entry("norm_p3", lambda x, **kw: cr.norm(x, p=3, **kw), "norm_p",
      lambda rng: [S(nonzero(rng, (3, 4))), S(nonzero(rng, (3, 4)), dim=0)])
entry("norm_p", lambda x, **kw: cr.norm(x, **kw), "norm_p",
      lambda rng: [S(nonzero(rng, (3, 4)), p=0.5), S(nonzero(rng, (3, 4)), p=1.5, dim=1),
                   S(nonzero(rng, (2, 3, 2)), p=4, dim=(0, 2), keepdim=True), S(nonzero(rng, ()), p=3)])
entry("linalg.norm", lambda x, **kw: cr.linalg.norm(x, **kw), "norm2",
      lambda rng: [S(nonzero(rng, (4,))), S(nonzero(rng, (3, 4))), S(nonzero(rng, (3, 4)), dim=1),
                   S(nonzero(rng, (2, 3, 2)), dim=(1, 2))])


def _matrix_norm_samples(rng):
    # Column (row) absolute sums all distinct, so the max/min is not tied.
    base = distinct(rng, (3, 3), 0.2, 2.0) * rng.choice([-1.0, 1.0], size=(3, 3))
    return [S(base, ord=1), S(base, ord=-1), S(base, ord=float("inf")), S(base, ord=float("-inf")),
            S(base, ord="fro")]


entry("linalg.norm_matrix", lambda x, **kw: cr.linalg.norm(x, **kw), ("abs", "sum"), _matrix_norm_samples)
entry("logsumexp", lambda x, **kw: x.logsumexp(**kw), "logsumexp",
      lambda rng: [S(uniform(rng, (3, 4)), dim=1), S(uniform(rng, (3, 4)), dim=0, keepdim=True),
                   S(uniform(rng, (3, 4))), S(uniform(rng, (2, 3, 2)), dim=(0, 2)),
                   S(uniform(rng, (3, 4)) + 1000.0, dim=1, label="shape(3,4)-dim=1-large")])
entry("cr.logsumexp", lambda x: cr.logsumexp(x, dim=-1), "logsumexp", unary_samples(uniform, [(2, 3)]))

# ---------------------------------------------------------------------------------------------
# Shape operations
# ---------------------------------------------------------------------------------------------

entry("reshape", lambda x, shape: x.reshape(*shape), "reshape",
      lambda rng: [S(uniform(rng, (3, 4)), shape=(4, 3)), S(uniform(rng, (3, 4)), shape=(-1,)),
                   S(uniform(rng, (2, 3, 2)), shape=(3, -1)), S(uniform(rng, ()), shape=(1, 1)),
                   S(uniform(rng, (1,)), shape=())])
entry("cr.reshape", lambda x: cr.reshape(x, (2, -1)), "reshape", unary_samples(uniform, [(3, 4)]))
entry("view", lambda x: x.view(6, 2), "reshape", unary_samples(uniform, [(3, 4)]))
entry("flatten", lambda x, **kw: x.flatten(**kw), "reshape",
      lambda rng: [S(uniform(rng, (2, 3, 2))), S(uniform(rng, (2, 3, 2)), start_dim=1),
                   S(uniform(rng, ()))])
entry("squeeze", lambda x, **kw: x.squeeze(**kw), "reshape",
      lambda rng: [S(uniform(rng, (3, 1, 4))), S(uniform(rng, (1, 3, 1)), dim=0)])
entry("unsqueeze", lambda x, dim: x.unsqueeze(dim), "reshape",
      lambda rng: [S(uniform(rng, (3, 4)), dim=1), S(uniform(rng, (3, 4)), dim=-1), S(uniform(rng, ()), dim=0)])
entry("permute", lambda x, dims: x.permute(*dims), "permute",
      lambda rng: [S(uniform(rng, (2, 3, 4)), dims=(2, 0, 1)), S(uniform(rng, (3, 4)), dims=(1, 0))])
entry("transpose", lambda x, d0, d1: x.transpose(d0, d1), "permute",
      lambda rng: [S(uniform(rng, (2, 3, 4)), d0=0, d1=2), S(uniform(rng, (3, 4)), d0=-1, d1=0)])
entry("T", lambda x: x.T, "permute", unary_samples(uniform, [(3, 4), (2, 3, 2)]))
entry("mT", lambda x: x.mT, "permute", unary_samples(uniform, [(2, 3, 4)]))
entry("t", lambda x: x.t(), "permute", unary_samples(uniform, [(3, 4)]))
entry("cr.swapaxes", lambda x: cr.swapaxes(x, 0, 1), "permute", unary_samples(uniform, [(3, 4)]))
entry("np.transpose", lambda x: np.transpose(x), "permute", unary_samples(uniform, [(3, 4)]))
entry("expand", lambda x, sizes: x.expand(*sizes), "broadcast_to",
      lambda rng: [S(uniform(rng, (1, 4)), sizes=(3, 4)), S(uniform(rng, (3, 1)), sizes=(2, -1, 4)),
                   S(uniform(rng, ()), sizes=(2, 3))])
entry("broadcast_to", lambda x, shape: cr.broadcast_to(x, shape), "broadcast_to",
      lambda rng: [S(uniform(rng, (3, 1)), shape=(2, 3, 4)), S(uniform(rng, (4,)), shape=(3, 4))])
entry("expand_as", lambda x, y: x.expand_as(y) * y, ("broadcast_to", "mul"),
      lambda rng: [S(uniform(rng, (1, 4)), uniform(rng, (3, 4)))])
entry("sum_to", lambda x, shape: _shape_ops.sum_to(x, shape=shape), "sum_to",
      lambda rng: [S(uniform(rng, (3, 4)), shape=(1, 4)), S(uniform(rng, (2, 3, 4)), shape=(3, 1)),
                   S(uniform(rng, (3, 4)), shape=())], internal=True)
entry("flip", lambda x, dims: x.flip(dims), "flip",
      lambda rng: [S(uniform(rng, (3, 4)), dims=0), S(uniform(rng, (3, 4)), dims=(0, 1)),
                   S(uniform(rng, (2, 3, 2)), dims=(-1,))])
entry("repeat", lambda x, sizes: x.repeat(*sizes), "tile",
      lambda rng: [S(uniform(rng, (2, 3)), sizes=(2, 1)), S(uniform(rng, (2, 3)), sizes=(2, 1, 3)),
                   S(uniform(rng, (3,)), sizes=(2,))])
entry("tile", lambda x, reps: cr.tile(x, reps), "tile",
      lambda rng: [S(uniform(rng, (2, 3)), reps=(2,)), S(uniform(rng, (2, 3)), reps=(2, 2)),
                   S(uniform(rng, (3,)), reps=(2, 1, 2))])
entry("clone", lambda x: x.clone(), "clone", unary_samples(uniform, [(), (3, 4)]))
entry("alias", lambda x: _shape_ops.alias(x), "alias", unary_samples(uniform, [(), (3, 4)]),
      internal=True)

# Indexing: ints, slices, None, ..., integer arrays (with repeats), boolean masks.
_MASK = np.array([[True, False, True, True], [False, False, False, True], [True, True, False, False]])
_INDEXES = [
    ("int", 1), ("negative_int", -1), ("slice", slice(1, 3)), ("slice_step", (slice(None), slice(None, None, 2))),
    ("int_int", (1, 2)), ("none_ellipsis", (None, Ellipsis, 0)), ("ellipsis_slice", (Ellipsis, slice(1, 3))),
    ("int_array_repeated", np.array([0, 2, 0, 0])), ("list_repeated", [2, 2, 1]),
    ("two_arrays", (np.array([0, 1, 1]), np.array([2, 0, 2]))), ("array_slice", (np.array([2, 0, 2]), slice(1, None))),
    ("bool_mask", _MASK), ("bool_rows", np.array([True, False, True])),
]
entry("getitem", lambda x, index: x[index], "getitem",
      lambda rng: [S(uniform(rng, (3, 4)), index=idx, label=f"shape(3,4)-{name}") for name, idx in _INDEXES])
entry("getitem_3d", lambda x, index: x[index], "getitem",
      lambda rng: [S(uniform(rng, (2, 3, 2)), index=(slice(None), np.array([2, 0, 2]), 1), label="shape(2,3,2)-mixed")])
entry("getitem_tensor_index", lambda x, index: x[index], "getitem",
      lambda rng: [S(uniform(rng, (4, 3)), np.array([3, 0, 3]), label="shape(4,3)-long_tensor"),
                   S(uniform(rng, (4, 3)), np.array([True, False, True, True]), label="shape(4,3)-bool_tensor")])
entry("split", lambda x, size, dim: x.split(size, dim), "getitem",
      lambda rng: [S(uniform(rng, (5, 2)), size=2, dim=0), S(uniform(rng, (2, 5)), size=(1, 4), dim=1)])
entry("chunk", lambda x: x.chunk(3, dim=1), "getitem", unary_samples(uniform, [(2, 5)]))
entry("unbind", lambda x: x.unbind(0), "getitem", unary_samples(uniform, [(3, 2)]))
entry("index_select", lambda x, index, dim: x.index_select(dim, index), "getitem",
      lambda rng: [S(uniform(rng, (3, 4)), np.array([2, 0, 2]), dim=0, label="shape(3,4)-dim=0-repeated"),
                   S(uniform(rng, (3, 4)), np.array([3, 1]), dim=1, label="shape(3,4)-dim=1")])
entry("scatter", lambda g, index, shape: IX.scatter(g, index=index, shape=shape), "scatter",
      lambda rng: [S(uniform(rng, (4, 4)), index=np.array([0, 2, 0, 0]), shape=(3, 4), label="shape(4,4)-repeated_rows"),
                   S(uniform(rng, (2,)), index=(1, slice(1, 3)), shape=(3, 4), label="shape(2)-basic"),
                   S(uniform(rng, (6,)), index=_MASK, shape=(3, 4), label="shape(6)-bool_mask")],
      internal=True)


def _setitem(x, v, index):
    y = x.clone()
    y[index] = v
    return y


def _setitem_into_constant(v, index):
    y = cr.zeros(3, 4, dtype=cr.float64)
    y[index] = v
    return y


entry("setitem", _setitem, ("clone", "index_put"),
      lambda rng: [S(uniform(rng, (3, 4)), uniform(rng, (4,)), index=1, label="shapes(3,4)+(4)-row"),
                   S(uniform(rng, (3, 4)), uniform(rng, ()), index=(slice(None), 2), label="shapes(3,4)+()-column"),
                   S(uniform(rng, (3, 4)), uniform(rng, (2, 1)), index=(slice(0, 2), slice(1, 3)),
                     label="shapes(3,4)+(2,1)-block_broadcast"),
                   S(uniform(rng, (3, 4)), uniform(rng, (2, 4)), index=np.array([2, 0]), label="shapes(3,4)+(2,4)-int_array"),
                   S(uniform(rng, (3, 4)), uniform(rng, (6,)), index=_MASK, label="shapes(3,4)+(6)-bool_mask")])
entry("setitem_into_constant", _setitem_into_constant, "index_put",
      lambda rng: [S(uniform(rng, (4,)), index=2, label="shape(4)-row")])
def _inplace_through_view(x, v):
    y = x * 1.0
    y[1:, ::2].mul_(v)  # in place through a view: y's history becomes copy_slices(y, view * v)
    return y


def _setitem_through_views(x, v):
    y = x * 1.0
    row = y.T[1]  # a view of a view
    row[:2] = v * v
    return y * y.T.T  # both aliases read the new values


def _read_views_after_a_write(x, v):
    y = x * 1.0
    column, transposed = y[:, 1], y.T
    y[0].mul_(v)  # the views made before the write read its values, and their tangents
    return column * transposed.sum(0)


def _copy_into(x, v):
    y = x * 1.0
    y.copy_(v)  # the old value gets a (constant) zero gradient, v the cotangent summed to its shape
    return y * x


def _fill_with(x, v):
    y = x * 2.0
    y[1].fill_(v)  # fill_ of a view: overwrite, then copy_slices onto y
    return y * x


entry("copy_", _copy_into, ("mul", "overwrite"),
      lambda rng: [S(uniform(rng, (3, 4)), uniform(rng, (4,)), label="shapes(3,4)+(4)-broadcast")])
entry("fill_", _fill_with, ("mul", "overwrite", "copy_slices"),
      lambda rng: [S(uniform(rng, (3, 4)), uniform(rng, ()), label="shapes(3,4)+()")])
entry("inplace_through_view", _inplace_through_view, ("mul", "copy_slices"),
      lambda rng: [S(uniform(rng, (3, 4)), uniform(rng, (2, 2)), label="shapes(3,4)+(2,2)")])
entry("read_views_after_a_write", _read_views_after_a_write, ("mul", "copy_slices", "sum"),
      lambda rng: [S(uniform(rng, (3, 4)), uniform(rng, (4,)), label="shapes(3,4)+(4)")])
entry("setitem_through_views", _setitem_through_views, ("index_put", "copy_slices"),
      lambda rng: [S(uniform(rng, (3, 4)), uniform(rng, (2,)), label="shapes(3,4)+(2)")])
entry("gather", lambda x, index, dim: x.gather(dim, index), "gather",
      lambda rng: [S(uniform(rng, (3, 4)), np.array([[0, 3], [1, 1], [2, 0]]), dim=1, label="shape(3,4)-dim=1-repeated"),
                   S(uniform(rng, (3, 4)), np.array([[2, 0, 1, 2], [0, 0, 0, 0]]), dim=0, label="shape(3,4)-dim=0")])
entry("cr.gather", lambda x, index: cr.gather(x, -1, index), "gather",
      lambda rng: [S(uniform(rng, (2, 3, 2)), np.array([[[1], [0], [1]], [[0], [0], [1]]]), label="shape(2,3,2)-dim=-1")])
# Called as gather's VJP calls it: the index is a plain integer array (a constant of the node).
entry("scatter_add", lambda src, index, dim, shape: IX.scatter_add(src, index, dim=dim, shape=shape),
      "scatter_add",
      lambda rng: [S(uniform(rng, (3, 2)), index=np.array([[0, 3], [1, 1], [2, 0]]), dim=1, shape=(3, 4),
                     label="shape(3,2)-dim=1-repeated"),
                   S(uniform(rng, (2, 4)), index=np.array([[2, 0, 1, 2], [2, 0, 0, 0]]), dim=0, shape=(3, 4),
                     label="shape(2,4)-dim=0")],
      internal=True)
entry("cat", lambda x, y, dim: cr.cat([x, y], dim=dim), "cat",
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (1, 3)), dim=0),
                   S(uniform(rng, (2, 3)), uniform(rng, (2, 2)), dim=1),
                   S(uniform(rng, (2, 1, 2)), uniform(rng, (2, 3, 2)), dim=-2),
                   S(uniform(rng, (2,)), uniform(rng, (3,)), dim=0)])
entry("cat_three", lambda x, y, z: cr.concatenate((x, y, x * z), dim=0), ("cat", "mul"),
      lambda rng: [S(uniform(rng, (2, 2)), uniform(rng, (1, 2)), uniform(rng, (2, 2)))])
entry("cat_with_constant", lambda x, c: cr.cat([c, x, c], 1), "cat",
      lambda rng: [S(uniform(rng, (2, 3)), c=cr.ones(2, 1, dtype=cr.float64))])
entry("stack", lambda x, y, dim: cr.stack([x, y], dim=dim), ("cat", "reshape"),
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (2, 3)), dim=0),
                   S(uniform(rng, (2, 3)), uniform(rng, (2, 3)), dim=-1),
                   S(uniform(rng, ()), uniform(rng, ()), dim=0)])
entry("np.concatenate", lambda x, y: np.concatenate([x, y], axis=1), "cat",
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (2, 1)))])
entry("pad", lambda x, pad, **kw: cr.pad(x, pad, **kw), "pad",
      lambda rng: [S(uniform(rng, (3, 4)), pad=(1, 2)), S(uniform(rng, (2, 3)), pad=(1, 0, 2, 1)),
                   S(uniform(rng, (2, 3)), pad=(0, 1), value=3.0)])
entry("diagonal", lambda x, **kw: x.diagonal(**kw), "diagonal",
      lambda rng: [S(uniform(rng, (3, 4))), S(uniform(rng, (3, 4)), offset=1), S(uniform(rng, (4, 3)), offset=-1),
                   S(uniform(rng, (2, 3, 3)), dim1=1, dim2=2), S(uniform(rng, (3, 2, 3)), offset=1, dim1=0, dim2=2)])
entry("trace", lambda x: x.trace(), ("diagonal", "sum"), unary_samples(uniform, [(3, 3), (2, 4)]))
entry("diagonal_embed",
      lambda x, **kw: JN.diagonal_embed(x, **kw), "diagonal_embed",
      lambda rng: [S(uniform(rng, (3,)), shape=(3, 3), offset=0, dim1=0, dim2=1),
                   S(uniform(rng, (2, 3)), shape=(2, 3, 3), offset=0, dim1=1, dim2=2),
                   S(uniform(rng, (3,)), shape=(3, 4), offset=1, dim1=0, dim2=1)],
      internal=True)

# ---------------------------------------------------------------------------------------------
# Linear algebra
# ---------------------------------------------------------------------------------------------

_MATMUL_SHAPES = [((3, 4), (4, 2)), ((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)), ((2, 3, 4), (4, 2)),
                  ((2, 1, 2, 3), (3, 3, 2)), ((3,), (2, 3, 2)), ((2, 2, 3), (3,))]
entry("matmul", lambda a, b: a @ b, "matmul",
      lambda rng: [S(uniform(rng, sa), uniform(rng, sb)) for sa, sb in _MATMUL_SHAPES])
entry("cr.matmul", cr.matmul, "matmul", lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (3, 2)))])
entry("matmul_ndarray_left", lambda b, a: a @ b, "matmul",
      lambda rng: [S(uniform(rng, (3, 2)), a=uniform(rng, (2, 3)))])
entry("np.matmul", lambda b, a: np.matmul(a, b), "matmul", lambda rng: [S(uniform(rng, (3, 2)), a=uniform(rng, (2, 3)))])
entry("np.dot", lambda a, b: np.dot(a, b), "matmul", lambda rng: [S(uniform(rng, (3,)), uniform(rng, (3,)))])
entry("mm", lambda a, b: a.mm(b), "matmul", lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (3, 4)))])
entry("mv", lambda a, b: cr.mv(a, b), "matmul", lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (3,)))])
entry("dot", lambda a, b: cr.dot(a, b), "matmul", lambda rng: [S(uniform(rng, (4,)), uniform(rng, (4,)))])
entry("outer", lambda a, b: cr.outer(a, b), ("reshape", "mul"), lambda rng: [S(uniform(rng, (3,)), uniform(rng, (4,)))])
entry("linear", lambda x, w, *b: F.linear(x, w, *b), ("matmul", "permute", "add"),
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (4, 3)), uniform(rng, (4,))),
                   S(uniform(rng, (3,)), uniform(rng, (2, 3))),
                   S(uniform(rng, (2, 2, 3)), uniform(rng, (4, 3)), uniform(rng, (4,)))])
_EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 2)]), ("ij,jk", [(2, 3), (3, 2)]), ("i,i->", [(4,), (4,)]),
    ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]), ("...ij,...jk->...ik", [(2, 2, 3), (3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]), ("i,j->ij", [(2,), (3,)]), ("ij,j->i", [(2, 3), (3,)]),
    ("iij->j", [(2, 2, 3)]), ("ij,ij->i", [(2, 3), (2, 3)]),
]
entry("einsum", lambda *ops, subscripts: cr.einsum(subscripts, *ops), "einsum_prim",
      lambda rng: [S(*[uniform(rng, s) for s in shapes], subscripts=sub, label=f"'{sub}'")
                   for sub, shapes in _EINSUM])
entry("einsum_with_constant", lambda x, c: cr.einsum("ij,jk->ik", x, c), "einsum_prim",
      lambda rng: [S(uniform(rng, (2, 3)), c=cr.tensor(uniform(rng, (3, 2))))])
entry("einsum_same_operand", lambda x: cr.einsum("ij,ij->", x, x), "einsum_prim",
      unary_samples(uniform, [(2, 3)]))
entry("inv", cr.linalg.inv, "inv",
      lambda rng: [S(well_conditioned(rng, (3, 3))), S(well_conditioned(rng, (2, 2, 2))),
                   S(well_conditioned(rng, (1, 1)))])
entry("np.linalg.inv", lambda a: np.linalg.inv(a), "inv", lambda rng: [S(well_conditioned(rng, (2, 2)))])
def singular(rng, shape, rank_drop=1) -> np.ndarray:
    """Square matrices with ``rank_drop`` rows repeating the first: the determinant is exactly 0
    (LU subtracts equal rows), the cofactors (det's gradient) are not all 0 for ``rank_drop=1``."""
    a = uniform(rng, shape).copy()
    for k in range(1, rank_drop + 1):
        a[..., -k, :] = a[..., 0, :]
    return a


entry("det", cr.linalg.det, "det",
      lambda rng: [S(well_conditioned(rng, (3, 3))), S(well_conditioned(rng, (2, 2, 2))),
                   S(well_conditioned(rng, (3, 3), sign=-1.0), label="shape(3,3)-negative_det"),
                   S(well_conditioned(rng, (1, 1))),
                   S(singular(rng, (3, 3)), label="shape(3,3)-singular"),
                   S(singular(rng, (4, 4), rank_drop=2), label="shape(4,4)-rank2"),
                   S(np.stack([well_conditioned(rng, (3, 3)), singular(rng, (3, 3))]),
                     label="shape(2,3,3)-one_singular"),
                   S(np.zeros((1, 1)), label="shape(1,1)-zero")])
entry("slogdet", lambda a: cr.linalg.slogdet(a).logabsdet, "logabsdet",
      lambda rng: [S(well_conditioned(rng, (3, 3))), S(well_conditioned(rng, (2, 2, 2))),
                   S(well_conditioned(rng, (3, 3), sign=-1.0), label="shape(3,3)-negative_det")])
entry("slogdet_both", lambda a: cr.linalg.slogdet(a)[0] * cr.linalg.slogdet(a)[1], ("logabsdet", "mul"),
      lambda rng: [S(well_conditioned(rng, (3, 3), sign=-1.0), label="shape(3,3)-negative_det")])
entry("solve", cr.linalg.solve, "solve",
      lambda rng: [S(well_conditioned(rng, (3, 3)), uniform(rng, (3,))),
                   S(well_conditioned(rng, (3, 3)), uniform(rng, (3, 2))),
                   S(well_conditioned(rng, (2, 3, 3)), uniform(rng, (2, 3, 2))),
                   S(well_conditioned(rng, (2, 3, 3)), uniform(rng, (3, 2))),
                   S(well_conditioned(rng, (3, 3)), uniform(rng, (2, 3, 1))),
                   S(well_conditioned(rng, (2, 3, 3)), uniform(rng, (3,)))])

# ---------------------------------------------------------------------------------------------
# Neural-network functions
# ---------------------------------------------------------------------------------------------

def _softmax_samples(rng):
    return [S(uniform(rng, (3, 4)), dim=1), S(uniform(rng, (3, 4)), dim=0), S(uniform(rng, (2, 3, 2)), dim=-2),
            S(uniform(rng, (4,)), dim=0),
            S(np.array([[1000.0, 999.0, 998.5], [-1000.0, -999.0, -1001.0]]), dim=1, label="extreme(2,3)-dim=1")]


entry("softmax", lambda x, dim: cr.softmax(x, dim), "softmax", _softmax_samples)
entry("F.softmax", lambda x: F.softmax(x, dim=-1), "softmax", unary_samples(uniform, [(2, 3)]))
entry("softmax.method", lambda x: x.softmax(0), "softmax", unary_samples(uniform, [(2, 3)]))
entry("softmax_dtype", lambda x: cr.softmax(x, dim=-1, dtype=cr.float64), "softmax", unary_samples(uniform, [(2, 3)]))
entry("log_softmax", lambda x, dim: cr.log_softmax(x, dim), "log_softmax", _softmax_samples)
entry("F.log_softmax", lambda x: F.log_softmax(x, dim=1), "log_softmax", unary_samples(uniform, [(2, 3)]))


def _ce_samples(rng):
    return [
        S(uniform(rng, (4, 3)), np.array([0, 2, 1, 2])),
        S(uniform(rng, (4, 3)), np.array([0, 2, 1, 2]), reduction="sum"),
        S(uniform(rng, (4, 3)), np.array([0, 2, 1, 2]), reduction="none"),
        S(uniform(rng, (3,)), np.array(1), label="shapes(3)+()-unbatched"),
        S(uniform(rng, (2, 3, 2)), np.array([[0, 2], [1, 1]]), label="shapes(2,3,2)+(2,2)-spatial"),
        S(np.array([[1000.0, -1000.0, 0.0], [0.0, 500.0, -500.0]]), np.array([1, 0]), label="extreme(2,3)"),
    ]


def _softmax_probs(rng, shape):
    e = np.exp(uniform(rng, shape))
    return e / e.sum(axis=-1, keepdims=True)


entry("cross_entropy", lambda x, t, **kw: F.cross_entropy(x, t, **kw), "softmax_cross_entropy", _ce_samples)
entry("cross_entropy_probs", lambda x, p: F.cross_entropy(x, p), ("log_softmax", "mul", "sum", "mean"),
      lambda rng: [S(uniform(rng, (2, 3)), _softmax_probs(rng, (2, 3)))])


entry("binary_cross_entropy_with_logits", lambda x, y, **kw: F.binary_cross_entropy_with_logits(x, y, **kw),
      ("softplus", "mul", "sub", "mean"),
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (2, 3), 0.0, 1.0)),
                   S(uniform(rng, (4,)), uniform(rng, (4,), 0.0, 1.0), reduction="none"),
                   S(uniform(rng, (2, 3)), uniform(rng, (2, 3), 0.0, 1.0), reduction="sum",
                     pos_weight=np.array([1.0, 2.0, 0.5])),
                   S(np.array([-500.0, -30.0, 30.0, 500.0]), np.array([1.0, 0.0, 1.0, 0.0]),
                     label="extreme(4)")])
entry("mse_loss", lambda x, y, **kw: F.mse_loss(x, y, **kw), ("sub", "mul", "mean"),
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (2, 3))),
                   S(uniform(rng, (4,)), uniform(rng, (4,)), reduction="sum"),
                   S(uniform(rng, (2, 3)), uniform(rng, (2, 3)), reduction="none"),
                   S(uniform(rng, ()), uniform(rng, ()))])


def _dropout_fixed_seed(x, p):
    cr.manual_seed(1234)  # the same mask on every call, so finite differences see one function
    return F.dropout(x, p, training=True)


entry("dropout_train", _dropout_fixed_seed, "mul", lambda rng: [S(uniform(rng, (3, 4)), p=0.3)])
entry("dropout_eval", lambda x: F.dropout(x, 0.5, training=False) * 1.0, "mul",
      unary_samples(uniform, [(2, 3)]))

# ---------------------------------------------------------------------------------------------
# Not differentiable: public call, NumPy reference, and an input maker
# ---------------------------------------------------------------------------------------------

_A = np.array([[0.5, -1.0, 2.0], [np.nan, 3.0, -np.inf]])
_B = np.array([[0.5, 1.0, -2.0], [1.0, np.inf, -np.inf]])

NONDIFFERENTIABLE = {
    # name: (public call on tensors, NumPy reference, inputs)
    "lt": (lambda a, b: a < b, np.less, (_A, _B)),
    "le": (lambda a, b: a <= b, np.less_equal, (_A, _B)),
    "gt": (lambda a, b: a > b, np.greater, (_A, _B)),
    "ge": (lambda a, b: a >= b, np.greater_equal, (_A, _B)),
    "eq": (lambda a, b: a == b, np.equal, (_A, _B)),
    "ne": (lambda a, b: a != b, np.not_equal, (_A, _B)),
    "logical_and": (lambda a, b: (a > 0) & (b > 0), lambda a, b: (a > 0) & (b > 0), (_A, _B)),
    "logical_or": (lambda a, b: (a > 0) | (b > 0), lambda a, b: (a > 0) | (b > 0), (_A, _B)),
    "logical_not": (lambda a: ~(a > 0), lambda a: ~(a > 0), (_A,)),
    "isnan": (cr.isnan, np.isnan, (_A,)),
    "isinf": (lambda a: a.isinf(), np.isinf, (_A,)),
    "isfinite": (cr.isfinite, np.isfinite, (_A,)),
    "zeros_like": (lambda a: np.zeros_like(a), np.zeros_like, (_B,)),
    "argmax": (lambda a: a.argmax(dim=1), lambda a: np.argmax(a, axis=1), (np.array([[0.5, 2.0, 1.0], [3.0, -1.0, 4.0]]),)),
    "argmin": (lambda a: cr.argmin(a), np.argmin, (np.array([[0.5, 2.0, 1.0], [3.0, -1.0, 4.0]]),)),
    "slogdet_sign": (lambda a: cr.linalg.slogdet(a).sign, lambda a: np.linalg.slogdet(a)[0],
                     (np.array([[[0.0, 2.0], [1.0, 0.0]], [[2.0, 0.0], [0.0, 3.0]]]),)),
}

# The families added for SPEC §12, each in its own module (``op_db_<family>.py``): they add to
# ENTRIES and NONDIFFERENTIABLE through ``entry`` and the dict above.
import importlib  # noqa: E402
import pathlib  # noqa: E402

for _path in sorted(pathlib.Path(__file__).parent.glob("op_db_*.py")):
    importlib.import_module(_path.stem)

# Parametrisation ids must be unique.
_ids = [f"{e.name}-{s.label}" for e in ENTRIES for s in e.samples]
assert len(_ids) == len(set(_ids)), sorted({i for i in _ids if _ids.count(i) > 1})

NONDIFFERENTIABLE["one_hot"] = (  # the targets of cross_entropy's derivative (see ops/neural)
    lambda t: cr.core.dispatch.traced.one_hot(t.long(), n=4, dim=1, dtype=np.dtype(np.float64)),
    lambda t: (t.astype(np.int64)[:, None] == np.arange(4)).astype(np.float64),
    (np.array([0.0, 3.0, 1.0, 1.0]),),
)
NONDIFFERENTIABLE["at_least_one"] = (  # the divisor of the NaN-ignoring means (see ops/statistics)
    lambda t: cr.core.dispatch.traced.at_least_one(t.long(), dtype=np.dtype(np.float64)),
    lambda t: np.where(t > 0, t, 1).astype(np.float64),
    (np.array([0.0, 3.0, 1.0, 0.0]),),
)
NONDIFFERENTIABLE["from_values"] = (  # positions computed from values (see ops/quantiles)
    lambda t: cr.core.dispatch.traced.from_values(
        t, fn=lambda d: cr.core.backend.namespace(d).argsort(d, axis=-1, stable=True)),
    lambda t: np.argsort(t, axis=-1, kind="stable"),
    (np.array([[2.0, 0.0, 1.0], [0.5, 3.0, -1.0]]),),
)
