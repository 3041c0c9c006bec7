"""NumPy's own semantics for every entry of chainrule's NumPy dispatch tables.

``chainrule._interop`` maps NumPy ufuncs (``_UFUNCS``, reached through ``__array_ufunc__``) and
NumPy functions (``_FUNCTIONS``, through ``__array_function__``) to chainrule. Every entry is
checked here against NumPy itself:

- forward values, shapes and dtypes on N-d operands (0-d, 1-d, 3-d where the function allows),
  in its keyword forms, with tensors mixed with arrays and scalars; errors where NumPy raises;
- NumPy's keywords (``out=``, ``dtype=``, ``where=``, ``casting=``, ``order=``, ``subok=``) and
  the ufunc methods (``reduce``, ``accumulate``, ``outer``, ``at``, ...);
- gradients (reverse and forward mode) against central differences in float64.

The ufunc tests are parametrised over ``_UFUNCS`` itself and the function tests over
``_FUNCTIONS``: a new ufunc is tested automatically, a new function fails until it has cases.
"""

from __future__ import annotations

import importlib
import os
import pathlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_quantiles import NUMPY_CASES

import chainrule as cr
from chainrule.api import numpy_protocols as _interop

ERRORS = (ValueError, TypeError, IndexError, RuntimeError)
_DATA_ONLY = {np.allclose, np.isclose, np.array_equal, np.testing.assert_allclose, np.result_type}


def _name(f) -> str:
    module = getattr(f, "__module__", None) or ""
    return ("linalg." if "linalg" in module else "") + f.__name__


def _rng(label: str):
    return np.random.default_rng(zlib.crc32(label.encode()))


def _tensor(x, requires_grad=False):
    """Arrays become tensors (float64 ones require grad when asked); anything else is kept."""
    if isinstance(x, np.ndarray):
        return cr.tensor(x.copy(), requires_grad=requires_grad and x.dtype == np.float64)
    return x


def _copy(x):
    return x.copy() if isinstance(x, np.ndarray) else x


def _array(x):
    if isinstance(x, cr.Tensor):
        return np.asarray(x.detach().numpy())
    return np.asarray(x)


def _tolerance(dtype):
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        return dict(rtol=2e-3, atol=1e-3)
    if dtype == np.float32:
        return dict(rtol=2e-5, atol=1e-6)
    return dict(rtol=1e-10, atol=1e-12)


def assert_same(got, want, check_dtype=True, tensor_result=True, where=""):
    """``got`` (chainrule's answer) equals ``want`` (NumPy's): values, shape and dtype."""
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want), f"{where}: {got!r} vs {want!r}"
        if hasattr(want, "_fields"):
            assert getattr(got, "_fields", None) == want._fields, f"{where}: fields of {got!r}"
        for g, w in zip(got, want):
            assert_same(g, w, check_dtype, tensor_result, where)
        return
    if want is None or isinstance(want, (bool, int, float, str, np.dtype)) and not isinstance(want, np.generic):
        assert got == want and type(got) is type(want), f"{where}: {got!r} != {want!r}"
        return
    if tensor_result:
        assert isinstance(got, cr.Tensor), f"{where}: NumPy gives an array, chainrule a {type(got).__name__}"
    g, w = _array(got), np.asarray(want)
    assert g.shape == w.shape, f"{where}: shape {g.shape} != NumPy's {w.shape}"
    if check_dtype:
        assert g.dtype == w.dtype, f"{where}: dtype {g.dtype} != NumPy's {w.dtype}"
    if w.dtype.kind in "fc" or g.dtype.kind in "fc":
        tol = _tolerance(g.dtype if g.dtype.kind == "f" and g.dtype.itemsize < w.dtype.itemsize else w.dtype)
        np.testing.assert_allclose(g, w, equal_nan=True, err_msg=where, **tol)
    else:
        np.testing.assert_array_equal(g, w, err_msg=where)


def _numpy_or_error(call, *args):
    """NumPy's result, or the exception it raises."""
    try:
        with np.errstate(all="ignore"):
            return call(*args), None
    except Exception as exc:  # noqa: BLE001 - any NumPy error must be matched by chainrule
        return None, exc


def _check_against_numpy(call, args, check_dtype=True, tensor_result=True, where="", name=None):
    want, error = _numpy_or_error(call, *[_copy(a) for a in args])
    tensors = [_tensor(a) for a in args]
    if error is not None:
        with pytest.raises(ERRORS) as info:
            with np.errstate(all="ignore"):
                call(*tensors)
        if name:
            assert name in str(info.value), f"{where}: the error does not name {name!r}: {info.value}"
        return None
    with np.errstate(all="ignore"):
        got = call(*tensors)
    assert_same(got, want, check_dtype, tensor_result, where)
    return got


def _gradcheck(call, args, **tol):
    """Reverse- and forward-mode derivatives of ``call`` at the float64 ``args`` (the others
    constant tensors) against central differences."""
    inputs = [_tensor(a, requires_grad=True) for a in args]

    def f(*xs):
        out = call(*[cr.as_tensor(x) if isinstance(x, np.ndarray) else x for x in xs])
        outs = out if isinstance(out, (tuple, list)) else (out,)
        return tuple(o for o in outs if isinstance(o, cr.Tensor) and o.dtype.kind == "f")

    assert cr.autograd.gradcheck(f, inputs, **tol)


# ---------------------------------------------------------------------------------------------
# Ufuncs: every entry of _UFUNCS
# ---------------------------------------------------------------------------------------------

# NumPy's own (scipy.special's ufuncs join _UFUNCS when first called on a tensor, so whether they
# are there depends on the tests run before: tests/test_special.py covers them)
UFUNCS = sorted((u for u in _interop._UFUNCS if getattr(np, u.__name__, None) is u), key=lambda u: u.__name__)
BINARY = [u for u in UFUNCS if u.nin == 2 and not u.signature]  # the gufuncs (matmul, vecdot, ...) apart
UNARY = [u for u in UFUNCS if u.nin == 1]
DIFFERENTIABLE = [u for u in UFUNCS if u not in _interop._NONDIFFERENTIABLE]
_POSITIVE = {np.log, np.log2, np.log10, np.sqrt, np.log1p, np.reciprocal, np.float_power}
_UNIT = {np.arcsin, np.arccos, np.arctanh}
_ABOVE_ONE = {np.arccosh}
_OPERATORS = set(_interop._OPERATORS)
# Documented: integer true division follows chainrule's (PyTorch's) default float dtype.
_PROMOTES_LIKE_CHAINRULE = {np.true_divide}


def _refused_like_pytorch(ufunc, *operands) -> bool:
    """What chainrule's operations refuse as PyTorch does, where NumPy computes: subtraction with
    a bool, powers of bools (tests/test_promotion.py compares them with PyTorch)."""
    bools = [v is True or v is False or getattr(v, "dtype", None) == np.bool_ for v in operands]
    if ufunc is np.remainder:  # the % operator: bools refused, an integer division by zero raises
        kinds = [np.asarray(v).dtype.kind for v in operands]
        return all(bools) or all(k in "biu" for k in kinds) and not np.all(np.asarray(operands[1]))
    return (ufunc is np.subtract and any(bools)) or (ufunc is np.power and all(bools))

UNARY_SHAPES = [(), (4,), (2, 3, 4)]
BINARY_SHAPES = [((), ()), ((4,), ()), ((), (4,)), ((5,), (5,)), ((2, 3, 4), (3, 4)), ((2, 1, 4), (3, 1))]
MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3, 4)), ((2, 2, 3), (3,)), ((3,), (2, 3, 4)), ((2, 1, 2, 3), (3, 3, 2))]
# The operands of NumPy 2's other gufuncs (core dimensions last); the last pairs do not fit.
GUFUNC_SHAPES = {np.matmul: MATMUL_SHAPES}
for _gu, _shapes in (("vecdot", [((3,), (3,)), ((2, 3), (3,)), ((4,), (2, 4)), ((2, 1, 3), (4, 3)), ((3,), (4,)), ((), (3,))]),
                     ("matvec", [((2, 3), (3,)), ((4, 2, 3), (3,)), ((2, 3), (4, 3)), ((2, 3), (2,))]),
                     ("vecmat", [((2,), (2, 3)), ((4, 2), (2, 3)), ((2,), (4, 2, 3)), ((3,), (2, 3))])):
    if hasattr(np, _gu):
        GUFUNC_SHAPES[getattr(np, _gu)] = _shapes


def _plain_shapes(ufunc):
    """One fitting pair of shapes for ``ufunc`` (matrices for the gufuncs)."""
    return GUFUNC_SHAPES[ufunc][1] if ufunc in GUFUNC_SHAPES else [(3, 4)] * ufunc.nin


def _ufunc_shapes(ufunc):
    if ufunc in GUFUNC_SHAPES:
        return GUFUNC_SHAPES[ufunc]
    return BINARY_SHAPES if ufunc.nin == 2 else [(s,) for s in UNARY_SHAPES]


def _ufunc_operand(ufunc, shape, dtype, rng, position=0):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.asarray(rng.random(shape) > 0.5)
    if dtype.kind in "iu":
        if ufunc is np.power:
            return np.asarray(rng.integers(1, 4, size=shape) if position == 0 else rng.integers(0, 4, size=shape), dtype)
        if ufunc in _POSITIVE or ufunc in _ABOVE_ONE:
            return np.asarray(rng.integers(1, 5, size=shape), dtype)
        if ufunc in _UNIT:
            return np.asarray(rng.integers(-1, 2, size=shape), dtype)
        return np.asarray(rng.integers(-3, 4, size=shape), dtype)
    if ufunc in _ABOVE_ONE:
        return np.asarray(rng.uniform(1.2, 3.0, size=shape), dtype)
    if ufunc in _POSITIVE or (ufunc is np.power and position == 0):
        return np.asarray(rng.uniform(0.5, 2.0, size=shape), dtype)
    if ufunc in _UNIT:
        return np.asarray(rng.uniform(-0.9, 0.9, size=shape), dtype)
    return np.asarray(rng.uniform(-2.0, 2.0, size=shape), dtype)


