"""The guided tour printed by ``chainrule demo``: each result beside the value it should have.

Sections follow the classic lessons: derivatives of ``2·x·x``, accumulation, ``detach``, control
flow, ``backward(v)`` as a vector–Jacobian product, forward against reverse mode, finite
differences against autodiff, a staged derivation with ``cr.explain``, a picture of the graph,
``f`` and its derivatives, and a small model trained by hand. Runs in seconds, offline.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

import chainrule as cr


class _Report:
    """Prints results beside their checks and remembers whether every one passed."""

    def __init__(self) -> None:
        self.ok = True

    def section(self, title: str) -> None:
        print(f"\n{title}")

    def check(self, label: str, got, expected, tol: float = 1e-6) -> bool:
        got_a = np.asarray(got.detach() if isinstance(got, cr.Tensor) else got, dtype=np.float64)
        exp_a = np.asarray(expected.detach() if isinstance(expected, cr.Tensor) else expected, dtype=np.float64)
        ok = got_a.shape == exp_a.shape and bool(np.allclose(got_a, exp_a, rtol=tol, atol=tol))
        self._line(label, _fmt(got_a), f"expected {_fmt(exp_a)}", ok)
        return ok

    def below(self, label: str, value: float, bound: float) -> bool:
        ok = bool(value < bound)
        self._line(label, f"{value:.1e}", f"below {bound:.0e}", ok)
        return ok

    def holds(self, label: str, shown: str, condition: bool, why: str) -> bool:
        self._line(label, shown, why, bool(condition))
        return bool(condition)

    def _line(self, label: str, got: str, expected: str, ok: bool) -> None:
        self.ok &= ok
        print(f"  {label:<38} {got:<26} {expected:<30} [{'ok' if ok else 'MISMATCH'}]")


def _grad_of(t: cr.Tensor) -> cr.Tensor:
    """``t.grad``, which the backward pass before has filled."""
    grad = t.grad
    if grad is None:
        raise RuntimeError("demo: backward() did not reach this tensor")
    return grad


def _fmt(a: np.ndarray) -> str:
    if a.ndim == 0:
        return f"{a.item():.6g}"
    return np.array2string(a, precision=4, suppress_small=True, separator=", ", threshold=5,
                           edgeitems=2, max_line_width=200)


def run(out: str = "chainrule-demo") -> int:
    """Run the tour, writing pictures into the folder ``out``; returns 0 when every check passes."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    report = _Report()
    print("chainrule demo: automatic differentiation, one idea at a time")
    print("(each result is printed beside the value it should have)")
    _basics(report)
    _modes(report)
    _numerical(report)
    staged = _staged(report)
    _picture(report, staged, folder)
    _derivative_plot(folder)
    _train(report, folder)
    print("\nall results match" if report.ok else "\nSOME RESULTS DID NOT MATCH")
    return 0 if report.ok else 1


# ---------------------------------------------------------------------------------------------
# Reverse mode, the PyTorch way
# ---------------------------------------------------------------------------------------------

def _basics(report: _Report) -> None:
    report.section("1. y = 2·x·x for x = [0, 1, 2, 3]: dy/dx = 4x")
    x = cr.arange(4.0, requires_grad=True)
    y = 2 * cr.dot(x, x)
    y.backward()
    report.check("y = 2 * dot(x, x)", y, 28.0)
    report.check("x.grad", x.grad, 4 * np.arange(4.0))

    report.section("2. gradients accumulate into .grad: zero them, then y = x.sum(): dy/dx = 1")
    _grad_of(x).zero_()
    x.sum().backward()
    report.check("x.grad", x.grad, np.ones(4))

    report.section("3. detach: y = x*x, u = y.detach(), z = u*x: u is a constant, so dz/dx = u")
    _grad_of(x).zero_()
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    report.check("x.grad", x.grad, u)
    _grad_of(x).zero_()
    y.sum().backward()
    report.check("y still differentiates: dy/dx = 2x", x.grad, 2 * np.arange(4.0))

    report.section("4. control flow: the graph is whatever ran (while b.norm() < 1000: b = b*2)")

    def f(a):
        b = a * 2
        while b.norm() < 1000:
            b = b * 2
        return b if b.sum() > 0 else 100 * b

    cr.manual_seed(0)
    a = cr.randn(size=(), requires_grad=True)
    d = f(a)
    d.backward()
    report.check("a.grad = d / a (f is linear in a)", a.grad, d / a)

    report.section("5. y.backward(v) is the vector-Jacobian product v·J, here for y = x*x (J = diag(2x))")
    x = cr.arange(4.0, requires_grad=True)
    y = x * x
    v = cr.tensor([1.0, 0.1, 0.01, 0.001])
    y.backward(v)
    report.check("x.grad = v * 2x", x.grad, np.array([1.0, 0.1, 0.01, 0.001]) * 2 * np.arange(4.0))
    jacobian = cr.jacrev(lambda t: t * t)(x.detach())
    report.check("same as v @ jacrev(f)(x)", x.grad, v.numpy() @ jacobian.numpy())


