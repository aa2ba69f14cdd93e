"""Markup and formulas imported as data are shown as text and exported inert.

The registry is loaded from the hostile corpus's "valid with oddity" files
(tests/hostile/memos/markup_formulas.csv, tests/hostile/subjects/markup_formulas.csv):
script and img tags, =HYPERLINK(…), +cmd…, -2+3, @SUM(…) in every text the
pages show.  Every page shows the escaped form and never the raw tag; the
JSON API returns the raw text as data; every spreadsheet written (export,
admin export, batch check) holds no formula and no cell a spreadsheet would
run as one: a CSV cell gets an apostrophe in front, an xlsx cell is a string
cell.  The list's search (``?search=``) is run for real, so the escaping of
its result rows is checked, not the whole list shown instead.
"""

import csv
import datetime
import html
import io
import json
import re
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from measures.models import Division
from memo_registry.audit.models import ImportBatch
from memo_registry.lib.text import FORMULA_TRIGGERS
from memos.models import Department, Memorandum
from subjects.models import Listing, Subject
from tests.factories import FeedbackFactory, ListingFactory, valid_uscc

pytestmark = pytest.mark.django_db

HOSTILE = Path(__file__).resolve().parent / "hostile"

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HYPERLINK = '=HYPERLINK("http://evil.example/","点我")'
DDE = "+cmd|' /C calc'!A0"
MINUS = "-2+3"
AT_SUM = "@SUM(A1:A2)"
RAW = (SCRIPT, IMG, "<script>alert", "<img src=x")
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def registry(list_2018):
    """The 2018 list plus the corpus's markup memos and listings, a subject on
    the markup memo's list today, and feedback with a tag in it."""
    call_command("import_memos", str(HOSTILE / "memos" / "markup_formulas.csv"), stdout=StringIO())
    call_command(
        "import_subjects", str(HOSTILE / "subjects" / "markup_formulas.csv"), stdout=StringIO()
    )
    scripted = Memorandum.objects.get(seq=961)
    subject = Subject.objects.get(code=valid_uscc(9081))
    today = timezone.localdate()
    ListingFactory(
        subject=subject,
        target_subject=scripted.target_subject,
        listed_on=today - datetime.timedelta(days=10),
        expires_on=today + datetime.timedelta(days=100),
        source=SCRIPT,
        basis=IMG,
    )
    measure = scripted.measures.get(order=1)
    FeedbackFactory(
        measure=measure, subject=subject, division=measure.divisions.get(), action=SCRIPT
    )
    return SimpleNamespace(
        scripted=scripted,
        formulas=Memorandum.objects.get(seq=962),
        returns=Memorandum.objects.get(seq=963),
        subject=subject,
        other_subject=Subject.objects.get(code=valid_uscc(9084)),
        division=Division.objects.get(name=f"{SCRIPT}处"),
        department=Department.objects.get(name=f"市{SCRIPT}局"),
    )


@pytest.fixture
def superuser_client(client, django_user_model, otp_login):
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw-123456")
    return otp_login(client, user)


def _assert_escaped(content: bytes, *texts: str) -> None:
    page = content.decode()
    for raw in RAW:
        assert raw not in page, raw
    for text in texts:
        assert html.escape(text) in page, text


