"""Every URL pattern × every role answers as the roles say.

Anonymous visitors read the memo list, memo pages, lookup and the memo API;
查阅 also reads divisions and subjects; 编辑 also edits memoranda and records
feedback; 管理员 also manages lists, subjects, listings and users.  The test
walks the URL configuration and the admin's registry itself, so a new URL or
a newly registered model without an expectation here fails the test instead
of slipping through.  The expectations are written out role by role; none is
computed from the permissions the roles hold.
"""

import re

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

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
# Without credentials the API answers 401 (it asks for `Api-Key`, memo_registry/api/auth.py).
API_STAFF_ONLY = {"anonymous": 401, "clerk": 200, "editor": 200, "administrator": 200}
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
    "favicon": PUBLIC,  # browsers ask for it by themselves, on every page
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
    "api_subject_lookup": {"anonymous": 401, "clerk": 405, "editor": 405, "administrator": 405},
    "api_subject_check": {"anonymous": 401, "clerk": 405, "editor": 405, "administrator": 405},
    # Other systems only, with a key holding checks:write: people are refused.
    "api_checks": {"anonymous": 401, "clerk": 403, "editor": 403, "administrator": 403},
    "api_check_outcome": {"anonymous": 401, "clerk": 403, "editor": 403, "administrator": 403},
    "api_changes": API_STAFF_ONLY,
    # Listings managed in the browser: editors and administrators; 查阅 gets 403.
    "listing_import": {"anonymous": 302, "clerk": 403, "editor": 200, "administrator": 200},
    "listing_import_confirm": {"anonymous": 302, "clerk": 403, "editor": 405, "administrator": 405},
    "listing_lift": {"anonymous": 302, "clerk": 403, "editor": 200, "administrator": 200},
    "listing_lift_confirm": {"anonymous": 302, "clerk": 403, "editor": 405, "administrator": 405},
    # 处室待办 and 统计 (issue 14): staff; feedback is posted, and only by the
    # division's members (administrators: any division).
    "work_list": STAFF_ONLY,
    "work_export": STAFF_ONLY,
    "work_feedback": {"anonymous": 302, "clerk": 405, "editor": 405, "administrator": 405},
    "work_withdraw": {"anonymous": 302, "clerk": 405, "editor": 405, "administrator": 405},
    "stats": STAFF_ONLY,
    "stats_export": STAFF_ONLY,
    "api_work": API_STAFF_ONLY,
    "api_feedback": {"anonymous": 401, "clerk": 405, "editor": 405, "administrator": 405},
    "api_feedback_withdraw": {"anonymous": 401, "clerk": 405, "editor": 405, "administrator": 405},
    "api_stats": API_STAFF_ONLY,
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


# --- the admin: every registered model's pages, for each role, written out --------
#
# What each role gets for a GET of each admin page, read from
# memo_registry/roles.py and README's roles table, not from the permissions
# under test: a grant added to or lost from a role shows here as a failure.
# 查阅 is no staff: every admin page sends it (like a visitor) to the admin's
# sign-in.  Staff are signed in with a password and a TOTP code.

ADMIN_VIEWS = ("changelist", "add", "change", "history", "delete")
# (changelist, add, change, history, delete), one tuple per role:
OUT = (302, 302, 302, 302, 302)  # the admin's sign-in page
ALL = (200, 200, 200, 200, 200)
READ = (200, 403, 200, 200, 403)  # view permission only: the change page is read-only
NONE = (403, 403, 403, 403, 403)

