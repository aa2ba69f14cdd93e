"""The work tally (issue 14, part 11): /work/, the navigation's count and
/stats/ read counts kept in the writers' transactions instead of computing
every item.  Its counts must be the computed query's, on any world and any
day: generated worlds, compared state by state, page by page and for the
statistics, on both databases; and every write either keeps it exact or
leaves it stale for the next reader to rebuild, never wrong."""

import datetime
import random
from collections import Counter, defaultdict

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from measures.models import Division, Feedback, WorkTally
from memo_registry.imports.listings.lifting import lift_listings
from memo_registry.lib import workdays
from memo_registry.lib.spreadsheet import UPLOAD, open_rows
from memo_registry.services import feedback as feedback_service
from memo_registry.services import stats, work, work_tally
from memos.models import Memorandum
from subjects.models import Listing
from tests.factories import (
    DivisionFactory,
    FeedbackFactory,
    ListingFactory,
    MeasureFactory,
    MemorandumFactory,
    ResponsibilityListFactory,
    SubjectFactory,
    TargetSubjectFactory,
    valid_uscc,
)
from tests.listing_sheets import csv_file

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
START = datetime.date(2019, 6, 1)
STATES = [work.OPEN, work.OVERDUE, work.DONE, work.LIFTED]


def _day(rng, span=1500):
    return START + rng.randrange(span) * DAY


def build_world(seed: int) -> dict:
    """A current list of four memos on three target subjects (one taking
    effect later, one repealed on a day, one with no function here), an old
    list, measures of one or two divisions with and without their own
    deadline, and subjects listed, re-listed, expired, lifted and reported
    on at random."""
    rng = random.Random(seed)
    current = ResponsibilityListFactory(is_current=True, issued_on=datetime.date(2020, 1, 1))
    old = ResponsibilityListFactory(is_current=False, issued_on=datetime.date(2016, 1, 1))
    targets = [TargetSubjectFactory() for _ in range(3)]
    divisions = [DivisionFactory() for _ in range(3)]
    memos = [
        MemorandumFactory(responsibility_list=current, target_subject=targets[0]),
        MemorandumFactory(
            responsibility_list=current,
            target_subject=targets[1],
            effective_on=datetime.date(2021, 3, 15),
        ),
        MemorandumFactory(
            responsibility_list=current,
            target_subject=targets[1],
            status=Memorandum.Status.REPEALED,
            repealed_on=datetime.date(2022, 6, 1),
        ),
        MemorandumFactory(responsibility_list=current, target_subject=targets[2]),
        MemorandumFactory(responsibility_list=current, target_subject=targets[2], no_function=True),
        MemorandumFactory(responsibility_list=old, target_subject=targets[0]),
    ]
    measures = []
    for memo in memos:
        for _ in range(rng.randint(1, 3)):
            chosen = rng.sample(divisions, rng.choice([1, 1, 2]))
            measures.append(
                MeasureFactory(
                    memo=memo,
                    divisions=chosen,
                    feedback_working_days=rng.choice([None, None, 5, 30]),
                )
            )
    subjects = [SubjectFactory() for _ in range(30)]
    for subject in subjects:
        listed = _day(rng)
        for _ in range(rng.choice([1, 1, 2, 3])):
            target = rng.choice(targets)
            expires = rng.choice([None, listed + rng.randrange(30, 900) * DAY])
            lifted = rng.choice([None, None, listed + rng.randrange(0, 700) * DAY])
            if Listing.objects.filter(
                subject=subject, target_subject=target, listed_on=listed
            ).exists():
                continue
            ListingFactory(
                subject=subject,
                target_subject=target,
                listed_on=listed,
                expires_on=expires,
                lifted_on=lifted,
            )
            # The next listing: often while this one is in force (it carries
            # the item on), sometimes after it ended.
            listed = listed + rng.randrange(-200, 600) * DAY
    for _ in range(40):
        subject, measure = rng.choice(subjects), rng.choice(measures)
        division = rng.choice(list(measure.divisions.all()))
        report = FeedbackFactory(
            subject=subject, measure=measure, division=division, done_on=_day(rng, 1800)
        )
        if rng.random() < 0.2:
            Feedback.objects.filter(pk=report.pk).update(withdrawn_at=timezone.now())
    return {"divisions": divisions, "subjects": subjects, "measures": measures, "targets": targets}


