"""The change log behind ``GET /api/changes/``, written by database triggers.

Why triggers: listings are written by the admin and the pages (the ORM), by
the portable loader (``bulk_create`` / ``bulk_update``) and by the
PostgreSQL loader's ``COPY`` and set-based ``INSERT … SELECT`` / ``UPDATE …
FROM``, which send no Django signal and write no simple-history rows.  A
trigger sees every writer, and writes its log row in the writer's own
transaction: a change and its log row commit, or roll back, together.

* PostgreSQL: one statement-level trigger per table and event with a
  transition table (``REFERENCING NEW TABLE``), so a million-row ``COPY``
  writes its million log rows in one set-based ``INSERT … SELECT``.  Each row
  carries the writer's transaction id (``pg_current_xact_id()``).
* SQLite: row-level triggers; xid is 0 (SQLite's writers take turns).

Exactly once: a log row's id is taken when it is written, not when its
transaction commits, so a follower reading "ids after N" could pass over a
row of a transaction still running and never come back for it.  The feed
(``memo_registry/services/changes.py``) therefore orders by (xid, id) and
returns only rows whose xid is below the oldest transaction still running
(``pg_snapshot_xmin(pg_current_snapshot())``): every transaction below it
has finished, so nothing can ever be added before the cursor.  A long
transaction holds the feed back until it ends; it never makes it skip.

The triggers are (re)installed after every ``migrate`` (apps.py).
"""

from django.db import connection

from measures.models import Measure
from memos.models import Memorandum
from subjects.models import Listing

LOG = "clients_change"


def _columns(model) -> list[str]:
    return [
        field.column
        for field in model._meta.concrete_fields
        if field.column not in ("id", "version")
    ]


def _watched():
    """(table, prefix, special kind of an update and its condition on o/n, columns)."""
    return [
        (Listing._meta.db_table, "listing", "lifted",
         "o.lifted_on IS NULL AND n.lifted_on IS NOT NULL", _columns(Listing)),
        (Memorandum._meta.db_table, "memo", "repealed",
         "o.status <> 'repealed' AND n.status = 'repealed'", _columns(Memorandum)),
        (Measure._meta.db_table, "measure", "", "", _columns(Measure)),
    ]  # fmt: skip


def _links():
    """Many-to-many tables whose rows change their owner: (table, prefix, owner column)."""
    return [
        (Measure.divisions.through._meta.db_table, "measure", "measure_id"),
        (Memorandum.initiating_departments.through._meta.db_table, "memo", "memorandum_id"),
    ]


def install(using_connection=None) -> None:
    conn = using_connection or connection
    existing = set(conn.introspection.table_names())
    if LOG not in existing:  # a partial migrate
        return
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            _install_postgresql(cursor, conn.ops.quote_name, existing)
        elif conn.vendor == "sqlite":
            _install_sqlite(cursor, conn.ops.quote_name, existing)
        else:  # pragma: no cover - the project runs on PostgreSQL and SQLite only
            raise NotImplementedError(f"no change-log triggers for {conn.vendor}")


def _pg_trigger(cursor, quote, table: str, event: str, body: str) -> None:
    name = f"{table}_changes_{event.lower()}"
    reference = {
        "INSERT": "NEW TABLE AS n",
        "DELETE": "OLD TABLE AS o",
        "UPDATE": "OLD TABLE AS o NEW TABLE AS n",
    }[event]
    cursor.execute(
        f"CREATE OR REPLACE FUNCTION {quote(name)}() RETURNS trigger LANGUAGE plpgsql "
        f"AS $$ BEGIN INSERT INTO {LOG} (xid, at, kind, object_id) {body}; RETURN NULL; END $$"
    )
    cursor.execute(
        f"CREATE OR REPLACE TRIGGER {quote(name)} AFTER {event} ON {quote(table)} "
        f"REFERENCING {reference} FOR EACH STATEMENT EXECUTE FUNCTION {quote(name)}()"
    )


def _install_postgresql(cursor, quote, existing: set[str]) -> None:
    stamp = "pg_current_xact_id()::text::bigint, now()"
    for table, prefix, special, condition, columns in _watched():
        if table not in existing:
            continue
        old = ", ".join(f"o.{quote(column)}" for column in columns)
        new = ", ".join(f"n.{quote(column)}" for column in columns)
        kind = f"'{prefix}.changed'"
        if special:
            kind = f"CASE WHEN {condition} THEN '{prefix}.{special}' ELSE {kind} END"
        _pg_trigger(
            cursor,
            quote,
            table,
            "INSERT",
            f"SELECT {stamp}, '{prefix}.added', n.id FROM n ORDER BY n.id",
        )
        _pg_trigger(
            cursor,
            quote,
            table,
            "DELETE",
            f"SELECT {stamp}, '{prefix}.removed', o.id FROM o ORDER BY o.id",
        )
        _pg_trigger(cursor, quote, table, "UPDATE",
                    f"SELECT {stamp}, {kind}, n.id FROM n JOIN o ON o.id = n.id"
                    f" WHERE ({old}) IS DISTINCT FROM ({new}) ORDER BY n.id")  # fmt: skip
    for table, prefix, owner in _links():
        if table not in existing:
            continue
        for event, alias in (("INSERT", "n"), ("DELETE", "o")):
            _pg_trigger(
                cursor, quote, table, event,
                f"SELECT DISTINCT {stamp}, '{prefix}.changed', {alias}.{owner} FROM {alias}",
            )  # fmt: skip


def _sqlite_trigger(cursor, quote, table: str, name: str, event: str, when: str, values: str):
    name = quote(f"{table}_changes_{name}")
    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
    cursor.execute(
        f"CREATE TRIGGER {name} AFTER {event} ON {quote(table)} "
        f"FOR EACH ROW {'WHEN ' + when if when else ''} BEGIN "
        f"INSERT INTO {LOG} (xid, at, kind, object_id) "
        f"VALUES (0, strftime('%Y-%m-%d %H:%M:%f', 'now'), {values}); END"
    )


def _install_sqlite(cursor, quote, existing: set[str]) -> None:
    for table, prefix, special, condition, columns in _watched():
        if table not in existing:
            continue
        changed = " OR ".join(f"OLD.{quote(c)} IS NOT NEW.{quote(c)}" for c in columns)
        condition = condition.replace("o.", "OLD.").replace("n.", "NEW.")
        _sqlite_trigger(cursor, quote, table, "insert", "INSERT", "", f"'{prefix}.added', NEW.id")
        _sqlite_trigger(cursor, quote, table, "delete", "DELETE", "", f"'{prefix}.removed', OLD.id")
        kind = f"'{prefix}.changed'"
        if special:
            kind = f"CASE WHEN {condition} THEN '{prefix}.{special}' ELSE {kind} END"
        _sqlite_trigger(cursor, quote, table, "update", "UPDATE", changed, f"{kind}, NEW.id")
    for table, prefix, owner in _links():
        if table not in existing:
            continue
        for event, row in (("INSERT", "NEW"), ("DELETE", "OLD")):
            _sqlite_trigger(
                cursor, quote, table, event.lower(), event, "", f"'{prefix}.changed', {row}.{owner}"
            )
