"""The benchmark workloads: one NumPy reference, one chainrule and one PyTorch version each.

Every ``build_<system>(cfg, data)`` returns a ``step()`` callable that runs one forward and
backward pass and returns the results (value and gradients) as a tuple of NumPy arrays or
floats; the worker cross-checks those against the NumPy reference's before timing anything.

The NumPy references are hand-derived and allocate like a careful person would (``out=`` where
it is natural, in-place updates of buffers the code owns, freeing activations as soon as the
backward pass is done with them), so they are the fair baseline on machines where touching fresh
memory is expensive (see ``/work/shared/BENCHMARKING.md``).

Inputs are made from a fixed seed in the worker, so every process of every system sees the
same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

SYSTEMS = ("numpy", "chainrule", "torch")   # the eager workloads'
ALL_SYSTEMS = SYSTEMS + ("jax",)            # jax: the compiled workloads' peer (benchmarks/compiled.py)


class NotAvailable(Exception):
    """The system lacks the API this workload needs (reported, not a failure)."""


@dataclass
class Workload:
    key: str
    title: str
    dtype: str
    unit: str                      # how times are shown: "us/op", "us", "ms", "s"
    sizes: dict                    # mode ("full", "quick", "tiny") -> cfg dict
    make_data: Callable            # (cfg, rng) -> dict of NumPy arrays / floats
    builders: dict                 # system -> (cfg, data) -> step
    target: tuple | None = None    # ("abs", value in `unit`) or ("ratio", value)
    per: Callable | None = None    # cfg -> divisor turning seconds per call into the unit's base
    rtol: float = 1e-9             # cross-check tolerance (norm-relative, per output)
    value_rtol: float | None = None  # tolerance for scalar outputs (float32 sums of millions of terms)
    kind: str = "time"             # "time" or "memory"
    systems: tuple = SYSTEMS
    reference_system: str = "numpy"
    notes: str = ""
    peer_ref: float | None = None  # the NumPy reference peers measured on this kind of machine, in `unit`
    extra: dict = field(default_factory=dict)


def _sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


# =============================================================================================
# W1: small-op overhead
# =============================================================================================

def w1_data(cfg, rng):
    return {"x": rng.standard_normal(cfg["n"])}


def w1_numpy(cfg, data):
    x0, steps = data["x"], cfg["steps"]
    tanh, multiply, add, subtract = np.tanh, np.multiply, np.add, np.subtract

    def step():
        # Forward: 3 ops per step, each writing into the buffer it produced (one new array a step).
        outs = []
        y = x0
        for _ in range(steps):
            t = multiply(y, 1.01)
            add(t, 0.1, out=t)
            tanh(t, out=t)
            outs.append(t)
            y = t
        # Backward: d tanh = 1 - y², d(y*1.01) = 1.01, accumulated in one buffer.
        value = y.sum()
        g = np.ones_like(x0)
        tmp = np.empty_like(x0)
        for y in reversed(outs):
            multiply(y, y, out=tmp)
            subtract(1.0, tmp, out=tmp)
            multiply(g, tmp, out=g)
            multiply(g, 1.01, out=g)
        return value, g

    return step


def w1_chainrule(cfg, data):
    import chainrule as cr

    steps = cfg["steps"]
    x = cr.tensor(data["x"], requires_grad=True)
    tanh = cr.tanh

    def step():
        x.grad = None
        y = x
        for _ in range(steps):
            y = tanh(y * 1.01 + 0.1)
        s = y.sum()
        s.backward()
        return s.item(), x.grad.numpy()

    return step


def w1_torch(cfg, data):
    import torch

    steps = cfg["steps"]
    x = torch.tensor(data["x"], requires_grad=True)
    tanh = torch.tanh

    def step():
        x.grad = None
        y = x
        for _ in range(steps):
            y = tanh(y * 1.01 + 0.1)
        s = y.sum()
        s.backward()
        return s.item(), x.grad.numpy()

    return step


# W1 without recording: the plain NumPy loop a person writes when no gradient is wanted.

def w1ng_numpy(cfg, data):
    x0, steps = data["x"], cfg["steps"]
    tanh = np.tanh

    def step():
        y = x0
        for _ in range(steps):
            y = tanh(y * 1.01 + 0.1)
        return (y,)

    return step


def w1ng_chainrule(cfg, data):
    import chainrule as cr

    steps = cfg["steps"]
    x = cr.tensor(data["x"])
    tanh = cr.tanh

    def step():
        with cr.no_grad():
            y = x
            for _ in range(steps):
                y = tanh(y * 1.01 + 0.1)
        return (y.numpy(),)

    return step


def w1ng_torch(cfg, data):
    import torch

    steps = cfg["steps"]
    x = torch.tensor(data["x"])
    tanh = torch.tanh

    def step():
        with torch.no_grad():
            y = x
            for _ in range(steps):
                y = tanh(y * 1.01 + 0.1)
        return (y.numpy(),)

    return step


# =============================================================================================
# W2: scalar function, value and both partials
# =============================================================================================

def w2_data(cfg, rng):
    return {"x": 3.0, "y": -4.0}


def w2_numpy(cfg, data):
    x, y = data["x"], data["y"]
    exp = math.exp

    def step():
        sx = 1.0 / (1.0 + exp(-x))
        sy = 1.0 / (1.0 + exp(-y))
        s = x + y
        num = x + sy
        den = sx + s * s
        value = num / den
        inv2 = 1.0 / (den * den)
        dx = (den - num * (sx * (1.0 - sx) + 2.0 * s)) * inv2
        dy = (sy * (1.0 - sy) * den - num * 2.0 * s) * inv2
        return value, dx, dy

    return step


def w2_chainrule(cfg, data):
    import chainrule as cr

    x = cr.tensor(np.array(data["x"]), requires_grad=True)
    y = cr.tensor(np.array(data["y"]), requires_grad=True)
    sigmoid = cr.sigmoid

    def step():
        x.grad = None
        y.grad = None
        s = x + y
        f = (x + sigmoid(y)) / (sigmoid(x) + s * s)
        f.backward()
        return f.item(), x.grad.item(), y.grad.item()

    return step


def w2_torch(cfg, data):
    import torch

    x = torch.tensor(data["x"], dtype=torch.float64, requires_grad=True)
    y = torch.tensor(data["y"], dtype=torch.float64, requires_grad=True)
    sigmoid = torch.sigmoid

    def step():
        x.grad = None
        y.grad = None
        s = x + y
        f = (x + sigmoid(y)) / (sigmoid(x) + s * s)
        f.backward()
        return f.item(), x.grad.item(), y.grad.item()

    return step


# =============================================================================================
# W3: MLP gradient step (forward, softmax cross-entropy, backward), float32
# =============================================================================================

def w3_data(cfg, rng):
    sizes, batch = cfg["sizes"], cfg["batch"]
    data = {
        "X": rng.standard_normal((batch, sizes[0])).astype(np.float32),
        "labels": rng.integers(0, sizes[-1], size=batch).astype(np.int64),
    }
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        data[f"W{i}"] = (rng.standard_normal((a, b)) * math.sqrt(2.0 / a)).astype(np.float32)
        data[f"b{i}"] = (rng.standard_normal(b) * 0.1).astype(np.float32)
    return data


def _layers(cfg):
    return len(cfg["sizes"]) - 1


def w3_numpy(cfg, data):
    L = _layers(cfg)
    X, labels = data["X"], data["labels"]
    Ws = [data[f"W{i}"] for i in range(L)]
    bs = [data[f"b{i}"] for i in range(L)]
    batch = X.shape[0]
    rows = np.arange(batch)

    def step():
        acts = [X]
        h = X
        for i in range(L):
            z = h @ Ws[i]
            z += bs[i]
            if i < L - 1:
                np.maximum(z, 0, out=z)
            acts.append(z)
            h = z
        logits = acts.pop()
        # softmax cross-entropy, mean over the batch
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(total[:, 0]) - shifted[rows, labels]))
        e /= total                              # softmax, in place
        e[rows, labels] -= 1.0
        e *= 1.0 / batch                        # dL/dlogits
        g = e
        grads = [None] * (2 * L)
        for i in reversed(range(L)):
            a = acts.pop()
            grads[2 * i] = a.T @ g
            grads[2 * i + 1] = g.sum(axis=0)
            if i > 0:
                g = g @ Ws[i].T
                g *= a > 0                      # ReLU mask from its own output
        return (loss, *grads)

    return step


def _w3_autograd(cfg, data, X, labels, tensor, relu, cross_entropy):
    """The W3 step for a PyTorch-like library: ``tensor(array, requires_grad=True)`` makes the
    parameters, ``X`` and ``labels`` are already that library's tensors."""
    L = _layers(cfg)
    params = []
    for i in range(L):
        params.append(tensor(data[f"W{i}"], requires_grad=True))
        params.append(tensor(data[f"b{i}"], requires_grad=True))

    def step():
        for p in params:
            p.grad = None
        h = X
        for i in range(L):
            h = h @ params[2 * i] + params[2 * i + 1]
            if i < L - 1:
                h = relu(h)
        loss = cross_entropy(h, labels)
        loss.backward()
        return (loss.item(), *[p.grad.numpy() for p in params])

    return step


