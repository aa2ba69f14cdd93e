"""People's identity numbers in the admin: masked for staff without
subjects.view_full_identity on every page, search and filter that can show
or find one.

Each test walks as the role 编辑 (editor: staff, views subjects, listings and
feedback, may not see full numbers) and asserts that the full number is
nowhere in the response, whatever the page is made of.
"""

import datetime
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from stdnum.cn import ric

from measures.models import Feedback
from memos.models import Memorandum
from subjects.codes import PERSON, mask
from subjects.models import Listing, Subject
from tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


def _ric(first_17: str) -> str:
    return first_17 + ric.calc_check_digit(first_17 + "0")


# A person's number, and the same number with one digit corrected.
OLD = _ric("42010619850315123")  # 42010619850315123X
NEW = _ric("42010619850315128")  # 420106198503151280
OTHER = _ric("42010219770708456")
NO_LISTINGS = {
    "listings-TOTAL_FORMS": "0",
    "listings-INITIAL_FORMS": "0",
    "listings-MIN_NUM_FORMS": "0",
    "listings-MAX_NUM_FORMS": "1000",
}


def _loaded_at(obj) -> dict:
    """The version a change page carries in a hidden field (the admin's
    optimistic lock), for the models that have one."""
    obj.refresh_from_db()
    return {"version": obj.version} if hasattr(obj, "version") else {}


