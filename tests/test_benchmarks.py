"""Smoke test of the benchmark suite: every workload runs on tiny sizes and its results agree
with the hand-written NumPy reference. No timing is asserted."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import worker  # noqa: E402
from benchmarks.workloads import WORKLOADS, NotAvailable  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")

HAVE_TORCH = importlib.util.find_spec("torch") is not None
CASES = [(key, system) for key, w in WORKLOADS.items() for system in w.systems
         if system != "numpy" and (system != "torch" or HAVE_TORCH)]


@pytest.mark.parametrize("key, system", CASES, ids=[f"{k}-{s}" for k, s in CASES])
def test_workload_runs_and_cross_checks(key, system):
    try:
        err = worker.check(key, system, "tiny")
    except NotAvailable as exc:
        pytest.skip(f"{key} on {system}: {exc}")
    assert err <= WORKLOADS[key].rtol or err <= (WORKLOADS[key].value_rtol or 0)


def test_every_workload_has_a_numpy_reference_and_chainrule():
    for key, w in WORKLOADS.items():
        assert "numpy" in w.builders and "chainrule" in w.builders, key
        assert {"full", "quick", "tiny"} <= set(w.sizes), key


def test_cross_check_fails_loudly():
    with pytest.raises(worker.Mismatch, match="relative error"):
        worker.compare("W0", "chainrule", (1.0, [1.0, 2.0]), (1.0, [1.0, 2.5]), rtol=1e-6)
    with pytest.raises(worker.Mismatch, match="shape"):
        worker.compare("W0", "chainrule", ([1.0],), ([1.0, 2.0],), rtol=1e-6)


def test_command_line_tiny_run(tmp_path):
    """The orchestrator end to end: fresh processes, interleaving, table, JSON (tiny sizes)."""
    out = tmp_path / "r.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "src"), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--tiny", "--only", "W2,W5", "--systems", "numpy,chainrule",
         "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| W2 |" in proc.stdout and "| W5-1M |" in proc.stdout
    record = json.loads(out.read_text())
    assert [w["workload"] for w in record["workloads"]] == ["W2", "W5", "W5-1M"]
    for w in record["workloads"]:
        assert w["summary"]["chainrule"]["statuses"] == ["ok"]
