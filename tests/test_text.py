"""The text rules that clean PDF and spreadsheet noise."""

import pytest

from memo_registry.lib.text import (
    canonical_doc_number,
    escape_inert_prefix,
    label_from_title,
    search_key,
    split_departments,
    split_numbered,
    squeeze,
    undo_formula_inert,
)


@pytest.mark.parametrize(
    "raw",
    [
        "发改财金 （ 2016 ） 1467 号",
        "发改财金(2016)1467号",
        "发改财金[2016]1467号",
        "发改财金【2016】1467号",
        "发改财金〔2016〕1467号",
        "发改财金﹝2016﹞1467号",
        "发改财金［２０１６］１４６７号",
        " 发改财金\t(2016)\n1467号 ",
    ],
)
def test_it_writes_every_bracket_style_as_gbt9704(raw):
    assert canonical_doc_number(raw) == "发改财金〔2016〕1467号"


def test_it_leaves_brackets_that_hold_no_year():
    assert canonical_doc_number("国办发(明电)5号") == "国办发(明电)5号"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("市 国 税 局", "市国税局"),
        ("有 关 业 务 处 室 和 直 属 机 构", "有关业务处室和直属机构"),
        ("纳税信用 A 级纳税人", "纳税信用A级纳税人"),
        ("全市质 监部门", "全市质监部门"),
        ("  GB/T  9704  ", "GB/T 9704"),
        ("第一行\n第二行", "第一行第二行"),
        ("a\x00b\x07c", "abc"),
    ],
)
def test_it_drops_spaces_next_to_chinese(raw, clean):
    assert squeeze(raw) == clean


def test_search_key_folds_width_and_case():
    assert search_key("纳税信用Ａ级") == search_key("纳税信用 a 级") == "纳税信用a级"


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("市 国 税 局、 地 税 局", ["市国税局", "市地税局"]),
        ("市委 农委", ["市委农委"]),
        ("团 市 委", ["团市委"]),
        ("武汉海关，市商务局;市环保局\n市工商局", ["武汉海关", "市商务局", "市环保局", "市工商局"]),
        ("市国税局、团市委", ["市国税局", "团市委"]),
        ("市国税局、市国税局", ["市国税局"]),
        ("", []),
    ],
)
def test_it_splits_initiating_departments(raw, names):
    assert split_departments(raw) == names


def test_it_splits_paragraphs_into_measures():
    cell = "<p>1、甲措施</p> <p>2、乙措施</p>"
    assert split_numbered(cell) == ["甲措施", "乙措施"]


def test_it_splits_numbering_within_one_line_in_sequence_only():
    assert split_numbered("2、限制从业资格。 3、从严从重处罚。") == [
        "限制从业资格。",
        "从严从重处罚。",
    ]
    # 、 inside a sentence and numbers out of sequence are text, not numbering.
    assert split_numbered("1、生产、经营 5、不拆") == ["生产、经营5、不拆"]
    assert split_numbered("10年内不得从事生产、经营活动") == ["10年内不得从事生产、经营活动"]


def test_it_splits_on_new_lines():
    assert split_numbered("甲措施\n\n乙措施\r\n") == ["甲措施", "乙措施"]


@pytest.mark.parametrize(
    ("title", "label"),
    [
        ("关于对纳税信用A级纳税人实施联合激励措施的合作备忘录", "纳税信用A级纳税人"),
        ("关于实施优秀青年志愿者守信联合激励加快推进青年信用体系建设的行动计划", "优秀青年志愿者"),
        ("失信企业协同监管和联合惩戒合作备忘录", "失信企业"),
        ("对失信被执行人实施联合惩戒的合作备忘录", "失信被执行人"),
        (
            "关于对环境保护领域失信生产经营单位及其有关人员开展联合惩戒的合作备忘录",
            "环境保护领域失信生产经营单位",
        ),
        (
            "关于对对外经济合作领域严重失信主体开展联合惩戒的合作备忘录",
            "对外经济合作领域严重失信主体",
        ),
        ("关于对统计领域严重失信企业及其有关人员开展联合惩戒的合作备忘录", "统计领域严重失信企业"),
        ("某某工作通知", "某某工作通知"),
    ],
)
def test_it_derives_a_label_from_the_title(title, label):
    assert label_from_title(title) == label


# --- a cell with a type (xlsx) ------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+1", "-1", "@SUM(A1)", " ＝1", "\u200b=1", "普通文字", "'abc", "a=b", ""],
)
def test_a_typed_cell_is_written_as_it_is(text):
    # A string cell is never run: no apostrophe, and the import leaves it alone.
    assert escape_inert_prefix(text) == text
    assert undo_formula_inert(text) == text


@pytest.mark.parametrize("text", ["'=1+1", "' =1+1", "''abc", "'''=1", "'＠x"])
def test_a_typed_cell_that_starts_like_the_guard_gets_one_more_apostrophe(text):
    # The import takes the guard off every cell it reads; this one must survive.
    assert escape_inert_prefix(text) == "'" + text
    assert undo_formula_inert(escape_inert_prefix(text)) == text
