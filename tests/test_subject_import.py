"""Bulk import of listings: all or nothing, row-numbered errors, idempotent."""

import contextlib
import csv
import datetime
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from openpyxl import Workbook
from stdnum.cn import uscc

from memo_registry.audit.models import ImportBatch
from memo_registry.imports.errors import ImportFailed
from memo_registry.imports.listings import import_subject_rows
from memo_registry.imports.listings.postgres import PostgresLoader
from memo_registry.imports.listings.result import SubjectImportResult
from memo_registry.imports.listings.validate import Targets, Validator
from memo_registry.lib.spreadsheet import LISTING, open_rows
from subjects.models import Listing, Subject
from tests.factories import valid_uscc

pytestmark = pytest.mark.django_db

HEADER = ["统一社会信用代码", "名称", "列入依据", "列入日期", "有效期至", "来源"]


def _rows(n=3):
    return [
        [
            valid_uscc(i),
            f"武汉市某某{i}有限公司",
            "发改财金(2016)2202号",
            f"2025-01-0{i % 9 + 1}",
            "2028-01-01",
            "市质监局",
        ]
        for i in range(1, n + 1)
    ]


def _csv(path, rows, header=HEADER, encoding="utf-8-sig", title=None):
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        if title:
            writer.writerow([title])
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _snapshot():
    return (
        sorted(Subject.objects.values_list("code", "name")),
        sorted(
            Listing.objects.values_list(
                "subject__code", "target_subject_id", "listed_on", "expires_on", "source"
            )
        ),
        ImportBatch.objects.count(),
    )


def test_it_imports_listings_and_records_the_batch(list_2018, tmp_path, capsys):
    path = _csv(tmp_path / "名单.csv", _rows(3))
    call_command("import_subjects", str(path))
    assert Subject.objects.count() == 3
    listing = Listing.objects.select_related("target_subject", "subject").get(
        subject__code=valid_uscc(1)
    )
    assert listing.target_subject.label == "严重质量违法失信行为当事人"
    assert listing.listed_on == datetime.date(2025, 1, 2)
    assert listing.expires_on == datetime.date(2028, 1, 1)
    assert listing.source == "市质监局"
    batch = ImportBatch.objects.get()
    assert batch.kind == "subjects" and batch.file_name == "名单.csv" and len(batch.sha256) == 64
    assert batch.counts["listings_created"] == 3
    assert listing.import_batch == batch and listing.subject.import_batch == batch
    assert "新增名单记录 3" in capsys.readouterr().out


def test_reimporting_the_same_file_adds_nothing(list_2018, tmp_path):
    path = _csv(tmp_path / "名单.csv", _rows(5))
    call_command("import_subjects", str(path))
    before = _snapshot()
    call_command("import_subjects", str(path))
    after = _snapshot()
    assert after[:2] == before[:2]
    assert ImportBatch.objects.order_by("-id").first().counts["listings_created"] == 0


def test_an_extended_expiry_updates_the_listing(list_2018, tmp_path):
    rows = _rows(1)
    call_command("import_subjects", str(_csv(tmp_path / "a.csv", rows)))
    rows[0][4] = "2030-12-31"
    call_command("import_subjects", str(_csv(tmp_path / "b.csv", rows)))
    assert Listing.objects.get().expires_on == datetime.date(2030, 12, 31)


def test_the_basis_may_be_a_label_and_codes_may_be_for_people(list_2018, tmp_path):
    header = ["统一社会信用代码", "证件号码", "名称", "列入依据", "列入日期", "有效期至", "来源"]
    rows = [
        ["", "11010519491231002X", "张某", "失信被执行人", "2025/3/1", "", "最高人民法院"],
        [valid_uscc(9), "", "某公司", "海关失信企业", "2025年3月2日", "2027.3.2", "武汉海关"],
    ]
    call_command("import_subjects", str(_csv(tmp_path / "mixed.csv", rows, header=header)))
    person = Subject.objects.get(code="11010519491231002X")
    assert person.kind == "person"
    assert Listing.objects.get(subject=person).target_subject.label == "失信被执行人"
    assert Listing.objects.get(subject__code=valid_uscc(9)).expires_on == datetime.date(2027, 3, 2)


