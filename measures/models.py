from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from memo_registry.text import squeeze
from memos.models import Memorandum


class Division(models.Model):
    """A division of the bureau (责任处室) responsible for carrying out
    measures: 人事处, 行政审批处, 有关业务处室和直属机构 …"""

    name = models.CharField("名称", max_length=100, unique=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "责任处室"
        verbose_name_plural = "责任处室"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="division_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name = squeeze(self.name)
        super().save(*args, **kwargs)


class Measure(models.Model):
    """One reward or punishment measure (奖惩措施) the bureau applies under a
    memorandum, in the order the list numbers them, with the divisions
    responsible for it."""

    memo = models.ForeignKey(
        Memorandum, on_delete=models.CASCADE, related_name="measures", verbose_name="备忘录"
    )
    order = models.PositiveSmallIntegerField("顺序", default=1)
    text = models.TextField("奖惩措施")
    divisions = models.ManyToManyField(Division, related_name="measures", verbose_name="责任处室")
    import_batch = models.ForeignKey(
        "audit.ImportBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="导入记录",
        editable=False,
    )
    history = HistoricalRecords(m2m_fields=[divisions])

    class Meta:
        verbose_name = "奖惩措施"
        verbose_name_plural = "奖惩措施"
        ordering = ["memo", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["memo", "order"],
                name="unique_measure_order_per_memo",
                violation_error_message="同一备忘录中措施顺序不能重复。",
            ),
            models.CheckConstraint(condition=~models.Q(text=""), name="measure_text_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.order}、{self.text[:40]}"

    def save(self, *args, **kwargs):
        self.tidy()
        super().save(*args, **kwargs)

    def tidy(self) -> None:
        """The text rule every save applies (and bulk writes call themselves)."""
        self.text = squeeze(self.text)

    def clean(self):
        if self.memo_id and self.memo.no_function:
            raise ValidationError("该备忘录已标为“无相关职能”，不能添加措施。")


class Feedback(models.Model):
    """A division's report that it applied a measure to a flagged subject
    (反馈): the closing step of the joint reward and punishment loop."""

    measure = models.ForeignKey(
        Measure, on_delete=models.PROTECT, related_name="feedback", verbose_name="措施"
    )
    subject = models.ForeignKey(
        "subjects.Subject", on_delete=models.CASCADE, related_name="feedback", verbose_name="主体"
    )
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="feedback", verbose_name="反馈处室"
    )
    done_on = models.DateField("实施日期")
    action = models.TextField("实施情况")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="录入人",
    )
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "实施反馈"
        verbose_name_plural = "实施反馈"
        ordering = ["-done_on", "-id"]
        indexes = [models.Index(fields=["subject", "measure"], name="feedback_subject_measure_idx")]

    def __str__(self) -> str:
        return f"{self.division} {self.done_on} {self.action[:30]}"
