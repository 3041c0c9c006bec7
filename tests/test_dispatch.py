"""The one dispatch path (``Primitive.__call__``) and the one tensor constructor (``Tensor._make``):
every kind of operand through each of its cases, and the tensors it builds."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import dispatch as P
from chainrule.core.views import View

SLOTS = [name for name in cr.Tensor.__slots__ if name != "__weakref__"]
HISTORY = {"_node", "_requires_grad"}


def _slots(t):
    return {name: getattr(t, name) for name in SLOTS}  # an unset slot raises here


def _check_built_as_make(t):
    """``t`` has every slot, and those that are not its history as ``Tensor._make`` sets them
    (``record`` may start the version counter of an output its rules read; ``make_view`` gives a
    view its ViewInfo and its base's counter)."""
    got = _slots(t)
    made = _slots(cr.Tensor._make(t._data))
    assert got["_data"] is made["_data"]
    skip = set(HISTORY) | {"_data"}
    if t._node is not None:
        skip.add("_version")
    if isinstance(t, View):
        skip |= {"_base", "_version"}
    for name in SLOTS:
        if name not in skip:
            assert got[name] == made[name], name


def _x(requires_grad=False, dtype=np.float64):
    return cr.tensor(np.array([0.5, -1.0, 2.0], dtype=dtype), requires_grad=requires_grad)


# --- the tensors built ---------------------------------------------------------------------

@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("call", [
    lambda x: x * x,                     # two tensors
    lambda x: x * 2.0,                   # a tensor and a number
    lambda x: 3 - x,                     # a number and a tensor
    lambda x: x + np.ones(3),            # a tensor and an array
    lambda x: cr.exp(x),                 # one tensor
    lambda x: cr.sum(x, dim=0),          # keywords: the general case
    lambda x: x * np.float64(2.0),       # a NumPy scalar: the general case
    lambda x: x + [1.0, 2.0, 3.0],       # a list: the general case
    lambda x: cr.where(x > 0, x, 0.0),   # three operands: the general case
    lambda x: x[1:],                     # a view
], ids=["tt", "tn", "nt", "ta", "unary", "keywords", "np_scalar", "list", "three", "view"])
def test_results_have_the_slots_make_gives(call, requires_grad):
    out = call(_x(requires_grad))
    _check_built_as_make(out)
    assert out._requires_grad is (out._node is not None) is requires_grad
    with cr.no_grad():
        _check_built_as_make(call(_x(requires_grad)))


def test_constructors_have_every_slot():
    array = np.ones(2)
    for t in (cr.tensor(array), cr.Tensor(array, requires_grad=True), cr.Tensor._wrap(array),
              cr.Tensor._make(array), cr.from_numpy(array)):
        _check_built_as_make(t)
    x = _x(True)
    detached = x.detach()
    assert _slots(detached) == {**_slots(cr.Tensor._make(x._data)), "_version": x._version}
    t = cr.Tensor._from_node(array, "node", {1: "tangent"})
    assert _slots(t) == {**_slots(cr.Tensor._make(array)), "_data": array, "_node": "node",
                         "_requires_grad": True, "_tangents": {1: "tangent"}}
    t = cr.Tensor._make(array, True, "node", None)
    assert (t._requires_grad, t._node, t._tangents, t._grad, t._base) == (True, "node", None, None, None)


# --- every kind of operand -----------------------------------------------------------------

OPERANDS = {
    "tensor": lambda: cr.tensor(np.array([1.0, 2.0, 4.0])),
    "array": lambda: np.array([1.0, 2.0, 4.0]),
    "float": lambda: 2.5,
    "int": lambda: 3,
    "bool": lambda: True,
    "np_float64": lambda: np.float64(1.5),
    "np_int64": lambda: np.int64(2),
    "list": lambda: [1.0, 2.0, 4.0],
    "nested_list_0d": lambda: [[2.0]],
}


def _plain(v):
    if isinstance(v, cr.Tensor):
        return v.detach().numpy()
    if isinstance(v, np.generic):
        return v.item()  # as the path takes it (a weak Python scalar in promotion)
    return np.asarray(v) if isinstance(v, list) else v


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("kind", list(OPERANDS))
def test_every_operand_kind(kind, side):
    x = _x(True)
    other = OPERANDS[kind]()
    out = x * other if side == "left" else other * x
    expected = x.detach().numpy() * _plain(other)
    np.testing.assert_allclose(out.detach().numpy(), expected)
    assert out.dtype == expected.dtype
    out.sum().backward()
    gradient = np.broadcast_to(np.asarray(_plain(other), float), expected.shape).reshape(-1, 3).sum(0)
    np.testing.assert_allclose(x.grad.numpy(), gradient)


def test_float32_keeps_its_dtype_with_python_and_numpy_scalars():
    x = _x(dtype=np.float32)
    assert (x * 2.0).dtype == np.float32
    assert (x * np.float64(2.0)).dtype == np.float32  # a NumPy scalar is taken as a number


def test_one_tensor_of_integers_is_promoted():
    out = cr.exp(cr.tensor(np.array([1, 2])))
    assert out.dtype.kind == "f"
    np.testing.assert_allclose(out.numpy(), np.exp([1.0, 2.0]))


@pytest.mark.parametrize("args", [
    lambda x: (x, np.array(["2020-01-01"] * 3, dtype="datetime64[D]")),
    lambda x: (np.array(["2020-01-01"] * 3, dtype="datetime64[D]"), x),
    lambda x: (x, ["a", "b", "c"]),
    lambda x: (x, None),
    lambda x: (None, x),
    lambda x: (x, object()),
])
def test_refused_operands_name_the_operation(args):
    with pytest.raises(TypeError, match=r"^mul: "):
        cr.mul(*args(_x()))


# --- errors of the implementation ----------------------------------------------------------

def _failing(name):
    def impl(*datas, **params):
        raise ValueError("boom")
    return P.Primitive(name, impl, (None, None, None))


@pytest.mark.parametrize("args, params, described", [
    ((_x(),), {}, "shape (3,) float64"),
    ((_x(), 2.0), {}, "shape (3,) float64, float 2.0"),
    ((2, _x()), {}, "int 2, shape (3,) float64"),
    ((_x(), [1.0, 2.0]), {}, "shape (3,) float64, shape (2,) float64"),  # the list as converted
    ((_x(),), {"k": 1}, "shape (3,) float64"),
    ((_x(), _x(), _x()), {}, "shape (3,) float64, shape (3,) float64, shape (3,) float64"),
])
def test_implementation_errors_name_the_operation_and_inputs(args, params, described):
    with pytest.raises(ValueError) as info:
        _failing("failing_op")(*args, **params)
    assert str(info.value) == f"failing_op: boom (inputs: {described})"


def test_an_object_result_is_refused():
    prim = P.Primitive("objects", lambda x, k: np.array([None, 1], dtype=object))
    with pytest.raises(TypeError, match=r"^objects: got operands of types ndarray; pass tensors"):
        prim(_x(), k=1)


# --- batched values and forward mode -------------------------------------------------------

def _f(x):
    return cr.tanh(x * 1.5 + 0.5) * x - cr.exp(x) / 3.0


def _df(x):
    t = np.tanh(1.5 * x + 0.5)
    return (1 - t * t) * 1.5 * x + t - np.exp(x) / 3.0


@pytest.mark.parametrize("transform", [cr.jacrev, cr.jacfwd])
def test_batched_values_go_to_their_namespace(transform):
    x = np.array([0.3, -0.7, 1.1])
    np.testing.assert_allclose(transform(_f)(x).numpy(), np.diag(_df(x)), rtol=1e-12)


def test_forward_mode_tangents():
    x = np.array([0.3, -0.7, 1.1])
    v = np.array([1.0, 2.0, -1.0])
    value, tangent = cr.jvp(_f, (cr.tensor(x),), (cr.tensor(v),))
    np.testing.assert_allclose(tangent.numpy(), _df(x) * v, rtol=1e-12)


# --- a primitive with a residual ------------------------------------------------------------

def _residual_prim():
    calls = []

    def impl(x, scale=1.0):
        calls.append("impl")
        return x * x * scale

    def residual(x, scale=1.0):
        calls.append("residual")
        return x * x * scale, 2.0 * x * scale  # the output and d/dx, kept for the VJP

    def vjp(m, g, ans, x, scale=1.0):
        return g * (2.0 * scale * x if ans is None else ans)

    return P.Primitive("square_with_residual", impl, (vjp,), residual=residual), calls


@pytest.mark.parametrize("params", [{}, {"scale": 3.0}])
def test_a_residual_reaches_the_vjp(params):
    prim, calls = _residual_prim()
    x = _x(True)
    out = prim(x, **params)
    scale = params.get("scale", 1.0)
    np.testing.assert_allclose(out.detach().numpy(), x.detach().numpy() ** 2 * scale)
    np.testing.assert_allclose(out._node.ans, 2.0 * scale * x.detach().numpy())
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0 * scale * x.detach().numpy())
    # keywords: the general case computes the output and the residual at once
    assert calls == (["impl", "residual"] if not params else ["residual"])
    calls.clear()
    with cr.no_grad():
        prim(x, **params)
    assert calls == (["impl"] if not params else ["residual"])


# --- attach: an in-place change through a view, recorded by the one path --------------------

def test_in_place_through_a_view_records_copy_slices():
    x = _x(True)
    base = x * 1.0
    view = base[1:]
    view.mul_(3.0)
    assert base._node.prim is P.PRIMITIVES["copy_slices"]
    _check_built_as_make(base)
    base.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 3.0, 3.0])


def test_in_place_through_a_view_in_forward_mode():
    def f(x):
        base = x * 1.0
        base[1:] *= x[:2]
        return base

    x = np.array([0.5, -1.0, 2.0])
    v = np.array([1.0, 2.0, 3.0])
    value, tangent = cr.jvp(f, (cr.tensor(x),), (cr.tensor(v),))
    np.testing.assert_allclose(value.numpy(), [0.5, -0.5, -2.0])
    np.testing.assert_allclose(tangent.numpy(), [1.0, 2.0 * 0.5 + -1.0 * 1.0, 3.0 * -1.0 + 2.0 * 2.0])
