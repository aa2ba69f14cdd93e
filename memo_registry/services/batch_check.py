"""Batch check (批量比对): which of these codes are listed, and what applies.

Staff upload a sheet of codes in any layout (today's licence applicants, say)
and get it back with columns added.  Other systems post a JSON list of codes
to the API.  Bad codes are marked in their own row, never fatal.  Ten
thousand codes cost a few queries per 900 codes (memo_registry.services.lookup).
A sheet is read within the upload budget of ``memo_registry.lib.spreadsheet``,
its rows raised to settings.BATCH_CHECK_MAX_CODES.
"""

import datetime
import io
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError

from memo_registry.imports.errors import ImportFailed
from memo_registry.imports.header import Columns, find_header
from memo_registry.imports.listings.columns import CODE_KEYS, COLUMNS
from memo_registry.lib import spreadsheet
from memo_registry.lib.spreadsheet import cell_text
from memo_registry.services.lookup import SubjectStatus, statuses_for
from subjects.codes import compact, parse_code
from subjects.models import Subject

# The most codes one check takes, as the module is imported (the API's
# request schema); check_file reads settings.BATCH_CHECK_MAX_CODES each call.
MAX_CODES = settings.BATCH_CHECK_MAX_CODES
# Rows a sheet of codes may hold besides the codes: title rows, the header
# (looked for in the first 30 rows), blank rows.
_OTHER_ROWS = 100
# The code column goes by the names the listing import knows it by.
CODE_HEADER = Columns(
    names={key: COLUMNS[key][0] for key in CODE_KEYS},
    aliases={key: tuple(COLUMNS[key]) for key in CODE_KEYS},
    required=(("统一社会信用代码或证件号码", CODE_KEYS),),
    search_rows=30,
)
ADDED_HEADERS = [
    "比对结果",
    "代码校验",
    "所在名单",
    "适用备忘录",
    "适用措施及责任处室",
    "未反馈措施数",
]
# Widths of the added columns, in characters (a Chinese character is about two).
ADDED_WIDTHS = [14, 40, 24, 48, 80, 12]


class CheckFileError(Exception):
    """The uploaded sheet could not be read at all."""


@dataclass
class CheckResult:
    raw: str
    code: str | None
    error: str | None
    subject: Subject | None
    status: SubjectStatus | None

    @property
    def listed(self) -> bool:
        return bool(self.status and self.status.listed)


def check_codes(raw_codes: Iterable, on: datetime.date) -> list[CheckResult]:
    """One result per code, in the order given."""
    parsed: list[tuple[str, str | None, str | None]] = []
    for raw in raw_codes:
        text = "" if raw is None else str(raw)
        try:
            code = parse_code(raw, allow_bad_checksum=False).value
            parsed.append((text, code, None))
        except ValidationError as error:
            # A pilot code registered as an exception is still a known subject.
            parsed.append((text, compact(raw), _number_lost(raw) or error.messages[0]))
    wanted = sorted({code for _, code, _ in parsed if code})
    subjects: dict[str, Subject] = {}
    for start in range(0, len(wanted), 900):
        for subject in Subject.objects.filter(code__in=wanted[start : start + 900]):
            subjects[subject.code] = subject
    statuses = statuses_for(subjects.values(), on)
    results = []
    for raw, code, error in parsed:
        subject = subjects.get(code) if code else None
        if subject is not None and error and subject.checksum_exception:
            error = None
        if error:
            subject = None
        results.append(
            CheckResult(
                raw=raw,
                code=code if not error else None,
                error=error,
                subject=subject,
                status=statuses.get(subject.pk) if subject else None,
            )
        )
    return results


def _number_lost(raw) -> str:
    """Why an 18-digit code ending in 000 fails: a spreadsheet kept it as a
    number (15 significant digits) and a CSV or a copy wrote it out so."""
    value = compact(raw)
    if len(value) == 18 and value.isdigit() and value.endswith("000"):
        return (
            f"代码“{value}”末三位是 000，像是被电子表格存成了数字（只保留 15 位有效数字，"
            "末几位已丢失）：该列应设置为文本格式后重新录入。"
        )
    return ""


