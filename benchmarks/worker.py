"""One benchmark process: one workload on one system, cross-checked, then timed (or measured).

Run by ``benchmarks.run`` as ``python -m benchmarks.worker '<json config>'``; prints one line
``BENCH_RESULT {...}`` with the per-sample times (seconds per call) or the peak memory. A gradient
that differs from the NumPy reference makes it print ``BENCH_RESULT`` with ``status: "mismatch"``
and exit with status 3; a system that lacks the workload's API reports ``"not available"``.

``check(key, system, mode)`` is the in-process entry point the smoke test uses.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import resource
import sys
import time
import warnings

import numpy as np

from .workloads import WORKLOADS, NotAvailable

MARK = "BENCH_RESULT "


class Mismatch(AssertionError):
    pass


# ---------------------------------------------------------------------------------------------
# Cross-checking
# ---------------------------------------------------------------------------------------------

def compare(key: str, system: str, got, expected, rtol: float, value_rtol: float | None = None) -> float:
    """Largest norm-relative difference between two result tuples; raises ``Mismatch`` past ``rtol``."""
    if len(got) != len(expected):
        raise Mismatch(f"{key} [{system}]: {len(got)} results, the NumPy reference has {len(expected)}")
    worst = 0.0
    for i, (a, b) in enumerate(zip(got, expected)):
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        if a.shape != b.shape:
            raise Mismatch(f"{key} [{system}]: result {i} has shape {a.shape}, the reference {b.shape}")
        if not np.all(np.isfinite(a)):
            raise Mismatch(f"{key} [{system}]: result {i} has NaN or inf values")
        scale = float(np.linalg.norm(b))
        err = float(np.linalg.norm(a - b)) / (scale if scale > 0 else 1.0)
        tol = value_rtol if (value_rtol is not None and a.ndim == 0) else rtol
        if err > tol:
            raise Mismatch(
                f"{key} [{system}]: result {i} (shape {a.shape}) differs from the NumPy reference: "
                f"relative error {err:.3g} > {tol:.3g}"
            )
        worst = max(worst, err)
    return worst


def _build(key: str, system: str, mode: str):
    w = WORKLOADS[key]
    cfg = w.sizes[mode]
    data = w.make_data(cfg, np.random.default_rng(20240601))
    return w, cfg, data, w.builders[system](cfg, data)


def check(key: str, system: str, mode: str = "tiny") -> float:
    """Build ``key`` on ``system``, run it once and cross-check it against the NumPy reference
    (a compiled workload twice: the traced call, then the compiled one)."""
    w, cfg, data, step = _build(key, system, mode)
    expected = w.builders["numpy"](cfg, data)()
    err = compare(key, system, step(), expected, w.rtol, w.value_rtol)
    if w.extra.get("compiled"):
        err = max(err, compare(key, system + " (second call)", step(), expected, w.rtol, w.value_rtol))
    return err


# ---------------------------------------------------------------------------------------------
# Environment report
# ---------------------------------------------------------------------------------------------

def blas_info() -> dict:
    info = {"env": {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "MKL_"))}}
    try:
        import threadpoolctl
    except ImportError:
        info["threadpoolctl"] = "not installed (pip install threadpoolctl, or the 'bench' extra)"
        return info
    pools = []
    for p in threadpoolctl.threadpool_info():
        pools.append({k: p.get(k) for k in ("user_api", "internal_api", "architecture", "num_threads",
                                            "version", "prefix", "threading_layer")})
    info["pools"] = pools
    return info


def blas_threads() -> int:
    """Threads of NumPy's BLAS (call before importing torch, which brings its own pools)."""
    try:
        import threadpoolctl
        for p in threadpoolctl.threadpool_info():
            if p.get("user_api") == "blas":
                return int(p["num_threads"])
    except ImportError:
        pass
    return os.cpu_count() or 1


_LIMITS = []


