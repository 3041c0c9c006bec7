"""Symbolic values for staged code: run the operation table's VJP rules and get code back.

A ``Sym`` carries a real value (so rules that branch on data or read ``.shape`` behave exactly as
in the engine) and how to write that value as a Python expression. ``SymbolicNamespace`` is the
third rule namespace beside ``_primitive.raw`` and ``_primitive.traced``: ``m.cos(x)`` returns the
``Sym`` of ``np.cos(x)``. Forward templates say how each primitive is *written* in NumPy; no
derivative formula lives here.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .ops._primitive import PRIMITIVES

# Python's operator precedences, low to high (``ATOM``: names, literals, calls, subscripts).
CMP, OR, XOR, AND, ADD, MUL, UNARY, POW, ATOM = 6, 7, 8, 9, 11, 12, 13, 14, 100


class Sym:
    """A value in staged code: the real value and the expression (or name) that computes it."""

    __slots__ = ("args", "code", "prec", "render", "repeats", "slots", "value")
    __array_ufunc__ = None  # NumPy defers to our reflected operators instead of looping over us
    __hash__ = object.__hash__

    def __init__(self, value, code: str | None = None, prec: int = ATOM, render=None, args=(),
                 slots=(), repeats: bool = False) -> None:
        self.value = value
        self.code = code
        self.prec = prec
        self.render = render
        self.args = args
        self.slots = slots
        self.repeats = repeats

    # What rules read from their inputs, as from an array or a Tensor.
    @property
    def _data(self) -> np.ndarray:
        return np.asarray(self.value)

    @property
    def shape(self) -> tuple:
        return np.shape(self.value)

    @property
    def dtype(self) -> np.dtype:
        return np.asarray(self.value).dtype

    @property
    def ndim(self) -> int:
        return np.ndim(self.value)

    @property
    def size(self) -> int:
        return int(np.size(self.value))

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __repr__(self) -> str:
        return f"Sym({to_code(self)})"

    def bind(self, name: str) -> None:
        """From now on write this value as ``name`` (after a line ``name = ...`` was emitted)."""
        self.code = name
        self.prec = ATOM
        self.render = None
        self.args = ()


def to_code(sym: Sym) -> str:
    """The expression of ``sym``, parenthesised where Python's precedence requires."""
    if sym.code is not None:
        return sym.code
    parts = []
    for i, arg in enumerate(sym.args):
        need = sym.slots[min(i, len(sym.slots) - 1)] if sym.slots else 0
        text = to_code(arg)
        parts.append(f"({text})" if arg.prec < need else text)
    return sym.render(parts)


def lift(value) -> Sym:
    """``value`` as a ``Sym`` (constants become literals)."""
    if isinstance(value, Sym):
        return value
    code, prec = literal(value)
    return Sym(value, code, prec)


# ---------------------------------------------------------------------------------------------
# Literals
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# Operators
# ---------------------------------------------------------------------------------------------

def _operator(symbol: str, prec: int, fn, left, right) -> Sym:
    a, b = lift(left), lift(right)
    with np.errstate(all="ignore"):
        value = fn(a.value, b.value)
    if symbol == "**":
        slots = (ATOM, UNARY)
    elif prec == CMP:
        slots = (CMP + 1, CMP + 1)
    else:
        slots = (prec, prec + 1)
    return Sym(value, prec=prec, render=lambda p: f"{p[0]} {symbol} {p[1]}", args=(a, b), slots=slots)


def _unary(symbol: str, fn, operand) -> Sym:
    a = lift(operand)
    with np.errstate(all="ignore"):
        value = fn(a.value)
    return Sym(value, prec=UNARY, render=lambda p: f"{symbol}{p[0]}", args=(a,), slots=(POW,))


def _install_operators() -> None:
    binary = {
        "add": ("+", ADD, operator.add), "sub": ("-", ADD, operator.sub),
        "mul": ("*", MUL, operator.mul), "truediv": ("/", MUL, operator.truediv),
        "matmul": ("@", MUL, operator.matmul), "pow": ("**", POW, operator.pow),
        "and": ("&", AND, operator.and_), "or": ("|", OR, operator.or_), "xor": ("^", XOR, operator.xor),
    }
    for name, (symbol, prec, fn) in binary.items():
        setattr(Sym, f"__{name}__", lambda self, other, s=symbol, p=prec, f=fn: _operator(s, p, f, self, other))
        setattr(Sym, f"__r{name}__", lambda self, other, s=symbol, p=prec, f=fn: _operator(s, p, f, other, self))
    comparisons = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
    for name, symbol in comparisons.items():
        fn = getattr(operator, name)
        setattr(Sym, f"__{name}__", lambda self, other, s=symbol, f=fn: _operator(s, CMP, f, self, other))
    Sym.__neg__ = lambda self: _unary("-", operator.neg, self)
    Sym.__invert__ = lambda self: _unary("~", operator.invert, self)
    Sym.__pos__ = lambda self: self
    Sym.__abs__ = lambda self: NAMESPACE.abs(self)