def computed_counts(divisions, today) -> work.Counts:
    return work.count_states(work.items(divisions, today), STATES)


def tallied_content() -> Counter:
    totals: Counter = Counter()
    for row in WorkTally.objects.values(*work_tally._COLUMNS, "n"):
        key = tuple(work_tally._as_date(row[column]) for column in work_tally._COLUMNS)
        totals[key] += row["n"]
    return +totals  # zero counts dropped


def assert_tally_exact():
    assert work_tally.is_fresh()
    assert tallied_content() == +work_tally._counts_of(None)


DAYS = [
    datetime.date(2019, 12, 31),
    datetime.date(2020, 1, 2),
    datetime.date(2021, 3, 15),
    datetime.date(2022, 6, 1),
    datetime.date(2023, 7, 14),
    datetime.date(2026, 11, 30),
]


@pytest.mark.parametrize("seed", range(4))
def test_the_tally_counts_every_state_as_the_computed_items_do(seed):
    world = build_world(seed)
    work_tally.rebuild()
    assert_tally_exact()
    for today in DAYS:
        for divisions in [None, *([division.pk] for division in world["divisions"])]:
            assert work_tally.counts(divisions, today) == computed_counts(divisions, today), (
                today,
                divisions,
            )


def _computed_page_keys(divisions, today, states, **narrowing):
    items = work.narrowed(work.items(divisions, today), **narrowing).filter(state__in=states)
    return [
        (row.pk, row.item_measure, row.item_division, row.state)
        for row in work.ordered(work.with_details(items), states)
    ]


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize(
    "states", [[work.OPEN, work.OVERDUE], [work.DONE], [work.LIFTED], STATES], ids=str
)
def test_tallied_pages_hold_the_computed_items_in_order(seed, states):
    world = build_world(seed + 10)
    today = datetime.date(2023, 7, 14)
    divisions = [world["divisions"][0].pk, world["divisions"][1].pk]
    expected = _computed_page_keys(divisions, today, states)
    items = work_tally.Tallied(divisions, today, states)
    assert items.count() == len(expected)
    read = []
    for start in range(0, len(expected) + 7, 7):  # pages of 7 cut through the groups
        read += [
            (row.pk, row.item_measure, row.item_division, row.state)
            for row in items[start : start + 7]
        ]
    assert read == expected
    assert all(row.subject.name for row in items[0:7])


def test_tallied_pages_follow_the_list_and_date_filters():
    world = build_world(21)
    today = datetime.date(2026, 11, 30)
    label = world["targets"][1].label
    narrowing = {
        "label": label[:-1],
        "exact": False,
        "listed_from": datetime.date(2020, 6, 1),
        "listed_to": datetime.date(2022, 12, 31),
    }
    expected = _computed_page_keys(None, today, STATES, **narrowing)
    items = work_tally.Tallied(None, today, STATES, **narrowing)
    assert [(r.pk, r.item_measure, r.item_division, r.state) for r in items[0:1000]] == expected
    assert items.count() == len(expected)


def _computed_stats(start, end, today) -> dict:
    """Per division: opened, on time, late, open, overdue, lifted from the items themselves."""
    rows: dict = defaultdict(Counter)
    items = work.items(None, today).filter(opened_on__gte=start, opened_on__lte=end)
    for item in items:
        kind = item.state
        if kind == work.DONE:
            due = workdays.add_working_days(item.opened_on, item.item_days)
            kind = "on_time" if item.feedback_on <= due else "late"
        rows[item.item_division]["opened"] += 1
        rows[item.item_division][kind] += 1
    return rows


