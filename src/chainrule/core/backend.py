"""The array layer: every array call outside the operation table goes through this module.

What it decides, once for the whole library:

- **Namespaces.** ``namespace(x)`` is the array module of ``x``: NumPy for ndarrays, NumPy
  scalars and Python numbers (the fast path, one ``type`` test), else ``x.__array_namespace__()``
  (the array API standard). ``foreign(x)`` says whether ``x`` is an array of another namespace
  than NumPy's; the table's forwards and the rule helpers take their NumPy path unless it is.
- **Dtypes and promotion.** The dtypes of the library are NumPy's (``dtypes``); another
  namespace's dtype maps to NumPy's by name (``numpy_dtype``) and back (``dtype_in``). Result
  dtypes follow PyTorch, decided here: ``floating_dtype`` for floating functions (bool and
  integer inputs give the default float dtype, float16/32/64 are kept, mixed floats give the
  widest), ``result_dtype`` for every operation of several operands (PyTorch's type promotion,
  ``torch.result_type``: tensors with dimensions before 0-d tensors before Python numbers, see
  there), ``promote_types`` for two dtypes, and ``in_dtype`` for an operand taken in the result
  dtype (the operations compute in it, as PyTorch's kernels do). The operations keep NumPy's
  own promotion on their fast path, where both agree (operands of one float dtype, or with a
  Python number), and ask ``result_dtype`` off it.
- **Creation** in the namespace and on the device of a given array (``full``, ``zeros``,
  ``ones``, ``arange``), conversions (``astype``, ``copy``, ``as_array``), predicates
  (``any_true``), and the broadcasting reduction ``sum_to_shape`` the engine applies once.
- **NumPy's memory model**, which only NumPy arrays have: ``own_memory`` (may be written in
  place), ``contiguous``, and ``multiply_into`` (the in-place product of the elementwise rules'
  fast form). Hot paths test ``type(x) is ndarray`` (``ndarray`` is this module's) before using
  them; other namespaces get the out-of-place result.

Rules never import this module for arithmetic: they reach arrays through their rule namespace
``m`` (see ``ops._primitive``). They use it only for constants (masks, identity matrices) and
data-dependent branches, which must be made in the namespace of the data they describe.
"""

from __future__ import annotations

import math

import numpy as np

from . import dtypes as D
from . import tracing
from .tracing import active as _tracing

xp = numpy = np
ndarray = np.ndarray
generic = np.generic
# NumPy's scalar types, for the type checks of arguments (``isinstance(dim, (int, integer))``).
integer = np.integer
floating = np.floating
bool_ = np.bool_
intp = np.intp

_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
BOOL = np.dtype(np.bool_)
_I64 = np.dtype(np.int64)
_C64, _C128 = np.dtype(np.complex64), np.dtype(np.complex128)
FLOAT32, FLOAT64 = _F32, _F64  # the fast path's dtypes (hot paths test them by identity)

# The types the NumPy fast path takes as they are: arrays, NumPy scalars (0-d results are kept
# as scalars) and Python numbers. One set lookup tells a hot path it needs nothing else.
NUMPY_TYPES = frozenset({ndarray, float, int, bool, *(t for t in np.sctypeDict.values()
                                                       if isinstance(t, type) and issubclass(t, generic))})


# ---------------------------------------------------------------------------------------------
# Namespaces
# ---------------------------------------------------------------------------------------------

def namespace(x):
    """The array namespace of ``x``: NumPy for ndarrays, NumPy scalars, Python numbers and
    anything without ``__array_namespace__``; else the namespace ``x`` names."""
    if type(x) is ndarray:
        return np
    get = getattr(x, "__array_namespace__", None)
    if get is None or isinstance(x, (ndarray, generic)):
        return np
    return get()


def foreign(x) -> bool:
    """Whether ``x`` is an array of a namespace other than NumPy's (the array API standard)."""
    return type(x) not in NUMPY_TYPES and hasattr(x, "__array_namespace__") \
        and not isinstance(x, (ndarray, generic))