def test_it_reads_gb18030_csv_with_a_title_row_and_xlsx(list_2018, tmp_path):
    call_command(
        "import_subjects",
        str(
            _csv(
                tmp_path / "gb.csv",
                _rows(2),
                encoding="gb18030",
                title="2025年严重质量违法失信名单",
            )
        ),
    )
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(
        [
            valid_uscc(20),
            "某某电子有限公司",
            "严重质量违法失信行为当事人",
            datetime.date(2025, 5, 1),
            datetime.date(2028, 5, 1),
            "市质监局",
        ]
    )
    workbook.save(tmp_path / "list.xlsx")
    call_command("import_subjects", str(tmp_path / "list.xlsx"))
    assert Subject.objects.count() == 3
    assert Listing.objects.get(subject__code=valid_uscc(20)).listed_on == datetime.date(2025, 5, 1)


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        ({0: "914201000000000019"}, "统一社会信用代码", "校验位错误"),
        ({2: "发改财金〔2099〕1号"}, "列入依据", "既不是"),
        ({3: "2025-13-45"}, "列入日期", "不是有效的日期"),
        ({4: "2020-01-01"}, "有效期至", "早于列入日期"),
        ({0: "9.14201E+17"}, "统一社会信用代码", "科学计数法"),
        ({1: ""}, "名称", "名称为空"),
    ],
)
def test_a_bad_row_is_refused_with_its_row_and_column_and_nothing_is_written(
    list_2018, tmp_path, row, column, fragment
):
    rows = _rows(3)
    for index, value in row.items():
        rows[1][index] = value
    path = _csv(tmp_path / "bad.csv", rows)
    before = _snapshot()
    with pytest.raises(CommandError) as error:
        call_command("import_subjects", str(path))
    message = str(error.value)
    assert f"第 3 行「{column}」列" in message and fragment in message and "bad.csv" in message
    assert _snapshot() == before