def _body(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _without_the_typed_term(body: str) -> str:
    """A changelist page without the echoes of what the user typed: the
    search box, and the links that keep the search (?q=…, and
    _changelist_filters=q%3D… on each row).  Nothing else on it may show the
    number."""
    body = re.sub(r'<input[^>]*name="q"[^>]*>', "", body)
    return re.sub(r"\bq(=|%3D)[^\"&]*", "", body)


def _assert_hidden(body: str, *numbers: str) -> None:
    for number in numbers:
        assert number not in body
        assert mask(number, PERSON) in body


@pytest.fixture
def person():
    return Subject.objects.create(code=OLD, kind=Subject.Kind.PERSON, name="张某")


@pytest.fixture
def corrected(client, otp_login, administrator, person):
    """The administrator corrects a digit of the person's number in the admin."""
    otp_login(client, administrator)
    response = client.post(
        reverse("admin:subjects_subject_change", args=[person.pk]),
        {"code": NEW, "name": "张某", **NO_LISTINGS, **_loaded_at(person)},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.code == NEW and person.history.count() == 2
    client.logout()
    return person


# --- history -----------------------------------------------------------------------


def test_subject_history_does_not_show_full_identity_to_editor(
    client, otp_login, editor, administrator, corrected
):
    url = reverse("admin:subjects_subject_history", args=[corrected.pk])
    otp_login(client, editor)
    _assert_hidden(_body(client.get(url)), OLD, NEW)

    otp_login(client, administrator)
    body = _body(client.get(url))
    assert OLD in body and NEW in body


def test_subject_historical_record_view_does_not_show_full_identity_to_editor(
    client, otp_login, editor, corrected
):
    otp_login(client, editor)
    for record in corrected.history.all():
        url = reverse("admin:subjects_subject_simple_history", args=[corrected.pk, record.pk])
        body = _body(client.get(url))
        _assert_hidden(body, record.code)
        assert OLD not in body and NEW not in body


def test_revert_form_does_not_show_full_identity_to_staff_who_may_change_subjects(
    client, otp_login, editor, corrected
):
    # Staff with change_subject but without view_full_identity see the
    # revert form (editable), not the read-only view.
    editor.user_permissions.add(Permission.objects.get(codename="change_subject"))
    otp_login(client, editor)
    old_record = corrected.history.earliest()
    url = reverse("admin:subjects_subject_simple_history", args=[corrected.pk, old_record.pk])
    body = _body(client.get(url))
    assert OLD not in body and NEW not in body
    assert mask(OLD, PERSON) in body


@pytest.fixture
def listed_people(list_2018):
    """Two people on the 严重质量违法失信行为当事人 list, and a report about the first."""
    today = timezone.localdate()
    memo = Memorandum.objects.get(seq=7)
    first = Subject.objects.create(code=OLD, kind=Subject.Kind.PERSON, name="张某")
    second = Subject.objects.create(code=OTHER, kind=Subject.Kind.PERSON, name="李某")
    for subject in (first, second):
        ListingFactory(
            subject=subject,
            target_subject=memo.target_subject,
            listed_on=today - datetime.timedelta(days=30),
            expires_on=today + datetime.timedelta(days=700),
        )
    measure = memo.measures.get(order=1)
    report = Feedback.objects.create(
        measure=measure,
        subject=first,
        division=measure.divisions.get(),
        done_on=today - datetime.timedelta(days=5),
        action="已列为重点监管对象",
    )
    return first, second, report


def test_listing_and_feedback_history_do_not_show_full_identity_to_editor(
    client, otp_login, editor, administrator, listed_people
):
    first, second, report = listed_people
    listing = Listing.objects.get(subject=first)
    otp_login(client, administrator)
    # The administrator moves the listing and the report to the other person.
    response = client.post(
        reverse("admin:subjects_listing_change", args=[listing.pk]),
        {
            "subject": second.pk,
            "target_subject": listing.target_subject_id,
            "source": listing.source,
            "basis": listing.basis,
            "listed_on": (listing.listed_on + datetime.timedelta(days=1)).isoformat(),
            "expires_on": listing.expires_on.isoformat(),
            # The listing's objections and repairs (issue 15): none.
            **{
                f"{inline}-{n}_FORMS": "0"
                for inline in ("objections", "repairs")
                for n in ("TOTAL", "INITIAL")
            },
            **_loaded_at(listing),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    response = client.post(
        reverse("admin:measures_feedback_change", args=[report.pk]),
        {
            "measure": report.measure_id,
            "subject": second.pk,
            "division": report.division_id,
            "outcome": report.outcome,
            "done_on": report.done_on.isoformat(),
            "document_number": report.document_number,
            "action": report.action,
            **_loaded_at(report),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors

    otp_login(client, editor)
    pages = [
        reverse("admin:subjects_listing_history", args=[listing.pk]),
        reverse("admin:subjects_listing_change", args=[listing.pk]),
        reverse("admin:measures_feedback_history", args=[report.pk]),
        reverse("admin:measures_feedback_change", args=[report.pk]),
        reverse("admin:subjects_listing_changelist"),
        reverse("admin:measures_feedback_changelist"),
    ]
    pages += [
        reverse("admin:subjects_listing_simple_history", args=[listing.pk, record.pk])
        for record in listing.history.all()
    ]
    pages += [
        reverse("admin:measures_feedback_simple_history", args=[report.pk, record.pk])
        for record in report.history.all()
    ]
    for url in pages:
        body = _body(client.get(url))
        assert OLD not in body and OTHER not in body, url
    history = _body(client.get(reverse("admin:subjects_listing_history", args=[listing.pk])))
    _assert_hidden(history, OLD, OTHER)  # the change of subject, masked on both sides


# --- search, autocomplete and filters --------------------------------------------------


def test_admin_search_does_not_match_part_of_an_identity_number(client, otp_login, editor, person):
    otp_login(client, editor)
    url = reverse("admin:subjects_subject_changelist")

    def found(term):
        response = client.get(url, {"q": term})
        assert OLD not in _without_the_typed_term(_body(response))
        return list(response.context["cl"].result_list)

    assert found(OLD[:10]) == []
    assert found(OLD[:17]) == []
    assert found(OLD[-8:]) == []
    assert found(OLD) == [person]
    # Typed as people type it: spaces, lower case, full-width digits.
    assert found("420106 19850315 123x") == [person]
    assert found("４２０１０６１９８５０３１５１２３Ｘ") == [person]
    assert found("张某") == [person]


def test_admin_autocomplete_does_not_match_part_of_an_identity_number(
    client, otp_login, editor, person
):
    otp_login(client, editor)

    def results(term):
        response = client.get(
            "/admin/autocomplete/",
            {
                "app_label": "measures",
                "model_name": "feedback",
                "field_name": "subject",
                "term": term,
            },
        )
        assert OLD not in _body(response)
        return response.json()["results"]

    assert results(OLD[:10]) == []
    assert results(OLD[:6] + "1985") == []
    assert results(OLD.lower()) == [{"id": str(person.pk), "text": f"张某（{mask(OLD, PERSON)}）"}]
    assert len(results("4201 0619 8503 1512 3X")) == 1


@pytest.mark.parametrize(
    "lookup",
    [
        f"code__startswith={OLD[:10]}",
        f"code__contains={OLD[6:14]}",
        f"code__gt={OLD[:12]}",
        f"code__regex=^{OLD[:10]}",
        f"code={OLD}",
    ],
)
def test_admin_filter_in_the_address_cannot_probe_an_identity_number(
    client, otp_login, editor, person, lookup
):
    otp_login(client, editor)
    response = client.get(f"{reverse('admin:subjects_subject_changelist')}?{lookup}")
    body = response.content.decode()
    assert response.status_code == 400
    assert "请求有误" in body  # a page in Chinese, not a traceback
    assert "张某" not in body and OLD not in body


@pytest.mark.parametrize(
    "lookup",
    [f"subject__code__startswith={OLD[:10]}", f"subject__code__gt={OLD[:12]}"],
)
def test_listing_and_feedback_filters_cannot_probe_an_identity_number(
    client, otp_login, editor, listed_people, lookup
):
    otp_login(client, editor)
    for changelist in ("admin:subjects_listing_changelist", "admin:measures_feedback_changelist"):
        response = client.get(f"{reverse(changelist)}?{lookup}")
        assert response.status_code == 400
        assert "张某" not in response.content.decode()


def test_listing_and_feedback_search_find_a_whole_code_typed_with_spaces(
    client, otp_login, editor, listed_people
):
    first, _, report = listed_people
    otp_login(client, editor)
    for changelist, expected in (
        ("admin:subjects_listing_changelist", Listing.objects.get(subject=first)),
        ("admin:measures_feedback_changelist", report),
    ):
        for term, found in (("4201 0619 8503 1512 3x", [expected]), (OLD[:10], [])):
            response = client.get(reverse(changelist), {"q": term})
            assert list(response.context["cl"].result_list) == found
            assert OLD not in _without_the_typed_term(_body(response))


# --- errors ----------------------------------------------------------------------------


def test_editing_a_persons_name_without_full_identity_is_not_a_server_error(
    client, otp_login, editor
):
    # A person registered (by an import) with the checksum exception although
    # the number's check digit is right: the stored number fails validation.
    # Staff who may change subjects but not see the number edit the name; the
    # form has no code field, so the number's error must not be raised (the
    # old code raised ValueError, a 500, with the number in its message).
    person = Subject.objects.create(
        code=OLD, kind=Subject.Kind.PERSON, name="张某", checksum_exception=True
    )
    editor.user_permissions.add(Permission.objects.get(codename="change_subject"))
    otp_login(client, editor)
    response = client.post(
        reverse("admin:subjects_subject_change", args=[person.pk]),
        {"name": "张某某", **NO_LISTINGS, **_loaded_at(person)},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.name, person.code) == ("张某某", OLD)
    assert OLD not in client.get(response["Location"]).content.decode()
