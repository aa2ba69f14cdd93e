"""Giving a sheet back with columns added: the file as it came, plus ours.

The batch check (批量比对) returns the sheet a clerk uploaded with its
answer beside each row.  An xlsx comes back as it was — title rows, merged
cells, number formats, fonts, column widths, the other worksheets — because
it is the uploaded workbook itself, opened in full (after the same budget
check as any upload) with the new columns written to the right of the first
worksheet's last used column.  A CSV has no formatting to keep: its rows,
title rows included, go into a new workbook at the row numbers they had.

New cells holding text are string cells, and the file's own formulas are
made string cells holding their text: nothing in the answer runs.  Headers are bold;
the new columns get the widths asked for and wrap their text.
"""

import datetime
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from memo_registry.lib.spreadsheet.budgets import Budget
from memo_registry.lib.spreadsheet.reader import SheetFile
from memo_registry.lib.spreadsheet.xlsx import open_workbook
from memo_registry.lib.text import strip_control


@dataclass(frozen=True)
class AddedColumns:
    """What to add: ``headers`` (written in ``header_row``, or in a new first
    row when the sheet has none), their ``widths`` in characters, and the
    values for each data row, by the row's number in the sheet."""

    headers: Sequence[str]
    widths: Sequence[int]
    header_row: int | None
    values: Mapping[int, Sequence]


def with_columns(
    source: BinaryIO,
    info: SheetFile,
    rows: Sequence[tuple[int, Sequence]],
    budget: Budget,
    added: AddedColumns,
) -> bytes:
    """The file ``source`` (described by ``info``, its first sheet read as
    ``rows`` by ``open_rows``) as xlsx, with ``added``."""
    if info.format == "xlsx":
        workbook = _open_full(source, info.file_name, budget)
        worksheet = workbook.worksheets[0]
    else:
        workbook = Workbook()
        worksheet = workbook.active
        worksheet.title = "比对结果"
        for number, cells in rows:
            for column, value in enumerate(cells, 1):
                _put(worksheet, number, column, value)
    first = max((len(cells) for _, cells in rows), default=0) + 1
    header_row, shift = added.header_row, 0
    if header_row is None:
        _insert_first_row(worksheet)
        header_row, shift = 1, 1
    bold, wrapped = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for offset, (header, width) in enumerate(zip(added.headers, added.widths, strict=True)):
        cell = _put(worksheet, header_row, first + offset, header)
        cell.font, cell.alignment = bold, wrapped
        worksheet.column_dimensions[get_column_letter(first + offset)].width = width
    for number, values in added.values.items():
        for offset, value in enumerate(values):
            _put(worksheet, number + shift, first + offset, value).alignment = wrapped
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def cell_name(row: int, column: int) -> str:
    """A cell's name as a spreadsheet shows it: ``cell_name(5, 3)`` is ``C5``
    (``column`` counted from 1)."""
    return f"{get_column_letter(column)}{row}"


def _open_full(source, file_name: str, budget: Budget):
    """The workbook with its formatting (not read-only), once it passed its budget."""
    workbook = open_workbook(source, file_name, budget, read_only=False)
    _make_formulas_inert(workbook)
    return workbook


def _make_formulas_inert(workbook) -> None:
    """Every formula of the file becomes its text in a string cell: the
    download is read, never run (a file may carry ``=HYPERLINK(…)`` or a DDE
    call meant for whoever opens the answer)."""
    for worksheet in workbook.worksheets:
        for row in worksheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    value = cell.value
                    cell.value = getattr(value, "text", None) or str(value)
                    cell.data_type = "s"


def _insert_first_row(worksheet) -> None:
    """A new empty first row, everything below (merged ranges too) one row down."""
    worksheet.insert_rows(1)
    for merged in list(worksheet.merged_cells.ranges):
        merged.shift(0, 1)


def _put(worksheet, row: int, column: int, value):
    """Write one cell: a number or a date as it is, anything else as a string cell."""
    cell = worksheet.cell(row=row, column=column)
    if isinstance(value, int | float | datetime.date) and not isinstance(value, bool):
        cell.value = value
    else:
        cell.value = strip_control("" if value is None else str(value))
        cell.data_type = "s"  # never a formula, whatever it starts with
    return cell
