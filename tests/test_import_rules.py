"""Every rule of the memo import, one behaviour per test."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from measures.models import Division, Measure
from memo_registry.audit.models import ImportBatch
from memos.models import Department, Memorandum
from subjects.models import TargetSubject
from tests.data.builders import (
    HEADER,
    current_list,
    dump_everything,
    memo_row,
    write_csv,
    write_xlsx,
)
from tests.factories import MemorandumFactory, ResponsibilityListFactory, TargetSubjectFactory

pytestmark = pytest.mark.django_db

DOC_2 = "发改财金〔2016〕2202号"
TITLE_2 = "关于对严重质量违法失信行为当事人实施联合惩戒的合作备忘录"


@pytest.fixture
def target(db):
    return current_list()


def run(tmp_path, rows, *args, header=HEADER, name="list.csv"):
    """Import these data rows (under the header) from a real file; the command's output."""
    writer = write_xlsx if name.endswith(".xlsx") else write_csv
    path = writer(tmp_path / name, [header, *rows])
    out = StringIO()
    call_command("import_memos", str(path), *args, stdout=out)
    return out.getvalue()


def refused(tmp_path, rows, *args, header=HEADER, name="list.csv") -> str:
    """The error message for these rows; asserts that nothing was written."""
    before = dump_everything()
    with pytest.raises(CommandError) as caught:
        run(tmp_path, rows, *args, header=header, name=name)
    assert dump_everything() == before
    return str(caught.value)


def the_memo(doc_number="发改财金〔2016〕141号") -> Memorandum:
    return Memorandum.objects.get(doc_number=doc_number)


def measures_of(memo) -> list[tuple[str, list[str]]]:
    return [
        (m.text, sorted(d.name for d in m.divisions.all())) for m in memo.measures.order_by("order")
    ]


# --- the header ------------------------------------------------------------------


def test_header_columns_may_come_in_any_order(target, tmp_path):
    order = [7, 6, 5, 4, 3, 2, 1, 0]
    row = memo_row()
    run(tmp_path, [[row[i] for i in order]], header=[HEADER[i] for i in order])
    assert the_memo().title == "对失信被执行人实施联合惩戒的合作备忘录"


@pytest.mark.parametrize(
    "header",
    [
        [
            "序 号",
            "文号",
            "备忘录名称",
            "发 起 部 门",
            "奖惩对象(行为)",
            "实 施 部 门",
            "奖惩措施",
            "责任 处室",
        ],
        [
            "序号",
            "文号",
            "备忘录名称",
            "发起部门",
            "奖 惩 对 象 （ 行 为 ）",
            "实施部门",
            "奖惩措施",
            "责任处室",
        ],
        ["序号", "文号", "备忘录名称", "发起部门", "奖惩对象", "实施部门", "奖惩措施", "责任处室"],
        [
            " 序号\n",
            "文号 ",
            "\u3000备忘录名称",
            "发起部门",
            "奖惩对象（行为）",
            "实施部门",
            "奖惩措施",
            "责任处室",
        ],
    ],
    ids=["spaced", "full-width-spaced", "without-brackets", "padded"],
)
def test_header_cells_match_whatever_their_spacing_and_brackets(target, tmp_path, header):
    run(tmp_path, [memo_row()], header=header)
    assert the_memo().target_subject.definition == "最高人民法院公布的失信被执行人"


def test_a_header_repeated_on_a_new_page_is_skipped(target, tmp_path):
    rows = [memo_row(), HEADER, memo_row(2, doc_number=DOC_2, title=TITLE_2)]
    run(tmp_path, rows)
    assert Memorandum.objects.count() == 2


def test_a_missing_required_column_is_named(target, tmp_path):
    message = refused(tmp_path, [memo_row()[:7]], header=HEADER[:7])
    assert "缺少必需的列：责任处室" in message


def test_a_file_without_a_header_row_is_refused(target, tmp_path):
    message = refused(tmp_path, [["a", "b"], ["c", "d"]], header=["x", "y"])
    assert "找不到表头行" in message


def test_a_header_naming_a_column_twice_is_refused(target, tmp_path):
    message = refused(tmp_path, [memo_row() + ["x"]], header=HEADER + ["文 号"])
    assert "第 1 行「文号」列：表头中有两列都是「文号」" in message


