"""统计 and the embedded checks (issue 16): the API and the xlsx carry the
page's check counts for the same period; only a key holding ``stats:read``
reads /api/stats/; the page completes a period as the API does; staff read
the checks in the admin, people's numbers masked."""

import datetime
import io
import zoneinfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from memo_registry.clients.admin import ClientKeyForm
from memo_registry.clients.models import SCOPES, Check, ClientKey
from memo_registry.lib.spreadsheet import read_bytes
from subjects.models import Subject

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
PERSON = "11010519491231002X"
COMPANY = "91420100177570439U"
YEAR_2025 = "from=2025-01-01&to=2025-12-31"


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def key_headers(*scopes, name="市场监管审批系统"):
    _, key = ClientKey.objects.create_key(name=name, scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Api-Key {key}"}


def make_check(checked_at, decision, outcome="", *, code=COMPANY, client="市场监管审批系统"):
    api_key = ClientKey.objects.filter(name=client).first()
    if api_key is None:
        api_key, _ = ClientKey.objects.create_key(name=client, scopes=["checks:write"])
    kind = Subject.Kind.PERSON if code == PERSON else Subject.Kind.ORGANISATION
    return Check.objects.create(
        code=code,
        code_kind=kind,
        matter_code="11420100MB1234567X4000",
        matter_name="食品生产许可",
        department="市场监管局行政审批处",
        decision=decision,
        checked_at=checked_at,
        key=api_key,
        client_name=client,
        outcome=outcome,
    )


@pytest.fixture
def checks_2025(db):
    """In 2025 (Beijing days): two punish (one refused, one undecided), one
    none approved.  Outside it: the evening before and the first minutes of
    2026 in Beijing (still 31 December in UTC)."""
    make_check(at(2025, 3, 1, 10), "punish", "refused")
    make_check(at(2025, 6, 1, 10), "punish")
    make_check(at(2025, 12, 31, 23, 50), "none", "approved")
    make_check(at(2024, 12, 31, 23, 0), "punish", "refused")
    make_check(at(2026, 1, 1, 0, 30), "reward", "approved")


# undecided, approved, with conditions, refused, not decided, total
PUNISH = [1, 0, 0, 1, 0, 2]
REWARD = [0, 0, 0, 0, 0, 0]
NONE = [0, 1, 0, 0, 0, 1]


def page_check_rows(page: str) -> dict[str, list[int]]:
    table = page.split('id="check-stats"')[1].split("</table>")[0]
    rows = {}
    for row in table.split("<tbody>")[1].split("</tr>")[:-1]:
        label = row.split('<th scope="row">')[1].split("</th>")[0]
        rows[label] = [int(cell.split("</td>")[0]) for cell in row.split('<td class="num">')[1:]]
    return rows


def test_api_and_export_count_the_checks_as_the_page_does(client, clerk, checks_2025):
    client.force_login(clerk)
    page = client.get(f"/stats/?{YEAR_2025}")
    assert page.status_code == 200
    assert page_check_rows(page.content.decode()) == {"惩戒": PUNISH, "激励": REWARD, "无": NONE}

    body = client.get(f"/api/stats/?{YEAR_2025}").json()
    fields = ["undecided", "approved", "approved_with_conditions", "refused", "not_decided"]
    assert body["checks"] == [
        {"decision": decision, **dict(zip([*fields, "total"], counts, strict=True))}
        for decision, counts in (("punish", PUNISH), ("reward", REWARD), ("none", NONE))
    ]

    export = client.get(f"/stats/export.xlsx?{YEAR_2025}")
    rows = [list(row.cells) for row in read_bytes(export.content, "stats.xlsx").rows]
    start = rows.index(["类别", "核查结论", "尚未报告结果", "准予", "附条件准予", "不予", "未作决定",
                        "合计"])  # fmt: skip
    assert rows[start + 1 : start + 4] == [
        ["嵌入式核查", label, *map(str, counts)]
        for label, counts in (("惩戒", PUNISH), ("激励", REWARD), ("无", NONE))
    ]


def test_the_api_counts_checks_in_its_default_period(client, clerk):
    today = timezone.localdate()
    make_check(at(today.year, today.month, today.day, 0, 5), "reward", "not_decided")
    make_check(at(today.year - 1, 12, 31, 23, 55), "reward", "not_decided")
    client.force_login(clerk)
    body = client.get("/api/stats/").json()
    reward = next(row for row in body["checks"] if row["decision"] == "reward")
    assert (reward["not_decided"], reward["total"]) == (1, 1)


# --- who reads /api/stats/ with a key -------------------------------------------------


def test_key_without_stats_scope_cannot_read_stats(client, checks_2025):
    every_other_scope = [scope for scope in SCOPES if scope != "stats:read"]
    response = client.get(f"/api/stats/?{YEAR_2025}", **key_headers(*every_other_scope))
    assert response.status_code == 403
    body = response.json()
    assert body["type"] == "client_error"
    (error,) = body["errors"]
    assert error["code"] == "permission_denied" and "stats:read" in error["detail"]


def test_a_key_with_stats_scope_reads_stats(client, checks_2025):
    response = client.get(f"/api/stats/?{YEAR_2025}", **key_headers("stats:read"))
    assert response.status_code == 200
    assert response.json()["checks"][0]["total"] == 2


def test_the_stats_scope_opens_nothing_else(client, list_2018):
    headers = key_headers("stats:read")
    assert client.get("/api/memos/", **headers).status_code == 403
    assert client.get("/api/changes/", **headers).status_code == 403
    assert client.get("/api/work/", **headers).status_code == 403


def test_create_api_key_and_the_admin_form_accept_the_stats_scope(client):
    out = io.StringIO()
    call_command("create_api_key", "统计平台", "--scope", "stats:read", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    assert ClientKey.objects.get().scopes == ["stats:read"]
    assert client.get("/api/stats/", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200
    form = ClientKeyForm({"name": "统计平台二", "scopes": ["stats:read"]})
    assert form.is_valid(), form.errors


# --- the page completes a period as the API does -------------------------------------


def test_the_page_reads_to_alone_as_that_years_period(client, clerk, checks_2025):
    client.force_login(clerk)
    response = client.get("/stats/?to=2025-05-31")
    assert response.status_code == 200
    page = response.content.decode()
    assert "2025年1月1日至2025年5月31日" in page
    assert 'value="2025-01-01"' in page
    # Only the check of 1 March 2025 is in that period.
    assert page_check_rows(page)["惩戒"] == [0, 0, 0, 1, 0, 1]
    api = client.get("/api/stats/?to=2025-05-31").json()
    assert (api["period_from"], api["period_to"]) == ("2025-01-01", "2025-05-31")


def test_the_page_refuses_from_alone_after_today_as_the_api_does(client, clerk):
    client.force_login(clerk)
    later = timezone.localdate() + datetime.timedelta(days=40)
    api = client.get(f"/api/stats/?from={later}")
    assert api.status_code == 400 and api.json()["errors"][0]["attr"] == "to"
    page = client.get(f"/stats/?from={later}")
    assert page.status_code == 400
    assert "「截至日期」截至日期不能早于开始日期。" in page.content.decode()
    assert client.get(f"/stats/export.xlsx?from={later}").status_code == 400


# --- the checks in the admin ------------------------------------------------------------

CHECKS_ADMIN = "/admin/clients/check/"


@pytest.fixture
def person_check(db):
    return make_check(at(2025, 3, 1, 10), "punish", "refused", code=PERSON)


def test_editors_and_administrators_see_the_checks_and_the_clerk_does_not(
    client, clerk, editor, administrator, otp_login, person_check
):
    client.force_login(clerk)
    assert client.get(CHECKS_ADMIN).status_code == 302  # 查阅 is no staff: the admin's sign-in
    for user in (editor, administrator):
        otp_login(client, user)
        page = client.get(CHECKS_ADMIN)
        assert page.status_code == 200
        assert "食品生产许可" in page.content.decode()
        assert "市场监管局行政审批处" in page.content.decode()


def test_a_person_number_is_masked_without_the_full_identity_permission(
    client, editor, administrator, otp_login, person_check
):
    masked = "110105********002X"
    otp_login(client, editor)
    for url in (CHECKS_ADMIN, f"{CHECKS_ADMIN}{person_check.pk}/change/"):
        page = client.get(url).content.decode()
        assert masked in page and PERSON not in page, url
    # Nor can the address filter on the hidden digits.
    assert client.get(f"{CHECKS_ADMIN}?code__startswith=11010519").status_code == 400
    otp_login(client, administrator)
    assert PERSON in client.get(CHECKS_ADMIN).content.decode()


def test_checks_are_evidence_nobody_adds_changes_or_deletes_in_the_admin(
    client, administrator, otp_login, person_check
):
    otp_login(client, administrator)
    change = f"{CHECKS_ADMIN}{person_check.pk}/change/"
    assert client.get(f"{CHECKS_ADMIN}add/").status_code == 403
    assert client.get(f"{CHECKS_ADMIN}{person_check.pk}/delete/").status_code == 403
    assert client.post(change, {"outcome": "approved", "department": "改"}).status_code == 403
    assert 'name="_save"' not in client.get(change).content.decode()
    person_check.refresh_from_db()
    assert (person_check.outcome, person_check.department) == ("refused", "市场监管局行政审批处")
    assert Check.objects.count() == 1


def test_the_admin_filters_checks_by_decision_outcome_client_and_day(
    client, editor, otp_login, checks_2025
):
    make_check(at(2025, 3, 2, 9), "punish", "refused", client="信用平台")
    otp_login(client, editor)
    page = client.get(f"{CHECKS_ADMIN}?decision=punish&outcome=refused&client_name=信用平台")
    assert page.status_code == 200 and page.context["cl"].result_count == 1
    by_day = client.get(f"{CHECKS_ADMIN}?checked_at__year=2025&checked_at__month=3")
    assert by_day.status_code == 200 and by_day.context["cl"].result_count == 2


def test_a_checks_admin_page_reads_in_beijing_time_and_lists_what_it_answered(
    client, administrator, otp_login
):
    """The heading said 20:40 (UTC) beside 核查时间 04:40 the next day, and the
    measures were a JSON dump with English keys."""
    check = make_check(at(2025, 3, 2, 4, 40), "punish", "refused")
    check.measures = [
        {"doc_number": "发改财金〔2016〕2202号", "memo_title": "…", "kind": "punishment",
         "order": 1, "text": "加大对失信企业日常监督检查频次", "divisions": ["有关业务处室和直属机构"],
         "legal_basis": [], "basis_status": "missing"},
    ]  # fmt: skip
    check.save()
    assert str(check) == "市场监管审批系统 食品生产许可（2025-03-02 04:40）"
    otp_login(client, administrator)
    page = client.get(f"{CHECKS_ADMIN}{check.pk}/change/").content.decode()
    assert "2025-03-02 04:40" in page and "2025-03-01 20:40" not in page
    assert (
        "<li>【惩戒】发改财金〔2016〕2202号 第1项：加大对失信企业日常监督检查频次"
        "（有关业务处室和直属机构）</li>"
    ) in page
    assert "basis_status" not in page and '"doc_number"' not in page
