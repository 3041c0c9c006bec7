"""NumPy's protocols: ``np.sin(t)``, ``np.sum(t)``, ``ndarray * t`` return differentiable tensors.

Every NumPy function and ufunc in the tables below takes NumPy's own signature (positional and
keyword arguments) and gives NumPy's result, N-d operands and keyword forms included; what
chainrule cannot do with NumPy's meaning raises an error naming the function, never a different
answer. The rules for NumPy's keywords:

- ``out=`` a tensor: the result is written into it as an in-place update (``out.copy_``, so the
  version counter, the history and the rule for leaves are those of any in-place operation), and
  ``out`` is returned. ``out=`` a NumPy array: the values are written, and the array returned,
  when the result carries no history; a result that requires grad (or carries tangents) raises,
  since the array cannot hold its history.
- ``dtype=`` (and a ufunc's ``signature=``) computes in that dtype: the inputs are cast
  (differentiably) to the dtypes of NumPy's loop; ``casting=`` is checked as NumPy checks it.
- ``where=`` of a ufunc needs ``out=``: NumPy leaves the unselected entries uninitialised
  otherwise. ``order=`` chooses a memory layout only and is accepted; ``np.reshape``'s
  ``order='F'``/``'A'``, which change the values, are computed as NumPy does.
- ``subok=False`` returns a plain array when the result carries no history, else raises.
- Ufunc methods: ``reduce`` of add, multiply, maximum and minimum, ``accumulate`` of add and
  multiply, ``outer`` of every binary ufunc of the table, ``at`` of add and subtract (and of any
  ufunc at indices without repeats) are differentiable. Other methods run in NumPy when nothing
  involved carries history, and raise otherwise.
- Python and NumPy scalars combine with tensors by chainrule's (PyTorch's) promotion rules, so
  ``np.float64(2) * t`` (which NumPy hands to this module) equals ``t * np.float64(2)``: an
  integer tensor divided by an integer, or combined with a Python float, gives the default float
  dtype where NumPy gives float64. NumPy's functions (``np.dot(t, 2.5)``) convert their
  scalar arguments to arrays as NumPy does.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .. import ops as O
from ..core.dispatch import Primitive
from ..core.tensor import Tensor
from ..ops import indexing as IX
from ..ops import shape as S
from ..ops._table import OPERATIONS, Operation, subscribe
from . import (
    numpy_arrange,
    numpy_extras,
    numpy_linalg,
    numpy_misc,
    numpy_quantiles,
    numpy_series,
    numpy_sorting,
    numpy_ufuncs,
)
from .numpy_common import (
    _axis1,
    _cast,
    _cast_to_loop,
    _elementwise,
    _finish,
    _not_differentiable,
    _NoValue,
    _operand,
    _raw,
    _records,
    _refuse_keywords,
    _ufunc_keywords,
)
from .numpy_signatures import (
    SIGNATURES,
    _copyto,
    _data_only,
    _expand_dims,
    _inner,
    _meta_only,
    _reduction,
    _size,
    _tensordot,
    _zeros_like,
)

# NumPy's signatures, by NumPy name ("tril", "linalg.qr"): the core ones and each family's.
_SIGNATURES = {**SIGNATURES, **numpy_ufuncs.SIGNATURES, **numpy_arrange.SIGNATURES,
               **numpy_sorting.SIGNATURES, **numpy_quantiles.SIGNATURES, **numpy_linalg.SIGNATURES,
               **numpy_extras.SIGNATURES}

# ---------------------------------------------------------------------------------------------
# Ufuncs
# ---------------------------------------------------------------------------------------------

def _numpy_result(ufunc, args, **kwargs):
    return Tensor._wrap(ufunc(*[_raw(a) for a in args], **kwargs))


def _floats_only(ufunc, fn):
    """``fn`` when a floating tensor is involved; otherwise NumPy's ufunc itself (nothing can
    require grad then, and NumPy's integer rules differ: ``np.reciprocal(2) == 0``)."""

    def call(*args):
        for a in args:
            if isinstance(a, Tensor) and a._data.dtype.kind in "fc":
                return fn(*args)
        return _numpy_result(ufunc, args)

    call.__name__ = ufunc.__name__
    call._operation = fn
    return call


