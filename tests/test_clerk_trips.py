"""What a clerk trips over (issue 13): each test is named after what it prevents."""

import datetime
import io
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from memo_registry.services import memo_cache
from memo_registry.services.lookup import measures_for_listing, status_for
from memos.models import Memorandum
from tests.data.builders import HEADER, write_csv
from tests.factories import (
    DivisionFactory,
    ListingFactory,
    MeasureFactory,
    MemorandumFactory,
    ResponsibilityListFactory,
    SubjectFactory,
    TargetSubjectFactory,
    valid_uscc,
)

pytestmark = pytest.mark.django_db


def _days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


# --- 1. a repeal dated in the future ------------------------------------------------


@pytest.fixture
def repealed_later():
    """The current list: one memo repealed from tomorrow, one repealed today."""
    current = ResponsibilityListFactory(is_current=True)
    target = TargetSubjectFactory(label="失信被执行人")
    later, today = (
        MemorandumFactory(
            responsibility_list=current,
            seq=seq,
            doc_number=doc_number,
            target_subject=target,
            status=Memorandum.Status.REPEALED,
            repealed_on=_days(days),
        )
        for seq, doc_number, days in (
            (1, "发改财金〔2016〕141号", 1),
            (2, "发改财金〔2016〕999号", 0),
        )
    )
    MeasureFactory(memo=later, order=1, text="限制评优", divisions=[DivisionFactory(name="人事处")])
    return later, today


def test_future_repeal_keeps_memo_on_list_until_that_day(client, repealed_later):
    later, today = repealed_later
    page = client.get("/").content.decode()
    assert later.doc_number in page
    assert today.doc_number not in page
    api = client.get("/api/memos/").json()
    assert [memo["doc_number"] for memo in api["results"]] == [later.doc_number]
    assert measures_for_listing("失信被执行人").memos == [later]
    looked_up = client.get("/lookup/", {"q": "失信被执行人"}).content.decode()
    assert later.doc_number in looked_up and today.doc_number not in looked_up
    assert list(Memorandum.objects.in_force()) == [later]
    assert list(Memorandum.objects.in_force(on=_days(1))) == []


@pytest.mark.django_db(transaction=True)
def test_memo_cache_does_not_serve_yesterday_s_answer_after_midnight():
    """A repeal dated today takes effect at midnight, with no write to the database."""
    current = ResponsibilityListFactory(is_current=True)
    memo = MemorandumFactory(
        responsibility_list=current,
        seq=1,
        status=Memorandum.Status.REPEALED,
        repealed_on=_days(0),
    )
    MeasureFactory(memo=memo, order=1, text="限制评优")
    subject = SubjectFactory()
    ListingFactory(subject=subject, target_subject=memo.target_subject, listed_on=_days(-30))
    # The process loaded the memos yesterday, when the memo was still in force.
    cache = memo_cache._cache
    cache.by_target, cache.repealed_by_target = memo_cache._load(None, None, _days(-1))
    cache.version, cache.day = memo_cache.registry_version(), _days(-1)
    in_force, repealed = memo_cache.in_force_and_repealed({memo.target_subject_id})
    assert (in_force, repealed) == ({}, {memo.target_subject_id: [memo]})
    assert status_for(subject, _days(0)).measures == []
    assert [m.pk for m in status_for(subject, _days(0)).repealed_memos] == [memo.pk]


def test_repealed_memo_s_number_does_not_block_a_new_memo_in_an_import(tmp_path):
    current = ResponsibilityListFactory(is_current=True)
    old = MemorandumFactory(
        responsibility_list=current,
        seq=1,
        doc_number="发改财金〔2014〕1号",
        status=Memorandum.Status.REPEALED,
        repealed_on=_days(-10),
    )
    row = [
        "1",
        "发改财金〔2016〕141号",
        "关于对失信被执行人实施联合惩戒的合作备忘录",
        "市发改委",
        "失信被执行人",
        "全市质监部门",
        "限制评优",
        "人事处",
    ]
    path = write_csv(tmp_path / "list.csv", [HEADER, row])
    call_command("import_memos", str(path), "--list", current.doc_number, stdout=StringIO())
    new = Memorandum.objects.get(doc_number="发改财金〔2016〕141号")
    assert new.seq == 1
    old.refresh_from_db()
    assert (old.seq, old.status) == (1, Memorandum.Status.REPEALED)


# --- 2. the look-up forgives -----------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "seq", "how"),
    [
        ("失信被执型人", 5, "homophone"),  # 型 xíng: a homophone of 行
        ("失信被执法人", 5, "one_edit"),
        ("失心被执行人", 5, "homophone"),
        ("环保", 6, "abbreviation"),
        ("发改财金〔2016〕141号", 5, "doc_number"),
        ("发改财金[2016]141号", 5, "doc_number"),
        ("发改财金(2016)141号", 5, "doc_number"),
        ("发改财金【2016】141号", 5, "doc_number"),
        ("青年信用体系建设", 2, "title"),
        ("sxbzxx", 5, "initials_slip"),  # sxbzxr (失信被执行人) with its last letter wrong
        ("sxbzr", 5, "initials_slip"),  # one letter dropped
    ],
)
def test_lookup_finds_the_memo_despite_a_slip_and_says_how(client, list_2018, typed, seq, how):
    answer = measures_for_listing(typed)
    assert [(match.memo.seq, match.match) for match in answer.matches] == [(seq, how)]
    page = client.get("/lookup/", {"q": typed}).content.decode()
    assert f"第 {seq} 项" in page
    assert answer.matches[0].match_label in page
    api = client.get("/api/lookup/", {"q": typed}).json()
    assert [(memo["seq"], memo["match"]) for memo in api["results"]] == [(seq, how)]


