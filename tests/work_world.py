"""The world of the work-list tests (issue 14): a current list, one memo on
失信企业 whose two measures belong to two divisions, a clerk in each."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from tests.factories import (
    DivisionFactory,
    ListingFactory,
    MeasureFactory,
    MemorandumFactory,
    ResponsibilityListFactory,
    SubjectFactory,
    TargetSubjectFactory,
)

DAY = datetime.timedelta(days=1)
PASSWORD = "pw-Registry-2018"


@pytest.fixture(name="world")
def world_fixture(db, django_user_model):
    """A current list with one memo on 失信企业; its measure 1 is 行政审批处's,
    measure 2 人事处's.  A clerk of each division."""
    current = ResponsibilityListFactory(is_current=True, issued_on=datetime.date(2020, 1, 1))
    target = TargetSubjectFactory(label="失信企业")
    memo = MemorandumFactory(responsibility_list=current, target_subject=target)
    approvals = DivisionFactory(name="行政审批处")
    personnel = DivisionFactory(name="人事处")
    first = MeasureFactory(memo=memo, order=1, divisions=[approvals])
    second = MeasureFactory(memo=memo, order=2, divisions=[personnel])
    viewers = Group.objects.get(name="查阅")
    clerk = django_user_model.objects.create_user("approvals_clerk", password=PASSWORD)
    clerk.groups.add(viewers)
    approvals.members.add(clerk)
    other = django_user_model.objects.create_user("personnel_clerk", password=PASSWORD)
    other.groups.add(viewers)
    personnel.members.add(other)
    return {
        "list": current,
        "target": target,
        "memo": memo,
        "approvals": approvals,
        "personnel": personnel,
        "first": first,
        "second": second,
        "clerk": clerk,
        "other": other,
    }


def listing(world, days_ago: int, name: str = "武汉市某某食品有限公司", **extra):
    subject = SubjectFactory(name=name)
    today = timezone.localdate()
    values = {"expires_on": today + 700 * DAY}
    values.update(extra)
    return ListingFactory(
        subject=subject, target_subject=world["target"], listed_on=today - days_ago * DAY, **values
    )


def report(world, entry, done_on):
    """行政审批处's clerk reports measure 1 done for ``entry``'s subject."""
    from measures.models import Feedback

    return Feedback.objects.create(
        measure=world["first"],
        subject=entry.subject,
        division=world["approvals"],
        done_on=done_on,
        action="已实施",
        recorded_by=world["clerk"],
    )
