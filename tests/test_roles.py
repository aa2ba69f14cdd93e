"""Every URL pattern × every role answers as the roles say.

Anonymous visitors read the memo list, memo pages, lookup and the memo API;
查阅 also reads divisions and subjects; 编辑 also edits memoranda and records
feedback; 管理员 also manages lists, subjects, listings and users.  The test
walks the URL configuration itself, so a new URL without an expectation here
fails the test instead of slipping through.
"""

import re

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

from measures.models import Division, Feedback
from memos.models import Memorandum
from subjects.models import Subject
from tests.factories import FeedbackFactory, ListingFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "clerk", "editor", "administrator"]
SIGN_IN = {"anonymous": 302}  # to the sign-in page


def _walk(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.name


def _site_patterns():
    """(route, name) of every URL outside the admin."""
    return [
        (route, name)
        for route, name in _walk(get_resolver().url_patterns)
        if not route.startswith("admin/")
    ]


# What each role gets for a GET of each named URL outside the admin.
PUBLIC = dict.fromkeys(ROLES, 200)
STAFF_ONLY = {"anonymous": 302, "clerk": 200, "editor": 200, "administrator": 200}
API_STAFF_ONLY = {"anonymous": 403, "clerk": 200, "editor": 200, "administrator": 200}
EXPECTED_GET = {
    "memo_list": PUBLIC,
    "memo_export": PUBLIC,  # the public list, as a spreadsheet
    "memo_detail": PUBLIC,
    "lookup": PUBLIC,
    "api_memo_list": PUBLIC,
    "api_memo_detail": PUBLIC,
    "api_lookup": PUBLIC,
    "api_schema": PUBLIC,  # describes the public memo API
    "api_docs": PUBLIC,
    "login": PUBLIC,
    "logout": {"anonymous": 405, "clerk": 405, "editor": 405, "administrator": 405},
    "password_change": STAFF_ONLY,
    # The second factor: 查阅 is told it needs none; staff (signed in here
    # with both factors) see their device, and verifying again sends them on.
    "two_factor": STAFF_ONLY,
    "two_factor_verify": {"anonymous": 302, "clerk": 200, "editor": 302, "administrator": 302},
    "division_list": STAFF_ONLY,
    "division_detail": STAFF_ONLY,
    "subject_search": STAFF_ONLY,
    "subject_check": STAFF_ONLY,
    "subject_detail": STAFF_ONLY,
    # Old links by credit code: staff are sent on to the subject's page.
    "subject_by_code": {"anonymous": 302, "clerk": 301, "editor": 301, "administrator": 301},
    "subject_feedback": {"anonymous": 302, "clerk": 405, "editor": 405, "administrator": 405},
    "api_subject_detail": API_STAFF_ONLY,
    "api_subject_lookup": {"anonymous": 403, "clerk": 405, "editor": 405, "administrator": 405},
    "api_subject_check": {"anonymous": 403, "clerk": 405, "editor": 405, "administrator": 405},
}


@pytest.fixture
def world(list_2018):
    memo = Memorandum.objects.get(seq=7)
    measure = memo.measures.first()
    listing = ListingFactory(target_subject=memo.target_subject)
    FeedbackFactory(subject=listing.subject, measure=measure, division=measure.divisions.first())
    return {
        "pk": memo.pk,
        "division": Division.objects.first().pk,
        "code": listing.subject.code,
        "subject": listing.subject.pk,
        "fmt": "xlsx",
    }


QUERY = {"api_lookup": "?q=失信被执行人", "lookup": "?q=失信被执行人", "memo_list": "?search=海关"}


def _url(route: str, name: str, world) -> str:
    def value(match):
        argument = match.group(2)
        if argument == "pk":
            if name.startswith("subject"):
                return str(world["subject"])
            return str(world["division"] if name.startswith("division") else world["pk"])
        return str(world[argument])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route) + QUERY.get(name, "")


@pytest.fixture
def login(client, clerk, editor, administrator, otp_login):
    users = {"clerk": clerk, "editor": editor, "administrator": administrator}

    def as_role(role):
        client.logout()
        if role == "clerk":
            client.force_login(clerk)  # a password is all 查阅 ever needs
        elif role != "anonymous":
            otp_login(client, users[role])  # the admin asks staff for a TOTP code too
        return client

    return as_role


def test_every_site_url_has_an_expectation():
    names = {name for _, name in _site_patterns()}
    assert names == set(EXPECTED_GET), "add the new URL's expectations to EXPECTED_GET"


@pytest.mark.parametrize("role", ROLES)
def test_every_site_url_answers_each_role_as_expected(world, login, role):
    client = login(role)
    failures = []
    for route, name in _site_patterns():
        url = _url(route, name, world)
        status = client.get(url).status_code
        if status != EXPECTED_GET[name][role]:
            failures.append(f"{role} GET {url}: {status}, expected {EXPECTED_GET[name][role]}")
    assert failures == []