def namespace_of(*values):
    """The namespace of the first array among ``values`` that is not NumPy's, else NumPy
    (None, numbers and NumPy arrays are skipped)."""
    for v in values:
        if type(v) not in NUMPY_TYPES and v is not None and foreign(v):
            return v.__array_namespace__()
    return np


def any_foreign(values) -> bool:
    """Whether one of ``values`` is an array of another namespace than NumPy's."""
    for v in values:
        if type(v) not in NUMPY_TYPES and v is not None and foreign(v):
            return True
    return False


def is_array(x) -> bool:
    """Whether ``x`` is an array (NumPy's, a NumPy scalar, or any array API array)."""
    return isinstance(x, (ndarray, generic)) or foreign(x)


def data_of(x):
    """The array inside ``x``: a tensor's data, a batch's stacked value, else ``x`` itself."""
    data = getattr(x, "_data", None)
    if data is not None:
        return data
    value = getattr(x, "value", None)
    return x if value is None else value


def device(x):
    """The device of array ``x`` (None for NumPy data, which lives on the host)."""
    if type(x) in NUMPY_TYPES or not foreign(x):
        return None
    return x.device


# ---------------------------------------------------------------------------------------------
# Dtypes: NumPy's are the library's; another namespace's map to them by name
# ---------------------------------------------------------------------------------------------

_NUMPY_OF: dict = {}


def numpy_dtype(dtype) -> np.dtype:
    """The NumPy dtype of ``dtype`` (a NumPy dtype or scalar type, or another namespace's dtype
    object such as ``array_api_strict.float32``, matched by name)."""
    if isinstance(dtype, np.dtype):
        return dtype
    if isinstance(dtype, type) and issubclass(dtype, generic):
        return np.dtype(dtype)
    found = _NUMPY_OF.get(dtype)
    if found is None:
        name = getattr(dtype, "name", None) or str(dtype).rsplit(".", 1)[-1]
        found = _NUMPY_OF[dtype] = np.dtype(name)
    return found


def kind(dtype) -> str:
    """NumPy's kind letter of any namespace's dtype: ``b``, ``i``, ``u``, ``f`` or ``c``."""
    return numpy_dtype(dtype).kind


def dtype_of(x) -> np.dtype:
    """The NumPy dtype of an array, scalar or Python number (NEP 50: a Python number's own)."""
    dt = getattr(x, "dtype", None)
    if dt is None:
        return np.result_type(x)
    return dt if isinstance(dt, np.dtype) else numpy_dtype(dt)


def dtype_in(space, dtype):
    """``dtype`` (any namespace's) as namespace ``space`` names it."""
    dtype = numpy_dtype(dtype)
    return dtype if space is np else getattr(space, dtype.name)


def floating_dtype(*dtypes) -> np.dtype:
    """PyTorch's dtype for a floating function (exp, sqrt, division, ...) of inputs of
    ``dtypes`` (None for a Python number): the widest floating one; bool and integer inputs
    alone give the default float dtype (``cr.get_default_dtype()``)."""
    best = None
    for dt in dtypes:
        if dt is not None:
            dt = numpy_dtype(dt)
            if dt.kind == "f" and (best is None or dt.itemsize > best.itemsize):
                best = dt
    return D.get_default_dtype() if best is None else best


# PyTorch's type promotion (``torch.result_type``; c10's ``ResultTypeState``), decided here once.
#
# The operands fall into three priorities: tensors with dimensions, 0-d tensors ("dimensionless":
# a tensor's 0-d data, a 0-d NumPy array given as an operand) and Python numbers ("wrapped
# numbers": bool, int as int64, float as the default float dtype). Within each priority the dtypes
# promote as ``promote_types``; a lower priority changes the result only when it is of a higher
# category (bool < integer < floating < complex), and then to the dtype promotion gives: a float32
# tensor times a 0-d float64 tensor is float32, an int32 tensor times a 0-d float64 tensor
# float64, an int32 tensor times a Python float the default float dtype.

