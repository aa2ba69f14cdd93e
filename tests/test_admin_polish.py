"""What a clerk trips over in the admin (issue 13): each test repeats one
stumble of the newcomer's round and would fail on the code that had it."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from measures.models import Division, Measure
from memo_registry.audit.models import ImportBatch
from memos.models import Memorandum
from tests.factories import valid_uscc
from tests.test_lost_updates import load_memo, memo_url, save

pytestmark = pytest.mark.django_db


def _add_row(data: dict, index: int, memo, text: str, division, order: str = "") -> None:
    """What "添加另一个 奖惩措施" posts for a new row, its 顺序 left as the page shows it."""
    data["measures-TOTAL_FORMS"] = [str(index + 1)]
    data.update(
        {
            f"measures-{index}-id": [""],
            f"measures-{index}-memo": [str(memo.pk)],
            f"measures-{index}-order": [order],
            f"measures-{index}-text": [text],
            f"measures-{index}-divisions": [str(division.pk)],
        }
    )


def test_a_measure_added_inline_continues_the_order(client, editor, otp_login, list_2018):
    otp_login(client, editor)
    memo = Memorandum.objects.get(seq=7)
    before = list(memo.measures.order_by("order").values_list("order", flat=True))
    page = client.get(memo_url(memo)).content.decode()
    # The empty row "添加另一个" copies no longer says 1.
    assert 'name="measures-__prefix__-order" value="1"' not in page
    data = load_memo(client, memo)
    division = Division.objects.get(name="有关业务处室和直属机构")
    rows = int(data["measures-TOTAL_FORMS"][0])
    _add_row(data, rows, memo, "新增措施甲。", division)
    _add_row(data, rows + 1, memo, "新增措施乙。", division)
    response = save(client, memo_url(memo), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    added = list(memo.measures.order_by("order").values_list("order", "text"))
    assert added[-2:] == [(max(before) + 1, "新增措施甲。"), (max(before) + 2, "新增措施乙。")]


def test_an_order_typed_by_hand_is_kept(client, editor, otp_login, list_2018):
    otp_login(client, editor)
    memo = Memorandum.objects.get(seq=7)
    data = load_memo(client, memo)
    rows = int(data["measures-TOTAL_FORMS"][0])
    _add_row(data, rows, memo, "第九项。", Division.objects.first(), order="9")
    assert save(client, memo_url(memo), data).status_code == 302
    assert memo.measures.get(text="第九项。").order == 9


def test_a_measure_s_own_page_and_history_are_reachable_from_its_memo(
    client, editor, otp_login, list_2018
):
    otp_login(client, editor)
    memo = Memorandum.objects.get(seq=7)
    measure = memo.measures.order_by("order").first()
    page = client.get(memo_url(memo)).content.decode()
    change = reverse("admin:measures_measure_change", args=[measure.pk])
    assert change in page
    assert client.get(change).status_code == 200
    history = client.get(reverse("admin:measures_measure_history", args=[measure.pk]))
    assert history.status_code == 200
    assert client.get(reverse("admin:measures_measure_changelist")).status_code == 200


def test_a_new_memo_is_preset_to_the_current_list_and_its_usual_department(
    client, editor, otp_login, list_2018
):
    otp_login(client, editor)
    form = client.get(reverse("admin:memos_memorandum_add")).context["adminform"].form
    usual = Memorandum.objects.filter(responsibility_list=list_2018).values_list(
        "implementing_department", flat=True
    )
    assert form.initial["responsibility_list"] == list_2018.pk
    assert form.initial["implementing_department"] == max(set(usual), key=list(usual).count)
    assert form.initial["seq"] == 11  # the document's list has ten


def test_measures_need_no_add_page_of_their_own(client, editor, otp_login, list_2018):
    otp_login(client, editor)
    assert client.get(reverse("admin:measures_measure_add")).status_code == 403
    assert Measure.objects.count() == 11


def test_import_records_read_in_chinese_and_cannot_be_deleted(
    client, administrator, otp_login, list_2018, tmp_path
):
    sheet = tmp_path / "名单.csv"
    sheet.write_text(
        "统一社会信用代码,名称,列入依据,列入日期\n"
        f"{valid_uscc(7)},甲公司,"
        f"{Memorandum.objects.get(seq=7).doc_number},2025-01-02\n",
        encoding="utf-8",
    )
    call_command("import_subjects", str(sheet), stdout=io.StringIO())
    batch = ImportBatch.objects.get()
    otp_login(client, administrator)
    listing = client.get(reverse("admin:audit_importbatch_changelist")).content.decode()
    assert "新增主体 1" in listing and "新增名单记录 1" in listing and "命令行" in listing
    assert "subjects_created" not in listing
    detail = client.get(reverse("admin:audit_importbatch_change", args=[batch.pk]))
    assert "新增主体 1" in detail.content.decode()
    assert (
        client.post(reverse("admin:audit_importbatch_delete", args=[batch.pk])).status_code == 403
    )
    client.post(
        reverse("admin:audit_importbatch_changelist"),
        {"action": "delete_selected", "_selected_action": [batch.pk], "post": "yes"},
    )
    assert ImportBatch.objects.filter(pk=batch.pk).exists()


def test_memo_history_reads_in_chinese_and_shows_its_measures_changes(
    client, editor, otp_login, list_2018
):
    otp_login(client, editor)
    memo = Memorandum.objects.get(seq=7)
    data = load_memo(client, memo)
    other = Division.objects.get(name="人事处")
    data["measures-0-text"] = ["改写后的措施。"]
    data["measures-0-divisions"] = [str(other.pk)]
    data["status"] = ["repealed"]
    data["repealed_on"] = ["2024-03-01"]
    response = save(client, memo_url(memo), data)
    assert response.status_code == 302, response.content.decode()[:3000]

    page = client.get(reverse("admin:memos_memorandum_history", args=[memo.pk]))
    body = page.content.decode()
    assert "现行有效&nbsp;&rarr;&nbsp;已废止" in body or "现行有效 → 已废止" in body
    assert "无&nbsp;&rarr;&nbsp;2024-03-01" in body
    assert "奖惩措施的修改" in body and "改写后的措施。" in body
    # Django's admin sets a measure's divisions by clearing, then adding:
    # the history shows both steps, by name.
    assert "有关业务处室和直属机构&nbsp;&rarr;&nbsp;无" in body
    assert "无&nbsp;&rarr;&nbsp;人事处" in body
    for raw in ("in_force", "repealed&nbsp;", "None", "CHANGES", "Changes"):
        assert raw not in body, raw


def test_the_sign_in_records_read_in_chinese(client, django_user_model, otp_login):
    root = django_user_model.objects.create_superuser("root", password="pw-Registry-2018")
    client.post(reverse("login"), {"username": "root", "password": "wrong"})  # one attempt
    otp_login(client, root)
    index = client.get(reverse("admin:index")).content.decode()
    assert "登录限制" in index and "登录失败记录" in index
    for english in ("Axes", "AXES", "Access attempts", "Access logs"):
        assert english not in index, english
    attempts = client.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert "IP 地址" in attempts and "IP Address" not in attempts


@pytest.mark.parametrize(
    "typed",
    ["1、依法限制其参加评优评先。", " 2.依法限制其参加评优评先。", "3．依法限制其参加评优评先。"],
)
def test_a_number_typed_before_a_measure_is_not_shown_twice(
    client, editor, otp_login, list_2018, typed
):
    otp_login(client, editor)
    memo = Memorandum.objects.get(seq=7)
    data = load_memo(client, memo)
    data["measures-0-text"] = [typed]
    assert save(client, memo_url(memo), data).status_code == 302
    first = memo.measures.order_by("order").first()
    assert first.text == "依法限制其参加评优评先。"
    # The list numbers a memo's measures itself: "1、" once, never "1、1、".
    page = client.get(reverse("memo_list")).content.decode()
    assert '<span class="num">1、</span>依法限制其参加评优评先。' in page
    assert "1、1、" not in page


def test_a_number_inside_a_measure_stays(list_2018):
    measure = Memorandum.objects.get(seq=7).measures.order_by("order").first()
    measure.text = "10年内不得从事相关行业。"
    measure.save()
    measure.refresh_from_db()
    assert measure.text == "10年内不得从事相关行业。"
