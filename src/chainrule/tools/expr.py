"""Math expressions for ``chainrule grad``: parsed with ``ast``, checked against a whitelist, and
evaluated by walking the tree. Nothing is passed to ``eval``; any construct outside the whitelist
(attributes, indexing, lambdas, comprehensions, unknown names, ...) is refused before evaluation.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping

import numpy as np

from ..core.tensor import Tensor
from ..ops._table import Operation, subscribe

MAX_LENGTH = 500      # characters in an expression
MAX_NODES = 400       # syntax-tree nodes in an expression
MAX_DEPTH = 60        # nesting of operations
MAX_EXPONENT = 1000   # largest |exponent| written as a constant

CONSTANTS = {"pi": math.pi, "e": math.e}

# name: (function, number of arguments): the operations whose table entries declare ``cli=``.
FUNCTIONS: dict[str, tuple[Callable, int]] = {}


def _allow(op: Operation) -> None:
    if op.cli is not None:
        for name in (*op.names, *op.cli_names):
            FUNCTIONS[name] = (op.function, op.cli)


def _disallow(op: Operation) -> None:
    for name in (*op.names, *op.cli_names):
        if FUNCTIONS.get(name, (None,))[0] is op.function:
            del FUNCTIONS[name]


_allow.withdraw = _disallow  # type: ignore[attr-defined]
subscribe(_allow)

_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_REFUSED_OPERATORS = {
    ast.BitXor: "'^' (write a power as **)", ast.FloorDiv: "'//'", ast.Mod: "'%'",
    ast.MatMult: "'@'", ast.LShift: "'<<'", ast.RShift: "'>>'", ast.BitAnd: "'&'", ast.BitOr: "'|'",
}
_DESCRIPTIONS = {
    "Attribute": "attribute access", "Subscript": "indexing", "Lambda": "lambda",
    "ListComp": "comprehensions", "SetComp": "comprehensions", "DictComp": "comprehensions",
    "GeneratorExp": "comprehensions", "Compare": "comparisons", "BoolOp": "'and'/'or'",
    "IfExp": "conditional expressions", "NamedExpr": "assignments", "JoinedStr": "strings",
    "List": "lists", "Tuple": "tuples", "Dict": "dicts", "Set": "sets", "Starred": "unpacking",
    "Await": "await", "Yield": "yield", "YieldFrom": "yield", "Slice": "slices",
}


class ExpressionError(ValueError):
    """An expression that ``chainrule grad`` refuses to evaluate."""


class Expression:
    """A checked math expression over named variables; call it with tensors for the variables."""

    def __init__(self, text: str, variables) -> None:
        self.text = text
        self.tree = parse(text, variables)
        names = sorted((node.col_offset, node.id) for node in ast.walk(self.tree)
                       if isinstance(node, ast.Name) and node.id not in CONSTANTS and node.id not in FUNCTIONS)
        self.variables = tuple(dict.fromkeys(name for _, name in names))  # in order of appearance

    def __call__(self, **values) -> Tensor | float:
        with np.errstate(all="ignore"):
            return _evaluate(self.tree.body, values)


def parse(text: str, variables) -> ast.Expression:
    """The syntax tree of ``text`` after checking every node against the whitelist."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    if not text.strip():
        raise ExpressionError("the expression is empty")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not a valid expression: {exc.msg}") from None
    except (MemoryError, RecursionError):
        raise ExpressionError("the expression is nested too deeply") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ExpressionError(f"the expression has {count} parts; the limit is {MAX_NODES}")
    _check(tree.body, set(variables), 0)
    return tree


