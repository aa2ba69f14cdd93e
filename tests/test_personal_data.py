"""Personal data on the subject side: no full identity number leaks, every
look-up is recorded, brute force is refused, a typo is never "not listed".

Each test is named after the attack (or the wrong answer) it reproduces; on
the first version each of them failed.
"""

import datetime
import io
import json
import re
import subprocess
import sys

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from stdnum.cn import ric

from memo_registry.audit.models import AccessRecord
from memos.models import Memorandum
from subjects.models import Subject
from tests.factories import ListingFactory, SubjectFactory, valid_uscc

pytestmark = pytest.mark.django_db

ANY_IDENTITY = re.compile(r"\d{17}[\dX]")


def identity(birth: str = "19491231", region: str = "110105", seq: str = "002") -> str:
    """A valid 居民身份证号码 with that birth date and sequence."""
    head = region + birth + seq
    return head + ric.calc_check_digit(head + "0")


def _listed_person(name: str, number: str, seq: int = 5, days_ago: int = 3) -> Subject:
    person = SubjectFactory(code=number, kind="person", name=name)
    ListingFactory(
        subject=person,
        target_subject=Memorandum.objects.get(seq=seq).target_subject,
        listed_on=timezone.localdate() - datetime.timedelta(days=days_ago),
        expires_on=None,
    )
    return person


@pytest.fixture
def people(list_2018):
    """Sixty people named 赵…, every one listed."""
    return [
        _listed_person(f"赵某{i:02d}", identity(birth=f"1970{1 + i % 12:02d}{1 + i % 28:02d}",
                                                seq=f"{i:03d}"))
        for i in range(60)
    ]  # fmt: skip


def _full_numbers_in(body: str, people) -> set[str]:
    return {person.code for person in people if person.code in body}


def test_a_clerk_paging_name_search_and_opening_every_subject_learns_no_full_number(
    client, clerk, people
):
    client.force_login(clerk)
    bodies = []
    page = client.get("/subjects/", {"q": "赵"})
    links = []
    while True:
        body = page.content.decode()
        bodies.append(body)
        links += re.findall(r'href="(/subjects/\d+/)"', body)
        following = re.search(r'href="(\?q=[^"]+page=\d+)">下一页', body)
        if not following:
            break
        page = client.get("/subjects/" + following.group(1).replace("&amp;", "&"))
    assert len(set(links)) == len(people)
    for link in set(links):
        response = client.get(link)
        assert response.status_code == 200
        bodies.append(response.content.decode())
        # The feedback form's action and any redirect carry the key only.
        assert not ANY_IDENTITY.search(response.get("Location", ""))
    for body in bodies:
        assert _full_numbers_in(body, people) == set()
    # Each subject page opened is on record.
    assert AccessRecord.objects.filter(user=clerk, action="查看主体").count() == len(people)


def test_sign_in_redirect_carries_no_identity_number(client, people):
    person = people[0]
    response = client.get(f"/subjects/{person.pk}/")
    assert response.status_code == 302
    assert person.code not in response["Location"]
    assert f"/subjects/{person.pk}/" in response["Location"]


def test_old_link_by_credit_code_redirects_to_the_subject_page(client, editor, list_2018):
    enterprise = SubjectFactory(code=valid_uscc(7), name="某公司")
    client.force_login(editor)
    response = client.get(f"/subjects/{enterprise.code}/")
    assert response.status_code == 301
    assert response["Location"] == f"/subjects/{enterprise.pk}/"


def test_old_link_by_identity_number_says_nothing_about_the_person(client, editor, people):
    client.force_login(editor)
    on_record = client.get(f"/subjects/{people[0].code}/")
    unknown = client.get(f"/subjects/{identity(birth='19800101', seq='555')}/")
    assert on_record.status_code == unknown.status_code == 404
    known_body, unknown_body = on_record.content.decode(), unknown.content.decode()
    assert people[0].name not in known_body and people[0].code not in known_body
    # The same page either way, but for the (masked) address it echoes.
    mask = re.compile(r"\d{6}\*{8}\d{3}[\dX]")
    assert mask.sub("", known_body) == mask.sub("", unknown_body)


