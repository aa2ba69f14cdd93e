"""Bulk import of listings (who is on which red or black list).

A city holds hundreds of thousands of listings, a province millions, so this
path is set-based rather than row by row through the ORM:

1. stream the rows once, checking each (code check character, memo or label,
   dates) and collecting row- and column-numbered errors.  ``_Validator.row``
   holds every rule; a quick path in front of it accepts the rows that are
   already clean (most of them) at a fraction of the cost, and remembers the
   few distinct 列入依据, dates and sources it has resolved;
2. if any row is wrong, stop: nothing has been written;
3. otherwise, in one transaction, write them (docs/performance.md measures
   each way):

   * PostgreSQL, empty registry: ``COPY`` straight into the tables with their
     secondary indexes and foreign keys set aside, then rebuilt;
   * PostgreSQL, otherwise: ``COPY`` into a temporary staging table, merged
     with ``INSERT … SELECT`` / ``UPDATE … FROM``;
   * elsewhere (SQLite): batched inserts into a staging table, merged alike.

   On PostgreSQL the rows stream into ``COPY`` while later rows are still
   being checked, and a wrong row rolls the transaction back.  Re-importing
   the same file adds nothing; a changed 有效期至 updates the listing.

The ``ImportBatch`` record (who, when, file name, SHA-256, counts) is the
audit trail of a bulk import: no per-row history rows are written here.
"""

import contextlib
import csv
import datetime
import io
import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from memo_registry.audit.models import ImportBatch
from memo_registry.lib.text import canonical_doc_number, search_key, squeeze, strip_control
from memos.models import Memorandum, ResponsibilityList
from subjects.codes import parse_code, quick_kind
from subjects.models import Subject, TargetSubject

MAX_ERRORS_SHOWN = 200
MAX_CELL = 500

# Column keys and the header spellings that name them (compared by search_key).
COLUMNS = {
    "uscc": ["统一社会信用代码", "社会信用代码", "信用代码"],
    "id_number": ["证件号码", "身份证号码", "身份证号", "公民身份号码"],
    "code": ["统一社会信用代码/证件号码", "统一社会信用代码/身份证号码", "代码", "主体代码"],
    "name": ["名称", "名称/姓名", "主体名称", "企业名称", "姓名", "单位名称"],
    "basis": ["列入依据", "名单类别", "名单"],
    "listed_on": ["列入日期", "认定日期"],
    "expires_on": ["有效期至", "有效期截止日期", "有效截止日期"],
    "source": ["来源", "认定部门", "认定单位"],
    "reason": ["认定依据", "列入原因", "认定文书号"],
}
REQUIRED = ["name", "basis", "listed_on"]
HEADER_NAMES = {
    "uscc": "统一社会信用代码",
    "id_number": "证件号码",
    "code": "统一社会信用代码/证件号码",
    "name": "名称",
    "basis": "列入依据",
    "listed_on": "列入日期",
    "expires_on": "有效期至",
    "source": "来源",
    "reason": "认定依据",
}
_ALIASES = {search_key(alias): key for key, aliases in COLUMNS.items() for alias in aliases}


class SubjectImportError(Exception):
    """The file was refused; ``errors`` are the messages, row and column named."""

    def __init__(self, errors: list[str], total: int | None = None):
        self.errors = errors
        self.total = total if total is not None else len(errors)
        super().__init__("\n".join(errors))


