"""``cr.vmap`` (SPEC §12): every operation of the table batched, compared with a loop over the
examples; in_axes/out_axes with JAX's conventions; nesting with itself and with every transform."""

from __future__ import annotations

import numpy as np
import pytest
from op_db import ENTRIES

import chainrule as cr

RNG = np.random.default_rng(7)


def _arrays(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [np.asarray(o.detach().numpy()) if isinstance(o, cr.Tensor) else np.asarray(o) for o in outs]


def _batch_of(sample, size=3):
    """``size`` versions of the sample's float arrays (perturbed copies: the domain is kept), the
    other arguments shared."""
    batches = []
    for a in sample.args:
        if isinstance(a, np.ndarray) and a.dtype in (np.float64, np.complex128):
            scale = 1e-2 * (1 + np.abs(a))
            batches.append(np.stack([a + scale * RNG.uniform(-1, 1, a.shape) * (k > 0) for k in range(size)]))
        else:
            batches.append(None)
    return batches


CASES = [pytest.param(e, s, id=f"{e.name}-{s.label}") for e in ENTRIES for s in e.samples
         if any(isinstance(a, np.ndarray) and a.dtype in (np.float64, np.complex128) for a in s.args)]


RANDOM = {"dropout_train"}  # random draws are refused inside vmap (test_random_numbers_inside_vmap_are_refused)
IN_PLACE = RANDOM | {"read_views_after_a_write", "complex.write_into_real_part", "complex.scale_imag_of_view_as_real", "complex.write_complex_into_pairs", "setitem", "setitem_through_views", "setitem_into_constant", "inplace_through_view", "fill_",
            "copy_", "np.put_along_axis"}


@pytest.mark.parametrize("entry, sample", CASES)
def test_vmap_matches_a_loop(entry, sample):
    """vmap over the float arguments of every op_db sample equals the per-example results."""
    if entry.name in IN_PLACE or entry.name.endswith("_") or "inplace" in entry.name:
        pytest.skip("in-place changes of batched tensors are refused (test_in_place_is_refused)")
    batches = _batch_of(sample)
    args = [cr.tensor(b) if b is not None else (cr.tensor(a) if isinstance(a, np.ndarray) else a)
            for a, b in zip(sample.args, batches)]
    in_axes = tuple(0 if b is not None else None for b in batches)
    got = cr.vmap(lambda *xs: entry.op(*xs, **sample.kwargs), in_axes=in_axes)(*args)
    for k in range(3):
        call = [cr.tensor(b[k]) if b is not None else (cr.tensor(a) if isinstance(a, np.ndarray) else a)
                for a, b in zip(sample.args, batches)]
        want = _arrays(entry.op(*call, **sample.kwargs))
        for g, w in zip(_arrays(got), want):
            np.testing.assert_allclose(g[k], w, rtol=1e-12, atol=1e-12)


# Primitives that loop over the batch under vmap (NumPy has no batched form, or the rule is not
# written yet): each is still exact (test_vmap_matches_a_loop), only not vectorised.
LOOPING = {
    "lstsq": "NumPy's lstsq solves one matrix at a time (no batched form)",
}


@pytest.fixture
def loops(monkeypatch):
    from chainrule.transforms import batching

    seen = []
    original = batching._loop

    def counting(ns, fn, args, params):
        seen.append(getattr(fn, "name", getattr(fn, "__name__", "?")))
        return original(ns, fn, args, params)

    monkeypatch.setattr(batching, "_loop", counting)
    return seen


@pytest.mark.parametrize("entry, sample", CASES)
def test_vmap_does_not_loop(entry, sample, loops):
    if entry.name in IN_PLACE or entry.name.endswith("_") or "inplace" in entry.name:
        pytest.skip("in-place")
    batches = _batch_of(sample)
    args = [cr.tensor(b) if b is not None else (cr.tensor(a) if isinstance(a, np.ndarray) else a)
            for a, b in zip(sample.args, batches)]
    in_axes = tuple(0 if b is not None else None for b in batches)
    cr.vmap(lambda *xs: entry.op(*xs, **sample.kwargs), in_axes=in_axes)(*args)
    assert set(loops) <= set(LOOPING), f"{entry.name}: looped over the batch in {sorted(set(loops))}"


# ---------------------------------------------------------------------------------------------
# Transforms inside vmap, vmap inside transforms: every op_db entry with one differentiated input
# ---------------------------------------------------------------------------------------------

def _one_input_cases():
    out = []
    for e in ENTRIES:
        if e.name in IN_PLACE or e.name.endswith("_") or "inplace" in e.name or e.internal:
            continue
        s = e.samples[0]
        if len(s.differentiable) == 1:
            out.append(pytest.param(e, s, id=f"{e.name}-{s.label}"))
    return out


ONE_INPUT = _one_input_cases()


def _scalar_fn(entry, sample, position):
    def f(x):
        args = [cr.tensor(a) if isinstance(a, np.ndarray) else a for a in sample.args]
        args[position] = x
        out = entry.op(*args, **sample.kwargs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        total = None
        for o in outs:
            if o.dtype.kind == "f":
                term = (o * o).sum() if o.ndim else o * o
                total = term if total is None else total + term
            elif o.dtype.kind == "c":  # |o|², a real function of a complex output
                term = (o * o.conj()).real.sum()
                total = term if total is None else total + term
        return total

    return f


@pytest.mark.parametrize("entry, sample", ONE_INPUT)
def test_transforms_inside_vmap_match_a_loop(entry, sample):
    (position,) = sample.differentiable
    f = _scalar_fn(entry, sample, position)
    batch = cr.tensor(_batch_of(sample)[position])
    # (Jacobians are of real functions: complex inputs get their gradient only)
    for transform in (cr.grad,) if sample.complex else (cr.grad, cr.jacrev, cr.jacfwd):
        got = cr.vmap(transform(f))(batch).numpy()
        for k in range(3):
            want = transform(f)(batch[k]).numpy()
            np.testing.assert_allclose(got[k], want, rtol=1e-10, atol=1e-10,
                                       err_msg=f"vmap({transform.__name__}(f)), example {k}")


@pytest.mark.parametrize("entry, sample", ONE_INPUT)
def test_vmap_inside_transforms(entry, sample):
    (position,) = sample.differentiable
    f = _scalar_fn(entry, sample, position)
    batch = cr.tensor(_batch_of(sample)[position])

    def total(xs):
        return cr.vmap(f)(xs).sum()

    def looped(xs):
        return sum(f(xs[k]) for k in range(3))

    for transform in (cr.grad,) if sample.complex else (cr.grad, cr.jacfwd):
        np.testing.assert_allclose(transform(total)(batch).numpy(), transform(looped)(batch).numpy(),
                                   rtol=1e-10, atol=1e-10, err_msg=f"{transform.__name__}(vmap(f))")


# ---------------------------------------------------------------------------------------------
# in_axes, out_axes, nesting, errors
# ---------------------------------------------------------------------------------------------

A = cr.tensor(RNG.standard_normal((4, 3)))
W = cr.tensor(RNG.standard_normal((3, 2)))


def test_in_axes_and_out_axes_follow_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    a, w = A.numpy(), W.numpy()
    cases = [
        (lambda x, w: x @ w, (0, None), 0, (a, w)),
        (lambda x, w: x @ w, (1, None), 1, (a.T.copy(), w)),
        (lambda x, w: x * w.sum(), (-1, None), 0, (a, w)),
        (lambda x, w: (x @ w, x.sum()), (0, None), (1, 0), (a, w)),
        (lambda d: d["x"] * d["s"], ({"x": 0, "s": None},), 0, ({"x": a, "s": np.float64(2.0)},)),
        (lambda p: p[0] - p[1], ((0, 1),), 0, ((a, a.T.copy()),)),
    ]
    for f, in_axes, out_axes, args in cases:
        want = jax.vmap(f, in_axes=in_axes, out_axes=out_axes)(*cr.tree_map(jnp.asarray, args))
        got = cr.vmap(f, in_axes=in_axes, out_axes=out_axes)(*cr.tree_map(
            lambda v: cr.tensor(v) if isinstance(v, np.ndarray) else v, args))
        for g, w_ in zip(cr.tree_leaves(got), jax.tree_util.tree_leaves(want)):
            np.testing.assert_allclose(g.numpy(), np.asarray(w_), rtol=1e-12)


def test_nested_vmap_with_closures():
    M = cr.tensor(RNG.standard_normal((2, 4, 3)))

    def outer(m):  # m: (4, 3) per outer example
        scale = m.sum()  # batched at the outer level only

        def inner(row):  # row: (3,)
            return cr.tanh(row @ W) * scale

        return cr.vmap(inner)(m)

    got = cr.vmap(outer)(M).numpy()
    want = np.stack([np.tanh(M.numpy()[i] @ W.numpy()) * M.numpy()[i].sum() for i in range(2)])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_per_example_gradients_match_torch_func():
    torch = pytest.importorskip("torch")
    X = RNG.standard_normal((6, 3))
    y = RNG.standard_normal(6)
    w = RNG.standard_normal(3)

    def loss(w, x, y):
        return (cr.tanh(x @ w) - y) ** 2

    def tloss(w, x, y):
        return (torch.tanh(x @ w) - y) ** 2

    got = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))(cr.tensor(w), cr.tensor(X), cr.tensor(y))
    want = torch.func.vmap(torch.func.grad(tloss), in_dims=(None, 0, 0))(
        torch.tensor(w), torch.tensor(X), torch.tensor(y))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-15)  # (summation orders differ from torch)
    hess = cr.vmap(cr.hessian(loss), in_axes=(None, 0, 0))(cr.tensor(w), cr.tensor(X), cr.tensor(y))
    thess = torch.func.vmap(torch.func.hessian(tloss), in_dims=(None, 0, 0))(
        torch.tensor(w), torch.tensor(X), torch.tensor(y))
    np.testing.assert_allclose(hess.numpy(), thess.numpy(), rtol=1e-10)