def test_a_code_stored_as_a_number_in_xlsx_is_named(list_2018, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append([916201055811843000, "某公司", "失信企业", "2025-01-01", "", "市工商局"])
    workbook.save(tmp_path / "numbers.xlsx")
    with pytest.raises(CommandError, match="存成了数字"):
        call_command("import_subjects", str(tmp_path / "numbers.xlsx"))
    assert Subject.objects.count() == 0


def test_a_file_without_the_needed_columns_is_refused(list_2018, tmp_path):
    # The one header finder of both imports names the row that comes
    # closest to a header and the columns it lacks.
    path = _csv(tmp_path / "cols.csv", [["a", "b"]], header=["代码", "名称"])
    with pytest.raises(
        CommandError, match="cols.csv 第 1 行：表头缺少必需的列：列入依据、列入日期"
    ):
        call_command("import_subjects", str(path))


def test_a_file_naming_none_of_the_columns_is_told_which_it_needs(list_2018, tmp_path):
    path = _csv(tmp_path / "none.csv", [["a", "b"]], header=["甲", "乙"])
    with pytest.raises(
        CommandError, match="none.csv：找不到表头行：表格须有 统一社会信用代码或证件号码"
    ):
        call_command("import_subjects", str(path))


def test_dry_run_writes_nothing(list_2018, tmp_path, capsys):
    call_command("import_subjects", str(_csv(tmp_path / "d.csv", _rows(2))), "--dry-run")
    assert Subject.objects.count() == 0 and ImportBatch.objects.count() == 0
    out = capsys.readouterr().out
    assert "（试运行，未写入）d.csv：2 行全部通过校验" in out
    assert "新增" not in out  # a dry run does not compare with the registry: no counts to give


def test_the_command_fails_without_a_traceback(tmp_path):
    path = tmp_path / "not-a-sheet.csv"
    path.write_bytes(b"\xff\xfe" + "代码".encode("utf-16-le"))
    result = subprocess.run(
        [sys.executable, "manage.py", "import_subjects", str(path)], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "UTF-16" in result.stderr and "Traceback" not in result.stderr


# --- the quick path and the two ways of writing (docs/performance.md) -------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY and index rebuilds are PostgreSQL's"
)


def _import(path):
    info, rows = open_rows(path, LISTING)
    with contextlib.closing(rows):
        return import_subject_rows(rows, file_name=info.file_name, sha256=info.sha256)


@pytest.fixture
def steps(monkeypatch):
    """The names of the PostgreSQL loader's steps, as they run: which way it wrote.

    Read through the loader's hook for the benchmark (``PostgresLoader.step``);
    the load itself runs as it always does.
    """
    ran = []
    original = PostgresLoader.step

    def step(loader, name):
        ran.append(name)
        return original(loader, name)

    monkeypatch.setattr(PostgresLoader, "step", step)
    return ran


def test_a_row_the_file_repeats_is_written_once(list_2018, tmp_path):
    rows = _rows(2)
    rows.append(list(rows[0]))
    result = _import(_csv(tmp_path / "twice.csv", rows))
    assert Listing.objects.count() == 2 and Subject.objects.count() == 2
    assert (result.rows, result.listings_created, result.listings_unchanged) == (3, 2, 1)


def test_a_subject_on_two_lists_is_one_subject_with_two_listings(list_2018, tmp_path):
    rows = _rows(1)
    rows.append([rows[0][0], rows[0][1], "失信被执行人", "2025-02-01", "", "法院"])
    _import(_csv(tmp_path / "two.csv", rows))
    subject = Subject.objects.get()
    assert sorted(subject.listings.values_list("target_subject__label", flat=True)) == [
        "严重质量违法失信行为当事人",
        "失信被执行人",
    ]


def test_cells_that_need_cleaning_give_what_clean_cells_give(list_2018, tmp_path):
    clean = _rows(2)
    messy = [
        [
            " " + row[0][:4].lower() + " " + row[0][4:].lower() + " ",
            "武汉市 某某 " + row[1][5:] + " ",
            " 发改财金 ( 2016 ) 2202号",
            row[3].replace("-0", "/").replace("-", "/"),
            row[4].replace("-", "") if i else row[4],
            " 市质监局 ",
        ]
        for i, row in enumerate(clean)
    ]
    _import(_csv(tmp_path / "clean.csv", clean))
    expected = _snapshot()[:2]
    Listing.objects.all().delete()
    Subject.objects.all().delete()
    _import(_csv(tmp_path / "messy.csv", messy))
    assert _snapshot()[:2] == expected


def test_one_code_with_two_names_is_refused_naming_both_rows(list_2018, tmp_path):
    rows = _rows(2)
    rows[1][0] = rows[0][0]
    with pytest.raises(CommandError) as error:
        call_command("import_subjects", str(_csv(tmp_path / "names.csv", rows)))
    assert f"第 3 行「名称」列：同一代码 {valid_uscc(1)} 在第 2 行的名称与本行不同" in str(
        error.value
    )
    assert Subject.objects.count() == 0


def test_a_credit_code_that_reads_as_a_birth_date_is_an_organisation(list_2018, tmp_path):
    code = "91420112000101002" + uscc.calc_check_digit("91420112000101002")
    rows = _rows(1)
    rows[0][0] = code
    _import(_csv(tmp_path / "date.csv", rows))
    assert Subject.objects.get().kind == "org"


def test_backslashes_and_tabs_reach_the_database_as_typed(list_2018, tmp_path):
    rows = _rows(1)
    rows[0][1] = "甲\\乙\\N公司"
    rows[0][5] = "C:\\x\ty"
    _import(_csv(tmp_path / "escape.csv", rows))
    listing = Listing.objects.select_related("subject").get()
    assert listing.subject.name == "甲\\乙\\N公司"
    assert listing.source == "C:\\x y"


def test_a_renamed_subject_is_updated_and_counted(list_2018, tmp_path):
    rows = _rows(2)
    _import(_csv(tmp_path / "a.csv", rows))
    rows[0][1] = "武汉市新名称有限公司"
    result = _import(_csv(tmp_path / "b.csv", rows))
    assert (result.subjects_created, result.subjects_updated) == (0, 1)
    assert Subject.objects.get(code=valid_uscc(1)).name == "武汉市新名称有限公司"
    assert result.listings_unchanged == 2


def _schema() -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes"
            " WHERE tablename IN ('subjects_subject', 'subjects_listing')"
            " UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid IN ('subjects_subject'::regclass, 'subjects_listing'::regclass)"
            " ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]


@postgres_only
def test_a_load_into_an_empty_registry_rebuilds_every_index_and_constraint(
    list_2018, tmp_path, steps
):
    before = _schema()
    _import(_csv(tmp_path / "a.csv", _rows(5)))
    assert "COPY listings" in steps and "indexes" in steps  # straight into the tables
    assert _schema() == before
    steps.clear()
    second = _import(_csv(tmp_path / "b.csv", _rows(7)))
    assert "merge listings" in steps and "indexes" not in steps  # through the staging table
    assert _schema() == before
    assert (second.subjects_created, second.listings_created, second.listings_unchanged) == (
        2,
        2,
        5,
    )
    with connection.cursor() as cursor:  # the sequences went past the ids given
        cursor.execute("SELECT max(id) FROM subjects_subject")
        highest = cursor.fetchone()[0]
    assert Subject.objects.create(code=valid_uscc(99), kind="org", name="手工").pk > highest


@postgres_only
def test_a_refused_load_into_an_empty_registry_leaves_its_indexes(list_2018, tmp_path):
    before = _schema()
    rows = _rows(3)
    rows[2][3] = "2025-13-45"
    with pytest.raises(ImportFailed):
        _import(_csv(tmp_path / "bad.csv", rows))
    assert _schema() == before and Subject.objects.count() == 0


def test_a_file_broken_half_way_is_refused_with_its_row_and_nothing_written(list_2018, tmp_path):
    # The first rows are already streaming into the database when the break
    # is read: the transaction goes, and the message names the row.
    path = _csv(tmp_path / "broken.csv", _rows(5000))
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f'{valid_uscc(9999)},"未结束的引号,失信企业,2025-01-01,,来源\n')
    before = _snapshot()
    with pytest.raises(CommandError, match="第 5002 行无法按 csv 读取（.*引号"):
        call_command("import_subjects", str(path))
    assert _snapshot() == before


