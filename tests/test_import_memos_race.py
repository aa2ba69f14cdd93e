"""Two ``import_memos --create-list`` at once: the second waits for the first,
or fails with a plain message; never an IntegrityError traceback."""

import io
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections

from memo_registry.audit.models import ImportBatch
from memos.models import Memorandum, ResponsibilityList
from tests.data.builders import FIXTURE_XLSX

LIST = "武质技监管〔2018〕22号"
PROJECT = Path(__file__).resolve().parent.parent


def _import_args() -> list[str]:
    return [str(FIXTURE_XLSX), "--list", LIST, "--create-list", "--title", "全市质监部门清单"]


@pytest.mark.django_db(transaction=True)
def test_two_create_list_imports_at_once_both_finish_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the race between two writers lives on PostgreSQL; SQLite: see below")
    start = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def run(index: int) -> None:
        try:
            out = io.StringIO()
            start.wait()
            call_command("import_memos", *_import_args(), stdout=out)
            outcomes[index] = out.getvalue()
        except BaseException as error:  # noqa: BLE001 - reported below, whatever it is
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert not errors, errors
    assert ResponsibilityList.objects.filter(doc_number=LIST).count() == 1
    assert Memorandum.objects.count() == 10
    # One import created the memos; the other waited and found them as they are.
    summaries = sorted(outcomes, key=lambda text: "已建立清单" in text)
    assert "新建 0 项，更新 0 项，未变 10 项" in summaries[0]
    assert "新建 10 项" in summaries[1] and "已建立清单" in summaries[1]
    assert ImportBatch.objects.count() == 2


# --- SQLite: the database's write lock ------------------------------------------------


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A migrated SQLite database in a file, which separate processes can share."""
    path = tmp_path_factory.mktemp("race") / "migrated.sqlite3"
    result = _manage(path, "migrate", "-v0")
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture
def sqlite_file(migrated_sqlite, tmp_path) -> Path:
    """A copy of the migrated database for one test."""
    path = tmp_path / "registry.sqlite3"
    shutil.copyfile(migrated_sqlite, path)
    return path


def _env(path: Path, timeout: float) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    # timeout: how long SQLite waits for another writer (Python's default is 5 s).
    env["DATABASE_URL"] = f"sqlite:///{path}?timeout={timeout}"
    return env


def _manage(path: Path, *args: str, timeout: float = 1) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=_env(path, timeout),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another writer in the middle of its transaction, as a running import would be."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _release(holder: sqlite3.Connection) -> None:
    holder.execute("ROLLBACK")
    holder.close()


def _lists(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        query = "SELECT count(*) FROM memos_responsibilitylist WHERE doc_number = ?"
        return db.execute(query, [LIST]).fetchone()[0]
    finally:
        db.close()


def test_on_sqlite_an_import_that_cannot_get_the_write_lock_says_so_plainly(sqlite_file):
    holder = _hold_write_lock(sqlite_file)
    try:
        result = _manage(sqlite_file, "import_memos", *_import_args(), timeout=1)
    finally:
        _release(holder)
    assert result.returncode == 1
    assert "导入未完成，未写入任何数据：数据库正被另一个导入占用" in result.stderr
    assert "Traceback" not in result.stderr
    assert _lists(sqlite_file) == 0


def test_on_sqlite_a_second_import_waits_for_the_first(sqlite_file):
    holder = _hold_write_lock(sqlite_file)
    try:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "import_memos", *_import_args()],
            cwd=PROJECT,
            env=_env(sqlite_file, timeout=60),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(4)  # long enough to start and reach the lock
        assert process.poll() is None  # waiting, not failed
    finally:
        _release(holder)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "导入完成。" in out
    assert _lists(sqlite_file) == 1
