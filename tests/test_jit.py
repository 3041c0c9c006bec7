"""``cr.jit`` and ``cr.graph`` (SPEC §10) against eager mode, over the whole operation table.

Every op_db sample runs through ``jit`` (its value; ``grad``, ``jvp`` and ``hessian`` of it
where they apply) traced at the sample and then called on *perturbed* inputs of the same
signature, against eager mode on those inputs: a value frozen at trace time, a decision not
checked again, or a wrong implementation would show. Then guards and retracing, closures read
at each call, fallbacks to eager mode, composition with transforms, and threads.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
from op_db import ENTRIES

import chainrule as cr

RNG = np.random.default_rng(11)


def _outputs(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _perturbed(sample):
    """The sample's arguments with each float/complex array moved a little (the domain kept) and
    each integer or bool array (labels, indices, masks) shuffled: a value the trace kept instead
    of reading it again would show."""
    moved = []
    for a in sample.args:
        if isinstance(a, np.ndarray) and a.dtype.kind in "fc":
            scale = 1e-3 * (1 + np.abs(a))
            moved.append(np.asarray(a + scale * RNG.uniform(-1, 1, a.shape)).astype(a.dtype))
        elif isinstance(a, np.ndarray) and a.dtype.kind in "biu" and a.size > 1:
            moved.append(RNG.permutation(a.reshape(-1)).reshape(a.shape))
        else:
            moved.append(a)
    return moved


def _tensors(args):
    return [cr.tensor(a) if isinstance(a, np.ndarray) else a for a in args]


def _arrays(result) -> list:
    out = []
    for r in _outputs(result):
        if isinstance(r, cr.Tensor):
            out.append(r.detach().numpy())
        elif isinstance(r, (tuple, list)):
            out.extend(_arrays(r))
        else:
            out.append(r)
    return out


def _equal(got, want, what):
    got, want = _arrays(got), _arrays(want)
    assert len(got) == len(want), what
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, f"{what}: {g.shape} {g.dtype} vs {w.shape} {w.dtype}"
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14, err_msg=what)


CASES = [pytest.param(e, s, id=f"{e.name}-{s.label}") for e in ENTRIES for s in e.samples]


@pytest.mark.parametrize("entry, sample", CASES)
def test_jit_matches_eager_on_new_inputs(entry, sample):
    def f(*xs):
        return entry.op(*xs, **sample.kwargs)

    jf = cr.jit(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        first = _tensors(sample.args)
        cr.manual_seed(0)  # (the same random numbers for both: dropout)
        got = jf(*first)
        cr.manual_seed(0)
        _equal(got, f(*_tensors(sample.args)), "first (traced) call")
        for k in range(2):
            args = _perturbed(sample)
            cr.manual_seed(k + 1)
            got = jf(*_tensors(args))
            cr.manual_seed(k + 1)
            _equal(got, f(*_tensors(args)), "a later call on new values")


def _real_scalar_function(entry, sample):
    """A real scalar function of the sample's differentiated arguments (others fixed)."""
    nums = sample.differentiable

    def f(*xs):
        call = list(_tensors(sample.args))
        for i, x in zip(nums, xs):
            call[i] = x
        total = 0.0
        for o in _outputs(entry.op(*call, **sample.kwargs)):
            if isinstance(o, cr.Tensor) and o.dtype.kind in "fc" if hasattr(o.dtype, "kind") else False:
                pass
            if isinstance(o, cr.Tensor) and np.dtype(o.detach().numpy().dtype).kind == "f":
                total = total + (o * o).sum()
            elif isinstance(o, cr.Tensor) and np.dtype(o.detach().numpy().dtype).kind == "c":
                total = total + (o * o.conj()).real.sum()
        return total

    return f, nums


GRAD_CASES = [pytest.param(e, s, id=f"{e.name}-{s.label}") for e in ENTRIES for s in e.samples
              if s.differentiable]


