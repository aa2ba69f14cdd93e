"""Bulk import of listings: all or nothing, row-numbered errors, idempotent."""

import csv
import datetime
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from memo_registry.audit.models import ImportBatch
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
            "2025-01-0{}".format(i % 9 + 1),
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
    path = _csv(tmp_path / "cols.csv", [["a", "b"]], header=["代码", "名称"])
    with pytest.raises(CommandError, match="找不到表头"):
        call_command("import_subjects", str(path))


def test_dry_run_writes_nothing(list_2018, tmp_path, capsys):
    call_command("import_subjects", str(_csv(tmp_path / "d.csv", _rows(2))), "--dry-run")
    assert Subject.objects.count() == 0 and ImportBatch.objects.count() == 0
    assert "试运行" in capsys.readouterr().out


def test_the_command_fails_without_a_traceback(tmp_path):
    path = tmp_path / "not-a-sheet.csv"
    path.write_bytes(b"\xff\xfe" + "代码".encode("utf-16-le"))
    result = subprocess.run(
        [sys.executable, "manage.py", "import_subjects", str(path)], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "UTF-16" in result.stderr and "Traceback" not in result.stderr
