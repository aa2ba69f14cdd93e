"""Import and export on the memo admin: upload, preview, confirm; download."""

import io
import re

import openpyxl
import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from memo_registry.audit.models import ImportBatch
from memo_registry.services.export import HEADERS
from memos.models import Memorandum
from tests.data.builders import (
    FIXTURE_XLSX,
    HEADER,
    current_list,
    document_state,
    dump_everything,
    memo_row,
    registry_state,
    seed_rows,
    write_csv,
)

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:memos_memorandum_import")
PROCESS_URL = reverse("admin:memos_memorandum_process_import")
EXPORT_URL = reverse("admin:memos_memorandum_export")


@pytest.fixture
def admin_client(client, django_user_model, otp_login):
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw-123456")
    otp_login(client, user)
    client.user = user
    return client


def _upload(client, name: str, data: bytes, **fields):
    upload = SimpleUploadedFile(name, data)
    form = {"resource": "0", "format": "0", "import_file": upload} | fields
    if "responsibility_list" not in fields:
        from memos.models import ResponsibilityList

        form["responsibility_list"] = ResponsibilityList.current().pk
    return client.post(IMPORT_URL, form)


def _confirm(client, preview):
    form = preview.context["confirm_form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    return client.post(PROCESS_URL, data)


def _csv_bytes(tmp_path, rows, encoding="utf-8-sig") -> bytes:
    return write_csv(tmp_path / "upload.csv", rows, encoding=encoding).read_bytes()


def test_the_changelist_offers_import_and_export(admin_client, list_2018):
    page = admin_client.get(reverse("admin:memos_memorandum_changelist")).content.decode()
    assert IMPORT_URL in page
    assert EXPORT_URL in page


def test_the_import_page_offers_the_lists_and_names_the_columns(admin_client, list_2018):
    page = admin_client.get(IMPORT_URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "导入到清单" in html
    assert "奖惩对象（行为）" in html
    assert page.context["form"].fields["responsibility_list"].initial == list_2018.pk


def test_an_upload_is_previewed_and_written_only_when_confirmed(admin_client, tmp_path):
    current_list()
    before = dump_everything()
    preview = _upload(admin_client, "seed.csv", _csv_bytes(tmp_path, seed_rows(), "gb18030"))
    assert preview.status_code == 200
    assert dump_everything() == before  # the preview wrote nothing
    result = preview.context["result"]
    assert not result.has_errors()
    assert [row.import_type for row in result.rows] == ["new"] * 10
    html = preview.content.decode()
    assert "备忘录：新建 10 项，更新 0 项，未变 0 项。" in html
    assert "关于对纳税信用A级纳税人实施联合激励措施的合作备忘录" in html

    done = _confirm(admin_client, preview)
    assert done.status_code == 302
    assert registry_state()["memos"] == document_state()
    assert LogEntry.objects.filter(user=admin_client.user).count() == 10
    batch = ImportBatch.objects.get()
    assert batch.source == "admin"
    assert batch.user == admin_client.user
    assert batch.file_name == "seed.csv"


def test_the_preview_shows_what_an_edited_file_will_change(admin_client, list_2018, tmp_path):
    rows = seed_rows()
    rows[1][2] = rows[1][2].replace("合作备忘录", "合作备忘录（修订）")
    preview = _upload(admin_client, "edited.csv", _csv_bytes(tmp_path, rows))
    result = preview.context["result"]
    assert [row.import_type for row in result.rows] == ["update"] + ["skip"] * 9
    assert result.rows[0].diff[-1] == "备忘录名称"
    _confirm(admin_client, preview)
    assert Memorandum.objects.get(seq=1).title.endswith("（修订）")


def test_a_bad_file_shows_every_error_and_writes_nothing(admin_client, list_2018, tmp_path):
    rows = [HEADER, memo_row(seq="x"), memo_row(2, title="无类型")]
    before = dump_everything()
    page = _upload(admin_client, "bad.csv", _csv_bytes(tmp_path, rows))
    assert page.status_code == 200
    assert dump_everything() == before
    assert "confirm_form" not in page.context
    html = page.content.decode()
    assert "文件 bad.csv 第 2 行「序号」列：序号「x」不是正整数。" in html
    assert "文件 bad.csv 第 3 行「备忘录名称」列" in html
    assert "Traceback" not in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "空文件"),
        (b"%PDF-1.4\x00\x00", "不是电子表格"),
        (b"PK\x03\x04broken", "不是有效的 xlsx 文件"),
    ],
)
def test_a_file_that_is_no_spreadsheet_gets_a_plain_message(admin_client, list_2018, data, message):
    before = dump_everything()
    page = _upload(admin_client, "odd.xlsx", data)
    assert page.status_code == 200
    assert dump_everything() == before
    html = page.content.decode()
    assert message in html
    assert "Traceback" not in html


