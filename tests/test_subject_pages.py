"""Subject pages and API: staff only, what applies today, feedback, batch check."""

import datetime
import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from measures.models import Feedback
from memos.models import Memorandum
from tests.factories import ListingFactory, SubjectFactory, valid_uscc

pytestmark = pytest.mark.django_db

PERSON = "11010519491231002X"


@pytest.fixture
def staff(editor):
    """A member of 编辑: may view subjects and record feedback."""
    return editor


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def flagged(list_2018):
    """An enterprise on two lists today, and a person on the 失信被执行人 list."""
    today = timezone.localdate()
    enterprise = SubjectFactory(code=valid_uscc(7), name="武汉市某某电器有限公司")
    for seq in (7, 8):
        ListingFactory(
            subject=enterprise,
            target_subject=Memorandum.objects.get(seq=seq).target_subject,
            listed_on=today - datetime.timedelta(days=10),
            expires_on=today + datetime.timedelta(days=1000),
        )
    person = SubjectFactory(code=PERSON, kind="person", name="张某")
    ListingFactory(
        subject=person,
        target_subject=Memorandum.objects.get(seq=5).target_subject,
        listed_on=today - datetime.timedelta(days=3),
        expires_on=today + datetime.timedelta(days=727),
        source="最高人民法院",
    )
    return enterprise, person


@pytest.mark.parametrize(
    "url",
    [
        "/subjects/",
        "/subjects/check/",
        f"/subjects/{valid_uscc(7)}/",
        "/subjects/1/",
        f"/api/subjects/{valid_uscc(7)}/",
    ],
)
def test_subject_pages_and_api_need_a_signed_in_staff_member(client, flagged, url):
    response = client.get(url)
    assert response.status_code in (302, 401, 403)
    assert "武汉市某某电器有限公司" not in response.content.decode()


def test_it_finds_a_subject_by_full_code_and_by_part_of_the_name(staff_client, flagged):
    enterprise, _ = flagged
    by_code = staff_client.get("/subjects/", {"q": f" {valid_uscc(7).lower()} "}, follow=True)
    assert by_code.redirect_chain == [(f"/subjects/{enterprise.pk}/", 302)]
    assert "武汉市某某电器有限公司" in by_code.content.decode()
    posted = staff_client.post("/subjects/", {"q": valid_uscc(7)})
    assert posted.status_code == 302 and posted["Location"] == f"/subjects/{enterprise.pk}/"
    by_name = staff_client.get("/subjects/", {"q": "某某电器"})
    assert "武汉市某某电器有限公司" in by_name.content.decode()
    short = staff_client.get("/subjects/", {"q": "电器"})
    assert "武汉市某某电器有限公司" not in short.content.decode()
    assert "开头" in short.content.decode()
    assert (
        "武汉市某某电器有限公司" in staff_client.get("/subjects/", {"q": "武汉"}).content.decode()
    )


def test_the_subject_page_shows_every_measure_that_applies_today(staff_client, flagged):
    body = staff_client.get(f"/subjects/{flagged[0].pk}/").content.decode()
    for text in (
        "将失信企业纳入重点监管对象",
        "限制失信相关人获得或撤销其相关的从业资格。",
        "失信企业产生新的违法违规行为时，依法依规从严从重处罚。",
        "加大对失信企业日常监督检查频次和提高随机抽查概率",
        "有关业务处室和直属机构",
        "发改财金〔2016〕2202号",
        "发改财金〔2017〕346号",
    ):
        assert text in body
    assert body.count("待反馈") >= 4


def post_feedback(client, subject, measure, division, action):
    """The subject page's feedback form for ``measure``, filled in for today."""
    return client.post(
        f"/subjects/{subject.pk}/feedback/",
        {"measure": measure.pk, "division": division.pk,
         "done_on": timezone.localdate().isoformat(), "action": action},
    )  # fmt: skip


def test_recording_feedback_marks_the_measure_done(staff_client, staff, flagged):
    enterprise, _ = flagged
    measure = Memorandum.objects.get(seq=7).measures.get(order=1)
    division = measure.divisions.get()
    division.members.add(staff)  # feedback is its members' to record (issue 14)
    response = post_feedback(staff_client, enterprise, measure, division, "已列为重点监管对象")
    assert response.status_code == 302
    report = Feedback.objects.get()
    assert (report.subject, report.measure, report.recorded_by) == (enterprise, measure, staff)
    api = staff_client.get(f"/api/subjects/{enterprise.code}/").json()
    assert [m["done"] for m in api["measures"]] == [True, False, False, False]