def test_a_header_without_rows_is_refused(target, tmp_path):
    assert "表头（第 1 行）下面没有任何备忘录" in refused(tmp_path, [])


# --- the cells -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "发改财金（2016）141号",
        "发改财金(2016)141号",
        "发改财金[2016]141号",
        "发改财金【2016】141号",
        "发改财金〔2016〕141号",
        "发改财金 （ 2016 ） 141 号",
    ],
)
def test_doc_numbers_in_any_bracket_style_are_stored_with_hexagonal_brackets(target, tmp_path, raw):
    run(tmp_path, [memo_row(doc_number=raw)])
    assert Memorandum.objects.get().doc_number == "发改财金〔2016〕141号"


def test_spaces_between_chinese_characters_are_dropped(target, tmp_path):
    run(
        tmp_path,
        [
            memo_row(
                departments="市 中 级 人 民 法 院",
                implementing="全市质 监部门",
                divisions="行 政 审 批 处",
            )
        ],
    )
    memo = the_memo()
    assert [d.name for d in memo.initiating_departments.all()] == ["市中级人民法院"]
    assert memo.implementing_department.name == "全市质监部门"
    assert measures_of(memo)[0][1] == ["行政审批处"]


@pytest.mark.parametrize(
    "cell",
    [
        "<p>1、甲措施</p> <p>2、乙措施</p>",
        "1、甲措施\n2、乙措施",
        "1、甲措施 2、乙措施",
        "甲措施\n乙措施",
        "<p>甲措施</p><p>乙措施</p>",
    ],
    ids=["paragraphs", "lines", "numbered", "unnumbered-lines", "bare-paragraphs"],
)
def test_several_measures_in_one_cell_become_separate_measures(target, tmp_path, cell):
    run(tmp_path, [memo_row(measures=cell, divisions="人事处")])
    assert measures_of(the_memo()) == [("甲措施", ["人事处"]), ("乙措施", ["人事处"])]


def test_the_division_cell_names_one_division_per_measure(target, tmp_path):
    run(tmp_path, [memo_row(measures="1、甲 2、乙", divisions="<p>人事处</p> <p>行政审批处</p>")])
    assert measures_of(the_memo()) == [("甲", ["人事处"]), ("乙", ["行政审批处"])]


def test_several_divisions_of_one_measure_are_separated_by_commas(target, tmp_path):
    cell = "1、人事处、法规处\n2、有关业务处室和直属机构，稽查局"
    run(tmp_path, [memo_row(measures="1、甲\n2、乙", divisions=cell)])
    assert measures_of(the_memo()) == [
        ("甲", ["人事处", "法规处"]),
        ("乙", ["有关业务处室和直属机构", "稽查局"]),
    ]


def test_a_count_of_divisions_that_fits_no_measure_is_an_error(target, tmp_path):
    message = refused(
        tmp_path, [memo_row(measures="1、甲 2、乙 3、丙", divisions="人事处\n法规处")]
    )
    assert "第 2 行「责任处室」列：有 2 项责任处室，而奖惩措施有 3 条" in message


@pytest.mark.parametrize(
    "cell",
    [
        "市国税局、地税局",
        "市国税局，市地税局",
        "市国税局,市地税局",
        "市国税局;市地税局",
        "市国税局\n市地税局",
    ],
)
def test_several_initiating_departments_in_one_cell_are_separate(target, tmp_path, cell):
    run(tmp_path, [memo_row(departments=cell)])
    assert sorted(d.name for d in the_memo().initiating_departments.all()) == [
        "市国税局",
        "市地税局",
    ]


def test_a_memo_without_function_keeps_its_note_and_has_no_measures(target, tmp_path):
    run(tmp_path, [memo_row(measures="我市质监部门 无 相关职能", divisions="")])
    memo = the_memo()
    assert memo.no_function
    assert memo.no_function_note == "我市质监部门无相关职能"
    assert not memo.measures.exists()


def test_a_numbered_measure_that_mentions_no_function_stays_a_measure(target, tmp_path):
    run(tmp_path, [memo_row(measures="1、对无相关职能的部门，告知其主管部门")])
    memo = the_memo()
    assert not memo.no_function
    assert measures_of(memo) == [("对无相关职能的部门，告知其主管部门", ["行政审批处"])]


