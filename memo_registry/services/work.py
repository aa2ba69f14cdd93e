"""Work items (处室待办): computed by one query, never stored.

For every listing, every measure of an in-force memo of the current list
whose target subject the listing names, and every division responsible for
that measure, there is a work item (subject, measure, division).  It opens
on the later of the listing date and the memo's 生效日期 (``effective_on``;
empty: the list's 发文日期), so a memo added later brings the subjects
already listed into the work lists.  It is

- ``done`` when that division recorded feedback (not withdrawn) for the
  subject and measure on or after the listing date;
- ``lifted`` when the listing ended (expired or lifted) before that;
- ``overdue`` once past its due date: ``FEEDBACK_WORKING_DAYS`` working
  days (default 15; a measure may set its own) after it opened;
- ``open`` otherwise.

Two listings of a subject on the same list that overlap are one item, the
earlier's.  ``items()`` is a Listing QuerySet with the item's measure,
division, dates and state annotated: the digest and the export filter and
order it in SQL; the pages, the API and the statistics count items from
``work_tally`` (the same rule, counted ahead) and read only a page's items
from here.  The due date of each row shown is computed in Python
(``with_due``); the query tells overdue items by their opening date alone
(``workdays.latest_start_overdue``), one cut-off per deadline in use.
"""

import datetime
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from measures.models import Division, Feedback, Measure
from memo_registry.audit.models import ImportBatch
from memo_registry.lib import workdays
from memos.models import Memorandum
from subjects.models import Listing, Subject

OPEN, OVERDUE, DONE, LIFTED = "open", "overdue", "done", "lifted"
STATES = {OPEN: "待反馈", OVERDUE: "已超期", DONE: "已反馈", LIFTED: "已移出或期满未反馈"}
RANK = {OVERDUE: 0, OPEN: 1, DONE: 2, LIFTED: 3}
FAR = datetime.date(9999, 12, 31)
_M = "target_subject__memos__"


def default_days() -> int:
    return int(getattr(settings, "FEEDBACK_WORKING_DAYS", 15))


_DEADLINES: dict = {}
_DEADLINES_TTL = 60.0


def deadlines_in_use() -> list[int]:
    """The default deadline and every measure's own: one query a minute per
    process (a measure saved here clears it at once)."""
    cached = _DEADLINES.get("value")
    if cached is not None and time.monotonic() - _DEADLINES["at"] < _DEADLINES_TTL:
        return cached
    own = Measure.objects.exclude(feedback_working_days=None).values_list(
        "feedback_working_days", flat=True
    )
    value = sorted({default_days(), *own})
    _DEADLINES.update(value=value, at=time.monotonic())
    return value


def forget_deadlines(**kwargs) -> None:
    _DEADLINES.clear()


post_save.connect(forget_deadlines, sender=Measure, dispatch_uid="work_deadlines_save")
post_delete.connect(forget_deadlines, sender=Measure, dispatch_uid="work_deadlines_delete")


def member_divisions(user) -> QuerySet:
    if not user.is_authenticated:
        return Division.objects.none()
    return Division.objects.filter(members=user).order_by("name")


def _in_force(on, prefix: str = "") -> Q:
    return (
        Q(**{f"{prefix}listed_on__lte": on})
        & (Q(**{f"{prefix}expires_on__isnull": True}) | Q(**{f"{prefix}expires_on__gte": on}))
        & (Q(**{f"{prefix}lifted_on__isnull": True}) | Q(**{f"{prefix}lifted_on__gt": on}))
    )


def deadline() -> Coalesce:
    """The item's 反馈时限 in working days: its measure's own, or the default."""
    return Coalesce(f"{_M}measures__feedback_working_days", Value(default_days()))


def opening_day() -> Greatest:
    """The later of the listing day and the memo's 生效日期 (empty: the list's 发文日期)."""
    return Greatest(
        "listed_on",
        Coalesce(f"{_M}effective_on", f"{_M}responsibility_list__issued_on", "listed_on"),
        output_field=DateField(),
    )


@lru_cache(maxsize=4096)
def _overdue_from(today: datetime.date, days: int) -> datetime.date:
    return workdays.latest_start_overdue(today, days)


def is_overdue(opened_on: datetime.date, days: int, today: datetime.date) -> bool:
    """Whether an item opened on ``opened_on`` with ``days`` working days is past due on ``today``."""
    return opened_on <= _overdue_from(today, days)


