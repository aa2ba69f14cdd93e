"""Bulk lifting (信用修复 / 移出名单) from a sheet: preview, per-row errors, confirm."""

import datetime

import pytest
from django.utils import timezone

from memo_registry.audit.models import ImportBatch
from memo_registry.imports.errors import ImportFailed
from memo_registry.imports.listings.lifting import lift_listings
from memo_registry.lib.spreadsheet import UPLOAD, open_rows
from memo_registry.services import work
from memo_registry.services.lookup import status_for
from subjects.models import Listing, TargetSubject
from tests.factories import ListingFactory, SubjectFactory, valid_uscc
from tests.listing_sheets import count, csv_file, token, upload, xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("upload_dir")]

URL, CONFIRM = "/listings/lift/", "/listings/lift/confirm/"
HEADER = ["统一社会信用代码", "列入依据", "移出日期", "移出原因"]
PERSON = "11010519491231002X"
LISTED = datetime.date(2025, 1, 10)


@pytest.fixture
def listings(list_2018):
    """Subject 1 on 失信被执行人 (memo 7's list is 严重质量违法失信行为当事人), in force;
    subject 2 on 严重质量违法失信行为当事人, in force; a person on 失信被执行人."""
    debtors = TargetSubject.objects.get(label="失信被执行人")
    quality = TargetSubject.objects.get(label="严重质量违法失信行为当事人")
    person = SubjectFactory(code=PERSON, kind="person", name="张某")
    made = {
        "debtor": ListingFactory(
            subject=SubjectFactory(code=valid_uscc(1)), target_subject=debtors, listed_on=LISTED,
            expires_on=None,
        ),
        "quality": ListingFactory(
            subject=SubjectFactory(code=valid_uscc(2)), target_subject=quality, listed_on=LISTED,
            expires_on=datetime.date(2028, 1, 1),
        ),
        "person": ListingFactory(
            subject=person, target_subject=debtors, listed_on=LISTED, expires_on=None
        ),
    }  # fmt: skip
    return made


def _state():
    return (
        sorted(Listing.objects.values_list("pk", "lifted_on", "lift_reason", "version")),
        ImportBatch.objects.count(),
    )


def _rows():
    return [
        [valid_uscc(1), "失信被执行人", "2025-06-01", "已履行全部义务，信用修复"],
        [valid_uscc(2), "发改财金〔2016〕2202号", "2025/6/2", "信用修复"],
    ]


def test_a_sheet_is_previewed_then_confirmed_and_the_listings_lifted(
    listings, as_editor, editor, tmp_path
):
    before = _state()
    preview = upload(as_editor, URL, xlsx(tmp_path / "修复.xlsx", HEADER, _rows()))
    assert preview.status_code == 200
    assert count(preview, "lifted") == 2 and count(preview, "unchanged") == 0
    assert "已履行全部义务，信用修复" in preview.content.decode()
    assert _state() == before  # nothing written by the preview

    done = as_editor.post(CONFIRM, {"token": token(preview)}, follow=True)
    assert "已移出 2 条名单记录" in done.content.decode()
    debtor = Listing.objects.get(pk=listings["debtor"].pk)
    assert (debtor.lifted_on, debtor.lift_reason) == (
        datetime.date(2025, 6, 1),
        "已履行全部义务，信用修复",
    )
    assert debtor.version == listings["debtor"].version + 1
    # The reason names one kind of ending: it is the listing's 移出类型 too.
    assert debtor.end_reason == "信用修复"
    batch = ImportBatch.objects.get()
    assert (batch.kind, batch.source, batch.user) == ("lifting", "page", editor)
    assert batch.counts == {"rows": 2, "lifted": 2, "unchanged": 0}
    assert debtor.import_batch == batch
    # Each lifted listing's history says who lifted it.
    record = debtor.history.first()
    assert record.history_user == editor and "批量移出" in record.history_change_reason
    # No longer in force from the day it was lifted: its measures no longer apply.
    quality = listings["quality"].subject
    assert status_for(quality, datetime.date(2025, 6, 1)).listed
    assert not status_for(quality, datetime.date(2025, 6, 2)).listed
    assert not status_for(quality, timezone.localdate()).measures


