"""Random programs composed from the whole operation table (``op_db.ENTRIES``), for
tests/test_table_programs.py.

A program chains 2-5 table entries. Step 0 calls its entry on its sample with one differentiable
argument replaced by the program's input ``x`` (that argument's own sample value: inside the
domain). Every later step calls its entry on its own sample, with one or more of its
differentiable arguments *perturbed* by earlier values of the program::

    u = M(h)                       # h (an earlier value) reshaped/broadcast to the argument's shape
    t = tanh(c * (u - u0))         # in (-1, 1); u0 = u at the program's input x0,
                                   # c = SLOPE / (EPS * (1 + max|u0|)) (÷ max|a| for "mul")
    z = a + EPS * a * t            # "mul": keeps signs, zeros and the order of distinct values
    z = a + EPS * t                # "add": only for arguments with no special values (0, ±1, ½...)

so every argument stays within ``EPS`` (relative) of a value the table chose inside the entry's
domain (away from kinks, repeated values, singular matrices...), whatever the input, while at
``x0`` (where the derivatives are checked) z = a and dz/du is O(1): derivatives do not fade
along the chain (a bounded perturbation with a full slope). ``M`` is ``direct`` (same shape),
``flat`` (ravel, repeat to length, slice, reshape) or ``sum`` (the sum times fixed weights).
The first link of each step reads the previous step's value, others any earlier value (also
``x``; step 0's other arguments may read ``x`` too): programs are DAGs with fan-out. The loss is ``Σ w·h`` over the last value and a drawn
subset of the others, with fixed random weights ``w``. Non-finite values of a chosen output at the
base input (NaN-ignoring reductions of NaN samples) are masked by ``where`` with a constant mask.

A program is plain data (``Program.to_json()``), so any failure replays with
``python tests/_table_programs.py replay '<json>'`` (the failing test prints that line and the
program as readable steps). ``python tests/_table_programs.py soak N [seed]`` runs N random
programs through every check outside pytest and prints the failures.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass, field

import numpy as np
import op_db

import chainrule as cr

EPS = 0.02          # how far (relative) a linked argument may move from its sample value
SLOPE = 0.5         # d(argument)/d(normalised source) at the program's input: O(1), not O(EPS)
MAX_STEPS = 5
SMALL = 8            # second-order checks only for inputs of at most this many elements
FD_STEP = 1e-5      # central differences: truncation ~1e-10·f''', rounding ~1e-11·|f|

# Entries left out, with the reason (everything else in op_db.ENTRIES is drawn).
LEFT_OUT = {
    "to_float32": "float32 output: finite differences in float64 need float64 values",
    "sum_dtype": "float32 output",
    "float_double": "rounds through float32",
    "np.nan_to_num": "its samples' infinities become ±1.8e308: finite differences of a sum with them overflow",
}
# Entries that are not functions of their inputs alone under vmap (random masks): their
# programs skip the vmap checks.
NO_VMAP = {"dropout_train": "draws a random mask (fixed seed inside): one mask for the batch"}
# In-place writes into a tensor that is batched inside cr.vmap are refused with a clear error
# (test_table_programs.test_inplace_write_into_a_batched_tensor): the vmap checks of programs
# with such an entry (setitem, copy_, fill_, np.put_along_axis...) stop there, not applicable.
INPLACE_REFUSAL = "in-place change involving a batched tensor (inside cr.vmap) is not supported"


# Open chainrule bug (test_table_programs.test_nested_vmap_of_nan_reductions, strict xfail):
# cr.vmap(cr.vmap(f)) raises where f reaches a composite that runs per example under vmap
# (nan-reductions, median/quantile with an axis, np.average with weights...). The nested part
# of the vmap check skips programs that raise one of these until it is fixed.
NESTED_VMAP_BUG: tuple[str, ...] = ()  # (fixed: nested vmap of the per-example composites)


class NotApplicable(Exception):
    """The check does not apply to this program (raised only for documented refusals)."""


# =============================================================================================
# What each (entry, sample) offers: differentiable positions, float outputs and their shapes
# =============================================================================================

def _outputs(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _is_float(t) -> bool:
    return isinstance(t, cr.Tensor) and t.dtype == cr.float64  # (complex: tests/test_complex.py)


@dataclass(frozen=True)
class Offer:
    entry: op_db.OpEntry
    index: int                  # the sample's index in entry.samples
    positions: tuple            # differentiable argument positions
    outputs: tuple              # indices of float64 (or complex) outputs that carry a gradient
    shapes: tuple               # their shapes


def _keys() -> dict:
    """A unique key per entry: its name, or ``name#2``... where names repeat (two ``scatter``s)."""
    keys: dict = {}
    for e in op_db.ENTRIES:
        key, n = e.name, 1
        while key in keys:
            n += 1
            key = f"{e.name}#{n}"
        keys[key] = e
    return keys