def chain_rules() -> tuple[QuerySet, QuerySet, QuerySet]:
    """The subqueries of the item rule, for the outer listing (annotated
    ``item_measure`` and ``item_division``): the subject's other listings on
    the same list still in force on this one's listing day (this one
    continues their item); those begun while this one was in force (they
    carry its item on); and the item's feedback, earliest first."""
    same = Listing.objects.filter(
        subject_id=OuterRef("subject_id"), target_subject_id=OuterRef("target_subject_id")
    ).exclude(pk=OuterRef("pk"))
    continues = same.filter(listed_on__lt=OuterRef("listed_on")).filter(
        _in_force(OuterRef("listed_on"))
    )
    carried_on = same.filter(
        listed_on__gte=OuterRef("listed_on"),
        listed_on__lte=Coalesce(OuterRef("expires_on"), Value(FAR)),
        listed_on__lt=Coalesce(OuterRef("lifted_on"), Value(FAR)),
    )
    reports = Feedback.objects.filter(
        subject_id=OuterRef("subject_id"),
        measure_id=OuterRef("item_measure"),
        division_id=OuterRef("item_division"),
        withdrawn_at__isnull=True,
        done_on__gte=OuterRef("listed_on"),
    ).order_by("done_on", "id")
    return continues, carried_on, reports


