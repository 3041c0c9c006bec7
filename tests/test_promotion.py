"""Result dtypes against PyTorch's type promotion: the sweep that finds the differences.

PyTorch's rule (``torch.result_type``), which chainrule decides once (``backend.result_dtype``):
operands are tensors with dimensions, 0-d tensors and Python numbers, in that priority; a lower
priority changes the result only when its category (bool < integer < floating) is higher. So a
float32 tensor times a 0-d float64 tensor is float32, times a Python float too, and an int32
tensor times a 0-d float64 tensor is float64. The computation runs in that dtype, which decides
the values too (comparisons included).

- every elementwise operation of two or three operands that promotes (derived from the operation
  table, ``OPERATIONS``), over all pairs of operands of dtypes {bool, int32, int64, float16,
  float32, float64} and kinds {tensor with dimensions, 0-d tensor, Python number, 0-d NumPy
  array, NumPy scalar}: same dtype and values as PyTorch, or both raise;
- every unary elementwise operation on bool and integer tensors: same dtype, or both raise;
- gradients keep each input's dtype (the ``.grad`` of a float32 leaf times a 0-d float64 tensor
  is float32);
- the rule itself against ``torch.result_type`` for every pair of operand kinds and dtypes.
"""

from __future__ import annotations

import itertools
import operator

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import chainrule as cr  # noqa: E402
import chainrule.nn.functional as F  # noqa: E402
from chainrule.core import backend as B  # noqa: E402
from chainrule.ops._table import OPERATIONS  # noqa: E402

TF = torch.nn.functional

DTYPES = ["bool", "int32", "int64", "float16", "float32", "float64"]
TORCH_DTYPE = {name: getattr(torch, name) for name in DTYPES}
# Operand kinds: a tensor with dimensions, a 0-d tensor, a 0-d NumPy array (PyTorch's analogue:
# a 0-d tensor), a NumPy scalar and a Python number (for a Python number, the dtype names its
# type: bool, int or float).
KINDS = ["nd", "0d", "np0d", "npscalar", "py"]
PY_DTYPES = {"bool": bool, "int64": int, "float64": float}


def _values(dtype: str, n: int, shift: int = 0) -> np.ndarray:
    """Exact values of ``dtype`` (nonzero integers, so divisions and powers stay finite)."""
    if dtype == "bool":
        return np.array([(i + shift) % 2 == 0 for i in range(n)])
    if dtype.startswith("int"):
        return (np.arange(n) + 1 + shift).astype(dtype)
    return (np.arange(n) * 0.75 - 0.3 + shift * 0.5).astype(dtype)


def _specs():
    """Every (kind, dtype) of an operand. Not a NumPy bool scalar: PyTorch takes ``np.bool_`` for
    a Python float (a bool tensor plus ``np.True_`` is float32 there), a quirk chainrule does not
    copy (it takes it for the Python bool it stands for)."""
    for kind in KINDS:
        for dtype in DTYPES:
            if (kind != "py" or dtype in PY_DTYPES) and (kind, dtype) != ("npscalar", "bool"):
                yield kind, dtype


SPECS = list(_specs())


def _operands(kind: str, dtype: str, shift: int = 0):
    """The same operand for chainrule and for PyTorch."""
    if kind == "nd":
        data = _values(dtype, 3, shift)
        return cr.tensor(data), torch.from_numpy(data.copy())
    if kind == "0d":
        data = np.asarray(_values(dtype, 1, shift)[0])
        return cr.tensor(data), torch.from_numpy(data.copy())
    if kind == "np0d":
        data = np.asarray(_values(dtype, 1, shift)[0])
        return data, torch.from_numpy(data.copy())
    value = _values(dtype, 1, shift)[0]
    if kind == "npscalar":
        return value, value  # PyTorch takes a NumPy scalar as a Python number
    value = PY_DTYPES[dtype](value.item())
    return value, value


def _is_tensor(kind: str) -> bool:
    return kind in ("nd", "0d")


def _call(fn, args, kwargs=None):
    try:
        return fn(*args, **(kwargs or {})), None
    except Exception as exc:  # noqa: BLE001 - both libraries' errors are compared by kind
        return None, exc


