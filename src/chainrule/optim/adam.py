"""Adam (and AMSGrad) with PyTorch's bias-corrected update."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core import tracing
from ..core.tensor import Tensor, bump_version
from .optimizer import Optimizer, Params, Workspace, check_hyperparameter, regularized_grad

__all__ = ["Adam"]


class Adam(Optimizer):
    r"""Adam, PyTorch's update rule (Kingma & Ba, 2015).

    For each parameter ``p`` with gradient ``g``, at step ``t = 1, 2, ...``::

        g ← g + weight_decay · p
        m ← β₁ · m + (1 − β₁) · g
        v ← β₂ · v + (1 − β₂) · g²
        v̂ ← max(v̂, v) if amsgrad else v
        p ← p − (lr / (1 − β₁ᵗ)) · m / (√v̂ / √(1 − β₂ᵗ) + eps)

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dicts
        The tensors to optimize, or parameter groups (see ``Optimizer``).
    lr : float, default 1e-3
        Learning rate.
    betas : (float, float), default (0.9, 0.999)
        Decay rates of the moving averages of the gradient and of its square.
    eps : float, default 1e-8
        Added to the denominator for numerical stability.
    weight_decay : float, default 0
        L2 penalty added to the gradient.
    amsgrad : bool, default False
        Use the running maximum of ``v`` (AMSGrad).
    maximize : bool, default False
        Ascend the objective instead of descending it.
    """

    def __init__(self, params: Params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize}
        self._workspace = Workspace()
        self._steps: dict[Tensor, Tensor] = {}  # each step count as a 0-d tensor, for cr.jit (see _traced)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "weight_decay"):
            check_hyperparameter("Adam", name, group[name])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        group["betas"] = tuple(betas)
        for i, beta in enumerate(betas):
            check_hyperparameter("Adam", f"beta parameter at index {i}", beta, 0.0, 1.0, open_upper=True)

    def step(self) -> None:
        """Update every parameter that has a gradient (parameters whose ``.grad`` is None are
        left alone and their step count does not advance)."""
        if tracing.active[0] and tracing.current() is not None:
            from ._traced import adam_step

            adam_step(self)
            return
        for group in self.param_groups:
            lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            amsgrad, maximize = group["amsgrad"], group["maximize"]
            for param in group["params"]:
                if param._grad is None:
                    continue
                p = param._data
                work = self._workspace.get(p)
                scratch = self._workspace.get(p, 1)
                state = self.state.get(param)
                if state is None:
                    state = self.state[param] = {
                        "step": 0,
                        "exp_avg": Tensor._wrap(np.zeros_like(p)),
                        "exp_avg_sq": Tensor._wrap(np.zeros_like(p)),
                    }
                if amsgrad and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(p))
                state["step"] += 1
                step = state["step"]
                grad = regularized_grad(self._workspace, p, param._grad._data, maximize, weight_decay)
                m = state["exp_avg"]._data
                v = state["exp_avg_sq"]._data
                _lerp_(m, grad, 1 - beta1, scratch)
                v *= beta2
                v += np.multiply(np.multiply(grad, grad, out=scratch), 1 - beta2, out=scratch)
                step_size = lr / (1 - beta1**step)
                bias_correction2_sqrt = math.sqrt(1 - beta2**step)
                if amsgrad:
                    v = np.maximum(state["max_exp_avg_sq"]._data, v, out=state["max_exp_avg_sq"]._data)
                denominator = np.sqrt(v, out=work)
                denominator /= bias_correction2_sqrt
                denominator += eps
                update = np.divide(m, denominator, out=work)
                update *= -step_size
                p += update
                bump_version(param)


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float, scratch: np.ndarray) -> None:
    """``start ← start + weight · (end − start)`` in place, evaluated as PyTorch's ``lerp_``."""
    difference = np.subtract(end, start, out=scratch)
    if abs(weight) < 0.5:
        difference *= weight
        start += difference
    else:
        difference *= 1 - weight
        np.subtract(end, difference, out=start)