def test_log_lines_carry_no_identity_number(client, editor, people, caplog):
    import logging

    from memo_registry.lib.log_filters import MaskIdentityNumbers

    client.force_login(editor)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get(f"/subjects/{people[0].code}/")
    assert caplog.records, "Django logs the 404"
    record = caplog.records[-1]
    assert MaskIdentityNumbers().filter(record)
    assert people[0].code not in record.getMessage()
    assert people[0].masked_code in record.getMessage()
    from django.conf import settings

    handlers = settings.LOGGING["handlers"]
    assert all("mask_identity" in handler["filters"] for handler in handlers.values())


def test_searching_by_identity_number_in_the_form_never_puts_it_in_a_url(client, editor, people):
    client.force_login(editor)
    form = client.get("/subjects/").content.decode()
    assert re.search(r'<form method="post" action="/subjects/"', form)
    person = people[0]
    response = client.post("/subjects/", {"q": person.code})
    assert response.status_code == 302
    assert response["Location"] == f"/subjects/{person.pk}/"
    unknown = client.post("/subjects/", {"q": identity(birth="19800101", seq="555")})
    assert unknown.status_code == 200
    assert "登记簿中没有代码为" in unknown.content.decode()
    # A name typed into the form comes back as an ordinary GET search.
    by_name = client.post("/subjects/", {"q": "赵某"})
    assert by_name.status_code == 302 and by_name["Location"].startswith("/subjects/?q=")


def test_identity_number_in_the_search_url_is_not_answered(client, editor, people):
    client.force_login(editor)
    person = people[0]
    response = client.get("/subjects/", {"q": person.code})
    assert response.status_code == 400
    body = response.content.decode()
    assert person.name not in body and "查询框" in body


def test_credit_codes_still_work_in_the_search_url(client, editor, list_2018):
    enterprise = SubjectFactory(code=valid_uscc(7), name="某公司")
    client.force_login(editor)
    response = client.get("/subjects/", {"q": enterprise.code})
    assert response.status_code == 302 and response["Location"] == f"/subjects/{enterprise.pk}/"


def test_api_get_with_identity_number_points_to_the_post(client, editor, people):
    client.force_login(editor)
    person = people[0]
    response = client.get(f"/api/subjects/{person.code}/")
    assert response.status_code == 400
    assert "/api/subjects/lookup/" in response.json()["errors"][0]["detail"]
    assert person.name not in response.content.decode()
    posted = client.post(
        "/api/subjects/lookup/", {"code": person.code}, content_type="application/json"
    )
    assert posted.status_code == 200 and posted.json()["name"] == person.name
    assert posted.json()["code"] == person.masked_code  # an editor sees it masked


def test_api_lookup_answers_as_the_get_does_for_a_credit_code(client, editor, list_2018):
    SubjectFactory(code=valid_uscc(7), name="某公司")
    client.force_login(editor)
    by_get = client.get(f"/api/subjects/{valid_uscc(7)}/").json()
    by_post = client.post(
        "/api/subjects/lookup/", {"code": valid_uscc(7)}, content_type="application/json"
    ).json()
    assert by_get == by_post


def _mistyped(code: str) -> tuple[str, str]:
    """The code with its check character replaced, and the right one."""
    wrong = "0" if code[-1] != "0" else "1"
    return code[:-1] + wrong, code[-1]


def test_a_mistyped_credit_code_is_never_answered_not_listed(client, editor, list_2018):
    enterprise = SubjectFactory(code=valid_uscc(7), name="某公司")
    ListingFactory(subject=enterprise, target_subject=Memorandum.objects.get(seq=7).target_subject)
    client.force_login(editor)
    typo, right = _mistyped(enterprise.code)
    for response in (
        client.get("/subjects/", {"q": typo}),
        client.post("/subjects/", {"q": typo}),
    ):
        body = response.content.decode()
        assert response.status_code == 400
        assert f"校验位错误：最后一位应为 {right}" in body
        assert "未被列入" not in body and "没有" not in body.split("校验位错误")[1]
    api = client.post("/api/subjects/lookup/", {"code": typo}, content_type="application/json")
    assert api.status_code == 400 and f"最后一位应为 {right}" in api.json()["errors"][0]["detail"]


def test_a_mistyped_identity_number_is_never_answered_not_listed(client, editor, people):
    client.force_login(editor)
    typo, right = _mistyped(people[0].code)
    body = client.post("/subjects/", {"q": typo}).content.decode()
    assert f"最后一位应为 {right}" in body and "未被列入" not in body