def _arg_refused(exc) -> bool:
    """Whether PyTorch refused the argument types (a Python number where it wants a tensor):
    no PyTorch call to compare with."""
    return isinstance(exc, TypeError) and (
        "must be Tensor" in str(exc) or "invalid combination of arguments" in str(exc))


def _as_numpy(result):
    if isinstance(result, torch.Tensor):
        return result.numpy()
    if isinstance(result, cr.Tensor):
        return result.numpy()
    return np.asarray(result)


def _compare(label, ours, theirs) -> str | None:
    """Why ``ours`` (a chainrule result or error) differs from ``theirs``, or None."""
    (out, err), (tout, terr) = ours, theirs
    if terr is not None and _arg_refused(terr):
        return None
    if terr is not None or err is not None:
        if terr is not None and err is not None:
            return None
        if err is not None:
            return f"{label}: chainrule raised {type(err).__name__}: {err}; PyTorch gave {tout.dtype}"
        return f"{label}: PyTorch raised {type(terr).__name__}: {terr}; chainrule gave {out.dtype}"
    want = str(tout.dtype).removeprefix("torch.")
    if str(out.dtype) != want:
        return f"{label}: dtype {out.dtype}, PyTorch's {want}"
    a, b = _as_numpy(out), _as_numpy(tout)
    if a.shape != b.shape:
        return f"{label}: shape {a.shape}, PyTorch's {b.shape}"
    rtol = 1e-3 if want == "float16" else 1e-6
    if a.dtype.kind in "biu":
        ok = np.array_equal(a, b)
    else:
        ok = np.allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol, atol=0, equal_nan=True)
    if not ok:
        return f"{label}: values {a.tolist()}, PyTorch's {b.tolist()}"
    return None


# ---------------------------------------------------------------------------------------------
# The operations, from the table
# ---------------------------------------------------------------------------------------------

def _elementwise_ufunc_arity(op):
    """The number of operands of ``op``'s elementwise NumPy ufunc (None when it serves none)."""
    for name in op.ufunc:
        ufunc = getattr(np, name, None)
        if isinstance(ufunc, np.ufunc) and ufunc.signature is None:
            return ufunc.nin
    return None


# Operations of two operands that serve no NumPy ufunc, and those of three (NumPy's names).
EXTRA_BINARY = {"rsub"}
TERNARY_NUMPY = {"where", "clip"}

# Operations whose dtypes follow NumPy where PyTorch's differ (tests/test_numpycov.py checks them).
NUMPY_DTYPES = {"heaviside": "PyTorch's heaviside refuses mixed dtypes and keeps integers; NumPy's is floating"}
BINARY = sorted(op.name for op in OPERATIONS.values()
                if (_elementwise_ufunc_arity(op) == 2 or op.name in EXTRA_BINARY) and op.name not in NUMPY_DTYPES)
TERNARY = sorted(op.name for op in OPERATIONS.values() if TERNARY_NUMPY & set(op.numpy))
# Operations PyTorch does not have (their dtype rules are checked in tests/test_ufuncs.py).
NOT_IN_TORCH = {"cbrt": "no torch.cbrt", "fabs": "no torch.fabs", "spacing": "no torch.spacing",
                "bitwise_count": "no torch.bitwise_count"}
UNARY = sorted(op.name for op in OPERATIONS.values()
               if (_elementwise_ufunc_arity(op) == 1 or op.cli == 1) and op.name not in NOT_IN_TORCH)

# The spellings PyTorch uses for chainrule's names (the rest are the same).
TORCH_NAMES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "clone": "clone",
               "left_shift": "bitwise_left_shift", "right_shift": "bitwise_right_shift"}
FUNCTIONAL = {"gelu", "leaky_relu", "elu", "softplus"}


def _torch_function(name):
    name = TORCH_NAMES.get(name, name)
    return getattr(TF, name) if name in FUNCTIONAL else getattr(torch, name)


def _ours(name):
    return getattr(F, name) if name in FUNCTIONAL else getattr(cr, name)


def test_the_sweep_covers_the_operations_that_promote():
    # The lists come from the table; these must be among them (a renamed or lost entry shows here).
    assert {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "logaddexp", "lt", "le", "gt",
            "ge", "eq", "ne", "logical_and", "logical_or", "rsub"} <= set(BINARY)
    assert set(TERNARY) == {"where", "clamp"}
    assert {"abs", "neg", "square", "sign", "floor", "ceil", "round", "exp", "sqrt", "relu",
            "sigmoid", "gelu", "logical_not", "isnan"} <= set(UNARY)
    for name in BINARY + TERNARY + UNARY:
        _torch_function(name)  # PyTorch has each


