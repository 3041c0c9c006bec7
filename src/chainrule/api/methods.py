"""Tensor methods and operators, attached once at import from the public functions."""

from __future__ import annotations

import numpy as np

from ..autograd.core import tensor_backward
from ..core import backend as B
from ..core import dtypes as D
from ..core.creation import NEW_METHODS
from ..core.tensor import Tensor
from ..ops import comparisons as CMP
from ..ops import elementwise as E
from ..ops import indexing as IX
from ..ops import inplace as I
from ..ops import piecewise as PW
from ..ops import shape as S
from ..ops._define import named
from ..ops._table import Operation, subscribe
from . import numpy_protocols as _interop

_add, _sub, _mul, _div = E.add, E.sub, E.mul, E.div


# Python's operator protocol: the dunder methods that an operation's declared ``operator`` gives
# (name stem, reflected, in-place method name). ``&``, ``|``, ``^``, ``~`` and indexing are below.
_PROTOCOL = {
    "+": ("add", True, "add_"), "-": ("sub", True, "sub_"), "*": ("mul", True, "mul_"),
    "/": ("truediv", True, "div_"), "**": ("pow", True, None), "@": ("matmul", True, None),
    "<": ("lt", False, None), "<=": ("le", False, None), ">": ("gt", False, None),
    ">=": ("ge", False, None), "==": ("eq", False, None), "!=": ("ne", False, None),
    "neg": ("neg", None, None), "abs": ("abs", None, None),
    "%": ("mod", True, "remainder_"),  # remainder: Python's floor-mod sign convention
}


def _is_contiguous(self) -> bool:
    """Whether the memory is in C order (PyTorch's default layout)."""
    data = self._data
    return type(data) is not np.ndarray or bool(data.flags.c_contiguous)


def _stride(self, dim=None):
    """The step in elements between neighbours along each dimension (PyTorch's ``stride``)."""
    data = self._data
    if not hasattr(data, "strides"):
        data = np.asarray(data)
    steps = tuple(st // data.itemsize for st in data.strides)
    if dim is None:
        return steps
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"stride: dim must be an int, got {dim!r:.40}")
    if not -max(len(steps), 1) <= dim < max(len(steps), 1) or not steps:
        raise IndexError(f"stride: dim {dim} is out of range for a tensor of {len(steps)} dimensions")
    return steps[dim]


def _operator_methods(symbol: str, fn) -> dict:
    """The dunder methods of ``fn`` as the Python operator ``symbol``."""
    stem, reflected, inplace = _PROTOCOL[symbol]
    if reflected is None:
        def unary(self):
            return fn(self)

        unary._operation = fn  # type: ignore[attr-defined]

        return {f"__{stem}__": unary}

    def forward(self, other):
        return fn(self, other)

    methods = {f"__{stem}__": forward}
    if reflected:
        def backward(self, other):
            return fn(other, self)

        methods[f"__r{stem}__"] = backward
    if inplace is not None:
        def update(self, other):
            return I.apply_inplace(inplace, self, fn, _operand(inplace, other))

        methods[f"__i{stem}__"] = update
    for method in methods.values():
        method._operation = fn  # type: ignore[attr-defined]  # what withdrawing removes
    return methods


def _fixed_operators():
    """The operators that are not operations of the table."""
    def __pos__(self):
        return self

    def __and__(self, other):
        return _bitwise("__and__", np.bitwise_and, CMP.logical_and, self, other)

    def __rand__(self, other):
        return _bitwise("__rand__", np.bitwise_and, CMP.logical_and, other, self)

    def __or__(self, other):
        return _bitwise("__or__", np.bitwise_or, CMP.logical_or, self, other)

    def __ror__(self, other):
        return _bitwise("__ror__", np.bitwise_or, CMP.logical_or, other, self)

    def __xor__(self, other):
        return _bitwise("__xor__", np.bitwise_xor, CMP.ne, self, other)

    def __rxor__(self, other):
        return _bitwise("__rxor__", np.bitwise_xor, CMP.ne, other, self)

    def __invert__(self):
        if B.numpy_dtype(self._data.dtype) == B.BOOL:
            return CMP.logical_not(self)
        return _bitwise("__invert__", np.invert, None, self)

    def __getitem__(self, key):
        return IX.index(self, key)

    def __contains__(self, element):
        """``element in t``: whether some entry equals ``element`` (PyTorch's ``(t == element).any()``)."""
        if not isinstance(element, (Tensor, int, float, np.number, np.bool_)):
            raise RuntimeError(f"__contains__: `in` takes a tensor or a number (as in PyTorch), got "
                               f"{type(element).__name__}")
        found = named("__contains__", CMP.eq, self, element)._data
        return bool(np.any(found))

    def __setitem__(self, key, value):
        I.setitem(self, key, _operand("setitem", value, "the value"))

    return {k: v for k, v in locals().items() if k.startswith("__")}