@dataclass
class SubjectImportResult:
    rows: int = 0
    subjects_created: int = 0
    subjects_updated: int = 0
    listings_created: int = 0
    listings_updated: int = 0
    listings_unchanged: int = 0
    batch: ImportBatch | None = None
    warnings: list = field(default_factory=list)
    path: str = ""  # how PostgreSQL wrote the rows: "bulk" or "merge"
    timings: dict = field(default_factory=dict)  # seconds per step, for the benchmark

    @contextlib.contextmanager
    def timed(self, step: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[step] = self.timings.get(step, 0) + time.perf_counter() - started

    def as_counts(self) -> dict:
        return {
            "rows": self.rows,
            "subjects_created": self.subjects_created,
            "subjects_updated": self.subjects_updated,
            "listings_created": self.listings_created,
            "listings_updated": self.listings_updated,
            "listings_unchanged": self.listings_unchanged,
        }


# --- reading the cells -------------------------------------------------------

_DATE_PATTERNS = [
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]


def parse_date(value) -> datetime.date:
    """A date from a cell: a spreadsheet date, or text such as 2024-01-31,
    2024/1/31, 2024.1.31, 20240131 or 2024年1月31日."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = squeeze(str(value)).split(" ")[0] if value is not None else ""
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                return datetime.date(year, month, day)
            except ValueError:
                break
    raise ValueError(f"“{value}”不是有效的日期（应如 2024-01-31）")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return strip_control(str(value)).strip()


def find_header(rows: Iterator[tuple[int, list]]) -> tuple[int, dict[str, int]]:
    """Skip title rows; return the header's row number and column positions."""
    for number, cells in rows:
        found: dict[str, int] = {}
        duplicates = []
        for index, cell in enumerate(cells):
            key = _ALIASES.get(search_key(_cell_text(cell)))
            if key is None:
                continue
            if key in found:
                duplicates.append(HEADER_NAMES[key])
            found[key] = index
        has_code = {"uscc", "id_number", "code"} & found.keys()
        if has_code and "basis" in found:
            if duplicates:
                raise SubjectImportError(
                    [f"第 {number} 行（表头）：列“{'、'.join(duplicates)}”出现了不止一次。"]
                )
            missing = [HEADER_NAMES[key] for key in REQUIRED if key not in found]
            if missing:
                raise SubjectImportError(
                    [f"第 {number} 行（表头）：缺少必需的列“{'、'.join(missing)}”。"]
                )
            return number, found
        if number > 50:
            break
    raise SubjectImportError(
        ["找不到表头：需要“统一社会信用代码”或“证件号码”列，以及“名称”“列入依据”“列入日期”列。"]
    )


# --- validation --------------------------------------------------------------


@dataclass
class _Targets:
    """Resolves a 列入依据 cell (a memo's 文号 or a target-subject label)."""

    by_doc_number: dict[str, int]
    by_label: dict[str, int]
    # Targets whose memos in the list are all repealed: a listing there is
    # imported (it is a fact), but brings no measure, and the import says so.
    repealed: dict[int, list[Memorandum]] = field(default_factory=dict)

    @classmethod
    def load(cls, responsibility_list: ResponsibilityList | None) -> "_Targets":
        memos = Memorandum.objects.all()
        if responsibility_list is not None:
            memos = memos.filter(responsibility_list=responsibility_list)
        by_doc_number = dict(memos.values_list("doc_number", "target_subject_id"))
        by_label: dict[str, int] = {}
        for pk, label in TargetSubject.objects.values_list("pk", "label"):
            by_label.setdefault(search_key(label), pk)
        repealed: dict[int, list[Memorandum]] = {}
        if responsibility_list is not None:
            in_force: set[int] = set()
            for memo in memos.order_by("seq"):
                if memo.status == Memorandum.Status.REPEALED:
                    repealed.setdefault(memo.target_subject_id, []).append(memo)
                else:
                    in_force.add(memo.target_subject_id)
            repealed = {t: m for t, m in repealed.items() if t not in in_force}
        return cls(by_doc_number, by_label, repealed)

    def warnings(self, rows_by_target: dict[int, set[int]]) -> list[str]:
        """What to tell the user about rows listed under repealed memos."""
        messages = []
        for target, numbers in sorted(rows_by_target.items(), key=lambda kv: min(kv[1])):
            shown = "、".join(str(n) for n in sorted(numbers)[:10])
            more = f"等 {len(numbers)} 行" if len(numbers) > 10 else ""
            memos = "；".join(
                f"{memo.doc_number}《{memo.title}》已于 {memo.repealed_on:%Y-%m-%d} 废止"
                for memo in self.repealed[target]
            )
            messages.append(
                f"第 {shown} 行{more}：{memos}，其措施不再适用。这些名单记录照常导入，"
                "但不会带来任何措施。"
            )
        return messages

    def resolve(self, text: str) -> int | None:
        if not text:
            return None
        target = self.by_doc_number.get(canonical_doc_number(text))
        if target is None:
            target = self.by_label.get(search_key(text))
        return target


# A validated row: the subject's code, kind and name, the list it goes on
# (target subject id), source, reason, and the dates as ISO text (expiry None
# when there is none).  Text is ready for PostgreSQL's COPY when the validator
# was asked to escape it.
Row = tuple[str, str, str, int, str, str, str, str | None]


def _copy_escape(text: str) -> str:
    """Text as a field of COPY's text format."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


_MISSING = object()


def _plain(text: str) -> bool:
    """Whether squeeze() and strip() leave ``text`` as it is and COPY needs
    no escape: no control characters, no spaces of any kind, no backslash."""
    return text.isprintable() and " " not in text and "\\" not in text


class _Validator:
    """Checks rows, collecting row- and column-numbered errors.

    ``row`` is the reference: every rule, every message.  ``validated`` runs
    a quick path first that accepts a row only when each cell is already in
    the form ``row`` would give it (a canonical code that passes, a plain
    name, a 列入依据 / date / source it has seen before); anything else goes
    through ``row``.  Both give the same rows: the quick path only skips work.
    """

    _CACHE_LIMIT = 100_000

    def __init__(
        self,
        columns: dict[str, int],
        targets: _Targets,
        exceptions: set[str],
        *,
        escape: bool = False,
    ):
        self.columns = columns
        self.targets = targets
        self.exceptions = exceptions
        self.escape = _copy_escape if escape else str
        self.errors: list[str] = []
        self.error_count = 0
        # code -> (the subject's index in the file, name, its first row, and
        # that row's list and date listed)
        self.subjects: dict[str, tuple] = {}
        self.repeats: dict[str, set] = {}  # code -> keys of its listings, when more than one
        self.duplicates = 0
        # target subject id -> numbers of the rows listed under a repealed memo
        self.repealed_rows: dict[int, set[int]] = defaultdict(set)
        self._basis: dict = {}
        self._dates: dict = {}
        self._expiries: dict = {}
        self._sources: dict = {}

    def error(self, row: int, key: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_SHOWN:
            self.errors.append(f"第 {row} 行「{HEADER_NAMES[key]}」列：{message}")

    def cell(self, cells: list, key: str):
        index = self.columns.get(key)
        if index is None or index >= len(cells):
            return None
        return cells[index]

    def code_cell(self, cells: list) -> tuple[str, object]:
        for key in ("code", "uscc", "id_number"):
            value = self.cell(cells, key)
            if value is not None and _cell_text(value):
                return key, value
        key = next(k for k in ("code", "uscc", "id_number") if k in self.columns)
        return key, None

    def check_name(self, number: int, code: str, name: str) -> bool:
        """One code, one name throughout the file."""
        seen = self.subjects.get(code)
        if seen is None:
            self.subjects[code] = (len(self.subjects), name, number, None, None)
        elif seen[1] != name:
            self.error(number, "name", f"同一代码 {code} 在第 {seen[2]} 行的名称与本行不同。")
            return False
        return True

    def row(self, number: int, cells: list) -> Row | None:
        """The reference check of one row: the row's values, or None after
        recording its errors."""
        errors_before = self.error_count
        for key in self.columns:
            text = self.cell(cells, key)
            if isinstance(text, str) and len(text) > MAX_CELL:
                self.error(number, key, f"内容过长（{len(text)} 字，上限 {MAX_CELL} 字）。")
        if self.error_count > errors_before:
            return None

        code_key, raw_code = self.code_cell(cells)
        code = None
        if raw_code is None:
            self.error(number, code_key, "代码为空。")
        else:
            try:
                raw = raw_code if isinstance(raw_code, float) else _cell_text(raw_code)
                if isinstance(raw, str) and raw.upper() in self.exceptions:
                    code = parse_code(raw, allow_bad_checksum=True)
                else:
                    code = parse_code(raw)
            except ValidationError as error:
                self.error(number, code_key, error.messages[0])

        name = squeeze(_cell_text(self.cell(cells, "name")))
        if not name:
            self.error(number, "name", "名称为空。")
        elif code is not None:
            self.check_name(number, code.value, name)

        basis = squeeze(_cell_text(self.cell(cells, "basis")))
        target_id = self.targets.resolve(basis)
        if not basis:
            self.error(
                number, "basis", "列入依据为空：应填备忘录文号或名单类别（如 失信被执行人）。"
            )
        elif target_id is None:
            self.error(
                number, "basis", f"“{basis}”既不是清单中备忘录的文号，也不是已有的名单类别。"
            )

        listed_on = expires_on = None
        raw_listed = self.cell(cells, "listed_on")
        if raw_listed is None or not _cell_text(raw_listed):
            self.error(number, "listed_on", "列入日期为空。")
        else:
            try:
                listed_on = parse_date(raw_listed)
            except ValueError as error:
                self.error(number, "listed_on", f"{error}。")
        raw_expiry = self.cell(cells, "expires_on")
        if raw_expiry is not None and _cell_text(raw_expiry):
            try:
                expires_on = parse_date(raw_expiry)
            except ValueError as error:
                self.error(number, "expires_on", f"{error}。")
        if listed_on and expires_on and expires_on < listed_on:
            self.error(number, "expires_on", f"有效期至 {expires_on} 早于列入日期 {listed_on}。")

        if self.error_count > errors_before:
            return None
        escape = self.escape
        return (
            code.value,
            code.kind,
            escape(name[:200]),
            target_id,
            escape(squeeze(_cell_text(self.cell(cells, "source")))[:100]),
            escape(squeeze(_cell_text(self.cell(cells, "reason")))[:300]),
            listed_on.isoformat(),
            expires_on.isoformat() if expires_on else None,
        )

    # --- the quick path: what ``row`` would say, remembered per cell value ---

    def _target(self, raw) -> int:
        """The target subject a 列入依据 cell names; 0 for ``row`` to explain."""
        if isinstance(raw, str) and len(raw) > MAX_CELL:
            return 0
        return self.targets.resolve(squeeze(_cell_text(raw))) or 0

    @staticmethod
    def _date(raw) -> str:
        """A 列入日期 as ISO text; "" for ``row`` to explain."""
        if isinstance(raw, str) and len(raw) > MAX_CELL:
            return ""
        try:
            return parse_date(raw).isoformat()
        except ValueError:
            return ""

    @staticmethod
    def _expiry(raw) -> str | None | bool:
        """A 有效期至 as ISO text, None when empty; False for ``row`` to explain."""
        if isinstance(raw, str) and len(raw) > MAX_CELL:
            return False
        if raw is None or not _cell_text(raw):
            return None
        try:
            return parse_date(raw).isoformat()
        except ValueError:
            return False

    def _text(self, raw, limit: int) -> str | None:
        """A source or reason as ``row`` writes it; None when it is too long."""
        if type(raw) is str and _plain(raw):
            return raw[:limit] if len(raw) <= MAX_CELL else None
        if isinstance(raw, str) and len(raw) > MAX_CELL:
            return None
        return self.escape(squeeze(_cell_text(raw))[:limit])

    def _source(self, raw) -> str | None:
        return self._text(raw, 100)

    def validated(self, rows: Iterable[tuple[int, list]], result: SubjectImportResult):
        """Yield (new subject?, the subject's index in the file, *Row) for
        every row to write; a listing the file repeats (same subject, list
        and date listed) is written once, as its first row says.

        The quick path is written out in this loop, not called, because it
        runs a million times: it accepts a row only when each cell is already
        in the form ``row`` would give it (a canonical code that passes, a
        plain name and reason, a 列入依据 / date / source seen before);
        otherwise ``row`` decides.  Both give the same values.
        """
        columns = self.columns
        code_columns = [columns[k] for k in ("code", "uscc", "id_number") if k in columns]
        first_code = code_columns[0] if len(code_columns) == 1 else None
        name_at, basis_at, listed_at = columns["name"], columns["basis"], columns["listed_on"]
        expires_at, source_at = columns.get("expires_on"), columns.get("source")
        reason_at = columns.get("reason")
        width = max(columns.values()) + 1
        subjects, repeats = self.subjects, self.repeats
        targets, dates, expiries, sources = self._basis, self._dates, self._expiries, self._sources
        remembered, text = self._remembered, self._text
        repealed, repealed_rows = self.targets.repealed, self.repealed_rows

        for number, cells in rows:
            row = None
            if len(cells) >= width:
                if first_code is not None:
                    code = cells[first_code]
                else:
                    code = self._first_code(cells, code_columns)
                name = cells[name_at]
                kind = quick_kind(code)
                if (
                    kind is not None
                    and type(name) is str
                    and 0 < len(name) <= MAX_CELL
                    and name.isprintable()
                    and " " not in name
                    and "\\" not in name
                ):
                    raw = cells[basis_at]
                    target = targets.get(raw) or remembered(targets, raw, self._target)
                    if target in repealed:
                        repealed_rows[target].add(number)
                    raw = cells[listed_at]
                    listed = dates.get(raw) or remembered(dates, raw, self._date)
                    expires = None
                    if expires_at is not None:
                        raw = cells[expires_at]
                        expires = expiries.get(raw, _MISSING)
                        if expires is _MISSING:
                            expires = remembered(expiries, raw, self._expiry)
                    source = reason = ""
                    if source_at is not None:
                        raw = cells[source_at]
                        source = sources.get(raw, _MISSING)
                        if source is _MISSING:
                            source = remembered(sources, raw, self._source)
                    if reason_at is not None:
                        reason = cells[reason_at]
                        if (
                            type(reason) is str
                            and len(reason) <= MAX_CELL
                            and reason.isprintable()
                            and " " not in reason
                            and "\\" not in reason
                        ):
                            reason = reason[:300]
                        else:
                            reason = text(reason, 300)
                    if (
                        target
                        and listed
                        and source is not None
                        and reason is not None
                        and (expires is None or (expires and expires >= listed))
                    ):
                        seen = subjects.get(code)
                        if seen is None:
                            index = len(subjects)
                            subjects[code] = (index, name, number, target, listed)
                            result.rows += 1
                            if not self.error_count:
                                yield (
                                    True, index, code, kind, name[:200], target, source, reason,
                                    listed, expires,
                                )  # fmt: skip
                            continue
                        if seen[1] == name:  # else ``row`` names the conflict
                            row = (code, kind, name[:200], target, source, reason, listed, expires)
            if row is None:
                if not any(_cell_text(cell) for cell in cells):
                    continue
                result.rows += 1
                row = self.row(number, cells)
                if row is None or self.error_count:
                    continue
                if row[3] in repealed:
                    repealed_rows[row[3]].add(number)
                seen = subjects[row[0]]
                if seen[2] == number:
                    subjects[row[0]] = (seen[0], seen[1], number, row[3], row[6])
                    yield (True, seen[0], *row)
                    continue
            else:
                result.rows += 1
                if self.error_count:
                    continue
            # A subject seen before: a listing of its own, unless the file
            # repeats one (same list, same date listed).
            key = (row[3], row[6])
            keys = repeats.get(row[0])
            if keys is None:
                keys = repeats[row[0]] = {(seen[3], seen[4])}
            if key in keys:
                self.duplicates += 1
                continue
            keys.add(key)
            yield (False, seen[0], *row)

    @staticmethod
    def _first_code(cells: list, code_columns: list[int]):
        """The first non-empty code cell, for the quick path; None when a
        cell is not plain text or too long (``row`` looks at those)."""
        found = ""
        for index in code_columns:
            value = cells[index]
            if type(value) is not str or len(value) > MAX_CELL:
                return None
            if value and not found:
                found = value
        return found

    def _remembered(self, cache: dict, raw, compute):
        """compute(raw), remembered in ``cache``; cells other than text are
        keyed by their type too (the int 20240131 and the float 20240131.0
        are equal keys but different cells)."""
        key = raw if type(raw) is str else (type(raw), raw)
        value = cache.get(key, _MISSING)
        if value is _MISSING:
            value = compute(raw)
            if len(cache) < self._CACHE_LIMIT:
                cache[key] = value
        return value

    def raise_errors(self, file_name: str) -> None:
        if not self.error_count:
            return
        errors = list(self.errors)
        if self.error_count > len(errors):
            errors.append(f"……另有 {self.error_count - len(errors)} 处错误未列出。")
        raise SubjectImportError(
            [f"文件 {file_name}：{message}" for message in errors], self.error_count
        )


# --- the import --------------------------------------------------------------


def import_subject_rows(
    rows: Iterable[tuple[int, list]],
    *,
    file_name: str,
    sha256: str,
    user=None,
    source: str = "command",
    dry_run: bool = False,
    responsibility_list: ResponsibilityList | None = None,
) -> SubjectImportResult:
    """Check every row and write all of them, or nothing.

    ``rows`` yields (row number as the spreadsheet shows it, cells).
    Raises SubjectImportError listing the problems when any row is wrong
    (SpreadsheetError when the file itself cannot be read); either way the
    database is as before.
    """
    rows = iter(rows)
    try:
        header_row, columns = find_header(rows)
    except SubjectImportError as error:
        raise SubjectImportError(
            [f"文件 {file_name}：{message}" for message in error.errors], error.total
        ) from None
    targets = _Targets.load(responsibility_list or ResponsibilityList.current())
    exceptions = set(Subject.objects.filter(checksum_exception=True).values_list("code", flat=True))
    postgres = connection.vendor == "postgresql" and not dry_run
    validator = _Validator(columns, targets, exceptions, escape=postgres)
    result = SubjectImportResult()
    validated = validator.validated(rows, result)

    def refuse_if_wrong() -> None:
        validator.raise_errors(file_name)
        if result.rows == 0:
            raise SubjectImportError([f"文件 {file_name}：表头（第 {header_row} 行）下没有数据。"])
        result.warnings = targets.warnings(validator.repealed_rows)

    if dry_run:
        for _ in validated:
            pass
        refuse_if_wrong()
        return result

    if postgres:
        # Rows stream into the database while later rows are still being
        # checked (Python on one core, PostgreSQL on the other); a wrong row
        # rolls the whole transaction back, so nothing is written either way.
        with transaction.atomic():
            batch = _start_batch(file_name, sha256, user, source)
            with connection.cursor() as cursor:
                _PostgresLoad(cursor, batch, result).run(validated, refuse_if_wrong)
            _finish_batch(batch, result)
        return result

    # Elsewhere (SQLite) every row is checked before anything is written.
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", newline="") as staged:
        writer = csv.writer(staged)
        for item in validated:
            writer.writerow(item[2:])
        refuse_if_wrong()
        staged.seek(0)
        with transaction.atomic():
            batch = _start_batch(file_name, sha256, user, source)
            _write_batched(staged, batch, result)
            _finish_batch(batch, result)
    return result


def _start_batch(file_name: str, sha256: str, user, source: str) -> ImportBatch:
    return ImportBatch.objects.create(
        kind=ImportBatch.Kind.SUBJECTS, file_name=file_name, sha256=sha256, user=user, source=source
    )


def _finish_batch(batch: ImportBatch, result: SubjectImportResult) -> None:
    result.listings_unchanged = max(
        result.rows - result.listings_created - result.listings_updated, 0
    )
    batch.counts = result.as_counts()
    batch.finished_at = timezone.now()
    batch.save(update_fields=["counts", "finished_at"])
    result.batch = batch


class _Chunks:
    """A file-like object for ``COPY … FROM STDIN`` over an iterator of text.

    psycopg2 turns an exception raised while it reads into QueryCanceled;
    ``copy`` raises the original one (a SpreadsheetError naming the row)."""

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
            cursor.copy_expert(sql, self)
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


class _PostgresLoad:
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
    """

    TABLES = ("subjects_subject", "subjects_listing")

    def __init__(self, cursor, batch: ImportBatch, result: SubjectImportResult):
        self.cursor = cursor
        self.batch = batch
        self.result = result

    def run(self, validated: Iterator[tuple], refuse_if_wrong) -> None:
        self.result.path = "merge"
        if self._registry_empty():
            self.cursor.execute(
                "LOCK TABLE subjects_subject, subjects_listing IN ACCESS EXCLUSIVE MODE"
            )
            if self._registry_empty():
                self.result.path = "bulk"
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
                ) in validated:
                    subject_id = first_subject + index
                    if new:
                        lines.append(f"{subject_id}\t{code}\t{kind}\t{name}\tf\t{batch_id}\n")
                    waiting.append(
                        f"{listing_id}\t{subject_id}\t{target}\t{source}\t{reason}\t{listed}"
                        f"\t{expires or NULL}\t{NULL}\t\t{batch_id}\n"
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

            with result.timed("check rows, COPY subjects"):
                _Chunks(subject_chunks()).copy(
                    cursor,
                    "COPY subjects_subject (id, code, kind, name, checksum_exception,"
                    " import_batch_id) FROM STDIN",
                )
            refuse_if_wrong()
            listings.seek(0)
            with result.timed("COPY listings"):
                cursor.copy_expert(
                    "COPY subjects_listing (id, subject_id, target_subject_id, source, basis,"
                    " listed_on, expires_on, lifted_on, lift_reason, import_batch_id) FROM STDIN",
                    listings,
                    1 << 20,
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
        with result.timed("indexes"):
            for statement in subject_indexes + listing_indexes:
                cursor.execute(statement)
        with result.timed("foreign keys"):
            for statement in subject_keys + listing_keys:
                cursor.execute(statement)
        # The planner knows nothing of the new rows until autovacuum comes by
        # (a minute or more): without statistics a lookup by subject plans a
        # parallel scan, 8 ms instead of 0.1 ms.
        with result.timed("analyze"):
            cursor.execute("ANALYZE subjects_subject, subjects_listing")
        result.subjects_created = counts["subjects"]
        result.listings_created = counts["listings"]

    # --- into a registry that holds listings ----------------------------

    def _merge(self, validated: Iterator[tuple], refuse_if_wrong) -> None:
        cursor, result = self.cursor, self.result
        cursor.execute(
            "CREATE TEMP TABLE subject_import_staging ("
            ' code varchar(18) COLLATE "C", kind varchar(8), name varchar(200), first_row boolean,'
            " target_id bigint, source varchar(100), reason varchar(300),"
            " listed_on date, expires_on date"
            ") ON COMMIT DROP"
        )
        lines = (
            f"{code}\t{kind}\t{name}\t{'t' if new else 'f'}\t{target}\t{source}\t{reason}"
            f"\t{listed}\t{expires or NULL}\n"
            for new, _, code, kind, name, target, source, reason, listed, expires in validated
        )
        with result.timed("check rows, COPY staging"):
            _Chunks(_chunked(lines)).copy(cursor, "COPY subject_import_staging FROM STDIN")
        refuse_if_wrong()
        cursor.execute("ANALYZE subject_import_staging")
        # A large file is joined with the registry by hashing: in memory, not
        # in batches on disk (4 MB is PostgreSQL's default).
        cursor.execute("SET LOCAL work_mem = '256MB'")
        with result.timed("merge subjects"):
            self._merge_subjects()
        with result.timed("merge listings"):
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
            " basis = st.reason, import_batch_id = %s, version = l.version + 1"
            " FROM subject_import_staging st JOIN subjects_subject s ON s.code = st.code"
            " WHERE l.subject_id = s.id AND l.target_subject_id = st.target_id"
            " AND l.listed_on = st.listed_on"
            " AND (l.expires_on IS DISTINCT FROM st.expires_on"
            "      OR l.source <> st.source OR l.basis <> st.reason)",
            [batch_id],
        )
        result.listings_updated = max(cursor.rowcount, 0)
        cursor.execute(
            "INSERT INTO subjects_listing (subject_id, target_subject_id, source, basis,"
            " listed_on, expires_on, lifted_on, lift_reason, import_batch_id)"
            " SELECT s.id, st.target_id, st.source, st.reason, st.listed_on, st.expires_on,"
            " NULL, '', %s"
            " FROM subject_import_staging st JOIN subjects_subject s ON s.code = st.code"
            " WHERE NOT EXISTS (SELECT FROM subjects_listing l WHERE l.subject_id = s.id"
            " AND l.target_subject_id = st.target_id AND l.listed_on = st.listed_on)"
            " ON CONFLICT (subject_id, target_subject_id, listed_on) DO NOTHING",
            [batch_id],
        )
        result.listings_created = max(cursor.rowcount, 0)


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


def _write_batched(staged: io.TextIOBase, batch: ImportBatch, result: SubjectImportResult) -> None:
    """The portable path (SQLite): the checked rows into a temporary staging
    table in batches, then merged as on PostgreSQL."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS temp.subject_import_staging")
        cursor.execute(
            "CREATE TEMP TABLE subject_import_staging ("
            " code text, kind text, name text, target_id integer, source text,"
            " reason text, listed_on date, expires_on date)"
        )
        insert = "INSERT INTO subject_import_staging VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        batch_rows: list[list] = []
        for record in csv.reader(staged):
            record[7] = record[7] or None
            batch_rows.append(record)
            if len(batch_rows) >= 5000:
                cursor.executemany(insert, batch_rows)
                batch_rows = []
        if batch_rows:
            cursor.executemany(insert, batch_rows)

        # Subjects: one row per code (the file agrees on names, see _Validator).
        # Updates raise the version, as in _PostgresLoad._merge_subjects.
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
            " st.listed_on, st.expires_on"
            " FROM subject_import_staging st JOIN subjects_subject s ON s.code = st.code"
        )
        cursor.execute(
            "UPDATE subjects_listing SET expires_on = n.expires_on, source = n.source,"
            " basis = n.reason, import_batch_id = %s, version = subjects_listing.version + 1"
            f" FROM ({listing_rows}) AS n"
            " WHERE subjects_listing.subject_id = n.subject_id"
            " AND subjects_listing.target_subject_id = n.target_id"
            " AND subjects_listing.listed_on = n.listed_on"
            " AND (COALESCE(subjects_listing.expires_on, '9999-12-31')"
            "      <> COALESCE(n.expires_on, '9999-12-31')"
            "      OR subjects_listing.source <> n.source OR subjects_listing.basis <> n.reason)",
            [batch.pk],
        )
        result.listings_updated = max(cursor.rowcount, 0)
        cursor.execute(
            "INSERT INTO subjects_listing (subject_id, target_subject_id, source, basis,"
            " listed_on, expires_on, lifted_on, lift_reason, import_batch_id)"
            f" SELECT subject_id, target_id, source, reason, listed_on, expires_on, NULL, '', %s"
            f" FROM ({listing_rows}) AS n WHERE true"
            " ON CONFLICT (subject_id, target_subject_id, listed_on) DO NOTHING",
            [batch.pk],
        )
        result.listings_created = max(cursor.rowcount, 0)
        cursor.execute("DROP TABLE IF EXISTS subject_import_staging")
