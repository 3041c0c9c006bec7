"""op_db entries for ``cr.linalg`` on complex matrices (SPEC §12, issue 12): complex128 samples of
every linalg function, differentiated by gradcheck along the real and imaginary parts of each
element (and again for second order).

Hermitian-input operations (cholesky, eigh, eigvalsh, pinv with ``hermitian=True``) are checked
on ``(x + xᴴ)/2``, so central differences see the function PyTorch's gradient describes. The
complex eigen- and singular vectors are unique only up to a phase per vector: they are checked
through phase-invariant functions (``|V|²``, ``V diag(f(w)) Vᴴ``, ``U @ Vh``), as PyTorch
requires (a loss that depends on the phases raises, tests/test_clinalg.py).
"""

from __future__ import annotations

import numpy as np
from op_db import S, entry, uniform

import chainrule as cr


def _herm(x):
    return (x + x.conj().mT) * 0.5


def cmat(rng, shape, lo=-1.0, hi=1.0):
    return (uniform(rng, shape, lo, hi) + 1j * uniform(rng, shape, lo, hi)).astype(np.complex128)


def cwell(rng, shape):
    """Complex square matrices near ``n·I``: invertible, well conditioned."""
    n = shape[-1]
    return n * np.eye(n) + cmat(rng, shape, -0.5, 0.5)


def csingular(rng, shape):
    """Complex square matrices whose last row repeats the first: determinant exactly 0."""
    a = cmat(rng, shape).copy()
    a[..., -1, :] = a[..., 0, :]
    return a


def chpd(rng, shape):
    """Hermitian positive-definite complex matrices, well away from singular."""
    a = cmat(rng, shape)
    return a @ np.swapaxes(a.conj(), -1, -2) + shape[-1] * np.eye(shape[-1])


def _unitary(rng, shape):
    q, r = np.linalg.qr(cmat(rng, shape))
    return q


def cspread(rng, shape):
    """Complex matrices with well separated singular values (3 down to 1)."""
    r, c = shape[-2:]
    k = min(r, c)
    s = np.zeros(shape, dtype=np.complex128)
    s[..., range(k), range(k)] = np.linspace(3.0, 1.0, k)
    return _unitary(rng, shape[:-2] + (r, r)) @ s @ _unitary(rng, shape[:-2] + (c, c))


def cdistinct_eig(rng, shape):
    """Hermitian matrices with eigenvalues -2 .. 3, evenly spread."""
    n = shape[-1]
    q = _unitary(rng, shape)
    return q @ (np.linspace(-2.0, 3.0, n)[:, None] * np.swapaxes(q.conj(), -1, -2))


def _mats(make, shapes):
    return lambda rng: [S(make(rng, s), label=f"complex{s}") for s in shapes]


def _abs2(x):
    return (x * x.conj()).real


# ---------------------------------------------------------------------------------------------
# Holomorphic functions: inv, det, solve, solve_triangular, matrix_power, matrix_exp, ...
# ---------------------------------------------------------------------------------------------

entry("clinalg.inv", cr.linalg.inv, "inv", _mats(cwell, [(3, 3), (2, 2, 2), (1, 1)]))
entry("clinalg.det", cr.linalg.det, "det",
      lambda rng: [S(cwell(rng, (3, 3)), label="complex(3,3)"), S(cwell(rng, (2, 2, 2)), label="complex(2,2,2)"),
                   S(csingular(rng, (3, 3)), label="complex(3,3)-singular"),
                   S(np.stack([cwell(rng, (3, 3)), csingular(rng, (3, 3))]), label="complex(2,3,3)-one_singular")])
entry("clinalg.slogdet", lambda a: tuple(cr.linalg.slogdet(a)), ("logabsdet", "slogdet_complex_sign"),
      _mats(cwell, [(3, 3), (2, 2, 2)]))
entry("clinalg.slogdet_sign", lambda a: cr.linalg.slogdet(a).sign, "slogdet_complex_sign",
      _mats(cwell, [(2, 2)]))
