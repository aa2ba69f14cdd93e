"""Hostile input: every bad file of tests/hostile is refused and changes nothing.

The corpus (tests/hostile/README.md lists it) holds real files for both
importers.  A file whose only oddity is markup, script, formula-like or
SQL-looking text in its text cells (or control characters, which the text
rules remove) is valid data and is stored as plain text; every other file is
refused with a message naming the file (and the row and column at fault), and
a full dump of the database is the same before and after.
"""

import html
import io
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from measures.models import Measure
from memo_registry.audit.models import ImportBatch
from memo_registry.lib.spreadsheet import LISTING, SpreadsheetError, open_rows
from memos.models import Memorandum
from subjects.models import Listing
from tests.data.builders import dump_everything
from tests.factories import FeedbackFactory, ListingFactory, SubjectFactory, valid_uscc

HOSTILE = Path(__file__).resolve().parent / "hostile"
MEMOS = HOSTILE / "memos"
SUBJECTS = HOSTILE / "subjects"
ROOT = HOSTILE.parent.parent

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HYPERLINK = '=HYPERLINK("http://evil.example/","点我")'
DDE = "+cmd|' /C calc'!A0"
MINUS = "-2+3"
AT_SUM = "@SUM(A1:A2)"
SQL = "'; DROP TABLE memos_memorandum; --"
SQL_SUBJECTS = "'); DELETE FROM subjects_listing; --"


@dataclass(frozen=True)
class Refusal:
    """What the message refusing a file must say: a fragment, and where."""

    fragment: str
    row: int | None = None
    column: str | None = None


MEMO_REFUSALS = {
    "empty.csv": Refusal("是空的"),
    "whitespace_only.csv": Refusal("没有任何内容"),
    "header_only.csv": Refusal("下面没有任何备忘录"),
    "title_rows_only.xlsx": Refusal("找不到表头行"),
    "missing_columns.csv": Refusal("缺少必需的列：奖惩措施、责任处室"),
    "duplicated_column.csv": Refusal("表头中有两列都是「文号」", 1, "文号"),
    "utf16_le_bom.csv": Refusal("UTF-16"),
    "utf16_be_bom.csv": Refusal("UTF-16"),
    "utf16_le_no_bom.csv": Refusal("UTF-16"),
    "utf16_be_no_bom.csv": Refusal("UTF-16"),
    "latin1.csv": Refusal("不是电子表格"),
    "shift_jis.csv": Refusal("可能不是 UTF-8 或 GB18030"),
    "png_renamed.csv": Refusal("不是电子表格"),
    "pdf_renamed.csv": Refusal("不是电子表格"),
    "old_excel.xls": Refusal("旧版 Excel（.xls）"),
    "truncated.xlsx": Refusal("不是有效的 xlsx 文件"),
    "corrupt.xlsx": Refusal("不是有效的 xlsx 文件"),
    "zip_bomb.xlsx": Refusal("解压后过大"),
    "duplicate_doc_number.csv": Refusal("文号「测试财金〔2024〕901号」与第 2 行重复", 3, "文号"),
    "overlong_cell.csv": Refusal("超过上限 5000", 2, "奖惩对象（行为）"),
    "nul_in_cell.csv": Refusal("含有空字符（NUL）", 2),
    "unterminated_quote.csv": Refusal("没有结束的引号", 3),
    "ragged_rows.csv": Refusal("不能为空", 3, "奖惩对象（行为）"),
    "wide_row.csv": Refusal("第 100 列之后还有内容", 2),
    "wide_row.xlsx": Refusal("第 100 列之后还有内容", 2),
    "seq_not_a_number.csv": Refusal("序号「1e9」不是正整数", 4, "序号"),
    "doc_number_only_spaces.csv": Refusal("不能为空", 3, "文号"),
    # Dates: the one rule of both imports (memo_registry/lib/dates.py), one message.
    "sql_in_seq_and_date.csv": Refusal(f"「2020-01-01{SQL}」不是有效的日期", 2, "废止日期"),
    "impossible_date.csv": Refusal("「2025-02-30」不是有效的日期", 2, "废止日期"),
}
MEMO_VALID = ["control_chars.csv", "markup_formulas.csv", "markup_formulas.xlsx", "sql_text.csv"]

