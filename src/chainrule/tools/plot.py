"""Pictures for lessons: a function with its derivatives, and a loss curve (matplotlib Figures).

Figures are built without ``pyplot``, so nothing is shown or kept in global state: save them with
``fig.savefig("f.png")``, or let Jupyter display them. Requires matplotlib
(``pip install "chainrule[plot]"``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, overload

import numpy as np

from ..autograd import grad as _grad
from ..core.creation import linspace
from ..core.tensor import Tensor

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

__all__ = ["function_and_derivatives", "loss_curve"]

_ORDINALS = {1: "f′", 2: "f″", 3: "f‴"}


def _figure(ax: Axes | None) -> tuple[Figure | SubFigure, Axes]:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "cr.plot needs matplotlib: pip install matplotlib (or pip install \"chainrule[plot]\")"
        ) from None
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    return fig, fig.add_subplot()


def derivative_curves(f: Callable[[Tensor], Tensor], x: Tensor, order: int) -> list[np.ndarray]:
    """``f(x)`` and its first ``order`` derivatives at the points ``x``, by reverse mode.

    ``f`` must act elementwise (each output depends only on the input at the same position), so
    the gradient of ``f(x).sum()`` is ``f′`` at every point; higher orders differentiate again.
    """
    x = x.detach().requires_grad_()
    y = f(x)
    if not isinstance(y, Tensor) or y.shape != x.shape:
        raise ValueError(
            f"function_and_derivatives: f must map a tensor of shape {x.shape} to one of the same "
            f"shape, elementwise; got {getattr(y, 'shape', type(y).__name__)}"
        )
    curves = [y.detach().numpy().copy()]
    for k in range(order):
        if not y.requires_grad:  # f^(k) is constant: every further derivative is zero
            curves.extend(np.zeros_like(curves[0]) for _ in range(order - k))
            break
        (y,) = _grad(y.sum(), x, create_graph=k + 1 < order, allow_unused=True, materialize_grads=True)
        curves.append(y.detach().numpy().copy())
    return curves


@overload
def function_and_derivatives(f: Callable[[Tensor], Tensor], start: float = ..., stop: float = ...,
                             num: int = ..., order: int = ..., ax: None = None,
                             title: str | None = ...) -> Figure: ...
@overload
def function_and_derivatives(f: Callable[[Tensor], Tensor], start: float = ..., stop: float = ...,
                             num: int = ..., order: int = ..., *, ax: Axes,
                             title: str | None = ...) -> Figure | SubFigure: ...
@overload
def function_and_derivatives(f: Callable[[Tensor], Tensor], start: float, stop: float, num: int,
                             order: int, ax: Axes, title: str | None = ...) -> Figure | SubFigure: ...


def function_and_derivatives(f: Callable[[Tensor], Tensor], start: float = -5.0, stop: float = 5.0,
                             num: int = 400, order: int = 1, ax: Axes | None = None,
                             title: str | None = None) -> Figure | SubFigure:
    """The classic picture of ``f`` and its derivatives over ``[start, stop]``, computed by chainrule.

    Parameters
    ----------
    f : callable
        An elementwise function of a tensor, e.g. ``cr.tanh`` or ``lambda x: x * cr.sin(x)``.
    start, stop, num : float, float, int
        The range and number of points.
    order : int
        How many derivatives to draw (1: ``f`` and ``f′``; higher orders differentiate again).
    ax : matplotlib Axes, optional
        Draw into these axes instead of a new figure.
    title : str, optional
        The title (by default the name of ``f``).

    Returns
    -------
    matplotlib.figure.Figure
        The new figure, or the figure (or subfigure) holding ``ax``.
    """
    if order < 0 or int(order) != order:
        raise ValueError(f"function_and_derivatives: order must be a whole number >= 0, got {order!r}")
    fig, ax = _figure(ax)
    x = linspace(start, stop, num, dtype=np.float64)
    curves = derivative_curves(f, x, int(order))
    xs = x.numpy()
    for k, curve in enumerate(curves):
        label = "f" if k == 0 else _ORDINALS.get(k, f"f^({k})")
        ax.plot(xs, curve, label=label, linewidth=2.0 if k == 0 else 1.4)
    ax.axhline(0.0, color="#9ca3af", linewidth=0.8)
    ax.set_xlabel("x")
    ax.set_title(title if title is not None else _name_of(f))
    ax.legend()
    return fig


def _name_of(f: object) -> str:
    name = getattr(f, "__name__", None) or getattr(f, "name", None)  # primitives have .name
    return name if isinstance(name, str) and name.isidentifier() else "f"


@overload
def loss_curve(losses: Sequence[float], ax: None = None, log: bool = ...,
               title: str = ...) -> Figure: ...
@overload
def loss_curve(losses: Sequence[float], ax: Axes, log: bool = ...,
               title: str = ...) -> Figure | SubFigure: ...


def loss_curve(losses: Sequence[float], ax: Axes | None = None, log: bool = True,
               title: str = "training loss") -> Figure | SubFigure:
    """A line of the loss per step (log scale by default); returns the matplotlib Figure."""
    fig, ax = _figure(ax)
    values = np.asarray([float(v) for v in losses])
    ax.plot(np.arange(len(values)), values, color="#2563eb", label="loss")
    if log and values.size and np.all(values > 0):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    return fig
