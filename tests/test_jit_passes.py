"""The rewriting passes of ``cr.jit`` (compile/passes.py) compute eager mode's values bit for bit.

Random expressions of negations, products with constants, sums and differences (the shapes the
backward passes of ``sub`` and of squares take), on values that include signed zeros,
infinities and NaNs: the folded graph against eager mode, comparing bits (the sign of a zero
included); and how many negations are left.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

SPECIAL = np.array([0.0, -0.0, 1.5, -2.25, np.inf, -np.inf, np.nan, 1e-310, -3e300, 7.0])
CONSTANTS = [2.0, -0.5, 0.0, -0.0, 3, -1, np.float64(1.25), np.array(-4.0)]


def _bits(a):
    a = np.asarray(a, dtype=np.float64)
    return np.where(np.isnan(a), 0x7FF8000000000000, a.view(np.int64))  # NaNs: any sign, any payload


def _program(seed):
    rng = np.random.default_rng(seed)
    steps = []
    for _ in range(rng.integers(3, 9)):
        kind = rng.choice(["neg", "mul_c", "c_mul", "add", "add_rev", "sub", "mul"])
        steps.append((str(kind), int(rng.integers(0, 99)), CONSTANTS[int(rng.integers(len(CONSTANTS)))]))

    def f(x, y):
        values = [x, y]
        for kind, pick, c in steps:
            a, b = values[pick % len(values)], values[(pick * 7 + 1) % len(values)]
            if kind == "neg":
                values.append(-a)
            elif kind == "mul_c":
                values.append(a * c)
            elif kind == "c_mul":
                values.append(c * -a)
            elif kind == "add":
                values.append(a + -b)
            elif kind == "add_rev":
                values.append(-b + a)
            elif kind == "sub":
                values.append(a - -b)
            else:
                values.append(-(a * c) * b)
        return values[-1], values[-2] * 1.0

    return f, steps


@pytest.mark.parametrize("seed", range(80))
def test_folded_signs_give_eager_modes_bits(seed):
    f, steps = _program(seed)
    jf = cr.jit(f)
    rng = np.random.default_rng(seed + 500)
    with np.errstate(all="ignore"):
        for _ in range(3):
            x = cr.tensor(rng.permutation(SPECIAL))
            y = cr.tensor(rng.permutation(SPECIAL))
            for g, w in zip(jf(x, y), f(x, y)):
                np.testing.assert_array_equal(_bits(g.numpy()), _bits(w.numpy()), err_msg=str(steps))


def test_negations_of_a_backward_pass_are_folded():
    """The Hessian-vector product of Rosenbrock's function (W7c): its negations folded into
    products and differences where nothing else reads them."""
    def rosenbrock(x):
        a, b = x[:-1], x[1:]
        return (100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2).sum()

    jf = cr.jit(lambda x, v: cr.hvp(rosenbrock, (x,), (v,)))
    x, v = cr.tensor(np.linspace(-1, 1, 7)), cr.tensor(np.linspace(0.5, 2, 7))
    names = [eq.prim.name for eq in jf.graph(x, v).equations]
    assert names.count("neg") <= 2 and "alias" not in names
    for got, want in zip(jf(x, v), cr.hvp(rosenbrock, (x,), (v,))):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