# ---------------------------------------------------------------------------------------------
# Forward against reverse mode
# ---------------------------------------------------------------------------------------------

def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - start) * 1e3


def _race(report: _Report, header: str, one_pass, n_passes, expected, claim: str) -> None:
    """Time ``one_pass`` then ``n_passes`` (each ``(label, kind, fn)``), print the times under
    ``header``, and check the first result against ``expected`` and the second against the first."""
    (label1, kind1, fn1), (label2, kind2, fn2) = one_pass, n_passes
    first, first_ms = _timed(fn1)
    second, second_ms = _timed(fn2)
    print(header)
    print(f"    {label1} {first_ms:8.2f} ms")
    print(f"    {label2} {second_ms:8.2f} ms")
    report.check(f"{kind1} = {claim}", first, expected, tol=1e-12)
    report.check(f"{kind2}, same values", second, first, tol=1e-12)


def _modes(report: _Report) -> None:
    n = 100
    report.section("6. forward vs reverse mode: each pass gives one row (reverse) or one column (forward) of J")
    x = cr.linspace(0.0, 2.0, n, dtype=cr.float64)

    def many_to_one(t):
        return (cr.sin(t) * t).sum()

    def reverse_gradient():
        _, pull = cr.vjp(many_to_one, x)
        return pull(cr.tensor(1.0, dtype=cr.float64))[0]

    def forward_gradient():
        basis = np.eye(n)
        return np.array([cr.jvp(many_to_one, (x,), (cr.tensor(e),))[1].item() for e in basis])

    _race(report, f"  f: R^{n} -> R, f(x) = sum(sin(x)·x)",
          ("reverse mode:   1 backward pass ", "reverse gradient", reverse_gradient),
          (f"forward mode: {n} forward passes", "forward gradient", forward_gradient),
          np.cos(x.numpy()) * x.numpy() + np.sin(x.numpy()), "cos(x)·x + sin(x)")

    t = cr.tensor(0.5, dtype=cr.float64)
    k = cr.arange(1.0, n + 1.0, dtype=cr.float64)

    def one_to_many(s):
        return cr.sin(k * s)

    def forward_jacobian():
        return cr.jvp(one_to_many, (t,), (cr.tensor(1.0, dtype=cr.float64),))[1]

    def reverse_jacobian():
        _, pull = cr.vjp(one_to_many, t)
        return np.array([pull(cr.tensor(e))[0].item() for e in np.eye(n)])

    _race(report, f"  g: R -> R^{n}, g(t) = sin(k·t) for k = 1..{n}",
          ("forward mode:   1 forward pass  ", "forward Jacobian", forward_jacobian),
          (f"reverse mode: {n} backward passes", "reverse Jacobian", reverse_jacobian),
          k.numpy() * np.cos(k.numpy() * 0.5), "k·cos(k·t)")
    print("  rule: reverse mode for many inputs and few outputs (losses), forward mode for the opposite")


# ---------------------------------------------------------------------------------------------
# Finite differences against autodiff
# ---------------------------------------------------------------------------------------------

def _numerical(report: _Report) -> None:
    report.section("7. numerical vs automatic: d/dx [sin(x)·exp(x)] at x = 1 in float64")

    def f(x):
        return cr.sin(x) * cr.exp(x)

    exact = (np.cos(1.0) + np.sin(1.0)) * np.e
    auto = cr.grad(f)(cr.tensor(1.0, dtype=cr.float64)).item()
    report.below("automatic (reverse mode)", cr.numerical.relative_error(auto, exact), 1e-15)
    bounds = {"forward": 1e-6, "backward": 1e-6, "central": 1e-9, "richardson": 1e-11}
    orders = {"forward": "O(h)", "backward": "O(h)", "central": "O(h^2)", "richardson": "O(h^4)"}
    for method, bound in bounds.items():
        value = cr.numerical.derivative(f, 1.0, method=method)
        error = cr.numerical.relative_error(value, exact)
        report.below(f"{method:<10} {orders[method]:<6} = {value:.12f}", error, bound)
    print("  finite differences lose digits to the step h; autodiff is exact up to rounding")


# ---------------------------------------------------------------------------------------------
# A staged derivation and its picture
# ---------------------------------------------------------------------------------------------

