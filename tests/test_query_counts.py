"""Every page and API answer runs a fixed number of SQL queries, whatever the list's size.

The same URLs are counted at 10 and at 1,000 memos of 5 measures each: the
counts must be equal (truly flat) and under a small ceiling.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from measures.models import Division, Measure
from memos.models import Department, Memorandum, ResponsibilityList
from subjects.models import TargetSubject

pytestmark = pytest.mark.django_db

MEASURES_PER_MEMO = 5
MAX_QUERIES = 13 + 2  # + the session and the signed-in user (13: the measures' legal bases)


def build_list(memo_count: int) -> dict:
    """A current list of ``memo_count`` memos with 5 measures each, written in bulk."""
    current = ResponsibilityList.objects.create(
        doc_number="测试监管〔2024〕1号",
        title="测试责任清单",
        issuer="测试市质量技术监督局",
        issued_on=datetime.date(2024, 1, 1),
        is_current=True,
    )
    departments = Department.objects.bulk_create(
        [Department(name=name) for name in ["全市质监部门", "市国税局", "市地税局", "武汉海关"]]
    )
    divisions = Division.objects.bulk_create(
        [Division(name=name) for name in ["人事处", "行政审批处", "有关业务处室和直属机构"]]
    )
    subjects = TargetSubject.objects.bulk_create(
        [
            TargetSubject(label=f"失信对象{n}", definition=f"被认定为失信对象{n}的企业。")
            for n in range(memo_count)
        ]
    )
    memos = Memorandum.objects.bulk_create(
        [
            Memorandum(
                responsibility_list=current,
                seq=n + 1,
                doc_number=f"发改财金〔2016〕{n + 1}号",
                title=f"关于对失信对象{n}实施联合惩戒的合作备忘录",
                kind="punishment" if n % 3 else "reward",
                target_subject=subject,
                implementing_department=departments[0],
                status="repealed" if n % 10 == 9 else "in_force",
                repealed_on=datetime.date(2020, 1, 1) if n % 10 == 9 else None,
            )
            for n, subject in enumerate(subjects)
        ]
    )
    through = Memorandum.initiating_departments.through
    through.objects.bulk_create(
        [
            through(memorandum_id=memo.pk, department_id=department.pk)
            for memo in memos
            for department in departments[1 + memo.seq % 2 : 3 + memo.seq % 2]
        ]
    )
    measures = Measure.objects.bulk_create(
        [
            Measure(memo=memo, order=order, text=f"第{order}项措施：加大日常监督检查频次")
            for memo in memos
            for order in range(1, MEASURES_PER_MEMO + 1)
        ]
    )
    through = Measure.divisions.through
    through.objects.bulk_create(
        [
            through(measure_id=measure.pk, division_id=divisions[measure.order % 3].pk)
            for measure in measures
        ]
    )
    return {
        "memo": memos[0].pk,
        "division": divisions[2].pk,
    }


def urls(ids: dict) -> dict[str, str]:
    """What is counted: a name for each request (ids differ between the two builds)."""
    return {
        "list": "/",
        "list, searched": "/?search=失信对象",
        "list, pinyin initials": "/?search=sxdx",
        "list, every filter": (
            "/?kind=punishment&division=行政审批处&department=市国税局&include_repealed=true"
        ),
        "list, unknown kind": "/?kind=bogus",
        "memo": f"/memos/{ids['memo']}/",
        "lookup form": "/lookup/",
        "lookup": "/lookup/?q=失信对象",
        "lookup, pinyin initials": "/lookup/?q=sxdx",
        "divisions": "/divisions/",
        "division": f"/divisions/{ids['division']}/",
        "api memos": "/api/memos/",
        "api memos, filtered": "/api/memos/?search=失信对象&kind=punishment&division=人事处",
        "api memos, pinyin initials": "/api/memos/?search=sxdx",
        "api memo": f"/api/memos/{ids['memo']}/",
        "api lookup": "/api/lookup/?q=失信对象",
        "api lookup, pinyin initials": "/api/lookup/?q=sxdx",
        "export": "/export.xlsx?search=失信对象1",
    }


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def clear():
    Memorandum.objects.all().delete()
    ResponsibilityList.objects.all().delete()
    TargetSubject.objects.all().delete()
    Department.objects.all().delete()
    Division.objects.all().delete()


def test_pages_and_api_run_a_fixed_number_of_queries_at_1000_memos(
    clerk_client, django_assert_max_num_queries
):
    # Signed in (the division pages need it): the session and permission
    # lookups are part of every count, at 10 memos as at 1,000.
    client = clerk_client
    ids = build_list(10)
    at_10 = {name: count_queries(client, url) for name, url in urls(ids).items()}
    clear()

    ids = build_list(1000)
    assert Measure.objects.count() == 1000 * MEASURES_PER_MEMO
    at_1000 = {}
    for name, url in urls(ids).items():
        with django_assert_max_num_queries(MAX_QUERIES, info=name) as queries:
            response = client.get(url)
        assert response.status_code == 200, name
        at_1000[name] = len(queries)

    # Truly flat: not merely under the ceiling, but the same count as at 10 memos.
    assert at_1000 == at_10


@pytest.mark.parametrize("url", ["/", "/api/memos/", "/?kind=punishment&page=2"])
def test_the_list_and_the_memo_api_take_at_most_nine_queries_for_a_visitor(
    client, db, django_assert_max_num_queries, url
):
    build_list(1000)
    # Nine: the eight before issue 15, plus one for the measures' legal bases.
    with django_assert_max_num_queries(9):
        response = client.get(url)
    assert response.status_code == 200