# ---------------------------------------------------------------------------------------------
# (a) Operations of two and three operands
# ---------------------------------------------------------------------------------------------

def _binary_call(name, library):
    """``name`` as a user writes it: the operator where it has one (Python numbers on either
    side), else the function."""
    symbol = OPERATIONS[name].operator
    if symbol is not None:
        return {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
                "**": operator.pow, "<": operator.lt, "<=": operator.le, ">": operator.gt,
                ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "%": operator.mod}[symbol]
    return _ours(name) if library == "cr" else _torch_function(name)


# NumPy before 2.3 computes ``0-d array ** x`` itself when x converts to an integer (its
# fast_scalar_power calls __index__), without asking __array_ufunc__: NumPy's dtype, not ours.
_NUMPY_FAST_POWER = tuple(int(p) for p in np.__version__.split(".")[:2]) < (2, 3)


def _pairs():
    for (ka, da), (kb, db) in itertools.product(SPECS, SPECS):
        if _is_tensor(ka) or _is_tensor(kb):  # one operand at least is a tensor
            yield (ka, da), (kb, db)


@pytest.mark.parametrize("name", BINARY)
def test_binary_dtype_and_values_match_torch(name):
    ours_fn, torch_fn = _binary_call(name, "cr"), _binary_call(name, "torch")
    problems = []
    with np.errstate(all="ignore"):
        for (ka, da), (kb, db) in _pairs():
            if name == "pow" and ka == "np0d" and not db.startswith("float") and _NUMPY_FAST_POWER:
                continue  # NumPy < 2.3 computes array ** 0-d tensor itself (through __index__)
            a, ta = _operands(ka, da)
            b, tb = _operands(kb, db, shift=1)
            label = f"{name}({ka} {da}, {kb} {db})"
            why = _compare(label, _call(ours_fn, (a, b)), _call(torch_fn, (ta, tb)))
            if why:
                problems.append(why)
    assert not problems, f"{len(problems)} differences from PyTorch:\n" + "\n".join(problems[:40])


def test_where_dtype_and_values_match_torch():
    cond = np.array([True, False, True])
    problems = []
    for (ka, da), (kb, db) in itertools.product(SPECS, SPECS):
        a, ta = _operands(ka, da)
        b, tb = _operands(kb, db, shift=1)
        label = f"where(cond, {ka} {da}, {kb} {db})"
        why = _compare(label, _call(cr.where, (cr.tensor(cond), a, b)),
                       _call(torch.where, (torch.from_numpy(cond), ta, tb)))
        if why:
            problems.append(why)
    assert not problems, f"{len(problems)} differences from PyTorch:\n" + "\n".join(problems[:40])


@pytest.mark.parametrize("bounds", ["min", "max", "both"])
def test_clamp_dtype_and_values_match_torch(bounds):
    problems = []
    with np.errstate(all="ignore"):
        for (kx, dx), (kb, db) in itertools.product(SPECS, SPECS):
            if not _is_tensor(kx):
                continue
            x, tx = _operands(kx, dx)
            low, tlow = _operands(kb, db, shift=-1)
            high, thigh = _operands(kb, db, shift=1)
            kwargs = {"min": (low, tlow), "max": (high, thigh)}
            if bounds != "both":
                kwargs = {bounds: kwargs[bounds]}
            label = f"clamp({kx} {dx}, {bounds}: {kb} {db})"
            ours = _call(cr.clamp, (x,), {k: v[0] for k, v in kwargs.items()})
            theirs = _call(torch.clamp, (tx,), {k: v[1] for k, v in kwargs.items()})
            why = _compare(label, ours, theirs)
            if why:
                problems.append(why)
    assert not problems, f"{len(problems)} differences from PyTorch:\n" + "\n".join(problems[:40])


