"""One memo import writing at a time.

Two imports started together (two ``import_memos --create-list`` runs, or a
command and the admin's confirm step) both look for the list and its memos,
find none, and both insert: the second then fails on a unique constraint.
:func:`lock_memo_imports`, called first inside the import's transaction,
makes the second wait until the first has committed; it then plans against
what the first wrote (the list exists, its memos are unchanged).

- PostgreSQL: a transaction-level advisory lock, released at COMMIT or
  ROLLBACK, so nothing can leave it held.
- SQLite: the database's write lock, taken at once by a write that changes
  no row.  A transaction that has only read cannot wait for that lock (SQLite
  answers "database is locked" at its first write instead); one that asks
  first waits, up to the connection's timeout (5 s by default), and then
  fails with that error, which the callers turn into a plain message.
"""

from django.db import connections

# The key of the PostgreSQL advisory lock: "memo" in ASCII.  Another advisory
# lock in this project must use another key.
ADVISORY_KEY = 0x6D656D6F


def lock_memo_imports(using: str = "default") -> None:
    """Wait for any other memo import to commit; hold the lock until this transaction ends.

    Call inside ``transaction.atomic()``, before the import reads anything it
    decides on.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("lock_memo_imports() needs a transaction (transaction.atomic()).")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_KEY])
        elif connection.vendor == "sqlite":
            from memos.models import ResponsibilityList

            table = connection.ops.quote_name(ResponsibilityList._meta.db_table)
            cursor.execute(f"UPDATE {table} SET id = id WHERE 0")