SUBJECT_REFUSALS = {
    "empty.csv": Refusal("是空的"),
    # Both importers read through one reader, find the header with one
    # finder and word their refusals alike (memo_registry.imports.errors).
    "whitespace_only.csv": Refusal("没有任何内容"),
    "header_only.csv": Refusal("下没有数据"),
    "title_rows_only.xlsx": Refusal("找不到表头行"),
    "missing_columns.csv": Refusal("表头缺少必需的列：列入日期", 1),
    "duplicated_column.csv": Refusal("表头中有两列都是「名称」", 1, "名称"),
    "utf16_le_bom.csv": Refusal("UTF-16"),
    "utf16_be_bom.csv": Refusal("UTF-16"),
    "utf16_le_no_bom.csv": Refusal("UTF-16"),
    "utf16_be_no_bom.csv": Refusal("UTF-16"),
    "latin1.csv": Refusal("不是电子表格"),
    "shift_jis.csv": Refusal("找不到表头"),
    "png_renamed.csv": Refusal("不是电子表格"),
    "pdf_renamed.csv": Refusal("不是电子表格"),
    "old_excel.xls": Refusal("旧版 Excel（.xls）"),
    "truncated.xlsx": Refusal("不是有效的 xlsx 文件"),
    "corrupt.xlsx": Refusal("不是有效的 xlsx 文件"),
    "zip_bomb.xlsx": Refusal("解压后过大"),
    "duplicate_code_different_names.csv": Refusal("名称与本行不同", 4, "名称"),
    "overlong_cell.csv": Refusal("内容过长（10000 字", 3, "名称"),
    "nul_in_cell.csv": Refusal("含有空字符（NUL）", 3),
    "unterminated_quote.csv": Refusal("引号", 3),
    "ragged_rows.csv": Refusal("列入日期", 3, "列入日期"),
    "wide_row.csv": Refusal("第 100 列之后还有内容", 2),
    "impossible_date.csv": Refusal("「2025-02-30」不是有效的日期", 3, "列入日期"),
    "expiry_before_listing.csv": Refusal("早于列入日期", 3, "有效期至"),
    "bad_check_character.csv": Refusal("校验位错误", 3, "统一社会信用代码"),
    "codes_scientific.csv": Refusal("科学计数法", 3, "统一社会信用代码"),
    "codes_as_numbers.xlsx": Refusal("存成了数字", 3, "统一社会信用代码"),
    "sql_in_code_and_date.csv": Refusal(f"2025-01-02{SQL_SUBJECTS}", 3, "列入日期"),
}
SUBJECT_VALID = ["control_chars.csv", "markup_formulas.csv", "markup_formulas.xlsx", "sql_text.csv"]


def full_dump() -> str:
    """Every table an import could touch (history and import records included),
    plus the admin's change log and the users."""
    out = StringIO()
    call_command("dumpdata", "admin", "auth.user", "auth.group", stdout=out, indent=0, verbosity=0)
    return dump_everything() + out.getvalue()


def _constraints() -> dict:
    """The indexes and constraints of the listing tables (the bulk path drops and rebuilds them)."""
    with connection.cursor() as cursor:
        return {
            table: sorted(
                (name, tuple(info["columns"] or ()), info["unique"], info["foreign_key"])
                for name, info in connection.introspection.get_constraints(cursor, table).items()
            )
            for table in ("subjects_subject", "subjects_listing")
        }


@pytest.fixture
def populated(list_2018):
    """The 2018 list, a subject on two lists with feedback, and an earlier import."""
    subject = SubjectFactory(code=valid_uscc(1), name="武汉市已列入有限公司")
    measure = Measure.objects.order_by("pk").first()
    ListingFactory(subject=subject, target_subject=measure.memo.target_subject)
    ListingFactory(subject=subject, target_subject=Memorandum.objects.get(seq=5).target_subject)
    FeedbackFactory(measure=measure, subject=subject, division=measure.divisions.first())
    ImportBatch.objects.create(kind="subjects", file_name="上次.csv", sha256="0" * 64)
    return list_2018


def _command_error(command: str, path: Path) -> str:
    with pytest.raises(CommandError) as caught:
        call_command(command, str(path), stdout=StringIO(), stderr=StringIO())
    return str(caught.value)


