"""Scalar code: a graph of 0-d float64 values as Python floats and ``math``.

NumPy's 0-d arithmetic costs ~100 ns an operation, Python's float arithmetic ~30 ns: for the
seeds' staged examples (``f(x, y)`` of two numbers, its gradient) the generated function works
on Python floats. Where Python would raise and NumPy returns inf or NaN (a division by 0,
``math.log(0)``, an overflow), the call runs the NumPy version instead, so results and special
values are eager mode's; that version is generated and compiled the first time it is needed.
Example (the gradient of ``x * sin(y)``)::

    def f(x1_, x2_):
        try:
            a1, a2 = float(x1_), float(x2_)
            r1 = math.sin(a2)
            r2 = a1 * r1
            ...
            return (f64(r2), ...)
        except (ArithmeticError, ValueError):
            return numpy_version(x1_, x2_)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .codegen import reroll
from .ir import Const, Var

_F64 = np.dtype(np.float64)


def _sigmoid(v: float) -> float:
    e = math.exp(-math.fabs(v))
    return 1.0 / (1.0 + e) if v >= 0 else e / (1.0 + e)


# primitive -> how it is written on Python floats (operands as code)
_TEMPLATES: dict[str, Callable[..., str]] = {
    "add": lambda a, b: f"{a} + {b}",
    "sub": lambda a, b: f"{a} - {b}",
    "mul": lambda a, b: f"{a} * {b}",
    "div": lambda a, b: f"{a} / {b}",
    "pow": lambda a, b: f"pow_({a}, {b})",
    "neg": lambda a: f"-{a}",
    "exp": lambda a: f"math.exp({a})",
    "log": lambda a: f"math.log({a})",
    "sqrt": lambda a: f"math.sqrt({a})",
    "sin": lambda a: f"math.sin({a})",
    "cos": lambda a: f"math.cos({a})",
    "tan": lambda a: f"math.tan({a})",
    "tanh": lambda a: f"math.tanh({a})",
    "sinh": lambda a: f"math.sinh({a})",
    "cosh": lambda a: f"math.cosh({a})",
    "arctan": lambda a: f"math.atan({a})",
    "sigmoid": lambda a: f"sigmoid({a})",
    "abs": lambda a: f"math.fabs({a})",
    "square": lambda a: f"{a} * {a}",
    "expm1": lambda a: f"math.expm1({a})",
    "log1p": lambda a: f"math.log1p({a})",
}


def _pow(a: float, b: float) -> float:
    return math.pow(a, b)  # raises where NumPy gives NaN or inf: the NumPy version runs then


def _operand(item: Any) -> str | None:
    if isinstance(item, Var):
        return item.name
    value = item.value if isinstance(item, Const) else item
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype == _F64:
        value = value[()]
    if type(value) in (float, int) or isinstance(value, np.float64):
        value = float(value)
        return repr(value) if math.isfinite(value) else None
    return None


REUSE_ABOVE = 400  # graphs of more equations than this keep few names (compile time: W5c)


def generate(name: str, inputs: list[Var], captured: list[Var], equations: list, guards: list,
             outputs: list[Any]) -> tuple[str, dict[str, Any]] | None:
    """The scalar source of the graph and the globals it needs besides ``GLOBALS`` and its
    NumPy version (bound as ``numpy_version``); None when it is not a graph of 0-d float64
    values and the operations above. Constant results are returned as they are.

    Values live in a few local names (``a1, a2, ...`` for the arguments, ``r1, r2, ...``
    reused once a value is dead), so a long chain is a few names written over and over, and
    a run of identical lines (an unrolled loop) is written as a ``for`` loop (``codegen.reroll``):
    Python compiles that in a fraction of the time."""
    if guards or not outputs or not any(isinstance(o, Var) for o in outputs):
        return None
    for v in inputs + captured:
        if v.shape != () or np.dtype(v.dtype) != _F64:
            return None
    last: dict[int, int] = {}  # value -> the last equation reading it
    for k, eq in enumerate(equations):
        for o in eq.operands:
            if type(o) is Var:
                last[o.index] = k
    kept = {o.index for o in outputs if isinstance(o, Var)}
    names: dict[int, str] = {v.index: f"a{k + 1}" for k, v in enumerate(inputs + captured)}
    reuse = len(equations) > REUSE_ABOVE  # (a short graph keeps a name per value: readable)
    free: list[str] = []  # names of dead values, reused (the last freed first: a chain keeps its name)
    freed: set[str] = set()  # (the same, as a set)
    count = 0
    body = []
    templates = _TEMPLATES
    literals: dict[int, str | None] = {}  # id(constant) -> its code (the equations hold the constants)
    for k, eq in enumerate(equations):
        out = eq.out
        template = templates.get(eq.prim.name)
        if template is None or eq.params or out.shape != () or (out.dtype is not _F64 and np.dtype(out.dtype) != _F64):
            return None
        parts = []
        part: str | None
        for o in eq.operands:
            if type(o) is Var:
                index = o.index
                part = names[index]
                if reuse and last[index] == k and index not in kept and part not in freed:
                    free.append(names[index])  # its last reader: the name is free after this line
                    freed.add(names[index])
            else:
                part = literals.get(id(o.value), "")
                if part == "":
                    part = literals[id(o.value)] = _operand(o)
                if part is None:
                    return None
            parts.append(part)
        if free:
            target = free.pop()
            freed.discard(target)
        else:
            count += 1
            target = f"r{count}" if reuse else f"v{count}"
        names[out.index] = target
        body.append(f"{target} = {template(*parts)}")
        if reuse and out.index not in last and out.index not in kept:
            free.append(target)
            freed.add(target)
    constants = {f"k{k + 1}": o.value for k, o in enumerate(outputs) if not isinstance(o, Var)}
    results = ", ".join(f"f64({names[o.index]})" if isinstance(o, Var) else f"k{k + 1}" for k, o in enumerate(outputs))
    params = _params(inputs + captured)
    local = [f"a{k + 1}" for k in range(len(params))]
    convert = f"{', '.join(local)}{',' if len(local) == 1 else ''} = " \
              f"{', '.join(f'float({n})' for n in params)}{',' if len(params) == 1 else ''}"
    lines = ["try:", f"    {convert}"] + [f"    {line}" for line in reroll(body)]
    lines.append(f"    return ({results}{',' if len(outputs) == 1 else ''})")
    lines += ["except (ArithmeticError, ValueError):",
              f"    return numpy_version({', '.join(params)})"]
    return f"def {name}({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in lines), constants


def _params(variables: list[Var]) -> list[str]:
    """Parameter names: each value's own name and ``_`` (none taken twice, no global's)."""
    taken = set(GLOBALS) | {"numpy_version", "float"}
    params = []
    for k, v in enumerate(variables):
        param = f"{v.name or f'x{v.index}'}_"
        if param in taken or not param.isidentifier():
            param = f"p{k + 1}_"
        taken.add(param)
        params.append(param)
    return params


GLOBALS = {"math": math, "sigmoid": _sigmoid, "pow_": _pow, "f64": np.float64}