@pytest.mark.parametrize("entry, sample", GRAD_CASES)
def test_jit_of_transforms_matches_eager(entry, sample):
    f, nums = _real_scalar_function(entry, sample)
    probe = f(*[cr.tensor(sample.args[i]) for i in nums])
    if not isinstance(probe, cr.Tensor):
        pytest.skip("no float output")
    transforms = [("grad", lambda g: cr.grad(g, argnums=tuple(range(len(nums)))))]
    if not sample.complex:
        transforms.append(("jvp", lambda g: lambda *xs: cr.jvp(g, xs, tuple(cr.ones_like(x) for x in xs))))
        if all(sample.args[i].size <= 12 for i in nums):
            transforms.append(("hessian", lambda g: cr.hessian(g, argnums=tuple(range(len(nums))))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, transform in transforms:
            eager = transform(f)
            jitted = cr.jit(transform(f))
            for args in ([sample.args[i] for i in nums], [_perturbed(sample)[i] for i in nums]):
                xs = [cr.tensor(a) for a in args]
                _equal(jitted(*xs), eager(*[cr.tensor(a) for a in args]), f"jit({name}(f))")


# ---------------------------------------------------------------------------------------------
# Guards, closures, fallbacks
# ---------------------------------------------------------------------------------------------

def test_branches_on_traced_values_are_checked_and_traced_again():
    calls = []

    def f(x):
        calls.append(1)
        if x.sum() > 0:
            return x * 2
        return -x

    jf = cr.jit(f)
    pos, neg = cr.tensor([1.0, 2.0]), cr.tensor([-1.0, -2.0])
    np.testing.assert_array_equal(jf(pos).numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(jf(cr.tensor([3.0, 1.0])).numpy(), [6.0, 2.0])
    assert jf.traces == 1
    np.testing.assert_array_equal(jf(neg).numpy(), [1.0, 2.0])  # the decision changed: traced again
    assert jf.traces == 2
    np.testing.assert_array_equal(jf(cr.tensor([5.0, 0.0])).numpy(), [10.0, 0.0])
    np.testing.assert_array_equal(jf(cr.tensor([-5.0, 0.0])).numpy(), [5.0, 0.0])
    assert jf.traces == 2  # both branches cached


def test_while_loops_unroll_and_a_changing_trip_count_retraces():
    def f(x):
        while x.abs().max() > 1:
            x = x / 2
        return x

    jf = cr.jit(f)
    for value in ([3.0, 1.0], [0.5, 0.1], [3.5, 0.0], [100.0, 2.0]):
        np.testing.assert_array_equal(jf(cr.tensor(value)).numpy(), f(cr.tensor(value)).numpy())


def test_a_decision_that_keeps_changing_warns_once_naming_it():
    jf = cr.jit(lambda x: x * float(x.sum()))
    with pytest.warns(RuntimeWarning, match=r"keeps being traced again: .*item\(\) of a traced tensor at test_jit.py"):
        for k in range(cr.compile.jit.MAX_TRACES + 3):
            value = jf(cr.tensor([float(k), 1.0]))
            np.testing.assert_array_equal(value.numpy(), np.array([k, 1.0]) * (k + 1))


def test_closures_and_parameters_are_read_at_every_call():
    w = cr.tensor([1.0, 2.0])
    jf = cr.jit(lambda x: x * w)
    np.testing.assert_array_equal(jf(cr.tensor([1.0, 1.0])).numpy(), [1.0, 2.0])
    with cr.no_grad():
        w.mul_(10)
    np.testing.assert_array_equal(jf(cr.tensor([1.0, 1.0])).numpy(), [10.0, 20.0])
    layer = cr.nn.Linear(3, 2)
    with cr.no_grad():
        model = cr.jit(lambda x: layer(x))
        x = cr.randn(4, 3)
        before = model(x).numpy().copy()
        layer.weight.mul_(2)
        after = model(x)
    np.testing.assert_allclose(after.numpy(), layer(x).detach().numpy(), rtol=1e-12)
    assert not np.allclose(before, after.numpy())


def test_results_of_two_calls_never_share_memory():
    jf = cr.jit(lambda x: (x * 2, cr.ones(3) * 5))
    a, c1 = jf(cr.tensor([1.0, 2.0, 3.0]))
    b, c2 = jf(cr.tensor([1.0, 2.0, 3.0]))
    assert not np.shares_memory(a.numpy(), b.numpy()) and not np.shares_memory(c1.numpy(), c2.numpy())
    c1.add_(1)
    np.testing.assert_array_equal(c2.numpy(), [5.0, 5.0, 5.0])


def test_impure_functions_run_eagerly_with_one_warning():
    def f(x):
        y = x.clone()
        y[0] = 5.0
        return cr.nn.init.normal_(y.clone()) * 0 + y  # init draws through NumPy's generator itself

    jf = cr.jit(f)
    with pytest.warns(RuntimeWarning, match="runs eagerly: .*random numbers"):
        jf(cr.tensor([1.0, 2.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(jf(cr.tensor([3.0, 4.0])).numpy(), [5.0, 4.0])
    with pytest.raises(cr.compile.graph.ImpureError, match="random numbers"):
        cr.graph(f, cr.tensor([1.0, 2.0]))
    raw = cr.jit(lambda x: x.numpy().__setitem__(0, 7.0) or x * 1)  # a write NumPy made: not followed
    with pytest.warns(RuntimeWarning, match="runs eagerly"):
        raw(cr.tensor([1.0, 2.0]))


def test_jit_composes_with_transforms_in_either_order():
    def f(x):
        return (x.sin() * x).sum()

    x = cr.tensor([0.3, -1.2, 2.0])
    jf = cr.jit(f)
    for transform in (cr.grad, cr.hessian, cr.jacrev, cr.jacfwd):
        _equal(transform(jf)(x), transform(f)(x), f"{transform.__name__}(jit(f))")
        _equal(cr.jit(transform(f))(x * 0.5), transform(f)(x * 0.5), f"jit({transform.__name__}(f))")
    batch = cr.tensor(np.arange(6.0).reshape(2, 3))
    _equal(cr.vmap(jf)(batch), cr.vmap(f)(batch), "vmap(jit(f))")
    jv = cr.jit(cr.vmap(cr.grad(f)))  # per-example gradients, compiled
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(3):
            _equal(jv(batch * (k + 1)), cr.vmap(cr.grad(f))(batch * (k + 1)), "jit(vmap(grad(f)))")
    assert jv.traces == 1
    t = cr.tensor([0.3, -1.2, 2.0], requires_grad=True)
    jf(t).backward()  # an argument that requires grad: the call records its graph
    np.testing.assert_allclose(t.grad.numpy(), cr.grad(f)(x).numpy(), rtol=1e-12)


def test_static_argnums_and_pytrees():
    def f(params, x, n):
        out = x
        for _ in range(n):
            out = (out @ params["w"] + params["b"]).tanh()
        return {"out": out, "n": n}

    params = {"w": cr.tensor(RNG.standard_normal((3, 3))), "b": cr.tensor(RNG.standard_normal(3))}
    jf = cr.jit(f, static_argnums=2)
    x = cr.tensor(RNG.standard_normal((2, 3)))
    for n in (1, 3, 1):
        got = jf(params, x, n)
        assert got["n"] == n
        np.testing.assert_allclose(got["out"].numpy(), f(params, x, n)["out"].numpy(), rtol=1e-12)
    assert jf.traces == 2


def test_graph_inputs_equations_and_staged_code():
    g = cr.graph(lambda x, w: (x @ w).tanh().sum(), cr.ones(2, 3), cr.ones(3))
    assert [(v.shape, str(v.dtype)) for v in g.inputs] == [((2, 3), "float32"), ((3,), "float32")]
    assert [eq.prim.name for eq in g.equations] == ["matmul", "tanh", "sum"]
    text = str(g)
    assert "np.tanh(v1)" in text and "x @ w" in text
    x, w = cr.randn(2, 3), cr.randn(3)
    np.testing.assert_allclose(g(x, w).numpy(), (x @ w).tanh().sum().numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="do not match the traced ones"):
        g(cr.randn(3, 3), w)


def test_passes_fold_constants_and_share_common_subexpressions():
    c = np.arange(3.0)

    def f(x):
        k = cr.tensor(c) * 2 + 1  # constants only: folded
        return x.sin() * k + x.sin()  # x.sin() twice: computed once

    jf = cr.jit(f)
    x = cr.tensor([0.1, 0.2, 0.3])
    names = [eq.prim.name for eq in jf.graph(x).equations]
    assert names.count("sin") == 1
    np.testing.assert_array_equal(jf(x * 3).numpy(), f(x * 3).numpy())


def test_threads_share_one_jitted_function():
    jf = cr.jit(lambda x: (x * x).sum(0))
    errors = []

    def work(k):
        try:
            for i in range(20):
                x = cr.tensor(np.full((k + 1, 2), float(i)))
                np.testing.assert_array_equal(jf(x).numpy(), np.full(2, (k + 1) * i * i, dtype=float))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_graphs_of_numbers_run_on_python_floats_with_numpys_special_values():
    def f(x, y):
        return (x + cr.sigmoid(y)) / (cr.sigmoid(x) + (x + y) ** 2) + cr.log(x * x) - cr.exp(y) / y

    jf = cr.jit(cr.value_and_grad(f, argnums=(0, 1)))
    eager = cr.value_and_grad(f, argnums=(0, 1))
    values = [(3.0, -4.0), (0.5, 2.0), (-1.5, 0.25), (0.0, 1.0), (1.0, 0.0), (1e300, 1e300), (np.nan, 1.0)]
    x, y = (cr.tensor(v, dtype=cr.float64) for v in values[0])
    assert "math." in jf.source(x, y) and "numpy_version" in jf.source(x, y)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for a, b in values:
            args = (cr.tensor(a, dtype=cr.float64), cr.tensor(b, dtype=cr.float64))
            got, want = jf(*args), eager(*args)
            for g, w in zip(_arrays(got), _arrays(want)):
                assert type(g) is type(w)
                np.testing.assert_allclose(g, w, rtol=1e-12, equal_nan=True, err_msg=f"at {(a, b)}")


def test_result_structures_and_keyword_arguments():
    def f(x, y, scale=1.0):
        return {"sum": (x + y) * scale, "parts": [x * scale, (y, None)]}

    jf = cr.jit(f)
    x, y = cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0])
    for _ in range(2):
        got = jf(x, y)
        assert set(got) == {"sum", "parts"} and got["parts"][1][1] is None
        np.testing.assert_array_equal(got["sum"].numpy(), [4.0, 6.0])
        got = jf(x, y=y, scale=2.0)
        np.testing.assert_array_equal(got["parts"][0].numpy(), [2.0, 4.0])
    assert jf.traces == 2


# ---------------------------------------------------------------------------------------------
# In-place changes inside a compiled function
# ---------------------------------------------------------------------------------------------

MADE_INSIDE = {  # tensors a function makes from Python values: constants of its trace, until written
    "zeros": lambda: cr.zeros(2, 3, dtype=cr.float64),
    "ones": lambda: cr.ones(2, 3, dtype=cr.float64),
    "full": lambda: cr.full((2, 3), 0.5, dtype=cr.float64),
    "tensor": lambda: cr.tensor([[1.0, -1.0, 2.0], [0.0, 3.0, -2.0]]),
    "arange": lambda: cr.arange(6.0).reshape(2, 3),
}


def _inplace_program(seed, targets=("y", "y_row", "y_col", "y_T", "x", "w", "w_head", "z", "z_row", "z_T")):
    """A random function writing in place into a copy of its input, its input itself, a tensor
    it made from Python values, views of them and a captured tensor, then reading every alias
    (eager semantics: views see writes)."""
    rng = np.random.default_rng(seed)
    steps = []
    for _ in range(rng.integers(2, 6)):
        target = rng.choice(list(targets))
        op = rng.choice(["add_", "mul_", "setitem", "fill_", "copy_", "sub_"])
        steps.append((str(target), str(op), float(rng.uniform(0.5, 1.5))))
    made = MADE_INSIDE[str(rng.choice(sorted(MADE_INSIDE)))]

    def make(w):
        def f(x):
            y = x.clone()
            z = made()
            before = z * 1  # read before the writes: the value it was made with
            views = {"y": y, "y_row": y[1], "y_col": y[:, 0], "y_T": y.T, "x": x, "w": w, "w_head": w[:2],
                     "z": z, "z_row": z[0], "z_T": z.T}
            for target, op, c in steps:
                t = views[target]
                if op == "add_":
                    t.add_(x.sum() * c if target.startswith("y") else c)
                elif op == "mul_":
                    t.mul_(c)
                elif op == "sub_":
                    t.sub_(t * c)
                elif op == "setitem":
                    t[0] = c * 2
                elif op == "fill_":
                    t.fill_(c)
                else:
                    t.copy_(t * c + 1)
            return y * 2, views["y_row"] + 0, views["w_head"] * 1, z * x, before
        return f

    return make, steps


@pytest.mark.parametrize("seed", range(60))
def test_in_place_programs_match_eager(seed):
    make, steps = _inplace_program(seed)
    w_eager, w_jit = cr.tensor([1.0, 2.0, 3.0]), cr.tensor([1.0, 2.0, 3.0])
    eager, jitted = make(w_eager), cr.jit(make(w_jit))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # compiled: no eager fallback
        for k in range(3):
            base = np.arange(6.0).reshape(2, 3) * (k + 1) - 2
            x_eager, x_jit = cr.tensor(base), cr.tensor(base)
            _equal(jitted(x_jit), eager(x_eager), f"call {k}: {steps}")
            np.testing.assert_array_equal(x_jit.numpy(), x_eager.numpy(), err_msg=f"the argument, call {k}")
            np.testing.assert_array_equal(w_jit.numpy(), w_eager.numpy(), err_msg=f"the captured tensor, call {k}")
    assert jitted.traces == 1


def test_a_write_into_an_argument_bumps_its_version_as_eager_mode():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    saved = w * 1.0
    y = saved.sin()  # saves `saved` for backward
    step = cr.jit(lambda t: t.mul_(2))
    step(cr.tensor([5.0, 6.0]))  # traced
    assert step.traces == 1
    step(saved.detach())  # compiled; shares memory with `saved`: eager mode bumps the shared version
    assert step.traces == 1
    np.testing.assert_array_equal(saved.detach().numpy(), [2.0, 4.0])
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


# ---------------------------------------------------------------------------------------------
# Captured tensors are looked up again at every call
# ---------------------------------------------------------------------------------------------

W_GLOBAL = cr.tensor([1.0, 2.0])


def _times_global(x):
    return x * W_GLOBAL


def test_a_rebound_global_closure_or_attribute_is_read_again_at_every_call():
    global W_GLOBAL
    jf = cr.jit(_times_global)
    x = cr.tensor([1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _k in range(3):
            np.testing.assert_array_equal(jf(x).numpy(), _times_global(x).numpy())
            W_GLOBAL = W_GLOBAL * 10  # noqa: PLW0603 - a new object under the same name
        w = cr.tensor([3.0, 4.0])

        def scaled(x):
            return x * w

        js = cr.jit(scaled)
        for _k in range(3):
            np.testing.assert_array_equal(js(x).numpy(), scaled(x).numpy())
            w = w + 1  # the closure cell now holds another tensor

        class Holder:
            def __init__(self):
                self.t = cr.tensor([1.0, -1.0])

            def __call__(self, x):
                return (x * self.t).sum()

        h = Holder()
        jh = cr.jit(h)
        for _k in range(3):
            np.testing.assert_array_equal(jh(x).numpy(), h(x).numpy())
            h.t = h.t * 2
    assert jf.traces == js.traces == jh.traces == 1
    W_GLOBAL = cr.tensor([1.0, 2.0])


def test_a_replaced_gradient_tensor_is_read_again():
    p = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.no_grad():
        step = cr.jit(lambda lr: p.grad * lr)
        for k in range(3):
            p.grad = cr.tensor([float(k), 1.0])  # a new .grad tensor, as backward() makes
            np.testing.assert_array_equal(step(cr.tensor(2.0)).numpy(), [2.0 * k, 2.0])
    assert step.traces == 1


def test_a_module_passed_as_a_static_argument_and_a_shape_change_retraces():  # noqa: D103
    def apply(model, x):
        return model(x)

    jf = cr.jit(apply, static_argnums=0)
    with cr.no_grad():
        a, b = cr.nn.Linear(3, 2), cr.nn.Linear(3, 2)
        for p in (*a.parameters(), *b.parameters()):
            p.requires_grad_(False)
        x = cr.randn(4, 3)
        for model in (a, b, a):
            np.testing.assert_allclose(jf(model, x).numpy(), model(x).numpy(), rtol=1e-12)
        a.weight = cr.nn.Parameter(cr.randn(2, 3), requires_grad=False)  # read at the next call
        np.testing.assert_allclose(jf(a, x).numpy(), a(x).numpy(), rtol=1e-12)
        a.weight = cr.nn.Parameter(cr.randn(5, 3), requires_grad=False)  # another shape: traced again
        a.bias = cr.nn.Parameter(cr.randn(5), requires_grad=False)
        np.testing.assert_allclose(jf(a, x).numpy(), a(x).numpy(), rtol=1e-12)


def test_a_tensor_jit_cannot_find_again_runs_eagerly():
    box = [cr.tensor([1.0, 2.0])]
    get = box.__getitem__  # reached only through a builtin method: no path to look it up again

    def f(x):
        return x * get(0)

    jf = cr.jit(f)
    with pytest.warns(RuntimeWarning, match="cannot look up again"):
        jf(cr.tensor([1.0, 1.0]))
    box[0] = cr.tensor([5.0, 5.0])
    np.testing.assert_array_equal(jf(cr.tensor([1.0, 1.0])).numpy(), [5.0, 5.0])


# ---------------------------------------------------------------------------------------------
# A whole training step
# ---------------------------------------------------------------------------------------------

def _model_and_optimizer(kind, **options):
    cr.manual_seed(3)
    model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.Tanh(), cr.nn.Linear(8, 3))
    opt = (cr.optim.SGD if kind == "sgd" else cr.optim.Adam)(model.parameters(), lr=0.1, **options)
    return model, opt


def _training_step(model, opt, set_to_none=True, zero=True):
    def step(x, y):
        if zero:
            opt.zero_grad(set_to_none=set_to_none)
        loss = cr.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()
    return step


@pytest.mark.parametrize("options", [
    {}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True, "weight_decay": 1e-2},
    {"momentum": 0.5, "dampening": 0.3, "maximize": True}, {"set_to_none": False}, {"zero": False},
], ids=["plain", "momentum", "nesterov-decay", "dampening-maximize", "zero-in-place", "accumulating"])
def test_a_training_step_with_sgd_jits_and_follows_eager_for_20_steps(options):
    options = dict(options)
    step_options = {k: options.pop(k) for k in ("set_to_none", "zero") if k in options}
    rng = np.random.default_rng(1)
    X, Y = cr.tensor(rng.standard_normal((16, 4))), cr.tensor(rng.integers(0, 3, 16))
    (m1, o1), (m2, o2) = _model_and_optimizer("sgd", **options), _model_and_optimizer("sgd", **options)
    eager, jitted = _training_step(m1, o1, **step_options), cr.jit(_training_step(m2, o2, **step_options))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(20):
            x, y = X[i % 4 * 4:], Y[i % 4 * 4:]
            assert float(jitted(x, y)) == float(eager(x, y)), f"step {i}"
    assert jitted.traces <= 8  # the first step (no momentum buffer, no .grad yet) traced apart
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p2.detach().numpy(), p1.detach().numpy())
        np.testing.assert_array_equal(p2.grad.numpy(), p1.grad.numpy())


@pytest.mark.parametrize("options", [{}, {"amsgrad": True, "weight_decay": 1e-2}, {"maximize": True, "betas": (0.5, 0.6)}],
                         ids=["plain", "amsgrad-decay", "maximize-betas"])
def test_a_training_step_with_adam_jits_and_follows_eager_for_20_steps(options):
    rng = np.random.default_rng(2)
    X, Y = cr.tensor(rng.standard_normal((16, 4))), cr.tensor(rng.integers(0, 3, 16))
    (m1, o1), (m2, o2) = _model_and_optimizer("adam", **options), _model_and_optimizer("adam", **options)
    eager, jitted = _training_step(m1, o1), cr.jit(_training_step(m2, o2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(20):
            assert float(jitted(X, Y)) == float(eager(X, Y)), f"step {i}"
    assert jitted.traces == 2
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p2.detach().numpy(), p1.detach().numpy())
        assert o1.state[p1]["step"] == o2.state[p2]["step"] == 20
    o2.load_state_dict(o1.state_dict())  # the step counts change outside: the next call traces again
    for p in o2.state:
        o2.state[p]["step"] = 3
        o1.state[dict(zip(m2.parameters(), m1.parameters()))[p]]["step"] = 3
    assert float(jitted(X, Y)) == float(eager(X, Y))
    assert jitted.traces == 3


def test_a_jitted_model_call_whose_result_needs_a_graph_records_one_node():
    model = cr.nn.Linear(3, 2)
    jf = cr.jit(lambda x: model(x).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # compiled, no eager fallback
        out = jf(cr.ones(4, 3))
    assert repr(out.grad_fn) == "<CompiledFunctionBackward>"
    out.backward()
    np.testing.assert_array_equal(model.weight.grad.numpy(), np.full((2, 3), 4.0))
    np.testing.assert_array_equal(model.bias.grad.numpy(), [4.0, 4.0])


def test_python_state_that_jit_checks_train_eval_and_learning_rate():
    layer = cr.nn.Sequential(cr.nn.Linear(3, 3), cr.nn.Dropout(0.5))
    for p in layer.parameters():
        p.requires_grad_(False)
    layer.eval()
    jf = cr.jit(lambda x: layer(x))
    x = cr.ones(4, 3)
    np.testing.assert_array_equal(jf(x).numpy(), layer(x).numpy())
    layer.train()  # a decision on the layer's mode: not the traced one any more
    for seed in range(3):
        cr.manual_seed(seed)
        got = jf(x)
        cr.manual_seed(seed)
        np.testing.assert_array_equal(got.numpy(), layer(x).numpy())
    assert jf.traces == 2

    rng = np.random.default_rng(4)
    X, Y = cr.tensor(rng.standard_normal((16, 4))), cr.tensor(rng.integers(0, 3, 16))
    (m1, o1), (m2, o2) = _model_and_optimizer("sgd", momentum=0.9), _model_and_optimizer("sgd", momentum=0.9)
    eager, jitted = _training_step(m1, o1), cr.jit(_training_step(m2, o2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(6):
            for opt in (o1, o2):  # a learning-rate schedule
                opt.param_groups[0]["lr"] = 0.1 / (1 + i)
            assert float(jitted(X, Y)) == float(eager(X, Y))
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p2.detach().numpy(), p1.detach().numpy())


def test_random_numbers_are_drawn_anew_in_eager_modes_order():
    def f(x):
        return cr.nn.functional.dropout(x, 0.3) + cr.randn(4) * 0.1 + cr.rand_like(x) + cr.randint(0, 5, (4,))

    jf = cr.jit(f)
    x = cr.ones(4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in range(4):
            cr.manual_seed(seed)
            got = jf(x)
            cr.manual_seed(seed)
            np.testing.assert_array_equal(got.numpy(), f(x).numpy())
        cr.manual_seed(0)
        a, b = jf(x), jf(x)
        assert not np.array_equal(a.numpy(), b.numpy())  # never frozen
    assert jf.traces == 1
    assert jf.source(x).count("random") >= 4