def test_a_bad_feedback_form_is_shown_again_and_writes_nothing(staff_client, staff, flagged):
    enterprise, _ = flagged
    Memorandum.objects.get(seq=7).measures.get(order=1).divisions.get().members.add(staff)
    response = staff_client.post(f"/subjects/{enterprise.pk}/feedback/", {"measure": "999999"})
    assert response.status_code == 302  # back to the page, with a message
    measure = Memorandum.objects.get(seq=7).measures.get(order=1)
    response = staff_client.post(
        f"/subjects/{enterprise.pk}/feedback/",
        {"measure": measure.pk, "division": measure.divisions.get().pk, "done_on": "x"},
    )
    assert response.status_code == 400
    assert Feedback.objects.count() == 0


def test_the_api_returns_the_documented_shape(staff_client, flagged):
    data = staff_client.get(f"/api/subjects/{valid_uscc(7)}/").json()
    assert data["code"] == valid_uscc(7) and data["name"] == "武汉市某某电器有限公司"
    assert {listing["doc_number"] for listing in data["listings"]} == {
        "发改财金〔2016〕2202号",
        "发改财金〔2017〕346号",
    }
    listing = data["listings"][0]
    assert set(listing) >= {"doc_number", "listed_on", "expires_on", "lifted_on", "in_force"}
    assert all(listing["in_force"] for listing in data["listings"])
    assert [(m["doc_number"], m["done"]) for m in data["measures"]] == [
        ("发改财金〔2016〕2202号", False),
        ("发改财金〔2016〕2202号", False),
        ("发改财金〔2016〕2202号", False),
        ("发改财金〔2017〕346号", False),
    ]
    assert data["measures"][0]["divisions"] == ["有关业务处室和直属机构"]


def test_an_invalid_code_answers_400_with_the_reason_and_an_unknown_one_404(staff_client, flagged):
    bad = staff_client.get("/api/subjects/914201000000000019/")
    assert bad.status_code == 400 and "校验位错误" in bad.json()["errors"][0]["detail"]
    assert staff_client.get("/api/subjects/12345/").status_code == 400
    assert staff_client.get(f"/api/subjects/{valid_uscc(99)}/").status_code == 404
    assert staff_client.get("/subjects/914201000000000019/").status_code == 404
    assert staff_client.get(f"/subjects/{valid_uscc(99)}/").status_code == 404


def test_identity_numbers_are_masked_without_the_permission(
    client, clerk, django_user_model, flagged
):
    client.force_login(clerk)
    _, person = flagged
    page = client.get(f"/subjects/{person.pk}/").content.decode()
    assert "110105********002X" in page and PERSON not in page
    lookup = client.post("/api/subjects/lookup/", {"code": PERSON}, content_type="application/json")
    assert lookup.json()["code"] == "110105********002X"
    search = client.get("/subjects/", {"q": "张某"}).content.decode()
    assert PERSON not in search

    clerk.user_permissions.add(Permission.objects.get(codename="view_full_identity"))
    client.force_login(django_user_model.objects.get(pk=clerk.pk))
    lookup = client.post("/api/subjects/lookup/", {"code": PERSON}, content_type="application/json")
    assert lookup.json()["code"] == PERSON


def test_a_person_with_no_function_memo_gets_the_plain_statement(staff_client, flagged):
    data = staff_client.post(
        "/api/subjects/lookup/", {"code": PERSON}, content_type="application/json"
    ).json()
    assert data["listed"] and data["measures"] == []
    assert data["no_function"][0]["no_function_note"] == "我市质监部门无相关职能"


