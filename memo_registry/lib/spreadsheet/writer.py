"""Writing a table as an xlsx file: one header row, then the rows.

Every text cell is a string cell, which no spreadsheet runs as a formula,
so a value starting with "=" reads exactly as stored; numbers and dates
stay numbers and dates.  Write-only, so a long table streams.
"""

import datetime
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from memo_registry.lib.text import strip_control

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_table(
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    widths: Sequence[int] | None = None,
) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    for index, width in enumerate(widths or ()):
        sheet.column_dimensions[_letter(index)].width = width
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(sheet, value):
    if isinstance(value, bool):
        value = "是" if value else "否"
    if isinstance(value, int | float | datetime.date):
        return value
    cell = WriteOnlyCell(sheet, value=strip_control("" if value is None else str(value)))
    cell.data_type = "s"
    return cell


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
