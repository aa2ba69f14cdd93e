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
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from memo_registry.imports import listings
from memo_registry.lib import spreadsheet
from memo_registry.lib.text import search_key
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
_CODE_HEADERS = {
    search_key(alias) for key in ("uscc", "id_number", "code") for alias in listings.COLUMNS[key]
}
ADDED_HEADERS = [
    "比对结果",
    "代码校验",
    "所在名单",
    "适用备忘录",
    "适用措施及责任处室",
    "未反馈措施数",
]


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
            parsed.append((text, compact(raw), error.messages[0]))
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


def _find_code_column(rows: list[tuple[int, list]]) -> tuple[int | None, int]:
    """(index of the header row in ``rows`` or None, code column)."""
    for position, (_, cells) in enumerate(rows[:30]):
        for column, cell in enumerate(cells):
            if search_key("" if cell is None else str(cell)) in _CODE_HEADERS:
                return position, column
    # No header: the column where most cells look like an 18-character code.
    counts: dict[int, int] = {}
    for _, cells in rows[:200]:
        for column, cell in enumerate(cells):
            if len(compact(cell)) == 18:
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
    try:
        if isinstance(content, bytes | bytearray):
            sheet = spreadsheet.read_bytes(bytes(content), file_name, budget)
        else:
            sheet = spreadsheet.read_file(content, file_name, budget)
    except spreadsheet.BudgetExceeded as error:
        if error.limit == "rows":
            raise CheckFileError(
                f"一次最多比对 {max_codes} 个代码，文件 {file_name} 超过 {budget.rows} 行，"
                "未比对。请拆分文件后再比对。"
            ) from None
        raise CheckFileError(str(error)) from None
    except spreadsheet.SpreadsheetError as error:
        raise CheckFileError(str(error)) from None
    rows = [(row.number, list(row.cells)) for row in sheet.rows]
    header_position, column = _find_code_column(rows)
    data = rows[header_position + 1 :] if header_position is not None else rows
    data = [(number, cells) for number, cells in data if any(str(c or "").strip() for c in cells)]
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

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("比对结果")
    width = max((len(cells) for _, cells in rows), default=0)
    if header_position is not None:
        header = list(rows[header_position][1]) + [""] * (width - len(rows[header_position][1]))
    else:
        header = [f"列{index + 1}" for index in range(width)]
    sheet.append([_cell(sheet, value) for value in [*header, *ADDED_HEADERS]])
    for (_, cells), result in zip(data, results, strict=True):
        padded = list(cells) + [""] * (width - len(cells))
        sheet.append([_cell(sheet, value) for value in [*padded, *_describe(result)]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    stem = PurePath(file_name).stem or "代码表"
    return buffer.getvalue(), f"{stem}-比对结果-{on:%Y%m%d}.xlsx"


def _cell(sheet, value):
    """One cell of the download: a number or a date as it was read, anything
    else a string cell.  No spreadsheet runs a string cell as a formula, so a
    text starting with "=" is written as it is, with no apostrophe (which
    only CSV needs); openpyxl alone would have made it a formula."""
    if isinstance(value, int | float | datetime.date):
        return value
    cell = WriteOnlyCell(sheet, value="" if value is None else str(value))
    cell.data_type = "s"
    return cell
