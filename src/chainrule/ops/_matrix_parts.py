"""Helpers of the matrix decompositions (``decompositions``): packed results, masks,
diagonals, triangular solves and the complex phase test, all in rule namespaces (so the rules
built from them are differentiable again)."""

from __future__ import annotations

import math
import warnings

from ..core import backend as B
from ..core import tracing
from .linalg import is_complex
from .products import _col, _row
from .shape import _ndim, _shape

# ---------------------------------------------------------------------------------------------
# Helpers: packed results, masks, diagonals (all in rule namespaces, so differentiable again)
# ---------------------------------------------------------------------------------------------

def _unpack(m, x, shapes):
    """The parts of a packed value, each of per-example trailing shape ``shapes[i]``."""
    batch = _shape(x)[:-1]
    out, start = [], 0
    for s in shapes:
        size = math.prod(s)
        part = m.getitem(x, index=(Ellipsis, slice(start, start + size)))
        out.append(m.reshape(part, shape=batch + tuple(s)))
        start += size
    return out


def _join(m, parts):
    """The inverse of ``_unpack`` for tangents."""
    batch = _shape(parts[-1])[:-2]
    flat = [m.reshape(p, shape=batch + (math.prod(_shape(p)[len(batch):]),)) for p in parts]
    return flat[0] if len(flat) == 1 else m.cat(*flat, dim=len(batch))


def _all_zero(data) -> bool:
    return not B.any_of(B.data_of(data) != 0)


def _is_zero(x) -> bool:
    """Whether a cotangent is all zeros (a result the loss did not use): PyTorch then skips the
    terms that divide by eigenvalue or singular-value gaps. A decision a compiled call checks
    again (none for the zeros the engine makes for an unused result: a constant)."""
    return tracing.decide(x, _all_zero, "whether a cotangent is all zeros")


def _eye(n, x):
    data = B.data_of(B.data_of(x))
    return B.eye(n, data.dtype, like=data)


def _zeros(shape, x):
    data = B.data_of(B.data_of(x))
    return B.zeros(shape, data.dtype, like=data)


def _diag(m, x):
    n = _ndim(x)
    return m.diagonal(x, offset=0, dim1=n - 2, dim2=n - 1)


def _diag_embed(m, v):
    return _col(m, v) * _eye(_shape(v)[-1], v)


def _tri_mask(n, x, upper, k=0, diag=1.0):
    """A constant mask of the lower (``upper``: upper) triangle, strict for ``k=-1``, with
    ``diag`` on the diagonal for ``k=0``."""
    data = B.data_of(B.data_of(x))
    index = B.arange(n, like=data)
    keep = index[None, :] - index[:, None] >= -k if upper else index[:, None] - index[None, :] >= -k
    mask = B.astype(keep, data.dtype)
    if k == 0 and diag != 1.0:
        mask = mask + (diag - 1.0) * B.eye(n, data.dtype, like=data)
    return mask


def _quiet(rule):
    """``rule`` without NumPy's warnings: repeated eigenvalues or singular values give inf or NaN
    in the vectors' derivatives, silently, as in PyTorch."""
    def quiet(*args, **params):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return rule(*args, **params)

    return quiet


def _gaps(m, w):
    """``E[i, j] = w[j] - w[i]`` off the diagonal, 1 on it (PyTorch's denominators)."""
    return _row(m, w) - _col(m, w) + _eye(_shape(w)[-1], w)


def _narrow(m, x, axis, stop):
    index = (Ellipsis, slice(0, stop)) if axis == -1 else (Ellipsis, slice(0, stop), slice(None))
    return m.getitem(x, index=index)


def _sl(m, x, rows=slice(None), cols=slice(None)):
    return m.getitem(x, index=(Ellipsis, rows, cols))


def _tri_solve(m, a, b, upper, left=True, unitriangular=False):
    return m.solve_triangular(a, b, upper=upper, left=left, unitriangular=unitriangular)


def _imag_diag(m, x):
    return m.imag(_diag(m, x))


class _PhaseTest:
    """PyTorch's test with its tolerances, ``|im + other| > 1e-2 + 1e-2 |other|``, on the
    values ``_phase_check`` decides on (``im``, ``other`` or both joined on the last axis)."""

    def __init__(self, parts: str) -> None:
        self.parts = parts

    def __call__(self, data) -> bool:
        data = B.data_of(data)
        if self.parts == "both":
            half = B.shape_of(data)[-1] // 2
            im, other = data[..., :half], data[..., half:]
        elif self.parts == "im":
            im, other = data, 0.0
        else:
            im, other = 0.0, data
        return B.any_of(abs(im + other) > 1e-2 + 1e-2 * abs(other))


def _phase_check(m, op, what, im, other, hint):
    """PyTorch's test that a loss does not depend on the phases of complex eigen- or singular
    vectors (``Im diag(Vᴴ gV) = 0``; for the SVD ``Im diag(Uᴴ gU) = -Im diag(Vᴴ gV)``), with its
    tolerances: else the gradient is ill-defined, and an error says so. ``im`` (None: 0) and
    ``other`` (None: 0) are values of the rule's namespace ``m``: a compiled call checks the
    decision again."""
    if im is not None and other is not None:
        value, parts = m.cat(im, other, dim=_ndim(im) - 1), "both"
    elif im is not None:
        value, parts = im, "im"
    else:
        value, parts = other, "other"
    if tracing.decide(value, _PhaseTest(parts), "whether the loss depends on the phases of complex vectors"):
        raise RuntimeError(
            f"linalg.{op}: the {what} in the complex case are specified up to multiplication by "
            f"e^{{i phi}}; the loss depends on this phase, so its gradient is ill-defined (as in "
            f"PyTorch). Use a loss invariant to the phases: of {hint}")


def _lin_error(op, exc, a):
    return RuntimeError(f"linalg.{op}: {exc} (input of shape {a.shape})")


def _phi(m, x):
    """The lower triangle of ``x`` with its diagonal halved."""
    return x * _tri_mask(_shape(x)[-1], x, False, 0, 0.5)


def _as_complex(m, x, like):
    """A real tangent ``x`` as the complex dtype of the packed result ``like``."""
    return m.cast(x, dtype=B.data_of(B.data_of(like)).dtype) if is_complex(like) else x
