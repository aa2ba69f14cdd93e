"""Bulk import of listings (who is on which red or black list).

A city holds hundreds of thousands of listings, a province millions, so this
path is set-based rather than row by row through the ORM:

1. the header is found (``memo_registry.imports.header``, the columns of
   ``columns``), then the rows are streamed once, each checked (code check
   character, memo or label, dates: ``validate``), collecting row- and
   column-numbered errors (``memo_registry.imports.errors``);
2. if any row is wrong, stop: nothing has been written;
3. otherwise, in one transaction that first takes the listing imports' lock
   (``memo_registry.imports.locks``: a second import waits for the first),
   write them: on PostgreSQL through ``COPY`` (``postgres``), elsewhere
   (SQLite) through batched inserts into a staging table (``portable``),
   merged alike.  Re-importing the same file adds nothing; a changed 有效期至
   updates the listing.

The ``ImportBatch`` record (who, when, file name, SHA-256, counts) is the
audit trail of a bulk import: no per-row history rows are written here.
"""

import tempfile
from collections.abc import Iterable

from django.db import connection, transaction

from memo_registry.imports.errors import refuse
from memo_registry.imports.header import find_header
from memo_registry.imports.listings import portable
from memo_registry.imports.listings.columns import COLUMNS, HEADER, HEADER_NAMES
from memo_registry.imports.listings.postgres import PostgresLoader
from memo_registry.imports.listings.result import (
    SubjectImportResult,
    finish_batch,
    start_batch,
)
from memo_registry.imports.listings.validate import Targets, Validator
from memo_registry.imports.locks import lock_listing_imports
from memo_registry.services import work_tally
from memos.models import ResponsibilityList
from subjects.models import Subject

__all__ = ["COLUMNS", "HEADER_NAMES", "SubjectImportResult", "import_subject_rows"]


def import_subject_rows(
    rows: Iterable[tuple[int, list]],
    *,
    file_name: str,
    sha256: str,
    user=None,
    source: str = "command",
    dry_run: bool = False,
    responsibility_list: ResponsibilityList | None = None,
    encoding: str = "",
) -> SubjectImportResult:
    """Check every row and write all of them, or nothing.

    ``rows`` yields (row number as the spreadsheet shows it, cells), as
    ``memo_registry.lib.spreadsheet.open_rows`` does; ``encoding`` is the
    file's, for the message of a file without a header.  Raises ImportFailed
    listing the problems when any row is wrong (SpreadsheetError when the
    file itself cannot be read, DatabaseError when the database refuses);
    either way the database is as before.
    """
    rows = iter(rows)
    header = find_header(rows, HEADER, file_name, encoding=encoding)
    targets = Targets.load(responsibility_list or ResponsibilityList.current())
    exceptions = set(Subject.objects.filter(checksum_exception=True).values_list("code", flat=True))
    postgres = connection.vendor == "postgresql" and not dry_run
    validator = Validator(header.columns, targets, exceptions, file_name, escape=postgres)
    result = SubjectImportResult()
    validated = validator.validated(rows, result)

    def refuse_if_wrong() -> None:
        validator.raise_errors()
        if result.rows == 0:
            refuse(file_name, f"表头（第 {header.row} 行）下没有数据。")
        result.warnings = targets.warnings(validator.repealed_rows)

    if dry_run:
        for _ in validated:
            pass
        refuse_if_wrong()
        return result

    if postgres:
        # Rows stream into the database while later rows are still being
        # checked; a wrong row rolls the whole transaction back.
        with transaction.atomic():
            lock_listing_imports()
            batch = start_batch(file_name, sha256, user, source)
            # The divisions' new items are counted in the same commit.
            with work_tally.loading() as tally, connection.cursor() as cursor:
                PostgresLoader(cursor, batch, result).run(validated, refuse_if_wrong)
                tally["changed"] = _changed(result)
            finish_batch(batch, result)
        return result

    # Elsewhere (SQLite) every row is checked before anything is written.
    with tempfile.TemporaryFile() as staged:
        portable.stage(validated, staged)
        refuse_if_wrong()
        with transaction.atomic():
            lock_listing_imports()
            batch = start_batch(file_name, sha256, user, source)
            with work_tally.loading() as tally:
                portable.load(staged, batch, result)
                tally["changed"] = _changed(result)
            finish_batch(batch, result)
    return result


def _changed(result: SubjectImportResult) -> bool:
    """Whether the import added or changed a listing (a new name alone
    changes no work item)."""
    return bool(result.listings_created or result.listings_updated)