def test_a_measure_that_starts_with_a_number_keeps_it(target, tmp_path):
    run(tmp_path, [memo_row(measures="1、10年内不得从事该类产品的生产")])
    assert measures_of(the_memo())[0][0] == "10年内不得从事该类产品的生产"


def test_a_memo_without_function_names_no_division(target, tmp_path):
    message = refused(tmp_path, [memo_row(measures="我市质监无相关职能", divisions="人事处")])
    assert "「责任处室」列：备忘录写明无相关职能，不应再填责任处室" in message


def test_a_memo_with_neither_measures_nor_a_note_is_an_error(target, tmp_path):
    message = refused(tmp_path, [memo_row(measures="", divisions="")])
    assert "第 2 行「奖惩措施」列：须填写奖惩措施，或写明“无相关职能”" in message


def test_measures_without_divisions_are_an_error(target, tmp_path):
    assert "「责任处室」列：须为每条措施填写责任处室" in refused(tmp_path, [memo_row(divisions="")])


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("激励", "reward"),
        ("奖励", "reward"),
        ("守信激励", "reward"),
        ("惩戒", "punishment"),
        ("失信惩戒", "punishment"),
    ],
)
def test_the_kind_column_gives_the_kind(target, tmp_path, word, kind):
    run(tmp_path, [memo_row(title="关于某事项的合作备忘录") + [word]], header=HEADER + ["类型"])
    assert the_memo().kind == kind


def test_an_unknown_kind_is_an_error(target, tmp_path):
    message = refused(tmp_path, [memo_row() + ["表扬"]], header=HEADER + ["类型"])
    assert "「类型」列：类型「表扬」无法识别" in message


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("关于对海关高级认证企业实施联合激励的合作备忘录", "reward"),
        ("关于对海关失信企业实施联合惩戒的合作备忘录", "punishment"),
    ],
)
def test_without_a_kind_column_the_title_gives_the_kind(target, tmp_path, title, kind):
    run(tmp_path, [memo_row(title=title)])
    assert the_memo().kind == kind


@pytest.mark.parametrize("title", ["关于某事项的合作备忘录", "守信激励和失信惩戒合作备忘录"])
def test_a_title_saying_neither_or_both_kinds_is_an_error(target, tmp_path, title):
    message = refused(tmp_path, [memo_row(title=title)])
    assert "第 2 行「备忘录名称」列：无法从名称判断是激励还是惩戒" in message


def test_the_target_label_comes_from_the_title_or_its_own_column(target, tmp_path):
    run(tmp_path, [memo_row()])
    assert the_memo().target_subject.label == "失信被执行人"
    run(tmp_path, [memo_row() + ["被执行人"]], header=HEADER + ["对象简称"])
    assert the_memo().target_subject.label == "被执行人"
    assert TargetSubject.objects.count() == 1  # corrected in place, not orphaned


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        '=HYPERLINK("http://evil","点我")',
        "@SUM(1+1)*cmd|' /C calc'!A0",
    ],
)
def test_markup_and_formulas_are_stored_as_the_plain_text_they_are(target, tmp_path, text):
    run(tmp_path, [memo_row(definition=text, measures=f"1、{text}")])
    memo = the_memo()
    assert memo.target_subject.definition == text
    assert measures_of(memo)[0][0] == text


def test_a_formula_cell_of_an_xlsx_is_stored_as_its_text(target, tmp_path):
    run(tmp_path, [memo_row(definition='=HYPERLINK("http://evil")')], name="list.xlsx")
    assert the_memo().target_subject.definition == '=HYPERLINK("http://evil")'


def test_status_and_repeal_date_columns_are_read(target, tmp_path):
    header = HEADER + ["状态", "废止日期"]
    run(tmp_path, [memo_row() + ["已废止", "2020/3/1"]], header=header)
    memo = the_memo()
    assert memo.status == "repealed"
    assert memo.repealed_on.isoformat() == "2020-03-01"


@pytest.mark.parametrize(
    ("status", "date", "message"),
    [
        ("已废止", "", "「废止日期」列：已废止的备忘录须填写废止日期"),
        ("现行有效", "2020-03-01", "「状态」列：填写了废止日期，状态却不是“已废止”"),
        ("作废", "", "「状态」列：状态「作废」无法识别"),
        # The one date rule of both imports, and its message (tests/test_import_dates.py).
        ("已废止", "去年", "「废止日期」列：「去年」不是有效的日期（应如 2024-01-31）"),
    ],
)
def test_an_inconsistent_status_is_an_error(target, tmp_path, status, date, message):
    header = HEADER + ["状态", "废止日期"]
    assert message in refused(tmp_path, [memo_row() + [status, date]], header=header)


