"""Views and in-place operations follow PyTorch: shared storage, shared version counter,
history rebased through any alias (CopySlices), copies where PyTorch copies.

Each program is written once against a module ``lib`` with PyTorch's API and run on chainrule
and, where importable, on PyTorch: the gradients (or the fact that it raises) must agree. The
expected values are also written out, so the tests check something without PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def _leaf(lib, values):
    return lib.tensor(values, dtype=lib.float64, requires_grad=True)


def p_slice_then_mul_base(lib):
    a = _leaf(lib, [1.0, 2.0, 3.0])
    y = a * 1.0
    r = y[:]
    y.mul_(2.0)
    r.sum().backward()
    return [a.grad]


def p_setitem_base_seen_by_view(lib):
    x = _leaf(lib, [1.0, 2.0, 3.0, 4.0])
    y = x * 1
    z = y[:]
    y[:2] = 0
    z.sum().backward()
    return [x.grad]


def p_transpose_then_mul_base(lib):
    x = _leaf(lib, [[1.0, 2.0], [3.0, 4.0]])
    y = x * 1
    v = y.T
    y.mul_(3)
    (v * v).sum().backward()
    return [x.grad]


def p_mul_through_view(lib):
    x = _leaf(lib, [1.0, 2.0, 3.0, 4.0])
    y = x * 1
    y[:2].mul_(2)
    y.sum().backward()
    return [x.grad]


def p_retain_grad_follows_setitem(lib):
    x = _leaf(lib, [1.0, 2.0, 3.0, 4.0])
    w = x * 1
    w.retain_grad()
    w[::2] = lib.tensor([5.0, 6.0], dtype=lib.float64)
    w.sum().backward()
    return [x.grad, w.grad]


def p_view_of_view_in_place_with_grad_value(lib):
    x = _leaf(lib, [1.0, 2.0, 3.0, 4.0])
    y = x * 2
    row = y.view(2, 2)[1]
    row.mul_(x[:2])
    (y * y).sum().backward()
    return [x.grad]


def p_view_written_into_constant(lib):
    x = _leaf(lib, [1.0, 2.0])
    buf = lib.zeros(2, 3, dtype=lib.float64)
    col = buf[:, 1]
    other = buf.T  # made before the write: sees it (value and history)
    col.copy_(x * x)
    (other * 3.0).sum().backward()
    return [x.grad, other.detach()]


def p_unsqueeze_saved_then_base_changed(lib):
    a = _leaf(lib, [1.0, 2.0, 3.0])
    x = a * 1.0
    u = x.unsqueeze(0)
    loss = (u * u).sum()
    x.mul_(10.0)
    loss.backward()  # raises: u's saved value changed through its base
    return [a.grad]


def p_views_share_version(lib):
    a = _leaf(lib, [[1.0, 2.0], [3.0, 4.0]])
    x = a * 1.0
    views = [x.flatten(), x.squeeze(), x.expand(2, 2), x.diagonal(), x.narrow(0, 0, 1),
             x.split(1)[0], x.chunk(2)[1], x.unbind(0)[0], x.permute(1, 0), x.reshape(4)]
    loss = sum((v * v).sum() for v in views)
    x.add_(1.0)
    loss.backward()  # raises for each: a saved view was modified through its base
    return [a.grad]


def p_split_output_in_place(lib):
    a = _leaf(lib, [1.0, 2.0, 3.0, 4.0])
    x = a * 1.0
    first, _ = x.split(2)
    first.mul_(2.0)  # raises in PyTorch: outputs of multi-view functions can't be modified in place
    x.sum().backward()
    return [a.grad]


def p_view_of_leaf_in_place(lib):
    a = _leaf(lib, [1.0, 2.0, 3.0])
    a[:2].mul_(2.0)  # raises: a view of a leaf that requires grad
    return [a]


def p_flip_copies(lib):
    x = _leaf(lib, [1.0, 2.0, 3.0])
    y = x * 1.0
    f = y.flip(0)
    y.mul_(2.0)  # f is a copy: it keeps the old values and needs nothing y saved
    (f * f).sum().backward()
    return [x.grad, f.detach()]


def p_advanced_index_copies(lib):
    x = _leaf(lib, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    d = x.detach()[:, [0, 1]]
    loss = (x * x).sum()
    d.mul_(100.0)  # a copy: nothing of x changes
    loss.backward()
    return [x.grad, x.detach()]


def p_int_index_is_view(lib):
    c = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)
    e = c[0]
    c.add_(1.0)
    return [e]


def p_reshape_same_shape_is_new_view(lib):
    x = _leaf(lib, [1.0, 2.0])
    y = x * 1.0
    r = y.reshape(y.shape)
    assert r is not y
    y.mul_(3.0)
    r.sum().backward()
    return [x.grad, r.detach()]


def p_detach_shares_version(lib):
    x = _leaf(lib, [1.0, 2.0])
    y = x.exp()
    d = y.detach()
    d.zero_()  # y's saved output changed: backward raises
    y.sum().backward()
    return [x.grad]


def p_backward_v_through_views(lib):
    x = _leaf(lib, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = x.sin()
    t = y.t()
    t[0].add_(x[:, 0] * 2)
    y.backward(lib.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]], dtype=lib.float64))
    return [x.grad]


def p_create_graph_through_copy_slices(lib):
    x = _leaf(lib, [0.5, -1.0, 2.0])
    y = x * x
    y[1:].mul_(x[:2])
    (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
    (g * g).sum().backward()
    return [x.grad]


PROGRAMS = {
    name[2:]: fn for name, fn in dict(globals()).items() if name.startswith("p_") and callable(fn)
}

EXPECTED = {
    "slice_then_mul_base": [[2.0, 2.0, 2.0]],
    "setitem_base_seen_by_view": [[0.0, 0.0, 1.0, 1.0]],
    "transpose_then_mul_base": [[[18.0, 36.0], [54.0, 72.0]]],
    "mul_through_view": [[2.0, 2.0, 1.0, 1.0]],
    "retain_grad_follows_setitem": [[0.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]],
    "view_of_view_in_place_with_grad_value": [[80.0, 272.0, 24.0, 128.0]],
    "view_written_into_constant": [[6.0, 12.0], [[0.0, 0.0], [1.0, 4.0], [0.0, 0.0]]],
    "unsqueeze_saved_then_base_changed": RuntimeError,
    "views_share_version": RuntimeError,
    "split_output_in_place": RuntimeError,
    "view_of_leaf_in_place": RuntimeError,
    "flip_copies": [[2.0, 4.0, 6.0], [3.0, 2.0, 1.0]],
    "advanced_index_copies": [[[2.0, 4.0, 6.0], [8.0, 10.0, 12.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]],
    "int_index_is_view": [2.0],
    "reshape_same_shape_is_new_view": [[3.0, 3.0], [3.0, 6.0]],
    "detach_shares_version": RuntimeError,
    "backward_v_through_views": None,  # PyTorch's numbers (checked when it is importable)
    "create_graph_through_copy_slices": None,
}


def _run(lib, name):
    try:
        return PROGRAMS[name](lib)
    except RuntimeError as exc:
        return exc


def _plain(values):
    return [np.asarray(v.detach().numpy() if hasattr(v, "detach") else v, dtype=float) for v in values]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_gives_expected_values(name):
    assert set(EXPECTED) == set(PROGRAMS)
    got = _run(cr, name)
    expected = EXPECTED[name]
    if expected is RuntimeError:
        assert isinstance(got, RuntimeError), f"{name}: expected an error, got {got}"
        return
    assert not isinstance(got, Exception), f"{name} raised {got!r}"
    if expected is not None:
        for g, e in zip(_plain(got), expected, strict=True):
            np.testing.assert_allclose(g, e, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = _run(cr, name), _run(torch, name)
    if isinstance(theirs, Exception):
        assert isinstance(ours, RuntimeError), f"{name}: PyTorch raises ({theirs}), chainrule gave {ours}"
        return
    assert not isinstance(ours, Exception), f"{name}: PyTorch computes, chainrule raised {ours!r}"
    for g, t in zip(_plain(ours), _plain(theirs), strict=True):
        np.testing.assert_allclose(g, t, rtol=1e-12, atol=1e-14)


def test_error_messages_name_the_operation_and_fix():
    a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"mul_: a view .* of a leaf tensor that requires grad.*no_grad"):
        a[:2].mul_(2.0)
    x = a * 1.0
    first, _ = x.split([1, 2])
    with pytest.raises(RuntimeError, match=r"add_: .*split, chunk, unbind.*clone"):
        first.add_(1.0)
    with cr.no_grad():
        v = x[:2]
    with pytest.raises(RuntimeError, match=r"mul_: a view .* created in no_grad mode"):
        v.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"detach_: can't detach a view in place"):
        x[:1].detach_()
    with pytest.raises(RuntimeError, match=r"view: shape \[6\] is not compatible .* use .reshape"):
        cr.ones(2, 3).T.view(6)


def test_view_relations():
    x = cr.arange(6.0).reshape(2, 3)
    assert x._base is not None  # a view of the arange
    base = x._base
    for v in (x[0], x[:, 1], x.T, x.t(), x.transpose(0, 1), x.permute(1, 0), x.unsqueeze(0),
              x.flatten(), x.view(3, 2), x.reshape(6), x.squeeze(), x.expand(2, 2, 3), x.narrow(1, 1, 2),
              x.diagonal(), x.split(1)[0], x.chunk(3, 1)[0], x.unbind(1)[2], x[..., None], x[1, 2]):
        assert v._base is base
        assert np.shares_memory(v.numpy(), base.numpy())
    for c in (x.flip(0), x[:, [0, 2]], x[x > 2], x.clone(), x.T.reshape(6)):
        assert c._base is None
        assert not np.shares_memory(c.numpy(), base.numpy())
    assert x.detach()._base is None and np.shares_memory(x.detach().numpy(), x.numpy())


def test_forward_mode_sees_in_place_through_a_view():
    def f(x):
        y = x * 1.0
        y[1:].mul_(x[:-1])
        return y

    x = cr.tensor([0.5, 2.0, -1.0], dtype=cr.float64)
    numeric = cr.numerical.gradient(lambda v: f(v), x.numpy())
    np.testing.assert_allclose(cr.jacfwd(f)(x).numpy(), numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(cr.jacrev(f)(x).numpy(), numeric, rtol=1e-6, atol=1e-8)
