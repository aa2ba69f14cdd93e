"""The listing import's portable loader (SQLite, and any database but PostgreSQL).

Every row is checked before anything is written: :func:`stage` keeps the
checked rows in a temporary file, in batches, while the file is read; once
the whole file has passed, :func:`load` copies them into a temporary
staging table and merges them into the registry with set-based
``UPDATE … FROM`` / ``INSERT … SELECT``, as PostgreSQL's loader does.
"""

import pickle
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from django.db import connection

from memo_registry.audit.models import ImportBatch
from memo_registry.imports.listings.life import LIFE_CHANGED, LIFE_NEW, LIFE_SET
from memo_registry.imports.listings.result import SubjectImportResult

_BATCH = 5000


def stage(validated: Iterable[tuple], staged: BinaryIO) -> None:
    """Keep the rows ``Validator.validated`` yields in ``staged``, a batch
    at a time (the file may hold millions of them)."""
    batch: list[tuple] = []
    for item in validated:
        batch.append(item[2:])
        if len(batch) >= _BATCH:
            pickle.dump(batch, staged, pickle.HIGHEST_PROTOCOL)
            batch = []
    if batch:
        pickle.dump(batch, staged, pickle.HIGHEST_PROTOCOL)
    staged.seek(0)


def _batches(staged: BinaryIO) -> Iterator[list[tuple]]:
    # The file was written by stage() in this process: nothing else is unpickled.
    while True:
        try:
            yield pickle.load(staged)
        except EOFError:
            return


def load(staged: BinaryIO, batch: ImportBatch, result: SubjectImportResult) -> None:
    """The rows :func:`stage` kept, into a temporary staging table in
    batches, then merged as on PostgreSQL.  Call inside the transaction."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS temp.subject_import_staging")
        cursor.execute(
            "CREATE TEMP TABLE subject_import_staging ("
            " code text, kind text, name text, target_id integer, source text,"
            " reason text, listed_on date, expires_on date,"
            # The listing's life: NULL for a column the file does not have.
            " decision_number text, severity text, lifted_on date, end_reason text)"
        )
        insert = f"INSERT INTO subject_import_staging VALUES ({', '.join(['%s'] * 12)})"
        for rows in _batches(staged):
            cursor.executemany(insert, rows)

        # Subjects: one row per code (the file agrees on names, see validate.Validator).
        # Updates raise the version, as in postgres.PostgresLoader._merge_subjects.
        cursor.execute(
            "UPDATE subjects_subject SET name = s.name, import_batch_id = %s,"
            " version = subjects_subject.version + 1"
            " FROM (SELECT DISTINCT code, name FROM subject_import_staging) AS s"
            " WHERE subjects_subject.code = s.code AND subjects_subject.name <> s.name",
            [batch.pk],
        )
        result.subjects_updated = max(cursor.rowcount, 0)
        cursor.execute(
            "INSERT INTO subjects_subject (code, kind, name, checksum_exception, import_batch_id)"
            " SELECT code, MIN(kind), MIN(name), false, %s FROM subject_import_staging"
            " WHERE true GROUP BY code"
            " ON CONFLICT (code) DO NOTHING",
            [batch.pk],
        )
        result.subjects_created = max(cursor.rowcount, 0)

        listing_rows = (
            "SELECT s.id AS subject_id, st.target_id,"
            " COALESCE(st.source, '') AS source, COALESCE(st.reason, '') AS reason,"
            " st.listed_on, st.expires_on,"
            " st.decision_number, st.severity, st.lifted_on, st.end_reason"
            " FROM subject_import_staging st JOIN subjects_subject s ON s.code = st.code"
        )
        cursor.execute(
            "UPDATE subjects_listing SET expires_on = n.expires_on, source = n.source,"
            f" basis = n.reason, {LIFE_SET.format(table='subjects_listing', new='n')},"
            " import_batch_id = %s, version = subjects_listing.version + 1"
            f" FROM ({listing_rows}) AS n"
            " WHERE subjects_listing.subject_id = n.subject_id"
            " AND subjects_listing.target_subject_id = n.target_id"
            " AND subjects_listing.listed_on = n.listed_on"
            " AND (COALESCE(subjects_listing.expires_on, '9999-12-31')"
            "      <> COALESCE(n.expires_on, '9999-12-31')"
            "      OR subjects_listing.source <> n.source OR subjects_listing.basis <> n.reason"
            f"     OR {LIFE_CHANGED.format(table='subjects_listing', new='n')})",
            [batch.pk],
        )
        result.listings_updated = max(cursor.rowcount, 0)
        cursor.execute(
            "INSERT INTO subjects_listing (subject_id, target_subject_id, source, basis,"
            " listed_on, expires_on, lifted_on, lift_reason, import_batch_id,"
            " decision_number, severity, end_reason)"
            " SELECT subject_id, target_id, source, reason, listed_on, expires_on, lifted_on,"
            f" '', %s, {LIFE_NEW.format(new='n')}"
            f" FROM ({listing_rows}) AS n WHERE true"
            " ON CONFLICT (subject_id, target_subject_id, listed_on) DO NOTHING",
            [batch.pk],
        )
        result.listings_created = max(cursor.rowcount, 0)
        cursor.execute("DROP TABLE IF EXISTS subject_import_staging")
