"""How chainrule treats Python's cyclic garbage collector while a large graph is recorded.

Every recorded operation leaves a few GC-tracked objects (a node, its edges) alive until the
backward pass. CPython runs a young-generation collection every 700 new tracked objects and
a full one whenever the survivors grow by a quarter, so a graph of a million operations is
traversed again and again while it is built (40% of the time of a 100,000-link scalar chain).

Policy: once more than ``RAISE_AFTER`` operations have been recorded since the last backward
pass, the first-generation threshold is raised to ``RAISED_THRESHOLD`` (cyclic garbage is still
collected, in larger batches); the backward pass puts the previous thresholds back. Thresholds
the program set itself at or above that value are left alone. ``set_gc_tuning(False)`` turns the
policy off.
"""

from __future__ import annotations

import gc

RAISE_AFTER = 1_000
RAISED_THRESHOLD = 100_000

_enabled = True
saved: tuple | None = None  # the thresholds to restore, while raised


def set_gc_tuning(enabled: bool) -> None:
    """Let chainrule raise the collector's threshold while a large graph is recorded (default
    on); ``False`` also restores the thresholds now if they are raised."""
    global _enabled
    _enabled = bool(enabled)
    if not _enabled:
        restore()


def is_gc_tuning_enabled() -> bool:
    return _enabled


def large_graph() -> None:
    """Called by the engine when the recorded graph passes ``RAISE_AFTER`` operations."""
    global saved
    if not _enabled or saved is not None:
        return
    current = gc.get_threshold()
    if current[0] == 0 or current[0] >= RAISED_THRESHOLD:
        return
    saved = current
    gc.set_threshold(RAISED_THRESHOLD, *current[1:])


def restore() -> None:
    """Put back the thresholds ``large_graph`` replaced (if the program has not changed them)."""
    global saved
    previous = saved
    if previous is None:
        return
    saved = None
    if gc.get_threshold()[0] == RAISED_THRESHOLD:
        gc.set_threshold(*previous)