def w3_chainrule(cfg, data):
    import chainrule as cr

    return _w3_autograd(cfg, data, cr.tensor(data["X"]), cr.tensor(data["labels"]), cr.tensor,
                        cr.relu, cr.nn.functional.cross_entropy)


def w3_torch(cfg, data):
    import torch

    return _w3_autograd(cfg, data, torch.from_numpy(data["X"]), torch.from_numpy(data["labels"]),
                        torch.tensor, torch.relu, torch.nn.functional.cross_entropy)


# =============================================================================================
# W4: large float32 matrices, sum(tanh(tanh(X@W1)@W2)@W3), gradients of W1..W3
# =============================================================================================

def w4_data(cfg, rng):
    n = cfg["n"]
    scale = 1.0 / math.sqrt(n)
    return {
        "X": rng.standard_normal((n, n)).astype(np.float32),
        **{f"W{i}": (rng.standard_normal((n, n)) * scale).astype(np.float32) for i in (1, 2, 3)},
    }


def w4_numpy(cfg, data):
    X, W1, W2, W3 = data["X"], data["W1"], data["W2"], data["W3"]
    tanh, multiply, subtract = np.tanh, np.multiply, np.subtract

    def step():
        T1 = X @ W1
        tanh(T1, out=T1)
        T2 = T1 @ W2
        tanh(T2, out=T2)
        out = T2 @ W3
        value = float(out.sum(dtype=np.float64))
        out.fill(1.0)                              # d sum / d out, in the buffer out no longer needs
        G = out
        dW3 = T2.T @ G
        dT2 = G @ W3.T
        del G, out
        multiply(T2, T2, out=T2)                   # 1 - T2², in T2's own buffer
        subtract(1.0, T2, out=T2)
        dT2 *= T2
        del T2
        dW2 = T1.T @ dT2
        dT1 = dT2 @ W2.T
        del dT2
        multiply(T1, T1, out=T1)
        subtract(1.0, T1, out=T1)
        dT1 *= T1
        del T1
        dW1 = X.T @ dT1
        return value, dW1, dW2, dW3

    return step


