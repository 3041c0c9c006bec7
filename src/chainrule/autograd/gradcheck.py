"""``gradcheck`` and ``gradgradcheck``: analytical derivatives against finite differences.

Complex inputs and outputs (complex128) are checked as PyTorch's gradcheck does: each complex
number is two real coordinates (real and imaginary parts), finite differences are taken in both
directions, and the analytical derivatives are those of real-valued functions of the outputs
(``Re y_j`` and ``Im y_j``), whose ``.grad`` in PyTorch's convention is ``dL/dRe x + i dL/dIm x``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import numerical
from ..core.modes import enable_grad, no_grad
from ..core.tensor import Tensor, _as_data
from ..transforms.arguments import _reverse_input
from ..transforms.forward import forward_level, make_dual, tangent_of
from .core import grad as autograd_grad

if TYPE_CHECKING:
    from .._typing import TensorLike


class GradcheckError(RuntimeError):
    """Analytical and numerical derivatives disagree; the message names where."""


def _as_inputs(inputs: object, op: str = "gradcheck") -> tuple[Any, ...]:
    if isinstance(inputs, Tensor):
        return (inputs,)
    if not isinstance(inputs, (tuple, list)):
        raise TypeError(
            f"{op}: inputs must be a tensor or a tuple (or list) of them, got "
            f"{type(inputs).__name__} {inputs!r:.40}"
        )
    return tuple(inputs)


def _outputs(f: Callable[..., Any], inputs: Sequence[Any], op: str = "gradcheck") -> list[Tensor]:
    out = f(*inputs)
    outs = [out] if isinstance(out, Tensor) else list(out) if isinstance(out, (tuple, list)) else [out]
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"{op}: output {i} of the function is a {type(o).__name__}, not a tensor")
    return outs


def _differentiable(inputs: Sequence[Any], op: str = "gradcheck") -> list[int]:
    chosen = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t._requires_grad]
    if not chosen:
        raise ValueError(f"{op}: no input requires grad; create the inputs to check with requires_grad=True")
    for i in chosen:
        if inputs[i]._data.dtype not in (np.float64, np.complex128):
            raise TypeError(
                f"{op}: input {i} has dtype {inputs[i]._data.dtype}; finite differences need "
                f"float64 (or complex128) inputs to be meaningful (use x.double())"
            )
    return chosen


def _flat(values) -> np.ndarray:
    """An output's values as real coordinates (a complex number: its real, then imaginary part)."""
    values = np.asarray(values)
    if values.dtype.kind == "c":
        return np.stack([values.real, values.imag], axis=-1).astype(np.float64).ravel()
    return np.asarray(values, dtype=np.float64).ravel()


def _size(array) -> int:
    """How many real coordinates ``array`` has (two per complex number)."""
    return array.size * (2 if array.dtype.kind == "c" else 1)


