"""The public pages: the list, one memo, the lookup, the divisions, the export, the icon."""

import csv
import datetime
import io
import re
from urllib.parse import quote
from xml.etree import ElementTree

import openpyxl
import pytest
from django.urls import reverse

from measures.models import Division
from memo_registry.services.export import HEADERS
from memos.models import Memorandum
from tests.document_2018 import ITEMS, YW
from tests.factories import (
    MeasureFactory,
    MemorandumFactory,
    ResponsibilityListFactory,
    TargetSubjectFactory,
)

pytestmark = pytest.mark.django_db

COLUMNS = ["序号", "文号", "备忘录名称", "发起部门", "奖惩对象", "实施部门", "奖惩措施", "责任处室"]


def shown_seqs(response):
    """The 序号 of the memos a list page shows, in order."""
    return [int(seq) for seq in re.findall(r'data-memo="(\d+)"', response.content.decode())]


def memo_group(response, seq):
    """The HTML of one memo's row group on the list page."""
    html = response.content.decode()
    match = re.search(rf'<tbody[^>]*data-memo="{seq}"[^>]*>(.*?)</tbody>', html, re.S)
    assert match, f"memo {seq} not shown"
    return match.group(1)


def repeal(seq, on=datetime.date(2020, 6, 30)):
    Memorandum.objects.filter(seq=seq).update(status=Memorandum.Status.REPEALED, repealed_on=on)


# --- the list ----------------------------------------------------------------


def test_the_list_shows_the_document_s_columns_and_every_memo(client, list_2018):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    headers = re.findall(r'<th scope="col">(.*?)</th>', html)
    assert headers == COLUMNS
    assert shown_seqs(response) == list(range(1, 11))
    assert "共 <strong>10</strong> 项备忘录、<strong>11</strong> 项措施" in html


def test_the_list_names_the_list_it_shows(client, list_2018):
    html = client.get("/").content.decode()
    assert "全市质监部门参与的联合奖惩备忘录责任清单" in html
    assert "武质技监管〔2018〕22号" in html
    assert "2018年8月26日" in html


def test_each_measure_has_a_row_of_its_own_under_its_memo(client, list_2018):
    group = memo_group(client.get("/"), 7)
    assert group.count("<tr>") == 3
    assert 'rowspan="3"' in group
    for text, _ in ITEMS[6].measures:
        assert text in group
    assert group.count(YW) == 3


def test_a_memo_without_function_shows_its_note_in_place_of_measures(client, list_2018):
    group = memo_group(client.get("/"), 5)
    assert 'class="no-function"' in group
    assert "我市质监部门无相关职能" in group


def test_kind_is_a_badge(client, list_2018):
    response = client.get("/")
    assert '<span class="badge reward">激励</span>' in memo_group(response, 1)
    assert '<span class="badge punishment">惩戒</span>' in memo_group(response, 4)


def test_departments_keep_the_document_s_order(client, list_2018):
    assert "<span>市国税局、</span><span>市地税局</span>" in memo_group(client.get("/"), 1)


def test_divisions_link_to_their_pages(client, list_2018):
    division = Division.objects.get(name="行政审批处")
    assert f'href="/divisions/{division.pk}/"' in memo_group(client.get("/"), 4)


def test_search_narrows_the_table(client, list_2018):
    response = client.get("/", {"search": "海关"})
    assert shown_seqs(response) == [3, 9]
    assert "共 <strong>2</strong> 项备忘录" in response.content.decode()


def test_it_finds_a_memo_by_pinyin_initials(client, list_2018):
    assert shown_seqs(client.get("/", {"search": "sxbzxr"})) == [5]


def test_it_finds_a_doc_number_typed_with_ascii_brackets(client, list_2018):
    assert shown_seqs(client.get("/", {"search": "发改财金(2016)141号"})) == [5]


def test_the_kind_filter_applies(client, list_2018):
    assert shown_seqs(client.get("/", {"kind": "reward"})) == [1, 2, 3]
    assert shown_seqs(client.get("/", {"kind": "punishment"})) == list(range(4, 11))


def test_the_department_filter_applies(client, list_2018):
    assert shown_seqs(client.get("/", {"department": "武汉海关"})) == [3, 9]


def test_the_division_filter_applies(client, list_2018):
    assert shown_seqs(client.get("/", {"division": "行政审批处"})) == [4]
    assert shown_seqs(client.get("/", {"division": "人事处"})) == [2]


