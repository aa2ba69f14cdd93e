"""The responsibility list written back as a spreadsheet, in the document's layout.

One row per memorandum, the document's eight columns in its order, then the
kind (类型) and the columns that make an export → import round trip lossless
(对象简称, 状态, 废止日期).  The importer (``memo_registry.memo_import``) reads
exactly this layout, so whatever is exported can be loaded again.

Every cell that a spreadsheet would run as a formula is written inert
(``memo_registry.lib.text.make_formula_inert``); JSON carries the raw text.
"""

import csv
import io
import json
from collections.abc import Iterable

from django.db.models import Prefetch, QuerySet
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from measures.models import Division, Measure
from memo_registry.lib.text import make_formula_inert, strip_control
from memos.models import Department, Memorandum

HEADERS: list[str] = [
    "序号",
    "文号",
    "备忘录名称",
    "发起部门",
    "奖惩对象（行为）",
    "实施部门",
    "奖惩措施",
    "责任处室",
    "类型",
    "对象简称",
    "状态",
    "废止日期",
]

CONTENT_TYPES: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}

# Joins the names of several departments or divisions in one cell, as the
# document does (市国税局、地税局).
NAME_JOINER = "、"

# Column widths in characters for the xlsx sheet, by header.
_WIDTHS = {
    "序号": 6,
    "文号": 24,
    "备忘录名称": 36,
    "发起部门": 16,
    "奖惩对象（行为）": 48,
    "实施部门": 14,
    "奖惩措施": 60,
    "责任处室": 24,
    "类型": 8,
    "对象简称": 24,
    "状态": 10,
    "废止日期": 12,
}


def with_export_relations(memos: QuerySet) -> QuerySet:
    """The queryset with everything an export reads fetched in a fixed number of queries."""
    # prefetch_related(None) first: a caller's own prefetch of the same
    # relation with another queryset would otherwise clash with these.
    memos = memos.select_related("implementing_department", "target_subject")
    return memos.prefetch_related(None).prefetch_related(
        Prefetch("initiating_departments", queryset=Department.objects.order_by("pk")),
        Prefetch(
            "measures",
            queryset=Measure.objects.order_by("order").prefetch_related(
                Prefetch("divisions", queryset=Division.objects.order_by("pk"))
            ),
        ),
    )


def _prepared(memos: Iterable[Memorandum]) -> Iterable[Memorandum]:
    if isinstance(memos, QuerySet):
        return with_export_relations(memos)
    return memos


def _departments(memo: Memorandum) -> list[str]:
    # Sorted by primary key: the order in which they were first entered, which
    # keeps the document's order (市国税局 before 市地税局).
    return [d.name for d in sorted(memo.initiating_departments.all(), key=lambda d: d.pk)]


def _measures(memo: Memorandum) -> list[tuple[str, list[str]]]:
    measures = sorted(memo.measures.all(), key=lambda m: m.order)
    return [
        (m.text, [d.name for d in sorted(m.divisions.all(), key=lambda d: d.pk)]) for m in measures
    ]


def measures_cell(memo: Memorandum) -> tuple[str, str]:
    """The 奖惩措施 and 责任处室 cells of one memo.

    Measures are numbered ``1、…`` one per line; the divisions cell holds one
    line per measure, numbered the same way, so that line *n* names the
    divisions of measure *n* (several joined with 、).  A memo for which the
    bureau has no function shows its note and no division.
    """
    if memo.no_function:
        return memo.no_function_note, ""
    measures = _measures(memo)
    texts = [f"{n}、{text}" for n, (text, _) in enumerate(measures, 1)]
    divisions = [NAME_JOINER.join(names) for _, names in measures]
    if len(measures) > 1:
        divisions = [f"{n}、{names}" for n, names in enumerate(divisions, 1)]
    return "\n".join(texts), "\n".join(divisions)


def memo_row(memo: Memorandum) -> list[str]:
    """One memo as a row of plain (not yet formula-inert) cell texts, in HEADERS order."""
    measures, divisions = measures_cell(memo)
    return [
        str(memo.seq),
        memo.doc_number,
        memo.title,
        NAME_JOINER.join(_departments(memo)),
        memo.target_subject.definition,
        memo.implementing_department.name,
        measures,
        divisions,
        memo.get_kind_display(),
        memo.target_subject.label,
        memo.get_status_display(),
        memo.repealed_on.isoformat() if memo.repealed_on else "",
    ]


def export_rows(memos: Iterable[Memorandum]) -> list[list[str]]:
    """The memos as rows of cell texts in HEADERS order (no header row).

    A QuerySet is given its prefetches here, so the export runs a fixed number
    of queries whatever the number of memos.  The texts are raw; the file
    writers make them formula-inert.
    """
    return [memo_row(memo) for memo in _prepared(memos)]


def memo_record(memo: Memorandum) -> dict:
    """One memo as the JSON object the API also uses."""
    return {
        "seq": memo.seq,
        "doc_number": memo.doc_number,
        "title": memo.title,
        "kind": memo.kind,
        "initiating_departments": _departments(memo),
        "target_subject": memo.target_subject.definition,
        "target_label": memo.target_subject.label,
        "implementing_department": memo.implementing_department.name,
        "no_function": memo.no_function,
        "no_function_note": memo.no_function_note,
        "status": memo.status,
        "repealed_on": memo.repealed_on.isoformat() if memo.repealed_on else None,
        "measures": [{"text": text, "divisions": names} for text, names in _measures(memo)],
    }


def export_file(memos: Iterable[Memorandum], fmt: str) -> bytes:
    """The memos as the bytes of an ``xlsx``, ``csv`` or ``json`` file."""
    if fmt == "json":
        return _json(_prepared(memos))
    if fmt in _TABLE_WRITERS:
        return table_file(export_rows(memos), fmt)
    raise ValueError(f"不支持的导出格式：{fmt}（可用：xlsx、csv、json）")


def table_file(rows: Iterable[Iterable[str]], fmt: str) -> bytes:
    """Rows in the HEADERS layout as an ``xlsx`` or ``csv`` file, every cell formula-inert.

    The admin's export (django-import-export) hands its rows here too, so
    both exports write the same file.
    """
    if fmt not in _TABLE_WRITERS:
        raise ValueError(f"不支持的表格格式：{fmt}（可用：xlsx、csv）")
    inert = [
        ["" if cell is None else make_formula_inert(str(cell)) for cell in row] for row in rows
    ]
    return _TABLE_WRITERS[fmt](inert)


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(rows)
    # The BOM makes Excel read the file as UTF-8 rather than the locale's code page.
    return buffer.getvalue().encode("utf-8-sig")


def _json(memos: Iterable[Memorandum]) -> bytes:
    records = [memo_record(memo) for memo in memos]
    return json.dumps(records, ensure_ascii=False, indent=2).encode("utf-8")


def _xlsx(rows: list[list[str]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "责任清单"
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for column, header in enumerate(HEADERS, 1):
        cell = sheet.cell(row=1, column=column, value=header)
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[cell.column_letter].width = _WIDTHS[header]
    for row_number, row in enumerate(rows, 2):
        for column, text in enumerate(row, 1):
            cell = sheet.cell(row=row_number, column=column)
            # The registry's own text has no control characters; this keeps a
            # stray one (from a raw database edit) from breaking the file.
            cell.value = strip_control(text)
            # Written as a string whatever it looks like: never a formula.
            cell.data_type = "s"
            cell.alignment = wrap
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_TABLE_WRITERS = {"xlsx": _xlsx, "csv": _csv}
