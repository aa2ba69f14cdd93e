"""Reading a spreadsheet file into rows of cells, within a budget.

The first step of every import (memos from the command line and the admin,
listings) and of the batch check: whatever arrives (an upload, a path on the
command line) is read by :func:`open_rows`, row by row, each row with the
number the spreadsheet itself shows; :func:`read_path`, :func:`read_file`
and :func:`read_bytes` gather those rows into a :class:`Sheet` of text.
Format and encoding are detected, never asked for:

- ``.xlsx`` is recognised by its zip signature, checked against its
  :class:`Budget` before openpyxl opens it, and read with openpyxl in
  read-only mode (``xlsx``);
- anything else is taken as CSV, decoded as UTF-8 (with or without BOM) or
  else GB18030 (what Excel in Chinese saves), its delimiter sniffed among
  comma, semicolon and tab (``delimited``).

What a file may cost is its budget (``budgets``): UPLOAD for a page,
COMMAND for ``import_memos``, LISTING for ``import_subjects`` (a csv of
listings streams without a row limit).  Everything that is refused raises
:class:`SpreadsheetError` with a message for the person who gave the file.
:func:`with_columns` gives a sheet back with columns added, as it came
(``annotate``).  This package knows nothing of memoranda or listings.
"""

from memo_registry.lib.spreadsheet.annotate import AddedColumns, cell_name, with_columns
from memo_registry.lib.spreadsheet.budgets import (
    COMMAND,
    LISTING,
    UPLOAD,
    Budget,
    BudgetExceeded,
    SpreadsheetError,
    mebibytes,
    size_refusal,
)
from memo_registry.lib.spreadsheet.cells import cell_text
from memo_registry.lib.spreadsheet.reader import (
    Row,
    Sheet,
    SheetFile,
    open_rows,
    read_bytes,
    read_file,
    read_path,
)

__all__ = [
    "AddedColumns",
    "COMMAND",
    "LISTING",
    "UPLOAD",
    "Budget",
    "BudgetExceeded",
    "Row",
    "Sheet",
    "SheetFile",
    "SpreadsheetError",
    "cell_name",
    "cell_text",
    "mebibytes",
    "open_rows",
    "read_bytes",
    "read_file",
    "read_path",
    "size_refusal",
    "with_columns",
]
