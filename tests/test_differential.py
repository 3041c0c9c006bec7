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

A missing error (PyTorch raises, chainrule computes) whose gradients match central differences
of the program -- or, under transforms, whose every derivative level matches central
differences of the level below -- is a *note*, not a failure: PyTorch refused because its
implementation saved a tensor chainrule does not need (``var`` of a value later modified in
place, torch.func's in-place refusals...).  Values made under ``no_grad`` or by ``detach()`` are
held at their values while the leaves move; where the gradients are no derivatives at all (a
hook that scales the gradient, an update under ``no_grad`` of a tensor with history, a write to
memory a ``detach()``ed tensor shares) or differ, it stays a failure.  Notes are counted and
listed apart in the soak's summary.

Default runs are small and deterministic whatever ran before them in the same process: each
program is drawn from its own seeded ``random.Random`` (``P.RandomDraw``; not Hypothesis, whose
choices depend on the modules imported so far), and ``P.pinned_state`` pins (and puts back) the
global settings the harness depends on: both libraries' default dtype, grad and anomaly mode,
PyTorch's thread count, NumPy's error handling.
``CHAINRULE_SOAK=N python -m pytest tests/test_differential.py -m soak -s`` (or
``python tests/_programs.py N [seed]``) runs N programs of each generator through a seeded
loop and prints a summary line and a shrunk repro for each failure class and each note
(``CHAINRULE_SOAK_REPORT=path`` also writes the report to a file).
"""

from __future__ import annotations

import os
import zlib

import _programs as P
import pytest

import chainrule as cr


@pytest.fixture(autouse=True)
def pinned():
    """Global settings other tests may have left changed, pinned for each test and put back."""
    with P.pinned_state() as mods:
        yield mods


@pytest.fixture
def with_torch(pinned):
    pytest.importorskip("torch")
    return pinned


TORCH_FREE = {"chainrule": cr}


def _seeds(name, n):
    """n seeds of the generator's own random.Random, fixed per test (independent of the order)."""
    base = zlib.crc32(name.encode()) % 100_000 * 1_000
    return range(base, base + n)


# Open chainrule bugs the default programs meet (each with a repro in OPEN_REPROS below): a
# program failing only in these classes makes its test xfail, naming them, instead of fail.
# Remove an entry once its repro passes (OPEN_REPROS are strict xfails: they say so).
KNOWN_OPEN: dict[str, str] = {
    # Deliberate: a recorded write into an expanded (self-aliasing) view is refused at once;
    # PyTorch writes and refuses only at backward (its history can't follow the aliasing).
    "more than one element of th": "recorded write into an expanded view refused (deliberate)",
}


def _known(failure):
    return next((why for key, why in KNOWN_OPEN.items() if key in failure.signature), None)


def _check(name, n, make, check, mods):
    """Generate n programs from seeded draws; fail with the first failing one, shrunk."""
    failing, known = [], []
    for seed in _seeds(name, n):
        program = make(P.RandomDraw(seed))
        failures = P.failures_only(check(program))
        if failures and all(_known(f) for f in failures):
            known.append((seed, failures))
        elif failures:
            failing.append((seed, failures))
    if failing:
        _fail(name, failing, mods)
    if known:
        pytest.xfail("open bugs: " + "; ".join(sorted({f"seed {s}: {_known(fs[0])}" for s, fs in known})))


def _fail(name, failing, mods):
    """Shrink the first failure and fail with its repro (the others are listed by signature)."""
    seed, failures = failing[0]
    first = failures[0]
    try:
        small = (P.shrink_transform_failure(first, mods) if isinstance(first.program, P.TProgram)
                 else P.shrink_failure(first, mods))
    except Exception:  # noqa: BLE001 - an unshrunk repro is still a repro
        small = first
    others = "".join(f"\n  also: {f.signature}" for f in failures[1:])
    others += "".join(f"\n  also seed {s}: {fs[0].signature}" for s, fs in failing[1:])
    pytest.fail(f"{len(failing)} failing programs ({name}); first: seed {seed}\n"
                + P.format_any(small) + others, pytrace=False)


# --- chainrule against PyTorch ---------------------------------------------------------------

@pytest.mark.parametrize("profile, n", [("basic", 60), ("views", 80), ("inplace", 80), ("full", 120)])
def test_programs_match_torch(with_torch, profile, n):
    _check(profile, n, lambda d: P.generate(d, profile),
           lambda p: P.check_program(p, with_torch, numeric=False), with_torch)


def test_transforms_match_torch(with_torch):
    _check("transforms", 60, P.generate_transform, lambda tp: P.check_transform(tp, with_torch),
           with_torch)


# --- torch-free: NumPy's view semantics and central differences ------------------------------

def test_programs_match_numpy_and_central_differences():
    _check("numeric", 100, lambda d: P.generate(d, "numeric"),
           lambda p: P.check_program(p, TORCH_FREE), TORCH_FREE)


def test_transforms_match_central_differences():
    _check("transforms-cd", 60, P.generate_transform, lambda tp: P.check_transform(tp, TORCH_FREE),
           TORCH_FREE)


def test_harness_model_matches_torch(with_torch):
    """The NumPy model's forward values equal PyTorch's (else the torch-free checks lie)."""
    for seed in _seeds("harness", 40):
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


# Open: failing now, PyTorch is the reference (strict xfails: a fix makes them XPASS, which fails
# until the entry moves to REPROS and its KNOWN_OPEN key goes).
OPEN_REPROS = {
}

# Notes: PyTorch raises, chainrule computes, and its gradients match central differences.
NOTE_REPROS = {
    "var of a value modified in place before backward (PyTorch saved it)": """
x0 = cr.tensor([[-0.5, -2.0, 1.0], [1.5, 0.5, -0.5]], dtype=cr.float64, requires_grad=True)
t2 = x0 * x0.sin()
t3 = t2.var(1)
t4 = 1.25 - t3
t2[:, [0, 2]] = t4
loss = 0.0
loss = loss + t4.tanh().sum()
loss.backward(retain_graph=True)
""",
    "stale view of a constant whose base later gained history": """
x0 = cr.tensor([1.0, 0.5, -1.5, 2.0], dtype=cr.float64, requires_grad=True)
c1 = cr.tensor([0.5, -1.0, 1.5, 2.0], dtype=cr.float64)
t1 = c1[:2]
c1.mul_(x0)
t1.add_(1.0)
loss = 0.0
loss = loss + (c1 * c1).sum()
loss.backward()
""",
}


@pytest.mark.parametrize("source", [*REPROS.values(), *(
    pytest.param(src, marks=pytest.mark.xfail(strict=True, reason="open")) for src in OPEN_REPROS.values())],
    ids=[*REPROS, *OPEN_REPROS])
def test_soak_repros(source):
    """Each repro against PyTorch where importable, and against the NumPy model and central
    differences always."""
    program = P.program_from_source(source)
    mods = P.backends()
    failures = P.failures_only(P.check_program(program, mods))
    assert not failures, P.format_any(failures[0])


@pytest.mark.parametrize("source", list(NOTE_REPROS.values()), ids=list(NOTE_REPROS))
def test_note_repros(with_torch, source):
    """PyTorch raises where chainrule computes the right gradients: a note, not a failure."""
    program = P.program_from_source(source)
    found = P.check_program(program, with_torch)
    assert not P.failures_only(found), P.format_any(P.failures_only(found)[0])
    assert [f.kind for f in found] == ["note"], found


CD_PROGRAMS = {
    "backward twice, an in-place update of the loss and .grad = None between": """
x0 = cr.tensor([1.0, 0.5, -1.5, 2.0], dtype=cr.float64, requires_grad=True)
x1 = cr.tensor([0.5, -1.0, 1.5, 2.0], dtype=cr.float64, requires_grad=True)
t1 = x0 * x1.sin()
loss = 0.0
loss = loss + t1.tanh().sum()
loss.backward(retain_graph=True)
x0.grad = None
loss.mul_(x1.sum())
loss.backward()
""",
    "autograd.grad(create_graph=True), then a second-order backward": """
x0 = cr.tensor([1.0, 0.5, -1.5, 2.0], dtype=cr.float64, requires_grad=True)
t1 = x0 * x0.sin()
loss = 0.0
loss = loss + t1.tanh().sum()
g0, = cr.autograd.grad(loss, [x0], create_graph=True, allow_unused=True)
gg = loss * 0.0
gg = gg + (g0 * g0.tanh()).sum() if g0 is not None else gg
gg.backward()
""",
    "no_grad and detach: held at their values": """
x0 = cr.tensor([1.0, 0.5, -1.5, 2.0], dtype=cr.float64, requires_grad=True)
c1 = cr.tensor([0.5, -1.0, 1.5, 2.0], dtype=cr.float64)
with cr.no_grad():
    t1 = x0.sin() * 2.0
with cr.no_grad():
    c1.mul_(x0)
t2 = x0 * t1 + c1
t3 = x0.detach()
t4 = t2 + t3.exp()
loss = 0.0
loss = loss + (t4 * t4).sum()
loss.backward()
""",
    "a leaf updated under no_grad between its uses (an optimizer's step)": """
x0 = cr.tensor([1.0, 0.5, -1.5, 2.0], dtype=cr.float64, requires_grad=True)
t1 = x0 * 2.0
with cr.no_grad():
    x0.mul_(-1.5)
t2 = x0.sin()
loss = 0.0
loss = loss + (t1 * t2).sum()
loss.backward()
""",
    "backward(v)": """
x0 = cr.tensor([[1.0, 0.5], [-1.5, 2.0]], dtype=cr.float64, requires_grad=True)
t1 = x0 * x0.sin()
t2 = t1 @ t1
t2.backward(cr.tensor([[1.0, -0.5], [0.25, 2.0]], dtype=cr.float64))
""",
}


def test_central_differences_agree_with_torch(with_torch):
    """Where PyTorch runs a program, its gradients pass the central-difference check (else the
    check would turn missing errors into notes, or failures, wrongly); no_grad and detach
    included, held at their values."""
    torch = with_torch["torch"]
    checked = 0
    for seed in _seeds("cd-vs-torch", 60):
        program = P.generate(P.RandomDraw(seed), "full")
        o = P.run(program, torch)
        if o.error is None:
            verdict = P.cd_check(program, o.ns, with_torch)
            assert verdict[0] != "bad", f"seed {seed}: {verdict[1]}\n{program.render('torch')}"
            checked += verdict[0] == "ok"
    assert checked >= 20


CD_UNAVAILABLE = {
    "a write through a detach()ed alias (t += u reads t)": """
x0 = cr.tensor([[0.5, 0.5], [-1.0, 2.0]], dtype=cr.float64, requires_grad=True)
t1, t2 = x0.unbind(0)
t3 = t1.detach()
t3 += t1
loss = 0.0
loss = loss + (t2 * t2).sum()
loss.backward()
""",
    "an update under no_grad of a tensor with history": """
x0 = cr.tensor([1.5, 0.5, 1.0, 1.0], dtype=cr.float64, requires_grad=True)
t1 = x0 * x0
with cr.no_grad():
    t1.zero_()
loss = 0.0
loss = loss + t1.sum()
loss.backward()
""",
    "a hook that scales the gradient": """
x0 = cr.tensor([1.5, 0.5, 1.0, 1.0], dtype=cr.float64, requires_grad=True)
t1 = x0 * x0
t1.register_hook(lambda g: g * 2.0)
loss = 0.0
loss = loss + t1.sum()
loss.backward()
""",
}


@pytest.mark.parametrize("source", list(CD_UNAVAILABLE.values()), ids=list(CD_UNAVAILABLE))
def test_central_differences_refuse_what_they_cannot_model(source):
    """Gradients that are no derivative of a function of the leaves: no verdict (so a missing
    error there stays a failure)."""
    program = P.program_from_source(source)
    assert P.cd_check(program, P.run(program, cr).ns, TORCH_FREE)[0] == "unavailable"


@pytest.mark.parametrize("source", list(CD_PROGRAMS.values()), ids=list(CD_PROGRAMS))
def test_central_differences_catch_a_wrong_gradient(source):
    """The harness's own check: chainrule's gradients pass, each one made 0.1% wrong fails."""
    program = P.program_from_source(source)
    ns = P.run(program, cr).ns
    assert P.cd_check(program, ns, TORCH_FREE)[0] == "ok"
    names = [(leaf, "grad") for leaf in program.grad_leaves] + [
        (n, "value") for n in ("g0",) if n in ns]
    for name, kind in names:
        ns = P.run(program, cr).ns
        if kind == "grad":
            ns[name].grad = ns[name].grad * 1.001
        else:
            ns[name] = ns[name] * 1.001
        verdict = P.cd_check(program, ns, TORCH_FREE)
        assert verdict[0] == "bad" and verdict[1][1] == name, (name, verdict[:2])


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
