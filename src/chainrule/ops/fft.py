"""``cr.fft``: discrete Fourier transforms with NumPy's conventions (``n=``, ``axis=``, ``s=``,
``axes=``, ``norm="backward" | "ortho" | "forward"``), differentiable in both modes.

One primitive, ``fft_c2c`` (the complex transform over some axes, forward or inverse), carries
the gradients: a DFT matrix is symmetric, so its VJP in the walk's transpose convention (see
``core/engine``) is the same transform with the same normalisation, and its JVP the transform
of the tangent. Everything else is built on it from differentiable operations: zero padding and
truncation (``n``, ``s``), the real input made complex (``rfft``: the complex transform, its
first ``n // 2 + 1`` frequencies), the Hermitian extension of a half spectrum (``irfft``: the
real part of the inverse transform of ``X[0..n//2]`` followed by ``conj(X[n-k])``), so the
gradients equal PyTorch's ``torch.fft`` ones, Hermitian weighting included. Example::

    >>> x = cr.tensor([1.0, 2.0, 0.0, -1.0], requires_grad=True)
    >>> cr.fft.rfft(x).abs().sum().backward()
"""

from __future__ import annotations

import operator

import numpy as np

from ..core import backend as B
from ..core.tensor import Tensor
from ._define import define
from ._table import public
from .complex_numbers import _complex_of, conj, real_
from .elementwise import cast

_NORMS = ("backward", "ortho", "forward")


def _fft_c2c(x, axes, inverse=False, norm="backward"):
    out = (np.fft.ifftn if inverse else np.fft.fftn)(x, axes=axes, norm=norm)
    return out if out.dtype == x.dtype else out.astype(x.dtype)


def _fft_transpose(m, g, ans, x, axes, inverse=False, norm="backward"):
    return m.fft_c2c(g, axes=axes, inverse=inverse, norm=norm)


def _fft_jvp(m, tangents, ans, x, axes, inverse=False, norm="backward"):
    return m.fft_c2c(tangents[0], axes=axes, inverse=inverse, norm=norm)


def _fft_batching(ns, fn, args, params):
    """The axes count from the end (negative): the batch axis in front changes nothing."""
    return ns.wrap(fn(args[0].value, **params))


fft_c2c = define("fft_c2c", _fft_c2c, (_fft_transpose,), _fft_jvp, save_inputs=False,
                 batching=_fft_batching, public=False,
                 doc="the complex DFT over ``axes`` (negative ints), inverse or not, NumPy's norm")


# ---------------------------------------------------------------------------------------------
# Arguments, as NumPy checks them
# ---------------------------------------------------------------------------------------------

def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _input(op, a):
    if not isinstance(a, Tensor):
        from ..core.creation import tensor

        a = tensor(a)
    return a


def _norm(op, norm):
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise ValueError(f"{op}: invalid norm {norm!r}; use None, 'backward', 'ortho' or 'forward'")
    return norm


def _no_out(op, out):
    if out is not None:
        raise TypeError(f"{op}: out= is not supported on tensors (the result is a new tensor)")


def _as_complex(a):
    """``a`` in its complex dtype (real floating: complex64/complex128; integers and bools: the
    default float's), differentiably."""
    dt = B.dtype_of(_data(a))
    if dt.kind == "c":
        return a
    if dt.kind != "f" or dt.itemsize < 4:
        from ..core import dtypes as D

        dt = D.get_default_dtype()
    return cast(a, dtype=_complex_of(dt))


def _axis(op, axis, ndim):
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{op}: axis must be an int, got {type(axis).__name__} {axis!r:.40}") from None
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of bounds for a tensor of {ndim} dimensions")
    return axis % ndim


def _resize(a, axis, n):
    """``a`` truncated or zero-padded to ``n`` along ``axis`` (NumPy's ``n=``)."""
    from .joins import cat

    shape = tuple(_data(a).shape)
    have = shape[axis]
    if n == have:
        return a
    if n < have:
        return a[(slice(None),) * axis + (slice(0, n),)]
    pad = shape[:axis] + (n - have,) + shape[axis + 1:]
    from ..core.creation import zeros

    return cat([a, zeros(pad, dtype=_data(a).dtype)], axis)


