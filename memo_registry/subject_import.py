"""Bulk import of listings (who is on which red or black list).

A city holds hundreds of thousands of listings, a province millions, so this
path is set-based rather than row by row through the ORM:

1. stream the rows once, validating each (code check character, memo or
   label, dates) and collecting row- and column-numbered errors;
2. if any row is wrong, stop: nothing has been written;
3. otherwise, in one transaction, load the validated rows into a temporary
   staging table (PostgreSQL ``COPY``; batched inserts on SQLite) and move
   them into the real tables with two ``INSERT … SELECT … ON CONFLICT``
   statements, which makes re-importing the same file a no-op.

The ``ImportBatch`` record (who, when, file name, SHA-256, counts) is the
audit trail of a bulk import: no per-row history rows are written here.
"""

import csv
import datetime
import io
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from memo_registry.audit.models import ImportBatch
from memo_registry.text import canonical_doc_number, search_key, squeeze, strip_control
from memos.models import Memorandum, ResponsibilityList
from subjects.codes import parse_code
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

    @classmethod
    def load(cls, responsibility_list: ResponsibilityList | None) -> "_Targets":
        memos = Memorandum.objects.all()
        if responsibility_list is not None:
            memos = memos.filter(responsibility_list=responsibility_list)
        by_doc_number = dict(memos.values_list("doc_number", "target_subject_id"))
        by_label: dict[str, int] = {}
        for pk, label in TargetSubject.objects.values_list("pk", "label"):
            by_label.setdefault(search_key(label), pk)
        return cls(by_doc_number, by_label)

    def resolve(self, text: str) -> int | None:
        if not text:
            return None
        target = self.by_doc_number.get(canonical_doc_number(text))
        if target is None:
            target = self.by_label.get(search_key(text))
        return target


@dataclass
class _Validated:
    code: str
    kind: str
    name: str
    target_id: int
    source: str
    reason: str
    listed_on: datetime.date
    expires_on: datetime.date | None


class _Validator:
    def __init__(self, columns: dict[str, int], targets: _Targets, exceptions: set[str]):
        self.columns = columns
        self.targets = targets
        self.exceptions = exceptions
        self.errors: list[str] = []
        self.error_count = 0
        self.names: dict[str, tuple[int, int]] = {}

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

    def row(self, number: int, cells: list) -> _Validated | None:
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
            seen = self.names.get(code.value)
            if seen is None:
                self.names[code.value] = (hash(name), number)
            elif seen[0] != hash(name):
                self.error(
                    number, "name", f"同一代码 {code.value} 在第 {seen[1]} 行的名称与本行不同。"
                )

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
        try:
            listed_on = parse_date(self.cell(cells, "listed_on"))
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
        return _Validated(
            code=code.value,
            kind=code.kind,
            name=name[:200],
            target_id=target_id,
            source=squeeze(_cell_text(self.cell(cells, "source")))[:100],
            reason=squeeze(_cell_text(self.cell(cells, "reason")))[:300],
            listed_on=listed_on,
            expires_on=expires_on,
        )


# --- the import --------------------------------------------------------------

_STAGING_COLUMNS = (
    "code", "kind", "name", "target_id", "source", "reason", "listed_on", "expires_on"
)  # fmt: skip


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
    """Validate every row, then write all of them or nothing.

    ``rows`` yields (row number as the spreadsheet shows it, cells).
    Raises SubjectImportError listing the problems when any row is wrong.
    """
    rows = iter(rows)
    header_row, columns = find_header(rows)
    targets = _Targets.load(responsibility_list or ResponsibilityList.current())
    exceptions = set(Subject.objects.filter(checksum_exception=True).values_list("code", flat=True))
    validator = _Validator(columns, targets, exceptions)
    result = SubjectImportResult()

    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", newline="") as staged:
        writer = csv.writer(staged)
        for number, cells in rows:
            if not any(_cell_text(cell) for cell in cells):
                continue
            result.rows += 1
            row = validator.row(number, cells)
            if row is not None:
                writer.writerow(
                    (
                        row.code,
                        row.kind,
                        row.name,
                        row.target_id,
                        row.source,
                        row.reason,
                        row.listed_on.isoformat(),
                        row.expires_on.isoformat() if row.expires_on else "",
                    )
                )
        if validator.error_count:
            errors = list(validator.errors)
            if validator.error_count > len(errors):
                errors.append(f"……另有 {validator.error_count - len(errors)} 处错误未列出。")
            raise SubjectImportError(
                [f"文件 {file_name}：{message}" for message in errors], validator.error_count
            )
        if result.rows == 0:
            raise SubjectImportError([f"文件 {file_name}：表头（第 {header_row} 行）下没有数据。"])
        if dry_run:
            return result
        staged.seek(0)
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                kind=ImportBatch.Kind.SUBJECTS,
                file_name=file_name,
                sha256=sha256,
                user=user,
                source=source,
            )
            _write(staged, batch, result)
            batch.counts = result.as_counts()
            batch.finished_at = timezone.now()
            batch.save(update_fields=["counts", "finished_at"])
            result.batch = batch
    return result


def _write(staged: io.TextIOBase, batch: ImportBatch, result: SubjectImportResult) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE TEMP TABLE subject_import_staging ("
                " code varchar(18), kind varchar(8), name varchar(200), target_id bigint,"
                " source varchar(100), reason varchar(300), listed_on date, expires_on date"
                ") ON COMMIT DROP"
            )
            cursor.copy_expert(
                "COPY subject_import_staging FROM STDIN WITH (FORMAT csv, NULL '')", staged
            )
        else:
            cursor.execute("DROP TABLE IF EXISTS temp.subject_import_staging")
            cursor.execute(
                "CREATE TEMP TABLE subject_import_staging ("
                " code text, kind text, name text, target_id integer, source text,"
                " reason text, listed_on date, expires_on date)"
            )
            reader = csv.reader(staged)
            batch_rows: list[list] = []
            insert = "INSERT INTO subject_import_staging VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            for record in reader:
                record[7] = record[7] or None
                batch_rows.append(record)
                if len(batch_rows) >= 5000:
                    cursor.executemany(insert, batch_rows)
                    batch_rows = []
            if batch_rows:
                cursor.executemany(insert, batch_rows)

        cursor.execute("SELECT count(*) FROM subject_import_staging")
        staged_rows = cursor.fetchone()[0]

        # Subjects: one row per code (the file agrees on names, see _Validator).
        cursor.execute(
            "UPDATE subjects_subject SET name = s.name, import_batch_id = %s"
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

        # Listings: identified by (subject, list, date listed); a re-import that
        # extends the validity or corrects the source updates them in place.
        listing_rows = (
            "SELECT DISTINCT s.id AS subject_id, st.target_id,"
            " COALESCE(st.source, '') AS source, COALESCE(st.reason, '') AS reason,"
            " st.listed_on, st.expires_on"
            " FROM subject_import_staging st JOIN subjects_subject s ON s.code = st.code"
        )
        cursor.execute(
            "UPDATE subjects_listing SET expires_on = n.expires_on, source = n.source,"
            " basis = n.reason, import_batch_id = %s"
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
        result.listings_unchanged = max(
            staged_rows - result.listings_created - result.listings_updated, 0
        )
        cursor.execute("DROP TABLE IF EXISTS subject_import_staging")