# --- continuation rows -------------------------------------------------------------


def test_a_continuation_row_finishes_the_text_cut_by_a_page_break(target, tmp_path):
    rows = [
        memo_row(
            title="对失信被执行人实施联合惩戒的合", measures="1、限制其担任", divisions="行政审"
        ),
        ["", "", "作备忘录", "", "", "", "企业法定代表人", "批处"],
    ]
    run(tmp_path, rows)
    memo = the_memo()
    assert memo.title == "对失信被执行人实施联合惩戒的合作备忘录"
    assert measures_of(memo) == [("限制其担任企业法定代表人", ["行政审批处"])]


def test_a_continuation_row_that_starts_with_a_number_adds_a_measure(target, tmp_path):
    rows = [
        memo_row(measures="1、甲措施", divisions="1、人事处"),
        ["", "", "", "", "", "", "2、乙措施", "2、法规处"],
    ]
    run(tmp_path, rows)
    assert measures_of(the_memo()) == [("甲措施", ["人事处"]), ("乙措施", ["法规处"])]


def test_a_continuation_row_before_any_memo_is_an_error(target, tmp_path):
    message = refused(tmp_path, [["", "", "作备忘录", "", "", "", "", ""], memo_row()])
    assert "第 2 行「序号」列：序号为空，上面也没有可以续接的备忘录" in message


def test_a_row_without_seq_but_with_its_own_doc_number_is_an_error(target, tmp_path):
    rows = [memo_row(), memo_row(seq="", doc_number=DOC_2, title=TITLE_2)]
    message = refused(tmp_path, rows)
    assert "第 3 行「序号」列：序号为空，这一行会接到上一项备忘录，但它有自己的文号" in message


# --- errors ------------------------------------------------------------------------


@pytest.mark.parametrize("seq", ["a", "0", "-1", "1.5", "一"])
def test_a_seq_that_is_not_a_positive_integer_is_an_error(target, tmp_path, seq):
    message = refused(tmp_path, [memo_row(seq=seq)])
    assert f"文件 list.csv 第 2 行「序号」列：序号「{seq}」不是正整数。" in message


def test_full_width_digits_are_a_valid_seq(target, tmp_path):
    run(tmp_path, [memo_row(seq="１２")])
    assert the_memo().seq == 12


def test_a_doc_number_given_twice_names_both_rows(target, tmp_path):
    rows = [memo_row(1), memo_row(2, doc_number="发改财金(2016)141号")]
    message = refused(tmp_path, rows)
    assert "第 3 行「文号」列：文号「发改财金〔2016〕141号」与第 2 行重复。" in message


def test_a_seq_given_twice_names_both_rows(target, tmp_path):
    rows = [memo_row(1), memo_row(1, doc_number=DOC_2, title=TITLE_2)]
    assert "第 3 行「序号」列：序号「1」与第 2 行重复。" in refused(tmp_path, rows)


@pytest.mark.parametrize(
    ("index", "column"),
    [(1, "文号"), (2, "备忘录名称"), (3, "发起部门"), (4, "奖惩对象（行为）"), (5, "实施部门")],
)
def test_an_empty_required_cell_is_an_error(target, tmp_path, index, column):
    row = memo_row()
    row[index] = ""
    assert f"第 2 行「{column}」列：不能为空。" in refused(tmp_path, [row])


def test_an_overlong_cell_is_refused_with_its_row_and_column(target, tmp_path):
    message = refused(tmp_path, [memo_row(definition="很" * 5001)])
    assert "第 2 行「奖惩对象（行为）」列：内容有 5001 个字符，超过上限 5000。" in message


def test_every_error_of_the_file_is_reported_at_once(target, tmp_path):
    rows = [
        memo_row(seq="x"),
        memo_row(2, doc_number=DOC_2, title="无类型的备忘录"),
        memo_row(3, doc_number=""),
    ]
    message = refused(tmp_path, rows)
    assert "第 2 行「序号」列" in message
    assert "第 3 行「备忘录名称」列" in message
    assert "第 4 行「文号」列" in message


