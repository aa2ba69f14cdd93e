"""``Memorandum.objects``: the one in-force filter, the one list filter and the one
way to load a memo with everything it is shown with."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from measures.models import Measure
from memos.models import Memorandum
from tests.factories import (
    DepartmentFactory,
    DivisionFactory,
    MeasureFactory,
    MemorandumFactory,
    ResponsibilityListFactory,
)

pytestmark = pytest.mark.django_db


def doc_numbers(memos) -> list[str]:
    return sorted(memo.doc_number for memo in memos)


@pytest.fixture
def lists():
    """A current list with a memo in force and a repealed one; an older list with one memo."""
    current = ResponsibilityListFactory(is_current=True)
    older = ResponsibilityListFactory()
    MemorandumFactory(responsibility_list=current, doc_number="现行〔2020〕1号")
    MemorandumFactory(
        responsibility_list=current,
        doc_number="现行〔2020〕2号",
        status=Memorandum.Status.REPEALED,
        repealed_on=datetime.date(2021, 1, 1),
    )
    MemorandumFactory(responsibility_list=older, doc_number="旧〔2016〕1号")
    return current, older


def test_of_list_is_the_current_list_unless_another_is_named(lists):
    current, older = lists
    assert doc_numbers(Memorandum.objects.of_list()) == ["现行〔2020〕1号", "现行〔2020〕2号"]
    assert doc_numbers(Memorandum.objects.of_list(current)) == doc_numbers(
        Memorandum.objects.of_list()
    )
    assert doc_numbers(Memorandum.objects.of_list(older)) == ["旧〔2016〕1号"]


def test_without_a_current_list_of_list_has_no_memo(lists):
    current, _ = lists
    current.is_current = False
    current.save()
    assert list(Memorandum.objects.of_list()) == []


def test_in_force_leaves_the_repealed_memos_out(lists):
    assert doc_numbers(Memorandum.objects.of_list().in_force()) == ["现行〔2020〕1号"]


@pytest.fixture
def memo():
    """A memo whose names sort otherwise than they were entered, and measures
    entered out of order: the document's order is the order of entry (by id)
    for departments and divisions and ``order`` for measures."""
    memo = MemorandumFactory(
        initiating_departments=[
            DepartmentFactory(name="市国税局"),
            DepartmentFactory(name="市地税局"),
        ]
    )
    MeasureFactory(
        memo=memo,
        order=2,
        text="第二项",
        divisions=[DivisionFactory(name="稽查局"), DivisionFactory(name="人事处")],
    )
    MeasureFactory(memo=memo, order=1, text="第一项", divisions=[DivisionFactory(name="法规处")])
    return memo


def shown(memo: Memorandum) -> dict:
    """Everything a page, the API or an export reads of a memo."""
    return {
        "list": memo.responsibility_list.doc_number,
        "target": memo.target_subject.label,
        "implementing": memo.implementing_department.name,
        "departments": [department.name for department in memo.initiating_departments.all()],
        "measures": [
            (measure.text, [division.name for division in measure.divisions.all()])
            for measure in memo.measures.all()
        ],
        "basis": [measure.basis_status for measure in memo.measures.all()],
    }


def test_with_relations_gives_departments_measures_and_divisions_in_the_document_s_order(memo):
    loaded = Memorandum.objects.with_relations().get(pk=memo.pk)
    assert shown(loaded)["departments"] == ["市国税局", "市地税局"]
    assert shown(loaded)["measures"] == [("第一项", ["法规处"]), ("第二项", ["稽查局", "人事处"])]


def test_with_relations_reads_every_memo_in_five_queries(memo):
    for _ in range(5):
        MeasureFactory(memo=MemorandumFactory(responsibility_list=memo.responsibility_list))

    def queries_to_show_them() -> int:
        with CaptureQueriesContext(connection) as captured:
            for loaded in Memorandum.objects.with_relations():
                shown(loaded)
        return len(captured)

    # The memos (with list, target and implementing department), their
    # departments, their measures, the measures' divisions and legal bases.
    assert queries_to_show_them() == 5
    MeasureFactory(memo=MemorandumFactory(responsibility_list=memo.responsibility_list))
    assert queries_to_show_them() == 5


def test_with_relations_shows_only_the_measures_it_is_given(memo):
    first = Measure.objects.filter(text="第一项")
    loaded = Memorandum.objects.with_relations(measures=first).get(pk=memo.pk)
    assert shown(loaded)["measures"] == [("第一项", ["法规处"])]


def test_with_relations_may_be_applied_again_as_the_export_does_to_the_page_s_queryset(memo):
    narrowed = Memorandum.objects.with_relations(measures=Measure.objects.filter(text="第一项"))
    # A second prefetch of "measures" beside the first would raise ValueError.
    loaded = narrowed.with_relations().get(pk=memo.pk)
    assert [text for text, _ in shown(loaded)["measures"]] == ["第一项", "第二项"]