def _pages(r) -> dict[str, tuple[str, ...]]:
    """Each page that shows imported text, and the texts it must show escaped."""
    admin = "/admin"
    return {
        "/": (SCRIPT, f"市{SCRIPT}局", f"{SCRIPT}处", IMG, HYPERLINK, DDE, MINUS),
        f"/?search={quote(SCRIPT)}": (SCRIPT,),
        f"/?search={quote('HYPERLINK')}": (HYPERLINK,),
        f"/memos/{r.scripted.pk}/": (
            r.scripted.doc_number,
            SCRIPT + IMG,
            f"市{SCRIPT}局",
            f"{SCRIPT}处",
            IMG,
            HYPERLINK,
        ),
        f"/memos/{r.formulas.pk}/": (HYPERLINK, DDE, AT_SUM, MINUS),
        f"/memos/{r.returns.pk}/": (IMG + MINUS,),
        f"/lookup/?q={quote(SCRIPT)}": (SCRIPT, IMG, HYPERLINK, f"{SCRIPT}处"),
        "/divisions/": (f"{SCRIPT}处",),
        f"/divisions/{r.division.pk}/": (f"{SCRIPT}处", r.scripted.doc_number, SCRIPT),
        f"/subjects/?q={quote(SCRIPT)}": (SCRIPT, AT_SUM + SCRIPT),
        f"/subjects/{r.subject.pk}/": (
            SCRIPT,
            IMG,
            HYPERLINK,
            r.scripted.doc_number,
            f"{SCRIPT}处",
        ),
        f"/subjects/{r.other_subject.pk}/": (AT_SUM + SCRIPT, SCRIPT),
        f"{admin}/memos/memorandum/": (SCRIPT, HYPERLINK),
        f"{admin}/memos/memorandum/?q={quote(SCRIPT)}": (SCRIPT,),
        f"{admin}/memos/memorandum/{r.scripted.pk}/change/": (
            r.scripted.doc_number,
            SCRIPT,
            IMG,
            HYPERLINK,
        ),
        f"{admin}/memos/memorandum/{r.formulas.pk}/change/": (HYPERLINK,),
        f"{admin}/memos/memorandum/{r.scripted.pk}/history/": (SCRIPT,),
        f"{admin}/memos/department/": (f"市{SCRIPT}局", DDE, MINUS),
        f"{admin}/memos/department/{r.department.pk}/change/": (f"市{SCRIPT}局",),
        f"{admin}/measures/division/": (f"{SCRIPT}处",),
        f"{admin}/measures/feedback/": (SCRIPT,),
        f"{admin}/subjects/targetsubject/": (SCRIPT, SCRIPT + IMG, AT_SUM),
        f"{admin}/subjects/subject/": (SCRIPT, IMG, HYPERLINK),
        f"{admin}/subjects/subject/?q={quote(SCRIPT)}": (SCRIPT,),
        f"{admin}/subjects/subject/{r.subject.pk}/change/": (SCRIPT, IMG, HYPERLINK),
        f"{admin}/subjects/subject/{r.other_subject.pk}/change/": (AT_SUM + SCRIPT, SCRIPT),
        f"{admin}/subjects/listing/": (SCRIPT,),
    }


def test_every_page_shows_imported_markup_escaped(superuser_client, registry):
    for url, texts in _pages(registry).items():
        response = superuser_client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html"), url
        try:
            _assert_escaped(response.content, *texts)
        except AssertionError as error:
            raise AssertionError(f"{url}: {error}") from None


def _result_rows(content: bytes) -> dict[int, str]:
    """The memo list's result rows: 序号 -> the HTML of that memo's row group."""
    page = content.decode()
    return {
        int(seq): rows
        for seq, rows in re.findall(r'<tbody[^>]*data-memo="(\d+)"[^>]*>(.*?)</tbody>', page, re.S)
    }


@pytest.mark.parametrize(
    ("query", "found", "shown"),
    [
        # The memo whose title, department, subject, measure and division hold the tag.
        (SCRIPT, [961], {961: (SCRIPT, f"市{SCRIPT}局", SCRIPT + IMG, f"{SCRIPT}处", IMG)}),
        # A formula in a measure (961) and in a title (962).
        ("HYPERLINK", [961, 962], {961: (HYPERLINK,), 962: (HYPERLINK, DDE, MINUS)}),
    ],
)
def test_the_list_s_search_results_show_the_markup_escaped(client, registry, query, found, shown):
    # The list page reads ?search= (the form's field): the rows below are
    # the search's results, not the whole list (13 memos) shown regardless.
    response = client.get("/", {"search": query})
    assert response.status_code == 200
    rows = _result_rows(response.content)
    assert sorted(rows) == found
    for seq, texts in shown.items():
        try:
            _assert_escaped(rows[seq].encode(), *texts)
        except AssertionError as error:
            raise AssertionError(f"memo {seq}: {error}") from None
    # The query itself, shown back in the search box and the count, is escaped too.
    _assert_escaped(response.content, query)
    assert f'value="{html.escape(query)}"' in response.content.decode()


def test_a_staff_member_with_the_view_permission_sees_subjects_escaped(
    client, django_user_model, registry
):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="pw-123456", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_subject", "view_listing"])
    )
    client.force_login(user)
    for url in [f"/subjects/{registry.subject.pk}/", f"/subjects/?q={quote(SCRIPT)}"]:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_escaped(response.content, SCRIPT, registry.subject.name)


