"""The one rule for a date in an imported cell (废止日期, 列入日期, 有效期至).

:func:`parse_date` accepts:

- a date cell of an xlsx (a date, or a date and time: the time is dropped);
- text giving year, month and day, in this order: the year in four digits,
  month and day in one or two, separated by ``-``, ``/`` or ``.`` or written
  with 年 and 月 (and optionally 日): ``2024-01-31``, ``2024/1/31``,
  ``2024.1.31``, ``2024年1月31日``, ``2024年1月31``;
- eight digits, ``20240131`` (as text, or as a number cell of an xlsx);
- any of these text forms followed by a time of day, after a space or a
  ``T``: ``2024-01-31 12:00``, ``2024-01-31 12:00:00``, ``2024-01-31T08:30:00.5``
  (what a spreadsheet writes for a date cell that has a time; the time
  must be a real one, and is dropped).

Full-width digits and punctuation count as their ASCII forms, and spaces
around the text, next to 年 月 日 and around a separator are ignored.
Anything else is refused, and so is a date that does not exist
(``2025-02-30``): :class:`DateError` says so, naming the text.
"""

import datetime
import re
import unicodedata

from memo_registry.lib.text import squeeze, strip_control

_TIME = r"(?:(?:\s+|T)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?)?"
_DATE = re.compile(
    r"(\d{4})(?:\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{2})(\d{2}))" + _TIME,
    re.ASCII,  # \d: the digits 0-9 only (NFKC has folded the full-width ones)
)


class DateError(ValueError):
    """A cell that is not a date by :func:`parse_date`'s rule; the message says so."""


def parse_date(value: object) -> datetime.date:
    """The date a cell gives, by the rule of this module; DateError otherwise."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 20240131 typed into Excel
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    text = value if isinstance(value, str) else ""
    # NFKC folds full-width digits, separators and spaces to ASCII.
    folded = unicodedata.normalize("NFKC", strip_control(text)).strip()
    match = _DATE.fullmatch(folded)
    if match:
        year, month, day, month8, day8, hour, minute, second = match.groups()
        try:
            if hour is not None:
                datetime.time(int(hour), int(minute), int(second or 0))
            return datetime.date(int(year), int(month or month8), int(day or day8))
        except ValueError:
            pass
    raise DateError(f"「{squeeze(str(value))}」不是有效的日期（应如 2024-01-31）。")
