"""Complex numbers: ``real``, ``imag``, ``conj``, ``angle``, ``complex``, ``polar``,
``view_as_real``, ``view_as_complex``.

Gradients are PyTorch's (the conjugate Wirtinger convention of ``.grad``). The rules here are
written in the walk's transpose convention (see ``core/engine``'s doc): the VJP of a linear map
is its transpose, ``conj``'s is ``conj``, ``real``'s embeds the real cotangent, ``imag``'s
multiplies it by ``-1j``. Example::

    >>> z = cr.tensor([1 + 2j], requires_grad=True)
    >>> (z.abs() ** 2).sum().backward()
    >>> z.grad                                     # 2 z, as PyTorch
    tensor([2.+4.j], dtype=chainrule.complex64)
"""

from __future__ import annotations

import math

import numpy as np

from ..core import backend as B
from ..core.tensor import Tensor
from ._define import define, named
from ._table import public
from .elementwise import COMPLEX, cast, complex_unsupported, cos, mul, sin
from .shape import MAY_COPY, _view

_PY_COMPLEX = complex  # Python's type (this module defines a function of that name)

COMPLEX.update({"conj", "real", "imag", "angle", "complex", "view_as_real", "view_as_complex", "where", "sum", "mean", "prod",
                "cumsum", "cumprod", "var", "std", "matmul", "dot", "einsum", "fft_c2c"})


def _kind(x) -> str:
    dt = getattr(x, "dtype", None)
    if dt is None:
        return "c" if type(x) is _PY_COMPLEX else "f"
    return B.kind(dt)


def _complex_of(dtype) -> np.dtype:
    """The complex dtype of a real floating ``dtype`` (float64: complex128, else complex64)."""
    return np.dtype(np.complex128) if np.dtype(dtype) == np.float64 else np.dtype(np.complex64)


def _number(x):
    """A Python complex number as a 0-d array of the default complex dtype (PyTorch's)."""
    if type(x) is _PY_COMPLEX:
        from ..core import dtypes as D

        return np.asarray(x, dtype=_complex_of(D.get_default_dtype()))
    return x


def _conj(x):
    x = _number(x)
    if _kind(x) != "c":
        return np.array(x, copy=True) if isinstance(x, np.ndarray) else x
    return np.conjugate(x)


conj = define("conj", _conj, (lambda m, g, ans, x: m.conj(g),),
              lambda m, tangents, ans, x: m.conj(tangents[0]), save_inputs=False,
              batching="elementwise", ufunc="conjugate", aliases=("conjugate", "conj_physical"),
              method=True, doc="the complex conjugate (the input's values for real tensors)")


def _real(x):
    """The real part: a view of a complex array's memory; a real array itself (PyTorch's ``t.real``
    is ``t`` for real ``t``)."""
    x = _number(x)
    if _kind(x) != "c":
        return x
    return np.real(x)


def _real_vjp(m, g, ans, x):
    return m.cast(g, dtype=x.dtype) if _kind(x) == "c" else g


real_ = define("real", _real, (_real_vjp,), lambda m, tangents, ans, x: m.real(tangents[0]),
               save_inputs="meta", batching="elementwise", public=False,
               doc="the real part (the values of a real tensor)")


def _imag(x):
    x = _number(x)
    if _kind(x) != "c":
        raise TypeError(f"imag: not defined for real tensors (got dtype {B.dtype_of(x)}), as in "
                        f"PyTorch; a real tensor's imaginary part is zero (cr.zeros_like(x))")
    return np.imag(x)  # a view of the memory


def _imag_vjp(m, g, ans, x):
    return m.mul(m.cast(g, dtype=x.dtype), -1j)


imag_ = define("imag", _imag, (_imag_vjp,), lambda m, tangents, ans, x: m.imag(tangents[0]),
               save_inputs="meta", batching="elementwise", public=False, doc="the imaginary part")


@public(numpy="real")
def real(input):  # noqa: A002
    """The real part of a tensor (``t.real``), a view as in PyTorch and NumPy (writing into it
    changes the complex tensor); a real tensor's values. ``cr.real(cr.tensor([1+2j]))`` is
    ``tensor([1.])``."""
    return _view(real_, input, {})


@public(numpy="imag")
def imag(input):  # noqa: A002
    """The imaginary part of a complex tensor (``t.imag``), a view as ``real``:
    ``cr.imag(cr.tensor([1+2j]))`` is ``tensor([2.])``; real tensors are refused, as in PyTorch."""
    return _view(imag_, input, {})


