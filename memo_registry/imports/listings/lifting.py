"""Bulk lifting of listings (信用修复 / 移出名单) from a sheet.

A sheet names, per row, a subject (统一社会信用代码 / 证件号码, the columns of
the listing import), the list it is on (列入依据: a memo's 文号 or a list
label, as the listing import reads it; optionally 列入日期 to pick one
listing of several), the day it was lifted (移出日期) and why (移出原因).
Each row lifts the subject's listings on that list that are in force on the
lifting day (a subject listed twice on one list leaves it once); a row whose
listing was already lifted that day for that reason changes nothing, so the
same sheet can be loaded twice.

Every row is checked against the registry first, every problem named by row
and column in the one error form (``memo_registry.imports.errors``); any
problem means nothing is written.  The write holds the listing imports' lock
(``memo_registry.imports.locks``) and checks again under it, records an
``ImportBatch`` (kind 批量移出名单) and one history row per listing lifted
(who, when, “批量移出”), and raises each listing's version.  A lifted
listing is no longer in force from its 移出日期, so whatever is computed from
listings in force (the measures that apply, open work items) follows.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from memo_registry.audit.history import record_history
from memo_registry.audit.models import ImportBatch
from memo_registry.imports.errors import ErrorList, refuse
from memo_registry.imports.header import Columns, find_header
from memo_registry.imports.listings.columns import CODE_KEYS, COLUMNS, MAX_CELL, cell_text
from memo_registry.imports.listings.validate import Targets
from memo_registry.imports.locks import lock_listing_imports
from memo_registry.lib.dates import parse_date
from memo_registry.lib.text import squeeze
from memo_registry.services import work_tally
from memos.models import ResponsibilityList
from subjects.codes import parse_code
from subjects.models import EndReason, Listing, Subject, TargetSubject

NAMES = {
    "uscc": "统一社会信用代码",
    "id_number": "证件号码",
    "code": "统一社会信用代码/证件号码",
    "basis": "列入依据",
    "listed_on": "列入日期",
    "lifted_on": "移出日期",
    "lift_reason": "移出原因",
}
HEADER = Columns(
    names=NAMES,
    aliases={
        **{key: tuple(COLUMNS[key]) for key in (*CODE_KEYS, "basis", "listed_on")},
        "lifted_on": ("移出日期", "修复日期", "信用修复日期", "撤销日期"),
        "lift_reason": ("移出原因", "修复原因", "移出理由", "移出依据"),
    },
    required=(
        ("统一社会信用代码或证件号码", CODE_KEYS),
        ("列入依据", ("basis",)),
        ("移出日期", ("lifted_on",)),
        ("移出原因", ("lift_reason",)),
    ),
    search_rows=50,
)
REASON_LENGTH = Listing._meta.get_field("lift_reason").max_length
_CHUNK = 900


@dataclass
class Lifting:
    """One listing a row lifts (or had lifted already, for ``unchanged``)."""

    row: int
    listing: Listing
    lifted_on: datetime.date
    reason: str


@dataclass
class LiftResult:
    rows: int = 0
    to_lift: list[Lifting] = field(default_factory=list)
    unchanged: list[Lifting] = field(default_factory=list)
    batch: ImportBatch | None = None

    def as_counts(self) -> dict:
        return {"rows": self.rows, "lifted": len(self.to_lift), "unchanged": len(self.unchanged)}


@dataclass
class _Asked:
    row: int
    code_key: str
    code: str
    target: int
    label: str
    listed_on: datetime.date | None
    lifted_on: datetime.date
    reason: str


def lift_listings(
    rows: Iterable[tuple[int, list]],
    *,
    file_name: str,
    sha256: str,
    user=None,
    source: str = "page",
    write: bool = False,
    responsibility_list: ResponsibilityList | None = None,
    encoding: str = "",
    today: datetime.date | None = None,
) -> LiftResult:
    """Check every row and, with ``write``, lift the listings they name, or nothing.

    ``rows`` as ``memo_registry.lib.spreadsheet.open_rows`` yields them.
    Raises ImportFailed naming every problem (SpreadsheetError when the file
    cannot be read, DatabaseError when the database refuses); either way
    nothing is written.
    """
    rows = iter(rows)
    header = find_header(rows, HEADER, file_name, encoding=encoding)
    responsibility_list = responsibility_list or ResponsibilityList.current()
    today = today or timezone.localdate()
    errors = ErrorList(file_name)
    asked = _read(rows, header.columns, Targets.load(responsibility_list), today, errors)
    if not errors.count and not asked:
        refuse(file_name, f"表头（第 {header.row} 行）下没有数据。")
    if not write:
        result = _plan(asked, errors, for_update=False)
        errors.raise_if_any()
        return result
    with transaction.atomic():
        lock_listing_imports()
        result = _plan(asked, errors, for_update=True)
        errors.raise_if_any()
        batch = ImportBatch.objects.create(
            kind=ImportBatch.Kind.LIFTING,
            file_name=file_name,
            sha256=sha256,
            user=user,
            source=source,
        )
        with work_tally.changing({lifting.listing.subject_id for lifting in result.to_lift}):
            _write(result, batch, user)
        batch.counts = result.as_counts()
        batch.finished_at = timezone.now()
        batch.save(update_fields=["counts", "finished_at"])
        result.batch = batch
    return result


def _read(rows, columns: dict[str, int], targets: Targets, today, errors: ErrorList) -> list:
    """Every row's own checks (code, list, dates, reason); the rows that pass."""
    exceptions = set(Subject.objects.filter(checksum_exception=True).values_list("code", flat=True))
    labels = dict(TargetSubject.objects.values_list("pk", "label"))
    asked: list[_Asked] = []
    for number, cells in rows:

        def cell(key, cells=cells):
            index = columns.get(key)
            return cells[index] if index is not None and index < len(cells) else None

        if not any(cell_text(value) for value in cells):
            continue
        before = errors.count
        for key in columns:
            text = cell(key)
            if isinstance(text, str) and len(text) > MAX_CELL:
                errors.add(f"内容过长（{len(text)} 字，上限 {MAX_CELL} 字）。", number, NAMES[key])
        if errors.count > before:
            continue
        code_key = next(
            (key for key in CODE_KEYS if cell_text(cell(key))),
            next(key for key in CODE_KEYS if key in columns),
        )
        code = None
        raw = cell(code_key)
        if not cell_text(raw):
            errors.add("代码为空。", number, NAMES[code_key])
        else:
            raw = raw if isinstance(raw, float) else cell_text(raw)
            try:
                allow = isinstance(raw, str) and raw.upper() in exceptions
                code = parse_code(raw, allow_bad_checksum=allow).value
            except ValidationError as error:
                errors.add(error.messages[0], number, NAMES[code_key])
        basis = squeeze(cell_text(cell("basis")))
        target = targets.resolve(basis)
        if not basis:
            errors.add(
                "列入依据为空：应填备忘录文号或名单类别（如 失信被执行人）。", number, "列入依据"
            )
        elif target is None:
            errors.add(
                f"“{basis}”既不是清单中备忘录的文号，也不是已有的名单类别。", number, "列入依据"
            )
        listed_on = _date(cell("listed_on"), number, "列入日期", errors, required=False)
        lifted_on = _date(cell("lifted_on"), number, "移出日期", errors, required=True)
        if lifted_on and lifted_on > today:
            errors.add(f"移出日期 {lifted_on} 晚于今天（{today}）。", number, "移出日期")
        reason = squeeze(cell_text(cell("lift_reason")))
        if not reason:
            errors.add("移出原因为空：应写明移出的依据或原因（如 信用修复）。", number, "移出原因")
        elif len(reason) > REASON_LENGTH:
            errors.add(f"移出原因过长（上限 {REASON_LENGTH} 字）。", number, "移出原因")
        if errors.count == before:
            asked.append(
                _Asked(number, code_key, code, target, labels.get(target, basis), listed_on,
                       lifted_on, reason)
            )  # fmt: skip
    return asked