def test_filters_combine(client, list_2018):
    params = {"kind": "punishment", "division": YW, "search": "失信企业"}
    assert shown_seqs(client.get("/", params)) == [7, 8]


def test_the_filter_options_are_the_list_s_departments_and_divisions(client, list_2018):
    html = client.get("/").content.decode()
    departments = re.search(r'<select id="f-department".*?</select>', html, re.S).group(0)
    assert '<option value="市中级人民法院">' in departments
    assert "全市质监部门" not in departments  # implements, never initiates
    divisions = re.search(r'<select id="f-division".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="([^"]+)"', divisions) == ["人事处", "行政审批处", YW]


def test_the_chosen_filters_stay_selected(client, list_2018):
    html = client.get("/", {"kind": "reward", "search": "海关"}).content.decode()
    assert '<option value="reward" selected>' in html
    assert 'value="海关"' in html


def test_an_unknown_kind_gives_a_normal_page(client, list_2018):
    response = client.get("/", {"kind": "bogus"})
    assert response.status_code == 200
    assert shown_seqs(response) == list(range(1, 11))
    assert "已忽略无法识别的条件：类型" in response.content.decode()


def test_an_unknown_list_gives_the_current_list_with_a_notice(client, list_2018):
    response = client.get("/", {"list": "不存在〔2099〕1号"})
    assert response.status_code == 200
    assert shown_seqs(response) == list(range(1, 11))
    assert "已忽略无法识别的条件：责任清单" in response.content.decode()


def test_an_unknown_department_shows_an_empty_table(client, list_2018):
    response = client.get("/", {"department": "不存在的局"})
    assert response.status_code == 200
    assert shown_seqs(response) == []
    assert "没有符合条件的备忘录" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"page": "999"},
        {"page": "-1"},
        {"search": "失" * 10_000},
        {"search": "失信\x00被执行人"},
        {"search": "\x1b[31m"},
        {"department": "\x00"},
        {"division": "行" * 5000},
        {"include_repealed": "maybe"},
        {"list": "\x00"},
        {"kind": ["reward", "bogus"]},
    ],
    ids=lambda params: next(iter(params)),
)
def test_odd_query_strings_give_a_normal_page(client, list_2018, params):
    response = client.get("/", params)
    assert response.status_code == 200
    assert "<table" in response.content.decode()


def test_a_long_search_is_echoed_cut_to_length(client, list_2018):
    html = client.get("/", {"search": "失" * 10_000}).content.decode()
    assert "失" * 100 in html
    assert "失" * 101 not in html


def test_repealed_memos_are_left_out_unless_asked_for(client, list_2018):
    repeal(9)
    assert 9 not in shown_seqs(client.get("/"))
    response = client.get("/", {"include_repealed": "true"})
    assert 9 in shown_seqs(response)
    group = memo_group(response, 9)
    assert "已废止 2020-06-30" in group


def test_another_list_can_be_shown_by_its_doc_number(client, list_2018):
    old = ResponsibilityListFactory(doc_number="旧监管〔2015〕3号", title="旧清单")
    MemorandumFactory(responsibility_list=old, seq=1)
    response = client.get("/", {"list": "旧监管(2015)3号"})
    assert shown_seqs(response) == [1]
    html = response.content.decode()
    assert "旧清单" in html and "历史清单" in html
    # The list selector appears once there is more than one list.
    assert '<select id="f-list"' in html