def w4_chainrule(cfg, data):
    import chainrule as cr

    X = cr.tensor(data["X"])
    Ws = [cr.tensor(data[f"W{i}"], requires_grad=True) for i in (1, 2, 3)]
    tanh = cr.tanh

    def step():
        for w in Ws:
            w.grad = None
        loss = (tanh(tanh(X @ Ws[0]) @ Ws[1]) @ Ws[2]).sum()
        loss.backward()
        return (float(loss.item()), *[w.grad.numpy() for w in Ws])

    return step


def w4_torch(cfg, data):
    import torch

    X = torch.from_numpy(data["X"])
    Ws = [torch.tensor(data[f"W{i}"], requires_grad=True) for i in (1, 2, 3)]
    tanh = torch.tanh

    def step():
        for w in Ws:
            w.grad = None
        loss = (tanh(tanh(X @ Ws[0]) @ Ws[1]) @ Ws[2]).sum()
        loss.backward()
        return (float(loss.item()), *[w.grad.numpy() for w in Ws])

    return step


# =============================================================================================
# W5: a long scalar chain, y = y*0.9999 + 0.0001 repeated `length` times (2 ops each)
# =============================================================================================

def w5_data(cfg, rng):
    return {"x": 0.5}


def w5_numpy(cfg, data):
    x0, n = data["x"], cfg["length"]

    def step():
        y = x0
        for _ in range(n):
            y = y * 0.9999 + 0.0001
        g = 1.0
        for _ in range(n):       # the chain rule, link by link (not the closed form 0.9999**n)
            g *= 0.9999
        return y, g

    return step


