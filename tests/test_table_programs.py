"""Random programs drawn from the whole operation table (SPEC §12, issue 12).

Hypothesis draws programs of 2-5 entries of ``op_db.ENTRIES`` (every family: the ``op_db_*.py``
files included), each step's differentiable arguments perturbed by earlier values so that they
stay inside the entry's domain (see ``tests/_table_programs.py`` for the construction), ending
in a scalar loss. For every program:

1. ``backward()`` (and ``cr.grad``, and ``backward()`` through ``cr.checkpoint``) against
   float64 central differences;
2. ``cr.jvp`` and ``cr.jacfwd`` against the reverse-mode gradient; and for the last value (a
   vector function of x) ``cr.jacrev`` against ``cr.jacfwd`` and J·v against central differences;
3. on inputs of at most 8 elements: ``cr.hessian`` against ``cr.jacfwd(cr.jacrev(f))``, its
   symmetry, ``H·v`` against central differences of ``cr.grad``, ``cr.hvp``, the hessian
   through ``cr.checkpoint``, and ``cr.vmap(cr.hessian(f))`` against a loop;
4. ``cr.vmap(f)`` over a batch of 3 inputs against a loop (also ``in_axes=-1``, and nested
   ``vmap(vmap(f))`` over a (2, 3) batch);
5. ``cr.vmap(cr.grad(f))`` (per-example gradients; also ``in_axes=1, out_axes=-1``),
   ``vmap(jvp)`` and ``vmap(jacfwd)`` against a loop;
7. ``cr.jit(f)`` and ``cr.jit(cr.grad(f))`` traced at one input and called on others, against
   eager mode;
6. programs made only of the entries in ``TORCH`` (below): value and gradient against PyTorch.

``test_every_entry_in_a_program`` puts each entry of the table into one seeded program (so a
default run reaches the whole table: check 1 and one of checks 2-5 in turn, all of them in a
soak run); the Hypothesis tests explore further.

Failures print the program as readable steps and a replay line:
``python tests/_table_programs.py replay '<json>' [check...]``.

Runtime: the default (``CHAINRULE_TABLE_PROGRAMS`` unset) runs 30 derandomized examples per
Hypothesis test: ~20 s of CPU, under a minute on a shared 2-core machine. A soak run:
``CHAINRULE_TABLE_PROGRAMS=2000 python -m pytest tests/test_table_programs.py -x`` (2000 random
examples per test, not derandomized: Hypothesis prints its seed and the shrunk program), or
outside pytest ``python tests/_table_programs.py soak 5000 [seed]`` (all checks, a seeded loop,
every failure listed with its replay line).
"""

from __future__ import annotations

import os
import zlib

import _table_programs as T
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr

SOAK = int(os.environ.get("CHAINRULE_TABLE_PROGRAMS", "0"))
EXAMPLES = SOAK or 30
PROFILE = settings(max_examples=EXAMPLES, derandomize=not SOAK, database=None, deadline=None,
                   suppress_health_check=list(HealthCheck), print_blob=bool(SOAK))


@st.composite
def programs(draw, names=None, small=False):
    return T.draw_program(T.HypothesisDraw(draw), names=names, small=small)


def _check(name: str, p: T.Program) -> None:
    try:
        T.CHECKS[name](p)
    except T.NotApplicable:
        return
    except Exception as exc:
        raise AssertionError(f"{name} check failed: {type(exc).__name__}: {exc}\n{p!r}") from exc


# ---------------------------------------------------------------------------------------------
# The generator reaches the whole table
# ---------------------------------------------------------------------------------------------

def test_the_generator_draws_from_the_whole_table():
    drawn = {T.ENTRY[k].name for k in T.NAMES}
    # Complex entries (complex inputs or outputs) have their own random programs, against
    # PyTorch, in tests/test_complex.py; this generator composes real float64 values.
    complex_only = {e.name for e in T.op_db.ENTRIES if e.name.startswith(("complex.", "clinalg.", "fft.", "np.fft."))}
    missing = sorted({e.name for e in T.op_db.ENTRIES} - drawn - set(T.LEFT_OUT) - complex_only)
    assert not missing, f"entries the generator cannot use (no float64 argument or output): {missing}"
    assert len(T.NAMES) >= 400


_ROTATING = ("forward", "jacobian", "second_order", "vmap", "vmap_grad", "jit")


@pytest.mark.parametrize("key", T.NAMES)
def test_every_entry_in_a_program(key):
    """One seeded program containing ``key`` at a drawn step: check 1 and one of checks 2-5 in
    turn (a soak run: longer programs, larger inputs, all the checks)."""
    seed = zlib.crc32(key.encode())
    p = T.draw_program(T.RandomDraw(seed), force=key, small=not SOAK, steps=T.MAX_STEPS if SOAK else 3)
    for name in T.CHECKS if SOAK else ("reverse", _ROTATING[seed % len(_ROTATING)]):
        if T.applies(p, name):
            _check(name, p)