def _date(raw, number: int, column: str, errors: ErrorList, *, required: bool):
    if not cell_text(raw):
        if required:
            errors.add(f"{column}为空。", number, column)
        return None
    try:
        return parse_date(raw)
    except ValueError as error:
        errors.add(str(error), number, column)
        return None


def _plan(asked: list[_Asked], errors: ErrorList, *, for_update: bool) -> LiftResult:
    """Each row against the registry: the listings it lifts, or why not."""
    result = LiftResult(rows=len(asked))
    subjects: dict[str, Subject] = {}
    codes = sorted({row.code for row in asked})
    for start in range(0, len(codes), _CHUNK):
        for subject in Subject.objects.filter(code__in=codes[start : start + _CHUNK]):
            subjects[subject.code] = subject
    listings: dict[tuple[int, int], list[Listing]] = {}
    ids = sorted({subject.pk for subject in subjects.values()})
    targets = {row.target for row in asked}
    for start in range(0, len(ids), _CHUNK):
        found = Listing.objects.filter(
            subject_id__in=ids[start : start + _CHUNK], target_subject_id__in=targets
        )
        found = found.select_related("target_subject").order_by("listed_on", "pk")
        if for_update:
            found = found.select_for_update(of=("self",))
        for listing in found:
            listings.setdefault((listing.subject_id, listing.target_subject_id), []).append(listing)
    claimed: dict[int, Lifting] = {}
    for row in asked:
        subject = subjects.get(row.code)
        if subject is None:
            errors.add("主体库中没有该代码的主体，无从移出。", row.row, NAMES[row.code_key])
            continue
        candidates = [
            listing
            for listing in listings.get((subject.pk, row.target), [])
            if row.listed_on is None or listing.listed_on == row.listed_on
        ]
        for listing in candidates:
            listing.subject = subject
        liftable = [
            listing
            for listing in candidates
            if listing.lifted_on is None
            and listing.listed_on <= row.lifted_on
            and (listing.expires_on is None or row.lifted_on <= listing.expires_on)
        ]
        done = [
            listing
            for listing in candidates
            if listing.lifted_on == row.lifted_on and listing.lift_reason == row.reason
        ]
        if not liftable and not done:
            column, reason = _why_not(row, candidates)
            errors.add(reason, row.row, column)
            continue
        for listing in liftable + done:
            earlier = claimed.get(listing.pk)
            if earlier is not None:
                if (earlier.lifted_on, earlier.reason) != (row.lifted_on, row.reason):
                    errors.add(
                        f"与第 {earlier.row} 行移出的是同一条名单记录，但移出日期或原因不同。",
                        row.row,
                        "移出日期",
                    )
                continue
            lifting = Lifting(row.row, listing, row.lifted_on, row.reason)
            claimed[listing.pk] = lifting
            (result.to_lift if listing in liftable else result.unchanged).append(lifting)
    return result