# NumPy's integer ufuncs (bitwise, shifts, gcd, lcm): float operands are an error in NumPy and
# chainrule alike (test_ufunc_forward_matches_numpy); the other tests take integer operands.
INTEGER_ONLY = {u for u in (np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert, np.left_shift, np.right_shift,
                            np.gcd, np.lcm, getattr(np, "bitwise_count", np.gcd))}


def _ufunc_operands(ufunc, shapes, dtype, label, forward=False):
    rng = _rng(label)
    if ufunc in INTEGER_ONLY and np.dtype(dtype).kind == "f" and not forward:
        dtype = "int64"
    if ufunc in (np.left_shift, np.right_shift) and np.dtype(dtype).kind in "iu":
        return [np.asarray(rng.integers(0 if i else -9, 6 if i else 10, size=s), dtype) for i, s in enumerate(shapes)]
    return [_ufunc_operand(ufunc, s, dtype, rng, i) for i, s in enumerate(shapes)]


def _ufunc_forward_params():
    for u in UFUNCS:
        for shapes in _ufunc_shapes(u):
            for dtype in ("float64", "float32", "int64", "bool"):
                for side in (("both", "left", "right") if u.nin == 2 else ("both",)):
                    if side != "both" and (dtype != "float64" or shapes[0] == ()):
                        continue
                    yield pytest.param(u, shapes, dtype, side, id=f"{u.__name__}-{shapes}-{dtype}-{side}")


@pytest.mark.parametrize("ufunc, shapes, dtype, side", list(_ufunc_forward_params()))
def test_ufunc_forward_matches_numpy(ufunc, shapes, dtype, side):
    arrays = _ufunc_operands(ufunc, shapes, dtype, f"{ufunc.__name__}{shapes}{dtype}", forward=True)
    want, error = _numpy_or_error(ufunc, *arrays)
    args = [_tensor(a) if side in ("both", ("left", "right")[i]) else a for i, a in enumerate(arrays)]
    if error is None and _refused_like_pytorch(ufunc, *arrays):
        with pytest.raises(RuntimeError, match=ufunc.__name__[:3]):
            ufunc(*args)
        return
    if error is not None:
        with pytest.raises(ERRORS):
            ufunc(*args)
        return
    with np.errstate(all="ignore"):
        got = ufunc(*args)
    check_dtype = not (ufunc in _PROMOTES_LIKE_CHAINRULE and dtype in ("int64", "bool"))
    assert_same(got, want, check_dtype, where=f"np.{ufunc.__name__}{shapes} {dtype}")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # integer operands include 0: x / 0
@pytest.mark.parametrize("ufunc", BINARY, ids=lambda u: u.__name__)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_ufunc_with_scalars(ufunc, dtype):
    """Python scalars on either side give NumPy's values and dtypes, except where an operator's
    ufunc follows chainrule's (PyTorch's) promotion: an integer tensor with a Python float, and
    integer true division, give the default float dtype (documented in _interop)."""
    (a,) = _ufunc_operands(ufunc, [(2, 3)], dtype, f"{ufunc.__name__}-scalars")
    t = cr.tensor(a)
    for scalar in (1.5, 2, True):
        check_dtype = not (dtype == "int64" and (ufunc in _PROMOTES_LIKE_CHAINRULE
                                                 or (ufunc in _OPERATORS and isinstance(scalar, float))))
        for args, ref in (((t, scalar), (a, scalar)), ((scalar, t), (scalar, a))):
            if ufunc is np.power and args[0] is scalar:
                ref = (abs(scalar), a)
                args = (abs(scalar), t)
            want, error = _numpy_or_error(ufunc, *ref)
            if error is not None or _refused_like_pytorch(ufunc, *ref):
                with pytest.raises(ERRORS):
                    ufunc(*args)
                continue
            assert_same(ufunc(*args), want, check_dtype,
                        where=f"{ufunc.__name__}{tuple(type(x).__name__ for x in args)}")
    # NumPy scalars: the values of NumPy; the dtype of the operator form, whichever side.
    scalar = np.float64(1.5) if ufunc not in INTEGER_ONLY else np.int64(3)
    left, right = ufunc(t, scalar), ufunc(scalar, t)
    with np.errstate(all="ignore"):
        assert_same(left, ufunc(a, scalar), check_dtype=dtype == "float64")
        assert_same(right, ufunc(scalar, a), check_dtype=dtype == "float64")
    assert left.dtype == right.dtype


@pytest.mark.parametrize("ufunc", [u for u in DIFFERENTIABLE], ids=lambda u: u.__name__)
def test_ufunc_gradient(ufunc):
    if ufunc in (np.sign, np.floor, np.ceil, np.rint):
        pytest.skip("piecewise constant: zero gradient, checked by test_op_table")
    shapes = MATMUL_SHAPES[-1] if ufunc is np.matmul else GUFUNC_SHAPES[ufunc][1] if ufunc.signature else \
        BINARY_SHAPES[-2] if ufunc.nin == 2 else ((2, 3, 4),)
    arrays = _ufunc_operands(ufunc, shapes, "float64", f"{ufunc.__name__}-grad")
    _gradcheck(ufunc, arrays)


@pytest.mark.parametrize("ufunc", UFUNCS, ids=lambda u: u.__name__)
def test_ufunc_out_tensor_is_written_in_place_with_history(ufunc):
    shapes = _plain_shapes(ufunc)
    arrays = _ufunc_operands(ufunc, shapes, "float64", f"{ufunc.__name__}-out")
    want = ufunc(*arrays)
    # no history: values written, out returned (also as a 1-tuple, NumPy's normalised form)
    for wrap in (lambda o: o, lambda o: (o,)):
        out = cr.zeros(*want.shape, dtype=want.dtype)
        result = ufunc(*[cr.tensor(a) for a in arrays], out=wrap(out))
        assert result is out
        assert_same(out, want)
    if ufunc in _interop._NONDIFFERENTIABLE:
        return
    # with history: out carries it; the gradient is that of the plain call
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    out = cr.zeros(*want.shape, dtype=want.dtype)
    ufunc(*xs, out=out)
    assert out.requires_grad
    weights = _rng("weights").uniform(size=want.shape)
    (out * weights).sum().backward()
    ys = [cr.tensor(a, requires_grad=True) for a in arrays]
    (ufunc(*ys) * weights).sum().backward()
    for x, y in zip(xs, ys):
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("ufunc", [u for u in DIFFERENTIABLE if u.nin == 1 and u not in (np.sign, np.floor, np.ceil, np.rint)],
                         ids=lambda u: u.__name__)
def test_ufunc_out_aliasing_an_input(ufunc):
    """``np.f(y, out=y)`` on a tensor with history: the node reads y's old value, not the new."""
    (a,) = _ufunc_operands(ufunc, [(3,)], "float64", f"{ufunc.__name__}-alias")
    x = cr.tensor(a, requires_grad=True)
    y = x * 1.0
    assert ufunc(y, out=y) is y
    y.sum().backward()
    z = cr.tensor(a, requires_grad=True)
    ufunc(z).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), z.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("ufunc", UFUNCS, ids=lambda u: u.__name__)
def test_ufunc_out_array(ufunc):
    shapes = _plain_shapes(ufunc)
    arrays = _ufunc_operands(ufunc, shapes, "float64", f"{ufunc.__name__}-outarray")
    want = ufunc(*arrays)
    out = np.zeros(want.shape, want.dtype)
    assert ufunc(*[cr.tensor(a) for a in arrays], out=out) is out  # no history: NumPy's behaviour
    assert_same(out, want, tensor_result=False)
    if ufunc in _interop._NONDIFFERENTIABLE:
        return
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    with pytest.raises(TypeError, match=ufunc.__name__):
        ufunc(*xs, out=np.zeros(want.shape, want.dtype))
    with cr.no_grad():  # nothing recorded: nothing to drop
        ufunc(*xs, out=out)


@pytest.mark.parametrize("ufunc", UFUNCS, ids=lambda u: u.__name__)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_ufunc_dtype_keyword(ufunc, dtype):
    shapes = _plain_shapes(ufunc)
    for source in ("float64", "float32"):
        arrays = _ufunc_operands(ufunc, shapes, source, f"{ufunc.__name__}-dtype")
        _check_against_numpy(lambda *xs: ufunc(*xs, dtype=dtype), arrays, name=ufunc.__name__,
                             where=f"np.{ufunc.__name__}({source}, dtype={dtype})")
    arrays = _ufunc_operands(ufunc, shapes, "float64", f"{ufunc.__name__}-signature")
    signature = (np.dtype(np.float32),) * (ufunc.nin + 1)
    _check_against_numpy(lambda *xs: ufunc(*xs, signature=signature), arrays, name=ufunc.__name__)
    _check_against_numpy(lambda *xs: ufunc(*xs, dtype=np.float32, casting="safe"), arrays, name=ufunc.__name__)


@pytest.mark.parametrize("ufunc", UFUNCS, ids=lambda u: u.__name__)
def test_ufunc_where_casting_order_subok(ufunc):
    shapes = _plain_shapes(ufunc)
    arrays = _ufunc_operands(ufunc, shapes, "float64", f"{ufunc.__name__}-where")
    want = ufunc(*arrays)
    tensors = [cr.tensor(a) for a in arrays]
    name = ufunc.__name__
    if not ufunc.signature:  # NumPy's gufuncs (matmul, vecdot, ...) take no where=
        mask = _rng("mask").random(want.shape) > 0.5
        start = _rng("start").uniform(size=want.shape).astype(want.dtype)
        reference = start.copy()
        ufunc(*arrays, out=reference, where=mask)
        out = cr.tensor(start.copy())
        assert ufunc(*tensors, out=out, where=mask) is out
        assert_same(out, reference)
        with pytest.raises(ValueError, match=name):  # NumPy leaves the rest uninitialised
            ufunc(*tensors, where=mask)
    # casting= is checked as NumPy checks it
    integer_out = np.zeros(want.shape, np.int64)
    _check_against_numpy(lambda *xs: ufunc(*xs, out=cr.zeros(*want.shape, dtype=cr.int64)), arrays, name=name,
                         check_dtype=False)
    _check_against_numpy(lambda *xs: ufunc(*xs, out=integer_out.copy(), casting="unsafe"), arrays,
                         tensor_result=False)
    with pytest.raises(ValueError, match=name):
        ufunc(*tensors, casting="sometimes")
    # order= is a memory layout only
    for order in ("C", "F", "A", "K"):
        assert_same(ufunc(*tensors, order=order), ufunc(*arrays, order=order))
    with pytest.raises(ValueError, match=name):
        ufunc(*tensors, order="X")
    # subok=False: a plain array, when nothing would be dropped
    plain = ufunc(*tensors, subok=False)
    assert type(plain) is np.ndarray
    assert_same(plain, want, tensor_result=False)
    if ufunc not in _interop._NONDIFFERENTIABLE:
        with pytest.raises(TypeError, match=name):
            ufunc(*[cr.tensor(a, requires_grad=True) for a in arrays], subok=False)