def _staged(report: _Report):
    report.section("8. the staged example: f(x, y) = (x + σ(y)) / (σ(x) + (x + y)²) at x = 3, y = -4")
    x = cr.tensor(3.0, dtype=cr.float64, requires_grad=True)
    y = cr.tensor(-4.0, dtype=cr.float64, requires_grad=True)
    sigy = cr.sigmoid(y)
    num = x + sigy
    sigx = cr.sigmoid(x)
    xpy = x + y
    xpy_sq = xpy ** 2
    den = sigx + xpy_sq
    invden = 1.0 / den
    f = num * invden
    code = cr.explain(f)
    f.backward(retain_graph=True)
    print("  cr.explain(f) writes the derivation as code:\n")
    print("    " + code.replace("\n", "\n    ").rstrip())
    namespace: dict = {}
    exec(compile(code, "<cr.explain>", "exec"), namespace)  # noqa: S102 (running the staged code is the check)
    report.check("staged dx = x.grad", namespace["dx"], x.grad)
    report.check("staged dy = y.grad", namespace["dy"], y.grad)

    def as_function(a, b):
        return (a + cr.sigmoid(b)) / (cr.sigmoid(a) + (a + b) ** 2)

    numeric = [cr.numerical.derivative(lambda t: as_function(t, y.detach()), 3.0),
               cr.numerical.derivative(lambda t: as_function(x.detach(), t), -4.0)]
    report.check("x.grad, y.grad vs finite differences", [_grad_of(x).item(), _grad_of(y).item()], numeric, tol=1e-8)
    return f, {"x": x, "y": y, "sigy": sigy, "num": num, "sigx": sigx, "xpy": xpy,
               "xpy_sq": xpy_sq, "den": den, "invden": invden, "f": f}


def _picture(report: _Report, staged, folder: Path) -> None:
    report.section("9. a picture of the graph: values flow up, gradients flow back down")
    f, names = staged
    if shutil.which("dot") is not None:
        path = cr.viz.render(f, folder / "staged_graph.svg", names=names)
        print(f"  wrote {path} (Graphviz)")
    else:
        path = cr.viz.render(f, folder / "staged_graph.dot", names=names)
        print(f"  wrote {path}; Graphviz's dot is not installed, so render it with")
        print(f"    dot -Tsvg {path} -o {path.with_suffix('.svg')}")
        print("  after installing Graphviz (apt-get install graphviz, brew install graphviz, or conda)")
    text = cr.viz.to_dot(f, names=names)
    boxes = text.count("label=<")
    report.holds("boxes: 2 inputs + 8 operations", str(boxes), boxes == 10, "one per leaf and operation")


def _derivative_plot(folder: Path) -> None:
    print("\n10. f and its derivatives, each computed by differentiating the one before")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("  skipped: matplotlib is not installed (pip install \"chainrule[demo]\")")
        return
    fig = cr.plot.function_and_derivatives(cr.tanh, -4.0, 4.0, order=3, title="tanh and its derivatives")
    path = folder / "tanh_derivatives.png"
    fig.savefig(path, dpi=110)
    print(f"  wrote {path}")


# ---------------------------------------------------------------------------------------------
# A small model, trained by hand
# ---------------------------------------------------------------------------------------------

def _progress(steps: int):
    """tqdm's bar when it is installed, else a plain text bar; ``update(loss)`` once per step."""
    try:
        from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]  # untyped where installed
    except ImportError:
        return _TextBar(steps)
    bar = tqdm(total=steps, desc="  training", ncols=80, leave=True)

    class _Tqdm:
        def update(self, loss: float) -> None:
            bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            bar.update(1)

        def close(self) -> None:
            bar.close()

    return _Tqdm()


class _TextBar:
    def __init__(self, steps: int, width: int = 30) -> None:
        self.steps, self.width, self.done = steps, width, 0

    def update(self, loss: float) -> None:
        self.done += 1
        if self.done % max(1, self.steps // 20) == 0 or self.done == self.steps:
            filled = self.width * self.done // self.steps
            print(f"\r  training [{'#' * filled}{'.' * (self.width - filled)}] "
                  f"{self.done}/{self.steps} loss {loss:.4f}", end="", flush=True)

    def close(self) -> None:
        print()


def _train(report: _Report, folder: Path) -> None:
    report.section("11. a small model trained by hand: y = sin(x) with one hidden layer of 16 tanh units")
    cr.manual_seed(0)
    xs = cr.linspace(-3.0, 3.0, 64).reshape(64, 1)
    ys = cr.sin(xs)
    w1 = (cr.randn(1, 16) * 1.0).requires_grad_()
    b1 = cr.zeros(16, requires_grad=True)
    w2 = (cr.randn(16, 1) * 0.25).requires_grad_()
    b2 = cr.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]
    velocities = [cr.zeros_like(p) for p in params]
    steps, lr, momentum = 800, 0.05, 0.9
    print(f"  gradient descent with momentum by hand: v = {momentum}·v + grad; p -= {lr}·v")
    losses = []
    bar = _progress(steps)
    for _ in range(steps):
        prediction = cr.tanh(xs @ w1 + b1) @ w2 + b2
        loss = ((prediction - ys) ** 2).mean()
        loss.backward()
        with cr.no_grad():
            for p, v in zip(params, velocities):
                v.mul_(momentum).add_(_grad_of(p))
                p -= lr * v
                p.grad = None
        losses.append(loss.item())
        bar.update(losses[-1])
    bar.close()
    report.holds("loss: first -> last", f"{losses[0]:.4f} -> {losses[-1]:.4f}",
                 losses[-1] < losses[0] / 20, "falls more than 20-fold")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("  loss curve skipped: matplotlib is not installed (pip install \"chainrule[demo]\")")
        return
    path = folder / "loss_curve.png"
    cr.plot.loss_curve(losses, title="training loss (mean squared error)").savefig(path, dpi=110)
    print(f"  wrote {path}")