entry("clinalg.solve", cr.linalg.solve, "solve",
      lambda rng: [S(cwell(rng, (3, 3)), cmat(rng, (3,)), label="complex(3,3)+(3,)"),
                   S(cwell(rng, (3, 3)), cmat(rng, (3, 2)), label="complex(3,3)+(3,2)"),
                   S(cwell(rng, (2, 3, 3)), cmat(rng, (3, 2)), label="complex(2,3,3)+(3,2)"),
                   S(cwell(rng, (3, 3)), uniform(rng, (3, 2)), label="complex(3,3)+real(3,2)")])
entry("clinalg.solve_triangular", lambda a, b, **kw: cr.linalg.solve_triangular(a, b, **kw), "solve_triangular",
      lambda rng: [S(cwell(rng, (3, 3)), cmat(rng, (3, 2)), upper=True, label="complex-upper"),
                   S(cwell(rng, (3, 3)), cmat(rng, (2, 3)), upper=False, left=False, label="complex-right"),
                   S(cwell(rng, (2, 3, 3)), cmat(rng, (3, 1)), upper=False, unitriangular=True, label="complex-unit")])
entry("clinalg.matrix_power", lambda a, n: cr.linalg.matrix_power(a, n), ("matmul", "inv"),
      lambda rng: [S(cwell(rng, (2, 2)), n=3, label="complex-3"), S(cwell(rng, (2, 2, 2)), n=-2, label="complex-neg2")])
entry("clinalg.matrix_exp", cr.linalg.matrix_exp, "matrix_exp", _mats(cmat, [(3, 3), (2, 2, 2)]))
entry("clinalg.cross", lambda a, b: cr.linalg.cross(a, b), "cross",
      lambda rng: [S(cmat(rng, (2, 3)), cmat(rng, (1, 3)), label="complex(2,3)+(1,3)")])
entry("clinalg.multi_dot", lambda a, b, c: cr.linalg.multi_dot([a, b, c]), "matmul",
      lambda rng: [S(cmat(rng, (2, 3)), cmat(rng, (3, 4)), cmat(rng, (4,)), label="complex")])

# ---------------------------------------------------------------------------------------------
# Non-holomorphic: norms, decompositions, pinv, lstsq
# ---------------------------------------------------------------------------------------------

entry("clinalg.vector_norm", lambda x, **kw: cr.linalg.vector_norm(x, **kw), ("norm2", "norm_p", "abs"),
      lambda rng: [S(cmat(rng, (3, 4)), label="complex(3,4)"), S(cmat(rng, (3, 4)), ord=3, dim=1, label="complex-ord3"),
                   S(cmat(rng, (2, 3)), ord=1, label="complex-ord1"),
                   S(cmat(rng, (2, 3)), ord=2.5, dim=(0, 1), keepdim=True, label="complex-ord2.5")])
entry("clinalg.matrix_norm", lambda x, **kw: cr.linalg.matrix_norm(x, **kw), ("svdvals", "norm2"),
      lambda rng: [S(cspread(rng, (3, 2)), ord="nuc", label="complex-nuc"),
                   S(cspread(rng, (2, 3, 2)), ord=2, label="complex-2"),
                   S(cspread(rng, (2, 2)), ord=-2, keepdim=True, label="complex--2"),
                   S(cmat(rng, (2, 3, 4)), ord="fro", dim=(0, 2), label="complex-fro"),
                   S(cmat(rng, (3, 4)), ord=1, label="complex-1")])
entry("clinalg.norm", lambda x, **kw: cr.linalg.norm(x, **kw), ("norm2", "svdvals"),
      lambda rng: [S(cmat(rng, (3, 4)), label="complex(3,4)"), S(cspread(rng, (3, 3)), ord="nuc", label="complex-nuc"),
                   S(cmat(rng, (3, 4)), ord=3, dim=1, label="complex-ord3")])
entry("clinalg.cholesky", lambda a, upper=False: cr.linalg.cholesky(_herm(a), upper=upper), "cholesky",
      lambda rng: [S(chpd(rng, (3, 3)), label="complex(3,3)"), S(chpd(rng, (2, 2, 2)), label="complex(2,2,2)"),
                   S(chpd(rng, (3, 3)), upper=True, label="complex-upper")])
