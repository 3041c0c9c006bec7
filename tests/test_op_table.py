"""One generic checker over the whole operation table (``op_db.ENTRIES``).

For every entry and sample: first derivatives in reverse and forward mode against central
differences (``gradcheck``), second derivatives with the backward pass recorded
(``gradgradcheck``, reverse and forward-over-reverse), and ``jacfwd`` against ``jacrev``.
Plus completeness: every primitive is covered by an entry or listed as not differentiable.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_db import ENTRIES, NONDIFFERENTIABLE

import chainrule as cr
from chainrule.core import dispatch as P
from chainrule.ops import PRIMITIVES, _define

CASES = [pytest.param(e, s, id=f"{e.name}-{s.label}") for e in ENTRIES for s in e.samples]


def _function(entry, sample):
    return lambda *xs: entry.op(*xs, **sample.kwargs)


def _outputs(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


# ---------------------------------------------------------------------------------------------
# Completeness of the table
# ---------------------------------------------------------------------------------------------

def test_every_primitive_is_covered_or_listed_nondifferentiable():
    covered = set().union(*(e.covers for e in ENTRIES))
    missing = sorted(set(PRIMITIVES) - covered - set(NONDIFFERENTIABLE))
    assert not missing, f"primitives with no op_db entry and not listed as non-differentiable: {missing}"
    unknown = sorted((covered | set(NONDIFFERENTIABLE)) - set(PRIMITIVES))
    assert not unknown, f"op_db names primitives that are not in cr.ops.PRIMITIVES: {unknown}"


def test_nondifferentiable_list_matches_the_table():
    marked = {name for name, prim in PRIMITIVES.items() if not prim.differentiable}
    assert marked == set(NONDIFFERENTIABLE), (
        f"made with nondifferentiable() but not listed: {sorted(marked - set(NONDIFFERENTIABLE))}; "
        f"listed but differentiable: {sorted(set(NONDIFFERENTIABLE) - marked)}"
    )


@pytest.mark.parametrize("name", sorted(n for n, p in PRIMITIVES.items() if p.differentiable))
def test_differentiable_primitive_has_vjp_and_jvp(name):
    prim = PRIMITIVES[name]
    assert callable(prim.jvp), f"{name}: no JVP rule"
    if prim.vjp_all:
        assert callable(prim.vjp), f"{name}: vjp_all without a VJP function"
    else:
        assert isinstance(prim.vjp, tuple) and any(callable(r) for r in prim.vjp), f"{name}: no VJP rule"
        assert all(r is None or callable(r) for r in prim.vjp)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_entry_reaches_the_primitives_it_claims(entry, monkeypatch):
    """Each primitive in ``covers`` runs its forward when the entry is called."""
    called = set()
    for name in entry.covers:
        prim = PRIMITIVES[name]

        def counting(*args, _impl=prim.impl, _name=name, **kwargs):
            called.add(_name)
            return _impl(*args, **kwargs)

        monkeypatch.setattr(prim, "impl", counting)
        if prim.adapt is not None:  # the guarded form, for dtypes other than float32/float64
            def counting_adapt(*args, _fn=prim.adapt, _name=name, **kwargs):
                called.add(_name)
                return _fn(*args, **kwargs)
            monkeypatch.setattr(prim, "adapt", counting_adapt)
        if prim.residual is not None:  # its forward (with the intermediate for the VJP)

            def counting_residual(*args, _fn=prim.residual, _name=name, **kwargs):
                called.add(_name)
                return _fn(*args, **kwargs)

            monkeypatch.setattr(prim, "residual", counting_residual)
    from chainrule.ops import inplace as _inplace

    def counting_attach(prim, *args, _attach=_inplace.attach):
        # An in-place write records its node onto the values already written (nothing computed).
        called.add(prim.name)
        return _attach(prim, *args)

    monkeypatch.setattr(_inplace, "attach", counting_attach)
    for sample in entry.samples:
        entry.call(sample)
    assert called == set(entry.covers), f"{entry.name} never reached {sorted(set(entry.covers) - called)}"


@pytest.mark.parametrize("name", sorted(NONDIFFERENTIABLE))
def test_nondifferentiable_primitive(name, monkeypatch):
    """The public call reaches the primitive, matches NumPy, and records no history."""
    call, reference, arrays = NONDIFFERENTIABLE[name]
    prim = PRIMITIVES[name]
    called = []

    def counting(*args, **kwargs):
        called.append(True)
        return prim_impl(*args, **kwargs)

    prim_impl = prim.impl
    monkeypatch.setattr(prim, "impl", counting)
    tensors = [cr.tensor(a, requires_grad=True) for a in arrays]
    out = call(*tensors)
    assert called, f"{name}: the public call did not reach the primitive"
    assert not out.requires_grad and out.grad_fn is None
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(out.numpy(), reference(*arrays))
    # Used inside a differentiable computation, it contributes nothing and breaks nothing.
    x = tensors[0]
    y = (cr.where(cr.isfinite(x), x, 0.0) * out.sum().double()).sum()
    y.backward()
    assert x.grad is not None


# ---------------------------------------------------------------------------------------------
# The checker
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("entry, sample", CASES)
def test_gradcheck(entry, sample):
    inputs = sample.tensors()
    assert cr.autograd.gradcheck(_function(entry, sample), inputs, **entry.tol)


@pytest.mark.parametrize("entry, sample", CASES)
def test_gradgradcheck(entry, sample):
    inputs = sample.tensors()
    assert cr.autograd.gradgradcheck(_function(entry, sample), inputs, **entry.tol)


def _central_jacobian(f, args, i, eps):
    """d f(args) / d args[i] by central differences, shape out.shape + in.shape (plain NumPy)."""
    base = args[i].detach().numpy()
    columns = []
    for index in np.ndindex(base.shape):
        values = []
        for step in (eps, -eps):
            moved = base.copy()
            moved[index] += step
            call = list(args)
            call[i] = cr.tensor(moved)
            with cr.no_grad():
                values.append(np.asarray(f(*call).detach().numpy(), dtype=np.float64))
        columns.append((values[0] - values[1]) / (2 * eps))
    out_shape = columns[0].shape
    return np.stack(columns, axis=-1).reshape(out_shape + base.shape)


@pytest.mark.parametrize("entry, sample", CASES)
def test_jacfwd_matches_jacrev(entry, sample):
    """SPEC §4: forward and reverse Jacobians agree with each other and with finite differences."""
    if sample.complex or any(o.dtype.kind == "c" for o in _outputs(entry.call(sample))):
        pytest.skip("complex numbers: tests/test_complex_jacobians.py")
    nums = sample.differentiable
    # Plain tensors (no requires_grad), as JAX-style code passes them: the Jacobians come back detached.
    args = [t.detach() if isinstance(t, cr.Tensor) else t for t in sample.tensors()]
    n_outputs = len(_outputs(entry.call(sample)))
    eps = entry.tol.get("eps", 1e-6)
    rtol, atol = entry.tol.get("rtol", 1e-3), entry.tol.get("atol", 1e-5)
    for k in range(n_outputs):
        def f(*xs, _k=k):
            return _outputs(entry.op(*xs, **sample.kwargs))[_k]

        forward = cr.jacfwd(f, argnums=nums)(*args)
        reverse = cr.jacrev(f, argnums=nums)(*args)
        out_shape = f(*args).shape
        for position, jf, jr in zip(nums, forward, reverse):
            expected_shape = out_shape + args[position].shape
            assert jf.shape == expected_shape and jr.shape == expected_shape
            assert not jf.requires_grad and not jr.requires_grad
            np.testing.assert_allclose(jf.numpy().astype(np.float64), jr.numpy().astype(np.float64),
                                       rtol=1e-9, atol=1e-12 if not entry.tol else 1e-6,
                                       err_msg=f"jacfwd vs jacrev, output {k}, argument {position}")
            numeric = _central_jacobian(f, args, position, eps)
            np.testing.assert_allclose(jr.numpy(), numeric, rtol=rtol, atol=atol,
                                       err_msg=f"jacrev vs finite differences, output {k}, argument {position}")


# ---------------------------------------------------------------------------------------------
# The checker itself catches wrong rules (so a green table means something)
# ---------------------------------------------------------------------------------------------

def _sin_input():
    return cr.tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)


def test_checker_catches_a_wrong_vjp(monkeypatch):
    monkeypatch.setattr(PRIMITIVES["sin"], "vjp", (lambda m, g, ans, x: g * m.cos(x) * 1.01,))
    with pytest.raises(cr.autograd.GradcheckError, match="reverse-mode"):
        cr.autograd.gradcheck(cr.sin, (_sin_input(),))


def test_checker_catches_a_wrong_jvp(monkeypatch):
    monkeypatch.setattr(PRIMITIVES["sin"], "jvp", lambda m, tangents, ans, x: tangents[0] * m.sin(x))
    with pytest.raises(cr.autograd.GradcheckError, match="forward-mode"):
        cr.autograd.gradcheck(cr.sin, (_sin_input(),))


def test_checker_catches_a_rule_that_is_not_differentiable_again(monkeypatch):
    def constant_cos(m, g, ans, x):  # right value, but built from plain arrays: invisible to create_graph
        data = x._data if isinstance(x, cr.Tensor) else x
        return g * np.cos(data)

    monkeypatch.setattr(PRIMITIVES["sin"], "vjp", (constant_cos,))
    assert cr.autograd.gradcheck(cr.sin, (_sin_input(),))
    with pytest.raises(cr.autograd.GradcheckError):
        cr.autograd.gradgradcheck(cr.sin, (_sin_input(),))


def test_central_jacobian_helper_is_right():
    x = cr.tensor(np.array([0.5, 2.0]))
    jac = _central_jacobian(lambda t: t * t * t, [x], 0, 1e-6)
    np.testing.assert_allclose(jac, np.diag(3 * np.array([0.5, 2.0]) ** 2), rtol=1e-8)


# ---------------------------------------------------------------------------------------------
# The same table in float32, and with only some inputs requiring grad
# ---------------------------------------------------------------------------------------------

def _backward_all(entry, sample, tensors, positions, seed=0):
    """Gradients of ⟨w, f⟩ (w fixed random weights per output) with respect to ``positions``."""
    outs = _outputs(entry.op(*tensors, **sample.kwargs))
    rng = np.random.default_rng(seed)
    total = None
    for o in outs:
        if not o.requires_grad:
            continue
        w = rng.standard_normal(o.shape)
        if o.dtype.kind == "c":  # a real function of a complex output: Re <w, o>
            w = w + 1j * rng.standard_normal(o.shape)
            term = (o * cr.tensor(w.astype(o.dtype))).real.sum()
        else:
            term = (o * cr.tensor(w.astype(o.dtype))).sum()
        total = term if total is None else total + term
    if total is None:
        return [np.zeros(tensors[p].shape) for p in positions]
    grads = cr.autograd.grad(total, [tensors[p] for p in positions], allow_unused=True)
    return [np.zeros(tensors[p].shape) if g is None else g.numpy() for p, g in zip(positions, grads)]


FLOAT32_CASES = [c for c in CASES if not c.values[0].tol]


@pytest.mark.parametrize("entry, sample", FLOAT32_CASES)
def test_float32_gradients_keep_dtype_and_shape(entry, sample):
    nums = sample.differentiable
    exact = _backward_all(entry, sample, sample.tensors(), nums)
    tensors = []
    single_of = {np.dtype(np.float64): np.float32, np.dtype(np.complex128): np.complex64}
    for a in sample.args:
        if isinstance(a, np.ndarray) and a.dtype in single_of:
            tensors.append(cr.tensor(a.astype(single_of[a.dtype]), requires_grad=True))
        else:
            tensors.append(cr.tensor(a.copy()) if isinstance(a, np.ndarray) else a)
    single = _backward_all(entry, sample, tensors, nums)
    for p, g32, g64 in zip(nums, single, exact):
        expected = np.complex64 if sample.args[p].dtype.kind == "c" else np.float32
        assert g32.dtype == expected, f"gradient of argument {p} is {g32.dtype} for a {expected.__name__} input"
        assert g32.shape == sample.args[p].shape
        np.testing.assert_allclose(g32, g64, rtol=2e-3, atol=2e-3 * (1 + np.abs(g64).max()))


PARTIAL_CASES = [c for c in CASES if len(c.values[1].differentiable) > 1]


@pytest.mark.parametrize("entry, sample", PARTIAL_CASES)
def test_gradient_with_only_one_input_requiring_grad(entry, sample):
    nums = sample.differentiable
    everything = _backward_all(entry, sample, sample.tensors(), nums)
    for k, p in enumerate(nums):
        tensors = sample.tensors()
        for q in nums:
            if q != p:
                tensors[q] = tensors[q].detach()
        (alone,) = _backward_all(entry, sample, tensors, (p,))
        np.testing.assert_allclose(alone, everything[k], rtol=1e-12, atol=1e-14,
                                   err_msg=f"argument {p} alone")


# ---------------------------------------------------------------------------------------------
# Raw fast forms and the ownership contract of the rules (see ``engine``: buffer ownership)
# ---------------------------------------------------------------------------------------------

def _nodes(outputs) -> list:
    """Every node of the graph behind ``outputs``, each once."""
    seen, stack, nodes = set(), [o.grad_fn for o in outputs if o.grad_fn is not None], []
    while stack:
        node = stack.pop()
        if id(node) in seen or node._leaf:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(e for e in node.edges if e is not None)
    return nodes


def _rule_calls(names):
    """(sample label, node, cotangent) for every node of a primitive in ``names`` that the
    op_db samples record, with a random cotangent of the node's output shape (float64)."""
    rng = np.random.default_rng(0)
    calls = []
    for entry in ENTRIES:
        if not set(entry.covers) & set(names):
            continue
        for sample in entry.samples:
            outs = [o for o in _outputs(entry.call(sample)) if o.requires_grad]
            for node in _nodes(outs):
                if node.prim.name in names:
                    shape = tuple(node.shape)
                    g = rng.standard_normal(shape)
                    if getattr(getattr(node.output, "dtype", None), "kind", None) == "c":  # (kept when small)
                        g = g + 1j * rng.standard_normal(shape)
                    calls.append((f"{entry.name}-{sample.label}", node, g))
    return calls


