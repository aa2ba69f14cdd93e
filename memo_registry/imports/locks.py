"""One import of each kind writing at a time.

Two memo imports started together (two ``import_memos --create-list`` runs,
or a command and the admin's confirm step) both look for the list and its
memos, find none, and both insert: the second then fails on a unique
constraint.  Two listing imports into an empty registry both see it empty
and both ask for the tables' exclusive lock while holding a shared one: a
deadlock, one of them killed.  Each import calls its lock first inside its
transaction, so the second waits until the first has committed, then works
against what the first wrote.

- PostgreSQL: a transaction-level advisory lock, released at COMMIT or
  ROLLBACK, so nothing can leave it held; one key per kind of import (a
  memo import and a listing import touch different tables, and may run
  together).
- SQLite: the database's write lock, taken at once by a write that changes
  no row.  A transaction that has only read cannot wait for that lock (SQLite
  answers "database is locked" at its first write instead); one that asks
  first waits, up to the connection's timeout (5 s by default), and then
  fails with that error, which the callers turn into a plain message.
"""

from django.db import connections

# The keys of the PostgreSQL advisory locks, "memo" and "list" in ASCII.  Any
# other advisory lock in this project must use another key.
MEMO_IMPORTS = 0x6D656D6F
LISTING_IMPORTS = 0x6C697374


def lock_memo_imports(using: str = "default") -> None:
    """Wait for any other memo import to commit; hold the lock until this transaction ends.

    Call inside ``transaction.atomic()``, before the import reads anything it
    decides on.
    """
    _lock(MEMO_IMPORTS, using)


def lock_listing_imports(using: str = "default") -> None:
    """Wait for any other listing import to commit; hold the lock until this transaction ends.

    Call inside ``transaction.atomic()``, before anything else.
    """
    _lock(LISTING_IMPORTS, using)


def _lock(key: int, using: str) -> None:
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("an import's lock needs a transaction (transaction.atomic()).")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        elif connection.vendor == "sqlite":
            from memos.models import ResponsibilityList

            table = connection.ops.quote_name(ResponsibilityList._meta.db_table)
            cursor.execute(f"UPDATE {table} SET id = id WHERE 0")