def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's ``torch.promote_types`` of two NumPy dtypes: NumPy's table, except that a
    bool or integer dtype with a floating (or complex) one gives that floating dtype (NumPy
    widens it: int16 with float16 is float32 there, int64 with float32 float64)."""
    if a is b or a == b:
        return a
    ka, kb = a.kind, b.kind
    if ka in "fc" and kb in "biu":
        return a
    if kb in "fc" and ka in "biu":
        return b
    return np.promote_types(a, b)


def _wrapped_dtype(value) -> np.dtype:
    """The dtype PyTorch gives a Python number taking part in an operation (a wrapped number)."""
    if value is True or value is False:
        return BOOL
    if isinstance(value, int):
        return _I64
    if isinstance(value, float):
        return D.get_default_dtype()
    if isinstance(value, complex):
        return _C128 if D.get_default_dtype() == _F64 else _C64
    return np.result_type(value)


def _combine(higher, lower):
    """c10's ``combine_categories``: ``higher`` (a higher priority's dtype, or None) decides unless
    ``lower`` is of a higher category."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    kh, kl = higher.kind, lower.kind
    if kh == "c":
        return higher
    if kl == "c":
        return np.promote_types(higher, _C64) if kh == "f" else lower
    if kh == "f":
        return higher
    if kh == "b" or kl == "f":
        return promote_types(higher, lower)
    return higher


def result_dtype(*operands, floating: bool = False) -> np.dtype:
    """PyTorch's result dtype (``torch.result_type``) of an operation on ``operands``: arrays of
    any namespace (a 0-d one is a 0-d tensor, which does not widen the dtype of a tensor with
    dimensions within its category) and Python numbers (weaker still); None skipped. With
    ``floating``, an integer or bool result is the default float dtype (division, ``logaddexp``).
    The one place where a multi-operand result dtype is decided (see above)."""
    dim = zero = wrapped = None
    for v in operands:
        if v is None:
            continue
        dt = getattr(v, "dtype", None)
        if dt is None:
            dt = _wrapped_dtype(v)
            wrapped = dt if wrapped is None else promote_types(wrapped, dt)
            continue
        if type(dt) is not np.dtype:
            dt = numpy_dtype(dt)
        if v.shape:
            dim = dt if dim is None else promote_types(dim, dt)
        else:
            zero = dt if zero is None else promote_types(zero, dt)
    out = _combine(dim, _combine(zero, wrapped))
    if out is None:
        raise TypeError("result_dtype: no operands")
    if floating and out.kind in "biu":
        return D.get_default_dtype()
    return out


def in_dtype(value, dtype):
    """Operand ``value`` as an operation computes it in ``dtype`` (its result dtype, see
    ``result_dtype``): arrays cast (no copy when they have it), Python numbers rounded to a
    floating ``dtype`` as PyTorch does (integers stay Python's: NumPy takes them in the arrays'
    dtype, and compares those out of its range exactly)."""
    dt = getattr(value, "dtype", None)
    if dt is None:
        if value is None or numpy_dtype(dtype).kind != "f":
            return value
        return numpy_dtype(dtype).type(value)
    if dt == dtype:
        return value
    return astype(value, dtype)


# ---------------------------------------------------------------------------------------------
# Creation and conversion
# ---------------------------------------------------------------------------------------------

def full(shape, value, dtype, like=None):
    """A new array of ``shape`` filled with ``value``, in ``like``'s namespace and device."""
    space = namespace(like)
    if space is np:
        return np.full(shape, value, dtype=numpy_dtype(dtype))
    dtype = dtype_in(space, dtype)
    if not isinstance(value, (int, float)):  # an array: the standard fills with Python numbers only
        return space.asarray(space.broadcast_to(space.astype(value, dtype), tuple(shape)), copy=True)
    return space.full(tuple(shape), value, dtype=dtype, device=like.device)


