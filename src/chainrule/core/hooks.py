"""Hook handles: what ``register_hook`` returns, for tensors and graph nodes alike."""

from __future__ import annotations


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "_key")
    _next_key = [0]

    def __init__(self, hooks: dict, fn) -> None:
        key = RemovableHandle._next_key[0]
        RemovableHandle._next_key[0] = key + 1
        hooks[key] = fn
        self._hooks = hooks
        self._key = key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()