def _length(op, n, name="n"):
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int, got {type(n).__name__} {n!r:.40}") from None
    if n < 1:
        raise ValueError(f"{op}: invalid number of data points ({n}) specified; {name} must be >= 1")
    return n


def _axes_and_sizes(op, a, s, axes, what="s"):
    """NumPy's ``s``/``axes`` rules: ``axes`` default to all axes (or the last ``len(s)``); the
    sizes default to the input's along them."""
    ndim = _data(a).ndim
    if s is not None:
        s = [None if v is None or (type(v) is int and v == -1) else v for v in s]
    if axes is None:
        axes = list(range(ndim)) if s is None else list(range(ndim - len(s), ndim))
    else:
        axes = [_axis(op, ax, ndim) for ax in axes]
    if s is None:
        s = [None] * len(axes)
    if len(s) != len(axes):
        raise ValueError(f"{op}: s and axes must have the same length, got {len(s)} and {len(axes)}")
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: repeated axes {axes} are not supported")
    shape = _data(a).shape
    sizes = [shape[ax] if n is None else _length(op, n, what) for ax, n in zip(axes, s)]
    if 0 in sizes:
        raise ValueError(f"{op}: invalid number of data points (0) along axis {axes[sizes.index(0)]}; "
                         f"the transform needs at least one")
    return axes, sizes


def _c2c(op, a, s, axes, norm, inverse, out=None, what="s"):
    _no_out(op, out)
    a = _as_complex(_input(op, a))
    norm = _norm(op, norm)
    axes, sizes = _axes_and_sizes(op, a, s, axes, what)
    for ax, n in zip(axes, sizes):
        a = _resize(a, ax, n)
    if not axes:
        return a
    ndim = _data(a).ndim
    return fft_c2c(a, axes=tuple(ax - ndim for ax in axes), inverse=inverse, norm=norm)


def _one_axis(op, a, n, axis):
    a = _input(op, a)
    axis = _axis(op, axis, _data(a).ndim)
    return a, [n], [axis]


# ---------------------------------------------------------------------------------------------
# The public transforms
# ---------------------------------------------------------------------------------------------

@public("fft.fft", numpy="fft.fft")
def fft(a, n=None, axis=-1, norm=None, out=None):
    """The 1-D discrete Fourier transform along ``axis`` (``n``: crop or zero-pad first), as
    ``np.fft.fft``: ``cr.fft.fft(cr.tensor([1., 0., 0., 0.]))`` is four ones (complex)."""
    a, s, axes = _one_axis("fft.fft", a, n, axis)
    return _c2c("fft.fft", a, s, axes, norm, False, out, "n")


@public("fft.ifft", numpy="fft.ifft")
def ifft(a, n=None, axis=-1, norm=None, out=None):
    """The inverse of ``fft`` along ``axis`` (``np.fft.ifft``)."""
    a, s, axes = _one_axis("fft.ifft", a, n, axis)
    return _c2c("fft.ifft", a, s, axes, norm, True, out, "n")


@public("fft.fftn", numpy="fft.fftn")
def fftn(a, s=None, axes=None, norm=None, out=None):
    """The N-D transform over ``axes`` (default all, or the last ``len(s)``) (``np.fft.fftn``)."""
    return _c2c("fft.fftn", a, s, axes, norm, False, out)


@public("fft.ifftn", numpy="fft.ifftn")
def ifftn(a, s=None, axes=None, norm=None, out=None):
    """The inverse of ``fftn`` (``np.fft.ifftn``)."""
    return _c2c("fft.ifftn", a, s, axes, norm, True, out)


@public("fft.fft2", numpy="fft.fft2")
def fft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """The 2-D transform over the last two axes (``np.fft.fft2``)."""
    return _c2c("fft.fft2", a, s, axes, norm, False, out)