def test_per_example_gradients_of_a_model():
    model = cr.nn.Sequential(cr.nn.Linear(3, 5), cr.nn.Tanh(), cr.nn.Linear(5, 1))
    params = {k: v.detach().double() for k, v in model.named_parameters()}
    X = cr.tensor(RNG.standard_normal((4, 3)))
    y = cr.tensor(RNG.standard_normal(4))

    def loss(p, x, y):
        h = cr.tanh(x @ p["0.weight"].T + p["0.bias"])
        return ((h @ p["2.weight"].T + p["2.bias"]).sum() - y) ** 2

    per = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))(params, X, y)
    for k in range(4):
        one = cr.grad(loss)(params, X[k], y[k])
        for name in params:
            np.testing.assert_allclose(per[name].numpy()[k], one[name].numpy(), rtol=1e-12)


def test_batched_indices_and_argmax():
    idx = cr.tensor(np.array([0, 2, 1, 1]))
    got = cr.vmap(lambda x, i: x[i])(A, idx).numpy()
    np.testing.assert_array_equal(got, A.numpy()[np.arange(4), idx.numpy()])
    np.testing.assert_array_equal(cr.vmap(lambda x: x.argmax())(A).numpy(), A.numpy().argmax(1))
    np.testing.assert_array_equal(cr.vmap(lambda x: x[[2, 0]])(A).numpy(), A.numpy()[:, [2, 0]])
    M = cr.tensor(RNG.standard_normal((4, 3, 5, 2)))
    np.testing.assert_array_equal(cr.vmap(lambda m: m[[0, 2], :, [1, 0]])(M).numpy(),
                                  np.stack([M.numpy()[k][[0, 2], :, [1, 0]] for k in range(4)]))


