"""The public names of every operation come from its table entry (``ops/_table``), and nowhere else.

- Each declared name reaches the operation: ``cr.<name>``, ``cr.linalg.<name>``, the Tensor
  method, the Python operator, NumPy's ufunc or function, the ``explain`` template, the command
  line's expressions.
- Nothing serves an operation that its entry does not declare (the lists are built from the
  table), and a NumPy ufunc or function that shares an operation's name is served unless the
  difference is listed here with its reason: a forgotten declaration fails.
- An operation defined at run time reaches all of them, and leaves them when withdrawn.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import chainrule as cr
import chainrule.ops as ops
from chainrule.api import numpy_protocols as _interop
from chainrule.ops import _define as P
from chainrule.ops import _table
from chainrule.ops._table import OPERATIONS
from chainrule.tools import expr
from chainrule.tools import symbolic as _symbolic

OPS = sorted(OPERATIONS.values(), key=lambda op: op.name)

# NumPy names that an operation shares but deliberately does not serve.
NOT_SERVED = {
    "row_stack": "deprecated by NumPy 2, removed in 2.5 (np.vstack, which is served); cr.row_stack is PyTorch's alias",
}


def _unwrap(fn):
    return getattr(fn, "_operation", fn)


def _ufunc(name):
    """The ufunc a declaration names: NumPy's (``"exp"``) or another library's
    (``"scipy.special.expit"``; None without that library), which the protocol registers when
    one first reaches a tensor: registered here as that would."""
    module, _, attr = name.rpartition(".")
    if not module:
        return getattr(np, name)
    try:
        library = importlib.import_module(module)
    except ImportError:
        return None
    ufunc = getattr(library, attr)
    _interop._foreign_ufunc(ufunc)
    return ufunc


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_every_name_reaches_the_operation(op):
    home = getattr(cr, op.namespace) if op.namespace else cr  # cr.linalg, cr.special, cr.fft
    for name in op.names:
        short = name.rpartition(".")[2]
        assert getattr(home, short) is op.function, f"{name} is not exported"
        if not op.namespace:
            assert getattr(ops, short) is op.function and short in ops.__all__
        if op.method:
            assert _unwrap(getattr(cr.Tensor, short)) is op.function, f"Tensor.{short}"
        else:
            method = cr.Tensor.__dict__.get(short)
            assert method is None or _unwrap(method) is not op.function, f"Tensor.{short} not declared"


@pytest.mark.parametrize("op", [op for op in OPS if op.operator], ids=lambda op: op.name)
def test_operators(op):
    from chainrule.api.methods import _PROTOCOL

    stem, reflected, inplace = _PROTOCOL[op.operator]
    assert _unwrap(cr.Tensor.__dict__[f"__{stem}__"]) is op.function
    if reflected:
        assert f"__r{stem}__" in cr.Tensor.__dict__
    x = cr.tensor([0.5, 2.0], requires_grad=True)
    y = cr.tensor([1.5, -1.0])
    args = (x,) if reflected is None else (x, y)
    dunder = getattr(cr.Tensor, f"__{stem}__")
    np.testing.assert_array_equal(dunder(*args).detach().numpy(), op.function(*args).detach().numpy())


@pytest.mark.parametrize("op", [op for op in OPS if op.ufunc], ids=lambda op: op.name)
def test_declared_ufuncs_are_served(op):
    for name in op.ufunc:
        ufunc = _ufunc(name)
        if ufunc is None:
            continue
        assert _unwrap(_interop._UFUNCS[ufunc]) is op.function
        assert (ufunc in _interop._NONDIFFERENTIABLE) == (
            isinstance(op.function, P.Primitive) and not op.function.differentiable)


@pytest.mark.parametrize("op", [op for op in OPS if op.numpy], ids=lambda op: op.name)
def test_declared_numpy_functions_are_served(op):
    for name in op.numpy:
        target = np
        for part in name.split("."):
            target = getattr(target, part)
        assert _interop._FUNCTIONS[target] is _interop._SIGNATURES.get(name, op.function)


def test_every_numpy_signature_belongs_to_a_declared_operation():
    declared = {name for op in OPS for name in op.numpy}
    assert set(_interop._SIGNATURES) <= declared, set(_interop._SIGNATURES) - declared


def test_nothing_serves_an_undeclared_ufunc():
    declared = {_ufunc(name) for op in OPS for name in op.ufunc} - {None}
    assert set(_interop._UFUNCS) == declared


def test_numpy_names_shared_with_an_operation_are_served():
    """``np.<name>`` for an operation's name is served, or listed in NOT_SERVED with its reason."""
    served = set(_interop._UFUNCS) | set(_interop._FUNCTIONS)
    missing = []
    for op in OPS:
        for name in op.names:
            base, short = (np.linalg, name[7:]) if name.startswith("linalg.") else (np, name)
            target = getattr(base, short, None)
            if callable(target) and target not in served and short not in NOT_SERVED:
                missing.append(name)
    assert not missing, f"declare ufunc= or numpy= in these entries (or list why not): {missing}"
    stale = [name for name in NOT_SERVED if getattr(np, name, None) in served]  # np.row_stack: gone in NumPy 2.5
    assert not stale, f"served now; remove from NOT_SERVED: {stale}"


@pytest.mark.parametrize("op", [op for op in OPS if op.cli is not None], ids=lambda op: op.name)
def test_cli_names(op):
    for name in (*op.names, *op.cli_names):
        assert expr.FUNCTIONS[name] == (op.function, op.cli)


def test_cli_names_are_all_declared():
    declared = {name for op in OPS if op.cli is not None for name in (*op.names, *op.cli_names)}
    assert set(expr.FUNCTIONS) == declared


