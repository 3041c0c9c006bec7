"""How a compiled function finds, at every call, the tensors it captured.

A traced function reaches tensors other than through its arguments: closures, globals, module
parameters, optimizer state, ``.grad``. Eager mode looks them up again on every call, so a
rebound name (``w = w - 0.1 * g`` outside the function) or a replaced gradient tensor is seen;
the compiled function must do the same. For each captured tensor that existed before the trace,
``find_path`` searches from the traced function (its closure cells, the globals its code names,
default arguments, ``__self__``, and the attributes, items and ``.grad`` of what those hold) for
an access path; at every call ``resolve`` follows the path again and the compiled code reads the
tensor found there. A captured tensor with no such path cannot be checked: the function then
runs eagerly.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

from ..core.tensor import Tensor

MAX_DEPTH = 6
MAX_VISITS = 20000

_ATOMS = (str, bytes, int, float, complex, bool, type(None), type, types.ModuleType)


def _code_names(code: types.CodeType, out: set[str]) -> None:
    out.update(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _code_names(const, out)


def _children(obj: Any) -> list[tuple[tuple, Any]]:
    """The objects one step from ``obj``, each with the step that reaches it."""
    out: list[tuple[tuple, Any]] = []
    if isinstance(obj, Tensor):
        if obj._grad is not None:
            out.append((("grad",), obj._grad))
        return out
    if isinstance(obj, types.FunctionType):
        if obj.__closure__:
            for name, cell in zip(obj.__code__.co_freevars, obj.__closure__):
                try:
                    out.append((("cell", name), cell.cell_contents))
                except ValueError:
                    pass
        names: set[str] = set()
        _code_names(obj.__code__, names)
        g = obj.__globals__
        for name in sorted(names):
            if name in g:
                out.append((("global", name), g[name]))
        for i, value in enumerate(obj.__defaults__ or ()):
            out.append((("default", i), value))
        for key, value in (obj.__kwdefaults__ or {}).items():
            out.append((("kwdefault", key), value))
        return out
    if isinstance(obj, types.MethodType):
        return [(("self",), obj.__self__), (("func",), obj.__func__)]
    if isinstance(obj, functools.partial):
        out.append((("pfunc",), obj.func))
        out.extend((("parg", i), v) for i, v in enumerate(obj.args))
        out.extend((("pkw", k), v) for k, v in obj.keywords.items())
        return out
    if isinstance(obj, dict):
        for key, value in list(obj.items())[:1000]:
            if isinstance(key, _ATOMS[:6]) or isinstance(key, Tensor):
                out.append((("item", key), value))
        return out
    if isinstance(obj, (list, tuple)):
        return [(("index", i), v) for i, v in enumerate(obj[:1000])]
    if isinstance(obj, _ATOMS) or isinstance(obj, types.BuiltinFunctionType):
        return out
    attrs = getattr(obj, "__dict__", None)
    if isinstance(attrs, dict):
        out.extend((("attr", k), v) for k, v in attrs.items())
    if callable(obj) and not isinstance(obj, type):
        call = type(obj).__dict__.get("__call__")
        if isinstance(call, types.FunctionType):
            out.append((("call",), call))
    return out




def find_paths(f: Callable[..., Any], args: tuple, wanted: dict[int, Any]) -> dict[int, tuple]:
    """An access path from ``f`` (or from one of the call's arguments ``args``: a module passed
    as a static argument) for each wanted tensor (by id) that can be reached (breadth first: the
    shortest)."""
    found: dict[int, tuple] = {}
    seen: set[int] = set()
    frontier: list[tuple[tuple, Any]] = [((), f)] + [((("arg", i),), a) for i, a in enumerate(args)]
    visits = 0
    for _ in range(MAX_DEPTH + 1):
        following = []
        for path, obj in frontier:
            key = id(obj)
            if key in seen:
                continue
            seen.add(key)
            visits += 1
            if key in wanted and key not in found and obj is wanted[key]:
                found[key] = path
                if len(found) == len(wanted):
                    return found
            for step, child in _children(obj):
                if id(child) not in seen:
                    following.append((path + (step,), child))
            if visits > MAX_VISITS:
                return found
        frontier = following
    return found


def resolve(f: Any, args: tuple, path: tuple) -> Any:
    """The object at the end of ``path`` from ``f`` (or the argument it starts from) now (None
    where the path no longer leads)."""
    obj = f
    try:
        for step in path:
            kind = step[0]
            if kind == "arg":
                obj = args[step[1]]
            elif kind == "grad":
                obj = obj._grad
            elif kind == "cell":
                obj = obj.__closure__[obj.__code__.co_freevars.index(step[1])].cell_contents
            elif kind == "global":
                obj = obj.__globals__[step[1]]
            elif kind == "default":
                obj = obj.__defaults__[step[1]]
            elif kind == "kwdefault":
                obj = obj.__kwdefaults__[step[1]]
            elif kind == "self":
                obj = obj.__self__
            elif kind == "func":
                obj = obj.__func__
            elif kind == "pfunc":
                obj = obj.func
            elif kind == "parg":
                obj = obj.args[step[1]]
            elif kind == "pkw":
                obj = obj.keywords[step[1]]
            elif kind == "item" or kind == "index":
                obj = obj[step[1]]
            elif kind == "attr":
                obj = obj.__dict__[step[1]]
            elif kind == "call":
                obj = type(obj).__call__
            else:
                return None
    except (KeyError, IndexError, AttributeError, ValueError, TypeError):
        return None
    return obj


_STEPS = {
    "grad": "{o}._grad", "self": "{o}.__self__", "func": "{o}.__func__", "pfunc": "{o}.func",
    "call": "type({o}).__call__",
    "cell": "{o}.__closure__[{o}.__code__.co_freevars.index({k})].cell_contents",
    "global": "{o}.__globals__[{k}]", "default": "{o}.__defaults__[{k}]", "kwdefault": "{o}.__kwdefaults__[{k}]",
    "parg": "{o}.args[{k}]", "pkw": "{o}.keywords[{k}]", "item": "{o}[{k}]", "index": "{o}[{k}]",
    "attr": "{o}.__dict__[{k}]",
}


def resolver(paths: list[tuple]) -> Callable[[Any, tuple], list[Any]]:
    """One function ``(f, args) -> [resolve(f, args, path) for path in paths]``, generated once:
    paths that share a beginning follow it once (a compiled function reads its captured tensors,
    optimizer state and ``.grad`` at every call: dozens of paths through the same module)."""
    trie: dict = {}
    for k, path in enumerate(paths):
        node = trie
        for step in path:
            node = node.setdefault(step, {})
        node.setdefault(None, []).append(k)
    consts: dict[str, Any] = {}
    lines = ["def resolve_all(f, args):", f"    out = [None] * {len(paths)}"]

    def key(value: Any) -> str:
        if type(value) in (str, int) or value is None:
            return repr(value)
        name = f"K{len(consts)}"
        consts[name] = value
        return name

    def emit(node: dict, obj: str, depth: int) -> None:
        pad = "    " * depth
        for k in node.get(None, ()):
            lines.append(f"{pad}out[{k}] = {obj}")
        for step, child in node.items():
            if step is None:
                continue
            if step[0] == "arg":
                expr = f"args[{step[1]}]"
            else:
                expr = _STEPS[step[0]].format(o=obj, k=key(step[1]) if len(step) > 1 else "")
            name = f"o{depth}_{len(lines)}"
            lines.append(f"{pad}try:")
            lines.append(f"{pad}    {name} = {expr}")
            lines.append(f"{pad}except _MISSING:")
            lines.append(f"{pad}    pass")
            lines.append(f"{pad}else:")
            emit(child, name, depth + 1)
            if lines[-1].endswith("else:"):
                lines.append(f"{pad}    pass")

    emit(trie, "f", 1)
    lines.append("    return out")
    namespace: dict[str, Any] = {"_MISSING": (KeyError, IndexError, AttributeError, ValueError, TypeError), **consts}
    exec(compile("\n".join(lines) + "\n", "<chainrule.jit capture paths>", "exec"), namespace)  # noqa: S102
    return namespace["resolve_all"]