def test_errors_name_vmap_and_the_fix():
    with pytest.raises(ValueError, match="vmap: the mapped axes have different sizes: 4 and 3"):
        cr.vmap(lambda a, b: a + b)(A, A.T)
    with pytest.raises(ValueError, match="in_axes has 1 entries for 2 arguments"):
        cr.vmap(lambda a, b: a + b, in_axes=(0,))(A, A)
    with pytest.raises(ValueError, match="no argument is mapped"):
        cr.vmap(lambda a: a, in_axes=None)(A)
    with pytest.raises(ValueError, match="out of range"):
        cr.vmap(lambda a: a, in_axes=2)(A)
    with pytest.raises(TypeError, match="vmap: bool"):
        cr.vmap(lambda a: a if a.sum() > 0 else -a)(A)
    with pytest.raises(TypeError, match=r"vmap: float\(\)"):
        cr.vmap(lambda a: float(a.sum()))(A)
    with pytest.raises(ValueError, match="out_axes None for an output that differs"):
        cr.vmap(lambda a: a, out_axes=None)(A)
    with pytest.raises(TypeError, match="in_axes must be an int, None"):
        cr.vmap(lambda a: a, in_axes="0")
    with pytest.raises(RuntimeError, match="in-place change involving a batched tensor"):
        cr.vmap(lambda a: a.mul_(2))(A.clone())


