"""Views of the parts of complex numbers (``t.real``, ``t.imag``, ``view_as_real``,
``view_as_complex``) share memory with the complex tensor as in PyTorch and NumPy: writing into
them changes it (with the gradient of the write: ``copy_parts``), and changes of the complex
tensor show in them.

Random programs (a chain of views of a complex tensor mixing these with indexing, transposes
and reshapes, an in-place write into the last view, a loss reading both) are compared with
PyTorch (values and gradients) and with central differences along the real and imaginary
directions. They used to be copies, so every write was silently lost.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

import chainrule as cr

# ---------------------------------------------------------------------------------------------
# Closed forms
# ---------------------------------------------------------------------------------------------


def test_parts_are_views_both_ways():
    z = cr.tensor(np.array([1 + 2j, 3 - 1j]))
    r, i, both = z.real, z.imag, cr.view_as_real(z)
    z.mul_(2)
    np.testing.assert_array_equal(r.numpy(), [2, 6])
    np.testing.assert_array_equal(i.numpy(), [4, -2])
    np.testing.assert_array_equal(both.numpy(), [[2, 4], [6, -2]])
    r += 1
    i[0] = 5
    np.testing.assert_array_equal(z.numpy(), [3 + 5j, 7 - 2j])
    both[1, 1] = 0
    np.testing.assert_array_equal(z.numpy(), [3 + 5j, 7 + 0j])
    assert cr.real(z)._base is z and np.real(z)._base is z and z.imag._base is z
    x = cr.tensor([1.0, 2.0])
    x.real.add_(1)  # a real tensor's real part is the tensor itself (PyTorch)
    np.testing.assert_array_equal(x.numpy(), [2.0, 3.0])
    pairs = cr.tensor(np.arange(6.0).reshape(3, 2))
    c = cr.view_as_complex(pairs)
    c.imag.mul_(10)
    np.testing.assert_array_equal(pairs.numpy(), [[0, 10], [2, 30], [4, 50]])


def test_view_as_complex_refuses_layouts_it_cannot_view_as_pytorch():
    pairs = cr.tensor(np.arange(8.0).reshape(2, 4))
    assert cr.view_as_complex(pairs.reshape(2, 2, 2)[:, 1:, :])._base is pairs
    assert cr.view_as_complex(pairs.T.contiguous().reshape(4, 2))._base is not pairs
    assert cr.view_as_complex(pairs.reshape(4, 2)[:, None, :].expand(4, 3, 2))._base is pairs  # stride 0
    # (an odd offset, pairs[:, 1:3], PyTorch refuses; NumPy views it, and so does chainrule)
    np.testing.assert_array_equal(cr.view_as_complex(pairs[:, 1:3]).numpy(), [1 + 2j, 5 + 6j])
    for bad in (pairs.T.reshape(4, 2), cr.tensor(np.arange(9.0).reshape(3, 3))[:, :2]):
        with pytest.raises(RuntimeError, match=r"view_as_complex: .* stride 1 .*\.contiguous\(\)"):
            cr.view_as_complex(bad)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="stride"):
        torch.view_as_complex(torch.arange(8.0).reshape(2, 4).T.reshape(4, 2))


def test_write_through_real_part_gradient_closed_form():
    z = cr.tensor(np.array([1 + 2j, 3 - 1j]), requires_grad=True)
    y = z * 1.0
    y.real.mul_(3)  # y = 3 Re z + i Im z
    (y.abs() ** 2).sum().backward()
    # |y|² = 9 x² + u²: PyTorch's gradient d/dx + i d/du = 18 x + 2 i u
    np.testing.assert_allclose(z.grad.numpy(), [18 + 4j, 54 - 2j], rtol=1e-14)


def test_leaf_views_and_versions_follow_pytorch():
    z = cr.tensor(np.array([1 + 2j]), requires_grad=True)
    with pytest.raises(RuntimeError, match="view .* of a leaf tensor that requires grad"):
        z.real.add_(1)
    y = z * 2
    w = y.sin()  # saves y
    y.imag.zero_()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        w.sum().real.backward()


# ---------------------------------------------------------------------------------------------
# Random programs against PyTorch and central differences
# ---------------------------------------------------------------------------------------------

SHAPES = [(3,), (2, 3), (2, 2, 2), (4, 1)]


def _draw_chain(rng: random.Random, shape, kind):
    """A random chain of view steps from a tensor of ``shape`` and dtype kind ``kind`` (with its
    strides in real numbers, so ``view_as_complex`` is drawn only where PyTorch allows it)."""
    steps = []
    strides = tuple(2 * st for st in np.empty(shape).strides) if shape else ()
    strides = tuple(st // 8 for st in strides)
    for _ in range(rng.randint(1, 4)):
        options = []
        if kind == "c":
            options += ["real", "imag", "view_as_real"]
        if kind == "f" and shape and shape[-1] == 2 and strides[-1] == 1 and all(st % 2 == 0 for st in strides[:-1]):
            options.append("view_as_complex")
        if len(shape) >= 2:
            options.append("T")
        if shape and shape[0] > 1:
            options.append("slice")
        if shape:
            options.append("index")
        if not options:
            break
        step = rng.choice(options)
        if step == "slice":
            start = rng.randint(0, shape[0] - 1)
            steps.append(("slice", start))
            shape = (shape[0] - start,) + shape[1:]
        elif step == "index":
            steps.append(("index", rng.randint(0, shape[0] - 1)))
            shape, strides = shape[1:], strides[1:]
        elif step == "T":
            steps.append(("T", None))
            shape, strides = shape[::-1], strides[::-1]
        elif step in ("real", "imag"):
            steps.append((step, None))
            kind = "f"
        elif step == "view_as_real":
            steps.append((step, None))
            shape, strides, kind = shape + (2,), strides + (1,), "f"
        else:
            steps.append((step, None))
            shape, strides, kind = shape[:-1], tuple(st // 2 for st in strides[:-1]), "c"
    return steps, shape, kind


def _apply(lib, v, steps):
    for step, arg in steps:
        if step == "slice":
            v = v[arg:]
        elif step == "index":
            v = v[arg]
        elif step == "T":
            v = v.permute(*reversed(range(v.ndim)))
        elif step in ("real", "imag"):
            v = getattr(v, step)
        elif step == "view_as_real":
            v = lib.view_as_real(v)
        else:
            v = lib.view_as_complex(v)
    return v


WRITES = ["mul_", "add_", "setitem", "fill_", "copy_"]


def _program(seed):
    rng = random.Random(seed)
    shape = rng.choice(SHAPES)
    steps, vshape, vkind = _draw_chain(rng, shape, "c")
    write = rng.choice(WRITES)
    state = np.random.default_rng(seed)
    x0 = state.uniform(-1, 1, shape) + 1j * state.uniform(-1, 1, shape)
    p0 = state.uniform(-1, 1, vshape) + (1j * state.uniform(-1, 1, vshape) if vkind == "c" else 0)
    wy = state.uniform(-1, 1, shape) + 1j * state.uniform(-1, 1, shape)
    wv = state.uniform(-1, 1, vshape) + (1j * state.uniform(-1, 1, vshape) if vkind == "c" else 0)

    def run(lib, x, p):
        y = x * (0.5 + 0.25j) + x * x
        v = _apply(lib, y, steps)
        source = p * x.abs().sum() if vkind == "f" else p * x.sum()
        if write == "mul_":
            v.mul_(source)
        elif write == "add_":
            v.add_(source)
        elif write == "setitem":
            v[...] = source
        elif write == "fill_":
            v.fill_(x.abs().sum() if vkind == "f" else x.sum())
        else:
            v.copy_(source)
        const = (lambda a: lib.tensor(a)) if lib is cr else (lambda a: lib.tensor(a))
        return (y * const(wy)).real.sum() + (v * const(wv)).real.sum() + (y.abs() ** 2).sum()

    return run, x0, p0, f"seed {seed}: shape {shape}, views {steps}, write {write}"


def _ours(run, x0, p0):
    x = cr.tensor(x0, requires_grad=True)
    p = cr.tensor(p0, requires_grad=True)
    loss = run(cr, x, p)
    loss.backward()
    return loss.item(), x.grad.numpy(), None if p.grad is None else p.grad.numpy()


@pytest.mark.parametrize("seed", range(150))
def test_random_view_programs_match_torch(seed):
    torch = pytest.importorskip("torch")
    run, x0, p0, what = _program(seed)
    value, gx, gp = _ours(run, x0, p0)
    x = torch.tensor(x0, requires_grad=True)
    p = torch.tensor(p0, requires_grad=True)
    loss = run(torch, x, p)
    loss.backward()
    np.testing.assert_allclose(value, loss.item(), rtol=1e-12, err_msg=what)
    np.testing.assert_allclose(gx, x.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=what)
    if p.grad is None:  # fill_ does not read p
        assert gp is None, what
    else:
        np.testing.assert_allclose(gp, p.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=what)


@pytest.mark.parametrize("seed", range(0, 150, 5))
def test_random_view_programs_match_central_differences(seed):
    run, x0, p0, what = _program(seed)
    _, gx, _ = _ours(run, x0, p0)

    def value(x):
        with cr.no_grad():
            return run(cr, cr.tensor(x), cr.tensor(p0)).item()

    eps = 1e-6
    numeric = np.zeros_like(x0)
    for index in np.ndindex(x0.shape):
        for direction in (1, 1j):
            step = np.zeros_like(x0)
            step[index] = eps * direction
            slope = (value(x0 + step) - value(x0 - step)) / (2 * eps)
            numeric[index] += slope * direction  # PyTorch's convention: d/dx + i d/dy
    np.testing.assert_allclose(gx, numeric, rtol=1e-6, atol=1e-8, err_msg=what)


def test_second_order_through_a_write_into_a_part():
    z0 = np.array([0.3 + 0.4j, -0.5 + 0.2j])

    def f(z):
        y = z * z
        y.imag.mul_(z.abs())
        return (y * y.conj()).real.sum()

    h = cr.hessian(lambda a, b: f(cr.complex(a, b)), argnums=(0, 1))(cr.tensor(z0.real), cr.tensor(z0.imag))
    torch = pytest.importorskip("torch")
    th = torch.autograd.functional.hessian(
        lambda a, b: f_torch(torch.complex(a, b)), (torch.tensor(z0.real), torch.tensor(z0.imag)))
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(h[i][j].numpy(), th[i][j].numpy(), rtol=1e-10, atol=1e-12)


def f_torch(z):
    y = z * z
    y.imag.mul_(z.abs())
    return (y * y.conj()).real.sum()