def test_matmul_gufunc_keywords_raise():
    a = cr.ones(2, 3)
    with pytest.raises(TypeError, match="matmul"):
        np.matmul(a, a.T, axes=[(0, 1), (0, 1), (0, 1)])
    with pytest.raises(TypeError, match="matmul"):
        np.matmul(a, a.T, keepdims=True)


def test_where_mask_and_out_keep_history_of_out():
    """``np.f(x, out=o, where=m)``: the unselected entries keep o's old values and history."""
    def f(x, o):
        o = o * 1.0
        np.sin(x, out=o, where=np.array([True, False, True]))
        return o

    _gradcheck(f, [np.array([0.1, 0.2, 0.3]), np.array([1.0, 2.0, 3.0])])


# ---------------------------------------------------------------------------------------------
# Ufunc methods
# ---------------------------------------------------------------------------------------------

_A = np.random.default_rng(7).uniform(0.5, 2.0, size=(2, 3, 4))
_MASK = np.random.default_rng(8).random((3, 4)) > 0.4

REDUCE_CALLS = [
    ("default-axis", lambda u, a: u.reduce(a)),
    ("axis=None", lambda u, a: u.reduce(a, axis=None)),
    ("axis=(0,2)-keepdims", lambda u, a: u.reduce(a, axis=(0, 2), keepdims=True)),
    ("axis=-1-positional", lambda u, a: u.reduce(a, -1)),
    ("axis=()", lambda u, a: u.reduce(a, axis=())),
    ("dtype=float32", lambda u, a: u.reduce(a, axis=1, dtype=np.float32)),
    ("initial", lambda u, a: u.reduce(a, axis=1, initial=1.25)),
    ("where-initial", lambda u, a: u.reduce(a, axis=0, where=_MASK, initial=1.25)),
]


@pytest.mark.parametrize("ufunc", sorted(_interop._REDUCE, key=lambda u: u.__name__), ids=lambda u: u.__name__)
@pytest.mark.parametrize("label, call", REDUCE_CALLS, ids=[c[0] for c in REDUCE_CALLS])
def test_ufunc_reduce(ufunc, label, call):
    _check_against_numpy(lambda a: call(ufunc, a), [_A], name=ufunc.__name__, where=label)
    if label != "dtype=float32":
        _gradcheck(lambda a: call(ufunc, a), [_A])


def test_ufunc_reduce_keywords_and_errors():
    _check_against_numpy(lambda a: np.add.reduce(a, axis=0, where=_MASK), [_A])
    _check_against_numpy(lambda a: np.maximum.reduce(a, axis=0, where=_MASK), [_A], name="maximum")
    _check_against_numpy(lambda a: np.maximum.reduce(a[:0], axis=0), [_A], name="maximum")
    _check_against_numpy(lambda a: np.maximum.reduce(a[:0], axis=0, initial=-1.0), [_A])
    _check_against_numpy(lambda a: np.add.reduce(a, axis=3), [_A], name="add")
    out = cr.zeros(3, 4, dtype=cr.float64)
    assert np.add.reduce(cr.tensor(_A), out=out) is out
    assert_same(out, np.add.reduce(_A))
    with pytest.raises(ValueError, match="add"):
        np.add.reduce(cr.tensor(_A), out=cr.zeros(4, dtype=cr.float64))


@pytest.mark.parametrize("ufunc", sorted(_interop._ACCUMULATE, key=lambda u: u.__name__), ids=lambda u: u.__name__)
def test_ufunc_accumulate(ufunc):
    for call in (lambda a: ufunc.accumulate(a), lambda a: ufunc.accumulate(a, axis=2),
                 lambda a: ufunc.accumulate(a, -2, np.float32)):
        _check_against_numpy(call, [_A], name=ufunc.__name__)
    _gradcheck(lambda a: ufunc.accumulate(a, axis=1), [_A])
    out = cr.zeros(*_A.shape, dtype=cr.float64)
    assert ufunc.accumulate(cr.tensor(_A), out=out) is out
    assert_same(out, ufunc.accumulate(_A))


@pytest.mark.parametrize("ufunc", BINARY + sorted(GUFUNC_SHAPES, key=lambda u: u.__name__), ids=lambda u: u.__name__)
def test_ufunc_outer(ufunc):
    a, b = _ufunc_operands(ufunc, [(2, 3), (4,)], "float64", f"{ufunc.__name__}-outer")
    name = None if ufunc.signature else ufunc.__name__  # NumPy refuses matmul.outer (any gufunc's) itself
    _check_against_numpy(lambda x, y: ufunc.outer(x, y), [a, b], name=name)
    _check_against_numpy(lambda x, y: ufunc.outer(x, y), [a[0, 0], b], name=name)
    if ufunc in DIFFERENTIABLE and not ufunc.signature:
        _gradcheck(lambda x, y: ufunc.outer(x, y), [a, b])


def test_ufunc_at():
    index = np.array([0, 2, 0, 3])
    values = np.array([1.0, 2.0, 3.0, 4.0])
    for ufunc in (np.add, np.subtract):
        def f(x, v, ufunc=ufunc):
            y = x * 1.0
            assert ufunc.at(y, index, v) is None
            return y

        x = np.arange(5.0)
        reference = x.copy()
        ufunc.at(reference, index, values)
        assert_same(f(cr.tensor(x), cr.tensor(values)), reference)
        _gradcheck(f, [x, values])
    # any ufunc at indices without repeats is differentiable
    unique = (np.array([0, 1]), np.array([2, 0]))

    def g(x, v):
        y = x * 1.0
        np.multiply.at(y, unique, v)
        np.negative.at(y, (np.array([1]), np.array([1])))
        return y

    x = _rng("at").uniform(size=(2, 3))
    reference = x.copy()
    np.multiply.at(reference, unique, np.array([2.0, 3.0]))
    np.negative.at(reference, (np.array([1]), np.array([1])))
    assert_same(g(cr.tensor(x), cr.tensor([2.0, 3.0], dtype=cr.float64)), reference)
    _gradcheck(g, [x, np.array([2.0, 3.0])])
    # repeated indices of another ufunc: NumPy's answer without history, an error with it
    t = cr.tensor([1.0, 2.0, 3.0])
    np.multiply.at(t, [0, 0], 3.0)
    assert t.tolist() == [9.0, 2.0, 3.0]
    y = cr.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1.0
    with pytest.raises(TypeError, match="multiply.at"):
        np.multiply.at(y, [0, 0], 3.0)
    with pytest.raises(RuntimeError, match="leaf"):  # the in-place rules hold
        np.add.at(cr.ones(3, requires_grad=True), [0], 1.0)


def test_other_ufunc_methods_compute_without_history_and_raise_with_it():
    a = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    assert_same(np.maximum.accumulate(cr.tensor(a)), np.maximum.accumulate(a))
    assert_same(np.add.reduceat(cr.tensor(a), [0, 2]), np.add.reduceat(a, [0, 2]))
    assert_same(np.subtract.reduce(cr.tensor(a)), np.subtract.reduce(a))
    x = cr.tensor(a, requires_grad=True)
    for call, name in ((lambda: np.maximum.accumulate(x), "maximum.accumulate"),
                       (lambda: np.add.reduceat(x, [0, 2]), "add.reduceat"),
                       (lambda: np.subtract.reduce(x), "subtract.reduce"),
                       (lambda: np.add.at(np.zeros(5), [0], x), "add.at")):
        with pytest.raises(TypeError, match=name):
            call()
    # results that never carry a gradient compute in NumPy, history or not
    assert_same(np.logical_and.reduce(x > 2), np.logical_and.reduce(a > 2))
    assert_same(np.greater.outer(x, x), np.greater.outer(a, a))


# ---------------------------------------------------------------------------------------------
# Functions: every entry of _FUNCTIONS
# ---------------------------------------------------------------------------------------------

@dataclass
class Case:
    label: str
    call: Callable
    args: tuple
    grad: bool = True  # gradcheck the float64 arguments
    dtype: bool = True  # compare dtypes too


_R = np.random.default_rng(20240611)


def u(*shape, lo=-2.0, hi=2.0):
    return np.asarray(_R.uniform(lo, hi, size=shape), dtype=np.float64)


def pos(*shape):
    return u(*shape, lo=0.5, hi=2.0)


def ints(*shape, lo=-3, hi=4):
    return np.asarray(_R.integers(lo, hi, size=shape), dtype=np.int64)


def wc(*shape):
    """Well-conditioned (batches of) square matrices."""
    return u(*shape, lo=-0.3, hi=0.3) + 2.0 * np.eye(shape[-1])


def distinct(*shape):
    """Values far apart (no ties for max/min, no kinks for abs)."""
    n = int(np.prod(shape))
    return (_R.permutation(n) * 0.37 + 0.5).reshape(shape) * _R.choice([-1.0, 1.0], size=shape)


def distinct_sums(*shape):
    """Magnitudes that are distinct powers of two: all sums of their subsets differ (no ties
    between the row or column sums of matrix norms)."""
    n = int(np.prod(shape))
    return (2.0 ** _R.permutation(n) / 2.0 ** (n - 3)).reshape(shape) * _R.choice([-1.0, 1.0], size=shape)