ENTRY = _keys()


def _offers() -> dict:
    table: dict = {}
    for key, e in ENTRY.items():
        if e.name in LEFT_OUT:
            continue
        for k, s in enumerate(e.samples):
            if not s.differentiable or any(isinstance(a, np.ndarray) and a.dtype.kind == "c" for a in s.args):
                continue  # (complex samples: tests/test_complex.py has their random programs)
            with cr.no_grad():
                outs = _outputs(e.call(s, [cr.tensor(a.copy()) if isinstance(a, np.ndarray) else a
                                           for a in s.args]))
            grads = _outputs(e.call(s))
            keep = tuple(i for i, (o, g) in enumerate(zip(outs, grads)) if _is_float(o)
                         and isinstance(g, cr.Tensor) and g.requires_grad)
            if keep:
                table.setdefault(key, []).append(
                    Offer(e, k, s.differentiable, keep, tuple(tuple(outs[i].shape) for i in keep)))
    return table


OFFERS = _offers()
NAMES = sorted(OFFERS)


# =============================================================================================
# Programs as plain data
# =============================================================================================

@dataclass
class Link:
    position: int     # the argument of this step's entry
    source: int       # -1: the input x; k: the value of step k
    map: str          # "direct" | "flat" | "sum"
    mode: str         # "mul" | "add"


@dataclass
class Step:
    entry: str
    sample: int
    output: int       # which output of the entry is this step's value
    links: list = field(default_factory=list)   # step 0: one Link with source -1 and map "input"


@dataclass
class Program:
    steps: list
    loss_from: list   # the steps whose values enter the loss (always the last)

    def to_json(self) -> str:
        return json.dumps({"steps": [asdict(s) for s in self.steps], "loss_from": self.loss_from},
                          separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> Program:
        d = json.loads(text)
        return Program([Step(s["entry"], s["sample"], s["output"], [Link(**lk) for lk in s["links"]])
                        for s in d["steps"]], d["loss_from"])

    def sample(self, k: int) -> op_db.Sample:
        step = self.steps[k]
        return ENTRY[step.entry].samples[step.sample]

    def x0(self) -> np.ndarray:
        return self.sample(0).args[self.steps[0].links[0].position].copy()

    def describe(self) -> str:
        lines = [f"x = {self.steps[0].entry!r} sample {self.sample(0).label!r} argument "
                 f"{self.steps[0].links[0].position}, shape {self.x0().shape}"]
        for k, step in enumerate(self.steps):
            s = self.sample(k)
            args = []
            for i, a in enumerate(s.args):
                link = next((lk for lk in step.links if lk.position == i), None)
                if link is None:
                    args.append(f"array{a.shape}" if isinstance(a, np.ndarray) else repr(a))
                elif link.map == "input":
                    args.append("x")
                else:
                    src = "x" if link.source == -1 else f"h{link.source}"
                    args.append(f"link({src}, {link.map}, {link.mode}, a{i}{s.args[i].shape})")
            kw = "".join(f", {key}={_short(v)}" for key, v in s.kwargs.items())
            out = f"[{step.output}]" if len(_outputs_of(step)) > 1 or step.output else ""
            lines.append(f"h{k} = {step.entry}({', '.join(args)}{kw}){out}"
                         f"    # sample {step.sample} {s.label!r}")
        lines.append("loss = " + " + ".join(f"sum(w{k} * h{k})" for k in self.loss_from))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Program (replay: python tests/_table_programs.py replay '{self.to_json()}')\n"
                + self.describe())


def _outputs_of(step: Step) -> tuple:
    return next(o.outputs for o in OFFERS[step.entry] if o.index == step.sample)


def _short(v) -> str:
    return f"array{v.shape}" if isinstance(v, np.ndarray) else repr(v)


def _offer(step: Step) -> Offer:
    return next(o for o in OFFERS[step.entry] if o.index == step.sample)