def test_the_api_returns_the_raw_text_as_json(superuser_client, registry):
    memo = superuser_client.get(f"/api/memos/{registry.scripted.pk}/")
    assert memo["Content-Type"].startswith("application/json")
    assert memo["X-Content-Type-Options"] == "nosniff"
    data = memo.json()
    assert data["title"] == SCRIPT
    assert data["doc_number"] == registry.scripted.doc_number
    assert [item["text"] for item in data["measures"]] == [SCRIPT, IMG, HYPERLINK]

    formulas = superuser_client.get(f"/api/memos/{registry.formulas.pk}/").json()
    assert formulas["title"] == HYPERLINK
    assert formulas["initiating_departments"] == [DDE]

    lookup = superuser_client.get(f"/api/lookup/?q={quote(SCRIPT)}")
    assert lookup["Content-Type"].startswith("application/json")
    assert SCRIPT in json.dumps(lookup.json(), ensure_ascii=False)

    subject = superuser_client.get(f"/api/subjects/{registry.subject.code}/")
    assert subject["Content-Type"].startswith("application/json")
    assert subject.json()["name"] == SCRIPT


def test_the_api_never_answers_a_browser_with_raw_markup_as_html(superuser_client, registry):
    response = superuser_client.get(f"/api/memos/{registry.scripted.pk}/", HTTP_ACCEPT="text/html")
    if response["Content-Type"].startswith("text/html"):  # the browsable API (DEBUG)
        assert response.status_code == 200
        _assert_escaped(response.content, SCRIPT)
    else:
        assert response["Content-Type"].startswith("application/json") or (
            response.status_code == 406
        )


# --- spreadsheets written by the registry --------------------------------------------


# What a formula-like text carries in front in each kind of file.
GUARD = {"csv": "'", "xlsx": ""}


def _assert_inert_xlsx(data: bytes) -> list[list]:
    """The rows of every sheet, failing on any formula cell.

    An xlsx cell has a type: a string cell is text to every spreadsheet,
    whatever it starts with, so its text is written as it is (the CSV's
    apostrophe would only show); a formula cell is what must never be written.
    """
    # Not data_only: a formula reads back as data_type "f".
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    rows = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (cell.coordinate, cell.value)
            rows.append([cell.value for cell in row])
    return rows


def _assert_inert_csv(data: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    for row in rows:
        for cell in row:
            assert cell[:1] not in FORMULA_TRIGGERS, cell
    return rows


def _memo_rows(rows: list[list]) -> dict[str, dict[str, str]]:
    header = rows[0]
    return {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}


def _assert_formula_memo_is_inert(rows: dict[str, dict[str, str]], guard: str) -> None:
    """``guard``: what stands before a formula-like text, "'" in CSV, nothing in xlsx."""
    formulas = rows["测试〔2024〕962号"]
    assert formulas["备忘录名称"] == guard + HYPERLINK
    assert formulas["发起部门"] == guard + DDE
    assert formulas["奖惩对象（行为）"] == guard + AT_SUM
    assert formulas["实施部门"] == guard + MINUS
    assert formulas["对象简称"] == guard + "=1+1"
    scripted = rows[f"测试〔2024〕961号{SCRIPT}"]
    assert scripted["备忘录名称"] == SCRIPT  # markup is plain text in a spreadsheet
    assert scripted["奖惩措施"].endswith(f"3、{HYPERLINK}")  # inside a cell: not a formula


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_memos_writes_formula_like_cells_inert(registry, tmp_path, fmt):
    path = tmp_path / f"out.{fmt}"
    call_command("export_memos", "--format", fmt, "-o", str(path), stdout=StringIO())
    data = path.read_bytes()
    rows = _assert_inert_csv(data) if fmt == "csv" else _assert_inert_xlsx(data)
    _assert_formula_memo_is_inert(_memo_rows(rows), GUARD[fmt])


def test_an_export_imports_back_to_the_same_text(registry, tmp_path):
    path = tmp_path / "out.csv"
    call_command("export_memos", "--format", "csv", "-o", str(path), stdout=StringIO())
    before = {m.seq: (m.title, m.target_subject.label) for m in Memorandum.objects.all()}
    out = StringIO()
    call_command("import_memos", str(path), stdout=out)
    assert "更新 0 项" in out.getvalue()
    after = {m.seq: (m.title, m.target_subject.label) for m in Memorandum.objects.all()}
    assert after == before
    assert after[962] == (HYPERLINK, "=1+1")


def test_export_memos_json_carries_the_raw_text(registry, tmp_path):
    path = tmp_path / "out.json"
    call_command("export_memos", "--format", "json", "-o", str(path), stdout=StringIO())
    records = {r["doc_number"]: r for r in json.loads(path.read_text(encoding="utf-8"))}
    assert records["测试〔2024〕962号"]["title"] == HYPERLINK
    assert records[registry.scripted.doc_number]["title"] == SCRIPT


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_page_export_writes_formula_like_cells_inert(superuser_client, registry, fmt):
    response = superuser_client.get(f"/export.{fmt}")
    assert response.status_code == 200
    rows = (
        _assert_inert_csv(response.content)
        if fmt == "csv"
        else _assert_inert_xlsx(response.content)
    )
    _assert_formula_memo_is_inert(_memo_rows(rows), GUARD[fmt])


@pytest.mark.parametrize(("fmt_index", "fmt"), [(0, "xlsx"), (1, "csv")])
def test_the_admin_export_writes_formula_like_cells_inert(
    superuser_client, registry, fmt_index, fmt
):
    response = superuser_client.post(
        reverse("admin:memos_memorandum_export"), {"resource": "0", "format": str(fmt_index)}
    )
    assert response.status_code == 200
    rows = (
        _assert_inert_csv(response.content)
        if fmt == "csv"
        else _assert_inert_xlsx(response.content)
    )
    _assert_formula_memo_is_inert(_memo_rows(rows), GUARD[fmt])


def test_the_batch_check_download_writes_formula_like_cells_inert(superuser_client, registry):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["统一社会信用代码", "备注"])
    sheet.append([registry.subject.code, HYPERLINK])  # written by openpyxl as a real formula
    sheet.append([registry.other_subject.code, DDE])
    sheet.append([valid_uscc(9082), AT_SUM])
    sheet.append(["=1+1", MINUS])
    upload = io.BytesIO()
    workbook.save(upload)
    response = superuser_client.post(
        "/subjects/check/", {"file": SimpleUploadedFile("codes.xlsx", upload.getvalue())}
    )
    assert response.status_code == 200
    rows = _assert_inert_xlsx(response.content)
    by_code = {row[0]: row for row in rows[1:]}
    # Each text back as it came, in a string cell (checked above), never a formula.
    assert by_code[registry.subject.code][1] == HYPERLINK
    assert by_code[registry.other_subject.code][1] == DDE
    assert by_code[valid_uscc(9082)][1] == AT_SUM
    assert by_code["=1+1"][1:3] == [MINUS, "代码有误"]
    listed = by_code[registry.subject.code]
    assert listed[2] == "已列入"
    assert SCRIPT in listed[4]  # the list's label, as text in a spreadsheet


