"""The compiled workloads W1c–W8c: each eager workload's computation through ``cr.jit``, with
JAX's ``jax.jit`` as the peer, against the same hand-written NumPy reference.

Written JAX-style on both sides: a function of plain tensors (not ``requires_grad``) that returns
the value and the gradients (``cr.jit(cr.value_and_grad(loss))(params, data)``), so the compiled
call records nothing. The first call of each process traces and compiles (the worker reports it
as ``first_call_s``); the timed samples are the steady state after it. Each builder first
compiles a trivial function, so one-time library start-up (JAX's backend, chainrule's code
generator) is not counted as the workload's trace and compile time.

JAX is optional: its builders import it (``jax_enable_x64`` on, for the float64 workloads) and
raise ``NotAvailable`` when it is not importable; ``worker`` sets its thread count through
``XLA_FLAGS`` before importing it.
"""

from __future__ import annotations

import numpy as np

from .workloads import (
    NotAvailable,
    Workload,
    _add,
    _ops_w1,
    _rosenbrock,
    _w8_numpy,
    w1_data,
    w1_numpy,
    w2_data,
    w2_numpy,
    w3_data,
    w3_numpy,
    w4_data,
    w4_numpy,
    w5_data,
    w5_numpy,
    w6_data,
    w6_numpy,
    w7_data,
    w7_numpy,
    w8_data,
)

COMPILED_SYSTEMS = ("numpy", "chainrule", "jax")


def _cr():
    """chainrule, with its jit machinery started once (a trivial function compiled)."""
    import chainrule as cr

    cr.jit(lambda a: a * 2.0 + 1.0)(cr.tensor(np.zeros(2)))
    return cr


def _jax():
    """(jax, jax.numpy) with float64 enabled and the backend started; NotAvailable without JAX."""
    try:
        import jax
    except ImportError as exc:
        raise NotAvailable(f"JAX is not importable ({exc}); pip install jax") from None
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    jax.block_until_ready(jax.jit(lambda a: a * 2.0 + 1.0)(jnp.zeros(2)))
    return jax, jnp


def _np(a):
    return np.asarray(a)


def jit_status(jf, args) -> dict:
    """How ``cr.jit`` ran ``jf(*args)``: traces, equations traced and kept, and whether calls
    fall back to eager mode (and why). Reads ``Jitted``'s internals: a diagnostic only."""
    from chainrule.compile import jit as _jit

    info = {"traces": jf.traces}
    entries = [e for cached in jf._cache.values() for e in cached]
    if any(e is _jit._EAGER for e in entries):
        info["fallback"] = "eager on every call: f does what compiled code cannot repeat (see its warning)"
        return info
    graph = jf.graph(*args)
    info.update(traced_equations=graph.traced_equations, equations=len(graph.equations),
                captured=len(graph.captured))
    needy = [str(v) for v, t in graph.captured if t._requires_grad or t._tangents is not None]
    if needy:
        info["fallback"] = (f"eager on every call: captured tensor(s) {', '.join(needy)} carry a graph or "
                            f"tangents (an intermediate of the trace captured as a closure)")
    return info


def _with_status(step, jf, *args):
    """``step`` carrying ``jit_status`` (the worker reports it beside the times)."""
    step.jit_status = lambda: jit_status(jf, args)
    step.jitted, step.args = jf, args
    return step


# =============================================================================================
# W1c: the 1000-op tanh chain, value and gradient of x
# =============================================================================================

def _w1_loss(tanh, steps):
    def loss(x):
        y = x
        for _ in range(steps):
            y = tanh(y * 1.01 + 0.1)
        return y.sum()
    return loss


def w1c_chainrule(cfg, data):
    cr = _cr()
    x = cr.tensor(data["x"])
    jf = cr.jit(cr.value_and_grad(_w1_loss(cr.tanh, cfg["steps"])))

    def step():
        value, g = jf(x)
        return value.item(), g.numpy()

    return _with_status(step, jf, x)


def w1c_jax(cfg, data):
    jax, jnp = _jax()
    x = jnp.asarray(data["x"])
    jf = jax.jit(jax.value_and_grad(_w1_loss(jnp.tanh, cfg["steps"])))

    def step():
        value, g = jax.block_until_ready(jf(x))
        return float(value), _np(g)

    return step


# =============================================================================================
# W2c: the 0-d function, value and both partials
# =============================================================================================

def _w2_f(sigmoid):
    def f(x, y):
        s = x + y
        return (x + sigmoid(y)) / (sigmoid(x) + s * s)
    return f