def test_errors_are_numbered_as_the_spreadsheet_numbers_its_rows(target, tmp_path):
    rows = [["清单标题"], [], HEADER, [], memo_row(seq="x")]
    message = refused(tmp_path, rows, header=["标题行"])
    assert "文件 list.csv 第 6 行「序号」列" in message


# --- updates, identity and order --------------------------------------------------


def test_an_edited_file_updates_the_memo_and_replaces_its_measures_in_order(target, tmp_path):
    run(tmp_path, [memo_row(measures="1、甲\n2、乙\n3、丙", divisions="人事处")])
    output = run(
        tmp_path,
        [
            memo_row(
                title="对失信被执行人实施联合惩戒的合作备忘录（修订）",
                measures="1、丙\n2、甲",
                divisions="1、法规处\n2、人事处",
            )
        ],
    )
    memo = the_memo()
    assert memo.title.endswith("（修订）")
    assert measures_of(memo) == [("丙", ["法规处"]), ("甲", ["人事处"])]
    assert Memorandum.objects.count() == 1
    assert "更新 1 项" in output
    assert "删除 1 条" in output


def test_departments_and_divisions_are_matched_by_normalised_name(target, tmp_path):
    Department.objects.create(name="市中级人民法院")
    Division.objects.create(name="行政审批处")
    run(tmp_path, [memo_row(departments="市 中级 人民 法院", divisions="行 政 审 批 处")])
    assert Department.objects.filter(name="市中级人民法院").count() == 1
    assert Division.objects.count() == 1


def test_memos_that_swap_their_seqs_are_imported(target, tmp_path):
    rows = [memo_row(1), memo_row(2, doc_number=DOC_2, title=TITLE_2)]
    run(tmp_path, rows)
    run(tmp_path, [memo_row(2), memo_row(1, doc_number=DOC_2, title=TITLE_2)])
    assert dict(Memorandum.objects.values_list("doc_number", "seq")) == {
        "发改财金〔2016〕141号": 2,
        DOC_2: 1,
    }


def test_a_seq_held_by_a_memo_the_file_does_not_mention_is_an_error(target, tmp_path):
    MemorandumFactory(responsibility_list=target, seq=1, doc_number="发改财金〔2017〕1号")
    message = refused(tmp_path, [memo_row(1)])
    assert "第 2 行「序号」列：序号 1 已属于清单中的另一项备忘录（发改财金〔2017〕1号）" in message


def test_memos_the_file_does_not_mention_are_left_alone(target, tmp_path):
    other = MemorandumFactory(responsibility_list=target, seq=9, doc_number="发改财金〔2017〕1号")
    output = run(tmp_path, [memo_row(1)])
    assert Memorandum.objects.filter(pk=other.pk).exists()
    assert "文件未提及清单中的 1 项备忘录（发改财金〔2017〕1号）" in output


def test_a_memo_is_identified_within_its_list_only(target, tmp_path):
    other_list = ResponsibilityListFactory()
    run(tmp_path, [memo_row()])
    run(
        tmp_path,
        [memo_row()],
        "--list",
        other_list.doc_number.replace("〔", "(").replace("〕", ")"),
    )
    assert Memorandum.objects.filter(doc_number="发改财金〔2016〕141号").count() == 2
    assert Memorandum.objects.filter(responsibility_list=other_list).count() == 1


def test_a_target_subject_shared_with_another_memo_is_not_changed_in_place(target, tmp_path):
    shared = TargetSubjectFactory(label="失信被执行人", definition="最高人民法院公布的失信被执行人")
    MemorandumFactory(responsibility_list=target, seq=5, target_subject=shared)
    run(tmp_path, [memo_row()])
    assert the_memo().target_subject == shared  # matched by (label, definition)
    run(tmp_path, [memo_row(definition="新的定义")])
    shared.refresh_from_db()
    assert shared.definition == "最高人民法院公布的失信被执行人"
    assert the_memo().target_subject.definition == "新的定义"


def test_a_label_edited_in_the_admin_survives_a_file_without_the_label_column(target, tmp_path):
    run(tmp_path, [memo_row()])
    subject = the_memo().target_subject
    subject.label = "失信被执行人（法院）"
    subject.save()
    output = run(tmp_path, [memo_row()])
    assert the_memo().target_subject.label == "失信被执行人（法院）"
    assert "未变 1 项" in output


# --- dry run and the record of the import ------------------------------------------