def test_batch_check_marks_each_row_and_keeps_the_sheet(staff_client, flagged):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["申请日期", "企业名称", "统一社会信用代码"])
    sheet.append(["2025-06-01", "武汉市某某电器有限公司", valid_uscc(7)])
    sheet.append(["2025-06-01", "干净的公司", valid_uscc(8)])
    sheet.append(["2025-06-01", "写错的代码", "914201000000000019"])
    upload = io.BytesIO()
    workbook.save(upload)
    upload.seek(0)
    upload.name = "今日申请人.xlsx"
    response = staff_client.post("/subjects/check/", {"file": upload})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    result = load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in result.iter_rows()]
    assert rows[0][:3] == ["申请日期", "企业名称", "统一社会信用代码"]
    assert rows[1][3] == "已列入" and "严重质量违法失信行为当事人" in rows[1][5]
    assert "有关业务处室和直属机构" in rows[1][7]
    assert rows[2][3] == "未列入"
    assert rows[3][3] == "代码有误" and "校验位错误" in rows[3][4]


def test_batch_check_refuses_a_sheet_without_codes_plainly(staff_client, flagged):
    upload = io.BytesIO("名称,地址\n甲,乙\n".encode())
    upload.name = "x.csv"
    response = staff_client.post("/subjects/check/", {"file": upload})
    assert response.status_code == 400
    assert "找不到代码列" in response.content.decode()


def test_the_check_api_answers_for_a_json_list(staff_client, flagged):
    response = staff_client.post(
        "/api/subjects/check/",
        data=json.dumps({"codes": [valid_uscc(7), "bad", valid_uscc(8)]}),
        content_type="application/json",
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["listed"] for r in results] == [True, False, False]
    assert results[0]["memos"] == ["发改财金〔2016〕2202号", "发改财金〔2017〕346号"]
    assert results[1]["valid"] is False and results[1]["error"]
    assert (
        staff_client.post(
            "/api/subjects/check/", data="{}", content_type="application/json"
        ).status_code
        == 400
    )


def test_a_ten_thousand_code_check_runs_a_bounded_number_of_queries(
    staff_client, flagged, django_assert_max_num_queries
):
    codes = [valid_uscc(1000 + i) for i in range(10_000)]
    with django_assert_max_num_queries(60):
        response = staff_client.post(
            "/api/subjects/check/",
            data=json.dumps({"codes": codes}),
            content_type="application/json",
        )
    assert response.status_code == 200 and len(response.json()["results"]) == 10_000


def test_a_signed_in_user_without_the_permission_is_refused(client, django_user_model, flagged):
    nobody = django_user_model.objects.create_user("nobody", password="pw", is_staff=True)
    client.force_login(nobody)
    assert client.get("/subjects/").status_code == 403
    assert client.get(f"/api/subjects/{valid_uscc(7)}/").status_code == 403


def test_a_clerk_in_no_division_may_look_but_not_record_feedback(client, clerk, flagged):
    enterprise, _ = flagged
    client.force_login(clerk)
    page = client.get(f"/subjects/{enterprise.pk}/")
    assert page.status_code == 200 and "录入反馈" not in page.content.decode()
    measure = Memorandum.objects.get(seq=7).measures.get(order=1)
    response = post_feedback(client, enterprise, measure, measure.divisions.get(), "x")
    assert response.status_code == 403
    assert Feedback.objects.count() == 0


def test_a_division_member_records_on_the_subject_page_as_on_the_work_list(
    client, clerk, editor, flagged
):
    """One rule on every page (issue 14): a division's members record its
    feedback, whatever their role; 查阅 members could record from /work/
    but were refused on the subject page, 编辑 outside the division saw a
    form for every division."""
    enterprise, _ = flagged
    measure = Memorandum.objects.get(seq=7).measures.get(order=1)
    division = measure.divisions.get()
    division.members.add(clerk)
    client.force_login(clerk)
    page = client.get(f"/subjects/{enterprise.pk}/").content.decode()
    assert page.count("录入反馈") == len(
        [m for m in Memorandum.objects.get(seq=7).measures.all() if division in m.divisions.all()]
        + [m for m in Memorandum.objects.get(seq=8).measures.all() if division in m.divisions.all()]
    )
    response = post_feedback(client, enterprise, measure, division, "已列为重点监管对象")
    assert response.status_code == 302
    assert Feedback.objects.get().recorded_by == clerk

    # An editor outside the division is offered no form and records nothing.
    client.force_login(editor)
    assert "录入反馈" not in client.get(f"/subjects/{enterprise.pk}/").content.decode()
    response = post_feedback(client, enterprise, measure, division, "x")
    assert response.status_code == 403
    assert Feedback.objects.count() == 1
