"""The guided tour printed by ``chainrule demo``: each result beside the value it should have."""

from __future__ import annotations

import numpy as np

import chainrule as cr


def _check(label: str, got, expected, tol: float = 1e-6) -> bool:
    got_a = np.asarray(got.detach() if isinstance(got, cr.Tensor) else got, dtype=np.float64)
    exp_a = np.asarray(expected, dtype=np.float64)
    ok = got_a.shape == exp_a.shape and np.allclose(got_a, exp_a, rtol=tol, atol=tol)
    mark = "ok" if ok else "MISMATCH"
    print(f"  {label:<38} {np.array2string(got_a, precision=4):<28} expected {np.array2string(exp_a, precision=4):<24} [{mark}]")
    return ok


def run(out: str = "chainrule-demo") -> int:
    ok = True
    print("1. y = 2 * x·x for x = [0, 1, 2, 3]: dy/dx = 4x")
    x = cr.arange(4.0, requires_grad=True)
    y = 2 * cr.dot(x, x)
    y.backward()
    ok &= _check("y", y, 28.0)
    ok &= _check("x.grad", x.grad, 4 * np.arange(4.0))

    print("2. gradients accumulate; zero them, then y = x.sum(): dy/dx = 1")
    x.grad.zero_()
    x.sum().backward()
    ok &= _check("x.grad", x.grad, np.ones(4))

    print("3. detach: y = x*x, u = y.detach(), z = u*x: dz/dx = u")
    x.grad.zero_()
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    ok &= _check("x.grad", x.grad, u)

    print("4. control flow: the graph is whatever ran (while b.norm() < 1000: b = 2b)")

    def f(a):
        b = a * 2
        while b.norm() < 1000:
            b = b * 2
        return b.sum() if b.sum() > 0 else 100 * b.sum()

    cr.manual_seed(0)
    a = cr.randn(size=(), requires_grad=True)
    d = f(a)
    d.backward()
    ok &= _check("a.grad == d / a", a.grad, (d / a).detach())

    print("5. backward(v) is the vector-Jacobian product v·J, here for y = x*x")
    x = cr.arange(4.0, requires_grad=True)
    y = x * x
    v = cr.tensor([1.0, 0.1, 0.01, 0.001])
    y.backward(v)
    ok &= _check("x.grad = v * 2x", x.grad, np.array([1.0, 0.1, 0.01, 0.001]) * 2 * np.arange(4.0))

    print("\nall results match" if ok else "\nSOME RESULTS DID NOT MATCH")
    return 0 if ok else 1
