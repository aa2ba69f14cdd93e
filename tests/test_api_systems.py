"""Other systems: API keys, the embedded check, the change feed, errors as data (issue 16)."""

import csv
import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from memo_registry.api.errors import server_error
from memo_registry.audit.models import AccessRecord
from memo_registry.clients.models import Check, ClientKey
from memos.models import Memorandum
from subjects.models import Listing, Subject
from tests.factories import ListingFactory, SubjectFactory, valid_uscc

pytestmark = pytest.mark.django_db

PERSON = "11010519491231002X"


def key_for(*scopes, name="市场监管审批系统", **extra):
    api_key, key = ClientKey.objects.create_key(name=name, scopes=list(scopes), **extra)
    return {"HTTP_AUTHORIZATION": f"Api-Key {key}"}


def post(client, url, data, headers):
    return client.post(url, data, content_type="application/json", **headers)


def check_body(code, **extra):
    return {
        "code": code,
        "matter_code": "11420100MB1234567X4000",
        "matter_name": "食品生产许可",
        "department": "市场监管局行政审批处",
        **extra,
    }


@pytest.fixture
def punished(list_2018):
    """An enterprise on the list of memo 7 (严重质量违法失信), in force since ten days ago."""
    memo = Memorandum.objects.get(seq=7)
    listing = ListingFactory(
        target_subject=memo.target_subject,
        listed_on=timezone.localdate() - datetime.timedelta(days=10),
        expires_on=None,
    )
    return listing.subject


# --- keys ---------------------------------------------------------------------------


