"""The responsibility list written back as a spreadsheet, in the document's layout.

One row per memorandum, the document's eight columns in its order, then the
kind (类型) and the columns that make an export → import round trip lossless
(对象简称, 状态, 废止日期), and the measures' legal bases (实施依据, one line per
measure like 责任处室; ``memo_registry.services.legal_basis``).  The importer (``memo_registry.imports.memos``) reads
exactly this layout, so whatever is exported can be loaded again.

No cell is ever run as a formula.  In xlsx every cell is a string cell, which
no spreadsheet evaluates, so the text is written as it is (only a text that
starts with what the import would take for the CSV guard gets one more
apostrophe: ``memo_registry.lib.text.escape_inert_prefix``).  CSV has no cell
types: a formula-like cell gets an apostrophe in front
(``memo_registry.lib.text.make_formula_inert``), which the import takes off.
JSON is the API's memo (``memo_registry.services.memo_json``), raw text.
"""

import csv
import io
import json
from collections.abc import Iterable

from django.db.models import QuerySet
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from memo_registry.lib.text import escape_inert_prefix, make_formula_inert, strip_control
from memo_registry.services.legal_basis import measures_cell as bases_cell
from memo_registry.services.memo_json import MemoSerializer
from memos.models import Memorandum

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
    "实施依据",
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
    "实施依据": 48,
}


def _prepared(memos: Iterable[Memorandum]) -> Iterable[Memorandum]:
    # A QuerySet gets the prefetches here, so the export runs a fixed number
    # of queries whatever the number of memos.
    if isinstance(memos, QuerySet):
        return memos.with_relations()
    return memos


def _departments(memo: Memorandum) -> list[str]:
    # with_relations gives them by primary key: the order in which they were
    # first entered, which keeps the document's order (市国税局 before 市地税局).
    return [department.name for department in memo.initiating_departments.all()]


def _measures(memo: Memorandum) -> list[tuple[str, list[str]]]:
    # In order, each with its divisions by primary key (with_relations).
    return [
        (measure.text, [division.name for division in measure.divisions.all()])
        for measure in memo.measures.all()
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
    """One memo as a row of raw cell texts (no formula guard yet), in HEADERS order."""
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
        "" if memo.no_function else bases_cell([m.legal_basis.all() for m in memo.measures.all()]),
    ]


def export_rows(memos: Iterable[Memorandum]) -> list[list[str]]:
    """The memos as rows of cell texts in HEADERS order (no header row).

    ``memos`` is a QuerySet, given ``with_relations()`` here so that the
    export runs a fixed number of queries whatever the number of memos, or
    memos that already come from one.  The texts are raw; each file writer
    keeps them from running as formulas in its own way.
    """
    return [memo_row(memo) for memo in _prepared(memos)]


def export_file(memos: Iterable[Memorandum], fmt: str) -> bytes:
    """The memos as the bytes of an ``xlsx``, ``csv`` or ``json`` file."""
    if fmt == "json":
        return _json(_prepared(memos))
    if fmt in _TABLE_WRITERS:
        return table_file(export_rows(memos), fmt)
    raise ValueError(f"不支持的导出格式：{fmt}（可用：xlsx、csv、json）")


def table_file(rows: Iterable[Iterable[str]], fmt: str) -> bytes:
    """Rows in the HEADERS layout as an ``xlsx`` or ``csv`` file that no spreadsheet runs.

    The admin's export (django-import-export) hands its rows here too, so
    both exports write the same file.
    """
    if fmt not in _TABLE_WRITERS:
        raise ValueError(f"不支持的表格格式：{fmt}（可用：xlsx、csv）")
    texts = [["" if cell is None else str(cell) for cell in row] for row in rows]
    return _TABLE_WRITERS[fmt](texts)


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    # A CSV cell has no type: the apostrophe is what keeps a spreadsheet
    # from running it.
    writer.writerows([make_formula_inert(cell) for cell in row] for row in rows)
    # The BOM makes Excel read the file as UTF-8 rather than the locale's code page.
    return buffer.getvalue().encode("utf-8-sig")


def _json(memos: Iterable[Memorandum]) -> bytes:
    # Exactly what GET /api/memos/<id>/ answers for each memo.
    records = MemoSerializer(memos, many=True).data
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
            cell.value = escape_inert_prefix(strip_control(text))
            # A string cell whatever it looks like (openpyxl makes a text
            # starting with "=" a formula): no spreadsheet runs it, so it
            # needs no apostrophe.
            cell.data_type = "s"
            cell.alignment = wrap
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_TABLE_WRITERS = {"xlsx": _xlsx, "csv": _csv}
