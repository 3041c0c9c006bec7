"""Per-thread switches: whether operations are recorded, and which forward-mode levels are live."""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    def __init__(self) -> None:
        self.grad_enabled = True
        # Forward-mode levels currently open (innermost last); empty means no tangents anywhere.
        self.forward_levels: list[int] = []
        # While a level-L tangent is computed, only levels below L propagate (see ops._primitive._push_tangents).
        self.forward_cap: int | None = None
        # Reverse-mode transforms currently open; inner ones must record their backward pass.
        self.transform_depth = 0
        # Anomaly detection (autograd.detect_anomaly) is per thread, like grad mode.
        self.anomaly = False


state = _State()


def is_grad_enabled() -> bool:
    """Whether operations on tensors that require grad are being recorded."""
    return state.grad_enabled


class _GradModeContext:
    """Context manager and decorator that sets grad mode for its extent."""

    _mode = True

    def __init__(self) -> None:
        self._previous: list[bool] = []

    def __enter__(self):
        self._previous.append(state.grad_enabled)
        state.grad_enabled = self._mode
        return self

    def __exit__(self, *exc) -> bool:
        state.grad_enabled = self._previous.pop()
        return False

    def __call__(self, func):
        mode = self._mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            previous = state.grad_enabled
            state.grad_enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                state.grad_enabled = previous

        return wrapper


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
        super().__init__()
        self._mode = bool(mode)
        self._previous.append(state.grad_enabled)
        state.grad_enabled = self._mode

    def __enter__(self):
        return self

    def __call__(self, func):
        # Used as a decorator: undo the immediate switch made by __init__.
        state.grad_enabled = self._previous.pop()
        return super().__call__(func)