def w5_chainrule(cfg, data):
    import chainrule as cr

    n = cfg["length"]
    x = cr.tensor(np.array(data["x"]), requires_grad=True)

    def step():
        x.grad = None
        y = x
        for _ in range(n):
            y = y * 0.9999 + 0.0001
        y.backward()
        return y.item(), x.grad.item()

    return step


def w5_torch(cfg, data):
    import torch

    n = cfg["length"]
    x = torch.tensor(data["x"], dtype=torch.float64, requires_grad=True)

    def step():
        x.grad = None
        y = x
        for _ in range(n):
            y = y * 0.9999 + 0.0001
        y.backward()
        return y.item(), x.grad.item()

    return step


# =============================================================================================
# W6: peak memory of a deep tanh network, float32
# =============================================================================================

def w6_data(cfg, rng):
    width, batch, layers = cfg["width"], cfg["batch"], cfg["layers"]
    scale = 1.0 / math.sqrt(width)
    data = {"X": rng.standard_normal((batch, width)).astype(np.float32)}
    for i in range(layers):
        data[f"W{i}"] = (rng.standard_normal((width, width)) * scale).astype(np.float32)
    return data


def w6_numpy(cfg, data):
    layers = cfg["layers"]
    X = data["X"]
    Ws = [data[f"W{i}"] for i in range(layers)]
    multiply, subtract = np.multiply, np.subtract

    def step():
        acts = [X]
        h = X
        for W in Ws:
            h = h @ W
            np.tanh(h, out=h)
            acts.append(h)
        value = float(h.sum(dtype=np.float64))
        del h
        G = None
        grads = [None] * layers
        for i in reversed(range(layers)):
            H = acts.pop()
            multiply(H, H, out=H)                  # 1 - H², in H's own buffer
            subtract(1.0, H, out=H)
            if G is None:
                G = H                              # d sum / dH = 1, so dZ = 1 - H²
            else:
                G *= H
            del H
            grads[i] = acts[-1].T @ G
            if i > 0:
                G = G @ Ws[i].T
        return (value, *grads)

    return step


def w6_chainrule(cfg, data):
    import chainrule as cr

    X = cr.tensor(data["X"])
    Ws = [cr.tensor(data[f"W{i}"], requires_grad=True) for i in range(cfg["layers"])]
    tanh = cr.tanh

    def step():
        for w in Ws:
            w.grad = None
        h = X
        for W in Ws:
            h = tanh(h @ W)
        loss = h.sum()
        del h
        loss.backward()
        return (float(loss.item()), *[w.grad.numpy() for w in Ws])

    return step


