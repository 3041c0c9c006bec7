"""op_db entries for ``cr.fft`` (one primitive, ``fft_c2c``, behind every transform): complex
inputs, and real inputs through functions with real outputs (``view_as_real`` of the spectrum),
with NumPy's ``n=``, ``s=``, ``axis``/``axes`` and each ``norm``."""

from __future__ import annotations

import numpy as np
from op_db import S, entry, uniform
from op_db_complex import cuniform

import chainrule as cr

F = cr.fft
C2C = ("fft_c2c",)
REAL_IN = ("cast", "fft_c2c")  # a real input is made complex first


def _c(shape, **kwargs):
    return lambda rng: [S(cuniform(rng, shape), **kwargs)]


def _r(shape, **kwargs):
    return lambda rng: [S(uniform(rng, shape), **kwargs)]


def _as_real(f):
    """``f``'s complex result as real numbers (so the Jacobian checks apply to real inputs)."""
    return lambda x, **kw: cr.view_as_real(f(x, **kw))


VIEW = ("view_as_real",)

for _norm in (None, "ortho", "forward"):
    entry(f"fft.fft-{_norm}", F.fft, C2C, _c((2, 5), norm=_norm))
    entry(f"fft.ifft-{_norm}", F.ifft, C2C, _c((5,), norm=_norm))
entry("fft.fft.n", F.fft, C2C + ("getitem", "cat"),
      lambda rng: [S(cuniform(rng, (2, 6)), n=4), S(cuniform(rng, (3, 2)), n=5, axis=0)])
entry("fft.fft.real", _as_real(F.fft), REAL_IN + VIEW, _r((2, 4)))
entry("np.fft.fft", lambda z, **kw: np.fft.fft(z, **kw), C2C, _c((4,)))
entry("fft.fft2", F.fft2, C2C + ("getitem",), lambda rng: [S(cuniform(rng, (2, 3, 4))), S(cuniform(rng, (3, 4)), s=(2, 3))])
entry("fft.ifft2", F.ifft2, C2C, _c((3, 4), norm="ortho"))
entry("fft.fftn", F.fftn, C2C, lambda rng: [S(cuniform(rng, (2, 3, 2))), S(cuniform(rng, (2, 3, 2)), axes=(0, 2))])
entry("fft.ifftn", F.ifftn, C2C + ("cat",), _c((2, 3), s=(2, 5)))
entry("fft.rfft", _as_real(F.rfft), REAL_IN + ("getitem",) + VIEW,
      lambda rng: [S(uniform(rng, (6,))), S(uniform(rng, (2, 5)), norm="ortho"), S(uniform(rng, (3, 2)), n=4, axis=0)])
entry("fft.rfftn", _as_real(F.rfftn), REAL_IN + ("getitem",) + VIEW, _r((2, 4)))
entry("fft.rfft2", _as_real(F.rfft2), REAL_IN + ("getitem",) + VIEW, _r((3, 4), norm="forward"))
entry("fft.irfft", F.irfft, ("getitem", "flip", "conj", "cat", "fft_c2c", "real"),
      lambda rng: [S(cuniform(rng, (4,))), S(cuniform(rng, (2, 4)), n=7), S(cuniform(rng, (3, 2)), n=4, axis=0, norm="ortho")])
entry("fft.irfftn", F.irfftn, ("getitem", "flip", "conj", "cat", "fft_c2c", "real"), _c((3, 4)))
entry("fft.irfft2", F.irfft2, ("getitem", "flip", "conj", "cat", "fft_c2c", "real"), _c((2, 3, 3), s=(3, 4)))
entry("fft.hfft", F.hfft, ("conj", "getitem", "flip", "cat", "fft_c2c", "real"),
      lambda rng: [S(cuniform(rng, (4,))), S(cuniform(rng, (2, 3)), n=5, norm="ortho"), S(cuniform(rng, (3, 2)), axis=0, norm="forward")])
entry("fft.ihfft", _as_real(F.ihfft), REAL_IN + ("getitem", "conj") + VIEW,
      lambda rng: [S(uniform(rng, (6,))), S(uniform(rng, (2, 5)), n=4, norm="forward")])
entry("fft.fftshift", F.fftshift, ("getitem", "cat"), lambda rng: [S(uniform(rng, (5,))), S(uniform(rng, (3, 4)), axes=1)])
entry("fft.ifftshift", F.ifftshift, ("getitem", "cat"), _c((3, 4)))