# The ufuncs that the operations declare (``ufunc=`` in their table entries), filled by
# ``_serve`` below. The ufuncs of Python's binary operators (and comparisons) use chainrule's
# promotion rules whatever the dtypes, so ``array + t`` (which NumPy hands to this module)
# equals ``t + array``. The others compute in NumPy itself when no operand is a floating tensor
# (then nothing can require grad, and NumPy's dtypes are the answer: np.sqrt of int64 is float64).
_UFUNCS: dict = {}
_OPERATORS: set = set()  # those of Python's binary operators
# Ufuncs whose results never carry a gradient: any method may run in NumPy.
_NONDIFFERENTIABLE: set = set()
_REDUCE: dict = {}  # ufunc -> the name of the operation serving ufunc.reduce
_ACCUMULATE: dict = {}  # ufunc -> the operation serving ufunc.accumulate
_BINARY_OPERATORS = frozenset({"+", "-", "*", "/", "**", "@", "%", "<", "<=", ">", ">=", "==", "!="})


def _numpy_object(op_name: str, dotted: str) -> Any:
    """The NumPy ufunc or function named ``dotted`` (``"exp"``, ``"linalg.inv"``)."""
    target: Any = np
    for part in dotted.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise ValueError(f"{op_name}: NumPy has no {dotted!r} (declared in its table entry)")
    return target


# Ufuncs of other libraries (``ufunc="scipy.special.expit"``): resolved when one of them first
# reaches a tensor, so chainrule never imports SciPy itself (its ufuncs are NumPy ufuncs).
_FOREIGN_UFUNCS: dict[str, Operation] = {}


def _foreign_ufunc(ufunc) -> tuple[str, Any]:
    """``ufunc``'s library ("numpy", "scipy.special") and the function serving it (None: none).
    A declared ufunc of another library is registered here, when it first reaches a tensor."""
    fn = _UFUNCS.get(ufunc)
    if fn is None:
        for name, op in list(_FOREIGN_UFUNCS.items()):
            module, _, attr = name.rpartition(".")
            if getattr(sys.modules.get(module), attr, None) is ufunc:
                del _FOREIGN_UFUNCS[name]
                _serve_ufunc(op, ufunc)
                fn = _UFUNCS[ufunc]
    if getattr(np, ufunc.__name__, None) is ufunc:
        return "numpy", fn
    if getattr(sys.modules.get("scipy.special"), ufunc.__name__, None) is ufunc:
        return "scipy.special", fn
    return "ufunc", fn


def _serve(op: Operation) -> None:
    """Dispatch NumPy's ufuncs and functions that ``op`` declares to it."""
    for name in op.ufunc:
        if not name.startswith("scipy."):
            _serve_ufunc(op, _numpy_object(op.name, name))
        else:
            _FOREIGN_UFUNCS[name] = op
    for name in op.numpy:
        _FUNCTIONS[_numpy_object(op.name, name)] = _SIGNATURES.get(name, op.function)


def _serve_ufunc(op: Operation, ufunc) -> None:
    fn = op.function
    if op.operator in _BINARY_OPERATORS:
        _UFUNCS[ufunc] = fn
        _OPERATORS.add(ufunc)
    else:
        _UFUNCS[ufunc] = _floats_only(ufunc, fn)
    if isinstance(fn, Primitive) and not fn.differentiable:
        _NONDIFFERENTIABLE.add(ufunc)
    if op.reduce is not None:
        _REDUCE[ufunc] = op.reduce
    if op.accumulate is not None:
        _ACCUMULATE[ufunc] = OPERATIONS[op.accumulate].function


def _withdraw(op: Operation) -> None:
    for name in op.ufunc:
        if name.startswith("scipy."):
            _FOREIGN_UFUNCS.pop(name, None)
            module, _, attr = name.rpartition(".")
            ufunc = getattr(sys.modules.get(module), attr, None)
        else:
            ufunc = _numpy_object(op.name, name)
        for table in (_UFUNCS, _REDUCE, _ACCUMULATE):
            table.pop(ufunc, None)
        _NONDIFFERENTIABLE.discard(ufunc)
        _OPERATORS.discard(ufunc)
    for name in op.numpy:
        _FUNCTIONS.pop(_numpy_object(op.name, name), None)


