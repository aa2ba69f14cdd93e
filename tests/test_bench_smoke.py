"""`make bench` keeps working: the benchmark at a tiny size prints every figure.

Benchmarks are not tests: nothing here is timed.  The run needs PostgreSQL
(COPY, a scratch database next to the one DATABASE_URL names); CI runs the
suite on PostgreSQL too, so on SQLite this is skipped.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

KEYS = [
    "import_rows", "import_s", "copy_s", "import_vs_copy",
    "iex_rows_per_s", "ours_rows_per_s", "import_vs_iex",
    "lookup_p50_ms", "lookup_p95_ms", "lookup_rps", "floor_rps", "lookup_vs_floor",
    "lookup_c1_p95_ms", "list_queries", "list_ms", "memo_import_s", "memo_import_5k_s", "growth",
]  # fmt: skip


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the benchmark needs PostgreSQL (DATABASE_URL=postgres://…); CI runs it there",
)
def test_the_benchmark_prints_every_figure_at_a_tiny_size():
    env = {
        **os.environ,
        "BENCH_ROWS": "3000",
        "BENCH_IEX_ROWS": "200",
        "BENCH_MEMOS": "30",
        "BENCH_REQUESTS": "60",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bench.run"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("BENCH ")
    figures = json.loads(last[len("BENCH ") :])
    assert [key for key in KEYS if key not in figures] == []
    assert figures["import_rows"] == 3000
    assert sorted(figures["growth"], key=int) == ["30", "300", "3000"]
    for size in figures["growth"].values():
        assert {"import_s", "lookup_p95_ms"} <= size.keys()
