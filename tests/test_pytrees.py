"""Pytrees (SPEC §12): the tree utilities, and every transform taking and returning nested
tuples, lists and dicts of tensors with JAX's conventions. JAX is an optional oracle for the
structures (leaf order, dict key order, None), closed forms for the values."""

from __future__ import annotations

from collections import OrderedDict, defaultdict, namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr

Point = namedtuple("Point", "x y")
RNG = np.random.default_rng(0)


def _t(*shape):
    return cr.tensor(RNG.standard_normal(shape))


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a.detach().numpy() if isinstance(a, cr.Tensor) else a),
                               np.asarray(b.detach().numpy() if isinstance(b, cr.Tensor) else b), rtol=1e-10, atol=1e-12)


def _same_tree(a, b):
    la, da = cr.tree_flatten(a)
    lb, db = cr.tree_flatten(b)
    assert da == db, (da, db)
    for x, y in zip(la, lb):
        _close(x, y)


# ---------------------------------------------------------------------------------------------
# The utilities
# ---------------------------------------------------------------------------------------------

def test_flatten_orders_dict_keys_and_drops_none():
    tree = {"b": 2.0, "a": (1.0, None, [3.0, {"z": 4.0, "y": 5.0}])}
    leaves, treedef = cr.tree_flatten(tree)
    assert leaves == [1.0, 3.0, 5.0, 4.0, 2.0]
    assert treedef.num_leaves == 5
    assert cr.tree_unflatten(treedef, leaves) == {"a": (1.0, None, [3.0, {"y": 5.0, "z": 4.0}]), "b": 2.0}
    assert cr.tree_leaves(None) == []
    assert cr.tree_structure(7).is_leaf


def test_ordered_dict_defaultdict_namedtuple_round_trip():
    tree = [OrderedDict([("z", 1), ("a", 2)]), defaultdict(list, {"k": 3}), Point(4, (5, 6))]
    leaves, treedef = cr.tree_flatten(tree)
    assert leaves == [1, 2, 3, 4, 5, 6]  # an OrderedDict keeps insertion order
    back = cr.tree_unflatten(treedef, leaves)
    assert type(back[0]) is OrderedDict and list(back[0]) == ["z", "a"]
    assert type(back[1]) is defaultdict and back[1].default_factory is list
    assert type(back[2]) is Point and back[2] == Point(4, (5, 6))


def test_tree_map_with_several_trees_and_mismatch():
    a = {"w": 1.0, "b": [2.0, 3.0]}
    b = {"w": 10.0, "b": [20.0, 30.0]}
    assert cr.tree_map(lambda x, y: x + y, a, b) == {"w": 11.0, "b": [22.0, 33.0]}
    with pytest.raises(ValueError, match="tree_map: argument 2 has structure"):
        cr.tree_map(lambda x, y: x + y, a, {"w": 1.0, "b": [2.0]})
    with pytest.raises(TypeError, match="tree_map: f must be a function"):
        cr.tree_map(None, a)


def test_unflatten_checks_the_number_of_leaves():
    _, treedef = cr.tree_flatten([1, 2])
    with pytest.raises(ValueError, match="has 2 leaves, got 3"):
        cr.tree_unflatten(treedef, [1, 2, 3])
    with pytest.raises(TypeError, match="expected a PyTreeDef"):
        cr.tree_unflatten([1, 2], [1, 2])


def test_register_pytree_node():
    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

    cr.register_pytree_node(Pair, lambda p: ((p.a, p.b), None), lambda aux, c: Pair(*c))
    w = _t(3)
    g = cr.grad(lambda p: (p.a * p.b).sum())(Pair(w, 2.0 * cr.ones(3, dtype=cr.float64)))
    assert isinstance(g, Pair)
    _close(g.a, 2.0 * np.ones(3))
    _close(g.b, w)
    with pytest.raises(ValueError, match="already a pytree node"):
        cr.register_pytree_node(Pair, lambda p: ((), None), lambda aux, c: Pair(0, 0))


