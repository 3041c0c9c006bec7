"""Cases for ``test_numpy_semantics``'s FUNCTION_CASES: NumPy's complex-number functions and
``np.fft`` served on tensors (ops/complex_numbers.py, ops/fft.py). Each case is ``(label, call,
args)`` or ``(label, call, args, grad)``: values, shapes and dtypes against NumPy."""

from __future__ import annotations

import numpy as np

_R = np.random.default_rng(1213)
_X = _R.uniform(-2.0, 2.0, size=(3, 6))
_Z = _X + 1j * _R.uniform(-2.0, 2.0, size=(3, 6))
_Z3 = _R.uniform(-2.0, 2.0, size=(2, 3, 4)) + 1j * _R.uniform(-2.0, 2.0, size=(2, 3, 4))
_F32 = _X.astype(np.float32)

CASES = {
    np.real: [("complex", np.real, (_Z,)), ("real", np.real, (_X,))],
    np.imag: [("complex", np.imag, (_Z,))],
    np.angle: [("complex", np.angle, (_Z,)), ("deg", lambda z: np.angle(z, deg=True), (_Z,)),
               ("real", np.angle, (np.array([-1.0, 0.5, 2.0]),))],
    np.fft.fft: [("complex", np.fft.fft, (_Z,)), ("real", np.fft.fft, (_X,)), ("float32", np.fft.fft, (_F32,)),
                 ("n-axis-norm", lambda a: np.fft.fft(a, n=4, axis=0, norm="ortho"), (_Z,))],
    np.fft.ifft: [("complex", np.fft.ifft, (_Z,)), ("n", lambda a: np.fft.ifft(a, 9, norm="forward"), (_Z,))],
    np.fft.rfft: [("real", np.fft.rfft, (_X,)), ("n", lambda a: np.fft.rfft(a, n=5, axis=0), (_X,))],
    np.fft.irfft: [("complex", np.fft.irfft, (_Z,)), ("n", lambda a: np.fft.irfft(a, n=7, norm="ortho"), (_Z,))],
    np.fft.fft2: [("complex", np.fft.fft2, (_Z3,)), ("s", lambda a: np.fft.fft2(a, s=(2, 5)), (_Z,))],
    np.fft.ifft2: [("complex", np.fft.ifft2, (_Z3,))],
    np.fft.fftn: [("complex", np.fft.fftn, (_Z3,)), ("axes", lambda a: np.fft.fftn(a, axes=(0, 2)), (_Z3,))],
    np.fft.ifftn: [("complex", np.fft.ifftn, (_Z3,))],
    np.fft.rfft2: [("real", np.fft.rfft2, (_X,))],
    np.fft.irfft2: [("complex", np.fft.irfft2, (_Z,))],
    np.fft.hfft: [("complex", np.fft.hfft, (_Z,)), ("n", lambda a: np.fft.hfft(a, n=7, axis=0, norm="ortho"), (_Z,))],
    np.fft.ihfft: [("real", np.fft.ihfft, (_X,)), ("n", lambda a: np.fft.ihfft(a, n=5, norm="forward"), (_X,))],
    np.fft.rfftn: [("real", np.fft.rfftn, (_Z3.real.copy(),))],
    np.fft.irfftn: [("complex", np.fft.irfftn, (_Z3,)), ("s", lambda a: np.fft.irfftn(a, s=(3, 5), axes=(1, 2)), (_Z3,))],
    np.fft.fftshift: [("all", np.fft.fftshift, (_X,)), ("axes", lambda a: np.fft.fftshift(a, axes=1), (_Z,))],
    np.fft.ifftshift: [("all", np.fft.ifftshift, (_X,)), ("axis", lambda a: np.fft.ifftshift(a, axes=(0,)), (_X,))],
}
