"""The narrow array layer, proved: the engine and the table run unchanged on arrays that are not
NumPy's, and nothing outside ``core/backend`` and the table's forwards calls NumPy.

1. Every op_db entry whose primitives all have a forward written against the array API standard
   (``Primitive.xp``: derived from the table, not listed here) runs on ``array_api_strict``
   arrays held on a second device: forward values, reverse-mode gradients (``backward`` into
   ``.grad``) and forward-mode tangents equal those of the same program on NumPy arrays. The
   strict namespace has nothing beyond the standard, and its arrays on that device refuse to
   become NumPy arrays (``np.asarray``, any NumPy function): a forward, a rule or an engine step
   still reaching for NumPy fails here.
2. An AST scan of ``src/chainrule``: no ``np.``/``numpy.`` attribute outside ``core/backend``, the
   table's forward implementations and a short allow-list of modules outside the engine and the
   table, each with its reason.
"""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest
from op_db import ENTRIES, NONDIFFERENTIABLE

import chainrule as cr
from chainrule.ops import PRIMITIVES

xp = pytest.importorskip("array_api_strict")

DEVICE = xp.Device("device1")  # its arrays cannot be converted to NumPy arrays
CPU = xp.Device("CPU_DEVICE")

# op_db entries left out although their primitives have standard forwards, with the reason.
EXCLUDED = {
    "np.": "a NumPy function applied to a tensor: NumPy's own dispatch protocols",
    "add_ndarray_right": "a NumPy array operand: another namespace than the tensor's",
    "add_ndarray_left": "a NumPy array operand: another namespace than the tensor's",
    "mul_ndarray_right": "a NumPy array operand: another namespace than the tensor's",
    "mul_ndarray_left": "a NumPy array operand: another namespace than the tensor's",
    "np.ones*t": "a NumPy array operand: another namespace than the tensor's",
    "t*np.ones": "a NumPy array operand: another namespace than the tensor's",
    "dropout_train": "its mask comes from NumPy's random generator (cr.manual_seed)",
    "getitem_tensor_index": "advanced indexing with index tensors held as NumPy arrays",
    "index_select": "advanced indexing with index tensors held as NumPy arrays",
    "complex.": "complex numbers are NumPy's only for now (the standard's forwards refuse them)",
}
# Samples whose index is a NumPy integer array or list (advanced indexing, NumPy's only here).
ADVANCED_INDEX_SAMPLES = {"list_repeated", "two_arrays", "array_slice", "mixed"}


def _excluded(name: str) -> bool:
    return any(name == key or (key.endswith(".") and name.startswith(key)) for key in EXCLUDED)


def _standard(entry) -> bool:
    """Whether every primitive the entry reaches has a forward against the standard."""
    return all(PRIMITIVES[name].xp is not None for name in entry.covers)


def _numpy_only(sample) -> bool:
    """NumPy data in keywords (index arrays, constant tensors) belongs to another namespace than
    the strict operands; advanced indexing is NumPy's (the standard has basic indexing and only a
    subset of integer-array indexing)."""
    return sample.label.rsplit("-", 1)[-1] in ADVANCED_INDEX_SAMPLES or any(
        isinstance(v, (np.ndarray, cr.Tensor)) for v in sample.kwargs.values())


def _complex(sample) -> bool:
    """Complex data: complex numbers are NumPy's only for now (the standard's forwards refuse them)."""
    return any(isinstance(a, np.ndarray) and a.dtype.kind == "c" for a in sample.args)


CASES = [(e, s) for e in ENTRIES if _standard(e) and not _excluded(e.name) for s in e.samples
         if not _numpy_only(s) and not _complex(s)]
IDS = [f"{e.name}-{s.label}" for e, s in CASES]


def test_the_sweep_covers_the_standard_operations():
    """The declared standard set is large, and each primitive with a standard forward is reached."""
    with_xp = {name for name, p in PRIMITIVES.items() if p.xp is not None}
    assert len(with_xp) >= 60, sorted(with_xp)
    reached = {name for e, _ in CASES for name in e.covers}
    nondifferentiable = {name for name in NONDIFFERENTIABLE if name in with_xp}
    missing = with_xp - reached - nondifferentiable
    assert not missing, f"primitives with a standard forward that no op_db entry runs here: {sorted(missing)}"
    for name in ("add", "mul", "div", "pow", "exp", "tanh", "sum", "mean", "prod", "amax", "matmul",
                 "reshape", "permute", "broadcast_to", "cat", "flip", "getitem", "where", "cumsum"):
        assert name in with_xp, name


def _strict(a):
    return xp.asarray(a, device=DEVICE)