def _assert_clear(message: str, name: str, refusal: Refusal) -> None:
    assert name in message, message
    if refusal.row is not None:
        assert f"第 {refusal.row} 行" in message, message
    if refusal.column is not None:
        assert f"「{refusal.column}」列" in message, message
    assert "Traceback" not in message and "None" not in message, message


# --- the corpus itself --------------------------------------------------------------


def test_every_corpus_file_has_an_expected_outcome_and_a_line_in_the_readme():
    readme = (HOSTILE / "README.md").read_text(encoding="utf-8")
    for folder, expected in (
        (MEMOS, {*MEMO_REFUSALS, *MEMO_VALID}),
        (SUBJECTS, {*SUBJECT_REFUSALS, *SUBJECT_VALID}),
    ):
        names = {path.name for path in folder.iterdir()}
        assert names == expected, folder
        for name in names:
            assert f"`{folder.name}/{name}`" in readme, name


def test_the_dump_holds_every_kind_of_row_a_refused_file_must_leave_alone(populated):
    dump = full_dump()
    for model in (
        "memos.memorandum",
        "memos.historicalmemorandum",
        "measures.measure",
        "measures.historicalmeasure",
        "measures.feedback",
        "subjects.subject",
        "subjects.historicalsubject",
        "subjects.listing",
        "subjects.historicallisting",
        "audit.importbatch",
    ):
        assert f'"model": "{model}"' in dump, model


def test_the_corpus_is_large_enough_and_small_on_disk():
    files = [path for folder in (MEMOS, SUBJECTS) for path in folder.iterdir()]
    assert len(files) >= 30
    assert sum(path.stat().st_size for path in files) < 2 * 1024 * 1024
    assert (MEMOS / "empty.csv").stat().st_size == 0


# --- the memo importer --------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MEMO_REFUSALS))
def test_a_hostile_memo_file_is_refused_and_changes_nothing(populated, name):
    before = full_dump()
    message = _command_error("import_memos", MEMOS / name)
    assert MEMO_REFUSALS[name].fragment in message, message
    _assert_clear(message, name, MEMO_REFUSALS[name])
    assert full_dump() == before


def test_a_memo_file_over_the_size_limit_is_refused_unread(populated, settings):
    settings.IMPORT_MAX_BYTES = 1000
    before = full_dump()
    message = _command_error("import_memos", MEMOS / "markup_formulas.xlsx")
    assert "markup_formulas.xlsx" in message and "超过了导入上限" in message
    assert full_dump() == before


def _memo(doc_number: str) -> Memorandum:
    return Memorandum.objects.get(doc_number=doc_number)


def _measures(memo: Memorandum) -> list[tuple[str, list[str]]]:
    return [
        (m.text, sorted(d.name for d in m.divisions.all())) for m in memo.measures.order_by("order")
    ]


@pytest.mark.parametrize("name", ["markup_formulas.csv", "markup_formulas.xlsx"])
def test_markup_and_formulas_in_memo_cells_are_stored_as_the_plain_text_they_are(populated, name):
    call_command("import_memos", str(MEMOS / name), stdout=StringIO())
    scripted = _memo(f"测试〔2024〕961号{SCRIPT}")
    assert scripted.title == SCRIPT
    assert [d.name for d in scripted.initiating_departments.all()] == [f"市{SCRIPT}局"]
    assert scripted.target_subject.definition == SCRIPT + IMG
    assert scripted.target_subject.label == SCRIPT
    assert _measures(scripted) == [
        (SCRIPT, [f"{SCRIPT}处"]),
        (IMG, ["行政审批处"]),
        (HYPERLINK, ["行政审批处"]),
    ]
    formulas = _memo("测试〔2024〕962号")
    assert formulas.title == HYPERLINK  # an xlsx formula cell is kept as its text
    assert formulas.kind == Memorandum.Kind.REWARD
    assert [d.name for d in formulas.initiating_departments.all()] == [DDE]
    assert formulas.target_subject.definition == AT_SUM
    assert formulas.implementing_department.name == MINUS
    # The text rules trim the whitespace around a cell: the tab and the
    # carriage return go, the formula-like text stays (and is exported inert).
    assert formulas.target_subject.label == "=1+1"
    returns = _memo("测试〔2024〕963号")
    assert returns.target_subject.definition == "=1+1"
    assert returns.target_subject.label == IMG + MINUS


