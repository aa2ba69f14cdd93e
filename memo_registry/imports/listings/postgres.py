"""The listing import's PostgreSQL loader: rows into ``COPY``, checked as they go.

On PostgreSQL the rows stream into ``COPY`` while later rows are still being
checked (Python on one core, PostgreSQL on the other); a wrong row rolls the
whole transaction back, so nothing is written either way.  Into an empty
registry the rows are copied straight into the tables; into one that holds
listings, into a staging table merged with set-based statements
(:class:`PostgresLoader`; docs/performance.md measures each way).
"""

import contextlib
import tempfile
from collections.abc import Iterable, Iterator

from django.db import connection

from memo_registry.audit.models import ImportBatch
from memo_registry.imports.listings.life import LIFE_CHANGED, LIFE_NEW, LIFE_SET
from memo_registry.imports.listings.result import SubjectImportResult


class _Chunks:
    """A file-like object for ``COPY … FROM STDIN`` over an iterator of text.

    psycopg2 turns an exception raised while it reads into QueryCanceled;
    ``copy`` raises the original one (a SpreadsheetError or ImportFailed
    naming the row)."""

    def __init__(self, chunks: Iterator[str]):
        self._chunks = chunks
        self.error: Exception | None = None

    def read(self, size: int = -1) -> str:
        try:
            return next(self._chunks, "")
        except Exception as error:
            self.error = error
            raise

    def copy(self, cursor, sql: str) -> None:
        try:
            _copy(cursor, sql, self)
        except Exception:
            if self.error is not None:
                raise self.error from None
            raise


def _chunked(lines: Iterable[str], size: int = 2000) -> Iterator[str]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= size:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


NULL = "\\N"


def _copy(cursor, sql: str, source) -> None:
    """``COPY … FROM STDIN``; a failure is Django's DatabaseError, like any other query's.

    Django wraps the errors of execute() but not of psycopg2's copy_expert,
    whose errors would reach the command as psycopg2's own.
    """
    with cursor.db.wrap_database_errors:
        cursor.copy_expert(sql, source, 1 << 20)


