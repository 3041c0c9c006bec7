"""Decisions inside rules and implementations on values (SPEC §10): compiled, checked at every call.

Functions whose rules or implementations decide on values (a NaN in a slice, a rank, a phase-
dependent loss, an unused cotangent) compile under ``cr.jit``: the decision is a guard of the
compiled code, and the positions, masks and counts they compute from values are operations the
compiled code runs again. Each test calls a jitted function on inputs that flip the decision
between calls, plainly, through ``cr.jit(cr.grad(f))`` and on tensors that require grad (one
``CompiledFunctionBackward`` node), against eager mode on the same values.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr

RNG = np.random.default_rng(13)
NODE = "CompiledFunctionBackward"


def _same(got, want, what=""):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, f"{what}: {got.shape} {got.dtype} vs {want.shape} {want.dtype}"
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=what)


def _leaves(out):
    if isinstance(out, (tuple, list)):
        return [leaf for o in out for leaf in _leaves(o)]
    return [out]


def _no_fallback(caught):
    eagerly = [str(w.message) for w in caught if "runs eagerly" in str(w.message)]
    assert not eagerly, eagerly


def _with_nans(shape, rows=(), cells=()):
    x = RNG.standard_normal(shape)
    for r in rows:
        x[r] = np.nan
    for c in cells:
        x[c] = np.nan
    return x


# inputs whose NaN pattern flips between calls: none, a NaN, an all-NaN row, none again
NAN_INPUTS = [_with_nans((4, 5)), _with_nans((4, 5), cells=[(1, 2)]), _with_nans((4, 5), rows=[2], cells=[(0, 0)]),
              _with_nans((4, 5)), _with_nans((4, 5), rows=[0, 3])]

NAN_FUNCTIONS = {
    "nanmean": lambda x: cr.nanmean(x, dim=1),
    "nanmean-all": lambda x: cr.nanmean(x),
    "nansum": lambda x: cr.nansum(x, dim=1),
    "nanvar": lambda x: cr.nanvar(x, dim=1),
    "nanstd": lambda x: cr.nanstd(x, dim=0),
    "np.nanmean": lambda x: np.nanmean(x, axis=1),
    "np.nanvar": lambda x: np.nanvar(x, axis=1, ddof=1),
    "np.nanstd": lambda x: np.nanstd(x, axis=0),
    "np.nansum": lambda x: np.nansum(x, axis=1),
    "np.nanprod": lambda x: np.nanprod(x, axis=0),
    "np.nancumsum": lambda x: np.nancumsum(x, axis=1),
    "quantile": lambda x: cr.quantile(x, 0.3, dim=1),
    "quantile-q": lambda x: cr.quantile(x, cr.tensor([0.1, 0.5, 0.9]), dim=0),
    "quantile-nearest": lambda x: cr.quantile(x, 0.4, dim=1, interpolation="nearest"),
    "nanquantile": lambda x: cr.nanquantile(x, cr.tensor([0.25, 0.75]), dim=1),
    "nanquantile-lower": lambda x: cr.nanquantile(x, 0.6, dim=1, interpolation="lower"),
    "median": lambda x: cr.median(x),
    "median-dim": lambda x: cr.median(x, dim=1),
    "nanmedian-dim": lambda x: cr.nanmedian(x, dim=1),
    "np.median": lambda x: np.median(x, axis=1),
    "np.nanmedian": lambda x: np.nanmedian(x, axis=1),
    "np.quantile": lambda x: np.quantile(x, [0.2, 0.7], axis=1),
    "np.percentile": lambda x: np.percentile(x, 35, axis=0, method="hazen"),
    "np.nanquantile": lambda x: np.nanquantile(x, [0.2, 0.7], axis=1),
    "np.nanquantile-weibull": lambda x: np.nanquantile(x, 0.3, axis=1, method="weibull"),
    "np.nanpercentile": lambda x: np.nanpercentile(x, 60, axis=1, method="higher"),
}


def _eager_and_jit(f, jf, make_args):
    """Results of ``f`` eagerly and of ``jf`` on fresh copies of the same arguments."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        want = _leaves(f(*make_args()))
        got = _leaves(jf(*make_args()))
    return got, want, caught


