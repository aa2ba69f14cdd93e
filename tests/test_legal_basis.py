"""Issue 15, parts 1–4: every measure shows its legal basis (实施依据) and its basis status.

Done when: an administrator records the basis of memo 7's three measures, two
as 法律 and one as 备忘录 only; the list page and the API show two
*sufficient* and one *insufficient*, every other measure *missing*; the same
bases survive an xlsx export and re-import.
"""

import io
import re
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from measures.models import BasisStatus, LegalBasis, Measure
from memo_registry.imports.memos import ImportFailed, read_path, run_import
from memo_registry.services import export
from memo_registry.services.legal_basis import parse_basis
from memos.models import Memorandum
from tests.test_lost_updates import load_memo, memo_url, save

pytestmark = pytest.mark.django_db

LAW_1 = "法律：《中华人民共和国产品质量法》第十三条"
LAW_2 = "法律：《中华人民共和国标准化法》第三十六条；备忘录：发改财金〔2016〕2202号"
MEMO_ONLY = "备忘录：发改财金〔2016〕2202号"


@pytest.fixture
def admin_client(client, administrator, otp_login):
    return otp_login(client, administrator)


def memo_7():
    return Memorandum.objects.get(seq=7)


def record_memo_7(admin_client, texts=(LAW_1, LAW_2, MEMO_ONLY)):
    """The administrator types the bases into memo 7's measure rows and saves."""
    memo = memo_7()
    data = load_memo(admin_client, memo)
    for n, text in enumerate(texts):
        data[f"measures-{n}-legal_basis_text"] = [text]
    return save(admin_client, memo_url(memo), data)


def statuses(measures: list[dict]) -> list[str]:
    return [measure["basis_status"] for measure in measures]


def badge_statuses(html: str) -> list[str]:
    return re.findall(r'data-basis-status="(\w+)"', html)


def test_done_when_memo_7_shows_two_sufficient_and_one_insufficient(
    list_2018, admin_client, client, tmp_path
):
    response = record_memo_7(admin_client)
    assert response.status_code == 302, response.content.decode()[:2000]
    measures = list(memo_7().measures.order_by("order"))
    assert [m.basis_status for m in measures] == ["sufficient", "sufficient", "insufficient"]
    assert [str(b) for b in measures[1].legal_basis.all()] == LAW_2.split("；")

    # The list page: memo 7's badges, every other measure "未录入实施依据".
    page = client.get("/").content.decode()
    pattern = rf'<tbody class="memo[^"]*" id="memo-{memo_7().pk}".*?</tbody>'
    tbody = re.search(pattern, page, re.S)
    assert badge_statuses(tbody.group()) == ["sufficient", "sufficient", "insufficient"]
    everything = badge_statuses(page)
    assert everything.count("missing") == len(everything) - 3
    assert "依据充分" in tbody.group() and "依据不足" in tbody.group()
    assert "《中华人民共和国产品质量法》第十三条" in tbody.group()  # on expansion and in print

    # The API: the same.
    memos = client.get("/api/memos/").json()["results"]
    by_seq = {memo["seq"]: memo for memo in memos}
    assert statuses(by_seq[7]["measures"]) == ["sufficient", "sufficient", "insufficient"]
    assert by_seq[7]["measures"][0]["legal_basis"] == [
        {"level": "法律", "title": "《中华人民共和国产品质量法》", "article": "第十三条"}
    ]
    others = [m for memo in memos if memo["seq"] != 7 for m in memo["measures"]]
    assert others and set(statuses(others)) == {"missing"}

    # The same bases survive an xlsx export and re-import.
    before = sorted(LegalBasis.objects.values_list("measure__order", "level", "title", "article"))
    path = tmp_path / "清单.xlsx"
    call_command("export_memos", "--format", "xlsx", "-o", str(path), stderr=StringIO())
    LegalBasis.objects.all().delete()
    call_command("import_memos", str(path), stdout=StringIO())
    after = sorted(LegalBasis.objects.values_list("measure__order", "level", "title", "article"))
    assert after == before and len(after) == 4


def test_the_memo_history_shows_who_changed_which_basis(list_2018, admin_client):
    record_memo_7(admin_client)
    record_memo_7(admin_client, texts=(LAW_1, LAW_2, "规范性文件：国质检执〔2017〕1号"))
    url = reverse("admin:memos_memorandum_history", args=[memo_7().pk])
    page = admin_client.get(url).content.decode()
    section = page[page.index('id="legal-basis-history"') :]
    assert "实施依据的修改" in section
    assert "administrator" in section
    assert "备忘录&nbsp;&rarr;&nbsp;规范性文件" in section or "备忘录 → 规范性文件" in section
    assert "新增" in section


def test_an_unknown_level_in_the_admin_is_refused_and_nothing_is_saved(list_2018, admin_client):
    response = record_memo_7(admin_client, texts=(LAW_1, "法规：《某条例》第一条", MEMO_ONLY))
    assert response.status_code == 200
    assert "层级“法规”无法识别" in response.content.decode()
    assert not LegalBasis.objects.exists()


