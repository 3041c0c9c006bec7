"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..core import tracing
from ..core.modes import no_grad
from ..core.tensor import Tensor, bump_version
from .optimizer import Optimizer, Params, Workspace, check_hyperparameter, regularized_grad

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, PyTorch's update rule.

    For each parameter ``p`` with gradient ``g``::

        g ← g + weight_decay · p
        b ← g                                   (first step)
        b ← momentum · b + (1 − dampening) · g  (later steps)
        g ← g + momentum · b  if nesterov else  b      (when momentum ≠ 0)
        p ← p − lr · g

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dicts
        The tensors to optimize, or parameter groups (see ``Optimizer``).
    lr : float, default 1e-3
        Learning rate.
    momentum : float, default 0
        Momentum factor.
    dampening : float, default 0
        Dampening of the momentum.
    weight_decay : float, default 0
        L2 penalty added to the gradient.
    nesterov : bool, default False
        Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
    maximize : bool, default False
        Ascend the objective instead of descending it.
    """

    def __init__(self, params: Params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}
        self._workspace = Workspace()
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        for name in ("lr", "momentum", "dampening", "weight_decay"):
            check_hyperparameter("SGD", name, group[name])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: Nesterov momentum requires a momentum and zero dampening, got "
                f"momentum={group['momentum']}, dampening={group['dampening']}"
            )

    def step(self) -> None:
        """Update every parameter that has a gradient (parameters whose ``.grad`` is None are
        left alone)."""
        if tracing.active[0] and tracing.current() is not None:
            _traced_step(self)
            return
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            for param in group["params"]:
                if param._grad is None:
                    continue
                p = param._data
                work = self._workspace.get(p)
                grad = regularized_grad(self._workspace, p, param._grad._data, maximize, weight_decay)
                if momentum != 0:
                    state = self.state.setdefault(param, {})
                    buffer = state.get("momentum_buffer")
                    if buffer is None:
                        state["momentum_buffer"] = buffer = Tensor._wrap(np.array(grad, dtype=p.dtype))
                    else:
                        b = buffer._data
                        b *= momentum
                        if dampening == 0:
                            b += grad
                        else:
                            b += np.multiply(grad, 1 - dampening, out=self._workspace.get(p, 1))
                    if nesterov:
                        grad = np.add(grad, np.multiply(buffer._data, momentum, out=self._workspace.get(p, 1)),
                                      out=work)
                    else:
                        grad = buffer._data
                np.multiply(grad, -lr, out=work)
                p += work
                bump_version(param)


def _grad_is_none(param: Tensor) -> bool:
    return param._grad is None


def _traced_step(self: SGD) -> None:
    """``step`` written with the table's operations, in the same order (so the same numbers),
    for a trace to follow (``cr.jit`` of a training step)."""
    tracing.check_state(self, _hyperparameters, _hyperparameters(self),
                        "the optimizer's hyperparameters and parameters (lr, momentum, ...)")
    with no_grad():
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            for param in group["params"]:
                if tracing.check_state(param, _grad_is_none, param._grad is None, "whether .grad is None"):
                    continue
                grad = param._grad
                if maximize:
                    grad = -grad
                if weight_decay != 0:
                    grad = grad + param * weight_decay
                if momentum != 0:
                    state = self.state.setdefault(param, {})
                    buffer = state.get("momentum_buffer")
                    tracing.check_state(param, functools.partial(_no_buffer, self), buffer is None,
                                        "whether SGD has a momentum buffer yet")
                    if buffer is None:
                        state["momentum_buffer"] = buffer = grad.clone()
                    else:
                        buffer.mul_(momentum)
                        buffer.add_(grad if dampening == 0 else grad * (1 - dampening))
                    grad = grad + buffer * momentum if nesterov else buffer
                param.add_(grad * -lr)


def _hyperparameters(optimizer: SGD) -> tuple:
    """What an update reads besides tensors: a learning-rate schedule changes it between calls."""
    keys = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")
    return tuple((tuple(group[k] for k in keys), tuple(id(p) for p in group["params"]))
                 for group in optimizer.param_groups)


def _no_buffer(optimizer: SGD, param: Tensor) -> bool:
    return optimizer.state.get(param, {}).get("momentum_buffer") is None

