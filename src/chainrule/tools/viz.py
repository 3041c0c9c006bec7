"""Pictures of the recorded graph: Graphviz DOT text, and SVG or PNG files drawn by ``dot``.

Values flow up from the leaves (at the bottom) to the output (at the top); after ``backward``
each box also shows the gradient that flowed back down into it. Rendering runs Graphviz's
``dot`` program, so no Python package is needed; ``to_dot`` works without Graphviz.

A ``cr.Graph`` (``cr.graph``, ``cr.jit(f).graph``, ``cr.function(...).graph``, or the function
itself) is drawn as its equations: inputs and captured tensors at the bottom, one box per
equation labelled with its primitive, constants as small grey nodes, the decisions it checks
(guards) as octagons, the outputs in green. A symbolic tensor (``cr.placeholder``) is drawn as
the graph from its placeholders (it has no values to show).
"""

from __future__ import annotations

import html
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.tensor import Tensor
from . import graph as _graph

__all__ = ["GraphvizNotFoundError", "render", "tensor_svg", "to_dot"]

SMALL = 16  # tensors with at most this many elements show their values
_FORMATS = ("svg", "png", "pdf")
_INLINE_LIMIT = 300  # Jupyter shows graphs up to this many boxes as pictures
_COLORS = {"leaf": "#dbeafe", "op": "#f3f4f6", "output": "#dcfce7", "grad": "#b91c1c",
           "captured": "#fef3c7", "const": "#e5e7eb", "guard": "#fee2e2"}

