"""What files the importer reads, and the plain message for each one it refuses."""

import io
import os
import subprocess
import sys
import zipfile
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from memo_registry.lib.spreadsheet import SpreadsheetError, read_bytes, read_path
from memos.models import Memorandum
from tests.data.builders import (
    HEADER,
    current_list,
    dump_everything,
    memo_row,
    seed_rows,
    write_csv,
    write_xlsx,
)

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def target(db):
    return current_list()


def _import(path, *args) -> str:
    out = StringIO()
    call_command("import_memos", str(path), *args, stdout=out)
    return out.getvalue()


# --- reading ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("gbk", "gb18030")],
)
def test_csv_encodings_are_detected(tmp_path, encoding, detected):
    path = write_csv(tmp_path / "a.csv", [HEADER, memo_row()], encoding=encoding)
    sheet = read_path(path)
    assert sheet.format == "csv"
    assert sheet.encoding == detected
    assert sheet.rows[0].cells == tuple(HEADER)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_csv_delimiter_is_sniffed(tmp_path, delimiter):
    rows = [HEADER, memo_row(definition="a,b;c"), memo_row(2, definition="甲,乙")]
    sheet = read_path(write_csv(tmp_path / "a.csv", rows, delimiter=delimiter))
    assert [len(row.cells) for row in sheet.rows] == [8, 8, 8]
    assert sheet.rows[1].cells[4] == "a,b;c"


def test_an_xlsx_is_recognised_by_its_content_not_its_name(tmp_path):
    path = write_xlsx(tmp_path / "list.csv", [HEADER, memo_row()])
    assert read_path(path).format == "xlsx"


def test_xlsx_numbers_and_dates_are_read_as_text(tmp_path):
    import datetime

    path = write_xlsx(tmp_path / "a.xlsx", [[1, 2.0, 2.5, datetime.date(2020, 3, 1), None, True]])
    assert read_path(path).rows[0].cells == ("1", "2", "2.5", "2020-03-01", "", "TRUE")


def test_rows_keep_the_numbers_the_spreadsheet_gives_them(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active["A3"] = "x"
    workbook.active["B7"] = "y"
    workbook.save(tmp_path / "a.xlsx")
    rows = read_path(tmp_path / "a.xlsx").rows
    assert [(row.number, "".join(row.cells)) for row in rows if not row.is_blank()] == [
        (3, "x"),
        (7, "y"),
    ]


def test_a_cell_far_to_the_right_does_not_widen_every_row(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "a"
    workbook.active["XFD2"] = "far away"
    workbook.save(tmp_path / "wide.xlsx")
    rows = read_path(tmp_path / "wide.xlsx").rows
    assert [row.cells for row in rows] == [("a",), ()]


def test_a_merged_title_row_is_skipped(target, tmp_path):
    rows = [["全市质监部门参与的联合奖惩备忘录责任清单"], HEADER, memo_row()]
    _import(write_xlsx(tmp_path / "a.xlsx", rows, merge=["A1:H1"]))
    assert Memorandum.objects.count() == 1


def test_a_seq_cell_merged_over_two_rows_makes_the_second_a_continuation(target, tmp_path):
    rows = [
        HEADER,
        memo_row(measures="1、甲", divisions="1、人事处"),
        [None] * 6 + ["2、乙", "2、法规处"],
    ]
    _import(write_xlsx(tmp_path / "a.xlsx", rows, merge=["A2:A3", "B2:B3", "C2:C3"]))
    memo = Memorandum.objects.get()
    assert [(m.text, m.divisions.get().name) for m in memo.measures.order_by("order")] == [
        ("甲", "人事处"),
        ("乙", "法规处"),
    ]


def test_control_characters_are_removed(tmp_path):
    path = write_csv(tmp_path / "a.csv", [["序\x07号", "a\x00b"]], encoding="utf-8")
    with pytest.raises(SpreadsheetError):  # NUL bytes mean a binary file
        read_path(path)
    sheet = read_bytes("序\x07号,a\x1bb\r\n".encode(), "a.csv")
    assert sheet.rows[0].cells == ("序号", "ab")


def test_the_checked_in_gb18030_copy_of_the_seed_imports(target):
    _import(DATA / "seed_table_2018_gb18030.csv")
    assert Memorandum.objects.count() == 10


# --- refusals -----------------------------------------------------------------------


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (120 * 1024 * 1024))
    return buffer.getvalue()


REFUSED = {
    "empty": (b"", "是空的"),
    "blank": (b"\xef\xbb\xbf \r\n\r\n", "是空的"),
    "pdf": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nstream\n\x00\x01\x02", "不是电子表格"),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "旧版 Excel（.xls）"),
    "utf16": ("序号,文号\r\n".encode("utf-16"), "UTF-16"),
    "binary": (bytes(range(256)) * 4, "不是电子表格"),
    "corrupt-xlsx": (b"PK\x03\x04" + b"\x00garbage" * 50, "不是有效的 xlsx 文件"),
    "zip-not-xlsx": (None, "不是有效的 xlsx 文件"),
    "zip-bomb": (None, "解压后过大"),
    "no-header": ("甲,乙\r\n丙,丁\r\n".encode(), "找不到表头行"),
    "missing-column": (",".join(HEADER[:6]).encode() + b"\r\n1,2,3,4,5,6\r\n", "缺少必需的列"),
}


def _refused_bytes(case: str) -> bytes:
    data = REFUSED[case][0]
    if case == "zip-not-xlsx":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("hello.txt", "not a workbook")
        return buffer.getvalue()
    if case == "zip-bomb":
        return _zip_bomb()
    return data


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_file_gets_a_plain_message_and_changes_nothing(list_2018, tmp_path, case):
    path = tmp_path / f"{case}.csv"
    path.write_bytes(_refused_bytes(case))
    before = dump_everything()
    with pytest.raises(CommandError) as caught:
        _import(path)
    assert REFUSED[case][1] in str(caught.value)
    assert f"{case}.csv" in str(caught.value)
    assert dump_everything() == before


def test_a_file_larger_than_the_limit_is_refused_before_it_is_read(list_2018, tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 1000
    path = write_csv(tmp_path / "big.csv", [HEADER, memo_row(definition="很" * 2000)])
    before = dump_everything()
    with pytest.raises(CommandError, match=r"big.csv 有 0.0 MB，超过了导入上限"):
        _import(path)
    assert dump_everything() == before


def test_a_refused_row_leaves_a_populated_registry_byte_for_byte_unchanged(list_2018, tmp_path):
    rows = [
        *seed_rows(),
        [
            "11",
            "发改财金〔2018〕1号",
            "没有类型的名称",
            "市某局",
            "某对象",
            "全市质监部门",
            "1、措施",
            "人事处",
        ],
    ]
    path = write_csv(tmp_path / "seed.csv", rows)
    before = dump_everything()
    with pytest.raises(CommandError, match="无法从名称判断是激励还是惩戒"):
        _import(path)
    assert dump_everything() == before


def test_a_missing_file_is_a_plain_error(db, tmp_path):
    current_list()
    with pytest.raises(CommandError, match="无法打开文件"):
        _import(tmp_path / "nope.csv")


def test_the_command_exits_non_zero_with_a_message_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"%PDF-1.4\x00\x01")
    # A throwaway database: the command must refuse the file before using one.
    env = os.environ | {"DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}
    result = subprocess.run(
        [sys.executable, "manage.py", "import_memos", str(bad), "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "bad.csv" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "unused.sqlite3").exists()
