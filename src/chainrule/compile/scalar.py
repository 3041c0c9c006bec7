"""Scalar code: a graph of 0-d float64 values as Python floats and ``math``.

NumPy's 0-d arithmetic costs ~100 ns an operation, Python's float arithmetic ~30 ns: for the
seeds' staged examples (``f(x, y)`` of two numbers, its gradient) the generated function works
on Python floats. Where Python would raise and NumPy returns inf or NaN (a division by 0,
``math.log(0)``, an overflow), the call runs the NumPy version instead, so results and special
values are eager mode's. Example (the gradient of ``x * sin(y)``)::

    def f(x1, x2):
        try:
            a1, a2 = float(x1), float(x2)
            v1 = math.sin(a2)
            v2 = a1 * v1
            ...
            return (f64(v2), ...)
        except (ArithmeticError, ValueError):
            return numpy_version(x1, x2)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

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


def generate(name: str, inputs: list[Var], captured: list[Var], equations: list, guards: list,
             outputs: list[Any]) -> str | None:
    """The scalar source of the graph (its NumPy version bound as ``numpy_version``), or None
    when it is not a graph of 0-d float64 values and the operations above."""
    if guards or not outputs:
        return None
    variables = inputs + captured + [eq.out for eq in equations]
    if any(v.shape != () or np.dtype(v.dtype) != _F64 for v in variables):
        return None
    body = []
    for eq in equations:
        template = _TEMPLATES.get(eq.prim.name)
        if template is None or eq.params:
            return None
        parts = [_operand(o) for o in eq.operands]
        if any(p is None for p in parts):
            return None
        body.append(f"{eq.out.name} = {template(*parts)}")
    results = []
    for o in outputs:
        if not isinstance(o, Var):
            return None
        results.append(f"f64({o.name})")
    names = [v.name or f"x{v.index}" for v in inputs + captured]
    convert = f"{', '.join(names)}{',' if len(names) == 1 else ''} = " \
              f"{', '.join(f'float({n}_)' for n in names)}{',' if len(names) == 1 else ''}"
    lines = ["try:", f"    {convert}"] + [f"    {line}" for line in body]
    lines.append(f"    return ({', '.join(results)}{',' if len(results) == 1 else ''})")
    lines += ["except (ArithmeticError, ValueError):",
              f"    return numpy_version({', '.join(f'{n}_' for n in names)})"]
    params = ", ".join(f"{n}_" for n in names)
    return f"def {name}({params}):\n" + "".join(f"    {line}\n" for line in lines)


GLOBALS = {"math": math, "sigmoid": _sigmoid, "pow_": _pow, "f64": np.float64}
