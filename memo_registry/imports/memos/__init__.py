"""The import of a responsibility list from a spreadsheet, in one pipeline.

Both ``manage.py import_memos`` and the memo admin call :func:`run_import`:

1. the file is read into rows (``memo_registry.lib.spreadsheet``);
2. the header row is found, whatever its spacing or bracket style
   (``memo_registry.imports.header``, which the listing import uses too);
3. rows are gathered into records: a row with an empty 序号 continues the
   memo above it (a page break in the source);
4. every record is normalised by the text rules (``memo_registry.lib.text``)
   and validated, collecting *all* errors as
   ``文件 X 第 N 行「列名」列：原因`` (``memo_registry.imports.errors``;
   steps 2–4: ``parse``);
5. the plan compares each memo with the registry: created, updated,
   unchanged (``plan``) — a dry run stops here;
6. the plan is written inside one transaction (``write``) and recorded as
   an ``audit.ImportBatch``.  Any error means nothing is written.
"""

from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.utils import timezone

from memo_registry.audit.models import ImportBatch
from memo_registry.imports.errors import ImportFailed, where
from memo_registry.imports.locks import lock_memo_imports
from memo_registry.imports.memos.parse import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    MemoData,
    parse_sheet,
)
from memo_registry.imports.memos.plan import ImportPlan, MemoPlan, make_plan
from memo_registry.imports.memos.write import write_plan
from memo_registry.lib.spreadsheet import Sheet, SpreadsheetError, read_bytes, read_path
from memos.models import ResponsibilityList

__all__ = [
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "ImportFailed",
    "ImportOutcome",
    "ImportPlan",
    "MemoData",
    "MemoPlan",
    "SpreadsheetError",
    "parse_sheet",
    "read_bytes",
    "read_path",
    "run_import",
]


# --- the pipeline --------------------------------------------------------------------


@dataclass
class ImportOutcome:
    """What :func:`run_import` did: the plan, and the batch record unless a dry run."""

    plan: ImportPlan
    batch: ImportBatch | None
    dry_run: bool

    def summary(self) -> list[str]:
        return self.plan.summary(dry_run=self.dry_run)


def run_import(
    sheet: Sheet,
    responsibility_list: ResponsibilityList,
    *,
    dry_run: bool = False,
    user=None,
    source: str = "command",
) -> ImportOutcome:
    """Import a sheet into a list: all of it, or (ImportFailed) nothing.

    The plan is made inside the transaction that writes it, from the
    registry as it stands then: the admin's confirm step plans again rather
    than trusting a preview that may have gone stale.
    """
    memos = parse_sheet(sheet)
    try:
        with transaction.atomic():
            if not dry_run:
                # Another import writing now is waited for, and planned against.
                lock_memo_imports()
            plan = make_plan(memos, sheet, responsibility_list)
            if dry_run:
                return ImportOutcome(plan, None, dry_run=True)
            batch = ImportBatch.objects.create(
                kind=ImportBatch.Kind.MEMOS,
                file_name=sheet.file_name[:255],
                sha256=sheet.sha256,
                user=user if getattr(user, "pk", None) else None,
                source=source,
            )
            write_plan(plan, batch)
            batch.counts = plan.counts()
            batch.finished_at = timezone.now()
            batch.save(update_fields=["counts", "finished_at"])
    except DatabaseError as error:
        reason = f"写入数据库时出错，未写入任何数据（{error}）。"
        raise ImportFailed([f"{where(sheet.file_name)}：{reason}"]) from error
    return ImportOutcome(plan, batch, dry_run=False)