def zeros(shape, dtype, like=None):
    return full(shape, 0, dtype, like)


def ones(shape, dtype, like=None):
    return full(shape, 1, dtype, like)


def arange(n: int, like=None):
    """``0, 1, ..., n - 1`` (the default integer dtype) in ``like``'s namespace and device."""
    space = namespace(like)
    if space is np:
        return np.arange(n)
    return space.arange(n, device=like.device)


def eye(n: int, dtype, like=None):
    """The ``n`` x ``n`` identity matrix in ``dtype`` (``BOOL`` for a mask), in ``like``'s
    namespace and device."""
    space = namespace(like)
    if space is np:
        return np.eye(n, dtype=numpy_dtype(dtype))
    return space.eye(n, dtype=dtype_in(space, dtype), device=like.device)


def upper_mask(n: int, like=None):
    """The ``n`` x ``n`` bool mask of ``j >= i`` (the upper triangle, diagonal included)."""
    index = arange(n, like)
    return index[:, None] <= index[None, :]


def one_hot(target, n: int, dim: int, dtype):
    """1 where an axis of ``n`` classes inserted at ``dim`` equals the integer ``target``, 0
    elsewhere, in ``dtype``, in the target's namespace and device."""
    space = namespace(target)
    ndim = len(shape_of(target)) + 1
    classes = space.reshape(arange(n, target), tuple(n if i == dim else 1 for i in range(ndim)))
    return astype(space.expand_dims(space.asarray(target), axis=dim) == classes, dtype)


def class_index(target, ndim: int, dim: int):
    """The NumPy index that picks each sample's target class along ``dim`` of an ndarray of
    ``ndim`` dimensions (``target`` an integer ndarray): plain fancy indexing for (N, C)."""
    if ndim == 2 and dim == 1:  # (N, C) logits: the common and fast case
        return np.arange(target.shape[0]), target
    grids = list(np.ogrid[tuple(slice(n) for n in target.shape)])
    grids.insert(dim, target)
    return tuple(grids)


def one(x):
    """1 in the shape, dtype and namespace of ``x`` (a NumPy scalar for 0-d NumPy data): the
    seed of a backward pass."""
    if type(x) in NUMPY_TYPES:
        return x.dtype.type(1) if x.shape == () else np.ones(x.shape, x.dtype)
    return full(x.shape, 1, x.dtype, x)


def as_array(value, dtype=None, like=None):
    """``value`` (a number or an array) as an array (in ``dtype``) of ``like``'s namespace and
    device, by default its own."""
    if like is None:
        like = value
    space = namespace(like)
    if space is np:
        return np.asarray(value, dtype=None if dtype is None else numpy_dtype(dtype))
    return space.asarray(value, dtype=None if dtype is None else dtype_in(space, dtype), device=like.device)


def astype(x, dtype):
    """``x`` in ``dtype`` (any namespace's dtype; no copy when it already has it). Complex to
    real: the real part (PyTorch's, without NumPy's warning)."""
    if type(x) is ndarray or isinstance(x, generic):
        dtype = numpy_dtype(dtype)
        if x.dtype.kind == "c" and dtype.kind != "c":
            x = x.real
        return x.astype(dtype, copy=False)
    if not foreign(x):
        return np.asarray(x, dtype=numpy_dtype(dtype))
    space = x.__array_namespace__()
    return space.astype(x, dtype_in(space, dtype), copy=False)


def copy(x):
    """A new array with its own memory holding ``x``'s values (a NumPy scalar becomes a 0-d
    array)."""
    if type(x) in NUMPY_TYPES or not foreign(x):
        return np.array(x)
    return x.__array_namespace__().asarray(x, copy=True)


