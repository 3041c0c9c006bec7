"""Run the benchmark suite: every workload on every system, in fresh processes, interleaved.

    python -m benchmarks                    # the full run, eager and compiled (about 20 minutes on 2 cores)
    python -m benchmarks --only compiled    # W1c-W8c: cr.jit against jax.jit (--only eager: the others)
    python -m benchmarks --quick            # one process per system, few samples (a smoke run)
    python -m benchmarks --only W1,W3       # some workloads (W1 also selects W1-nograd, W5 W5-1M, W8 both modes)
    python -m benchmarks --tiny             # tiny sizes: only checks that everything runs and agrees
    python -m benchmarks --blas-env both    # BLAS-heavy workloads also with OPENBLAS_CORETYPE/L2_SIZE toggled

How it measures (see benchmarks/README.md): each configuration (workload, system) runs in its own
fresh process, which first cross-checks its results against the hand-written NumPy reference
(exit 3 and a loud message if they differ), warms up, then takes samples; systems alternate
process by process (A B C, C B A, ...), several rounds; a system's time is the median over
processes of each process's median, and its ratio to NumPy is the median over rounds of the
ratio within a round.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.workloads import ALL_SYSTEMS, WORKLOADS  # noqa: E402

MARK = "BENCH_RESULT "
BLAS_HEAVY = ("W3", "W4", "W6", "W8-rev", "W8-fwd", "W3c", "W4c", "W6c", "W8c-rev", "W8c-fwd")
BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
COMPILED = tuple(k for k, w in WORKLOADS.items() if w.extra.get("compiled"))
GROUPS = {"W1": ("W1", "W1-nograd"), "W5": ("W5", "W5-1M"), "W8": ("W8-rev", "W8-fwd"),
          "W8C": ("W8c-rev", "W8c-fwd"), "COMPILED": COMPILED,
          "EAGER": tuple(k for k in WORKLOADS if k not in COMPILED)}

MODES = {
    # rounds: processes per system; samples: per process (at most); budget_s: timing per process.
    "full": {"rounds": 5, "samples": 15, "min_samples": 3, "sample_s": 0.05, "budget_s": 2.0,
             "warmup_s": 0.3, "warmup_calls": 3},
    "quick": {"rounds": 1, "samples": 3, "min_samples": 2, "sample_s": 0.02, "budget_s": 0.4,
              "warmup_s": 0.1, "warmup_calls": 3},
    "tiny": {"rounds": 1, "samples": 1, "min_samples": 1, "sample_s": 0.0, "budget_s": 0.0,
             "warmup_s": 0.0, "warmup_calls": 0},
}
# Fewer rounds (and samples) where one call takes seconds.
ROUNDS = {"full": {"W5": 3, "W5-1M": 2, "W6": 3, "W4c": 3, "W5c": 3, "W6c": 3}}
OVERRIDES = {"full": {"W5-1M": {"min_samples": 2}}, "quick": {"W5-1M": {"min_samples": 1}}}

UNIT_SCALE = {"us/op": 1e6, "us": 1e6, "ms": 1e3, "s": 1.0, "MiB": 1.0}
NAMES = {"numpy": "NumPy ref", "chainrule": "chainrule", "torch": "PyTorch", "jax": "JAX jit"}
MODE = ["full"]  # the mode of this run (for per-op scaling in the report)


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------

SNAPSHOT = []  # the directory holding this run's copy of chainrule, when snapshotting


def snapshot_source(commit: str | None = None) -> str:
    """Copy src/chainrule (or, with ``commit``, the committed version: ``git archive``) to a
    temporary directory, so that edits made to the working tree while the suite runs don't mix
    versions between processes; returns a short hash of what was copied."""
    import hashlib
    import io
    import shutil
    import tarfile
    import tempfile
    target = Path(tempfile.mkdtemp(prefix="chainrule-bench-"))
    if commit:
        archive = subprocess.run(["git", "archive", "--format=tar", commit, "src/chainrule"], cwd=ROOT,
                                 capture_output=True, timeout=60)
        if archive.returncode:
            raise SystemExit(f"--commit: git archive {commit} failed: {archive.stderr.decode().strip()}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(target)
        shutil.move(str(target / "src" / "chainrule"), str(target / "chainrule"))
        shutil.rmtree(target / "src")
    else:
        shutil.copytree(ROOT / "src" / "chainrule", target / "chainrule",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    digest = hashlib.sha1()
    for path in sorted((target / "chainrule").rglob("*.py")):
        digest.update(str(path.relative_to(target)).encode())
        digest.update(path.read_bytes())
    SNAPSHOT.append(str(target))
    return digest.hexdigest()[:10]


def _child_env(variant_env: dict | None) -> dict:
    env = dict(os.environ)
    paths = SNAPSHOT[:1] + [str(ROOT), str(ROOT / "src")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    if variant_env is not None:
        for k in BLAS_VARS:
            env.pop(k, None)
        env.update(variant_env)
    return env


BASELINE = "chainrule@base"
PEERS = ("torch", "jax")


def spawn(key: str, system: str, mode: str, opts: dict, env: dict, timeout: float) -> dict:
    if system == BASELINE:  # chainrule imported from --baseline's directory
        env = dict(env, PYTHONPATH=os.pathsep.join([opts["baseline"], env["PYTHONPATH"]]))
        system = "chainrule"
    config = {"workload": key, "system": system, "mode": mode, **opts}
    cmd = [sys.executable, "-m", "benchmarks.worker", json.dumps(config)]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": "error", "reason": f"timed out after {timeout:.0f} s"}
    for line in proc.stdout.splitlines():
        if line.startswith(MARK):
            result = json.loads(line[len(MARK):])
            if proc.returncode not in (0, 3):
                result["status"] = "error"
            return result
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-12:]
    return {"status": "error", "reason": f"exit {proc.returncode}: " + " | ".join(tail)}


def _available(package: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(package) is not None


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------

def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _value(w, result):
    """The process's number in the workload's unit: median seconds per call scaled, or MiB."""
    if result.get("status") not in ("ok", "mismatch-timed"):
        return None
    if "peak_mib" in result:
        return result["peak_mib"]
    if not result.get("samples"):
        return None
    seconds = statistics.median(result["samples"])
    per = w.per(w.sizes[result["_mode"]]) if w.per else 1
    return seconds / per * UNIT_SCALE[w.unit]


def summarize(w, runs: dict, systems) -> dict:
    """runs[system] = list of per-round results (None where the system did not run that round)."""
    summary = {}
    for s in systems:
        results = runs.get(s, [])
        values = [_value(w, r) for r in results]
        statuses = sorted({r.get("status") for r in results if r})
        entry = {"values": values, "median": _median(values), "statuses": statuses}
        good = [v for v in values if v is not None]
        if good:
            entry["min"], entry["max"] = min(good), max(good)
        for field in ("minor_faults_per_call", "cpu_s_per_call", "first_call_s", "second_call_s"):
            entry[field] = _median([r.get(field) for r in results if r and r.get("status") in ("ok", "mismatch-timed")])
        if w.extra.get("compiled"):
            entry["first_calls_s"] = [r.get("first_call_s") if r else None for r in results]
            notes = sorted({n for r in results if r for n in _jit_notes(r)})
            if notes:
                entry["jit_notes"] = notes
        reasons = sorted({r.get("reason") for r in results if r and r.get("reason")})
        if reasons:
            entry["reasons"] = reasons
        if w.extra.get("paired_with") and s in ("chainrule", BASELINE):
            growth = []
            for r in results:
                if r and r.get("samples") and r.get("paired_samples"):
                    big = statistics.median(r["samples"]) / w.sizes[r["_mode"]]["length"]
                    other = WORKLOADS[w.extra["paired_with"]]
                    small = statistics.median(r["paired_samples"]) / other.sizes[r["_mode"]]["length"]
                    growth.append(big / small)
            entry["per_link_growth"] = _median(growth)
            entry["per_link_growth_all"] = growth
        summary[s] = entry
    ref = summary.get(w.reference_system, {})
    for s in systems:
        if s == w.reference_system:
            continue
        pairs = [a / b for a, b in zip(summary[s]["values"], ref.get("values", []))
                 if a is not None and b is not None and b > 0]
        summary[s]["ratio"] = _median(pairs)
        summary[s]["ratios"] = pairs
    if "jax" in summary and "chainrule" in summary:
        cr, jx = summary["chainrule"], summary["jax"]
        pairs = [a / b for a, b in zip(cr["values"], jx["values"]) if a is not None and b is not None and b > 0]
        cr["vs_jax"] = _median(pairs)
        firsts = [a / b for a, b in zip(cr.get("first_calls_s", []), jx.get("first_calls_s", []))
                  if a is not None and b is not None and b > 0]
        cr["first_vs_jax"] = _median(firsts)
    return summary


def _jit_notes(result) -> list[str]:
    """What a compiled workload's process said about cr.jit: fallbacks to eager, warnings."""
    notes = list(result.get("warnings", []))
    jit = result.get("jit") or {}
    if jit.get("fallback"):
        notes.append(jit["fallback"])
    if jit.get("error"):
        notes.append("jit status: " + jit["error"])
    if jit.get("traces", 1) > 1:
        notes.append(f"traced {jit['traces']} times")
    return notes


