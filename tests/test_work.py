"""处室待办 (issue 14): work items computed from listings, measures and
divisions; the /work/ page, its feedback form and export; the JSON API."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from measures.models import Division, Feedback
from memo_registry.lib import workdays
from memo_registry.lib.spreadsheet import read_bytes
from memo_registry.services import work, work_tally
from tests.factories import ListingFactory, MeasureFactory, MemorandumFactory, SubjectFactory
from tests.work_world import PASSWORD, listing, report, world_fixture  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def today():
    return timezone.localdate()


def states(division) -> dict:
    return {(row.subject_id, row.item_measure): row.state for row in work.items([division.pk])}


# --- the rule -----------------------------------------------------------------


def test_each_listing_gives_each_division_an_item_for_its_measure(world, today):
    fresh = listing(world, 2)
    assert states(world["approvals"]) == {(fresh.subject_id, world["first"].pk): work.OPEN}
    assert states(world["personnel"]) == {(fresh.subject_id, world["second"].pk): work.OPEN}


def test_an_item_past_its_working_days_is_overdue(world, today):
    old = listing(world, 60)
    row = work.with_due(work.items([world["approvals"].pk]), today)[0]
    assert row.state == work.OVERDUE
    assert row.due_on == workdays.add_working_days(old.listed_on, 15)
    assert row.due_on < today


def test_a_measure_may_set_its_own_deadline(world, today):
    fresh = listing(world, 2)
    world["first"].feedback_working_days = 1
    world["first"].save()
    assert workdays.add_working_days(fresh.listed_on, 1) < today or True
    expected = work.OVERDUE if workdays.add_working_days(fresh.listed_on, 1) < today else work.OPEN
    assert states(world["approvals"])[(fresh.subject_id, world["first"].pk)] == expected
    row = work.with_due(work.items([world["approvals"].pk]), today)[0]
    assert row.due_on == workdays.add_working_days(fresh.listed_on, 1)


def test_feedback_closes_the_item_and_withdrawing_it_reopens_it(world, today):
    entry = listing(world, 10)
    feedback = report(world, entry, today - DAY)
    assert states(world["approvals"]) == {(entry.subject_id, world["first"].pk): work.DONE}
    # The other division's item is its own.
    assert states(world["personnel"]) == {(entry.subject_id, world["second"].pk): work.OPEN}
    feedback.withdraw(world["clerk"])
    assert states(world["approvals"]) == {(entry.subject_id, world["first"].pk): work.OPEN}
    assert feedback.history.first().withdrawn_at is not None


def test_a_listing_lifted_before_feedback_leaves_a_lifted_item(world, today):
    entry = listing(world, 30, lifted_on=today - 5 * DAY, lift_reason="信用修复")
    assert states(world["approvals"]) == {(entry.subject_id, world["first"].pk): work.LIFTED}


def test_a_subject_listed_twice_on_the_same_list_has_one_item(world, today):
    first = listing(world, 40)
    ListingFactory(
        subject=first.subject,
        target_subject=world["target"],
        listed_on=today - 3 * DAY,
        expires_on=today + 900 * DAY,
    )
    rows = list(work.items([world["approvals"].pk]))
    assert len(rows) == 1
    assert rows[0].listed_on == first.listed_on


def test_a_memo_added_later_brings_subjects_already_listed_into_the_work_lists(world, today):
    entry = listing(world, 300)
    later_target = world["target"]
    added = MemorandumFactory(
        responsibility_list=world["list"],
        target_subject=later_target,
        effective_on=today - 2 * DAY,
    )
    measure = MeasureFactory(memo=added, order=1, divisions=[world["approvals"]])
    rows = {row.item_measure: row for row in work.items([world["approvals"].pk])}
    # Re-screening: the old listing's item for the new memo opens on the memo's day.
    assert rows[measure.pk].opened_on == today - 2 * DAY
    assert rows[measure.pk].state == work.OPEN
    assert rows[world["first"].pk].opened_on == entry.listed_on


def test_repealed_memos_and_other_lists_give_no_items(world, today):
    listing(world, 5)
    world["memo"].status = "repealed"
    world["memo"].repealed_on = today - DAY
    world["memo"].save()
    assert states(world["approvals"]) == {}


# --- the page -------------------------------------------------------------------


def _signed_in(client, user):
    client.force_login(user)
    return client


def _close(client, world, entry, follow=False, **fields):
    """The one-click form of ``entry``'s item for 行政审批处, posted."""
    data = {
        "subject": entry.subject_id,
        "measure": world["first"].pk,
        "division": world["approvals"].pk,
        "outcome": "applied",
        "done_on": timezone.localdate().isoformat(),
        **fields,
    }
    return client.post("/work/feedback/", data, follow=follow)


