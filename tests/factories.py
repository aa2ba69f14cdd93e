"""factory-boy factories, one per model."""

import datetime

import factory

from measures.models import Division, Feedback, Measure
from memos.models import Department, Memorandum, ResponsibilityList
from subjects.models import Listing, Subject, TargetSubject


class ResponsibilityListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResponsibilityList
        django_get_or_create = ["doc_number"]

    doc_number = factory.Sequence(lambda n: f"测试监管〔2020〕{n + 1}号")
    title = factory.Sequence(lambda n: f"测试责任清单{n + 1}")
    issuer = "测试市质量技术监督局"
    issued_on = datetime.date(2020, 1, 1)
    is_current = False


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"市测试局{n + 1}")


class DivisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Division
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"测试处{n + 1}")


class TargetSubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TargetSubject

    label = factory.Sequence(lambda n: f"测试对象{n + 1}")
    definition = factory.LazyAttribute(lambda o: f"被认定为{o.label}的企业及其法定代表人。")


class MemorandumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Memorandum
        skip_postgeneration_save = True

    responsibility_list = factory.SubFactory(ResponsibilityListFactory)
    seq = factory.Sequence(lambda n: n + 1)
    doc_number = factory.Sequence(lambda n: f"发改财金〔2016〕{n + 1}号")
    title = factory.LazyAttribute(
        lambda o: f"关于对{o.target_subject.label}实施联合惩戒的合作备忘录"
    )
    kind = Memorandum.Kind.PUNISHMENT
    target_subject = factory.SubFactory(TargetSubjectFactory)
    implementing_department = factory.SubFactory(DepartmentFactory, name="全市质监部门")

    @factory.post_generation
    def initiating_departments(self, create, extracted, **kwargs):
        if not create:
            return
        self.initiating_departments.set(extracted or [DepartmentFactory()])


class MeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measure
        skip_postgeneration_save = True

    memo = factory.SubFactory(MemorandumFactory)
    order = factory.Sequence(lambda n: n + 1)
    text = factory.Sequence(lambda n: f"加大对失信企业日常监督检查频次（第{n + 1}项）")

    @factory.post_generation
    def divisions(self, create, extracted, **kwargs):
        if not create:
            return
        self.divisions.set(extracted or [DivisionFactory()])


def valid_uscc(n: int) -> str:
    """A made-up 统一社会信用代码 with a correct check character."""
    from stdnum.cn import uscc

    base = f"914201{n:011d}"
    return base + uscc.calc_check_digit(base)


class SubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subject
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: valid_uscc(n + 1))
    kind = Subject.Kind.ORGANISATION
    name = factory.Sequence(lambda n: f"武汉市测试科技有限公司{n + 1}")


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    subject = factory.SubFactory(SubjectFactory)
    target_subject = factory.SubFactory(TargetSubjectFactory)
    source = "市质监局"
    basis = "武质监罚〔2024〕1号"
    listed_on = datetime.date(2024, 1, 1)
    expires_on = datetime.date(2027, 1, 1)


class FeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feedback

    measure = factory.SubFactory(MeasureFactory)
    subject = factory.SubFactory(SubjectFactory)
    division = factory.SubFactory(DivisionFactory)
    done_on = datetime.date(2024, 2, 1)
    action = "已列为重点监管对象，提高抽查频次。"
