"""What applied on a date: /subjects/<key>/?on=YYYY-MM-DD and the subject API's ``on``."""

import datetime

import pytest
from django.utils import timezone

from measures.models import Measure
from memo_registry.audit.models import AccessRecord
from memos.models import Memorandum
from tests.factories import (
    FeedbackFactory,
    ListingFactory,
    MeasureFactory,
    MemorandumFactory,
    SubjectFactory,
    valid_uscc,
)

pytestmark = pytest.mark.django_db

LISTED, LIFTED = datetime.date(2024, 3, 1), datetime.date(2025, 6, 1)
DURING = "2025-05-01"


@pytest.fixture
def lifted(list_2018):
    """An enterprise on memo 7's list from 2024-03-01, lifted (信用修复) on 2025-06-01."""
    subject = SubjectFactory(code=valid_uscc(7), name="武汉市某某电器有限公司")
    ListingFactory(
        subject=subject,
        target_subject=Memorandum.objects.get(seq=7).target_subject,
        listed_on=LISTED,
        expires_on=None,
        lifted_on=LIFTED,
        lift_reason="信用修复",
    )
    return subject


def _page(client, subject, on=None):
    return client.get(f"/subjects/{subject.pk}/", {"on": on} if on else {})


def test_the_page_shows_a_past_day_prominently_with_a_link_back_to_today(as_editor, lifted):
    today = as_editor.get(f"/subjects/{lifted.pk}/").content.decode()
    assert "今天不在任何有效名单上" in today

    response = _page(as_editor, lifted, DURING)
    assert response.status_code == 200
    page = response.content.decode()
    assert "以下是 2025年5月1日 当天的情况" in page and "2025年5月1日适用的措施" in page
    assert f'href="/subjects/{lifted.pk}/">回到今天</a>' in page
    measures = Memorandum.objects.get(seq=7).measures.order_by("order")
    assert all(measure.text in page for measure in measures)
    assert "录入反馈" not in page  # feedback is recorded for today, not a past day
    assert "不在任何有效名单上" not in page


def test_a_day_before_the_listing_has_nothing_to_apply(as_editor, lifted):
    page = _page(as_editor, lifted, "2024-02-29").content.decode()
    assert "该主体当天不在任何有效名单上" in page


def test_a_memo_repealed_since_applied_on_the_day(as_editor, lifted):
    memo = Memorandum.objects.get(seq=7)
    Memorandum.objects.filter(pk=memo.pk).update(
        status=Memorandum.Status.REPEALED, repealed_on=datetime.date(2025, 3, 1)
    )
    before = _page(as_editor, lifted, "2025-02-01").content.decode()
    assert memo.measures.first().text in before and "已于" not in before
    after = _page(as_editor, lifted, DURING).content.decode()
    assert memo.measures.first().text not in after
    assert "已于 2025年3月1日 废止" in after


def test_a_memo_added_later_applies_from_its_effective_date(as_editor, lifted, list_2018):
    memo = MemorandumFactory(
        responsibility_list=list_2018,
        seq=99,
        target_subject=Memorandum.objects.get(seq=7).target_subject,
        effective_on=datetime.date(2025, 4, 1),
    )
    added = MeasureFactory(memo=memo, text="增补的措施：暂停评优评先")
    assert added.text not in _page(as_editor, lifted, "2025-03-31").content.decode()
    assert added.text in _page(as_editor, lifted, DURING).content.decode()


def test_feedback_given_after_the_day_does_not_count_on_it(as_editor, lifted):
    measure = Measure.objects.filter(memo__seq=7).order_by("order").first()
    FeedbackFactory(
        subject=lifted,
        measure=measure,
        division=measure.divisions.first(),
        done_on=datetime.date(2025, 5, 20),
    )
    api = f"/api/subjects/{lifted.code}/"
    early = as_editor.get(api, {"on": DURING}).json()
    late = as_editor.get(api, {"on": "2025-05-25"}).json()
    assert early["measures"][0]["done"] is False and late["measures"][0]["done"] is True


