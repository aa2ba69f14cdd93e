"""Issue 15, parts 5–6: a listing carries its whole life.

Its decision (认定文书号, 认定机关, 认定日期), grade (失信程度), prior notice
(告知日期), objections (异议), credit repairs (信用修复) and end (移出日期,
移出类型); the publication end computed from the 公示期限 table the
administrator keeps (empty until then).
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from memos.models import Memorandum
from subjects.models import Listing, Objection, PublicationPeriod, Repair, add_months
from tests.factories import ListingFactory, SubjectFactory, valid_uscc
from tests.test_lost_updates import listing_url, load_listing, save

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def listing(list_2018):
    subject = SubjectFactory(code=valid_uscc(5), name="武汉市某某电器有限公司")
    return ListingFactory(
        subject=subject,
        target_subject=Memorandum.objects.get(seq=7).target_subject,
        listed_on=TODAY - datetime.timedelta(days=30),
        expires_on=TODAY + datetime.timedelta(days=700),
        source="武汉市市场监督管理局",
    )


@pytest.fixture
def admin_client(client, administrator, otp_login):
    return otp_login(client, administrator)


def subject_page(client, listing) -> str:
    response = client.get(f"/subjects/{listing.subject.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_done_when_an_objection_and_a_repair_are_recorded_and_shown_with_their_dates(
    listing, admin_client
):
    data = load_listing(admin_client, listing)
    data.update(
        {
            "decision_number": ["武市监信认〔2026〕12号"],
            "decided_on": [str(TODAY - datetime.timedelta(days=31))],
            "severity": ["严重"],
            "notified_on": [str(TODAY - datetime.timedelta(days=45))],
            "objections-TOTAL_FORMS": ["1"],
            "objections-0-received_on": ["2026-01-05"],
            "objections-0-note": ["主体称已整改"],
            "repairs-TOTAL_FORMS": ["1"],
            "repairs-0-applied_on": ["2026-01-10"],
            "repairs-0-decided_on": ["2026-01-20"],
            "repairs-0-result": ["不予修复"],
        }
    )
    response = save(admin_client, listing_url(listing), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    objection = Objection.objects.get(listing=listing)
    assert objection.pending and objection.history.count() == 1
    assert Repair.objects.get(listing=listing).result == "不予修复"

    page = subject_page(admin_client, listing)
    assert "武市监信认〔2026〕12号" in page
    assert "2026-01-05" in page  # the objection, received
    assert "2026-01-10" in page and "2026-01-20" in page  # the repair, applied and decided
    assert "不予修复" in page
    assert "data-objection-pending" in page
    assert "异议尚未决定；认定决定未暂停执行，其措施照常适用。" in page


def test_a_pending_objection_leaves_the_measures_applying(listing, admin_client):
    Objection.objects.create(listing=listing, received_on=TODAY)
    page = subject_page(admin_client, listing)
    assert "data-objection-pending" in page
    data = admin_client.get(f"/api/subjects/{listing.subject.code}/").json()
    assert data["listed"] is True and data["measures"]
    assert data["listings"][0]["objection_pending"] is True


def test_a_suspended_decision_brings_no_measure(listing, admin_client):
    listing.decision_suspended = True
    listing.save()
    assert not Listing.objects.in_force(TODAY).filter(pk=listing.pk).exists()
    assert not listing.in_force_on(TODAY)
    data = admin_client.get(f"/api/subjects/{listing.subject.code}/").json()
    assert data["measures"] == [] and data["listings"][0]["decision_suspended"] is True
    assert "data-suspended" in subject_page(admin_client, listing)


def test_the_publication_end_is_computed_from_the_table_only_when_not_given(listing):
    listing.severity = "一般"
    listing.save()
    assert listing.publication_end is None  # the table ships empty: nothing invented
    assert not PublicationPeriod.objects.exists()
    PublicationPeriod.objects.create(severity="一般", months=12, source="测试用依据")
    assert listing.publication_end == add_months(listing.listed_on, 12)
    assert listing.publication_end_computed
    listing.publication_ends_on = TODAY + datetime.timedelta(days=3)
    assert listing.publication_end == TODAY + datetime.timedelta(days=3)
    assert not listing.publication_end_computed


def test_add_months_keeps_the_end_of_month():
    assert add_months(datetime.date(2024, 1, 31), 1) == datetime.date(2024, 2, 29)
    assert add_months(datetime.date(2024, 11, 15), 14) == datetime.date(2026, 1, 15)


def test_the_subject_page_says_how_the_publication_end_was_reached(listing, admin_client):
    listing.severity = "严重"
    listing.save()
    page = subject_page(admin_client, listing)
    assert "公示期限表未录入“严重”的期限" in page
    PublicationPeriod.objects.create(severity="严重", months=36, source="测试用依据")
    page = subject_page(admin_client, listing)
    assert add_months(listing.listed_on, 36).isoformat() in page
    assert "按“严重”的公示期限计算" in page


def test_a_decision_dated_before_the_objection_is_refused(listing):
    objection = Objection(
        listing=listing, received_on=TODAY, decided_on=TODAY - datetime.timedelta(days=1)
    )
    with pytest.raises(ValidationError) as error:
        objection.full_clean()
    assert "决定日期不能早于收到日期" in str(error.value)
    repair = Repair(listing=listing, applied_on=TODAY, decided_on=TODAY)
    with pytest.raises(ValidationError) as error:
        repair.full_clean()
    assert "请同时填写决定结果" in str(error.value)


def test_the_subject_api_listings_carry_their_life(listing, admin_client):
    listing.decision_number = "武市监信认〔2026〕12号"
    listing.severity = "严重"
    listing.lifted_on = TODAY
    listing.end_reason = "信用修复"
    listing.save()
    Repair.objects.create(listing=listing, applied_on=TODAY, decided_on=TODAY, result="准予修复")
    item = admin_client.get(f"/api/subjects/{listing.subject.code}/").json()["listings"][0]
    assert item["decision_number"] == "武市监信认〔2026〕12号"
    assert item["decision_authority"] == "武汉市市场监督管理局"
    assert item["severity"] == "严重"
    assert item["end_reason"] == "信用修复"
    assert item["lifted_on"] == TODAY.isoformat()
    assert item["repairs"] == [
        {
            "applied_on": TODAY.isoformat(),
            "decided_on": TODAY.isoformat(),
            "result": "准予修复",
            "note": "",
        }
    ]
    assert item["objection_pending"] is False


def test_the_subject_page_reads_the_life_of_many_listings_in_a_fixed_number_of_queries(
    listing, admin_client, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            subject_page(admin_client, listing)
        return len(queries)

    listing.severity = "一般"  # graded: the publication periods are read too
    listing.save()
    Objection.objects.create(listing=listing, received_on=TODAY)
    few = count()
    for days in range(1, 6):
        other = ListingFactory(
            subject=listing.subject,
            target_subject=listing.target_subject,
            listed_on=listing.listed_on - datetime.timedelta(days=days),
            severity="一般",
        )
        Objection.objects.create(listing=other, received_on=TODAY)
        Repair.objects.create(listing=other, applied_on=TODAY)
    assert count() == few


def test_a_subject_answer_without_objections_repairs_or_grades_reads_one_query_for_them(
    listing, admin_client
):
    """The lookup at the counter: most listings have none of a listing's
    life, and reading objections, repairs and the periods table every time
    cost three queries of twelve."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        answer = admin_client.get(f"/api/subjects/{listing.subject.code}/").json()
    sql = [query["sql"] for query in queries.captured_queries]
    assert answer["listings"][0]["objections"] == [] and answer["listings"][0]["repairs"] == []
    assert not [text for text in sql if "subjects_publicationperiod" in text]
    # One query asks which listings have any objection or repair; none reads them.
    life = [text for text in sql if "subjects_objection" in text or "subjects_repair" in text]
    assert len(life) == 1 and '"subjects_repair"."id"' not in life[0]