# --- the quick path is the full rules, only quicker ----------------------------


def test_the_quick_path_gives_what_the_full_rules_give(list_2018):
    """``Validator.validated`` takes a quick path for rows already in their
    final form and leaves the rest to ``Validator.row``, which holds every
    rule: on clean rows of every kind the quick path must give exactly what
    ``row`` gives, without calling it."""
    columns = {"uscc": 0, "name": 1, "basis": 2, "listed_on": 3, "expires_on": 4}
    columns |= {"source": 5, "reason": 6}
    rows = [
        (2, [valid_uscc(1), "武汉市某某1有限公司", "发改财金〔2016〕2202号", "2025-01-02", "", "市质监局", ""]),
        (3, [valid_uscc(2), "Ａ级公司", "发改财金(2016)2202号", "2025/1/2", "2028-01-01", "", "鄂01执1号"]),
        (4, ["11010519491231002X", "张某", "失信被执行人", "2025年1月2日", None, "法院", "（2024）"]),
        (5, [valid_uscc(3), "某公司", "失信被执行人", 20250102, datetime.date(2030, 1, 1), "局", ""]),
        (6, [valid_uscc(4), "某公司4", "海关失信企业", datetime.datetime(2025, 1, 2, 9), "20300101", "海关", "x"]),
        (7, [valid_uscc(5), "某公司5", "海关失信企业", "2025-01-02 12:00:00", "2030.1.1", "海关", "y"]),
    ]  # fmt: skip
    targets = Targets.load(list_2018)

    class Counted(Validator):
        full_checks = 0

        def row(self, number, cells):
            self.full_checks += 1
            return super().row(number, cells)

    for escape in (False, True):  # SQLite's rows, and COPY's
        quick = Counted(columns, targets, set(), "名单.csv", escape=escape)
        got = [item[2:] for item in quick.validated(rows, SubjectImportResult())]
        reference = Validator(columns, targets, set(), "名单.csv", escape=escape)
        assert got == [reference.row(number, cells) for number, cells in rows]
        assert quick.full_checks == 0 and quick.errors.count == reference.errors.count == 0