@pytest.mark.parametrize("name", sorted(NAN_FUNCTIONS))
def test_nan_decisions_flip_between_calls(name):
    f = NAN_FUNCTIONS[name]
    jf = cr.jit(f)
    for call, x in enumerate(NAN_INPUTS + NAN_INPUTS[::-1]):
        got, want, caught = _eager_and_jit(f, jf, lambda x=x: (cr.tensor(x.copy()),))
        _no_fallback(caught)
        for g, w in zip(got, want):
            _same(g.numpy(), w.numpy(), f"{name}, call {call}")
    assert jf.traces <= 3, jf.traces  # one per outcome of each decision, not one per call


def _sum_of(f, weights):
    def loss(x):
        return sum((o * w).sum() for o, w in zip(_leaves(f(x)), weights) if np.dtype(o.dtype).kind == "f")
    return loss


DIFFERENTIABLE = ["nanmean", "nanmean-all", "nansum", "nanvar", "nanstd", "np.nanmean", "np.nanvar", "quantile",
                  "quantile-nearest", "nanquantile", "median", "median-dim", "nanmedian-dim", "np.median",
                  "np.quantile", "np.nanquantile", "np.nanmedian", "np.nanpercentile"]


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_nan_decisions_under_jit_of_grad(name):
    f = NAN_FUNCTIONS[name]
    shapes = [np.shape(o.numpy()) for o in _leaves(f(cr.tensor(NAN_INPUTS[0])))]
    loss = _sum_of(f, [RNG.standard_normal(s) for s in shapes])
    g = cr.grad(loss)
    jg = cr.jit(g)
    for call, x in enumerate(NAN_INPUTS + NAN_INPUTS[::-1]):
        got, want, caught = _eager_and_jit(g, jg, lambda x=x: (cr.tensor(x.copy()),))
        _no_fallback(caught)
        _same(got[0].numpy(), want[0].numpy(), f"{name}, call {call}")


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_nan_decisions_record_one_node(name):
    f = NAN_FUNCTIONS[name]
    jf = cr.jit(f)
    for call, x in enumerate(NAN_INPUTS + NAN_INPUTS[::-1]):
        xj, xe = cr.tensor(x.copy(), requires_grad=True), cr.tensor(x.copy(), requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got, want = _leaves(jf(xj)), _leaves(f(xe))
        _no_fallback(caught)
        diff = [(g, w) for g, w in zip(got, want) if w.requires_grad]
        assert diff
        for g, w in zip(got, want):
            _same(g.detach().numpy(), w.detach().numpy(), f"{name}, call {call}")
        assert all(NODE in repr(g.grad_fn) for g, _ in diff), [g.grad_fn for g, _ in diff]
        weights = [RNG.standard_normal(np.shape(w.detach().numpy())) for _, w in diff]
        sum((g * k).sum() for (g, _), k in zip(diff, weights)).backward()
        sum((w * k).sum() for (_, w), k in zip(diff, weights)).backward()
        _same(xj.grad.numpy(), xe.grad.numpy(), f"{name}, call {call}: gradient")


def test_quantile_q_tensor_changes_between_calls():
    """q's values decide the positions: a new q is a new decision (never the traced one's)."""
    f = cr.jit(lambda x, q: cr.quantile(x, q, dim=1))
    x = RNG.standard_normal((3, 6))
    for q in ([0.1, 0.5], [0.9, 0.2], [0.1, 0.5]):
        _same(f(cr.tensor(x), cr.tensor(q)).numpy(), cr.quantile(cr.tensor(x), cr.tensor(q), dim=1).numpy())
    with pytest.raises(RuntimeError, match="q must be in the range"):
        f(cr.tensor(x), cr.tensor([0.5, 1.5]))


def test_sort_positions_follow_new_values():
    """The positions a median or quantile picks are computed again at every call."""
    for fn in (lambda x: cr.median(x, dim=1), lambda x: cr.nanmedian(x, dim=1), lambda x: cr.quantile(x, 0.3, dim=1),
               lambda x: np.median(x, axis=1), lambda x: np.nanquantile(x, 0.6, axis=1)):
        jf = cr.jit(fn)
        x = np.arange(12.0).reshape(3, 4)
        for data in (x, x[:, ::-1].copy(), RNG.standard_normal((3, 4))):
            for g, w in zip(_leaves(jf(cr.tensor(data))), _leaves(fn(cr.tensor(data)))):
                _same(g.numpy(), w.numpy())
        assert jf.traces == 1


def test_nan_warnings_and_empty_slices():
    f = cr.jit(lambda x: np.nanmean(x, axis=1))
    for x in (NAN_INPUTS[0], NAN_INPUTS[2], NAN_INPUTS[4]):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = f(cr.tensor(x))
        want = np.nanmean(x, axis=1) if not np.isnan(x).all(axis=1).any() else None
        if want is not None:
            _same(got.numpy(), want)
        assert ("Mean of empty slice" in " ".join(str(w.message) for w in caught)) == bool(np.isnan(x).all(axis=1).any()) \
            or f.traces > 1


# --- lstsq: residuals only for full rank --------------------------------------------------------

def test_lstsq_rank_flips_between_calls():
    def f(a, b):
        return cr.linalg.lstsq(a, b, driver="gelsd")

    jf = cr.jit(f)
    a = RNG.standard_normal((6, 3))
    low = a.copy()
    low[:, 2] = low[:, 0]
    b = RNG.standard_normal((6, 2))
    for call, m in enumerate([a, low, a, low, a + 1]):
        got, want, caught = _eager_and_jit(f, jf, lambda m=m: (cr.tensor(m.copy()), cr.tensor(b.copy())))
        _no_fallback(caught)
        for g, w in zip(got, want):
            _same(g.numpy(), w.numpy(), f"call {call}")
    assert jf.traces == 2


def test_lstsq_rank_under_grad_and_one_node():
    def f(a, b):
        out = cr.linalg.lstsq(a, b, driver="gelss")
        return out.solution.sum() + out.residuals.sum()

    a = RNG.standard_normal((5, 2))
    low = np.stack([a[:, 0], 2 * a[:, 0]], axis=1)
    b = RNG.standard_normal(5)
    g = cr.grad(f, argnums=1)
    jg = cr.jit(g)
    jf = cr.jit(f)
    for m in (a, low, a):
        _same(jg(cr.tensor(m), cr.tensor(b)).numpy(), g(cr.tensor(m), cr.tensor(b)).numpy())
        bj, be = cr.tensor(b, requires_grad=True), cr.tensor(b, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = jf(cr.tensor(m), bj)
        _no_fallback(caught)
        assert NODE in repr(out.grad_fn)
        out.backward()
        f(cr.tensor(m), be).backward()
        _same(bj.grad.numpy(), be.grad.numpy())


# --- complex eigh and svd: phase-dependent losses -----------------------------------------------

def _hermitian(n):
    a = RNG.standard_normal((n, n)) + 1j * RNG.standard_normal((n, n))
    return a + a.conj().T


A = _hermitian(3)
PHASE = "specified up to multiplication by"


def _eigh_loss(a, p):
    w, v = cr.linalg.eigh(a)
    return w.sum() + (cr.abs(v) ** 2 * cr.tensor([[1.0, 2.0, 3.0]])).sum() + (v * p).real.sum()


def _svd_loss(a, p):
    u, s, vh = cr.linalg.svd(a)
    return s.sum() + (cr.abs(u) ** 2).sum() + (vh * p).real.sum()


@pytest.mark.parametrize("loss", [_eigh_loss, _svd_loss], ids=["eigh", "svd"])
def test_phase_errors_under_jit_of_grad(loss):
    g = cr.grad(loss)
    jg = cr.jit(g)
    for p in (0.0, 1.0, 0.0, 1.0, 0.0):
        x, pt = cr.tensor(A), cr.tensor(np.full((3, 3), p))
        if p:
            with pytest.raises(RuntimeError, match=PHASE):
                g(x, pt)
            with pytest.raises(RuntimeError, match=PHASE):
                jg(x, pt)
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                got = jg(x, pt)
            _no_fallback(caught)
            _same(got.numpy(), g(x, pt).numpy())


@pytest.mark.parametrize("loss", [_eigh_loss, _svd_loss], ids=["eigh", "svd"])
def test_phase_errors_from_backward_of_one_node(loss):
    """The node's backward code checks the phase decision; a phase-dependent cotangent raises
    eager mode's error from backward(), as eagerly."""
    decompose = cr.linalg.eigh if loss is _eigh_loss else cr.linalg.svd
    jd = cr.jit(decompose)
    for p in (0.0, 1.0, 0.0):
        grads = []
        for fn in (decompose, jd):
            x = cr.tensor(A, requires_grad=True)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                parts = fn(x)
            if fn is jd:
                _no_fallback(caught)
                assert all(NODE in repr(t.grad_fn) for t in parts)
            vectors = parts[1] if loss is _eigh_loss else parts[2]
            values = parts[1] if loss is _svd_loss else parts[0]
            total = values.sum() + (cr.abs(vectors) ** 2).sum() + (vectors * p).real.sum()
            if p:
                with pytest.raises(RuntimeError, match=PHASE):
                    total.backward()
            else:
                total.backward()
                grads.append(x.grad.numpy())
        if grads:
            _same(grads[1], grads[0])


def test_unused_cotangent_decision_flips():
    """eigh's backward skips the eigenvector terms when their cotangent is all zeros."""
    def loss(a, c):
        w, v = cr.linalg.eigh(a)
        return (w * w).sum() + (v * c).sum()

    a = RNG.standard_normal((4, 4))
    a = a + a.T
    g = cr.grad(loss)
    jg = cr.jit(g)
    for c in (np.zeros((4, 4)), RNG.standard_normal((4, 4)), np.zeros((4, 4))):
        _same(jg(cr.tensor(a), cr.tensor(c)).numpy(), g(cr.tensor(a), cr.tensor(c)).numpy())
    assert jg.traces == 2


def test_backward_decision_of_one_node_flips():
    """A decision on a cotangent (eigh's unused eigenvectors) is checked by the node's backward
    code; when it differs, backward() runs f's backward eagerly: eager mode's gradients."""
    a = RNG.standard_normal((4, 4))
    a = a + a.T
    jd = cr.jit(cr.linalg.eigh)
    for weight in (1.0, 0.0, 1.0, 0.0):
        grads = []
        for fn in (cr.linalg.eigh, jd):
            x = cr.tensor(a, requires_grad=True)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                w, v = fn(x)
            if fn is jd:
                _no_fallback(caught)
                assert NODE in repr(w.grad_fn)
            ((w * w).sum() + weight * (v * cr.tensor(np.arange(16.0).reshape(4, 4))).sum()).backward()
            grads.append(x.grad.numpy())
        _same(grads[1], grads[0])
    assert jd.traces == 1


def test_random_draws_with_a_backward_decision_run_eagerly():
    """f's random numbers cannot be drawn again by an eager backward pass: such a call runs
    eagerly (with the warning), with eager mode's results."""
    def f(x):
        w, v = cr.linalg.eigh(x)
        return w * cr.rand(4), v

    a = RNG.standard_normal((4, 4))
    a = a + a.T
    jf = cr.jit(f)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cr.manual_seed(3)
        w, v = jf(cr.tensor(a, requires_grad=True))
    assert any("a decision on a value of the backward pass" in str(c.message) for c in caught)
    cr.manual_seed(3)
    we, _ = f(cr.tensor(a, requires_grad=True))
    _same(w.detach().numpy(), we.detach().numpy())


def test_decide_on_a_traced_array_is_a_guard():
    """``tracing.decide`` on the bare array of a traced value guards it; on an array computed
    outside the operations the call runs eagerly (with the warning), as before."""
    from chainrule.core import tracing

    def f(x):
        y = x * 2.0
        if tracing.decide(y._data, lambda d: bool((d > 1).any()), "whether y exceeds 1"):
            return y + 1.0
        return y - 1.0

    def g(x):
        outside = np.asarray(x._data) * 2.0  # NumPy's, not an operation's
        return x + (1.0 if tracing.decide(outside, lambda d: bool((d > 1).any()), "whether it exceeds 1") else 0.0)

    jf = cr.jit(f)
    for v in ([0.1, 0.2], [3.0, 0.1], [0.0, 0.3]):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = jf(cr.tensor(v))
        _no_fallback(caught)
        _same(got.numpy(), f(cr.tensor(v)).numpy())
    assert jf.traces == 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _same(cr.jit(g)(cr.tensor([3.0])).numpy(), g(cr.tensor([3.0])).numpy())
    assert any("cannot follow" in str(c.message) for c in caught)
