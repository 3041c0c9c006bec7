"""Cases for ``test_numpy_semantics``'s FUNCTION_CASES: NumPy's linalg functions (and ``np.cross``)
served on tensors by ``api/numpy_linalg``. Each case is ``(label, call, args)`` or
``(label, call, args, grad)``: forward values, shapes and dtypes against NumPy, gradients against
central differences. Merge with
``FUNCTION_CASES.update({f: [C(*c) for c in cs] for f, cs in numpy_cases_linalg.CASES.items()})``.
"""

from __future__ import annotations

import numpy as np

_R = np.random.default_rng(1212)


def _u(*shape):
    return _R.uniform(-2.0, 2.0, size=shape)


def _spread(*shape):
    """Matrices with singular values 3 ... 1 (no gauge trouble for U, V)."""
    r, c = shape[-2:]
    q1 = np.linalg.qr(_u(*shape[:-2], r, r))[0]
    q2 = np.linalg.qr(_u(*shape[:-2], c, c))[0]
    s = np.zeros(shape)
    k = min(r, c)
    s[..., range(k), range(k)] = np.linspace(3.0, 1.0, k)
    return q1 @ s @ q2


def _pd(a):
    """A symmetric positive-definite matrix from ``a`` (tensors and arrays alike)."""
    return np.matmul(a, a.T) + 3.0 * np.eye(a.shape[-1])


def _sym(a):
    return (a + a.T) * 0.5


def _sq(r):
    return tuple(x * x for x in r)


_A = _spread(4, 3)
_W = _spread(3, 4)
_B = _spread(2, 4, 3)
_S = _spread(3, 3)
_INTS = np.arange(9).reshape(3, 3) % 4 + np.eye(3, dtype=int)

