"""Every admin page answers for a superuser, in Chinese."""

import pytest
from django.contrib import admin
from django.urls import reverse

from measures.models import Measure
from memos.models import Memorandum
from subjects.models import PublicationPeriod
from tests.factories import FeedbackFactory, ListingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, django_user_model, list_2018, otp_login):
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw-123456")
    measure = Memorandum.objects.get(seq=7).measures.first()
    listing = ListingFactory(target_subject=measure.memo.target_subject)
    FeedbackFactory(subject=listing.subject, measure=measure, division=measure.divisions.first())
    # The 公示期限 table ships empty; a test row (no legal fact) to show its pages.
    PublicationPeriod.objects.create(severity="严重", months=12, source="测试用依据")
    return otp_login(client, user)


def _admin_models():
    return [
        model
        for model in admin.site._registry
        if model._meta.app_label in {"memos", "subjects", "measures"}
    ]


@pytest.mark.parametrize("model", _admin_models(), ids=lambda m: m._meta.label)
def test_changelist_add_change_and_history_pages_answer(superuser_client, model):
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    response = superuser_client.get(changelist)
    assert response.status_code == 200
    assert superuser_client.get(changelist, {"q": "海关"}).status_code == 200
    # A measure is added on its memo's page only (in the memo's order).
    expected_add = 403 if model is Measure else 200
    assert (
        superuser_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code
        == expected_add
    )
    obj = model.objects.first()
    assert obj is not None
    for view in ("change", "history"):
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])
        assert superuser_client.get(url).status_code == 200


def test_the_admin_speaks_chinese(superuser_client):
    response = superuser_client.get(reverse("admin:index"))
    assert "备忘录" in response.content.decode()
    assert "站点管理" in response.content.decode() or "数据管理" in response.content.decode()


def test_memo_search_finds_doc_numbers_in_any_bracket_style(superuser_client):
    url = reverse("admin:memos_memorandum_changelist")
    for term in ("发改财金(2016)141号", "发改财金 （2016） 141号", "发改财金〔2016〕141号"):
        response = superuser_client.get(url, {"q": term})
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [Memorandum.objects.get(seq=5)]


@pytest.mark.parametrize(
    ("term", "seqs"),
    [
        ("失信被执行人", {5}),
        ("纳税信用A级", {1}),
        ("从严从重处罚", {7}),
    ],
)
def test_memo_search_covers_title_subject_and_measure_text(superuser_client, term, seqs):
    response = superuser_client.get(reverse("admin:memos_memorandum_changelist"), {"q": term})
    assert {m.seq for m in response.context["cl"].result_list} == seqs


@pytest.mark.parametrize(
    "params",
    [
        {"kind__exact": "reward"},
        {"status__exact": "in_force"},
        {"no_function__exact": "1"},
        {"responsibility_list__id__exact": "1"},
        {"initiating_departments__id__exact": "5"},
        {"measures__divisions__id__exact": "1"},
    ],
)
def test_memo_filters_answer(superuser_client, params):
    response = superuser_client.get(reverse("admin:memos_memorandum_changelist"), params)
    assert response.status_code == 200
    assert response.context["cl"].result_count > 0


def test_the_memo_change_page_edits_measures_inline(superuser_client):
    memo = Memorandum.objects.get(seq=7)
    response = superuser_client.get(reverse("admin:memos_memorandum_change", args=[memo.pk]))
    body = response.content.decode()
    assert "measures-TOTAL_FORMS" in body
    assert "限制失信相关人获得或撤销其相关的从业资格。" in body
