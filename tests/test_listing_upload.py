"""Listings uploaded in the browser: preview, then confirm, through import_subjects' pipeline."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from memo_registry.audit.models import ImportBatch
from subjects.models import Listing, Subject, TargetSubject
from tests.factories import ListingFactory, SubjectFactory, valid_uscc
from tests.listing_sheets import count, csv_file, token, upload, xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("upload_dir")]

URL, CONFIRM = "/listings/import/", "/listings/import/confirm/"
HEADER = ["统一社会信用代码", "名称", "列入依据", "列入日期", "有效期至", "来源"]
PERSON = "11010519491231002X"


@pytest.fixture
def registry(list_2018):
    """One listing the sheet leaves as it is, one whose 有效期至 it extends."""
    label = TargetSubject.objects.get(label="严重质量违法失信行为当事人")
    for n, expires in ((1, datetime.date(2028, 1, 1)), (2, datetime.date(2026, 6, 30))):
        ListingFactory(
            subject=SubjectFactory(code=valid_uscc(n), name=f"武汉市某某{n}有限公司"),
            target_subject=label,
            source="市质监局",
            basis="",
            listed_on=datetime.date(2025, 1, 1),
            expires_on=expires,
        )
    return list_2018


def _rows():
    return [
        [valid_uscc(1), "武汉市某某1有限公司", "发改财金〔2016〕2202号", "2025-01-01", "2028-01-01", "市质监局"],
        [valid_uscc(2), "武汉市某某2有限公司", "发改财金〔2016〕2202号", "2025-01-01", "2028-01-01", "市质监局"],
        [valid_uscc(3), "武汉市某某3有限公司", "失信被执行人", "2025-03-01", "", "武汉市中级人民法院"],
    ]  # fmt: skip


def _snapshot():
    return (
        sorted(Subject.objects.values_list("code", "name")),
        sorted(Listing.objects.values_list("subject__code", "target_subject_id", "expires_on")),
        ImportBatch.objects.count(),
    )


def test_an_xlsx_is_previewed_then_confirmed_and_recorded(registry, as_editor, editor, tmp_path):
    before = _snapshot()
    preview = upload(as_editor, URL, xlsx(tmp_path / "本周名单.xlsx", HEADER, _rows()))
    assert preview.status_code == 200
    assert (count(preview, "added"), count(preview, "updated"), count(preview, "unchanged")) == (
        1,
        1,
        1,
    )
    page = preview.content.decode()
    assert "武汉市某某3有限公司" in page and "尚未写入" in page
    assert _snapshot() == before  # a preview writes nothing, records nothing

    done = as_editor.post(CONFIRM, {"token": token(preview)}, follow=True)
    assert done.status_code == 200
    assert "新增名单记录 1，更新 1，未变 1" in done.content.decode()
    assert Listing.objects.get(subject__code=valid_uscc(2)).expires_on == datetime.date(2028, 1, 1)
    new = Listing.objects.get(subject__code=valid_uscc(3))
    assert new.target_subject.label == "失信被执行人" and new.expires_on is None
    batch = ImportBatch.objects.get()
    assert (batch.kind, batch.source, batch.user, batch.file_name) == (
        "subjects",
        "page",
        editor,
        "本周名单.xlsx",
    )
    assert batch.counts["listings_created"] == 1 and batch.counts["listings_updated"] == 1
    assert new.import_batch == batch


def test_a_gb18030_csv_with_a_title_row_is_read(registry, as_editor, tmp_path):
    path = csv_file(
        tmp_path / "名单.csv", HEADER, _rows(), encoding="gb18030", title="2025年失信名单"
    )
    preview = upload(as_editor, URL, path)
    assert count(preview, "added") == 1
    as_editor.post(CONFIRM, {"token": token(preview)})
    assert Subject.objects.get(code=valid_uscc(3)).name == "武汉市某某3有限公司"


def test_an_error_row_writes_nothing_and_names_its_row_and_column(
    registry, as_editor, tmp_path, upload_dir
):
    rows = _rows()
    rows[2][3] = "2025-02-30"
    before = _snapshot()
    response = upload(as_editor, URL, csv_file(tmp_path / "错.csv", HEADER, rows))
    assert response.status_code == 400
    page = response.content.decode()
    assert "文件 错.csv 第 4 行「列入日期」列：「2025-02-30」不是有效的日期" in page
    assert 'name="token"' not in page  # nothing to confirm
    assert _snapshot() == before
    assert list(upload_dir.iterdir()) == []  # the refused file is not kept


def test_a_forged_confirm_is_refused(registry, as_editor, tmp_path, upload_dir):
    preview = upload(as_editor, URL, xlsx(tmp_path / "a.xlsx", HEADER, _rows()))
    kept = next(upload_dir.iterdir()).name
    before = _snapshot()
    for forged in (kept, token(preview)[:-2] + "xx", "../../etc/passwd", ""):
        response = as_editor.post(CONFIRM, {"token": forged})
        assert response.status_code == 400
        assert "不是本账号上传并预览的文件" in response.content.decode()
    assert _snapshot() == before


def test_another_users_token_is_refused(registry, client, editor, administrator, tmp_path):
    client.force_login(editor)
    preview = upload(client, URL, xlsx(tmp_path / "a.xlsx", HEADER, _rows()))
    client.force_login(administrator)
    before = _snapshot()
    assert client.post(CONFIRM, {"token": token(preview)}).status_code == 400
    assert _snapshot() == before


def test_a_token_for_a_lifting_does_not_confirm_an_import(registry, as_editor, tmp_path):
    preview = upload(as_editor, URL, xlsx(tmp_path / "a.xlsx", HEADER, _rows()))
    before = _snapshot()
    assert as_editor.post("/listings/lift/confirm/", {"token": token(preview)}).status_code == 400
    assert _snapshot() == before


def test_an_expired_preview_is_refused(registry, as_editor, tmp_path, settings):
    preview = upload(as_editor, URL, xlsx(tmp_path / "a.xlsx", HEADER, _rows()))
    settings.IMPORT_UPLOAD_MAX_AGE = -1
    before = _snapshot()
    response = as_editor.post(CONFIRM, {"token": token(preview)})
    assert response.status_code == 400 and "预览已超过一小时" in response.content.decode()
    assert _snapshot() == before


def test_a_stale_confirm_is_refused_with_a_new_preview(registry, as_editor, tmp_path):
    path = xlsx(tmp_path / "a.xlsx", HEADER, _rows())
    preview = upload(as_editor, URL, path)
    call_command("import_subjects", str(path))  # someone loads the same file meanwhile
    before = _snapshot()
    stale = as_editor.post(CONFIRM, {"token": token(preview)})
    assert stale.status_code == 409
    assert "自预览以来名单已有变化，未写入任何数据" in stale.content.decode()
    assert count(stale, "added") == 0 and count(stale, "unchanged") == 3
    assert _snapshot() == before
    # The new preview's own token confirms what it shows.
    assert as_editor.post(CONFIRM, {"token": token(stale)}).status_code == 302
    assert ImportBatch.objects.count() == before[2] + 1


def test_confirming_twice_writes_once(registry, as_editor, tmp_path):
    preview = upload(as_editor, URL, xlsx(tmp_path / "a.xlsx", HEADER, _rows()))
    assert as_editor.post(CONFIRM, {"token": token(preview)}).status_code == 302
    again = as_editor.post(CONFIRM, {"token": token(preview)})
    assert again.status_code == 400 and "上传的文件已失效" in again.content.decode()
    assert ImportBatch.objects.count() == 1


def test_a_reposted_file_is_never_read(registry, as_editor, tmp_path):
    preview = upload(as_editor, URL, xlsx(tmp_path / "a.xlsx", HEADER, _rows()))
    other = [[valid_uscc(40), "冒名公司", "失信被执行人", "2025-03-01", "", "某处"]]
    swapped = xlsx(tmp_path / "a.xlsx", HEADER, other)
    with swapped.open("rb") as handle:
        file = SimpleUploadedFile("a.xlsx", handle.read())
    as_editor.post(CONFIRM, {"token": token(preview), "file": file})
    assert Subject.objects.filter(code=valid_uscc(3)).exists()
    assert not Subject.objects.filter(code=valid_uscc(40)).exists()


def test_a_clerk_gets_403_and_a_visitor_the_sign_in(registry, client, clerk, tmp_path):
    path = xlsx(tmp_path / "a.xlsx", HEADER, _rows())
    assert client.get(URL).status_code == 302
    client.force_login(clerk)
    assert client.get(URL).status_code == 403
    before = _snapshot()
    assert upload(client, URL, path).status_code == 403
    assert client.post(CONFIRM, {"token": "x"}).status_code == 403
    assert _snapshot() == before
    assert "名单导入" not in client.get("/").content.decode()


def test_editors_find_the_page_in_the_navigation(registry, as_editor):
    assert 'href="/listings/import/"' in as_editor.get("/").content.decode()


def test_identity_numbers_are_masked_for_users_without_the_permission(
    registry, client, editor, administrator, tmp_path
):
    rows = [["", PERSON, "张某", "失信被执行人", "2025-03-01", "", "武汉市中级人民法院"]]
    header = ["统一社会信用代码", "证件号码", "名称", "列入依据", "列入日期", "有效期至", "来源"]
    path = xlsx(tmp_path / "p.xlsx", header, rows)
    client.force_login(editor)
    page = upload(client, URL, path).content.decode()
    assert "张某" in page and PERSON not in page and "110105********002X" in page
    client.force_login(administrator)
    assert PERSON in upload(client, URL, path).content.decode()


def test_an_identity_number_in_an_error_message_is_masked(registry, as_editor, tmp_path):
    header = ["证件号码", "名称", "列入依据", "列入日期"]
    rows = [
        [PERSON, "张某", "失信被执行人", "2025-03-01"],
        [PERSON, "李某", "失信被执行人", "2025-03-01"],
    ]
    page = upload(as_editor, URL, xlsx(tmp_path / "p.xlsx", header, rows)).content.decode()
    assert "第 3 行「名称」列" in page and PERSON not in page


def test_the_preview_shows_every_column_the_sheet_filled(registry, as_editor, tmp_path):
    header = [*HEADER, "认定依据"]
    rows = [[*row, "武质监罚〔2025〕12号"] for row in _rows()]
    page = upload(as_editor, URL, xlsx(tmp_path / "a.xlsx", header, rows)).content.decode()
    assert '<th scope="col">认定依据</th>' in page and "武质监罚〔2025〕12号" in page
    assert '<th scope="col">有效期至</th>' in page and '<th scope="col">版本</th>' not in page
