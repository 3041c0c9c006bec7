"""Jacobians in one pass: a batch of cotangents (reverse) or tangents (forward) at once."""

from __future__ import annotations

import numpy as np

from . import engine
from .forward import forward_level, make_dual, tangent_of
from .ops.shape import reshape, stack
from .tensor import Tensor


def batched_vjp(inputs, out: Tensor, create: bool) -> list:
    """Rows of the Jacobian of ``out`` with respect to each input, shaped ``out.shape + in.shape``."""
    n = out._data.size
    rows = [[] for _ in inputs]
    for i in range(n):
        basis = np.zeros(n, dtype=out._data.dtype)
        basis[i] = 1.0
        cot = basis.reshape(out._data.shape)
        found = {}
        if out._requires_grad:
            found = engine.compute_gradients([out], [cot], inputs, retain_graph=True,
                                             create_graph=create, accumulate=False)
        for k, t in enumerate(inputs):
            g = found.get(id(t))
            if g is None:
                g = Tensor._wrap(np.zeros_like(t._data))
            elif not isinstance(g, Tensor):
                g = Tensor._wrap(np.array(g))
            rows[k].append(g)
    return [reshape(stack(r), out._data.shape + t._data.shape) if r else
            Tensor._wrap(np.zeros(out._data.shape + t._data.shape, dtype=t._data.dtype))
            for r, t in zip(rows, inputs)]


def batched_jvp(f, args, argnums) -> list:
    """Columns of the Jacobian of ``f`` for each argument in ``argnums``, shaped ``out.shape + in.shape``."""
    from .functional import _Nested, _outputs
    jacs = []
    for i in argnums:
        x = args[i]
        cols = []
        out_shape = None
        for j in range(x._data.size):
            basis = np.zeros(x._data.size, dtype=x._data.dtype)
            basis[j] = 1.0
            with forward_level() as level:
                call = list(args)
                call[i] = make_dual(x, basis.reshape(x._data.shape), level)
                with _Nested():
                    outputs, single = _outputs("jacfwd", f(*call))
                if not single:
                    raise TypeError("jacfwd: the function must return a single tensor")
                t = tangent_of(outputs[0], level)
                out_shape = outputs[0]._data.shape
                cols.append(Tensor._wrap(np.zeros_like(outputs[0]._data)) if t is None else t)
        if not cols:
            raise ValueError("jacfwd: the input has no elements")
        # cols[j] has out.shape: stack on the last axis -> out.shape + (n,), then reshape.
        jac = stack(cols, -1) if cols[0]._data.ndim or True else stack(cols)
        jacs.append(reshape(jac, out_shape + x._data.shape))
    return jacs