def test_create_api_key_prints_the_key_once_and_keeps_only_its_digest(client, list_2018):
    out = io.StringIO()
    call_command("create_api_key", "审批系统", "--scope", "subjects:read", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    api_key = ClientKey.objects.get()
    assert key.startswith(api_key.prefix + ".")
    assert key not in (api_key.hashed_key, api_key.id)
    assert api_key.scopes == ["subjects:read"] and api_key.last_used_at is None
    response = client.get("/api/changes/", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 200
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_create_api_key_refuses_an_unknown_scope_or_a_past_date(list_2018):
    with pytest.raises(CommandError, match="未知的权限范围"):
        call_command("create_api_key", "x", "--scope", "everything", stdout=io.StringIO())
    with pytest.raises(CommandError, match="已经过去"):
        call_command(
            "create_api_key", "x", "--scope", "memos:read", "--expires", "2020-01-01",
            stdout=io.StringIO(),
        )  # fmt: skip
    assert not ClientKey.objects.exists()


def test_a_revoked_an_expired_or_a_made_up_key_is_a_401(client, list_2018):
    revoked = key_for("subjects:read")
    ClientKey.objects.update(revoked=True)
    expired = key_for("subjects:read", expiry_date=timezone.now() - datetime.timedelta(days=1))
    for headers in (revoked, expired, {"HTTP_AUTHORIZATION": "Api-Key abc.def"}):
        response = client.get("/api/changes/", **headers)
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == "authentication_failed"


def test_a_key_needs_the_scope_of_what_it_asks(client, punished):
    reader = key_for("subjects:read")
    assert post(client, "/api/checks/", check_body(punished.code), reader).status_code == 403
    checker = key_for("checks:write", name="另一系统")
    assert client.get("/api/memos/", **checker).status_code == 403
    assert client.get(f"/api/subjects/{punished.code}/", **checker).status_code == 403
    assert client.get("/api/memos/", **key_for("memos:read")).status_code == 200


def test_people_cannot_post_embedded_checks(client, clerk, punished):
    client.force_login(clerk)
    assert post(client, "/api/checks/", check_body(punished.code), {}).status_code == 403
    assert not Check.objects.exists()


def test_keyed_requests_are_throttled_per_key(client, list_2018, settings):
    settings.API_KEY_RATE = "2/min"
    first, second = key_for("memos:read"), key_for("memos:read", name="第二个系统")
    statuses = [client.get("/api/memos/", **first).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get("/api/memos/", **first).json()["errors"][0]["code"] == "throttled"
    assert client.get("/api/memos/", **second).status_code == 200


# --- the embedded check (the "Done when") -----------------------------------------


def test_an_approval_system_checks_an_applicant_and_reports_its_outcome(client, clerk, punished):
    headers = key_for("checks:write")
    response = post(client, "/api/checks/", check_body(punished.code), headers)
    assert response.status_code == 201
    answer = response.json()
    assert answer["decision"] == "punish"
    assert answer["code"] == punished.code
    assert answer["subject"]["name"] == punished.name
    assert [item["in_force"] for item in answer["subject"]["listings"]] == [True]
    memo = Memorandum.objects.get(seq=7)
    assert {item["doc_number"] for item in answer["measures"]} == {memo.doc_number}
    assert [item["text"] for item in answer["measures"]] == [
        measure.text for measure in memo.measures.all()
    ]
    assert all("basis_status" in item for item in answer["measures"])

    outcome = post(
        client,
        f"/api/checks/{answer['id']}/outcome/",
        {"outcome": "refused", "note": "申请人在严重质量违法失信名单内"},
        headers,
    )
    assert outcome.status_code == 200 and outcome.json()["outcome"] == "refused"
    check = Check.objects.get()
    assert (check.subject, check.decision, check.outcome) == (punished, "punish", "refused")
    assert check.client_name == "市场监管审批系统" and check.matter_name == "食品生产许可"

    # The bureau sees the check and the outcome on the subject's page ...
    client.force_login(clerk)
    page = client.get(f"/subjects/{punished.pk}/").content.decode()
    assert "嵌入式核查" in page and "食品生产许可" in page
    assert (
        "市场监管审批系统" in page and "不予" in page and "申请人在严重质量违法失信名单内" in page
    )
    # ... in 统计, counted by what the check answered and what the system did ...
    stats = client.get("/stats/").content.decode()
    table = stats.split('id="check-stats"')[1].split("</table>")[0]
    punish = table.split("惩戒</th>")[1].split("</tr>")[0]
    # undecided, approved, with conditions, refused, not decided, total
    assert [cell.split("</td>")[0] for cell in punish.split('<td class="num">')[1:]] == [
        "0", "0", "0", "1", "0", "1"
    ]  # fmt: skip
    # ... and in 查询记录, for the system, not a person.
    record = AccessRecord.objects.filter(action="嵌入式核查").get()
    assert record.channel == AccessRecord.Channel.SYSTEM
    assert record.user is None and record.username == "市场监管审批系统"
    assert record.api_key_prefix == check.key.prefix and record.listed_count == 1


@pytest.mark.django_db(transaction=True)  # the memo cache serves only outside a transaction
def test_the_check_answers_in_the_schemas_shape_without_reading_feedback(
    client, punished, django_assert_max_num_queries
):
    """The check is the path a system calls at every decision: its answer is
    written out, not passed through the serializer, so it is checked against
    the serializer here; and it reads no feedback (it does not show it)."""
    from django.test.utils import CaptureQueriesContext

    from memo_registry.api.checks import (
        EmbeddedCheckAnswerSerializer,
        EmbeddedCheckMeasureSerializer,
    )

    headers = key_for("checks:write")
    post(client, "/api/checks/", check_body(punished.code), headers)  # warm the memo cache
    with CaptureQueriesContext(connection) as queries:
        response = post(client, "/api/checks/", check_body(punished.code), headers)
    assert response.status_code == 201
    answer = response.json()
    # Every key of the serializer is there, and no other (the listings'
    # optional life fields belong to the subject answer, not the check's).
    assert set(answer) == set(EmbeddedCheckAnswerSerializer().fields)
    assert set(answer["measures"][0]) == set(EmbeddedCheckMeasureSerializer().fields)
    checked_at = datetime.datetime.fromisoformat(answer["checked_at"])
    assert checked_at == Check.objects.get(pk=answer["id"]).checked_at
    listing = answer["subject"]["listings"][0]
    assert listing["listed_on"] == (timezone.localdate() - datetime.timedelta(days=10)).isoformat()
    assert set(listing) == {
        "doc_number", "doc_numbers", "list_label", "source", "basis", "listed_on",
        "expires_on", "lifted_on", "lift_reason", "in_force",
    }  # fmt: skip
    sql = [query["sql"] for query in queries.captured_queries]
    assert not [text for text in sql if "measures_feedback" in text]
    # key, subject, its listings, the memo cache's counter, the check and its
    # 查询记录, written in one transaction.
    statements = [text for text in sql if text not in ("BEGIN", "COMMIT")]
    assert len(statements) <= 6, statements
    assert sql.count("COMMIT") == 1


def test_a_code_on_no_list_answers_none(client, list_2018):
    headers = key_for("checks:write")
    unknown = post(client, "/api/checks/", check_body(valid_uscc(77)), headers).json()
    assert (unknown["decision"], unknown["subject"], unknown["measures"]) == ("none", None, [])
    clean = SubjectFactory()
    answer = post(client, "/api/checks/", check_body(clean.code), headers).json()
    assert answer["decision"] == "none" and answer["subject"]["listings"] == []


def test_a_reward_listing_answers_reward(client, list_2018):
    memo = Memorandum.objects.filter(kind="reward", measures__isnull=False).first()
    listing = ListingFactory(
        target_subject=memo.target_subject,
        listed_on=timezone.localdate() - datetime.timedelta(days=1),
        expires_on=None,
    )
    answer = post(client, "/api/checks/", check_body(listing.subject.code), key_for("checks:write"))
    assert answer.json()["decision"] == "reward"


def test_an_invalid_code_answers_the_check_character(client, list_2018):
    good = valid_uscc(5)
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = post(client, "/api/checks/", check_body(wrong), key_for("checks:write"))
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["attr"] == "code" and f"最后一位应为 {good[-1]}" in error["detail"]
    assert not Check.objects.exists()


def test_an_outcome_for_another_systems_check_is_a_404(client, punished):
    mine = post(client, "/api/checks/", check_body(punished.code), key_for("checks:write"))
    theirs = key_for("checks:write", name="别的系统")
    url = f"/api/checks/{mine.json()['id']}/outcome/"
    assert post(client, url, {"outcome": "approved"}, theirs).status_code == 404
    assert post(client, url, {"outcome": "maybe"}, theirs).status_code == 404
    assert Check.objects.get().outcome == ""


def test_identity_numbers_are_masked_and_counted_for_keys(client, list_2018, settings):
    settings.IDENTITY_CHECKS_PER_DAY = 1
    Subject.objects.create(code=PERSON, kind="person", name="张某")
    headers = key_for("checks:write")
    answer = post(client, "/api/checks/", check_body(PERSON), headers).json()
    assert answer["code"] == "110105********002X"
    second = post(client, "/api/checks/", check_body("11010519491231010X"), headers)
    assert second.status_code == 429
    assert second.json()["errors"][0]["code"] == "limit_reached"
    # A key with the full-identity scope sees the number (and has its own allowance).
    full = key_for("checks:write", "subjects:full_identity", name="公安系统")
    assert post(client, "/api/checks/", check_body(PERSON), full).json()["code"] == PERSON


# --- the change feed --------------------------------------------------------------------


def follow(client, headers, cursor=None, limit=100):
    """Every entry after ``cursor``, page by page, and the last cursor."""
    seen = []
    while True:
        params = {"limit": limit} | ({"after": cursor} if cursor is not None else {})
        body = client.get("/api/changes/", params, **headers).json()
        seen += body["results"]
        cursor = body["next"]
        if not body["more"]:
            return seen, cursor


def _listings_csv(path, rows):
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["统一社会信用代码", "名称", "列入依据", "列入日期", "有效期至", "来源"])
        writer.writerows(rows)
    return path


# Committed for real: on PostgreSQL the feed holds back what a running
# transaction wrote, and a test's own transaction would still be running.
@pytest.mark.django_db(transaction=True)
def test_a_follower_sees_an_imported_listing_and_a_repealed_memo_once(client, list_2018, tmp_path):
    headers = key_for("subjects:read")
    _, cursor = follow(client, headers)
    rows = [
        [
            valid_uscc(n),
            f"武汉市某某{n}有限公司",
            "发改财金(2016)2202号",
            "2025-01-02",
            "",
            "市质监局",
        ]
        for n in (1, 2, 3)
    ]
    call_command(
        "import_subjects", str(_listings_csv(tmp_path / "名单.csv", rows)), stdout=io.StringIO()
    )
    memo = Memorandum.objects.get(seq=2)
    memo.status, memo.repealed_on = Memorandum.Status.REPEALED, datetime.date(2025, 3, 1)
    memo.save()
    listing = Listing.objects.order_by("pk").first()
    listing.lifted_on, listing.lift_reason = datetime.date(2025, 6, 1), "信用修复"
    listing.save()

    seen, cursor = follow(client, headers, cursor, limit=2)
    kinds = [(entry["kind"], entry["id"]) for entry in seen]
    added = sorted(Listing.objects.values_list("pk", flat=True))
    assert kinds == [
        *(("listing.added", pk) for pk in added),
        ("memo.repealed", memo.pk),
        ("listing.lifted", listing.pk),
    ]
    assert len({entry["cursor"] for entry in seen}) == len(seen)
    first = seen[0]["object"]
    assert first["list_label"] and first["code"] == rows[0][0]
    assert seen[3]["object"]["status"] == "repealed"
    # Nothing twice: asking again from the last cursor gives nothing new.
    assert follow(client, headers, cursor) == ([], cursor)
    # Re-importing the same file changes nothing, so the feed says nothing.
    call_command("import_subjects", str(tmp_path / "名单.csv"), stdout=io.StringIO())
    assert follow(client, headers, cursor) == ([], cursor)


# Committed for real: on PostgreSQL the feed holds back what a running
# transaction wrote, and a test's own transaction would still be running.
@pytest.mark.django_db(transaction=True)
def test_the_feed_masks_identity_numbers_for_keys_without_the_scope(client, list_2018):
    person = Subject.objects.create(code=PERSON, kind="person", name="张某")
    memo = Memorandum.objects.get(seq=7)
    ListingFactory(subject=person, target_subject=memo.target_subject)

    def listing_codes(headers):
        return [
            e["object"]["code"] for e in follow(client, headers)[0] if e["kind"] == "listing.added"
        ]

    assert listing_codes(key_for("subjects:read")) == ["110105********002X"]
    full = key_for("subjects:read", "subjects:full_identity", name="公安系统")
    assert listing_codes(full) == [PERSON]


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_late_is_not_skipped(client, list_2018):
    """Two transactions: the first to write commits last.  A follower reading
    by id alone would pass the first one's row while it is uncommitted and
    never come back for it."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's writers take turns: ids are committed in order")
    import psycopg2

    headers = key_for("subjects:read")
    early, late = ListingFactory(), ListingFactory()
    _, cursor = follow(client, headers)
    slow = psycopg2.connect(**connection.get_connection_params())
    try:
        with slow.cursor() as statement:
            statement.execute(
                "UPDATE subjects_listing SET source = '区质监局' WHERE id = %s", [early.pk]
            )
        Listing.objects.filter(pk=late.pk).update(source="后写先提交")
        assert follow(client, headers, cursor) == ([], cursor)  # held back, not skipped
        slow.commit()
    finally:
        slow.close()
    seen, _ = follow(client, headers, cursor)
    assert [(entry["kind"], entry["id"]) for entry in seen] == [
        ("listing.changed", early.pk),
        ("listing.changed", late.pk),
    ]


@pytest.mark.parametrize(
    "query",
    ["after=abc", "after=1.2&after=3.4", "limit=0", "limit=5000", "limit=x"],
)
def test_a_bad_cursor_or_limit_is_a_400(client, list_2018, query):
    response = client.get(f"/api/changes/?{query}", **key_for("subjects:read"))
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


# --- errors as data ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/nowhere/", 404),
        ("get", "/api/memos/-1/", 404),
        ("get", "/api/memos/abc/", 404),
        ("delete", "/api/memos/", 405),
        ("get", "/api/memos/?include_repealed=null&include_repealed=null", 400),
        ("get", "/api/memos/?include_repealed=null", 400),
        ("get", "/api/memos/?include_repealed=true&include_repealed=false", 400),
        ("get", "/api/lookup/?q=a&q=b", 400),
        ("get", "/api/subjects/x/", 401),
    ],
)
def test_no_api_answer_is_html(client, list_2018, method, url, status):
    response = getattr(client, method)(url)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["type"] in ("validation_error", "client_error") and body["errors"][0]["detail"]


def test_a_server_error_under_the_api_is_json_and_a_page_elsewhere():
    factory = RequestFactory()
    api = server_error(factory.get("/api/memos/"))
    assert api.status_code == 500 and api["Content-Type"] == "application/json"
    page = server_error(factory.get("/subjects/"))
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


def test_an_unknown_page_outside_the_api_is_still_a_page(client, db):
    response = client.get("/nowhere/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


# --- the admin ------------------------------------------------------------------------------


def test_an_administrator_creates_a_key_seen_once_and_revokes_it(
    client, administrator, otp_login, list_2018
):
    otp_login(client, administrator)
    form = {
        "name": "审批系统",
        "scopes": ["checks:write"],
        "expiry_date_0": "",
        "expiry_date_1": "",
    }
    response = client.post("/admin/clients/clientkey/add/", form, follow=True)
    (message,) = [str(m) for m in response.context["messages"] if "接口密钥是" in str(m)]
    api_key = ClientKey.objects.get()
    key = message.split("：")[1].split()[0]
    assert key.startswith(api_key.prefix + ".") and "只显示这一次" in message
    assert api_key.created_by == administrator and api_key.scopes == ["checks:write"]
    page = client.get(f"/admin/clients/clientkey/{api_key.pk}/change/").content.decode()
    assert key not in page  # never shown again
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    body = check_body(valid_uscc(3))
    assert post(client, "/api/checks/", body, headers).status_code == 201
    client.post(
        f"/admin/clients/clientkey/{api_key.pk}/change/",
        form | {"revoked": "on"},
    )
    assert ClientKey.objects.get().revoked
    client.logout()
    assert post(client, "/api/checks/", body, headers).status_code == 401
