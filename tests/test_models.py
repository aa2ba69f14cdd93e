"""Model rules: canonical 文号, uniqueness, status and one current list."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from memos.models import Memorandum, ResponsibilityList
from tests.factories import (
    MeasureFactory,
    MemorandumFactory,
    ResponsibilityListFactory,
)

pytestmark = pytest.mark.django_db


def test_it_stores_the_doc_number_in_canonical_form():
    memo = MemorandumFactory(doc_number="发改财金 【 2016 】 1467 号")
    memo.refresh_from_db()
    assert memo.doc_number == "发改财金〔2016〕1467号"


def test_a_doc_number_is_unique_within_a_list_whatever_its_brackets():
    memo = MemorandumFactory(doc_number="发改财金(2016)1467号")
    with pytest.raises(IntegrityError), transaction.atomic():
        MemorandumFactory(
            responsibility_list=memo.responsibility_list, doc_number="发改财金（2016）1467号"
        )


def test_the_same_doc_number_may_appear_in_another_list():
    memo = MemorandumFactory(doc_number="发改财金〔2016〕1467号")
    other = MemorandumFactory(doc_number="发改财金〔2016〕1467号", seq=memo.seq)
    assert other.responsibility_list != memo.responsibility_list


def test_seq_is_unique_within_a_list():
    memo = MemorandumFactory(seq=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        MemorandumFactory(responsibility_list=memo.responsibility_list, seq=3)


def test_only_one_list_is_current():
    ResponsibilityListFactory(is_current=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ResponsibilityListFactory(is_current=True)


def test_make_current_moves_the_flag():
    old = ResponsibilityListFactory(is_current=True)
    new = ResponsibilityListFactory()
    new.make_current()
    old.refresh_from_db()
    assert ResponsibilityList.current() == new
    assert not old.is_current


def test_a_repealed_memo_needs_its_date_and_stays_on_record():
    memo = MemorandumFactory()
    memo.status = Memorandum.Status.REPEALED
    with pytest.raises(ValidationError):
        memo.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        memo.save()
    memo.repealed_on = datetime.date(2021, 5, 1)
    memo.full_clean()
    memo.save()
    assert Memorandum.objects.filter(pk=memo.pk, status="repealed").exists()


def test_a_note_belongs_only_to_a_memo_without_function():
    memo = MemorandumFactory()
    memo.no_function_note = "无相关职能"
    with pytest.raises(ValidationError):
        memo.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        memo.save()


def test_measures_keep_their_order_and_it_is_unique():
    measure = MeasureFactory(order=1)
    MeasureFactory(memo=measure.memo, order=2)
    assert [m.order for m in measure.memo.measures.all()] == [1, 2]
    with pytest.raises(IntegrityError), transaction.atomic():
        MeasureFactory(memo=measure.memo, order=2)


def test_a_memo_without_function_refuses_a_measure():
    memo = MemorandumFactory(no_function=True, no_function_note="我市质监部门无相关职能")
    measure = MeasureFactory.build(memo=memo, order=1, text="某措施")
    with pytest.raises(ValidationError):
        measure.full_clean()


def test_str_reads_as_staff_write_them(list_2018):
    memo = Memorandum.objects.get(seq=1)
    assert str(memo) == "发改财金〔2016〕1467号 关于对纳税信用A级纳税人实施联合激励措施的合作备忘录"
    assert str(list_2018) == "全市质监部门参与的联合奖惩备忘录责任清单（武质技监管〔2018〕22号）"
    assert str(memo.measures.first()).startswith("1、作为各部门")
