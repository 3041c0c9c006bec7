"""PyTorch's refusals and special cases by dtype, for the operations' slow paths (off the
float32/float64 path): what an operation does with bool operands (subtraction refuses them,
``pow`` and ``clamp`` of bools are not implemented, ``abs`` of a bool is refused, ``square`` of
one is int64) and with integer operands where PyTorch has floating kernels only. Each error names
the operation and the fix, as every chainrule error does."""

from __future__ import annotations

from ..core import backend as B

_bool = B.BOOL
_PY_REAL = frozenset({float, int, bool})


def _floating_required(op, dtype) -> RuntimeError:
    """The error for an operation PyTorch has for floating dtypes only ("not implemented for
    'Long'"), whose operands promote to ``dtype``."""
    return RuntimeError(f"{op}: expected floating tensors, got dtype {dtype}; convert them first, e.g. x.float()")


def _is_bool(v) -> bool:
    return v is True or v is False or getattr(getattr(v, "dtype", None), "kind", None) == "b"


def _sub_bool(dtype, x, y):
    raise RuntimeError(
        "sub: subtraction, the `-` operator, with a bool tensor is not supported (as in PyTorch); "
        "to invert a mask use ~mask or cr.logical_not(mask), for the difference of masks x ^ y"
    )


def _pow_bool(dtype, x, y):
    """PyTorch's pow of bools: a Python exponent 0 or 1 gives ones or the base, anything else
    whose result is bool is refused ("not implemented for 'Bool'")."""
    if dtype.kind != "b":
        return None
    if type(y) in _PY_REAL and hasattr(x, "dtype"):
        if y == 0:
            return B.ones(B.shape_of(x), _bool, like=x)
        if y == 1:
            return B.copy(x)
    raise RuntimeError(f"pow: not implemented for bool tensors (as in PyTorch), got dtype {dtype}; "
                       f"convert them first, e.g. x.int()")


def _clamp_bool(dtype, x, low, high):
    """PyTorch clamps a bool tensor by one tensor bound only (``clamp_min``/``clamp_max``)."""
    if dtype.kind == "b" and (low is not None and high is not None
                              or not hasattr(low if high is None else high, "dtype")):
        raise RuntimeError(f"clamp: not implemented for bool tensors (as in PyTorch), got dtype {dtype}; "
                           f"convert it first, e.g. x.int()")
    return None


# The operations with rules of their own for bool operands (see ``elementwise._torch_result``).
_BOOL_RULES = {"sub": _sub_bool, "pow": _pow_bool, "clamp": _clamp_bool}


def _of_bool(op, bool_input, x, ufunc):
    """``op`` of a bool tensor as PyTorch has it: refused (abs, floor, ceil, round: "not
    implemented for 'Bool'"), the tensor's values (sign), or computed in the dtype PyTorch's
    promotion gives (square: ``x ** 2``, a bool tensor with a Python int, is int64)."""
    if bool_input == "same":
        return B.copy(x)
    if bool_input == "promote":
        return ufunc(B.astype(x, B.result_dtype(x, 2)))
    raise RuntimeError(
        f"{op}: not supported for bool tensors (as in PyTorch), got dtype bool; convert it first, "
        f"e.g. x.int()"
    )