def w6_torch(cfg, data):
    import torch

    X = torch.from_numpy(data["X"])
    Ws = [torch.tensor(data[f"W{i}"], requires_grad=True) for i in range(cfg["layers"])]
    tanh = torch.tanh

    def step():
        for w in Ws:
            w.grad = None
        h = X
        for W in Ws:
            h = tanh(h @ W)
        loss = h.sum()
        del h
        loss.backward()
        return (float(loss.item()), *[w.grad.numpy() for w in Ws])

    return step


# =============================================================================================
# W7: Hessian-vector product of the Rosenbrock function
# =============================================================================================

def w7_data(cfg, rng):
    n = cfg["n"]
    return {"x": rng.uniform(-1.5, 1.5, n), "v": rng.standard_normal(n)}


def w7_numpy(cfg, data):
    x, v = data["x"], data["v"]

    def step():
        a, b = x[:-1], x[1:]
        r = b - a * a
        value = float(100.0 * (r @ r) + ((1.0 - a) @ (1.0 - a)))
        # H is tridiagonal: H_ii = 1200 x_i² - 400 x_{i+1} + 2 (i < n-1) + 200 (i > 0),
        # H_{i,i+1} = H_{i+1,i} = -400 x_i.
        diag = np.empty_like(x)
        diag[:-1] = a * a
        diag[:-1] *= 1200.0
        diag[:-1] -= 400.0 * b
        diag[:-1] += 2.0
        diag[-1] = 0.0
        diag[1:] += 200.0
        off = -400.0 * a
        hv = diag * v
        hv[:-1] += off * v[1:]
        hv[1:] += off * v[:-1]
        return value, hv

    return step


def _rosenbrock(x):
    a, b = x[:-1], x[1:]
    return (100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2).sum()


def w7_chainrule(cfg, data):
    import chainrule as cr

    try:
        hvp = cr.hvp
    except (AttributeError, ImportError) as exc:
        raise NotAvailable(f"cr.hvp: {exc}") from None
    x = cr.tensor(data["x"])
    v = cr.tensor(data["v"])

    def step():
        value, hv = hvp(_rosenbrock, (x,), (v,))
        if isinstance(hv, (tuple, list)):
            hv = hv[0]
        return float(np.asarray(value)), np.asarray(hv)

    return step


def w7_torch(cfg, data):
    import torch
    from torch.autograd.functional import hvp

    x = torch.from_numpy(data["x"])
    v = torch.from_numpy(data["v"])

    def step():
        value, hv = hvp(_rosenbrock, x, v)
        return float(value), hv.numpy()

    return step


# =============================================================================================
# W8: Jacobian of tanh(A @ x), reverse and forward mode
# =============================================================================================

def w8_data(cfg, rng):
    n = cfg["n"]
    return {"A": rng.standard_normal((n, n)) / math.sqrt(n), "x": rng.standard_normal(n)}


def _w8_numpy(mode):
    """Hand-written forward + backward with the whole identity as the batch of seeds, as an
    autodiff pass computes a Jacobian (the closed form diag(1 - tanh²(Ax)) A skips the seeds)."""

    def build(cfg, data):
        A, x = data["A"], data["x"]
        seeds = np.eye(A.shape[1])

        def reverse():
            d = A @ x
            np.tanh(d, out=d)
            np.multiply(d, d, out=d)
            np.subtract(1.0, d, out=d)                 # tanh' = 1 - tanh²
            return ((seeds * d) @ A,)                  # rows: (e_i · tanh') A

        def forward():
            d = A @ x
            np.tanh(d, out=d)
            np.multiply(d, d, out=d)
            np.subtract(1.0, d, out=d)
            out = A @ seeds                            # columns: A e_j
            out *= d[:, None]
            return (out,)

        return reverse if mode == "jacrev" else forward

    return build


