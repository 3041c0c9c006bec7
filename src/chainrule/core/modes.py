"""Per-thread switches: whether operations are recorded, and which forward-mode levels are live."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from typing_extensions import Self

_F = TypeVar("_F", bound=Callable[..., Any])


class _State(threading.local):
    def __init__(self) -> None:
        self.grad_enabled = True
        # Forward-mode levels currently open (innermost last); empty means no tangents anywhere.
        self.forward_levels: list[int] = []
        # While a level-L tangent is computed, only levels below L propagate (see core.dispatch._push_tangents).
        self.forward_cap: int | None = None
        # Reverse-mode transforms currently open; inner ones must record their backward pass.
        self.transform_depth = 0
        # The grad-mode contexts open in this thread, innermost last, each with the mode it found.
        self.grad_saves: list[tuple[object, bool]] = []
        # Anomaly detection (autograd.detect_anomaly) is per thread, like grad mode; the
        # detect_anomaly contexts open in this thread, innermost last, each with the mode it
        # found on entry (see autograd.anomaly).
        self.anomaly = False
        self.anomaly_contexts: list[list[Any]] = []
        # The cr.vmap levels open in this thread, outermost first (see transforms/vmap).
        self.vmap_levels: list[Any] = []


state = _State()

# How many threads have anomaly mode on: recording reads this plain list first, so the common
# case (nobody has it on) costs no thread-local lookup per operation.
anomaly_threads = [0]


def set_anomaly(flag: bool) -> None:
    """Turn this thread's anomaly mode on or off (keeping ``anomaly_threads`` in step)."""
    flag = bool(flag)
    if flag != state.anomaly:
        anomaly_threads[0] += 1 if flag else -1
        state.anomaly = flag


def is_grad_enabled() -> bool:
    """Whether operations on tensors that require grad are being recorded."""
    return state.grad_enabled


def _restore(saves: list[tuple[object, bool]], owner: object, name: str) -> None:
    """Exit ``owner``, not the innermost context of this thread: remove its entry from
    ``saves`` and put back the mode it found (PyTorch's rule for exits out of order)."""
    for i in range(len(saves) - 1, -1, -1):
        if saves[i][0] is owner:
            state.grad_enabled = saves.pop(i)[1]
            return
    raise RuntimeError(
        f"{name}: exited in a thread where it is not open (exited twice, or in another thread "
        f"than the one that entered it); enter and exit a grad-mode context in the same thread"
    )


class _GradModeContext:
    """Context manager and decorator that sets grad mode for its extent.

    On exit it puts back the mode it found on entry (as PyTorch's do). What it found is kept
    per thread (``state.grad_saves``), so one instance can be open in several threads at once.
    """

    _mode = True

    def __enter__(self) -> Self:
        s = state
        s.grad_saves.append((self, s.grad_enabled))
        s.grad_enabled = self._mode
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        s = state
        saves = s.grad_saves
        if saves and saves[-1][0] is self:
            s.grad_enabled = saves.pop()[1]
        else:
            _restore(saves, self, type(self).__name__)
        return False

    def __call__(self, func: _F) -> _F:
        mode = self._mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = state.grad_enabled
            state.grad_enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                state.grad_enabled = previous

        return wrapper  # type: ignore[return-value]  # functools.wraps keeps func's signature


class no_grad(_GradModeContext):
    """Operations inside record nothing and keep no intermediate alive.

    Usable as ``with cr.no_grad():`` and as a decorator ``@cr.no_grad()``.
    """

    _mode = False


class enable_grad(_GradModeContext):
    """Turns recording back on inside a ``no_grad`` region; context manager or decorator."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Sets grad mode to ``mode``; takes effect at once, and as a context manager is undone on exit."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(
                f"set_grad_enabled: mode must be True or False, got {type(mode).__name__} {mode!r}"
            )
        self._mode = mode
        self._found = state.grad_enabled
        state.grad_enabled = mode

    def __enter__(self) -> Self:
        # The switch happened in __init__; the exit puts back the mode found then.
        state.grad_saves.append((self, self._found))
        return self

    def __call__(self, func: _F) -> _F:
        # Used as a decorator: undo the immediate switch made by __init__.
        state.grad_enabled = self._found
        return super().__call__(func)
