"""The tally of work items: what /work/, the navigation's count and /stats/
read at province scale, where computing the items on every request
(``work.items``) evaluates every one of them (780,000 open items for the
busiest division of a million listings: seconds for a count).

``measures.WorkTally`` counts the items (``work.items``' very rule) by
(division, memo, list, listing day, opening day, deadline, the day the
listing stops being in force, the day its chain does, feedback day).
Nothing in it depends on the day asked: which items are open, overdue,
done or lifted *today* is decided when it is read (``groups``), from those
dates, so it never goes stale overnight.

It goes stale only when the data changes, and the database tells when:

- every statement that writes listings or feedback (whoever writes: the
  importers' COPY, the admin, raw SQL) adds a row to ``work_tally_log``,
  by a trigger, in the writer's own transaction;
- every write to the memos, measures, divisions, target subjects and lists
  raises the registry version (``memo_cache``).

The tally is fresh while the log is empty and the registry version is the
one it was built for.  A log rather than a counter: a counter row would
make every two transactions that write listings wait for each other; rows
added to a log do not, and an uncommitted writer's row appears when it
commits, so no change is missed however the commits interleave.

A writer that knows which subjects it changes (feedback, bulk lifting)
keeps the tally exact in its own transaction (``changing``): it subtracts
those subjects' counts before the write, adds them after, and removes its
own log rows.  The listing imports rebuild it in theirs (``rebuild``).  Any
other write leaves its log row, and the next reader rebuilds the tally
first (``ensure_fresh``): a reader never sees a stale count, only, after an
unusual write, a slower page.
"""

import datetime
from collections import Counter
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    Exists,
    F,
    Func,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone

from measures.models import Feedback, WorkTally
from memo_registry.lib.counters import install_triggers
from memo_registry.services import memo_cache, work
from memos.models import Memorandum
from subjects.models import Listing

TABLE, LOG = "work_tally_state", "work_tally_log"
WATCHED = (Listing, Feedback)
FAR, _M = work.FAR, work._M


class NextDay(Func):
    """The day after a date, on PostgreSQL and SQLite."""

    output_field = DateField()
    template = "(%(expressions)s + 1)"

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="date(%(expressions)s, '+1 day')")


# --- the log and its triggers -----------------------------------------------------------


def install(using_connection=None) -> None:
    """Create the state row, the log and the triggers that write it, if
    missing (after every migrate: SQLite drops a table's triggers when a
    migration rebuilds it)."""
    conn = using_connection or connection
    existing = set(conn.introspection.table_names())
    tables = [model._meta.db_table for model in WATCHED if model._meta.db_table in existing]
    postgres = conn.vendor == "postgresql"
    with conn.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} "
            "(id integer PRIMARY KEY, tallied_registry bigint NOT NULL)"
        )
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        if cursor.fetchone()[0] == 0:
            # Stale from the start (no registry version is 0): the first reader builds it.
            cursor.execute(f"INSERT INTO {TABLE} VALUES (1, 0)")
        # Each row names its writer's transaction on PostgreSQL, where
        # writers overlap; SQLite's take turns.
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {LOG} (id bigserial PRIMARY KEY,"
            " tx bigint NOT NULL DEFAULT txid_current())"
            if postgres
            else f"CREATE TABLE IF NOT EXISTS {LOG} (id integer PRIMARY KEY, tx integer)"
        )
    # (SQLite's trigger bodies take no DEFAULT VALUES.)
    write = (
        f"INSERT INTO {LOG} DEFAULT VALUES" if postgres else f"INSERT INTO {LOG} (tx) VALUES (NULL)"
    )
    install_triggers(conn, LOG, "work_tally", write, tables)


def _state(lock: bool = False) -> tuple[bool, int]:
    """(fresh, registry version); ``lock`` holds the state row to the end of
    the transaction (PostgreSQL; SQLite writes one at a time), so that
    keepers of the tally take turns."""
    lock_sql = " FOR UPDATE OF s" if lock and connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.tallied_registry, v.version, EXISTS (SELECT 1 FROM {LOG}) "
            f"FROM {TABLE} s, {memo_cache.TABLE} v WHERE s.id = 1 AND v.id = 1{lock_sql}"
        )
        tallied, registry, logged = cursor.fetchone()
    return tallied == registry and not logged, registry


def _forget_own_writes(everything: bool = False) -> None:
    """Remove the log rows of this transaction's writes (``everything``:
    every row this transaction sees, as a rebuild does)."""
    mine = " WHERE tx = txid_current()" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {LOG}{'' if everything else mine}")


def is_fresh() -> bool:
    return _state()[0]


# --- the counts, as the rule computes them ---------------------------------------------

_KEY = (
    "item_division",
    "item_memo",
    "list_id",
    "listing_day",
    "opened_on",
    "item_days",
    "own_stop",
    "chain_stop",
    "feedback_on",
)
_COLUMNS = (
    "division_id",
    "memo_id",
    "target_subject_id",
    "listed_on",
    "opened_on",
    "days",
    "own_stop",
    "chain_stop",
    "feedback_on",
)