@public("fft.ifft2", numpy="fft.ifft2")
def ifft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """The inverse of ``fft2`` (``np.fft.ifft2``)."""
    return _c2c("fft.ifft2", a, s, axes, norm, True, out)


def _real_input(op, a):
    a = _input(op, a)
    if B.dtype_of(_data(a)).kind == "c":
        raise TypeError(f"{op}: expected a real tensor, got dtype {_data(a).dtype} (use fft for complex input)")
    return a


def _half(a, axis):
    """The first ``n // 2 + 1`` frequencies along ``axis`` (of a full spectrum of length ``n``)."""
    n = _data(a).shape[axis]
    return a[(slice(None),) * axis + (slice(0, n // 2 + 1),)]


def _rfftn(op, a, s, axes, norm, out, what="s"):
    a = _real_input(op, a)
    axes_, sizes = _axes_and_sizes(op, a, s, axes, what)
    if not axes_:
        raise ValueError(f"{op}: at least one axis is needed")
    full = _c2c(op, a, sizes, axes_, norm, False, out)
    return _half(full, axes_[-1])


@public("fft.rfft", numpy="fft.rfft")
def rfft(a, n=None, axis=-1, norm=None, out=None):
    """The transform of a real input, its ``n // 2 + 1`` non-negative frequencies (``np.fft.rfft``)."""
    a, s, axes = _one_axis("fft.rfft", a, n, axis)
    return _rfftn("fft.rfft", a, s, axes, norm, out, "n")


@public("fft.rfftn", numpy="fft.rfftn")
def rfftn(a, s=None, axes=None, norm=None, out=None):
    """The N-D transform of a real input, the last axis halved (``np.fft.rfftn``)."""
    return _rfftn("fft.rfftn", a, s, axes, norm, out)


@public("fft.rfft2", numpy="fft.rfft2")
def rfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """``rfftn`` over the last two axes (``np.fft.rfft2``)."""
    return _rfftn("fft.rfft2", a, s, axes, norm, out)


def _irfft_axis(op, a, n, axis, norm):
    """The real inverse along ``axis`` of a half spectrum, ``n`` output points: the inverse of its
    Hermitian extension (``X[0..n//2]``, then ``conj(X[n-k])``), real part."""
    from .joins import cat

    half = n // 2 + 1
    a = _resize(a, axis, half)
    tail = a[(slice(None),) * axis + (slice(1, n - half + 1),)]
    from .shape import flip

    full = cat([a, conj(flip(tail, (axis,)))], axis) if n - half > 0 else a
    ndim = _data(full).ndim
    out = real_(fft_c2c(full, axes=(axis - ndim,), inverse=True, norm=norm))
    out._data = B.contiguous(out._data)  # its own memory in C order (the real parts are a view)
    return out


def _irfftn(op, a, s, axes, norm, out):
    _no_out(op, out)
    a = _as_complex(_input(op, a))
    norm = _norm(op, norm)
    ndim = _data(a).ndim
    if s is not None:
        s = list(s)
    if axes is None:
        axes = list(range(ndim)) if s is None else list(range(ndim - len(s), ndim))
    else:
        axes = [_axis(op, ax, ndim) for ax in axes]
    if not axes:
        raise ValueError(f"{op}: at least one axis is needed")
    if s is None:
        s = [None] * len(axes)
    if len(s) != len(axes):
        raise ValueError(f"{op}: s and axes must have the same length, got {len(s)} and {len(axes)}")
    last = s[-1]
    n = 2 * (_data(a).shape[axes[-1]] - 1) if last is None or last == -1 else _length(op, last, "n")
    if n < 1:
        raise ValueError(f"{op}: invalid number of data points ({n}) specified")
    if len(axes) > 1:
        a = _c2c(op, a, s[:-1], axes[:-1], norm, True)
    return _irfft_axis(op, a, n, axes[-1], norm)


@public("fft.irfft", numpy="fft.irfft")
def irfft(a, n=None, axis=-1, norm=None, out=None):
    """The inverse of ``rfft``: ``n`` real points (default ``2 (m - 1)``) (``np.fft.irfft``)."""
    a = _input("fft.irfft", a)
    axis = _axis("fft.irfft", axis, _data(a).ndim)
    return _irfftn("fft.irfft", a, [n], [axis], norm, out)


@public("fft.irfftn", numpy="fft.irfftn")
def irfftn(a, s=None, axes=None, norm=None, out=None):
    """The inverse of ``rfftn`` (``np.fft.irfftn``)."""
    return _irfftn("fft.irfftn", a, s, axes, norm, out)


@public("fft.irfft2", numpy="fft.irfft2")
def irfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """The inverse of ``rfft2`` (``np.fft.irfft2``)."""
    return _irfftn("fft.irfft2", a, s, axes, norm, out)


_SWAPPED = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


@public("fft.hfft", numpy="fft.hfft")
def hfft(a, n=None, axis=-1, norm=None, out=None):
    """The transform of a signal with Hermitian symmetry given by its first half: ``n`` real
    points, default ``2 (m - 1)`` (``np.fft.hfft``: ``irfft`` of the conjugate, the
    normalisation's direction swapped).

    >>> cr.fft.hfft(cr.tensor([1.0, 2j, 3.0]))
    tensor([ 4.,  2.,  4., -6.])
    """
    a = _input("fft.hfft", a)
    norm = _SWAPPED[_norm("fft.hfft", norm)]
    axis = _axis("fft.hfft", axis, _data(a).ndim)
    return _irfftn("fft.hfft", conj(_as_complex(a)), [n], [axis], norm, out)


@public("fft.ihfft", numpy="fft.ihfft")
def ihfft(a, n=None, axis=-1, norm=None, out=None):
    """The inverse of ``hfft`` for a real input: the conjugate of its ``rfft``, the
    normalisation's direction swapped (``np.fft.ihfft``).

    >>> cr.fft.ihfft(cr.tensor([4.0, 2.0, 4.0, -6.0]))
    tensor([1.-0.j, 0.+2.j, 3.-0.j])
    """
    a, s, axes = _one_axis("fft.ihfft", a, n, axis)
    return conj(_rfftn("fft.ihfft", a, s, axes, _SWAPPED[_norm("fft.ihfft", norm)], out, "n"))


def _shift(op, x, axes, sign):
    from .arrange import roll

    x = _input(op, x)
    shape = _data(x).shape
    if axes is None:
        axes = tuple(range(len(shape)))
    elif not isinstance(axes, (tuple, list)):
        axes = (axes,)
    axes = tuple(_axis(op, ax, len(shape)) for ax in axes)
    if not axes:
        return x
    shifts = tuple(sign * (shape[ax] // 2) for ax in axes)
    return roll(x, shifts, axes)


@public("fft.fftshift", numpy="fft.fftshift")
def fftshift(x, axes=None):
    """The zero frequency moved to the centre (``np.fft.fftshift``)."""
    return _shift("fft.fftshift", x, axes, 1)


@public("fft.ifftshift", numpy="fft.ifftshift")
def ifftshift(x, axes=None):
    """The inverse of ``fftshift`` (``np.fft.ifftshift``)."""
    return _shift("fft.ifftshift", x, axes, -1)


@public("fft.fftfreq")
def fftfreq(n, d=1.0):
    """The sample frequencies of an ``n``-point transform (``np.fft.fftfreq``; a constant)."""
    from ..core.creation import tensor

    n = _length("fft.fftfreq", n, "n")
    values = [k if k < (n + 1) // 2 else k - n for k in range(n)]
    return tensor([v / (n * d) for v in values], dtype=_float64())


@public("fft.rfftfreq")
def rfftfreq(n, d=1.0):
    """The sample frequencies of an ``n``-point ``rfft`` (``np.fft.rfftfreq``; a constant)."""
    from ..core.creation import tensor

    n = _length("fft.rfftfreq", n, "n")
    return tensor([k / (n * d) for k in range(n // 2 + 1)], dtype=_float64())


def _float64():
    from ..core import dtypes as D

    return D.float64