def _back(v):
    """A strict array as a NumPy array (moved to the CPU device first), anything else as is."""
    if isinstance(v, cr.Tensor):
        v = v._data
    if hasattr(v, "__array_namespace__") and not isinstance(v, (np.ndarray, np.generic)):
        assert v.__array_namespace__() is xp, type(v)
        assert v.device == DEVICE, "a result left the device of its inputs"
        return np.asarray(v.to_device(CPU))
    return np.asarray(v)


def _tensors(sample, strict: bool):
    out = []
    for a in sample.args:
        if isinstance(a, np.ndarray):
            data = _strict(a.copy()) if strict else a.copy()
            out.append(cr.tensor(data, requires_grad=a.dtype == np.float64))
        else:
            out.append(a)
    return out


def _outputs(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _run(entry, sample, strict: bool):
    """Forward, then backward of a weighted sum of the float outputs: (outputs, gradients)."""
    tensors = _tensors(sample, strict)
    outputs = _outputs(entry.call(sample, tensors))
    rng = np.random.default_rng(0)
    loss = None
    for o in outputs:
        if isinstance(o, cr.Tensor) and o.requires_grad:
            w = rng.uniform(0.5, 1.5, size=o.shape)
            w = cr.tensor(_strict(w) if strict else w, dtype=cr.float64 if not strict else None)
            term = (o * w).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()
    grads = [t.grad for t in tensors if isinstance(t, cr.Tensor) and t.requires_grad]
    return outputs, grads


@pytest.mark.parametrize(("entry", "sample"), CASES, ids=IDS)
def test_same_program_on_strict_arrays(entry, sample):
    with np.errstate(all="ignore"):
        expected, expected_grads = _run(entry, sample, strict=False)
    got, got_grads = _run(entry, sample, strict=True)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        if isinstance(e, cr.Tensor):
            assert isinstance(g, cr.Tensor)
            assert g.shape == e.shape
            np.testing.assert_allclose(_back(g), np.asarray(e._data), rtol=1e-12, atol=1e-12)
            assert str(g.dtype).rsplit(".", 1)[-1] == e.dtype.name, (g.dtype, e.dtype)
    for g, e in zip(got_grads, expected_grads):
        if e is None:
            assert g is None
            continue
        assert g is not None and not isinstance(g._data, (np.ndarray, np.generic))
        np.testing.assert_allclose(_back(g), e.numpy(), rtol=1e-10, atol=1e-12)


def _first_float_output(entry, sample, tensors):
    outputs = [o for o in _outputs(entry.call(sample, tensors)) if isinstance(o, cr.Tensor)]
    return outputs[0]


FORWARD_CASES = [(e, s) for e, s in CASES if s.differentiable and not e.internal][::3]


@pytest.mark.parametrize(("entry", "sample"), FORWARD_CASES, ids=[f"{e.name}-{s.label}" for e, s in FORWARD_CASES])
def test_forward_mode_on_strict_arrays(entry, sample):
    """``cr.jvp`` on strict arrays gives NumPy's tangent (every third case: forward mode runs the
    same rules through the tensor namespace, which the reverse sweep already exercises)."""
    results = []
    for strict in (False, True):
        tensors = _tensors(sample, strict)
        position = sample.differentiable[0]
        primal = tensors[position].detach()
        tangent = np.random.default_rng(1).uniform(-1, 1, size=primal.shape)
        tangent = cr.tensor(_strict(tangent) if strict else tangent, dtype=None if strict else cr.float64)

        def f(x, tensors=tensors, position=position):
            args = list(tensors)
            args[position] = x
            return _first_float_output(entry, sample, [a.detach() if isinstance(a, cr.Tensor) and a is not x
                                                       else a for a in args])

        with np.errstate(all="ignore"):
            results.append(cr.jvp(f, (primal,), (tangent,)))
    (value, tangent), (strict_value, strict_tangent) = results
    np.testing.assert_allclose(_back(strict_value), np.asarray(value._data), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_back(strict_tangent), np.asarray(tangent._data), rtol=1e-10, atol=1e-12)


STANDARD_NONDIFFERENTIABLE = sorted(name for name in NONDIFFERENTIABLE if PRIMITIVES[name].xp is not None)


@pytest.mark.parametrize("name", STANDARD_NONDIFFERENTIABLE)
def test_nondifferentiable_operations_on_strict_arrays(name):
    """Comparisons, masks and arg-extrema give NumPy's values on strict arrays."""
    call, _, arrays = NONDIFFERENTIABLE[name]
    if name == "zeros_like":  # called through NumPy's own function: use the table's
        call = PRIMITIVES["zeros_like"]
    with np.errstate(invalid="ignore"):
        expected = call(*[cr.tensor(a) for a in arrays])
    got = call(*[cr.tensor(_strict(a)) for a in arrays])
    np.testing.assert_array_equal(_back(got), np.asarray(expected._data))


def test_numpy_only_operations_refuse_strict_arrays_by_name():
    """A primitive without a standard forward names itself instead of converting silently."""
    x = cr.tensor(_strict(np.ones((2, 2))))
    with pytest.raises(TypeError, match="not available for arrays of array_api_strict"):
        cr.softmax(x, dim=0)


def test_dtypes_follow_pytorch_on_strict_arrays():
    """Promotion is decided once (``core.backend``), so the strict path gives PyTorch's dtypes too."""
    ints = cr.tensor(_strict(np.arange(3)))
    assert str(cr.exp(ints).dtype).endswith("float32")  # the default float dtype
    assert str((ints / 2).dtype).endswith("float32")
    assert str((ints * 1.5).dtype).endswith("float32")
    assert str((ints + 1).dtype).endswith("int64")
    f32 = cr.tensor(_strict(np.ones(3, dtype=np.float32)))
    assert str((f32 * ints).dtype).endswith("float32")
    assert str(cr.sum(cr.tensor(_strict(np.array([True, False, True])))).dtype).endswith("int64")


# ---------------------------------------------------------------------------------------------
# No NumPy outside the backend and the table's forwards
# ---------------------------------------------------------------------------------------------

SRC = pathlib.Path(cr.__file__).parent

# Modules outside the engine and the operation table that use NumPy directly, with the reason.
ALLOWED_MODULES = {
    "core/backend.py": "the array layer itself",
    "core/dtypes.py": "the library's dtypes are NumPy's (SPEC §1)",
    "core/creation.py": "creation from user data and NumPy's random generator (cr.tensor, randn, ...)",
    "core/tensor.py": "conversions to and from NumPy that the SPEC defines (.numpy(), np.asarray(t), repr)",
    "core/format.py": "printing tensors (repr)",
    "api/": "NumPy's dispatch protocols (__array_ufunc__, __array_function__) and the Tensor "
            "methods that convert (tolist, bitwise operators on NumPy's bool and int arrays)",
    "serialization.py": "saving and loading NumPy arrays",
    "numerical.py": "finite differences on NumPy copies (a checking tool)",
    "autograd/gradcheck.py": "numerical checking on NumPy copies",
    "autograd/core.py": "the user-facing backward/grad surface: gradients given as NumPy data",
    "autograd/function.py": "custom Functions written by users in NumPy",
    "autograd/checkpoint.py": "the arguments a checkpointed function is given (NumPy numbers)",
    "transforms/": "transform wrappers: user data in, NumPy results out; Jacobian assembly",
    "_typing.py": "type aliases naming NumPy types",
    "ops/_template.py": "prints NumPy code for explain/jit (the text is NumPy)",
    "ops/_table.py": "the names the table serves as NumPy functions",
    "ops/inplace.py": "in-place writes follow NumPy's memory model (overlap, copyto)",
    "nn/": "modules and initialisers: users of the API",
    "optim/": "optimizers: users of the API",
    "tools/": "tools read graphs and print NumPy code (viz, explain, plot, cli, demo)",
    "compile/": "cr.jit generates and runs NumPy code (NumPy arrays only: other namespaces run eagerly)",
}
# Table modules: NumPy only inside forward implementations.
TABLE_MODULES = tuple(f"ops/{p.name}" for p in sorted((SRC / "ops").glob("*.py"))
                      if not p.name.startswith("_") and f"ops/{p.name}" not in ALLOWED_MODULES)
TABLE_CONSTRUCTORS = {"define", "elementwise", "binary", "linear", "nondifferentiable", "_step", "_extremum"}
# The arguments of a table constructor that are forwards (the implementation, the forward that
# also returns the VJP's intermediate, the forward against the array API standard); all others
# are rules or options.
FORWARD_KEYWORDS = ("impl", "residual", "xp")


def _allowed(relative: str) -> bool:
    return any(relative == key or (key.endswith("/") and relative.startswith(key)) for key in ALLOWED_MODULES)


def _numpy_uses(node) -> list[ast.AST]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
            and n.value.id in ("np", "numpy")]