def _check(node: ast.AST, variables: set, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} levels deep")
    if isinstance(node, ast.Constant):
        if type(node.value) not in (int, float):
            raise ExpressionError(f"only numbers are allowed as constants, not {node.value!r}")
        try:
            value = float(node.value)  # type: ignore[arg-type]  # an int or a float (checked above)
        except OverflowError:
            raise ExpressionError("a number in the expression is too large") from None
        if not math.isfinite(value):
            raise ExpressionError("a number in the expression is too large")
        return
    if isinstance(node, ast.Name):
        if node.id in variables or node.id in CONSTANTS:
            return
        if node.id in FUNCTIONS:
            raise ExpressionError(f"{node.id!r} is a function: call it, as in {node.id}(x)")
        given = ", ".join(sorted(variables)) or "none"
        raise ExpressionError(
            f"unknown variable {node.id!r}; give its value with --at {node.id}=... (variables given: {given})"
        )
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise ExpressionError(f"the operator {type(node.op).__name__} is not allowed; use + - * / **")
        _check(node.operand, variables, depth + 1)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _OPERATORS:
            what = _REFUSED_OPERATORS.get(type(node.op), type(node.op).__name__)
            raise ExpressionError(f"the operator {what} is not allowed; use + - * / **")
        _check(node.left, variables, depth + 1)
        _check(node.right, variables, depth + 1)
        if isinstance(node.op, ast.Pow):
            exponent = _constant_value(node.right)
            if exponent is not None and not abs(exponent) <= MAX_EXPONENT:
                raise ExpressionError(f"the exponent {exponent:g} is too large (at most {MAX_EXPONENT})")
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ExpressionError("only calls of named functions are allowed, as in sin(x)")
        name = node.func.id
        if name not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(f"unknown function {name!r}; the functions are: {known}")
        if node.keywords:
            raise ExpressionError(f"{name}: keyword arguments are not allowed")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise ExpressionError(f"{name}: unpacking (*args) is not allowed")
        arity = FUNCTIONS[name][1]
        if len(node.args) != arity:
            raise ExpressionError(
                f"{name} takes {arity} argument{'s' if arity != 1 else ''}, got {len(node.args)}"
            )
        for arg in node.args:
            _check(arg, variables, depth + 1)
        return
    what = _DESCRIPTIONS.get(type(node).__name__, type(node).__name__)
    raise ExpressionError(f"{what} cannot be used; write numbers, variables, + - * / ** and functions like sin(x)")


def _constant_value(node: ast.AST) -> float | None:
    """The value of a subtree made of numbers only (in floating point, so it cannot hang), else None."""
    if isinstance(node, ast.Constant):
        return float(node.value)  # type: ignore[arg-type]  # parse() admits numbers only
    if isinstance(node, ast.Name) and node.id in CONSTANTS:
        return CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _constant_value(node.operand)
        return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _constant_value(node.left), _constant_value(node.right)
        if left is None or right is None:
            return None
        with np.errstate(all="ignore"):
            return float(_apply(node.op, np.float64(left), np.float64(right)))
    return None


def _apply(op: ast.operator, left, right):
    if isinstance(op, ast.Add):
        return left + right
    if isinstance(op, ast.Sub):
        return left - right
    if isinstance(op, ast.Mult):
        return left * right
    if isinstance(op, ast.Div):
        return left / right
    return left ** right


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _evaluate(node: ast.AST, values: Mapping[str, Tensor]):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return CONSTANTS[node.id] if node.id in CONSTANTS and node.id not in values else values[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, values), _evaluate(node.right, values)
        if _is_number(left) and _is_number(right):
            # Constant arithmetic in floating point: `9 ** 9 ** 9` gives inf instead of hanging.
            return float(_apply(node.op, np.float64(left), np.float64(right)))
        return _apply(node.op, left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        function = FUNCTIONS[node.func.id][0]
        return function(*[_evaluate(a, values) for a in node.args])
    raise ExpressionError(f"cannot evaluate {type(node).__name__}")  # unreachable after parse()


def parse_assignments(text: str) -> dict[str, float]:
    """``"x=3,y=-4"`` as ``{"x": 3.0, "y": -4.0}``, refusing anything else."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"--at is {len(text)} characters long; the limit is {MAX_LENGTH}")
    values: dict[str, float] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, number = item.partition("=")
        name = name.strip()
        if not sep:
            raise ExpressionError(f"--at expects name=value pairs such as x=3,y=-4; got {item!r}")
        if not name.isidentifier() or not name.isascii():
            raise ExpressionError(f"--at: {name!r} is not a variable name")
        if name in FUNCTIONS or name in CONSTANTS:
            raise ExpressionError(f"--at: {name!r} is the name of a function or constant; pick another name")
        if name in values:
            raise ExpressionError(f"--at: {name!r} is given twice")
        try:
            value = float(number)
        except ValueError:
            raise ExpressionError(f"--at: the value of {name} must be a number, got {number.strip()!r}") from None
        if not math.isfinite(value):
            raise ExpressionError(f"--at: the value of {name} must be a finite number, got {number.strip()!r}")
        values[name] = value
    return values
