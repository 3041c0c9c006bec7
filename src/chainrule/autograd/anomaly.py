"""``detect_anomaly``: name the forward operation behind a NaN or inf gradient."""

from __future__ import annotations

from ..grad_mode import state


class detect_anomaly:
    """Context manager (and decorator): record where each operation ran and check every
    gradient computed in backward; a NaN or inf raises an error naming the forward operation
    that produced it and the line of user code that called it.
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._previous: list[bool] = []

    def __enter__(self):
        self._previous.append(state.anomaly)
        state.anomaly = self.check_nan
        return self

    def __exit__(self, *exc) -> bool:
        state.anomaly = self._previous.pop()
        return False

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return wrapper


def is_anomaly_enabled() -> bool:
    return state.anomaly