def forward_implementations(tree: ast.Module) -> tuple[set[str], list[ast.AST]]:
    """What "the table's forward implementations" are, in code: the expression given as a table
    entry's implementation (the second positional argument, or ``impl=``/``residual=``, of a call
    to a table constructor), and the module-level functions those name or call, transitively,
    unless a rule (any other argument of a table constructor) names them too. Returns the names
    of those functions and the implementation expressions."""
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    impl_exprs, rule_names = [], set()
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in TABLE_CONSTRUCTORS):
            continue
        forwards = call.args[1:2] + [k.value for k in call.keywords if k.arg in FORWARD_KEYWORDS]
        impl_exprs += forwards
        for other in call.args[2:] + [k.value for k in call.keywords if k.arg not in FORWARD_KEYWORDS]:
            rule_names |= {n.id for n in ast.walk(other) if isinstance(n, ast.Name)}
    # Module-level values (``_cumsum_impl = _cumulative_impl("cumsum", np.cumsum)``) named as
    # implementations are forwards too, and so are those only forwards use.
    values = {t.id: n.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
              if isinstance(t, ast.Name)}
    named = {n.id for e in impl_exprs for n in ast.walk(e) if isinstance(n, ast.Name)}
    impl_exprs += [values[name] for name in named if name in values]
    # Functions a rule reaches: never forward implementations.
    in_rules, todo = set(), [n for n in rule_names if n in functions]
    while todo:
        name = todo.pop()
        if name in in_rules:
            continue
        in_rules.add(name)
        todo += [n.id for n in ast.walk(functions[name]) if isinstance(n, ast.Name) and n.id in functions]
    forwards, todo = set(), [n.id for e in impl_exprs for n in ast.walk(e) if isinstance(n, ast.Name)]
    while todo:
        name = todo.pop()
        if name in forwards or name not in functions or name in in_rules:
            continue
        forwards.add(name)
        todo += [n.id for n in ast.walk(functions[name]) if isinstance(n, ast.Name)]
    return forwards, impl_exprs