def test_the_fixture_names_no_basis_and_the_pages_say_so(list_2018, client, clerk_client):
    assert not LegalBasis.objects.exists()
    assert set(
        Measure.objects.with_basis_status().values_list("computed_basis_status", flat=True)
    ) == {"missing"}
    for url in ["/", f"/memos/{memo_7().pk}/"]:
        assert "未录入实施依据" in client.get(url).content.decode()
    division = memo_7().measures.first().divisions.first()
    assert "未录入实施依据" in clerk_client.get(f"/divisions/{division.pk}/").content.decode()


def add(measure, level, title="《某法》", article=""):
    return LegalBasis.objects.create(measure=measure, level=level, title=title, article=article)


def test_the_status_is_computed_never_stored_stale(list_2018):
    measure = memo_7().measures.first()
    basis = add(measure, "备忘录", "发改财金〔2016〕2202号")
    assert Measure.objects.with_basis_status().get(pk=measure.pk).computed_basis_status == (
        "insufficient"
    )
    basis.level = "行政法规"
    basis.save()
    assert Measure.objects.with_basis_status().get(pk=measure.pk).computed_basis_status == (
        "sufficient"
    )
    assert Measure.objects.get(pk=measure.pk).basis_status == "sufficient"
    basis.delete()
    assert Measure.objects.get(pk=measure.pk).basis_status == "missing"


@pytest.mark.parametrize(
    ("level", "status"),
    [(level, "sufficient") for level in ("法律", "行政法规", "地方性法规", "党中央国务院政策文件")]
    + [(level, "insufficient") for level in ("部门规章", "规范性文件", "备忘录")],
)
def test_each_level_gives_its_status(list_2018, level, status):
    measure = memo_7().measures.first()
    add(measure, level)
    assert measure.basis_status == status
    assert Measure.objects.in_basis_status(status).filter(pk=measure.pk).exists()


def test_the_list_page_and_the_api_filter_by_basis_status(list_2018, client):
    measures = list(memo_7().measures.order_by("order"))
    add(measures[0], "法律")
    add(measures[2], "备忘录")
    memo_8 = Memorandum.objects.get(seq=8).measures.first()
    add(memo_8, "备忘录")

    def seqs(query):
        return [m["seq"] for m in client.get(f"/api/memos/?{query}").json()["results"]]

    assert seqs("basis_status=sufficient") == [7]
    assert seqs("basis_status=insufficient") == [7, 8]
    assert 7 in seqs("basis_status=missing") and 8 not in seqs("basis_status=missing")
    bad = client.get("/api/memos/?basis_status=ok")
    assert bad.status_code == 400 and "basis_status" in str(bad.json())

    page = client.get("/?basis_status=sufficient").content.decode()
    assert re.findall(r'data-memo="(\d+)"', page) == ["7"]
    assert 'value="sufficient" selected' in page
    ignored = client.get("/?basis_status=ok").content.decode()
    assert "已忽略无法识别的条件：实施依据" in ignored


def test_the_division_page_filters_by_basis_status(list_2018, clerk_client):
    measure = memo_7().measures.order_by("order").first()
    add(measure, "法律")
    division = measure.divisions.first()
    page = clerk_client.get(f"/divisions/{division.pk}/?basis_status=sufficient").content.decode()
    assert badge_statuses(page) == ["sufficient"]
    everything = clerk_client.get(f"/divisions/{division.pk}/").content.decode()
    assert len(badge_statuses(everything)) > 1


def test_the_lookup_and_the_subject_answer_carry_the_basis(list_2018, client, editor):
    from memo_registry.services.lookup import status_for  # noqa: F401 (the subject answer's source)

    measure = memo_7().measures.order_by("order").first()
    add(measure, "法律", "《中华人民共和国产品质量法》", "第十三条")
    answer = client.get("/api/lookup/", {"q": memo_7().target_subject.label}).json()
    memo = next(m for m in answer["results"] if m["seq"] == 7)
    assert memo["measures"][0]["basis_status"] == "sufficient"
    assert memo["measures"][0]["legal_basis"][0]["level"] == "法律"


