"""How an operation is *written* in NumPy code: literals, precedences and ``Template``.

Each table entry may carry a ``Template`` (``define(..., template=...)``); ``explain`` and the
staged code read it. Entries that serve a NumPy ufunc are written ``np.<name>(...)`` by default.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

# Python's operator precedences, low to high (``ATOM``: names, literals, calls, subscripts).
CMP, OR, XOR, AND, ADD, MUL, UNARY, POW, ATOM = 6, 7, 8, 9, 11, 12, 13, 14, 100


def _element(x) -> str:
    """One NumPy scalar as the shortest text that reads back to the same value of its dtype."""
    if isinstance(x, (np.floating, float)):
        if math.isnan(x):
            return "np.nan"
        if math.isinf(x):
            return "np.inf" if x > 0 else "-np.inf"
        return str(x)
    if isinstance(x, (np.bool_, bool)):
        return "True" if x else "False"
    if isinstance(x, (np.complexfloating, complex)):
        return repr(complex(x))
    return str(x)


def _nested(array: np.ndarray) -> str:
    if array.ndim == 0:
        return _element(array[()])
    return f"[{', '.join(_nested(row) for row in array)}]"


def array_block(array: np.ndarray) -> str:
    """An array as code for a definition line: matrices one row per line."""
    if array.ndim < 2 or array.shape[0] < 2:
        return literal(array)[0]
    rows = "".join(f"    {_nested(row)},\n" for row in array)
    return f"np.array([\n{rows}], dtype={dtype_code(array.dtype)})"


def dtype_code(dtype) -> str:
    return f"np.{np.dtype(dtype).name}"


def literal(value: Any) -> tuple[str, int]:
    """Python source for a constant, and its precedence."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return repr(None if value is None else bool(value)), ATOM
    if isinstance(value, (int, float)) and not isinstance(value, np.generic):
        if isinstance(value, float) and not math.isfinite(value):
            text = _element(value)
        else:
            text = repr(value)
        return text, UNARY if text.startswith("-") else ATOM
    if isinstance(value, str):
        return repr(value), ATOM
    if isinstance(value, np.generic):
        return f"{dtype_code(value.dtype)}({_element(value)})", ATOM
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return f"{dtype_code(value.dtype)}({_element(value[()])})", ATOM
        return f"np.array({_nested(value)}, dtype={dtype_code(value.dtype)})", ATOM
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return dtype_code(value), ATOM
    if value is Ellipsis:
        return "Ellipsis", ATOM
    if isinstance(value, slice):
        return f"slice({literal(value.start)[0]}, {literal(value.stop)[0]}, {literal(value.step)[0]})", ATOM
    if isinstance(value, tuple):
        items = [literal(v)[0] for v in value]
        return f"({', '.join(items)}{',' if len(items) == 1 else ''})", ATOM
    if isinstance(value, list):
        return f"[{', '.join(literal(v)[0] for v in value)}]", ATOM
    raise TypeError(f"explain: cannot write a {type(value).__name__} ({value!r}) as Python code")


def index_code(index) -> str:
    """An index as it is written between brackets: ``0, 1:3, None, ...``."""
    items = index if isinstance(index, tuple) else (index,)
    if not items:
        return "()"
    parts = []
    for item in items:
        if isinstance(item, slice):
            text = f"{'' if item.start is None else item.start}:{'' if item.stop is None else item.stop}"
            parts.append(text if item.step is None else f"{text}:{item.step}")
        elif item is Ellipsis:
            parts.append("...")
        else:
            parts.append(literal(item)[0])
    return ", ".join(parts)


class Template(NamedTuple):
    """How to write one primitive: ``render(parts, params, values) -> str``.

    ``slots`` are the least precedence each argument needs to go in unparenthesised (the last
    entry covers the rest); ``repeats`` marks templates that write an argument twice, so a
    compound argument is first bound to a name.
    """

    render: Callable[[list, dict, list], str]
    slots: tuple = ()
    prec: int = ATOM
    repeats: bool = False


def axis(dim) -> str:
    """``, axis=...`` for a ``dim`` parameter (nothing for None)."""
    if dim is None:
        return ""
    if isinstance(dim, tuple) and len(dim) == 1:
        dim = dim[0]
    return f", axis={literal(dim)[0]}"


def keep(keepdim) -> str:
    """``, keepdims=True`` when ``keepdim``."""
    return ", keepdims=True" if keepdim else ""


def call(fn: str) -> Template:
    """Written as a call: ``fn(a, b)``."""
    return Template(lambda p, k, v: f"{fn}({', '.join(p)})")


def binop(symbol: str, prec: int) -> Template:
    """Written as a binary operator of precedence ``prec``: ``a + b``."""
    return Template(lambda p, k, v: f"{p[0]} {symbol} {p[1]}", (prec, prec + 1), prec)


def compare(symbol: str) -> Template:
    """Written as a comparison: ``a < b``."""
    return Template(lambda p, k, v: f"{p[0]} {symbol} {p[1]}", (CMP + 1,), CMP)


def reduction(fn: str) -> Template:
    """Written as ``np.fn(a, axis=..., keepdims=...)`` from the ``dim``/``keepdim`` parameters."""
    return Template(lambda p, k, v: f"np.{fn}({p[0]}{axis(k.get('dim'))}{keep(k.get('keepdim'))})")


def fallback(name: str) -> Template:
    """A primitive with no NumPy one-liner is called through the raw namespace ``F``."""

    def render(parts, params, values):
        keywords = [f"{key}={literal(value)[0]}" for key, value in params.items()]
        return f"F.{name}({', '.join(parts + keywords)})"

    return Template(render)


# The Python operators an operation may implement: precedence of the written form.
OPERATORS = {
    "+": ADD, "-": ADD, "*": MUL, "/": MUL, "@": MUL, "**": POW,
    "<": CMP, "<=": CMP, ">": CMP, ">=": CMP, "==": CMP, "!=": CMP,
}


def operator(symbol: str) -> Template:
    """How an operation implementing the Python operator ``symbol`` is written."""
    if symbol == "**":
        return Template(lambda p, k, v: f"{p[0]} ** {p[1]}", (ATOM, UNARY), POW)
    if symbol == "neg":
        return Template(lambda p, k, v: f"-{p[0]}", (POW,), UNARY)
    if symbol == "abs":
        return call("np.abs")
    prec = OPERATORS[symbol]
    return compare(symbol) if prec == CMP else binop(symbol, prec)


def sum_to(parts, params, values) -> str:
    """The engine's broadcasting reduction (``backend.sum_to_shape``) as one ``np.sum``."""
    shape = tuple(params["shape"])
    source = np.shape(values[0])
    lead = len(source) - len(shape)
    stretched = tuple(i + lead for i, n in enumerate(shape) if n == 1 and source[i + lead] != 1)
    axes = tuple(range(lead)) + stretched
    if not axes:
        return parts[0]
    if not stretched:
        return f"np.sum({parts[0]}{axis(axes)})"
    code = f"np.sum({parts[0]}{axis(axes)}, keepdims=True)"
    return f"{code}.reshape({literal(shape)[0]})" if lead else code
