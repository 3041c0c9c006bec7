"""Memory: what the graph keeps alive, when it lets go, and deep graphs without recursion."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import tracemalloc
import weakref

import numpy as np
import pytest

import chainrule as cr

N = 4096  # elements per array: far above the tiny values the graph keeps for pictures


@pytest.fixture
def no_gc():
    """Reference counting alone must free the graph: no cycles for the collector to find."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _array_ref(t):
    """A weak reference to the array holding ``t``'s values (shared, not copied)."""
    return weakref.ref(t.detach().numpy())


def _chain(x):
    """exp → sin → sum; returns the output and weak references to both intermediates' arrays."""
    h = cr.exp(x)      # exp saves its output h
    k = cr.sin(h)      # sin saves its input h
    y = (k * 2.0).sum()
    return y, _array_ref(h), _array_ref(k)


def test_saved_values_are_released_by_backward(no_gc):
    x = cr.randn(N, dtype=cr.float64, requires_grad=True)
    y, h_ref, k_ref = _chain(x)
    assert h_ref() is not None, "the graph should hold exp's output until backward"
    y.backward()
    assert h_ref() is None and k_ref() is None, "backward left saved arrays alive"
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(np.exp(x.detach().numpy())) * np.exp(x.detach().numpy()))
    assert y.grad_fn is not None  # the nodes themselves stay (as in PyTorch), just emptied


def test_retain_graph_keeps_saved_values_until_the_graph_is_dropped(no_gc):
    x = cr.randn(N, dtype=cr.float64, requires_grad=True)
    y, h_ref, _ = _chain(x)
    y.backward(retain_graph=True)
    assert h_ref() is not None
    y.backward()
    assert h_ref() is None


def test_graph_is_freed_when_dropped_without_backward(no_gc):
    x = cr.randn(N, dtype=cr.float64, requires_grad=True)
    y, h_ref, _ = _chain(x)
    node_ref = weakref.ref(y.grad_fn)
    del y
    assert node_ref() is None and h_ref() is None


def test_graph_is_freed_after_backward_and_drop(no_gc):
    x = cr.randn(N, dtype=cr.float64, requires_grad=True)
    y, _, _ = _chain(x)
    refs = []
    node = y.grad_fn
    while node is not None and not isinstance(node, cr.Tensor):
        refs.append(weakref.ref(node))
        parents = [p for p in node.next_functions if p is not None]
        node = parents[0] if parents else None
    assert len(refs) >= 3
    del node
    y.backward()
    del y
    assert all(r() is None for r in refs), "nodes survived: a reference cycle in the graph"
    assert x.grad is not None


def test_nothing_kept_alive_under_no_grad(no_gc):
    x = cr.randn(N, dtype=cr.float64, requires_grad=True)
    with cr.no_grad():
        h = cr.exp(x)
        ref = _array_ref(h)
        y = cr.sin(h)
    assert y.grad_fn is None and not y.requires_grad
    del h
    assert ref() is None, "an intermediate computed under no_grad is still referenced"
    # the same code with recording on keeps it (so the check above can fail)
    h = cr.exp(x)
    ref = _array_ref(h)
    y = cr.sin(h)
    del h
    assert ref() is not None


def test_no_grad_decorator_records_nothing(no_gc):
    x = cr.randn(N, dtype=cr.float64, requires_grad=True)

    @cr.no_grad()
    def step(t):
        return cr.tanh(t * 2.0) + 1.0

    out = step(x)
    assert out.grad_fn is None and not out.requires_grad


def test_saved_values_released_by_autograd_grad_and_transforms(no_gc):
    x = cr.randn(N, dtype=cr.float64, requires_grad=True)
    y, h_ref, _ = _chain(x)
    cr.autograd.grad(y, x)
    assert h_ref() is None
    refs = []

    def f(t):
        h = cr.exp(t)
        refs.append(_array_ref(h))
        return cr.sin(h).sum()

    g = cr.grad(f)(cr.randn(N, dtype=cr.float64))
    assert g.shape == (N,)
    assert refs[0]() is None, "cr.grad kept the traced graph alive"


