"""The 2018 fixture matches the document item by item."""

import datetime

import pytest

from measures.models import Division, Measure
from memos.models import Department, Memorandum
from tests.document_2018 import (
    IMPLEMENTING,
    ITEMS,
    LIST_DOC_NUMBER,
    LIST_ISSUED_ON,
    LIST_ISSUER,
    LIST_TITLE,
)

pytestmark = pytest.mark.django_db


def test_it_loads_the_list_as_current(list_2018):
    assert list_2018.doc_number == LIST_DOC_NUMBER
    assert list_2018.title == LIST_TITLE
    assert list_2018.issuer == LIST_ISSUER
    assert list_2018.issued_on == datetime.date.fromisoformat(LIST_ISSUED_ON)
    assert list_2018.is_current


def test_it_holds_ten_memoranda_and_eleven_measures(list_2018):
    assert Memorandum.objects.filter(responsibility_list=list_2018).count() == 10
    assert Measure.objects.filter(memo__responsibility_list=list_2018).count() == 11


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: f"item{item.seq}")
def test_each_memo_reads_as_the_document(list_2018, item):
    memo = Memorandum.objects.get(responsibility_list=list_2018, seq=item.seq)
    assert memo.doc_number == item.doc_number
    assert memo.title == item.title
    assert memo.kind == item.kind
    assert sorted(d.name for d in memo.initiating_departments.all()) == sorted(item.departments)
    assert memo.implementing_department.name == IMPLEMENTING
    assert memo.target_subject.definition == item.definition
    assert memo.target_subject.label == item.label
    assert memo.no_function == bool(item.no_function_note)
    assert memo.no_function_note == item.no_function_note
    assert memo.status == Memorandum.Status.IN_FORCE
    measures = list(memo.measures.order_by("order"))
    assert [(m.order, m.text) for m in measures] == [
        (n, text) for n, (text, _) in enumerate(item.measures, 1)
    ]
    assert [sorted(d.name for d in m.divisions.all()) for m in measures] == [
        sorted(divisions) for _, divisions in item.measures
    ]


def test_items_five_and_nine_have_no_measures(list_2018):
    for seq in (5, 9):
        memo = Memorandum.objects.get(responsibility_list=list_2018, seq=seq)
        assert memo.no_function
        assert not memo.measures.exists()


def test_kinds_follow_the_titles(list_2018):
    kinds = dict(Memorandum.objects.values_list("seq", "kind"))
    assert {seq for seq, kind in kinds.items() if kind == "reward"} == {1, 2, 3}
    assert {seq for seq, kind in kinds.items() if kind == "punishment"} == set(range(4, 11))


def test_no_name_keeps_pdf_spacing(list_2018):
    names = [d.name for d in Department.objects.all()] + [d.name for d in Division.objects.all()]
    assert names
    for name in names:
        assert " " not in name and "\u3000" not in name, name


def test_shared_departments_and_divisions_are_not_duplicated(list_2018):
    assert Department.objects.filter(name="武汉海关").count() == 1
    assert sorted(Department.objects.values_list("name", flat=True)) == sorted(
        {name for item in ITEMS for name in item.departments} | {IMPLEMENTING}
    )
    assert Department.objects.count() == 11  # 10 initiating + 全市质监部门
    assert sorted(Division.objects.values_list("name", flat=True)) == sorted(
        ["有关业务处室和直属机构", "人事处", "行政审批处"]
    )