def _stop(prefix: str = ""):
    """The first day a listing is not in force: the day after it expires, or
    the day it was lifted, whichever comes first (FAR: neither)."""
    return Least(
        Coalesce(NextDay(f"{prefix}expires_on"), Value(FAR)),
        Coalesce(f"{prefix}lifted_on", Value(FAR)),
        output_field=DateField(),
    )


def counted(subject_ids=None) -> QuerySet:
    """``work.items``' rule, without the day asked, grouped by the tally's
    key with the number of items in each group (of ``subject_ids`` only,
    when given)."""
    continues, carried_on, reports = work.chain_rules()
    carried_on = carried_on.annotate(stop=_stop()).order_by("-stop").values("stop")[:1]
    queryset = Listing.objects.filter(
        **{
            f"{_M}responsibility_list__is_current": True,
            f"{_M}no_function": False,
            f"{_M}measures__divisions__isnull": False,
        }
    )
    if subject_ids is not None:
        queryset = queryset.filter(subject_id__in=list(subject_ids))
    return (
        queryset.exclude(Exists(continues))
        .annotate(
            item_memo=F(f"{_M}id"),
            item_measure=F(f"{_M}measures__id"),
            item_division=F(f"{_M}measures__divisions__id"),
            item_days=work.deadline(),
            list_id=F("target_subject_id"),
            listing_day=F("listed_on"),
            opened_on=work.opening_day(),
            own_stop=_stop(),
            chain_stop=Greatest(_stop(), Coalesce(Subquery(carried_on), _stop())),
            feedback_on=Subquery(reports.values("done_on")[:1]),
        )
        .values(*_KEY)
        .annotate(n=Count("pk"))
        .order_by()
    )


def _as_date(value):
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def _counts_of(subject_ids) -> Counter:
    return Counter(
        {tuple(_as_date(row[key]) for key in _KEY): row["n"] for row in counted(subject_ids)}
    )


# --- keeping it -------------------------------------------------------------------------


def rebuild() -> None:
    """Count every item again, in one statement, and mark the tally fresh.
    A write committed meanwhile may be counted and still logged: the next
    reader rebuilds again, which costs time and is never wrong."""
    with transaction.atomic():
        _, registry = _state(lock=True)
        _forget_own_writes(everything=True)
        WorkTally.objects.all().delete()
        sql, params = counted().query.sql_with_params()
        selected = ", ".join(connection.ops.quote_name(key) for key in (*_KEY, "n"))
        columns = ", ".join(connection.ops.quote_name(column) for column in (*_COLUMNS, "n"))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {WorkTally._meta.db_table} ({columns}) "
                f"SELECT {selected} FROM ({sql}) counted",
                params,
            )
            cursor.execute(f"UPDATE {TABLE} SET tallied_registry = %s WHERE id = 1", [registry])


@contextmanager
def loading():
    """Around a listing import, in its transaction: yields a dict whose
    ``changed`` the import sets; the tally is rebuilt when listings were
    added or changed, and, when none were and it was fresh, stays fresh
    (re-importing an unchanged file costs no rebuild)."""
    fresh, _ = _state()
    outcome = {"changed": True}
    yield outcome
    if outcome["changed"]:
        rebuild()
    elif fresh:
        _forget_own_writes()


def ensure_fresh() -> None:
    """Rebuild the tally if a write it did not see came first (one query when
    it is fresh)."""
    if is_fresh():
        return
    with transaction.atomic():
        if not _state(lock=True)[0]:  # another process may have rebuilt it meanwhile
            rebuild()


@contextmanager
def changing(subject_ids):
    """Around a write that changes the listings or feedback of ``subject_ids``
    only: keep the tally exact in the same transaction.  A stale tally is
    left stale (its next reader rebuilds it)."""
    subject_ids = sorted(set(subject_ids))
    with transaction.atomic():
        fresh, _ = _state(lock=True)
        before = _counts_of(subject_ids) if fresh else None
        yield
        if not fresh:
            return
        after = _counts_of(subject_ids)
        after.subtract(before)
        for key, change in after.items():
            if change:
                _add(dict(zip(_COLUMNS, key, strict=True)), change)
        _forget_own_writes()


def _add(key: dict, change: int) -> None:
    if not WorkTally.objects.filter(**key).update(n=F("n") + change):
        WorkTally.objects.create(**key, n=change)


# --- reading it ---------------------------------------------------------------------------