@pytest.mark.parametrize("seed", range(3))
def test_the_statistics_count_what_the_items_say(seed):
    build_world(seed + 30)
    today = datetime.date(2024, 5, 6)
    start, end = datetime.date(2020, 1, 1), datetime.date(2023, 12, 31)
    expected = _computed_stats(start, end, today)
    shown = stats.compute(start, end, today)
    assert {
        row.key: +Counter(
            opened=row.opened,
            on_time=row.on_time,
            late=row.late,
            open=row.open,
            overdue=row.overdue,
            lifted=row.lifted,
        )
        for row in shown.divisions
        if row.opened
    } == {key: +value for key, value in expected.items()}
    assert expected  # the world gives the period items to count


# --- the writers ----------------------------------------------------------------------


def _member(user_model, division):
    user = user_model.objects.create_user(f"clerk{division.pk}", password="pw-Registry-2018")
    user.groups.add(Group.objects.get(name="查阅"))
    division.members.add(user)
    return user


def test_feedback_recorded_and_withdrawn_keeps_the_tally_exact_without_a_rebuild(
    django_user_model,
):
    world = build_world(40)
    work_tally.rebuild()
    today = timezone.localdate()
    open_item = (
        work.items(None, today).filter(state__in=[work.OPEN, work.OVERDUE]).order_by("pk").first()
    )
    assert open_item is not None
    division = Division.objects.get(pk=open_item.item_division)
    user = _member(django_user_model, division)
    report = feedback_service.record_from(
        user,
        {
            "subject": open_item.subject_id,
            "measure": open_item.item_measure,
            "division": division.pk,
            "outcome": Feedback.Outcome.APPLIED,
            "done_on": today,
        },
    )
    assert_tally_exact()
    before = work_tally.counts([division.pk], today)
    assert before == computed_counts([division.pk], today)
    feedback_service.withdraw(report, user)
    assert_tally_exact()
    after = work_tally.counts([division.pk], today)
    assert after.done == before.done - 1
    assert after.total == before.total + 1
    assert world  # the world stays as built


def test_a_refused_withdrawal_leaves_the_tally_as_it_was(django_user_model):
    from django.core.exceptions import PermissionDenied

    build_world(41)
    report = Feedback.objects.filter(withdrawn_at=None).first()
    work_tally.rebuild()
    before = tallied_content()
    outsider = django_user_model.objects.create_user("outsider", password="pw-Registry-2018")
    with pytest.raises(PermissionDenied):
        feedback_service.withdraw(report, outsider)
    assert tallied_content() == before
    assert_tally_exact()


def test_bulk_lifting_keeps_the_tally_exact_and_lifts_the_items(tmp_path):
    build_world(42)
    work_tally.rebuild()
    listing = (
        Listing.objects.filter(lifted_on=None, expires_on=None)
        .select_related("subject", "target_subject")
        .order_by("pk")
        .first()
    )
    lifted_on = max(listing.listed_on, datetime.date(2024, 1, 2))
    path = csv_file(
        tmp_path / "lift.csv",
        ["统一社会信用代码", "列入依据", "移出日期", "移出原因"],
        [[listing.subject.code, listing.target_subject.label, lifted_on.isoformat(), "信用修复"]],
    )
    info, rows = open_rows(path, UPLOAD)
    lift_listings(rows, file_name=info.file_name, sha256=info.sha256, write=True)
    listing.refresh_from_db()
    assert listing.lifted_on == lifted_on
    assert_tally_exact()


def test_a_write_the_tally_did_not_see_makes_the_next_reader_rebuild_it():
    world = build_world(43)
    work_tally.rebuild()
    today = datetime.date(2026, 11, 30)
    # Raw writes: an UPDATE past the models, and a memo's 生效日期 in the admin.
    Listing.objects.filter(subject=world["subjects"][0]).update(lifted_on=F("listed_on"))
    assert not work_tally.is_fresh()
    assert work_tally.counts(None, today) == computed_counts(None, today)
    assert_tally_exact()
    memo = Memorandum.objects.filter(responsibility_list__is_current=True).first()
    memo.effective_on = datetime.date(2023, 1, 1)
    memo.save()
    assert not work_tally.is_fresh()
    assert work_tally.counts(None, today) == computed_counts(None, today)
    assert_tally_exact()