_serve.withdraw = _withdraw  # type: ignore[attr-defined]


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    if method == "__call__" and not kwargs:
        fn = _UFUNCS.get(ufunc)
        if fn is not None:
            return fn(*inputs)
    library, fn = _foreign_ufunc(ufunc)
    if method == "__call__" and not kwargs and fn is not None:
        return fn(*inputs)
    name = f"{library}.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    if fn is None:
        alternative = _alternative(library, ufunc.__name__)
        raise TypeError(
            f"{name} is not supported on chainrule tensors, so it cannot be differentiated. Use "
            f"{alternative} or, to drop the history on purpose, np.asarray(t.detach())."
        )
    if method == "__call__":
        return _ufunc_call(ufunc, name, fn, inputs, kwargs)
    if ufunc in _NONDIFFERENTIABLE:  # bool results: no gradient to lose
        return _numpy_method(ufunc, method, name, inputs, kwargs, history_allowed=True)
    if method == "reduce" and ufunc in _REDUCE:
        return _ufunc_reduce(ufunc, name, *inputs, **kwargs)
    if method == "accumulate" and ufunc in _ACCUMULATE:
        return _ufunc_accumulate(ufunc, name, *inputs, **kwargs)
    if method == "outer" and ufunc.nin == 2 and ufunc.signature is None:
        a, b = (_operand(x) for x in inputs)
        a = S.reshape(a, S._shape(a) + (1,) * S._ndim(b))
        return _ufunc_call(ufunc, name, fn, (a, b), kwargs)
    if method == "at" and ufunc.signature is None:
        return _ufunc_at(ufunc, name, fn, inputs, kwargs)
    return _numpy_method(ufunc, method, name, inputs, kwargs)


def _alternative(library: str, name: str) -> str:
    """The hint of the error for a ufunc that tensors do not support."""
    if library == "scipy.special":
        return f"the chainrule function (cr.special.{name})" if f"special.{name}" in OPERATIONS else "chainrule functions"
    return f"the chainrule function (cr.{name})" if hasattr(O, name) else "chainrule functions"


def _ufunc_call(ufunc, name, fn, inputs, kwargs):
    kwargs = dict(kwargs)
    out = kwargs.pop("out", None)
    if isinstance(out, tuple):
        if len(out) != 1:
            raise ValueError(f"{name}: out= must hold exactly one array, got {len(out)}")
        out = out[0]
    where, dtype, signature, casting, subok = _ufunc_keywords(name, kwargs)
    if ufunc.signature is not None:  # the gufuncs: matmul, vecdot, matvec, vecmat
        axes, axis, keepdims = kwargs.pop("axes", None), kwargs.pop("axis", None), kwargs.pop("keepdims", False)
        if ufunc is getattr(np, "vecdot", None) and axis is not None and axes is None and not keepdims:
            inputs = tuple(np.moveaxis(_operand(x), axis, -1) for x in inputs)  # the vectors' axis last
        elif axes is not None or axis is not None or keepdims:
            raise TypeError(f"{name}: axes=, axis= and keepdims= are not supported on chainrule tensors; "
                            f"move the axes with cr.permute first")
    _refuse_keywords(name, kwargs)
    inputs, out_dtype = list(inputs), None
    if dtype is not None or signature is not None:
        inputs, out_dtype = _cast_to_loop(name, ufunc, inputs, dtype, signature, casting)
    return _elementwise(name, fn, inputs, out, where, casting, subok, out_dtype)


def _ufunc_reduce(ufunc, name, array, axis=0, dtype=None, out=None, keepdims=False, initial=_NoValue,
                  where=True):
    if isinstance(out, tuple):
        out = out[0]
    return _reduction(name, _REDUCE[ufunc], array, axis, dtype, out, keepdims, initial,
                      _NoValue if where is True else where)


def _ufunc_accumulate(ufunc, name, array, axis=0, dtype=None, out=None):
    if isinstance(out, tuple):
        out = out[0]
    a = _operand(array)
    if S._ndim(a) == 0:
        raise TypeError(f"{name}: cannot accumulate on a scalar")
    if dtype is not None:
        a = _cast(a, np.dtype(dtype))
    result = _ACCUMULATE[ufunc](a, _axis1(name, axis, S._ndim(a)))
    return _finish(name, result, out, "unsafe", exact=True)


