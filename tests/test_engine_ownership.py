"""Buffer ownership in the backward pass: the engine writes only into gradient arrays it made
and handed to no one (``engine`` docstring), never into one that a user, a hook, ``.grad``, a
retained gradient, the results of ``autograd.grad``, a picture (``grad_value``) or another
input holds, nor into a view of one.

Each test sets up a gradient that the engine could be tempted to reuse and checks afterwards
that what was handed out still holds its value. The arrays are large (``_IN_PLACE_MIN`` and up)
where the tempting write is a unary rule multiplying into its cotangent (``exp``'s raw fast
form), small where it is ``+=`` of a second gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import dispatch as P
from chainrule.core import engine
from chainrule.ops import PRIMITIVES, _define

BIG = (64, 80)  # 5120 elements: above _IN_PLACE_MIN, so exp's fast form writes into an owned g


def _big(seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, BIG)


def _leaf(a):
    return cr.tensor(a.copy(), requires_grad=True)


def test_big_is_big_enough_for_the_in_place_form():
    assert np.prod(BIG) >= _define._IN_PLACE_MIN
    assert PRIMITIVES["exp"].raw_vjp_writes_g


def test_the_in_place_form_runs_on_a_buffer_the_engine_owns(monkeypatch):
    """The baseline of the tests below: with nothing handed out, exp multiplies into the
    cotangent that the multiplication after it made (and gets the right answer)."""
    writes = []
    original = np.multiply

    def spy(*args, **kwargs):
        if kwargs.get("out") is not None:
            writes.append(args[0].shape)
        return original(*args, **kwargs)

    monkeypatch.setattr(np, "multiply", spy)  # the one _backend.multiply_into calls
    a = _big()
    x = _leaf(a)
    (cr.exp(x) * 3.0).sum().backward()
    assert writes == [BIG]
    np.testing.assert_allclose(x.grad.numpy(), 3.0 * np.exp(a))


def test_a_hook_keeps_the_gradient_it_was_given():
    a = _big()
    x = _leaf(a)
    e = cr.exp(x)
    kept = []
    e.register_hook(lambda g: kept.append(g) or None)
    (e * 3.0).sum().backward()
    np.testing.assert_array_equal(kept[0].numpy(), np.full(BIG, 3.0))
    np.testing.assert_allclose(x.grad.numpy(), 3.0 * np.exp(a))


def test_a_hook_that_returns_an_array_it_keeps():
    a = _big()
    x = _leaf(a)
    mine = np.full(BIG, 2.0)
    e = cr.exp(x)
    e.register_hook(lambda g: mine)
    (e * 3.0).sum().backward()
    np.testing.assert_array_equal(mine, 2.0)
    np.testing.assert_allclose(x.grad.numpy(), 2.0 * np.exp(a))


def test_a_leaf_hook_result_is_copied_into_grad():
    """``.grad`` accumulates in place on the next backward: it must not be the hook's array."""
    x = _leaf(_big())
    mine = np.full(BIG, 2.0)
    x.register_hook(lambda g: mine)
    for _ in range(2):
        (x * 3.0).sum().backward()
    np.testing.assert_array_equal(mine, 2.0)
    np.testing.assert_array_equal(x.grad.numpy(), 4.0)


def test_retain_grad_keeps_its_own_gradient():
    a = _big()
    x = _leaf(a)
    e = cr.exp(x)
    e.retain_grad()
    (e * 3.0).sum().backward()
    np.testing.assert_array_equal(e.grad.numpy(), 3.0)
    np.testing.assert_allclose(x.grad.numpy(), 3.0 * np.exp(a))


def test_a_retained_gradient_is_not_written_through_a_view():
    """The transpose hands exp a view of the cotangent that ``t.grad`` took: the view is not the
    engine's to write, whoever owned its base."""
    a = _big()
    x = _leaf(a)
    t = cr.exp(x).T
    t.retain_grad()
    (t * 2.0).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), 2.0)
    np.testing.assert_allclose(x.grad.numpy(), 2.0 * np.exp(a))


