"""The subject pages in a real browser: search, one subject, feedback, batch check.

Staff sign in through /accounts/login/ with a password (tests/browser/conftest.py's
``sign_in``): 查阅 (the clerk) reads, 编辑 (the editor) also records feedback.
A code typed into the search form is posted, so the tests watch the address
bar and every request the browser makes for it.
"""

import datetime
import re
from urllib.parse import unquote

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from measures.models import Division, Feedback
from memos.models import Memorandum
from subjects.models import Subject
from tests.document_2018 import ITEMS, YW
from tests.factories import ListingFactory, SubjectFactory, valid_uscc

pytestmark = pytest.mark.browser

PERSON = "11010519491231002X"  # a made-up 身份证号码 with a correct check character
ENTERPRISE = "武汉市某某电器有限公司"
SERIOUS = ITEMS[6]  # 发改财金〔2016〕2202号, three measures, all for YW
FARM = ITEMS[7]  # 发改财金〔2017〕346号, one measure


def _list(subject, item, **dates):
    """``subject`` listed today under the target subject of the memo of ``item``."""
    today = timezone.localdate()
    return ListingFactory(
        subject=subject,
        target_subject=Memorandum.objects.get(seq=item.seq).target_subject,
        listed_on=dates.get("listed_on", today - datetime.timedelta(days=10)),
        expires_on=dates.get("expires_on", today + datetime.timedelta(days=1000)),
    )


@pytest.fixture
def enterprise(site):
    subject = SubjectFactory(code=valid_uscc(7), name=ENTERPRISE)
    _list(subject, SERIOUS)
    return subject


@pytest.fixture
def person(site):
    subject = SubjectFactory(code=PERSON, kind=Subject.Kind.PERSON, name="张某")
    _list(subject, SERIOUS)
    return subject


def _watch_requests(page) -> list[str]:
    """Every URL the browser asks for from now on (redirects included)."""
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def test_a_name_search_lists_the_subjects_and_pages_them(page, site, clerk, sign_in, shot):
    Subject.objects.bulk_create(
        [
            Subject(code=valid_uscc(100 + n), kind=Subject.Kind.ORGANISATION, name=name)
            for n, name in enumerate(f"武汉市测试科技有限公司{n:02d}" for n in range(55))
        ]
    )
    sign_in(clerk)
    page.get_by_label("代码或名称").fill("测试科技")
    page.get_by_role("button", name="查询", exact=True).click()
    # A name is no secret: the form's post is answered with a GET of the
    # results, which can be paged and bookmarked.
    page.wait_for_url(re.compile(r"/subjects/\?q="))
    assert unquote(page.url) == site + "/subjects/?q=测试科技"
    expect(page.locator("p.count")).to_have_text("找到 55 个主体")
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("武汉市测试科技有限公司00")
    pager = page.get_by_role("navigation", name="分页")
    expect(pager).to_contain_text("第 1 / 2 页")
    shot("first-page")

    pager.get_by_role("link", name="下一页").click()
    page.wait_for_url(re.compile(r"page=2$"))
    assert unquote(page.url) == site + "/subjects/?q=测试科技&page=2"
    expect(rows).to_have_count(5)
    expect(rows.nth(0)).to_contain_text("武汉市测试科技有限公司50")
    expect(rows.nth(4)).to_contain_text("武汉市测试科技有限公司54")
    expect(pager).to_contain_text("第 2 / 2 页")
    expect(page.get_by_label("代码或名称")).to_have_value("测试科技")

    # A result leads to the subject's page, addressed by its row id.
    rows.nth(4).get_by_role("link").click()
    expect(page.locator("h1")).to_have_text("武汉市测试科技有限公司54")
    assert page.url == f"{site}/subjects/{Subject.objects.get(name__endswith='54').pk}/"