def _special(a: np.ndarray) -> bool:
    """Values a table author may have put on purpose (0, ±1, ½, integers, NaN): "add" would move them."""
    finite = a[np.isfinite(a)]
    return a.size == 0 or not np.isfinite(a).all() or bool(np.any(finite * 4 == np.round(finite * 4)))


def draw_program(draw, names=None, small=False, force=None, steps=MAX_STEPS) -> Program:
    """A random program; ``draw`` has ``integer(lo, hi)`` (inclusive) and ``choice(seq)``.

    ``names``: the entries to draw from (default: all); ``small``: an input of at most ``SMALL``
    elements; ``force``: an entry that must appear (at a drawn step); ``steps``: at most so many."""
    names = sorted(names) if names is not None else NAMES
    n = draw.integer(2, steps)
    forced = draw.integer(0, n - 1) if force is not None else -1
    program: list = []
    shapes: list = []          # shape of each step's value
    for k in range(n):
        name = force if k == forced else draw.choice(names)
        offers = OFFERS[name]
        if k == 0 and small:
            offers = [o for o in offers if _first_size(o) <= SMALL] or offers
        offer = draw.choice(offers)
        out_k = draw.integer(0, len(offer.outputs) - 1)
        sample = offer.entry.samples[offer.index]
        positions = list(offer.positions)
        links = []
        if k == 0:   # x is one argument; the others may read x through links (fan-out)
            first = [i for i in positions if sample.args[i].size <= SMALL] if small else []
            links.append(Link(draw.choice(first or positions), -1, "input", "none"))
            positions.remove(links[0].position)
            count = draw.integer(0, len(positions))
        else:
            count = draw.integer(1, len(positions))
        x_shape = sample.args[links[0].position].shape if k == 0 else _x_shape(program)
        for j in range(count):
            pos = positions.pop(draw.integer(0, len(positions) - 1))
            source = -1 if k == 0 else k - 1 if j == 0 else draw.integer(-1, k - 1)
            src_shape = x_shape if source == -1 else shapes[source]
            target = sample.args[pos]
            maps = ["flat", "sum"] + (["direct"] if tuple(src_shape) == target.shape else [])
            if int(np.prod(src_shape)) == 0:
                maps = ["sum"]
            mode = "mul" if _special(target) else draw.choice(["mul", "add"])
            links.append(Link(pos, source, draw.choice(maps), mode))
        program.append(Step(name, offer.index, offer.outputs[out_k], links))
        shapes.append(offer.shapes[out_k])
    loss_from = [k for k in range(n - 1) if draw.integer(0, 3) == 0] + [n - 1]
    return Program(program, loss_from)


def _first_size(o: Offer) -> int:
    """Elements of the smallest differentiable argument (what step 0 may take as x)."""
    return min(o.entry.samples[o.index].args[i].size for i in o.positions)


def _x_shape(steps: list) -> tuple:
    s = ENTRY[steps[0].entry].samples[steps[0].sample]
    return s.args[steps[0].links[0].position].shape


class RandomDraw:
    def __init__(self, seed: int):
        import random
        self.r = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.r.randint(lo, hi)

    def choice(self, seq):
        return seq[self.r.randrange(len(seq))]


class HypothesisDraw:
    """Draws through Hypothesis (``draw``: a composite strategy's ``draw`` or ``data.draw``)."""

    def __init__(self, draw):
        self.draw = draw

    def integer(self, lo: int, hi: int) -> int:
        from hypothesis import strategies as st
        return self.draw(st.integers(lo, hi))

    def choice(self, seq):
        return seq[self.integer(0, len(seq) - 1)]


# =============================================================================================
# Running a program on a backend (chainrule, or PyTorch through a table of equivalents)
# =============================================================================================

class CR:
    name = "chainrule"

    @staticmethod
    def const(a):
        return cr.tensor(a.copy()) if isinstance(a, np.ndarray) else a

    cat = staticmethod(lambda ts: cr.concatenate(ts))
    tanh = staticmethod(cr.tanh)
    where = staticmethod(lambda mask, h: cr.where(cr.tensor(mask), h, 0.0))

    @staticmethod
    def call(entry: op_db.OpEntry, args, kwargs):
        return entry.op(*args, **kwargs)


def _as_real(h):
    return h.real - 0.7 * h.imag if "complex" in str(h.dtype) else h