def test_pasting_two_codes_points_to_the_batch_check(client, editor, list_2018):
    client.force_login(editor)
    body = client.post("/subjects/", {"q": f"{valid_uscc(7)} {valid_uscc(8)}"}).content.decode()
    assert "批量比对" in body and "一次只能查一个代码" in body


def _candidates_around(number: str, count: int) -> list[str]:
    """Numbers that look like ``number`` masked (same first 6, last 4)."""
    found, day = [], datetime.date(1920, 1, 1)
    while len(found) < count:
        candidate = number[:6] + f"{day:%Y%m%d}" + number[14:]
        if ric.calc_check_digit(candidate) == number[-1] and candidate != number:
            found.append(candidate)
        day += datetime.timedelta(days=1)
    return found


def test_brute_forcing_a_masked_number_through_the_batch_check_is_refused(
    client, clerk, people, settings
):
    person = people[0]
    candidates = _candidates_around(person.code, 999) + [person.code]
    client.force_login(clerk)
    for limit in (500, 1_000_000):  # the default, and an allowance set high
        settings.IDENTITY_CHECKS_PER_DAY = limit
        response = client.post(
            "/api/subjects/check/", {"codes": candidates}, content_type="application/json"
        )
        assert response.status_code == 429
        body = response.content.decode()
        assert person.name not in body and person.code not in body
        assert "results" not in response.json()
    refused = AccessRecord.objects.filter(user=clerk).exclude(refused="")
    assert refused.count() == 2 and {r.code_count for r in refused} == {1000}


def test_brute_forcing_a_masked_number_one_at_a_time_is_refused(client, clerk, people, settings):
    settings.IDENTITY_CHECKS_PER_DAY = 1_000_000
    person = people[0]
    candidates = _candidates_around(person.code, 20) + [person.code]
    client.force_login(clerk)
    answers = [
        client.post("/api/subjects/lookup/", {"code": code}, content_type="application/json")
        for code in candidates
    ]
    statuses = [answer.status_code for answer in answers]
    assert statuses[: settings.PROBE_MAX_PER_MASK] == [404] * settings.PROBE_MAX_PER_MASK
    assert set(statuses[settings.PROBE_MAX_PER_MASK :]) == {429}
    assert all(person.name not in answer.content.decode() for answer in answers)


def test_daily_identity_allowance_is_shared_by_every_channel(client, clerk, people, settings):
    settings.IDENTITY_CHECKS_PER_DAY = 3
    client.force_login(clerk)
    assert client.post("/subjects/", {"q": people[0].code}).status_code == 302
    api = client.post("/api/subjects/lookup/", {"code": people[1].code},
                      content_type="application/json")  # fmt: skip
    assert api.status_code == 200
    batch = client.post("/api/subjects/check/", {"codes": [people[2].code, people[3].code]},
                        content_type="application/json")  # fmt: skip
    assert batch.status_code == 429 and "最多 3 个" in batch.json()["errors"][0]["detail"]
    assert client.post("/subjects/", {"q": people[2].code}).status_code == 302
    page = client.post("/subjects/", {"q": people[3].code})
    assert page.status_code == 429 and "今天已查 3 个" in page.content.decode()
    # Credit codes are public: not counted.
    SubjectFactory(code=valid_uscc(7), name="某公司")
    assert client.post("/subjects/", {"q": valid_uscc(7)}).status_code == 302
    record = AccessRecord.objects.filter(user=clerk, refused__startswith="今天").latest("at")
    assert record.identity_count == 0 and record.code_count == 1


def test_staff_who_may_see_full_numbers_are_not_limited(client, administrator, people, settings):
    settings.IDENTITY_CHECKS_PER_DAY = 1
    client.force_login(administrator)
    codes = [person.code for person in people[:10]]
    response = client.post(
        "/api/subjects/check/", {"codes": codes}, content_type="application/json"
    )
    assert response.status_code == 200
    assert [r["code"] for r in response.json()["results"]] == codes


def test_the_batch_holds_at_most_the_configured_number_of_codes(client, editor, list_2018):
    from memo_registry.services.batch_check import MAX_CODES

    client.force_login(editor)
    codes = [valid_uscc(1000 + i) for i in range(MAX_CODES + 1)]
    response = client.post(
        "/api/subjects/check/", {"codes": codes}, content_type="application/json"
    )
    assert response.status_code == 400


def _xlsx(rows) -> io.BytesIO:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "今日申请人.xlsx"
    return buffer