@pytest.mark.parametrize("order", ["view first", "other first"])
def test_a_second_gradient_is_not_added_into_a_view(order):
    """The transpose's cotangent becomes ``t.grad``; u receives a view of it (and a second
    gradient): that view is never the buffer the sum is written into."""
    x = _leaf(np.arange(6.0).reshape(2, 3))
    u = x * 1.0
    t = u.T
    t.retain_grad()
    y = (t * 2.0).sum() + (u * 3.0).sum() if order == "view first" else (u * 3.0).sum() + (t * 2.0).sum()
    y.backward()
    np.testing.assert_array_equal(t.grad.numpy(), 2.0)
    np.testing.assert_array_equal(x.grad.numpy(), 5.0)


def test_the_users_cotangent_is_never_written():
    a = _big()
    x = _leaf(a)
    v = np.full(BIG, 5.0)
    cr.exp(x).backward(cr.tensor(v))
    np.testing.assert_array_equal(v, 5.0)
    np.testing.assert_allclose(x.grad.numpy(), 5.0 * np.exp(a))
    cr.autograd.backward([cr.exp(x)], [v])
    np.testing.assert_array_equal(v, 5.0)


def test_the_users_cotangent_passed_to_a_leaf_is_copied():
    """``x + 0`` hands the cotangent itself to x: x.grad must be a copy, or the next backward's
    in-place accumulation would change the user's array."""
    x = _leaf(_big())
    v = np.full(BIG, 5.0)
    for _ in range(2):
        (x + 0.0).backward(cr.tensor(v))
    np.testing.assert_array_equal(v, 5.0)
    np.testing.assert_array_equal(x.grad.numpy(), 10.0)


@pytest.mark.parametrize("order", ["x first", "z first"])
def test_one_gradient_flowing_to_two_parents(order):
    """``add`` hands the same cotangent to both inputs: neither may multiply into it."""
    a, b = _big(1), _big(2)
    x, z = _leaf(a), _leaf(b)
    s = cr.exp(x) + cr.exp(z) if order == "x first" else cr.exp(z) + cr.exp(x)
    (s * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0 * np.exp(a))
    np.testing.assert_allclose(z.grad.numpy(), 2.0 * np.exp(b))


@pytest.mark.parametrize("order", ["plain first", "transposed first"])
def test_one_gradient_and_a_view_of_it_flowing_to_two_parents(order):
    """One input gets the cotangent, the other (through a transpose) a view of it."""
    a, b = _big(1), _big(2).T.copy()
    x, z = _leaf(a), _leaf(b)
    s = cr.exp(x) + cr.exp(z).T if order == "plain first" else cr.exp(z).T + cr.exp(x)
    (s * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0 * np.exp(a))
    np.testing.assert_allclose(z.grad.numpy(), 2.0 * np.exp(b))


def test_two_leaves_given_the_same_gradient_get_buffers_of_their_own():
    x, z = _leaf(_big(1)), _leaf(_big(2))
    for _ in range(2):
        ((x + z) * 3.0).sum().backward()
    assert not np.shares_memory(x.grad.numpy(), z.grad.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), 6.0)
    np.testing.assert_array_equal(z.grad.numpy(), 6.0)


def test_grad_results_are_not_written_after_they_are_handed_out():
    a = _big()
    x = _leaf(a)
    e = cr.exp(x)
    ge, gx = cr.autograd.grad((e * 3.0).sum(), [e, x])
    np.testing.assert_array_equal(ge.numpy(), 3.0)
    np.testing.assert_allclose(gx.numpy(), 3.0 * np.exp(a))


def test_backward_with_inputs_gives_grad_a_copy():
    a = _big()
    x = _leaf(a)
    e = cr.exp(x)
    (e * 3.0).sum().backward(inputs=[e, x])
    np.testing.assert_array_equal(e.grad.numpy(), 3.0)
    np.testing.assert_allclose(x.grad.numpy(), 3.0 * np.exp(a))


def _clone_then_more(order, keep):
    """x → a = 2x → b = a.clone() (one input: it passes its cotangent on as it is); a also gets
    a second gradient, before or after b's. ``keep(b)`` hands b's gradient out somewhere."""
    x = _leaf(np.array([0.5, -1.0, 2.0]))
    a = x * 2.0
    b = a.clone()
    kept = keep(b)
    if order == "b first":
        y = (b * 3.0).sum() + (a * 5.0).sum()
    else:
        y = (a * 5.0).sum() + (b * 3.0).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 16.0)
    return a, b, kept


