"""A listings sheet uploaded through a page: previewed, then confirmed.

The preview runs the very pipeline the confirm step runs (``import_subject_rows``,
as ``manage.py import_subjects`` does; ``lifting.lift_listings``) inside a
transaction that is then rolled back, so the counts it shows (rows to add,
to update, to leave) are what the confirm would write, and its errors are the
pipeline's own.  The confirm step runs it again on the same kept file and
writes only if the counts are still those the user saw: a registry changed
in between (another import, an edit) gives a new preview to confirm, not a
surprise.
"""

import contextlib
from dataclasses import dataclass, field

from django.db import transaction

from memo_registry.imports.listings import import_subject_rows
from memo_registry.imports.listings.lifting import lift_listings
from memo_registry.imports.memos.uploads import FORGED, UploadRefused
from memo_registry.lib.spreadsheet import UPLOAD, open_rows
from subjects.models import Listing

#: Listings a preview lists of each kind (added, updated); the rest are counted.
SHOWN = 200


@dataclass
class Outcome:
    """What a preview (or a confirm) of one sheet found."""

    result: object  # SubjectImportResult or LiftResult
    sha256: str
    file_name: str
    added: list[Listing] = field(default_factory=list)
    updated: list[Listing] = field(default_factory=list)
    # The confirm step found other counts than the preview's: nothing written.
    stale: bool = False
    written: bool = False

    @property
    def counts(self) -> dict:
        return self.result.as_counts()


class _RollBack(Exception):
    pass


def _import(rows, outcome, *, write: bool, **pipeline) -> None:
    result = import_subject_rows(rows, **pipeline)
    touched = (
        Listing.objects.filter(import_batch=result.batch)
        .select_related("subject", "target_subject")
        .order_by("pk")
    )
    # A listing the import inserted is at version 1; one it changed, above.
    outcome.added = list(touched.filter(version=1)[:SHOWN])
    outcome.updated = list(touched.filter(version__gt=1)[:SHOWN])
    outcome.result = result


def _lift(rows, outcome, *, write: bool, **pipeline) -> None:
    outcome.result = lift_listings(rows, write=write, **pipeline)


#: The kinds of sheet: a listings sheet (``import_subjects``' pipeline), a sheet to lift.
KINDS = {"import": _import, "lift": _lift}


def run_sheet(
    kind: str,
    path,
    file_name: str,
    *,
    user,
    responsibility_list=None,
    write: bool = False,
    expected: dict | None = None,
    sha256: str | None = None,
) -> Outcome:
    """Preview (``write`` False) or write a kept sheet of ``kind``.

    With ``expected`` (the counts of the preview the user confirmed) nothing
    is written unless the run finds the same counts (``Outcome.stale``
    otherwise).  Raises what the pipeline raises (ImportFailed,
    SpreadsheetError, DatabaseError), and UploadRefused when the file is
    not the one previewed (``sha256``)."""
    info, rows = open_rows(path, UPLOAD, file_name=file_name)
    if sha256 is not None and info.sha256 != sha256:
        rows.close()
        raise UploadRefused(FORGED)
    outcome = Outcome(result=None, sha256=info.sha256, file_name=info.file_name)
    with contextlib.closing(rows):
        try:
            with transaction.atomic():
                KINDS[kind](
                    rows,
                    outcome,
                    write=write,
                    file_name=info.file_name,
                    sha256=info.sha256,
                    encoding=info.encoding,
                    user=user,
                    source="page",
                    responsibility_list=responsibility_list,
                )
                if not write:
                    raise _RollBack
                if expected is not None and outcome.counts != expected:
                    outcome.stale = True
                    raise _RollBack
                outcome.written = True
        except _RollBack:
            outcome.result.batch = None
    return outcome