def _ufunc_at(ufunc, name, fn, inputs, kwargs):
    if kwargs:
        raise TypeError(f"{name}: unexpected keyword argument(s) {sorted(kwargs)}")
    target, index, *rest = inputs
    if not isinstance(target, Tensor) or not (_records(target) or any(_records(x) for x in rest)):
        return _numpy_method(ufunc, "at", name, inputs, {})  # raises if a value's history would be lost
    key = IX._index_key(index)
    if ufunc in (np.add, np.subtract) and rest:
        # Repeated indices accumulate: a scatter-add of the values (the transpose of indexing).
        values = S.broadcast_to(_operand(rest[0]), np.shape(target._data[key]))
        update = IX.scatter(values, index=key, shape=target.shape)
        if ufunc is np.add:
            target.add_(update)
        else:
            target.sub_(update)
        return None
    positions = np.arange(target._data.size).reshape(target.shape)[key]
    if np.unique(positions).size != np.size(positions):
        raise TypeError(
            f"{name} with repeated indices is not supported on chainrule tensors that require grad; "
            f"only np.add.at and np.subtract.at accumulate differentiably"
        )
    target[index] = fn(S.clone(IX.index(target, index)), *rest)
    return None


def _numpy_method(ufunc, method, name, inputs, kwargs, history_allowed=False):
    """A ufunc method computed by NumPy itself: only where nothing involved carries history
    (or the results cannot carry a gradient)."""
    kwargs = dict(kwargs)
    out = kwargs.pop("out", None)
    outs = out if isinstance(out, tuple) else (() if out is None else (out,))
    if not history_allowed and (any(_records(x) for x in inputs) or any(_records(o) for o in outs)):
        raise _not_differentiable(name)
    if "where" in kwargs:
        kwargs["where"] = _raw(kwargs["where"])
    datas = [_raw(x) for x in inputs]
    if method == "at":
        target = inputs[0]
        if len(datas) > 1:
            datas[1] = IX._index_key(datas[1])
        if isinstance(target, Tensor):
            buffer = np.array(target._data, copy=True)
            ufunc.at(buffer, *datas[1:])
            target.copy_(buffer)
        else:
            ufunc.at(*datas)
        return None
    buffers = tuple(np.array(o._data, copy=True) if isinstance(o, Tensor) else o for o in outs)
    if buffers:
        kwargs["out"] = buffers
    result = getattr(ufunc, method)(*datas, **kwargs)
    if not buffers:
        return Tensor._wrap(result)
    for o, b in zip(outs, buffers):
        if isinstance(o, Tensor):
            o.copy_(b)
    return outs[0] if len(outs) == 1 else outs


# NumPy functions served by compositions of operations (no operation of their own), and those
# that only read values or shapes.
class _Table(dict):
    """NumPy function -> its servant. ``numpy.testing``'s functions are added on first use:
    ``np.testing`` is a 37 ms import that ``import chainrule`` does not pay."""

    def get(self, key: Any, default: Any = None) -> Any:
        found = dict.get(self, key)
        if found is None and str(getattr(key, "__module__", "")).startswith("numpy.testing"):
            self.testing()
            found = dict.get(self, key)
        return default if found is None else found

    def testing(self) -> None:
        """Serve ``numpy.testing``'s functions (importing it)."""
        self[np.testing.assert_allclose] = _data_only(np.testing.assert_allclose)


_FUNCTIONS = _Table({
    np.inner: _inner, np.tensordot: _tensordot, np.expand_dims: _expand_dims,
    np.shape: lambda a: S._shape(_operand(a)), np.ndim: lambda a: S._ndim(_operand(a)), np.size: _size,
    np.zeros_like: _zeros_like, np.copyto: _copyto,
    np.allclose: _data_only(np.allclose), np.isclose: _data_only(np.isclose),
    np.array_equal: _data_only(np.array_equal),
    np.result_type: _meta_only(np.result_type),
    # memory queries read the tensors' buffers (views of one tensor share them)
    np.shares_memory: _meta_only(np.shares_memory), np.may_share_memory: _meta_only(np.may_share_memory),
    **numpy_extras.FUNCTIONS, **numpy_series.FUNCTIONS, **numpy_misc.FUNCTIONS,
})
if "numpy.testing" in sys.modules:  # (imported already: nothing to save)
    _FUNCTIONS.testing()
subscribe(_serve)


def array_function(self, func, types, args, kwargs):
    fn = _FUNCTIONS.get(func)
    if fn is None:
        raise TypeError(
            f"numpy.{func.__name__} is not supported on chainrule tensors, so it cannot be "
            f"differentiated. Use a chainrule function, or np.asarray(t.detach()) to drop the "
            f"history on purpose."
        )
    return fn(*args, **kwargs)
