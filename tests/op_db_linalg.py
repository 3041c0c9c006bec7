"""op_db entries for ``cr.linalg``'s decompositions and matrix functions (SPEC §12).

Symmetric-input operations (cholesky, eigh, eigvalsh) are checked on ``(x + xᵀ)/2``, so central
differences see the function PyTorch's symmetric gradient describes; eigenvector and singular-
vector outputs are checked through sign-invariant functions (their squares).
"""

from __future__ import annotations

import warnings

import numpy as np
from op_db import NONDIFFERENTIABLE, S, entry, uniform, well_conditioned

import chainrule as cr


def _sym(x):
    return (x + x.mT) * 0.5


def spd(rng, shape):
    """Symmetric positive-definite matrices (batched), well away from singular."""
    a = uniform(rng, shape, -1.0, 1.0)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def spread(rng, shape):
    """Matrices with well separated singular values (no gauge trouble for U, V)."""
    r, c = shape[-2:]
    k = min(r, c)
    q1, _ = np.linalg.qr(uniform(rng, shape[:-2] + (r, r)))
    q2, _ = np.linalg.qr(uniform(rng, shape[:-2] + (c, c)))
    s = np.zeros(shape)
    s[..., range(k), range(k)] = np.linspace(3.0, 1.0, k)
    return q1 @ s @ q2


def _distinct_eig(rng, shape):
    n = shape[-1]
    q, _ = np.linalg.qr(uniform(rng, shape))
    return q @ (np.linspace(-2.0, 3.0, n)[:, None] * np.swapaxes(q, -1, -2))


def _mats(make, shapes):
    return lambda rng: [S(make(rng, s)) for s in shapes]


entry("linalg.cholesky", lambda a, upper=False: cr.linalg.cholesky(_sym(a), upper=upper), "cholesky",
      lambda rng: [S(spd(rng, (3, 3))), S(spd(rng, (2, 2, 2))), S(spd(rng, (3, 3)), upper=True),
                   S(spd(rng, (1, 1)))])
entry("linalg.eigh", lambda a, UPLO="L": (lambda r: (r[0], r[1] * r[1]))(cr.linalg.eigh(_sym(a), UPLO)), "eigh",
      lambda rng: [S(_distinct_eig(rng, (3, 3))), S(_distinct_eig(rng, (2, 3, 3)), UPLO="U")])
entry("linalg.eigh_values_only", lambda a: cr.linalg.eigh(_sym(a))[0], "eigh",
      lambda rng: [S(_distinct_eig(rng, (3, 3)))])
entry("linalg.eigvalsh", lambda a: cr.linalg.eigvalsh(_sym(a)), "eigvalsh",
      lambda rng: [S(_distinct_eig(rng, (3, 3))), S(_distinct_eig(rng, (2, 2, 2)))])
entry("linalg.svd", lambda a, full_matrices=False: (lambda r: (r.U * r.U, r.S, r.Vh * r.Vh))(
          cr.linalg.svd(a, full_matrices=full_matrices)), "svd",
      _mats(spread, [(3, 3), (3, 2), (2, 3), (2, 3, 2)]))
entry("linalg.svd_product", lambda a: (lambda r: r.U[..., :, :2] @ r.Vh[..., :2, :])(cr.linalg.svd(a)), "svd",
      _mats(spread, [(3, 2), (2, 3)]))
entry("linalg.svdvals", cr.linalg.svdvals, "svdvals", _mats(spread, [(3, 3), (3, 2), (2, 2, 3)]))
entry("linalg.qr", lambda a, mode="reduced": tuple(cr.linalg.qr(a, mode=mode)), "qr",
      lambda rng: [S(well_conditioned(rng, (3, 3))), S(spread(rng, (3, 2))), S(spread(rng, (2, 3))),
                   S(spread(rng, (2, 3, 2))), S(spread(rng, (2, 3)), mode="complete")])
entry("linalg.solve_triangular", lambda a, b, **kw: cr.linalg.solve_triangular(a, b, **kw), "solve_triangular",
      lambda rng: [S(well_conditioned(rng, (3, 3)), uniform(rng, (3, 2)), upper=True),
                   S(well_conditioned(rng, (3, 3)), uniform(rng, (2, 3)), upper=False, left=False),
                   S(well_conditioned(rng, (2, 3, 3)), uniform(rng, (3, 1)), upper=False, unitriangular=True),
                   S(well_conditioned(rng, (3, 3)), uniform(rng, (2, 3, 2)), upper=True, left=True)])