def test_every_look_up_is_recorded(client, editor, people):
    client.force_login(editor)
    enterprise = SubjectFactory(code=valid_uscc(7), name="某公司")
    person = people[0]
    client.get(f"/subjects/{person.pk}/")
    client.post("/subjects/", {"q": person.code})
    client.get(f"/api/subjects/{enterprise.code}/")
    client.post("/api/subjects/lookup/", {"code": person.code}, content_type="application/json")
    client.post(
        "/api/subjects/check/",
        {"codes": [p.code for p in people[:30]]},
        content_type="application/json",
    )
    upload = _xlsx([["证件号码"], *[[p.code] for p in people[30:35]], [valid_uscc(8)]])
    sheet = client.post("/subjects/check/", {"file": upload})
    assert sheet.status_code == 200

    records = list(AccessRecord.objects.filter(user=editor).order_by("at", "id"))
    assert [(r.channel, r.action) for r in records] == [
        ("page", "查看主体"),
        ("page", "按代码查询"),
        ("api", "接口查询"),
        ("api", "接口查询"),
        ("batch", "接口批量比对"),
        ("batch", "批量比对"),
    ]
    viewed, searched, by_get, by_post, api_batch, file_batch = records
    assert viewed.codes[0]["code"] == person.code and viewed.listed_count == 1
    assert viewed.identity_count == 0  # opening a page by its key tests no number
    assert searched.identity_count == 1 and searched.listed_count == 1
    assert by_get.codes[0]["code"] == enterprise.code and by_get.listed_count == 0
    assert by_post.identity_count == 1
    assert api_batch.code_count == 30 and api_batch.listed_count == 30
    assert len(api_batch.file_sha256) == 64
    assert file_batch.code_count == 6 and file_batch.listed_count == 5
    upload.seek(0)
    import hashlib

    assert file_batch.file_sha256 == hashlib.sha256(upload.read()).hexdigest()
    assert all(r.username == "editor" and r.at for r in records)


