"""What reading one spreadsheet may cost, and the refusals when it costs more.

Every limit is checked before the work it bounds: the request body before it
is read (memo_registry.http.uploads), the file's size before a byte is
parsed (:func:`size_refusal`), every part of an xlsx before openpyxl sees it
(``xlsx.check_xlsx``: from the zip directory, then by counting the XML of
each part as it is unzipped, holding none of it), and the table's rows,
cells and text as they are read (:class:`Tally`), before a row is kept.
docs/performance.md ("Upload budgets") measures the largest file each
budget accepts.
"""

from dataclasses import dataclass, replace

from django.conf import settings

MiB = 1024 * 1024

# A row with content beyond this column is refused: a list has a dozen.  An
# xlsx is read one column further, to see that content; a cell far to the
# right of that is never read (openpyxl would pad every row up to it).
MAX_COLUMNS = 100
# Excel's own limit on the text of one cell.
MAX_CELL_CHARS = 32_767
# A part of an xlsx over 1 MiB compressed more than this is refused: real
# sheets compress 5 to 20 times, a zip bomb thousands of times.
MAX_COMPRESSION_RATIO = 100
# Parts of a zip, and the size of its directory (zipfile reads it whole).
MAX_PARTS = 1_000
MAX_ZIP_DIRECTORY_BYTES = 1 * MiB
# openpyxl streams the rows of a worksheet and the strings of the shared
# string table, clearing each when read; every other part (styles, workbook,
# relationships, a worksheet's merged cells and hyperlinks …) it parses into
# a tree that stays in memory.  That XML is limited in bytes and in elements.
MAX_KEPT_XML_BYTES = 4 * MiB
MAX_KEPT_XML_ELEMENTS = 100_000
# One row (or one shared string) is parsed whole before it is cleared.
MAX_RECORD_XML_BYTES = 4 * MiB
MAX_RECORD_XML_ELEMENTS = 50_000
# A listing file: bigger than any honest listing file of a province; bounds
# a hostile one.  Other files are held to settings.IMPORT_MAX_BYTES.
MAX_LISTING_BYTES = 2 * 1024 * MiB


@dataclass(frozen=True)
class Budget:
    """The most one file may hold; a file over any of them is refused."""

    rows: int  # rows of the (first) worksheet or of the csv
    cells: int  # rows × columns of the table read; cells stored in the xlsx
    shared_strings: int  # entries of the xlsx's shared string table (held whole by openpyxl)
    xml_elements: int  # XML elements of all rows and shared strings (openpyxl parses each)
    text: int  # characters of all cells read, each occurrence counted
    unzipped: int  # bytes of all the parts of an xlsx, unzipped
    part: int  # bytes of one part of an xlsx, unzipped
    # The file's size; None: settings.IMPORT_MAX_BYTES, read when the file is.
    file_bytes: int | None = None
    # False: a csv is held to file_bytes and its width only, not to rows,
    # cells or text (it streams, one row in memory at a time).
    bounds_csv: bool = True

    def max_file_bytes(self) -> int:
        return settings.IMPORT_MAX_BYTES if self.file_bytes is None else self.file_bytes


# The three budgets, one a line, the fields in Budget's order:
#   rows     cells    shared strings  XML elements  text        unzipped   one part
#
# UPLOAD: a sheet uploaded through a page (the memo admin's import; the batch
# check raises the rows to its own limit, settings.BATCH_CHECK_MAX_CODES):
# read within a request, so that a gunicorn worker stays under 300 MB and
# half of its 30 s timeout.  Responsibility lists have tens of rows.
# COMMAND: a memo list named on the command line (manage.py import_memos): no
# worker timeout, the same memory bound.
# LISTING: a listing file (manage.py import_subjects), read row by row and
# never held: an xlsx is bounded by time and by the shared string table
# openpyxl holds; a larger list goes as csv, which streams without a row limit.
# fmt: off
UPLOAD = Budget(2_000, 100_000, 100_000, 1_000_000, 10_000_000, 32 * MiB, 32 * MiB)
COMMAND = Budget(10_000, 300_000, 300_000, 2_000_000, 20_000_000, 48 * MiB, 48 * MiB)
LISTING = replace(
    Budget(40_000, 400_000, 160_000, 3_000_000, 50_000_000, 64 * MiB, 64 * MiB),
    file_bytes=MAX_LISTING_BYTES, bounds_csv=False,
)
# fmt: on


class SpreadsheetError(Exception):
    """A file that cannot be read as a spreadsheet; the message says why, in Chinese."""


class BudgetExceeded(SpreadsheetError):
    """A file over one of its budget's limits; ``limit`` names which (a Budget field)."""

    def __init__(self, message: str, limit: str):
        super().__init__(message)
        self.limit = limit


def mebibytes(size: int) -> str:
    return f"{size / MiB:.1f} MB"


def size_refusal(file_name: str, size: int, limit: int | None = None) -> str | None:
    """The message that refuses a file of this size, or None when it is accepted.

    ``limit``: the largest size accepted; settings.IMPORT_MAX_BYTES by default.
    """
    if limit is None:
        limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        return (
            f"文件 {file_name} 有 {mebibytes(size)}，超过了导入上限 {mebibytes(limit)}，"
            "未导入。请拆分文件后再导入。"
        )
    return None


class Tally:
    """Counts the rows, cells and text of a table as it is read, and refuses
    the row that takes it past its budget, before that row is kept."""

    def __init__(self, budget: Budget, file_name: str):
        self.budget = budget
        self.file_name = file_name
        self.width = 0
        self.text = 0

    def row(self, number: int, cells) -> None:
        """``cells``: the row as read (up to MAX_COLUMNS + 1 of them)."""
        budget, name = self.budget, self.file_name
        if number > budget.rows:
            raise BudgetExceeded(
                f"文件 {name} 超过 {budget.rows} 行（上限），不像是一份清单，未导入。"
                "请拆分文件后再导入。",
                "rows",
            )
        refuse_wide_row(number, cells, name)
        width = len(cells)
        while width and (cells[width - 1] is None or cells[width - 1] == ""):
            width -= 1
        self.width = max(self.width, width)
        if number * self.width > budget.cells:
            raise BudgetExceeded(
                f"文件 {name} 到第 {number} 行已有 {number} 行 × {self.width} 列，"
                f"超过了 {budget.cells} 个单元格的上限，未导入。请拆分文件后再导入。",
                "cells",
            )
        for cell in cells:
            if isinstance(cell, str):
                if len(cell) > MAX_CELL_CHARS:
                    raise BudgetExceeded(
                        f"文件 {name} 第 {number} 行有一个单元格长 {len(cell)} 个字符，"
                        f"超过了单元格的上限 {MAX_CELL_CHARS} 个字符（Excel 的上限），未导入。",
                        "text",
                    )
                self.text += len(cell)
        if self.text > budget.text:
            raise BudgetExceeded(
                f"文件 {name} 到第 {number} 行的文字已超过 {budget.text} 个字符的上限，未导入。"
                "请拆分文件后再导入。",
                "text",
            )


def refuse_wide_row(number: int, cells, file_name: str) -> None:
    """Refuse a row with content beyond MAX_COLUMNS."""
    if len(cells) <= MAX_COLUMNS:
        return
    if any(str(cell).strip() for cell in cells[MAX_COLUMNS:] if cell is not None):
        raise SpreadsheetError(
            f"文件 {file_name} 第 {number} 行在第 {MAX_COLUMNS} 列之后还有内容"
            f"（共 {len(cells)} 列），不像是一份清单，未导入。"
        )
