"""Searching memos: Chinese substrings, 文号 in any bracket style, pinyin initials."""

import datetime

import pytest

from memo_registry.services.search import clean_query, initials, initials_query, search_memos
from memos.models import Memorandum
from tests.factories import MemorandumFactory

pytestmark = pytest.mark.django_db


def seqs(query):
    memos = Memorandum.objects.order_by("seq")
    return [memo.seq for memo in search_memos(memos, query)]


def test_an_empty_query_finds_every_memo(list_2018):
    assert seqs("") == list(range(1, 11))
    assert seqs("   ") == list(range(1, 11))


def test_it_finds_a_memo_by_a_word_of_its_title(list_2018):
    assert seqs("青年志愿者") == [2]


def test_it_finds_memos_by_a_department(list_2018):
    assert seqs("武汉海关") == [3, 9]


def test_it_finds_a_memo_by_the_text_of_a_measure(list_2018):
    assert seqs("从业资格") == [7]


def test_it_finds_a_memo_by_a_division(list_2018):
    assert seqs("行政审批处") == [4]


def test_it_finds_a_memo_by_its_no_function_note(list_2018):
    assert seqs("无相关职能") == [5, 9]


def test_a_memo_matching_several_measures_comes_once(list_2018):
    # Item 7's three measures all belong to 有关业务处室和直属机构.
    assert seqs("有关业务处室").count(7) == 1


def test_it_finds_a_doc_number_typed_with_ascii_brackets(list_2018):
    assert seqs("发改财金(2016)141号") == [5]
    assert seqs("发改财金【2016】141号") == [5]
    assert seqs("发改财金 （ 2016 ） 141 号") == [5]


def test_full_width_latin_letters_find_half_width_ones(list_2018):
    assert seqs("纳税信用Ａ级") == [1]


def test_lower_case_letters_find_upper_case_ones(list_2018):
    assert seqs("a级纳税人") == [1]


def test_full_width_brackets_find_half_width_ones(list_2018):
    # The 2018 list now prints them full-width as the document does
    # (fixtures/README.md); a memo typed in the admin may still have half-width ones.
    typed = MemorandumFactory(responsibility_list=list_2018, seq=11)
    typed.target_subject.definition = "有关企业及其法定代表人(负责人)、董事"
    typed.target_subject.save()
    assert seqs("法定代表人（负责人）、董事") == [9, 11]


def test_half_width_brackets_find_full_width_ones(list_2018):
    # Item 4's definition has full-width ones: 法定代表人（负责人）.
    assert 4 in seqs("法定代表人(负责人)")


def test_it_finds_a_memo_by_pinyin_initials_of_its_target_subject(list_2018):
    assert seqs("sxbzxr") == [5]


def test_pinyin_initials_are_case_blind(list_2018):
    assert seqs("SXBZXR") == [5]


def test_it_finds_memos_by_pinyin_initials_of_a_department(list_2018):
    assert seqs("whhg") == [3, 9]


def test_it_finds_a_memo_by_pinyin_initials_of_a_division(list_2018):
    assert seqs("xzspc") == [4]


def test_initials_in_the_middle_of_a_label_match(list_2018):
    # 海关高级认证企业 → hggjrzqy
    assert seqs("gjrz") == [3]


def test_a_single_letter_is_not_taken_as_initials():
    assert initials_query("s") == ""
    assert initials_query("sx") == "sx"
    assert initials_query("失信") == ""
    assert initials_query("a1") == ""


def test_initials_keep_latin_letters_and_digits():
    assert initials("失信被执行人") == "sxbzxr"
    assert initials("纳税信用A级纳税人") == "nsxyajnsr"
    assert initials("5A级青年志愿者") == "5ajqnzyz"


def test_control_characters_are_dropped_from_the_query(list_2018):
    assert clean_query("失信\x00被执行人\x07") == "失信被执行人"
    assert seqs("\x00失信被执行人") == [5]


def test_a_long_query_is_cut_not_refused(list_2018):
    assert len(clean_query("失" * 10_000)) == 100
    assert seqs("失" * 10_000) == []


def test_a_query_of_only_control_characters_finds_everything(list_2018):
    assert seqs("\x00\x01") == list(range(1, 11))


def test_like_wildcards_are_taken_literally(list_2018):
    assert seqs("%") == []
    assert seqs("_") == []


def test_search_keeps_the_given_queryset_s_filters(list_2018):
    rewards = Memorandum.objects.filter(kind="reward")
    assert [memo.seq for memo in search_memos(rewards, "海关")] == [3]


def test_repealed_memos_are_found_when_the_queryset_includes_them(db):
    memo = MemorandumFactory(
        title="关于对测试失信主体实施联合惩戒的合作备忘录",
        status=Memorandum.Status.REPEALED,
        repealed_on=datetime.date(2020, 1, 1),
    )
    assert list(search_memos(Memorandum.objects.all(), "测试失信")) == [memo]