class Compiled:
    """A program made callable: ``f(x)`` → scalar loss. The constants that depend on values
    (tanh centres and scales, finite masks) are fixed by a first run at the program's input."""

    def __init__(self, program: Program, backend=CR, like: Compiled | None = None, last=False):
        """``like``: a chainrule-compiled copy whose constants this one reuses (other backends);
        ``last``: return the last step's value (a tensor) instead of the loss."""
        self.p, self.b, self.last = program, backend, False
        finite = np.isfinite(program.x0())
        self.x_mask = None if finite.all() else finite   # links read x's NaNs as 0
        if like is not None:
            self.scales, self.centers, self.masks, self.weights = (like.scales, like.centers,
                                                                   like.masks, like.weights)
            self.last = last
            return
        self._rng = np.random.default_rng(len(program.steps))
        self.scales: dict = {}
        self.centers: dict = {}
        self.masks: dict = {}
        self.weights: dict = {}   # (k, position) -> weights of a "sum" map; ("loss", k) -> of the loss
        with cr.no_grad():
            self._run(cr.tensor(program.x0()), record=True)
        self.last = last

    def _weights(self, key, shape):
        if key not in self.weights:
            self.weights[key] = self._rng.uniform(0.5, 1.5, size=shape) * self._rng.choice([-1.0, 1.0], size=shape)
        return self.weights[key]

    def _link(self, k, link: Link, h, target: np.ndarray, record: bool):
        b = self.b
        shape, n = target.shape, target.size
        if link.map == "direct":
            u = h
        elif link.map == "sum":
            u = h.sum() * b.const(self._weights((k, link.position), shape))
        else:
            flat = h.reshape(-1)
            size = int(np.prod(h.shape))
            if size < n:
                flat = b.cat([flat] * math.ceil(n / size))
            u = flat[:n].reshape(shape)
        key = (k, link.position)
        if record:
            base = np.asarray(_numpy(u), dtype=np.float64)
            size = float(np.max(np.abs(target[np.isfinite(target)]), initial=1.0)) if link.mode == "mul" else 1.0
            self.scales[key] = SLOPE / (EPS * max(size, 1.0) * (1.0 + float(np.max(np.abs(base), initial=0.0))))
            self.centers[key] = base
        t = b.tanh((u - b.const(self.centers[key])) * self.scales[key])
        if link.mode == "add":
            return b.const(target) + EPS * t
        # a + EPS·a·t, with the non-finite values of a (NaN samples of nan-reductions) left alone
        # and out of the product (NaN·0 in the backward pass would poison the gradient).
        step = np.where(np.isfinite(target), target, 0.0) * EPS
        return b.const(target) + b.const(step) * t

    def _run(self, x, record=False):
        b, values = self.b, []
        for k, step in enumerate(self.p.steps):
            s = self.p.sample(k)
            entry = ENTRY[step.entry]
            args = [b.const(a) for a in s.args]
            for link in step.links:
                if link.map == "input":
                    args[link.position] = x
                else:
                    h = values[link.source] if link.source >= 0 else (
                        x if self.x_mask is None else b.where(self.x_mask, x))
                    args[link.position] = self._link(k, link, h, s.args[link.position], record)
            h = _as_real(_outputs(b.call(entry, args, dict(s.kwargs)))[step.output])
            if record:
                finite = np.isfinite(np.asarray(_numpy(h)))
                self.masks[k] = None if finite.all() else finite
            if self.masks[k] is not None:
                h = b.where(self.masks[k], h)
            values.append(h)
        if self.last:
            return values[-1]
        loss = None
        for k in self.p.loss_from:
            term = (values[k] * b.const(self._weights(("loss", k), tuple(values[k].shape)))).sum()
            loss = term if loss is None else loss + term
        return loss

    def __call__(self, x):
        return self._run(x)


def _numpy(t):
    if isinstance(t, cr.Tensor):
        return t.detach().numpy()
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


# =============================================================================================
# The checks (each raises AssertionError with the program in the message)
# =============================================================================================

def value(f, x: np.ndarray) -> float:
    with cr.no_grad():
        return float(f(cr.tensor(x)).numpy())


def central_gradient(f, x: np.ndarray) -> np.ndarray:
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        if not np.isfinite(x[i]):
            continue
        up, down = x.copy(), x.copy()
        up[i] += FD_STEP
        down[i] -= FD_STEP
        g[i] = (value(f, up) - value(f, down)) / (2 * FD_STEP)
    return g