entry("clinalg.eigh", lambda a, UPLO="L": (lambda r: (r[0], _abs2(r[1])))(cr.linalg.eigh(_herm(a), UPLO)), "eigh",
      lambda rng: [S(cdistinct_eig(rng, (3, 3)), label="complex(3,3)"),
                   S(cdistinct_eig(rng, (2, 3, 3)), UPLO="U", label="complex(2,3,3)-U")])
entry("clinalg.eigh_vectors_only", lambda a: _abs2(cr.linalg.eigh(_herm(a))[1]), "eigh",
      _mats(cdistinct_eig, [(3, 3)]))
entry("clinalg.eigh_function", lambda a: (lambda r: (r[1] * cr.exp(r[0])[..., None, :]) @ r[1].conj().mT)(
          cr.linalg.eigh(_herm(a))), "eigh", _mats(cdistinct_eig, [(3, 3)]))
entry("clinalg.eigvalsh", lambda a: cr.linalg.eigvalsh(_herm(a)), "eigvalsh",
      _mats(cdistinct_eig, [(3, 3), (2, 2, 2)]))
entry("clinalg.svd", lambda a: (lambda r: (_abs2(r.U), r.S, _abs2(r.Vh)))(
          cr.linalg.svd(a, full_matrices=False)), "svd",
      _mats(cspread, [(3, 3), (3, 2), (2, 3), (2, 3, 2)]))
entry("clinalg.svd_full", lambda a: (lambda r: (_abs2(r.U[..., :2]), r.S, _abs2(r.Vh[..., :2, :])))(
          cr.linalg.svd(a, full_matrices=True)), "svd",  # the extra columns are arbitrary (their cotangents ignored)
      _mats(cspread, [(3, 2), (2, 3)]))
entry("clinalg.svd_product", lambda a: (lambda r: (r.U[..., :, :2] * r.S[..., None, :2]) @ r.Vh[..., :2, :])(
          cr.linalg.svd(a)), "svd", _mats(cspread, [(3, 2), (2, 3), (3, 3)]))
entry("clinalg.svd_u_only", lambda a: _abs2(cr.linalg.svd(a, full_matrices=False).U), "svd",
      _mats(cspread, [(3, 2), (2, 3)]))
entry("clinalg.svdvals", cr.linalg.svdvals, "svdvals", _mats(cspread, [(3, 3), (3, 2), (2, 2, 3)]))
entry("clinalg.qr", lambda a, mode="reduced": tuple(cr.linalg.qr(a, mode=mode)), "qr",
      lambda rng: [S(cwell(rng, (3, 3)), label="complex(3,3)"), S(cspread(rng, (3, 2)), label="complex(3,2)"),
                   S(cspread(rng, (2, 3)), label="complex(2,3)"), S(cspread(rng, (2, 3, 2)), label="complex(2,3,2)"),
                   S(cspread(rng, (2, 3)), mode="complete", label="complex(2,3)-complete")])
entry("clinalg.pinv", lambda a, hermitian=False: cr.linalg.pinv(_herm(a) if hermitian else a, hermitian=hermitian),
      "pinv", lambda rng: [S(cspread(rng, (3, 2)), label="complex(3,2)"), S(cspread(rng, (2, 3)), label="complex(2,3)"),
                           S(cwell(rng, (2, 2, 2)), label="complex(2,2,2)"),
                           S(chpd(rng, (3, 3)), hermitian=True, label="complex-hermitian")])
entry("clinalg.lstsq", lambda a, b: cr.linalg.lstsq(a, b).solution, "lstsq",
      lambda rng: [S(cspread(rng, (4, 2)), cmat(rng, (4, 3)), label="complex(4,2)+(4,3)"),
                   S(cspread(rng, (3, 2)), cmat(rng, (3,)), label="complex(3,2)+(3,)"),
                   S(cspread(rng, (2, 3)), cmat(rng, (2, 2)), label="complex(2,3)+(2,2)")])
