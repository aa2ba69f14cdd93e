"""The two ways a clerk records feedback — the /work/ one-click form and
POST /api/feedback/ — through the one service entry point
(memo_registry.services.feedback.record_from): what each says when the
report names something gone or breaks a rule, and that nothing is saved."""

import datetime

import pytest
from django.utils import timezone

from measures.models import Feedback
from tests.test_work import _close as close_item
from tests.work_world import listing, world_fixture  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db


def _form(client, world, entry, **fields):
    """The clerk of 行政审批处 posts the one-click form of ``entry``'s item."""
    client.force_login(world["clerk"])
    return close_item(client, world, entry, follow=True, **fields)


def test_the_form_says_an_item_whose_division_is_gone_was_not_recorded(client, world):
    entry = listing(world, 10)
    page = _form(client, world, entry, division=world["approvals"].pk + 1000)
    assert page.redirect_chain[-1][0].startswith("/work/")
    assert "该事项已不存在，未记录反馈。" in page.content.decode()
    assert not Feedback.objects.exists()


def test_the_form_names_the_subject_and_the_field_of_a_rule_not_met(client, world):
    entry = listing(world, 10, name="甲公司")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    page = _form(client, world, entry, done_on=tomorrow.isoformat())
    text = page.content.decode()
    assert "甲公司：未记录反馈。「日期」实施日期不能晚于今天" in text
    assert not Feedback.objects.exists()


def test_the_form_reports_what_it_recorded(client, world):
    entry = listing(world, 10, name="甲公司")
    page = _form(client, world, entry, note="  已暂停受理其申请。 ")
    assert "已记录“甲公司”的反馈（行政审批处）。" in page.content.decode()
    saved = Feedback.objects.get()
    assert (saved.division, saved.action, saved.recorded_by) == (
        world["approvals"],
        "已暂停受理其申请。",
        world["clerk"],
    )


def test_the_api_finds_the_division_by_its_name_with_spaces_around_it(client, world):
    entry = listing(world, 10)
    client.force_login(world["clerk"])
    body = {
        "subject": entry.subject_id,
        "measure": world["first"].pk,
        "division": " 行政审批处 ",
        "done_on": timezone.localdate().isoformat(),
    }
    response = client.post("/api/feedback/", body, content_type="application/json")
    assert response.status_code == 201
    assert Feedback.objects.get().division == world["approvals"]


def test_the_api_names_only_what_is_missing(client, world):
    entry = listing(world, 10)
    client.force_login(world["clerk"])
    body = {
        "subject": entry.subject_id,
        "measure": world["first"].pk + 1000,
        "division": "行政审批处",
        "done_on": timezone.localdate().isoformat(),
    }
    response = client.post("/api/feedback/", body, content_type="application/json")
    assert response.status_code == 404
    assert response.json()["errors"][0]["detail"] == f"没有 id 为 {body['measure']} 的措施。"
    assert not Feedback.objects.exists()
