"""The current list's memos are kept between requests and reloaded on every change.

These tests commit (transactional_db): the cache is used only outside a
transaction, as in a real request, and each change below is made by a
different kind of writer — the ORM, QuerySet.update, bulk_create, raw SQL —
to prove that the database's triggers, not the writer, move the version.
"""

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from measures.models import Division, Measure
from memo_registry.services import memo_cache
from memo_registry.services.lookup import status_for
from memos.models import Department, Memorandum, ResponsibilityList
from tests.factories import (
    DivisionFactory,
    ListingFactory,
    MeasureFactory,
    MemorandumFactory,
    ResponsibilityListFactory,
    SubjectFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = datetime.date(2025, 6, 15)


@pytest.fixture
def flagged():
    """A subject listed under the one memo of the current list, with two measures."""
    current = ResponsibilityListFactory(is_current=True)
    memo = MemorandumFactory(responsibility_list=current, seq=1)
    MeasureFactory(memo=memo, order=1, text="限制评优", divisions=[DivisionFactory(name="人事处")])
    MeasureFactory(memo=memo, order=2, text="重点监管", divisions=[DivisionFactory(name="稽查局")])
    subject = SubjectFactory()
    ListingFactory(subject=subject, target_subject=memo.target_subject)
    return subject


def what_applies(subject) -> list[tuple[str, str, list[str]]]:
    return [
        (item.memo.doc_number, item.measure.text, [d.name for d in item.divisions])
        for item in status_for(subject, TODAY).measures
    ]


def memo_queries(subject) -> list[str]:
    """The queries of one lookup that read the memos, measures or divisions."""
    with CaptureQueriesContext(connection) as captured:
        status_for(subject, TODAY)
    tables = [Memorandum._meta.db_table, Measure._meta.db_table, Division._meta.db_table]
    return [q["sql"] for q in captured if any(f'FROM "{table}"' in q["sql"] for table in tables)]


def test_a_second_lookup_reads_no_memo_from_the_database(flagged):
    first = what_applies(flagged)
    assert [text for _, text, _ in first] == ["限制评优", "重点监管"]
    assert memo_queries(flagged) == []
    assert what_applies(flagged) == first


def test_inside_a_transaction_the_memos_are_read_fresh(flagged):
    what_applies(flagged)
    with transaction.atomic():
        assert memo_queries(flagged) != []


def test_a_measure_saved_through_the_orm_shows_at_once(flagged):
    what_applies(flagged)
    measure = Measure.objects.get(text="限制评优")
    measure.text = "限制评先评优"
    measure.save()
    assert [text for _, text, _ in what_applies(flagged)] == ["限制评先评优", "重点监管"]


def test_a_division_renamed_by_queryset_update_shows_at_once(flagged):
    what_applies(flagged)
    Division.objects.filter(name="稽查局").update(name="执法稽查局")
    assert what_applies(flagged)[1][2] == ["执法稽查局"]


def test_a_measure_added_by_bulk_create_shows_at_once(flagged):
    what_applies(flagged)
    memo = Memorandum.objects.get()
    Measure.objects.bulk_create([Measure(memo=memo, order=3, text="限制融资")])
    assert [text for _, text, _ in what_applies(flagged)] == ["限制评优", "重点监管", "限制融资"]


def test_a_division_unlinked_by_raw_sql_shows_at_once(flagged):
    what_applies(flagged)
    through = Measure.divisions.through._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{through}"')
    assert what_applies(flagged)[0][2] == []


def test_a_department_renamed_reaches_the_cached_memos_at_once(flagged):
    # The cache holds whole memos (Memorandum.objects.with_relations()): their
    # departments are watched like their measures.
    def departments() -> list[str]:
        (memos,) = memo_cache.memos_by_target({flagged.listings.get().target_subject_id}).values()
        return [department.name for department in memos[0].initiating_departments.all()]

    (before,) = departments()
    Department.objects.filter(name=before).update(name="市发展改革委")
    assert departments() == ["市发展改革委"]


def test_a_repealed_memo_stops_applying_at_once(flagged):
    what_applies(flagged)
    Memorandum.objects.update(status=Memorandum.Status.REPEALED, repealed_on=TODAY)
    assert what_applies(flagged) == []


def test_another_current_list_takes_over_at_once(flagged):
    what_applies(flagged)
    ResponsibilityListFactory(doc_number="测试监管〔2030〕1号").make_current()
    assert what_applies(flagged) == []
    assert ResponsibilityList.current().doc_number == "测试监管〔2030〕1号"


def test_a_rolled_back_change_leaves_the_cache_right(flagged):
    before = what_applies(flagged)
    with pytest.raises(RuntimeError), transaction.atomic():
        Measure.objects.filter(text="限制评优").update(text="回滚的修改")
        assert what_applies(flagged)[0][1] == "回滚的修改"  # read fresh inside
        raise RuntimeError
    assert what_applies(flagged) == before


def test_every_watched_table_has_its_trigger():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname LIKE %s",
                ["%_version"],
            )
        else:
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
        tables = {row[0] for row in cursor.fetchall()}
    assert set(memo_cache.watched_tables()) <= tables


def test_install_puts_back_a_trigger_a_table_rebuild_dropped():
    MeasureFactory()
    table = Measure._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f'DROP TRIGGER "{table}_version" ON "{table}"')
        else:
            cursor.execute(f'DROP TRIGGER "{table}_version_update"')
    before = memo_cache.registry_version()
    memo_cache.install()
    Measure.objects.update(text="任意")
    assert memo_cache.registry_version() > before


# --- writers the process cannot see: TRUNCATE, another connection --------------------


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        # A watched table emptied directly: the measures stay, their divisions go.
        ('TRUNCATE "{through}"', [("限制评优", []), ("重点监管", [])]),
        # Watched tables emptied by a cascade from another: nothing applies.
        ('TRUNCATE "{measure}" CASCADE', []),
    ],
)
def test_a_truncate_shows_at_once(flagged, statement, expected):
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's: SQLite has no such statement")
    what_applies(flagged)
    assert memo_queries(flagged) == []  # served from the cache until the truncate
    tables = {
        "through": Measure.divisions.through._meta.db_table,
        "measure": Measure._meta.db_table,
    }
    with connection.cursor() as cursor:
        cursor.execute(statement.format(**tables))
    assert [(text, divisions) for _, text, divisions in what_applies(flagged)] == expected


def test_a_change_committed_by_another_connection_shows_at_once(flagged):
    """Another worker or machine writing: here a thread, whose Django connection
    is its own, commits a change while this connection's cache is warm."""
    what_applies(flagged)
    assert memo_queries(flagged) == []  # served from the cache until the write
    ours = connection.connection
    theirs, errors = [], []

    def write_elsewhere():
        try:
            connection.ensure_connection()
            theirs.append(connection.connection)
            Measure.objects.filter(text="限制评优").update(text="限制评先评优")  # autocommit
            Division.objects.filter(name="稽查局").update(name="执法稽查局")
        except Exception as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=write_elsewhere)
    thread.start()
    thread.join()
    assert errors == []
    assert theirs and theirs[0] is not ours  # a second connection, not this one
    doc_number = Memorandum.objects.get().doc_number
    assert what_applies(flagged) == [
        (doc_number, "限制评先评优", ["人事处"]),
        (doc_number, "重点监管", ["执法稽查局"]),
    ]
