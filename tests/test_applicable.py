"""What applies to a flagged subject today, computed from the registry."""

import datetime

import pytest

from memo_registry.services.lookup import status_for, statuses_for
from memos.models import Memorandum
from tests.factories import FeedbackFactory, ListingFactory, SubjectFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2025, 6, 15)


def _memo(seq):
    return Memorandum.objects.get(seq=seq)


def _list(subject, seq, **dates):
    dates.setdefault("listed_on", TODAY - datetime.timedelta(days=30))
    dates.setdefault("expires_on", TODAY + datetime.timedelta(days=700))
    return ListingFactory(subject=subject, target_subject=_memo(seq).target_subject, **dates)


def test_the_measures_of_two_lists_come_out_merged_and_in_order(list_2018):
    subject = SubjectFactory()
    _list(subject, 8)  # 农资领域严重失信: one measure
    _list(subject, 7)  # 严重质量违法失信: three measures
    status = status_for(subject, TODAY)
    assert status.listed
    assert [(item.memo.seq, item.measure.order) for item in status.measures] == [
        (7, 1),
        (7, 2),
        (7, 3),
        (8, 1),
    ]
    assert [d.name for d in status.measures[0].divisions] == ["有关业务处室和直属机构"]


def test_each_measure_comes_once_when_two_listings_bring_the_same_memo(list_2018):
    subject = SubjectFactory()
    _list(subject, 7, listed_on=TODAY - datetime.timedelta(days=300))
    _list(subject, 7, listed_on=TODAY - datetime.timedelta(days=10))
    assert len(status_for(subject, TODAY).measures) == 3


def test_expired_and_lifted_listings_bring_nothing_but_stay_listed(list_2018):
    subject = SubjectFactory()
    _list(
        subject,
        7,
        listed_on=TODAY - datetime.timedelta(days=800),
        expires_on=TODAY - datetime.timedelta(days=1),
    )
    _list(subject, 6, lifted_on=TODAY, lift_reason="信用修复")
    status = status_for(subject, TODAY)
    assert not status.listed
    assert status.measures == []
    assert len(status.listings) == 2


def test_a_memo_without_function_is_reported_not_hidden(list_2018):
    subject = SubjectFactory()
    _list(subject, 5)  # 失信被执行人
    status = status_for(subject, TODAY)
    assert status.listed
    assert status.measures == []
    assert [memo.seq for memo in status.no_function_memos] == [5]


def test_feedback_marks_a_measure_done(list_2018):
    subject = SubjectFactory()
    _list(subject, 7)
    measure = _memo(7).measures.get(order=2)
    FeedbackFactory(subject=subject, measure=measure, done_on=TODAY)
    status = status_for(subject, TODAY)
    assert [item.done for item in status.measures] == [False, True, False]
    assert len(status.open_measures) == 2


def test_feedback_from_before_the_listing_does_not_count(list_2018):
    subject = SubjectFactory()
    _list(subject, 7, listed_on=TODAY - datetime.timedelta(days=5))
    measure = _memo(7).measures.get(order=1)
    FeedbackFactory(subject=subject, measure=measure, done_on=TODAY - datetime.timedelta(days=400))
    assert not status_for(subject, TODAY).measures[0].done


def test_a_repealed_memo_no_longer_applies(list_2018):
    memo = _memo(7)
    memo.status = Memorandum.Status.REPEALED
    memo.repealed_on = TODAY - datetime.timedelta(days=1)
    memo.save()
    subject = SubjectFactory()
    _list(subject, 7)
    assert status_for(subject, TODAY).measures == []


def test_many_subjects_cost_a_fixed_number_of_queries(list_2018, django_assert_max_num_queries):
    subjects = [SubjectFactory() for _ in range(40)]
    for subject in subjects:
        _list(subject, 7)
        _list(subject, 4)
    with django_assert_max_num_queries(8):
        statuses = statuses_for(subjects, TODAY)
    assert all(len(status.measures) == 5 for status in statuses.values())
