"""The pages in a real browser: search, filters, the lookup, export, keyboard, print."""

import re
import subprocess
from urllib.parse import quote

import openpyxl
import pytest
from playwright.sync_api import expect

from memo_registry.services.export import HEADERS
from tests.document_2018 import ITEMS, YW

pytestmark = pytest.mark.browser

MEMO_ROWS = "table.memo-table tbody.memo"


def shown_seqs(page):
    return [
        int(seq)
        for seq in page.locator(MEMO_ROWS).evaluate_all("groups => groups.map(g => g.dataset.memo)")
    ]


def test_the_list_renders_in_chinese_with_the_project_s_stylesheet(page, site, shot):
    page.goto(site + "/")
    expect(page.locator("h1")).to_have_text("全市质监部门参与的联合奖惩备忘录责任清单")
    expect(page.locator(MEMO_ROWS)).to_have_count(10)
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert font.startswith('"Microsoft YaHei", 微软雅黑, SimSun, 宋体')
    # Without a Chinese font every character renders as a box (make browser installs one).
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    assert fonts.stdout.strip(), "no Chinese font: apt-get install fonts-wqy-microhei"
    shot("list")


def test_search_narrows_the_table(page, site, shot):
    page.goto(site + "/")
    page.get_by_label("搜索").fill("海关")
    page.get_by_label("搜索").press("Enter")
    expect(page.locator(MEMO_ROWS)).to_have_count(2)
    assert shown_seqs(page) == [3, 9]
    expect(page.locator("#result-count")).to_contain_text("共 2 项备忘录、1 项措施")
    expect(page.get_by_label("搜索")).to_have_value("海关")
    shot("searched")


def test_pinyin_initials_find_the_memo(page, site):
    page.goto(site + "/")
    page.get_by_label("搜索").fill("sxbzxr")
    page.get_by_role("button", name="查找").click()
    expect(page.locator(MEMO_ROWS)).to_have_count(1)
    expect(page.locator(MEMO_ROWS)).to_contain_text("对失信被执行人实施联合惩戒的合作备忘录")


def test_a_filter_applies(page, site, shot):
    page.goto(site + "/")
    page.get_by_label("类型").select_option(label="激励")
    page.get_by_role("button", name="查找").click()
    expect(page.locator(MEMO_ROWS)).to_have_count(3)
    assert shown_seqs(page) == [1, 2, 3]
    page.get_by_label("责任处室").select_option("人事处")
    page.get_by_role("button", name="查找").click()
    expect(page.locator(MEMO_ROWS)).to_have_count(1)
    assert shown_seqs(page) == [2]
    shot("filtered")
    page.get_by_role("link", name="清除条件").click()
    expect(page.locator(MEMO_ROWS)).to_have_count(10)


def test_choosing_a_filter_with_the_mouse_applies_it_at_once(page, site):
    page.goto(site + "/")
    kind = page.get_by_label("类型")
    kind.dispatch_event("pointerdown")
    with page.expect_navigation():
        kind.select_option("punishment")
    expect(page.locator(MEMO_ROWS)).to_have_count(7)


def test_the_lookup_answers_for_a_judgment_debtor(page, site, shot):
    page.goto(site + "/lookup/")
    page.get_by_label("选择名单", exact=True).select_option("失信被执行人")
    page.get_by_role("button", name="查看措施").click()
    answer = page.locator(".answer")
    expect(answer.locator("h2")).to_have_text("被列入“失信被执行人”：1 项备忘录")
    expect(answer).to_contain_text("对失信被执行人实施联合惩戒的合作备忘录")
    expect(answer.locator(".no-function-statement")).to_have_text(
        "本局无相关职能（我市质监部门无相关职能），无需采取措施。"
    )
    shot("judgment-debtor")


def test_the_lookup_answers_for_a_serious_quality_offender(page, site, shot):
    page.goto(site + "/lookup/")
    page.get_by_label("或输入名单名称中的词").fill("严重质量违法失信")
    page.get_by_label("或输入名单名称中的词").press("Enter")
    result = page.locator(".lookup-result")
    expect(result).to_have_count(1)
    expect(result.locator("h3")).to_have_text(ITEMS[6].title)
    rows = result.locator("table.measures tbody tr")
    expect(rows).to_have_count(3)
    for index, (text, divisions) in enumerate(ITEMS[6].measures):
        expect(rows.nth(index)).to_contain_text(text)
        expect(rows.nth(index).locator("td.division")).to_have_text("、".join(divisions))
    shot("quality-offender")
    # The division's name leads to everything it is responsible for, once
    # the clerk has signed in (division pages are for staff).
    _clerk()
    rows.first.get_by_role("link", name=YW).click()
    expect(page.locator("h1")).to_have_text("登录")
    page.get_by_label("用户名").fill("clerk")
    page.get_by_label("密码").fill("pw-Registry-2018")
    page.get_by_label("密码").press("Enter")
    expect(page.locator("h1")).to_have_text(YW)
    expect(page.locator(".count")).to_contain_text("6 项备忘录的 8 项措施")


