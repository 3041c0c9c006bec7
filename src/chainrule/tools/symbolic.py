"""Symbolic values for staged code: run the operation table's VJP rules and get code back.

A ``Sym`` carries a real value (so rules that branch on data or read ``.shape`` behave exactly as
in the engine) and how to write that value as a Python expression. ``SymbolicNamespace`` is the
third rule namespace beside ``dispatch.raw`` and ``dispatch.traced``: ``m.cos(x)`` returns the
``Sym`` of ``np.cos(x)``. Forward templates say how each primitive is *written* in NumPy; no
derivative formula lives here.
"""

from __future__ import annotations

import operator

import numpy as np

from ..core.dispatch import PRIMITIVES
from ..ops._table import TEMPLATES
from ..ops._template import (  # noqa: F401  (array_block, dtype_code, index_code: for explain)
    ADD,
    AND,
    ATOM,
    CMP,
    MUL,
    OR,
    POW,
    UNARY,
    XOR,
    Template,
    array_block,
    dtype_code,
    fallback,
    index_code,
    literal,
)


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
    unary = {
        "__neg__": lambda self: _unary("-", operator.neg, self),
        "__invert__": lambda self: _unary("~", operator.invert, self),
        "__pos__": lambda self: self,
        "__abs__": lambda self: NAMESPACE.abs(self),
    }
    for name, method in unary.items():
        setattr(Sym, name, method)


# ---------------------------------------------------------------------------------------------
# How each primitive is written in NumPy
# ---------------------------------------------------------------------------------------------

def template_of(name: str) -> Template:
    """How primitive ``name`` is written: its table entry's template, else a call through ``F``."""
    return TEMPLATES.get(name) or fallback(name)


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
