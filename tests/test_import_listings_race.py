"""Two listing imports at once: the second waits for the first; a database
that refuses the work is a plain message, never a traceback."""

import csv
import io
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from memo_registry.audit.models import ImportBatch
from subjects.models import Listing, Subject
from tests.conftest import FIXTURE_2018
from tests.factories import valid_uscc
from tests.test_import_memos_race import _hold_write_lock, _manage, _release

HEADER = ["统一社会信用代码", "名称", "列入依据", "列入日期", "有效期至", "来源"]


def _listing_file(path: Path, numbers: range) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in numbers:
            writer.writerow(
                [
                    valid_uscc(n),
                    f"武汉市并发{n}有限公司",
                    "发改财金(2016)2202号",
                    "2025-01-02",
                    "",
                    "市质监局",
                ]
            )
    return path


def _waiting_on_locks() -> int:
    """Other sessions of this database waiting for a lock (a table's or an advisory one)."""
    with connection.cursor() as cursor:
        # Inside a transaction the statistics views keep their first answer.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_listing_imports_at_once_queue_instead_of_deadlocking(list_2018, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the deadlock was PostgreSQL's (COPY into an empty registry); SQLite: below")
    files = [
        _listing_file(tmp_path / "甲.csv", range(1, 301)),
        _listing_file(tmp_path / "乙.csv", range(201, 501)),  # 100 rows in both
    ]
    outcomes: list[object] = [None, None]

    def run(index: int) -> None:
        try:
            out = io.StringIO()
            call_command("import_subjects", str(files[index]), stdout=out, stderr=io.StringIO())
            outcomes[index] = out.getvalue()
        except BaseException as error:  # noqa: BLE001 - reported below, whatever it is
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    # The listings table held here makes both imports reach it together: each
    # would check the registry is empty (a shared lock on both tables) and
    # then ask for both tables exclusively, each waiting for the other (the
    # deadlock PostgreSQL broke by killing one).  With the advisory lock the
    # second waits for the first before touching a table.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE subjects_listing IN ACCESS EXCLUSIVE MODE")
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while _waiting_on_locks() < 2:
            assert time.monotonic() < deadline, "the imports never reached the registry"
            assert all(thread.is_alive() for thread in threads), outcomes
            time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=120)

    errors = [outcome for outcome in outcomes if not isinstance(outcome, str)]
    assert not errors, errors
    assert Subject.objects.count() == 500 and Listing.objects.count() == 500
    assert ImportBatch.objects.count() == 2
    # One loaded the empty registry; the other waited and found its 100 rows.
    first, second = sorted(outcomes, key=lambda out: "未变 100" in out)
    assert "新增名单记录 300，更新 0，未变 0" in first
    assert "新增名单记录 200，更新 0，未变 100" in second


# --- SQLite: the database's write lock ------------------------------------------------


@pytest.fixture
def registry_file(tmp_path) -> Path:
    """A migrated SQLite database in a file, with the 2018 list, which separate processes share."""
    path = tmp_path / "registry.sqlite3"
    for args in (("migrate", "-v0"), ("loaddata", FIXTURE_2018, "-v0")):
        result = _manage(path, *args)
        assert result.returncode == 0, result.stderr
    return path


def test_on_sqlite_a_listing_import_that_cannot_get_the_write_lock_says_so_plainly(
    registry_file, tmp_path
):
    listings = _listing_file(tmp_path / "名单.csv", range(1, 11))
    holder = _hold_write_lock(registry_file)
    try:
        result = _manage(registry_file, "import_subjects", str(listings), timeout=1)
    finally:
        _release(holder)
    assert result.returncode == 1
    assert "导入未完成，未写入任何数据：数据库正被另一个导入占用" in result.stderr
    assert "Traceback" not in result.stderr
    database = sqlite3.connect(registry_file)
    try:
        assert database.execute("SELECT count(*) FROM subjects_subject").fetchone() == (0,)
        assert database.execute("SELECT count(*) FROM audit_importbatch").fetchone() == (0,)
    finally:
        database.close()