# ---------------------------------------------------------------------------------------------
# How each primitive is written in NumPy
# ---------------------------------------------------------------------------------------------

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


def _axis(dim) -> str:
    if dim is None:
        return ""
    if isinstance(dim, tuple) and len(dim) == 1:
        dim = dim[0]
    return f", axis={literal(dim)[0]}"


def _keep(keepdim) -> str:
    return ", keepdims=True" if keepdim else ""


def _call(fn: str) -> Template:
    return Template(lambda p, k, v: f"{fn}({', '.join(p)})")


def _binop(symbol: str, prec: int) -> Template:
    return Template(lambda p, k, v: f"{p[0]} {symbol} {p[1]}", (prec, prec + 1), prec)


def _compare(symbol: str) -> Template:
    return Template(lambda p, k, v: f"{p[0]} {symbol} {p[1]}", (CMP + 1,), CMP)


def _reduction(fn: str) -> Template:
    return Template(lambda p, k, v: f"np.{fn}({p[0]}{_axis(k.get('dim'))}{_keep(k.get('keepdim'))})")


def _sum_to(parts, params, values) -> str:
    """The engine's broadcasting reduction (``_backend.sum_to_shape``) as one ``np.sum``."""
    shape = tuple(params["shape"])
    source = np.shape(values[0])
    lead = len(source) - len(shape)
    stretched = tuple(i + lead for i, n in enumerate(shape) if n == 1 and source[i + lead] != 1)
    axes = tuple(range(lead)) + stretched
    if not axes:
        return parts[0]
    if not stretched:
        return f"np.sum({parts[0]}{_axis(axes)})"
    code = f"np.sum({parts[0]}{_axis(axes)}, keepdims=True)"
    return f"{code}.reshape({literal(shape)[0]})" if lead else code