# --- part 6: the listing import carries the new columns -----------------------------------

LIFE_HEADER = [
    "统一社会信用代码", "名称", "列入依据", "列入日期", "认定文书号", "认定机关", "失信程度",
    "移出日期", "移出原因",
]  # fmt: skip


def write_listings(path, rows, header=LIFE_HEADER):
    import csv

    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def life_rows():
    return [
        [valid_uscc(1), "某某1公司", "发改财金〔2016〕2202号", "2025-01-02", "武市监信认〔2025〕1号",
         "武汉市市场监督管理局", "严重", "", ""],
        [valid_uscc(2), "某某2公司", "发改财金〔2016〕2202号", "2025-01-02", "武市监信认〔2025〕2号",
         "武汉市市场监督管理局", "一般失信", "2025-06-30", "信用修复"],
    ]  # fmt: skip


def test_the_listing_import_reads_the_life_columns(list_2018, tmp_path):
    from django.core.management import call_command

    call_command("import_subjects", str(write_listings(tmp_path / "名单.csv", life_rows())))
    first = Listing.objects.get(subject__code=valid_uscc(1))
    assert (first.decision_number, first.source, first.severity) == (
        "武市监信认〔2025〕1号",
        "武汉市市场监督管理局",
        "严重",
    )
    assert first.lifted_on is None and first.end_reason == ""
    second = Listing.objects.get(subject__code=valid_uscc(2))
    assert second.severity == "一般"
    assert (second.lifted_on, second.end_reason) == (datetime.date(2025, 6, 30), "信用修复")