def w2c_chainrule(cfg, data):
    cr = _cr()
    x = cr.tensor(np.array(data["x"]))
    y = cr.tensor(np.array(data["y"]))
    jf = cr.jit(cr.value_and_grad(_w2_f(cr.sigmoid), argnums=(0, 1)))

    def step():
        value, (gx, gy) = jf(x, y)
        return value.item(), gx.item(), gy.item()

    return _with_status(step, jf, x, y)


def w2c_jax(cfg, data):
    jax, jnp = _jax()
    x = jnp.asarray(data["x"], dtype=jnp.float64)
    y = jnp.asarray(data["y"], dtype=jnp.float64)
    jf = jax.jit(jax.value_and_grad(_w2_f(jax.nn.sigmoid), argnums=(0, 1)))

    def step():
        value, (gx, gy) = jax.block_until_ready(jf(x, y))
        return float(value), float(gx), float(gy)

    return step


# =============================================================================================
# W3c: the MLP's loss and its six gradients (a jitted value_and_grad over a tuple of parameters)
# =============================================================================================

def _w3_params(cfg, data, tensor):
    params = []
    for i in range(len(cfg["sizes"]) - 1):
        params += [tensor(data[f"W{i}"]), tensor(data[f"b{i}"])]
    return tuple(params)


def _w3_loss(relu, cross_entropy):
    def loss(params, X, labels):
        layers = len(params) // 2
        h = X
        for i in range(layers):
            h = h @ params[2 * i] + params[2 * i + 1]
            if i < layers - 1:
                h = relu(h)
        return cross_entropy(h, labels)
    return loss


def w3c_chainrule(cfg, data):
    cr = _cr()
    params = _w3_params(cfg, data, cr.tensor)
    X, labels = cr.tensor(data["X"]), cr.tensor(data["labels"])
    jf = cr.jit(cr.value_and_grad(_w3_loss(cr.relu, cr.nn.functional.cross_entropy)))

    def step():
        value, grads = jf(params, X, labels)
        return (value.item(), *[g.numpy() for g in grads])

    return _with_status(step, jf, params, X, labels)


def w3c_jax(cfg, data):
    jax, jnp = _jax()
    params = _w3_params(cfg, data, jnp.asarray)
    X, labels = jnp.asarray(data["X"]), jnp.asarray(data["labels"])

    def cross_entropy(logits, labels):
        logp = jax.nn.log_softmax(logits, axis=1)
        return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))

    jf = jax.jit(jax.value_and_grad(_w3_loss(jax.nn.relu, cross_entropy)))

    def step():
        value, grads = jax.block_until_ready(jf(params, X, labels))
        return (float(value), *[_np(g) for g in grads])

    return step


# =============================================================================================
# W4c: 2048² float32, sum(tanh(tanh(X@W1)@W2)@W3), gradients of W1..W3
# =============================================================================================

def _w4_loss(tanh):
    def loss(Ws, X):
        return (tanh(tanh(X @ Ws[0]) @ Ws[1]) @ Ws[2]).sum()
    return loss


def w4c_chainrule(cfg, data):
    cr = _cr()
    X = cr.tensor(data["X"])
    Ws = tuple(cr.tensor(data[f"W{i}"]) for i in (1, 2, 3))
    jf = cr.jit(cr.value_and_grad(_w4_loss(cr.tanh)))

    def step():
        value, grads = jf(Ws, X)
        return (float(value.item()), *[g.numpy() for g in grads])

    return _with_status(step, jf, Ws, X)


def w4c_jax(cfg, data):
    jax, jnp = _jax()
    X = jnp.asarray(data["X"])
    Ws = tuple(jnp.asarray(data[f"W{i}"]) for i in (1, 2, 3))
    jf = jax.jit(jax.value_and_grad(_w4_loss(jnp.tanh)))

    def step():
        value, grads = jax.block_until_ready(jf(Ws, X))
        return (float(value), *[_np(g) for g in grads])

    return step


# =============================================================================================
# W5c: the 100,000-link scalar chain (trace + compile reported apart from the steady state)
# =============================================================================================

def _w5_f(n):
    def f(x):
        y = x
        for _ in range(n):
            y = y * 0.9999 + 0.0001
        return y
    return f


def w5c_chainrule(cfg, data):
    cr = _cr()
    x = cr.tensor(np.array(data["x"]))
    jf = cr.jit(cr.value_and_grad(_w5_f(cfg["length"])))

    def step():
        value, g = jf(x)
        return value.item(), g.item()

    return _with_status(step, jf, x)