def test_an_oversized_upload_is_refused_before_it_is_read(admin_client, list_2018, settings):
    settings.IMPORT_MAX_BYTES = 100
    page = _upload(admin_client, "big.csv", b"x" * 200)
    assert "超过了导入上限" in page.content.decode()
    assert "result" not in page.context


def test_markup_in_a_file_is_shown_escaped_in_the_preview(admin_client, tmp_path):
    current_list()
    rows = [HEADER, memo_row(title="<script>alert(1)</script>联合惩戒备忘录")]
    html = _upload(admin_client, "x.csv", _csv_bytes(tmp_path, rows)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;联合惩戒备忘录" in html


def test_the_import_goes_into_the_chosen_list(admin_client, list_2018, tmp_path):
    from tests.factories import ResponsibilityListFactory

    other = ResponsibilityListFactory()
    preview = _upload(
        admin_client,
        "seed.csv",
        _csv_bytes(tmp_path, seed_rows()),
        responsibility_list=other.pk,
    )
    assert [row.import_type for row in preview.context["result"].rows] == ["new"] * 10
    _confirm(admin_client, preview)
    assert other.memos.count() == 10
    assert list_2018.memos.count() == 10


def test_the_bundled_xlsx_uploads_over_the_fixture_without_a_change(admin_client, list_2018):
    preview = _upload(admin_client, "list.xlsx", FIXTURE_XLSX.read_bytes())
    assert [row.import_type for row in preview.context["result"].rows] == ["skip"] * 10


@pytest.mark.parametrize("fmt_index", [0, 1])
def test_the_admin_export_has_the_document_layout(admin_client, list_2018, fmt_index):
    response = admin_client.post(EXPORT_URL, {"resource": "0", "format": str(fmt_index)})
    assert response.status_code == 200
    assert re.search(
        r'filename="memos-\d{4}-\d\d-\d\d\.(xlsx|csv)"', response["Content-Disposition"]
    )
    if fmt_index == 0:
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        rows = [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    else:
        import csv

        assert response.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == HEADERS
    assert len(rows) == 11
    assert rows[1][:2] == ["1", "发改财金〔2016〕1467号"]


def test_a_user_who_may_only_view_cannot_import(client, django_user_model, list_2018, otp_login):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="pw-123456", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_memorandum"))
    otp_login(client, user)
    assert client.get(IMPORT_URL).status_code == 403
    assert client.post(EXPORT_URL, {"resource": "0", "format": "1"}).status_code == 200


def test_confirming_twice_writes_once_and_says_why(admin_client, tmp_path):
    current_list()
    preview = _upload(admin_client, "seed.csv", _csv_bytes(tmp_path, seed_rows()))
    _confirm(admin_client, preview)
    after_first = dump_everything()
    again = _confirm(admin_client, preview)
    assert again.status_code == 302
    assert dump_everything() == after_first
    messages = [str(m) for m in again.wsgi_request._messages]
    assert "上传的文件已失效，未写入任何数据；请重新上传。" in messages