def _w8_chainrule(mode):
    def build(cfg, data):
        import chainrule as cr

        try:
            jac = getattr(cr, mode)
        except (AttributeError, ImportError) as exc:
            raise NotAvailable(f"cr.{mode}: {exc}") from None
        A = cr.tensor(data["A"])
        x = cr.tensor(data["x"])
        tanh = cr.tanh
        jf = jac(lambda v: tanh(A @ v))

        def step():
            return (np.asarray(jf(x)),)

        return step

    return build


def _w8_torch(mode):
    def build(cfg, data):
        import torch
        import torch.func

        A = torch.from_numpy(data["A"])
        x = torch.from_numpy(data["x"])
        tanh = torch.tanh
        jf = getattr(torch.func, mode)(lambda v: tanh(A @ v))

        def step():
            return (jf(x).numpy(),)

        return step

    return build


# =============================================================================================
# W9: per-example gradients (vmap of grad) of a small MLP's squared error
# =============================================================================================

def w9_data(cfg, rng):
    b, d, h = cfg["batch"], cfg["features"], cfg["hidden"]
    return {"X": rng.standard_normal((b, d)), "y": rng.standard_normal(b),
            "W1": rng.standard_normal((d, h)) / math.sqrt(d), "b1": 0.1 * rng.standard_normal(h),
            "w2": rng.standard_normal(h) / math.sqrt(h)}


def w9_numpy(cfg, data):
    """Per-example gradients by hand, all examples at once: loss_i = (tanh(x_i W1 + b1) · w2 - y_i)²."""
    X, y, W1, b1, w2 = data["X"], data["y"], data["W1"], data["b1"], data["w2"]

    def step():
        H = X @ W1
        H += b1
        np.tanh(H, out=H)
        r = H @ w2
        r -= y
        r *= 2.0
        g_w2 = H * r[:, None]
        dZ = np.multiply(H, H)
        np.subtract(1.0, dZ, out=dZ)
        dZ *= r[:, None] * w2
        g_W1 = X[:, :, None] * dZ[:, None, :]
        return (g_W1, dZ, g_w2)

    return step


def _w9_loss(tanh):
    def loss(p, x, y):
        return ((tanh(x @ p["W1"] + p["b1"]) * p["w2"]).sum() - y) ** 2
    return loss


def w9_chainrule(cfg, data):
    import chainrule as cr

    if not hasattr(cr, "vmap"):
        raise NotAvailable("cr.vmap")
    params = {k: cr.tensor(data[k]) for k in ("W1", "b1", "w2")}
    X, y = cr.tensor(data["X"]), cr.tensor(data["y"])
    per_example = cr.vmap(cr.grad(_w9_loss(cr.tanh)), in_axes=(None, 0, 0))

    def step():
        g = per_example(params, X, y)
        return (g["W1"].numpy(), g["b1"].numpy(), g["w2"].numpy())

    return step


def w9loop_chainrule(cfg, data):
    import chainrule as cr

    params = {k: cr.tensor(data[k]) for k in ("W1", "b1", "w2")}
    X, y = cr.tensor(data["X"]), cr.tensor(data["y"])
    grad = cr.grad(_w9_loss(cr.tanh))

    def step():
        gs = [grad(params, X[i], y[i]) for i in range(X.shape[0])]
        return tuple(np.stack([g[k].numpy() for g in gs]) for k in ("W1", "b1", "w2"))

    return step


def w9_torch(cfg, data):
    import torch
    import torch.func

    params = {k: torch.from_numpy(data[k]) for k in ("W1", "b1", "w2")}
    X, y = torch.from_numpy(data["X"]), torch.from_numpy(data["y"])
    per_example = torch.func.vmap(torch.func.grad(_w9_loss(torch.tanh)), in_dims=(None, 0, 0))

    def step():
        g = per_example(params, X, y)
        return (g["W1"].numpy(), g["b1"].numpy(), g["w2"].numpy())

    return step


# =============================================================================================
# The table
# =============================================================================================

