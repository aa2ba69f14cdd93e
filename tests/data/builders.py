"""Spreadsheet files for the import tests, written at test time as real files.

Also the two comparisons the tests make: a dump of every row the import
could touch (to prove a refused file changed nothing), and the registry read
back as plain values (to compare two ways of loading the same list).
"""

import csv
import io
from pathlib import Path

import openpyxl
from django.core.management import call_command

from measures.models import Division, LegalBasis, Measure
from memos.models import Department, Memorandum, ResponsibilityList
from subjects.models import TargetSubject
from tests import document_2018

DATA = Path(__file__).resolve().parent
SEED_TABLE = DATA / "seed_table_2018.tsv"
FIXTURE_XLSX = DATA.parent.parent / "fixtures" / "responsibility_list_2018.xlsx"

HEADER = [
    "序号",
    "文号",
    "备忘录名称",
    "发起部门",
    "奖惩对象（行为）",
    "实施部门",
    "奖惩措施",
    "责任处室",
]


def seed_rows() -> list[list[str]]:
    """The seed's table as rows of cells: header, items, blank and continuation rows."""
    lines = SEED_TABLE.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    return [line.split("\t") if line else [] for line in lines]


def write_csv(
    path: Path, rows: list[list[object]], *, encoding: str = "utf-8-sig", delimiter: str = ","
) -> Path:
    """A CSV file as Excel or another program would save it."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[object]], *, merge: list[str] = ()) -> Path:
    """An xlsx file with these rows from A1, and these ranges merged."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    for cell_range in merge:
        sheet.merge_cells(cell_range)
    workbook.save(path)
    return path


def memo_row(
    seq: object = 1,
    doc_number: str = "发改财金〔2016〕141号",
    title: str = "对失信被执行人实施联合惩戒的合作备忘录",
    departments: str = "市中级人民法院",
    definition: str = "最高人民法院公布的失信被执行人",
    implementing: str = "全市质监部门",
    measures: str = "1、限制其担任企业法定代表人",
    divisions: str = "行政审批处",
) -> list[object]:
    """One data row in the document's eight columns."""
    return [seq, doc_number, title, departments, definition, implementing, measures, divisions]


def current_list(**fields) -> ResponsibilityList:
    """The 2018 list's own record, without its memos: what an empty registry starts from."""
    values = {
        "doc_number": document_2018.LIST_DOC_NUMBER,
        "title": document_2018.LIST_TITLE,
        "issuer": document_2018.LIST_ISSUER,
        "issued_on": document_2018.LIST_ISSUED_ON,
        "is_current": True,
    } | fields
    return ResponsibilityList.objects.create(**values)


def dump_everything() -> str:
    """Every row of every table an import could write, history and audit included."""
    out = io.StringIO()
    call_command(
        "dumpdata", "memos", "measures", "subjects", "audit", stdout=out, indent=0, verbosity=0
    )
    return out.getvalue()


def registry_state() -> dict:
    """The registry as plain values, without primary keys, for comparing two loads."""
    memos = []
    for memo in Memorandum.objects.order_by("responsibility_list__doc_number", "seq"):
        memos.append(
            {
                "list": memo.responsibility_list.doc_number,
                "seq": memo.seq,
                "doc_number": memo.doc_number,
                "title": memo.title,
                "kind": memo.kind,
                "departments": sorted(d.name for d in memo.initiating_departments.all()),
                "implementing": memo.implementing_department.name,
                "label": memo.target_subject.label,
                "definition": memo.target_subject.definition,
                "no_function": memo.no_function,
                "no_function_note": memo.no_function_note,
                "status": memo.status,
                "repealed_on": memo.repealed_on,
                "measures": [
                    (m.order, m.text, sorted(d.name for d in m.divisions.all()))
                    for m in memo.measures.order_by("order")
                ],
            }
        )
    return {
        "memos": memos,
        "departments": sorted(Department.objects.values_list("name", flat=True)),
        "divisions": sorted(Division.objects.values_list("name", flat=True)),
        "subjects": sorted(TargetSubject.objects.values_list("label", "definition")),
        "measure_count": Measure.objects.count(),
        "legal_bases": sorted(
            LegalBasis.objects.values_list(
                "measure__memo__doc_number", "measure__order", "order", "level", "title", "article"
            )
        ),
    }


def document_state() -> list[dict]:
    """What tests/document_2018.py says the 2018 list holds, in registry_state's shape."""
    return [
        {
            "list": document_2018.LIST_DOC_NUMBER,
            "seq": item.seq,
            "doc_number": item.doc_number,
            "title": item.title,
            "kind": item.kind,
            "departments": sorted(item.departments),
            "implementing": document_2018.IMPLEMENTING,
            "label": item.label,
            "definition": item.definition,
            "no_function": bool(item.no_function_note),
            "no_function_note": item.no_function_note,
            "status": "in_force",
            "repealed_on": None,
            "measures": [
                (order, text, sorted(divisions))
                for order, (text, divisions) in enumerate(item.measures, 1)
            ],
        }
        for item in document_2018.ITEMS
    ]