def _prepare(system: str, threads: int | None = None) -> dict:
    """Import the system; with ``threads``, limit NumPy's BLAS (threadpoolctl, at run time) to it."""
    extra = {}
    if threads:
        import threadpoolctl  # --threads needs it: fail loudly rather than silently ignore the option
        _LIMITS.append(threadpoolctl.threadpool_limits(threads, user_api="blas"))
    if system == "torch":
        threads = blas_threads()
        import torch
        torch.set_num_threads(threads)
        extra["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads()}
    if system == "jax":
        # Before JAX is imported: XLA's CPU thread pool. One thread: Eigen single-threaded.
        wanted = threads or blas_threads()
        if wanted == 1:
            flags = os.environ.get("XLA_FLAGS", "")
            os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1").strip()
        try:
            import jax
        except ImportError:
            return extra  # the builder reports "not available"
        extra["jax"] = {"version": jax.__version__, "threads": wanted if wanted == 1 else "XLA's default",
                        "xla_flags": os.environ.get("XLA_FLAGS", "")}
    if system == "chainrule":
        import chainrule
        extra["chainrule"] = {"version": getattr(chainrule, "__version__", "?"),
                              "file": os.path.dirname(chainrule.__file__)}
    return extra


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------

def _time_calls(step, n: int) -> float:
    perf = time.perf_counter
    t0 = perf()
    for _ in range(n):
        step()
    return (perf() - t0) / n


def _time(step, first: float, opts: dict) -> tuple[list, int]:
    """Warm up, pick calls per sample, take samples; returns (seconds per call per sample, n)."""
    warm_until = time.perf_counter() + opts["warmup_s"]
    est = first
    calls = 0
    while time.perf_counter() < warm_until or calls < opts.get("warmup_calls", 1):
        est = _time_calls(step, 1)
        calls += 1
        if est > opts["warmup_s"]:
            break
    n = max(1, int(opts["sample_s"] / max(est, 1e-9)))
    samples = max(opts["min_samples"], min(opts["samples"], int(opts["budget_s"] / max(n * est, 1e-9))))
    cpu0, faults0 = _usage()
    times = [_time_calls(step, n) for _ in range(samples)]
    cpu1, faults1 = _usage()
    calls = samples * n
    # Not the timed quantity, but useful beside it: CPU seconds (all threads) and minor page
    # faults (~ fresh 4 KiB pages touched) per call.
    usage = {"cpu_s_per_call": (cpu1 - cpu0) / calls, "minor_faults_per_call": (faults1 - faults0) / calls}
    return times, n, usage


def _usage():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_minflt


def run_time(key: str, system: str, mode: str, opts: dict) -> dict:
    w = WORKLOADS[key]
    extra = _prepare(system, opts.get("threads"))
    _, cfg, data, step = _build(key, system, mode)
    compiled = w.extra.get("compiled")
    with _recording(compiled) as caught:
        t0 = time.perf_counter()
        got = step()
        first = time.perf_counter() - t0
        calls = [got]
        if compiled:  # the traced call, then the first run of the compiled code: check both
            t0 = time.perf_counter()
            calls.append(step())
            second = time.perf_counter() - t0
    expected = got if system == "numpy" else w.builders["numpy"](cfg, data)()
    status, reason, err = "ok", None, 0.0
    for i, out in enumerate(calls):
        try:
            err = max(err, compare(key, system + (" (second call)" if i else ""), out, expected,
                                   w.rtol, w.value_rtol))
        except Mismatch as exc:
            if not opts.get("allow_mismatch"):
                raise
            print(f"GRADIENT MISMATCH (timed anyway): {exc}", file=sys.stderr)
            status, reason, err = "mismatch-timed", str(exc), None
            break
    del got, expected, calls
    result = {"status": status, "check_error": err, "first_call_s": first, **extra}
    if compiled:
        result["second_call_s"] = second
        result.update(_jit_report(step, caught))
    if reason:
        result["reason"] = reason
    paired = w.extra.get("paired_with")
    if paired:
        # Alternate the two sizes in this one process (A B A B ...), so their ratio is paired.
        _, cfg2, data2, step2 = _build(paired, system, mode)
        step2()
        n2 = max(1, int(opts["sample_s"] / _time_calls(step2, 1)))
        times, times2 = [], []
        for _ in range(opts["min_samples"]):
            times2.append(_time_calls(step2, n2))
            times.append(_time_calls(step, 1))
        result.update(samples=times, paired_samples=times2, calls_per_sample=1)
    else:
        samples, n, usage = _time(step, second if compiled else first, opts)
        result.update(samples=samples, calls_per_sample=n, **usage)
    return result


# ---------------------------------------------------------------------------------------------
# Peak memory
# ---------------------------------------------------------------------------------------------

def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def run_memory(key: str, system: str, mode: str, opts: dict) -> dict:
    """Baseline after imports and inputs, one warm-up call, then the peak of one more call."""
    w = WORKLOADS[key]
    extra = _prepare(system, opts.get("threads"))
    _, cfg, data, step = _build(key, system, mode)
    gc.collect()
    baseline = _status_kib("VmRSS")
    with _recording(w.extra.get("compiled")) as caught:
        t0 = time.perf_counter()
        out = step()                                 # warm-up (a compiled workload: the traced call)
        first = time.perf_counter() - t0
    del out
    gc.collect()
    before = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    t0 = time.perf_counter()
    got = step()
    elapsed = time.perf_counter() - t0
    hwm = _status_kib("VmHWM")
    # Cross-check after measuring, so the reference's own arrays don't disturb the measurement.
    expected = got if system == "numpy" else w.builders["numpy"](cfg, data)()
    err = compare(key, system, got, expected, w.rtol, w.value_rtol)
    result = {
        "status": "ok", "check_error": err, "baseline_kib": baseline, "before_call_kib": before,
        "hwm_kib": hwm, "peak_mib": (hwm - baseline) / 1024.0, "call_s": elapsed, "first_call_s": first,
        **extra,
    }
    if w.extra.get("compiled"):
        result.update(_jit_report(step, caught))
    return result


@contextlib.contextmanager
def _recording(compiled):
    """A compiled workload's warnings (cr.jit's fallbacks and retraces), recorded for the report;
    an eager workload's are left to print as before."""
    if not compiled:
        yield []
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def _jit_report(step, caught) -> dict:
    """For a compiled workload: the warnings of its first calls, and (chainrule) how cr.jit ran it."""
    out = {}
    messages = sorted({str(c.message) for c in caught})
    if messages:
        out["warnings"] = messages
    status = getattr(step, "jit_status", None)
    if status is not None:
        try:
            out["jit"] = status()
        except Exception as exc:  # a diagnostic must not fail the run
            out["jit"] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


# ---------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    opts = json.loads(argv[0])
    key, system, mode = opts["workload"], opts["system"], opts["mode"]
    w = WORKLOADS[key]
    code = 0
    try:
        if w.kind == "memory" and mode != "tiny":
            result = run_memory(key, system, mode, opts)
        else:
            result = run_time(key, system, mode, opts)
    except NotAvailable as exc:
        result = {"status": "not available", "reason": str(exc)}
    except Mismatch as exc:
        print(f"GRADIENT MISMATCH: {exc}", file=sys.stderr)
        result = {"status": "mismatch", "reason": str(exc)}
        code = 3
    result["blas"] = blas_info()
    print(MARK + json.dumps(result), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