class PostgresLoader:
    """Writes validated rows on PostgreSQL, in one of two ways.

    Into an empty registry (a province's first load) the rows are copied
    straight into the tables, with ids given in Python.  The trigram index,
    the listings' indexes and every foreign key are set aside first and
    rebuilt at the end: a sorted index build and one set-based check per
    foreign key cost a fraction of a million index insertions and a million
    per-row foreign-key triggers (docs/performance.md).  This needs the
    tables locked for the transaction (readers wait for the commit), which
    costs nothing while they are empty.

    Into a registry that holds listings, the rows are copied into a staging
    table and merged with ``INSERT … SELECT`` / ``UPDATE … FROM``: readers
    go on reading, and re-importing the same file changes nothing.

    Two imports never run this at once: each holds the listing imports'
    advisory lock (``memo_registry.imports.locks``) for its transaction.
    """

    def __init__(self, cursor, batch: ImportBatch, result: SubjectImportResult):
        self.cursor = cursor
        self.batch = batch
        self.result = result

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Each step of the load runs inside this, which does nothing: the
        hook by which bench/run.py times the steps (docs/performance.md)."""
        yield

    def run(self, validated: Iterator[tuple], refuse_if_wrong) -> None:
        if self._registry_empty():
            self.cursor.execute(
                "LOCK TABLE subjects_subject, subjects_listing IN ACCESS EXCLUSIVE MODE"
            )
            if self._registry_empty():
                return self._bulk(validated, refuse_if_wrong)
        return self._merge(validated, refuse_if_wrong)

    def _registry_empty(self) -> bool:
        self.cursor.execute(
            "SELECT NOT EXISTS (SELECT FROM subjects_subject)"
            " AND NOT EXISTS (SELECT FROM subjects_listing)"
        )
        return self.cursor.fetchone()[0]

    # --- into an empty registry ------------------------------------------

    def _bulk(self, validated: Iterator[tuple], refuse_if_wrong) -> None:
        cursor, result, batch_id = self.cursor, self.result, self.batch.pk
        # A table with pending (deferred) trigger events cannot be altered:
        # check the ImportBatch row's own foreign key now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Subjects stream into COPY while the rows are checked; the database
        # keeps their b-trees up to date on the core Python leaves idle.
        # Listings (one per row) wait in a file, are copied after, and get
        # their indexes built in one sorted pass.  The trigram index and the
        # foreign keys of both are rebuilt at the end.
        subject_indexes, subject_keys = _set_aside_indexes(
            cursor, "subjects_subject", keep_btrees=True
        )
        listing_indexes, listing_keys = _set_aside_indexes(cursor, "subjects_listing")
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('subjects_subject', 'id')),"
            " nextval(pg_get_serial_sequence('subjects_listing', 'id'))"
        )
        first_subject, first_listing = cursor.fetchone()
        counts = {"subjects": 0, "listings": 0}

        with tempfile.TemporaryFile() as listings:

            def subject_chunks() -> Iterator[str]:
                listing_id = first_listing
                lines: list[str] = []
                waiting: list[str] = []
                for (
                    new,
                    index,
                    code,
                    kind,
                    name,
                    target,
                    source,
                    reason,
                    listed,
                    expires,
                    number,
                    severity,
                    lifted,
                    end_reason,
                ) in validated:
                    subject_id = first_subject + index
                    if new:
                        lines.append(f"{subject_id}\t{code}\t{kind}\t{name}\tf\t{batch_id}\n")
                    waiting.append(
                        f"{listing_id}\t{subject_id}\t{target}\t{source}\t{reason}\t{listed}"
                        f"\t{expires or NULL}\t{lifted or NULL}\t\t{batch_id}"
                        f"\t{number or ''}\t{severity or ''}\t{end_reason or ''}\n"
                    )
                    listing_id += 1
                    if len(waiting) >= 2000:
                        listings.write("".join(waiting).encode())
                        waiting = []
                        if lines:
                            counts["subjects"] += len(lines)
                            yield "".join(lines)
                            lines = []
                listings.write("".join(waiting).encode())
                counts["listings"] = listing_id - first_listing
                counts["subjects"] += len(lines)
                if lines:  # COPY stops at the first empty read
                    yield "".join(lines)

            with self.step("check rows, COPY subjects"):
                _Chunks(subject_chunks()).copy(
                    cursor,
                    "COPY subjects_subject (id, code, kind, name, checksum_exception,"
                    " import_batch_id) FROM STDIN",
                )
            refuse_if_wrong()
            listings.seek(0)
            with self.step("COPY listings"):
                _copy(
                    cursor,
                    "COPY subjects_listing (id, subject_id, target_subject_id, source, basis,"
                    " listed_on, expires_on, lifted_on, lift_reason, import_batch_id,"
                    " decision_number, severity, end_reason) FROM STDIN",
                    listings,
                )
        for table, first, count in (
            ("subjects_subject", first_subject, counts["subjects"]),
            ("subjects_listing", first_listing, counts["listings"]),
        ):
            if count:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                    [table, first + count - 1],
                )
        # Sorting for the index builds happens in memory and on both cores.
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        with self.step("indexes"):
            for statement in subject_indexes + listing_indexes:
                cursor.execute(statement)
        with self.step("foreign keys"):
            for statement in subject_keys + listing_keys:
                cursor.execute(statement)
        # The planner knows nothing of the new rows until autovacuum comes by
        # (a minute or more): without statistics a lookup by subject plans a
        # parallel scan, 8 ms instead of 0.1 ms.
        with self.step("analyze"):
            cursor.execute("ANALYZE subjects_subject, subjects_listing")
        result.subjects_created = counts["subjects"]
        result.listings_created = counts["listings"]

    # --- into a registry that holds listings ----------------------------

    def _merge(self, validated: Iterator[tuple], refuse_if_wrong) -> None:
        cursor = self.cursor
        cursor.execute(
            "CREATE TEMP TABLE subject_import_staging ("
            ' code varchar(18) COLLATE "C", kind varchar(8), name varchar(200), first_row boolean,'
            " target_id bigint, source varchar(100), reason varchar(300),"
            " listed_on date, expires_on date,"
            # The listing's life: NULL for a column the file does not have.
            " decision_number varchar(100), severity varchar(4), lifted_on date,"
            " end_reason varchar(4)"
            ") ON COMMIT DROP"
        )
        lines = (
            f"{code}\t{kind}\t{name}\t{'t' if new else 'f'}\t{target}\t{source}\t{reason}"
            f"\t{listed}\t{expires or NULL}\t{_or_null(number)}\t{_or_null(severity)}"
            f"\t{lifted or NULL}\t{_or_null(end_reason)}\n"
            for (
                new, _, code, kind, name, target, source, reason, listed, expires,
                number, severity, lifted, end_reason,
            ) in validated
        )  # fmt: skip
        with self.step("check rows, COPY staging"):
            _Chunks(_chunked(lines)).copy(cursor, "COPY subject_import_staging FROM STDIN")
        refuse_if_wrong()
        cursor.execute("ANALYZE subject_import_staging")
        # A large file is joined with the registry by hashing: in memory, not
        # in batches on disk (4 MB is PostgreSQL's default).
        cursor.execute("SET LOCAL work_mem = '256MB'")
        with self.step("merge subjects"):
            self._merge_subjects()
        with self.step("merge listings"):
            self._merge_listings()
        cursor.execute("DROP TABLE subject_import_staging")

    def _merge_subjects(self) -> None:
        cursor, result, batch_id = self.cursor, self.result, self.batch.pk

        # Subjects: one staged row per code (first_row) carries its name.
        # Every UPDATE here raises the row's version (memo_registry/lib/versioning.py):
        # an admin page loaded before the import must not save over it.
        cursor.execute(
            "UPDATE subjects_subject s SET name = st.name, import_batch_id = %s,"
            " version = s.version + 1"
            " FROM subject_import_staging st"
            " WHERE st.first_row AND s.code = st.code AND s.name <> st.name",
            [batch_id],
        )
        result.subjects_updated = max(cursor.rowcount, 0)
        cursor.execute(
            "INSERT INTO subjects_subject (code, kind, name, checksum_exception, import_batch_id)"
            " SELECT st.code, st.kind, st.name, false, %s FROM subject_import_staging st"
            " WHERE st.first_row"
            " AND NOT EXISTS (SELECT FROM subjects_subject s WHERE s.code = st.code)"
            " ON CONFLICT (code) DO NOTHING",
            [batch_id],
        )
        result.subjects_created = max(cursor.rowcount, 0)

    def _merge_listings(self) -> None:
        # Listings: identified by (subject, list, date listed); a re-import
        # that extends the validity or corrects the source updates them.
        cursor, result, batch_id = self.cursor, self.result, self.batch.pk
        cursor.execute(
            "UPDATE subjects_listing l SET expires_on = st.expires_on, source = st.source,"
            f" basis = st.reason, {LIFE_SET.format(table='l', new='st')},"
            " import_batch_id = %s, version = l.version + 1"
            " FROM subject_import_staging st JOIN subjects_subject s ON s.code = st.code"
            " WHERE l.subject_id = s.id AND l.target_subject_id = st.target_id"
            " AND l.listed_on = st.listed_on"
            " AND (l.expires_on IS DISTINCT FROM st.expires_on"
            "      OR l.source <> st.source OR l.basis <> st.reason"
            f"     OR {LIFE_CHANGED.format(table='l', new='st')})",
            [batch_id],
        )
        result.listings_updated = max(cursor.rowcount, 0)
        cursor.execute(
            "INSERT INTO subjects_listing (subject_id, target_subject_id, source, basis,"
            " listed_on, expires_on, lifted_on, lift_reason, import_batch_id,"
            " decision_number, severity, end_reason)"
            " SELECT s.id, st.target_id, st.source, st.reason, st.listed_on, st.expires_on,"
            f" st.lifted_on, '', %s, {LIFE_NEW.format(new='st')}"
            " FROM subject_import_staging st JOIN subjects_subject s ON s.code = st.code"
            " WHERE NOT EXISTS (SELECT FROM subjects_listing l WHERE l.subject_id = s.id"
            " AND l.target_subject_id = st.target_id AND l.listed_on = st.listed_on)"
            " ON CONFLICT (subject_id, target_subject_id, listed_on) DO NOTHING",
            [batch_id],
        )
        result.listings_created = max(cursor.rowcount, 0)


def _or_null(text: str | None) -> str:
    return NULL if text is None else text


def _set_aside_indexes(cursor, table: str, *, keep_btrees: bool = False):
    """Drop the secondary indexes, unique constraints and foreign keys of
    ``table`` (locked, empty) and return the statements that rebuild them,
    as the catalogue defines them: (indexes, foreign keys).  The primary key
    and check constraints stay, and so do b-trees with ``keep_btrees`` and a
    unique constraint that a foreign key points at."""
    quote = connection.ops.quote_name
    indexes, foreign_keys = [], []
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint c"
        " WHERE conrelid = %s::regclass AND contype IN (%s, 'f')"
        " AND NOT (contype = 'u' AND EXISTS ("
        "   SELECT FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid))",
        [table, "f" if keep_btrees else "u"],
    )
    for name, kind, definition in cursor.fetchall():
        cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        statement = f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
        (foreign_keys if kind == "f" else indexes).append(statement)
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
        " WHERE i.indrelid = %s::regclass AND NOT i.indisprimary"
        " AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
        " AND NOT (%s AND am.amname = 'btree')",
        [table, keep_btrees],
    )
    for name, definition in cursor.fetchall():
        cursor.execute(f"DROP INDEX {quote(name)}")
        indexes.append(definition)
    return indexes, foreign_keys