def _call_rule(rule, node, g):
    return rule(P.raw, g, node._ans(False), *node._inputs(False), **node.params)


FAST_FORMS = sorted(name for name, p in PRIMITIVES.items()
                    if p.raw_vjp is not None and any(f is not r for f, r in zip(p.raw_vjp, p.vjp)))


def test_the_fast_forms_are_found():
    assert {"exp", "tanh", "det", "logabsdet", "mean", "softmax_cross_entropy"} <= set(FAST_FORMS)


@pytest.mark.parametrize("name", FAST_FORMS)
def test_raw_fast_form_matches_the_formula(name, monkeypatch):
    """A primitive's raw fast forms (``raw_vjp``, called in a plain backward pass) give what its
    one formula (``vjp``, every other pass) gives, on every op_db sample that reaches it. A form
    that may write into its cotangent gets one of its own, and does write (even small ones)."""
    prim = PRIMITIVES[name]
    monkeypatch.setattr(_define, "_IN_PLACE_MIN", 0)
    calls = _rule_calls({name})
    assert calls, f"{name}: no op_db sample records it"
    for label, node, g in calls:
        for i, (fast, rule) in enumerate(zip(prim.raw_vjp, prim.vjp)):
            if fast is rule or node.edges[i] is None:
                continue
            expected = _call_rule(rule, node, g.copy())
            owned = g.copy()
            got = _call_rule(fast, node, owned)
            np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-11, atol=1e-13,
                                       err_msg=f"{name} input {i} on {label}")
            assert np.shape(got) == np.shape(expected) or np.size(got) == np.size(expected)
            if not prim.raw_vjp_writes_g:
                np.testing.assert_array_equal(owned, g, err_msg=f"{name}: its fast form wrote into g")