_leaf = st.one_of(st.integers(-5, 5), st.floats(-2, 2, allow_nan=False))
_keys = st.text("abcde", min_size=1, max_size=2)
_trees = st.recursive(_leaf | st.none(), lambda children: st.one_of(
    st.lists(children, max_size=3), st.tuples(children, children),
    st.dictionaries(_keys, children, max_size=3)), max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(_trees)
def test_flatten_agrees_with_jax(tree):
    jax = pytest.importorskip("jax")
    leaves, treedef = cr.tree_flatten(tree)
    j_leaves, j_def = jax.tree_util.tree_flatten(tree)
    assert leaves == j_leaves
    assert treedef.num_leaves == j_def.num_leaves
    assert cr.tree_unflatten(treedef, leaves) == jax.tree_util.tree_unflatten(j_def, j_leaves)


# ---------------------------------------------------------------------------------------------
# Transforms of functions of pytrees
# ---------------------------------------------------------------------------------------------

X = _t(5, 3)
Y = _t(5, 2)


def _params():
    return {"w": _t(3, 2), "b": _t(2), "extra": [_t(2), None]}


def _loss(p, X, Y):
    pred = X @ p["w"] + p["b"] + p["extra"][0]
    return ((pred - Y) ** 2).mean()


def _loss_flat(w, b, e, X, Y):
    return _loss({"w": w, "b": b, "extra": [e, None]}, X, Y)


def test_grad_of_a_dict_is_a_dict_of_the_same_keys():
    p = _params()
    g = cr.grad(_loss)(p, X, Y)
    assert set(g) == {"w", "b", "extra"} and g["extra"][1] is None
    flat = cr.grad(_loss_flat, argnums=(0, 1, 2))(p["w"], p["b"], p["extra"][0], X, Y)
    _close(g["w"], flat[0])
    _close(g["b"], flat[1])
    _close(g["extra"][0], flat[2])


def test_grad_argnums_tuple_and_has_aux_and_value_and_grad():
    p = _params()
    (gp, gx), aux = cr.grad(lambda p, X: (_loss(p, X, Y), {"n": 3}), argnums=(0, 1), has_aux=True)(p, X)
    assert aux == {"n": 3} and gx.shape == X.shape and set(gp) == set(p)
    value, g = cr.value_and_grad(_loss)(p, X, Y)
    _close(value, _loss(p, X, Y))
    _same_tree(g, gp)


def test_grad_of_module_parameters():
    model = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.Tanh(), cr.nn.Linear(4, 1))
    params = dict(model.named_parameters())

    def loss(params):
        h = cr.tanh(X.float() @ params["0.weight"].T + params["0.bias"])
        return ((h @ params["2.weight"].T + params["2.bias"]) ** 2).mean()

    g = cr.grad(loss)(params)
    assert set(g) == set(params)
    loss(params).backward()
    for name, p in model.named_parameters():
        _close(g[name], p.grad)
    # A list of parameters and a state_dict are pytrees too.
    g_list = cr.grad(lambda ps: loss(dict(zip(params, ps))))(list(model.parameters()))
    assert isinstance(g_list, list) and len(g_list) == 4
    g_state = cr.grad(loss)(model.state_dict())
    assert list(g_state) == list(model.state_dict())


def test_vjp_and_jvp_with_pytrees():
    p = _params()
    out, vjp_fn = cr.vjp(lambda p: {"y": X @ p["w"], "s": [p["b"].sum()]}, p)
    assert set(out) == {"y", "s"} and isinstance(out["s"], list)
    (g,) = vjp_fn({"y": cr.ones((5, 2), dtype=cr.float64), "s": [cr.tensor(2.0, dtype=cr.float64)]})
    _close(g["w"], X.numpy().T @ np.ones((5, 2)))
    _close(g["b"], 2.0 * np.ones(2))
    _close(g["extra"][0], np.zeros(2))
    with pytest.raises(ValueError, match="the cotangent has structure"):
        vjp_fn({"y": cr.ones((5, 2), dtype=cr.float64)})
    tangent = cr.tree_map(cr.ones_like, p)
    value, t = cr.jvp(lambda p: {"y": X @ p["w"] + p["b"]}, (p,), (tangent,))
    _close(t["y"], X.numpy() @ np.ones((3, 2)) + 1.0)
    with pytest.raises(ValueError, match="tangent 0 has structure"):
        cr.jvp(lambda p: p["w"], (p,), ({"w": cr.ones((3, 2))},))


def test_vjp_of_a_tuple_result_accepts_separate_cotangents():
    x = _t(3)
    out, vjp_fn = cr.vjp(lambda x: (x * 2, x * 3), x)
    assert isinstance(out, tuple)
    one = cr.ones(3, dtype=cr.float64)
    _close(vjp_fn(one, one)[0], 5 * np.ones(3))
    _close(vjp_fn((one, None))[0], 2 * np.ones(3))
    _close(vjp_fn([one, one])[0], 5 * np.ones(3))