def _operand(op, other, name="other"):
    """``other`` checked for an in-place update (tensors and Python numbers pass untouched)."""
    if type(other) is Tensor or type(other) is float or type(other) is int:
        return other
    return D.check_operand(op, other, name)


def _scalar(op, name, value, optional=False):
    """A real number (or a one-element tensor) for ``alpha``, ``fill_`` and ``clamp_`` bounds."""
    if value is None and optional:
        return value
    if isinstance(value, Tensor):
        if value._data.size != 1:
            raise RuntimeError(f"{op}: {name} must be a number or a one-element tensor, got shape {value._data.shape}")
        return value
    if isinstance(value, (np.ndarray, np.generic)) and value.size == 1 and value.dtype.kind in "biuf":
        return value.item()
    if not isinstance(value, (int, float)):  # bool is an int
        why = " (complex numbers are not supported yet)" if isinstance(value, complex) else ""
        raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__} {value!r:.40}{why}")
    return value


def _same_shape(op, self, other):
    """An in-place update cannot change ``self``'s shape: ``other`` must broadcast to it."""
    shape = np.shape(other._data if isinstance(other, Tensor) else other)
    if shape and shape != self._data.shape:
        try:
            ok = np.broadcast_shapes(shape, self._data.shape) == self._data.shape
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(
                f"{op}: the operand of shape {tuple(shape)} does not broadcast to the shape "
                f"{self._data.shape} of the tensor updated in place"
            )


def _bitwise(op, ufunc, logical, *operands):
    """``& | ^ ~`` as PyTorch: logical on bool tensors, bitwise on integers, refused on floats."""
    datas = [o._data if isinstance(o, Tensor) else B.as_array(D.check_operand(op, o)) for o in operands]
    kinds = {B.kind(d.dtype) for d in datas}
    if kinds <= {"b"} and logical is not None:
        return logical(*operands)
    if not kinds <= {"b", "i", "u"}:
        dtypes = ", ".join(str(d.dtype) for d in datas)
        raise TypeError(f"{op}: bitwise operations need integer or bool tensors, got {dtypes}")
    return Tensor._wrap(np.asarray(ufunc(*datas)))


def _inplace_methods():
    def add_(self, other, alpha=1):
        other = _operand("add_", other)
        alpha = _scalar("add_", "alpha", alpha)
        return I.apply_inplace("add_", self, _add, other if alpha == 1 else _mul(other, alpha))

    def sub_(self, other, alpha=1):
        other = _operand("sub_", other)
        alpha = _scalar("sub_", "alpha", alpha)
        return I.apply_inplace("sub_", self, _sub, other if alpha == 1 else _mul(other, alpha))

    def mul_(self, other):
        return I.apply_inplace("mul_", self, _mul, _operand("mul_", other))

    def div_(self, other):
        return I.apply_inplace("div_", self, _div, _operand("div_", other))

    def clamp_(self, min=None, max=None):  # noqa: A002
        min = _scalar("clamp_", "min", min, optional=True)  # noqa: A001
        max = _scalar("clamp_", "max", max, optional=True)  # noqa: A001
        if min is None and max is None:
            raise ValueError("clamp_: at least one of min and max must be given")
        return I.apply_inplace("clamp_", self, PW.clamp_prim, min=min, max=max)

    def zero_(self):
        return I.zero_(self)

    def fill_(self, value):
        return I.fill_(self, _scalar("fill_", "value", value))

    def copy_(self, src):
        src = _operand("copy_", src, "src")
        _same_shape("copy_", self, src)
        return I.copy_(self, src)

    return dict(add_=add_, sub_=sub_, mul_=mul_, div_=div_, clamp_=clamp_, zero_=zero_,
                fill_=fill_, copy_=copy_)


def _method(function):
    def method(self, *args, **kwargs):
        return function(self, *args, **kwargs)

    method.__name__ = getattr(function, "__name__", None) or function.name
    method.__doc__ = function.__doc__
    method._operation = function
    return method