CONTRACT_CASES = sorted(name for name, p in PRIMITIVES.items() if p.differentiable and not p.vjp_all)


def test_rules_return_their_cotangent_a_view_or_a_new_array():
    """The engine owns what a table rule returns, unless it is the cotangent itself (or a view,
    which it never writes): so no rule may return an array it was given or keeps. Checked for
    every rule and fast form on every op_db sample (a rule run twice gives two arrays)."""
    calls = _rule_calls(set(CONTRACT_CASES))
    reached = {node.prim.name for _, node, _ in calls}
    assert reached >= set(CONTRACT_CASES) - {"alias"}, sorted(set(CONTRACT_CASES) - reached)
    for label, node, g in calls:
        prim = node.prim
        given = [a for a in (node._ans(False), *node._inputs(False), *node.params.values())
                 if isinstance(a, np.ndarray)]
        forms = list(enumerate(prim.vjp))
        if prim.raw_vjp is not None and not prim.raw_vjp_writes_g:  # (that one is given its own g)
            forms += [(k, f) for k, (f, r) in enumerate(zip(prim.raw_vjp, prim.vjp)) if f is not r]
        for k, rule in forms:
            if rule is None or node.edges[k] is None:
                continue
            try:
                first = _call_rule(rule, node, g)
            except RuntimeError as e:  # a random cotangent of complex eigen/singular vectors
                if "e^{i phi}" in str(e):  # depends on their phases: refused, as PyTorch does
                    continue
                raise
            if first is g or not isinstance(first, np.ndarray) or not first.flags.owndata:
                continue
            where = f"{prim.name} input {k} on {label}"
            assert not np.shares_memory(first, g), f"{where}: returned an array sharing g's memory"
            for a in given:
                assert not np.shares_memory(first, a), f"{where}: returned an array it was given"
            second = _call_rule(rule, node, g)
            assert not np.shares_memory(first, second), f"{where}: returned an array it keeps"