def test_jacobians_nest_outputs_then_inputs():
    p = {"w": _t(3, 2), "b": _t(2)}

    def f(p):
        return {"y": X @ p["w"] + p["b"], "n": (p["b"] ** 2).sum()}

    for transform in (cr.jacrev, cr.jacfwd, cr.jacobian):
        J = transform(f)(p)
        assert J["y"]["w"].shape == (5, 2, 3, 2) and J["y"]["b"].shape == (5, 2, 2)
        assert J["n"]["w"].shape == (3, 2) and J["n"]["b"].shape == (2,)
        _close(J["n"]["b"], 2 * p["b"].numpy())
        _close(J["y"]["b"], np.broadcast_to(np.eye(2), (5, 2, 2)))


def test_hessian_of_a_dict_is_a_dict_of_dicts_and_hvp():
    p = {"w": _t(3, 2), "b": _t(2)}
    H = cr.hessian(_loss_two)(p)
    assert H["w"]["b"].shape == (3, 2, 2) and H["b"]["w"].shape == (2, 3, 2)
    flat = cr.hessian(lambda w, b: _loss_two({"w": w, "b": b}), argnums=(0, 1))(p["w"], p["b"])
    for i, a in enumerate("wb"):
        for j, b in enumerate("wb"):
            _close(H[a][b], flat[i][j])
    v = {"w": _t(3, 2), "b": _t(2)}
    _, hv = cr.hvp(_loss_two, (p,), (v,))
    expected_b = (np.einsum("ij,j->i", flat[1][1].numpy(), v["b"].numpy())
                  + np.einsum("ijk,jk->i", flat[1][0].numpy(), v["w"].numpy()))
    _close(hv["b"], expected_b)


def _loss_two(p):
    return ((cr.tanh(X @ p["w"]) + p["b"]) ** 2).sum()


def test_checkpoint_with_pytrees():
    p = {"w": cr.tensor(RNG.standard_normal((3, 2)), requires_grad=True), "b": cr.tensor(RNG.standard_normal(2), requires_grad=True)}

    def block(p, x):
        return {"h": cr.tanh(x @ p["w"] + p["b"])}

    out = cr.checkpoint(block, p, X)
    assert set(out) == {"h"}
    out["h"].sum().backward()
    gw, gb = p["w"].grad, p["b"].grad
    p["w"].grad = p["b"].grad = None
    block(p, X)["h"].sum().backward()
    _close(gw, p["w"].grad)
    _close(gb, p["b"].grad)
    with pytest.raises(TypeError, match="checkpoint: leaf 0 of the arguments is"):
        cr.checkpoint(block, [object()], X)


def test_grad_matches_jax_on_a_pytree():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    p = _params()
    jp = cr.tree_map(lambda t: jnp.asarray(t.numpy()), p)

    def jloss(p, X, Y):
        pred = X @ p["w"] + p["b"] + p["extra"][0]
        return ((pred - Y) ** 2).mean()

    g = cr.grad(_loss)(p, X, Y)
    jg = jax.grad(jloss)(jp, jnp.asarray(X.numpy()), jnp.asarray(Y.numpy()))
    leaves, treedef = cr.tree_flatten(g)
    j_leaves, j_def = jax.tree_util.tree_flatten(jg)
    assert treedef.num_leaves == j_def.num_leaves
    for a, b in zip(leaves, j_leaves):
        _close(a, np.asarray(b))


def test_functional_call_makes_a_module_a_function_of_its_parameters():
    torch = pytest.importorskip("torch")
    model = cr.nn.Sequential(cr.nn.Linear(3, 5), cr.nn.Tanh(), cr.nn.Linear(5, 2)).double()
    params = {k: v.detach() for k, v in model.named_parameters()}
    X = cr.tensor(RNG.standard_normal((4, 3)))
    Y = cr.tensor(RNG.integers(0, 2, 4))
    F = cr.nn.functional

    def loss(p, x, y):
        return F.cross_entropy(cr.nn.functional_call(model, p, (x[None],)), y[None])

    per = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))(params, X, Y)
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()
    tparams = {k: torch.tensor(v.numpy()) for k, v in params.items()}
    tper = torch.func.vmap(torch.func.grad(lambda p, x, y: torch.nn.functional.cross_entropy(
        torch.func.functional_call(tmodel, p, (x[None],)), y[None])), in_dims=(None, 0, 0))(
        tparams, torch.tensor(X.numpy()), torch.tensor(Y.numpy()))
    for k in params:
        _close(per[k], tper[k].numpy())
    # the module's own parameters are back
    assert all(type(p).__name__ == "Parameter" for _, p in model.named_parameters())
    with pytest.raises(ValueError, match="not parameters or buffers"):
        cr.nn.functional_call(model, {"nope": X}, (X,))
    with pytest.raises(ValueError, match="strict=True"):
        cr.nn.functional_call(model, {"0.weight": params["0.weight"]}, (X,), strict=True)
