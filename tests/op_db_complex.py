"""op_db entries with complex samples (SPEC §12): every operation made complex-capable, with
complex128 inputs (differentiated along their real and imaginary parts by gradcheck), plus the
complex-only primitives (conj, real, imag, angle, complex)."""

from __future__ import annotations

import numpy as np
from op_db import S, entry, uniform

import chainrule as cr


def cuniform(rng, shape, lo=-1.5, hi=1.5):
    return (uniform(rng, shape, lo, hi) + 1j * uniform(rng, shape, lo, hi)).astype(np.complex128)


def cnonzero(rng, shape):
    """Complex numbers with moduli in [0.5, 1.5] (away from 0 and from branch cuts' ends)."""
    r = uniform(rng, shape, 0.5, 1.5)
    theta = uniform(rng, shape, -2.5, 2.5)  # away from the negative real axis (log, sqrt's cut)
    return (r * np.exp(1j * theta)).astype(np.complex128)


def csmall(rng, shape):
    """Inside the unit disc, away from ±1 and ±i (the inverse functions' branch points)."""
    return cuniform(rng, shape, -0.5, 0.5)


SHAPES = [(), (4,), (2, 3)]


def unary(make, shapes=SHAPES):
    return lambda rng: [S(make(rng, s), label=f"complex{s}") for s in shapes]


def binary(make_x, make_y):
    pairs = [((2, 3), (2, 3)), ((2, 3), (3,)), ((), (2, 3))]
    return lambda rng: [S(make_x(rng, a), make_y(rng, b), label=f"complex{a}+{b}") for a, b in pairs]


def mixed(make_x):
    """A complex tensor with a real one (promotion: the real one's gradient is real)."""
    return lambda rng: [S(make_x(rng, (2, 3)), uniform(rng, (3,)), label="complex(2,3)+real(3,)"),
                        S(uniform(rng, (2, 3)), make_x(rng, (2, 3)), label="real(2,3)+complex(2,3)")]


# ---------------------------------------------------------------------------------------------
# Holomorphic functions
# ---------------------------------------------------------------------------------------------

UNARY = {
    "exp": cuniform, "expm1": cuniform, "log": cnonzero, "log1p": lambda r, s: cnonzero(r, s) + 0.2,
    "log2": cnonzero, "log10": cnonzero, "sqrt": cnonzero, "rsqrt": cnonzero, "reciprocal": cnonzero,
    "sin": cuniform, "cos": cuniform, "tan": csmall, "sinh": cuniform, "cosh": cuniform, "tanh": csmall,
    "arcsin": csmall, "arccos": csmall, "arctan": csmall, "arcsinh": csmall, "arccosh": cnonzero,
    "arctanh": csmall, "exp2": cuniform, "square": cuniform, "neg": cuniform,
}
for _name, _make in UNARY.items():
    entry(f"complex.{_name}", getattr(cr, _name), _name, unary(_make))
entry("complex.np.exp", lambda z: np.exp(z), "exp", unary(cuniform, [(2, 3)]))
entry("complex.abs", cr.abs, "abs", unary(cnonzero))
entry("complex.np.abs", lambda z: np.abs(z), "abs", unary(cnonzero, [(2, 3)]))

entry("complex.add", lambda x, y: x + y, "add", binary(cuniform, cuniform))
entry("complex.add.mixed", lambda x, y: x + y, "add", mixed(cuniform))
entry("complex.sub", lambda x, y: x - y, "sub", binary(cuniform, cuniform))
entry("complex.mul", lambda x, y: x * y, "mul", binary(cuniform, cuniform))
entry("complex.mul.mixed", lambda x, y: x * y, "mul", mixed(cuniform))
entry("complex.mul.scalar", lambda x: x * (1.5 - 0.5j), "mul", unary(cuniform))
entry("complex.div", lambda x, y: x / y, "div", binary(cuniform, cnonzero))
entry("complex.pow", lambda x, y: x ** y, "pow", binary(cnonzero, csmall))
entry("complex.pow.scalar", lambda x: x ** 3, "pow", unary(cuniform))
entry("complex.pow.complex_exponent", lambda x: x ** (0.5 + 1j), "pow", unary(cnonzero))
entry("complex.rpow", lambda y: 2.0 ** y, "pow", unary(cuniform))

# ---------------------------------------------------------------------------------------------
# Complex-only operations
# ---------------------------------------------------------------------------------------------

entry("complex.conj", cr.conj, "conj", unary(cuniform))
entry("complex.conj.method", lambda z: z.conj(), "conj", unary(cuniform, [(2, 3)]))
entry("complex.np.conjugate", lambda z: np.conjugate(z), "conj", unary(cuniform, [(2, 3)]))
entry("complex.real", lambda z: z.real, "real", unary(cuniform))
entry("complex.cr.real", cr.real, "real", unary(cuniform, [(2, 3)]))
entry("complex.np.real", lambda z: np.real(z), "real", unary(cuniform, [(2, 3)]))
entry("complex.imag", lambda z: z.imag, "imag", unary(cuniform))
entry("complex.np.imag", lambda z: np.imag(z), "imag", unary(cuniform, [(2, 3)]))
entry("complex.angle", cr.angle, "angle", unary(cnonzero))
entry("complex.np.angle", lambda z: np.angle(z), "angle", unary(cnonzero, [(2, 3)]))
entry("angle.real", cr.angle, "angle", lambda rng: [S(np.array([-1.5, 0.5, 2.0, -0.3]), label="real(4,)")])
entry("complex.complex", cr.complex, "complex",
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (2, 3))), S(uniform(rng, (2, 3)), uniform(rng, (3,)))])
entry("complex.polar", cr.polar, ("complex", "mul", "cos", "sin"),
      lambda rng: [S(uniform(rng, (2, 3), 0.5, 2.0), uniform(rng, (2, 3)))])