@pytest.mark.parametrize("dtypes", list(itertools.product(DTYPES, DTYPES)), ids="-".join)
def test_cat_promotes_as_torch(dtypes):
    ours = [cr.tensor(_values(d, 2)) for d in dtypes]
    theirs = [torch.from_numpy(_values(d, 2)) for d in dtypes]
    why = _compare(f"cat{dtypes}", _call(cr.cat, (ours,)), _call(torch.cat, (theirs,)))
    assert why is None, why
    ours = [cr.tensor(np.asarray(_values(d, 1)[0])) for d in dtypes]
    theirs = [torch.from_numpy(np.asarray(_values(d, 1)[0])) for d in dtypes]
    why = _compare(f"stack{dtypes} of 0-d", _call(cr.stack, (ours,)), _call(torch.stack, (theirs,)))
    assert why is None, why


def test_comparisons_compute_in_the_promoted_dtype():
    # float32(0.1) == 0-d float64(0.1) is True in PyTorch: the 0-d operand is taken in float32.
    assert bool((cr.tensor([0.1]) == cr.tensor(0.1, dtype=cr.float64))[0])
    assert bool((torch.tensor([0.1]) == torch.tensor(0.1, dtype=torch.float64))[0])
    # An int64 tensor with a Python float compares in the default float dtype (float32).
    assert bool((cr.tensor([16777217]) == 16777216.0)[0])
    assert bool((torch.tensor([16777217]) == 16777216.0)[0])


def test_arithmetic_computes_in_the_promoted_dtype():
    # Not float64's product rounded to float32: the 0-d float64 operand is rounded first.
    x = np.array([3.0, 7.0, 1e-3, 12345.678], dtype=np.float32)
    ours = (cr.tensor(x) * cr.tensor(0.1, dtype=cr.float64)).numpy()
    theirs = (torch.from_numpy(x) * torch.tensor(0.1, dtype=torch.float64)).numpy()
    assert ours.dtype == theirs.dtype == np.float32
    np.testing.assert_array_equal(ours, theirs)


def test_in_place_update_keeps_the_dtype_and_computes_as_torch():
    x = np.array([3.0, 7.0, 1e-3, 12345.678], dtype=np.float32)
    ours, theirs = cr.tensor(x), torch.from_numpy(x.copy())
    ours.mul_(cr.tensor(0.1, dtype=cr.float64))
    theirs.mul_(torch.tensor(0.1, dtype=torch.float64))
    assert ours.dtype == cr.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    i, ti = cr.tensor([1, 2], dtype=cr.int32), torch.tensor([1, 2], dtype=torch.int32)
    i.add_(cr.tensor(5))
    ti.add_(torch.tensor(5))
    assert i.dtype == cr.int32 and ti.dtype == torch.int32


def test_masked_fill_keeps_the_input_dtype_with_a_0d_tensor_value():
    for dtype, value_dtype in [("int64", "float64"), ("float32", "float64"), ("float32", "int64")]:
        data = _values(dtype, 3)
        value = np.asarray(_values(value_dtype, 1, shift=2)[0])
        ours = cr.masked_fill(cr.tensor(data), cr.tensor([True, False, True]), cr.tensor(value))
        theirs = torch.from_numpy(data.copy()).masked_fill(torch.tensor([True, False, True]),
                                                           torch.from_numpy(value.copy()))
        assert _compare(f"masked_fill({dtype}, 0-d {value_dtype})", (ours, None), (theirs, None)) is None


def test_matmul_of_mixed_dtypes_promotes_as_the_library_does():
    # PyTorch refuses products of mixed dtypes; chainrule takes them (NumPy's interop passes
    # float64 arrays to float32 tensors) in the dtype of its promotion, not NumPy's float64.
    assert (cr.ones(2, 2, dtype=cr.int64) @ cr.ones(2, 2)).dtype == cr.float32
    assert (np.ones((2, 2)) @ cr.ones(2, 2)).dtype == cr.float64
    assert (cr.ones(2, 2) @ cr.ones(2, 2)).dtype == cr.float32


def test_refusals_name_the_operation_and_the_fix():
    with pytest.raises(RuntimeError, match=r"sub: .*bool.*logical_not"):
        cr.tensor([1.0, 2.0]) - True
    with pytest.raises(RuntimeError, match=r"neg: .*bool.*logical_not"):
        -cr.tensor([True, False])
    with pytest.raises(RuntimeError, match=r"logaddexp: .*int64.*float\(\)"):
        cr.logaddexp(cr.tensor([1, 2]), cr.tensor([3, 4]))
    with pytest.raises(RuntimeError, match=r"pow: .*bool"):
        cr.tensor([True]) ** cr.tensor([False])
    with pytest.raises(RuntimeError, match=r"clamp: .*bool"):
        cr.clamp(cr.tensor([True]), False, True)