entry("linalg.pinv", lambda a, hermitian=False: cr.linalg.pinv(_sym(a) if hermitian else a, hermitian=hermitian), "pinv",
      lambda rng: [S(spread(rng, (3, 2))), S(spread(rng, (2, 3))), S(well_conditioned(rng, (2, 2, 2))),
                   S(spd(rng, (3, 3)), hermitian=True)])
entry("linalg.lstsq", lambda a, b: cr.linalg.lstsq(a, b).solution, "lstsq",
      lambda rng: [S(spread(rng, (4, 2)), uniform(rng, (4, 3))), S(spread(rng, (3, 2)), uniform(rng, (3,))),
                   S(spread(rng, (2, 3, 2)), uniform(rng, (1, 3, 1))), S(spread(rng, (2, 3)), uniform(rng, (2, 2)))])
entry("linalg.matrix_exp", cr.linalg.matrix_exp, "matrix_exp",
      lambda rng: [S(uniform(rng, (3, 3))), S(uniform(rng, (2, 2, 2))), S(uniform(rng, (1, 1))),
                   S(4.0 * uniform(rng, (2, 2)), label="shape(2,2)-scaled")])
entry("linalg.matrix_power", lambda a, n: cr.linalg.matrix_power(a, n), ("matmul", "inv"),
      lambda rng: [S(well_conditioned(rng, (2, 2)), n=3), S(well_conditioned(rng, (2, 2, 2)), n=-2),
                   S(uniform(rng, (2, 2)), n=1), S(uniform(rng, (2, 2)), n=0)])
entry("linalg.cross", lambda a, b, **kw: cr.linalg.cross(a, b, **kw), "cross",
      lambda rng: [S(uniform(rng, (3,)), uniform(rng, (3,))), S(uniform(rng, (2, 3)), uniform(rng, (1, 3))),
                   S(uniform(rng, (3, 2)), uniform(rng, (3, 2)), dim=0)])
# np.cross of 2-vectors: deprecated in NumPy 2.0, refused from NumPy 2.5 (chainrule follows the installed NumPy)
def _numpy_crosses_2_vectors() -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            np.cross(np.zeros(2), np.zeros(3))
        except ValueError:
            return False
    return True


_CROSS_2 = _numpy_crosses_2_vectors()
entry("np.cross", lambda a, b, **kw: np.cross(a, b, **kw), "cross",
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (3,))), S(uniform(rng, (3, 2)), uniform(rng, (2, 3)), axisa=0),
                   *([S(uniform(rng, (2,)), uniform(rng, (3,)))] if _CROSS_2 else [])])
entry("linalg.vector_norm", lambda x, **kw: cr.linalg.vector_norm(x, **kw), ("norm2", "norm_p"),
      lambda rng: [S(uniform(rng, (3, 4))), S(uniform(rng, (3, 4)), ord=3, dim=1), S(uniform(rng, (2, 3)), ord=2.5, dim=(0, 1), keepdim=True)])
entry("linalg.matrix_norm", lambda x, **kw: cr.linalg.matrix_norm(x, **kw), ("svdvals",),
      lambda rng: [S(spread(rng, (3, 2)), ord="nuc"), S(spread(rng, (2, 3, 2)), ord=2), S(spread(rng, (2, 2)), ord=-2, keepdim=True),
                   S(uniform(rng, (2, 3, 4)), ord="fro", dim=(0, 2))])
entry("np.linalg.norm_spectral", lambda x, **kw: np.linalg.norm(x, **kw), ("svdvals",),
      lambda rng: [S(spread(rng, (3, 2)), ord="nuc"), S(spread(rng, (2, 3, 2)), ord=2, axis=(1, 2))])
entry("np.linalg.decompositions", lambda a: (np.linalg.cholesky(_sym(a)), np.linalg.eigvalsh(_sym(a)),
                                              np.linalg.svd(a, compute_uv=False), np.linalg.qr(a, mode="reduced")[1],
                                              np.linalg.pinv(a)),
      ("cholesky", "eigvalsh", "svdvals", "qr", "pinv"), lambda rng: [S(spd(rng, (3, 3)))])

NONDIFFERENTIABLE["singular_values"] = (
    lambda a, b: cr.linalg.lstsq(a, b, driver="gelsd").singular_values,
    lambda a, b: np.linalg.svd(a, compute_uv=False),
    (np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]]), np.array([[1.0], [0.0], [2.0]])),
)