def _angle(x):
    x = _number(x)
    if _kind(x) == "c":
        return np.angle(x)
    if _kind(x) not in "f":
        x = np.asarray(x, dtype=B.floating_dtype(None))
    out = np.where(x < 0, math.pi, 0.0).astype(x.dtype)
    return np.where(np.isnan(x), x, out)


def _angle_vjp(m, g, ans, x):
    """``-1j g conj(z) / |z|²`` (the transpose of ``t -> Im(t / z)``), 0 at 0; 0 for real ``x``."""
    if _kind(x) != "c":
        return m.zeros_like(x) * g
    r2 = m.real(x * m.conj(x))
    zero = r2 == 0
    return m.where(zero, 0.0, m.cast(g, dtype=x.dtype) * m.conj(x) / m.where(zero, 1.0, r2) * -1j)


def _angle_jvp(m, tangents, ans, x):
    t = tangents[0]
    if _kind(x) != "c":
        return m.zeros_like(ans)
    r2 = m.real(x * m.conj(x))
    zero = r2 == 0
    return m.where(zero, 0.0, m.imag(t * m.conj(x)) / m.where(zero, 1.0, r2))


angle_ = define("angle", _angle, (_angle_vjp,), _angle_jvp, batching="elementwise", public=False,
                doc="the argument (phase) of complex numbers")


@public(method=True, numpy="angle")
def angle(input, deg: bool = False):  # noqa: A002
    """The argument (phase) of complex numbers, in (-pi, pi] (degrees with ``deg``, NumPy's
    keyword); 0 or pi for real ones. ``cr.angle(cr.tensor([1j]))`` is ``tensor([1.5708])``."""
    if not isinstance(deg, (bool, B.bool_)):
        raise TypeError(f"angle: deg must be True or False, got {type(deg).__name__} {deg!r:.40}")
    out = angle_(input)
    return out * (180.0 / math.pi) if deg else out


def _complex(re, im):
    from ..core import dtypes as D

    dt_r, dt_i = (D.get_default_dtype() if type(v) is float else B.dtype_of(v) for v in (re, im))
    if dt_r.kind != "f" or dt_i.kind != "f" or dt_r != dt_i:
        raise TypeError(f"complex: expected real and imag of the same floating dtype (float32 or "
                        f"float64), got {dt_r} and {dt_i}; convert them first, e.g. x.float()")
    shape = np.broadcast_shapes(np.shape(re), np.shape(im))
    out = np.empty(shape, dtype=_complex_of(dt_r))
    out.real = re
    out.imag = im
    return out


def _complex_jvp(m, tangents, ans, re, im):
    tr, ti = tangents
    dt = ans.dtype
    out = None if tr is None else m.cast(tr, dtype=dt)
    if ti is not None:
        part = m.mul(m.cast(ti, dtype=dt), 1j)
        out = part if out is None else out + part
    return out


complex_ = define("complex", _complex,
                  (lambda m, g, ans, re, im: m.real(g), lambda m, g, ans, re, im: -m.imag(g)),
                  _complex_jvp, save_inputs=False, broadcasts=True, batching="elementwise",
                  public=False, doc="real + 1j * imag")


@public()
def complex(real, imag):  # noqa: A001
    """The complex tensor ``real + 1j * imag`` (PyTorch's ``torch.complex``; both float32 or both
    float64): ``cr.complex(cr.tensor([1.]), cr.tensor([2.]))`` is ``tensor([1.+2.j])``."""
    return complex_(real, imag)


@public()
def polar(abs, angle):  # noqa: A002
    """``abs * (cos(angle) + 1j sin(angle))`` (PyTorch's ``torch.polar``)."""
    from ..core import dtypes as D

    abs, angle = (D.check_operand("polar", v, n) for v, n in ((abs, "abs"), (angle, "angle")))  # noqa: A001
    dts = [D.get_default_dtype() if type(v) is float else B.dtype_of(getattr(v, "_data", v)) for v in (abs, angle)]
    if dts[0] != dts[1] or dts[0].kind != "f" or dts[0].itemsize < 4:
        raise TypeError(f"polar: expected abs and angle of the same floating dtype (float32 or float64), "
                        f"got {dts[0]} and {dts[1]}")
    return named("polar", lambda: complex_(mul(abs, cos(angle)), mul(abs, sin(angle))))