def test_sql_looking_memo_text_is_stored_verbatim_and_runs_nothing(populated):
    call_command("import_memos", str(MEMOS / "sql_text.csv"), stdout=StringIO())
    memo = Memorandum.objects.get(seq=951)
    assert memo.title == f"对失信被执行人实施联合惩戒的合作备忘录{SQL}"
    assert memo.target_subject.definition == f"1 OR 1=1; {SQL}"
    assert [text for text, _ in _measures(memo)] == [SQL, '" OR ""="']
    assert Memorandum.objects.count() == 11  # the table is still there, with the 2018 list


def test_control_characters_in_memo_cells_are_removed(populated):
    call_command("import_memos", str(MEMOS / "control_chars.csv"), stdout=StringIO())
    memo = Memorandum.objects.get(seq=901)
    assert memo.title == "对失信[31m被执行人实施联合惩戒的合作备忘录"
    assert memo.target_subject.definition == "最高人民法院公布的失信被执行人"


# --- the listing importer -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SUBJECT_REFUSALS))
def test_a_hostile_listing_file_is_refused_and_changes_nothing(populated, name):
    before = full_dump()
    message = _command_error("import_subjects", SUBJECTS / name)
    assert SUBJECT_REFUSALS[name].fragment in message, message
    assert full_dump() == before


@pytest.mark.parametrize("name", sorted(SUBJECT_REFUSALS))
def test_the_listing_importer_names_the_file_row_and_column(populated, name):
    message = _command_error("import_subjects", SUBJECTS / name)
    _assert_clear(message, name, SUBJECT_REFUSALS[name])


@pytest.mark.parametrize(
    "name",
    ["bad_check_character.csv", "duplicate_code_different_names.csv", "codes_as_numbers.xlsx"],
)
def test_a_bad_row_refused_on_an_empty_registry_leaves_tables_and_indexes_alone(list_2018, name):
    # An empty registry takes the bulk path on PostgreSQL (indexes set aside,
    # rows streamed into COPY before the bad row is seen).
    before, constraints = full_dump(), _constraints()
    _command_error("import_subjects", SUBJECTS / name)
    assert full_dump() == before
    assert _constraints() == constraints


def test_a_listing_file_over_the_size_limit_is_refused_unread():
    # import_subjects has no setting for its limit: its budget holds it.
    with pytest.raises(SpreadsheetError) as caught:
        open_rows(SUBJECTS / "markup_formulas.xlsx", replace(LISTING, file_bytes=1000))
    assert "markup_formulas.xlsx" in str(caught.value)
    assert "超过了导入上限" in str(caught.value)


def _listing(n: int) -> Listing:
    return Listing.objects.select_related("subject", "target_subject").get(
        subject__code=valid_uscc(9000 + n)
    )


@pytest.mark.parametrize("name", ["markup_formulas.csv", "markup_formulas.xlsx"])
def test_markup_and_formulas_in_listing_cells_are_stored_as_the_plain_text_they_are(
    populated, name
):
    call_command("import_subjects", str(SUBJECTS / name), stdout=StringIO())
    stored = {
        n: (listing.subject.name, listing.source, listing.basis)
        for n in (81, 82, 83, 84)
        for listing in [_listing(n)]
    }
    assert stored == {
        81: (SCRIPT, IMG, HYPERLINK),
        82: (IMG, DDE, AT_SUM),
        # Whitespace around a cell is trimmed: a leading tab or CR goes.
        83: (HYPERLINK, MINUS, "=1+1"),
        84: (AT_SUM + SCRIPT, "=1+1", SCRIPT),
    }
    assert _listing(81).target_subject.label == "失信被执行人"


def test_sql_looking_listing_text_is_stored_verbatim_and_runs_nothing(populated):
    call_command("import_subjects", str(SUBJECTS / "sql_text.csv"), stdout=StringIO())
    listing = _listing(91)
    assert listing.subject.name == f"武汉市测试{SQL_SUBJECTS}"
    assert (listing.source, listing.basis) == (SQL, "1' OR '1'='1")
    assert Listing.objects.count() == 3  # the two listings already there survive