def w5c_jax(cfg, data):
    jax, jnp = _jax()
    x = jnp.asarray(data["x"], dtype=jnp.float64)
    jf = jax.jit(jax.value_and_grad(_w5_f(cfg["length"])))

    def step():
        value, g = jax.block_until_ready(jf(x))
        return float(value), float(g)

    return step


# =============================================================================================
# W6c: peak memory of the deep tanh network, float32
# =============================================================================================

def _w6_loss(tanh):
    def loss(Ws, X):
        h = X
        for W in Ws:
            h = tanh(h @ W)
        return h.sum()
    return loss


def w6c_chainrule(cfg, data):
    cr = _cr()
    X = cr.tensor(data["X"])
    Ws = tuple(cr.tensor(data[f"W{i}"]) for i in range(cfg["layers"]))
    jf = cr.jit(cr.value_and_grad(_w6_loss(cr.tanh)))

    def step():
        value, grads = jf(Ws, X)
        return (float(value.item()), *[g.numpy() for g in grads])

    return _with_status(step, jf, Ws, X)


def w6c_jax(cfg, data):
    jax, jnp = _jax()
    X = jnp.asarray(data["X"])
    Ws = tuple(jnp.asarray(data[f"W{i}"]) for i in range(cfg["layers"]))
    jf = jax.jit(jax.value_and_grad(_w6_loss(jnp.tanh)))

    def step():
        value, grads = jax.block_until_ready(jf(Ws, X))
        return (float(value), *[_np(g) for g in grads])

    return step


# =============================================================================================
# W7c: Hessian-vector product of Rosenbrock, value and H·v
# =============================================================================================

def w7c_chainrule(cfg, data):
    cr = _cr()
    x, v = cr.tensor(data["x"]), cr.tensor(data["v"])
    jf = cr.jit(lambda x, v: cr.hvp(_rosenbrock, (x,), (v,)))

    def step():
        value, hv = jf(x, v)
        if isinstance(hv, (tuple, list)):
            hv = hv[0]
        return value.item(), hv.numpy()

    return _with_status(step, jf, x, v)


def w7c_jax(cfg, data):
    jax, jnp = _jax()
    x, v = jnp.asarray(data["x"]), jnp.asarray(data["v"])

    def hvp(x, v):
        return _rosenbrock(x), jax.jvp(jax.grad(_rosenbrock), (x,), (v,))[1]

    jf = jax.jit(hvp)

    def step():
        value, hv = jax.block_until_ready(jf(x, v))
        return float(value), _np(hv)

    return step


# =============================================================================================
# W8c: Jacobian of tanh(A @ x), reverse and forward mode (A an argument, not a constant)
# =============================================================================================

def _w8c_chainrule(mode):
    def build(cfg, data):
        cr = _cr()
        A, x = cr.tensor(data["A"]), cr.tensor(data["x"])
        tanh = cr.tanh
        jf = cr.jit(getattr(cr, mode)(lambda v, A: tanh(A @ v)))

        def step():
            return (jf(x, A).numpy(),)

        return _with_status(step, jf, x, A)

    return build


def _w8c_jax(mode):
    def build(cfg, data):
        jax, jnp = _jax()
        A, x = jnp.asarray(data["A"]), jnp.asarray(data["x"])
        tanh = jnp.tanh
        jf = jax.jit(getattr(jax, mode)(lambda v, A: tanh(A @ v)))

        def step():
            return (_np(jax.block_until_ready(jf(x, A))),)

        return step

    return build


# =============================================================================================
# The table
# =============================================================================================

_TINY_W3 = {"sizes": (12, 8, 8, 3), "batch": 6}
_W3 = {"sizes": (784, 256, 256, 10), "batch": 128}