def reverse_gradient(f, x: np.ndarray) -> np.ndarray:
    xt = cr.tensor(x.copy(), requires_grad=True)
    f(xt).backward()
    return xt.grad.numpy()


def close(got, want, what: str, rtol: float, atol: float = 0.0) -> None:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    scale = float(np.max(np.abs(want[np.isfinite(want)]), initial=0.0))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol + rtol * scale, err_msg=what)


def batch(x: np.ndarray, n: int = 3) -> np.ndarray:
    """n inputs near x (relative moves of at most EPS/4: still inside the domain); the first is x."""
    rng = np.random.default_rng(7)
    return np.stack([x] + [x * (1 + EPS / 4 * rng.uniform(-1, 1, size=x.shape)) for _ in range(n - 1)])


def check_reverse(p: Program) -> None:
    f, x = Compiled(p), p.x0()
    noise = 1e-13 * max(1.0, abs(value(f, x))) / FD_STEP   # rounding in f, amplified by 1/step
    close(reverse_gradient(f, x), central_gradient(f, x), "backward() vs central differences",
          rtol=1e-4, atol=1e-7 + noise)
    g = reverse_gradient(f, x)
    close(cr.grad(f)(x).numpy(), g, "cr.grad vs backward()", rtol=1e-12)
    xt = cr.tensor(x.copy(), requires_grad=True)
    cr.checkpoint(f, xt).backward()
    close(xt.grad.numpy(), g, "backward() through cr.checkpoint vs without", rtol=1e-12, atol=1e-15)


def check_forward(p: Program) -> None:
    f, x = Compiled(p), p.x0()
    g = reverse_gradient(f, x)
    v = np.random.default_rng(3).standard_normal(x.shape)
    v[~np.isfinite(x)] = 0.0
    out, tangent = cr.jvp(f, (x,), (v,))
    close(out.numpy(), value(f, x), "jvp value vs f(x)", rtol=1e-12)
    close(tangent.numpy(), np.sum(np.where(np.isfinite(x), g * v, 0.0)), "jvp tangent vs <grad, v>",
          rtol=1e-8, atol=1e-12)
    close(cr.jacfwd(f)(x).numpy(), g, "jacfwd vs reverse gradient", rtol=1e-8, atol=1e-12)


def check_second_order(p: Program) -> None:
    f, x = Compiled(p), p.x0()
    hess = cr.hessian(f)(x).numpy()
    n = x.shape
    close(hess, cr.jacfwd(cr.jacrev(f))(x).numpy(), "hessian vs jacfwd(jacrev)", rtol=1e-8, atol=1e-12)
    flat = hess.reshape(x.size, x.size)
    close(flat, flat.T, "hessian symmetric", rtol=1e-8, atol=1e-12)
    v = np.random.default_rng(5).standard_normal(n)
    v[~np.isfinite(x)] = 0.0
    grad = cr.grad(f)
    fd = (grad(x + FD_STEP * v).numpy() - grad(x - FD_STEP * v).numpy()) / (2 * FD_STEP)
    hv = np.tensordot(np.nan_to_num(hess), np.nan_to_num(v), axes=v.ndim)
    noise = 1e-13 * max(1.0, float(np.max(np.abs(np.nan_to_num(grad(x).numpy())), initial=0.0))) / FD_STEP
    close(hv, fd, "hessian·v vs central differences of cr.grad", rtol=1e-4, atol=1e-7 + noise)
    out, hvp = cr.hvp(f, (x,), (v,))
    close(hvp.numpy(), hv, "cr.hvp vs hessian·v", rtol=1e-8, atol=1e-12)
    close(cr.hessian(lambda t: cr.checkpoint(f, t))(x).numpy(), hess,
          "hessian through cr.checkpoint vs without", rtol=1e-10, atol=1e-14)
    if applies(p, "vmap"):   # per-example hessians
        xs, h = batch(x), cr.hessian(f)
        # A singular or rank-deficient sample (det, slogdet): a batch holding an exactly singular
        # example takes the cofactors' formula for all of them, the loop the inverse's for the
        # others, which are near singular: the two formulas agree to cond(A)·eps, not to 1e-9.
        ill = any(word in ENTRY[s.entry].samples[s.sample].label for s in p.steps for word in ("singular", "rank"))
        try:
            close(_vmapped(h, xs), np.stack([h(xi).numpy() for xi in xs]), "vmap(hessian(f)) vs a loop",
                  rtol=1e-6 if ill else 1e-9, atol=1e-12)
        except NotApplicable:
            pass