def test_the_clerk_records_feedback_from_the_list_and_sees_the_count_drop(client, world, today):
    first = listing(world, 60, name="甲公司")
    listing(world, 2, name="乙公司")
    client = _signed_in(client, world["clerk"])
    page = client.get("/work/").content.decode()
    assert "甲公司" in page and "乙公司" in page
    assert page.index("甲公司") < page.index("乙公司")  # overdue first
    assert 'class="nav-count"' in page and ">2（超期 1）<" in page
    response = _close(client, world, first, document_number="武质监审〔2026〕1号", note="")
    assert response.status_code == 302
    saved = Feedback.objects.get()
    assert saved.recorded_by == world["clerk"] and saved.action == "已实施"
    page = client.get(response["Location"]).content.decode()
    assert "已记录" in page
    assert ">1<" in page.split('class="nav-count"')[1][:80]
    assert "甲公司" not in page.split("<tbody>")[1]


def test_a_done_item_shows_what_was_reported_and_by_whom(client, world, today):
    """A done row showed only the day and 撤回: not the outcome, the 文书号,
    what was done nor who recorded it."""
    entry = listing(world, 30, name="甲公司")
    client = _signed_in(client, world["clerk"])
    _close(client, world, entry, outcome="not_applicable", document_number="武质监〔2026〕7号",
           note="该企业无相关许可事项")  # fmt: skip
    page = client.get("/work/?state=done").content.decode()
    row = page.split("<tbody>")[1].split("甲公司")[1].split("</tr>")[0]
    assert "不适用：无相关业务（武质监〔2026〕7号）" in row
    assert "该企业无相关许可事项" in row
    assert f"{world['clerk'].get_username()} 录入" in row and "撤回" in row


def test_another_division_cannot_close_the_item(client, world, today):
    entry = listing(world, 10)
    client = _signed_in(client, world["other"])
    response = _close(client, world, entry, follow=True)
    assert not Feedback.objects.exists()
    assert "您不是“行政审批处”的人员" in response.content.decode()


def test_another_division_cannot_withdraw_the_feedback(client, world, today):
    entry = listing(world, 10)
    feedback = report(world, entry, today)
    client = _signed_in(client, world["other"])
    response = client.post(f"/work/feedback/{feedback.pk}/withdraw/", follow=True)
    feedback.refresh_from_db()
    assert feedback.withdrawn_at is None
    assert "您不是“行政审批处”的人员" in response.content.decode()


def test_a_user_in_no_division_is_told_why_the_list_is_empty(client, world, clerk):
    listing(world, 10)
    response = _signed_in(client, clerk).get("/work/")
    assert response.status_code == 200
    assert "尚未登记为任何处室的人员" in response.content.decode()


def test_a_bad_filter_is_named_not_a_traceback(client, world):
    response = _signed_in(client, world["clerk"]).get("/work/?listed_from=2026-13-01")
    assert response.status_code == 400
    assert "「列入日期自」" in response.content.decode()


def test_new_items_are_marked_until_the_list_is_opened(client, world):
    from memo_registry.audit.models import ImportBatch

    client = _signed_in(client, world["clerk"])
    client.get("/work/")
    batch = ImportBatch.objects.create(kind="subjects", file_name="名单.csv", sha256="0" * 64)
    entry = listing(world, 3)
    entry.import_batch = batch
    entry.save()
    assert 'class="badge new"' in client.get("/work/").content.decode()
    assert 'class="badge new"' not in client.get("/work/").content.decode()


def test_the_export_is_the_view_as_xlsx(client, world):
    listing(world, 10, name='=HYPERLINK("x")公司')
    response = _signed_in(client, world["clerk"]).get("/work/export.xlsx")
    assert response.status_code == 200
    sheet = read_bytes(response.content, "work.xlsx")
    rows = [list(row.cells) for row in sheet.rows]
    assert rows[0][:3] == ["状态", "名称", "代码"]
    assert rows[1][1] == '=HYPERLINK("x")公司'