def test_access_records_in_the_admin_are_read_only_and_masked(
    client, administrator, editor, people, django_user_model, otp_login
):
    _otp = otp_login
    client.force_login(editor)
    client.post("/subjects/", {"q": people[0].code})
    record = AccessRecord.objects.get()

    # 编辑 cannot read them at all.
    _otp(client, editor)
    assert client.get("/admin/audit/accessrecord/").status_code == 403

    # A reader of the records without view_full_identity sees them masked.
    auditor = django_user_model.objects.create_user("auditor", password="x", is_staff=True)
    auditor.user_permissions.add(Permission.objects.get(codename="view_accessrecord"))
    _otp(client, auditor)
    listing = client.get("/admin/audit/accessrecord/")
    assert listing.status_code == 200
    assert people[0].code not in listing.content.decode()
    assert people[0].masked_code in listing.content.decode()
    detail = client.get(f"/admin/audit/accessrecord/{record.pk}/change/")
    assert detail.status_code == 200 and people[0].code not in detail.content.decode()
    exported = client.post(
        "/admin/audit/accessrecord/",
        {"action": "export_xlsx", "_selected_action": [record.pk]},
    )
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.content)).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row]
    assert people[0].masked_code in cells and people[0].code not in " ".join(cells)

    # 管理员 reads them in full, filtered by user and day, and can change nothing.
    _otp(client, administrator)
    full = client.get("/admin/audit/accessrecord/", {"username": "editor"})
    assert people[0].code in full.content.decode()
    day = timezone.localdate()
    by_day = client.get(
        "/admin/audit/accessrecord/",
        {"at__year": day.year, "at__month": day.month, "at__day": day.day},
    )
    assert by_day.status_code == 200 and people[0].code in by_day.content.decode()
    assert client.get("/admin/audit/accessrecord/add/").status_code == 403
    assert client.post(f"/admin/audit/accessrecord/{record.pk}/delete/").status_code == 403
    client.post(
        "/admin/audit/accessrecord/",
        {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"},
    )
    assert AccessRecord.objects.filter(pk=record.pk).exists()


def test_access_records_are_kept_for_the_retention_period(client, editor, people):
    from django.core.management import call_command

    client.force_login(editor)
    client.get(f"/subjects/{people[0].pk}/")
    client.get(f"/subjects/{people[1].pk}/")
    old, recent = AccessRecord.objects.order_by("id")
    AccessRecord.objects.filter(pk=old.pk).update(at=timezone.now() - datetime.timedelta(days=184))
    AccessRecord.objects.filter(pk=recent.pk).update(
        at=timezone.now() - datetime.timedelta(days=182)
    )
    out = io.StringIO()
    call_command("purge_access_records", stdout=out)
    assert "1" in out.getvalue()
    assert list(AccessRecord.objects.values_list("pk", flat=True)) == [recent.pk]


def test_a_retention_shorter_than_six_months_refuses_to_start():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={**__import__("os").environ, "ACCESS_RECORD_RETENTION_DAYS": "30"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "ACCESS_RECORD_RETENTION_DAYS" in result.stderr


def test_a_listing_under_a_repealed_memo_says_why_nothing_applies(client, editor, list_2018):
    memo = Memorandum.objects.get(seq=7)
    Memorandum.objects.filter(pk=memo.pk).update(
        status=Memorandum.Status.REPEALED, repealed_on=datetime.date(2024, 3, 1)
    )
    enterprise = SubjectFactory(code=valid_uscc(7), name="某公司")
    ListingFactory(subject=enterprise, target_subject=memo.target_subject)
    client.force_login(editor)
    body = client.get(f"/subjects/{enterprise.pk}/").content.decode()
    assert f"{memo.doc_number}" in body
    assert "已于 2024年3月1日 废止，其措施不再适用" in body


def test_importing_listings_under_a_repealed_memo_warns(list_2018, tmp_path):
    from django.core.management import call_command

    memo = Memorandum.objects.get(seq=7)
    Memorandum.objects.filter(pk=memo.pk).update(
        status=Memorandum.Status.REPEALED, repealed_on=datetime.date(2024, 3, 1)
    )
    sheet = tmp_path / "名单.csv"
    sheet.write_text(
        "统一社会信用代码,名称,列入依据,列入日期\n"
        f"{valid_uscc(7)},甲公司,{memo.doc_number},2025-01-02\n"
        f"{valid_uscc(8)},乙公司,{Memorandum.objects.get(seq=8).doc_number},2025-01-02\n"
        f"{valid_uscc(9)},丙公司,{memo.doc_number},2025-01-02\n",
        encoding="utf-8",
    )
    out, err = io.StringIO(), io.StringIO()
    call_command("import_subjects", str(sheet), stdout=out, stderr=err)
    assert Subject.objects.count() == 3  # imported, not refused
    warning = err.getvalue()
    assert "第 2、4 行" in warning and memo.doc_number in warning
    assert "已于 2024-03-01 废止" in warning


def test_check_results_for_a_clerk_show_people_masked(client, clerk, people):
    client.force_login(clerk)
    response = client.post(
        "/api/subjects/check/", {"codes": [people[0].code]}, content_type="application/json"
    )
    assert response.status_code == 200
    assert json.dumps(response.json()).count(people[0].code) == 1  # the input echoed, only
    assert response.json()["results"][0]["code"] == people[0].masked_code


def test_brute_forcing_a_masked_number_through_the_admin_search_is_refused(
    client, editor, people, settings, otp_login
):
    settings.IDENTITY_CHECKS_PER_DAY = 1_000_000
    person = people[0]
    candidates = _candidates_around(person.code, 8) + [person.code]
    otp_login(client, editor)
    bodies = [
        client.get("/admin/subjects/subject/", {"q": code}).content.decode() for code in candidates
    ]
    assert all(person.name not in body for body in bodies)
    assert "一天最多查" in bodies[-1]
    records = AccessRecord.objects.filter(user=editor, channel="admin")
    assert records.count() == len(candidates)
    assert records.exclude(refused="").count() == len(candidates) - settings.PROBE_MAX_PER_MASK


def test_the_served_site_s_access_log_carries_no_identity_number(tmp_path):
    """`make serve` runs gunicorn with memo_registry/gunicorn_conf.py."""
    import os
    import socket
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    number = identity()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DEBUG": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "memo_registry.wsgi", "-c",
         "memo_registry/gunicorn_conf.py", "-b", f"127.0.0.1:{port}", "-w", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/subjects/{number}/", timeout=5)
            except urllib.error.HTTPError:
                break  # answered (a redirect to sign in is followed to a page)
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
                continue
            break
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert f"/subjects/{number[:6]}********{number[14:]}/" in out
    assert number not in out + err