def test_out_axes_none_for_an_unbatched_output():
    got = cr.vmap(lambda a, w: (a @ w, w.sum()), in_axes=(0, None), out_axes=(0, None))(A, W)
    assert got[0].shape == (4, 2) and got[1].shape == ()


# ---------------------------------------------------------------------------------------------
# Found by review (each was a wrong number or a crash)
# ---------------------------------------------------------------------------------------------

def test_indices_batched_at_another_level():
    torch = pytest.importorskip("torch")
    X = np.arange(15.).reshape(3, 5)
    idx = np.array([[0, 1], [2, 3], [4, 4]])
    got = cr.vmap(lambda x: cr.vmap(lambda i: x[i])(cr.tensor(idx)))(cr.tensor(X))
    want = torch.func.vmap(lambda x: torch.func.vmap(lambda i: x[i])(torch.tensor(idx)))(torch.tensor(X))
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    got = cr.vmap(lambda i: cr.vmap(lambda x: x[i])(cr.tensor(X)))(cr.tensor(idx))
    want = torch.func.vmap(lambda i: torch.func.vmap(lambda x: x[i])(torch.tensor(X)))(torch.tensor(idx))
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    g = cr.vmap(lambda i: cr.vmap(cr.grad(lambda x: (x[i] ** 2).sum()))(cr.tensor(X)))(cr.tensor(idx))
    tg = torch.func.vmap(lambda i: torch.func.vmap(torch.func.grad(lambda x: (x[i] ** 2).sum()))(
        torch.tensor(X)))(torch.tensor(idx))
    np.testing.assert_allclose(g.numpy(), tg.numpy())
    X3, I3 = RNG.standard_normal((2, 3, 5)), RNG.integers(0, 5, (2, 3, 4))
    got = cr.vmap(cr.vmap(lambda x, i: x[i]))(cr.tensor(X3), cr.tensor(I3))
    np.testing.assert_array_equal(got.numpy(), np.take_along_axis(X3, I3, axis=2))


@pytest.mark.parametrize("index", [
    lambda m, j: m[j], lambda m, j: m[:, j], lambda m, j: m[1, :, j % 2], lambda m, j: m[..., j, :],
    lambda m, j: m[[0, 2], j[:2]], lambda m, j: m[j, :, 1],
], ids=["first", "after-slice", "separated", "ellipsis", "two-arrays", "array-slice-int"])
def test_batched_advanced_indices_follow_numpy_layout(index):
    M = RNG.standard_normal((4, 3, 5, 2))
    J = RNG.integers(0, 3, (4, 6))
    got = cr.vmap(index)(cr.tensor(M), cr.tensor(J))
    want = np.stack([index(M[k], J[k]) for k in range(4)])
    np.testing.assert_array_equal(got.numpy(), want)
    grads = cr.vmap(cr.grad(lambda m, j: (index(m, j) ** 2).sum()))(cr.tensor(M), cr.tensor(J))
    for k in range(4):
        one = cr.grad(lambda m, k=k: (index(m, cr.tensor(J[k])) ** 2).sum())(cr.tensor(M[k]))
        np.testing.assert_allclose(grads.numpy()[k], one.numpy())


