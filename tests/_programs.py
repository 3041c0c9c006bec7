"""Random small programs for differential testing (tests/test_differential.py).

A program is a list of Python statements a user could type, over float64 tensors of small
shapes: elementwise and binary operations, reductions, views, copies, in-place updates (also
through views), hooks, ``retain_grad``, then a loss and a backward variant.  The same text runs
on three backends, bound to the name ``cr``:

* chainrule, the system under test;
* PyTorch (optional), the oracle for values, gradients, and which programs must raise;
* ``NP``, a small NumPy model of PyTorch's *forward* semantics (NumPy views share memory just as
  PyTorch's views share storage), the torch-free oracle for forward values, and the function
  whose float64 central differences the gradients must match.

Generation draws through a tiny interface (``choice``/``integer``/``coin``) so the same generator
runs under a plain seeded ``random.Random`` (``RandomDraw``: the default tests and ``soak()``) and
under Hypothesis (``programs()``, for exploration only: Hypothesis mixes in constants from the
modules imported so far, so what it draws depends on what ran before in the process).
Each drawn statement is executed on the NumPy model at once: the generator knows every live
value's shape, whether it requires grad, whether it is a view and of what, and draws only
statements that make sense for them.

The second generator (``transform_programs()``) composes ``grad``/``vjp``/``jvp``/``jacrev``/
``jacfwd``/``hessian``/``hvp`` over a random function (whose body is a program of the first kind,
in-place updates included), compared with ``torch.func`` and with central differences.

``python tests/_programs.py N`` (or ``CHAINRULE_SOAK=N pytest tests/test_differential.py -s``)
runs N programs of each kind and prints a summary and the first shrunk repros of each class.

Where PyTorch raises and chainrule computes ("missing error"), chainrule's gradients are checked
against central differences (``cd_check``; for transforms, each derivative level against central
differences of the level below): if they match, the difference is a *note* (PyTorch saved a
tensor chainrule does not need), counted apart and not failed.  ``pinned_state()`` pins the
process-wide settings the harness depends on (default dtypes, grad/anomaly mode, thread count,
NumPy's error handling) and puts them back after.
"""

from __future__ import annotations

import contextlib
import linecache
import math
import os
import random
import re
import sys
import types
import warnings
from dataclasses import dataclass, field

import numpy as np

SHAPES = [(4,), (2, 3), (2, 3, 2), (3, 1), (1, 3), (2, 1, 2), ()]
MAX_NUMEL = 24
RTOL = 1e-10


# =============================================================================================
# Draws: one generator, driven by Hypothesis or by a seeded random.Random
# =============================================================================================

class RandomDraw:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def integer(self, lo, hi):
        return self.r.randint(lo, hi)

    def choice(self, seq):
        return seq[self.integer(0, len(seq) - 1)]

    def coin(self, p):
        return self.r.random() < p

    def weighted(self, pairs):
        total = sum(w for _, w in pairs)
        x = self.r.random() * total
        for item, w in pairs:
            x -= w
            if x < 0:
                return item
        return pairs[-1][0]


class HypothesisDraw(RandomDraw):
    def __init__(self, draw):
        from hypothesis import strategies as st
        self._st = st
        self.d = draw

    def integer(self, lo, hi):
        return self.d(self._st.integers(lo, hi))

    def coin(self, p):
        return self.integer(0, 999) < p * 1000

    def weighted(self, pairs):
        total = sum(int(w * 10) for _, w in pairs)
        x = self.integer(0, total - 1)
        for item, w in pairs:
            x -= int(w * 10)
            if x < 0:
                return item
        return pairs[-1][0]


# =============================================================================================
# NP: a NumPy model of PyTorch's forward semantics (views share memory; no autograd)
# =============================================================================================

class _Mode:
    grad_enabled = True


def _arr(x):
    return x.a if isinstance(x, NT) else x


def _key(key):
    """A PyTorch index as a NumPy one that keeps basic-index results as views (0-d included)."""
    if not isinstance(key, tuple):
        key = (key,)
    key = tuple(_arr(k) for k in key)
    advanced = any(isinstance(k, (list, np.ndarray)) for k in key)
    if not advanced and Ellipsis not in key:
        key = key + (Ellipsis,)
    return key, advanced


class _Handle:
    def remove(self):
        pass


