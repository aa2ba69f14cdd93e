"""The rules of a feedback report (实施反馈), kept in Feedback.clean(): the
model's validation, so that the admin, the subject page and any API that
calls full_clean() refuse the same reports with the same Chinese messages.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from measures.models import Division, Feedback
from memo_registry.services.lookup import status_for
from memos.models import Memorandum
from subjects.models import Listing
from tests.factories import ListingFactory, ResponsibilityListFactory, SubjectFactory, valid_uscc

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def world(list_2018, today, editor):
    """An enterprise on the 失信企业 list (memo 4, whose measures 行政审批处
    carries out) for the last 30 days and the next 700."""
    memo = Memorandum.objects.get(seq=4)
    enterprise = SubjectFactory(code=valid_uscc(41), name="武汉市某某食品有限公司")
    listing = ListingFactory(
        subject=enterprise,
        target_subject=memo.target_subject,
        listed_on=today - 30 * DAY,
        expires_on=today + 700 * DAY,
    )
    # Feedback is recorded by the division's members (issue 14).
    for name in ("行政审批处", "人事处"):
        Division.objects.get(name=name).members.add(editor)
    return {
        "memo": memo,
        "measure": memo.measures.get(order=1),
        "subject": enterprise,
        "listing": listing,
        "approvals": Division.objects.get(name="行政审批处"),
        "personnel": Division.objects.get(name="人事处"),
        "recorder": editor,
    }


def _feedback(world, **changes) -> Feedback:
    values = {
        "measure": world["measure"],
        "subject": world["subject"],
        "division": world["approvals"],
        "done_on": timezone.localdate() - 2 * DAY,
        "action": "已暂停受理其生产许可申请。",
        "recorded_by": world["recorder"],
    }
    values.update(changes)
    return Feedback(**values)


def _errors(feedback: Feedback) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        feedback.full_clean()
    return caught.value.message_dict


def _admin_post(client, world, **changes):
    values = {
        "measure": world["measure"].pk,
        "subject": world["subject"].pk,
        "division": world["approvals"].pk,
        "outcome": "applied",
        "done_on": (timezone.localdate() - 2 * DAY).isoformat(),
        "document_number": "",
        "action": "已暂停受理其生产许可申请。",
    }
    values.update(changes)
    return client.post(reverse("admin:measures_feedback_add"), values)


def _form_errors(response) -> dict[str, list[str]]:
    """The admin redisplays the form with its errors (200), never a 500."""
    assert response.status_code == 200
    return {
        field: list(errors) for field, errors in response.context["adminform"].form.errors.items()
    }


@pytest.fixture
def editor_client(client, otp_login, editor):
    """编辑 may add feedback in the admin."""
    return otp_login(client, editor)


# --- 1. only a responsible division closes a measure ---------------------------------


def test_another_division_cannot_close_a_measure(world, editor_client):
    errors = _errors(_feedback(world, division=world["personnel"]))
    assert list(errors) == ["division"]
    assert errors["division"] == ["“人事处”不是该措施的责任处室，反馈处室应为：行政审批处。"]

    form_errors = _form_errors(_admin_post(editor_client, world, division=world["personnel"].pk))
    assert form_errors == {"division": errors["division"]}
    assert Feedback.objects.count() == 0
    # The measure stays open on the subject's page.
    status = status_for(world["subject"], timezone.localdate())
    assert not any(item.done for item in status.measures)


# --- 2. not in the future (Asia/Shanghai) --------------------------------------------


def test_feedback_in_the_future_is_refused(world, editor_client, today):
    errors = _errors(_feedback(world, done_on=today + DAY))
    assert errors == {"done_on": [f"实施日期不能晚于今天（{today.isoformat()}）。"]}
    _feedback(world, done_on=today).full_clean()  # today itself is fine

    form_errors = _form_errors(_admin_post(editor_client, world, done_on="2030-01-01"))
    assert form_errors == {"done_on": [f"实施日期不能晚于今天（{today.isoformat()}）。"]}
    assert Feedback.objects.count() == 0


# --- 3. the measure applies to the subject on the day ------------------------------


def test_feedback_for_a_measure_that_does_not_apply_is_refused(world, editor_client, today):
    # The subject is on the 失信企业 list, not on memo 7's list.
    other_measure = Memorandum.objects.get(seq=7).measures.get(order=1)
    other_measure.divisions.get().members.add(world["recorder"])
    errors = _errors(
        _feedback(world, measure=other_measure, division=other_measure.divisions.get())
    )
    assert errors == {
        "measure": [
            f"该主体在 {(today - 2 * DAY).isoformat()} 未列入“严重质量违法失信行为当事人”名单，此措施不适用。"
        ]
    }

    form_errors = _form_errors(
        _admin_post(
            editor_client,
            world,
            measure=other_measure.pk,
            division=other_measure.divisions.get().pk,
        )
    )
    assert form_errors == errors
    assert Feedback.objects.count() == 0


def test_feedback_under_a_memo_repealed_by_the_date_is_refused(world, today):
    memo = world["memo"]
    memo.status, memo.repealed_on = Memorandum.Status.REPEALED, today - 5 * DAY
    memo.save()
    for done_on in (today - 5 * DAY, today - 2 * DAY):  # on or after the repeal
        errors = _errors(_feedback(world, done_on=done_on))
        assert list(errors) == ["measure"]
        assert f"已于 {memo.repealed_on.isoformat()} 废止" in errors["measure"][0]
    # Done while the memo was still in force: it applied that day.
    _feedback(world, done_on=today - 6 * DAY).full_clean()


def test_feedback_under_a_memo_of_a_list_that_is_no_longer_current_is_refused(world):
    ResponsibilityListFactory(doc_number="武质技监管〔2026〕1号").make_current()
    errors = _errors(_feedback(world))
    assert list(errors) == ["measure"]
    assert "不在现行责任清单中" in errors["measure"][0]


def test_feedback_after_the_listing_was_lifted_is_refused(world, today):
    Listing.objects.filter(pk=world["listing"].pk).update(lifted_on=today - 3 * DAY)
    errors = _errors(_feedback(world, done_on=today - 2 * DAY))
    assert list(errors) == ["measure"]
    # While the subject was still on the list, the measure applied.
    _feedback(world, done_on=today - 4 * DAY).full_clean()


# --- 4. not before the listing the subject page counts from -------------------------


def test_feedback_dated_before_the_listing_is_refused(world, editor_client, today):
    listed_on = world["listing"].listed_on
    message = f"实施日期不能早于列入名单日期 {listed_on.isoformat()}。"
    assert _errors(_feedback(world, done_on=listed_on - DAY)) == {"done_on": [message]}
    _feedback(world, done_on=listed_on).full_clean()  # the day of the listing is fine

    form_errors = _form_errors(
        _admin_post(editor_client, world, done_on=(listed_on - DAY).isoformat())
    )
    assert form_errors == {"done_on": [message]}
    assert Feedback.objects.count() == 0


def test_feedback_dated_in_an_earlier_listing_is_refused_while_a_later_one_is_in_force(
    world, today
):
    # Listed in the spring, lifted (信用修复), listed again 30 days ago: the
    # subject page counts reports from the listing in force today only, so a
    # report dated in the spring would be saved and never shown.
    ListingFactory(
        subject=world["subject"],
        target_subject=world["memo"].target_subject,
        listed_on=today - 200 * DAY,
        lifted_on=today - 100 * DAY,
    )
    errors = _errors(_feedback(world, done_on=today - 150 * DAY))
    assert errors == {
        "done_on": [f"实施日期不能早于列入名单日期 {world['listing'].listed_on.isoformat()}。"]
    }


# --- a report that keeps the rules ---------------------------------------------------


def test_a_valid_feedback_passes_and_closes_the_measure(world, editor_client, editor, today):
    _feedback(world).full_clean()

    response = _admin_post(editor_client, world, done_on=today.isoformat())
    assert response.status_code == 302
    report = Feedback.objects.get()
    assert (report.division, report.done_on, report.recorded_by) == (
        world["approvals"],
        today,
        editor,
    )
    status = status_for(world["subject"], today)
    assert [item.done for item in status.measures if item.measure == world["measure"]] == [True]


def test_an_incomplete_feedback_gets_field_errors_not_a_crash(world):
    errors = _errors(Feedback(done_on=timezone.localdate(), action="x"))
    assert {"measure", "subject", "division"} <= set(errors)
    errors = _errors(_feedback(world, measure_id=999_999, measure=None))
    assert "measure" in errors


# --- who records it (issue 14) ----------------------------------------------------


def test_a_user_outside_the_division_cannot_record_its_feedback(world, django_user_model):
    outsider = django_user_model.objects.create_user("outsider", password="pw-Registry-2018")
    errors = _errors(_feedback(world, recorded_by=outsider))
    assert errors == {"division": ["您不是“行政审批处”的人员，不能为该处室录入、更正或撤回反馈。"]}


def test_an_administrator_records_feedback_for_any_division(world, administrator):
    _feedback(world, recorded_by=administrator).full_clean()


def test_the_admin_refuses_feedback_from_a_non_member(client, world, otp_login, editor):
    Division.objects.get(name="行政审批处").members.remove(editor)
    response = otp_login(client, editor).get(reverse("admin:measures_feedback_add"))
    if response.status_code == 403:
        pytest.skip("编辑 may not open the feedback admin")
    response = _admin_post(client, world)
    assert response.status_code == 200
    assert "您不是“行政审批处”的人员" in response.content.decode()
    assert not Feedback.objects.exists()


def test_a_withdrawn_feedback_reopens_the_measure_and_keeps_its_history(world, today):
    feedback = _feedback(world)
    feedback.full_clean()
    feedback.save()
    assert status_for(world["subject"], today).measures[0].done
    feedback.withdraw(world["recorder"])
    assert not status_for(world["subject"], today).measures[0].done
    assert [record.withdrawn_at is None for record in feedback.history.all()] == [False, True]
