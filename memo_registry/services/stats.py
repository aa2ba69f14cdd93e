"""统计: what the bureau reports upward, for a period.

- listings added (列入日期 in the period) by list and month;
- per division and per memo, the work items that opened in the period:
  done on time (feedback on or before the due date), done late, open (not
  yet due), overdue, and the on-time rate: done on time out of those whose
  due date has come or that are done (``on_time / (on_time + late +
  overdue)``); lifted items count in ``opened`` only;
- the embedded checks made in the period, by what they answered and what
  the calling system then decided.

The page, its xlsx and ``/api/stats/`` all read one ``Stats`` for one
``period()``.

The items are counted from the work tally (``work_tally``), summed by
(division, memo, opening day, deadline, feedback day) and told their state
on the day asked: a few thousand groups at a million listings, whose due
dates are computed once each in Python.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count
from django.db.models.functions import TruncMonth

from memo_registry.clients.models import Check
from memo_registry.lib import workdays
from memo_registry.services import work, work_tally
from subjects.models import Listing, add_months


@dataclass
class Row:
    key: int
    name: str
    opened: int = 0
    on_time: int = 0
    late: int = 0
    open: int = 0
    overdue: int = 0
    lifted: int = 0

    @property
    def done(self) -> int:
        return self.on_time + self.late

    @property
    def on_time_rate(self) -> float | None:
        """Per cent, one decimal; None when nothing has come due."""
        due = self.on_time + self.late + self.overdue
        return round(100 * self.on_time / due, 1) if due else None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "opened": self.opened,
            "done_on_time": self.on_time,
            "done_late": self.late,
            "open": self.open,
            "overdue": self.overdue,
            "on_time_rate": self.on_time_rate,
        }


@dataclass
class Stats:
    start: datetime.date
    end: datetime.date
    listings: list = field(default_factory=list)  # {"list", "month", "count"}
    divisions: list[Row] = field(default_factory=list)
    memos: list[Row] = field(default_factory=list)
    checks: list["CheckRow"] = field(default_factory=list)


# The one refusal of a period, on the page and in the API (on the end's field).
REVERSED = "截至日期不能早于开始日期。"


def period(
    start: datetime.date | None, end: datetime.date | None, today: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """The period asked for, on the page and in the API alike: ``end`` today
    when not given, ``start`` 1 January of the end's year (``?to=2024-12-31``
    alone is the year 2024, not a period reversed from 1 January of this
    year).  Not checked: ``start`` may be after ``end`` (the callers refuse
    it with ``REVERSED``)."""
    end = end or today
    return start or datetime.date(end.year, 1, 1), end


def compute(start: datetime.date, end: datetime.date, today: datetime.date) -> Stats:
    stats = Stats(start=start, end=end)
    stats.listings = [
        {"list": row["target_subject__label"], "month": row["month"], "count": row["n"]}
        for row in Listing.objects.filter(listed_on__gte=start, listed_on__lte=end)
        .annotate(month=TruncMonth("listed_on"))
        .values("target_subject__label", "month")
        .annotate(n=Count("pk"))
        .order_by("month", "target_subject__label")
    ]
    groups = work_tally.groups(
        work_tally.scoped(None, today).filter(opened_on__gte=start, opened_on__lte=end),
        "division_id",
        "division__name",
        "memo_id",
        "memo__doc_number",
        "memo__seq",
        "feedback_on",
    )
    divisions: dict[int, Row] = {}
    memos: dict[int, Row] = {}
    seqs: dict[int, int] = {}
    for group in groups:
        division = divisions.setdefault(
            group["division_id"], Row(group["division_id"], group["division__name"])
        )
        memo = memos.setdefault(group["memo_id"], Row(group["memo_id"], group["memo__doc_number"]))
        seqs[group["memo_id"]] = group["memo__seq"]
        kind = _kind(group, today)
        for row in (division, memo):
            row.opened += group["n"]
            setattr(row, kind, getattr(row, kind) + group["n"])
    stats.divisions = sorted(divisions.values(), key=lambda row: row.name)
    stats.memos = sorted(memos.values(), key=lambda row: seqs[row.key])
    stats.checks = checks_by_decision(start, end)
    return stats


def _kind(group, today: datetime.date) -> str:
    state = work_tally.state_of(group, today)
    if state == work.DONE:
        due = workdays.add_working_days(group["opened_on"], group["days"])
        return "on_time" if group["feedback_on"] <= due else "late"
    return {work.OPEN: "open", work.OVERDUE: "overdue", work.LIFTED: "lifted"}[state]


# A period longer than this many months is shown from its first month with
# listings to its last (the page would be too wide otherwise).
MONTHS_SHOWN = 36


def _month_range(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def listings_by_month(stats: Stats) -> tuple[list, list]:
    """The months and, per list, its count in each month (a table's rows).
    Every month of the period is a column, those without listings too (a
    gap is a zero, not a month left out), up to MONTHS_SHOWN months."""
    found = sorted({row["month"] for row in stats.listings})
    if not found:
        return [], []
    months = _month_range(stats.start, stats.end)
    if len(months) > MONTHS_SHOWN:
        months = _month_range(found[0], found[-1])
    counts: dict[str, dict] = defaultdict(dict)
    for row in stats.listings:
        counts[row["list"]][row["month"]] = row["count"]
    table = [
        (label, [by_month.get(month, 0) for month in months], sum(by_month.values()))
        for label, by_month in sorted(counts.items())
    ]
    return months, table


# What the calling systems decided, by what the check answered (issue 16):
# the outcome "" is a check whose system has not said yet.
CHECK_OUTCOMES = ["", *Check.Outcome.values]
CHECK_HEADERS = ["尚未报告结果", *Check.Outcome.labels, "合计"]
# The outcomes as the API names them ("" has no name of its own there).
CHECK_FIELDS = ["undecided", *Check.Outcome.values]


@dataclass
class CheckRow:
    """The checks that answered ``decision``, counted by each outcome."""

    decision: str
    by_outcome: dict[str, int]

    @property
    def label(self) -> str:
        return Check.Decision(self.decision).label

    @property
    def total(self) -> int:
        return sum(self.by_outcome.values())

    @property
    def cells(self) -> list[int]:
        """The counts in CHECK_HEADERS' order."""
        return [*self.by_outcome.values(), self.total]

    def as_dict(self) -> dict:
        return {
            "decision": self.decision,
            **dict(zip(CHECK_FIELDS, self.by_outcome.values(), strict=True)),
            "total": self.total,
        }


def checks_by_decision(start: datetime.date, end: datetime.date) -> list[CheckRow]:
    """The embedded checks made from ``start`` to ``end`` (days in
    Asia/Shanghai): for each answer (惩戒, 激励, 无), how many the calling
    systems left undecided, approved, approved with conditions, refused or
    did not decide.  One query."""
    counts = {decision: dict.fromkeys(CHECK_OUTCOMES, 0) for decision in Check.Decision.values}
    for row in (
        Check.objects.filter(checked_at__date__gte=start, checked_at__date__lte=end)
        .values("decision", "outcome")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[row["decision"]][row["outcome"]] += row["n"]
    return [CheckRow(decision, by_outcome) for decision, by_outcome in counts.items()]
