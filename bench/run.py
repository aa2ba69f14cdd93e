"""``make bench``: the registry at city and province scale, against the floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/memo_registry make bench

The benchmark never touches the database DATABASE_URL names: it creates a
scratch database next to it (``<name>_bench``), works there and drops it at
the end (``BENCH_KEEP_DB=1`` keeps it).  It builds deterministic synthetic
data, measures each path and the fastest thing that could do the same job on
the same machine (the floor), prints a table, and as its last line
``BENCH {json}``.  docs/performance.md explains every figure.

Knobs (environment): BENCH_ROWS (listing rows, default 1,000,000),
BENCH_IEX_ROWS (sample for django-import-export, default 10,000),
BENCH_MEMOS (memos in the generated spreadsheet, default 5,000),
BENCH_REQUESTS (requests per load run, default 4,000), BENCH_CONCURRENCY
(default 8), BENCH_WORKERS / BENCH_THREADS (gunicorn gthread, default 3 × 2).
"""

import contextlib
import http.client
import io
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.checks import check_figures
from bench.report import report
from bench.scratch import BASE_DIR, ScratchDatabase
from bench.work import work_figures


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw.replace("_", "").replace(",", "")) if raw else default


@contextlib.contextmanager
def timed_steps():
    """Seconds per step of the listing import's PostgreSQL loader while the
    block runs, timed through the loader's hook (``PostgresLoader.step``):
    the import itself keeps no timings."""
    from memo_registry.imports.listings.postgres import PostgresLoader

    timings: dict[str, float] = {}

    @contextlib.contextmanager
    def step(loader, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            timings[name] = timings.get(name, 0) + time.perf_counter() - started

    original = PostgresLoader.step
    PostgresLoader.step = step
    try:
        yield timings
    finally:
        PostgresLoader.step = original


def written_by(steps: dict) -> str:
    """How the loader wrote: "bulk" (straight into an empty registry) or "merge"."""
    return "bulk" if "COPY listings" in steps else "merge"


class Bench:
    def __init__(self):
        self.rows = _env_int("BENCH_ROWS", 1_000_000)
        self.iex_rows = min(_env_int("BENCH_IEX_ROWS", 10_000), self.rows)
        self.memos = _env_int("BENCH_MEMOS", 5000)
        self.requests = _env_int("BENCH_REQUESTS", 4000)
        self.concurrency = _env_int("BENCH_CONCURRENCY", 8)
        self.workers = _env_int("BENCH_WORKERS", 3)
        self.threads = _env_int("BENCH_THREADS", 2)
        self.figures: dict = {}
        self.notes: list[tuple[str, str]] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="memo-bench-"))
        self.server = None

    # --- the scratch database -------------------------------------------

    def open_scratch_database(self) -> None:
        self.database = ScratchDatabase("bench", "make bench")
        self.database.create()

    def drop_scratch_database(self) -> None:
        self.database.drop()

    def setup_django(self) -> None:
        self.database.setup_django()

    # --- helpers ---------------------------------------------------------

    @staticmethod
    def sql(statement: str, params=None):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else None

    def empty_registry(self) -> None:
        # CASCADE: whatever else points at subjects and listings (embedded
        # checks, objections …) goes with them.
        self.sql("TRUNCATE subjects_listing, subjects_subject, measures_feedback CASCADE")

    def step(self, message: str) -> None:
        print(f"· {message}", file=sys.stderr, flush=True)

    def machine(self) -> dict:
        memory = 0
        with contextlib.suppress(OSError):
            for line in Path("/proc/meminfo").read_text().splitlines():
                if line.startswith("MemTotal:"):
                    memory = int(line.split()[1]) * 1024
        settings = dict(
            self.sql(
                "SELECT name, current_setting(name) FROM pg_settings WHERE name IN"
                " ('shared_buffers', 'max_wal_size', 'max_parallel_maintenance_workers',"
                " 'synchronous_commit', 'work_mem', 'maintenance_work_mem')"
            )
        )
        cpu = ""
        with contextlib.suppress(OSError):
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        return {
            "cpu": cpu,
            "cores": os.cpu_count(),
            "memory_gb": round(memory / 2**30, 1),
            "postgresql": self.sql("SHOW server_version")[0][0],
            "python": platform.python_version(),
            "load_average": os.getloadavg()[0],
            "pg_settings": settings,
        }

    # --- listing files ---------------------------------------------------

    def write_files(self) -> None:
        from bench.data import list_bases, write_listings
        from memos.models import ResponsibilityList

        self.bases = list_bases(ResponsibilityList.current())
        self.step(f"generating {self.rows:,} listing rows")
        self.file = write_listings(self.tmp / f"listings_{self.rows}.csv", self.rows, self.bases)
        self.sizes = sorted({max(self.rows // 100, 10), max(self.rows // 10, 10), self.rows})
        self.files = {self.rows: self.file}
        for size in self.sizes + [self.iex_rows]:
            if size in self.files:
                continue
            path = self.tmp / f"listings_{size}.csv"
            with (
                self.file.open(encoding="utf-8") as source,
                path.open("w", encoding="utf-8") as out,
            ):
                for number, line in enumerate(source):
                    if number > size:
                        break
                    out.write(line)
            self.files[size] = path

    # --- import against COPY ---------------------------------------------

    def copy_floor(self) -> float:
        """A bare COPY of the same file into an unindexed (logged) table."""
        from django.db import connection

        timings = []
        for _ in range(3):
            with connection.cursor() as cursor:
                cursor.execute(
                    "CREATE TABLE bench_floor (code text, name text, basis text, listed_on text,"
                    " expires_on text, source text, reason text)"
                )
                with self.file.open("rb") as handle:
                    started = time.perf_counter()
                    cursor.copy_expert(
                        "COPY bench_floor FROM STDIN WITH (FORMAT csv, HEADER true)",
                        handle,
                        1 << 20,
                    )
                    timings.append(time.perf_counter() - started)
                cursor.execute("DROP TABLE bench_floor")
        return statistics.median(timings)

    def import_file(self, path: Path):
        """Seconds, the import's result, and the seconds of each of its steps."""
        from memo_registry.imports.listings import import_subject_rows
        from memo_registry.lib.spreadsheet import LISTING, open_rows

        with timed_steps() as steps:
            started = time.perf_counter()
            info, rows = open_rows(path, LISTING)
            with contextlib.closing(rows):
                result = import_subject_rows(rows, file_name=info.file_name, sha256=info.sha256)
            seconds = time.perf_counter() - started
        return seconds, result, steps

    def vacuum(self) -> float:
        started = time.perf_counter()
        self.sql("VACUUM ANALYZE subjects_subject")
        self.sql("VACUUM ANALYZE subjects_listing")
        return time.perf_counter() - started

    def import_against_iex(self) -> None:
        from bench.iex import import_file

        sample = self.files[self.iex_rows]
        self.step(f"django-import-export against ours, {self.iex_rows:,} rows")
        self.empty_registry()
        seconds, _, _ = self.import_file(sample)
        ours = self.iex_rows / seconds
        self.empty_registry()
        started = time.perf_counter()
        imported = import_file(sample)
        iex = imported / (time.perf_counter() - started)
        self.empty_registry()
        self.figures.update(
            iex_rows=self.iex_rows,
            iex_rows_per_s=round(iex, 1),
            ours_rows_per_s=round(ours, 1),
            import_vs_iex=round(ours / iex, 1),
        )

    # --- lookups over HTTP -----------------------------------------------

    def start_server(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.test import Client

        # A counter clerk: the 查阅 role, signed in once (a session cookie, so
        # that no request pays for password hashing).
        user = get_user_model().objects.create_user("bench")
        user.groups.add(Group.objects.get(name="查阅"))
        client = Client()
        client.force_login(user)
        self.headers = {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "memo_registry.wsgi:application",
                "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
                "--worker-class", "gthread", "--threads", str(self.threads),
                "--log-level", "warning",
            ],
            cwd=BASE_DIR,
            env=dict(os.environ),
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                probe.request("GET", "/bench/floor/", headers=self.headers)
                if probe.getresponse().status == 200:
                    break
                raise RuntimeError("the floor view refused the benchmark's session")
            except OSError:
                if time.monotonic() > deadline or self.server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            self.server.wait(timeout=30)

    def load(self, paths: list[str], requests: int, concurrency: int | None = None):
        from bench.load import hammer

        concurrency = concurrency or self.concurrency
        hammer(
            self.port,
            paths,
            headers=self.headers,
            concurrency=self.concurrency,
            requests=min(300, requests),
        )  # fmt: skip  (warm every worker)
        return hammer(
            self.port, paths, headers=self.headers, concurrency=concurrency,
            requests=requests, seconds=60,
        )  # fmt: skip

    def lookup_paths(self, subjects: int) -> list[str]:
        from bench.data import _subject
        from subjects.codes import ORGANISATION, parse_code

        numbers = sorted({(index * 104729) % subjects for index in range(min(500, subjects))})
        # Enterprises only: a person's number is looked up by POST
        # (/api/subjects/lookup/), never in a path, and counts against the
        # clerk's daily allowance.
        codes = [_subject(number)[0] for number in numbers]
        return [f"/api/subjects/{code}/" for code in codes if parse_code(code).kind == ORGANISATION]

    @staticmethod
    def summary(result) -> dict:
        if result.errors:
            raise RuntimeError(f"load run answered errors: {result.errors}")
        return {
            "p50_ms": round(result.percentile_ms(0.50), 2),
            "p95_ms": round(result.percentile_ms(0.95), 2),
            "rps": round(result.rps, 1),
            "requests": result.requests,
        }

    # --- the runs ---------------------------------------------------------

    def growth_and_headline(self) -> None:
        growth = {}
        for size in self.sizes:
            self.step(f"import {size:,} rows into an empty registry, then lookups")
            self.empty_registry()
            seconds, result, steps = self.import_file(self.files[size])
            vacuum = self.vacuum()
            subjects = self.sql("SELECT count(*) FROM subjects_subject")[0][0]
            paths = self.lookup_paths(subjects)
            requests = self.requests if size == self.rows else max(self.requests // 3, 100)
            lookup = self.summary(self.load(paths, requests))
            growth[str(size)] = {
                "import_s": round(seconds, 2),
                "rows_per_s": round(size / seconds),
                "lookup_p50_ms": lookup["p50_ms"],
                "lookup_p95_ms": lookup["p95_ms"],
                "lookup_rps": lookup["rps"],
            }
        self.figures["growth"] = growth
        self.figures.update(
            import_rows=self.rows,
            import_s=round(seconds, 2),
            import_path=written_by(steps),
            import_steps_s={step: round(value, 2) for step, value in steps.items()},
            vacuum_analyze_s=round(vacuum, 2),
            subjects=subjects,
            listings=self.sql("SELECT count(*) FROM subjects_listing")[0][0],
        )
        self.step("the floor: a bare COPY of the same file")
        copy = self.copy_floor()
        self.figures.update(copy_s=round(copy, 3), import_vs_copy=round(seconds / copy, 2))

        self.step("lookup against the framework floor")
        lookup = self.summary(self.load(paths, self.requests))
        floor = self.summary(self.load(["/bench/floor/"], self.requests))
        # One clerk at a time: the service time, without queueing behind the
        # other requests in flight (at c=8 on 2 cores, p95 is mostly queue).
        single = self.summary(self.load(paths, max(self.requests // 4, 100), concurrency=1))
        bare = self.summary(self.load(["/bench/bare/"], self.requests))
        self.figures.update(
            lookup_p50_ms=lookup["p50_ms"],
            lookup_p95_ms=lookup["p95_ms"],
            lookup_rps=lookup["rps"],
            floor_rps=floor["rps"],
            floor_p95_ms=floor["p95_ms"],
            bare_rps=bare["rps"],
            lookup_vs_floor=round(lookup["rps"] / floor["rps"], 2),
            lookup_c1_p50_ms=single["p50_ms"],
            lookup_c1_p95_ms=single["p95_ms"],
            lookup_requests=lookup["requests"],
            concurrency=self.concurrency,
            gunicorn=f"gthread {self.workers} workers × {self.threads} threads",
        )

        self.step("re-import the same file (nothing changes)")
        seconds, result, steps = self.import_file(self.file)
        self.figures.update(
            reimport_s=round(seconds, 2),
            reimport_path=written_by(steps),
            reimport_changed=result.listings_created + result.listings_updated,
        )

    def list_pages(self) -> None:
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from bench.data import build_memo_list
        from memos.models import ResponsibilityList

        self.step("list pages at 1,000 memos × 5 measures")
        previous = ResponsibilityList.current()
        generated = build_memo_list("基准测试〔2024〕1000号", 1000)
        ResponsibilityList.objects.update(is_current=False)
        ResponsibilityList.objects.filter(pk=generated.pk).update(is_current=True)
        client = Client()
        pages = {}
        for path in ["/", "/api/memos/"]:
            client.get(path)
            runs = []
            for _ in range(5):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get(path)
                    runs.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{path} answered {response.status_code}")
            pages[path] = {"queries": len(queries), "ms": round(statistics.median(runs), 1)}
        ResponsibilityList.objects.update(is_current=False)
        ResponsibilityList.objects.filter(pk=previous.pk).update(is_current=True)
        self.figures.update(
            list_pages=pages,
            list_queries=max(page["queries"] for page in pages.values()),
            list_ms=max(page["ms"] for page in pages.values()),
        )

    def memo_imports(self) -> None:
        from django.core.management import call_command

        from bench.data import build_memo_list
        from measures.models import Measure
        from memo_registry.services.export import export_file
        from memos.models import Memorandum

        self.step("memo import: the 2018 xlsx")
        xlsx = BASE_DIR / "fixtures" / "responsibility_list_2018.xlsx"
        started = time.perf_counter()
        call_command(
            "import_memos", str(xlsx), "--list", "基准测试〔2018〕1号", "--create-list",
            "--title", "2018 年清单（基准测试）", stdout=io.StringIO(),
        )  # fmt: skip
        self.figures["memo_import_s"] = round(time.perf_counter() - started, 3)

        self.step(f"memo import: a generated {self.memos:,}-memo spreadsheet")
        generated = build_memo_list("基准测试〔2024〕5000号", self.memos)
        memos = Memorandum.objects.filter(responsibility_list=generated).order_by("seq")
        path = self.tmp / "memos.xlsx"
        path.write_bytes(export_file(memos, "xlsx"))
        Measure.objects.filter(memo__responsibility_list=generated).delete()
        memos.delete()
        started = time.perf_counter()
        call_command(
            "import_memos", str(path), "--list", generated.doc_number, stdout=io.StringIO()
        )
        self.figures.update(
            memo_import_5k_s=round(time.perf_counter() - started, 2),
            memo_import_5k_memos=Memorandum.objects.filter(responsibility_list=generated).count(),
            memo_import_5k_bytes=path.stat().st_size,
        )

    # --- the report -------------------------------------------------------

    def run(self) -> None:
        self.open_scratch_database()
        try:
            self.setup_django()
            self.figures["machine"] = self.machine()
            self.write_files()
            self.start_server()
            self.import_against_iex()
            self.growth_and_headline()
            self.step("the embedded check through an API key, against its floor (issue 16)")
            codes = [path.split("/")[3] for path in self.lookup_paths(self.figures["subjects"])]
            self.figures.update(check_figures(self, codes))
            self.list_pages()
            self.step("the work list and the statistics (issue 14)")
            self.figures.update(
                work_figures(self.figures["list_pages"].get("/api/memos/", {}).get("ms"))
            )
            self.memo_imports()
        finally:
            self.stop_server()
            self.drop_scratch_database()
            for path in self.tmp.iterdir():
                path.unlink()
            self.tmp.rmdir()
        report(self.figures)


if __name__ == "__main__":
    Bench().run()
