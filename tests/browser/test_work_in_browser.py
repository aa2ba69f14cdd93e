"""处室待办 in a real browser (issue 14, "Done when"): a clerk of 行政审批处
sees the division's open and overdue items, records feedback on one from the
list and sees the count drop; another division's clerk cannot close it; the
head opens 统计 and sees the on-time rate as a chart and a table."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from measures.models import Division, Feedback
from memos.models import Memorandum
from tests.factories import ListingFactory, SubjectFactory

pytestmark = pytest.mark.browser

DAY = datetime.timedelta(days=1)


@pytest.fixture
def approvals_clerk(site, django_user_model):
    """A 查阅 clerk of 行政审批处, and two enterprises on memo 4's list
    (its measure 1 is 行政审批处's): one listed 60 days ago, one 2 days ago."""
    user = django_user_model.objects.create_user("shenpi", password="pw-Registry-2018")
    user.groups.add(Group.objects.get(name="查阅"))
    Division.objects.get(name="行政审批处").members.add(user)
    target = Memorandum.objects.get(seq=4).target_subject
    today = timezone.localdate()
    for name, days in (("武汉市甲食品有限公司", 60), ("武汉市乙食品有限公司", 2)):
        ListingFactory(
            subject=SubjectFactory(name=name),
            target_subject=target,
            listed_on=today - days * DAY,
            expires_on=today + 700 * DAY,
        )
    return user


def test_the_clerk_closes_an_item_from_the_list_and_the_count_drops(
    page, site, approvals_clerk, sign_in, shot
):
    sign_in(approvals_clerk, then="/work/")
    nav = page.locator(".nav-count")
    before = int(nav.inner_text().split("（")[0])
    expect(page.locator("tr.work-item.overdue").first).to_contain_text("武汉市甲食品有限公司")
    row = page.locator("tr.work-item").filter(has_text="武汉市甲食品有限公司").first
    row.get_by_label("文书号").fill("武质监审〔2026〕8号")
    row.get_by_label("实施情况").fill("已暂停受理其生产许可申请。")
    shot("before")
    row.get_by_role("button", name="记录反馈").click()
    expect(page.locator("ul.messages")).to_contain_text("已记录")
    expect(nav).to_contain_text(str(before - 1))
    shot("after")
    report = Feedback.objects.get(document_number="武质监审〔2026〕8号")
    assert report.recorded_by == approvals_clerk
    assert report.division.name == "行政审批处"


def test_the_head_sees_the_on_time_rate_as_a_chart_and_a_table(
    page, site, approvals_clerk, sign_in, shot
):
    sign_in(approvals_clerk, then="/stats/")
    expect(page.locator("figure.chart svg").first).to_be_visible()
    expect(page.locator("#division-stats")).to_contain_text("行政审批处")
    shot("stats")