def test_reimporting_without_the_life_columns_keeps_what_the_listings_have(list_2018, tmp_path):
    from django.core.management import call_command

    call_command("import_subjects", str(write_listings(tmp_path / "名单.csv", life_rows())))
    plain = [row[:4] for row in life_rows()]
    call_command(
        "import_subjects", str(write_listings(tmp_path / "旧.csv", plain, LIFE_HEADER[:4]))
    )
    second = Listing.objects.get(subject__code=valid_uscc(2))
    assert second.decision_number == "武市监信认〔2025〕2号"
    assert (second.severity, second.end_reason) == ("一般", "信用修复")
    # A file that says otherwise changes them (the merge, not the bulk load).
    rows = life_rows()
    rows[0][6] = "轻微"
    call_command("import_subjects", str(write_listings(tmp_path / "改.csv", rows)))
    assert Listing.objects.get(subject__code=valid_uscc(1)).severity == "轻微"


def test_a_wrong_life_cell_names_row_and_column_and_nothing_is_written(list_2018, tmp_path):
    from memo_registry.imports.errors import ImportFailed
    from memo_registry.imports.listings import import_subject_rows  # noqa: F401

    rows = life_rows()
    rows[0][6] = "特别严重"
    rows[1][7] = "2024-01-01"  # before it was listed
    rows[1][8] = "到期"
    path = write_listings(tmp_path / "名单.csv", rows)
    from django.core.management import CommandError, call_command

    with pytest.raises((CommandError, ImportFailed)) as failure:
        call_command("import_subjects", str(path))
    message = str(failure.value)
    assert "第 2 行「失信程度」列" in message and "特别严重" in message
    assert "第 3 行「移出日期」列" in message and "早于列入日期" in message
    assert "第 3 行「移出原因」列" in message and "期满、信用修复、撤销、更正" in message
    assert not Listing.objects.exists()


def test_the_quick_path_gives_what_the_full_rules_give_with_the_life_columns(list_2018):
    from memo_registry.imports.listings.result import SubjectImportResult
    from memo_registry.imports.listings.validate import Targets, Validator

    columns = {"uscc": 0, "name": 1, "basis": 2, "listed_on": 3, "decision_number": 4}
    columns |= {"source": 5, "severity": 6, "lifted_on": 7, "end_reason": 8}
    rows = [(n + 2, cells) for n, cells in enumerate(life_rows())]
    rows.append((4, [valid_uscc(3), "某某3公司", "失信被执行人", "2025-01-02", "文\\号\t1",
                     "法院", "", "2025/7/1", "撤销"]))  # fmt: skip
    targets = Targets.load(list_2018)
    for escape in (False, True):
        quick = Validator(columns, targets, set(), "名单.csv", escape=escape)
        got = [item[2:] for item in quick.validated(rows, SubjectImportResult())]
        reference = Validator(columns, targets, set(), "名单.csv", escape=escape)
        assert got == [reference.row(number, cells) for number, cells in rows]
        assert quick.errors.count == 0
    assert got[1][8:] == ("武市监信认〔2025〕2号", "一般", "2025-06-30", "信用修复")
    assert got[2][8] == "文\\\\号1"  # squeezed, and its backslash escaped for COPY
