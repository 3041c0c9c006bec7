"""cr.viz: DOT text of the recorded graph, rendering through Graphviz's dot, inline SVG."""

import html
import re
import shutil

import numpy as np
import pytest

import chainrule as cr
from chainrule.tools import viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def boxes(dot: str) -> dict:
    """Node id -> label text (HTML tags removed) of every box in DOT text."""
    found = {}
    for node_id, label in re.findall(r"^\s*(n\d+) \[label=<(.*?)>, fillcolor", dot, flags=re.MULTILINE):
        found[node_id] = re.sub(r"<[^>]+>", "\n", label).replace("&gt;", ">").replace("&lt;", "<")
    return found


def edges(dot: str) -> list:
    return re.findall(r"^\s*(n\d+) -> (n\d+);", dot, flags=re.MULTILINE)


def staged_example():
    x = cr.tensor(3.0, requires_grad=True)
    y = cr.tensor(-4.0, requires_grad=True)
    num = x + cr.sigmoid(y)
    den = cr.sigmoid(x) + (x + y) ** 2
    f = num / den
    return x, y, num, den, f


def test_one_box_per_operation_and_leaf_with_edges_from_inputs():
    x, y, num, den, f = staged_example()
    dot = viz.to_dot(f, names={"x": x, "y": y, "num": num, "den": den, "f": f})
    labels = boxes(dot)
    assert len(labels) == 9  # 2 leaves + sigmoid, add, sigmoid, add, pow, add, div
    titles = sorted(text.split("\n")[1] for text in labels.values())
    assert titles == sorted(["x", "y", "sigmoid", "sigmoid", "num = add", "add", "pow", "den = add", "f = div"])
    by_title = {text.split("\n")[1]: node_id for node_id, text in labels.items()}
    links = edges(dot)
    assert len(links) == 11  # one per recorded input edge
    assert (by_title["num = add"], by_title["f = div"]) in links
    assert (by_title["den = add"], by_title["f = div"]) in links
    assert (by_title["x"], by_title["num = add"]) in links
    assert dot.startswith("digraph") and "rankdir=BT" in dot


def test_values_and_gradients_appear_after_backward():
    x, *_, f = staged_example()
    before = boxes(viz.to_dot(f, names={"x": x, "f": f}))
    assert not any("grad" in text for text in before.values())
    f.backward()
    labels = boxes(viz.to_dot(f, names={"x": x, "f": f}))
    x_box = next(text for text in labels.values() if text.split("\n")[1] == "x")
    assert "scalar" in x_box and "\n3\n" in x_box
    assert f"grad {x.grad.item():.4g}" in x_box
    f_box = next(text for text in labels.values() if text.split("\n")[1] == "f = div")
    assert f"{f.item():.4g}" in f_box and "grad 1" in f_box
    hidden = boxes(viz.to_dot(f, values=False, grads=False, names={"x": x, "f": f}))
    assert not any("grad" in text or "\n3\n" in text for text in hidden.values())


def test_default_names_come_from_the_callers_variables():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    total = (a * a).sum()
    titles = {text.split("\n")[1] for text in boxes(viz.to_dot(total)).values()}
    assert titles == {"a", "mul", "total = sum"}


def test_large_tensors_show_shape_not_values():
    w = cr.ones(10, 10, requires_grad=True)
    out = (w * 2).sum()
    out.backward()
    labels = boxes(viz.to_dot(out, names={"w": w}))
    w_box = next(text for text in labels.values() if text.split("\n")[1] == "w")
    assert "shape (10, 10)" in w_box and "grad" not in w_box and "[" not in w_box


def test_leaf_gives_a_single_box():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert len(boxes(viz.to_dot(x, names={}))) == 1
    with pytest.raises(TypeError, match="Tensor"):
        viz.to_dot(np.ones(2))


def test_render_dot_text_needs_no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on PATH
    *_, f = staged_example()
    path = viz.render(f, tmp_path / "graph.dot")
    assert path.read_text().startswith("digraph")


def test_render_without_graphviz_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    *_, f = staged_example()
    with pytest.raises(viz.GraphvizNotFoundError) as info:
        viz.render(f, tmp_path / "graph.svg")
    message = str(info.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert "conda" in message
    assert not (tmp_path / "graph.svg").exists()
    assert viz.tensor_svg(f) is None
    assert f._repr_html_() == f"<pre>{html.escape(repr(f))}</pre>"  # the value, no picture


def test_render_refuses_unknown_suffix(tmp_path):
    *_, f = staged_example()
    with pytest.raises(ValueError, match=r"\.svg, \.png"):
        viz.render(f, tmp_path / "graph.jpeg")


@needs_dot
def test_render_svg_and_png(tmp_path):
    *_, f = staged_example()
    f.backward()
    svg = viz.render(f, tmp_path / "graph.svg")
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "sigmoid" in text and "grad" in text
    png = viz.render(f, tmp_path / "graph.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_dot
def test_tensors_with_history_display_their_value_then_their_graph_in_jupyter():
    x = cr.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = cr.exp(x).sum()
    shown = y._repr_html_()
    value, picture = shown.index(html.escape(repr(y))), shown.index("<svg")
    assert value < picture and "exp" in shown and "<?xml" not in shown
    assert "<b>x</b>" in shown or ">x<" in shown  # the input by its name, not "leaf"
    assert x._repr_html_() == f"<pre>{html.escape(repr(x))}</pre>"  # a leaf has no graph to show
