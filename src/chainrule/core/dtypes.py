"""Data types (NumPy dtypes) and the default floating dtype.

The default dtype is global to the process, as PyTorch's is: ``set_default_dtype`` in one thread
changes it for every thread (and for the rest of the program), so set it once, at start-up.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .._typing import DTypeLike, Operand

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
bool = np.dtype(np.bool_)  # noqa: A001 - the public name is PyTorch's
complex64 = np.dtype(np.complex64)
complex128 = np.dtype(np.complex128)

_FLOATS = (float16, float32, float64)
_default: list[np.dtype] = [float32]


def set_default_dtype(dtype: DTypeLike) -> None:
    """Make ``dtype`` (a floating dtype) the dtype of Python floats and float lists.

    The setting is global: it applies to every thread and lasts until changed again (as
    ``torch.set_default_dtype``). It is not a context; to change it for a while, restore it
    yourself (``old = get_default_dtype()`` ... ``set_default_dtype(old)``), and not while other
    threads create tensors.
    """
    if dtype is None:
        raise TypeError(
            "set_default_dtype: expected a floating dtype (cr.float16, cr.float32 or cr.float64), "
            "got None"
        )
    resolved = resolve(dtype, "set_default_dtype")
    if resolved not in _FLOATS:
        raise TypeError(
            f"set_default_dtype: only floating dtypes (float16, float32, float64) can be the "
            f"default, got {resolved}"
        )
    _default[0] = resolved


def get_default_dtype() -> np.dtype:
    """The dtype that Python floats and float lists become (global, see ``set_default_dtype``)."""
    return _default[0]


# The kinds of dtype a tensor can have: bool, signed and unsigned integers, floating point,
# complex (complex64 and complex128; NumPy's complex256 is not PyTorch's). Objects, strings,
# dates and records never are.
SUPPORTED_KINDS = "biufc"
_KIND_NAMES = {"c": "only complex64 and complex128 are supported", "O": "Python objects are not numbers",
               "U": "strings are not numbers", "S": "bytes are not numbers",
               "M": "dates are not numbers", "m": "time spans are not numbers",
               "V": "structured (record) dtypes are not supported"}


def unsupported(dtype: np.dtype) -> str | None:
    """Why a tensor cannot have ``dtype`` (a NumPy dtype), or None when it can."""
    if dtype.kind in SUPPORTED_KINDS and dtype.fields is None and (dtype.kind != "c" or dtype.itemsize <= 16):
        return None
    return _KIND_NAMES.get(dtype.kind, f"dtype kind {dtype.kind!r} is not supported")


def resolve(dtype: DTypeLike, op: str = "dtype") -> np.dtype | None:
    """A NumPy dtype a tensor can have, from anything NumPy accepts (``None`` stays ``None``);
    anything else raises a ``TypeError`` naming ``op``."""
    if dtype is None:
        return None
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        return dtype
    try:
        resolved = np.dtype(dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{op}: unknown dtype {dtype!r} ({exc}); use cr.float32, cr.float64, cr.int64, cr.bool, ..."
        ) from None
    if isinstance(dtype, str) and not dtype.strip():
        raise TypeError(f"{op}: unknown dtype {dtype!r}; use cr.float32, cr.float64, cr.int64, cr.bool, ...")
    why = unsupported(resolved)
    if why is not None:
        raise TypeError(
            f"{op}: dtype {resolved} is not supported ({why}); use a floating, integer or bool "
            f"dtype such as cr.float32, cr.float64, cr.int64, cr.bool"
        )
    return resolved


def check_operand(op: str, value: Any, name: str = "operand") -> Operand:
    """``value`` if a tensor operation can take it (a tensor, a real number, an array or nested list
    of real numbers); otherwise a ``TypeError`` naming ``op``. Lists come back as arrays."""
    if hasattr(value, "_data"):  # a Tensor (tensors hold only supported dtypes)
        return value
    if isinstance(value, (int, float, complex)):  # bool is an int
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        array = value
    elif isinstance(value, (list, tuple)):
        if _holds_tensor(value):
            raise TypeError(
                f"{op}: {name} is a {type(value).__name__} of tensors; pass one tensor (join them with "
                f"cr.stack or cr.cat, which keeps their gradients)"
            )
        try:
            array = np.array(value)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"{op}: {name} is a {type(value).__name__} that is not a regular array of "
                            f"numbers ({exc})") from None
        if array.dtype == object:
            raise TypeError(f"{op}: {name} is a {type(value).__name__} whose elements are not numbers "
                            f"or whose nested lists have ragged lengths")
        value = array
    elif hasattr(value, "__array_namespace__") and hasattr(value, "dtype"):
        from .backend import numpy_dtype  # an array of another namespace (the array API)

        why = unsupported(numpy_dtype(value.dtype))
        if why is not None:
            raise TypeError(f"{op}: {name} has dtype {value.dtype} ({why}); pass real numbers")
        return value
    else:
        raise TypeError(
            f"{op}: {name} must be a tensor, a number or an array of them, got "
            f"{type(value).__name__} {value!r:.40}"
        )
    why = unsupported(array.dtype)
    if why is not None:
        raise TypeError(f"{op}: {name} has dtype {array.dtype} ({why}); pass numbers")
    return value


def _holds_tensor(items: list | tuple) -> builtins.bool:
    """Whether a (nested) list or tuple holds a tensor: NumPy would convert it to plain numbers,
    silently dropping its gradient."""
    for item in items:
        if hasattr(item, "_data") or (isinstance(item, (list, tuple)) and _holds_tensor(item)):
            return True
    return False


def check_real(op: str, name: str, value: Any, optional: builtins.bool = False) -> Any:
    """``value`` if it is a real number (Python or NumPy; bool counts as an int), or ``None`` when
    ``optional``; otherwise a ``TypeError`` naming ``op``."""
    if value is None and optional:
        return value
    if isinstance(value, (int, float)) or (isinstance(value, np.generic) and value.dtype.kind in "biuf"):
        return value
    raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__} {value!r:.40}")