def test_a_deadline_changed_on_a_measure_reaches_the_counts():
    world = build_world(44)
    today = datetime.date(2023, 7, 14)
    work_tally.rebuild()
    for measure in world["measures"]:
        measure.feedback_working_days = 1
        measure.save()
    assert work_tally.counts(None, today) == computed_counts(None, today)


def test_a_listing_import_leaves_the_tally_fresh_with_the_new_items(tmp_path):
    from memo_registry.imports.listings import import_subject_rows

    current = ResponsibilityListFactory(is_current=True, issued_on=datetime.date(2020, 1, 1))
    target = TargetSubjectFactory(label="失信企业")
    memo = MemorandumFactory(responsibility_list=current, target_subject=target)
    division = DivisionFactory()
    MeasureFactory(memo=memo, divisions=[division])
    work_tally.rebuild()
    assert work_tally.counts([division.pk]).total == 0
    path = csv_file(
        tmp_path / "week.csv",
        ["统一社会信用代码", "名称", "列入依据", "列入日期"],
        [
            [valid_uscc(7001), "武汉甲公司", "失信企业", "2026-11-02"],
            [valid_uscc(7002), "武汉乙公司", "失信企业", "2026-11-03"],
        ],
    )
    info, rows = open_rows(path, UPLOAD)
    import_subject_rows(rows, file_name=info.file_name, sha256=info.sha256)
    assert work_tally.is_fresh()
    assert work_tally.counts([division.pk]).total == 2
    assert_tally_exact()
    # The same file again changes no listing: the tally stays, not rebuilt.
    kept = set(WorkTally.objects.values_list("pk", flat=True))
    info, rows = open_rows(path, UPLOAD)
    result = import_subject_rows(rows, file_name=info.file_name, sha256=info.sha256)
    assert result.listings_created == result.listings_updated == 0
    assert work_tally.is_fresh()
    assert set(WorkTally.objects.values_list("pk", flat=True)) == kept
    assert_tally_exact()


def test_the_navigation_count_reads_the_tally_in_a_fixed_number_of_queries(
    client, django_user_model
):
    world = build_world(45)
    work_tally.rebuild()
    division = world["divisions"][0]
    user = _member(django_user_model, division)
    client.force_login(user)
    client.get("/")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/").status_code == 200
        return len(captured)

    small = queries()
    for n in range(40):
        ListingFactory(target_subject=world["targets"][0], listed_on=START + n * DAY)
    work_tally.rebuild()
    assert queries() == small


@pytest.mark.django_db(transaction=True)
def test_a_listing_write_committed_after_a_rebuild_is_not_missed():
    """Writer A holds an uncommitted change while a reader rebuilds the tally
    and a second writer commits: neither waits for A, and once A commits
    the tally is stale, and the next count has A's change."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's writers take turns: no write can be in flight during a rebuild")
    import psycopg2

    world = build_world(46)
    today = datetime.date(2026, 11, 30)
    first, second = world["subjects"][0], world["subjects"][1]
    slow = psycopg2.connect(**connection.get_connection_params())
    slow.autocommit = False
    try:
        with slow.cursor() as statement:
            statement.execute(
                "UPDATE subjects_listing SET lifted_on = listed_on WHERE subject_id = %s",
                [first.pk],
            )
        work_tally.rebuild()  # does not wait for the open transaction
        Listing.objects.filter(subject=second).update(lifted_on=F("listed_on"))
        assert work_tally.counts(None, today) == computed_counts(None, today)
        assert work_tally.is_fresh()
        slow.commit()
    finally:
        slow.close()
    assert not work_tally.is_fresh()
    assert work_tally.counts(None, today) == computed_counts(None, today)
    assert_tally_exact()