# ---------------------------------------------------------------------------------------------
# Hypothesis: checks 1-5
# ---------------------------------------------------------------------------------------------

@PROFILE
@given(programs())
def test_reverse_mode_matches_central_differences(p):
    _check("reverse", p)


@PROFILE
@given(programs())
def test_forward_mode_matches_reverse_mode(p):
    _check("forward", p)


@PROFILE
@given(programs())
def test_jit_matches_eager_mode(p):
    _check("jit", p)


@PROFILE
@given(programs())
def test_jacobians_of_the_last_value(p):
    _check("jacobian", p)


@PROFILE
@given(programs(small=True))
def test_hessian_matches_jacfwd_of_jacrev(p):
    if T.applies(p, "second_order"):
        _check("second_order", p)


_VMAP_NAMES = [k for k in T.NAMES if T.ENTRY[k].name not in T.NO_VMAP]


@PROFILE
@given(programs(names=_VMAP_NAMES))
def test_vmap_matches_a_loop(p):
    _check("vmap", p)


@PROFILE
@given(programs(names=_VMAP_NAMES))
def test_vmap_of_grad_gives_per_example_gradients(p):
    _check("vmap_grad", p)


def test_inplace_write_into_a_batched_tensor_is_refused_clearly():
    """In-place writes into batched tensors are refused under cr.vmap (torch.func.vmap allows
    them); the table's setitem/copy_/fill_/np.put_along_axis entries skip checks 4-5."""
    def f(x):
        y = x.clone()
        y[0] = 2.0 * y[1]
        return y.sum()

    xs = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    with pytest.raises(RuntimeError, match="in-place change involving a batched tensor"):
        cr.vmap(f)(xs)


@pytest.mark.parametrize("fn", [lambda t: np.nansum(t), lambda t: cr.nanmean(t),
                                lambda t: np.median(t), lambda t: cr.quantile(t, 0.3)],
                         ids=["np.nansum", "cr.nanmean", "np.median", "cr.quantile"])
def test_nested_vmap_of_nan_reductions(fn):
    x = np.arange(24.0).reshape(2, 3, 4)
    out = cr.vmap(cr.vmap(fn))(x).numpy()
    np.testing.assert_allclose(out, [[fn(cr.tensor(r)).item() for r in b] for b in x])


# ---------------------------------------------------------------------------------------------
# PyTorch as the oracle (check 6)
# ---------------------------------------------------------------------------------------------

try:
    import torch
except ImportError:  # the `test` extra installs it; without it check 6 is skipped
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

# Entries whose own function runs on torch tensors unchanged (operators and methods that both
# libraries spell alike), checked entry by entry in test_torch_table_is_right.
SAME = (
    "add add_scalar_right add_scalar_left sub rsub_scalar mul mul_scalar "
    "mul_self div div_scalar rdiv_scalar div_self pow_int pow_two pow_one pow_zero pow_float "
    "pow_negative pow_tensor rpow_scalar pow_method neg exp.method expm1.method "
    "log.method log1p.method log2.method log10.method sqrt.method rsqrt.method square.method "
    "reciprocal.method sin.method cos.method tan.method arcsin.method arccos.method arctan.method "
    "sinh.method cosh.method tanh.method sigmoid.method erf.method relu.method abs_operator "
    "sign.method clamp.method masked_fill sum mean cumsum cumprod amax.method max_all max_dim "
    "min_dim var std norm view flatten squeeze unsqueeze permute transpose T mT t expand expand_as "
    "flip repeat clone getitem getitem_3d getitem_tensor_index split chunk unbind index_select "
    "setitem copy_ fill_ inplace_through_view setitem_through_views gather diagonal trace matmul mm "
    "softmax.method triu np.swapaxes np.split np.array_split np.vsplit np.dsplit nansum.method "
    "median.method sum_axis max_axis cumsum_axis logsumexp_axis nanmedian_dim sort.method kthvalue "
    "select inner arccosh.method arcsinh.method arctanh.method exp2.method deg2rad.method "
    "rad2deg.method sinc.method arctan2.method hypot.method logaddexp2.method copysign.method "
    "remainder.method mod_operator mod_operator_scalar_right mod_operator_negative_divisor "
    "fmod.method"
).split()


