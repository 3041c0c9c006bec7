"""Lists of tensors handed to NumPy: refused where NumPy would silently drop their history.

``np.stack([x, y])``, ``np.concatenate([x, a])`` and the other functions whose arguments NumPy
inspects for tensors dispatch to chainrule and keep the history (``__array_function__``). Others
never see the tensors inside a list: ``np.array([x, 2 * x])``, ``np.asarray([x, y])``,
``np.mean([x, y])``, ``np.sum([x, y])`` and ``np.add([x, y], 1)`` convert each element with
``Tensor.__array__`` and return a plain array, which cannot hold a history. NumPy calls
``__array__`` the same way for ``np.asarray(t)`` (allowed: the read-only view of the data, SPEC
§2) and for a tensor inside a list, so the caller is looked at:

- called from NumPy's own Python code (``np.mean``, ``np.sum``, ...): the tensor was inside an
  argument NumPy did not dispatch on, since a tensor argument itself dispatches first;
- called from user code: the call expression being run is read (its source position) and its
  first argument checked; a list or tuple display, a comprehension, or a name bound to a list or
  tuple means the tensor was inside it. Python 3.10 has no source positions: there the call's
  bytecode is read instead (the instructions that pushed the callee and its first argument).

Both raise a ``TypeError`` naming the NumPy function and the fix (``cr.stack``). Only tensors
with history (requires grad, or tangents) are checked: for the others nothing is lost. Where the
source cannot be read (an interactive prompt, ``python -c``), or the argument is an expression
(``np.asarray(f(x))``), the conversion is allowed as ``np.asarray(t)`` is.
"""

from __future__ import annotations

import ast
import dis
import linecache
import sys
from types import CodeType, FrameType

_EXEMPT = ("numpy.testing",)  # they only read values: np.testing.assert_allclose(t, ...)
# (code, instruction offset) -> (NumPy's function name, first argument: "nested" or a variable name) or None
_CALLS: dict[tuple[CodeType, int], tuple[str, str] | None] = {}


def refuse_hidden_list(frame: FrameType | None) -> None:
    """Raise if ``frame`` (the caller of ``Tensor.__array__``) converts a tensor that sits inside a
    list or tuple given to NumPy (see the module docstring)."""
    if frame is None:
        return
    module = frame.f_globals.get("__name__", "")
    if module.startswith("chainrule"):
        return
    if module == "numpy" or module.startswith("numpy."):
        if module.startswith(_EXEMPT):
            return
        code = frame.f_code
        outer = frame.f_back
        while outer is not None and str(outer.f_globals.get("__name__", "")).startswith("numpy"):
            code, outer = outer.f_code, outer.f_back
        raise _refusal(f"numpy.{getattr(code, 'co_qualname', code.co_name).lstrip('_')}")
    call = _call(frame)
    if call is None:
        return
    function, argument = call
    if argument != "nested":
        value = frame.f_locals.get(argument, frame.f_globals.get(argument))
        if not isinstance(value, (list, tuple)):
            return
    raise _refusal(function)


def _refusal(function: str) -> TypeError:
    return TypeError(
        f"{function}: got chainrule tensors with gradient history inside a list or tuple (or "
        f"where NumPy does not hand them to chainrule); NumPy would copy their values into a "
        f"plain array and silently drop the history. Join them "
        f"with cr.stack([...]) (or np.stack, which keeps it) and pass that tensor, e.g. "
        f"{function}(cr.stack([x, y])); to drop the history on purpose, detach them first."
    )


def _call(frame: FrameType) -> tuple[str, str] | None:
    """The call being run in ``frame``, if its first argument holds tensors: (the function as
    written, "nested" or the name of the variable passed)."""
    key = (frame.f_code, frame.f_lasti)
    if key not in _CALLS:
        if len(_CALLS) > 4096:  # code made at run time (exec): keep the cache small
            _CALLS.clear()
        _CALLS[key] = _read_call(frame)
    return _CALLS[key]


