"""``cr.explain(y)``: the recorded graph as staged Python code, the way textbooks derive gradients.

The forward pass is written one line per operation with named intermediates; the backward pass
follows in the order ``backward`` runs, one line per input of each operation: its local derivative
times the upstream gradient, with ``+=`` where a value fans out. The backward lines come from
running each primitive's own VJP rule (the one the engine runs) on symbolic values, so no
derivative formula is written twice. Pasted into Python, the code reproduces the gradients.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.dtypes import check_operand
from ..core.engine import _fit
from ..core.graph import FREED, Meta
from ..core.tensor import Tensor
from . import graph as _graph
from . import symbolic as S

if TYPE_CHECKING:
    from .._typing import TensorLike

__all__ = ["StagedCode", "explain"]

_RESERVED = {"np", "F"}
_USES_F = re.compile(r"\bF\.")


class StagedCode(str):
    """The text returned by ``cr.explain``: a ``str`` that shows itself as code at the prompt."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return f"```python\n{self}\n```"


def explain(y: Tensor, gradient: TensorLike | None = None,
            names: Mapping[str, Tensor] | None = None) -> StagedCode:
    """The computation behind ``y`` as staged Python code: forward pass, then backward pass.

    Parameters
    ----------
    y : Tensor
        The result of a recorded computation (before ``backward``, or after
        ``backward(retain_graph=True)``).
    gradient : array_like, optional
        The gradient of the output that backward starts from; required when ``y`` has more than
        one element, as for ``y.backward(gradient)``.
    names : mapping of str to Tensor, optional
        Variable names for inputs, intermediates and the output. By default the local variables
        of the caller that hold tensors of the graph; other values get ``x1``, ``v1``, ``c1``.

    Returns
    -------
    StagedCode
        A ``str`` of Python code using NumPy (and ``chainrule.core.dispatch.raw`` as ``F`` for
        operations without a NumPy one-liner). Executed, it defines the inputs, every
        intermediate, and ``d<name>`` = the gradient of ``y`` with respect to ``<name>``.
    """
    if not isinstance(y, Tensor):
        raise TypeError(f"explain: expected a Tensor, got {type(y).__name__}")
    if y._node is None:
        raise ValueError(
            f"explain: this tensor (shape {y.shape}) has no recorded operations: it is a leaf or was "
            f"computed without gradients. Create the inputs with requires_grad=True and pass the result."
        )
    if gradient is not None:
        gradient = check_operand("explain", gradient, "gradient")
    explicit = names is not None
    if names is None:
        names = _graph.caller_tensors(1)
    return StagedCode(_Stager(y, names, explicit).run(gradient))


