"""Where chainrule's time goes on W1, W2, W3 and W5: a breakdown, per-op micro-costs, cProfile.

    python benchmarks/profile_chainrule.py                  # breakdown + micro-costs
    python benchmarks/profile_chainrule.py --cprofile       # plus cProfile's top functions
    python benchmarks/profile_chainrule.py --only W1,W5

Single process, so numbers carry the machine's noise (each is a median of repeats); read them
as proportions, and see benchmarks/PROFILE.md for the analysis.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402

# CPU time of this process, not wall time: other people's jobs on these 2 cores then cost us far
# less (they still slow us through the shared core, so read proportions, not absolutes).
# W3's BLAS threads count too, so W3 is profiled with one BLAS thread (see main).
clock = time.process_time


def median_time(fn, repeat=7, number=1, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = clock()
        for _ in range(number):
            fn()
        times.append((clock() - t0) / number)
    return statistics.median(times)


def us(seconds):
    return f"{seconds * 1e6:8.2f} us"


# ---------------------------------------------------------------------------------------------
# Forward / backward / GC split per workload
# ---------------------------------------------------------------------------------------------

def _w1_forward(steps=1000):
    x = cr.tensor(np.random.default_rng(0).standard_normal(16), requires_grad=True)

    def forward():
        y = x
        for _ in range(steps):
            y = cr.tanh(y * 1.01 + 0.1)
        return y.sum()

    return x, forward, 3 * steps


def _w2_forward():
    x = cr.tensor(np.array(3.0), requires_grad=True)
    y = cr.tensor(np.array(-4.0), requires_grad=True)

    def forward():
        s = x + y
        return (x + cr.sigmoid(y)) / (cr.sigmoid(x) + s * s)

    return x, forward, 8


def _w3_forward():
    w = WORKLOADS["W3"]
    cfg = w.sizes["full"]
    data = w.make_data(cfg, np.random.default_rng(0))
    X, labels = cr.tensor(data["X"]), cr.tensor(data["labels"])
    params = []
    for i in range(3):
        params += [cr.tensor(data[f"W{i}"], requires_grad=True), cr.tensor(data[f"b{i}"], requires_grad=True)]

    def forward():
        h = X
        for i in range(3):
            h = h @ params[2 * i] + params[2 * i + 1]
            if i < 2:
                h = cr.relu(h)
        return cr.nn.functional.cross_entropy(h, labels)

    return params[0], forward, 9


def _w5_forward(length=100_000):
    x = cr.tensor(np.array(0.5), requires_grad=True)

    def forward():
        y = x
        for _ in range(length):
            y = y * 0.9999 + 0.0001
        return y

    return x, forward, 2 * length


FORWARDS = {"W1": _w1_forward, "W2": _w2_forward, "W3": _w3_forward, "W5": _w5_forward}


def split(key):
    """Forward (recording) and backward time of the same calls, GC on and off; no-grad forward."""
    _, forward, ops = FORWARDS[key]()
    repeat = 5 if key == "W5" else 15
    number = 1 if key in ("W5", "W1") else 20 if key == "W3" else 500
    perf = clock

    def sample():
        f = b = 0.0
        for _ in range(number):
            t0 = perf()
            y = forward()
            t1 = perf()
            y.backward()
            t2 = perf()
            del y
            f += t1 - t0
            b += t2 - t1
        return f / number, b / number

    def nograd():
        with cr.no_grad():
            forward()

    rows = {}
    for gc_on in (True, False):
        sample()
        if not gc_on:
            gc.disable()
        try:
            pairs = [sample() for _ in range(repeat)]
            ng = median_time(nograd, repeat, number)
        finally:
            gc.enable()
        f = statistics.median(p[0] for p in pairs)
        b = statistics.median(p[1] for p in pairs)
        t = statistics.median(p[0] + p[1] for p in pairs)
        rows[gc_on] = (f, b, t, ng)
    w = WORKLOADS[key]
    cfg = dict(w.sizes["full"])
    ref = w.builders["numpy"](cfg, w.make_data(cfg, np.random.default_rng(0)))
    rows["numpy"] = median_time(ref, repeat, number)
    return ops, rows


def print_split(keys):
    print("== forward (recording) / backward / total per call, GC on vs off ==")
    print(f"{'':4} {'ops':>7} | {'forward':>12} {'backward':>12} {'total':>12} {'no-grad fwd':>12} | "
          f"{'total, gc off':>13} {'GC share':>9} | {'NumPy ref':>12} {'ratio':>6} | per op: total, fwd, bwd")
    for key in keys:
        ops, rows = split(key)
        f, b, t, ng = rows[True]
        f0, b0, t0, ng0 = rows[False]
        share = 1 - t0 / t if t > 0 else 0.0
        ref = rows["numpy"]
        print(f"{key:4} {ops:7d} | {us(f)} {us(b)} {us(t)} {us(ng)} | {us(t0)} {share:8.0%} | "
              f"{us(ref)} {t / ref:5.1f}x | "
              f"{t / ops * 1e6:.2f}, {f / ops * 1e6:.2f}, {b / ops * 1e6:.2f} us")
    print()


# ---------------------------------------------------------------------------------------------
# Per-op micro-costs (16 float64 elements, as W1)
# ---------------------------------------------------------------------------------------------

def micro():
    from chainrule.core import graph
    from chainrule.core.tensor import Tensor
    from chainrule.ops import elementwise as E

    rng = np.random.default_rng(0)
    a = rng.standard_normal(16)
    t = cr.tensor(a)
    tg = cr.tensor(a, requires_grad=True)
    N = 20000

    def loop(fn):
        def run():
            for _ in range(N):
                fn()
        return median_time(run, 7, 1) / N

    rows = []
    rows.append(("np.tanh(a)  (raw NumPy)", loop(lambda: np.tanh(a))))
    rows.append(("a * 1.01  (raw NumPy)", loop(lambda: a * 1.01)))
    rows.append(("E.tanh.impl(a)  (the impl, via the Primitive's attribute)", loop(lambda: E.tanh.impl(a))))
    rows.append(("E.mul.impl(a, 1.01)  (_torch_promotion wrapper)", loop(lambda: E.mul.impl(a, 1.01))))
    rows.append(("Tensor._wrap(a)  (tensor creation)", loop(lambda: Tensor._wrap(a))))
    with cr.no_grad():
        rows.append(("cr.tanh(t) under no_grad", loop(lambda: cr.tanh(t))))
        rows.append(("t * 1.01 under no_grad  (operator -> Primitive)", loop(lambda: t * 1.01)))
    rows.append(("cr.tanh(t), t not requiring grad", loop(lambda: cr.tanh(t))))
    rows.append(("cr.tanh(tg), recorded", loop(lambda: cr.tanh(tg))))
    rows.append(("tg * 1.01, recorded (broadcasting binary)", loop(lambda: tg * 1.01)))
    out = np.tanh(a)
    result = Tensor._wrap(out)
    rows.append(("graph.record(tanh) alone  (the Node)", loop(
        lambda: graph.record(E.tanh, (tg,), [a], {}, out, result))))
    rows.append(("graph.record(mul, (tg, 1.01)) alone", loop(
        lambda: graph.record(E.mul, (tg, 1.01), [a, 1.01], {}, out, result))))

    # backward per node: a chain of n tanh
    n = 3000

    def chain():
        y = tg
        for _ in range(n):
            y = cr.tanh(y)
        return y.sum()

    def fb():
        tg.grad = None
        chain().backward()

    f = median_time(chain, 7, 1)
    total = median_time(fb, 7, 1)
    rows.append(("backward, per tanh node (chain of 3000)", (total - f) / n))
    rows.append(("np.tanh VJP math alone: g * (1 - y*y)", loop(lambda: a * (1.0 - out * out))))

    print("== per-op micro-costs, 16 float64 elements ==")
    for name, sec in rows:
        print(f"  {name:62s} {us(sec)}")
    print()


# ---------------------------------------------------------------------------------------------
# cProfile
# ---------------------------------------------------------------------------------------------

def profile(key, top=18):
    x, forward, ops = FORWARDS[key]() if key != "W5" else _w5_forward(20_000)
    calls = {"W1": 3, "W2": 2000, "W3": 30, "W5": 1}[key]

    def run():
        for _ in range(calls):
            forward().backward()

    run()
    prof = cProfile.Profile()
    prof.enable()
    run()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    text = out.getvalue()
    start = text.find("   ncalls")
    print(f"== cProfile {key} ({calls} forward+backward calls, {ops} ops each), by own time ==")
    print(text[start:].rstrip())
    print()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="W1,W2,W3,W5")
    ap.add_argument("--cprofile", action="store_true")
    ap.add_argument("--no-micro", action="store_true")
    args = ap.parse_args(argv)
    keys = [k.strip().upper() for k in args.only.split(",") if k.strip()]
    try:
        import threadpoolctl
        threadpoolctl.threadpool_limits(1, user_api="blas")
        print("BLAS limited to 1 thread for this profile (CPU-time clock)")
    except ImportError:
        print("threadpoolctl missing: W3's CPU time includes BLAS threads")
    print(f"chainrule from {Path(cr.__file__).parent}; NumPy {np.__version__}; Python {sys.version.split()[0]}\n")
    print_split(keys)
    if not args.no_micro:
        micro()
    if args.cprofile:
        for key in keys:
            profile(key)


if __name__ == "__main__":
    main()