def _read_call(frame: FrameType) -> tuple[str, str] | None:
    code = frame.f_code
    positions = getattr(code, "co_positions", None)  # Python 3.11+
    if positions is None:
        return _read_bytecode(code, frame.f_lasti)
    try:
        line, end_line, col, end_col = list(positions())[frame.f_lasti // 2]
    except IndexError:
        return None
    if None in (line, end_line, col, end_col):
        return None
    lines = linecache.getlines(code.co_filename, frame.f_globals)[line - 1:end_line]
    if not lines:
        return None
    raw = [text.encode() for text in lines]  # the columns count UTF-8 bytes
    if len(raw) == 1:
        raw[0] = raw[0][col:end_col]
    else:
        raw[0], raw[-1] = raw[0][col:], raw[-1][:end_col]
    try:
        node = ast.parse("(" + b"".join(raw).decode() + ")", mode="eval").body
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(node, ast.Call) or not node.args:
        return None
    first = node.args[0]
    function = ast.unparse(node.func)
    if function.startswith("np."):
        function = "numpy." + function[3:]
    if isinstance(first, (ast.List, ast.Tuple, ast.ListComp, ast.GeneratorExp, ast.Set)):
        return function, "nested"
    if isinstance(first, ast.Name):
        return function, first.id
    return None


# Python 3.10's bytecode: (values popped, values pushed) of the instructions an argument
# expression is made of; any other instruction (or a jump into the expression) ends the search.
_PUSH = ("LOAD_CONST", "LOAD_FAST", "LOAD_NAME", "LOAD_GLOBAL", "LOAD_DEREF", "LOAD_CLASSDEREF",
         "LOAD_CLOSURE")
_ONE_TO_ONE = ("LOAD_ATTR", "GET_ITER", "LIST_TO_TUPLE", "UNARY_POSITIVE", "UNARY_NEGATIVE",
               "UNARY_NOT", "UNARY_INVERT")
_TWO_TO_ONE = ("BINARY_SUBSCR", "COMPARE_OP", "IS_OP", "CONTAINS_OP")
_BUILD = ("BUILD_LIST", "BUILD_TUPLE", "BUILD_SET", "BUILD_STRING", "BUILD_SLICE")
_NESTED = ("BUILD_LIST", "BUILD_TUPLE", "BUILD_SET", "LIST_TO_TUPLE")
_COMPREHENSIONS = ("<listcomp>", "<genexpr>", "<setcomp>")


def _effect(ins: dis.Instruction) -> tuple[int, int] | None:
    name, arg = ins.opname, ins.arg or 0
    if name in _PUSH:
        return 0, 1
    if name in _ONE_TO_ONE:
        return 1, 1
    if name in _TWO_TO_ONE or name.startswith(("BINARY_", "INPLACE_")):
        return 2, 1
    if name in _BUILD:
        return arg, 1
    table = {"LOAD_METHOD": (1, 2), "BUILD_MAP": (2 * arg, 1), "BUILD_CONST_KEY_MAP": (arg + 1, 1),
             "LIST_EXTEND": (1, 0), "SET_UPDATE": (1, 0), "DICT_UPDATE": (1, 0),
             "DICT_MERGE": (1, 0), "CALL_FUNCTION": (arg + 1, 1), "CALL_METHOD": (arg + 2, 1),
             "CALL_FUNCTION_KW": (arg + 2, 1), "CALL_FUNCTION_EX": (2 + (arg & 1), 1),
             "MAKE_FUNCTION": (2 + bin(arg & 0xF).count("1"), 1),
             "FORMAT_VALUE": (2 if arg & 4 else 1, 1)}
    return table.get(name)


def _producer(code: list[dis.Instruction], at: int, depth: int) -> int | None:
    """The index of the instruction that pushed the value ``depth`` below the top of the stack
    as it is just before ``code[at]`` runs (None where that cannot be told without jumps)."""
    for j in range(at - 1, -1, -1):
        if code[j + 1].is_jump_target:
            return None
        effect = _effect(code[j])
        if effect is None:
            return None
        pops, pushes = effect
        if depth < pushes:
            return j
        depth += pops - pushes
    return None


def _dotted(code: list[dis.Instruction], j: int | None) -> str | None:
    """The name a callee was loaded by (``np.asarray``), or None."""
    if j is None:
        return None
    ins = code[j]
    if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_FAST", "LOAD_DEREF"):
        return str(ins.argval)
    if ins.opname in ("LOAD_ATTR", "LOAD_METHOD"):
        owner = _dotted(code, _producer(code, j, 0))
        return None if owner is None else f"{owner}.{ins.argval}"
    return None


def _read_bytecode(code: CodeType, offset: int) -> tuple[str, str] | None:
    """``_read_call`` from the bytecode (Python 3.10, whose code has no column positions)."""
    instructions = list(dis.get_instructions(code))
    at = next((i for i, ins in enumerate(instructions) if ins.offset == offset), None)
    if at is None:
        return None
    call, argc = instructions[at].opname, instructions[at].arg or 0
    if call == "CALL_FUNCTION_KW":
        names = instructions[at - 1].argval if at else ()
        if not isinstance(names, tuple) or argc - len(names) < 1:
            return None
        first, callee = argc, argc + 1  # the tuple of keyword names is on top
    elif call in ("CALL_FUNCTION", "CALL_METHOD") and argc >= 1:
        first, callee = argc - 1, argc
    else:
        return None
    function = _dotted(instructions, _producer(instructions, at, callee))
    pushed = _producer(instructions, at, first)
    if function is None or pushed is None:
        return None
    if function.startswith("np."):
        function = "numpy." + function[3:]
    ins = instructions[pushed]
    if ins.opname in _NESTED:
        return function, "nested"
    if ins.opname in ("LOAD_FAST", "LOAD_NAME", "LOAD_GLOBAL", "LOAD_DEREF"):
        return function, str(ins.argval)
    if ins.opname == "CALL_FUNCTION" and ins.arg == 1:  # a comprehension's function, called
        made = _producer(instructions, pushed, 1)
        if made is not None and instructions[made].opname == "MAKE_FUNCTION" and made >= 2:
            body = instructions[made - 2].argval
            if isinstance(body, CodeType) and body.co_name in _COMPREHENSIONS:
                return function, "nested"
    return None


def caller() -> FrameType | None:
    """The frame that called the function calling this (``Tensor.__array__``'s caller)."""
    try:
        return sys._getframe(2)
    except ValueError:
        return None