def _why_not(row: _Asked, candidates: list[Listing]) -> tuple[str, str]:
    """The column and the reason a row lifts nothing."""
    listed = f" {row.listed_on} " if row.listed_on else ""
    if not candidates:
        column = "列入日期" if row.listed_on else "列入依据"
        return column, f"该主体没有{listed}列入“{row.label}”的名单记录。"
    for listing in candidates:
        if listing.lifted_on is not None:
            why = f"，原因：{listing.lift_reason}" if listing.lift_reason else ""
            return "移出日期", (
                f"该主体列入“{row.label}”的名单记录（{listing.listed_on} 列入）"
                f"已于 {listing.lifted_on} 移出{why}。"
            )
    for listing in candidates:
        if listing.expires_on is not None and listing.expires_on < row.lifted_on:
            return "移出日期", (
                f"该主体列入“{row.label}”的名单记录已于 {listing.expires_on} 到期，"
                f"移出日期 {row.lifted_on} 时已不在名单上。"
            )
    first = min(listing.listed_on for listing in candidates)
    return "移出日期", f"移出日期 {row.lifted_on} 早于列入日期 {first}。"


def _write(result: LiftResult, batch: ImportBatch, user) -> None:
    by_pk = {lifting.listing.pk: lifting for lifting in result.to_lift}
    changed = []
    for lifting in result.to_lift:
        listing = lifting.listing
        listing.lifted_on, listing.lift_reason = lifting.lifted_on, lifting.reason
        # A reason that names one kind of ending (信用修复, 撤销 …), and one
        # only, also gives the listing its 移出类型, as 移出原因 does in the
        # listing import; otherwise the type is left for the administrator.
        kinds = [kind for kind in EndReason.values if kind in lifting.reason]
        listing.end_reason = kinds[0] if len(kinds) == 1 else ""
        listing.import_batch = batch
        listing.version = F("version") + 1  # memo_registry/lib/versioning.py
        changed.append(listing)
    Listing.objects.bulk_update(
        changed,
        ["lifted_on", "lift_reason", "end_reason", "import_batch", "version"],
        batch_size=500,
    )
    pks = sorted(by_pk)
    fresh = []
    for start in range(0, len(pks), _CHUNK):
        fresh += Listing.objects.filter(pk__in=pks[start : start + _CHUNK])
    for listing in fresh:
        by_pk[listing.pk].listing.version = listing.version
    record_history(Listing, changed=fresh, reason=f"批量移出（导入记录 {batch.pk}）", user=user)