def _find_code_column(rows: list[tuple[int, list]], file_name: str) -> tuple[int | None, int]:
    """(number of the header row or None, index of the code column).

    The header is found by the imports' one header finder (in the first 30
    rows, by any name the listing import knows a code column by); without
    one, the code column is where most cells look like an 18-character code."""
    try:
        header = find_header(iter(rows), CODE_HEADER, file_name)
    except ImportFailed:
        header = None
    if header is not None:
        return header.row, min(header.columns[key] for key in CODE_KEYS if key in header.columns)
    counts: dict[int, int] = {}
    for _, cells in rows[:200]:
        for column, cell in enumerate(cells):
            if len(compact(cell_text(cell))) == 18:
                counts[column] = counts.get(column, 0) + 1
    if not counts:
        raise CheckFileError("表中找不到代码列：请让一列的表头为“统一社会信用代码”或“证件号码”。")
    return None, max(counts, key=counts.get)


def _describe(result: CheckResult) -> list:
    if result.error:
        return ["代码有误", result.error, "", "", "", ""]
    if result.subject is None:
        return ["未列入", "正确", "", "", "", ""]
    status = result.status
    if not status.listed:
        return ["未列入（有已失效记录）", "正确", "", "", "", ""]
    lists = "、".join(dict.fromkeys(listing.target_subject.label for listing in status.in_force))
    memos = "\n".join(f"{memo.doc_number} {memo.title}" for memo in status.memos)
    lines = []
    for item in status.measures:
        divisions = "、".join(division.name for division in item.divisions)
        mark = "（已反馈）" if item.done else ""
        lines.append(
            f"{item.memo.doc_number} {item.measure.order}、{item.measure.text}【{divisions}】{mark}"
        )
    for memo in status.no_function_memos:
        lines.append(f"{memo.doc_number}：{memo.no_function_note or '无相关职能'}")
    return ["已列入", "正确", lists, memos, "\n".join(lines), len(status.open_measures)]


def check_file(
    content: bytes | BinaryIO,
    file_name: str,
    on: datetime.date,
    *,
    before_check=None,
    after_check=None,
) -> tuple[bytes, str]:
    """The uploaded sheet back as xlsx with the check's columns added.

    ``content`` is the file's bytes or the open file (an upload, read from
    Django's temporary file rather than copied into memory).
    ``before_check(codes)`` sees the codes read from the sheet before any is
    looked up, and may refuse them by raising; ``after_check(results)`` sees
    the results (the look-up record is written from them)."""
    max_codes = settings.BATCH_CHECK_MAX_CODES
    budget = replace(spreadsheet.UPLOAD, rows=max_codes + _OTHER_ROWS)
    file = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
    try:
        info, typed_rows = spreadsheet.open_rows(file, budget, file_name=file_name)
        # Cells as typed: a code stored as a number is named as such.
        rows = [(number, list(cells)) for number, cells in typed_rows]
    except spreadsheet.BudgetExceeded as error:
        if error.limit == "rows":
            raise CheckFileError(
                f"一次最多比对 {max_codes} 个代码，文件 {file_name} 超过 {budget.rows} 行，"
                "未比对。请拆分文件后再比对。"
            ) from None
        raise CheckFileError(str(error)) from None
    except spreadsheet.SpreadsheetError as error:
        raise CheckFileError(str(error)) from None
    header_row, column = _find_code_column(rows, file_name)
    data = [(number, cells) for number, cells in rows if header_row is None or number > header_row]
    data = [(number, cells) for number, cells in data if any(cell_text(c).strip() for c in cells)]
    if len(data) > max_codes:
        raise CheckFileError(
            f"一次最多比对 {max_codes} 个代码，文件 {file_name} 有 {len(data)} 个，未比对。"
            "请拆分文件后再比对。"
        )
    codes = [cells[column] if column < len(cells) else "" for _, cells in data]
    if before_check is not None:
        before_check(codes)
    results = check_codes(codes, on)
    if after_check is not None:
        after_check(results)

    for (number, cells), result in zip(data, results, strict=True):
        if result.error and column < len(cells) and isinstance(cells[column], int | float):
            # Say which cell: the whole column is likely stored so.
            result.error = f"单元格 {spreadsheet.cell_name(number, column + 1)}：{result.error}"
    added = spreadsheet.AddedColumns(
        headers=ADDED_HEADERS,
        widths=ADDED_WIDTHS,
        header_row=header_row,
        values={
            number: _describe(result) for (number, _), result in zip(data, results, strict=True)
        },
    )
    answer = spreadsheet.with_columns(file, info, rows, budget, added)
    stem = PurePath(file_name).stem or "代码表"
    return answer, f"{stem}-比对结果-{on:%Y%m%d}.xlsx"
