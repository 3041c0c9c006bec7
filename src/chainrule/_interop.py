"""NumPy's protocols: ``np.sin(t)``, ``np.sum(t)``, ``ndarray * t`` return differentiable tensors."""

from __future__ import annotations

import numpy as np

from . import ops as O
from .ops import elementwise as E
from .ops import linalg as L

_UFUNCS = {
    np.add: E.add, np.subtract: E.sub, np.multiply: E.mul, np.true_divide: E.div,
    np.power: E.pow, np.negative: E.neg, np.positive: lambda x: x, np.absolute: E.abs,
    np.exp: E.exp, np.expm1: E.expm1, np.log: E.log, np.log1p: E.log1p, np.log2: E.log2,
    np.log10: E.log10, np.sqrt: E.sqrt, np.square: E.square, np.reciprocal: E.reciprocal,
    np.sin: E.sin, np.cos: E.cos, np.tan: E.tan, np.arcsin: E.arcsin, np.arccos: E.arccos,
    np.arctan: E.arctan, np.sinh: E.sinh, np.cosh: E.cosh, np.tanh: E.tanh,
    np.maximum: E.maximum, np.minimum: E.minimum, np.sign: E.sign, np.floor: E.floor,
    np.ceil: E.ceil, np.rint: E.round, np.matmul: O.matmul,
    np.less: E.lt, np.less_equal: E.le, np.greater: E.gt, np.greater_equal: E.ge,
    np.equal: E.eq, np.not_equal: E.ne, np.logical_and: E.logical_and,
    np.logical_or: E.logical_or, np.logical_not: E.logical_not, np.isnan: E.isnan,
    np.isinf: E.isinf, np.isfinite: E.isfinite,
}


def _axis(kwargs):
    out = {}
    for key, value in kwargs.items():
        if key == "axis":
            out["dim"] = value
        elif key == "keepdims":
            out["keepdim"] = value
        elif key == "ddof":
            out["correction"] = value
        elif key == "out" and value is None:
            continue
        else:
            out[key] = value
    return out


def _reduction(fn, numpy_defaults=None):
    def call(a, *args, **kwargs):
        kwargs = _axis(kwargs)
        if numpy_defaults:
            for key, value in numpy_defaults.items():
                kwargs.setdefault(key, value)
        if args:
            kwargs.setdefault("dim", args[0])
        return fn(a, **kwargs)

    return call


def _data_only(fn):
    def call(*args, **kwargs):
        args = [np.asarray(a) if hasattr(a, "_data") else a for a in args]
        return fn(*args, **kwargs)

    return call


_FUNCTIONS = {
    np.sum: _reduction(O.sum), np.mean: _reduction(O.mean), np.prod: _reduction(O.prod),
    np.max: _reduction(O.amax), np.amax: _reduction(O.amax), np.min: _reduction(O.amin),
    np.amin: _reduction(O.amin),
    np.var: _reduction(O.var, {"correction": 0}), np.std: _reduction(O.std, {"correction": 0}),
    np.cumsum: lambda a, axis=None: O.cumsum(a if axis is not None else O.flatten(a), axis or 0),
    np.cumprod: lambda a, axis=None: O.cumprod(a if axis is not None else O.flatten(a), axis or 0),
    np.argmax: lambda a, axis=None: O.argmax(a, axis), np.argmin: lambda a, axis=None: O.argmin(a, axis),
    np.dot: lambda a, b: O.matmul(a, b) if np.ndim(a) and np.ndim(b) else E.mul(a, b),
    np.matmul: O.matmul, np.outer: O.outer, np.inner: lambda a, b: O.matmul(a, b),
    np.einsum: O.einsum, np.trace: O.trace,
    np.reshape: lambda a, shape=None, newshape=None: O.reshape(a, shape if shape is not None else newshape),
    np.transpose: lambda a, axes=None: O.permute(a, axes if axes is not None else tuple(range(np.ndim(a) - 1, -1, -1))),
    np.squeeze: lambda a, axis=None: O.squeeze(a, axis), np.expand_dims: lambda a, axis: O.unsqueeze(a, axis),
    np.concatenate: lambda arrays, axis=0: O.cat(arrays, axis),
    np.stack: lambda arrays, axis=0: O.stack(arrays, axis),
    np.where: lambda c, x, y: O.where(c, x, y), np.clip: lambda a, a_min=None, a_max=None, **k: O.clamp(a, k.get("min", a_min), k.get("max", a_max)),
    np.tile: O.tile, np.flip: lambda a, axis=None: O.flip(a, axis if axis is not None else tuple(range(np.ndim(a)))),
    np.broadcast_to: lambda a, shape: O.broadcast_to(a, shape),
    np.linalg.inv: L.inv, np.linalg.det: L.det, np.linalg.solve: L.solve,
    np.linalg.slogdet: L.slogdet, np.linalg.norm: lambda x, ord=None, axis=None, keepdims=False: L.linalg_norm(x, ord, axis, keepdims),
    np.abs: E.abs, np.maximum: E.maximum, np.minimum: E.minimum,
    np.shape: lambda a: a.shape, np.ndim: lambda a: a.ndim, np.size: lambda a: a.numel(),
    np.zeros_like: lambda a, **k: E.zeros_like_(a) if not k else np.zeros_like(np.asarray(a), **k),
    np.allclose: _data_only(np.allclose), np.isclose: _data_only(np.isclose),
    np.array_equal: _data_only(np.array_equal), np.testing.assert_allclose: _data_only(np.testing.assert_allclose),
    np.result_type: _data_only(np.result_type), np.copyto: _data_only(np.copyto),
}


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    fn = _UFUNCS.get(ufunc)
    if method != "__call__" or fn is None or kwargs.get("out") is not None:
        what = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        extra = " with out=" if kwargs.get("out") is not None else ""
        raise TypeError(
            f"numpy.{what}{extra} is not supported on chainrule tensors, so it cannot be "
            f"differentiated. Use the chainrule function (cr.{ufunc.__name__}) or, to drop the "
            f"history on purpose, np.asarray(t.detach())."
        )
    kwargs.pop("out", None)
    if kwargs:
        raise TypeError(f"numpy.{ufunc.__name__}: keyword arguments {sorted(kwargs)} are not supported on chainrule tensors")
    return fn(*inputs)


def array_function(self, func, types, args, kwargs):
    fn = _FUNCTIONS.get(func)
    if fn is None:
        raise TypeError(
            f"numpy.{func.__name__} is not supported on chainrule tensors, so it cannot be "
            f"differentiated. Use a chainrule function, or np.asarray(t.detach()) to drop the "
            f"history on purpose."
        )
    return fn(*args, **kwargs)