_add(Workload(
    "W1c", "W1 compiled: value_and_grad of the 1000-op tanh chain of x (16,)", "float64", "us/op",
    {"full": {"n": 16, "steps": 1000}, "quick": {"n": 16, "steps": 1000}, "tiny": {"n": 16, "steps": 20}},
    w1_data, {"numpy": w1_numpy, "chainrule": w1c_chainrule, "jax": w1c_jax},
    target=("ratio", 1.0), per=_ops_w1, systems=COMPILED_SYSTEMS,
    notes="cr.jit(cr.value_and_grad(loss))(x); jax.jit(jax.value_and_grad(loss))(x)",
    extra={"compiled": True},
))
_add(Workload(
    "W2c", "W2 compiled: value and both partials of the 0-d function", "float64", "us",
    {"full": {}, "quick": {}, "tiny": {}},
    w2_data, {"numpy": w2_numpy, "chainrule": w2c_chainrule, "jax": w2c_jax},
    target=("abs", 3.0), systems=COMPILED_SYSTEMS,
    notes="cr.jit(cr.value_and_grad(f, argnums=(0, 1)))(x, y) on 0-d tensors",
    extra={"compiled": True},
))
_add(Workload(
    "W3c", "W3 compiled: MLP loss and its six gradients, value_and_grad over a tuple of parameters",
    "float32", "ms",
    {"full": _W3, "quick": _W3, "tiny": _TINY_W3},
    w3_data, {"numpy": w3_numpy, "chainrule": w3c_chainrule, "jax": w3c_jax},
    target=("ratio", 0.8), rtol=2e-4, systems=COMPILED_SYSTEMS,
    notes="no optimizer update (the same computation as W3)",
    extra={"compiled": True},
))
_add(Workload(
    "W4c", "W4 compiled: 2048^2 float32, sum(tanh(tanh(X@W1)@W2)@W3), grads of W1..W3", "float32", "ms",
    {"full": {"n": 2048}, "quick": {"n": 2048}, "tiny": {"n": 24}},
    w4_data, {"numpy": w4_numpy, "chainrule": w4c_chainrule, "jax": w4c_jax},
    rtol=2e-4, value_rtol=1e-2, systems=COMPILED_SYSTEMS,
    extra={"compiled": True},
))
_add(Workload(
    "W5c", "W5 compiled: the 100,000-link scalar chain, value_and_grad", "float64", "s",
    {"full": {"length": 100_000}, "quick": {"length": 100_000}, "tiny": {"length": 300}},
    w5_data, {"numpy": w5_numpy, "chainrule": w5c_chainrule, "jax": w5c_jax},
    target=("compile", 3.0, 0.05), systems=COMPILED_SYSTEMS,
    notes="target: trace + compile (the first call) <= 3 s, later calls <= 50 ms",
    extra={"compiled": True},
))
_add(Workload(
    "W6c", "W6 compiled: peak memory, 8 layers tanh(h@W), width 2048, batch 512", "float32", "MiB",
    {"full": {"width": 2048, "batch": 512, "layers": 8},
     "quick": {"width": 2048, "batch": 512, "layers": 8},
     "tiny": {"width": 16, "batch": 4, "layers": 3}},
    w6_data, {"numpy": w6_numpy, "chainrule": w6c_chainrule, "jax": w6c_jax},
    target=("ratio", 1.0), rtol=2e-4, value_rtol=1e-2, kind="memory", systems=COMPILED_SYSTEMS,
    notes="the first (traced) call is the warm-up; the peak is the second call's",
    extra={"compiled": True},
))
_add(Workload(
    "W7c", "W7 compiled: Hessian-vector product of Rosenbrock, n = 1000", "float64", "us",
    {"full": {"n": 1000}, "quick": {"n": 1000}, "tiny": {"n": 8}},
    w7_data, {"numpy": w7_numpy, "chainrule": w7c_chainrule, "jax": w7c_jax},
    target=("ratio", 1.5), rtol=1e-10, systems=COMPILED_SYSTEMS,
    notes="cr.jit(lambda x, v: cr.hvp(f, (x,), (v,))); JAX: f(x) and jvp(grad(f)) in one jit",
    extra={"compiled": True},
))
_add(Workload(
    "W8c-rev", "W8 compiled: Jacobian of tanh(A@x), A 200x200 (an argument), jacrev", "float64", "ms",
    {"full": {"n": 200}, "quick": {"n": 200}, "tiny": {"n": 6}},
    w8_data, {"numpy": _w8_numpy("jacrev"), "chainrule": _w8c_chainrule("jacrev"), "jax": _w8c_jax("jacrev")},
    target=("ratio", 1.0), rtol=1e-10, systems=COMPILED_SYSTEMS,
    extra={"compiled": True},
))
_add(Workload(
    "W8c-fwd", "W8 compiled: Jacobian of tanh(A@x), A 200x200 (an argument), jacfwd", "float64", "ms",
    {"full": {"n": 200}, "quick": {"n": 200}, "tiny": {"n": 6}},
    w8_data, {"numpy": _w8_numpy("jacfwd"), "chainrule": _w8c_chainrule("jacfwd"), "jax": _w8c_jax("jacfwd")},
    target=("ratio", 1.0), rtol=1e-10, systems=COMPILED_SYSTEMS,
    extra={"compiled": True},
))
