"""Randomised differential testing: random small programs, run on chainrule and on an oracle.

The programs (``tests/_programs.py``) are what a user types: float64 leaves of small shapes,
elementwise operations, reductions, views (basic indexing, ``T``, ``transpose``, ``permute``,
``reshape``/``view``, ``flatten``, ``(un)squeeze``, ``expand``, ``narrow``, ``split``/``chunk``/
``unbind``, ``diagonal``, ``detach``), copies (``flip``, advanced and boolean indexing,
``clone``), in-place updates of any live value (``add_ … copy_``, ``t[idx] = v``, ``+=``, inside
``no_grad`` or not), hooks, ``retain_grad``, a loss, then ``backward()`` / ``backward(v)`` /
``retain_graph`` and a second backward (with in-place updates between) /
``autograd.grad(create_graph=True)`` and a second derivative.

* With PyTorch: same outcome ("same numbers, or both raise") for every live tensor's value,
  ``.grad``, ``requires_grad`` and ``is_leaf``; a chainrule error where torch has none is a
  "spurious error", no error where torch raises a "missing error".
* Without PyTorch: forward values against a NumPy model of PyTorch's view semantics, and
  gradients against float64 central differences of the program as a function of its leaves
  (for programs without ``detach``/``no_grad``/scaling hooks, whose gradients are derivatives).
* Functional transforms: random compositions of ``grad/vjp/jvp/jacrev/jacfwd/hessian/hvp`` over
  random function bodies, against ``torch.func`` and against central differences of the level
  below.

Every chainrule exception must be a chainrule error naming the operation, not a bare NumPy or
Python one ("raw traceback").  A failing example is shrunk to a minimal program printed as the
Python a user would type.

Default runs are small and deterministic (Hypothesis, derandomized, no database).
``CHAINRULE_SOAK=N python -m pytest tests/test_differential.py -m soak -s`` (or
``python tests/_programs.py N [seed]``) runs N programs of each generator through a seeded
loop and prints a summary line and a shrunk repro for each failure class
(``CHAINRULE_SOAK_REPORT=path`` also writes the report to a file).
"""

from __future__ import annotations

import os

import pytest

hypothesis = pytest.importorskip("hypothesis")

import _programs as P  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

import chainrule as cr  # noqa: E402