def items(
    divisions=None,
    today: datetime.date | None = None,
    deadlines: list[int] | None = None,
    *,
    with_state: bool = True,
) -> QuerySet:
    """Every work item of ``divisions`` (ids or Divisions; None: all) as of
    ``today`` (without ``with_state``, ``state_in_python`` tells the states
    of the rows read)."""
    today = today or timezone.localdate()
    deadlines = deadlines if deadlines is not None else deadlines_in_use()
    memo_in_force = Q(**{f"{_M}status": Memorandum.Status.IN_FORCE}) | Q(
        **{f"{_M}repealed_on__gt": today}
    )
    scope = {}
    if divisions is not None:
        scope[f"{_M}measures__divisions__in"] = divisions
    else:
        scope[f"{_M}measures__divisions__isnull"] = False
    continues, carried_on, reports = chain_rules()
    carried_on = carried_on.filter(_in_force(today))  # in force today
    days = deadline()
    overdue = Q(pk__in=[])
    for count in deadlines:
        cutoff = workdays.latest_start_overdue(today, count)
        overdue |= Q(item_days=count, opened_on__lte=cutoff)
    queryset = (
        Listing.objects.filter(
            memo_in_force,
            listed_on__lte=today,
            **{
                f"{_M}responsibility_list__is_current": True,
                f"{_M}no_function": False,
            },
            **scope,
        )
        .annotate(
            item_memo=F(f"{_M}id"),
            item_measure=F(f"{_M}measures__id"),
            item_division=F(f"{_M}measures__divisions__id"),
            item_days=days,
            opened_on=opening_day(),
            alive=Case(
                When(_in_force(today) | Q(Exists(carried_on)), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            feedback_id=Subquery(reports.values("id")[:1]),
            feedback_on=Subquery(reports.values("done_on")[:1]),
        )
        .exclude(Exists(continues))
        .filter(opened_on__lte=today)
        # An ended listing gives an item only if the memo took effect before it ended.
        .filter(
            Q(alive=True)
            | Q(opened_on__lte=Coalesce("expires_on", Value(FAR)))
            & Q(opened_on__lt=Coalesce("lifted_on", Value(FAR)))
        )
    )
    if not with_state:
        return queryset
    return queryset.annotate(
        state=Case(
            When(feedback_id__isnull=False, then=Value(DONE)),
            When(alive=False, then=Value(LIFTED)),
            When(overdue, then=Value(OVERDUE)),
            default=Value(OPEN),
            output_field=CharField(),
        ),
    )


def state_from(done: bool, alive: bool, opened_on, days: int, today: datetime.date) -> str:
    """An item's state on ``today``, by the rule of ``items``' Case."""
    if done:
        return DONE
    if not alive:
        return LIFTED
    return OVERDUE if is_overdue(opened_on, days, today) else OPEN


def state_in_python(rows: list, today: datetime.date) -> list:
    """Each row of ``items(with_state=False)`` given its ``state``."""
    for row in rows:
        done = row.feedback_id is not None
        row.state = state_from(done, row.alive, row.opened_on, row.item_days, today)
    return rows


def narrowed(
    queryset: QuerySet, *, label: str = "", exact: bool = True, listed_from=None, listed_to=None
) -> QuerySet:
    """Items of one list (by its label: exactly, or containing ``label``)
    and listed between two days; empty values narrow nothing."""
    label = (label or "").strip()
    if label:
        lookup = "target_subject__label" if exact else "target_subject__label__contains"
        queryset = queryset.filter(**{lookup: label})
    if listed_from:
        queryset = queryset.filter(listed_on__gte=listed_from)
    if listed_to:
        queryset = queryset.filter(listed_on__lte=listed_to)
    return queryset


def with_details(queryset: QuerySet, *, page: bool = False) -> QuerySet:
    """What a row shows: the subject, its list, the memo's 文号, the measure
    and the division, in the order of the list (overdue first, then by the
    day it opened, which is the order of the due dates).

    For one page (``page``) the subject and the import are read by
    subqueries, which the database runs for the page's rows only, after it
    has sorted them; ``subjects_of`` then gives each row its subject."""
    details = {
        "doc_number": F(f"{_M}doc_number"),
        "measure_order": F(f"{_M}measures__order"),
        "measure_text": F(f"{_M}measures__text"),
        "division_name": F(f"{_M}measures__divisions__name"),
        "memo_effective_on": F(f"{_M}effective_on"),
    }
    if not page:
        return queryset.select_related("subject", "target_subject").annotate(
            added_at=F("import_batch__started_at"), **details
        )
    subject = Subject.objects.filter(pk=OuterRef("subject_id"))
    return queryset.select_related("target_subject").annotate(
        added_at=Subquery(
            ImportBatch.objects.filter(pk=OuterRef("import_batch_id")).values("started_at")
        ),
        **{f"subject_{name}": Subquery(subject.values(name)) for name in _SUBJECT_SHOWN},
        **details,
    )


_SUBJECT_SHOWN = ("name", "code", "kind")


def subjects_of(rows: list) -> list:
    """Each row of a ``with_details(page=True)`` query given its subject."""
    for row in rows:
        row.subject = Subject(
            pk=row.subject_id, **{name: getattr(row, f"subject_{name}") for name in _SUBJECT_SHOWN}
        )
    return rows


def ordered(queryset: QuerySet, states=(OPEN, OVERDUE)) -> QuerySet:
    """Overdue first, then by due date; done and lifted after them.  Among
    open and overdue items the older opening comes first, and with one
    deadline that is the order of the due dates, overdue first: the query
    sorts by the opening day and needs no state to sort by.  Items that
    opened the same day (a memo taking effect opens every listing before
    it) come in the order they were listed."""
    order = ["opened_on", "item_days", "listed_on", "pk", "item_measure", "item_division"]
    if set(states) <= {OPEN, OVERDUE}:
        return queryset.order_by(*order)
    rank = Case(
        *(When(state=state, then=Value(rank)) for state, rank in RANK.items()),
        output_field=IntegerField(),
    )
    return queryset.alias(state_rank=rank).order_by("state_rank", *order)


@dataclass
class Counts:
    open: int = 0
    overdue: int = 0
    done: int = 0
    lifted: int = 0

    @property
    def total(self) -> int:
        """Open and overdue: what is still to do."""
        return self.open + self.overdue

    def of(self, states) -> int:
        return sum(getattr(self, state) for state in states)


def count_states(queryset: QuerySet, states=(OPEN, OVERDUE)) -> Counts:
    """How many of ``queryset``'s items are in each of ``states`` (one query)."""
    totals = queryset.filter(state__in=list(states)).aggregate(
        **{state: Count("pk", filter=Q(state=state)) for state in states}
    )
    return Counts(**{state: totals[state] or 0 for state in states})


def with_due(rows, today: datetime.date | None = None) -> list:
    """Each row (a Listing from ``items``) given ``due_on``, ``days_left``
    (negative: overdue by that many days), ``estimated`` (a year
    chinesecalendar does not know) and ``state_label``."""
    today = today or timezone.localdate()
    rows = list(rows)
    for row in rows:
        row.due_on = workdays.add_working_days(row.opened_on, row.item_days)
        row.days_left = (row.due_on - today).days
        row.days_open = (today - row.opened_on).days
        row.days_overdue = max(0, -row.days_left)
        row.estimated = workdays.estimated(row.opened_on, row.due_on)
        row.state_label = STATES[row.state]
    return rows