def _check_arguments(op: str, f, eps, atol, rtol, method, seed, **flags) -> None:
    """Refuse arguments that would make the check meaningless (or silently pass)."""
    if not callable(f):
        raise TypeError(f"{op}: f must be a function of the inputs, got {type(f).__name__} {f!r:.40}")
    for name, value, positive in (("eps", eps, True), ("atol", atol, False), ("rtol", rtol, False)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise TypeError(f"{op}: {name} must be a finite real number, got {type(value).__name__} {value!r:.40}")
        if value < 0 or (positive and value == 0):
            raise ValueError(f"{op}: {name} must be {'positive' if positive else 'non-negative'}, got {value}")
    numerical._check_method(op, method)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{op}: seed must be an int, got {type(seed).__name__} {seed!r:.40}")
    for name, value in flags.items():
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{op}: {name} must be True or False, got {type(value).__name__} {value!r:.40}")


def _numerical_jacobian(f, inputs, i, eps, method, op="gradcheck") -> np.ndarray:
    """d(all outputs, flattened and concatenated) / d(input i, flattened): shape (n_out, n_in)."""
    base = inputs[i]._data
    dtype = base.dtype
    if dtype.kind == "c":  # differences along the real and the imaginary part of each element
        base = np.stack([base.real, base.imag], axis=-1)

    def column_function(x):
        call = list(inputs)
        if dtype.kind == "c":
            data = x._data
            x = Tensor._wrap((data[..., 0] + 1j * data[..., 1]).astype(dtype))
        call[i] = x
        return np.concatenate([_flat(o._data) for o in _outputs(f, call, op)])

    fx = numerical._value_at(column_function, base, method, op)
    cols = []
    for index in np.ndindex(base.shape):
        cols.append(numerical._difference(column_function, base, index, eps, method, fx, op))
    n_out = cols[0].size if cols else 0
    return np.stack(cols, axis=1) if cols else np.zeros((n_out, 0))


def _reverse_jacobian(f, inputs, i) -> np.ndarray:
    with enable_grad():
        outs = _outputs(f, inputs, "gradcheck")
    rows = []
    width = _size(inputs[i]._data)
    for o in outs:
        units = (1.0, 1j) if o._data.dtype.kind == "c" else (1.0,)  # the gradients of Re y_j, Im y_j
        for j in range(o._data.size):
            for unit in units:
                if not o._requires_grad:
                    rows.append(np.zeros(width))
                    continue
                basis = np.zeros(o._data.size, dtype=o._data.dtype)
                basis[j] = unit
                (g,) = autograd_grad([o], [inputs[i]], [basis.reshape(o._data.shape)],
                                     retain_graph=True, allow_unused=True)
                rows.append(np.zeros(width) if g is None else _flat(g._data))
    return np.stack(rows) if rows else np.zeros((0, width))


def _forward_jacobian(f, inputs, i) -> np.ndarray:
    x = inputs[i]
    cols = []
    units = (1.0, 1j) if x._data.dtype.kind == "c" else (1.0,)  # along Re x_j, then Im x_j
    for j in range(x._data.size):
        for unit in units:
            basis = np.zeros(x._data.size, dtype=x._data.dtype)
            basis[j] = unit
            with no_grad(), forward_level() as level:
                call = list(inputs)
                call[i] = make_dual(x, basis.reshape(x._data.shape), level)
                outs = _outputs(f, call)
                parts = []
                for o in outs:
                    t = tangent_of(o, level)
                    parts.append(np.zeros(_size(o._data)) if t is None else _flat(t._data))
            cols.append(np.concatenate(parts))
    return np.stack(cols, axis=1) if cols else np.zeros((0, 0))


def _locate(outs_shapes, flat: int):
    for k, shape in enumerate(outs_shapes):
        size = int(np.prod(shape))
        if flat < size:
            return k, np.unravel_index(flat, shape) if shape else ()
        flat -= size
    return len(outs_shapes), ()


def _compare(mode, analytical, numeric, i, input_shape, out_shapes, atol, rtol):
    bad = ~(np.abs(analytical - numeric) <= atol + rtol * np.abs(numeric))
    bad |= np.isnan(analytical) != np.isnan(numeric)
    if not bad.any():
        return
    r, c = np.argwhere(bad)[0]
    k, out_index = _locate(out_shapes, int(r))
    in_index = np.unravel_index(int(c), input_shape) if input_shape else ()
    raise GradcheckError(
        f"gradcheck: {mode}-mode derivative of output {k} element {tuple(int(v) for v in out_index)} "
        f"with respect to input {i} element {tuple(int(v) for v in in_index)} is {float(analytical[r, c])!r}, "
        f"but finite differences give {float(numeric[r, c])!r} (atol={atol}, rtol={rtol}; "
        f"{int(bad.sum())} of {bad.size} entries differ).\n"
        f"analytical ({mode}):\n{analytical}\nnumerical:\n{numeric}"
    )


def gradcheck(f: Callable[..., Any], inputs: Tensor | Sequence[Any], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, method: str = "central", check_forward: bool = True, check_reverse: bool = True,
              seed: int = 0) -> bool:
    """Check the derivatives of ``f`` at ``inputs`` (float64 tensors; those that require grad are
    checked) in reverse and forward mode against finite differences, element by element, and in
    random directions (⟨u, J v⟩ both ways). Raises ``GradcheckError`` naming the input and
    element that differ; returns True when all agree.
    """
    return _gradcheck("gradcheck", f, inputs, eps, atol, rtol, method, check_forward, check_reverse, seed)


def _gradcheck(op, f, inputs, eps, atol, rtol, method, check_forward, check_reverse, seed) -> bool:
    _check_arguments(op, f, eps, atol, rtol, method, seed, check_forward=check_forward,
                     check_reverse=check_reverse)
    inputs = _as_inputs(inputs, op)
    chosen = _differentiable(inputs, op)
    with no_grad():  # (complex outputs and inputs: a last axis of 2, their real and imaginary parts)
        out_shapes = [o._data.shape + ((2,) if o._data.dtype.kind == "c" else ())
                      for o in _outputs(f, inputs, op)]
    rng = np.random.default_rng(seed)
    for i in chosen:
        numeric = _numerical_jacobian(f, inputs, i, eps, method, op)
        shape = inputs[i]._data.shape + ((2,) if inputs[i]._data.dtype.kind == "c" else ())
        rev = fwd = None
        if check_reverse:
            rev = _reverse_jacobian(f, inputs, i)
            _compare("reverse", rev, numeric, i, shape, out_shapes, atol, rtol)
        if check_forward:
            fwd = _forward_jacobian(f, inputs, i)
            _compare("forward", fwd, numeric, i, shape, out_shapes, atol, rtol)
        if rev is not None and fwd is not None and rev.size:
            u = rng.standard_normal(rev.shape[0])
            v = rng.standard_normal(rev.shape[1])
            a, b = u @ (fwd @ v), (u @ rev) @ v
            if not abs(a - b) <= atol + rtol * max(abs(a), abs(b)):
                raise GradcheckError(
                    f"gradcheck: input {i}: forward and reverse mode disagree in a random direction: "
                    f"⟨u, J_fwd v⟩ = {a!r} but ⟨u J_rev, v⟩ = {b!r}"
                )
    return True


def gradgradcheck(f: Callable[..., Any], inputs: Tensor | Sequence[Any],
                  grad_outputs: TensorLike | Sequence[TensorLike] | None = None, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, method: str = "central", check_forward: bool = True,
                  seed: int = 0) -> bool:
    """``gradcheck`` of the first derivatives: checks second derivatives of ``f`` (the backward
    pass recorded with ``create_graph=True``), in reverse mode and forward-over-reverse."""
    _check_arguments("gradgradcheck", f, eps, atol, rtol, method, seed, check_forward=check_forward)
    inputs = _as_inputs(inputs, "gradgradcheck")
    chosen = _differentiable(inputs, "gradgradcheck")
    with no_grad():
        outs = _outputs(f, inputs, "gradgradcheck")
    rng = np.random.default_rng(seed + 1)
    cotangents: list[np.ndarray]
    if grad_outputs is None:
        cotangents = [rng.standard_normal(o._data.shape) + 1j * rng.standard_normal(o._data.shape)
                      if o._data.dtype.kind == "c" else rng.standard_normal(o._data.shape) for o in outs]
    else:
        given = grad_outputs if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
        if len(given) != len(outs):
            raise ValueError(f"gradgradcheck: got {len(given)} grad_outputs for {len(outs)} outputs")
        cotangents = []
        for k, (value, o) in enumerate(zip(given, outs)):
            g = _as_data(value, copy=False, op="gradgradcheck")
            if g.dtype.kind not in "fiuc" or g.shape != o._data.shape:
                raise ValueError(
                    f"gradgradcheck: grad_outputs[{k}] must be numbers of the output's shape "
                    f"{o._data.shape}, got shape {g.shape} dtype {g.dtype}"
                )
            cotangents.append(np.asarray(g, dtype=np.complex128 if g.dtype.kind == "c" else np.float64))

    def first_derivatives(*args: Any) -> tuple[Tensor, ...]:
        xs = list(args)
        for i in chosen:
            xs[i] = _reverse_input("gradgradcheck", xs[i])
        with enable_grad():
            ys = _outputs(f, xs)
            pairs = [(y, g) for y, g in zip(ys, cotangents) if y._requires_grad]
            if not pairs:
                return tuple(Tensor._wrap(np.zeros_like(xs[i]._data)) for i in chosen)
            grads = autograd_grad([y for y, _ in pairs], [xs[i] for i in chosen],
                                  [Tensor._wrap(np.asarray(g, dtype=y._data.dtype)) for y, g in pairs],
                                  create_graph=True, allow_unused=True)
        return tuple(Tensor._wrap(np.zeros_like(xs[i]._data)) if g is None else g
                     for g, i in zip(grads, chosen))

    return _gradcheck("gradgradcheck", first_derivatives, inputs, eps, atol, rtol, method,
                      check_forward, True, seed)