def test_the_same_sheet_again_changes_nothing(listings, as_editor, tmp_path):
    path = csv_file(tmp_path / "修复.csv", HEADER, _rows(), encoding="gb18030")
    as_editor.post(CONFIRM, {"token": token(upload(as_editor, URL, path))})
    before = _state()
    again = upload(as_editor, URL, path)
    assert count(again, "lifted") == 0 and count(again, "unchanged") == 2
    as_editor.post(CONFIRM, {"token": token(again)})
    assert _state()[0] == before[0]


@pytest.mark.parametrize(
    ("cells", "column", "fragment"),
    [
        ({0: valid_uscc(77)}, "统一社会信用代码", "主体库中没有该代码的主体"),
        ({0: "914201000000000019"}, "统一社会信用代码", "校验位错误"),
        ({1: "海关失信企业"}, "列入依据", "没有列入“海关失信企业”的名单记录"),
        ({1: "不存在的名单"}, "列入依据", "既不是"),
        ({2: "2024-12-31"}, "移出日期", "早于列入日期 2025-01-10"),
        ({2: "2099-01-01"}, "移出日期", "晚于今天"),
        ({2: "2025-02-30"}, "移出日期", "不是有效的日期"),
        ({2: ""}, "移出日期", "移出日期为空"),
        ({3: ""}, "移出原因", "移出原因为空"),
    ],
)
def test_a_wrong_row_writes_nothing_and_is_named_by_row_and_column(
    listings, as_editor, tmp_path, cells, column, fragment
):
    rows = _rows()
    for index, value in cells.items():
        rows[1][index] = value
    before = _state()
    response = upload(as_editor, URL, xlsx(tmp_path / "错.xlsx", HEADER, rows))
    assert response.status_code == 400
    page = response.content.decode()
    assert f"文件 错.xlsx 第 3 行「{column}」列：" in page and fragment in page
    assert 'name="token"' not in page
    assert _state() == before


def test_a_listing_expired_or_lifted_before_is_not_in_force(listings, as_editor, tmp_path):
    Listing.objects.filter(pk=listings["quality"].pk).update(expires_on=datetime.date(2025, 3, 1))
    Listing.objects.filter(pk=listings["debtor"].pk).update(
        lifted_on=datetime.date(2025, 2, 1), lift_reason="法院撤销"
    )
    page = upload(as_editor, URL, xlsx(tmp_path / "a.xlsx", HEADER, _rows())).content.decode()
    assert "第 2 行「移出日期」列：" in page and "已于 2025-02-01 移出，原因：法院撤销" in page
    assert "第 3 行「移出日期」列：" in page and "已于 2025-03-01 到期" in page


def test_a_listing_date_picks_one_listing_of_several(listings, as_editor, tmp_path):
    later = ListingFactory(
        subject=listings["debtor"].subject,
        target_subject=listings["debtor"].target_subject,
        listed_on=datetime.date(2025, 3, 1),
        expires_on=None,
    )
    header = [*HEADER, "列入日期"]
    rows = [[valid_uscc(1), "失信被执行人", "2025-06-01", "信用修复", "2025-03-01"]]
    preview = upload(as_editor, URL, xlsx(tmp_path / "a.xlsx", header, rows))
    as_editor.post(CONFIRM, {"token": token(preview)})
    assert Listing.objects.get(pk=later.pk).lifted_on == datetime.date(2025, 6, 1)
    assert Listing.objects.get(pk=listings["debtor"].pk).lifted_on is None