def _settings(n):
    return settings(max_examples=n, derandomize=True, database=None, deadline=None,
                    phases=[Phase.explicit, Phase.generate], print_blob=False,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def with_torch():
    pytest.importorskip("torch")
    return P.backends()


TORCH_FREE = {"chainrule": cr}


def _fail(failures, mods):
    """Shrink the first failure and fail with its repro (the others are listed by signature)."""
    first = failures[0]
    try:
        small = (P.shrink_transform_failure(first, mods) if isinstance(first.program, P.TProgram)
                 else P.shrink_failure(first, mods))
    except Exception:  # noqa: BLE001 - an unshrunk repro is still a repro
        small = first
    others = "".join(f"\n  also: {f.signature}" for f in failures[1:])
    pytest.fail(P.format_any(small) + others, pytrace=False)


# --- chainrule against PyTorch ---------------------------------------------------------------

@pytest.mark.parametrize("profile, n", [("basic", 60), ("views", 80), ("inplace", 80), ("full", 120)])
def test_programs_match_torch(with_torch, profile, n):
    @_settings(n)
    @given(P.programs(profile))
    def check(program):
        failures = P.failures_only(P.check_program(program, with_torch, numeric=False))
        if failures:
            _fail(failures, with_torch)

    check()


def test_transforms_match_torch(with_torch):
    @_settings(60)
    @given(P.transform_programs())
    def check(tp):
        failures = P.failures_only(P.check_transform(tp, with_torch))
        if failures:
            _fail(failures, with_torch)

    check()


# --- torch-free: NumPy's view semantics and central differences ------------------------------

def test_programs_match_numpy_and_central_differences():
    @_settings(100)
    @given(P.programs("numeric"))
    def check(program):
        failures = P.check_program(program, TORCH_FREE)
        if failures:
            _fail(failures, TORCH_FREE)

    check()


def test_transforms_match_central_differences():
    @_settings(60)
    @given(P.transform_programs())
    def check(tp):
        failures = P.check_transform(tp, TORCH_FREE)
        if failures:
            _fail(failures, TORCH_FREE)

    check()


def test_harness_model_matches_torch(with_torch):
    """The NumPy model's forward values equal PyTorch's (else the torch-free checks lie)."""
    for seed in range(40):
        program = P.generate(P.RandomDraw(seed), "full")
        bad = [f for f in P.check_program(program, with_torch, numeric=False) if f.kind == "harness"]
        assert not bad, P.format_any(bad[0])


# --- shrunk repros found by the soak --------------------------------------------------------

REPROS = {
    # --- found by the soak, fixed since: kept as regressions -----------------------------------
    "fill_ keeps history (requires_grad)": """
x0 = cr.tensor([-1.5, 2.0, 2.0, 0.5], dtype=cr.float64, requires_grad=True)
t2 = x0.chunk(2, 0)[1]
t4 = cr.sin(t2)
t4.fill_(2.0)
""",
    "zero_ keeps history (retain_grad allowed)": """
x1 = cr.tensor([[[0.5, 1.0]], [[0.5, 1.0]]], dtype=cr.float64, requires_grad=True)
t1 = x1 * x1
t1.zero_()
t1.retain_grad()
""",
    "pow does not need its output for the base's gradient": """
x0 = cr.tensor([1.0, 0.5, -2.0, 0.5], dtype=cr.float64, requires_grad=True)
t1 = x0 ** 2
t3 = t1 + x0
t1[[1, 0]] = -0.75
t4 = t3[None]
loss = 0.0
loss = loss + t4.sum()
loss.backward()
""",
    "t[None] = v: leaf gradient keeps the leaf's shape": """
x0 = cr.tensor([-1.0, 0.5, 0.5, -0.5], dtype=cr.float64, requires_grad=True)
t1 = x0 * x0.sin()
t1[None] = x0
loss = 0.0
loss = loss + (t1 * 1.5).cos().sum()
loss.backward()
""",
    "t[None] = v of a constant, then a second-order backward": """
x0 = cr.tensor([-1.0, 1.5, 0.5, -0.5], dtype=cr.float64, requires_grad=True)
c1 = cr.tensor([0.5, -1.0, -0.5, 0.5], dtype=cr.float64)
c1[None] = x0.sin()
loss = 0.0
loss = loss + (c1 * 1.5).cos().sum()
loss = loss + (x0 * x0).sum()
g0, = cr.autograd.grad(loss, [x0], create_graph=True, allow_unused=True)
gg = loss * 0.0
gg = gg + (g0 * g0.tanh()).sum() if g0 is not None else gg
gg.backward()
""",
    "t[None] = v after transposes and advanced indexing": """
x0 = cr.tensor([[1.5, 0.5, -2.0], [-2.0, 0.5, -1.0]], dtype=cr.float64, requires_grad=True)
t1 = x0.T
t2 = (t1 * 0.5).exp()
t3 = t1[[0, 1], [1, 0]]
t4 = t2 / (t3.tanh() + 2.0)
t4[None] = t2
loss = 0.0
loss = loss + t4.tanh().sum()
loss.backward(retain_graph=True)
""",
    "split output used after its base was modified in place": """
x0 = cr.tensor([[[-1.0, -2.0], [-1.5, 1.5], [0.5, -0.5]], [[-1.5, 0.5], [1.5, -0.5], [-2.0, 1.0]]], dtype=cr.float64, requires_grad=True)
t1 = x0.flip(0)
t4, t5, t6 = t1.split(1, 1)
t1[:, 1] = 0.5
t8 = t5.unsqueeze(1)
""",
    "zero_ of a NaN gives 0": """
x1 = cr.tensor([[-0.5], [0.5], [0.5]], dtype=cr.float64, requires_grad=True)
t1 = x1.diagonal(1)
t7 = t1.mean(0)
t7.zero_()
""",
    "copy_ over a sum: the other leaf's gradient is zeros, not None": """
x0 = cr.tensor([-1.5, 0.5, 1.5, 0.5], dtype=cr.float64, requires_grad=True)
x2 = cr.tensor(-1.0, dtype=cr.float64, requires_grad=True)
t1 = x0 + x2
t1.copy_(x2)
loss = 0.0
loss = loss + t1.sum()
loss.backward()
""",
    "in-place write overlapping its own operand (index_put from itself)": """
x1 = cr.tensor([[[-0.5, 1.0]], [[2.0, 1.0]]], dtype=cr.float64, requires_grad=True)
t1 = x1.sin()
t1[[0, 1]] = t1
""",
    # --- failing when written; PyTorch is the reference -------------------------------------
    "t[None] = t overlaps (PyTorch refuses)": """
x0 = cr.tensor([[-1.5, -1.5, -2.0], [-0.5, 2.0, -2.0]], dtype=cr.float64, requires_grad=True)
t3 = x0[x0 > 0]
t3[None] = t3
loss = 0.0
loss = loss + (t3 * 1.5).cos().sum()
loss.backward(retain_graph=True)
""",
    "autograd.grad(create_graph=True) of a constant gradient does not require grad": """
x0 = cr.tensor([[[0.5, -1.5], [0.5, 0.5], [-2.0, 1.0]], [[0.5, -1.5], [0.5, -1.0], [0.5, 0.5]]], dtype=cr.float64, requires_grad=True)
x1 = cr.tensor(1.0, dtype=cr.float64, requires_grad=True)
t1 = x0 + 2.0
t1.copy_(x1)
t3 = t1.unbind(2)[0]
loss = 0.0
loss = loss + t3.tanh().sum()
g0, g1 = cr.autograd.grad(loss, [x0, x1], create_graph=True, allow_unused=True)
""",
    "chunk of a tensor made in no_grad, used after the base got history": """
x0 = cr.tensor([-0.5, -1.0, -1.5, 2.0], dtype=cr.float64, requires_grad=True)
x1 = cr.tensor([[[1.0, 0.5], [-1.0, -1.0], [1.5, 1.0]], [[-1.5, -1.5], [1.5, -1.5], [-1.5, -2.0]]], dtype=cr.float64, requires_grad=True)
t1, t2 = x0.chunk(2, 0)
with cr.no_grad():
    t3 = x1.sin() * 2.0
t5, t6 = t3.chunk(2, 2)
t3[1:, 1] = t2.sin()
t8 = t5.norm()
""",
    "retain_grad follows the in-place update (+=)": """
x0 = cr.tensor([[-1.0, 1.0, -0.5], [0.5, -1.5, 1.5]], dtype=cr.float64, requires_grad=True)
t1 = x0 * x0.sin()
t3 = t1.squeeze()
t3.retain_grad()
t3 += t1
t1.backward(cr.tensor([[0.5, 2.0, 0.5], [-2.0, -1.0, 0.5]], dtype=cr.float64))
""",
    "retain_grad follows the in-place update (zero_)": """
x0 = cr.tensor([[0.5, 0.5, -1.0], [1.0, 2.0, 1.5]], dtype=cr.float64, requires_grad=True)
t1 = x0.sin()
t2 = t1.squeeze()
t2.retain_grad()
t9 = t1.expand(2, 2, 3)
t2.zero_()
loss = 0.0
loss = loss + t9.sin().sum()
loss.backward()
""",
    "t[::2] = t[1]: disjoint elements of one storage are no overlap": """
x0 = cr.tensor([[[1.5, 2.0], [-1.5, 2.0], [-0.5, -0.5]], [[1.5, -0.5], [-1.0, -2.0], [1.0, 2.0]]], dtype=cr.float64, requires_grad=True)
with cr.no_grad():
    t1 = x0.sin() * 2.0
t4, t5 = t1.unbind(0)
with cr.no_grad():
    t1[::2] = t5
""",
    "t[1::2] = t.narrow(0, 2, 1): disjoint elements, error only at backward": """
x0 = cr.tensor([1.5, 0.5, 1.5, -1.5], dtype=cr.float64, requires_grad=True)
t1 = x0 - x0
t2 = t1 / (t1.tanh() + 2.0)
t4 = t1.narrow(0, 2, 1)
t1[1::2] = t4
loss = 0.0
loss = loss + t2.tanh().sum()
loss.backward()
""",
    "fill_ of an expanded tensor is allowed": """
x2 = cr.tensor([1.0, 1.0, -1.5, 1.0], dtype=cr.float64, requires_grad=True)
t1 = x2[[0, 1]]
t4 = t1.expand(2, 2)
t4.fill_(-1.25)
""",
    "index_put from the tensor itself (permuted) overlaps": """
x1 = cr.tensor([[[1.0, -1.0]], [[-0.5, -1.5]]], dtype=cr.float64, requires_grad=True)
t1 = x1.diagonal(1)
t2 = t1 + t1
with cr.no_grad():
    t2[[1, 0]] = t2
""",
    "reshape of an advanced-indexing result is a view (PyTorch lays it out contiguously)": """
c1 = cr.tensor([[[-1.5, -1.0], [0.5, 0.5], [1.5, -1.5]], [[0.5, 0.5], [1.0, 0.5], [0.5, 1.0]]], dtype=cr.float64)
t2 = c1[:, [2, 0]]
t4 = t2[:-1]
t5 = t2.flatten()
t6 = t4.narrow(2, 1, 1)
t6.sub_(t6, alpha=-0.75)
""",
}


@pytest.mark.parametrize("source", list(REPROS.values()), ids=list(REPROS))
def test_soak_repros(source):
    """Each repro against PyTorch where importable, and against the NumPy model and central
    differences always."""
    program = P.program_from_source(source)
    mods = P.backends()
    failures = P.failures_only(P.check_program(program, mods))
    assert not failures, P.format_any(failures[0])


# --- soak (opt-in) ---------------------------------------------------------------------------

@pytest.mark.soak
@pytest.mark.skipif(not os.environ.get("CHAINRULE_SOAK"), reason="set CHAINRULE_SOAK=N to run N programs")
def test_soak(capsys):
    n = int(os.environ["CHAINRULE_SOAK"])
    seed = int(os.environ.get("CHAINRULE_SOAK_SEED", "0"))
    with capsys.disabled():
        tally, counts, report = P.soak(n, seed, report_path=os.environ.get("CHAINRULE_SOAK_REPORT"))
        print(report.split("\n", 1)[1])
    assert tally["failing programs"] == 0, report.split("\n", 1)[0]


def test_autograd_grad_and_retained_grad(with_torch):
    """torch.autograd.grad also fills the .grad of non-leaves that called retain_grad() (leaves'
    .grad stay untouched); the random programs leave this out so that it does not mask the rest."""
    torch = with_torch["torch"]
    out = {}
    for name, mod in (("torch", torch), ("chainrule", cr)):
        x = mod.tensor([1.0, 2.0], dtype=mod.float64, requires_grad=True)
        y = x * 2.0
        y.retain_grad()
        (g,) = mod.autograd.grad((y * y).sum(), [x])
        out[name] = (None if y.grad is None else y.grad.tolist(), x.grad, g.tolist())
    assert out["chainrule"] == out["torch"]
