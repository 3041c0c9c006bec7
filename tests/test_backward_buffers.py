"""The backward pass writes only into buffers it made and has handed to no one.

The engine adds gradients in place (``previous += g``) and some rules multiply into their
cotangent, when the engine owns the buffer. A wrong ownership decision corrupts silently: a
saved input or output, the user's cotangent, a gradient already delivered. So, for every entry
of the operation table (``op_db``) and every sample:

- each output reaches the loss through two consumers, so its cotangent is a sum the engine
  made, and every input gradient is accumulated from two paths;
- the gradients equal those of the two paths computed separately and added;
- nothing the user holds changed: inputs, outputs, the cotangent given to ``backward(v)``, a
  gradient a hook kept, a gradient read back through ``retain_grad``;
- all again on large inputs (the in-place paths start at a few thousand elements).
"""

from __future__ import annotations

import numpy as np
import pytest
from op_db import ENTRIES

import chainrule as cr

CASES = [pytest.param(e, s, id=f"{e.name}-{s.label}") for e in ENTRIES for s in e.samples]


def _outputs(out) -> list:
    items = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o for o in items if isinstance(o, cr.Tensor) and o.requires_grad]


def _grads(tensors, idx):
    return [None if tensors[i].grad is None else tensors[i].grad.numpy().copy() for i in idx]


def _weights(outs, seed):
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.5, 1.5, o.shape) for o in outs]


def _run(entry, sample, *, paths, v_seed=1):
    """Gradients of Σ_path Σ_o w_path(o) · o, the operation called once per path on the same
    inputs (so every input gradient is accumulated from the paths), each output reaching the
    loss through two consumers (so its cotangent is a sum the engine made)."""
    tensors = sample.tensors()
    idx = sample.differentiable
    held = [t.detach().numpy().copy() if isinstance(t, cr.Tensor) else None for t in tensors]
    loss = 0.0
    outs, kept, hooked = [], [], []
    for p in paths:
        these = _outputs(entry.call(sample, tensors))
        if not these:
            return None
        for o, w in zip(these, _weights(these, v_seed + p)):
            o.retain_grad()
            o.register_hook(lambda g: hooked.append((g, g.numpy().copy())))
            term = (o * cr.tensor(w, dtype=o.dtype)).sum() + o.sum()
            loss = loss + (term.real if o.dtype.kind == "c" else term)  # a real loss
        outs += these
        kept += [o.detach().numpy().copy() for o in these]
    loss.backward()
    for t, before in zip(tensors, held):
        if before is not None:
            np.testing.assert_array_equal(t.detach().numpy(), before, err_msg="an input changed")
    for o, before in zip(outs, kept):
        np.testing.assert_array_equal(o.detach().numpy(), before, err_msg="an output changed")
    for g, copy in hooked:
        np.testing.assert_array_equal(g.numpy(), copy, err_msg="a gradient given to a hook changed")
    grads = [t.grad.numpy() for t in [*(tensors[i] for i in idx), *outs] if t.grad is not None]
    arrays = [t.detach().numpy() for t in [*tensors, *outs] if isinstance(t, cr.Tensor)]
    for k, g in enumerate(grads):
        for other in grads[k + 1:] + arrays:
            assert not np.shares_memory(g, other), "a gradient shares memory with another array"
    retained = [o.grad.numpy().copy() for o in outs]
    exact = all(o.dtype == cr.float64 for o in outs) and not entry.tol  # tol: float32 inside
    return _grads(tensors, idx), retained, exact


def _check(entry, sample):
    both = _run(entry, sample, paths=(0, 1))
    if both is None:
        pytest.skip("no output requires grad")
    first = _run(entry, sample, paths=(0,))
    second = _run(entry, sample, paths=(1,))
    for g, a, b in zip(both[0], first[0], second[0]):
        if g is None:
            assert a is None and b is None
            continue
        _close(g, a + b, both[2])
    n = len(first[1])
    for g, a in zip(both[1], first[1] + second[1]):  # each path's outputs: their own gradients
        _close(g, a, both[2])
    assert len(both[1]) == 2 * n


def _close(actual, expected, exact):
    """Exact up to float64 rounding, unless the computation went through float32 (which rounds
    the sum of two paths differently from each path alone)."""
    np.testing.assert_allclose(actual, expected, rtol=1e-10 if exact else 1e-5, atol=1e-12 if exact else 1e-6)


@pytest.mark.parametrize("entry, sample", CASES)
def test_backward_writes_only_its_own_buffers(entry, sample):
    _check(entry, sample)


def _large(sample):
    """The sample with each float array tiled to at least 5000 elements (same domain)."""
    from op_db import Sample

    args = []
    for a in sample.args:
        if isinstance(a, np.ndarray) and a.dtype == np.float64 and a.ndim >= 1:
            reps = max(1, -(-5000 // a.size))
            a = np.concatenate([a] * reps, axis=0)
        args.append(a)
    return Sample(tuple(args), sample.kwargs, sample.label + "-large")


_UNARY_ELEMENTWISE = [
    pytest.param(e, s, id=f"{e.name}-{s.label}") for e in ENTRIES for s in e.samples[:1]
    if len(s.args) == 1 and isinstance(s.args[0], np.ndarray) and s.args[0].ndim >= 1
    and not s.kwargs and len(e.covers) == 1
]


@pytest.mark.parametrize("entry, sample", _UNARY_ELEMENTWISE)
def test_backward_writes_only_its_own_buffers_large(entry, sample):
    big = _large(sample)
    try:
        entry.call(big)
    except Exception:
        pytest.skip("the operation does not take this shape")
    _check(entry, big)


def test_user_cotangent_is_not_written():
    x = cr.tensor(np.linspace(-1, 1, 8000), requires_grad=True)
    v = cr.tensor(np.ones(8000))
    before = v.numpy().copy()
    y = cr.exp(cr.sin(x))
    y.backward(v)
    np.testing.assert_array_equal(v.numpy(), before)
    np.testing.assert_allclose(x.grad.numpy(), np.exp(np.sin(x.detach().numpy())) * np.cos(x.detach().numpy()))


def test_a_target_that_retains_its_gradient_gets_it_once():
    """``e.retain_grad()`` and ``backward(inputs=[e])``: e.grad is the gradient, not twice it (PyTorch)."""
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    e = x * 3
    e.retain_grad()
    (e * 1).sum().backward(inputs=[e, x])
    np.testing.assert_array_equal(e.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