# Entries calling a chainrule function: its PyTorch equivalent, same arguments and keywords.
def _explicit() -> dict:
    if torch is None:
        return {}
    TF = torch.nn.functional
    return {
        **{n: getattr(torch, n) for n in (
            "exp expm1 log log1p log2 log10 sqrt rsqrt square reciprocal sin cos tan sinh cosh tanh "
            "sigmoid erf abs sign floor ceil round maximum minimum exp2 deg2rad rad2deg relu "
            "logaddexp").split()},
        "arcsin": torch.asin, "arccos": torch.acos, "arctan": torch.atan, "cr.asin": torch.asin,
        "cr.acos": torch.acos, "cr.atan": torch.atan, "arccosh": torch.acosh, "cr.acosh": torch.acosh,
        "arcsinh": torch.asinh, "cr.asinh": torch.asinh, "arctanh": torch.atanh, "cr.atanh": torch.atanh,
        "cr.add": torch.add, "cr.sub": torch.sub, "cr.mul": torch.mul, "cr.div": torch.div,
        "cr.pow": torch.pow, "cr.neg": torch.neg, "cr.absolute": torch.abs, "fabs": torch.abs, "cr.radians": torch.deg2rad,
        "cr.degrees": torch.rad2deg, "sigmoid_extreme": torch.sigmoid, "F.sigmoid": torch.sigmoid,
        "F.tanh": torch.tanh, "F.relu": torch.relu, "F.elu": TF.elu, "F.softplus": TF.softplus,
        "softplus_extreme": TF.softplus, "gelu": TF.gelu, "F.gelu": TF.gelu, "cr.matmul": torch.matmul,
        "inv": torch.linalg.inv, "solve": torch.linalg.solve, "linalg.svdvals": torch.linalg.svdvals,
        "linalg.matrix_exp": torch.linalg.matrix_exp, "fliplr": torch.fliplr, "ravel": torch.ravel,
        "special.expit": torch.special.expit, "special.sinc": torch.special.sinc,
        "special.i1_at_0": torch.special.i1, "special.erfcx_tail": torch.special.erfcx,
        "special.log_ndtr_tail": torch.special.log_ndtr,
        **{f"special.{n}": getattr(torch.special, n) for n in (
            "gammaln digamma erf erfc erfinv erfcx logit ndtr log_ndtr ndtri i0 i0e i1 i1e entr xlogy "
            "xlog1py").split()},
        # Left out: "det" -- torch.linalg.det's gradient at the table's singular samples is 0, not
        # the adjugate (chainrule's, which central differences confirm).
    }


EXPLICIT = _explicit()
TORCH = {**{n: None for n in SAME}, **EXPLICIT}   # None: the entry's own function
_TORCH_KEYS = [k for k in T.NAMES if k in TORCH]


class TorchBackend:
    name = "torch"

    @staticmethod
    def const(a):
        return torch.from_numpy(a.copy()) if isinstance(a, np.ndarray) else a

    cat = staticmethod(lambda ts: torch.cat(ts))
    tanh = staticmethod(lambda h: torch.tanh(h))
    where = staticmethod(lambda mask, h: torch.where(torch.from_numpy(mask), h, 0.0))

    @staticmethod
    def call(entry, args, kwargs):
        fn = TORCH[entry.name]
        return (entry.op if fn is None else fn)(*args, **kwargs)


def _torch_value_and_grad(p: T.Program):
    f = T.Compiled(p, TorchBackend, like=T.Compiled(p))
    x = torch.tensor(p.x0(), requires_grad=True)
    loss = f(x)
    loss.backward()
    return float(loss.detach()), x.grad.numpy()


def check_torch(p: T.Program) -> None:
    f = T.Compiled(p)
    x = p.x0()
    value, grad = _torch_value_and_grad(p)
    T.close(T.value(f, x), value, "value vs torch", rtol=1e-10, atol=1e-12)
    T.close(T.reverse_gradient(f, x), grad, "gradient vs torch", rtol=1e-8, atol=1e-11)


@needs_torch
def test_torch_table_is_right():
    """Each mapped entry alone: the same values and gradients as chainrule on every sample."""
    assert len(_TORCH_KEYS) >= 200, len(_TORCH_KEYS)
    for key in _TORCH_KEYS:
        for offer in T.OFFERS[key]:
            pos = offer.positions[0]
            p = T.Program([T.Step(key, offer.index, out, [T.Link(pos, -1, "input", "none")])
                           for out in offer.outputs[:1]], [0])
            try:
                check_torch(p)
            except AssertionError as exc:
                raise AssertionError(f"{key}: {exc}\n{p!r}") from exc


@needs_torch
@PROFILE
@given(programs(names=_TORCH_KEYS))
def test_programs_match_torch(p):
    try:
        check_torch(p)
    except Exception as exc:
        raise AssertionError(f"torch check failed: {type(exc).__name__}: {exc}\n{p!r}") from exc