def _conversions():
    def to(self, dtype=None, *args, **kwargs):
        """A tensor of ``dtype`` (itself when it already is); devices other than 'cpu' are refused."""
        unknown = set(kwargs) - {"dtype", "device", "copy", "non_blocking"}
        if unknown:
            raise TypeError(f"to: unexpected keyword argument(s) {sorted(unknown)}; to() takes dtype and device")
        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", dtype)
        for where in (device, dtype, *args):
            if isinstance(where, str) and where.split(":")[0] in ("cuda", "mps", "xpu", "meta"):
                raise RuntimeError(f"to: device {where!r} is not available; chainrule tensors live on the CPU")
        if device not in (None, "cpu"):
            raise TypeError(f"to: device must be 'cpu', got {device!r:.40}")
        if isinstance(dtype, str) and dtype in ("cpu",):
            dtype = args[0] if args else None
        if dtype is None:
            return self
        dtype = D.resolve(dtype, "to")
        return self if dtype == B.numpy_dtype(self._data.dtype) else E.cast(self, dtype=dtype)

    def type(self, dtype=None):  # noqa: A001
        if dtype is None:
            return f"chainrule.{self._data.dtype.name}"
        return to(self, D.resolve(dtype, "type"))

    def float(self):  # noqa: A001
        return to(self, D.float32)

    def double(self):
        return to(self, D.float64)

    def half(self):
        return to(self, D.float16)

    def long(self):
        return to(self, D.int64)

    def int(self):  # noqa: A001
        return to(self, D.int32)

    def bool(self):  # noqa: A001
        return to(self, D.bool)

    def contiguous(self):
        """``self`` if its memory is in C order, else a C-ordered copy (PyTorch's: a write into
        the copy does not reach ``self``)."""
        data = self._data
        if data.__class__ is not np.ndarray or data.flags.c_contiguous:  # (type: a method here)
            return self
        out = S.clone(self)
        out._data = B.contiguous(out._data)
        return out

    def cpu(self):
        return self

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    return dict(to=to, type=type, float=float, double=double, half=half, long=long, int=int,
                bool=bool, contiguous=contiguous, is_contiguous=_is_contiguous, stride=_stride, cpu=cpu,
                is_floating_point=is_floating_point)


def _install_operation(op: Operation) -> None:
    """The Tensor methods and operators that ``op`` declares (see ``ops/_table``)."""
    methods = {name: _method(op.function) for name in op.names} if op.method else {}
    if op.operator is not None:
        methods.update(_operator_methods(op.operator, op.function))
    for name, fn in methods.items():
        existing = Tensor.__dict__.get(name)
        if existing is not None and not hasattr(existing, "_operation"):  # not one made here
            raise ValueError(f"{op.name}: Tensor already has an attribute {name!r} of its own; "
                             f"choose another name or declare method=False")
        setattr(Tensor, name, fn)


def _withdraw_operation(op: Operation) -> None:
    names = list(op.names) if op.method else []
    if op.operator is not None:
        names += list(_operator_methods(op.operator, op.function))
    for name in names:
        existing = Tensor.__dict__.get(name)
        if getattr(existing, "_operation", None) is op.function:
            delattr(Tensor, name)


_install_operation.withdraw = _withdraw_operation  # type: ignore[attr-defined]


def _above_the_tensor():
    """Methods whose work sits above the Tensor class: the backward pass and the transposes."""
    def T(self):
        return S.permute(self, tuple(range(self._data.ndim - 1, -1, -1)))

    def mT(self):
        return S.transpose(self, -2, -1)

    return dict(backward=tensor_backward, T=property(T), mT=property(mT))


def install() -> None:
    for name, fn in _above_the_tensor().items():
        setattr(Tensor, name, fn)
    for name, fn in _fixed_operators().items():
        setattr(Tensor, name, fn)
    for name, fn in _inplace_methods().items():
        setattr(Tensor, name, fn)
    subscribe(_install_operation)
    for name, fn in _conversions().items():
        setattr(Tensor, name, fn)
    for name, fn in NEW_METHODS.items():
        setattr(Tensor, name, fn)
    Tensor.__array_ufunc__ = _interop.array_ufunc  # type: ignore[attr-defined]  # set once here
    Tensor.__array_function__ = _interop.array_function  # type: ignore[attr-defined]
