"""``detect_anomaly``: name the forward operation behind a NaN or inf gradient.

Anomaly mode is per thread, like grad mode: a ``detect_anomaly`` open in one thread changes
nothing in another. Each thread keeps the contexts it has open, innermost last, each with the
mode it found on entry (``grad_mode.state.anomaly_contexts``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..core.modes import set_anomaly, state

if TYPE_CHECKING:
    from typing_extensions import Self

_F = TypeVar("_F", bound=Callable[..., Any])


class detect_anomaly:
    """Context manager (and decorator): record where each operation ran and check every
    gradient computed in backward; a NaN or inf raises an error naming the forward operation
    that produced it and the line of user code that called it.

    Anomaly mode is per thread. On exit a context puts back the mode it found on entry; if it
    is exited while a context entered after it is still open (exits out of order), the mode
    stays as that inner context set it, and the inner one, on its exit, puts back what the
    outer one found. So any order of exits leaves the mode as it was before the first entry.
    One instance may be entered several times, and in several threads at once.
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = bool(check_nan)

    def __enter__(self) -> Self:
        state.anomaly_contexts.append([self, state.anomaly])
        set_anomaly(self.check_nan)
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        contexts = state.anomaly_contexts
        if contexts and contexts[-1][0] is self:
            set_anomaly(contexts.pop()[1])
            return False
        for i in range(len(contexts) - 2, -1, -1):
            if contexts[i][0] is self:
                # Exited out of order: the next context inward takes over what this one found.
                contexts[i + 1][1] = contexts[i][1]
                del contexts[i]
                return False
        raise RuntimeError(
            "detect_anomaly: exited in a thread where it is not open (exited twice, or in another "
            "thread than the one that entered it); enter and exit it in the same thread"
        )

    def __call__(self, func: _F) -> _F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]  # functools.wraps keeps func's signature


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on in this thread."""
    return state.anomaly
