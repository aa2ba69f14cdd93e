"""The lookup: a subject is put on a listing; which memos apply, with which measures and divisions."""

import datetime

import pytest

from memo_registry.services.lookup import listing_labels, measures_for_listing
from memos.models import Memorandum, ResponsibilityList
from tests.document_2018 import ITEMS, YW
from tests.factories import (
    MeasureFactory,
    MemorandumFactory,
    ResponsibilityListFactory,
    TargetSubjectFactory,
)

pytestmark = pytest.mark.django_db


def answer_seqs(query, **kwargs):
    return [memo.seq for memo in measures_for_listing(query, **kwargs).memos]


def test_a_flagged_judgment_debtor_needs_nothing_from_the_bureau(list_2018):
    answer = measures_for_listing("失信被执行人")
    assert answer.count == 1
    (match,) = answer.matches
    assert match.memo.seq == 5
    assert match.match == "label"
    assert match.memo.no_function
    assert match.memo.no_function_note == "我市质监部门无相关职能"
    assert list(match.memo.measures.all()) == []


def test_a_serious_quality_offender_gets_item_7_s_three_measures(list_2018):
    answer = measures_for_listing("严重质量违法失信")
    assert [memo.seq for memo in answer.memos] == [7]
    memo = answer.memos[0]
    measures = [
        (measure.text, [division.name for division in measure.divisions.all()])
        for measure in memo.measures.all()
    ]
    assert measures == ITEMS[6].measures
    assert {division for _, divisions in measures for division in divisions} == {YW}


def test_customs_dishonest_enterprises_need_nothing_either(list_2018):
    answer = measures_for_listing("海关失信企业")
    assert [memo.seq for memo in answer.memos] == [9]
    assert answer.memos[0].no_function_note == "我市质监无相关职能"


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: f"item{item.seq}")
def test_every_label_of_the_document_finds_its_own_memo_first(list_2018, item):
    answer = measures_for_listing(item.label)
    assert answer.memos[0].seq == item.seq
    assert answer.matches[0].match == "label"


def test_an_exact_label_comes_before_labels_that_only_contain_it(list_2018):
    answer = measures_for_listing("失信企业")
    assert answer.matches[0].memo.seq == 4
    assert [match.memo.seq for match in answer.exact] == [4]
    others = {match.memo.seq: match.match for match in answer.others}
    assert others[9] == "label_contains"  # 海关失信企业


def test_a_word_of_the_definition_finds_the_memo(list_2018):
    answer = measures_for_listing("5A级青年志愿者")
    assert [(match.memo.seq, match.match) for match in answer.matches] == [(2, "definition")]


def test_pinyin_initials_of_a_label_find_the_memo(list_2018):
    answer = measures_for_listing("sxbzxr")
    assert [(match.memo.seq, match.match) for match in answer.matches] == [(5, "initials")]


def test_full_width_letters_find_the_label(list_2018):
    assert answer_seqs("纳税信用Ａ级纳税人") == [1]


def test_a_word_matching_nothing_gives_an_empty_answer(list_2018):
    answer = measures_for_listing("不存在的名单")
    assert answer.count == 0
    assert answer.query == "不存在的名单"


def test_an_empty_or_control_character_query_matches_nothing(list_2018):
    assert measures_for_listing("").count == 0
    assert measures_for_listing(None).count == 0
    assert measures_for_listing("\x00\x1f").count == 0


def test_a_repealed_memo_is_not_an_answer(list_2018):
    Memorandum.objects.filter(seq=7).update(
        status=Memorandum.Status.REPEALED, repealed_on=datetime.date(2020, 1, 1)
    )
    assert answer_seqs("严重质量违法失信") == []


def test_memos_of_another_list_are_not_an_answer(list_2018):
    old = ResponsibilityListFactory(doc_number="旧监管〔2015〕1号")
    MemorandumFactory(responsibility_list=old, target_subject=TargetSubjectFactory(label="旧名单"))
    assert answer_seqs("旧名单") == []
    assert len(answer_seqs("旧名单", responsibility_list=old)) == 1


def test_without_a_current_list_there_is_no_answer_and_no_error(db):
    assert ResponsibilityList.current() is None
    answer = measures_for_listing("失信被执行人")
    assert answer.count == 0
    assert answer.responsibility_list is None
    assert listing_labels(None) == []


def test_labels_to_choose_from_are_grouped_by_kind_in_the_list_s_order(list_2018):
    labels = listing_labels(list_2018)
    assert labels == [
        ("激励", [item.label for item in ITEMS if item.kind == "reward"]),
        ("惩戒", [item.label for item in ITEMS if item.kind == "punishment"]),
    ]


def test_a_label_shared_by_two_memos_is_offered_once_and_finds_both(db):
    current = ResponsibilityListFactory(is_current=True)
    subject = TargetSubjectFactory(label="共享名单")
    first = MemorandumFactory(responsibility_list=current, seq=1, target_subject=subject)
    second = MemorandumFactory(responsibility_list=current, seq=2, target_subject=subject)
    MeasureFactory(memo=second, order=1)
    assert listing_labels(current) == [("惩戒", ["共享名单"])]
    assert measures_for_listing("共享名单").memos == [first, second]


def test_measures_come_in_the_list_s_order(db):
    current = ResponsibilityListFactory(is_current=True)
    memo = MemorandumFactory(responsibility_list=current)
    MeasureFactory(memo=memo, order=3, text="第三项")
    MeasureFactory(memo=memo, order=1, text="第一项")
    MeasureFactory(memo=memo, order=2, text="第二项")
    (answer,) = measures_for_listing(memo.target_subject.label).memos
    assert [measure.text for measure in answer.measures.all()] == ["第一项", "第二项", "第三项"]
