"""The xlsx files the site writes hold text, never a formula, and show no apostrophe.

In xlsx a string cell is text to every spreadsheet, whatever it starts with,
so the export (``export_memos``, the list page, the admin) and the batch
check's download write ``=1+1`` as it is, a string cell; the apostrophe guard
is CSV's alone (tests/test_export.py).  openpyxl says what the file holds;
LibreOffice Calc, converting the file to CSV, shows what a spreadsheet makes
of it: a formula would show its result, 2.
"""

import csv
import io
import shutil
import subprocess

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from memo_registry.services.export import export_file
from memos.models import Memorandum
from tests.factories import MemorandumFactory, TargetSubjectFactory, valid_uscc

pytestmark = pytest.mark.django_db

FORMULA = "=1+1"
SOFFICE = shutil.which("soffice")
needs_libreoffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is absent")


def calc_shows(tmp_path, **files: bytes) -> dict[str, list[list[str]]]:
    """The first sheet of each xlsx as LibreOffice Calc computes it, by name."""
    paths = []
    for name, data in files.items():
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(data)
        paths.append(str(path))
    out = tmp_path / "calc"
    subprocess.run(
        [
            SOFFICE,
            # A profile of its own: another soffice running (another test
            # run, a user) would otherwise hold the default one's lock.
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            # Comma-separated, double-quoted, UTF-8 (76), from the first line.
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1",
            "--outdir",
            str(out),
            *paths,
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return {
        name: list(csv.reader(io.StringIO((out / f"{name}.csv").read_text("utf-8"), newline="")))
        for name in files
    }


def a_formula_workbook() -> bytes:
    """A sheet whose A1 openpyxl writes as the formula =1+1 (its default for such text)."""
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = FORMULA
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def assert_text_cell(cell) -> None:
    # Loaded without data_only: a formula would read back as data_type "f".
    assert cell.data_type == "s"
    assert cell.value == FORMULA  # the text itself, no apostrophe in front


def test_a_formula_like_cell_of_the_export_is_a_string_cell(db):
    MemorandumFactory(target_subject=TargetSubjectFactory(label="x", definition=FORMULA))
    data = export_file(Memorandum.objects.all(), "xlsx")
    assert_text_cell(openpyxl.load_workbook(io.BytesIO(data)).active["E2"])


def test_a_formula_like_cell_of_the_list_page_s_export_is_a_string_cell(client, db):
    MemorandumFactory(
        responsibility_list__is_current=True,
        target_subject=TargetSubjectFactory(label="x", definition=FORMULA),
    )
    response = client.get("/export.xlsx")
    assert response.status_code == 200
    assert_text_cell(openpyxl.load_workbook(io.BytesIO(response.content)).active["E2"])


@pytest.fixture
def checked(clerk_client):
    """The batch check's download for a sheet with ``=1+1`` beside a code."""
    upload = openpyxl.Workbook()
    upload.active.append(["统一社会信用代码", "备注"])
    upload.active.append([valid_uscc(7), FORMULA])  # a real formula in the upload
    buffer = io.BytesIO()
    upload.save(buffer)
    response = clerk_client.post(
        "/subjects/check/", {"file": SimpleUploadedFile("codes.xlsx", buffer.getvalue())}
    )
    assert response.status_code == 200
    return response.content


def test_a_formula_like_cell_of_the_batch_check_download_is_a_string_cell(checked):
    sheet = openpyxl.load_workbook(io.BytesIO(checked)).active
    assert sheet["A2"].value == valid_uscc(7)
    assert_text_cell(sheet["B2"])
    assert sheet["C2"].value == "未列入"


@needs_libreoffice
def test_libreoffice_shows_the_text_of_the_export_and_the_batch_check(db, checked, tmp_path):
    MemorandumFactory(target_subject=TargetSubjectFactory(label="x", definition=FORMULA))
    shown = calc_shows(
        tmp_path,
        control=a_formula_workbook(),
        export=export_file(Memorandum.objects.all(), "xlsx"),
        check=checked,
    )
    # The control: Calc does compute a formula in this conversion.
    assert shown["control"][0][0] == "2"
    assert shown["export"][1][4] == FORMULA
    assert shown["check"][1][:2] == [valid_uscc(7), FORMULA]