class _Stager:
    """Writes the staged code of one graph."""

    def __init__(self, y: Tensor, names: Mapping[str, Tensor], explicit: bool = False) -> None:
        self.y = y
        self.order, self.consumers = _graph.walk(y)
        self.forward_nodes = [n for n in reversed(self.order) if not n._leaf]
        keys = _graph.with_own_names(_graph.names_by_key(names), self.order, explicit)  # (tensors' own names)
        self.user_names = {k: v for k, v in keys.items() if v not in _RESERVED and not keyword.iskeyword(v)}
        self.used = set(self.user_names.values()) | _RESERVED
        self.syms: dict[Any, S.Sym] = {}  # node, leaf or constant tensor -> its named Sym
        self.inputs: dict[Any, list[tuple[Any, bool]]] = {}  # node -> (Sym or raw constant, was it a tensor)
        self.forward_line: dict[Any, str] = {}  # node -> the line of code that computes it
        self.head: list[tuple[str, str]] = []   # (code, comment): the inputs and constants
        self.lines: list[tuple[str, str]] = []  # (code, comment): forward and backward passes
        self.uses_f = False
        self.counters: dict[str, int] = {}

    # --- names --------------------------------------------------------------------------------
    def fresh(self, prefix: str) -> str:
        k = self.counters.get(prefix, 0)
        while True:
            k += 1
            name = f"{prefix}{k}"
            if name not in self.used:
                self.counters[prefix] = k
                self.used.add(name)
                return name

    def name_for(self, key, prefix: str) -> str:
        name = self.user_names.get(key)
        return name if name is not None else self.fresh(prefix)

    def code_of(self, key: Any) -> str:
        """The name (or literal) of the staged value of ``key``: every one in ``syms`` has one."""
        code = self.syms[key].code
        assert code is not None
        return code

    def grad_name(self, name: str) -> str:
        for candidate in (f"d{name}", f"grad_{name}"):
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate
        return self.fresh(f"d{name}_")

    # --- output -------------------------------------------------------------------------------
    def emit(self, code: str, comment: str = "") -> None:
        self.lines.append((code, comment))
        if _USES_F.search(code):
            self.uses_f = True

    def emit_value(self, name: str, sym: S.Sym) -> None:
        """``name = <code of sym>`` with its value (or shape) as a comment; ``sym`` is then ``name``."""
        self.emit(f"{name} = {S.to_code(sym)}", _describe(sym.value))
        sym.bind(name)

    def define(self, name: str, value: Any) -> S.Sym:
        """An input or constant written at the top: ``name = np.array(...)``."""
        self.head.append((f"{name} = {S.array_block(np.asarray(value))}", _describe(value)))
        return S.Sym(value, name)

    def run(self, gradient: Any) -> str:
        self.check_usable()
        self.define_inputs()
        self.forward()
        self.backward(gradient)
        return self.text()

    def text(self) -> str:
        head = ["import numpy as np"]
        if self.uses_f:
            head.append("from chainrule.core.dispatch import raw as F  # operations without a NumPy one-liner")
        lines = [("# inputs", "")] + self.head + [("", "")] + self.lines
        width = min(max((len(c) for c, m in lines if m and "\n" not in c), default=0), 64)
        body = []
        for code, comment in lines:
            if comment and "\n" not in code and not code.startswith("#"):
                body.append(f"{code.ljust(width)}  # {comment}")
            else:
                body.append(code)
        return "\n".join(head + [""] + body) + "\n"

    # --- the graph ----------------------------------------------------------------------------
    def check_usable(self) -> None:
        for node in self.forward_nodes:
            prim = node.prim
            if prim.impl is None:
                raise TypeError(
                    f"explain: {prim.node_name} comes from a custom autograd.Function, whose backward "
                    f"is arbitrary Python code that cannot be written out as staged code"
                )
            if node.saved is FREED or node.params is None:
                raise RuntimeError(
                    f"explain: the graph was freed by backward() ({prim.node_name} no longer has the "
                    f"values it saved). Call cr.explain(y) before y.backward(), or pass "
                    f"retain_graph=True to backward()."
                )
            try:
                node._inputs(False)  # the engine's own check that saved tensors are unchanged
            except RuntimeError as exc:
                raise RuntimeError(f"explain: the staged code would not match the graph: {exc}") from None

    def define_inputs(self) -> None:
        """Name the leaves and the constants, and write their values at the top."""
        leaves = [key for key in reversed(self.order) if key._leaf]
        named = {key: i for i, key in enumerate(self.user_names)}
        leaves.sort(key=lambda leaf: named.get(leaf, len(named)))  # the caller's order first
        for leaf in leaves:
            self.syms[leaf] = self.define(self.name_for(leaf, "x"), leaf._data)

    def constant(self, node: Any, i: int, values: list[Any]) -> tuple[Any, bool]:
        """Input ``i`` of ``node``, which carries no gradient: ``(value, was it a tensor)``."""
        saved = node.saved
        if isinstance(saved, (list, tuple)) and not isinstance(saved[i], Meta):
            arg = saved[i]
            return arg, isinstance(arg, Tensor)
        return _recover_constant(node, i, values)

    def constant_sym(self, value: Any, is_tensor: bool) -> Any:
        """A named ``Sym`` for a tensor or array constant; Python scalars stay raw."""
        if not is_tensor and not isinstance(value, np.ndarray):
            return value
        key: object
        if isinstance(value, Tensor):
            key, data = value, value._data
        else:
            key, data = id(value), np.asarray(value)
        sym = self.syms.get(key)
        if sym is None:
            sym = S.lift(data) if data.ndim == 0 else self.define(self.name_for(key, "c"), data)
            self.syms[key] = sym
        return sym

    def forward(self) -> None:
        self.emit("# forward pass")
        for node in self.forward_nodes:
            args: list[Any] = []  # (Sym or raw constant, was it a tensor); None until filled in
            values: list[Any] = []
            pending = []
            for i, parent in enumerate(node.edges):
                if parent is None:
                    pending.append(i)
                    args.append(None)
                    values.append(None)
                else:
                    sym = self.syms[parent]
                    args.append((sym, True))
                    values.append(sym.value)
            for i in pending:
                value, is_tensor = self.constant(node, i, values)
                arg = self.constant_sym(value, is_tensor)
                args[i] = (arg, is_tensor)
                values[i] = arg.value if isinstance(arg, S.Sym) else value
            self.inputs[node] = args
            sym = S.apply(node.prim.name, [a for a, _ in args], node.params)
            name = self.name_for(node, "v") if node is not self.y._node else self.output_name()
            self.emit_value(name, sym)
            self.syms[node] = sym
            self.forward_line[node] = self.lines[-1][0]

    def output_name(self) -> str:
        name = self.user_names.get(self.y._node)
        if name is not None:
            return name
        if "out" not in self.used:
            self.used.add("out")
            return "out"
        return self.fresh("out")

    # --- backward -----------------------------------------------------------------------------
    def backward(self, gradient: Any) -> None:
        root = self.y._node
        root_sym = self.syms[root]
        self.emit("")
        self.emit("# backward pass: d<name> is the gradient of "
                  f"{root_sym.code} with respect to <name>")
        value = np.asarray(root_sym.value)
        if gradient is None:
            if value.size != 1:
                raise RuntimeError(
                    f"explain: the output has shape {value.shape}; pass gradient= (an array of that "
                    f"shape), as for y.backward(gradient), to explain the vector-Jacobian product"
                )
            seed_code = f"np.ones_like({root_sym.code})"
            seed = np.ones(value.shape, dtype=value.dtype)
        else:
            seed = np.asarray(gradient._data if isinstance(gradient, Tensor) else gradient)
            if seed.shape != value.shape:
                raise RuntimeError(
                    f"explain: gradient has shape {seed.shape} but the output has shape {value.shape}"
                )
            seed = seed.astype(value.dtype, copy=False)
            seed_code = S.literal(seed)[0]
        grad_names: dict[Any, str] = {}
        grad_values: dict[Any, Any] = {}
        grad_names[root] = self.grad_name(self.code_of(root))
        grad_values[root] = seed
        self.emit(f"{grad_names[root]} = {seed_code}", _describe(seed))

        fan_out = [key for key in reversed(self.order)
                   if self.consumers.get(key, 0) > 1 and key in self.syms]
        if fan_out:
            shown = ", ".join(self.code_of(k) for k in fan_out)
            verb = "feeds" if len(fan_out) == 1 else "feed"
            self.emit(f"# {shown} {verb} more than one operation: gradients start at zero and add up (+=)")
            for key in fan_out:
                grad_names[key] = self.grad_name(self.code_of(key))
                self.emit(f"{grad_names[key]} = np.zeros_like({self.syms[key].code})")

        for node in self.order:
            if node._leaf or node not in grad_values:
                continue
            results = self.run_rule(node, S.Sym(grad_values[node], grad_names[node]))
            self.emit(f"# {self.forward_line[node]}")
            self.bind_shared([r for _, r in results])
            for parent, result in results:
                if parent not in grad_names:
                    grad_names[parent] = self.grad_name(self.code_of(parent))
                op = "+=" if self.consumers.get(parent, 0) > 1 else "="
                self.emit(f"{grad_names[parent]} {op} {S.to_code(result)}", _describe(result.value))
                previous = grad_values.get(parent)
                grad_values[parent] = result.value if previous is None else previous + result.value

        leaves = [k for k in reversed(self.order) if k._leaf and k in grad_names]
        if leaves:
            self.emit("")
            listed = ", ".join(f"{grad_names[k]} (= {self.syms[k].code}.grad)" for k in leaves)
            self.emit(f"# gradients of the inputs: {listed}")

    def run_rule(self, node: Any, g: S.Sym) -> list[tuple[Any, Any]]:
        """The node's VJP rule run on symbolic values, as the engine runs it: ``[(parent, Sym)]``."""
        prim = node.prim
        args = self.inputs[node]
        save = prim.save_inputs
        if save is True:
            inputs = [a for a, _ in args]
        elif save == "meta":
            inputs = [Meta(a.shape, a.dtype) if is_tensor else a for a, is_tensor in args]
        else:
            inputs = [None] * len(args)
        ans = self.syms[node] if prim.save_ans else None
        edges = node.edges
        m = S.NAMESPACE
        if prim.vjp_all:
            parts = prim.vjp(m, g, ans, [e is not None for e in edges], *inputs, **node.params)
        else:
            parts = [None if e is None else prim.vjp[i](m, g, ans, *inputs, **node.params)
                     for i, e in enumerate(edges)]
        results = []
        for i, parent in enumerate(edges):
            if parent is None or parts[i] is None:
                continue
            part = S.lift(parts[i])
            fit = node.in_meta[i] if node.in_meta is not None else None
            if fit is not None:  # the engine's broadcasting reduction, when the engine applies it
                part = _fit(part, fit[0], fit[1], True, m)
            results.append((parent, part))
        return results

    def bind_shared(self, roots: list[Any]) -> None:
        """Give a temporary name to each compound expression the results use more than once."""
        counts: dict[int, int] = {}
        order: list[S.Sym] = []

        def visit(sym: S.Sym) -> None:
            if sym.code is not None:
                return
            if id(sym) in counts:
                counts[id(sym)] += 1
                return
            counts[id(sym)] = 1
            for arg in sym.args:
                visit(arg)
                if sym.repeats:
                    visit(arg)
            order.append(sym)

        for root in roots:
            visit(root)
        for sym in order:
            if counts[id(sym)] > 1:
                self.emit_value(self.fresh("t"), sym)