def _ops_w1(cfg):
    return 3 * cfg["steps"]


WORKLOADS: dict[str, Workload] = {}


def _add(w: Workload) -> None:
    WORKLOADS[w.key] = w


_add(Workload(
    "W1", "small-op overhead: x (16,), 1000x y = tanh(y*1.01 + 0.1), sum, d/dx", "float64", "us/op",
    {"full": {"n": 16, "steps": 1000}, "quick": {"n": 16, "steps": 1000}, "tiny": {"n": 16, "steps": 20}},
    w1_data, {"numpy": w1_numpy, "chainrule": w1_chainrule, "torch": w1_torch},
    target=("abs", 3.0), per=_ops_w1,
    notes="time per call / (3 x steps) operations",
    peer_ref=0.95,
))
_add(Workload(
    "W1-nograd", "W1's forward loop under no_grad vs the raw NumPy loop", "float64", "us/op",
    {"full": {"n": 16, "steps": 1000}, "quick": {"n": 16, "steps": 1000}, "tiny": {"n": 16, "steps": 20}},
    w1_data, {"numpy": w1ng_numpy, "chainrule": w1ng_chainrule, "torch": w1ng_torch},
    target=("ratio", 1.5), per=_ops_w1,
    notes="reference is the plain loop `y = np.tanh(y*1.01 + 0.1)`",
))
_add(Workload(
    "W2", "scalar f(x,y) = (x + s(y)) / (s(x) + (x+y)^2) at (3,-4), value + both partials", "float64", "us",
    {"full": {}, "quick": {}, "tiny": {}},
    w2_data, {"numpy": w2_numpy, "chainrule": w2_chainrule, "torch": w2_torch},
    target=("abs", 40.0), notes="reference uses plain Python floats",
    peer_ref=0.36,
))
_add(Workload(
    "W3", "MLP 784-256-256-10, batch 128, ReLU, softmax cross-entropy: forward + backward", "float32", "ms",
    {"full": {"sizes": (784, 256, 256, 10), "batch": 128},
     "quick": {"sizes": (784, 256, 256, 10), "batch": 128},
     "tiny": {"sizes": (12, 8, 8, 3), "batch": 6}},
    w3_data, {"numpy": w3_numpy, "chainrule": w3_chainrule, "torch": w3_torch},
    target=("ratio", 1.15), rtol=2e-4,
    peer_ref=1.76,
))
_add(Workload(
    "W4", "2048^2 matrices: sum(tanh(tanh(X@W1)@W2)@W3), grads of W1..W3", "float32", "ms",
    {"full": {"n": 2048}, "quick": {"n": 2048}, "tiny": {"n": 24}},
    w4_data, {"numpy": w4_numpy, "chainrule": w4_chainrule, "torch": w4_torch},
    target=("ratio", 1.05), rtol=2e-4, value_rtol=1e-2,
))
_add(Workload(
    "W5", "scalar chain y = y*0.9999 + 0.0001, 100,000 links (200,000 ops), d/dx", "float64", "s",
    {"full": {"length": 100_000}, "quick": {"length": 100_000}, "tiny": {"length": 300}},
    w5_data, {"numpy": w5_numpy, "chainrule": w5_chainrule, "torch": w5_torch},
    target=("abs", 0.4), notes="reference uses plain Python floats",
    peer_ref=0.0022,
))
_add(Workload(
    "W5-1M", "the same chain with 1,000,000 links: linear in length?", "float64", "s",
    {"full": {"length": 1_000_000}, "quick": {"length": 1_000_000}, "tiny": {"length": 3000}},
    w5_data, {"numpy": w5_numpy, "chainrule": w5_chainrule},
    target=("linear", 1.25), systems=("numpy", "chainrule"),
    notes="target: chainrule's time per link at 1M within 1.25x of its time per link at 100k "
          "(both lengths alternate in the same processes)",
    extra={"paired_with": "W5"},
))
_add(Workload(
    "W6", "peak memory: 8 layers tanh(h@W), width 2048, batch 512, grads of all W", "float32", "MiB",
    {"full": {"width": 2048, "batch": 512, "layers": 8},
     "quick": {"width": 2048, "batch": 512, "layers": 8},
     "tiny": {"width": 16, "batch": 4, "layers": 3}},
    w6_data, {"numpy": w6_numpy, "chainrule": w6_chainrule, "torch": w6_torch},
    target=("ratio", 1.10), rtol=2e-4, value_rtol=1e-2, kind="memory",
    notes="VmHWM of the second call minus VmRSS after imports and inputs",
))
_add(Workload(
    "W7", "Hessian-vector product of Rosenbrock, n = 1000", "float64", "us",
    {"full": {"n": 1000}, "quick": {"n": 1000}, "tiny": {"n": 8}},
    w7_data, {"numpy": w7_numpy, "chainrule": w7_chainrule, "torch": w7_torch},
    target=("abs", 100.0), rtol=1e-10,
    notes="chainrule: cr.hvp; torch: torch.autograd.functional.hvp",
    peer_ref=9.6,
))
_add(Workload(
    "W8-rev", "Jacobian of tanh(A@x), A 200x200, reverse mode (jacrev)", "float64", "ms",
    {"full": {"n": 200}, "quick": {"n": 200}, "tiny": {"n": 6}},
    w8_data, {"numpy": _w8_numpy("jacrev"), "chainrule": _w8_chainrule("jacrev"), "torch": _w8_torch("jacrev")},
    target=("ratio", 1.5), rtol=1e-10,
    notes="reference: forward, then the identity pulled back by hand, (I * tanh'(Ax)) @ A; "
          "torch: torch.func.jacrev",
    peer_ref=0.86,
))
_add(Workload(
    "W8-fwd", "Jacobian of tanh(A@x), A 200x200, forward mode (jacfwd)", "float64", "ms",
    {"full": {"n": 200}, "quick": {"n": 200}, "tiny": {"n": 6}},
    w8_data, {"numpy": _w8_numpy("jacfwd"), "chainrule": _w8_chainrule("jacfwd"), "torch": _w8_torch("jacfwd")},
    target=("ratio", 1.5), rtol=1e-10,
    notes="reference: the identity pushed forward by hand, tanh'(Ax)[:, None] * (A @ I); "
          "torch: torch.func.jacfwd",
    peer_ref=0.86,
))
_add(Workload(
    "W9", "per-example gradients: vmap(grad(loss)) of an MLP 32-64-1, batch 128", "float64", "ms",
    {"full": {"batch": 128, "features": 32, "hidden": 64}, "quick": {"batch": 128, "features": 32, "hidden": 64},
     "tiny": {"batch": 4, "features": 3, "hidden": 5}},
    w9_data, {"numpy": w9_numpy, "chainrule": w9_chainrule, "torch": w9_torch},
    target=("ratio", 3.0), rtol=1e-10,
    notes="reference: the per-example gradients by hand, all examples at once; chainrule: "
          "cr.vmap(cr.grad(loss), in_axes=(None, 0, 0)); torch: torch.func.vmap(torch.func.grad(...))",
))
_add(Workload(
    "W9-loop", "the same per-example gradients by a Python loop of cr.grad over the examples", "float64", "ms",
    {"full": {"batch": 128, "features": 32, "hidden": 64}, "quick": {"batch": 128, "features": 32, "hidden": 64},
     "tiny": {"batch": 4, "features": 3, "hidden": 5}},
    w9_data, {"numpy": w9_numpy, "chainrule": w9loop_chainrule},
    systems=("numpy", "chainrule"), rtol=1e-10,
    notes="what vmap replaces: one cr.grad call per example",
))


# The compiled variants W1c–W8c (cr.jit against jax.jit) register themselves here.
from . import compiled as _compiled  # noqa: E402,F401