def test_without_a_current_list_the_page_says_so(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert "尚未登记现行清单" in response.content.decode()


def test_export_links_carry_the_applied_filters(client, list_2018):
    html = client.get("/", {"kind": "reward", "search": "海关", "bogus": "1"}).content.decode()
    assert 'href="/export.xlsx?search=%E6%B5%B7%E5%85%B3&amp;kind=reward"' in html
    assert 'href="/export.csv?search=%E6%B5%B7%E5%85%B3&amp;kind=reward"' in html


def test_the_page_has_a_print_stylesheet_and_no_inline_script(client, list_2018):
    html = client.get("/").content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert re.findall(r"<[^>]*\son[a-z]+\s*=", html) == []  # no inline event handlers
    css = b"".join(client.get("/static/css/site.css").streaming_content).decode()
    assert "@page { size: A4 landscape" in css
    assert "thead { display: table-header-group; }" in css
    assert '"Microsoft YaHei", "微软雅黑", SimSun, "宋体"' in css


ICON_LINK = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'


def test_the_pages_and_the_admin_name_the_site_s_icon(client, list_2018):
    assert ICON_LINK in client.get("/").content.decode()
    admin_login = client.get("/admin/login/").content.decode()
    assert ICON_LINK in admin_login
    # The override extends Django's own base_site.html: the admin keeps its header.
    assert "联合奖惩备忘录责任清单 管理" in admin_login


def test_favicon_ico_is_the_site_s_icon_so_no_browser_gets_a_404(client, db):
    svg = b"".join(client.get("/static/favicon.svg").streaming_content)
    assert ElementTree.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"".join(response.streaming_content) == svg
    assert "max-age=86400" in response["Cache-Control"]
    assert client.post("/favicon.ico").status_code == 405


def test_every_page_is_chinese_with_navigation_and_a_skip_link(clerk_client, list_2018):
    client = clerk_client
    memo = Memorandum.objects.get(seq=7)
    division = Division.objects.get(name=YW)
    for url in ["/", f"/memos/{memo.pk}/", "/lookup/", "/divisions/", f"/divisions/{division.pk}/"]:
        html = client.get(url).content.decode()
        assert '<html lang="zh-hans">' in html, url
        assert '<a class="skip-link" href="#content">跳到正文</a>' in html, url
        assert '<main id="content"' in html, url
        nav = html[html.index('<nav class="site-nav"') : html.index("</nav>")]
        for item in ["清单", "按名单查措施", "责任处室"]:
            assert f">{item}</a>" in nav, (url, item)
        # The API's documentation is for the systems' integrators: in the
        # footer, not among the clerk's pages.
        assert ">API 文档</a>" not in nav, url
        footer = html[html.index('<footer class="site-footer">') :]
        assert ">API 文档</a>" in footer, url
        assert ">退出</button>" in html, url
        assert "武质技监管〔2018〕22号" in html, url


def test_the_header_offers_sign_in_to_visitors_and_admin_to_staff(client, list_2018, editor):
    assert ">登录</a>" in client.get("/").content.decode()
    assert ">管理</a>" not in client.get("/").content.decode()
    client.force_login(editor)
    assert ">管理</a>" in client.get("/").content.decode()


def test_every_input_has_a_label(client, list_2018):
    for url in ["/", "/lookup/"]:
        html = client.get(url).content.decode()
        ids = re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', html)
        assert ids, url
        for control in ids:
            assert f'<label for="{control}">' in html, (url, control)


def test_a_title_with_markup_is_shown_as_text(client, db):
    current = ResponsibilityListFactory(is_current=True)
    subject = TargetSubjectFactory(label="<b>对象</b>")
    memo = MemorandumFactory(
        responsibility_list=current,
        title="<script>alert(1)</script>",
        target_subject=subject,
    )
    MeasureFactory(memo=memo, text="<img src=x onerror=alert(2)>")
    for url in ["/", f"/memos/{memo.pk}/", "/lookup/?q=%3Cb%3E"]:
        html = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html, url
        assert "<img src=x" not in html, url
        assert "<b>对象</b>" not in html, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/").content.decode()


# --- one memo ----------------------------------------------------------------------


def test_a_memo_s_page_shows_it_in_full(client, list_2018):
    memo = Memorandum.objects.get(seq=4)
    html = client.get(f"/memos/{memo.pk}/").content.decode()
    item = ITEMS[3]
    for text in [
        item.doc_number,
        item.title,
        item.definition,
        "市工商局",
        "全市质监部门",
        "行政审批处",
    ]:
        assert text in html
    for text, _ in item.measures:
        assert text in html
    assert '<span class="badge punishment">惩戒</span>' in html
    assert "现行有效" in html


def test_a_repealed_memo_keeps_its_page_with_a_badge_and_its_date(client, list_2018):
    repeal(6)
    memo = Memorandum.objects.get(seq=6)
    response = client.get(f"/memos/{memo.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "已废止（2020年6月30日）" in html
    assert "按名单查措施时不会列出" in html


def test_a_memo_without_function_says_so_plainly(client, list_2018):
    memo = Memorandum.objects.get(seq=9)
    html = client.get(f"/memos/{memo.pk}/").content.decode()
    assert "本局无相关职能</strong>（我市质监无相关职能），无需采取措施。" in html


@pytest.mark.parametrize(
    "url", ["/memos/999999/", "/memos/99999999999999999999999/", "/divisions/999999/"]
)
def test_unknown_ids_give_a_chinese_404_page(clerk_client, list_2018, url):
    response = clerk_client.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html
    assert '<html lang="zh-hans">' in html


def test_a_non_numeric_id_is_a_404(client, list_2018):
    assert client.get("/memos/abc/").status_code == 404


# --- the lookup --------------------------------------------------------------------


def test_the_lookup_page_offers_the_list_s_labels(client, list_2018):
    html = client.get("/lookup/").content.decode()
    select = re.search(r'<select id="l-label".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="([^"]+)"', select) == [item.label for item in ITEMS]
    assert '<optgroup label="激励">' in select and '<optgroup label="惩戒">' in select


def test_the_lookup_answers_for_a_judgment_debtor_with_the_no_function_statement(client, list_2018):
    html = client.get("/lookup/", {"q": "失信被执行人"}).content.decode()
    assert "被列入“失信被执行人”：1 项备忘录" in html
    assert "对失信被执行人实施联合惩戒的合作备忘录" in html
    assert "本局无相关职能</strong>（我市质监部门无相关职能），无需采取措施。" in html
    assert '<option value="失信被执行人" selected>' in html


def test_the_lookup_answers_for_a_serious_quality_offender_with_three_measures(client, list_2018):
    html = client.get("/lookup/", {"q": "严重质量违法失信"}).content.decode()
    assert "发改财金〔2016〕2202号" in html
    for text, _ in ITEMS[6].measures:
        assert text in html
    division = Division.objects.get(name=YW)
    # Once in the summary, once for each of the three measures.
    assert "应采取 <strong>3</strong> 项措施，责任处室" in html
    assert html.count(f'<a href="/divisions/{division.pk}/">{YW}</a>') == 4


def test_the_lookup_by_pinyin_initials(client, list_2018):
    html = client.get("/lookup/", {"q": "sxbzxr"}).content.decode()
    assert "对失信被执行人实施联合惩戒的合作备忘录" in html
    assert "名单名称的拼音首字母" in html


def test_the_lookup_shows_the_exact_label_before_similar_ones(client, list_2018):
    html = client.get("/lookup/", {"q": "失信企业"}).content.decode()
    assert html.index("失信企业协同监管和联合惩戒合作备忘录") < html.index("其他名称相近的名单")
    assert html.index("其他名称相近的名单") < html.index(
        "关于对海关失信企业实施联合惩戒的合作备忘录"
    )


def test_the_lookup_says_plainly_when_nothing_matches_and_suggests_labels(client, list_2018):
    html = client.get("/lookup/", {"q": "不存在的名单"}).content.decode()
    assert "没有找到“不存在的名单”" in html
    assert f'href="/lookup/?q={quote("海关失信企业")}"' in html


@pytest.mark.parametrize("q", ["", "\x00", "失" * 10_000, "%", "<script>"])
def test_odd_lookup_queries_give_a_normal_page(client, list_2018, q):
    assert client.get("/lookup/", {"q": q}).status_code == 200


# --- divisions ---------------------------------------------------------------------


def test_the_division_index_counts_what_each_division_is_responsible_for(clerk_client, list_2018):
    html = clerk_client.get("/divisions/").content.decode()
    rows = re.findall(
        r'<th scope="row"><a href="/divisions/\d+/">(.*?)</a></th>\s*'
        r'<td class="num">(\d+)</td>\s*<td class="num">(\d+)</td>',
        html,
    )
    assert sorted(rows) == sorted([(YW, "6", "8"), ("人事处", "1", "1"), ("行政审批处", "1", "2")])


def test_a_division_s_page_lists_only_its_own_measures(clerk_client, db):
    current = ResponsibilityListFactory(is_current=True)
    ours = Division.objects.create(name="我们处")
    theirs = Division.objects.create(name="别人处")
    memo = MemorandumFactory(responsibility_list=current, seq=1)
    MeasureFactory(memo=memo, order=1, text="我们的措施", divisions=[ours])
    MeasureFactory(memo=memo, order=2, text="别人的措施", divisions=[theirs])
    html = clerk_client.get(f"/divisions/{ours.pk}/").content.decode()
    assert "我们的措施" in html
    assert "别人的措施" not in html
    assert "负责 <strong>1</strong> 项备忘录的 <strong>1</strong> 项措施" in html


def test_a_division_s_page_leaves_out_repealed_memos(clerk_client, list_2018):
    repeal(4)
    division = Division.objects.get(name="行政审批处")
    html = clerk_client.get(f"/divisions/{division.pk}/").content.decode()
    assert "没有负责的措施" in html


# --- export ------------------------------------------------------------------------


def test_export_downloads_an_xlsx_of_exactly_the_filtered_rows(client, list_2018):
    response = client.get("/export.xlsx", {"kind": "reward", "search": "海关"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    assert [row[0] for row in rows[1:]] == ["3"]


def test_export_has_a_chinese_file_name_every_browser_reads(client, list_2018):
    response = client.get("/export.xlsx")
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''" + quote("联合奖惩备忘录责任清单.xlsx") in disposition


def test_export_as_csv(client, list_2018):
    response = client.get("/export.csv", {"division": "行政审批处"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == HEADERS
    assert [row[0] for row in rows[1:]] == ["4"]


def test_export_leaves_out_repealed_memos_like_the_page(client, list_2018):
    repeal(1)
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/export.xlsx").content)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        str(seq) for seq in range(2, 11)
    ]


def test_export_ignores_an_unknown_kind_like_the_page(client, list_2018):
    response = client.get("/export.csv", {"kind": "bogus"})
    assert response.status_code == 200
    assert len(response.content.decode("utf-8-sig").strip().split("\r\n")) > 10


def test_an_unknown_export_format_is_a_404(client, list_2018):
    assert client.get("/export.pdf").status_code == 404


def test_the_api_docs_page_names_every_endpoint(client, db):
    html = client.get(reverse("api_docs")).content.decode()
    for path in ["/api/memos/", "/api/lookup/", "/api/schema/"]:
        assert path in html


def test_division_pages_ask_visitors_to_sign_in(client, list_2018):
    division = Division.objects.get(name=YW)
    for url in ["/divisions/", f"/divisions/{division.pk}/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


# --- a long list ---------------------------------------------------------------


@pytest.fixture
def long_list(db):
    from tests.test_query_counts import build_list

    return build_list(120)


def _in_force():
    from measures.models import Measure

    memos = Memorandum.objects.filter(status="in_force")
    return memos.count(), Measure.objects.filter(memo__in=memos).count()


def test_a_long_list_is_paged_with_the_totals_of_the_whole_view(client, long_list):
    memos, measures = _in_force()
    assert 100 < memos <= 150
    first = client.get("/")
    assert len(shown_seqs(first)) == 50
    html = first.content.decode()
    assert f"共 <strong>{memos}</strong> 项备忘录、<strong>{measures}</strong> 项措施" in html
    assert "第 1 / 3 页" in html and 'href="?page=2"' in html
    assert len(shown_seqs(client.get("/", {"page": 3}))) == memos - 100


@pytest.mark.parametrize(("page", "expected"), [("999", 3), ("abc", 1), ("-1", 3), ("", 1)])
def test_an_odd_page_number_shows_the_nearest_page(client, long_list, page, expected):
    response = client.get("/", {"page": page})
    assert response.status_code == 200
    assert f"第 {expected} / 3 页" in response.content.decode()


def test_paging_keeps_the_filters(client, long_list):
    # Two pages of punishments: the page links must carry the filter on.
    punishments = set(
        Memorandum.objects.filter(kind="punishment", status="in_force").values_list(
            "seq", flat=True
        )
    )
    assert 50 < len(punishments) <= 100
    first = client.get("/", {"kind": "punishment"})
    html = first.content.decode()
    assert len(shown_seqs(first)) == 50
    assert "第 1 / 2 页" in html
    assert 'href="?kind=punishment&amp;page=2"' in html
    assert 'href="?page=2"' not in html  # a link that would drop the filter
    second = client.get("/", {"kind": "punishment", "page": "2"})
    assert "第 2 / 2 页" in second.content.decode()
    assert 'href="?kind=punishment&amp;page=1"' in second.content.decode()
    # The two pages hold every punishment once, and nothing else.
    assert sorted(shown_seqs(first) + shown_seqs(second)) == sorted(punishments)


def test_the_export_of_a_paged_view_holds_every_row(client, long_list):
    response = client.get("/export.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + _in_force()[0]