INSTALL_HINT = (
    "Install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
    "(macOS), or `conda install -c conda-forge graphviz`. Without it, write the DOT text with "
    "cr.viz.render(y, 'graph.dot') or cr.viz.to_dot(y) and render it elsewhere."
)


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is not installed (or not on ``PATH``)."""


def to_dot(y: Any, values: bool = True, grads: bool = True,
           names: Mapping[str, Tensor] | None = None) -> str:
    """The graph that computed ``y`` as Graphviz DOT text.

    Parameters
    ----------
    y : Tensor or Graph
        The output whose history is drawn (a leaf gives a one-box graph); or a ``cr.Graph``
        (or a ``cr.function``/``cr.jit`` result's graph), drawn as its equations.
    values : bool
        Show the forward value of tensors with at most 16 elements.
    grads : bool
        Show the gradient that reached each box in the last ``backward`` (when small).
    names : mapping of str to Tensor, optional
        Variable names to label boxes with; by default the caller's local variables.

    Returns
    -------
    str
        A ``digraph`` with one box per operation and per leaf, edges from inputs to operations.
    """
    graph = _as_graph(y)
    if graph is not None:
        return graph_dot(graph)
    if not isinstance(y, Tensor):
        raise TypeError(f"to_dot: expected a Tensor or a cr.Graph, got {type(y).__name__}")
    explicit = names is not None
    if names is None:
        names = _graph.caller_tensors(1)
    return _dot(y, values, grads, _graph.names_by_key(names), explicit)


def render(y: Any, path: str | Path, values: bool = True, grads: bool = True,
           names: Mapping[str, Tensor] | None = None) -> Path:
    """Draw the graph of ``y`` (a tensor, or a ``cr.Graph``) into ``path``: SVG, PNG or PDF by
    its suffix (``.dot``: the text).

    Returns the path written. Raises ``GraphvizNotFoundError`` when Graphviz's ``dot`` program
    is needed but missing, with the commands that install it.
    """
    graph = _as_graph(y)
    if graph is None and not isinstance(y, Tensor):
        raise TypeError(f"render: expected a Tensor or a cr.Graph, got {type(y).__name__}")
    explicit = names is not None
    if names is None and graph is None:
        names = _graph.caller_tensors(1)
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in _FORMATS + ("dot", "gv"):
        raise ValueError(
            f"render: cannot tell the picture format from {str(path)!r}; end the name with "
            f".svg, .png, .pdf (drawn by Graphviz) or .dot (the DOT text)"
        )
    text = graph_dot(graph) if graph is not None else _dot(y, values, grads, _graph.names_by_key(names or {}),
                                                            explicit)
    if fmt in ("dot", "gv"):
        path.write_text(text, encoding="utf-8")
        return path
    result = _run_dot(text, fmt, "render", timeout=120)
    path.write_bytes(result)
    return path


def tensor_svg(t: Tensor) -> str | None:
    """SVG text of the graph of ``t`` for Jupyter, or None without Graphviz or for huge graphs."""
    if t._node is None or shutil.which("dot") is None:
        return None
    order, _ = _graph.walk(t)
    if len(order) > _INLINE_LIMIT:
        return None
    try:
        return _run_dot(_dot(t, True, True, {}), "svg", "tensor_svg", timeout=10).decode("utf-8")
    except (RuntimeError, subprocess.SubprocessError, OSError):
        return None


def _run_dot(text: str, fmt: str, op: str, timeout: float) -> bytes:
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizNotFoundError(f"{op}: Graphviz's `dot` program was not found on PATH. {INSTALL_HINT}")
    done = subprocess.run([dot, f"-T{fmt}"], input=text.encode("utf-8"), capture_output=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"{op}: Graphviz's dot failed (exit {done.returncode}): {message}")
    return done.stdout


# ---------------------------------------------------------------------------------------------
# DOT text
# ---------------------------------------------------------------------------------------------

def _dot(y: Tensor, values: bool, grads: bool, names: Mapping[Any, str], explicit: bool = False) -> str:
    order, _ = _graph.walk(y)
    names = _graph.with_own_names(dict(names), order, explicit)  # (the names tensors carry)
    root = order[0]  # the walk starts at y's node (or y itself, a leaf)
    ids = {key: f"n{i}" for i, key in enumerate(reversed(order))}
    lines = [
        "digraph chainrule {",
        "  rankdir=BT;",
        ('  graph [fontname="Helvetica", fontsize=10, labelloc=b, '
         'label="values flow up from the inputs; gradients flow back down"];'),
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        '  edge [color="#6b7280", arrowsize=0.7];',
    ]
    shapes = _known_shapes(order)
    shapes[root] = y.shape
    for key in reversed(order):
        attributes = _attributes(key, key is root, shapes.get(key), values, grads, names)
        lines.append(f"  {ids[key]} [{attributes}];")
    for key in reversed(order):
        if not key._leaf:
            for parent in key.edges:
                if parent is not None:
                    lines.append(f"  {ids[parent]} -> {ids[key]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _attributes(key: Any, is_root: bool, shape: Sequence[int] | None, values: bool, grads: bool,
                names: Mapping[Any, str]) -> str:
    name = names.get(key)
    if key._leaf:
        title = name or "leaf"
        data = key._data
        value = data if data.size <= SMALL else None
        grad = key._grad._data if key._grad is not None and key._grad._data.size <= SMALL else None
        tooltip = "leaf tensor" + (" (requires grad)" if key._requires_grad else "")
        color = _COLORS["leaf"]
    else:
        title = f"{name} = {key.prim.name}" if name else key.prim.name
        value = key.value
        grad = getattr(key, "grad_value", None)
        tooltip = key.prim.node_name
        color = _COLORS["op"]
    if is_root:
        color = _COLORS["output"]
    rows = [f"<b>{html.escape(title)}</b>"]
    if shape is not None:  # unknown for a large output that no consumer recorded the shape of
        rows.append(html.escape(_shape_text(shape)))
    if values and value is not None:
        rows.append(_array_html(value))
    if grads and grad is not None:
        rows.append(f'<font color="{_COLORS["grad"]}">grad {_array_html(grad)}</font>')
    label = "<br/>".join(rows)
    border = ", penwidth=2" if is_root else ""
    return f'label=<{label}>, fillcolor="{color}", tooltip="{html.escape(tooltip)}"{border}'


def _known_shapes(order: Sequence[Any]) -> dict[Any, tuple[int, ...]]:
    """Output shapes of nodes and leaves (custom Function nodes keep none)."""
    shapes: dict[Any, tuple[int, ...]] = {}
    for key in order:
        if key._leaf:
            shapes[key] = key._data.shape
        elif key.shape is not None:
            shapes[key] = tuple(key.shape)
    return shapes


def _shape_text(shape: Sequence[int]) -> str:
    return "scalar" if shape == () else f"shape {tuple(shape)}"


def _array_html(array: Any) -> str:
    array = np.asarray(array)
    if array.ndim == 0:
        text = f"{array.item():.4g}" if array.dtype.kind in "fc" else str(array.item())
    else:
        text = np.array2string(array, precision=4, suppress_small=True, separator=", ",
                               max_line_width=48)
    return "<br/>".join(html.escape(line) for line in text.split("\n"))


# ---------------------------------------------------------------------------------------------
# Graphs of compiled functions (cr.Graph)
# ---------------------------------------------------------------------------------------------

def _as_graph(y: Any) -> Any:
    """The ``cr.Graph`` to draw for ``y`` (a Graph, something holding one as ``.graph``, a
    symbolic tensor), or None for a tensor with values (drawn from its autograd history)."""
    from ..compile.graph import Graph

    if isinstance(y, Graph):
        return y
    if isinstance(getattr(y, "graph", None), Graph):
        return y.graph
    if isinstance(y, Tensor):
        from ..compile.placeholder import RECORDER

        var = RECORDER.symbolic(y)
        if var is not None:  # no values: its formula, from its placeholders
            from ..compile.function import function

            placeholders = sorted(var.sources, key=lambda v: v.index)
            inputs = [_placeholder_tensor(RECORDER, v) for v in placeholders]
            if all(t is not None for t in inputs):
                return function(inputs, y, name="symbolic").graph
    return None


def _placeholder_tensor(recorder: Any, var: Any) -> Any:
    for ref, v in list(recorder.tensors.values()):
        if v is var:
            return ref()
    return None


def graph_dot(graph: Any) -> str:
    """A ``cr.Graph`` as Graphviz DOT text (see the module doc)."""
    lines = [
        "digraph chainrule {",
        "  rankdir=BT;",
        (f'  graph [fontname="Helvetica", fontsize=10, labelloc=b, label="{html.escape(str(graph.name))}: '
         f'{len(graph.equations)} equations; values flow up from the inputs"];'),
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        '  edge [color="#6b7280", arrowsize=0.7];',
    ]
    ids: dict[int, str] = {}
    outputs: dict[int, list[int]] = {}
    for k, out in enumerate(graph.outputs):
        if hasattr(out, "index") and hasattr(out, "shape"):
            outputs.setdefault(out.index, []).append(k)

    def box(var: Any, title: str, color: str, tooltip: str) -> None:
        node = ids[var.index] = f"n{len(ids)}"
        rows = [f"<b>{html.escape(title)}</b>", html.escape(f"{var.dtype} {_shape_text(var.shape)}")]
        border = ""
        if var.index in outputs:
            rows.append(html.escape("output " + ", ".join(map(str, outputs[var.index]))))
            color, border = _COLORS["output"], ", penwidth=2"
        lines.append(f'  {node} [label=<{"<br/>".join(rows)}>, fillcolor="{color}", '
                     f'tooltip="{html.escape(tooltip)}"{border}];')

    for var in graph.inputs:
        box(var, var.name or "input", _COLORS["leaf"], "input")
    for var, _ in graph.captured:
        box(var, f"{var.name} (captured)", _COLORS["captured"], "captured: read at every call")
    constants = 0

    def const(value: Any) -> str:
        nonlocal constants
        constants += 1
        node = f"k{constants}"
        text = _short(value)
        lines.append(f'  {node} [label="{html.escape(text)}", shape=plaintext, style="filled", '
                     f'fillcolor="{_COLORS["const"]}", fontsize=9, height=0.2, margin="0.04,0.02"];')
        return node

    for eq in graph.equations:
        params = [f"{key}={_short(value)}" for key, value in eq.params.items() if not _has_var(value)]
        title = f"{eq.out.name} = {eq.prim.name}"
        box(eq.out, title, _COLORS["op"], eq.prim.name + (" (" + ", ".join(params) + ")" if params else ""))
        target = ids[eq.out.index]
        for operand in eq.operands:
            if hasattr(operand, "index") and operand.index in ids:
                lines.append(f"  {ids[operand.index]} -> {target};")
            else:
                lines.append(f"  {const(getattr(operand, 'value', operand))} -> {target};")
        for key, value in eq.params.items():
            for var in _vars(value):
                if var.index in ids:
                    lines.append(f'  {ids[var.index]} -> {target} [style=dashed, label="{html.escape(key)}", '
                                 f"fontsize=9];")
    for k, guard in enumerate(graph.guards):
        node = f"g{k}"
        text = html.escape(f"check: {guard.describe()}"[:90]) + "\\n" + html.escape(f"is {guard.value!r}"[:40])
        lines.append(f'  {node} [label="{text}", shape=octagon, style="filled", '
                     f'fillcolor="{_COLORS["guard"]}", fontsize=9];')
        if guard.var.index in ids:
            lines.append(f"  {ids[guard.var.index]} -> {node} [style=dotted];")
    for k, out in enumerate(graph.outputs):
        if not (hasattr(out, "index") and hasattr(out, "shape")):
            node = const(getattr(out, "value", out))
            lines.append(f'  o{k} [label="output {k}", shape=plaintext, fillcolor="{_COLORS["output"]}", '
                         f'style="filled", fontsize=9];')
            lines.append(f"  {node} -> o{k};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray) and value.size > 4:
        return f"array {value.dtype}{list(value.shape)}"
    text = repr(value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value)
    return text if len(text) <= 24 else text[:21] + "..."


def _vars(value: Any) -> list[Any]:
    if hasattr(value, "index") and hasattr(value, "shape") and hasattr(value, "kind"):
        return [value]
    if isinstance(value, (tuple, list)):
        return [v for item in value for v in _vars(item)]
    if isinstance(value, slice):
        return [v for item in (value.start, value.stop, value.step) for v in _vars(item)]
    return []


def _has_var(value: Any) -> bool:
    return bool(_vars(value))