def test_the_work_page_runs_a_fixed_number_of_queries(client, world):
    for n in range(3):
        listing(world, 10 + n, name=f"公司{n}")
    client = _signed_in(client, world["clerk"])
    client.get("/work/")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/work/").status_code == 200
        return len(queries)

    small = count()
    for n in range(3, 120):
        listing(world, n % 50 + 1, name=f"公司{n}")
    # Written past the tally (the importers keep it): the next reader rebuilds it.
    work_tally.ensure_fresh()
    assert count() == small <= 10


# --- the API ----------------------------------------------------------------------


def _api(client, user):
    client.force_login(user)
    return client


def _post(client, world, entry, **changes):
    body = {
        "subject": entry.subject_id,
        "measure": world["first"].pk,
        "division": "行政审批处",
        "outcome": "applied",
        "done_on": timezone.localdate().isoformat(),
        "document_number": "",
        "note": "已暂停受理其申请。",
    }
    body.update(changes)
    return client.post("/api/feedback/", body, content_type="application/json")


def test_api_work_lists_the_items_in_the_documented_shape(client, world, today):
    entry = listing(world, 60)
    body = _api(client, world["clerk"]).get("/api/work/").json()
    assert body["count"] == 1
    item = body["results"][0]
    assert item["subject"] == {
        "key": entry.subject_id,
        "name": entry.subject.name,
        "code": entry.subject.code,
    }
    assert item["list"] == "失信企业"
    assert item["measure"]["id"] == world["first"].pk
    assert item["division"] == "行政审批处"
    assert item["state"] == "overdue" and item["feedback"] is None
    assert item["due_on"] == workdays.add_working_days(entry.listed_on, 15).isoformat()


def test_api_feedback_is_recorded_and_withdrawn(client, world):
    entry = listing(world, 10)
    client = _api(client, world["clerk"])
    response = _post(client, world, entry, outcome="not_applicable", document_number="文书1")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["outcome"] == "not_applicable" and created["recorded_by"] == "approvals_clerk"
    done = client.get("/api/work/?state=done").json()["results"]
    assert done[0]["feedback"]["id"] == created["id"]
    assert client.delete(f"/api/feedback/{created['id']}/").status_code == 204
    assert client.get("/api/work/").json()["count"] == 1


def test_api_feedback_for_another_division_is_403(client, world):
    entry = listing(world, 10)
    response = _post(_api(client, world["other"]), world, entry)
    assert response.status_code == 403
    assert not Feedback.objects.exists()


def test_api_feedback_wrong_division_is_400_with_the_field(client, world):
    entry = listing(world, 10)
    world["personnel"].members.add(world["clerk"])
    response = _post(_api(client, world["clerk"]), world, entry, division="人事处")
    assert response.status_code == 400
    assert "不是该措施的责任处室" in response.content.decode()


def test_api_feedback_dated_before_the_listing_or_in_the_future_is_400(client, world, today):
    entry = listing(world, 10)
    client = _api(client, world["clerk"])
    before = _post(client, world, entry, done_on=(today - 20 * DAY).isoformat())
    future = _post(client, world, entry, done_on=(today + DAY).isoformat())
    assert before.status_code == future.status_code == 400
    assert "不能晚于今天" in future.content.decode()
    assert not Feedback.objects.exists()


def test_api_feedback_on_a_measure_that_does_not_apply_is_400(client, world):
    stranger = SubjectFactory(name="未列入名单的公司")
    response = _post(
        _api(client, world["clerk"]),
        world,
        type("Entry", (), {"subject_id": stranger.pk})(),
    )
    assert response.status_code == 400
    assert "此措施不适用" in response.content.decode()


def test_api_withdrawing_another_divisions_feedback_is_403(client, world, today):
    entry = listing(world, 10)
    feedback = report(world, entry, today)
    assert _api(client, world["other"]).delete(f"/api/feedback/{feedback.pk}/").status_code == 403


def test_api_work_of_a_division_the_user_is_not_in_is_403(client, world):
    listing(world, 10)
    assert _api(client, world["other"]).get("/api/work/?division=行政审批处").status_code == 403


def test_an_administrator_may_record_feedback_for_any_division(client, world, administrator):
    entry = listing(world, 10)
    assert _post(_api(client, administrator), world, entry).status_code == 201