class NT:
    """A tensor of the NumPy model: an ndarray plus the autograd flags PyTorch would show."""

    __array_priority__ = 1000

    def __init__(self, a, requires_grad=False, *, base=None, leaf=True, multi=False,
                 overlap=False, detached=False):
        self.a = a
        self.requires_grad = requires_grad
        self.is_leaf = leaf
        self.base = base          # root of the alias family, None for a base itself
        self.multi = multi        # output of split/chunk/unbind
        self.overlap = overlap    # some elements share memory (expand)
        self.detached = detached
        self.nograd_view = False  # a view created under no_grad of a base that requires grad
        self.layout_unknown = False  # strides may differ from PyTorch's (advanced indexing)
        self.grad = None
        self.family = [self] if base is None else None
        if base is not None:
            base.family.append(self)

    # ---- attributes
    @property
    def shape(self):
        return tuple(self.a.shape)

    @property
    def ndim(self):
        return self.a.ndim

    def dim(self):
        return self.a.ndim

    def numel(self):
        return self.a.size

    def size(self, d=None):
        return self.shape if d is None else self.shape[d]

    def numpy(self):
        return self.a

    def root(self):
        return self.base if self.base is not None else self

    # ---- construction helpers
    def _out(self, arr, *others):
        rg = _Mode.grad_enabled and (self.requires_grad or any(
            isinstance(o, NT) and o.requires_grad for o in others))
        t = NT(np.asarray(arr, dtype=np.float64) if np.asarray(arr).dtype != bool else np.asarray(arr),
               rg, leaf=not rg)
        t.layout_unknown = self.layout_unknown or any(
            isinstance(o, NT) and o.layout_unknown for o in others)
        return t

    def _view(self, arr, multi=False, overlap=False):
        if not isinstance(arr, np.ndarray) or arr.size and not np.shares_memory(arr, self.a):
            raise AssertionError("NP model: expected a view")
        rg = self.requires_grad and _Mode.grad_enabled
        t = NT(arr, rg, base=self.root(), leaf=not rg, multi=multi or self.multi,
               overlap=overlap or self.overlap)
        t.nograd_view = self.nograd_view or (self.requires_grad and not _Mode.grad_enabled)
        t.layout_unknown = self.layout_unknown
        return t

    def _inplace(self, values, *operands):
        values = np.broadcast_to(np.asarray(_arr(values), dtype=np.float64), self.a.shape)
        self.a[...] = values
        if _Mode.grad_enabled and any(isinstance(o, NT) and o.requires_grad for o in operands):
            for t in self.root().family:
                if not t.detached:
                    t.requires_grad, t.is_leaf = True, False
        return self

    # ---- elementwise
    def sin(self):
        return self._out(np.sin(self.a))

    def cos(self):
        return self._out(np.cos(self.a))

    def exp(self):
        return self._out(np.exp(self.a))

    def tanh(self):
        return self._out(np.tanh(self.a))

    def abs(self):
        return self._out(np.abs(self.a))

    def sigmoid(self):
        return self._out(1 / (1 + np.exp(-self.a)))

    def clamp(self, min=None, max=None):
        return self._out(np.clip(self.a, min, max))

    def __neg__(self):
        return self._out(-self.a)

    def __add__(self, o):
        return self._out(self.a + _arr(o), o)

    __radd__ = __add__

    def __sub__(self, o):
        return self._out(self.a - _arr(o), o)

    def __rsub__(self, o):
        return self._out(_arr(o) - self.a, o)

    def __mul__(self, o):
        return self._out(self.a * _arr(o), o)

    __rmul__ = __mul__

    def __truediv__(self, o):
        return self._out(self.a / _arr(o), o)

    def __rtruediv__(self, o):
        return self._out(_arr(o) / self.a, o)

    def __pow__(self, o):
        return self._out(self.a ** _arr(o), o)

    def __matmul__(self, o):
        return self._out(self.a @ _arr(o), o)

    def __gt__(self, o):
        return NT(self.a > _arr(o))

    def __lt__(self, o):
        return NT(self.a < _arr(o))

    def __bool__(self):
        return bool(self.a)

    # ---- reductions
    def sum(self, dim=None, keepdim=False):
        return self._out(np.sum(self.a, axis=dim, keepdims=keepdim))

    def mean(self, dim=None, keepdim=False):
        return self._out(np.mean(self.a, axis=dim, keepdims=keepdim))

    def prod(self, dim=None, keepdim=False):
        return self._out(np.prod(self.a, axis=dim, keepdims=keepdim))

    def amax(self, dim=None, keepdim=False):
        return self._out(np.amax(self.a, axis=dim, keepdims=keepdim))

    def max(self, dim=None, keepdim=False):
        if dim is None:
            return self._out(np.amax(self.a))
        return (self._out(np.amax(self.a, axis=dim, keepdims=keepdim)),
                NT(np.argmax(self.a, axis=dim)))

    def var(self, dim=None, keepdim=False):
        return self._out(np.var(self.a, axis=dim, ddof=1, keepdims=keepdim))

    def norm(self):
        return self._out(np.sqrt(np.sum(self.a * self.a)))

    def logsumexp(self, dim, keepdim=False):
        m = np.amax(self.a, axis=dim, keepdims=True)
        r = np.log(np.sum(np.exp(self.a - m), axis=dim, keepdims=True)) + m
        return self._out(r if keepdim else np.squeeze(r, axis=dim))

    def cumsum(self, dim):
        return self._out(np.cumsum(self.a, axis=dim))

    # ---- views
    def __getitem__(self, key):
        k, advanced = _key(key)
        r = self.a[k]
        if advanced:
            t = self._out(np.ascontiguousarray(r))
            # PyTorch lays the result out after the input's strides, NumPy its own way: whether
            # a later reshape is a view is unknown, so the generator does not reshape it
            t.layout_unknown = True
            return t
        return self._view(r)

    def __setitem__(self, key, value):
        k, _ = _key(key)
        self.a[k] = _arr(value)
        self._inplace(self.a, value)

    @property
    def T(self):
        return self._view(self.a.T)

    @property
    def mT(self):
        return self._view(np.swapaxes(self.a, -1, -2))

    def transpose(self, d0, d1):
        return self._view(np.swapaxes(self.a, d0, d1))

    def permute(self, *dims):
        return self._view(np.transpose(self.a, dims))

    def reshape(self, *shape):
        r = np.reshape(self.a, shape)
        return self._view(r) if np.shares_memory(r, self.a) else self._out(r.copy())

    def view(self, *shape):
        try:
            r = np.reshape(self.a, shape, copy=False)
        except ValueError:
            raise RuntimeError("view size is not compatible with input tensor's size and stride") from None
        return self._view(r)

    def flatten(self):
        if self.a.ndim == 1:
            return self
        return self.reshape(-1)

    def unsqueeze(self, d):
        return self._view(np.expand_dims(self.a, d))

    def squeeze(self, d=None):
        if d is None:
            return self._view(np.squeeze(self.a))
        if self.a.ndim and self.a.shape[d] == 1:
            return self._view(np.squeeze(self.a, axis=d))
        return self._view(self.a[...])

    def expand(self, *sizes):
        a = self.a
        new = len(sizes) - a.ndim
        shape, strides = [], []
        for i, s in enumerate(sizes):
            if i < new:
                shape.append(s)
                strides.append(0)
                continue
            n, st = a.shape[i - new], a.strides[i - new]
            if s == -1 or s == n:
                shape.append(n)
                strides.append(st)
            elif n == 1:
                shape.append(s)
                strides.append(0)
            else:
                raise RuntimeError("expand: bad size")
        r = np.lib.stride_tricks.as_strided(a, tuple(shape), tuple(strides), writeable=True)
        return self._view(r, overlap=any(st == 0 and n > 1 for n, st in zip(shape, strides)))

    def narrow(self, d, start, length):
        idx = [slice(None)] * self.a.ndim
        idx[d] = slice(start, start + length)
        return self._view(self.a[tuple(idx)])

    def _slices(self, sizes, d):
        out, start = [], 0
        for s in sizes:
            idx = [slice(None)] * self.a.ndim
            idx[d] = slice(start, start + s)
            out.append(self._view(self.a[tuple(idx)], multi=True))
            start += s
        return tuple(out)

    def split(self, size, dim=0):
        n = self.a.shape[dim]
        return self._slices([min(size, n - s) for s in range(0, n, size)], dim)

    def chunk(self, chunks, dim=0):
        n = self.a.shape[dim]
        return self.split(max(1, -(-n // chunks)), dim)

    def unbind(self, dim=0):
        out = []
        for i in range(self.a.shape[dim]):
            idx = [slice(None)] * self.a.ndim
            idx[dim] = i
            out.append(self._view(self.a[tuple(idx) + (Ellipsis,)], multi=True))
        return tuple(out)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        a = self.a
        d1, d2 = dim1 % a.ndim, dim2 % a.ndim
        idx = [slice(None)] * a.ndim
        if offset >= 0:
            idx[d2] = slice(offset, None)
        else:
            idx[d1] = slice(-offset, None)
        b = a[tuple(idx)]
        n = max(0, min(b.shape[d1], b.shape[d2]))
        keep = [i for i in range(a.ndim) if i not in (d1, d2)]
        shape = tuple(b.shape[i] for i in keep) + (n,)
        strides = tuple(b.strides[i] for i in keep) + (b.strides[d1] + b.strides[d2],)
        return self._view(np.lib.stride_tricks.as_strided(b, shape, strides, writeable=True))

    def detach(self):
        t = NT(self.a, False, base=self.root(), detached=True, overlap=self.overlap)
        return t

    # ---- copies
    def flip(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return self._out(np.flip(self.a, dims).copy(order="K"))

    def clone(self):
        return self._out(self.a.copy(order="K"))

    # ---- in place
    def add_(self, o, alpha=1):
        return self._inplace(self.a + _arr(o) * alpha, o)

    def sub_(self, o, alpha=1):
        return self._inplace(self.a - _arr(o) * alpha, o)

    def mul_(self, o):
        return self._inplace(self.a * _arr(o), o)

    def div_(self, o):
        return self._inplace(self.a / _arr(o), o)

    def zero_(self):
        return self._inplace(0.0)

    def fill_(self, v):
        return self._inplace(_arr(v), v)

    def clamp_(self, min=None, max=None):
        return self._inplace(np.clip(self.a, min, max))

    def copy_(self, src):
        return self._inplace(np.array(_arr(src)), src)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    # ---- autograd (no-ops)
    def register_hook(self, fn):
        return _Handle()

    def retain_grad(self):
        pass

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        pass

    def __repr__(self):
        return f"NT({self.a!r}, requires_grad={self.requires_grad})"


@contextlib.contextmanager
def _np_no_grad():
    old, _Mode.grad_enabled = _Mode.grad_enabled, False
    try:
        yield
    finally:
        _Mode.grad_enabled = old


def _np_tensor(data, dtype=None, requires_grad=False):
    return NT(np.array(_arr(data), dtype=np.float64), requires_grad, leaf=True)


def _np_grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
             allow_unused=False):
    return tuple(NT(np.zeros_like(i.a), create_graph, leaf=not create_graph) for i in inputs)


NP = types.SimpleNamespace(
    tensor=_np_tensor, float64=np.float64, no_grad=_np_no_grad,
    sin=lambda t: t.sin(), exp=lambda t: t.exp(), tanh=lambda t: t.tanh(),
    autograd=types.SimpleNamespace(grad=_np_grad), __name__="NP",
)


# =============================================================================================
# Programs
# =============================================================================================

@dataclass
class Stmt:
    src: str                      # what runs (leaves read their values from _V)
    op: str                       # label for grouping failures
    defs: tuple = ()              # names this statement binds
    repro: str | None = None      # what a user would type, if different from src
    phase: str = "body"           # leaf, body, loss, tail
    _code: object = field(default=None, repr=False, compare=False)

    def code(self):
        if self._code is None:
            self._code = compile(self.src, "<program>", "exec")
        return self._code


@dataclass
class Program:
    stmts: list
    values: dict                  # leaf name -> ndarray
    grad_leaves: list             # names of leaves created with requires_grad=True
    profile: str = "full"
    objective: tuple | None = None  # ("loss", name) | ("vjp", name, V) | None
    tail: str = "backward"
    numeric: bool = False         # gradients are derivatives of the objective (no detach & co.)
    tail_srcs: tuple = ()         # the backward statements (informational; cd_check reads the stmts)

    def with_stmts(self, stmts):
        return Program(stmts, self.values, self.grad_leaves, self.profile, self.objective,
                       self.tail, self.numeric, self.tail_srcs)

    def render(self, module="chainrule", observe=()):
        lines = [f"import {module} as cr"] if module == "chainrule" else [f"import {module} as cr  # the same program with PyTorch"]
        lines += [s.repro or s.src for s in self.stmts]
        for name in observe:
            lines.append(f"print({name!r}, {name})")
        return "\n".join(lines)

    def __str__(self):
        return self.render()

    def __repr__(self):
        return "\n" + self.render()


def _lit(a):
    """An array as the nested list a user would type, two decimals."""
    a = np.asarray(a)
    if a.ndim == 0:
        return repr(float(a))
    return "[" + ", ".join(_lit(x) for x in a) + "]"


def _leaf_values(draw, shape):
    seed = draw.integer(0, 2**31 - 1)
    v = np.random.default_rng(seed).integers(-200, 201, size=shape) / 100.0
    v = np.where(np.abs(v) < 0.05, 0.5, v)
    return np.asarray(v, dtype=np.float64)


SCALARS = [0.5, 2.0, -1.5, 0.25, 3.0, -0.75, 1.25]
CLAMPS = [(-0.7, None), (None, 0.9), (-0.35, 0.65), (0.15, 1.1)]
FILLS = [0.5, -1.25, 2.0, 0.0]


def _factorizations(n):
    out = []
    for a in range(1, n + 1):
        if n % a:
            continue
        out.append((a, n // a))
        for b in range(1, n // a + 1):
            if (n // a) % b == 0:
                out.append((a, b, n // a // b))
    return [(n,)] + out


PROFILES = {
    # name: category weights
    "basic": dict(unary=3, binary=3, reduce=1.5, copy=1.5, hook=0.8, retain=0.8, matmul=0.3),
    "views": dict(unary=2, binary=2, reduce=1, copy=1, view=5, multi=1, hook=0.6, retain=0.8,
                  detach=0.4),
    "inplace": dict(unary=2, binary=2, reduce=1, copy=1, inplace=4, setitem=2, hook=0.5,
                    retain=0.8, nograd=0.4),
    "full": dict(unary=2, binary=2, reduce=1, copy=1, view=4, multi=1, inplace=4, setitem=2,
                 hook=0.6, retain=0.8, detach=0.4, nograd=0.4, matmul=0.3),
    # torch-free checks: no detach / no_grad / scaling hooks, so gradients are derivatives
    "numeric": dict(unary=2, binary=2, reduce=1, copy=1, view=4, multi=1, inplace=4, setitem=2,
                    hook=0.5, retain=0.8, matmul=0.3),
    # bodies of functions under transforms: no hooks, no in-place on the argument or constants
    "function": dict(unary=3, binary=2, reduce=1, copy=1, view=3, multi=0.5, inplace=2,
                     setitem=1, matmul=0.3),
}


def _label(form):
    """A statement form as a short label: ``{a}.sum({d})`` -> ``t.sum(d)``."""
    out = form.replace("{a}", "t").replace("{b}", "u").replace("{s}", "s").replace("{k}", "[k]")
    return re.sub(r"\{(\w+)\}", lambda m: {"d": "d", "r": "shape"}.get(m.group(1), "…"), out)


def _partial_overlap(a, b):
    same = (a.shape == b.shape and a.strides == b.strides
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])
    return not same and np.shares_memory(a, b)


class _Gen:
    """Draw statements one at a time, executing each on the NumPy model as it goes."""

    target_array = None
    aliased = False

    def flag_alias(self):
        self.aliased = True
        return True

    def __init__(self, draw, profile):
        self.d = draw
        self.profile = profile
        self.weights = PROFILES[profile]
        self.ns = {"cr": NP, "_V": {}}
        self.stmts = []
        self.regs = []        # names bound to tensors, in order
        self.counter = 0
        self.values = {}
        self.grad_leaves = []
        _Mode.grad_enabled = True

    # ---- helpers
    def t(self, name):
        return self.ns[name]

    def fresh(self):
        self.counter += 1
        return f"t{self.counter}"

    def run(self, stmt):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(stmt.code(), self.ns)
        except Exception:
            _Mode.grad_enabled = True
            for name in stmt.defs:
                self.ns.pop(name, None)
            return False
        for name in stmt.defs:
            obj = self.ns.get(name)
            if isinstance(obj, NT) and obj.a.size > MAX_NUMEL:
                return False
        self.stmts.append(stmt)
        for name in stmt.defs:
            if isinstance(self.ns.get(name), NT) and name not in self.regs:
                self.regs.append(name)
        return True

    def pick(self, pred=lambda t: True, recent=True):
        names = [n for n in self.regs if isinstance(self.ns.get(n), NT) and pred(self.ns[n])]
        if not names:
            return None
        if recent and self.d.coin(0.5):
            names = names[-3:]
        return self.d.choice(names)

    def scalar(self):
        return self.d.choice(SCALARS)

    def operand_for(self, shape, allow_scalar=True):
        """A scalar, or a live tensor that broadcasts to ``shape``."""
        def fits(t):
            try:
                return np.broadcast_shapes(t.shape, shape) == tuple(shape)
            except ValueError:
                return False
        if allow_scalar and self.d.coin(0.35):
            return repr(self.scalar()), None
        # An operand partially overlapping the target: PyTorch refuses some such updates and
        # computes the others element by element (order-dependent results): drawn rarely, and
        # the statement is labelled "[aliased operand]".
        target, alias_ok = self.target_array, self.d.coin(0.05)
        name = self.pick(lambda t: fits(t) and (
            alias_ok or target is None or not _partial_overlap(t.a, target)))
        if name is None:
            return (repr(self.scalar()), None) if allow_scalar else (None, None)
        self.aliased = target is not None and _partial_overlap(self.ns[name].a, target)
        return name, self.ns[name]

    # ---- leaves
    def leaf(self, name, shape, requires_grad):
        v = _leaf_values(self.d, shape)
        self.values[name] = v
        rg = ", requires_grad=True" if requires_grad else ""
        self.ns["_V"][name] = v
        s = Stmt(f"{name} = cr.tensor(_V[{name!r}], dtype=cr.float64{rg})", "leaf", (name,),
                 repro=f"{name} = cr.tensor({_lit(v)}, dtype=cr.float64{rg})", phase="leaf")
        self.run(s)
        if requires_grad:
            self.grad_leaves.append(name)

    # ---- categories
    def g_unary(self):
        a = self.pick()
        out = self.fresh()
        form = self.d.choice([
            "{a}.sin()", "{a}.exp()", "{a}.tanh()", "cr.sin({a})", "cr.tanh({a})", "{a} * {s}",
            "{a} + {s}", "{s} - {a}", "-{a}", "{a}.clamp(min={lo}, max={hi})", "{a}.abs()",
            "{a}.sigmoid()", "{a} / {s}", "{a} ** 2", "({a} * 0.5).exp()",
        ])
        lo, hi = self.d.choice(CLAMPS)
        return Stmt(f"{out} = " + form.format(a=a, s=self.scalar(), lo=lo, hi=hi), _label(form), (out,))

    def g_binary(self):
        a = self.pick()
        sa = self.t(a).shape
        cands = [n for n in self.regs if isinstance(self.ns.get(n), NT)]
        def ok(n):
            try:
                return math.prod(np.broadcast_shapes(sa, self.t(n).shape)) <= MAX_NUMEL
            except ValueError:
                return False
        cands = [n for n in cands if ok(n)]
        b = self.d.choice(cands[-4:] if self.d.coin(0.5) else cands)
        out = self.fresh()
        form = self.d.choice(["{a} * {b}", "{a} + {b}", "{a} - {b}", "{a} / ({b}.tanh() + 2.0)",
                              "{a} * {b}.sin()"])
        return Stmt(f"{out} = " + form.format(a=a, b=b), _label(form), (out,))

    def g_reduce(self):
        a = self.pick(lambda t: t.ndim >= 1)
        if a is None:
            return None
        t = self.t(a)
        out = self.fresh()
        d = self.d.integer(0, t.ndim - 1)
        form = self.d.choice([
            "{a}.sum()", "{a}.sum({d})", "{a}.sum({d}, keepdim=True)", "{a}.mean()",
            "{a}.mean({d})", "{a}.prod({d})", "{a}.amax({d})", "{a}.max()", "{a}.max({d})[0]",
            "{a}.var({d})", "{a}.norm()", "{a}.logsumexp({d})", "{a}.cumsum({d})",
        ])
        if "var" in form and t.shape[d] < 2:
            form = "{a}.sum({d})"
        return Stmt(f"{out} = " + form.format(a=a, d=d), _label(form), (out,))

    def g_matmul(self):
        a = self.pick(lambda t: t.ndim == 2)
        if a is None:
            return None
        k = self.t(a).shape[1]
        b = self.pick(lambda t: t.ndim in (1, 2) and t.shape[0] == k)
        if b is None:
            return None
        out = self.fresh()
        return Stmt(f"{out} = {a} @ {b}", "matmul", (out,))

    def basic_keys(self, shape):
        keys = ["[:]", "[0]", "[-1]", "[None]"]
        if shape[0] >= 2:
            keys += ["[1:]", "[:-1]", "[::2]", "[1::2]", "[1]"]
        if len(shape) >= 2:
            keys += ["[:, 0]", "[..., 0]", "[0, 1:]", "[:, ::2]"]
            if shape[1] >= 2:
                keys += ["[:, 1]", "[:, 1:]", "[1:, 1]" if shape[0] >= 2 else "[:, -1]"]
        if len(shape) >= 3:
            keys += ["[:, :, 0]", "[0, :, 1]" if shape[2] >= 2 else "[0, :, 0]"]
        return keys

    def advanced_keys(self, shape, write=False):
        keys = []
        if shape[0] >= 2:
            keys += ["[[0, 1]]", "[[1, 0]]"]
            if not write:
                keys += ["[[1, 0, 1]]", "[[0, 0]]"]
        if len(shape) >= 2 and shape[1] >= 3:
            keys += ["[:, [0, 2]]", "[:, [2, 0]]"]
        if len(shape) >= 2 and shape[0] >= 2 and shape[1] >= 2:
            keys += ["[[0, 1], [1, 0]]"]
        return keys

    def g_view(self):
        a = self.pick()
        t = self.t(a)
        out = self.fresh()
        sh = t.shape
        forms = ["{a}.unsqueeze({u})", "{a}.detach()" if "detach" in self.weights else "{a}[:]",
                 "{a}.reshape({r})", "{a}.view({r})", "{a}.expand(2, {sizes})"]
        if t.ndim >= 1:
            forms += ["{a}{k}", "{a}{k}", "{a}{k}", "{a}.flatten()",
                      "{a}.narrow({d}, {start}, 1)", "{a}.squeeze()"]
            if 1 in sh:
                forms += ["{a}.squeeze({one})", "{a}.expand({exp})"]
        if t.layout_unknown:
            forms = [f for f in forms if not any(k in f for k in ("reshape", "view", "flatten"))]
        if t.ndim == 2:
            forms += ["{a}.T", "{a}.T", "{a}.diagonal()", "{a}.mT"]
        if t.ndim >= 2:
            forms += ["{a}.transpose(0, 1)", "{a}.transpose({d}, -1)", "{a}.permute({perm})",
                      "{a}.diagonal(1)", "{a}.diagonal(0, 0, -1)"]
        form = self.d.choice(forms)
        d = self.d.integer(0, t.ndim - 1) if t.ndim else 0
        perm = list(range(t.ndim))
        if t.ndim >= 2:
            perm = perm[1:] + perm[:1] if self.d.coin(0.5) else perm[::-1]
        fact = [f for f in _factorizations(t.numel()) if f != sh]
        r = self.d.choice(fact) if fact else (-1,)
        text = form.format(
            a=a, u=self.d.integer(-1, t.ndim) if t.ndim else 0,
            r=", ".join(map(str, r)), sizes=", ".join(map(str, sh)) or "",
            k=self.d.choice(self.basic_keys(sh)) if t.ndim else "[...]", d=d,
            start=self.d.integer(0, max(0, sh[d] - 1)) if t.ndim else 0,
            one=sh.index(1) if 1 in sh else 0, perm=", ".join(map(str, perm)),
            exp=", ".join("3" if n == 1 else "-1" for n in sh),
        ).replace("expand(2, )", "expand(2)")
        return Stmt(f"{out} = {text}", _label(form).replace("t[k]", "t[basic]"), (out,))

    def g_multi(self):
        a = self.pick(lambda t: t.ndim >= 1 and t.shape[0] <= 4)
        if a is None:
            return None
        t = self.t(a)
        d = self.d.integer(0, t.ndim - 1)
        n = t.shape[d]
        form = self.d.choice(["split", "chunk", "unbind"])
        if form == "split":
            call = f"{a}.split({self.d.integer(1, max(1, n - 1))}, {d})"
        elif form == "chunk":
            call = f"{a}.chunk(2, {d})"
        else:
            call = f"{a}.unbind({d})"
        count = len(eval(call, self.ns))
        if count > 4 or count == 0:
            return None
        if count == 1 or self.d.coin(0.3):
            out = self.fresh()
            return Stmt(f"{out} = {call}[{self.d.integer(0, count - 1)}]", form, (out,))
        outs = tuple(self.fresh() for _ in range(count))
        return Stmt(f"{', '.join(outs)} = {call}", form, outs)

    def g_copy(self):
        a = self.pick(lambda t: t.ndim >= 1)
        if a is None:
            return None
        t = self.t(a)
        out = self.fresh()
        keys = self.advanced_keys(t.shape)
        forms = ["{a}.flip(0)", "{a}.clone()", "{a}[{a} > 0]"] + (["{a}{k}"] * 2 if keys else [])
        if t.ndim >= 2:
            forms.append("{a}.flip(-1)")
        form = self.d.choice(forms)
        label = _label(form).replace("t[k]", "t[advanced]")
        return Stmt(f"{out} = " + form.format(a=a, k=self.d.choice(keys) if keys else ""), label, (out,))

    def _target(self):
        """A live tensor to modify in place, mostly one PyTorch allows."""
        def allowed(t):
            if t.requires_grad and t.is_leaf:
                return False
            if t.base is not None and t.root().requires_grad and t.root().is_leaf and not t.detached:
                return False
            if t.multi and t.requires_grad or t.overlap or t.nograd_view:
                return False
            if self.profile == "function" and (not t.requires_grad or t.is_leaf):
                return False
            return True
        if self.profile != "function" and self.d.coin(0.08):
            return self.pick()
        return self.pick(allowed)

    def _wrap_nograd(self, stmt):
        if "nograd" in self.weights and self.d.coin(0.25):
            stmt.src = "with cr.no_grad():\n    " + stmt.src
            stmt.op += " [no_grad]"
        return stmt

    def g_inplace(self):
        a = self._target()
        if a is None:
            return None
        t = self.t(a)
        self.target_array, self.aliased = t.a, False
        kind = self.d.choice(["add_", "mul_", "sub_", "div_", "zero_", "fill_", "clamp_",
                              "copy_", "+=", "*=", "-="])
        if self.profile == "function" and kind in ("zero_", "fill_"):
            kind = "add_"
        if kind in ("zero_",):
            src = f"{a}.zero_()"
        elif kind == "fill_":
            src = f"{a}.fill_({self.d.choice(FILLS)})"
        elif kind == "clamp_":
            lo, hi = self.d.choice(CLAMPS)
            src = f"{a}.clamp_(min={lo}, max={hi})"
        else:
            name, other = self.operand_for(t.shape, allow_scalar=kind != "copy_")
            if name is None:
                return None
            if self.profile == "function" and other is not None and other.requires_grad and not t.requires_grad:
                name = repr(self.scalar())
            if kind == "div_":
                src = f"{a}.div_({name}.tanh() + 2.0)" if other is not None else f"{a}.div_({name})"
                self.aliased = False
            elif kind in ("+=", "*=", "-="):
                src = f"{a} {kind} {name}"
            elif kind in ("add_", "sub_") and self.d.coin(0.2):
                src = f"{a}.{kind}({name}, alpha={self.scalar()})"
            else:
                src = f"{a}.{kind}({name})"
        return self._wrap_nograd(Stmt(src, "inplace " + kind + self._alias_label()))

    def _alias_label(self):
        label = " [aliased operand]" if self.aliased else ""
        self.target_array, self.aliased = None, False
        return label

    def g_setitem(self):
        a = self._target()
        if a is None or not self.t(a).ndim:
            return None
        t = self.t(a)
        self.target_array, self.aliased = t.a, False
        adv = self.advanced_keys(t.shape, write=True)
        kind = self.d.weighted([("basic", 3), ("advanced", 1.5 if adv else 0), ("mask", 0.7)])
        if kind == "basic":
            key = self.d.choice(self.basic_keys(t.shape))
        elif kind == "advanced":
            key = self.d.choice(adv)
        else:
            key = f"[{a} > 0]"
        if kind == "mask":
            value = repr(self.scalar())
        else:
            dest = eval(f"{a}{key}", self.ns)
            if kind == "basic":
                self.target_array = dest.a   # PyTorch compares the operand with the written view
            value, other = self.operand_for(dest.shape)
            if self.profile == "function" and other is not None and other.requires_grad and not t.requires_grad:
                value = repr(self.scalar())
            if other is not None and self.d.coin(0.4):
                value = f"{value}.sin()"
                self.aliased = False
        return self._wrap_nograd(Stmt(f"{a}{key} = {value}", f"setitem({kind})" + self._alias_label()))

    def g_hook(self):
        a = self.pick(lambda t: t.requires_grad)
        if a is None:
            return None
        scale = 1.0 if self.profile == "numeric" else self.d.choice([2.0, -0.5, 3.0])
        if self.d.coin(0.15):
            h = f"h{self.counter}"
            self.counter += 1
            return Stmt(f"{h} = {a}.register_hook(lambda g: g * {scale})\n{h}.remove()",
                        "register_hook+remove")
        fn = self.d.choice([f"lambda g: g * {scale}", "lambda g: None"])
        return Stmt(f"{a}.register_hook({fn})", "register_hook")

    def g_retain(self):
        a = self.pick(lambda t: t.requires_grad and not t.is_leaf)
        if a is None:
            return None
        return Stmt(f"{a}.retain_grad()", "retain_grad")

    def g_detach(self):
        a = self.pick()
        out = self.fresh()
        return Stmt(f"{out} = {a}.detach()", "detach", (out,))

    def g_nograd(self):
        a = self.pick()
        out = self.fresh()
        return Stmt(f"with cr.no_grad():\n    {out} = {a}.sin() * 2.0", "no_grad op", (out,))

    # ---- whole program
    def body(self, n):
        cats = [(c, w) for c, w in self.weights.items()]
        tries = 0
        while n > 0 and tries < 4 * n + 10:
            tries += 1
            cat = self.d.weighted(cats)
            try:
                stmt = getattr(self, "g_" + cat)()
            except Exception:  # noqa: BLE001 - a draw the model cannot run: draw again
                _Mode.grad_enabled = True
                stmt = None
            if stmt is not None and self.run(stmt):
                n -= 1

    def loss(self):
        self.run(Stmt("loss = 0.0", "loss", ("loss",), phase="loss"))
        names = [n for n in self.regs if n != "loss" and self.t(n).requires_grad]
        if not names:
            names = [n for n in self.regs if n != "loss"]
        k = self.d.integer(1, min(3, len(names)))
        chosen = []
        for _ in range(k):
            n = self.d.choice(names[-4:] if self.d.coin(0.6) else names)
            if n in chosen:
                continue
            chosen.append(n)
            form = self.d.choice(["{n}.sum()", "({n} * {n}).sum()", "{n}.sin().sum()",
                                  "{n}.tanh().sum()", "({n} * 1.5).cos().sum()"])
            self.run(Stmt("loss = loss + " + form.format(n=n), "loss", ("loss",), phase="loss"))

    def tail(self, variants):
        kind = self.d.weighted(variants)
        loss = self.t("loss")
        if kind == "backward_v":
            name = self.pick(lambda t: t.requires_grad and t.numel() > 1 and not t.is_leaf)
            if name is None:
                kind = "backward"
            else:
                v = _leaf_values(self.d, self.t(name).shape)
                self.ns["_V"]["_v"] = v
                self.values["_v"] = v
                self.run(Stmt(f"{name}.backward(cr.tensor(_V['_v'], dtype=cr.float64))", "backward(v)",
                              repro=f"{name}.backward(cr.tensor({_lit(v)}, dtype=cr.float64))",
                              phase="tail"))
                return kind, ("vjp", name, v)
        if kind == "grad2":
            leaves = [n for n in self.grad_leaves if self.t(n).is_leaf and self.t(n).requires_grad]
            if not leaves or not loss.requires_grad:
                kind = "backward"
            else:
                gs = [f"g{n[1:]}" for n in leaves]
                lhs = ", ".join(gs) + ("," if len(gs) == 1 else "")
                self.run(Stmt(f"{lhs} = cr.autograd.grad(loss, [{', '.join(leaves)}], create_graph=True, allow_unused=True)",
                              "autograd.grad(create_graph)", tuple(gs), phase="tail"))
                self.run(Stmt("gg = loss * 0.0", "grad2", ("gg",), phase="tail"))
                for g in gs:
                    self.run(Stmt(f"gg = gg + ({g} * {g}.tanh()).sum() if {g} is not None else gg",
                                  "grad2", ("gg",), phase="tail"))
                self.run(Stmt("gg.backward()", "second backward", phase="tail"))
                return kind, ("loss", "loss")
        if kind == "backward":
            self.run(Stmt("loss.backward()", "backward", phase="tail"))
        elif kind == "twice":
            self.run(Stmt("loss.backward(retain_graph=True)", "backward(retain_graph)", phase="tail"))
            self.run(Stmt("loss.backward()", "backward again", phase="tail"))
        elif kind == "twice_mut":
            self.run(Stmt("loss.backward(retain_graph=True)", "backward(retain_graph)", phase="tail"))
            for _ in range(self.d.integer(1, 2)):
                try:
                    stmt = self.g_inplace() if self.d.coin(0.6) else self.g_setitem()
                except Exception:  # noqa: BLE001 - a draw the model cannot run (an empty tensor)
                    _Mode.grad_enabled = True
                    stmt = None
                if stmt is not None:
                    stmt.phase = "tail"
                    self.run(stmt)
            if self.grad_leaves and self.d.coin(0.5):
                self.run(Stmt(f"{self.d.choice(self.grad_leaves)}.grad = None", "grad = None", phase="tail"))
            self.run(Stmt("loss.backward()", "backward after mutation", phase="tail"))
        return kind, ("loss", "loss")


TAILS = {
    "numeric": [("backward", 3), ("backward_v", 1), ("twice", 1), ("grad2", 1)],
    "default": [("backward", 3), ("backward_v", 1), ("twice", 1), ("twice_mut", 1), ("grad2", 1.2)],
}


def generate(draw, profile="full", max_stmts=12):
    g = _Gen(draw, profile)
    nleaves = draw.integer(1, 3)
    for i in range(nleaves):
        shape = draw.choice(SHAPES[:3] if i == 0 else SHAPES)
        rg = i == 0 or draw.coin(0.6)
        g.leaf(f"x{i}" if rg else f"c{i}", shape, rg)
    g.body(draw.integer(2, max_stmts))
    g.loss()
    tail, objective = g.tail(TAILS["numeric" if profile == "numeric" else "default"])
    _Mode.grad_enabled = True
    tail_srcs = tuple(s.src for s in g.stmts if s.phase == "tail" and "backward" in s.src
                      or s.op == "autograd.grad(create_graph)")
    return Program(g.stmts, g.values, g.grad_leaves, profile, objective, tail,
                   numeric=profile == "numeric", tail_srcs=tail_srcs)


_LEAF = re.compile(r"^(\w+) = cr\.tensor\((.*), dtype=cr\.float64(, requires_grad=True)?\)$", re.S)


def program_from_source(text, numeric=True):
    """A Program from the text ``Program.render()`` prints (a repro), so repros can be re-checked."""
    import ast
    lines = [ln for ln in text.strip().splitlines() if not ln.startswith(("import ", "print("))]
    tree = ast.parse("\n".join(lines))
    src_lines = "\n".join(lines).splitlines()
    stmts, values, grad_leaves, tail = [], {}, [], "backward"
    for node in tree.body:
        src = "\n".join(src_lines[node.lineno - 1:node.end_lineno])
        defs = tuple(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
        m = _LEAF.match(src)
        if m and m.group(1)[0] in "xc":
            name = m.group(1)
            values[name] = np.array(ast.literal_eval(m.group(2)), dtype=np.float64)
            rg = ", requires_grad=True" if m.group(3) else ""
            if rg:
                grad_leaves.append(name)
            stmts.append(Stmt(f"{name} = cr.tensor(_V[{name!r}], dtype=cr.float64{rg})", "leaf", (name,),
                              repro=src, phase="leaf"))
            continue
        phase = "tail" if ("backward" in src or "autograd.grad" in src or src.startswith("gg")) else (
            "loss" if src.startswith("loss") else "body")
        if "backward(retain_graph=True)" in src:
            tail = "twice"
        if "autograd.grad" in src:
            tail = "grad2"
        stmts.append(Stmt(src, "repro", defs, phase=phase))
    objective = ("loss", "loss") if any(s.phase == "loss" for s in stmts) else None
    backwards = [s.src for s in stmts if "backward" in s.src]
    if tail == "twice" and len(backwards) < 2:
        tail = "backward"
    tail_srcs = tuple(s.src for s in stmts if s.phase == "tail" and "backward" in s.src
                      or "autograd.grad" in s.src)
    program = Program(stmts, values, grad_leaves, "repro", objective, tail, False, tail_srcs)
    program.numeric = numeric and not any(
        k in text for k in (".detach()", "no_grad")) and _cd_freezes(program)[1] is None
    return program


def programs(profile="full", max_stmts=12):
    """Hypothesis strategy of programs (exploration: not deterministic across test orders, as
    Hypothesis draws constants from the modules imported so far)."""
    from hypothesis import strategies as st

    @st.composite
    def strat(draw):
        return generate(HypothesisDraw(draw), profile, max_stmts)

    return strat()


# =============================================================================================
# Running and comparing
# =============================================================================================

def backends():
    import chainrule
    out = {"chainrule": chainrule}
    try:
        import torch
        out["torch"] = torch
    except ImportError:
        pass
    return out


@contextlib.contextmanager
def pinned_state(mods=None):
    """Run the harness with every process-wide setting it depends on pinned to its default, and
    put back what it found on exit.

    Generation and checking must not depend on what ran before them in the same process (CI runs
    the whole suite in one process): chainrule's and PyTorch's default dtype, grad mode, anomaly
    mode (which changes PyTorch's errors), inference mode, PyTorch's thread count (a float64
    reduction's rounding may depend on it; one thread is also the fastest for these
    sizes), NumPy's floating-point error handling (``seterr``
    'raise' would make the NumPy model raise), the harness's own NumPy-model grad mode.  The
    random programs draw from their own ``random.Random``/``numpy`` generators, never from the
    global ones (or Hypothesis, whose choices depend on the modules imported so far).
    """
    mods = mods or backends()
    cr = mods["chainrule"]
    torch = mods.get("torch")
    with contextlib.ExitStack() as stack:
        stack.enter_context(np.errstate(divide="warn", over="warn", under="ignore", invalid="warn"))
        old_cr_dtype = cr.get_default_dtype()
        cr.set_default_dtype(cr.float32)
        stack.callback(cr.set_default_dtype, old_cr_dtype)
        stack.enter_context(cr.enable_grad())
        if cr.autograd.is_anomaly_enabled():
            stack.enter_context(cr.autograd.detect_anomaly(check_nan=False))
        if torch is not None:
            old_dtype, old_threads = torch.get_default_dtype(), torch.get_num_threads()
            torch.set_default_dtype(torch.float32)
            stack.callback(torch.set_default_dtype, old_dtype)
            torch.set_num_threads(1)
            stack.callback(torch.set_num_threads, old_threads)
            stack.enter_context(torch.inference_mode(False))
            stack.enter_context(torch.enable_grad())
            stack.enter_context(torch.autograd.set_detect_anomaly(False))
        old_mode, _Mode.grad_enabled = _Mode.grad_enabled, True
        stack.callback(setattr, _Mode, "grad_enabled", old_mode)
        yield mods


@dataclass
class Outcome:
    ns: dict
    error: tuple | None = None   # (statement index, exception)


def run(program, module, values=None, upto=None):
    ns = {"cr": module, "_V": dict(values if values is not None else program.values)}
    stmts = program.stmts if upto is None else program.stmts[:upto]
    torch_like = getattr(module, "__name__", "") == "torch"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, s in enumerate(stmts):
            if torch_like and "register_hook" in s.src:
                # PyTorch 2.13 segfaults in register_hook on a view whose base was modified in
                # place until the view's grad_fn has been regenerated: read it first.
                for name in re.findall(r"(\w+)\.register_hook", s.src):
                    with contextlib.suppress(Exception):
                        ns[name].grad_fn  # noqa: B018
            try:
                exec(s.code(), ns)
            except Exception as e:  # noqa: BLE001 - every exception is an outcome
                _Mode.grad_enabled = True
                return Outcome(ns, (i, e))
    _Mode.grad_enabled = True
    return Outcome(ns, None)


def _is_tensor(x):
    return hasattr(x, "detach") and hasattr(x, "shape") and not isinstance(x, np.ndarray)


def _np(x):
    if x is None:
        return None
    if isinstance(x, NT):
        return np.array(x.a, dtype=np.float64)
    try:
        return np.array(x.detach().numpy(), dtype=np.float64, copy=True)
    except RuntimeError as e:
        if "ZeroTensor" in str(e):  # torch.func's symbolic zeros
            return np.zeros(tuple(x.shape))
        raise


def observe(program, ns, grads=True):
    obs = {}
    names = []
    for s in program.stmts:
        for n in s.defs:
            if n not in names:
                names.append(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in names:
            x = ns.get(n)
            if x is None and n in ns:
                obs[n] = ("None",)
            elif _is_tensor(x):
                rec = {}
                fields = {"value": lambda x=x: _np(x)}
                if grads and not isinstance(x, NT):
                    fields.update(grad=lambda x=x: _np(x.grad),
                                  requires_grad=lambda x=x: bool(x.requires_grad),
                                  is_leaf=lambda x=x: bool(x.is_leaf))
                for f, get in fields.items():
                    try:
                        rec[f] = get()
                    except Exception as e:  # noqa: BLE001 - torch refuses some accesses
                        rec[f] = _Raised(e)
                obs[n] = rec
    return obs


class _Raised:
    """An attribute access that raised (PyTorch refuses some on invalidated views)."""

    def __init__(self, e):
        self.e = e

    def __repr__(self):
        return f"<raises {exc_text(self.e)}>"


def close(a, b, rtol=RTOL, atol=1e-12):
    if a is None or b is None:
        return a is None and b is None
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    both_nan = np.isnan(a) & np.isnan(b)
    same_inf = np.isinf(a) & (a == b)
    scale = max(1.0, float(np.nanmax(np.abs(np.where(np.isfinite(a), a, 0)), initial=0.0)))
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.abs(a - b) <= rtol * np.maximum(np.abs(a), np.abs(b)) + atol * scale
    return bool(np.all(ok | both_nan | same_inf))


def compare_obs(ref, got, fields=("value", "grad", "requires_grad", "is_leaf"), rtol=RTOL):
    """Differences between two observations: [(field, name, ref, got)]."""
    out = []
    for n, r in ref.items():
        g = got.get(n)
        if not isinstance(r, dict) or not isinstance(g, dict):
            if (r == ("None",)) != (g == ("None",)) or (g is None) != (r is None):
                out.append(("value", n, r, g))
            continue
        for f in fields:
            if f not in r or f not in g:
                continue
            if isinstance(r[f], _Raised) or isinstance(g[f], _Raised):
                if isinstance(g[f], _Raised) and not isinstance(r[f], _Raised):
                    out.append((f, n, r[f], g[f]))
                continue
            if f in ("requires_grad", "is_leaf"):
                if r[f] != g[f]:
                    out.append((f, n, r[f], g[f]))
            elif not close(r[f], g[f], rtol):
                out.append((f, n, r[f], g[f]))
    return out


_CR_DIR = None


def is_raw(exc):
    """An exception that is not a chainrule error naming the operation: a bare NumPy/Python one."""
    global _CR_DIR
    if _CR_DIR is None:
        import chainrule
        _CR_DIR = os.path.dirname(os.path.abspath(chainrule.__file__))
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return True
    if last.tb_frame.f_code.co_filename == "<program>":
        # raised by the program's own text: chainrule's fault only for a missing Tensor method
        return isinstance(exc, AttributeError) and "Tensor" in str(exc)
    fname = os.path.abspath(last.tb_frame.f_code.co_filename)
    if not fname.startswith(_CR_DIR):
        return True
    if not isinstance(exc, (ValueError, TypeError, RuntimeError, IndexError, NotImplementedError)):
        return True
    line = linecache.getline(fname, last.tb_lineno)
    if "raise" not in line:
        return True
    return not str(exc).strip()


def where(exc):
    tb, last = exc.__traceback__, None
    while tb is not None:
        last, tb = tb, tb.tb_next
    if last is None:
        return "?"
    return f"{os.path.basename(last.tb_frame.f_code.co_filename)}:{last.tb_lineno}"


def _stem(msg):
    msg = str(msg).strip().split("\n")[0]
    msg = re.sub(r"\d+", "#", msg)
    msg = re.sub(r"\(#(, #)*,?\)", "(shape)", msg)
    msg = re.sub(r"\[#(, #)*\]", "[shape]", msg)
    msg = re.sub(r"'[^']*'", "'…'", msg)
    return msg[:90]


def _unop(stem):
    """A chainrule message without its leading operation name (``pow: its output…``)."""
    return re.sub(r"^[\w.#]+: ", "", stem)


def exc_text(e):
    return f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"[:300]


@dataclass
class Failure:
    kind: str                  # mismatch, spurious error, missing error, raise site, raw traceback,
                               # numeric, forward-vs-numpy, harness
    signature: str             # coarse class key
    detail: str
    program: Program
    torch_said: str = ""
    chainrule_said: str = ""
    observe: tuple = ()


def _fmt(x):
    if isinstance(x, np.ndarray):
        text = np.array2string(x, precision=6, suppress_small=True, separator=", ").replace("\n", " ")
        return f"{text} (shape {x.shape})" if x.ndim > 1 else text
    return repr(x)


def _op_at(program, i):
    return program.stmts[i].op if 0 <= i < len(program.stmts) else "?"


def check_program(program, mods=None, numeric=True):
    """All failures of one program: chainrule against torch (if there), the NumPy model, and
    central differences."""
    mods = mods or backends()
    cr_mod, torch_mod = mods["chainrule"], mods.get("torch")
    failures = []
    oc = run(program, cr_mod)
    if oc.error is not None and is_raw(oc.error[1]):
        e = oc.error[1]
        failures.append(Failure("raw traceback", f"raw traceback | {_op_at(program, oc.error[0])} | {type(e).__name__} at {where(e)}",
                                f"statement {oc.error[0]} `{program.stmts[oc.error[0]].src}` raised {exc_text(e)}",
                                program, chainrule_said=exc_text(e)))
    ot = None
    if torch_mod is not None:
        ot = run(program, torch_mod)
        if ot.error and not oc.error and _hook_got_none(ot.error[1]):
            i, e = ot.error
            failures.append(Failure(
                "note", "note | torch calls a tensor hook with None",
                f"torch raises at statement {i} `{program.stmts[i].src}` inside a hook given None",
                program, torch_said=exc_text(e), chainrule_said="(no error)"))
        elif ot.error and not oc.error:
            i, e = ot.error
            where_ = "" if "is a view and its base" in str(e) else f"{_op_at(program, i)} | "
            failures.append(Failure(
                "missing error", f"missing error | {where_}torch: {_stem(e)}",
                f"torch raises at statement {i} `{program.stmts[i].src}`; chainrule does not",
                program, torch_said=exc_text(e), chainrule_said="(no error)"))
        elif oc.error and not ot.error:
            i, e = oc.error
            failures.append(Failure(
                "spurious error", f"spurious error | {_op_at(program, i)} | {type(e).__name__}: {_stem(e)}",
                f"chainrule raises at statement {i} `{program.stmts[i].src}`; torch does not",
                program, torch_said="(no error)", chainrule_said=exc_text(e)))
        elif oc.error and ot.error:
            if oc.error[0] != ot.error[0]:
                (i, e), (j, f) = ot.error, oc.error
                first = "chainrule earlier" if j < i else "chainrule later"
                failures.append(Failure(
                    "raise site", f"raise site | torch: {_stem(e)[:50]} | chainrule "
                                  f"{'earlier' if j < i else 'later'}: {type(f).__name__}: {_unop(_stem(f))[:50]}",
                    f"{first}: torch raises at statement {i}, chainrule at statement {j}",
                    program, torch_said=f"[{i}] " + exc_text(e), chainrule_said=f"[{j}] " + exc_text(f)))
        else:
            rt, rc = observe(program, ot.ns), observe(program, oc.ns)
            if program.tail == "grad2":
                # torch's autograd.grad also fills retained non-leaf .grad (SPEC: "without touching
                # .grad"); test_autograd_grad_and_retained_grad covers that alone
                for n, rec in rt.items():
                    if isinstance(rec, dict) and rec.get("is_leaf") is False and n in rc:
                        rec.pop("grad", None)
            diffs = compare_obs(rt, rc)
            if diffs:
                f, n, a, b = diffs[0]
                origin = _definer(program, n)
                after = _last_inplace(program, n)
                sig = f"mismatch | {f}{after}" if after and f != "value" else f"mismatch | {f} of {origin}{after}"
                if any("[aliased operand]" in s.op for s in program.stmts):
                    sig = "mismatch | in-place update with a partially aliased operand (torch: element order)"
                elif f == "grad" and _zeros_vs_none(a, b):
                    sig = "mismatch | .grad None where torch has zeros (or the reverse)"
                failures.append(Failure(
                    "mismatch", sig,
                    "; ".join(f"{f}({n})" for f, n, _, _ in diffs[:6]), program,
                    torch_said=f"{n}.{f} = {_fmt(a)}", chainrule_said=f"{n}.{f} = {_fmt(b)}",
                    observe=tuple(dict.fromkeys(_obs_expr(f, n) for f, n, _, _ in diffs[:3]))))
    # The NumPy model: forward values (torch-free).
    om = run(program, NP)
    if om.error is None:
        forward = _forward_names(program)
        rm = {n: v for n, v in observe(program, om.ns, grads=False).items() if n in forward}
        if not oc.error:
            diffs = compare_obs(rm, observe(program, oc.ns, grads=False), ("value",))
            if diffs:
                _, n, a, b = diffs[0]
                failures.append(Failure(
                    "forward value", f"forward value | {_definer(program, n)}",
                    f"value of {n} differs from NumPy's view semantics", program,
                    torch_said=f"NumPy model: {n} = {_fmt(a)}", chainrule_said=f"{n} = {_fmt(b)}",
                    observe=(n,)))
        if ot is not None and not ot.error and not any("[aliased operand]" in s.op for s in program.stmts):
            diffs = compare_obs(rm, observe(program, ot.ns, grads=False), ("value",))
            if diffs:
                _, n, a, b = diffs[0]
                failures.append(Failure("harness", f"harness | NumPy model vs torch | {_definer(program, n)}",
                                        f"{n}: model {_fmt(a)} torch {_fmt(b)}", program))
    # Central differences (torch-free): only where gradients are derivatives of the objective.
    verdict = None
    if numeric and program.numeric and not oc.error and om.error is None:
        verdict = cd_check(program, oc.ns, mods)
        if verdict[0] == "bad":
            (kind, n, leaf), a, b = verdict[1:]
            failures.append(Failure(
                "numeric", f"numeric | {program.tail}",
                f"{_cd_name(kind, n, leaf)} differs from central differences", program,
                torch_said=f"central differences: {_fmt(a)}", chainrule_said=f"{_cd_name(kind, n, leaf)} = {_fmt(b)}",
                observe=(f"{n}.grad" if kind == "grad" else n,)))
    missing = [f for f in failures if f.kind == "missing error"]
    if missing:
        # PyTorch raises, chainrule computes: a note if chainrule's numbers are right (PyTorch
        # saved a tensor chainrule does not need), a failure if they are not or cannot be checked
        if any(f.kind in ("forward value", "raw traceback") for f in failures):
            verdict = ("unavailable", "forward values differ from the NumPy model")
        elif verdict is None:
            verdict = cd_check(program, oc.ns, mods)
        for f in missing:
            _classify_missing(f, verdict)
    return failures


def _cd_name(kind, name, leaf):
    return f"{name}.grad" if kind == "grad" else f"{name} (d/d{leaf})"


def _classify_missing(f, verdict):
    """A missing error becomes a note when chainrule's gradients match central differences."""
    if verdict[0] == "ok":
        f.kind, f.signature = "note", "note | " + f.signature
        f.detail += "; chainrule's gradients match central differences"
    elif verdict[0] == "bad":
        (kind, n, leaf), a, b = verdict[1:]
        f.signature += " | gradients differ from central differences"
        f.detail += f"; {_cd_name(kind, n, leaf)} differs from central differences {_fmt(a)}: {_fmt(b)}"
    else:
        # the reason stays out of the signature: shrinking may then drop one of several
        f.signature += " | unverified"
        f.detail += f"; chainrule's gradients cannot be checked by central differences ({verdict[1]})"


def _hook_got_none(exc):
    """PyTorch called one of the program's hooks (``lambda g: g * s``) with None."""
    tb, last = exc.__traceback__, None
    while tb is not None:
        last, tb = tb, tb.tb_next
    return (isinstance(exc, TypeError) and "NoneType" in str(exc) and last is not None
            and last.tb_frame.f_code.co_filename == "<program>"
            and last.tb_frame.f_code.co_name == "<lambda>")


def _zeros_vs_none(a, b):
    def zero(x):
        return isinstance(x, np.ndarray) and not np.any(x)
    return (a is None and zero(b)) or (b is None and zero(a))


def _obs_expr(f, n):
    return f"{n}.grad" if f == "grad" else (f"{n}.{f}" if f in ("requires_grad", "is_leaf") else n)


def _definer(program, name):
    for s in program.stmts:
        if name in s.defs:
            return s.op if s.phase != "leaf" else ("leaf" if name[0] == "x" else "constant")
    return "?"


def _last_inplace(program, name):
    """`` after <op>`` for the last in-place statement applied to ``name`` itself, if any."""
    label = ""
    pat = re.compile(rf"(^|\s){re.escape(name)}(\[| [-+*/]=|\.\w+_\()")
    for s in program.stmts:
        if s.op.startswith(("inplace", "setitem")) and pat.search(s.src):
            label = f" after {s.op}"
    return label


def names_ok(stmts, known=("cr", "_V", "T")):
    """Every name a statement reads is bound by an earlier one (shrinking must keep it so)."""
    import ast
    import builtins
    bound = set(known) | set(dir(builtins))
    for s in stmts:
        for top in ast.parse(s.src).body:
            local = set()
            for node in ast.walk(top):
                if isinstance(node, ast.Lambda):
                    local.update(a.arg for a in node.args.args)
            for node in ast.walk(top):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    if node.id not in bound and node.id not in local:
                        return False
            for node in ast.walk(top):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    bound.add(node.id)
    return True


def _forward_names(program):
    out = set()
    for s in program.stmts:
        if s.phase != "tail":
            out.update(s.defs)
    return out


_BACKWARD = re.compile(r"^(\w+)\.backward\((.*)\)$")
_AUTOGRAD = re.compile(r"^(.+?) = cr\.autograd\.grad\((\w+), \[([\w, ]*)\]")
_GRAD_NONE = re.compile(r"^(\w+)\.grad = None$")
_SCALING_HOOK = re.compile(r"register_hook\(lambda g: g \* (-?[\d.]+)\)")


def _reads(src):
    """The names a statement reads (``t += u`` reads t too)."""
    import ast
    tree = ast.parse(src)
    out = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    out |= {n.target.id for n in ast.walk(tree) if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)}
    return out


_INPLACE = re.compile(r"^(\w+)(\[.*\] = |\s*[-+*/]= |\.(?:add|sub|mul|div|zero|fill|clamp|copy)_\()", re.S)


def _inplace_target(src):
    """The name a statement updates in place (``t.add_(…)``, ``t[k] = v``, ``t += v``), or None."""
    m = _INPLACE.match(src)
    return m.group(1) if m else None


def _cd_freezes(program):
    """What central differences must hold fixed for the gradients to be derivatives.

    Autograd treats a value computed under ``no_grad`` as a constant although it depends on the
    leaves: while central differences move the leaves, such a value (a tensor made under
    ``no_grad``, or a constant tensor updated under ``no_grad``) is held at what it was at the
    leaves' values; so is a ``detach()``ed tensor (as a copy: the model's detach shares memory),
    where nothing writes to its memory after.  A leaf updated under ``no_grad`` (an optimizer's
    step) takes its new value plus the offset the differences gave it.

    Returns ``({statement index: [(name, how, values)]}, None)``, or ``(None, why)`` where the
    gradients are no derivative of a function of the leaves: a hook that scales the gradient, an
    update under ``no_grad`` of a tensor with history (autograd keeps the old history for the
    new values), an update of memory a ``detach()``ed tensor shares (not modelled)."""
    stmts = program.stmts
    for s in stmts:
        m = _SCALING_HOOK.search(s.src)
        if m and float(m.group(1)) != 1.0 and ".remove()" not in s.src:
            return None, "a hook that scales the gradient"
    reads = [_reads(s.src) for s in stmts]
    later = [set().union(*reads[i + 1:]) for i in range(len(stmts))]
    if not any(".detach()" in s.src or "no_grad" in s.src for s in stmts):
        return {}, None
    freezes, detached = {}, []
    ns = {"cr": NP, "_V": dict(program.values)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i, s in enumerate(stmts):
                nograd = s.src.startswith("with cr.no_grad():")
                inner = s.src.split("\n", 1)[1].strip() if nograd else s.src.strip()
                written = _inplace_target(inner)
                target = ns.get(written) if written else None
                if written and not isinstance(target, NT):
                    return None, "an update the model cannot follow"
                if target is not None and any(np.shares_memory(target.a, d.a) for d in detached):
                    return None, "an update of memory shared with a detach()ed tensor"
                leaf = None
                if nograd and target is not None:
                    root = target.root()
                    leaf = next((n for n in program.grad_leaves if ns.get(n) is root and root.is_leaf
                                 and root.requires_grad), None)
                    tracked = [x for x in ns.values() if isinstance(x, NT) and x.requires_grad and (
                        x.root() is root or np.shares_memory(x.a, target.a))]
                    if leaf is None and tracked or any(x.root() is not root for x in tracked):
                        return None, "an update under no_grad of a tensor with history"
                exec(s.code(), ns)
                live = [d for d in s.defs if d in later[i] and isinstance(ns.get(d), NT)]
                if ".detach()" in s.src and not written:
                    # a constant alias: held at its values as a copy (nothing writes to it after)
                    for d in live:
                        detached.append(ns[d])
                        freezes.setdefault(i, []).append((d, "copy", ns[d].a.copy()))
                elif nograd and not written:
                    for d in live:
                        if ns[d].base is not None:
                            return None, "a view made under no_grad"
                        freezes.setdefault(i, []).append((d, "values", ns[d].a.copy()))
                elif nograd and leaf is not None:
                    # a leaf's new value (an optimizer's step): autograd differentiates at the
                    # value each use reads, so the leaf keeps the offset the differences gave it
                    freezes.setdefault(i, []).append((leaf, "offset", ns[leaf].a.copy()))
                elif nograd:
                    # a constant updated: only what the update wrote changed
                    freezes.setdefault(i, []).append((written, "target", ns[written].a.copy()))
    except Exception:  # noqa: BLE001 - the model cannot run it
        return None, "the NumPy model raises"
    finally:
        _Mode.grad_enabled = True
    return freezes, None


@dataclass
class _Objective:
    upto: int             # statements before this index define it (backward statements skipped)
    name: str             # the tensor differentiated
    vector: object        # backward(v): the objective is sum(name * v); else None
    on_chainrule: bool    # defined through autograd.grad's results: evaluated by chainrule


def _backward_vector(program, args):
    """The v of ``backward(v)`` (``cr.tensor(_V['_v'], ...)`` or a literal), or None."""
    m = re.match(r"cr\.tensor\((.*), dtype=cr\.float64\)", args)
    if not m:
        return None
    if m.group(1) == "_V['_v']":
        return program.values["_v"]
    import ast
    return np.array(ast.literal_eval(m.group(1)), dtype=np.float64)


def _cd_plan(program):
    """What each gradient chainrule computes should be, as a sum of derivatives of objectives.

    Returns (objectives, expect): ``expect`` maps ``(kind, name, leaf)`` -- ``("grad", leaf,
    leaf)`` for a leaf's ``.grad`` at the end, ``("value", g, leaf)`` for a result of
    ``autograd.grad`` -- to the objectives whose derivatives in ``leaf`` it holds.  Each
    backward adds to every leaf's ``.grad`` (a ``.grad = None`` in between resets it); the
    objective of a backward is its tensor as the statements before it left it (so an in-place
    update of the loss between two backward passes is followed)."""
    objectives, expect = [], {}
    acc = {leaf: [] for leaf in program.grad_leaves}
    after_grad = False
    for i, s in enumerate(program.stmts):
        src = s.src.strip()
        m = _GRAD_NONE.match(src)
        if m:
            if m.group(1) in acc:
                acc[m.group(1)] = []
            continue
        m = _BACKWARD.match(src)
        if m:
            objectives.append(_Objective(i, m.group(1), _backward_vector(program, m.group(2)), after_grad))
            for ks in acc.values():
                ks.append(len(objectives) - 1)
            continue
        m = _AUTOGRAD.match(src)
        if m:
            objectives.append(_Objective(i, m.group(2), None, after_grad))
            outs = [o.strip() for o in m.group(1).split(",") if o.strip()]
            ins = [x.strip() for x in m.group(3).split(",") if x.strip()]
            for o, x in zip(outs, ins):
                if x in acc:
                    expect[("value", o, x)] = [len(objectives) - 1]
            after_grad = True
    for leaf, ks in acc.items():
        if ks:
            expect[("grad", leaf, leaf)] = ks
    return objectives, expect


def _hold(ns, module, name, how, held, offset):
    """Put a held value back (see ``_cd_freezes``) in the NumPy model's or chainrule's namespace."""
    if module is NP:
        if how in ("copy", "values"):
            ns[name] = NT(held.copy())
        else:
            ns[name].a[...] = held + offset if how == "offset" else held
        return
    if how in ("copy", "values"):
        ns[name] = module.tensor(held, dtype=module.float64)
    else:
        with module.no_grad():
            ns[name].copy_(module.tensor(held + offset if how == "offset" else held, dtype=module.float64))


def _objective_fn(program, obj, mods, freezes):
    """The objective as a function of the leaves' values (None where the program raises), with
    the values in ``freezes`` held (see ``_cd_freezes``).  Evaluated by the NumPy model, or by
    chainrule where it is defined through ``autograd.grad``'s results."""
    idxs = [i for i in range(obj.upto) if not _BACKWARD.match(program.stmts[i].src.strip())]
    module = mods["chainrule"] if obj.on_chainrule else NP

    def f(values):
        ns = {"cr": module, "_V": dict(values)}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for i in idxs:
                    exec(program.stmts[i].code(), ns)
                    for name, how, held in freezes.get(i, ()):
                        offset = values[name] - program.values[name] if how == "offset" else 0.0
                        _hold(ns, module, name, how, held, offset)
            v = ns.get(obj.name)
            a = v.a if isinstance(v, NT) else _np(v) if _is_tensor(v) else np.asarray(v, dtype=np.float64)
            r = float(np.sum(a * obj.vector)) if obj.vector is not None else float(np.sum(a))
        except Exception:  # noqa: BLE001 - no objective here
            return None
        finally:
            _Mode.grad_enabled = True
        return r if math.isfinite(r) else None

    return f


def _observed(ns, kind, name):
    x = ns.get(name)
    if kind == "grad":
        x = getattr(x, "grad", None)
    return None if x is None else _np(x)


def cd_check(program, ns_cr, mods=None, h=1e-6, second_order=True):
    """Chainrule's gradients (each grad leaf's ``.grad``, and ``autograd.grad``'s results) against
    float64 central differences of the program's objectives as functions of its leaves.

    Returns ``("ok", n)`` (n elements compared), ``("bad", (kind, name, leaf), numeric, got)``, or
    ``("unavailable", why)``.  Objectives are evaluated by the NumPy model, those defined through
    ``autograd.grad``'s results (the second-order tail) by chainrule itself, whose first
    derivatives are checked here too (``second_order=False`` leaves those out).  Elements at a
    kink (one-sided differences disagree) are skipped, and so are elements whose central
    difference is not stable between steps h and 2h (ill-conditioned objectives)."""
    mods = mods or {"chainrule": ns_cr["cr"]}
    freezes, why = _cd_freezes(program)
    if why:
        return ("unavailable", why)
    objectives, expect = _cd_plan(program)
    second = {k for k, ks in expect.items() if any(objectives[j].on_chainrule for j in ks)}
    if not second_order:
        expect = {k: ks for k, ks in expect.items() if k not in second}
    if not expect:
        return ("unavailable", "no gradient computed")
    fns, bases = {}, {}
    for ks in expect.values():
        for j in ks:
            if j not in fns:
                fns[j] = _objective_fn(program, objectives[j], mods, freezes)
                bases[j] = fns[j](program.values)
                if bases[j] is None or abs(bases[j]) > 1e8:
                    return ("unavailable", "objective not finite, or the program raises")
    cache = {}

    def diff(j, leaf, idx, step):
        key = (j, leaf, idx, step)
        if key not in cache:
            v0 = program.values[leaf]
            out = []
            for sign in (1, -1):
                vals = dict(program.values)
                vals[leaf] = v0.copy()
                vals[leaf][idx] += sign * step
                out.append(fns[j](vals))
            cache[key] = tuple(out)
        return cache[key]

    compared = 0
    for (kind, name, leaf), ks in expect.items():
        got = _observed(ns_cr, kind, name)
        v0 = program.values[leaf]
        num = np.zeros_like(v0)
        bad = False
        for idx in np.ndindex(v0.shape):
            d0s, kink, tol = [], False, 0.0
            for j in ks:
                fp, fm = diff(j, leaf, idx, h)
                if fp is None or fm is None:
                    return ("unavailable", "the program raises near the leaves' values")
                d0 = (fp - fm) / (2 * h)
                d0s.append(d0)
                kink |= abs((fp - bases[j]) - (bases[j] - fm)) / h > 1e-3 * (1 + abs(d0))
                tol += 1e-5 * max(1.0, abs(d0)) + 1e-6 + 1e-8 * abs(bases[j])
            num[idx] = d0 = sum(d0s)
            if bad or kink:
                continue  # kink, or already failing (the rest is computed for the report)
            g = 0.0 if got is None else got[idx] if got.shape == v0.shape else np.nan
            if not abs(g - d0) <= tol:
                d2 = 0.0
                for j in ks:
                    fp2, fm2 = diff(j, leaf, idx, 2 * h)
                    if fp2 is None or fm2 is None:
                        return ("unavailable", "the program raises near the leaves' values")
                    d2 += (fp2 - fm2) / (4 * h)
                if abs(d2 - d0) > 0.1 * abs(g - d0) if math.isfinite(g) else abs(d2 - d0) > tol:
                    continue  # central differences not converged here
                bad = True
            compared += 1
        if bad:
            return ("bad", (kind, name, leaf), num, got)
    if not compared:
        return ("unavailable", "every element at a kink")
    return ("ok", compared)


def numeric_check(program, ns_cr, mods=None):
    """First gradient that differs from central differences: ((kind, name, leaf), numeric,
    chainrule), or None."""
    r = cd_check(program, ns_cr, mods)
    return r[1:] if r[0] == "bad" else None


# =============================================================================================
# Shrinking and reporting
# =============================================================================================

def shrink(program, still_fails, budget=400):
    """Greedily drop statements (and simplify leaf values) while ``still_fails`` holds."""
    calls = 0
    changed = True
    while changed and calls < budget:
        changed = False
        i = len(program.stmts) - 1
        while i >= 0 and calls < budget:
            cand = program.with_stmts(program.stmts[:i] + program.stmts[i + 1:])
            calls += 1
            if still_fails(cand):
                program, changed = cand, True
            i -= 1
    # simpler leaf values
    for name, v in list(program.values.items()):
        if calls >= budget:
            break
        simple = np.where(np.round(v * 2) == 0, 0.5, np.round(v * 2) / 2)
        if np.array_equal(simple, v):
            continue
        values = dict(program.values)
        values[name] = simple
        stmts = [_relit(s, name, simple) for s in program.stmts]
        cand = Program(stmts, values, program.grad_leaves, program.profile, program.objective,
                       program.tail, program.numeric, program.tail_srcs)
        calls += 1
        if still_fails(cand):
            program = cand
    return program


def _relit(stmt, name, value):
    if stmt.phase == "leaf" and name in stmt.defs or (name == "_v" and "_V['_v']" in stmt.src):
        rep = re.sub(r"cr\.tensor\((\[.*\]|-?[\d.]+),", f"cr.tensor({_lit(value)},", stmt.repro or stmt.src, count=1)
        return Stmt(stmt.src, stmt.op, stmt.defs, rep, stmt.phase)
    return stmt


def shrink_failure(failure, mods, budget=400):
    key = failure.signature

    def still(p):
        if not names_ok(p.stmts):
            return False
        try:
            return any(f.signature == key for f in check_program(p, mods))
        except Exception:  # noqa: BLE001
            return False

    small = shrink(failure.program, still, budget)
    for f in check_program(small, mods):
        if f.signature == key:
            return f
    return failure


def format_failure(f):
    obs = list(f.observe)
    text = [f"[{f.kind}] {f.signature}", f"  {f.detail}"]
    if f.torch_said:
        text.append(f"  torch/oracle: {f.torch_said}")
    if f.chainrule_said:
        text.append(f"  chainrule:    {f.chainrule_said}")
    text.append("  repro:")
    text += ["    " + line for line in f.program.render(observe=obs).splitlines()]
    return "\n".join(text)


# =============================================================================================
# Functional transforms
# =============================================================================================

SCALARIZE = ["{y}.sum()", "({y} * {y}).sum()", "{y}.sin().sum()", "({y} * 1.5).tanh().sum()"]


@dataclass
class TProgram:
    body: list            # Stmt list of f0's body (x0 is the argument)
    ret: str              # the register f0 returns
    x: np.ndarray
    levels: list          # [(kind, text of the level's function body line(s), const name)]
    consts: dict          # name -> ndarray (cotangents / tangents)
    values: dict = field(default_factory=dict)  # constants created in f0's body

    def render(self, backend="chainrule", literal=True):
        tmod = "cr" if backend == "chainrule" else "T"
        lines = ["import chainrule as cr" if backend == "chainrule" else
                 "import torch as cr\nimport torch.func as T  # hvp: T.jvp(T.grad(f), p, t)"]
        for name, v in self.consts.items():
            data = _lit(v) if literal else f"_V[{name!r}]"
            lines.append(f"{name} = cr.tensor({data}, dtype=cr.float64)")
        lines.append("def f0(x0):")
        for s in self.body:
            src = s.repro if literal and s.repro else s.src
            lines += ["    " + line for line in src.splitlines()]
        lines.append(f"    return {self.ret}")
        for i, (_kind, src) in enumerate(self.levels, start=1):
            lines.append(src.replace("T.", f"{tmod}.").format(i=i, p=i - 1))
        data = _lit(self.x) if literal else "_V['x']"
        lines.append(f"x = cr.tensor({data}, dtype=cr.float64)")
        return "\n".join(lines)

    def kinds(self):
        return [k for k, _ in self.levels]


def _level_src(kind, i, y_expr, const=None):
    if kind in ("grad", "hessian", "hvp"):
        s = f"def s{i}(x):\n    return {y_expr.format(y=f'f{i - 1}(x)')}\n"
        call = {"grad": f"T.grad(s{i})(x)", "hessian": f"T.hessian(s{i})(x)",
                "hvp": f"T.hvp(s{i}, (x,), ({const},))[1]"}[kind]
        return s + f"def f{i}(x):\n    return {call}"
    call = {"jacrev": f"T.jacrev(f{i - 1})(x)", "jacfwd": f"T.jacfwd(f{i - 1})(x)",
            "jacobian": f"T.jacobian(f{i - 1})(x)",
            "vjp": f"T.vjp(f{i - 1}, x)[1]({const})[0]",
            "jvp": f"T.jvp(f{i - 1}, (x,), ({const},))[1]",
            "post": f"f{i - 1}(x).tanh() * 2.0"}[kind]
    return f"def f{i}(x):\n    return {call}"


def generate_transform(draw, max_stmts=6, max_depth=3):
    shape = draw.choice([(3,), (2, 2), (2, 3), (), (4,)])
    g = _Gen(draw, "function")
    g.leaf("x0", shape, True)
    x = g.values["x0"]
    if draw.coin(0.5):
        g.leaf("c1", draw.choice([shape, (2,), (3,)] if shape else [()]), False)
    g.body(draw.integer(1, max_stmts))
    ret = g.pick(lambda t: t.requires_grad and t.numel() <= 8, recent=False)
    if ret is None:
        g.run(Stmt("t99 = x0.sin()", "sin", ("t99",)))
        ret = "t99"
    if draw.coin(0.7):
        # prefer a late value, so the body matters
        late = [n for n in g.regs[-3:] if g.t(n).requires_grad and g.t(n).numel() <= 8]
        if late:
            ret = draw.choice(late)
    out_shape = g.t(ret).shape
    body = [s for s in g.stmts if s.phase != "leaf" or s.defs != ("x0",)]
    levels, consts = [], {}
    in_shape = tuple(shape)
    cur = tuple(out_shape)
    for i in range(1, draw.integer(1, max_depth) + 1):
        options = ["grad", "jacrev", "jacfwd", "jacobian", "vjp", "jvp", "hvp", "hessian", "post"]
        options = [k for k in options if _size_after(k, cur, in_shape) <= 72]
        kind = draw.choice(options)
        const = None
        if kind in ("vjp",):
            const = f"v{i}"
            consts[const] = _leaf_values(draw, cur)
        elif kind in ("jvp", "hvp"):
            const = f"u{i}"
            consts[const] = _leaf_values(draw, in_shape)
        y = draw.choice(SCALARIZE) if kind in ("grad", "hessian", "hvp") else None
        levels.append((kind, _level_src(kind, i, y, const)))
        cur = _shape_after(kind, cur, in_shape)
    return TProgram(body, ret, x, levels, consts, dict(g.values))


def _shape_after(kind, cur, in_shape):
    return {"grad": in_shape, "hvp": in_shape, "vjp": in_shape, "hessian": in_shape + in_shape,
            "jacrev": cur + in_shape, "jacfwd": cur + in_shape, "jacobian": cur + in_shape,
            "jvp": cur, "post": cur}[kind]


def _size_after(kind, cur, in_shape):
    return math.prod(_shape_after(kind, cur, in_shape))


def transform_programs(max_stmts=6, max_depth=3):
    from hypothesis import strategies as st

    @st.composite
    def strat(draw):
        return generate_transform(HypothesisDraw(draw), max_stmts, max_depth)

    return strat()


def _torch_T(torch):
    tf = torch.func

    def hvp(f, primals, tangents):
        return f(*primals), tf.jvp(tf.grad(f), tuple(primals), tuple(tangents))[1]

    return types.SimpleNamespace(grad=tf.grad, jacrev=tf.jacrev, jacfwd=tf.jacfwd, jacobian=tf.jacrev,
                                 hessian=tf.hessian, vjp=tf.vjp, jvp=tf.jvp, hvp=hvp)


class _NotATensor(TypeError):
    """A transform returned something else than a tensor (the harness noticed, not chainrule)."""


def run_transform(tp, module, T):
    """Values of f0..fk at x (arrays), or the first exception as (level, exc)."""
    ns = {"cr": module, "T": T, "_V": dict(tp.values, **tp.consts, x=tp.x)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exec(compile(tp.render("chainrule" if module.__name__ == "chainrule" else "torch", literal=False)
                         .split("\n", 1 if module.__name__ == "chainrule" else 2)[-1], "<program>", "exec"), ns)
        except Exception as e:  # noqa: BLE001
            return ns, [], (0, e)
        values = []
        for i in range(len(tp.levels) + 1):
            try:
                r = ns[f"f{i}"](ns["x"])
                if isinstance(r, tuple) and len(r) == 1:
                    r = r[0]
                if not _is_tensor(r):
                    raise _NotATensor(f"f{i}(x) is a {type(r).__name__}, not a tensor", type(r).__name__)
                values.append(_np(r))
            except Exception as e:  # noqa: BLE001
                return ns, values, (i, e)
    return ns, values, None


def _num_jac(fn, x, h=1e-5):
    """Central-difference Jacobian of fn (ndarray -> ndarray) at x, shape out + in, and kinks."""
    base = np.asarray(fn(x))
    jac = np.zeros(base.shape + x.shape)
    kink = np.zeros(base.shape + x.shape, dtype=bool)
    for idx in np.ndindex(x.shape):
        p, m = x.copy(), x.copy()
        p[idx] += h
        m[idx] -= h
        fp, fm = np.asarray(fn(p)), np.asarray(fn(m))
        d0 = (fp - fm) / (2 * h)
        p[idx] += h
        m[idx] -= h
        d2 = (np.asarray(fn(p)) - np.asarray(fn(m))) / (4 * h)
        jac[(Ellipsis,) + idx] = d0
        # a kink (one-sided differences disagree) or not converged (steps h and 2h disagree)
        kink[(Ellipsis,) + idx] = ((np.abs((fp - base) - (base - fm)) / h > 1e-3 * (1 + np.abs(d0)))
                                   | (np.abs(d2 - d0) > 1e-6 * (1 + np.abs(d0))))
    return jac, kink


def check_transform(tp, mods=None):
    mods = mods or backends()
    cr = mods["chainrule"]
    torch = mods.get("torch")
    failures = []
    ns, vals, err = run_transform(tp, cr, cr)
    kinds = "∘".join(reversed(tp.kinds()))
    not_tensor = err is not None and isinstance(err[1], _NotATensor)
    if not_tensor:
        k = "body" if err[0] == 0 else tp.levels[err[0] - 1][0]
        failures.append(Failure("mismatch", f"mismatch | transforms | {k} returns a {err[1].args[1]}, not a tensor",
                                f"level {err[0]} ({kinds}): {err[1].args[0]}", tp,
                                chainrule_said=err[1].args[0], observe=(f"f{err[0]}(x)",)))
    elif err is not None and is_raw(err[1]):
        e = err[1]
        failures.append(Failure("raw traceback", f"raw traceback | transforms | {type(e).__name__} at {where(e)}",
                                f"level {err[0]} ({kinds}) raised {exc_text(e)}", tp, chainrule_said=exc_text(e)))
    # central differences of each level against the level below (evaluated by chainrule)
    numeric_ok = {}
    for i, (kind, _) in enumerate(tp.levels, start=1):
        if i >= len(vals) or kind == "post":
            continue
        expected = _expected_level(tp, ns, cr, i, kind)
        if expected is None:
            continue
        num, unsure = expected
        got = vals[i]
        if got is None or got.shape != num.shape:
            numeric_ok[i] = False
            failures.append(Failure("numeric", f"numeric | transforms | {kind} shape",
                                    f"f{i} ({kind}) has shape {None if got is None else got.shape}, expected {num.shape}",
                                    tp, torch_said=f"central differences: {_fmt(num)}",
                                    chainrule_said=f"f{i}(x) = {_fmt(got)}", observe=(f"f{i}(x)",)))
            break
        tol = 1e-5 * np.maximum(1, np.abs(num)) + 1e-6
        numeric_ok[i] = not np.any((np.abs(got - num) > tol) & ~unsure)
        if not numeric_ok[i]:
            failures.append(Failure("numeric", f"numeric | transforms | {kind}",
                                    f"f{i} ({kind}) differs from central differences of f{i - 1}", tp,
                                    torch_said=f"central differences: {_fmt(num)}",
                                    chainrule_said=f"f{i}(x) = {_fmt(got)}", observe=(f"f{i}(x)",)))
            break
    if torch is not None:
        _, tvals, terr = run_transform(tp, torch, _torch_T(torch))
        n = min(len(vals), len(tvals))
        for i in range(n):
            # high-order derivatives: roundoff relative to the array's largest entry
            if not close(tvals[i], vals[i], 1e-9, atol=1e-10):
                k = "body" if i == 0 else tp.levels[i - 1][0]
                if numeric_ok.get(i):
                    failures.append(Failure("note", f"note | transforms | torch.func differs at level {k}",
                                            f"f{i} ({kinds}) differs from torch.func, but chainrule matches "
                                            f"central differences", tp, torch_said=f"f{i}(x) = {_fmt(tvals[i])}",
                                            chainrule_said=f"f{i}(x) = {_fmt(vals[i])}", observe=(f"f{i}(x)",)))
                    break
                failures.append(Failure("mismatch", f"mismatch | transforms | level {k}",
                                        f"f{i} ({kinds}) differs from torch.func", tp,
                                        torch_said=f"f{i}(x) = {_fmt(tvals[i])}",
                                        chainrule_said=f"f{i}(x) = {_fmt(vals[i])}", observe=(f"f{i}(x)",)))
                break
        else:
            if terr and not err:
                # PyTorch raises (torch.func's ZeroTensor tangents refusing in-place updates, a
                # tensor saved for backward and then modified, ...), chainrule computes: a note
                # when every derivative level matches central differences of the level below
                levels = [i for i, (kind, _) in enumerate(tp.levels, start=1) if kind != "post"]
                if not levels:
                    why = "unverified (no derivative level)"
                elif not all(numeric_ok.get(i, True) for i in levels):
                    why = "values differ from central differences"
                elif not all(i in numeric_ok for i in levels):
                    why = "unverified (central differences not computable)"
                else:
                    why = None
                sig = f"missing error | transforms | torch: {_stem(terr[1])}"
                failures.append(Failure(
                    "missing error" if why else "note",
                    f"{sig} | {why.split(' (')[0]}" if why else f"note | {sig}",
                    f"torch raises at level {terr[0]}; chainrule does not" + (
                        f" ({why})" if why else ", and its values match central differences"),
                    tp, torch_said=exc_text(terr[1]), chainrule_said="(no error)"))
            elif err and not terr and not not_tensor:
                k = "body" if err[0] == 0 else tp.levels[err[0] - 1][0]
                failures.append(Failure("spurious error", f"spurious error | transforms | {k} | {type(err[1]).__name__}: {_stem(err[1])}",
                                        f"chainrule raises at level {err[0]} ({kinds})", tp,
                                        torch_said="(no error)", chainrule_said=exc_text(err[1]),
                                        observe=(f"f{err[0]}(x)",)))
    return failures


def _expected_level(tp, ns, cr, i, kind):
    def call(fn):
        def f(a):
            r = fn(cr.tensor(a, dtype=cr.float64))
            if isinstance(r, tuple):
                r = r[0]
            return _np(r)
        return f

    try:
        if kind in ("grad",):
            jac, kink = _num_jac(call(ns[f"s{i}"]), tp.x)
            return jac, kink
        if kind in ("jacrev", "jacfwd", "jacobian"):
            return _num_jac(call(ns[f"f{i - 1}"]), tp.x)
        if kind in ("hessian", "hvp"):
            jac, kink = _num_jac(call(cr.grad(ns[f"s{i}"])), tp.x)
            if kind == "hessian":
                return jac, kink
            u = tp.consts[f"u{i}"]
            ax = u.ndim
            return (np.tensordot(jac, u, axes=ax) if ax else jac * u,
                    np.tensordot(kink, np.ones_like(u), axes=ax).astype(bool) if ax else kink)
        jac, kink = _num_jac(call(ns[f"f{i - 1}"]), tp.x)
        if kind == "vjp":
            v = tp.consts[f"v{i}"]
            ax = v.ndim
            lead = tuple(range(ax))
            return (np.tensordot(v, jac, axes=(lead, lead)) if ax else v * jac,
                    np.any(kink, axis=lead) if ax else kink)
        if kind == "jvp":
            u = tp.consts[f"u{i}"]
            ax = u.ndim
            trail = tuple(range(jac.ndim - ax, jac.ndim))
            return (np.tensordot(jac, u, axes=(trail, tuple(range(ax)))) if ax else jac * u,
                    np.any(kink, axis=trail) if ax else kink)
    except Exception:  # noqa: BLE001 - a level below raised; reported elsewhere
        return None
    return None


def shrink_transform_failure(failure, mods, budget=200):
    key = failure.signature
    tp = failure.program

    def still(t):
        if not names_ok(t.body + [Stmt(f"_ = {t.ret}", "return")], known=("cr", "_V", "x0")):
            return False
        try:
            return any(f.signature == key for f in check_transform(t, mods))
        except Exception:  # noqa: BLE001
            return False

    calls = 0
    changed = True
    while changed and calls < budget:
        changed = False
        for i in reversed(range(len(tp.body))):
            cand = TProgram(tp.body[:i] + tp.body[i + 1:], tp.ret, tp.x, tp.levels, tp.consts, tp.values)
            calls += 1
            if still(cand):
                tp, changed = cand, True
        # drop the top level
        if len(tp.levels) > 1:
            cand = TProgram(tp.body, tp.ret, tp.x, tp.levels[:-1], tp.consts, tp.values)
            calls += 1
            if still(cand):
                tp, changed = cand, True
    for f in check_transform(tp, mods):
        if f.signature == key:
            return f
    return failure


# TProgram printing for reports
def _tp_render_observe(self, observe=()):
    text = self.render()
    for o in observe:
        text += f"\nprint({o})"
    return text


TProgram.render_observe = _tp_render_observe


def format_any(f):
    if isinstance(f.program, TProgram):
        text = [f"[{f.kind}] {f.signature}", f"  {f.detail}"]
        if f.torch_said:
            text.append(f"  torch/oracle: {f.torch_said}")
        if f.chainrule_said:
            text.append(f"  chainrule:    {f.chainrule_said}")
        text.append("  repro:")
        text += ["    " + line for line in f.program.render_observe(f.observe).splitlines()]
        return "\n".join(text)
    return format_failure(f)


# =============================================================================================
# Soak
# =============================================================================================

NOT_FAILURES = ("note",)   # chainrule is right where PyTorch raises or differs: counted, not failed


def failures_only(failures):
    return [f for f in failures if f.kind not in NOT_FAILURES]


TALLY_KEYS = {"mismatch": "mismatches", "spurious error": "spurious errors",
              "missing error": "missing errors", "raise site": "raise sites",
              "raw traceback": "raw tracebacks", "numeric": "numeric",
              "forward value": "forward values", "harness": "harness", "note": "notes"}


def soak(n, seed=0, profiles=("full", "numeric"), transforms=True, shrink_per_class=1,
         out=sys.stdout, report_path=None, time_budget=None, shrink_notes=True):
    """Run ``n`` programs per generator; print a summary and the first repros of each class
    (failures first, then notes)."""
    with pinned_state() as mods:
        return _soak(mods, n, seed, profiles, transforms, shrink_per_class, out, report_path,
                     time_budget, shrink_notes)


def _soak(mods, n, seed, profiles, transforms, shrink_per_class, out, report_path, time_budget,
          shrink_notes):
    import time
    t0 = time.time()
    counts = {}
    examples = {}
    tally = {"programs": 0, "failing programs": 0}
    tally.update({v: 0 for v in TALLY_KEYS.values()})
    jobs = [(p, False) for p in profiles] + ([("transforms", True)] if transforms else [])
    per_job = dict.fromkeys((p for p, _ in jobs), 0)
    for k in range(n):
        if time_budget and time.time() - t0 > time_budget:
            break
        for profile, is_t in jobs:
            s = seed * 1_000_003 + k * len(jobs) + jobs.index((profile, is_t))
            draw = RandomDraw(s)
            try:
                if is_t:
                    prog = generate_transform(draw)
                    fails = check_transform(prog, mods)
                else:
                    prog = generate(draw, profile)
                    fails = check_program(prog, mods)
            except Exception as e:  # noqa: BLE001 - the harness itself
                fails = [Failure("harness", f"harness | {type(e).__name__}: {e}"[:120], repr(e), None)]
            tally["programs"] += 1
            per_job[profile] += 1
            if failures_only(fails):
                tally["failing programs"] += 1
            for f in fails:
                tally[TALLY_KEYS[f.kind]] += 1
                counts[f.signature] = counts.get(f.signature, 0) + 1
                examples.setdefault(f.signature, [])
                if len(examples[f.signature]) < shrink_per_class:
                    examples[f.signature].append((s, profile, f))
    summary = ("chainrule soak: " + ", ".join(f"{v} {k}" for k, v in tally.items())
               + f" ({time.time() - t0:.0f} s, seed {seed}; "
               + ", ".join(f"{c} {p}" for p, c in per_job.items()) + ")")
    is_note = {sig: examples[sig][0][2].kind in NOT_FAILURES for sig in counts}
    lines = [summary, "", "failure classes (count, signature):"]
    for sig, c in sorted(counts.items(), key=lambda kv: -kv[1]):
        if not is_note[sig]:
            lines.append(f"  {c:5d}  {sig}")
    lines += ["", "notes (count, signature): chainrule computes what PyTorch refuses or gets wrong, "
                  "and matches central differences"]
    for sig, c in sorted(counts.items(), key=lambda kv: -kv[1]):
        if is_note[sig]:
            lines.append(f"  {c:5d}  {sig}")
    lines.append("")
    for notes in (False, True):
        for sig, c in sorted(counts.items(), key=lambda kv: -kv[1]):
            if is_note[sig] != notes:
                continue
            for s, profile, f in examples[sig]:
                if f.program is None:
                    lines.append(f"[harness] {f.detail}")
                    continue
                small = f
                if shrink_notes or not notes:
                    try:
                        small = (shrink_transform_failure(f, mods) if isinstance(f.program, TProgram)
                                 else shrink_failure(f, mods))
                    except Exception:  # noqa: BLE001
                        small = f
                lines.append(f"# {c} programs; first: seed {s} profile {profile}")
                lines.append(format_any(small))
                lines.append("")
    text = "\n".join(lines)
    if report_path:
        with open(report_path, "w") as fh:
            fh.write(text + "\n")
    print(summary, file=out)
    return tally, counts, text


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    _, _, report = soak(n, seed, report_path=os.environ.get("CHAINRULE_SOAK_REPORT"))
    print(report.split("\n", 1)[1])
