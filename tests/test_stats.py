"""统计 (issue 14): each division's on-time rate as an SVG chart with its
numbers in a table, the same in the API and the xlsx export."""

import datetime

import pytest
from django.utils import timezone

from memo_registry.lib import workdays
from memo_registry.lib.charts import Bar, bar_chart
from memo_registry.lib.spreadsheet import read_bytes
from tests.work_world import listing, report, world_fixture  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def reported(world):
    """行政审批处: one item done on time, one done late, one overdue; 人事处:
    three overdue."""
    today = timezone.localdate()
    start = datetime.date(today.year, 1, 1) + 30 * DAY
    entries = []
    for name in ("按期公司", "逾期公司", "超期公司"):
        entry = listing(world, (today - start).days, name=name)
        entries.append(entry)
    due = workdays.add_working_days(start, 15)
    for entry, done_on in ((entries[0], due), (entries[1], due + 10 * DAY)):
        report(world, entry, done_on)
    return world


def test_the_head_sees_each_divisions_on_time_rate_as_a_chart_and_a_table(client, reported):
    client.force_login(reported["other"])
    page = client.get("/stats/").content.decode()
    assert "<svg" in page and "各处室按期反馈率" in page
    table = page.split('id="division-stats"')[1].split("</table>")[0]
    approvals = table.split("行政审批处")[1].split("</tr>")[0]
    cells = [cell.split("</td>")[0] for cell in approvals.split('<td class="num">')[1:]]
    # opened, on time, late, open, overdue, rate
    assert cells == ["3", "1", "1", "0", "1", "33.3%"]
    assert "0.0%" in table.split("人事处")[1].split("</tr>")[0]
    # The chart carries the same figure, readable without colour.
    chart = page.split('<figure class="chart">')[1].split("</figure>")[0]
    assert "33.3%" in chart and "<script" not in page.split("<main")[1]


def test_the_api_gives_the_same_figures(client, reported):
    client.force_login(reported["clerk"])
    body = client.get("/api/stats/").json()
    rows = {row["name"]: row for row in body["divisions"]}
    assert rows["行政审批处"] == {
        "name": "行政审批处",
        "opened": 3,
        "done_on_time": 1,
        "done_late": 1,
        "open": 0,
        "overdue": 1,
        "on_time_rate": 33.3,
    }
    assert sum(row["count"] for row in body["listings"]) == 3


def test_a_period_before_the_items_has_none(client, reported):
    client.force_login(reported["clerk"])
    year = timezone.localdate().year
    body = client.get(f"/api/stats/?from={year - 1}-01-01&to={year - 1}-12-31").json()
    assert body["divisions"] == [] and body["listings"] == []


def test_a_reversed_period_is_refused_with_its_field(client, reported):
    client.force_login(reported["clerk"])
    assert client.get("/api/stats/?from=2026-05-01&to=2026-01-01").status_code == 400
    page = client.get("/stats/?from=2026-05-01&to=2026-01-01")
    assert page.status_code == 400 and "「截至日期」" in page.content.decode()


def test_the_export_has_the_table(client, reported):
    client.force_login(reported["clerk"])
    response = client.get("/stats/export.xlsx")
    rows = [list(row.cells) for row in read_bytes(response.content, "stats.xlsx").rows]
    assert rows[0][:3] == ["类别", "名称", "新增待办事项"]
    assert ["处室", "行政审批处", "3", "1", "1", "0", "1", "33.3%"] in [row[:8] for row in rows]


# --- dates as the schema says (tests/test_api_contract.py) ---------------------------


@pytest.mark.parametrize(
    ("query", "attr"),
    [
        ("to=", "to"),  # given empty: not "left out"
        ("from=", "from"),
        ("to=2026-W49-2", "to"),  # ISO week: Python reads it, format date does not
        ("to=20261201", "to"),
        ("from=2026-1-5", "from"),
        ("to=2026-02-30", "to"),
        ("to=2026-01-31&to=2026-02-28", "to"),
    ],
)
def test_stats_api_refuses_a_malformed_date_with_400_not_the_default_period(
    client, reported, query, attr
):
    client.force_login(reported["clerk"])
    response = client.get(f"/api/stats/?{query}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error"
    assert [error["attr"] for error in body["errors"]] == [attr]


def test_stats_api_to_alone_is_that_years_period_not_a_reversed_one(client, reported):
    client.force_login(reported["clerk"])
    response = client.get("/api/stats/?to=2000-06-30")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["period_from"], body["period_to"]) == ("2000-01-01", "2000-06-30")
    assert body["divisions"] == [] and body["listings"] == []


def test_every_month_of_the_period_is_a_column_and_a_memos_number_survives_the_chart(
    client, reported
):
    """Months without listings were left out (2026-02, 04, 05 read as a
    series), and the chart cut 文号 after 14 characters, losing the number
    that tells two memos apart; an empty period drew an empty chart."""
    today = timezone.localdate()
    client.force_login(reported["other"])
    page = client.get(f"/stats/?from={today.year}-01-01&to={today:%Y-%m-%d}").content.decode()
    table = page.split('id="listing-stats"')[1].split("</table>")[0]
    header = table.split("</thead>")[0]
    months = [f"{today.year}-{month:02d}" for month in range(1, today.month + 1)]
    assert [cell.split("</th>")[0] for cell in header.split('<th scope="col">')[2:-1]] == months
    memo_chart = page.split("<h2>各备忘录按期反馈率</h2>")[1].split("</figure>")[0]
    assert reported["memo"].doc_number in memo_chart
    # A label too long for the chart is cut in the middle: its number stays.
    long = bar_chart("备忘录", [Bar("国家发展改革委等部门发改财金〔2016〕2202号", 50.0, "50%")])
    assert "2202号" in long and "国家发展" in long

    empty = client.get("/stats/?from=2001-01-01&to=2001-12-31").content.decode()
    assert "本期没有待办事项。" in empty and '<figure class="chart">' not in empty