def test_a_dry_run_prints_the_summary_and_writes_nothing(target, tmp_path):
    before = dump_everything()
    output = run(tmp_path, [memo_row()], "--dry-run")
    assert dump_everything() == before
    assert "试运行，未写入任何数据" in output
    assert "备忘录：新建 1 项，更新 0 项，未变 0 项。" in output
    assert "措施：新建 1 条" in output
    assert "新建部门 2 个，新建责任处室 1 个。" in output


def test_an_import_is_recorded_and_what_it_wrote_points_to_the_record(target, tmp_path):
    run(tmp_path, [memo_row()])
    batch = ImportBatch.objects.get()
    assert batch.kind == "memos"
    assert batch.file_name == "list.csv"
    assert len(batch.sha256) == 64
    assert batch.source == "command"
    assert batch.finished_at is not None
    assert batch.counts["memos_created"] == 1
    assert the_memo().import_batch == batch
    assert Measure.objects.get().import_batch == batch
    assert the_memo().history.first().history_change_reason == "批量导入：list.csv"


def _history_of(measure) -> list[tuple[str, str, list[str], str]]:
    """(type, text, divisions, reason) of each history row of a measure, oldest first."""
    return [
        (
            row.history_type,
            row.text,
            sorted(link.division.name for link in row.divisions.all()),
            row.history_change_reason,
        )
        for row in measure.history.order_by("history_date", "history_id")
    ]


def test_an_import_leaves_one_history_row_per_object_with_its_divisions(target, tmp_path):
    run(tmp_path, [memo_row(measures="1、甲\n2、乙", divisions="1、人事处\n2、法规处，稽查局")])
    memo = the_memo()
    first, second = memo.measures.order_by("order")
    reason = "批量导入：list.csv"
    assert _history_of(first) == [("+", "甲", ["人事处"], reason)]
    assert _history_of(second) == [("+", "乙", ["法规处", "稽查局"], reason)]
    [memo_row_history] = memo.history.all()
    assert memo_row_history.history_type == "+"
    assert [link.department.name for link in memo_row_history.initiating_departments.all()] == [
        "市中级人民法院"
    ]
    assert memo.target_subject.history.get().history_change_reason == reason

    run(tmp_path, [memo_row(measures="1、甲\n2、乙（修订）", divisions="1、人事处\n2、稽查局")])
    assert _history_of(first) == [("+", "甲", ["人事处"], reason)]  # unchanged: no new row
    assert _history_of(second) == [
        ("+", "乙", ["法规处", "稽查局"], reason),
        ("~", "乙（修订）", ["稽查局"], reason),
    ]


def test_the_queries_of_an_import_do_not_grow_with_its_memos(target, tmp_path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def rows(count: int) -> list[list[object]]:
        return [
            memo_row(
                seq=n,
                doc_number=f"国发〔2030〕{n}号",
                definition=f"{count}项中的对象{n}",
                measures="1、甲\n2、乙",
                divisions="1、人事处\n2、法规处",
            )
            for n in range(1, count + 1)
        ]

    run(tmp_path, rows(1))  # the departments and divisions exist from here on

    def queries(count: int) -> int:
        into = ResponsibilityListFactory()
        with CaptureQueriesContext(connection) as captured:
            run(tmp_path, rows(count), "--list", into.doc_number, name=f"{count}.csv")
        assert into.memos.count() == count
        assert Measure.objects.filter(memo__responsibility_list=into).count() == 2 * count
        return len(captured)

    few = queries(3)
    assert queries(30) == few


def test_an_unchanged_memo_keeps_the_batch_that_last_changed_it(target, tmp_path):
    run(tmp_path, [memo_row()])
    first = ImportBatch.objects.get()
    run(tmp_path, [memo_row()])
    assert ImportBatch.objects.count() == 2
    assert the_memo().import_batch == first


# --- the list to import into -------------------------------------------------------


def test_an_unknown_list_is_refused(target, tmp_path):
    with pytest.raises(CommandError, match="找不到文号为 国发〔2099〕1号 的责任清单"):
        run(tmp_path, [memo_row()], "--list", "国发〔2099〕1号")


def test_without_a_current_list_the_list_must_be_named(db, tmp_path):
    ResponsibilityListFactory(is_current=False)
    with pytest.raises(CommandError, match="没有现行的责任清单"):
        run(tmp_path, [memo_row()])