A3, A2, A1, A0 = u(2, 3, 4), u(3, 4), u(4), u()
# Every row and every column selects something (no empty reductions: no NaN to differentiate).
M = np.array([[True, False, True, False], [False, True, True, False], [True, True, False, True]])
C = Case

FUNCTION_CASES: dict = {
    np.sum: [
        C("3d", np.sum, (A3,)), C("axis=1", lambda a: np.sum(a, axis=1), (A3,)),
        C("axis=(0,2)-keepdims", lambda a: np.sum(a, axis=(0, 2), keepdims=True), (A3,)),
        C("axis-positional-dtype", lambda a: np.sum(a, -1, np.float32), (A3,), grad=False),
        C("initial", lambda a: np.sum(a, axis=0, initial=2.5), (A3,)),
        C("where", lambda a: np.sum(a, axis=0, where=M), (A3,)),
        C("axis=()", lambda a: np.sum(a, axis=()), (A3,)),
        C("0d", np.sum, (A0,)), C("0d-keepdims", lambda a: np.sum(a, keepdims=True), (A0,)),
        C("0d-axis-0", lambda a: np.sum(a, axis=0), (A0,)), C("0d-axis--1-keepdims", lambda a: np.sum(a, -1, keepdims=True), (A0,)),
        C("1d", lambda a: np.sum(a, 0), (A1,)),
        C("int", lambda a: np.sum(a, axis=1), (ints(3, 4),)), C("int-dtype", lambda a: np.sum(a, dtype=float), (ints(5),)),
        C("int-initial", lambda a: np.sum(a, initial=1.5), (ints(5),)), C("bool", np.sum, (M,)),
        C("out", lambda a, o: np.sum(a, axis=1, out=o), (A3, np.zeros((2, 4))), grad=False),
    ],
    np.mean: [
        C("3d", np.mean, (A3,)), C("axis=(0,2)", lambda a: np.mean(a, (0, 2)), (A3,)),
        C("keepdims", lambda a: np.mean(a, axis=1, keepdims=True), (A3,)),
        C("dtype=float32", lambda a: np.mean(a, dtype=np.float32), (A3,), grad=False),
        C("where", lambda a: np.mean(a, axis=1, where=M), (A3,)), C("0d", np.mean, (A0,)),
        C("int", lambda a: np.mean(a, axis=0), (ints(3, 4),)), C("int-dtype-int", lambda a: np.mean(a, dtype=np.int64), (ints(7),)),
        C("bool", np.mean, (M,)), C("float32", np.mean, (u(3, 4).astype(np.float32),)),
    ],
    np.prod: [
        C("3d", lambda a: np.prod(a), (pos(2, 3, 2),)), C("axis=1", lambda a: np.prod(a, axis=1), (A3,)),
        C("keepdims", lambda a: np.prod(a, axis=(0, 1), keepdims=True), (A3,)),
        C("with-zero", lambda a: np.prod(a, axis=0), (np.array([[0.0, 2.0], [3.0, 0.0], [1.5, 2.0]]),)),
        C("initial-where", lambda a: np.prod(a, axis=0, initial=2.0, where=M), (A3,)),
        C("0d", np.prod, (A0,)), C("int", np.prod, (ints(4, lo=1),)),
    ],
    np.max: [
        C("3d", np.max, (distinct(2, 3, 4),)), C("axis=1", lambda a: np.max(a, axis=1), (distinct(2, 3, 4),)),
        C("axis=(0,2)-keepdims", lambda a: np.max(a, axis=(0, 2), keepdims=True), (distinct(2, 3, 4),)),
        C("initial", lambda a: np.max(a, axis=0, initial=0.9), (distinct(3, 4),)),
        C("where-initial", lambda a: np.max(a, axis=0, where=M, initial=-10.0), (distinct(3, 4),)),
        C("empty-initial", lambda a: np.max(a[:0], axis=0, initial=-1.0), (A2,)),
        C("0d", np.max, (A0,)), C("int", lambda a: np.max(a, 0), (ints(3, 4),)),
    ],
    np.amax: [C("axis=-1", lambda a: np.amax(a, axis=-1), (distinct(2, 3, 4),)), C("0d", np.amax, (A0,))],
    np.min: [
        C("3d", np.min, (distinct(2, 3, 4),)), C("axis=(1,2)", lambda a: np.min(a, axis=(1, 2)), (distinct(2, 3, 4),)),
        C("initial", lambda a: np.min(a, axis=1, initial=0.3, keepdims=True), (distinct(3, 4),)),
        C("where-initial", lambda a: np.min(a, axis=0, where=M, initial=10.0), (distinct(3, 4),)),
        C("int", np.min, (ints(5),)),
    ],
    np.amin: [C("axis=0", lambda a: np.amin(a, axis=0), (distinct(2, 3),)), C("0d", np.amin, (A0,))],
    np.var: [
        C("3d", np.var, (A3,)), C("axis=1", lambda a: np.var(a, axis=1), (A3,)),
        C("ddof-keepdims", lambda a: np.var(a, axis=(0, 2), ddof=1, keepdims=True), (A3,)),
        C("correction", lambda a: np.var(a, axis=0, correction=1), (A3,)),
        C("where", lambda a: np.var(a, axis=1, where=M), (A3,)),
        C("mean", lambda a, m: np.var(a, axis=1, mean=m), (A2, np.mean(A2, axis=1, keepdims=True))),
        C("dtype", lambda a: np.var(a, dtype=np.float32), (A3,), grad=False),
        C("int", np.var, (ints(3, 4),)), C("0d", np.var, (A0,), grad=False), C("1d", np.var, (A1,)),
        C("float32", lambda a: np.var(a, axis=0, ddof=1), (A2.astype(np.float32),)),
        C("int-where", lambda a: np.var(a, axis=1, where=M), (ints(3, 4),)),
    ],
    np.std: [
        C("3d", np.std, (A3,)), C("ddof", lambda a: np.std(a, axis=-1, ddof=1), (A3,)),
        C("where-keepdims", lambda a: np.std(a, axis=1, where=M, keepdims=True), (A2,)),
        C("int", lambda a: np.std(a, 0), (ints(3, 4),)),
    ],
    np.cumsum: [
        C("flatten", np.cumsum, (A3,)), C("axis=1", lambda a: np.cumsum(a, axis=1), (A3,)),
        C("axis=-1-dtype", lambda a: np.cumsum(a, -1, np.float32), (A3,), grad=False),
        C("0d", np.cumsum, (A0,)), C("0d-axis", lambda a: np.cumsum(a, axis=0), (A0,)),
        C("int", np.cumsum, (ints(2, 3),)), C("out", lambda a, o: np.cumsum(a, 0, None, o), (A2, np.zeros((3, 4))), grad=False),
    ],
    np.cumprod: [
        C("flatten", np.cumprod, (pos(2, 3),)), C("axis=0", lambda a: np.cumprod(a, axis=0), (A3,)),
        C("int", lambda a: np.cumprod(a, axis=1), (ints(2, 3, lo=1),)),
    ],
    np.argmax: [
        C("flat", np.argmax, (distinct(2, 3, 4),)), C("axis=1", lambda a: np.argmax(a, axis=1), (distinct(2, 3, 4),)),
        C("keepdims", lambda a: np.argmax(a, axis=2, keepdims=True), (distinct(2, 3, 4),)),
        C("none-keepdims", lambda a: np.argmax(a, keepdims=True), (distinct(2, 3, 4),)),
        C("int", np.argmax, (ints(6),)), C("0d-axis-0", lambda a: np.argmax(a, 0), (A0,)),
    ],
    np.argmin: [
        C("flat", np.argmin, (distinct(3, 4),)), C("axis=-1", lambda a: np.argmin(a, -1), (distinct(3, 4),)),
    ],
    np.dot: [
        C("0d-3d", np.dot, (A0, A3)), C("3d-0d", np.dot, (A3, A0)), C("1d-1d", np.dot, (A1, u(4))),
        C("2d-1d", np.dot, (A2, A1)), C("1d-2d", np.dot, (u(3), A2)), C("2d-2d", np.dot, (A2, u(4, 2))),
        C("3d-1d", np.dot, (A3, A1)), C("1d-3d", np.dot, (u(3), u(2, 3, 4))), C("3d-2d", np.dot, (A3, u(4, 5))),
        C("3d-3d", np.dot, (A3, u(2, 4, 3))), C("2d-4d", np.dot, (u(2, 3), u(2, 1, 3, 2))),
        C("python-scalar", lambda a: np.dot(a, 2.5), (A2,)), C("int", np.dot, (ints(2, 3), ints(4, 3, 2))),
        C("out", lambda a, b, o: np.dot(a, b, out=o), (A2, u(4, 2), np.zeros((3, 2))), grad=False),
    ],
    np.outer: [
        C("1d-1d", np.outer, (u(3), A1)), C("2d-3d", np.outer, (u(2, 2), u(1, 2, 2))), C("0d-1d", np.outer, (A0, A1)),
        C("int", np.outer, (ints(3), ints(2))),
    ],
    np.inner: [
        C("0d-3d", np.inner, (A0, A3)), C("1d-1d", np.inner, (A1, u(4))), C("3d-3d", np.inner, (A3, A3)),
        C("3d-2d", np.inner, (A3, u(5, 4))), C("1d-3d", np.inner, (A1, A3)), C("3d-1d", np.inner, (A3, A1)),
        C("int", np.inner, (ints(2, 3), ints(3))),
    ],
    np.tensordot: [
        C("axes=2", np.tensordot, (A3, u(3, 4, 2))), C("axes=1", lambda a, b: np.tensordot(a, b, 1), (A3, u(4, 3))),
        C("axes=0", lambda a, b: np.tensordot(a, b, axes=0), (u(2, 2), u(3))),
        C("axes-pairs", lambda a, b: np.tensordot(a, b, axes=([1, 0], [0, 1])), (A3, u(3, 2, 5))),
        C("axes-ints", lambda a, b: np.tensordot(a, b, axes=(-1, 0)), (A3, u(4, 2))),
        C("0d", lambda a, b: np.tensordot(a, b, 0), (A0, A2)),
    ],
    # The sorting family (tests/test_sorting.py has more, and hypothesis-drawn shapes)
    np.sort: [
        C("3d", np.sort, (distinct(2, 3, 4),)), C("axis=0", lambda a: np.sort(a, axis=0), (distinct(3, 4),)),
        C("axis=None", lambda a: np.sort(a, axis=None), (distinct(3, 4),)),
        C("kind-stable", lambda a: np.sort(a, kind="stable"), (ints(3, 5),)), C("0d", np.sort, (A0,)),
    ],
    np.argsort: [
        C("axis=1", lambda a: np.argsort(a, axis=1), (distinct(2, 3, 4),)),
        C("stable-ties", lambda a: np.argsort(a, stable=True), (ints(3, 6),)),
    ],
    np.partition: [
        C("kth", lambda a: np.partition(a, 2), (ints(3, 6),)), C("kth-seq", lambda a: np.partition(a, [0, 2], axis=0), (distinct(4, 3),)),
        C("axis=None", lambda a: np.partition(a, -1, axis=None), (distinct(3, 4),)),
        C("kth-out-of-bounds", lambda a: np.partition(a, 4), (distinct(3, 4),)),
    ],
    np.argpartition: [C("kth", lambda a: np.argpartition(a, 1, axis=0), (distinct(3, 4),))],
    np.take: [
        C("flat", lambda a, i: np.take(a, i), (A2, np.array([[0, -1], [5, 11]]))),
        C("axis", lambda a, i: np.take(a, i, axis=1), (A3, np.array([2, 0, 2]))),
        C("scalar-index", lambda a: np.take(a, 2, axis=-1), (A3,)),
        C("wrap", lambda a, i: np.take(a, i, axis=0, mode="wrap"), (A2, np.array([5, -7]))),
        C("clip", lambda a, i: np.take(a, i, mode="clip"), (A2, np.array([50, -7]))),
        C("out-of-bounds", lambda a: np.take(a, 12), (A2,)),
    ],
    np.take_along_axis: [
        C("axis=1", lambda a, i: np.take_along_axis(a, i, axis=1), (A2, np.array([[3], [0], [-1]]))),
        C("default-axis", lambda a, i: np.take_along_axis(a, i), (A3, np.argsort(A3))),
        C("broadcast", lambda a, i: np.take_along_axis(a, i, 0), (A2, np.array([[2, 0, 1, 1]]))),
        C("axis=None", lambda a, i: np.take_along_axis(a, i, None), (A2, np.array([11, 0]))),
    ],
    np.put_along_axis: [
        C("axis=1", lambda a, i, v: (np.put_along_axis(a, i, v, 1), a)[1], (A2.copy(), np.array([[3], [0], [1]]), u(3, 1)),
          grad=False),
        C("axis=None", lambda a, i: (np.put_along_axis(a, i, 9.0, None), a)[1], (A2.copy(), np.array([11, -1])), grad=False),
    ],
    np.choose: [
        C("broadcast", lambda i, a, b: np.choose(i, [a, b]), (np.array([[0, 1, 1, 0]]), A2, A1)),
        C("wrap", lambda i, a: np.choose(i, [a, 2.0, a * 2], mode="wrap"), (np.array([4, -1, 2, 0]), A1)),
        C("clip", lambda i, a, b: np.choose(i, [a, b], mode="clip"), (np.array([9, -1, 1, 0]), A1, u(4))),
        C("raise", lambda i, a, b: np.choose(i, [a, b]), (np.array([2, 0, 1, 0]), A1, u(4))),
        C("int", lambda i, a, b: np.choose(i, [a, b]), (np.array([1, 0, 1]), ints(3), ints(3))),
    ],
    np.select: [
        C("default", lambda a, b: np.select([a > 0, b > 0], [a, b], default=-1.0), (A2, A1)),
        C("int-choices", lambda a, b: np.select([a > 0], [b]), (ints(3, 4), ints(4))),
        C("scalar-choice", lambda a: np.select([a > 0, a < -1], [a, 3.0], 0.5), (A2,)),
    ],
    np.nonzero: [C("2d", np.nonzero, (ints(3, 4),), grad=False), C("1d-float", np.nonzero, (A1,), grad=False)],
    np.kron: [
        C("2d-2d", np.kron, (u(2, 3), u(2, 2))), C("1d-3d", np.kron, (u(3), u(2, 1, 2))), C("0d-2d", np.kron, (A0, u(2, 2))),
        C("int", np.kron, (ints(2, 2), ints(3))),
    ],
    np.vdot: [C("2d-2d", np.vdot, (u(2, 3), u(3, 2))), C("1d", np.vdot, (A1, u(4))), C("sizes", np.vdot, (A1, u(3)))],
    np.linalg.multi_dot: [
        C("vector-ends", lambda a, b, c, d: np.linalg.multi_dot([a, b, c, d]), (u(3), u(3, 4), u(4, 2), u(2))),
        C("matrices", lambda a, b, c: np.linalg.multi_dot([a, b, c]), (u(2, 5), u(5, 3), u(3, 4))),
        C("two", lambda a, b: np.linalg.multi_dot([a, b]), (u(2, 3), u(3))),
        C("mismatch", lambda a, b: np.linalg.multi_dot([a, b]), (u(2, 3), u(2))),
    ],
    np.einsum: [
        C("matmul", lambda a, b: np.einsum("ij,jk->ik", a, b), (A2, u(4, 2))),
        C("implicit", lambda a, b: np.einsum("ij,jk", a, b), (A2, u(4, 2))),
        C("trace", lambda a: np.einsum("ii", a), (u(3, 3),)), C("diag", lambda a: np.einsum("ii->i", a), (u(3, 3),)),
        C("batch", lambda a, b: np.einsum("bij,bjk->bik", a, b), (A3, u(2, 4, 3))),
        C("ellipsis", lambda a, b: np.einsum("...ij,...jk->...ik", a, b), (A3, u(4, 2))),
        C("ellipsis-implicit", lambda a: np.einsum("...ij", a), (A3,)),
        C("broadcast-size-1", lambda a, b: np.einsum("ai,ai->a", a, b), (u(1, 3), u(2, 3))),
        C("broadcast-ellipsis", lambda a, b: np.einsum("...i,...i->...", a, b), (u(1, 3), u(2, 3))),
        C("three", lambda a, b, c: np.einsum("ij,jk,kl->il", a, b, c), (A2, u(4, 2), u(2, 2))),
        C("uppercase", lambda a, b: np.einsum("Ab,bC->AC", a, b), (A2, u(4, 2))),
        C("sum-all", lambda a: np.einsum("ijk->", a), (A3,)), C("0d", lambda a, b: np.einsum(",i->i", a, b), (A0, A1)),
        C("interleaved", lambda a: np.einsum(a, [0, 1], [1, 0]), (A2,)),
        C("interleaved-two", lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]), (A2, u(4, 2))),
        C("interleaved-implicit", lambda a, b: np.einsum(a, [5, 30], b, [30, 2]), (A2, u(4, 2))),
        C("interleaved-ellipsis", lambda a: np.einsum(a, [Ellipsis, 0], [Ellipsis]), (A3,)),
        C("optimize-greedy", lambda a, b, c: np.einsum("ij,jk,kl", a, b, c, optimize="greedy"), (A2, u(4, 2), u(2, 2))),
        C("optimize-False", lambda a, b: np.einsum("ij,jk", a, b, optimize=False), (A2, u(4, 2))),
        C("dtype", lambda a, b: np.einsum("ij,jk", a, b, dtype=np.float32, casting="same_kind"), (A2, u(4, 2)), grad=False),
        C("int", lambda a, b: np.einsum("ij,j->i", a, b), (ints(2, 3), ints(3))),
        C("out", lambda a, o: np.einsum("ij->j", a, out=o), (A2, np.zeros(4)), grad=False),
    ],
    np.trace: [
        C("2d", np.trace, (u(3, 3),)), C("offset", lambda a: np.trace(a, 1), (A2,)),
        C("offset-negative", lambda a: np.trace(a, offset=-1), (A2,)),
        C("3d-axes", lambda a: np.trace(a, axis1=1, axis2=2), (A3,)),
        C("3d-axes-reversed", lambda a: np.trace(a, 1, 2, 0), (A3,)),
        C("offset-beyond", lambda a: np.trace(a, 7), (A2,)), C("int", np.trace, (ints(3, 3),)),
        C("dtype", lambda a: np.trace(a, dtype=np.float32), (A2,), grad=False),
    ],
    np.reshape: [
        C("tuple", lambda a: np.reshape(a, (6, 4)), (A3,)), C("minus-one", lambda a: np.reshape(a, -1), (A3,)),
        C("keyword", lambda a: np.reshape(a, shape=(4, -1)), (A3,)),
        C("order-F", lambda a: np.reshape(a, (4, 6), order="F"), (A3,)),
        C("order-F-positional", lambda a: np.reshape(a, (3, 8), "F"), (A3,)),
        C("order-A-C", lambda a: np.reshape(a, (4, 6), order="A"), (A3,)),
        C("order-A-fortran", lambda a: np.reshape(np.transpose(a), (4, 6), order="A"), (A3,)),
        C("copy", lambda a: np.reshape(a, (12, 2), copy=True), (A3,)),
        C("0d", lambda a: np.reshape(a, (1, 1)), (A0,)), C("to-0d", lambda a: np.reshape(a, ()), (u(1),)),
        C("int", lambda a: np.reshape(a, (3, 2)), (ints(6),)),
    ],
    np.transpose: [
        C("3d", np.transpose, (A3,)), C("axes", lambda a: np.transpose(a, (1, 0, 2)), (A3,)),
        C("negative-axes", lambda a: np.transpose(a, axes=[-1, 0, 1]), (A3,)),
        C("1d-int-axes", lambda a: np.transpose(a, 0), (A1,)), C("0d", np.transpose, (A0,)),
    ],
    np.squeeze: [
        C("all", np.squeeze, (u(1, 3, 1),)), C("axis", lambda a: np.squeeze(a, 2), (u(1, 3, 1),)),
        C("axes", lambda a: np.squeeze(a, axis=(0, -1)), (u(1, 3, 1),)), C("0d", np.squeeze, (A0,)),
        C("0d-axis-0", lambda a: np.squeeze(a, 0), (A0,)),
        C("none-to-squeeze", np.squeeze, (A3,)),
    ],
    np.expand_dims: [
        C("0", lambda a: np.expand_dims(a, 0), (A3,)), C("-1", lambda a: np.expand_dims(a, axis=-1), (A3,)),
        C("tuple", lambda a: np.expand_dims(a, (0, 3)), (A2,)), C("0d", lambda a: np.expand_dims(a, 0), (A0,)),
    ],
    np.concatenate: [
        C("axis0", lambda a, b: np.concatenate([a, b]), (A3, u(1, 3, 4))),
        C("axis-1", lambda a, b: np.concatenate((a, b), axis=-1), (A3, u(2, 3, 1))),
        C("axis-None", lambda a, b: np.concatenate([a, b], axis=None), (A3, A1)),
        C("mixed-array", lambda a: np.concatenate([a, np.ones((1, 4))], 0), (A2,)),
        C("dtype", lambda a, b: np.concatenate([a, b], dtype=np.float32), (A2, A2), grad=False),
        C("int-float", lambda a, b: np.concatenate([a, b]), (ints(2), A1)),
        C("three", lambda a, b, c: np.concatenate((a, b, c), 1), (A2, u(3, 1), A2)),
        C("tensor-as-sequence", lambda a: np.concatenate(a), (A3,)),
        C("out", lambda a, b, o: np.concatenate([a, b], out=o), (A1, A1, np.zeros(8)), grad=False),
    ],
    np.stack: [
        C("axis0", lambda a, b: np.stack([a, b]), (A3, A3)), C("axis-1", lambda a, b: np.stack((a, b), axis=-1), (A2, A2)),
        C("0d", lambda a, b: np.stack([a, b]), (A0, u())), C("dtype", lambda a: np.stack([a, a], dtype=np.float32), (A2,), grad=False),
        C("mixed-array", lambda a: np.stack([a, np.ones(4)], 1), (A1,)),
    ],
    np.where: [
        C("3-arg", lambda c, a, b: np.where(c, a, b), (M, A3, A2)),
        C("tensor-condition", lambda a, b: np.where(a > 0, a, b), (A3, A3)),
        C("scalar", lambda a: np.where(a > 0, a, 0.0), (A3,)),
        C("scalars", lambda a: np.where(a > 0, 1.0, -1.0), (A3,), grad=False),
        C("nonbool-condition", lambda c, a: np.where(c, a, 2.0), (ints(3, 4, lo=0, hi=2), A2)),
        C("one-arg", lambda a: np.where(a > 0), (A3,), grad=False),
        C("one-arg-float", np.where, (np.array([1.0, 0.0, 2.0]),), grad=False),
    ],
    np.clip: [
        C("both", lambda a: np.clip(a, -0.5, 0.7), (A3,)), C("lower", lambda a: np.clip(a, -0.5, None), (A3,)),
        C("upper", lambda a: np.clip(a, a_max=0.7, a_min=None), (A3,)),
        C("min-max", lambda a: np.clip(a, min=-0.5, max=0.7), (A3,)), C("none", np.clip, (A3,)),
        C("array-bounds-broadcast", lambda a, lo: np.clip(a, lo, 1.5), (A1, u(3, 1, lo=-1.0, hi=0.0))),
        C("tensor-bounds", lambda a, lo, hi: np.clip(a, lo, hi), (A2, u(4, lo=-1.0, hi=0.0), u(3, 1, lo=0.1, hi=1.0))),
        C("int-float-bounds", lambda a: np.clip(a, -1.5, 2.5), (ints(3, 4),)),
        C("0d", lambda a: np.clip(a, -0.1, 0.1), (A0,)),
        C("out", lambda a, o: np.clip(a, -0.5, 0.5, out=o), (A2, np.zeros((3, 4))), grad=False),
        C("dtype", lambda a: np.clip(a, -0.5, 0.5, dtype=np.float32), (A2,), grad=False),
        C("dtype-one-bound", lambda a: np.clip(a, None, 0.5, dtype=np.float32), (A2,), grad=False),
        C("where-out", lambda a, o: np.clip(a, -0.5, 0.5, out=o, where=M), (A2, np.zeros((3, 4))), grad=False),
    ],
    np.tile: [
        C("int", lambda a: np.tile(a, 2), (A2,)), C("longer", lambda a: np.tile(a, (2, 1, 2)), (A2,)),
        C("reps-keyword", lambda a: np.tile(a, reps=(2, 1, 1, 2)), (A3,)), C("shorter", lambda a: np.tile(a, (2,)), (A3,)),
        C("0d", lambda a: np.tile(a, (2, 3)), (A0,)), C("empty-reps", lambda a: np.tile(a, ()), (A2,)),
    ],
    np.flip: [
        C("all", np.flip, (A3,)), C("axis", lambda a: np.flip(a, 1), (A3,)),
        C("axes", lambda a: np.flip(a, axis=(0, -1)), (A3,)), C("0d", np.flip, (A0,)),
    ],
    np.broadcast_to: [
        C("1d", lambda a: np.broadcast_to(a, (2, 3, 4)), (A1,)), C("int-shape", lambda a: np.broadcast_to(a, 5), (A0,)),
        C("same", lambda a: np.broadcast_to(a, shape=(3, 4)), (A2,)), C("subok", lambda a: np.broadcast_to(a, (2, 4), True), (A1,)),
    ],
    np.linalg.inv: [C("2d", np.linalg.inv, (wc(3, 3),)), C("batch", np.linalg.inv, (wc(2, 3, 3),)),
                    C("int", np.linalg.inv, (np.array([[2, 1], [1, 3]]),))],
    np.linalg.det: [C("2d", np.linalg.det, (wc(3, 3),)), C("batch", np.linalg.det, (wc(2, 2, 3, 3),))],
    np.linalg.slogdet: [C("2d", np.linalg.slogdet, (wc(3, 3),)), C("batch", np.linalg.slogdet, (wc(2, 3, 3),)),
                        C("negative", np.linalg.slogdet, (np.array([[0.0, 2.0], [1.5, 0.3]]),))],
    np.linalg.solve: [
        C("vector", np.linalg.solve, (wc(3, 3), A1[:3])), C("matrix", np.linalg.solve, (wc(3, 3), u(3, 2))),
        C("batch", np.linalg.solve, (wc(2, 3, 3), u(2, 3, 2))), C("broadcast", np.linalg.solve, (wc(2, 3, 3), u(3, 2))),
    ],
    np.linalg.norm: [
        C("flat", np.linalg.norm, (A3,)), C("keepdims", lambda a: np.linalg.norm(a, keepdims=True), (A3,)),
        C("vector-axis", lambda a: np.linalg.norm(a, axis=1), (A3,)),
        C("ord1-axis-tuple1", lambda a: np.linalg.norm(a, ord=1, axis=(0,)), (A2,)),
        C("matrix-axes", lambda a: np.linalg.norm(a, axis=(1, 2)), (A3,)),
        C("matrix-fro", lambda a: np.linalg.norm(a, "fro"), (A2,)),
        C("matrix-1", lambda a: np.linalg.norm(a, 1), (distinct_sums(3, 3),)),
        C("matrix-inf-keepdims", lambda a: np.linalg.norm(a, np.inf, (2, 0), True), (distinct_sums(2, 3, 3),)),
        C("matrix--1", lambda a: np.linalg.norm(a, -1), (distinct_sums(3, 3),)),
        C("matrix--inf", lambda a: np.linalg.norm(a, -np.inf), (distinct_sums(3, 3),)),
        C("vector-inf", lambda a: np.linalg.norm(a, np.inf), (distinct(5),)),
        C("vector--inf", lambda a: np.linalg.norm(a, -np.inf), (distinct(5),)),
        C("vector-0", lambda a: np.linalg.norm(a, 0), (np.array([1.5, 0.0, -2.0]),)),
        C("vector-0-nan", lambda a: np.linalg.norm(a, 0), (np.array([1.5, 0.0, np.nan]),), grad=False),
        C("vector-3", lambda a: np.linalg.norm(a, 3, axis=-1), (A3,)),
        C("vector--1", lambda a: np.linalg.norm(a, -1), (distinct(4),)),
        C("vector-neg-half", lambda a: np.linalg.norm(a, -0.5, axis=0), (distinct(3, 4),)),
        C("int", np.linalg.norm, (ints(3, 4),)), C("int-axis", lambda a: np.linalg.norm(a, axis=0), (ints(3, 4),)),
        C("1d-keepdims", lambda a: np.linalg.norm(a, ord=2, keepdims=True), (A1,)),
    ],
    np.shape: [C("3d", np.shape, (A3,), grad=False), C("0d", np.shape, (A0,), grad=False)],
    np.ndim: [C("3d", np.ndim, (A3,), grad=False), C("0d", np.ndim, (A0,), grad=False)],
    np.size: [C("3d", np.size, (A3,), grad=False), C("axis", lambda a: np.size(a, -1), (A3,), grad=False),
              C("0d", np.size, (A0,), grad=False)],
    np.zeros_like: [
        C("3d", np.zeros_like, (A3,), grad=False), C("dtype", lambda a: np.zeros_like(a, dtype=int), (A3,), grad=False),
        C("shape", lambda a: np.zeros_like(a, shape=(2,)), (A3,), grad=False),
        C("order", lambda a: np.zeros_like(a, order="F"), (A2,), grad=False),
    ],
    np.copyto: [
        C("same-shape", lambda d, s: (np.copyto(d, s), d)[1], (np.zeros((3, 4)), A2), grad=False),
        C("broadcast", lambda d, s: (np.copyto(d, s), d)[1], (np.zeros((2, 3, 4)), A1), grad=False),
        C("where", lambda d, s: (np.copyto(d, s, where=M), d)[1], (np.ones((3, 4)), A2), grad=False),
        C("int-from-float", lambda d, s: (np.copyto(d, s, casting="unsafe"), d)[1], (ints(3, 4), A2), grad=False),
        C("scalar", lambda d: (np.copyto(d, 2.5), d)[1], (np.zeros(3),), grad=False),
    ],
    np.allclose: [C("close", np.allclose, (A2, A2 + 1e-9), grad=False)],
    np.isclose: [C("close", lambda a, b: np.isclose(a, b, atol=0.5), (A2, A2 + u(3, 4)), grad=False)],
    np.array_equal: [C("equal", np.array_equal, (A2, A2), grad=False)],
    np.testing.assert_allclose: [C("close", np.testing.assert_allclose, (A2, A2 + 1e-12), grad=False)],
    np.result_type: [C("float-int", np.result_type, (A2, ints(3)), grad=False)],
    np.i0: [C("2d", np.i0, (A2,)), C("0d", np.i0, (A0,)), C("float32", np.i0, (u(3).astype(np.float32),)),
            C("int", np.i0, (ints(4),), dtype=False)],  # (cr.special.i0: integers in the default float dtype)
}


