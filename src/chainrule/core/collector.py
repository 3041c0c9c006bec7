"""How chainrule treats Python's cyclic garbage collector while a large graph is alive.

Every recorded operation leaves a few GC-tracked objects (a node, its edges) alive until the
backward pass. CPython runs a young-generation collection every 700 new tracked objects and
a full one whenever the survivors grow by a quarter, so a graph of a million operations is
traversed again and again while it is built (40% of the time of a 100,000-link scalar chain),
and again while the backward pass allocates its gradients.

Policy: once more than ``RAISE_AFTER`` operations have been recorded since the last backward
pass, the first-generation threshold is raised to ``RAISED_THRESHOLD`` (cyclic garbage is still
collected, in larger batches); a backward pass over at least ``PAUSE_AFTER`` nodes sets it to
``PAUSED_THRESHOLD`` (no automatic collection) while it runs; the end of a backward pass puts
the program's thresholds back. ``set_gc_tuning(False)`` turns the policy off (and restores the
thresholds at once).

The collector's settings are process-wide, so the policy is written for several threads:

- Only the first-generation threshold is ever changed; chainrule never calls ``gc.enable`` or
  ``gc.disable``, so a collector that the program (any thread) disabled stays disabled.
- Holders are counted under a lock: the thresholds are put back when the last backward pass
  in progress (in any thread) ends, not when the first one does.
- A threshold the program set itself is never overwritten: one at or above the value the policy
  wants (or 0, "no automatic collection") is left alone, and if the program changes the
  threshold while chainrule holds it raised, chainrule forgets what it saved and touches nothing
  until every holder is gone.

The recording path pays nothing for this: the engine calls ``large_graph`` once, when its
operation count reaches ``RAISE_AFTER``.
"""

from __future__ import annotations

import gc
import threading

RAISE_AFTER = 1_000
RAISED_THRESHOLD = 100_000
PAUSE_AFTER = 1_000
PAUSED_THRESHOLD = 1_000_000_000  # no automatic collection (gc.disable would be process-wide and final)

_lock = threading.Lock()
_enabled = True
_paused = 0           # backward passes (in any thread) over a large graph, now running
raised = False        # a large graph is being recorded (read by the engine without the lock)
_saved: tuple | None = None   # the program's thresholds, while chainrule's are in place
_applied: tuple | None = None  # the thresholds chainrule set last
_yielded = False      # the program changed the threshold while held: hands off until released


def set_gc_tuning(enabled: bool) -> None:
    """Let chainrule raise the collector's threshold while a large graph is recorded or
    differentiated (default on); ``False`` also restores the program's thresholds now."""
    global _enabled
    with _lock:
        _enabled = bool(enabled)
        _update()


def is_gc_tuning_enabled() -> bool:
    return _enabled


def large_graph() -> None:
    """Called by the engine when the recorded graph passes ``RAISE_AFTER`` operations."""
    global raised
    with _lock:
        raised = True
        _update()


def pause() -> bool:
    """Called by the engine before walking a large graph; returns True (pass it to ``resume``)."""
    global _paused
    with _lock:
        _paused += 1
        _update()
    return True


def resume(paused: bool) -> None:
    """Called by the engine when a backward pass ends: ``paused`` is what ``pause`` returned (or
    False). The recording that raised the threshold is over too."""
    global _paused, raised
    with _lock:
        if paused:
            _paused -= 1
        raised = False
        _update()


def _update() -> None:
    """Make the threshold what the holders want (the lock is held)."""
    global _saved, _applied, _yielded
    current = gc.get_threshold()
    if _saved is not None and current != _applied:
        # The program set the threshold itself while chainrule held it: its value wins.
        _saved = _applied = None
        _yielded = True
    holding = _paused > 0 or raised
    if _yielded:
        _yielded = holding
        return
    base = _saved if _saved is not None else current
    wanted = base[0]
    if _enabled and base[0] != 0:
        if _paused:
            wanted = max(base[0], PAUSED_THRESHOLD)
        elif raised:
            wanted = max(base[0], RAISED_THRESHOLD)
    if wanted == base[0]:
        if _saved is not None:
            gc.set_threshold(*_saved)
            _saved = _applied = None
        return
    if _saved is None:
        _saved = current
    _applied = (wanted, *_saved[1:])
    if current != _applied:
        gc.set_threshold(*_applied)