def _violations(relative: str, source: str) -> list[str]:
    tree = ast.parse(source)
    allowed_nodes: set[int] = set()
    if relative in TABLE_MODULES:
        forwards, impl_exprs = forward_implementations(tree)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in forwards:
                allowed_nodes |= {id(n) for n in _numpy_uses(node)}
        for expr in impl_exprs:
            allowed_nodes |= {id(n) for n in _numpy_uses(expr)}
        # Module constants are part of them when only forwards read them (``_erf_scalar``), and
        # so are NumPy's dtype singletons (``_f32 = np.dtype(np.float32)``).
        inside = {id(n) for f in tree.body if isinstance(f, ast.FunctionDef) and f.name in forwards
                  for n in ast.walk(f)} | {id(n) for e in impl_exprs for n in ast.walk(e)}
        for node in tree.body:
            if not isinstance(node, ast.Assign):
                continue
            targets = {t.id for t in node.targets if isinstance(t, ast.Name)}
            readers = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in targets
                       and isinstance(n.ctx, ast.Load)]
            if _is_dtype_constant(node) or readers and all(id(n) in inside for n in readers):
                allowed_nodes |= {id(n) for n in _numpy_uses(node)}
    return [f"{relative}:{n.lineno}: {ast.unparse(n)}" for n in _numpy_uses(tree) if id(n) not in allowed_nodes]


def _is_dtype_constant(node: ast.Assign) -> bool:
    """``_f32 = np.dtype(np.float32)`` and the like."""
    value = node.value
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "dtype"


def test_no_numpy_outside_the_backend_and_the_forwards():
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if _allowed(relative):
            continue
        problems += _violations(relative, path.read_text())
    assert not problems, "NumPy used outside core/backend and the table's forwards:\n" + "\n".join(problems)


def test_the_scan_catches_numpy_in_a_rule():
    """The scan is honest: ``np.exp`` inside a rule, or in a helper a rule calls, is found."""
    source = (SRC / "ops/elementwise.py").read_text()
    assert not _violations("ops/elementwise.py", source)
    planted = source.replace("lambda m, ans, x: m.cos(x)", "lambda m, ans, x: np.cos(x)")
    assert planted != source
    assert any("np.cos" in v for v in _violations("ops/elementwise.py", planted))
    source = (SRC / "ops/piecewise.py").read_text()
    helper = source.replace("def _clamp_tensor_masks(m, x, low, high):\n",
                            "def _clamp_tensor_masks(m, x, low, high):\n    np.seterr()\n")
    assert helper != source and any("np.seterr" in v for v in _violations("ops/piecewise.py", helper))
    forward = source.replace("def _clamp_tensor_impl(x, low, high):\n",
                             "def _clamp_tensor_impl(x, low, high):\n    np.seterr()\n")
    assert forward != source and not _violations("ops/piecewise.py", forward)