# The ufuncs family (ops/ufuncs.py): NumPy functions that are not ufuncs.
_Z = np.array([[0.0, -1.0, 2.0], [0.0, 0.0, 0.0]])
FUNCTION_CASES.update({
    np.sinc: [C("3d", np.sinc, (A3,)), C("0d", np.sinc, (A0,)), C("with-zero", np.sinc, (np.array([0.0, 0.5, -1.5]),), grad=False),
              C("int", np.sinc, (ints(5),), dtype=False)],
    np.any: [C("2d", np.any, (_Z,), grad=False), C("axis=1", lambda a: np.any(a, axis=1), (_Z,), grad=False),
             C("axis-tuple-keepdims", lambda a: np.any(a, axis=(0, 1), keepdims=True), (_Z,), grad=False),
             C("where", lambda a: np.any(a, axis=0, where=np.array([False, True, True])), (_Z,), grad=False),
             C("out", lambda a, o: np.any(a, axis=0, out=o), (_Z, np.zeros(3, dtype=bool)), grad=False),
             C("int", lambda a: np.any(a, -1), (ints(3, 4),), grad=False), C("0d", np.any, (A0,), grad=False),
             C("empty", lambda a: np.any(a[:0], axis=0), (A2,), grad=False)],
    np.all: [C("2d", np.all, (_Z,), grad=False), C("axis=-1-keepdims", lambda a: np.all(a, -1, keepdims=True), (_Z,), grad=False),
             C("where", lambda a: np.all(a, where=np.array([True, False, True])), (_Z,), grad=False),
             C("bool", np.all, (M,), grad=False), C("empty", np.all, (A2[:0],), grad=False)],
    np.shares_memory: [C("distinct", np.shares_memory, (A2, A3), grad=False)],
    np.may_share_memory: [C("distinct", np.may_share_memory, (A2, A3), grad=False)],
})
_DATA_ONLY |= {np.shares_memory, np.may_share_memory}