def test_the_lookup_says_so_when_nothing_matches(page, site, shot):
    page.goto(site + "/lookup/?q=" + quote("不存在的名单"))
    expect(page.locator(".answer h2")).to_have_text("没有找到“不存在的名单”")
    expect(page.locator(".label-index .chips a")).to_have_count(len(ITEMS))
    shot("no-match")


def test_export_downloads_an_xlsx_of_the_filtered_rows(page, site, tmp_path):
    page.goto(site + "/")
    page.get_by_label("类型").select_option("punishment")
    page.get_by_label("责任处室").select_option(YW)
    page.get_by_role("button", name="查找").click()
    expect(page.locator(MEMO_ROWS)).to_have_count(4)
    shown = shown_seqs(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Excel 表格（xlsx）").click()
    download = download_info.value
    assert download.suggested_filename == "联合奖惩备忘录责任清单.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    assert [int(row[0]) for row in rows[1:]] == shown == [6, 7, 8, 10]


def test_the_list_is_usable_by_keyboard(page, site, shot):
    page.goto(site + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到正文")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0  # shown when focused
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    search = page.get_by_label("搜索")
    for _ in range(5):
        if page.evaluate("document.activeElement.id") == "f-search":
            break
        page.keyboard.press("Tab")
    expect(search).to_be_focused()
    outline = search.evaluate(
        "el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth"
    )
    assert outline.startswith("solid") and not outline.endswith(" 0px"), outline
    shot("search-focused")
    page.keyboard.type("海关")
    page.keyboard.press("Enter")
    expect(page.locator(MEMO_ROWS)).to_have_count(2)


def test_a_select_changed_by_keyboard_waits_for_the_button(page, site):
    page.goto(site + "/lookup/")
    choose = page.get_by_label("选择名单", exact=True)
    # Every navigation of the tab is recorded, and every form submission in
    # the page counted; ``changed`` settles when the select's change event
    # has been handled: this listener is added after site.js's, so it runs
    # after it.  The submission site.js makes for a pointer (requestSubmit)
    # fires "submit" at once, inside its listener.
    navigations = []

    def navigated(frame):
        if frame == page.main_frame:
            navigations.append(frame.url)

    page.on("framenavigated", navigated)
    choose.evaluate(
        """select => {
            window.submitted = 0;
            document.addEventListener("submit", () => { window.submitted += 1; }, true);
            window.changed = new Promise(resolve =>
                select.addEventListener("change", () => resolve(select.value)));
        }"""
    )
    choose.focus()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("window.changed") == ITEMS[0].label  # the arrow key changed it
    assert page.evaluate("window.submitted") == 0  # and submitted nothing
    assert navigations == []
    assert page.url == site + "/lookup/"
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="查看措施")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".answer")).to_contain_text(ITEMS[0].title)
    assert len(navigations) == 1 and "/lookup/?q=" in navigations[0]  # the button's


def test_every_focusable_control_shows_its_focus(page, site):
    page.goto(site + "/")
    for _ in range(14):
        page.keyboard.press("Tab")
        style = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]; })()"
        )
        tag, outline, width = style
        assert outline != "none" and width != "0px", style


def test_printing_hides_the_controls_and_repeats_the_header_row(page, site, shot, screenshot_dir):
    page.goto(site + "/")
    page.emulate_media(media="print")
    expect(page.locator("nav.site-nav")).to_be_hidden()
    expect(page.locator("form.filters")).to_be_hidden()
    expect(page.locator(".export")).to_be_hidden()
    assert (
        page.locator("table.memo-table thead").evaluate("el => getComputedStyle(el).display")
        == "table-header-group"
    )
    shot("print")
    pdf = page.pdf(path=screenshot_dir / "list-print.pdf", prefer_css_page_size=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 < pages < 6


def _clerk():
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("clerk", password="pw-Registry-2018")
    user.groups.add(Group.objects.get(name="查阅"))
    return user