def test_the_subject_api_measures_carry_the_basis(list_2018, client, editor):
    import datetime

    from django.utils import timezone

    from tests.factories import ListingFactory, SubjectFactory, valid_uscc

    add(memo_7().measures.order_by("order").first(), "法律", "《某法》", "第一条")
    subject = SubjectFactory(code=valid_uscc(3), name="武汉市某某公司")
    ListingFactory(
        subject=subject,
        target_subject=memo_7().target_subject,
        listed_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    client.force_login(editor)
    data = client.get(f"/api/subjects/{subject.code}/").json()
    first = next(m for m in data["measures"] if m["order"] == 1)
    assert first["legal_basis"] == [{"level": "法律", "title": "《某法》", "article": "第一条"}]
    assert {m["basis_status"] for m in data["measures"]} >= {"sufficient", "missing"}


def test_the_schema_documents_the_basis(django_db_blocker):
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    components = schema["components"]["schemas"]

    def resolved(prop):
        ref = prop.get("$ref") or (prop.get("allOf") or [{}])[0].get("$ref")
        return components[ref.rsplit("/", 1)[-1]] if ref else prop

    measure = components["Measure"]["properties"]
    assert set(resolved(measure["basis_status"])["enum"]) == set(BasisStatus.values)
    assert "legal_basis" in measure
    level = resolved(components["LegalBasis"]["properties"]["level"])
    assert level["enum"] == [
        "法律",
        "行政法规",
        "地方性法规",
        "党中央国务院政策文件",
        "部门规章",
        "规范性文件",
        "备忘录",
    ]
    names = {p["name"] for p in schema["paths"]["/api/memos/"]["get"]["parameters"]}
    assert "basis_status" in names


# --- the spreadsheets -------------------------------------------------------------------


def write_export_with_basis(tmp_path, cell: str, fmt="xlsx"):
    """The 2018 export with memo 7's 实施依据 cell replaced by ``cell``."""
    rows = export.export_rows(Memorandum.objects.order_by("seq"))
    column = export.HEADERS.index("实施依据")
    for row in rows:
        if row[0] == "7":
            row[column] = cell
    path = tmp_path / f"清单.{fmt}"
    path.write_bytes(export.table_file(rows, fmt))
    return path


def import_file(path, dry_run=False):
    return run_import(read_path(str(path)), memo_7().responsibility_list, dry_run=dry_run)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_imported_basis_column_aligns_with_the_measures(list_2018, tmp_path, fmt):
    path = write_export_with_basis(tmp_path, f"1、{LAW_1}\n2、\n3、{MEMO_ONLY}", fmt)
    outcome = import_file(path)
    assert "实施依据：2 条措施的实施依据有变化。" in outcome.plan.summary()
    measures = list(memo_7().measures.order_by("order"))
    assert [m.basis_status for m in measures] == ["sufficient", "missing", "insufficient"]


def test_an_unknown_level_names_the_row_and_column_and_nothing_is_written(list_2018, tmp_path):
    path = write_export_with_basis(tmp_path, f"1、{LAW_1}\n2、法规：《某条例》\n3、")
    with pytest.raises(ImportFailed) as failure:
        import_file(path)
    message = "\n".join(failure.value.errors)
    assert "第 8 行「实施依据」列" in message  # memo 7 is the seventh row under the header
    assert "措施 2 的实施依据" in message and "层级“法规”无法识别" in message
    assert not LegalBasis.objects.exists()


def test_lines_that_do_not_match_the_measures_are_refused(list_2018, tmp_path):
    path = write_export_with_basis(tmp_path, f"{LAW_1}\n{MEMO_ONLY}")  # 2 lines, 3 measures
    with pytest.raises(ImportFailed) as failure:
        import_file(path)
    assert "有 2 行实施依据，而奖惩措施有 3 条" in "\n".join(failure.value.errors)


def test_a_file_without_the_column_keeps_the_bases(list_2018, tmp_path):
    add(memo_7().measures.first(), "法律")
    rows = export.export_rows(Memorandum.objects.order_by("seq"))
    headers = export.HEADERS[:-1]
    path = tmp_path / "旧版.csv"
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(row[:-1] for row in rows)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    import_file(path)
    assert LegalBasis.objects.count() == 1


def test_a_basis_reads_and_writes_the_same():
    for text in [LAW_1, MEMO_ONLY, "党中央国务院政策文件：《意见》（国办发〔2020〕49号）第三条"]:
        assert str(parse_basis(text)) == text


# --- part 2: the national basic list ------------------------------------------------------


def test_the_admin_lists_the_measures_that_correspond_to_no_basic_list_item(
    list_2018, admin_client
):
    measure = memo_7().measures.order_by("order").first()
    measure.basic_list_edition, measure.basic_list_item = "测试版本", "12"
    measure.save()
    url = reverse("admin:measures_measure_changelist")
    none = admin_client.get(url, {"basic_list": "none"})
    assert none.status_code == 200
    shown = {m.pk for m in none.context["cl"].result_list}
    assert measure.pk not in shown and len(shown) == Measure.objects.count() - 1
    some = admin_client.get(url, {"basic_list": "some"}).context["cl"].result_list
    assert [m.pk for m in some] == [measure.pk]
    insufficient = admin_client.get(url, {"basis_status": "insufficient"}).context["cl"]
    assert list(insufficient.result_list) == []


def test_the_fixture_names_no_basic_list_edition(list_2018):
    assert not Measure.objects.exclude(basic_list_edition="").exists()
    assert not Measure.objects.exclude(basic_list_item="").exists()


def test_the_measure_page_edits_its_bases_one_row_each(list_2018, admin_client):
    measure = memo_7().measures.order_by("order").first()
    page = admin_client.get(reverse("admin:measures_measure_change", args=[measure.pk]))
    assert page.status_code == 200
    assert "legal_basis-TOTAL_FORMS" in page.content.decode()