# The quantiles family (api/numpy_quantiles.py) keeps its cases beside its tests.
FUNCTION_CASES.update({f: [Case(*c) for c in cs] for f, cs in NUMPY_CASES.items()})

# The families added for SPEC §12 keep their cases in tests/numpy_cases_<family>.py: a
# FUNCTION_CASES there maps NumPy functions to (label, call, arrays) tuples.
for _path in sorted(pathlib.Path(__file__).parent.glob("numpy_cases_*.py")):
    _module = importlib.import_module(_path.stem)
    _found = getattr(_module, "FUNCTION_CASES", None) or getattr(_module, "CASES", {})
    for _func, _cases in _found.items():
        FUNCTION_CASES.setdefault(_func, []).extend(Case(*c) for c in _cases)


def _function_params():
    for func, cases in FUNCTION_CASES.items():
        for case in cases:
            yield pytest.param(func, case, id=f"{_name(func)}-{case.label}")


@pytest.mark.parametrize("func", sorted(_interop._FUNCTIONS, key=_name), ids=_name)
def test_every_table_function_has_cases(func):
    assert FUNCTION_CASES.get(func), f"np.{_name(func)} is in _interop._FUNCTIONS but has no cases here"


def test_cases_name_only_table_functions():
    assert not [f for f in FUNCTION_CASES if _interop._FUNCTIONS.get(f) is None]