ADMIN_EXPECTED = {
    # django-axes' lock-out records: no role holds a permission on them.
    "axes.accessattempt": {"anonymous": OUT, "clerk": OUT, "editor": NONE, "administrator": NONE},
    "axes.accesslog": {"anonymous": OUT, "clerk": OUT, "editor": NONE, "administrator": NONE},
    "axes.accessfailurelog": {
        "anonymous": OUT,
        "clerk": OUT,
        "editor": NONE,
        "administrator": NONE,
    },
    # Authenticator devices: reset with manage.py reset_two_factor, not by a role.
    "otp_totp.totpdevice": {"anonymous": OUT, "clerk": OUT, "editor": NONE, "administrator": NONE},
    # Audit trails: read, never added, changed or deleted by hand (audit/admin.py).
    "audit.importbatch": {"anonymous": OUT, "clerk": OUT, "editor": READ, "administrator": READ},
    "audit.accessrecord": {"anonymous": OUT, "clerk": OUT, "editor": NONE, "administrator": READ},
    "memos.responsibilitylist": {
        "anonymous": OUT,
        "clerk": OUT,
        "editor": READ,
        "administrator": ALL,
    },
    "memos.department": {"anonymous": OUT, "clerk": OUT, "editor": ALL, "administrator": ALL},
    "memos.memorandum": {"anonymous": OUT, "clerk": OUT, "editor": ALL, "administrator": ALL},
    # A measure is added on its memo's page, never on its own.
    "measures.measure": {
        "anonymous": OUT,
        "clerk": OUT,
        "editor": (200, 403, 200, 200, 200),
        "administrator": (200, 403, 200, 200, 200),
    },
    "measures.division": {"anonymous": OUT, "clerk": OUT, "editor": ALL, "administrator": ALL},
    # 编辑 records feedback (adds it) but manages none.
    "measures.feedback": {
        "anonymous": OUT,
        "clerk": OUT,
        "editor": (200, 200, 200, 200, 403),
        "administrator": ALL,
    },
    "subjects.targetsubject": {"anonymous": OUT, "clerk": OUT, "editor": ALL, "administrator": ALL},
    "subjects.subject": {"anonymous": OUT, "clerk": OUT, "editor": READ, "administrator": ALL},
    "subjects.listing": {"anonymous": OUT, "clerk": OUT, "editor": READ, "administrator": ALL},
    # The publication period of each grade (公示期限): 管理员 keeps the table.
    "subjects.publicationperiod": {
        "anonymous": OUT,
        "clerk": OUT,
        "editor": NONE,
        "administrator": ALL,
    },
    # The change and delete pages are of a user who is no superuser.
    "auth.user": {"anonymous": OUT, "clerk": OUT, "editor": NONE, "administrator": ALL},
    "auth.group": {"anonymous": OUT, "clerk": OUT, "editor": NONE, "administrator": ALL},
    # Client systems' API keys: 管理员 creates and revokes them.
    "clients.clientkey": {"anonymous": OUT, "clerk": OUT, "editor": NONE, "administrator": ALL},
    # Embedded checks: evidence, read only for staff (memo_registry/clients/admin.py).
    "clients.check": {"anonymous": OUT, "clerk": OUT, "editor": READ, "administrator": READ},
}

# The admin's other pages, (anonymous, clerk, editor, administrator) for each.
ADMIN_EXTRA = {
    # The import writes memos: it needs add and change; the export, view.
    ("memos.memorandum", "import"): (302, 302, 200, 200),
    ("memos.memorandum", "export"): (302, 302, 200, 200),
    # The confirm step takes a POST only.
    ("memos.memorandum", "process_import"): (302, 302, 405, 405),
    # simple-history's page of one past version, for anyone who may view the object.
    ("memos.responsibilitylist", "simple_history"): (302, 302, 200, 200),
    ("memos.department", "simple_history"): (302, 302, 200, 200),
    ("memos.memorandum", "simple_history"): (302, 302, 200, 200),
    ("measures.measure", "simple_history"): (302, 302, 200, 200),
    ("measures.division", "simple_history"): (302, 302, 200, 200),
    ("measures.feedback", "simple_history"): (302, 302, 200, 200),
    ("subjects.targetsubject", "simple_history"): (302, 302, 200, 200),
    ("subjects.subject", "simple_history"): (302, 302, 200, 200),
    ("subjects.listing", "simple_history"): (302, 302, 200, 200),
    ("subjects.publicationperiod", "simple_history"): (302, 302, 403, 200),
    # Setting a (non-superuser's) password is managing users.
    ("auth.user", "password_change"): (302, 302, 403, 200),
    # A device's secret and QR code: nobody's, through the admin.
    ("otp_totp.totpdevice", "config"): (302, 302, 403, 403),
    ("otp_totp.totpdevice", "qrcode"): (302, 302, 403, 403),
}


def _admin_pages():
    """(model label, view name) of every named admin URL of every registered model."""
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        for pattern in model_admin.get_urls():
            if pattern.name:
                yield (
                    opts.label_lower,
                    pattern.name.removeprefix(f"{opts.app_label}_{opts.model_name}_"),
                )