CASES = {
    np.linalg.cholesky: [
        ("2d", lambda a: np.linalg.cholesky(_pd(a)), (_S,)),
        ("batch", lambda a: np.linalg.cholesky(np.einsum("bij,bkj->bik", a, a) + 3.0 * np.eye(3)), (_B[:, :3],)),
        ("upper", lambda a: np.linalg.cholesky(_pd(a), upper=True), (_S,)),
        ("int", np.linalg.cholesky, (np.array([[4, 2], [2, 3]]),)),
        ("not-pd", np.linalg.cholesky, (-np.eye(2),), False),
    ],
    np.linalg.eigh: [
        ("2d", lambda a: np.linalg.eigh(_sym(a))[0], (_S,)),
        ("vectors", lambda a: _sq(np.linalg.eigh(_sym(a))), (_S,)),
        ("UPLO", lambda a: _sq(np.linalg.eigh(a, UPLO="U")), (np.triu(_S) + np.triu(_S, 1).T,), False),
        ("result", lambda a: np.linalg.eigh(a).eigenvalues, (_sym(_S),), False),
    ],
    np.linalg.eigvalsh: [
        ("2d", lambda a: np.linalg.eigvalsh(_sym(a)), (_S,)),
        ("U", lambda a: np.linalg.eigvalsh(a, "U"), (_sym(_S),), False),
        ("int", np.linalg.eigvalsh, (np.array([[2, 1], [1, 2]]),)),
    ],
    np.linalg.svd: [
        ("reduced", lambda a: _sq(np.linalg.svd(a, full_matrices=False)), (_A,)),
        ("wide", lambda a: _sq(np.linalg.svd(a, False)), (_W,)),
        ("batch", lambda a: _sq(np.linalg.svd(a, full_matrices=False)), (_B,)),
        ("full", np.linalg.svd, (_A,), False),
        ("values", lambda a: np.linalg.svd(a, compute_uv=False), (_B,)),
        ("hermitian", lambda a: np.linalg.svd(_sym(a), hermitian=True, compute_uv=False), (_S,)),
        ("hermitian-uv", lambda a: np.linalg.svd(a, hermitian=True), (_sym(_S),), False),
        ("1d", np.linalg.svd, (_u(3),), False),
    ],
    np.linalg.qr: [
        ("reduced", np.linalg.qr, (_A,)), ("wide", np.linalg.qr, (_W,)), ("batch", np.linalg.qr, (_B,)),
        ("complete", lambda a: np.linalg.qr(a, mode="complete"), (_A,), False),
        ("r", lambda a: np.linalg.qr(a, mode="r"), (_A,), False),
    ],
    np.linalg.pinv: [
        ("tall", np.linalg.pinv, (_A,)), ("wide", np.linalg.pinv, (_W,)), ("batch", np.linalg.pinv, (_B,)),
        # a cut-off singular value: PyTorch's gradient (pinv_backward's formula), not the truncation's
        ("rcond", lambda a: np.linalg.pinv(a, 0.5), (_A,), False),
        ("rtol", lambda a: np.linalg.pinv(a, rtol=0.5), (_A,), False),
        ("hermitian", lambda a: np.linalg.pinv(_sym(a), hermitian=True), (_S,)),
        ("int", np.linalg.pinv, (_INTS,)),
    ],
    np.linalg.lstsq: [
        ("matrix", lambda a, b: np.linalg.lstsq(a, b)[:2], (_A, _u(4, 2))),
        ("vector", lambda a, b: np.linalg.lstsq(a, b)[:2], (_A, _u(4))),
        ("all", lambda a, b: np.linalg.lstsq(a, b), (_A, _u(4)), False),
        ("wide", lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], (_W, _u(3, 2))),
        ("rcond", lambda a, b: np.linalg.lstsq(a, b, rcond=0.9), (_A, _u(4, 2)), False),
        ("mismatch", np.linalg.lstsq, (_A, _u(3)), False),
    ],
    np.linalg.matrix_power: [
        ("3", lambda a: np.linalg.matrix_power(a, 3), (_S,)), ("0", lambda a: np.linalg.matrix_power(a, 0), (_S,)),
        ("-2", lambda a: np.linalg.matrix_power(a, -2), (_S,)), ("batch", lambda a: np.linalg.matrix_power(a, 5), (_B[:, :3],)),
        ("int", lambda a: np.linalg.matrix_power(a, 4), (_INTS,)),
        ("int-negative", lambda a: np.linalg.matrix_power(a, -1), (_INTS,)),
        ("float-exponent", lambda a: np.linalg.matrix_power(a, 1.5), (_S,), False),
    ],
    np.cross: [
        ("3d", np.cross, (_u(4, 3), _u(3))), ("axisa", lambda a, b: np.cross(a, b, axisa=0), (_u(3, 4), _u(4, 3))),
        ("axisc", lambda a, b: np.cross(a, b, axisb=0, axisc=0), (_u(4, 3), _u(3, 4))),
        ("axis", lambda a, b: np.cross(a, b, axis=1), (_u(2, 3, 4), _u(2, 3, 1))),
        ("int", np.cross, (np.arange(6).reshape(2, 3), np.array([1, 0, 2]))),
        ("bad", np.cross, (_u(4), _u(3)), False),
    ],
}
if hasattr(np.linalg, "svdvals"):  # NumPy 2's array-API functions
    CASES.update({
        np.linalg.svdvals: [("2d", np.linalg.svdvals, (_A,)), ("batch", np.linalg.svdvals, (_B,))],
        np.linalg.matrix_norm: [(f"{o}", lambda a, o=o: np.linalg.matrix_norm(a, ord=o, keepdims=True), (_B,))
                                for o in ("fro", "nuc", 2, -2)],
        np.linalg.vector_norm: [(f"{o}", lambda a, o=o: np.linalg.vector_norm(a, ord=o, axis=(0, 2)), (_B,))
                                for o in (2, 1, 3.5, np.inf)] + [("flat", np.linalg.vector_norm, (_B,))],
        np.linalg.cross: [("3d", np.linalg.cross, (_u(4, 3), _u(3))),
                          ("axis", lambda a, b: np.linalg.cross(a, b, axis=0), (_u(3, 2), _u(3, 2)))],
    })