def test_million_operation_chain_without_recursion():
    """SPEC §3: a chain of a million operations differentiates, and is freed, without recursion.

    Runs in a child process (the graph takes about 1 GB) with a recursion limit of 200, so any
    recursive walk, topological sort or deallocation would fail.
    """
    script = textwrap.dedent("""
        import sys, time, weakref
        import chainrule as cr
        sys.setrecursionlimit(200)
        start = time.perf_counter()
        x = cr.tensor(1.0, dtype=cr.float64, requires_grad=True)
        y = x
        for _ in range(1_000_000):
            y = y * 1.0000001
        built = time.perf_counter()
        y.backward()
        done = time.perf_counter()
        ref = weakref.ref(y.grad_fn)
        del y
        freed = ref() is None
        print(repr(x.grad.item()), freed, round(built - start, 2), round(done - built, 2))
    """)
    env = dict(os.environ)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180, env=env,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    grad, freed, forward_s, backward_s = result.stdout.split()
    assert float(grad) == pytest.approx(1.0000001 ** 1_000_000, rel=1e-9)
    assert freed == "True"
    print(f"1e6-op chain: forward {forward_s} s, backward {backward_s} s")


def _block(h):
    for _ in range(8):
        h = cr.tanh(h * 1.01 + 0.1)
    return h


def _held_bytes(make):
    """Bytes allocated (and still held) between the forward pass and backward."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        out = make()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return out, held


def test_checkpoint_holds_less_memory_between_forward_and_backward():
    data = np.random.default_rng(0).standard_normal(N * 4)
    x_plain = cr.tensor(data, requires_grad=True)
    x_ckpt = cr.tensor(data, requires_grad=True)
    y_plain, held_plain = _held_bytes(lambda: _block(_block(x_plain)).sum())
    y_ckpt, held_ckpt = _held_bytes(lambda: cr.checkpoint(_block, cr.checkpoint(_block, x_ckpt)).sum())
    array_bytes = data.nbytes
    assert held_plain > 10 * array_bytes  # 16 tanh outputs (at least) saved for backward
    assert held_ckpt < 4 * array_bytes, f"checkpoint held {held_ckpt / array_bytes:.1f} arrays"
    y_plain.backward()
    y_ckpt.backward()
    np.testing.assert_allclose(x_ckpt.grad.numpy(), x_plain.grad.numpy(), rtol=1e-13)


@pytest.fixture
def thresholds():
    from chainrule.core import graph

    graph._recorded = 0  # operations other tests recorded without a backward pass
    saved = gc.get_threshold()
    try:
        yield saved
    finally:
        gc.set_threshold(*saved)
        cr.autograd.set_gc_tuning(True)


def _long_chain(n):
    x = cr.tensor(1.0, dtype=cr.float64, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    return x, y


def test_collector_threshold_raised_while_a_large_graph_is_recorded(thresholds):
    from chainrule.core import collector as _collector

    gc.set_threshold(700, 10, 10)
    x, y = _long_chain(_collector.RAISE_AFTER // 2)
    assert gc.get_threshold() == (700, 10, 10)  # small graphs: nothing changes
    y.backward()
    x, y = _long_chain(_collector.RAISE_AFTER + 10)
    assert gc.get_threshold() == (_collector.RAISED_THRESHOLD, 10, 10)
    y.backward()
    assert gc.get_threshold() == (700, 10, 10)  # the backward pass puts it back
    assert x.grad.item() == pytest.approx(1.0001 ** (_collector.RAISE_AFTER + 10))


def test_collector_tuning_leaves_the_programs_own_settings_alone(thresholds):
    from chainrule.core import collector as _collector

    gc.set_threshold(500_000, 10, 10)  # the program's own, higher threshold
    _, y = _long_chain(_collector.RAISE_AFTER + 10)
    assert gc.get_threshold() == (500_000, 10, 10)
    y.backward()
    assert gc.get_threshold() == (500_000, 10, 10)

    gc.set_threshold(700, 10, 10)
    cr.autograd.set_gc_tuning(False)
    assert not cr.autograd.is_gc_tuning_enabled()
    _, y = _long_chain(_collector.RAISE_AFTER + 10)
    assert gc.get_threshold() == (700, 10, 10)
    y.backward()

    cr.autograd.set_gc_tuning(True)
    _, y = _long_chain(_collector.RAISE_AFTER + 10)
    assert gc.get_threshold()[0] == _collector.RAISED_THRESHOLD
    cr.autograd.set_gc_tuning(False)  # turning it off restores at once
    assert gc.get_threshold() == (700, 10, 10)