def check_jacobian(p: Program) -> None:
    """The last value as a function of x (a vector function): jacrev against jacfwd (jacrev
    batches the VJPs of basis cotangents), and J·v against central differences."""
    f, x = Compiled(p, last=True), p.x0()
    rev, fwd = cr.jacrev(f)(x).numpy(), cr.jacfwd(f)(x).numpy()
    close(rev, fwd, "jacrev vs jacfwd of the last value", rtol=1e-8, atol=1e-12)
    v = np.random.default_rng(9).standard_normal(x.shape)
    v[~np.isfinite(x)] = 0.0
    with cr.no_grad():
        up, down = (f(cr.tensor(x + s * FD_STEP * v)).numpy() for s in (1, -1))
    noise = 1e-13 * max(1.0, float(np.max(np.abs(up), initial=0.0))) / FD_STEP
    jv = np.tensordot(np.nan_to_num(rev), v, axes=v.ndim)
    close(jv, (up - down) / (2 * FD_STEP), "jacrev·v vs central differences", rtol=1e-4,
          atol=1e-7 + noise)


def _vmapped(fn, xs, **kw):
    try:
        return cr.vmap(fn, **kw)(xs).numpy()
    except RuntimeError as exc:
        if INPLACE_REFUSAL in str(exc):
            raise NotApplicable(str(exc)) from exc
        raise


def check_vmap(p: Program) -> None:
    f, xs = Compiled(p), batch(p.x0())
    loop = np.stack([value(f, xi) for xi in xs])
    close(_vmapped(f, xs), loop, "vmap(f) vs a loop", rtol=1e-10, atol=1e-12)
    # the batch along the last axis, and two nested vmaps over a (2, 3) batch
    close(_vmapped(f, np.moveaxis(xs, 0, -1), in_axes=-1), loop, "vmap(f, in_axes=-1) vs a loop",
          rtol=1e-10, atol=1e-12)
    xs6 = batch(p.x0(), 6).reshape((2, 3) + p.x0().shape)
    loop6 = np.array([[value(f, xij) for xij in xi] for xi in xs6])
    try:
        nested = _vmapped(lambda b: cr.vmap(f)(b), xs6)
    except (TypeError, RuntimeError) as exc:
        if any(sign in str(exc) for sign in NESTED_VMAP_BUG):
            return
        raise
    close(nested, loop6, "vmap(vmap(f)) vs a loop", rtol=1e-10, atol=1e-12)


def check_vmap_grad(p: Program) -> None:
    f, xs = Compiled(p), batch(p.x0())
    grad = cr.grad(f)
    loop = np.stack([grad(xi).numpy() for xi in xs])
    close(_vmapped(grad, xs), loop, "vmap(grad(f)) vs a loop of grad(f)", rtol=1e-9, atol=1e-12)
    if xs.ndim > 1:   # the batch in the middle of the input, and last in the output
        close(_vmapped(grad, np.moveaxis(xs, 0, 1), in_axes=1, out_axes=-1), np.moveaxis(loop, 0, -1),
              "vmap(grad(f), in_axes=1, out_axes=-1) vs a loop", rtol=1e-9, atol=1e-12)
    v = np.random.default_rng(3).standard_normal(xs.shape[1:])
    v[~np.isfinite(xs[0])] = 0.0

    def tangent(xi):
        return cr.jvp(f, (xi,), (v,))[1]

    loop = np.stack([tangent(xi).numpy() for xi in xs])
    close(_vmapped(tangent, xs), loop, "vmap(jvp(f)) vs a loop of jvp(f)", rtol=1e-9, atol=1e-12)
    close(_vmapped(cr.jacfwd(f), xs), _vmapped(grad, xs), "vmap(jacfwd(f)) vs vmap(grad(f))",
          rtol=1e-8, atol=1e-12)


