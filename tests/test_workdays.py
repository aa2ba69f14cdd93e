"""Working days for feedback deadlines (反馈时限): China's holidays skipped,
make-up working days (调休) counted, Monday to Friday for an unknown year."""

import datetime

import chinese_calendar

from memo_registry.lib import workdays

D = datetime.date


def test_the_national_day_holiday_is_skipped():
    # 2025-09-30 (Tuesday), then 1–8 October off: the next working day is the 9th.
    assert workdays.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)


def test_a_make_up_working_saturday_counts():
    # Saturday 2025-10-11 is a 调休 working day.
    assert D(2025, 10, 11).weekday() == 5
    assert workdays.is_workday(D(2025, 10, 11))
    assert workdays.add_working_days(D(2025, 10, 10), 1) == D(2025, 10, 11)


def test_fifteen_working_days_over_the_spring_festival():
    start = D(2026, 2, 10)
    due = workdays.add_working_days(start, 15)
    counted = [
        start + datetime.timedelta(days=n)
        for n in range(1, (due - start).days + 1)
        if chinese_calendar.is_workday(start + datetime.timedelta(days=n))
    ]
    assert len(counted) == 15 and counted[-1] == due
    assert (due - start).days > 21  # longer than three plain weeks


def test_an_unknown_year_counts_monday_to_friday_and_says_so():
    year = 2099
    assert not workdays.known(year)
    friday = D(year, 1, 2)
    assert friday.weekday() == 4
    assert workdays.add_working_days(friday, 1) == D(year, 1, 5)  # the Monday
    assert workdays.estimated(friday)
    assert not workdays.estimated(D(2025, 1, 2))


def test_the_overdue_cutoff_agrees_with_the_due_dates():
    today = D(2025, 10, 20)
    cutoff = workdays.latest_start_overdue(today, 15)
    assert workdays.add_working_days(cutoff, 15) < today
    assert workdays.add_working_days(cutoff + datetime.timedelta(days=1), 15) >= today


def test_working_days_between():
    assert workdays.working_days_between(D(2025, 9, 30), D(2025, 10, 9)) == 1
    assert workdays.working_days_between(D(2025, 10, 9), D(2025, 10, 9)) == 0
