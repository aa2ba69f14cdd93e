"""Export in the document's layout: xlsx, csv and json; no cell runs as a formula."""

import csv
import io
import json

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from memo_registry.services.export import CONTENT_TYPES, HEADERS, export_file, export_rows
from memos.models import Memorandum
from tests.factories import MeasureFactory, MemorandumFactory, TargetSubjectFactory

pytestmark = pytest.mark.django_db

DOCUMENT_COLUMNS = [
    "序号",
    "文号",
    "备忘录名称",
    "发起部门",
    "奖惩对象（行为）",
    "实施部门",
    "奖惩措施",
    "责任处室",
]


def _by_header(row):
    return dict(zip(HEADERS, row, strict=True))


def test_headers_are_the_documents_columns_then_kind_and_round_trip_columns():
    assert HEADERS[:8] == DOCUMENT_COLUMNS
    assert HEADERS[8:] == ["类型", "对象简称", "状态", "废止日期", "实施依据"]


def test_it_writes_one_row_per_memo_in_the_documents_layout(list_2018):
    rows = [_by_header(row) for row in export_rows(Memorandum.objects.order_by("seq"))]
    assert len(rows) == 10
    first = rows[0]
    assert first["序号"] == "1"
    assert first["文号"] == "发改财金〔2016〕1467号"
    assert first["发起部门"] == "市国税局、市地税局"
    assert first["实施部门"] == "全市质监部门"
    assert first["类型"] == "激励"
    assert first["对象简称"] == "纳税信用A级纳税人"
    assert first["状态"] == "现行有效"
    assert first["废止日期"] == ""
    assert first["奖惩措施"].startswith("1、作为各部门")
    assert first["责任处室"] == "有关业务处室和直属机构"


def test_it_numbers_measures_and_aligns_their_divisions_line_by_line(list_2018):
    item_7 = _by_header(export_rows(Memorandum.objects.filter(seq=7))[0])
    measures = item_7["奖惩措施"].split("\n")
    divisions = item_7["责任处室"].split("\n")
    assert [line[:2] for line in measures] == ["1、", "2、", "3、"]
    assert divisions == [f"{n}、有关业务处室和直属机构" for n in (1, 2, 3)]


def test_a_memo_without_function_shows_its_note_and_no_division(list_2018):
    item_5 = _by_header(export_rows(Memorandum.objects.filter(seq=5))[0])
    assert item_5["奖惩措施"] == "我市质监部门无相关职能"
    assert item_5["责任处室"] == ""


def test_it_joins_several_divisions_of_one_measure_with_a_comma(db):
    # Orders given: the factory's sequence runs across the whole suite.
    measure = MeasureFactory(divisions=None, order=1)
    MeasureFactory(memo=measure.memo, order=2)
    from tests.factories import DivisionFactory

    measure.divisions.set([DivisionFactory(name="人事处"), DivisionFactory(name="法规处")])
    row = _by_header(export_rows(Memorandum.objects.all())[0])
    assert row["责任处室"].split("\n")[0] == "1、人事处、法规处"


def test_it_runs_a_fixed_number_of_queries(list_2018):
    with CaptureQueriesContext(connection) as ten:
        export_rows(Memorandum.objects.all())
    for seq in range(11, 16):
        MeasureFactory(memo=MemorandumFactory(responsibility_list=list_2018, seq=seq))
    with CaptureQueriesContext(connection) as fifteen:
        export_rows(Memorandum.objects.all())
    assert len(ten) == len(fifteen) <= 6


def test_csv_is_utf8_with_bom_and_opens_with_the_headers(list_2018):
    data = export_file(Memorandum.objects.all(), "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == HEADERS
    assert len(rows) == 11


def test_xlsx_has_a_bold_frozen_header_and_string_cells(list_2018):
    data = export_file(Memorandum.objects.all(), "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert sheet["A1"].font.bold
    assert sheet.freeze_panes == "A2"
    assert sheet.max_row == 11
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value]
    assert cells and all(cell.data_type == "s" for cell in cells)
    assert sheet["G2"].alignment.wrap_text


FORMULA_LIKE = ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\t=1"]


@pytest.mark.parametrize("payload", FORMULA_LIKE)
def test_csv_cells_that_look_like_formulas_get_an_apostrophe(db, payload):
    MemorandumFactory(target_subject=TargetSubjectFactory(label="x", definition=payload))
    data = export_file(Memorandum.objects.all(), "csv")
    cell = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1][4]
    expected = payload.strip()  # the model squeezes the stored text
    assert cell == "'" + expected


@pytest.mark.parametrize("payload", FORMULA_LIKE)
def test_xlsx_cells_that_look_like_formulas_are_string_cells_without_an_apostrophe(db, payload):
    MemorandumFactory(target_subject=TargetSubjectFactory(label="x", definition=payload))
    data = export_file(Memorandum.objects.all(), "xlsx")
    # Not data_only: a formula would read back as data_type "f".
    cell = openpyxl.load_workbook(io.BytesIO(data)).active.cell(row=2, column=5)
    assert cell.data_type == "s"
    assert cell.value == payload.strip()


def test_an_xlsx_text_that_starts_like_the_csv_guard_keeps_its_apostrophe_through_the_import(db):
    # The import takes the CSV guard off every cell it reads, xlsx included:
    # a text that itself starts with one gets one more, and reads back whole.
    MemorandumFactory(target_subject=TargetSubjectFactory(label="x", definition="'=1+1"))
    data = export_file(Memorandum.objects.all(), "xlsx")
    cell = openpyxl.load_workbook(io.BytesIO(data)).active.cell(row=2, column=5)
    assert (cell.data_type, cell.value) == ("s", "''=1+1")


def test_json_carries_the_api_keys_and_raw_text(list_2018):
    memo = Memorandum.objects.get(seq=7)
    memo.target_subject.definition = "=SUM(1)"
    memo.target_subject.save()
    records = json.loads(export_file(Memorandum.objects.order_by("seq"), "json"))
    assert len(records) == 10
    item_7 = records[6]
    assert set(item_7) == {
        "id",
        "seq",
        "doc_number",
        "title",
        "kind",
        "initiating_departments",
        "target_subject",
        "target_label",
        "implementing_department",
        "no_function",
        "no_function_note",
        "status",
        "repealed_on",
        "list",
        "measures",
    }
    assert item_7["target_subject"] == "=SUM(1)"
    assert item_7["kind"] == "punishment"
    assert item_7["repealed_on"] is None
    assert item_7["measures"][0]["divisions"] == ["有关业务处室和直属机构"]
    assert records[0]["initiating_departments"] == ["市国税局", "市地税局"]


def test_it_refuses_an_unknown_format(db):
    with pytest.raises(ValueError):
        export_file(Memorandum.objects.all(), "pdf")


def test_every_format_has_a_content_type():
    assert set(CONTENT_TYPES) == {"xlsx", "csv", "json"}