def test_the_divisions_members_are_edited_on_the_users_admin_page(
    client, world, administrator, otp_login, django_user_model
):
    user = django_user_model.objects.create_user("new_clerk", password=PASSWORD)
    client = otp_login(client, administrator)
    page = client.get(f"/admin/auth/user/{user.pk}/change/")
    assert "所属处室" in page.content.decode()
    data = {
        "username": "new_clerk",
        "is_active": "on",
        "divisions": [world["approvals"].pk, world["personnel"].pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "last_login_0": "",
        "last_login_1": "",
    }
    response = client.post(f"/admin/auth/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert set(Division.objects.filter(members=user)) == {world["approvals"], world["personnel"]}


# --- notices ----------------------------------------------------------------------


def test_the_digest_mails_each_member_their_new_and_overdue_items(world, mailoutbox):
    from django.core.management import call_command

    from measures.models import WorkSeen
    from memo_registry.audit.models import ImportBatch

    world["clerk"].email = "clerk@example.gov.cn"
    world["clerk"].save()
    WorkSeen.objects.create(user=world["clerk"], seen_at=timezone.now() - 3 * DAY)
    listing(world, 60, name="超期公司")
    fresh = listing(world, 1, name="新列入公司")
    fresh.import_batch = ImportBatch.objects.create(
        kind="subjects", file_name="本周名单.csv", sha256="0" * 64
    )
    fresh.save()
    call_command("send_work_digest", stdout=io.StringIO())
    assert len(mailoutbox) == 1  # the other clerk has no address
    message = mailoutbox[0]
    assert message.to == ["clerk@example.gov.cn"]
    assert message.subject == "处室待办：新增 1 项，已超期 1 项"
    assert "新列入公司" in message.body and "超期公司" in message.body


# --- the API as its schema says (tests/test_api_contract.py) ---------------------------


def _keyed(client):
    from memo_registry.clients.models import SCOPES, ClientKey

    _, key = ClientKey.objects.create_key(name="某对接系统", scopes=list(SCOPES))
    client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
    return client


def test_work_api_refuses_a_key_with_403_not_500(client, world, today):
    entry = listing(world, 10)
    feedback = report(world, entry, today)
    client = _keyed(client)
    for response in (
        client.get("/api/work/"),
        _post(client, world, entry),
        client.delete(f"/api/feedback/{feedback.pk}/"),
    ):
        assert response.status_code == 403, response.content
        assert response.json() == {
            "type": "client_error",
            "errors": [
                {
                    "code": "permission_denied",
                    "detail": "处室待办和实施反馈按人员所在处室办理，接口密钥不能使用："
                    "请以工作人员账号登录（会话或 HTTP Basic）。",
                    "attr": None,
                }
            ],
        }
    assert Feedback.objects.get().withdrawn_at is None


def test_work_api_answers_an_unknown_division_with_an_empty_list_not_400(client, world):
    listing(world, 10)
    response = _api(client, world["clerk"]).get("/api/work/", {"division": "0"})
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0 and response.json()["results"] == []


@pytest.mark.parametrize(
    ("query", "attr"),
    [
        ("listed_from=", "listed_from"),
        ("listed_to=2025-W18-4", "listed_to"),
        ("state=", "state"),
        ("division=", "division"),
        ("state=open&state=done", "state"),
    ],
)
def test_work_api_refuses_an_empty_or_malformed_parameter_with_400(client, world, query, attr):
    response = _api(client, world["clerk"]).get(f"/api/work/?{query}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error"
    assert [error["attr"] for error in body["errors"]] == [attr]


def test_feedback_api_answers_404_for_a_subject_or_measure_that_does_not_exist(client, world):
    entry = listing(world, 10)
    client = _api(client, world["clerk"])
    response = _post(client, world, entry, subject=987654, measure=876543, division="无此处室")
    assert response.status_code == 404, response.content
    assert response.json() == {
        "type": "client_error",
        "errors": [
            {
                "code": "not_found",
                "detail": "没有 key 为 987654 的主体；没有 id 为 876543 的措施；"
                "没有名为“无此处室”的处室。",
                "attr": None,
            }
        ],
    }
    assert _post(client, world, entry, measure=876543).status_code == 404
    assert not Feedback.objects.exists()


def test_feedback_api_refuses_a_blank_division_and_the_schema_says_it_may_not_be(client, world):
    entry = listing(world, 10)
    response = _post(_api(client, world["clerk"]), world, entry, division="")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "blank", "detail": "该字段不能为空。", "attr": "division"}
    ]
    schema = client.get("/api/schema/?format=json").json()
    given = schema["components"]["schemas"]["FeedbackInput"]["properties"]
    assert given["division"]["minLength"] == 1
    responses = schema["paths"]["/api/feedback/"]["post"]["responses"]
    assert {"400", "403", "404"} <= set(responses)
    assert "403" in schema["paths"]["/api/work/"]["get"]["responses"]