@pytest.mark.parametrize("func, case", list(_function_params()))
def test_function_forward_matches_numpy(func, case):
    _check_against_numpy(case.call, case.args, case.dtype, func not in _DATA_ONLY,
                         where=f"np.{_name(func)} {case.label}")


def _gradient_params():
    for func, cases in FUNCTION_CASES.items():
        for case in cases:
            if case.grad and any(isinstance(a, np.ndarray) and a.dtype == np.float64 for a in case.args):
                want, error = _numpy_or_error(case.call, *[_copy(a) for a in case.args])
                first = want[0] if isinstance(want, (tuple, list)) and want else want
                if error is None and np.asarray(first).dtype.kind == "f":
                    yield pytest.param(func, case, id=f"{_name(func)}-{case.label}")


@pytest.mark.parametrize("func, case", list(_gradient_params()))
def test_function_gradient(func, case):
    _gradcheck(case.call, case.args)


def test_function_results_carry_history():
    x = cr.tensor(A3, requires_grad=True)
    for call in (np.sum, np.mean, np.var, lambda t: np.dot(t, A2.T), lambda t: np.inner(t, t),
                 lambda t: np.einsum("ijk->k", t), lambda t: np.tensordot(t, t, 3), np.linalg.norm,
                 lambda t: np.clip(t, 0, 1), lambda t: np.reshape(t, -1, "F")):
        assert call(x).requires_grad


ERROR_CASES = [
    ("squeeze-size-2", lambda a: np.squeeze(a, 0), (u(2, 1),), "squeeze"),
    ("squeeze-axis-range", lambda a: np.squeeze(a, 3), (u(2, 1),), "squeeze"),
    ("reshape-order-positional", lambda a: np.reshape(a, 1, 1), (u(1),), "reshape"),
    ("reshape-bad-size", lambda a: np.reshape(a, (5,)), (A2,), "reshape"),
    ("reshape-copy-False", lambda a: np.reshape(np.transpose(a), (12,), copy=False), (A2,), "reshape"),
    ("sum-axis-range", lambda a: np.sum(a, axis=3), (A3,), "sum"),
    ("sum-axis-0d", lambda a: np.sum(a, axis=1), (A0,), "sum"),
    ("sum-axis-tuple-0d", lambda a: np.sum(a, axis=(0,)), (A0,), "sum"),
    ("mean-axis-0d", lambda a: np.mean(a, axis=0), (A0,), "mean"),
    ("flip-axis-0d", lambda a: np.flip(a, 0), (A0,), "flip"),
    ("sum-axis-repeated", lambda a: np.sum(a, axis=(0, 0)), (A3,), "sum"),
    ("sum-axis-list", lambda a: np.sum(a, axis=[0]), (A3,), "sum"),
    ("max-where-without-initial", lambda a: np.max(a, where=M), (A2,), "max"),
    ("max-empty", lambda a: np.max(a[:0]), (A2,), "max"),
    ("var-ddof-and-correction", lambda a: np.var(a, ddof=1, correction=1), (A2,), "var"),
    ("argmax-axis-tuple", lambda a: np.argmax(a, axis=(0,)), (A2,), "argmax"),
    ("cumsum-axis-range", lambda a: np.cumsum(a, axis=2), (A2,), "cumsum"),
    ("dot-mismatch", np.dot, (u(2, 3), u(2, 3)), "dot"),
    ("dot-out-dtype", lambda a, b: np.dot(a, b, out=np.zeros((3, 2), np.float32)), (A2, u(4, 2)), "dot"),
    ("inner-mismatch", np.inner, (u(2, 3), u(4)), "inner"),
    ("tensordot-mismatch", lambda a, b: np.tensordot(a, b, 1), (A2, A2), "tensordot"),
    ("einsum-bad-sizes", lambda a, b: np.einsum("ij,jk", a, b), (A2, A2), "einsum"),
    ("einsum-dtype-safe", lambda a: np.einsum("ij->", a, dtype=np.float32), (A2,), "einsum"),
    ("trace-1d", np.trace, (A1,), "trace"),
    ("trace-same-axes", lambda a: np.trace(a, 0, 1, 1), (A3,), "trace"),
    ("transpose-bad-axes", lambda a: np.transpose(a, (0, 0, 1)), (A3,), "transpose"),
    ("transpose-short-axes", lambda a: np.transpose(a, (0,)), (A3,), "transpose"),
    ("expand-dims-repeated", lambda a: np.expand_dims(a, (0, 0)), (A2,), "expand_dims"),
    ("concatenate-0d", lambda a, b: np.concatenate([a, b]), (A0, A0), "concatenate"),
    ("concatenate-ndim", lambda a, b: np.concatenate([a, b]), (A2, A1), "concatenate"),
    ("concatenate-dtype-casting", lambda a: np.concatenate([a, a], dtype=np.int64), (A2,), "concatenate"),
    ("concatenate-out-shape", lambda a: np.concatenate([a, a], out=np.zeros(3)), (A1,), "concatenate"),
    ("stack-shapes", lambda a, b: np.stack([a, b]), (A2, A1), "stack"),
    ("where-one-of-two", lambda a: np.where(a > 0, a), (A2,), "where"),
    ("where-nonzero-0d", lambda a: np.where(a > 0), (A0,), None),
    ("clip-both-forms", lambda a: np.clip(a, 0, 1, min=0), (A2,), "clip"),
    ("tile-negative", lambda a: np.tile(a, -1), (A2,), "tile"),
    ("flip-repeated", lambda a: np.flip(a, (0, 0)), (A2,), "flip"),
    ("broadcast-to-bad", lambda a: np.broadcast_to(a, (3,)), (A1,), "broadcast_to"),
    ("broadcast-to-fewer-dims", lambda a: np.broadcast_to(a, (4,)), (u(1, 4),), "broadcast_to"),
    ("norm-3d-with-ord", lambda a: np.linalg.norm(a, 1), (A3,), "norm"),
    ("norm-fro-vector", lambda a: np.linalg.norm(a, "fro"), (A1,), "norm"),
    ("norm-duplicate-axes", lambda a: np.linalg.norm(a, axis=(0, 0)), (A2,), "norm"),
    ("norm-3-axes", lambda a: np.linalg.norm(a, axis=(0, 1, 2)), (A3,), "norm"),
    ("norm-matrix-ord-3", lambda a: np.linalg.norm(a, 3), (A2,), "norm"),
    ("copyto-casting", lambda d, s: np.copyto(d, s), (ints(3, 4), A2), "copyto"),
    ("copyto-shape", lambda d, s: np.copyto(d, s), (A1, A2), "copyto"),
    ("size-axis-range", lambda a: np.size(a, 3), (A3,), "size"),
    ("solve-singular", np.linalg.solve, (np.zeros((2, 2)), u(2)), None),
    ("inv-singular", np.linalg.inv, (np.zeros((2, 2)),), "inv"),
]