def test_embedding_lookup_of_an_unbatched_table():
    E = RNG.standard_normal((10, 4))
    T = np.array([[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(cr.vmap(lambda t: cr.tensor(E)[t])(cr.tensor(T)).numpy(), E[T])


def test_custom_function_runs_per_example():
    class Square(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    X = cr.tensor(np.arange(6.).reshape(3, 2))
    np.testing.assert_allclose(cr.vmap(cr.grad(lambda x: Square.apply(x).sum()))(X).numpy(), 2 * X.numpy())
    np.testing.assert_allclose(cr.grad(lambda X: cr.vmap(lambda x: Square.apply(x).sum())(X).sum())(X).numpy(),
                               2 * X.numpy())
    np.testing.assert_allclose(cr.vmap(cr.jacrev(Square.apply))(X).numpy(),
                               np.stack([np.diag(2 * X.numpy()[k]) for k in range(3)]))


def test_dict_axes_are_matched_by_key():
    from collections import OrderedDict, defaultdict

    A, B = np.arange(9.).reshape(3, 3), 100 * np.arange(9.).reshape(3, 3)
    arg = defaultdict(float)
    arg["y"], arg["x"] = cr.tensor(B), cr.tensor(A)
    axes = defaultdict(float)
    axes["y"], axes["x"] = 1, 0
    np.testing.assert_array_equal(cr.vmap(lambda d: d["x"] + d["y"], in_axes=(axes,))(arg).numpy(), A + B.T)
    ordered = OrderedDict([("y", cr.tensor(B)), ("x", cr.tensor(A))])
    got = cr.vmap(lambda d: d["x"] + d["y"], in_axes=(OrderedDict([("y", 1), ("x", 0)]),))(ordered)
    np.testing.assert_array_equal(got.numpy(), A + B.T)
    with pytest.raises(ValueError, match="not a prefix"):
        cr.vmap(lambda d: d["x"] + d["y"], in_axes=({"a": 1, "y": 0},))({"x": cr.tensor(A), "y": cr.tensor(B)})
    with pytest.raises(ValueError, match="not a prefix"):
        cr.vmap(lambda x: {"a": x}, out_axes={"b": 1})(cr.tensor(A))


@pytest.mark.parametrize("f", [lambda a: a.reshape(2, 1), lambda a: a[...], lambda a: a[0], lambda a: a.T,
                               lambda a: a], ids=["reshape", "ellipsis", "index", "T", "identity"])
def test_outputs_never_alias_inputs(f):
    x = cr.tensor(np.arange(1., 7.).reshape(3, 2), requires_grad=True)
    y = x * 1.0
    z = (y ** 2).sum()
    out = cr.vmap(f)(y)
    out.add_(1.0)
    z.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.detach().numpy())


def test_a_saved_batch_changed_in_place_after_vmap_raises():
    x = cr.tensor(np.arange(1., 7.).reshape(3, 2), requires_grad=True)
    y = x * 1.0
    out = cr.vmap(lambda a: a.reshape(2, 1) ** 2)(y)
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


def test_random_numbers_inside_vmap_are_refused():
    with pytest.raises(RuntimeError, match="randn: random numbers inside cr.vmap"):
        cr.vmap(lambda x: x + cr.randn(3))(cr.zeros((4, 3)))
    with pytest.raises(RuntimeError, match="dropout: random numbers inside cr.vmap"):
        cr.vmap(lambda x: cr.nn.functional.dropout(x, 0.5, training=True))(cr.ones((4, 6)))
    cr.vmap(lambda x: cr.nn.functional.dropout(x, 0.5, training=False))(cr.ones((4, 6)))


def test_classification_per_example_gradients_match_torch():
    torch = pytest.importorskip("torch")
    W, X, Y = RNG.standard_normal((4, 3)), RNG.standard_normal((5, 4)), RNG.integers(0, 3, 5)
    F = cr.nn.functional
    got = cr.vmap(cr.grad(lambda w, x, y: F.cross_entropy((x @ w)[None], y[None])), in_axes=(None, 0, 0))(
        cr.tensor(W), cr.tensor(X), cr.tensor(Y))
    want = torch.func.vmap(torch.func.grad(
        lambda w, x, y: torch.nn.functional.cross_entropy((x @ w)[None], y[None])), in_dims=(None, 0, 0))(
        torch.tensor(W), torch.tensor(X), torch.tensor(Y))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_detach_copy_keywords_and_levels_of_per_example_composites():
    X = cr.tensor(np.arange(6.).reshape(3, 2))
    np.testing.assert_array_equal(cr.vmap(cr.grad(lambda x: (x * x.detach()).sum()))(X).numpy(), X.numpy())
    np.testing.assert_array_equal(cr.vmap(lambda x: cr.tensor(x) * 2)(X).numpy(), 2 * X.numpy())
    np.testing.assert_array_equal(cr.vmap(lambda x, scale=1.0: x * scale)(X, scale=cr.tensor([1., 2., 3.])).numpy(),
                                  X.numpy() * np.array([1., 2., 3.])[:, None])
    Q, Xq = cr.tensor([0.2, 0.5], dtype=cr.float64), RNG.standard_normal((3, 6))
    got = cr.vmap(lambda x: cr.vmap(lambda q: cr.quantile(x, q))(Q))(cr.tensor(Xq))
    np.testing.assert_allclose(got.numpy(), np.quantile(Xq, [0.2, 0.5], axis=1).T)


ALL_ARRAY_CASES = [pytest.param(e, s, id=f"{e.name}-{s.label}") for e in ENTRIES for s in e.samples
                   if any(isinstance(a, np.ndarray) and a.dtype != np.float64 for a in s.args)
                   or any(isinstance(v, np.ndarray) for v in s.kwargs.values())]


@pytest.mark.parametrize("entry, sample", ALL_ARRAY_CASES)
def test_vmap_with_integer_and_bool_arguments_batched_too(entry, sample):
    """Indices, masks and labels batched as well (copies of the sample's own, so they stay valid):
    the functions that read such arguments' values must batch them, not convert them."""
    if entry.name in IN_PLACE or entry.name.endswith("_") or "inplace" in entry.name:
        pytest.skip("in-place changes of batched tensors are refused")
    if entry.name in DATA_DEPENDENT or entry.name in MASK_INDEXING and any(
            isinstance(a, np.ndarray) and a.dtype == bool for a in (*sample.args, *sample.kwargs.values())):
        with pytest.raises((ValueError, TypeError), match="vmap|repeat_interleave"):
            _vmap_all(entry, sample)
        return
    _vmap_all(entry, sample)


# Results whose shape depends on a batched argument's values (and boolean masks, which select a
# different number of elements per example): refused under vmap, naming it.
DATA_DEPENDENT = {"repeat_interleave_counts"}
MASK_INDEXING = {"getitem", "getitem_tensor_index", "scatter"}


def _vmap_all(entry, sample):
    batches = _batch_of(sample)
    batches = [np.stack([a] * 3) if b is None and isinstance(a, np.ndarray) else b
               for a, b in zip(sample.args, batches)]
    args = [cr.tensor(b) if b is not None else a for a, b in zip(sample.args, batches)]
    in_axes = tuple(0 if b is not None else None for b in batches)
    # Array keyword arguments (indices, masks) are batched too: vmap maps keywords over axis 0.
    mapped = {k: cr.tensor(np.stack([v] * 3)) for k, v in sample.kwargs.items() if isinstance(v, np.ndarray)}
    fixed = {k: v for k, v in sample.kwargs.items() if k not in mapped}
    got = cr.vmap(lambda *xs, **kw: entry.op(*xs, **kw, **fixed), in_axes=in_axes)(*args, **mapped)
    for k in range(3):
        call = [cr.tensor(b[k]) if b is not None else a for a, b in zip(sample.args, batches)]
        want = _arrays(entry.op(*call, **sample.kwargs))
        for g, w in zip(_arrays(got), want):
            np.testing.assert_allclose(g[k], w, rtol=1e-12, atol=1e-12)