@pytest.mark.parametrize(
    ("on", "fragment"),
    [
        ("2025-02-30", "「2025-02-30」不是有效的日期"),
        ("yesterday", "「yesterday」不是有效的日期"),
        ("2025/5/1", "不是有效的日期"),
        ("2999-01-01", "晚于今天"),
    ],
)
def test_an_invalid_day_is_a_400_that_says_why(as_editor, lifted, on, fragment):
    response = _page(as_editor, lifted, on)
    assert response.status_code == 400
    page = response.content.decode()
    assert "查询日期有误" in page and fragment in page
    assert "今天（" in page  # the page for today, below the reason

    api = as_editor.get(f"/api/subjects/{lifted.code}/", {"on": on})
    assert api.status_code == 400 and fragment in api.content.decode()
    lookup = as_editor.post(
        "/api/subjects/lookup/", {"code": lifted.code, "on": on}, content_type="application/json"
    )
    assert lookup.status_code == 400 and fragment in lookup.content.decode()


def test_the_api_answers_for_the_day(as_editor, lifted):
    url = f"/api/subjects/{lifted.code}/"
    now = as_editor.get(url).json()
    assert now["on"] == timezone.localdate().isoformat() and now["listed"] is False
    then = as_editor.get(url, {"on": DURING}).json()
    assert then["on"] == DURING and then["listed"] is True and then["measures"]
    assert then["listings"][0]["in_force"] is True

    lookup = as_editor.post(
        "/api/subjects/lookup/",
        {"code": lifted.code, "on": DURING},
        content_type="application/json",
    ).json()
    assert lookup == then

    check = as_editor.post(
        "/api/subjects/check/",
        {"codes": [lifted.code], "on": DURING},
        content_type="application/json",
    ).json()
    assert check["on"] == DURING and check["results"][0]["listed"] is True


def test_a_look_up_of_a_past_day_is_recorded_with_its_day(as_editor, lifted):
    _page(as_editor, lifted, DURING)
    as_editor.get(f"/api/subjects/{lifted.code}/", {"on": DURING})
    actions = set(AccessRecord.objects.values_list("action", flat=True))
    assert {f"查看主体（{DURING}）", f"接口查询（{DURING}）"} <= actions


def test_the_schema_documents_on(as_editor):
    schema = as_editor.get("/api/schema/", {"format": "json"}).json()
    get = schema["paths"]["/api/subjects/{code}/"]["get"]
    assert "on" in [parameter["name"] for parameter in get["parameters"]]


# --- ``on`` as the schema says: format date (tests/test_api_contract.py) ----------------


def test_the_schema_declares_on_as_a_date_not_after_today(client):
    schema = client.get("/api/schema/?format=json").json()
    detail = schema["paths"]["/api/subjects/{code}/"]["get"]
    on = next(param for param in detail["parameters"] if param["name"] == "on")
    assert on["schema"] == {"type": "string", "format": "date"}
    assert "晚于今天" in on["description"]
    for name in ("LookupRequest", "CheckRequest"):
        field = schema["components"]["schemas"][name]["properties"]["on"]
        assert field["type"] == "string" and field["format"] == "date"
        assert "晚于今天的日期答 400" in field["description"]


@pytest.mark.parametrize("on", ["", "2025-W18-4", "20250501", "2025-5-1"])
def test_the_api_refuses_an_on_that_is_empty_or_not_written_yyyy_mm_dd(as_editor, lifted, on):
    api = as_editor.get(f"/api/subjects/{lifted.code}/", {"on": on})
    assert api.status_code == 400
    assert api.json()["errors"] == [
        {"code": "invalid", "detail": f"「{on}」不是有效的日期（应如 2024-01-31）。", "attr": "on"}
    ]
    for path, body in (
        ("/api/subjects/lookup/", {"code": lifted.code, "on": on}),
        ("/api/subjects/check/", {"codes": [lifted.code], "on": on}),
    ):
        response = as_editor.post(path, body, content_type="application/json")
        assert response.status_code == 400
        assert [error["attr"] for error in response.json()["errors"]] == ["on"]


def test_the_api_refuses_on_given_twice(as_editor, lifted):
    response = as_editor.get(f"/api/subjects/{lifted.code}/?on={DURING}&on=2025-05-02")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "on"


def test_the_page_reads_only_yyyy_mm_dd_not_an_iso_week(as_editor, lifted):
    response = _page(as_editor, lifted, "2025-W18-4")
    assert response.status_code == 400
    assert "「2025-W18-4」不是有效的日期" in response.content.decode()