def test_lookup_forgiveness_does_not_turn_a_wrong_word_into_an_answer(list_2018):
    # hgxy: too short to forgive a slip in; qqqqqq: nothing like any label.
    for typed in ("不存在的名单", "失信被告人员", "环球", "发改财金〔2016〕14号", "hgxy", "qqqqqq"):
        assert measures_for_listing(typed).matches == [], typed


# --- 3. the 发起部门 filter ----------------------------------------------------------------


def test_department_filter_offers_no_department_whose_memos_are_all_repealed(client, list_2018):
    # 市委农委 initiated only memo 8; repealed, it has nothing to show.
    Memorandum.objects.filter(seq=8).update(
        status=Memorandum.Status.REPEALED, repealed_on=_days(-1)
    )
    offered = client.get("/").context["departments"]
    assert "市委农委" not in offered and "市工商局" in offered
    assert "市委农委" in client.get("/", {"include_repealed": "true"}).context["departments"]


# --- 4. subject search -------------------------------------------------------------------


def test_subject_search_sorts_numbers_by_value_and_says_who_is_listed_today(clerk_client):
    tenth = SubjectFactory(name="汉阳建材第10分公司")
    fifth = SubjectFactory(name="汉阳建材第5分公司")
    second = SubjectFactory(name="汉阳建材第２分公司")  # full-width, as pasted
    ListingFactory(subject=fifth, listed_on=_days(-10), expires_on=_days(10))
    ListingFactory(subject=tenth, listed_on=_days(-100), expires_on=_days(-1))  # expired
    page = clerk_client.get("/subjects/", {"q": "汉阳建材"}).context["page"]
    assert [s.name for s in page.object_list] == [second.name, fifth.name, tenth.name]
    assert [s.listed for s in page.object_list] == [False, True, False]
    html = clerk_client.get("/subjects/", {"q": "汉阳建材"}).content.decode()
    assert html.count("不在名单中") == 2 and html.count(">在名单中<") == 1


# --- 5. the batch check's download -------------------------------------------------------


def test_batch_check_keeps_the_uploaded_sheet_and_names_a_code_stored_as_a_number(editor, client):
    listed = SubjectFactory(code=valid_uscc(7), name="武汉市某某电器有限公司")
    ListingFactory(subject=listed, listed_on=_days(-10), expires_on=_days(100))
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["2025年6月行政许可申请人"])
    sheet.merge_cells("A1:D1")
    sheet.append(["序号", "名称", "统一社会信用代码/身份证号码", "注册资本"])
    sheet.append([1, listed.name, listed.code, 1234.5])
    sheet.append([2, "张某", 4.20106199001011e17, 0])
    sheet["D3"].number_format = "#,##0.00"
    sheet.column_dimensions["B"].width = 30
    upload = io.BytesIO()
    workbook.save(upload)
    upload.seek(0)
    upload.name = "申请人.xlsx"
    client.force_login(editor)
    response = client.post("/subjects/check/", {"file": upload})
    assert response.status_code == 200
    result = load_workbook(io.BytesIO(response.content)).active
    assert result["A1"].value == "2025年6月行政许可申请人"
    assert "A1:D1" in {str(merged) for merged in result.merged_cells.ranges}
    assert result.column_dimensions["B"].width == 30
    assert (result["D3"].value, result["D3"].number_format) == (1234.5, "#,##0.00")
    assert result["A3"].value == 1  # a number stays a number
    assert result["E2"].value == "比对结果" and result["E2"].font.b
    assert result["E3"].value == "已列入" and result["E3"].alignment.wrap_text
    assert all(result.column_dimensions[letter].width >= 12 for letter in "EFGHIJ")
    assert result["E4"].value == "代码有误"
    assert "单元格 C4" in result["F4"].value and "文本" in result["F4"].value
    assert "校验位" not in result["F4"].value


# --- 6. signing out -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "after",
    ["/" + "中" * 2000, "/" + "a" * 5000, "https://evil.example/", "javascript:alert(1)"],
    ids=["2000-chinese", "5000-ascii", "another-site", "javascript"],
)
def test_sign_out_with_an_unusable_next_goes_to_sign_in_not_a_400(clerk_client, after):
    response = clerk_client.post("/accounts/logout/", {"next": after})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in clerk_client.session


def test_sign_out_still_follows_a_safe_next(clerk_client):
    response = clerk_client.post("/accounts/logout/", {"next": "/lookup/"})
    assert (response.status_code, response["Location"]) == (302, "/lookup/")


# --- 9. the fixture's text ---------------------------------------------------------------

HALF_WIDTH_IN_CHINESE = re.compile(r"[\u4e00-\u9fff][,(]|[,)][\u4e00-\u9fff、，。]")


def test_fixture_text_keeps_no_pdf_half_width_punctuation_in_chinese(list_2018):
    texts = []
    for memo in Memorandum.objects.select_related("target_subject"):
        texts += [memo.title, memo.no_function_note, memo.target_subject.definition]
        texts += [measure.text for measure in memo.measures.all()]
    assert [text for text in texts if HALF_WIDTH_IN_CHINESE.search(text)] == []


def test_search_for_shi_nong_wei_finds_the_memo_of_shi_wei_nong_wei(client, list_2018):
    # Item 8's 发起部门 reads 市委农委 (the document: "市委 农委"); staff say 市农委.
    found = client.get("/", {"search": "市农委"}).context["memos"]
    assert [memo.seq for memo in found] == [8]
    api = client.get("/api/memos/", {"search": "市农委"}).json()
    assert [memo["seq"] for memo in api["results"]] == [8]
