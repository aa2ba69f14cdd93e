"""A cell as the reader hands it on, and as text."""

import datetime

from memo_registry.lib.text import strip_control


def clean(text: str) -> str:
    """A cell's text with line breaks made \\n and control characters removed."""
    return strip_control(text.replace("\r\n", "\n").replace("\r", "\n"))


def cell_text(value: object) -> str:
    """The text of a cell (of either format) as the registry stores it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 序号 1 typed in Excel arrives as 1.0
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return clean(str(value))


def typed_cell(value: object) -> object:
    """An xlsx cell as :func:`memo_registry.lib.spreadsheet.open_rows` yields it:
    a number or a date stays one (a code stored as a number can then be
    named as such), anything else is its text."""
    if value is None:
        return ""
    if isinstance(value, int | float | datetime.date) and not isinstance(value, bool):
        return value
    return cell_text(value)