def test_two_rows_lifting_one_listing_differently_are_refused(listings, as_editor, tmp_path):
    rows = [*_rows(), [valid_uscc(1), "失信被执行人", "2025-06-05", "另一原因"]]
    page = upload(as_editor, URL, xlsx(tmp_path / "a.xlsx", HEADER, rows)).content.decode()
    assert "第 4 行「移出日期」列：与第 2 行移出的是同一条名单记录" in page


def test_a_stale_confirm_is_refused(listings, as_editor, tmp_path):
    preview = upload(as_editor, URL, xlsx(tmp_path / "a.xlsx", HEADER, _rows()))
    # Meanwhile an administrator records another lifting of the same listing.
    Listing.objects.filter(pk=listings["debtor"].pk).update(
        lifted_on=datetime.date(2025, 5, 1), lift_reason="法院撤销"
    )
    before = _state()
    response = as_editor.post(CONFIRM, {"token": token(preview)})
    assert response.status_code == 400
    assert "第 2 行「移出日期」列" in response.content.decode()
    assert _state() == before


def test_a_forged_confirm_is_refused(listings, as_editor, tmp_path, upload_dir):
    upload(as_editor, URL, xlsx(tmp_path / "a.xlsx", HEADER, _rows()))
    before = _state()
    response = as_editor.post(CONFIRM, {"token": next(upload_dir.iterdir()).name})
    assert response.status_code == 400
    assert _state() == before


def test_identity_numbers_are_masked_for_users_without_the_permission(
    listings, client, editor, administrator, tmp_path
):
    header = ["证件号码", "列入依据", "移出日期", "移出原因"]
    path = xlsx(tmp_path / "p.xlsx", header, [[PERSON, "失信被执行人", "2025-06-01", "信用修复"]])
    client.force_login(editor)
    page = upload(client, URL, path).content.decode()
    assert "张某" in page and PERSON not in page and "110105********002X" in page
    client.force_login(administrator)
    assert PERSON in upload(client, URL, path).content.decode()


def test_a_clerk_gets_403(listings, client, clerk, tmp_path):
    client.force_login(clerk)
    before = _state()
    assert client.get(URL).status_code == 403
    assert upload(client, URL, xlsx(tmp_path / "a.xlsx", HEADER, _rows())).status_code == 403
    assert _state() == before


def test_the_pipeline_counts_its_queries(listings, tmp_path, django_assert_max_num_queries):
    """A page's sheet (up to 2,000 rows) costs a fixed number of queries, not one per row."""
    rows = [[valid_uscc(n), "失信被执行人", "2025-06-01", "信用修复"] for n in range(100, 400)]
    for n in range(100, 400):
        ListingFactory(
            subject=SubjectFactory(code=valid_uscc(n)),
            target_subject=listings["debtor"].target_subject,
            listed_on=LISTED,
        )
    info, read = open_rows(xlsx(tmp_path / "big.xlsx", HEADER, rows), UPLOAD)
    with django_assert_max_num_queries(12):
        result = lift_listings(read, file_name=info.file_name, sha256=info.sha256)
    assert len(result.to_lift) == 300


def test_the_pipeline_refuses_a_sheet_without_its_columns(listings, tmp_path):
    info, read = open_rows(xlsx(tmp_path / "x.xlsx", ["统一社会信用代码", "名称"], []), UPLOAD)
    with pytest.raises(ImportFailed) as error:
        lift_listings(read, file_name=info.file_name, sha256=info.sha256)
    assert "表头缺少必需的列：列入依据、移出日期、移出原因" in str(error.value)


def test_the_open_work_items_of_a_lifted_listing_become_lifted(listings, as_editor, tmp_path):
    subject = listings["quality"].subject  # memo 7's list: measures with divisions
    mine = work.items().filter(subject=subject)
    assert set(mine.values_list("state", flat=True)) - {"lifted"}
    preview = upload(as_editor, URL, xlsx(tmp_path / "a.xlsx", HEADER, _rows()))
    as_editor.post(CONFIRM, {"token": token(preview)})
    assert set(mine.values_list("state", flat=True)) == {"lifted"}