def _describe(value: Any) -> str:
    """A comment for a line: the value when it is a scalar or a short vector, else the shape."""
    array = np.asarray(value)
    if array.size == 1:
        item = array.reshape(()).item()
        return f"{item:.6g}" if array.dtype.kind in "fc" else str(item)
    if array.ndim == 1 and array.size <= 4:
        return np.array2string(array, precision=4, separator=", ")
    return f"shape {array.shape}"


def _recover_constant(node: Any, i: int, values: list[Any]) -> tuple[Any, bool]:
    """A constant input the graph did not keep, recovered exactly from the node's small output.

    ``add``/``sub``/``index_put`` save nothing and ``cat`` keeps only shapes, so a constant
    operand is found from the recorded output (kept when it has at most 16 elements), written
    with as few digits as reproduce that output bit for bit.
    """
    prim = node.prim
    out = node.value
    name = prim.name
    if out is None or name not in ("add", "sub", "cat", "index_put"):
        size = "more than 16 elements" if out is None else f"shape {np.shape(out)}"
        raise RuntimeError(
            f"explain: the graph did not keep constant input {i} of '{name}' (output of {size}). "
            f"Make that input a tensor that requires grad, or explain a smaller example."
        )
    with np.errstate(all="ignore"):
        if name == "add":
            guess = out - values[1 - i]
        elif name == "sub":
            guess = out + values[1] if i == 0 else values[0] - out
        elif name == "index_put":
            guess = np.asarray(out)[node.params["index"]]
        else:
            dim = node.params["dim"]
            sizes = [np.shape(v)[dim] if v is not None else node.saved[j].shape[dim] for j, v in enumerate(values)]
            start = sum(sizes[:i])
            guess = np.asarray(out)[(slice(None),) * dim + (slice(start, start + sizes[i]),)]
    guess = np.asarray(guess)
    saved = node.saved[i] if isinstance(node.saved, (list, tuple)) else None
    if isinstance(saved, Meta):  # cat: the constant was a tensor of this shape and dtype
        guess = guess.astype(saved.dtype)
    candidates = []
    if not isinstance(saved, Meta) and guess.size and np.all(guess == guess.reshape(-1)[0]):
        first = guess.reshape(-1)[0].item()
        candidates += [float(f"{first:.{d}g}") for d in range(1, 18)] + [first]
    candidates += [np.array([float(f"{c:.{d}g}") for c in guess.reshape(-1)], dtype=guess.dtype).reshape(guess.shape)
                   for d in range(1, 18)] + [guess]
    for candidate in candidates:
        trial = list(values)
        trial[i] = candidate
        with np.errstate(all="ignore"):
            recomputed = np.asarray(prim.impl(*trial, **node.params))
        if recomputed.dtype == np.asarray(out).dtype and np.array_equal(recomputed, out, equal_nan=True):
            is_tensor = isinstance(candidate, np.ndarray)
            return (Tensor._wrap(candidate) if is_tensor else candidate), is_tensor
    raise RuntimeError(
        f"explain: the graph did not keep constant input {i} of '{name}' and it could not be "
        f"recovered from the output. Make that input a tensor that requires grad."
    )