@pytest.mark.parametrize("label, call, args, name", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_raises_where_numpy_raises(label, call, args, name):
    with pytest.raises(Exception):  # noqa: B017  (NumPy raises: any kind; the kind is checked below)
        call(*[_copy(a) for a in args])
    with pytest.raises(ERRORS) as info:
        call(*[_tensor(a) for a in args])
    if name:
        assert name in str(info.value), f"the error does not name {name!r}: {info.value}"


@pytest.mark.parametrize("call, name", [
    (lambda t: np.sin(t, where=np.array([True, False, True, True])), "sin"),
    (lambda t: np.einsum("i", t, bogus=1), "einsum"),
    (lambda t: np.einsum("i", t, order="X"), "einsum"),
    (lambda t: np.clip(t, 0, 1, bogus=1), "clip"),
    (lambda t: np.clip(t, 0, 1, order="X"), "clip"),
    (lambda t: np.reshape(t, (2, 2), order="X"), "reshape"),
    (lambda t: np.add(t, t, out=np.zeros(4)), "add"),
    (lambda t: np.add(t, t, out=[1, 2, 3, 4]), "add"),
    (lambda t: np.exp(t, subok=False), "exp"),
    (lambda t: np.sum(t, out=np.zeros(())), "sum"),
    (lambda t: np.copyto(np.zeros(4), t), "copyto"),
    (lambda t: np.ldexp(t, 2), "ldexp"),
    (lambda t: np.poly(t), "poly"),
], ids=["where-no-out", "einsum-kwarg", "einsum-order", "clip-kwarg",
        "clip-order", "reshape-order", "out-array-history", "out-list",
        "subok-history", "sum-out-array-history", "copyto-array-history", "unsupported-ufunc",
        "unsupported-function"])
def test_unsupported_keywords_raise_naming_the_function(call, name):
    t = cr.tensor(np.arange(4.0).reshape(2, 2) if name == "norm" else np.arange(4.0), requires_grad=True)
    with pytest.raises((TypeError, ValueError, NotImplementedError)) as info:
        call(t)
    assert name in str(info.value)


# ---------------------------------------------------------------------------------------------
# The regressions of issue 10, one by one
# ---------------------------------------------------------------------------------------------

def test_np_dot_and_inner_of_nd_tensors_are_numpys():
    s = np.arange(24.0).reshape(2, 3, 4)
    t = cr.tensor(s)
    assert_same(np.inner(t, t), np.inner(s, s))
    assert_same(np.dot(t, s.transpose(0, 2, 1)), np.dot(s, s.transpose(0, 2, 1)))
    with pytest.raises(RuntimeError, match="dot"):  # cr.dot stays PyTorch's: 1-D only
        cr.dot(t, t)


def test_clip_out_writes_the_tensor():
    y = cr.tensor([-1.0, 1.0, 3.0], requires_grad=True)
    o = cr.zeros(3)
    assert np.clip(y, 0, 2.1, out=o) is o
    np.testing.assert_allclose(o.numpy() if not o.requires_grad else o.detach().numpy(), [0.0, 1.0, 2.1], rtol=1e-6)
    o.sum().backward()
    assert y.grad.tolist() == [0.0, 1.0, 0.0]


def test_out_tensor_bumps_the_version_counter():
    """A node that saved ``out`` before it was overwritten refuses to run backward."""
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    o = cr.tensor([3.0, 4.0])
    y = (x * o).sum()  # saves o
    np.exp(cr.tensor([0.0, 0.0]), out=o)
    assert o.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError):
        y.backward()


def test_positive_is_a_new_tensor_with_identity_gradient():
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    y = np.positive(x)
    assert y is not x and y.requires_grad
    (y * 3.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    w = cr.tensor([1.0, 2.0])
    p = np.positive(w)
    p[0] = 7.0
    assert w.tolist() == [1.0, 2.0]
    assert_same(np.positive(cr.tensor([1, 2])), np.positive(np.array([1, 2])))
    with pytest.raises(TypeError):
        np.positive(cr.tensor([True]))


def test_max_with_numpy_integer_dim():
    x = cr.tensor([[1.0, 5.0], [3.0, 2.0]])
    values, indices = x.max(dim=np.int64(1))
    assert values.tolist() == [5.0, 3.0] and indices.tolist() == [1, 0]
    values, indices = x.min(np.int32(0))
    assert values.tolist() == [1.0, 2.0] and indices.tolist() == [0, 1]


def test_index_with_an_empty_list():
    a = np.arange(6.0).reshape(2, 3)
    assert_same(cr.tensor(a)[[]], a[[]])


def test_mixed_arrays_tensors_and_numpy_scalars():
    a = np.arange(6.0).reshape(2, 3)
    x = cr.tensor(np.ones((2, 3)), requires_grad=True)
    for y in (a * x, x * a, a + x, np.float64(2.0) * x, x * np.float64(2.0), np.int64(2) * x,
              a @ x.T, np.matmul(a, x.T), np.maximum(a, x), np.float64(0.5) ** x):
        assert isinstance(y, cr.Tensor) and y.requires_grad
    assert (np.float32(2.0) * x).dtype == (x * np.float32(2.0)).dtype == np.float64
    (a * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), a)


# ---------------------------------------------------------------------------------------------
# Random shapes (Hypothesis)
# ---------------------------------------------------------------------------------------------

# CHAINRULE_NUMPY_EXAMPLES=N runs more examples (a soak); the default keeps the suite quick and
# reproducible.
_SETTINGS = settings(max_examples=int(os.environ.get("CHAINRULE_NUMPY_EXAMPLES", "25")), derandomize=True,
                     database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_dims = st.lists(st.integers(1, 3), min_size=0, max_size=3)


@st.composite
def _product_operands(draw):
    kind = draw(st.sampled_from(["dot", "inner", "tensordot"]))
    a_shape = tuple(draw(_dims))
    b_shape = list(draw(_dims))
    if kind == "dot" and a_shape and b_shape:
        b_shape[0 if len(b_shape) == 1 else -2] = a_shape[-1]
    elif kind == "inner" and a_shape and b_shape:
        b_shape[-1] = a_shape[-1]
    elif kind == "tensordot":
        n = draw(st.integers(0, min(len(a_shape), 2)))
        b_shape = list(a_shape[len(a_shape) - n:]) + b_shape
        return kind, a_shape, tuple(b_shape), n
    return kind, a_shape, tuple(b_shape), None


@_SETTINGS
@given(_product_operands(), st.integers(0, 2**31 - 1))
def test_products_random_shapes(operands, seed):
    kind, sa, sb, n = operands
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(-1, 1, sa), rng.uniform(-1, 1, sb)
    call = {"dot": np.dot, "inner": np.inner, "tensordot": lambda x, y: np.tensordot(x, y, n)}[kind]
    _check_against_numpy(call, [np.asarray(a), np.asarray(b)], name=kind)
    if a.size * b.size <= 64:
        _numpy_ok, error = _numpy_or_error(call, a, b)
        if error is None:
            _gradcheck(call, [np.asarray(a), np.asarray(b)])


_LETTERS = "abcd"


@st.composite
def _einsum_problem(draw):
    sizes = {c: draw(st.integers(1, 3)) for c in _LETTERS}
    count = draw(st.integers(1, 3))
    terms = [draw(st.lists(st.sampled_from(_LETTERS), min_size=0, max_size=3)) for _ in range(count)]
    used = sorted(set("".join("".join(t) for t in terms)))
    explicit = draw(st.booleans())
    output = draw(st.permutations(used).map(lambda p: p[:len(p) // 2 + 1])) if explicit and used else None
    spec = ",".join("".join(t) for t in terms) + ("" if output is None else "->" + "".join(output))
    shapes = [tuple(sizes[c] for c in t) for t in terms]
    return spec, shapes


@_SETTINGS
@given(_einsum_problem(), st.integers(0, 2**31 - 1))
def test_einsum_random(problem, seed):
    spec, shapes = problem
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(rng.uniform(-1, 1, s)) for s in shapes]
    got = _check_against_numpy(lambda *xs: np.einsum(spec, *xs), arrays, name="einsum", where=spec)
    if got is not None and sum(a.size for a in arrays) <= 30:
        _gradcheck(lambda *xs: np.einsum(spec, *xs), arrays)


_REDUCTIONS = {"sum": np.sum, "mean": np.mean, "prod": np.prod, "max": np.max, "min": np.min,
               "var": np.var, "std": np.std}


@_SETTINGS
@given(st.sampled_from(sorted(_REDUCTIONS)), _dims, st.data(), st.booleans(), st.integers(0, 2**31 - 1))
def test_reductions_random_axes(kind, dims, data, keepdims, seed):
    shape = tuple(dims)
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape) - 1, len(shape)),
                               st.lists(st.integers(-len(shape), max(len(shape) - 1, 0)), max_size=3).map(tuple)))
    a = np.asarray(np.random.default_rng(seed).uniform(0.5, 2.0, shape))
    call = _REDUCTIONS[kind]
    _check_against_numpy(lambda x: call(x, axis=axis, keepdims=keepdims), [a], name=kind)