# ---------------------------------------------------------------------------------------------
# (b) Unary operations on bool and integer tensors
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int16", "int32", "int64"])
@pytest.mark.parametrize("name", UNARY)
def test_unary_on_bool_and_integers_matches_torch(name, dtype):
    data = np.array([0, 1, 1, 0]).astype(dtype) if dtype == "bool" else np.array([-2, 0, 1, 3]).astype(dtype)
    if dtype == "uint8":
        data = np.array([0, 1, 2, 3], dtype=np.uint8)
    with np.errstate(all="ignore"):
        ours = _call(_ours(name), (cr.tensor(data),))
    theirs = _call(_torch_function(name), (torch.from_numpy(data.copy()),))
    why = _compare(f"{name}({dtype})", ours, theirs)
    assert why is None, why
    err = ours[1]
    if err is not None:  # the error names the operation and the dtype
        assert str(err).startswith(name), err
        assert dtype in str(err), err


# ---------------------------------------------------------------------------------------------
# (c) Gradients keep each input's dtype
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["mul", "add", "sub", "div", "pow", "maximum", "minimum", "logaddexp"])
@pytest.mark.parametrize("other_kind", ["0d", "nd"])
def test_gradients_of_a_float32_leaf_with_a_float64_operand(name, other_kind):
    x_data = np.array([0.5, 1.5, 2.25], dtype=np.float32)
    y_data = np.array(0.75) if other_kind == "0d" else np.array([0.75, 1.25, 0.5])
    fn = getattr(cr, name)
    tfn = getattr(torch, name)
    x = cr.tensor(x_data, requires_grad=True)
    y = cr.tensor(y_data, requires_grad=True)
    tx = torch.tensor(x_data, requires_grad=True)
    ty = torch.tensor(y_data, requires_grad=True)
    out, tout = fn(x, y), tfn(tx, ty)
    assert str(out.dtype) == str(tout.dtype).removeprefix("torch.")
    out.sum().backward()
    tout.sum().backward()
    assert x.grad.dtype == cr.float32 and tx.grad.dtype == torch.float32
    assert y.grad.dtype == cr.float64 and ty.grad.dtype == torch.float64
    rtol = 1e-5
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=rtol)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=rtol)


def test_gradient_of_float32_leaf_times_0d_float64():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * cr.tensor(3.0, dtype=cr.float64)
    assert y.dtype == cr.float32
    y.sum().backward()
    assert x.grad.dtype == cr.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


# ---------------------------------------------------------------------------------------------
# The rule itself, against torch.result_type
# ---------------------------------------------------------------------------------------------

def _rule_operand(kind, dtype):
    """An operand as the array layer sees it (a tensor's data, a number) and as PyTorch does."""
    if kind == "py":
        value = PY_DTYPES[dtype](1)
        return value, value
    data = _values(dtype, 3 if kind == "nd" else 1)
    if kind != "nd":
        data = np.asarray(data[0])
    return data, torch.from_numpy(data.copy())


@pytest.mark.parametrize("default", ["float32", "float64"])
def test_result_dtype_is_torch_result_type(default):
    kinds = ["nd", "0d", "py"]
    specs = [(k, d) for k in kinds for d in DTYPES if k != "py" or d in PY_DTYPES]
    old = cr.get_default_dtype()
    cr.set_default_dtype(getattr(cr, default))
    torch_old = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, default))
    try:
        problems = []
        for (ka, da), (kb, db) in itertools.product(specs, specs):
            if ka == kb == "py":
                continue
            a, ta = _rule_operand(ka, da)
            b, tb = _rule_operand(kb, db)
            want = str(torch.result_type(ta, tb)).removeprefix("torch.")
            got = str(B.result_dtype(a, b))
            if got != want:
                problems.append(f"({ka} {da}, {kb} {db}): {got}, PyTorch's {want}")
        assert not problems, "\n".join(problems)
    finally:
        cr.set_default_dtype(old)
        torch.set_default_dtype(torch_old)
