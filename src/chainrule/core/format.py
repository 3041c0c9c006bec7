"""PyTorch-style ``repr`` of tensors: ``tensor([ 0.,  4.,  8., 12.], requires_grad=True)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from . import dtypes as D

if TYPE_CHECKING:
    from .tensor import Tensor

_THRESHOLD = 1000
_EDGEITEMS = 3


def _float_format(values: np.ndarray) -> Callable[[float], str]:
    finite = values[np.isfinite(values)]
    nonzero = np.abs(finite[finite != 0])
    if nonzero.size == 0:
        return lambda v: _special(v) or "0."
    lo, hi = float(nonzero.min()), float(nonzero.max())
    int_mode = bool(np.all(nonzero == np.ceil(nonzero)))
    if int_mode:
        if hi / lo > 1000.0 or hi > 1.0e8:
            return lambda v: _special(v) or f"{v:.4e}"
        return lambda v: _special(v) or f"{v:.0f}."
    if hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4:
        return lambda v: _special(v) or f"{v:.4e}"
    return lambda v: _special(v) or f"{v:.4f}"


def _special(v: float) -> str | None:
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def _shown(array: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows (edges of every axis when the tensor is large)."""
    if array.size <= _THRESHOLD:
        return array.ravel()
    index = tuple(
        np.r_[0:min(_EDGEITEMS, n), max(n - _EDGEITEMS, _EDGEITEMS):n] if n > 2 * _EDGEITEMS else slice(None)
        for n in array.shape
    )
    return array[np.ix_(*[np.arange(n)[i] for n, i in zip(array.shape, index)])].ravel()


def format_values(array: np.ndarray, prefix: str = "tensor(") -> str:
    """The bracketed values as PyTorch prints them."""
    if array.size == 0:
        return "[]"
    kind = array.dtype.kind
    shown = _shown(array)
    if kind == "c":
        re_fmt = _float_format(shown.real.astype(np.float64))
        im_fmt = _float_format(np.abs(shown.imag).astype(np.float64))

        def fmt(v):  # PyTorch's ``1.0000+2.0000j``
            im = v.imag
            sign = "-" if im < 0 or (im == 0 and np.signbit(im)) else "+"
            return f"{re_fmt(v.real)}{sign}{im_fmt(abs(im))}j"
    elif kind == "f":
        fmt = _float_format(shown.astype(np.float64))
    elif kind == "b":
        fmt = lambda v: "True" if v else "False"  # noqa: E731
    else:
        fmt = str
    width = max(len(fmt(v)) for v in shown.tolist())
    if kind == "f":
        def formatter(v):
            return fmt(float(v)).rjust(width)
    else:
        def formatter(v):
            return fmt(v).rjust(width)
    return np.array2string(
        array, separator=", ", prefix=prefix, threshold=_THRESHOLD, edgeitems=_EDGEITEMS,
        max_line_width=80, formatter={"all": formatter},
    )


def tensor_repr(t: Tensor) -> str:
    if hasattr(t._data, "refuse_conversion"):  # a batched tensor of vmap: one value per example
        return f"tensor({t._data!r}, dtype=chainrule.{t._data.dtype.name})"
    array = np.asarray(t._data)
    body = format_values(array)
    extras = []
    if array.size == 0 and array.shape != (0,):
        extras.append(f"size={array.shape}")
    dtype = array.dtype
    implicit = {D.get_default_dtype(), D.int64, D.bool,
                D.complex128 if D.get_default_dtype() == D.float64 else D.complex64}
    if dtype not in implicit:
        extras.append(f"dtype=chainrule.{dtype.name}")
    if t._node is not None:
        extras.append(f"grad_fn={t._node!r}")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    if t._tangents:
        extras.append("tangent=" + ", ".join(f"<level {k}>" for k in sorted(t._tangents)))
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
