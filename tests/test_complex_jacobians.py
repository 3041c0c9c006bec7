"""Jacobians of functions of complex numbers (JAX's rules, SPEC §12), over the whole table.

For every op_db sample with a complex input or output, the Jacobian is measured by central
differences along the real and the imaginary direction of every element, and then:

- a holomorphic function (complex inputs and outputs, the imaginary-direction derivative ``i``
  times the real one) has ``jacrev``/``jacfwd``/``jacobian``/``hessian`` with ``holomorphic=True``
  equal to ``df/dz``;
- a real-valued function of complex inputs has ``jacrev`` rows equal to PyTorch's gradients
  (``d/dx + i d/dy``), and ``jacfwd`` refuses;
- a complex-valued function of real inputs has ``jacfwd`` columns ``d out/dx`` (complex), and
  ``jacrev`` refuses;
- anything else is refused by both without ``holomorphic=True`` (never a silently wrong number:
  ``jacrev`` used to return the real part of ``d out/dx`` for complex outputs of real inputs).
"""

from __future__ import annotations

import numpy as np
import pytest
from op_db import ENTRIES

import chainrule as cr


def _outputs(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _complex_case(entry, sample) -> bool:
    return sample.complex or any(o.dtype.kind == "c" for o in _outputs(entry.call(sample)))


CASES = [pytest.param(e, s, id=f"{e.name}-{s.label}") for e in ENTRIES for s in e.samples if _complex_case(e, s)]


def _directional_jacobian(f, args, i, direction, eps=1e-6):
    """d f / d args[i] along ``direction`` (1 or 1j) per element, central differences, shape
    ``out.shape + in.shape`` (complex128)."""
    base = args[i].detach().numpy()
    columns = []
    for index in np.ndindex(base.shape):
        values = []
        for step in (eps, -eps):
            moved = base.astype(np.complex128 if direction == 1j else base.dtype, copy=True)
            moved[index] += step * direction
            call = list(args)
            call[i] = cr.tensor(moved)
            with cr.no_grad():
                values.append(np.asarray(f(*call).numpy(), dtype=np.complex128))
        columns.append((values[0] - values[1]) / (2 * eps))
    return np.stack(columns, axis=-1).reshape(columns[0].shape + base.shape)


def _refuses(call, match):
    with pytest.raises(TypeError, match=match):
        call()


@pytest.mark.parametrize("entry, sample", CASES)
def test_complex_jacobians_against_central_differences(entry, sample):
    """(Real functions: tests/test_op_table.py::test_jacfwd_matches_jacrev.)"""
    nums = sample.differentiable
    args = [t.detach() if isinstance(t, cr.Tensor) else t for t in sample.tensors()]
    rtol, atol = entry.tol.get("rtol", 1e-3), entry.tol.get("atol", 1e-5)
    complex_in = [args[i].dtype.kind == "c" for i in nums]
    for k, out in enumerate(_outputs(entry.call(sample))):
        def f(*xs, _k=k):
            return _outputs(entry.op(*xs, **sample.kwargs))[_k]

        complex_out = out.dtype.kind == "c"
        along_x = [_directional_jacobian(f, args, i, 1) for i in nums]
        along_y = [_directional_jacobian(f, args, i, 1j) if c else None for i, c in zip(nums, complex_in)]
        holomorphic = all(complex_in) and complex_out and all(
            np.allclose(jy, 1j * jx, rtol=1e-4, atol=1e-6) for jx, jy in zip(along_x, along_y))
        if holomorphic:
            for jacobian in (cr.jacrev, cr.jacfwd, cr.jacobian):
                got = jacobian(f, argnums=nums, holomorphic=True)(*args)
                for position, g, expected in zip(nums, got, along_x):
                    np.testing.assert_allclose(g.numpy(), expected, rtol=rtol, atol=atol,
                                               err_msg=f"{jacobian.__name__} holomorphic, output {k}, argument {position}")
        if not complex_out:  # rows: PyTorch's gradients d/dx + i d/dy of each real output
            for jacobian in (cr.jacrev, cr.jacobian):
                got = jacobian(f, argnums=nums)(*args)
                for position, g, jx, jy in zip(nums, got, along_x, along_y):
                    expected = jx.real + (1j * jy.real if jy is not None else 0)
                    np.testing.assert_allclose(g.numpy(), expected, rtol=rtol, atol=atol,
                                               err_msg=f"{jacobian.__name__}, output {k}, argument {position}")
            _refuses(lambda: cr.jacfwd(f, argnums=nums)(*args), "jacfwd needs real inputs")
        elif not any(complex_in):  # complex outputs of real inputs: d out / dx
            for jacobian in (cr.jacfwd, cr.jacobian):
                got = jacobian(f, argnums=nums)(*args)
                for position, g, expected in zip(nums, got, along_x):
                    np.testing.assert_allclose(g.numpy(), expected, rtol=rtol, atol=atol,
                                               err_msg=f"{jacobian.__name__}, output {k}, argument {position}")
            _refuses(lambda: cr.jacrev(f, argnums=nums)(*args), "jacrev needs real-valued outputs")
        else:
            _refuses(lambda: cr.jacrev(f, argnums=nums)(*args), "jacrev needs real-valued outputs")
            _refuses(lambda: cr.jacfwd(f, argnums=nums)(*args), "jacfwd needs real inputs")


# ---------------------------------------------------------------------------------------------
# Closed forms, second order, vmap, JAX as an oracle, misuse
# ---------------------------------------------------------------------------------------------

def _z():
    return cr.tensor(np.array([1 + 2j, 0.5 - 1j, -0.3 + 0.2j]))


def test_holomorphic_jacobian_closed_form():
    z = _z()
    expected = np.diag(np.cos(z.numpy()) * z.numpy() + np.sin(z.numpy()))
    for jacobian in (cr.jacrev, cr.jacfwd, cr.jacobian):
        got = jacobian(lambda z: z.sin() * z, holomorphic=True)(z)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_holomorphic_hessian_closed_form_and_matrix_function():
    z = _z()
    h = cr.hessian(lambda z: (z ** 3).sum() + (z[0] * z[1]), holomorphic=True)(z)
    expected = np.diag(6 * z.numpy())
    expected[0, 1] += 1
    expected[1, 0] += 1
    np.testing.assert_allclose(h.numpy(), expected, rtol=1e-12)
    a = np.array([[1 + 1j, 2], [0.5j, -1]])
    got = cr.jacrev(lambda z: cr.tensor(a) @ z[:2], holomorphic=True)(z)
    np.testing.assert_allclose(got.numpy(), np.concatenate([a, np.zeros((2, 1))], axis=1), rtol=1e-12)


def test_holomorphic_jacobians_keep_the_graph_for_higher_order():
    z = cr.tensor(np.array([1 + 2j, 0.5 - 1j]), requires_grad=True)
    jac = cr.jacrev(lambda z: z ** 3, holomorphic=True)(z)
    assert jac.requires_grad
    # the real-valued |trace|² of diag(3 z²): its gradient (PyTorch's convention) by the chain rule
    (jac.diagonal().sum().abs() ** 2).backward()
    s = (3 * z.detach().numpy() ** 2).sum()
    np.testing.assert_allclose(z.grad.numpy(), 2 * s * np.conj(6 * z.detach().numpy()), rtol=1e-12)


def test_holomorphic_jacobians_inside_vmap_match_a_loop():
    zs = cr.tensor(np.array([[1 + 2j, 0.5 - 1j], [0.2j, 2 + 0j], [-1 + 1j, 0.3 - 0.4j]]))
    f = lambda z: z.exp() * z[0]  # noqa: E731
    for jacobian in (cr.jacrev, cr.jacfwd):
        batched = cr.vmap(jacobian(f, holomorphic=True))(zs)
        loop = np.stack([jacobian(f, holomorphic=True)(zs[i]).numpy() for i in range(3)])
        np.testing.assert_allclose(batched.numpy(), loop, rtol=1e-12)


def test_pytree_arguments_with_complex_leaves():
    params = {"a": cr.tensor(np.array([1 + 1j, 2 - 1j])), "b": cr.tensor(np.array(0.5 + 0.5j))}
    jac = cr.jacfwd(lambda p: p["a"] * p["b"], holomorphic=True)(params)
    np.testing.assert_allclose(jac["a"].numpy(), np.diag([0.5 + 0.5j] * 2), rtol=1e-12)
    np.testing.assert_allclose(jac["b"].numpy(), params["a"].numpy(), rtol=1e-12)


def test_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    z = np.array([1 + 2j, 0.5 - 1j, -0.3 + 0.2j])
    for make in (lambda m: (lambda z: m.sin(z) * m.exp(z[0]) + z ** 2 / (z[1] + 3)),
                 lambda m: (lambda z: m.tanh(z)[::-1] * m.sum(z))):
        for ours, theirs in ((cr.jacrev, jax.jacrev), (cr.jacfwd, jax.jacfwd)):
            got = ours(make(cr), holomorphic=True)(cr.tensor(z))
            np.testing.assert_allclose(got.numpy(), np.asarray(theirs(make(jnp), holomorphic=True)(z)), rtol=1e-12)
    hess = cr.hessian(lambda z: (cr.sin(z) * z).sum(), holomorphic=True)(cr.tensor(z))
    np.testing.assert_allclose(hess.numpy(), np.asarray(jax.hessian(lambda z: jnp.sum(jnp.sin(z) * z),
                                                                     holomorphic=True)(z)), rtol=1e-12)
    x = np.array([0.3, -1.2])
    got = cr.jacfwd(lambda x: cr.exp(x * (1 + 2j)))(cr.tensor(x))
    np.testing.assert_allclose(got.numpy(), np.asarray(jax.jacfwd(lambda x: jnp.exp(x * (1 + 2j)))(x)), rtol=1e-12)


def test_real_rows_of_complex_inputs_are_pytorch_gradients():
    torch = pytest.importorskip("torch")
    z = np.array([1 + 2j, 0.5 - 1j, -0.3 + 0.2j])
    got = cr.jacrev(lambda z: ((z * z.conj()).real * z.real).sin())(cr.tensor(z)).numpy()
    rows = []
    for k in range(3):
        t = torch.tensor(z, requires_grad=True)
        ((t * t.conj()).real * t.real).sin()[k].backward()
        rows.append(t.grad.numpy())
    np.testing.assert_allclose(got, np.stack(rows), rtol=1e-12)


def test_refusals_name_the_fix():
    z = _z()
    x = cr.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"jacrev needs real-valued outputs.*holomorphic=True.*cr\.jacfwd"):
        cr.jacrev(lambda x: x * (1 + 2j))(x)
    with pytest.raises(TypeError, match=r"jacfwd needs real inputs.*argument 0.*holomorphic=True"):
        cr.jacfwd(lambda z: z * z)(z)
    with pytest.raises(TypeError, match=r"jacrev with holomorphic=True needs complex outputs"):
        cr.jacrev(lambda z: z.abs(), holomorphic=True)(z)
    with pytest.raises(TypeError, match=r"jacfwd with holomorphic=True needs complex arguments"):
        cr.jacfwd(lambda x: x * 1j, holomorphic=True)(x)
    with pytest.raises(TypeError, match=r"jacrev with holomorphic=True needs complex arguments, got dtype float32 for argument 1"):
        cr.jacrev(lambda z, x: z * x, argnums=(0, 1), holomorphic=True)(z, x[:1])
    with pytest.raises(TypeError, match=r"hessian needs real inputs"):
        cr.hessian(lambda z: (z.abs() ** 2).sum())(z)
    with pytest.raises(TypeError, match=r"jacobian: holomorphic must be a bool"):
        cr.jacobian(lambda z: z, holomorphic="yes")
    with pytest.raises(TypeError, match=r"jacobian needs real-valued outputs"):
        cr.jacobian(lambda z: z * z)(z)  # complex in and out, not declared holomorphic


def test_jacobian_auto_mode_picks_the_mode_that_has_a_jacobian():
    x = cr.tensor(np.linspace(0.1, 1.0, 6))
    # 6 inputs, 1 complex output: reverse would be cheaper but has no Jacobian of a complex output
    got = cr.jacobian(lambda x: (x * (1 + 1j)).sum())(x)
    np.testing.assert_allclose(got.numpy(), np.full(6, 1 + 1j))
    z = cr.tensor(np.array([1 + 1j]))
    # 1 complex input, 3 real outputs: forward would be cheaper but refuses complex inputs
    got = cr.jacobian(lambda z: cr.stack([z.real, z.imag, z.abs() ** 2]).reshape(3))(z)
    np.testing.assert_allclose(got.numpy(), [[1], [1j], [2 + 2j]])