@pytest.mark.parametrize(
    ("typed", "who"),
    [
        (valid_uscc(7), "enterprise"),
        (f" {valid_uscc(7).lower()} ", "enterprise"),  # as pasted: spaces, lower case
        (PERSON, "person"),
    ],
)
def test_a_code_typed_into_the_form_never_reaches_an_address(
    page, site, clerk, sign_in, enterprise, person, typed, who
):
    subject = {"enterprise": enterprise, "person": person}[who]
    sign_in(clerk)
    requested = _watch_requests(page)
    box = page.get_by_label("代码或名称")
    box.fill(typed)
    assert subject.code not in page.url
    box.press("Enter")
    # The form posts; the answer is a redirect to the subject's row id.
    page.wait_for_url(f"{site}/subjects/{subject.pk}/")
    assert subject.code not in page.url
    expect(page.locator("h1")).to_have_text(subject.name)
    assert page.url == f"{site}/subjects/{subject.pk}/"
    assert [url for url in requested if subject.code in url.upper()] == []
    assert any(url == f"{site}/subjects/" for url in requested)  # the post itself
    if who == "person":  # 查阅 sees a person's number masked
        expect(page.locator(".meta .code")).to_have_text("110105********002X")
        assert PERSON not in page.content()
    page.go_back()
    assert subject.code not in page.url


def test_a_mistyped_code_is_answered_with_its_check_character(page, site, clerk, sign_in, shot):
    typo = valid_uscc(7)[:-1] + "0"  # the right check character is H
    assert valid_uscc(7)[-1] == "H"
    sign_in(clerk)
    requested = _watch_requests(page)
    page.get_by_label("代码或名称").fill(typo)
    page.get_by_role("button", name="查询", exact=True).click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(
        f"统一社会信用代码“{typo}”的校验位错误：最后一位应为 H。请核对代码后重新查询。"
    )
    # A typo is never answered "not listed", and stays out of every address.
    expect(page.locator("main")).not_to_contain_text("未被列入")
    assert page.url == site + "/subjects/"
    assert [url for url in requested if typo in url] == []
    shot("typo")


def test_the_subject_page_shows_today_s_measures_and_a_repealed_memo(
    page, site, clerk, sign_in, enterprise, shot
):
    _list(enterprise, FARM)
    Memorandum.objects.filter(seq=FARM.seq).update(
        status=Memorandum.Status.REPEALED, repealed_on=datetime.date(2024, 3, 1)
    )
    # An old listing, expired: shown among the records, applying nothing.
    _list(
        enterprise,
        ITEMS[9],
        listed_on=datetime.date(2019, 1, 1),
        expires_on=datetime.date(2020, 1, 1),
    )
    sign_in(clerk, then=f"/subjects/{enterprise.pk}/")
    expect(page.locator("h1")).to_have_text(ENTERPRISE)
    today = page.locator("section", has=page.locator("#today"))
    rows = today.locator("table.data tbody tr")
    # The serious offender memo's three measures, in its order, each open.
    expect(rows).to_have_count(3)
    for index, (text, divisions) in enumerate(SERIOUS.measures):
        row = rows.nth(index)
        expect(row.locator("td").nth(0)).to_contain_text(SERIOUS.doc_number)
        expect(row.locator("td").nth(1)).to_have_text(f"{index + 1}、{text}")
        expect(row.locator("td").nth(2)).to_have_text("、".join(divisions))
        expect(row.locator("td").nth(3)).to_contain_text("待反馈")
    expect(today.locator("p.count")).to_have_text("共 3 项措施，待反馈 3 项。")
    # The farm memo is repealed: no measure of it, a note saying so instead.
    expect(today.locator("table.data")).not_to_contain_text(FARM.doc_number)
    expect(today.get_by_role("note")).to_have_text(
        f"{FARM.doc_number}《{FARM.title}》已于 2024年3月1日 废止，其措施不再适用。"
    )
    # A clerk in no division records no feedback: no form is offered.
    expect(page.get_by_text("录入反馈")).to_have_count(0)
    listings = page.locator("section", has=page.locator("#listings")).locator("tbody tr")
    expect(listings).to_have_count(3)
    expect(listings.filter(has_text=ITEMS[9].label)).to_contain_text("已过期")
    expect(listings.filter(has_text=SERIOUS.label)).to_contain_text("有效")
    shot("subject")