def test_control_characters_in_listing_cells_are_removed(populated):
    call_command("import_subjects", str(SUBJECTS / "control_chars.csv"), stdout=StringIO())
    listing = _listing(71)
    assert listing.subject.name == "武汉市[31m测试有限公司"
    assert listing.source == "最高人民法院"


# --- the memo admin's import ---------------------------------------------------------


@pytest.fixture
def admin_client(client, django_user_model, otp_login):
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw-123456")
    return otp_login(client, user)


def _upload(client, path: Path, list_pk: int):
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    form = {"resource": "0", "format": "0", "import_file": upload, "responsibility_list": list_pk}
    return client.post(reverse("admin:memos_memorandum_import"), form)


# Django's upload field refuses an empty file itself, in its own words.
ADMIN_FORM_ERRORS = {"empty.csv": "提交的是空文件"}


@pytest.mark.parametrize(
    "name",
    [
        "empty.csv",
        "utf16_le_no_bom.csv",
        "zip_bomb.xlsx",
        "truncated.xlsx",
        "duplicate_doc_number.csv",
        "overlong_cell.csv",
        "unterminated_quote.csv",
        "wide_row.xlsx",
        "nul_in_cell.csv",
        "sql_in_seq_and_date.csv",
    ],
)
def test_the_admin_import_shows_the_errors_of_a_hostile_file_and_changes_nothing(
    admin_client, populated, name
):
    before = full_dump()
    page = _upload(admin_client, MEMOS / name, populated.pk)
    assert page.status_code == 200
    assert "confirm_form" not in page.context
    text = html.unescape(page.content.decode())
    if name in ADMIN_FORM_ERRORS:
        assert ADMIN_FORM_ERRORS[name] in text
    else:
        assert MEMO_REFUSALS[name].fragment in text and name in text
    assert "Traceback" not in text
    assert full_dump() == before


def test_the_admin_import_refuses_a_file_over_the_size_limit(admin_client, populated, settings):
    settings.IMPORT_MAX_BYTES = 1000
    before = full_dump()
    page = _upload(admin_client, MEMOS / "markup_formulas.xlsx", populated.pk)
    assert page.status_code == 200
    assert "超过了导入上限" in html.unescape(page.content.decode())
    assert full_dump() == before


# --- the batch check reads any sheet: it must never fail on one ------------------------


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(path, id=f"{path.parent.name}/{path.name}")
        for folder in (MEMOS, SUBJECTS)
        for path in sorted(folder.iterdir())
    ],
)
def test_the_batch_check_answers_every_hostile_file_without_a_server_error(
    admin_client, populated, path
):
    before = full_dump()
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    response = admin_client.post(reverse("subject_check"), {"file": upload})
    # A batch that was checked leaves its look-up record, and nothing else.
    from memo_registry.audit.models import AccessRecord

    records = AccessRecord.objects.all()
    assert records.count() == (1 if response.status_code == 200 else 0)
    records.delete()
    assert response.status_code in (200, 400)
    if response.status_code == 200:  # read as a sheet of codes: the download is inert
        workbook = openpyxl.load_workbook(io.BytesIO(response.content))
        for row in workbook.active.iter_rows():
            for cell in row:
                # Text is a string cell, which no spreadsheet runs as a formula
                # whatever it starts with ("=HYPERLINK(…)" included): the
                # apostrophe in front is the guard of csv files only.
                assert cell.data_type != "f", cell.coordinate
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (cell.coordinate, cell.value)
    else:
        assert "Traceback" not in response.content.decode()
    assert full_dump() == before


# --- the commands, as an operator runs them -------------------------------------------


@pytest.mark.parametrize(
    ("command", "path"),
    [("import_memos", MEMOS / "zip_bomb.xlsx"), ("import_subjects", SUBJECTS / "utf16_le_bom.csv")],
)
def test_the_command_exits_non_zero_without_a_traceback(tmp_path, command, path):
    # A throwaway database: the file must be refused before one is needed.
    env = os.environ | {"DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}
    result = subprocess.run(
        [sys.executable, "manage.py", command, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert path.name in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
