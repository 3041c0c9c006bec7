"""The optimizers' updates written with the table's operations, for ``cr.jit`` to trace.

Eager ``step()`` updates parameters with NumPy in place (no operation recorded); inside a trace
the same update, in the same order and dtypes (so the same numbers), goes through the table so
the compiled code repeats it. What the update decides from Python state is checked before every
compiled call (whether ``.grad`` is None, whether the state exists yet, the hyperparameters).
Adam's step count is a Python number: the trace computes with a 0-d tensor holding it
(``Adam._steps``), which the compiled code advances, and an effect after each compiled call
advances ``state["step"]`` too.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import tracing
from ..core.modes import no_grad
from ..core.tensor import Tensor

if TYPE_CHECKING:
    from .adam import Adam


def grad_is_none(param: Tensor) -> bool:
    return param._grad is None


def _adam_hyperparameters(optimizer: Adam) -> tuple:
    keys = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")
    return tuple((tuple(group[k] for k in keys), tuple(id(p) for p in group["params"]))
                 for group in optimizer.param_groups)


def _state_in_step(optimizer: Adam, param: Tensor) -> Any:
    """Whether ``param`` has Adam state, and its step tensor agrees with ``state["step"]``."""
    state = optimizer.state.get(param)
    if state is None:
        return None
    counter = optimizer._steps.get(param)
    return (counter is not None and float(counter._data) == state["step"], "max_exp_avg_sq" in state)


def _advance(optimizer: Adam, param: Tensor) -> None:
    optimizer.state[param]["step"] += 1


def _lerp(start: Tensor, end: Tensor, weight: float) -> None:
    """``start ← start + weight · (end − start)`` in place, as ``adam._lerp_`` evaluates it."""
    difference = end - start
    if abs(weight) < 0.5:
        start.add_(difference * weight)
    else:
        start.copy_(end - difference * (1 - weight))


def adam_step(self: Adam) -> None:
    tracing.check_state(self, _adam_hyperparameters, _adam_hyperparameters(self),
                        "the optimizer's hyperparameters and parameters (lr, betas, ...)")
    with no_grad():
        for group in self.param_groups:
            lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            amsgrad, maximize = group["amsgrad"], group["maximize"]
            for param in group["params"]:
                if tracing.check_state(param, grad_is_none, param._grad is None, "whether .grad is None"):
                    continue
                state = self.state.get(param)
                tracing.check_state(param, functools.partial(_state_in_step, self), _state_in_step(self, param),
                                    "whether Adam has state for the parameter yet")
                if state is None:
                    state = self.state[param] = {
                        "step": 0,
                        "exp_avg": Tensor._wrap(np.zeros_like(param._data)),
                        "exp_avg_sq": Tensor._wrap(np.zeros_like(param._data)),
                    }
                if amsgrad and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(param._data))
                counter = self._steps.get(param)
                if counter is None or float(counter._data) != state["step"]:
                    counter = self._steps[param] = Tensor._wrap(np.array(float(state["step"])))
                state["step"] += 1
                tracing.effect(functools.partial(_advance, self, param))  # the same after each compiled call
                counter.add_(1.0)
                grad = param._grad
                if maximize:
                    grad = -grad
                if weight_decay != 0:
                    grad = grad + param * weight_decay
                m, v = state["exp_avg"], state["exp_avg_sq"]
                _lerp(m, grad, 1 - beta1)
                v.mul_(beta2)
                v.add_(grad * grad * (1 - beta2))
                step_size = lr / (1 - beta1 ** counter)
                bias_correction2_sqrt = (1 - beta2 ** counter).sqrt()
                if amsgrad:
                    state["max_exp_avg_sq"].copy_(state["max_exp_avg_sq"].maximum(v))
                    v = state["max_exp_avg_sq"]
                denominator = v.sqrt() / bias_correction2_sqrt + eps
                param.add_(m / denominator * -step_size)
