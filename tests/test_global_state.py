"""State beyond one call: anomaly and grad mode (per thread), the collector policy (process-wide,
shared safely between threads), the default dtype and the random seed (global, as PyTorch's).

Threads meet at barriers so that each test forces the interleaving it is about.
"""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import detect_anomaly, is_anomaly_enabled
from chainrule.core import collector as _collector
from chainrule.core import graph

TIMEOUT = 30  # seconds any barrier or join may wait: a failure, never a hang


def _run_threads(*targets):
    """Run each target in its own thread; re-raise the first exception one of them raised."""
    errors = []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - reported to the test below
                errors.append(exc)
        return run

    threads = [threading.Thread(target=wrap(fn), daemon=True) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive(), "a thread did not finish (deadlock?)"
    if errors:
        raise errors[0]


# ---------------------------------------------------------------------------------------------
# anomaly mode
# ---------------------------------------------------------------------------------------------

def _enter(ctx):
    ctx.__enter__()


def _exit(ctx):
    ctx.__exit__(None, None, None)


@pytest.mark.parametrize("modes", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("outer", [False, True])
def test_anomaly_out_of_order_exits_leave_the_mode_as_it_was(modes, outer):
    base = detect_anomaly() if outer else detect_anomaly(check_nan=False)
    with base:
        before = is_anomaly_enabled()
        a, b = detect_anomaly(check_nan=modes[0]), detect_anomaly(check_nan=modes[1])
        _enter(a)
        assert is_anomaly_enabled() is modes[0]
        _enter(b)
        assert is_anomaly_enabled() is modes[1]
        _exit(a)                                   # out of order: b is still open
        assert is_anomaly_enabled() is modes[1]
        _exit(b)
        assert is_anomaly_enabled() is before
    assert not is_anomaly_enabled()


def test_anomaly_in_order_nesting_restores_each_level():
    with detect_anomaly():
        with detect_anomaly(check_nan=False):
            assert not is_anomaly_enabled()
            with detect_anomaly():
                assert is_anomaly_enabled()
            assert not is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()


def test_anomaly_same_instance_nested_and_three_deep_out_of_order():
    ctx = detect_anomaly()
    with ctx:
        with ctx:
            assert is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    a, b, c = detect_anomaly(), detect_anomaly(check_nan=False), detect_anomaly()
    for x in (a, b, c):
        _enter(x)
    _exit(b)
    assert is_anomaly_enabled()                    # c, the innermost, still decides
    _exit(c)
    assert is_anomaly_enabled()                    # back to what b found: a's mode
    _exit(a)
    assert not is_anomaly_enabled()


def test_anomaly_exit_without_entry_in_this_thread_is_an_error():
    ctx = detect_anomaly()
    with pytest.raises(RuntimeError, match="detect_anomaly: exited in a thread where it is not open"):
        _exit(ctx)
    _enter(ctx)
    failure = []
    _run_threads(lambda: failure.append(pytest.raises(RuntimeError, _exit, ctx)))
    assert is_anomaly_enabled()                    # the other thread's exit changed nothing here
    _exit(ctx)
    assert not is_anomaly_enabled()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_one_threads_anomaly_mode_does_not_make_anothers_backward_raise():
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    seen = {}

    def checking():
        with detect_anomaly():
            barrier.wait()                         # 1: anomaly mode on here
            barrier.wait()                         # 2: the other thread has run its backward
            x = cr.tensor([0.0, 1.0], requires_grad=True)
            with pytest.raises(RuntimeError, match="sqrt"):
                cr.sqrt(x).sum().backward()
            seen["checking"] = is_anomaly_enabled()

    def plain():
        barrier.wait()                             # 1
        seen["plain mode"] = is_anomaly_enabled()
        x = cr.tensor([0.0, 1.0], requires_grad=True)
        cr.sqrt(x).sum().backward()                # inf gradient, silently, as without anomaly mode
        seen["plain grad"] = x.grad.numpy().copy()
        barrier.wait()                             # 2

    _run_threads(checking, plain)
    assert seen["plain mode"] is False and seen["checking"] is True
    assert np.isinf(seen["plain grad"][0]) and seen["plain grad"][1] == 0.5
    assert not is_anomaly_enabled()


def test_anomaly_decorator_shared_by_threads_running_at_once():
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    seen = []

    @detect_anomaly()
    def inside(first):
        barrier.wait()                             # both threads inside the same instance
        if first:
            barrier.wait()                         # the second has left
        seen.append(is_anomaly_enabled())
        if not first:
            barrier.wait()

    def after(first):
        inside(first)
        seen.append(is_anomaly_enabled())

    _run_threads(lambda: after(True), lambda: after(False))
    assert seen == [True, False, True, False]


def test_shared_grad_mode_context_restores_each_threads_own_mode():
    shared = cr.enable_grad()
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    seen = {}

    def grad_on():
        with shared:                               # saves True
            barrier.wait()                         # 1
            barrier.wait()                         # 2: the other thread entered too (saving False)
        seen["on"] = cr.is_grad_enabled()
        barrier.wait()                             # 3

    def grad_off():
        with cr.no_grad():
            barrier.wait()                         # 1
            with shared:
                barrier.wait()                     # 2
                barrier.wait()                     # 3: the first thread has left `shared`
            seen["off"] = cr.is_grad_enabled()

    _run_threads(grad_on, grad_off)
    assert seen == {"on": True, "off": False}
    assert cr.is_grad_enabled()


def test_grad_mode_exit_in_the_wrong_thread_is_an_error():
    ctx = cr.no_grad()
    with ctx:
        _run_threads(lambda: pytest.raises(RuntimeError, _exit, ctx))
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()


# ---------------------------------------------------------------------------------------------
# the collector policy
# ---------------------------------------------------------------------------------------------

START = (700, 10, 10)


@pytest.fixture
def collector():
    graph._recorded = 0  # operations other tests recorded without a backward pass
    saved, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(*START)
    try:
        yield
    finally:
        gc.set_threshold(*saved)
        gc.enable() if enabled else gc.disable()
        cr.autograd.set_gc_tuning(True)
        assert _collector._paused == 0 and _collector._saved is None


def _chain(n=_collector.PAUSE_AFTER + 100, hook=None):
    """A chain of ``n`` multiplications; ``hook`` runs in the middle of its backward pass."""
    x = cr.tensor(1.0, dtype=cr.float64, requires_grad=True)
    y = x
    for i in range(n):
        y = y * 1.0001
        if i == n // 2 and hook is not None:
            y.register_hook(lambda g: hook())
    return x, y


def test_backward_never_enables_a_collector_another_thread_disabled(collector):
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    seen = {}

    def hook():
        seen["during"] = gc.get_threshold()
        barrier.wait()                             # 1: the backward pass is under way
        barrier.wait()                             # 2: the other thread disabled the collector

    def differentiate():
        x, y = _chain(hook=hook)
        y.backward()
        seen["grad"] = x.grad.item()

    def disable():
        barrier.wait()                             # 1
        gc.disable()
        barrier.wait()                             # 2

    _run_threads(differentiate, disable)
    assert not gc.isenabled()                      # the program's choice stands
    assert seen["during"] == (_collector.PAUSED_THRESHOLD, 10, 10)
    assert gc.get_threshold() == START
    assert seen["grad"] == pytest.approx(1.0001 ** (_collector.PAUSE_AFTER + 100))


def test_backward_leaves_a_disabled_collector_disabled(collector):
    gc.disable()
    _, y = _chain()
    y.backward()
    assert not gc.isenabled() and gc.get_threshold() == START


@pytest.mark.parametrize("first_to_end", ["a", "b"])
def test_overlapping_backward_passes_restore_when_the_last_one_ends(collector, first_to_end):
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    seen = {}

    def make_hook(name):
        def hook():
            barrier.wait()                         # 1: both backward passes under way
            if name == first_to_end:
                return                             # ends its pass, then meets the other at 2
            barrier.wait()                         # 2: the other pass has ended
            seen["while the other ran"] = gc.get_threshold()
        return hook

    def differentiate(name):
        _, y = _chain(hook=make_hook(name))
        y.backward()
        if name == first_to_end:
            barrier.wait()                         # 2

    _run_threads(lambda: differentiate("a"), lambda: differentiate("b"))
    assert seen["while the other ran"][0] == _collector.PAUSED_THRESHOLD
    assert gc.get_threshold() == START


def test_a_threshold_the_program_sets_during_backward_is_kept(collector):
    _, y = _chain(hook=lambda: gc.set_threshold(5_000, 20, 20))
    y.backward()
    assert gc.get_threshold() == (5_000, 20, 20)
    _, y = _chain()                                # the policy works again afterwards
    y.backward()
    assert gc.get_threshold() == (5_000, 20, 20)


def test_recording_in_one_thread_and_backward_in_another(collector):
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    seen = {}

    def record():
        x, y = _chain(_collector.RAISE_AFTER + 10)
        seen["recorded"] = gc.get_threshold()
        barrier.wait()                             # 1: a large graph is recorded
        barrier.wait()                             # 2: a small backward pass elsewhere has ended
        y.backward()
        seen["grad"] = x.grad.item()

    def small_backward():
        barrier.wait()                             # 1
        x = cr.tensor(2.0, requires_grad=True)
        (x * x).backward()
        seen["small"] = gc.get_threshold()
        barrier.wait()                             # 2

    _run_threads(record, small_backward)
    assert seen["recorded"][0] == _collector.RAISED_THRESHOLD
    assert seen["small"] == START                  # a backward pass ends the raise
    assert gc.get_threshold() == START
    assert seen["grad"] == pytest.approx(1.0001 ** (_collector.RAISE_AFTER + 10))


def test_tuning_off_leaves_the_thresholds_alone_during_backward(collector):
    cr.autograd.set_gc_tuning(False)
    seen = []
    _, y = _chain(hook=lambda: seen.append(gc.get_threshold()))
    y.backward()
    assert seen == [START] and gc.get_threshold() == START


def test_many_threads_recording_and_differentiating_at_once(collector):
    barrier = threading.Barrier(4, timeout=TIMEOUT)
    grads = []

    def work():
        barrier.wait()
        for _ in range(3):
            x, y = _chain()
            y.backward()
            grads.append(x.grad.item())

    _run_threads(*[work] * 4)
    assert gc.get_threshold() == START and gc.isenabled()
    assert grads == pytest.approx([1.0001 ** (_collector.PAUSE_AFTER + 100)] * 12)


# ---------------------------------------------------------------------------------------------
# default dtype and random seed: global to the process, as in PyTorch
# ---------------------------------------------------------------------------------------------

def test_default_dtype_is_global_to_all_threads():
    assert cr.get_default_dtype() == cr.float32
    seen = {}
    try:
        _run_threads(lambda: cr.set_default_dtype(cr.float64))
        assert cr.get_default_dtype() == cr.float64            # set in another thread, seen here
        assert cr.tensor(1.5).dtype == cr.float64
        _run_threads(lambda: seen.setdefault("there", cr.tensor([1.0]).dtype))
        assert seen["there"] == cr.float64
    finally:
        cr.set_default_dtype(cr.float32)
    assert cr.tensor(1.5).dtype == cr.float32


def test_manual_seed_applies_to_every_thread():
    cr.manual_seed(7)
    expected = cr.randn(5).numpy()
    cr.manual_seed(7)
    drawn = []
    _run_threads(lambda: drawn.append(cr.randn(5).numpy()))
    np.testing.assert_array_equal(drawn[0], expected)
    seen = []
    _run_threads(lambda: cr.manual_seed(11))               # seeded in another thread
    seen.append(cr.rand(3).numpy())
    cr.manual_seed(11)
    np.testing.assert_array_equal(seen[0], cr.rand(3).numpy())


def test_threads_drawing_at_once_share_one_stream():
    cr.manual_seed(3)
    sequential = {cr.randn(1000).numpy().tobytes() for _ in range(4)}
    cr.manual_seed(3)
    barrier = threading.Barrier(4, timeout=TIMEOUT)
    drawn = []

    def draw():
        barrier.wait()
        drawn.append(cr.randn(1000).numpy().tobytes())

    _run_threads(*[draw] * 4)
    # Each draw is whole (the generator has a lock); which thread got which depends on timing.
    assert set(drawn) == sequential