ORDERS = ["b first", "a first"]


@pytest.mark.parametrize("order", ORDERS)
def test_small_output_keeps_its_picture_gradient(order):
    """A small output's gradient is kept as ``grad_value`` (for cr.viz): passed on, it must not
    become the buffer a second gradient is added into."""
    a, b, _ = _clone_then_more(order, lambda b: None)
    np.testing.assert_array_equal(b.grad_fn.grad_value, 3.0)
    np.testing.assert_array_equal(a.grad_fn.grad_value, 8.0)


@pytest.mark.parametrize("order", ORDERS)
def test_hooked_gradient_passed_on(order):
    def keep(b):
        kept = []
        b.register_hook(lambda g: kept.append(g) or None)
        return kept

    _, _, kept = _clone_then_more(order, keep)
    np.testing.assert_array_equal(kept[0].numpy(), 3.0)


@pytest.mark.parametrize("order", ORDERS)
def test_retained_gradient_passed_on(order):
    _, b, _ = _clone_then_more(order, lambda b: b.retain_grad())
    np.testing.assert_array_equal(b.grad.numpy(), 3.0)


@pytest.mark.parametrize("order", ORDERS)
def test_requested_gradient_passed_on(order):
    x = _leaf(np.array([0.5, -1.0, 2.0]))
    a = x * 2.0
    b = a.clone()
    y = (b * 3.0).sum() + (a * 5.0).sum() if order == "b first" else (a * 5.0).sum() + (b * 3.0).sum()
    gb, ga, gx = cr.autograd.grad(y, [b, a, x])
    np.testing.assert_array_equal(gb.numpy(), 3.0)
    np.testing.assert_array_equal(ga.numpy(), 8.0)
    np.testing.assert_array_equal(gx.numpy(), 16.0)


def test_accumulating_into_an_owned_sum_of_three_gradients():
    """The engine does own the sums it computed: three gradients into one node add up right
    (the second makes a new sum, the third is added into it)."""
    a = _big()
    x = _leaf(a)
    e = cr.exp(x)
    ((e * 1.0) + (e * 2.0) + (e * 4.0)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 7.0 * np.exp(a))


def test_a_custom_function_returning_an_array_it_keeps():
    """What a custom Function's backward returns is the user's: never written, never taken."""
    kept = np.full(BIG, 2.0)

    class Keep(cr.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1.0

        @staticmethod
        def backward(ctx, g):
            return kept

    a = _big()
    x = _leaf(a)
    for _ in range(2):
        (cr.exp(Keep.apply(cr.exp(x))) * 1.0).sum().backward()
    np.testing.assert_array_equal(kept, 2.0)
    np.testing.assert_allclose(x.grad.numpy(), 2 * 2.0 * np.exp(a))
    y = _leaf(a)
    for _ in range(2):
        Keep.apply(y).sum().backward()
    np.testing.assert_array_equal(kept, 2.0)
    np.testing.assert_array_equal(y.grad.numpy(), 4.0)


def test_a_leaf_takes_an_owned_gradient_without_a_copy(monkeypatch):
    """What the engine owns it hands over as it is (no copy); anything else is copied."""
    given = []
    original = engine._accumulate_into

    def spy(tensor, cotangent, *args):
        given.append(cotangent)
        return original(tensor, cotangent, *args)

    monkeypatch.setattr(engine, "_accumulate_into", spy)
    x = _leaf(_big())
    (x * 3.0).sum().backward()  # mul made x's gradient: x.grad is that array
    assert x.grad.numpy() is given[-1]
    x.grad = None
    v = np.full(BIG, 1.0)
    (x * 1.0 + 0.0).backward(cr.tensor(v))  # a new array from mul again
    assert x.grad.numpy() is given[-1]
    x.grad = None
    (x + 0.0).backward(cr.tensor(v))  # the user's own array: copied
    assert x.grad.numpy() is not given[-1] and not np.shares_memory(x.grad.numpy(), v)


def test_no_reference_counts():
    import inspect

    for module in (engine, P):
        assert "getrefcount" not in inspect.getsource(module)
