"""Working days (工作日) in China, for feedback deadlines (反馈时限).

China's public holidays are skipped and the make-up working days (调休, a
Saturday or Sunday worked in exchange) count, from the State Council's
yearly notices as the ``chinesecalendar`` package carries them.  For a year
the package does not know yet, Monday to Friday count, and ``known(year)``
is False so a page can say the deadline is an estimate.
"""

import datetime
from functools import lru_cache

import chinese_calendar

DAY = datetime.timedelta(days=1)


@lru_cache(maxsize=64)
def known(year: int) -> bool:
    """Whether the package holds the holidays of ``year``."""
    try:
        chinese_calendar.is_workday(datetime.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=8192)
def is_workday(day: datetime.date) -> bool:
    if known(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


@lru_cache(maxsize=65536)
def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The ``days``-th working day after ``start`` (``start`` itself not
    counted): a report opened on a Friday with 1 working day is due on the
    next working day."""
    day = start
    remaining = days
    while remaining > 0:
        day += DAY
        if is_workday(day):
            remaining -= 1
    return day


def latest_start_overdue(today: datetime.date, days: int) -> datetime.date:
    """The latest start whose deadline of ``days`` working days is already
    past on ``today`` (due before today): every start on or before it is
    overdue.  Lets a query tell overdue items by their start date alone."""
    day = today - DAY
    while add_working_days(day, days) >= today:
        day -= DAY
    return day


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    count, day = 0, start
    while day < end:
        day += DAY
        count += is_workday(day)
    return count


def estimated(*days: datetime.date) -> bool:
    """Whether any of these days falls in a year the package does not know."""
    return any(not known(day.year) for day in days if day is not None)
