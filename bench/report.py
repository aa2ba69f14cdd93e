"""The report of ``make bench``: every figure beside its target, then ``BENCH {json}``."""

import json
import os

TARGETS = {
    "import_vs_copy": ("≤ 4", lambda v: v <= 4),
    "import_vs_iex": ("≥ 50", lambda v: v >= 50),
    "lookup_p95_ms": ("≤ 15 ms", lambda v: v <= 15),
    "lookup_vs_floor": ("≥ 0.5", lambda v: v >= 0.5),
    # Eight until issue 15: one more fetches the measures' legal bases.
    "list_queries": ("≤ 9", lambda v: v <= 9),
    "list_ms": ("≤ 150 ms", lambda v: v <= 150),
    "memo_import_s": ("< 1 s", lambda v: v < 1),
    "memo_import_5k_s": ("< 30 s", lambda v: v < 30),
    "work_queries": ("≤ 10", lambda v: v <= 10),
    "work_vs_api_memos": ("≤ 2", lambda v: v <= 2),
    "stats_ms": ("≤ 1000 ms", lambda v: v <= 1000),
    "check_vs_floor": ("≥ 0.6", lambda v: v >= 0.6),
}


def report(f: dict) -> None:
    """Print the table of figures, each against its target, and last the BENCH line."""
    rows = [
        ("listing import", f"{f['import_rows']:,} rows", f"{f['import_s']} s",
         f"COPY {f['copy_s']} s", "import_vs_copy", f["import_vs_copy"]),
        ("  steps", ", ".join(f"{k} {v} s" for k, v in f["import_steps_s"].items()),
         "", "", "", ""),
        ("re-import, no change", f"{f['import_rows']:,} rows", f"{f['reimport_s']} s",
         "", "", ""),
        ("django-import-export", f"{f['iex_rows']:,} rows", f"{f['iex_rows_per_s']} rows/s",
         f"ours {f['ours_rows_per_s']} rows/s", "import_vs_iex", f["import_vs_iex"]),
        ("lookup p50 / p95", f"c={f['concurrency']}",
         f"{f['lookup_p50_ms']} / {f['lookup_p95_ms']} ms", "", "lookup_p95_ms",
         f["lookup_p95_ms"]),
        ("lookup p50 / p95", "c=1", f"{f['lookup_c1_p50_ms']} / {f['lookup_c1_p95_ms']} ms",
         "", "", ""),
        ("lookup throughput", f"{f['listings']:,} listings", f"{f['lookup_rps']} req/s",
         f"floor {f['floor_rps']} req/s", "lookup_vs_floor", f["lookup_vs_floor"]),
        *[
            (f"page {path}", "1,000 memos × 5", f"{page['ms']} ms",
             f"{page['queries']} queries", "", "")
            for path, page in f["list_pages"].items()
        ],
        ("", "", "", "", "list_queries", f["list_queries"]),
        ("", "", "", "", "list_ms", f["list_ms"]),
        ("memo import 2018 xlsx", "10 memos", f"{f['memo_import_s']} s", "",
         "memo_import_s", f["memo_import_s"]),
        ("memo import generated", f"{f['memo_import_5k_memos']:,} memos",
         f"{f['memo_import_5k_s']} s", "", "memo_import_5k_s", f["memo_import_5k_s"]),
        ("/work/ (one division)", f"{f['import_rows']:,} rows", f"{f['work_ms']} ms",
         f"{f['work_queries']} queries", "work_vs_api_memos", f["work_vs_api_memos"]),
        ("/work/ queries", "", "", "", "work_queries", f["work_queries"]),
        ("/stats/", f"{f['import_rows']:,} rows", f"{f['stats_ms']} ms", "", "stats_ms",
         f["stats_ms"]),
        ("embedded check", f"{f['listings']:,} listings", f"{f['check_rps']} req/s",
         f"floor {f['check_floor_rps']} req/s", "check_vs_floor", f["check_vs_floor"]),
        ("embedded check p50", "c=1", f"{f['check_c1_p50_ms']} ms",
         f"floor {f['check_floor_c1_p50_ms']} ms", "", ""),
        *[
            (f"growth {int(size):,}", "import / lookup", f"{g['import_s']} s",
             f"p95 {g['lookup_p95_ms']} ms", "", "")
            for size, g in f["growth"].items()
        ],
    ]  # fmt: skip
    print()
    print(f"{'':24}{'size':>20}{'ours':>22}{'floor / other':>28}   target")
    for name, size, ours, other, key, value in rows:
        verdict = ""
        if key in TARGETS:
            label, met = TARGETS[key]
            verdict = f"{key} = {value} (target {label}: {'met' if met(value) else 'MISSED'})"
        print(f"{name:24}{size:>20}{ours:>22}{other:>28}   {verdict}")
    m = f["machine"]
    print(
        f"\nmachine: {m['cores']} cores, {m['memory_gb']} GB, PostgreSQL {m['postgresql']},"
        f" Python {m['python']}, load average {m['load_average']:.2f} at the start"
    )
    m["load_average_end"] = os.getloadavg()[0]
    print(f"(load average {m['load_average_end']:.2f} at the end: other work on the machine"
          " slows every figure)")  # fmt: skip
    f["targets_met"] = {key: TARGETS[key][1](f[key]) for key in TARGETS}
    print("BENCH " + json.dumps(f, ensure_ascii=False, sort_keys=True))