@pytest.fixture
def admin_world(world, clerk, editor):
    """An object of every registered model, each with a history row where it has history."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from memo_registry.audit.models import AccessRecord, ImportBatch
    from memo_registry.clients.models import Check, ClientKey
    from subjects.models import PublicationPeriod

    seen = {"user_agent": "pytest", "ip_address": "127.0.0.1", "username": "clerk"}
    seen |= {"http_accept": "text/html", "path_info": "/accounts/login/"}
    AccessAttempt.objects.create(**seen, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**seen)
    AccessFailureLog.objects.create(**seen)
    # The editor's own device: otp_login signs the editor in with it.
    TOTPDevice.objects.create(user=editor, name="测试设备", confirmed=True)
    ImportBatch.objects.create(kind=ImportBatch.Kind.MEMOS, file_name="清单.xlsx", sha256="0" * 64)
    AccessRecord.objects.create(
        username="clerk", at=timezone.now(), channel=AccessRecord.Channel.PAGE, action="查看主体"
    )
    api_key, _ = ClientKey.objects.create_key(name="审批系统", scopes=["checks:write"])
    Check.objects.create(
        code="91420100177570439U", code_kind="org", matter_code="1", matter_name="食品生产许可",
        department="行政审批处", decision="none", checked_at=timezone.now(), key=api_key,
        client_name="审批系统",
    )  # fmt: skip
    # A test period, not a legal fact: the table ships empty.
    PublicationPeriod.objects.create(severity="严重", months=12, source="测试用依据")
    objects = {"auth.user": clerk}  # not a superuser, whose pages only a superuser may change
    for model in admin.site._registry:
        label = model._meta.label_lower
        obj = objects.get(label) or model._default_manager.order_by("pk").first()
        assert obj is not None, f"admin_world has no {label}: create one"
        if hasattr(model, "history") and not obj.history.exists():
            obj.save()  # loaddata writes no history: this writes its first row
        objects[label] = obj
    return objects


def _admin_page_url(label: str, view: str, objects) -> str:
    obj = objects[label]
    name = f"admin:{label.replace('.', '_')}_{view}"
    if view in ("change", "delete", "history", "password_change", "config", "qrcode"):
        return reverse(name, args=[obj.pk])
    if view == "simple_history":
        return reverse(name, args=[obj.pk, obj.history.first().history_id])
    return reverse(name)


def _expected_admin_pages() -> dict[tuple[str, str], dict[str, int]]:
    expected = {}
    for label, by_role in ADMIN_EXPECTED.items():
        for index, view in enumerate(ADMIN_VIEWS):
            expected[label, view] = {role: by_role[role][index] for role in ROLES}
    for key, statuses in ADMIN_EXTRA.items():
        expected[key] = dict(zip(ROLES, statuses, strict=True))
    return expected


def test_every_admin_page_has_an_expectation():
    pages = set(_admin_pages())
    assert pages == set(_expected_admin_pages()), (
        "add the new admin page's expectations to ADMIN_EXPECTED or ADMIN_EXTRA "
        "(or remove those of a page that is gone)"
    )
    assert {role for by_role in ADMIN_EXPECTED.values() for role in by_role} == set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_page_answers_each_role_as_expected(admin_world, login, role):
    client = login(role)
    failures = []
    for (label, view), by_role in _expected_admin_pages().items():
        url = _admin_page_url(label, view, admin_world)
        response = client.get(url)
        if response.status_code != by_role[role]:
            failures.append(f"{role} GET {url}: {response.status_code}, expected {by_role[role]}")
        elif response.status_code == 302:
            assert response["Location"].startswith("/admin/login/"), (url, response["Location"])
    assert failures == []


@pytest.mark.parametrize("role", ["editor", "administrator"])
def test_staff_signed_in_with_a_password_alone_get_no_admin_page(
    admin_world, client, editor, administrator, role
):
    client.force_login({"editor": editor, "administrator": administrator}[role])
    failures = []
    for label, view in _expected_admin_pages():
        url = _admin_page_url(label, view, admin_world)
        response = client.get(url)
        if response.status_code != 302 or not response["Location"].startswith("/admin/login/"):
            failures.append(f"{role} GET {url}: {response.status_code}, expected the sign-in")
    assert failures == []
    # The admin's sign-in page sends them on to the second factor: the code of
    # the device the editor has (admin_world), enrolment for the administrator.
    second_factor = {
        "editor": "/accounts/two-factor/verify/?next=",
        "administrator": "/accounts/two-factor/?next=",
    }
    assert client.get("/admin/login/?next=/admin/")["Location"].startswith(second_factor[role])


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
