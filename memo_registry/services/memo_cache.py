"""The current list's memos, measures and divisions, kept between requests.

A lookup at the counter needs the memos of the current list in force, with
their measures and each measure's divisions (``Memorandum.objects.with_relations()``,
the memos every page shows): four queries and a few hundred model instances
per request for data that changes a few times a year.  Each process keeps
them in memory, stamped with the **registry version**: a counter in the
one-row table ``memo_registry_version``, raised by database triggers on every
statement that writes one of the tables the data comes from
(``watched_tables``).  A request reads the counter (one indexed query) and
loads the data again only when it has moved.

Why triggers rather than signals or a time-to-live: every writer raises the
counter — the admin, the importers' ``bulk_create``, ``QuerySet.update()``,
raw SQL, ``TRUNCATE``, another gunicorn worker or another machine sharing the
database — and it moves in the same transaction as the change, so no process
can see a new counter with old data.  Django has no cross-process cache
invalidation of its own; django-cachalot, the usual library, invalidates
through the ORM only and needs a shared cache server the intranet does not
run.

Which memos are in force depends on the day too (a repeal dated 2030-01-01
takes effect that day, with no write to raise the counter), so the data is
stamped with the day (Asia/Shanghai) as well and loaded again after midnight.

The cache is used only outside a transaction (``connection.in_atomic_block``
false, as in every request here: ``ATOMIC_REQUESTS`` is off).  Inside one, a
counter raised by an uncommitted change could be rolled back and the same
number reached again by a different change, so the data is read fresh.

The triggers are (re)installed after every ``migrate`` (``install``, from
``apps.py``): SQLite drops a table's triggers when a migration rebuilds it.
"""

import datetime
import threading
from collections import defaultdict

from django.db import connection
from django.utils import timezone

from measures.models import Division, LegalBasis, Measure
from memo_registry.lib.counters import install_triggers
from memos.models import Department, Memorandum, ResponsibilityList
from subjects.models import TargetSubject

TABLE = "memo_registry_version"


def watched_tables() -> list[str]:
    """The tables the cached data is read from: everything ``with_relations`` loads,
    departments included, so that no cached memo shows a stale name."""
    models = [
        ResponsibilityList,
        Memorandum,
        Memorandum.initiating_departments.through,
        Department,
        TargetSubject,
        Measure,
        Measure.divisions.through,
        Division,
        LegalBasis,
    ]
    return [model._meta.db_table for model in models]


# --- the counter and its triggers -------------------------------------------------------


def install(using_connection=None) -> None:
    """Create the counter and the triggers that raise it, if they are missing."""
    conn = using_connection or connection
    existing = set(conn.introspection.table_names())
    tables = [table for table in watched_tables() if table in existing]  # a partial migrate
    with conn.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id integer PRIMARY KEY, version bigint NOT NULL)"
        )
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        if cursor.fetchone()[0] == 0:
            cursor.execute(f"INSERT INTO {TABLE} (id, version) VALUES (1, 1)")
    bump = f"UPDATE {TABLE} SET version = version + 1 WHERE id = 1"
    install_triggers(conn, TABLE, "version", bump, tables)


def registry_version() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {TABLE} WHERE id = 1")
        return cursor.fetchone()[0]


# --- the memos ------------------------------------------------------------------------


class _Cache:
    """One per process, shared by its threads (under ``_lock``)."""

    version: int | None = None
    day: datetime.date | None = None
    by_target: dict[int, list[Memorandum]] | None = None
    repealed_by_target: dict[int, list[Memorandum]] | None = None


_cache = _Cache()
_lock = threading.Lock()


def memos_by_target(
    target_ids: set[int], responsibility_list: ResponsibilityList | None = None
) -> dict[int, list[Memorandum]]:
    """The in-force memos of a list (the current one by default) targeting each
    of ``target_ids``, in 序号 order, each with its relations loaded
    (``Memorandum.objects.with_relations()``: ``memo.measures.all()`` in
    order, each with its divisions).  The instances may be shared between requests:
    read them, do not change them."""
    return _lookup(target_ids, responsibility_list)[0]


def in_force_and_repealed(
    target_ids: set[int], responsibility_list: ResponsibilityList | None = None
) -> tuple[dict[int, list[Memorandum]], dict[int, list[Memorandum]]]:
    """``memos_by_target``, and beside it the list's repealed memos targeting
    each of ``target_ids`` (the subject page says why their measures no
    longer apply), from one load."""
    return _lookup(target_ids, responsibility_list)


def _lookup(target_ids, responsibility_list):
    if not target_ids:
        return {}, {}
    today = timezone.localdate()
    if responsibility_list is not None or connection.in_atomic_block:
        loaded = _load(responsibility_list, target_ids, today)
    else:
        version = registry_version()
        with _lock:
            if (_cache.version, _cache.day) != (version, today):
                _cache.by_target, _cache.repealed_by_target = _load(None, None, today)
                _cache.version, _cache.day = version, today
            loaded = _cache.by_target, _cache.repealed_by_target
    return tuple(
        {target: by_target[target] for target in target_ids if target in by_target}
        for by_target in loaded
    )


def _load(
    responsibility_list: ResponsibilityList | None, target_ids: set[int] | None, on: datetime.date
) -> tuple[dict[int, list[Memorandum]], dict[int, list[Memorandum]]]:
    """The memos of ``responsibility_list`` (None: the current list), in force
    on the day ``on`` and not, by target subject; of every target when
    ``target_ids`` is None."""
    memos = Memorandum.objects.of_list(responsibility_list)
    if target_ids is not None:
        memos = memos.filter(target_subject_id__in=target_ids)
    in_force: dict[int, list[Memorandum]] = defaultdict(list)
    repealed: dict[int, list[Memorandum]] = defaultdict(list)
    for memo in memos.with_relations().order_by("seq"):
        chosen = in_force if memo.is_in_force_on(on) else repealed
        chosen[memo.target_subject_id].append(memo)
    return dict(in_force), dict(repealed)
