"""``Optimizer``: parameter groups, per-parameter state and ``zero_grad``, as in PyTorch.

Subclasses implement ``step`` on the NumPy buffers of the parameters, so an update records no
graph and allocates as little as it can; each update bumps the parameter's version counter, so a
graph that saved the old values refuses to backward instead of giving wrong gradients.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any, cast

import numpy as np

from ..core.tensor import Tensor
from ..nn.module import _zero_grads

__all__ = ["Optimizer"]

Params = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


class Optimizer:
    """Base class of optimizers.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dicts
        The tensors to optimize, or parameter groups: dicts with a ``"params"`` entry and any
        hyperparameters that override the defaults for that group.
    defaults : dict
        Hyperparameters of groups that do not set them.

    Attributes
    ----------
    param_groups : list of dict
        Each group's ``"params"`` list and hyperparameters (change ``"lr"`` here to schedule it).
    state : dict
        Per-parameter state (momentum buffers, moment estimates), keyed by the parameter.
    """

    def __init__(self, params: Params, defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, (Tensor, dict)):
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or of dicts (parameter groups), "
                f"but got a {type(params).__name__}; pass e.g. model.parameters() or [tensor]"
            )
        try:
            groups: list[Any] = list(params)
        except TypeError:
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or of dicts (parameter groups), "
                f"but got a {type(params).__name__}; pass e.g. model.parameters() or [tensor]"
            ) from None
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (unset ones take the defaults)."""
        name = f"{type(self).__name__}.add_param_group"
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}: a parameter group must be a dict with a 'params' entry, got "
                f"{type(param_group).__name__} (don't mix tensors and dicts in one list)"
            )
        if "params" not in param_group:
            raise ValueError(f"{name}: parameter group {param_group!r} has no 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        else:
            try:
                params = list(params)
            except TypeError:
                raise TypeError(
                    f"{name}: 'params' must be a Tensor or an iterable of Tensors, got "
                    f"{type(params).__name__}"
                ) from None
        names = None
        if params and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in params):
            names = [p[0] for p in params]
            params = [p[1] for p in params]
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name}: can only optimize Tensors, but parameter {i} of the group is a "
                    f"{type(p).__name__}"
                )
            if p._node is not None:
                raise ValueError(
                    f"{name}: can't optimize a non-leaf Tensor (parameter {i}, shape {p._data.shape}, "
                    f"made by {p._node!r}); optimize the leaf it was computed from, or detach it "
                    f"and call requires_grad_()"
                )
            if p._data.dtype.kind != "f":
                raise TypeError(
                    f"{name}: can only optimize floating tensors, parameter {i} has dtype {p._data.dtype}"
                )
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter group holds the same tensor more than once")
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        group = {"params": params}
        if names is not None:
            group["param_names"] = names
        for key, default in self.defaults.items():
            group[key] = param_group.get(key, default)
        unknown = set(param_group) - set(self.defaults) - {"params", "param_names"}
        if unknown:
            raise ValueError(
                f"{name}: unknown option(s) {sorted(unknown)} in a parameter group; the options "
                f"are {sorted(self.defaults)}"
            )
        self._validate(group)
        self.param_groups.append(group)

    def _validate(self, group: dict[str, Any]) -> None:
        """Check a group's hyperparameters; subclasses raise ``ValueError`` for bad ones."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every optimized tensor: to ``None`` (the default, as PyTorch ≥ 2.0),
        or to zeros with ``set_to_none=False``."""
        for group in self.param_groups:
            _zero_grads(group["params"], set_to_none)

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    # --- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state, PyTorch-shaped: ``{"state": {index: {...}}, "param_groups":
        [{..., "params": [indices]}]}``, parameters referred to by their position. The tensors
        share memory with the optimizer's; ``cr.save`` it to keep a snapshot."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state: dict[int, dict[str, Any]] = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: (v.detach() if isinstance(v, Tensor) else v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore state saved by ``state_dict()`` into an optimizer over parameters of the same
        shapes, in the same groups and order."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups' (from "
                f"optimizer.state_dict()), got {type(state_dict).__name__}"
                + (f" with keys {sorted(state_dict)}" if isinstance(state_dict, dict) else "")
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the saved state has {len(saved_groups)} parameter groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        by_index: dict[Any, Tensor] = {}
        for g, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {g} has {len(group['params'])} "
                    f"parameters but the saved group has {len(saved['params'])}"
                )
            by_index.update(zip(saved["params"], group["params"]))
        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, values in state_dict["state"].items():
            if key not in by_index:
                raise ValueError(f"{name}.load_state_dict: state for unknown parameter index {key}")
            param = by_index[key]
            restored = {}
            for k, v in values.items():
                if isinstance(v, (Tensor, np.ndarray)):
                    array = np.array(v._data if isinstance(v, Tensor) else v, dtype=param._data.dtype)
                    if array.shape != param._data.shape:
                        raise ValueError(
                            f"{name}.load_state_dict: state {k!r} of parameter {key} has shape "
                            f"{array.shape}, the parameter has shape {param._data.shape}"
                        )
                    v = Tensor._wrap(array)
                restored[k] = v
            new_state[param] = restored
        updated_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            updated = dict(group)
            for k, v in saved.items():
                if k not in ("params", "param_names"):
                    updated[k] = tuple(v) if isinstance(group.get(k), tuple) else v
            self._validate(updated)
            updated_groups.append(updated)
        for group, updated in zip(self.param_groups, updated_groups):
            group.update(updated)
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def check_hyperparameter(op: str, name: str, value: object, lower: float = 0.0, upper: float | None = None,
                         open_upper: bool = False) -> None:
    """Raise ``ValueError`` unless ``lower <= value`` and ``value <= upper`` (``<`` if ``open_upper``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"{op}: invalid {name} {value!r}: expected a real number")
    # A numbers.Real compares with floats; typeshed's ABC does not declare the comparisons.
    real = cast(float, value)
    if real < lower or (upper is not None and (real >= upper if open_upper else real > upper)):
        bound = f"in [{lower}, {upper}{')' if open_upper else ']'}" if upper is not None else f">= {lower}"
        raise ValueError(f"{op}: invalid {name}: {value} (it must be {bound})")


def regularized_grad(workspace: Workspace, p: np.ndarray, grad: np.ndarray, maximize: bool,
                     weight_decay: float) -> np.ndarray:
    """``grad``, negated when ``maximize`` and plus ``weight_decay · p``, in workspace slot 0 when
    either applies (slot 1 holds the decay term); ``grad`` itself is never written."""
    if maximize:
        grad = np.negative(grad, out=workspace.get(p))
    if weight_decay != 0:
        grad = np.add(grad, np.multiply(p, weight_decay, out=workspace.get(p, 1)), out=workspace.get(p))
    return grad


class Workspace:
    """Scratch arrays reused across steps, one per (shape, dtype), so that an update allocates
    nothing after the first step."""

    __slots__ = ("_arrays",)

    def __init__(self) -> None:
        self._arrays: dict[tuple, np.ndarray] = {}

    def get(self, like: np.ndarray, slot: int = 0) -> np.ndarray:
        key = (like.shape, like.dtype, slot)
        array = self._arrays.get(key)
        if array is None:
            array = self._arrays[key] = np.empty_like(like)
        return array