def verdict(w, summary) -> tuple[str, str]:
    """(target text, met / not met / n/a) for chainrule."""
    if w.target is None:
        return "", ""
    kind, value = w.target[:2]
    cr = summary.get("chainrule", {})
    if kind == "abs":
        text = f"<= {value:g} {w.unit}"
        got = cr.get("median")
    elif kind == "ratio":
        text = f"<= {value:g}x NumPy"
        got = cr.get("ratio")
        value = value
    elif kind == "compile":  # ("compile", first call <= value s, steady state <= w.target[2] s)
        steady = w.target[2]
        text = f"first call <= {value:g} s, later <= {steady * 1e3:g} ms"
        first, median = cr.get("first_call_s"), cr.get("median")
        if first is None or median is None:
            got = None
        else:
            ok = first <= value and median / UNIT_SCALE[w.unit] <= steady
            return text, "met" if ok else "NOT met"
    else:  # linear
        text = f"per link <= {value:g}x of 100k's"
        got = cr.get("per_link_growth")
    if got is None:
        status = ", ".join(cr.get("statuses", [])) or "not run"
        return text, status if status != "ok" else "n/a"
    return text, ("met" if got <= value else "NOT met")


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def _fmt(v, unit=None):
    if v is None:
        return "–"
    if unit == "MiB":
        return f"{v:.0f}"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    if v >= 0.01:
        return f"{v:.3f}"
    return f"{v:.2g}"


