"""op_db entries for ``cr.special`` (SPEC §12): each function inside its domain, through
``cr.special.<name>``, SciPy's ufuncs on tensors (``scipy.special.<name>(t)``) and ``np.i0``."""

from __future__ import annotations

import numpy as np
from op_db import BINARY_SHAPES, UNARY_SHAPES, S, away_from, entry, nonzero, unary_samples, uniform

import chainrule as cr

try:
    import scipy.special as sp
except ImportError:  # the `test` extra installs SciPy; without it these entries cannot run
    sp = None


def _in(lo, hi):
    return lambda rng, shape: uniform(rng, shape, lo, hi)


def _nonzero_in(lo, hi):
    return lambda rng, shape: nonzero(rng, shape, lo, hi)


# name -> (domain sampler, primitives reached)
UNARY = {
    "gammaln": (_in(0.3, 4.0), "gammaln"),
    "digamma": (_in(0.3, 4.0), "digamma"),
    "erf": (_in(-2.0, 2.0), "erf"),
    "erfc": (_in(-2.0, 2.0), "erfc"),
    "erfinv": (_in(-0.9, 0.9), "erfinv"),
    "erfcx": (_in(-1.5, 3.0), "erfcx"),
    "expit": (_in(-4.0, 4.0), "sigmoid"),
    "logit": (_in(0.05, 0.95), "logit"),
    "ndtr": (_in(-3.0, 3.0), "ndtr"),
    "log_ndtr": (_in(-5.0, 3.0), "log_ndtr"),
    "ndtri": (_in(0.05, 0.95), "ndtri"),
    "i0": (_in(-3.0, 3.0), "i0"),
    "i0e": (_nonzero_in(0.2, 3.0), "i0e"),  # |x| has a kink at 0
    "i1": (_in(-3.0, 3.0), "i1"),
    "i1e": (_nonzero_in(0.2, 3.0), "i1e"),
    "entr": (_in(0.1, 3.0), "entr"),
}

if sp is not None:
    for _name, (_make, _covers) in UNARY.items():
        entry(f"special.{_name}", getattr(cr.special, _name), _covers, unary_samples(_make))
        if _name != "expit":  # (its primitive runs on other namespaces' arrays: not SciPy's ufunc)
            entry(f"scipy.special.{_name}", lambda x, _f=getattr(sp, _name): _f(x), _covers,
                  unary_samples(_make, [(2, 3)]))

    entry("special.polygamma", lambda x, n: cr.special.polygamma(n, x), "polygamma",
          lambda rng: [S(uniform(rng, (3, 4), 0.3, 4.0), n=1), S(uniform(rng, (5,), 0.5, 3.0), n=2),
                       S(uniform(rng, (), 0.5, 3.0), n=3), S(uniform(rng, (2, 1, 3), 0.5, 3.0), n=1)])
    entry("special.polygamma_0", lambda x: cr.special.polygamma(0, x), "digamma",
          unary_samples(_in(0.3, 4.0), [(2, 3)]))
    entry("special.i1_at_0", cr.special.i1, "i1",  # the limit ½ of i0 - i1/x at 0
          lambda rng: [S(np.array([0.0, 0.4, -1.3]), label="values(0,0.4,-1.3)")])
    entry("special.erfcx_tail", cr.special.erfcx, "erfcx",
          lambda rng: [S(np.array([-2.0, 5.0, 30.0]), label="values(-2..30)")])
    entry("special.log_ndtr_tail", cr.special.log_ndtr, "log_ndtr",
          lambda rng: [S(np.array([-30.0, -8.0, 6.0]), label="values(-30..6)")])

entry("np.i0", lambda x: np.i0(x), "i0", unary_samples(_in(-3.0, 3.0), [(5,), (2, 3)]))


def _nonzero_x(rng, shape):
    return nonzero(rng, shape, 0.2, 2.0)  # xlogy's gradient in x is 0 at x = 0 (PyTorch's), not log y


entry("special.xlogy", cr.special.xlogy, "xlogy",
      lambda rng: [S(_nonzero_x(rng, sx), uniform(rng, sy, 0.2, 3.0)) for sx, sy in BINARY_SHAPES])
entry("special.xlog1py", cr.special.xlog1py, "xlog1py",
      lambda rng: [S(_nonzero_x(rng, sx), uniform(rng, sy, -0.8, 3.0)) for sx, sy in BINARY_SHAPES])
entry("special.xlogy_scalar", lambda x: cr.special.xlogy(x, 2.5), "xlogy", unary_samples(_nonzero_x, [(2, 3)]))
entry("special.xlogy_y_only", lambda y: cr.special.xlogy(np.array([0.0, 1.5, -2.0]), y), "xlogy",
      unary_samples(_in(0.2, 3.0), [(3,), (2, 3)]))
if sp is not None:
    entry("scipy.special.xlogy", lambda x, y: sp.xlogy(x, y), "xlogy",
          lambda rng: [S(_nonzero_x(rng, (2, 3)), uniform(rng, (3,), 0.2, 3.0))])
    entry("scipy.special.xlog1py", lambda x, y: sp.xlog1py(x, y), "xlog1py",
          lambda rng: [S(_nonzero_x(rng, (2, 3)), uniform(rng, (3,), -0.8, 3.0))])


def _sinc_samples(rng):
    return [S(uniform(rng, s)) for s in UNARY_SHAPES] + [
        S(np.array([0.0, 0.003, -0.007, 0.01, 0.5, -1.5]), label="values(0..1.5)")]


entry("special.sinc", cr.special.sinc, "sinc", _sinc_samples)

entry("special.logsumexp", lambda a, **kw: cr.special.logsumexp(a, **kw), "logsumexp",
      lambda rng: [S(uniform(rng, (3, 4))), S(uniform(rng, (3, 4)), axis=1),
                   S(uniform(rng, (2, 3, 2)), axis=(0, 2), keepdims=True), S(uniform(rng, (3, 4)), axis=-1),
                   S(uniform(rng, (3, 4)) + 1000.0, axis=0, label="shape(3,4)-axis=0-large")])


def _weights(rng, shape, lo=0.2, hi=2.0):
    return uniform(rng, shape, lo, hi)


entry("special.logsumexp_b", lambda a, b, **kw: cr.special.logsumexp(a, b=b, **kw),
      ("amax", "where", "sub", "exp", "mul", "sum", "log", "add", "reshape"),
      lambda rng: [S(uniform(rng, (3, 4)), _weights(rng, (3, 4)), axis=1),
                   S(uniform(rng, (3, 4)), _weights(rng, (4,)), axis=0),
                   S(uniform(rng, (2, 3)), _weights(rng, (2, 3)))])
entry("special.logsumexp_sign", lambda a, b, **kw: cr.special.logsumexp(a, b=b, return_sign=True, **kw),
      ("amax", "where", "sub", "exp", "mul", "sum", "log", "add", "abs", "sign", "reshape"),
      lambda rng: [S(uniform(rng, (3, 4)), away_from(rng, (3, 4), [0.0], 0.2), axis=1),
                   S(uniform(rng, (2, 3)), np.array([[1.0, -2.5, 0.5], [2.0, 0.7, -0.3]]), keepdims=True,
                     label="shapes(2,3)+(2,3)-mixed-signs")])
entry("special.logsumexp_sign_nob", lambda a: cr.special.logsumexp(a, axis=0, return_sign=True)[0],
      ("amax", "where", "sub", "exp", "sum", "log", "add", "abs", "reshape"),
      unary_samples(uniform, [(3, 2)]))