# --- what the people who upload see ----------------------------------------------


def test_the_admin_preview_shows_the_markup_of_a_file_escaped(superuser_client, list_2018):
    path = HOSTILE / "memos" / "markup_formulas.xlsx"
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    page = superuser_client.post(
        reverse("admin:memos_memorandum_import"),
        {
            "resource": "0",
            "format": "0",
            "import_file": upload,
            "responsibility_list": list_2018.pk,
        },
    )
    assert page.status_code == 200
    assert "confirm_form" in page.context
    _assert_escaped(page.content, SCRIPT, HYPERLINK, f"测试〔2024〕961号{SCRIPT}")


def test_a_file_name_with_markup_is_escaped_in_error_messages(superuser_client, list_2018):
    hostile_name = f"{IMG}.csv"
    utf16 = (HOSTILE / "memos" / "utf16_le_bom.csv").read_bytes()
    page = superuser_client.post(
        reverse("admin:memos_memorandum_import"),
        {
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile(hostile_name, utf16),
            "responsibility_list": list_2018.pk,
        },
    )
    assert page.status_code == 200
    _assert_escaped(page.content, f"文件 {hostile_name} 是 UTF-16 编码的文本")
    check = superuser_client.post(
        "/subjects/check/", {"file": SimpleUploadedFile(hostile_name, utf16)}
    )
    assert check.status_code == 400
    _assert_escaped(check.content, f"文件 {hostile_name} 是 UTF-16 编码的文本")


def test_an_import_record_with_a_markup_file_name_is_shown_escaped(
    superuser_client, registry, tmp_path
):
    path = tmp_path / f"{IMG}.csv"
    path.write_bytes((HOSTILE / "memos" / "sql_text.csv").read_bytes())
    call_command("import_memos", str(path), stdout=StringIO())
    batch = ImportBatch.objects.get(file_name=path.name)
    for url in [
        "/admin/audit/importbatch/",
        f"/admin/audit/importbatch/{batch.pk}/change/",
        f"/admin/memos/memorandum/{Memorandum.objects.get(seq=951).pk}/history/",
    ]:
        response = superuser_client.get(url)
        assert response.status_code == 200, url
        _assert_escaped(response.content)
    assert Listing.objects.filter(subject=registry.subject).count() == 2