entry("complex.view_as_real", cr.view_as_real, "view_as_real", unary(cuniform, [(4,), (2, 3)]))
entry("complex.view_as_complex", cr.view_as_complex, "view_as_complex",
      lambda rng: [S(uniform(rng, (3, 2))), S(uniform(rng, (2, 3, 2)))])


def _write_into_real_part(z, v):
    y = z * z
    y.real[1:] = v * z.imag[:-1]  # a write through a view of parts: y becomes copy_parts(y, ...)
    return y * z


def _scale_imag_of_view_as_real(z, v):
    y = z * 1.0
    pairs = cr.view_as_real(y)
    pairs[..., 1].mul_(v)
    return y.exp() + pairs.sum()


def _write_complex_into_pairs(x, w):
    y = x * 2.0
    cr.view_as_complex(y).mul_(w)  # complex numbers written into a real tensor
    return y * x


entry("complex.write_into_real_part", _write_into_real_part, ("mul", "real", "imag", "getitem", "copy_parts"),
      lambda rng: [S(cuniform(rng, (4,)), uniform(rng, (3,)), label="complex(4)+real(3)")])
entry("complex.scale_imag_of_view_as_real", _scale_imag_of_view_as_real, ("view_as_real", "mul", "copy_parts"),
      lambda rng: [S(cuniform(rng, (2, 3)), uniform(rng, (3,)), label="complex(2,3)+real(3)")])
entry("complex.write_complex_into_pairs", _write_complex_into_pairs, ("view_as_complex", "mul", "copy_parts"),
      lambda rng: [S(uniform(rng, (3, 2)), cuniform(rng, (3,)), label="real(3,2)+complex(3)")])
entry("complex.cast", lambda x: x.to(cr.complex128), "cast", lambda rng: [S(uniform(rng, (2, 3)))])
entry("complex.cast_to_real", lambda z: z.to(cr.float64), "cast", unary(cuniform, [(2, 3)]))

# ---------------------------------------------------------------------------------------------
# Reductions, products, shapes, selection
# ---------------------------------------------------------------------------------------------

entry("complex.sum", lambda z: z.sum(), "sum", unary(cuniform))
entry("complex.sum.dim", lambda z: z.sum(1), "sum", unary(cuniform, [(2, 3)]))
entry("complex.mean", lambda z: z.mean(0), "mean", unary(cuniform, [(4,), (2, 3)]))
entry("complex.prod", lambda z: z.prod(1), "prod", unary(cnonzero, [(2, 3)]))
entry("complex.cumsum", lambda z: cr.cumsum(z, 0), "cumsum", unary(cuniform, [(4,), (2, 3)]))
entry("complex.cumprod", lambda z: cr.cumprod(z, 1), "cumprod", unary(cnonzero, [(2, 3)]))
entry("complex.matmul", lambda a, b: a @ b, "matmul",
      lambda rng: [S(cuniform(rng, (2, 3)), cuniform(rng, (3, 4))), S(cuniform(rng, (3,)), cuniform(rng, (3, 2)))])
entry("complex.matmul.mixed", lambda a, b: a @ b, "matmul",
      lambda rng: [S(cuniform(rng, (2, 3)), uniform(rng, (3, 4)))])
entry("complex.einsum", lambda a, b: cr.einsum("ij,jk->ik", a, b), "einsum_prim",
      lambda rng: [S(cuniform(rng, (2, 3)), cuniform(rng, (3, 4)))])
entry("complex.vdot", cr.vdot, ("conj", "matmul"), lambda rng: [S(cuniform(rng, (3,)), cuniform(rng, (3,)))])
entry("complex.where", lambda z, w: cr.where(cr.tensor([True, False, True]), z, w), "where",
      lambda rng: [S(cuniform(rng, (2, 3)), cuniform(rng, (2, 3))), S(cuniform(rng, (3,)), uniform(rng, (3,)))])
entry("complex.reshape", lambda z: z.reshape(3, 2), "reshape", unary(cuniform, [(2, 3)]))
entry("complex.permute", lambda z: z.T, "permute", unary(cuniform, [(2, 3)]))
entry("complex.getitem", lambda z: z[1:, [0, 2]], "getitem", unary(cuniform, [(2, 3)]))
entry("complex.cat", lambda a, b: cr.cat([a, b], 0), "cat", lambda rng: [S(cuniform(rng, (2, 3)), cuniform(rng, (1, 3)))])
entry("complex.flip", lambda z: cr.flip(z, (1,)), "flip", unary(cuniform, [(2, 3)]))
entry("complex.var", lambda z: z.var(1), ("mean", "sub", "conj", "mul", "real", "sum", "div"), unary(cuniform, [(2, 3)]))
entry("complex.std", lambda z: z.std(), ("mean", "sub", "conj", "mul", "real", "sum", "div", "eq", "where", "sqrt"),
      unary(cuniform, [(4,)]))
entry("complex.np.var", lambda z: np.var(z, axis=0), ("sub", "conj", "mul", "real", "sum", "div"),
      unary(cuniform, [(2, 3)]))
