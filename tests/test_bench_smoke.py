"""The benchmark scripts run (tiny sizes), so they never rot."""

import json
import subprocess
import sys
from pathlib import Path

from .database import postgresql_available

ROOT = Path(__file__).resolve().parent.parent


def test_bench_smoke_run_produces_results():
    args = [sys.executable, "-m", "bench.run", "--smoke", "--backend", "sqlite"]
    if postgresql_available():
        args += ["--backend", "postgresql"]
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    results = json.loads((ROOT / "bench" / "results" / "smoke.json").read_text())
    for row in results["booking_load"]:
        assert row["errors_5xx"] == 0 and row["capacity_violations"] == 0
        assert row["created"] == row["requests"]
    assert all(row["free_slots"] > 0 for row in results["availability"])