TEMPLATES: dict[str, Template] = {
    "add": _binop("+", ADD), "sub": _binop("-", ADD), "mul": _binop("*", MUL),
    "div": _binop("/", MUL), "matmul": _binop("@", MUL),
    "pow": Template(lambda p, k, v: f"{p[0]} ** {p[1]}", (ATOM, UNARY), POW),
    "neg": Template(lambda p, k, v: f"-{p[0]}", (POW,), UNARY),
    "lt": _compare("<"), "le": _compare("<="), "gt": _compare(">"), "ge": _compare(">="),
    "eq": _compare("=="), "ne": _compare("!="),
    "rsqrt": Template(lambda p, k, v: f"1.0 / np.sqrt({p[0]})", (), MUL),
    "sigmoid": Template(lambda p, k, v: f"1.0 / (1.0 + np.exp(-{p[0]}))", (POW,), MUL),
    "relu": Template(lambda p, k, v: f"np.maximum({p[0]}, 0)"),
    "leaky_relu": Template(
        lambda p, k, v: f"np.where({p[0]} > 0, {p[0]}, {p[0]} * {literal(k.get('negative_slope', 0.01))[0]})",
        (MUL,), repeats=True),
    "elu": Template(
        lambda p, k, v: f"np.where({p[0]} > 0, {p[0]}, {literal(k.get('alpha', 1.0))[0]} * np.expm1(np.minimum({p[0]}, 0)))",
        (CMP + 1,), repeats=True),
    "softplus": Template(
        lambda p, k, v: f"np.logaddexp(0.0, {literal(k.get('beta', 1.0))[0]} * {p[0]}) / {literal(k.get('beta', 1.0))[0]}",
        (MUL + 1,), MUL),
    "clamp": Template(lambda p, k, v: f"np.clip({p[0]}, {literal(k.get('min'))[0]}, {literal(k.get('max'))[0]})"),
    "cast": Template(lambda p, k, v: f"{p[0]}.astype({dtype_code(k['dtype'])})", (ATOM,)),
    "zeros_like": _call("np.zeros_like"),
    "where": _call("np.where"), "maximum": _call("np.maximum"), "minimum": _call("np.minimum"),
    "logical_and": _call("np.logical_and"), "logical_or": _call("np.logical_or"),
    "logical_not": _call("np.logical_not"),
    "sum": _reduction("sum"), "mean": _reduction("mean"), "prod": _reduction("prod"),
    "amax": _reduction("max"), "amin": _reduction("min"),
    "argmax": _reduction("argmax"), "argmin": _reduction("argmin"),
    "norm2": Template(lambda p, k, v: f"np.sqrt(np.sum({p[0]} * {p[0]}{_axis(k['dim'])}{_keep(k['keepdim'])}))",
                      (MUL + 1,), repeats=True),
    "cumsum": Template(lambda p, k, v: f"np.cumsum({p[0]}, axis={k['dim']})"),
    "cumprod": Template(lambda p, k, v: f"np.cumprod({p[0]}, axis={k['dim']})"),
    "sum_to": Template(_sum_to),
    "reshape": Template(lambda p, k, v: f"np.reshape({p[0]}, {literal(tuple(k['shape']))[0]})"),
    "broadcast_to": Template(lambda p, k, v: f"np.broadcast_to({p[0]}, {literal(tuple(k['shape']))[0]})"),
    "permute": Template(lambda p, k, v: f"np.transpose({p[0]}, {literal(tuple(k['dims']))[0]})"),
    "flip": Template(lambda p, k, v: f"np.flip({p[0]}, {literal(tuple(k['dims']))[0]})"),
    "tile": Template(lambda p, k, v: f"np.tile({p[0]}, {literal(tuple(k['reps']))[0]})"),
    "getitem": Template(lambda p, k, v: f"{p[0]}[{index_code(k['index'])}]", (ATOM,)),
    "gather": Template(lambda p, k, v: f"np.take_along_axis({p[0]}, {p[1]}, axis={k['dim']})"),
    "cat": Template(lambda p, k, v: f"np.concatenate(({', '.join(p)}{',' if len(p) == 1 else ''}), axis={k['dim']})"),
    "pad": Template(lambda p, k, v: f"np.pad({p[0]}, {literal(k['widths'])[0]}, constant_values={literal(k['value'])[0]})"),
    "diagonal": Template(lambda p, k, v: f"np.diagonal({p[0]}, {k['offset']}, {k['dim1']}, {k['dim2']})"),
    "clone": _call("np.copy"),
    "einsum_prim": Template(
        lambda p, k, v: f"np.einsum({k['subscripts']!r}, {', '.join(p)}{', optimize=True' if len(p) > 2 else ''})"),
    "inv": _call("np.linalg.inv"), "det": _call("np.linalg.det"), "solve": _call("np.linalg.solve"),
    "logabsdet": Template(lambda p, k, v: f"np.linalg.slogdet({p[0]})[1]"),
    "slogdet_sign": Template(lambda p, k, v: f"np.linalg.slogdet({p[0]})[0]"),
}
for _name in ("exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "square", "reciprocal", "sin",
              "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "abs", "sign",
              "floor", "ceil", "round", "isnan", "isinf", "isfinite"):
    TEMPLATES[_name] = _call(f"np.{_name}")


def _fallback(name: str) -> Template:
    """A primitive with no NumPy one-liner is called through the raw namespace ``F``."""

    def render(parts, params, values):
        keywords = [f"{key}={literal(value)[0]}" for key, value in params.items()]
        return f"F.{name}({', '.join(parts + keywords)})"

    return Template(render)


def template_of(name: str) -> Template:
    return TEMPLATES.get(name) or _fallback(name)


def apply(name: str, args, params: dict) -> Sym:
    """The ``Sym`` of primitive ``name`` applied to ``args`` (value computed by its NumPy impl)."""
    prim = PRIMITIVES[name]
    syms = [lift(a) for a in args]
    values = [s.value for s in syms]
    with np.errstate(all="ignore"):
        value = prim.impl(*values, **params)
    template = template_of(name)
    return Sym(value, prec=template.prec, args=tuple(syms), slots=template.slots,
               render=lambda parts: template.render(parts, params, values), repeats=template.repeats)


class SymbolicNamespace:
    """The rule namespace whose functions write code: ``m.cos(x)`` is the ``Sym`` of ``np.cos(x)``."""

    def __getattr__(self, name: str):
        prim = PRIMITIVES.get(name)
        if prim is None or prim.impl is None:
            raise AttributeError(f"explain: the rule namespace has no primitive {name!r}")

        def call(*args, **params):
            return apply(name, args, params)

        setattr(self, name, call)
        return call


NAMESPACE = SymbolicNamespace()
_install_operators()