def _gradient_by_the_rules(f, x: np.ndarray) -> np.ndarray:
    """Eager mode's gradient through the differentiable rules (``create_graph=True``): the ones
    a trace records. A plain backward pass may run a rule's first-order NumPy form instead
    (``raw_vjp``: the same value, rounded differently): det's cofactors at a singular matrix
    come from the SVD there, from the minors here. Where the cofactors vanish (det's
    ``rank2`` sample: rank <= n-2) both are rounding noise around 0 (1e-17, next to gradients
    of 1e-4 a step away) and no relative tolerance between them holds."""
    xt = cr.tensor(x.copy(), requires_grad=True)
    out = f(xt)
    g = cr.autograd.grad(out, [xt], create_graph=True, allow_unused=True)[0] if out.requires_grad else None
    return np.zeros_like(x) if g is None else g.detach().numpy()


def _eager_gradient(got, plain: np.ndarray, by_rules: np.ndarray, what: str) -> None:
    """``got`` equals one of eager mode's two gradients to rounding: the one through the rules
    a trace records (compiled code), or the plain backward pass's (a call jit runs eagerly)."""
    try:
        close(got, by_rules, what + " (by the rules a trace records)", rtol=1e-12, atol=1e-300)
    except AssertionError:
        close(got, plain, what, rtol=1e-12, atol=1e-300)


def check_jit(p: Program) -> None:
    """``cr.jit(f)`` and ``cr.jit(cr.grad(f))`` traced at x0, then called on other inputs near
    it, against eager mode (the same implementations: to rounding); with a changed decision the
    function is traced again, still equal. ``jit(f)`` on an input that requires grad (one node
    recorded per call) and ``backward()`` through it against ``grad(f)``. A gradient equals
    eager mode's through the rules a trace records (or, run eagerly, the plain one: see
    ``_gradient_by_the_rules``); those two agree as two formulas do (check 2's tolerance)."""
    f = Compiled(p)
    jf, jg = cr.jit(f), cr.jit(cr.grad(f))
    for x in batch(p.x0()):
        close(value(jf, x), value(f, x), "jit(f) vs f", rtol=1e-12, atol=1e-300)
        want, by_rules = cr.grad(f)(cr.tensor(x)).numpy(), _gradient_by_the_rules(f, x)
        close(want, by_rules, "grad(f) vs the gradient by the rules a trace records", rtol=1e-8, atol=1e-12)
        _eager_gradient(jg(cr.tensor(x)).numpy(), want, by_rules, "jit(grad(f)) vs grad(f)")
        xt = cr.tensor(x, requires_grad=True)  # the call recorded as one node, then backward()
        out = jf(xt)
        got = cr.autograd.grad(out, [xt], allow_unused=True)[0] if out.requires_grad else None
        _eager_gradient(np.zeros_like(want) if got is None else got.numpy(), want, by_rules,
                        "backward() through jit(f) vs grad(f)")


CHECKS = {"reverse": check_reverse, "forward": check_forward, "jacobian": check_jacobian,
          "second_order": check_second_order,
          "vmap": check_vmap, "vmap_grad": check_vmap_grad, "jit": check_jit}


def applies(p: Program, check: str) -> bool:
    if check == "second_order":
        return p.x0().size <= SMALL
    if check in ("vmap", "vmap_grad"):
        return not any(ENTRY[s.entry].name in NO_VMAP for s in p.steps)
    return True


def run_checks(p: Program, checks=None) -> dict:
    """Every applicable check; returns {check: None | error text}."""
    results = {}
    for name in checks or CHECKS:
        if not applies(p, name):
            continue
        try:
            CHECKS[name](p)
            results[name] = None
        except NotApplicable:
            continue
        except Exception as exc:  # noqa: BLE001 -- reported with the program
            results[name] = f"{type(exc).__name__}: {exc}"
    return results


def main(argv: list) -> int:
    if len(argv) >= 2 and argv[0] == "replay":
        p = Program.from_json(argv[1])
        print(p)
        for name, err in run_checks(p, argv[2:] or None).items():
            print(f"{name}: {'ok' if err is None else err}")
        return 0
    if argv and argv[0] == "soak":
        n, seed = int(argv[1]), int(argv[2]) if len(argv) > 2 else 0
        failures = 0
        for i in range(n):
            p = draw_program(RandomDraw(seed + i))
            for name, err in run_checks(p).items():
                if err is not None:
                    failures += 1
                    print(f"--- seed {seed + i} {name}: {err[:1500]}\n{p!r}\n")
        print(f"{n} programs, {failures} failures")
        return 1 if failures else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