def _cell(entry, unit):
    if not entry:
        return "–"
    if entry.get("median") is None:
        signals = sorted({r.split(":")[0][len("exit "):] for r in entry.get("reasons", []) if r.startswith("exit -")})
        if signals:
            return f"crashed (signal {', '.join(x.lstrip('-') for x in signals)})"
        statuses = [s for s in entry.get("statuses", []) if s not in ("ok", "skipped")] or ["–"]
        return statuses[0]
    text = _fmt(entry["median"], unit)
    if "mismatch-timed" in entry.get("statuses", []):
        text += " (WRONG GRADIENT)"
    return text


def _ratio(entry):
    if not entry or entry.get("ratio") is None:
        return "–"
    return f"{entry['ratio']:.2f}x"


def table(rows) -> str:
    eager = [r for r in rows if not r[1].extra.get("compiled")]
    compiled = [r for r in rows if r[1].extra.get("compiled")]
    parts = [eager_table(eager)] if eager else []
    if compiled:
        parts.append(compiled_table(compiled))
    return "\n\n".join(parts)


def _seconds(v):
    return "–" if v is None else (f"{v * 1e3:.1f} ms" if v < 1 else f"{v:.2f} s")


def compiled_table(rows) -> str:
    """The compiled workloads: steady state (median after the first call) and the first call
    (trace + compile + one run) of cr.jit and jax.jit, against the NumPy reference."""
    lines = [
        "| workload | unit | NumPy ref | chainrule jit | JAX jit | chainrule / NumPy | JAX / NumPy "
        "| chainrule / JAX | first call: chainrule | first call: JAX | chainrule target | met? |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    notes = []
    for label, w, summary in rows:
        target, met = verdict(w, summary)
        cr, jx = summary.get("chainrule", {}), summary.get("jax", {})
        vs = cr.get("vs_jax")
        lines.append(
            f"| {label} | {w.unit} | {_cell(summary.get('numpy'), w.unit)} | {_cell(cr, w.unit)} | "
            f"{_cell(jx, w.unit)} | {_ratio(cr)} | {_ratio(jx)} | {'–' if vs is None else f'{vs:.2f}x'} | "
            f"{_seconds(cr.get('first_call_s'))} | {_seconds(jx.get('first_call_s'))} | {target} | {met} |"
        )
        for s in ("chainrule", "jax"):
            for note in summary.get(s, {}).get("jit_notes", []):
                notes.append(f"- {label} [{s}]: {note}")
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


def eager_table(rows) -> str:
    lines = [
        "| workload | unit | NumPy ref | chainrule | PyTorch | chainrule / NumPy | PyTorch / NumPy "
        "| chainrule target | met? | peers' NumPy ref |",
        "|---|---|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for label, w, summary in rows:
        target, met = verdict(w, summary)
        cr = summary.get("chainrule", {})
        extra = ""
        if cr.get("per_link_growth") is not None:
            extra = f" (per link: {cr['per_link_growth']:.2f}x of 100k's)"
        lines.append(
            f"| {label} | {w.unit} | {_cell(summary.get('numpy'), w.unit)} | "
            f"{_cell(cr, w.unit)}{extra} | {_cell(summary.get('torch'), w.unit)} | "
            f"{_ratio(cr)} | {_ratio(summary.get('torch'))} | {target} | {met} | {_fmt(w.peer_ref)} |"
        )
    if any(BASELINE in summary for _, _, summary in rows):
        lines += ["", f"| workload | {BASELINE} | chainrule | {BASELINE} / NumPy | chainrule / {BASELINE} |",
                  "|---|---:|---:|---:|---:|"]
        for label, w, summary in rows:
            base, cr = summary.get(BASELINE, {}), summary.get("chainrule", {})
            pairs = [a / b for a, b in zip(cr.get("values", []), base.get("values", []))
                     if a is not None and b is not None and b > 0]
            lines.append(f"| {label} | {_cell(base, w.unit)} | {_cell(cr, w.unit)} | {_ratio(base)} | "
                         f"{'–' if not pairs else f'{statistics.median(pairs):.3f}x'} |")
    return "\n".join(lines)


def spread(rows) -> str:
    lines = ["| workload | system | per-process values (min–max) | per-round ratios to NumPy "
             "| CPU time / call | fresh pages / call |", "|---|---|---|---|---:|---:|"]
    for label, w, summary in rows:
        for s, entry in summary.items():
            if entry.get("min") is None:
                continue
            ratios = ", ".join(f"{r:.2f}" for r in entry.get("ratios", []))
            cpu = entry.get("cpu_s_per_call")
            cpu_text = "–" if cpu is None else f"{_fmt(cpu / (w.per(w.sizes[MODE[0]]) if w.per else 1) * UNIT_SCALE.get(w.unit, 1))} {w.unit}"
            faults = entry.get("minor_faults_per_call")
            lines.append(f"| {label} | {s} | {_fmt(entry['min'], w.unit)}–{_fmt(entry['max'], w.unit)} "
                         f"{w.unit} ({len([v for v in entry['values'] if v is not None])} processes) | {ratios} "
                         f"| {cpu_text if w.kind == 'time' else '–'} | {'–' if faults is None else f'{faults:.0f}'} |")
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _git_head() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return head + (" (src/ has uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "?"


def _blas_text(results) -> list[str]:
    seen = {}
    for r in results:
        blas = (r or {}).get("blas") or {}
        for p in blas.get("pools", []):
            if p.get("user_api") == "blas" and p.get("prefix", "").startswith("libscipy_openblas"):
                key = (p.get("internal_api"), p.get("architecture"), p.get("num_threads"), p.get("version"))
                seen[key] = seen.get(key, 0) + 1
        if "threadpoolctl" in blas:
            seen[("threadpoolctl", blas["threadpoolctl"], None, None)] = 1
    out = []
    for (api, arch, threads, version), n in seen.items():
        if api == "threadpoolctl":
            out.append(f"threadpoolctl {arch}")
        else:
            out.append(f"NumPy's BLAS: {api} {version}, kernel {arch}, {threads} threads ({n} processes)")
    return out


def _load() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


# ---------------------------------------------------------------------------------------------

def select(only: str | None) -> list[str]:
    if not only:
        return list(WORKLOADS)
    keys = []
    for part in only.split(","):
        part = part.strip()
        if not part:
            continue
        group = GROUPS.get(part.upper(), (part,))
        for k in group:
            match = next((name for name in WORKLOADS if name.lower() == k.lower()), None)
            if match is None:
                raise SystemExit(f"--only: unknown workload {k!r}; known: {', '.join(WORKLOADS)} "
                                 f"(groups: {', '.join(GROUPS)})")
            if match not in keys:
                keys.append(match)
    return keys


def _variants(key: str, blas_env: str):
    """[(label suffix, env override or None)] for the BLAS environment variants."""
    if blas_env != "both" or key not in BLAS_HEAVY:
        return [("", None)]
    current = {k: os.environ[k] for k in BLAS_VARS if k in os.environ}
    if current:
        alt, alt_label = {}, "OPENBLAS_CORETYPE/L2_SIZE unset"
    else:
        alt, alt_label = {"OPENBLAS_CORETYPE": "Haswell"}, "OPENBLAS_CORETYPE=Haswell"
    here = ", ".join(f"{k}={v}" for k, v in current.items()) or "OPENBLAS_* unset"
    return [(f" [{here}]", None), (f" [{alt_label}]", alt)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="one process per system, few samples")
    ap.add_argument("--tiny", action="store_true", help="tiny sizes, one call each: only checks everything runs")
    ap.add_argument("--only", help="comma-separated workloads, e.g. W1,W3 (W1, W5, W8 select their variants)")
    ap.add_argument("--systems", default=",".join(ALL_SYSTEMS),
                    help="comma-separated: numpy,chainrule,torch,jax (jax runs the compiled workloads W1c-W8c)")
    ap.add_argument("--rounds", type=int, help="processes per system (overrides the mode's)")
    ap.add_argument("--blas-env", choices=("inherit", "both"), default="inherit",
                    help="'both' also runs the BLAS-heavy workloads with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE "
                         "toggled (unset if set, else CORETYPE=Haswell) and reports both")
    ap.add_argument("--baseline", metavar="DIR",
                    help="also run chainrule imported from DIR (a directory holding a chainrule package, "
                         "e.g. the src/ of `git worktree add /tmp/base HEAD`) as system chainrule@base, "
                         "interleaved with the working tree's, to A/B an engine change")
    ap.add_argument("--threads", type=int,
                    help="limit NumPy's BLAS to N threads (threadpoolctl, at run time) and give PyTorch the same; "
                         "default: BLAS's own default. 1 is far steadier on a loaded 2-core machine")
    ap.add_argument("--no-snapshot", action="store_true",
                    help="import chainrule from src/ as it is at each process start (default: from a copy "
                         "taken when the run starts, so concurrent edits don't mix versions)")
    ap.add_argument("--commit", metavar="REV",
                    help="measure chainrule as committed at REV (e.g. HEAD; extracted with git archive) "
                         "instead of the working tree")
    ap.add_argument("--allow-mismatch", action="store_true",
                    help="time a system even when its results differ from the reference (marked WRONG GRADIENT)")
    ap.add_argument("--json", help="write all results here (default benchmarks/results/latest-<mode>.json)")
    ap.add_argument("--write-readme", action="store_true", help="put the table into benchmarks/README.md")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per process")
    ap.add_argument("--report", metavar="JSON", help="run nothing: print the tables of a saved --json file "
                                                     "(with --write-readme, put them into README.md)")
    args = ap.parse_args(argv)
    if args.report:
        return report(args.report, args.write_readme)

    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    opts = dict(MODES[mode])
    MODE[0] = mode
    opts["allow_mismatch"] = args.allow_mismatch
    if args.threads:
        opts["threads"] = args.threads
    if args.baseline:
        base = Path(args.baseline).resolve()
        if not (base / "chainrule" / "__init__.py").exists():
            raise SystemExit(f"--baseline: {base} has no chainrule/__init__.py")
        opts["baseline"] = str(base)
    keys = select(args.only)
    wanted = [s.strip() for s in args.systems.split(",") if s.strip()]
    for s in wanted:
        if s not in ALL_SYSTEMS:
            raise SystemExit(f"--systems: unknown system {s!r}; known: {', '.join(ALL_SYSTEMS)}")
    have = {s: _available(s) for s in ("torch", "jax")}
    if args.commit:
        rev = subprocess.run(["git", "rev-parse", "--short", args.commit], cwd=ROOT, capture_output=True,
                             text=True, timeout=10).stdout.strip() or args.commit
        head = f"commit {rev}"
        source = f"`git archive {rev}` (content hash {snapshot_source(rev)})"
    else:
        head = _git_head()
        source = "src/ as found at each process start" if args.no_snapshot else \
            f"a copy of src/ taken at the start (content hash {snapshot_source()})"
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the snapshot is removed and the child killed
    try:
        return _run(args, mode, opts, keys, wanted, have, head, source)
    finally:
        if SNAPSHOT:
            import shutil
            shutil.rmtree(SNAPSHOT.pop(), ignore_errors=True)


def _run(args, mode, opts, keys, wanted, have, head, source) -> int:
    start = time.time()
    load_start = _load()
    print(f"chainrule benchmarks, mode {mode}, workloads {', '.join(keys)}; load average {load_start}", flush=True)
    for s, name in (("torch", "PyTorch"), ("jax", "JAX")):
        if s in wanted and not have[s] and any(s in WORKLOADS[k].systems for k in keys):
            print(f"{name} is not importable: its column stays empty", flush=True)

    rows, record, all_results, failures = [], [], [], 0
    for key in keys:
        w = WORKLOADS[key]
        systems = [s for s in w.systems if s in wanted and have.get(s, True)]
        if "numpy" not in systems:
            systems.insert(0, "numpy")
        if args.baseline and "chainrule" in systems:
            systems.insert(systems.index("chainrule"), BASELINE)
        rounds = args.rounds or ROUNDS.get(mode, {}).get(key, opts["rounds"])
        for suffix, variant in _variants(key, args.blas_env):
            env = _child_env(variant)
            runs = {s: [] for s in systems}
            wopts = opts | OVERRIDES.get(mode, {}).get(key, {})
            crashed: set[str] = set()
            for r in range(rounds):
                order = systems if r % 2 == 0 else systems[::-1]
                for s in order:
                    if s in crashed:  # a peer that crashed once is not run again (it costs minutes)
                        runs[s].append({"status": "skipped", "reason": "crashed in an earlier round", "_mode": mode})
                        continue
                    t0 = time.time()
                    result = spawn(key, s, mode, wopts, env, args.timeout)
                    result["_mode"] = mode
                    result["_wall_s"] = time.time() - t0
                    runs[s].append(result)
                    all_results.append(result)
                    status = result.get("status")
                    if status == "error" and s in PEERS:
                        # A peer's crash (JAX on W5c's 100,000-link chain) is reported, not our failure.
                        crashed.add(s)
                        print(f"  !! {key}{suffix} [{s}] crashed (a peer: reported, not counted as a failure): "
                              f"{result.get('reason', '')}", flush=True)
                    elif status in ("mismatch", "mismatch-timed", "error"):
                        failures += 1
                        print(f"  !! {key}{suffix} [{s}] {status}: {result.get('reason', '')}", flush=True)
                    else:
                        print(f"  {key}{suffix} [{s}] round {r + 1}/{rounds}: {status}, "
                              f"{_fmt(_value(w, result), w.unit)} {w.unit} ({result['_wall_s']:.1f} s)", flush=True)
            summary = summarize(w, runs, systems)
            rows.append((key + suffix, w, summary))
            record.append({"workload": key, "variant": suffix.strip(" []") or "inherited", "title": w.title,
                           "unit": w.unit, "dtype": w.dtype, "summary": summary,
                           "runs": {s: [{k: v for k, v in r.items() if k != "blas"} for r in rs]
                                    for s, rs in runs.items()}})

    load_end = _load()
    elapsed = time.time() - start
    header = [
        f"- when: {_dt.datetime.now().isoformat(timespec='minutes')}, mode `{mode}`, "
        f"{opts['rounds'] if not args.rounds else args.rounds} rounds by default, {elapsed / 60:.1f} min in all",
        f"- machine: {_cpu_model()}, {os.cpu_count()} CPUs; load average {load_start} at the start, "
        f"{load_end} at the end",
        f"- Python {platform.python_version()}; chainrule at {head}, imported from {source}",
        *[f"- {t}" for t in _blas_text(all_results)],
        "- environment: " + (", ".join(f"{k}={os.environ[k]}" for k in BLAS_VARS if k in os.environ)
                              or "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE not set"),
    ]
    torch_info = next((r["torch"] for r in all_results if r.get("torch")), None)
    if torch_info:
        header.append(f"- PyTorch {torch_info['version']}, {torch_info['threads']} threads (= NumPy's BLAS threads)")
    jax_info = next((r["jax"] for r in all_results if r.get("jax")), None)
    if jax_info:
        header.append(f"- JAX {jax_info['version']} (CPU, x64 enabled), threads: {jax_info['threads']}"
                      + (f" (XLA_FLAGS={jax_info['xla_flags']})" if jax_info.get("xla_flags") else ""))
    text = "\n".join(header) + "\n\n" + table(rows) + "\n"
    print()
    print(text)
    print(spread(rows))

    out = Path(args.json) if args.json else (HERE / "results" / f"latest-{mode}.json" if mode != "tiny" else None)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"mode": mode, "header": header, "workloads": record}, indent=1, default=str))
        print(f"\nresults written to {out}")
    if args.write_readme:
        _write_readme(_readme_block(text, rows))
    if failures:
        print(f"\n{failures} configuration(s) failed their cross-check or crashed (see above)", file=sys.stderr)
        return 1
    return 0


def _readme_block(text: str, rows) -> str:
    return text + "\n<details><summary>spread over processes, CPU time and fresh pages</summary>\n\n" + \
        spread(rows) + "\n\n</details>\n"


def report(path: str, write_readme: bool) -> int:
    """Print (and optionally put into README.md) the tables of a saved results file."""
    data = json.loads(Path(path).read_text())
    MODE[0] = data["mode"]
    rows = []
    for rec in data["workloads"]:
        variant = rec.get("variant", "inherited")
        label = rec["workload"] + ("" if variant == "inherited" else f" [{variant}]")
        rows.append((label, WORKLOADS[rec["workload"]], rec["summary"]))
    text = "\n".join(data["header"]) + "\n\n" + table(rows) + "\n"
    print(text)
    print(spread(rows))
    if write_readme:
        _write_readme(_readme_block(text, rows))
    return 0


def _write_readme(block: str) -> None:
    path = HERE / "README.md"
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    text = path.read_text()
    if start not in text or end not in text:
        print("README.md has no results markers; not updated", file=sys.stderr)
        return
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(head + start + "\n" + block + end + tail)
    print(f"table written to {path}")


if __name__ == "__main__":
    sys.exit(main())
