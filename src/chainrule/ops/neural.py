"""Primitives of neural-network functions that need their own stable rules."""

from __future__ import annotations

import numpy as np

from ..core import backend as B
from ._define import define, nondifferentiable
from .elementwise import _require_float
from .reductions import _insert_axis
from .shape import _shape

_f16 = np.dtype(np.float16)
_f32 = np.dtype(np.float32)


def _in_float32(op):
    """Decorator: ``forward(x, ...)``, written for float32/float64 logits, extended to float16
    (computed in float32, each output cast back: PyTorch's accumulation for half precision) and
    refusing integer, bool (as PyTorch does) and complex logits, with errors naming ``op``."""

    def decorate(forward):
        def impl(x, *args, **kwargs):
            dt = x.dtype
            if dt.kind != "f":
                _require_float(op, x)
            if dt is _f16:
                out = forward(x.astype(_f32), *args, **kwargs)
                if isinstance(out, tuple):
                    return tuple(o.astype(_f16) for o in out)
                return out.astype(_f16)
            return forward(x, *args, **kwargs)

        impl.__name__ = forward.__name__
        return impl

    return decorate


def _max_along(x, dim):
    """``amax(x, dim, keepdims=True)``. A row of a (N, C) array with few classes goes through a
    transposed copy: NumPy reduces a short inner axis ~5x slower than across rows."""
    if dim == 1 and x.ndim == 2 and x.shape[1] <= 64 and x.dtype.kind == "f":
        return np.maximum.reduce(np.ascontiguousarray(x.T), axis=0)[:, None]
    return np.amax(x, axis=dim, keepdims=True)


@_in_float32("softmax")
def _softmax_impl(x, dim):
    shifted = x - _max_along(x, dim)
    e = np.exp(shifted, out=shifted)
    e /= np.add.reduce(e, axis=dim, keepdims=True)
    return e


def _softmax_jvp(m, tangents, ans, x, dim):
    t = tangents[0]
    return ans * (t - m.sum(t * ans, dim=(dim,), keepdim=True))


softmax_prim = define(
    "softmax", _softmax_impl,
    (lambda m, g, ans, x, dim: ans * (g - m.sum(g * ans, dim=(dim,), keepdim=True)),),
    _softmax_jvp, save_inputs=False, save_ans=True,
    batching="shift_dim",
)


@_in_float32("log_softmax")
def _log_softmax_impl(x, dim):
    shifted = x - _max_along(x, dim)
    shifted -= np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))
    return shifted


log_softmax_prim = define(
    "log_softmax", _log_softmax_impl,
    (lambda m, g, ans, x, dim: g - m.exp(ans) * m.sum(g, dim=(dim,), keepdim=True),),
    lambda m, tangents, ans, x, dim: tangents[0] - m.sum(m.exp(ans) * tangents[0], dim=(dim,), keepdim=True),
    save_inputs=False, save_ans=True,
    batching="shift_dim",
)


_class_index = B.class_index


def _ce_impl(x, target, dim):
    return _ce_forward(x, target, dim)[0]


@_in_float32("cross_entropy")
def _ce_forward(x, target, dim):
    """The losses and, for the VJP, the softmax computed on the way."""
    shifted = x - _max_along(x, dim)
    e = np.exp(shifted)
    total = np.add.reduce(e, axis=dim, keepdims=True)
    losses = np.log(np.squeeze(total, axis=dim)) - shifted[_class_index(target, x.ndim, dim)]
    e /= total
    return losses, e


def _one_hot_batching(ns, fn, args, params):
    """One-hot rows of a batch of targets: the batch axis leads, the class axis moves one along."""
    dim = params["dim"]
    return ns.wrap(fn(args[0].value, n=params["n"], dim=dim + 1 if dim >= 0 else dim, dtype=params["dtype"]))


# The one-hot targets as an operation of the table (not raw NumPy inside the rule): a trace
# (cr.jit) then computes them from each call's targets instead of keeping the traced ones.
one_hot = nondifferentiable("one_hot", lambda target, n, dim, dtype: B.one_hot(target, n, dim, dtype),
                            batching=_one_hot_batching,
                            doc="1 where a class axis of n inserted at dim equals the integer target")


def _ce_direction(m, x, target, dim):
    """∂loss/∂logits for each sample: softmax minus the one-hot target."""
    dtype = x._data.dtype if hasattr(x, "_data") else x.dtype
    return m.softmax(x, dim=dim) - m.one_hot(target, n=_shape(x)[dim], dim=dim, dtype=dtype)


def _ce_vjp(m, g, ans, x, target, dim):
    return _insert_axis(m, g, dim) * _ce_direction(m, x, target, dim)


def _ce_raw_vjp(m, g, ans, x, target, dim):
    """``_ce_vjp`` in one new buffer, from the forward's softmax (``ans``, see ``residual``):
    the softmax, minus 1 at the targets, times g."""
    if type(ans) is not B.ndarray:  # another namespace: the formula, from the same softmax
        return _insert_axis(m, g, dim) * (ans - B.one_hot(target, ans.shape[dim], dim, ans.dtype))
    p = ans.copy()
    p[_class_index(target, x.ndim, dim)] -= 1
    p *= g.reshape(_shape(g)[:dim] + (1,) + _shape(g)[dim:])
    return p


def _ce_batching(ns, fn, args, params):
    """The losses of a batch of (logits, targets) pairs: the batch axis is one more sample axis."""
    x, target = args
    return ns.wrap(fn(ns.broadcast(x), ns.broadcast(target), dim=params["dim"] + 1))


softmax_cross_entropy = define(
    "softmax_cross_entropy", _ce_impl,
    (_ce_vjp, None),
    lambda m, tangents, ans, x, target, dim: m.sum(tangents[0] * _ce_direction(m, x, target, dim),
                                                   dim=(dim,), keepdim=False),
    residual=_ce_forward,
    raw_vjp=(_ce_raw_vjp, None),
    batching=_ce_batching,
)