def test_an_editor_records_feedback_from_the_measure_s_form(
    page, site, editor, sign_in, enterprise, shot
):
    # A second division on the first measure, so that choosing one matters.
    measure = Memorandum.objects.get(seq=SERIOUS.seq).measures.get(order=1)
    personnel = Division.objects.get(name="人事处")
    measure.divisions.add(personnel)
    # Feedback is the division's members' (issue 14): the editor is in both.
    personnel.members.add(editor)
    Division.objects.get(name=YW).members.add(editor)
    sign_in(editor, then=f"/subjects/{enterprise.pk}/")
    count = page.locator("p.count")
    expect(count).to_have_text("共 3 项措施，待反馈 3 项。")
    row = page.locator("table.data tbody tr").filter(has_text=SERIOUS.measures[0][0])
    details = row.locator("details.feedback")
    expect(details).not_to_have_attribute("open", "")
    row.get_by_text("录入反馈").click()
    expect(details).to_have_attribute("open", "")
    division = row.get_by_label("反馈处室")
    expect(division).to_be_visible()
    # Only this measure's divisions (of those the editor belongs to) are offered.
    expect(division.locator("option")).to_have_text(["人事处", YW])
    division.select_option(label="人事处")
    expect(row.get_by_label("实施日期")).to_have_value(timezone.localdate().isoformat())
    row.get_by_label("实施情况").fill("已列为重点监管对象，提高抽查频次。")
    shot("form")
    row.get_by_role("button", name="保存反馈").click()

    expect(page.locator("ul.messages")).to_have_text("已记录实施反馈。")
    assert page.url == f"{site}/subjects/{enterprise.pk}/"
    row = page.locator("table.data tbody tr").filter(has_text=SERIOUS.measures[0][0])
    expect(row.locator(".badge.done")).to_have_text("已反馈")
    expect(row).to_contain_text(
        f"{timezone.localdate().isoformat()} 人事处：已列为重点监管对象，提高抽查频次。"
    )
    expect(count).to_have_text("共 3 项措施，待反馈 2 项。")
    # The other two measures are still open.
    expect(page.locator("table.data tbody tr.open")).to_have_count(2)
    shot("recorded")
    report = Feedback.objects.get()
    assert (report.subject, report.measure, report.division) == (enterprise, measure, personnel)
    assert report.recorded_by == editor


def test_the_batch_check_downloads_the_sheet_with_columns_added(
    page, site, clerk, sign_in, enterprise, tmp_path
):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["申请日期", "企业名称", "统一社会信用代码"])
    sheet.append(["2025-06-01", ENTERPRISE, valid_uscc(7)])
    sheet.append(["2025-06-01", "干净的公司", valid_uscc(8)])
    sheet.append(["2025-06-01", "写错的代码", valid_uscc(7)[:-1] + "0"])
    upload = tmp_path / "今日申请人.xlsx"
    workbook.save(upload)

    sign_in(clerk, then="/subjects/check/")
    page.get_by_label("代码表（xlsx 或 csv）").set_input_files(upload)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="比对并下载结果").click()
    download = download_info.value
    day = timezone.localdate().strftime("%Y%m%d")
    assert download.suggested_filename == f"今日申请人-比对结果-{day}.xlsx"
    path = tmp_path / "result.xlsx"
    download.save_as(path)
    assert page.url == site + "/subjects/check/"

    rows = [list(row) for row in openpyxl.load_workbook(path).active.iter_rows(values_only=True)]
    added = ["比对结果", "代码校验", "所在名单", "适用备忘录", "适用措施及责任处室", "未反馈措施数"]
    assert rows[0] == ["申请日期", "企业名称", "统一社会信用代码", *added]
    assert len(rows) == 4
    listed, clean, typo = (dict(zip(rows[0], row, strict=True)) for row in rows[1:])
    # The sheet's own cells come back as they were.
    assert [listed["企业名称"], clean["企业名称"], typo["企业名称"]] == [
        ENTERPRISE,
        "干净的公司",
        "写错的代码",
    ]
    assert (listed["比对结果"], listed["代码校验"]) == ("已列入", "正确")
    assert listed["所在名单"] == SERIOUS.label
    assert listed["适用备忘录"] == f"{SERIOUS.doc_number} {SERIOUS.title}"
    measures = listed["适用措施及责任处室"].split("\n")
    assert measures == [
        f"{SERIOUS.doc_number} {n}、{text}【{'、'.join(divisions)}】"
        for n, (text, divisions) in enumerate(SERIOUS.measures, start=1)
    ]
    assert listed["未反馈措施数"] == 3
    assert (clean["比对结果"], clean["代码校验"]) == ("未列入", "正确")
    assert typo["比对结果"] == "代码有误"
    assert "校验位错误：最后一位应为 H" in typo["代码校验"]