def test_templates_belong_to_primitives():
    assert set(_table.TEMPLATES) <= set(P.PRIMITIVES)


def test_a_name_cannot_be_taken_twice():
    with pytest.raises(ValueError, match="already belong"):
        _table.publish(lambda x: x, "exp")
    with pytest.raises(TypeError, match="unknown keyword"):
        _table.publish(lambda x: x, "brand_new_name", methods=True)


def test_a_method_cannot_replace_a_tensor_attribute():
    with pytest.raises(ValueError, match="Tensor already has an attribute 'backward'"):
        _table.publish(lambda x: x, "backward", method=True)
    assert "backward" not in OPERATIONS and not hasattr(cr, "backward")
    assert cr.Tensor.backward.__name__ == "backward"


# ---------------------------------------------------------------------------------------------
# An operation added at run time reaches every list
# ---------------------------------------------------------------------------------------------

def _logaddexp2_impl(x, y):
    return np.logaddexp2(x, y)


def _logaddexp2_partial(which):
    def partial(m, ans, x, y):
        return 2.0 ** ((x if which == 0 else y) - ans)

    return partial


def _set_aside(name):
    """Withdraw the table's own operation ``name`` (primitive and public names); returns the
    function that puts that very primitive back."""
    from chainrule.core.dispatch import _RAW_BY_SPACE, raw, traced

    prim, op, template, impl = P.PRIMITIVES[name], OPERATIONS[name], _table.TEMPLATES.get(name), getattr(raw, name)
    P.undefine(name)

    def restore():
        P.PRIMITIVES[name] = prim
        _RAW_BY_SPACE.clear()
        setattr(raw, name, impl)
        setattr(traced, name, prim)
        if template is not None:
            _table.TEMPLATES[name] = template
        _table.publish(prim, name, aliases=op.aliases, method=op.method, operator=op.operator,
                       ufunc=op.ufunc or None, numpy=op.numpy or None, cli=op.cli,
                       cli_names=op.cli_names, reduce=op.reduce, accumulate=op.accumulate)

    return restore


@pytest.fixture
def logaddexp2():
    # The table has its own logaddexp2 (ops/ufuncs): set aside while the test defines one.
    restore = _set_aside("logaddexp2")
    try:
        prim = P.binary("logaddexp2", _logaddexp2_impl, (_logaddexp2_partial(0), _logaddexp2_partial(1)),
                        uses="xy,ans", ufunc="logaddexp2", method=True, cli=2, aliases=("lae2",))
        try:
            yield prim
        finally:
            P.undefine("logaddexp2")
    finally:
        restore()


def test_an_operation_added_at_run_time_is_everywhere(logaddexp2):
    x = cr.tensor([0.5, -1.0, 2.0], dtype=cr.float64, requires_grad=True)
    y = cr.tensor([1.0, 0.25, -3.0], dtype=cr.float64, requires_grad=True)
    expected = np.logaddexp2(x.detach().numpy(), y.detach().numpy())
    # function, alias, method, NumPy's ufunc: the same value and gradients
    for call in (cr.logaddexp2, cr.lae2, ops.logaddexp2, lambda a, b: a.logaddexp2(b),
                 lambda a, b: a.lae2(b), np.logaddexp2):
        x.grad = y.grad = None
        out = call(x, y)
        assert isinstance(out, cr.Tensor) and out.requires_grad
        np.testing.assert_allclose(out.detach().numpy(), expected)
        out.sum().backward()
        wx = 2.0 ** (x.detach().numpy() - expected)
        np.testing.assert_allclose(x.grad.numpy(), wx)
        np.testing.assert_allclose(y.grad.numpy(), 1.0 - wx)
    # the command line's expressions
    value = expr.Expression("logaddexp2(a, b) + lae2(b, a)", ("a", "b"))(a=cr.tensor(1.0), b=cr.tensor(2.0))
    np.testing.assert_allclose(float(value), 2 * np.logaddexp2(1.0, 2.0))
    # explain writes it as NumPy code
    assert _symbolic.template_of("logaddexp2").render(["a", "b"], {}, []) == "np.logaddexp2(a, b)"
    # the type stubs list it
    from chainrule.tools import stubs

    assert "def logaddexp2(" in stubs.functions_stub() and "def logaddexp2(" in stubs.methods_stub()


def test_a_withdrawn_operation_is_nowhere(logaddexp2):
    P.undefine("logaddexp2")
    try:
        for where in (cr, ops, cr.Tensor):
            assert not hasattr(where, "logaddexp2") and not hasattr(where, "lae2")
        assert np.logaddexp2 not in _interop._UFUNCS
        assert "logaddexp2" not in expr.FUNCTIONS and "logaddexp2" not in _table.TEMPLATES
        with pytest.raises(TypeError, match="numpy.logaddexp2 is not supported"):
            np.logaddexp2(cr.tensor([1.0]), cr.tensor([2.0]))
    finally:
        P.binary("logaddexp2", _logaddexp2_impl, (_logaddexp2_partial(0), _logaddexp2_partial(1)),
                 uses="xy,ans", ufunc="logaddexp2", method=True, cli=2, aliases=("lae2",))


def test_type_stubs_match_the_table():
    """``ops/_api.pyi`` and ``_tensor_api.pyi`` are generated: regenerate them after changing an
    entry (``python -m chainrule.tools.stubs``)."""
    from chainrule.tools import stubs

    assert stubs.FUNCTIONS_PATH.read_text() == stubs.functions_stub()
    assert stubs.METHODS_PATH.read_text() == stubs.methods_stub()