def scoped(
    divisions,
    today: datetime.date,
    *,
    label: str = "",
    exact: bool = True,
    listed_from=None,
    listed_to=None,
) -> QuerySet:
    """The tally's rows for the items of ``divisions`` (None: all) that exist
    on ``today``, narrowed as ``work.narrowed`` narrows the items, each
    told ``done`` and ``lifted`` on that day (fresh: ``ensure_fresh`` first)."""
    ensure_fresh()
    queryset = WorkTally.objects.filter(
        Q(memo__status=Memorandum.Status.IN_FORCE) | Q(memo__repealed_on__gt=today),
        Q(chain_stop__gt=today) | Q(opened_on__lt=F("own_stop")),
        opened_on__lte=today,
    )
    if divisions is not None:
        queryset = queryset.filter(division__in=divisions)
    # The tally names the list and the listing day as a listing does.
    queryset = work.narrowed(
        queryset, label=label, exact=exact, listed_from=listed_from, listed_to=listed_to
    )
    return queryset.annotate(
        done=Case(
            When(feedback_on__isnull=False, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        lifted=Case(
            When(chain_stop__lte=today, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )


def groups(queryset: QuerySet, *fields: str) -> list[dict]:
    """``scoped``'s rows summed by ``fields`` and each group's ``state`` on
    the day asked, with ``n``: a few thousand groups at a million listings."""
    rows = queryset.values(*fields, "opened_on", "days", "done", "lifted").annotate(n=Sum("n"))
    return [row for row in rows.order_by() if row["n"]]


def state_of(row: dict, today: datetime.date) -> str:
    """The state on ``today`` of a group from ``groups``."""
    return work.state_from(row["done"], not row["lifted"], row["opened_on"], row["days"], today)


def counts_of(rows: list[dict], today: datetime.date) -> work.Counts:
    totals = work.Counts()
    for row in rows:
        state = state_of(row, today)
        setattr(totals, state, getattr(totals, state) + row["n"])
    return totals


def counts(divisions, today: datetime.date | None = None) -> work.Counts:
    """The items of ``divisions`` in each state (the navigation's count)."""
    today = today or timezone.localdate()
    return counts_of(groups(scoped(divisions, today)), today)


# What tells an item's state apart, as work.items' Case does (overdue and
# open differ by the opening day and deadline, which each group fixes).
_STATE_TESTS = {
    work.OPEN: {"feedback_id__isnull": True, "alive": True},
    work.OVERDUE: {"feedback_id__isnull": True, "alive": True},
    work.DONE: {"feedback_id__isnull": False},
    work.LIFTED: {"feedback_id__isnull": True, "alive": False},
}


class Tallied:
    """The items of ``divisions`` in ``states``, narrowed as ``work.narrowed``
    narrows them and in ``work.ordered``'s order, for a paginator: the
    count and each state's count come from the tally (one query), and a
    page is read from ``work.items`` for the few (opening day, deadline,
    listing day) groups it spans, found from the groups' running counts
    (one query): however many items there are, the database reads the
    listings of a few days."""

    def __init__(self, divisions, today, states, **narrowing):
        self.divisions, self.today, self.states = divisions, today, list(states)
        self.narrowing = narrowing
        rows = groups(scoped(divisions, today, **narrowing), "memo_id", "listed_on")
        self.totals = counts_of(rows, today)
        # Open and overdue only: ordered by opening day and deadline, which
        # puts overdue first; otherwise by state first (work.ordered).
        self.ranked = ranked = not set(self.states) <= {work.OPEN, work.OVERDUE}
        merged: Counter = Counter()
        self.memos: dict[tuple, set[int]] = {}
        for row in rows:
            state = state_of(row, today)
            if state in self.states:
                rank = work.RANK[state] if ranked else 0
                key = (rank, row["opened_on"], row["days"], row["listed_on"], state)
                merged[key] += row["n"]
                self.memos.setdefault(key, set()).add(row["memo_id"])
        self.groups = sorted(merged.items())

    def count(self) -> int:
        return self.totals.of(self.states)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("Tallied items are read a page (a slice) at a time")
        start, stop, _ = index.indices(self.count())
        if stop <= start:
            return []
        spanned, skip, seen = [], 0, 0
        for key, n in self.groups:
            if seen + n > start and seen < stop:
                if not spanned:
                    skip = start - seen
                spanned.append(key)
            seen += n
        # One condition per (state, opening day, deadline): the listing days
        # between the first spanned and the last, all of which are on the page.
        days: dict[tuple, list] = {}
        for _, opened_on, deadline, listed_on, state in spanned:
            days.setdefault((state, opened_on, deadline), []).append(listed_on)
        chosen = Q(pk__in=[])
        for (state, opened_on, deadline), listed in days.items():
            chosen |= Q(
                opened_on=opened_on,
                item_days=deadline,
                listed_on__gte=min(listed),
                listed_on__lte=max(listed),
                **_STATE_TESTS[state],
            )
        ranked = self.ranked  # work.ordered sorts by the state's rank then
        items = work.items(self.divisions, self.today, with_state=ranked)
        items = work.narrowed(items, **self.narrowing)
        # Only the memos with items in those groups, and only their listing
        # days: the database starts from the page's few listings.
        memos = set().union(*(self.memos[key] for key in spanned))
        listed_on = [key[3] for key in spanned]
        items = items.filter(
            chosen,
            item_memo__in=sorted(memos),
            listed_on__gte=min(listed_on),
            listed_on__lte=max(listed_on),
        )
        shown = work.ordered(work.with_details(items, page=True), self.states)
        rows = work.subjects_of(list(shown[skip : skip + stop - start]))
        return rows if ranked else work.state_in_python(rows, self.today)
