"""The text rules the import added to memo_registry.lib.text."""

import pytest

from memo_registry.lib.text import (
    kind_from_title,
    kind_from_word,
    make_formula_inert,
    says_no_function,
    split_names,
    split_numbered,
    undo_formula_inert,
)


@pytest.mark.parametrize(
    ("text", "inert"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=1", "''=1"),
        ("'abc", "'abc"),
        ("普通文字", "普通文字"),
        ("", ""),
    ],
)
def test_formula_like_text_is_made_inert_and_given_back_exactly(text, inert):
    assert make_formula_inert(text) == inert
    assert undo_formula_inert(inert) == text


def test_numbering_separated_by_a_space_between_chinese_characters_splits():
    assert split_numbered("1、甲措施 2、乙措施") == ["甲措施", "乙措施"]
    assert split_numbered("1、甲措施\u30002、乙措施") == ["甲措施", "乙措施"]


def test_numbering_out_of_sequence_or_inside_a_sentence_does_not_split():
    assert split_numbered("1、10、其他") == ["10、其他"]
    assert split_numbered("限制 2、3 年内") == ["限制2、3年内"]


def test_names_split_on_commas_never_on_and():
    assert split_names("有关业务处室和直属机构、人事处，法规处;稽查局") == [
        "有关业务处室和直属机构",
        "人事处",
        "法规处",
        "稽查局",
    ]
    assert split_names("市场处、稽查局") == ["市场处", "稽查局"]  # no shared 市 prefix


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("激励", "reward"),
        ("奖 励", "reward"),
        ("守信激励", "reward"),
        ("惩戒", "punishment"),
        ("失信惩戒", "punishment"),
        ("表扬", None),
        ("", None),
    ],
)
def test_kind_words(word, kind):
    assert kind_from_word(word) == kind


def test_kind_from_title_needs_exactly_one_of_the_two_words():
    assert kind_from_title("关于对海关高级认证企业实施联合激励的合作备忘录") == "reward"
    assert kind_from_title("失信企业协同监管和联合惩戒合作备忘录") == "punishment"
    assert kind_from_title("守信联合激励和失信联合惩戒合作备忘录") is None
    assert kind_from_title("合作备忘录") is None


def test_no_function_is_recognised_through_pdf_spacing():
    assert says_no_function("我市质监部门 无 相 关 职 能")
    assert not says_no_function("加大抽查频次")