def any_true(x) -> bool:
    """Whether any element of ``x`` (a bool array of any namespace, or a NumPy scalar) is true.

    A decision on values: inside a trace (``cr.jit``) the compiled code could not check it
    again, so rules decide through ``tracing.decide`` on the tensor instead where they can."""
    if _tracing[0]:
        tracing.impure("a decision inside a rule on values it cannot follow")
    return any_of(x)


def any_of(x) -> bool:
    """``any_true`` without the tracer's notice: for ``tracing.decide``'s functions."""
    if type(x) in NUMPY_TYPES or not foreign(x):
        return bool(np.any(x))
    return bool(x.__array_namespace__().any(x))


def shape_of(x) -> tuple:
    """The shape of an array, scalar or Python number."""
    shape = getattr(x, "shape", None)
    return np.shape(x) if shape is None else shape


def all_finite(x) -> bool:
    """Whether every element of ``x`` (an array of any namespace, or a number) is finite."""
    if type(x) in NUMPY_TYPES or not foreign(x):
        return bool(np.all(np.isfinite(x)))
    space = x.__array_namespace__()
    return bool(space.all(space.isfinite(x)))


def ndim(x) -> int:
    """The number of dimensions of an array, scalar or Python number."""
    return len(shape_of(x))


def expand_dims(x, axis: int):
    """``x`` with an axis of size 1 inserted at ``axis``, in its own namespace."""
    return namespace(x).expand_dims(x, axis=axis)


def broadcast_shapes(*shapes) -> tuple:
    """The shape ``shapes`` broadcast to (ValueError when they don't)."""
    return np.broadcast_shapes(*shapes)


# ---------------------------------------------------------------------------------------------
# NumPy's memory model (the engine's in-place fast paths)
# ---------------------------------------------------------------------------------------------

def own_memory(a) -> bool:
    """Whether ``a`` may be written in place once its owner gives leave: an ndarray with its own,
    writable, contiguous memory (never a view, whose base someone else may hold). Who owns it
    is the engine's to know (it tracks the buffers it made); this only checks the array."""
    flags = a.flags
    return flags.owndata and flags.writeable and (flags.c_contiguous or flags.f_contiguous)


def may_share_memory(a, b) -> bool:
    """Whether arrays ``a`` and ``b`` may share memory (NumPy's bound; for other namespaces,
    which do not say, True: a result is taken for a view of its input)."""
    if type(a) in NUMPY_TYPES and type(b) in NUMPY_TYPES:
        return np.may_share_memory(a, b)
    return True


def contiguous(a):
    """``a`` laid out in C order (NumPy arrays; other namespaces choose their own layout)."""
    if type(a) is ndarray and not a.flags.c_contiguous:
        return np.ascontiguousarray(a)
    return a


def multiply_into(g, d):
    """``g * d`` written into ``g`` (both ndarrays of one shape; ``g`` owned by the caller)."""
    return np.multiply(g, d, out=g)


# ---------------------------------------------------------------------------------------------
# The broadcasting reduction
# ---------------------------------------------------------------------------------------------

def sum_to_shape(array, shape: tuple[int, ...]):
    """Sum ``array`` over the axes broadcasting added or stretched to reach ``shape``."""
    if array.shape == shape:
        return array
    lead = array.ndim - len(shape)
    rest = tuple(i for i, n in enumerate(shape) if n == 1 and array.shape[i + lead] != 1)
    if type(array) is not ndarray and foreign(array):
        space = array.__array_namespace__()
        result = space.sum(array, axis=tuple(range(lead))) if lead else array
        return space.sum(result, axis=rest, keepdims=True) if rest else result
    # Leading axes are summed away without keepdims, so the result owns its memory (the engine
    # may then hand it to .grad without a copy).
    result = array.sum(axis=tuple(range(lead))) if lead else array
    if rest:
        result = result.sum(axis=rest, keepdims=True)
    return result


def prod(shape) -> int:
    """The number of elements of an array of ``shape``."""
    return math.prod(shape)