# --- the admin: every registered model's views, from the role's permissions --------


def _admin_views():
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        for pattern in model_admin.get_urls():
            if pattern.name:
                yield model, pattern.name.removeprefix(f"{opts.app_label}_{opts.model_name}_")


GENERIC_ADMIN_VIEWS = {"changelist", "history", "change", "export", "add", "delete", "import"}


def _expected_admin(user, model, view) -> int:
    if view not in GENERIC_ADMIN_VIEWS:
        return -1  # needs arguments of its own (a history entry, a user's password)
    if user is None or not user.is_staff:
        return 302  # the admin's sign-in page
    opts = model._meta
    can = {
        action: user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")
        for action in ("view", "add", "change", "delete")
    }
    if view in ("changelist", "history", "change", "export"):
        allowed = can["view"] or can["change"]
    elif view in ("add",):
        allowed = can["add"]
    elif view in ("delete",):
        allowed = can["delete"]
    elif view == "import":
        allowed = can["change"]
    else:
        return -1  # not checked generically
    return 200 if allowed else 403


def _admin_url(model, view, obj):
    from django.urls import reverse

    opts = model._meta
    name = f"admin:{opts.app_label}_{opts.model_name}_{view}"
    if view in ("change", "delete", "history"):
        return reverse(name, args=[obj.pk])
    return reverse(name)


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_page_answers_each_role_by_its_permissions(
    world, login, role, django_user_model
):
    client = login(role)
    user = None if role == "anonymous" else django_user_model.objects.get(username=role)
    checked = 0
    failures = []
    for model, view in _admin_views():
        expected = _expected_admin(user, model, view)
        if expected == -1:
            continue
        obj = model.objects.first()
        if obj is None and view in ("change", "delete", "history"):
            continue
        url = _admin_url(model, view, obj)
        status = client.get(url).status_code
        checked += 1
        if status != expected:
            failures.append(f"{role} GET {url}: {status}, expected {expected}")
    assert failures == []
    assert checked >= 40


@pytest.mark.parametrize("role", ["editor", "administrator"])
def test_staff_signed_in_with_a_password_alone_get_no_admin_page(
    world, client, editor, administrator, role
):
    client.force_login({"editor": editor, "administrator": administrator}[role])
    checked = 0
    failures = []
    for model, view in _admin_views():
        if view not in GENERIC_ADMIN_VIEWS:
            continue
        obj = model.objects.first()
        if obj is None and view in ("change", "delete", "history"):
            continue
        url = _admin_url(model, view, obj)
        response = client.get(url)
        checked += 1
        if response.status_code != 302 or not response["Location"].startswith("/admin/login/"):
            failures.append(f"{role} GET {url}: {response.status_code}, expected the sign-in")
    assert failures == []
    assert checked >= 40
    # The admin's sign-in page sends them on to the second factor.
    assert client.get("/admin/login/?next=/admin/")["Location"].startswith(
        "/accounts/two-factor/?next="
    )


def test_a_clerk_cannot_write_anything(client, clerk, world):
    client.force_login(clerk)
    memo = Memorandum.objects.get(pk=world["pk"])
    assert (
        client.post(f"/admin/memos/memorandum/{memo.pk}/change/", {"title": "改"}).status_code
        == 302
    )
    assert client.post(f"/subjects/{world['subject']}/feedback/", {}).status_code == 403
    assert client.post("/api/memos/", {}).status_code in (403, 405)
    memo.refresh_from_db()
    assert memo.title != "改"
    assert Feedback.objects.count() == 1


def test_an_editor_edits_memoranda_but_not_lists_or_subjects(client, editor, world, otp_login):
    otp_login(client, editor)
    assert client.get("/admin/memos/memorandum/add/").status_code == 200
    assert client.get("/admin/memos/memorandum/import/").status_code == 200
    assert client.get("/admin/memos/responsibilitylist/add/").status_code == 403
    assert client.get("/admin/subjects/subject/add/").status_code == 403
    assert client.get("/admin/auth/user/").status_code == 403


def test_only_an_administrator_sees_full_identity_numbers(
    client, clerk, editor, administrator, world, otp_login
):
    person = Subject.objects.create(code="11010519491231002X", kind="person", name="张某")
    for user, shown in ((clerk, False), (editor, False), (administrator, True)):
        client.force_login(user)
        body = client.post(
            "/api/subjects/lookup/", {"code": person.code}, content_type="application/json"
        ).json()
        assert (body["code"] == person.code) is shown
    otp_login(client, administrator)
    assert client.get("/admin/auth/user/").status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("url", ["/api/memos/", "/api/lookup/?q=x", "/api/schema/"])
def test_the_public_api_refuses_every_write_method(client, list_2018, method, url):
    response = getattr(client, method)(url)
    assert response.status_code in (403, 405)
