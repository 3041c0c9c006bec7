"""The command line: `chainrule grad` (and its expression whitelist) and `chainrule demo`."""

import math
import os
import re
import shutil
import subprocess
import sys

import pytest

from chainrule.tools.cli import main
from chainrule.tools.expr import MAX_LENGTH, Expression, ExpressionError, parse_assignments

STAGED = "(x + sigmoid(y)) / (sigmoid(x) + (x + y)**2)"


def sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


def staged_gradient(x, y):
    num, den = x + sigmoid(y), sigmoid(x) + (x + y) ** 2
    dnum_dx, dden_dx = 1.0, sigmoid(x) * (1 - sigmoid(x)) + 2 * (x + y)
    dnum_dy, dden_dy = sigmoid(y) * (1 - sigmoid(y)), 2 * (x + y)
    return ((dnum_dx * den - num * dden_dx) / den ** 2, (dnum_dy * den - num * dden_dy) / den ** 2)


def run_grad(capsys, *args):
    code = main(["grad", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def gradient_rows(out: str) -> dict:
    """{variable: (reverse, numerical, relative error)} from the printed table."""
    rows = {}
    for name, rev, num, err in re.findall(r"^df/d(\w+)\s+(\S+)\s+(\S+)\s+(\S+)$", out, flags=re.MULTILINE):
        rows[name] = (float(rev), float(num), float(err))
    return rows


# ---------------------------------------------------------------------------------------------
# chainrule grad
# ---------------------------------------------------------------------------------------------

def test_grad_prints_value_reverse_numerical_and_error(capsys):
    code, out, err = run_grad(capsys, STAGED, "--at", "x=3,y=-4")
    assert code == 0 and err == ""
    value = float(re.search(r"^value\s+(\S+)$", out, flags=re.MULTILINE).group(1))
    assert value == pytest.approx((3 + sigmoid(-4)) / (sigmoid(3) + 1), rel=1e-12)
    rows = gradient_rows(out)
    expected = staged_gradient(3.0, -4.0)
    for name, exact in zip("xy", expected):
        reverse, numerical, error = rows[name]
        assert reverse == pytest.approx(exact, rel=1e-12)
        assert numerical == pytest.approx(exact, rel=1e-8)
        assert error == pytest.approx(abs(reverse - numerical) / max(abs(reverse), abs(numerical)), rel=0.05)
        assert error < 1e-8


def test_grad_explain_prints_staged_code_that_reproduces_the_gradient(capsys):
    code, out, _ = run_grad(capsys, "x * sin(y) + exp(x / y)", "--at", "x=0.5", "--at", "y=2", "--explain")
    assert code == 0
    staged = out[out.index("import numpy as np"):]
    namespace: dict = {}
    exec(staged, namespace)  # noqa: S102 (running the staged code is the check)
    rows = gradient_rows(out)
    assert namespace["dx"] == pytest.approx(rows["x"][0], rel=1e-14)
    assert namespace["dy"] == pytest.approx(rows["y"][0], rel=1e-14)
    assert namespace["dx"] == pytest.approx(math.sin(2) + math.exp(0.25) / 2, rel=1e-12)


def test_grad_functions_constants_and_method(capsys):
    code, out, _ = run_grad(capsys, "max(x, y) * pi + sqrt(abs(y)) - tanh(relu(x))**2", "--at", "x=0.3,y=-2.5",
                            "--method", "richardson")
    assert code == 0 and "numerical (richardson)" in out
    rows = gradient_rows(out)
    t = math.tanh(0.3)
    assert rows["x"][0] == pytest.approx(math.pi - 2 * t * (1 - t * t), rel=1e-12)
    assert rows["y"][0] == pytest.approx(-0.5 / math.sqrt(2.5), rel=1e-12)
    assert rows["x"][2] < 1e-9 and rows["y"][2] < 1e-9


def test_grad_of_a_constant_expression_is_zero(capsys):
    code, out, _ = run_grad(capsys, "2 ** 10 + 1", "--at", "x=1")
    assert code == 0
    assert re.search(r"^value\s+1025\.0$", out, flags=re.MULTILINE)
    assert gradient_rows(out)["x"][:2] == (0.0, 0.0)
    assert "does not depend" in out


def test_grad_writes_the_graph_as_dot_text(capsys, tmp_path):
    target = tmp_path / "g.dot"
    code, out, _ = run_grad(capsys, "x * y + x", "--at", "x=2,y=3", "--graph", str(target))
    assert code == 0 and f"graph written to {target}" in out
    text = target.read_text()
    assert "<b>x</b>" in text and "<b>f = add</b>" in text and "grad 4" in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_grad_renders_svg(capsys, tmp_path):
    target = tmp_path / "g.svg"
    code, _, _ = run_grad(capsys, STAGED, "--at", "x=3,y=-4", "--graph", str(target))
    assert code == 0 and "<svg" in target.read_text()


def test_grad_graph_without_graphviz_fails_with_install_hint(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = run_grad(capsys, "x * x", "--at", "x=2", "--graph", str(tmp_path / "g.svg"))
    assert code != 0
    assert "apt-get install graphviz" in err and len(err.strip().splitlines()) == 1
    assert gradient_rows(out)["x"][0] == 4.0  # the numbers were still printed


REFUSED = {
    "attribute": "x.real",
    "dunder attribute": "x.__class__.__bases__",
    "import": "__import__('os').system('echo hacked')",
    "eval": "eval('1')",
    "open": "open('/etc/passwd')",
    "indexing": "x[0]",
    "lambda": "(lambda: x)()",
    "bare lambda": "lambda: x",
    "list comprehension": "[t for t in x]",
    "generator": "max(t for t in x)",
    "unknown function": "foo(x)",
    "unknown variable": "x + z",
    "function as variable": "sin + 1",
    "huge exponent": "x ** 10**10",
    "power tower": "9**9**9",
    "large exponent": "2 ** 5000",
    "keyword argument": "sin(x=1)",
    "unpacking": "max(*x)",
    "wrong arity": "sin(x, y)",
    "string": "'abc'",
    "bytes": "b'abc'",
    "bool constant": "True",
    "complex constant": "1j",
    "comparison": "x < y",
    "boolean operator": "x and y",
    "conditional": "x if y else 1",
    "assignment": "(z := x)",
    "xor": "x ^ 2",
    "floor division": "x // y",
    "matmul": "x @ y",
    "bitwise not": "~x",
    "tuple": "x, y",
    "syntax error": "x +* y",
    "statement": "import os",
    "empty": "   ",
    "deep nesting": "sin(" * 70 + "x" + ")" * 70,
    "too many parts": "x+" * 200 + "x",
    "over-long": "x + " * 200 + "x",
    "number too large": "1" * 400 + " * x",
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_grad_refuses_with_one_line_and_nonzero_exit(capsys, case):
    code, out, err = run_grad(capsys, REFUSED[case], "--at", "x=1,y=2")
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule grad: refused: "), err


@pytest.mark.parametrize("at", ["x=abc", "x", "1x=2", "x=1,x=2", "sin=1", "pi=3", "x=nan", "x=inf", "x.y=1"])
def test_grad_refuses_bad_values(capsys, at):
    code, out, err = run_grad(capsys, "x + 1", "--at", at)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "refused: --at" in err


def test_refusal_messages_name_the_problem():
    with pytest.raises(ExpressionError, match="unknown variable 'z'.*--at z="):
        Expression("x + z", ["x"])
    with pytest.raises(ExpressionError, match="attribute access"):
        Expression("x.real", ["x"])
    with pytest.raises(ExpressionError, match="exponent"):
        Expression("x ** 1e6", ["x"])
    with pytest.raises(ExpressionError, match=str(MAX_LENGTH)):
        Expression("x" * (MAX_LENGTH + 1), [])
    with pytest.raises(ExpressionError, match=r"write a power as \*\*"):
        Expression("x ^ 2", ["x"])


def test_expression_evaluates_without_eval():
    import chainrule as cr

    f = Expression("-x ** 2 + 3 * log(y) / 2", ["x", "y"])
    assert f.variables == ("x", "y")
    out = f(x=cr.tensor(2.0, dtype=cr.float64), y=cr.tensor(math.e, dtype=cr.float64))
    assert out.item() == pytest.approx(-4 + 1.5)
    assert parse_assignments("x=3, y=-4.5e0") == {"x": 3.0, "y": -4.5}
    # constant arithmetic is done in floating point: a big power overflows to inf, it never hangs
    assert Expression("10.0 ** 300 * 10.0 ** 300", [])() == math.inf


# ---------------------------------------------------------------------------------------------
# chainrule demo and the entry points
# ---------------------------------------------------------------------------------------------

def test_demo_runs_end_to_end(tmp_path):
    result = subprocess.run([sys.executable, "-m", "chainrule", "demo", "--out", str(tmp_path / "pictures")],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MISMATCH" not in result.stdout
    assert "all results match" in result.stdout
    checks = re.findall(r"\[ok\]$", result.stdout, flags=re.MULTILINE)
    assert len(checks) >= 20
    for section in ("detach", "control flow", "vector-Jacobian", "forward vs reverse", "numerical vs automatic",
                    "staged example", "picture of the graph", "trained by hand"):
        assert section in result.stdout, section
    assert "dx += " in result.stdout  # the explain output is shown
    pictures = tmp_path / "pictures"
    graph = pictures / ("staged_graph.svg" if shutil.which("dot") else "staged_graph.dot")
    assert graph.exists() and str(graph) in result.stdout
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in result.stdout
    else:
        for name in ("loss_curve.png", "tanh_derivatives.png"):
            assert (pictures / name).read_bytes()[:4] == b"\x89PNG", name


def test_demo_without_graphviz_writes_dot_and_says_how_to_render(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "chainrule", "demo", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=120, env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "staged_graph.dot").read_text().startswith("digraph")
    assert "dot -Tsvg" in result.stdout and "apt-get install graphviz" in result.stdout


def test_module_entry_point_runs_grad():
    result = subprocess.run([sys.executable, "-m", "chainrule", "grad", "x * x", "--at", "x=3"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert gradient_rows(result.stdout)["x"][0] == 6.0


@pytest.mark.skipif(shutil.which("chainrule") is None, reason="console script not installed")
def test_console_script_refuses_on_stderr():
    result = subprocess.run(["chainrule", "grad", "x.__class__", "--at", "x=1"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("chainrule grad: refused: attribute access")


def test_no_command_prints_help(capsys):
    assert main([]) == 0  # (issue 15: help asked for by running the bare command is no error)
    assert "demo" in capsys.readouterr().out


def test_demo_trains_with_a_progress_bar(tmp_path):
    """SPEC §8: the demo's training shows a progress bar (tqdm's, or the plain-text fallback)."""
    result = subprocess.run([sys.executable, "-m", "chainrule", "demo", "--out", str(tmp_path / "pictures")],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr  # tqdm writes to stderr
    assert re.search(r"training(:\s+100%\|| \[#+\])", output), output[-2000:]


def test_importing_chainrule_does_not_import_numpy_testing():
    """``numpy.testing`` (37 ms) is imported only when a tensor meets one of its functions."""
    code = ("import sys, chainrule; print('numpy.testing' in sys.modules); import numpy as np; "
            "np.testing.assert_allclose(chainrule.tensor([1.0]), [1.0]); print('served')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.split() == ["False", "served"]


def test_python_m_chainrule_without_arguments_prints_help_and_exits_0():
    result = subprocess.run([sys.executable, "-m", "chainrule"], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0 and "usage: chainrule" in result.stdout and "demo" in result.stdout


@pytest.mark.parametrize("expression, at, left, right", [
    ("relu(x)", "x=0", "0", "1"), ("abs(x) + y*y", "x=0,y=2", "-1", "1"), ("max(x, 2.0)", "x=2", "0", "1"),
])
def test_grad_at_a_kink_gives_both_one_sided_slopes(capsys, expression, at, left, right):
    assert main(["grad", expression, "--at", at]) == 0
    out = capsys.readouterr().out
    assert "not differentiable" in out and "relative error of 1" not in out and "DISAGREE" not in out
    assert f"the slope from the left is {left} and from the right is {right}" in out


def test_grad_with_a_nan_value_or_gradient_exits_non_zero(capsys):
    assert main(["grad", "log(x)", "--at", "x=-1"]) != 0
    assert "not finite" in capsys.readouterr().out
    assert main(["grad", "sqrt(x)", "--at", "x=0"]) != 0
    assert "not finite" in capsys.readouterr().out


def test_e_is_a_constant_beside_pi(capsys):
    assert main(["grad", "e ** x + pi", "--at", "x=1"]) == 0
    out = capsys.readouterr().out
    assert f"value        {math.e + math.pi!r}" in out
