import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Prefetch, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from memo_registry.lib.models import Named, Tidied, import_batch_field
from memo_registry.lib.text import canonical_doc_number, squeeze
from memo_registry.lib.versioning import Versioned
from subjects.models import TargetSubject


class ResponsibilityList(models.Model):
    """A notice that issues a responsibility list (责任清单).

    The 2018 list is notice 武质技监管〔2018〕22号 of the 武汉市质量技术监督局.
    The registry keeps every list it has held; exactly one is current, and
    it is what the pages and the API show unless another is asked for.
    """

    doc_number = models.CharField("文号", max_length=100, unique=True)
    title = models.CharField("清单名称", max_length=300)
    notice_title = models.CharField("通知标题", max_length=300, blank=True)
    issuer = models.CharField("发文机关", max_length=100)
    issued_on = models.DateField("发文日期", null=True, blank=True)
    is_current = models.BooleanField("现行清单", default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "责任清单"
        verbose_name_plural = "责任清单"
        ordering = ["-is_current", "-issued_on", "doc_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=models.Q(is_current=True),
                name="only_one_current_list",
                violation_error_message="只能有一份现行清单。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}（{self.doc_number}）"

    def save(self, *args, **kwargs):
        self.doc_number = canonical_doc_number(self.doc_number)
        self.title = squeeze(self.title)
        self.notice_title = squeeze(self.notice_title)
        self.issuer = squeeze(self.issuer)
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "ResponsibilityList | None":
        return cls.objects.filter(is_current=True).first()

    def make_current(self) -> None:
        """Make this the current list (and no other)."""
        type(self).objects.filter(is_current=True).exclude(pk=self.pk).update(is_current=False)
        self.is_current = True
        self.save()


class Department(Named):
    """A government department: one that initiates a memorandum (发起部门,
    e.g. 市国税局) or implements it (实施部门, e.g. 全市质监部门)."""

    history = HistoricalRecords()

    class Meta(Named.Meta):
        verbose_name = "部门"
        verbose_name_plural = "部门"


class MemorandumQuerySet(models.QuerySet):
    """The one way to ask for memoranda: which (``of_list``, ``in_force``) and
    with what (``with_relations``).  The pages, the API, the exports, the
    lookups, the memo cache and the import's plan all read memos through these,
    so "in force", "the current list" and "a memo with its measures" mean the
    same thing everywhere."""

    def in_force(self, on: datetime.date | None = None) -> "MemorandumQuerySet":
        """The memos in force on the day ``on`` (today in Asia/Shanghai when None):
        not repealed, or repealed from a later day (a repeal dated 2030-01-01
        leaves the memo in force until then).  The one definition of "in
        force"; ``Memorandum.is_in_force_on`` says the same of one memo."""
        on = on or timezone.localdate()
        return self.filter(Q(status=Memorandum.Status.IN_FORCE) | Q(repealed_on__gt=on))

    def of_list(
        self, responsibility_list: ResponsibilityList | None = None
    ) -> "MemorandumQuerySet":
        """The memos of ``responsibility_list``; of the current list when None.

        The current list is a join, not a query of its own; with no current
        list there is no memo.
        """
        if responsibility_list is None:
            return self.filter(responsibility_list__is_current=True)
        return self.filter(responsibility_list=responsibility_list)

    def with_relations(self, measures: models.QuerySet | None = None) -> "MemorandumQuerySet":
        """The memos with everything they are shown with, in a fixed number of queries.

        Their list, target subject and implementing department (joined);
        their initiating departments in the order they were entered (by id:
        the document's order, 市国税局 before 市地税局); their measures in
        order (``memo.measures.all()``), each with its divisions by id (the
        document's order too) and its legal bases in order.  Four queries
        besides the memos', whatever their number.

        ``measures`` narrows the measures shown with each memo (a division's
        page shows only that division's).  Any prefetch the queryset already
        had is replaced: the export is handed the list page's queryset, and
        a second prefetch of the same relation would clash with the first.
        """
        # memos may not import measures (the apps' layers): the models come
        # from the reverse relation, as ``memo.measures`` does at run time.
        measure_model = self.model._meta.get_field("measures").related_model
        division_model = measure_model._meta.get_field("divisions").related_model
        basis_model = measure_model._meta.get_field("legal_basis").related_model
        measures = measures if measures is not None else measure_model.objects.all()
        return (
            self.select_related("responsibility_list", "target_subject", "implementing_department")
            .prefetch_related(None)
            .prefetch_related(
                Prefetch("initiating_departments", queryset=Department.objects.order_by("pk")),
                Prefetch(
                    "measures",
                    queryset=measures.order_by("order").prefetch_related(
                        Prefetch("divisions", queryset=division_model.objects.order_by("pk")),
                        # Their legal bases (实施依据), from which each shows its basis status.
                        Prefetch(
                            "legal_basis", queryset=basis_model.objects.order_by("order", "pk")
                        ),
                    ),
                ),
            )
        )


class Memorandum(Tidied, Versioned):
    """A joint reward or punishment memorandum (联合奖惩备忘录) as one item
    of a responsibility list: which subjects it targets and, through its
    measures, what the bureau does about them."""

    class Kind(models.TextChoices):
        REWARD = "reward", "激励"
        PUNISHMENT = "punishment", "惩戒"

    class Status(models.TextChoices):
        IN_FORCE = "in_force", "现行有效"
        REPEALED = "repealed", "已废止"

    responsibility_list = models.ForeignKey(
        ResponsibilityList,
        on_delete=models.PROTECT,
        related_name="memos",
        verbose_name="所属清单",
    )
    seq = models.PositiveIntegerField("序号")
    doc_number = models.CharField(
        "文号", max_length=100, help_text="按 GB/T 9704 存为“发改财金〔2016〕1467号”的形式。"
    )
    title = models.CharField("备忘录名称", max_length=300)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    initiating_departments = models.ManyToManyField(
        Department, related_name="initiated_memos", verbose_name="发起部门"
    )
    target_subject = models.ForeignKey(
        TargetSubject,
        on_delete=models.PROTECT,
        related_name="memos",
        verbose_name="奖惩对象",
    )
    implementing_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="implemented_memos",
        verbose_name="实施部门",
    )
    no_function = models.BooleanField(
        "无相关职能", default=False, help_text="本局无相关职能时勾选，此备忘录不设措施。"
    )
    no_function_note = models.CharField("无相关职能说明", max_length=200, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=Status.choices, default=Status.IN_FORCE
    )
    repealed_on = models.DateField("废止日期", null=True, blank=True)
    effective_on = models.DateField(
        "生效日期",
        null=True,
        blank=True,
        help_text=(
            "本局开始执行的日期：清单发文时已有的备忘录为清单的发文日期（留空即是），"
            "后来增补的为增补之日。已在名单中的主体从此日起进入各处室的待办。"
        ),
    )
    import_batch = import_batch_field()
    history = HistoricalRecords(m2m_fields=[initiating_departments])

    objects = MemorandumQuerySet.as_manager()

    class Meta:
        verbose_name = "备忘录"
        verbose_name_plural = "备忘录"
        ordering = ["responsibility_list", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["responsibility_list", "doc_number"],
                name="unique_doc_number_per_list",
                violation_error_message="同一清单中文号不能重复。",
            ),
            # A repealed memo gives up its 序号: a new memo may take it.
            models.UniqueConstraint(
                fields=["responsibility_list", "seq"],
                condition=models.Q(status="in_force"),
                name="unique_seq_per_list_not_repealed",
                violation_error_message="同一清单中现行有效的备忘录序号不能重复。",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["reward", "punishment"]),
                name="memo_kind_valid",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status="in_force", repealed_on__isnull=True)
                    | models.Q(status="repealed", repealed_on__isnull=False)
                ),
                name="memo_repealed_has_date",
                violation_error_message="已废止的备忘录须填写废止日期，现行有效的不填。",
            ),
            models.CheckConstraint(
                condition=models.Q(no_function=True) | models.Q(no_function_note=""),
                name="memo_note_only_without_function",
                violation_error_message="只有“无相关职能”的备忘录才填写说明。",
            ),
            models.CheckConstraint(
                condition=~models.Q(doc_number=""), name="memo_doc_number_not_empty"
            ),
        ]
        indexes = [
            models.Index(fields=["kind"], name="memo_kind_idx"),
            models.Index(fields=["doc_number"], name="memo_doc_number_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.doc_number} {self.title}"

    def tidy(self) -> None:
        """The text rules every save applies (and bulk writes call themselves)."""
        self.doc_number = canonical_doc_number(self.doc_number)
        self.title = squeeze(self.title)
        self.no_function_note = squeeze(self.no_function_note)

    def clean(self):
        self.doc_number = canonical_doc_number(self.doc_number)
        if self.status == self.Status.REPEALED and not self.repealed_on:
            raise ValidationError({"repealed_on": "已废止的备忘录须填写废止日期。"})
        if self.status == self.Status.IN_FORCE and self.repealed_on:
            raise ValidationError({"repealed_on": "现行有效的备忘录不填废止日期。"})
        if self.no_function_note and not self.no_function:
            raise ValidationError({"no_function_note": "只有勾选“无相关职能”时才填写说明。"})

    def is_in_force_on(self, on: datetime.date) -> bool:
        """``MemorandumQuerySet.in_force`` for one memo."""
        return self.status == self.Status.IN_FORCE or (
            self.repealed_on is not None and self.repealed_on > on
        )

    @property
    def is_in_force(self) -> bool:
        """In force today (Asia/Shanghai)."""
        return self.is_in_force_on(timezone.localdate())