def _view_as_real(x):
    """``(..., 2)``: the real and imaginary parts of each number, a view of the memory."""
    x = np.asarray(x)
    return np.lib.stride_tricks.as_strided(np.real(x), shape=x.shape + (2,), strides=x.strides + (x.itemsize // 2,))


def _view_as_complex(x):
    """The complex numbers of pairs along the last axis: a view where the layout allows it (the
    public function refuses other layouts, as PyTorch), else a copy (tangents, view chains)."""
    x = np.asarray(x)
    if x.strides[-1] == x.itemsize and all(st % (2 * x.itemsize) == 0 for st in x.strides[:-1]):
        return x.view(_complex_of(x.dtype))[..., 0]
    return x[..., 0] + 1j * x[..., 1].astype(_complex_of(x.dtype))


def _batch_last(ns, fn, args, params):
    """Batching of an operation on the last axis (a new one, or one that goes away)."""
    return ns.wrap(fn(args[0].value, **params))


view_as_real_ = define(
    "view_as_real", _view_as_real,
    (lambda m, g, ans, x: m.complex(m.getitem(g, index=(Ellipsis, 0)), -m.getitem(g, index=(Ellipsis, 1))),),
    lambda m, tangents, ans, x: m.view_as_real(tangents[0]), save_inputs=False, batching=_batch_last,
    public=False, doc="real and imaginary parts along a new last axis (a view)")

view_as_complex_ = define(
    "view_as_complex", _view_as_complex, (lambda m, g, ans, x: m.view_as_real(m.conj(g)),),
    lambda m, tangents, ans, x: m.view_as_complex(tangents[0]), save_inputs=False, batching=_batch_last,
    public=False, doc="complex numbers from (real, imaginary) pairs along the last axis (a view)")
MAY_COPY.add("view_as_complex")


@public()
def view_as_real(input):  # noqa: A002
    """A complex tensor's real and imaginary parts along a new last axis of size 2, a view as in
    PyTorch (writing into it changes the complex tensor): shape ``(..., 2)``.

    >>> cr.view_as_real(cr.tensor([1 + 2j]))
    tensor([[1., 2.]])
    """
    from ..core.dtypes import check_operand

    input = check_operand("view_as_real", input, "input")  # noqa: A001
    if _kind(getattr(input, "_data", input)) != "c":
        raise TypeError(f"view_as_real: expected a complex tensor, got dtype {B.dtype_of(getattr(input, '_data', input))}")
    return _view(view_as_real_, input, {})


@public()
def view_as_complex(input):  # noqa: A002
    """The complex tensor of a float32/float64 one of shape ``(..., 2)`` (real and imaginary
    parts), a view of its memory; as in PyTorch, the pairs must be contiguous (last stride 1,
    the other strides even: else ``.contiguous()`` first).

    >>> cr.view_as_complex(cr.tensor([[1.0, 2.0]]))
    tensor([1.+2.j])
    """
    from ..core.dtypes import check_operand

    input = check_operand("view_as_complex", input, "input")  # noqa: A001
    data = getattr(input, "_data", input)
    shape = tuple(B.shape_of(data))
    if not shape or shape[-1] != 2:
        raise ValueError(f"view_as_complex: expected a tensor whose last dimension has size 2, got shape {shape}")
    dt = B.dtype_of(data)
    if dt.kind != "f" or dt.itemsize < 4:
        raise TypeError(f"view_as_complex: expected a float32 or float64 tensor, got dtype {dt}")
    strides = getattr(data, "strides", None)
    if type(data) is B.ndarray and strides is not None and data.size and (
            strides[-1] != data.itemsize or any(st % (2 * data.itemsize) for st in strides[:-1])):
        # PyTorch refuses these too: a copy would silently lose the writes made through it
        raise RuntimeError(
            f"view_as_complex: the tensor (shape {shape}, strides {tuple(st // data.itemsize for st in strides)} "
            f"in elements) must have a last dimension with stride 1 and the other strides even, to be "
            f"seen as complex numbers without a copy; call .contiguous() first")
    return _view(view_as_complex_, input, {})


@public(method=True)
def is_complex(input) -> bool:  # noqa: A002
    """Whether the tensor's dtype is complex (complex64 or complex128)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_complex: expected a tensor, got {type(input).__name__} {input!r:.40}")
    return _kind(input._data) == "c"


def _property(op):
    def get(self):
        return _view(op, self, {})

    return property(get)


Tensor.real = _property(real_)  # type: ignore[attr-defined]
Tensor.imag = _property(imag_)  # type: ignore[attr-defined]

__all__ = ["conj", "real", "imag", "angle", "complex", "polar", "view_as_real", "view_as_complex",
           "is_complex", "cast", "complex_unsupported"]
