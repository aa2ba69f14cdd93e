from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from memo_registry.lib.models import Named, Tidied, import_batch_field
from memo_registry.lib.text import without_leading_number
from memo_registry.lib.versioning import Versioned
from memos.models import Memorandum
from subjects.models import Listing


class Division(Named):
    """A division of the bureau (责任处室) responsible for carrying out
    measures: 人事处, 行政审批处, 有关业务处室和直属机构 …"""

    history = HistoricalRecords()

    class Meta(Named.Meta):
        verbose_name = "责任处室"
        verbose_name_plural = "责任处室"


class Measure(Tidied, Versioned):
    """One reward or punishment measure (奖惩措施) the bureau applies under a
    memorandum, in the order the list numbers them, with the divisions
    responsible for it."""

    memo = models.ForeignKey(
        Memorandum, on_delete=models.CASCADE, related_name="measures", verbose_name="备忘录"
    )
    order = models.PositiveSmallIntegerField("顺序", default=1)
    text = models.TextField("奖惩措施")
    divisions = models.ManyToManyField(Division, related_name="measures", verbose_name="责任处室")
    import_batch = import_batch_field()
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

    def tidy(self) -> None:
        """The text rule every save applies (and bulk writes call themselves);
        a number typed before the text is the order's, not the text's."""
        self.text = without_leading_number(self.text)

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

    # --- the rules ------------------------------------------------------------
    #
    # Kept here, in the model's validation, so that the subject page, the
    # admin and any API calling full_clean() refuse the same reports with
    # the same words.  What "applies" means mirrors memo_registry.services.lookup
    # (a listing in force on the day, a memo of the current list in force
    # that day, reports counted from the earliest listing in force today),
    # without importing it: this app sits below the services layer.

    def clean(self):
        errors = {}
        measure, division = self._related("measure"), self._related("division")
        if measure is not None and division is not None:
            errors.update(self._division_errors(measure, division))
        if self.done_on is not None:
            today = timezone.localdate()  # Asia/Shanghai (settings.TIME_ZONE)
            if self.done_on > today:
                errors["done_on"] = ValidationError(
                    "实施日期不能晚于今天（%(today)s）。",
                    params={"today": today.isoformat()},
                    code="future",
                )
            elif measure is not None and self.subject_id is not None:
                # Only for a date that has come: whether a measure "applied"
                # on a future day cannot be known yet.
                errors.update(self._applicability_errors(measure, today))
        if errors:
            raise ValidationError(errors)

    def _related(self, name):
        # None when the field is empty or names a missing row: clean_fields
        # has already said so, and clean() runs all the same.
        try:
            return getattr(self, name)
        except ObjectDoesNotExist:
            return None

    def _division_errors(self, measure, division) -> dict:
        """Only a division responsible for the measure may report it done."""
        responsible = list(measure.divisions.all())
        if division.pk in {item.pk for item in responsible}:
            return {}
        if not responsible:
            message = "该措施未设责任处室，不能录入反馈。"
        else:
            message = "“%(division)s”不是该措施的责任处室，反馈处室应为：%(responsible)s。"
        return {
            "division": ValidationError(
                message,
                params={
                    "division": division.name,
                    "responsible": "、".join(item.name for item in responsible),
                },
                code="not_responsible",
            )
        }

    def _applicability_errors(self, measure, today) -> dict:
        """The measure applied to the subject on ``done_on``: its memo is of
        the current list and in force that day, and the subject was on a
        list of the memo's target subjects that day; and ``done_on`` is not
        before the listing the subject page counts reports from."""
        memo = measure.memo
        done_on = self.done_on
        if not memo.responsibility_list.is_current:
            return {
                "measure": ValidationError(
                    "该措施所属的备忘录（%(doc_number)s）不在现行责任清单中，不适用。",
                    params={"doc_number": memo.doc_number},
                    code="not_current_list",
                )
            }
        if memo.status == Memorandum.Status.REPEALED and (
            memo.repealed_on is None or memo.repealed_on <= done_on
        ):
            return {
                "measure": ValidationError(
                    "该措施所属的备忘录（%(doc_number)s）已于 %(repealed_on)s 废止，"
                    "%(done_on)s 不再适用。",
                    params={
                        "doc_number": memo.doc_number,
                        "repealed_on": memo.repealed_on.isoformat() if memo.repealed_on else "",
                        "done_on": done_on.isoformat(),
                    },
                    code="repealed",
                )
            }
        listings = Listing.objects.filter(
            subject_id=self.subject_id, target_subject_id=memo.target_subject_id
        )
        # The subject page counts a report only from the earliest listing in
        # force today (memo_registry.services.lookup): one dated before it would
        # be saved and never shown.
        since = listings.in_force(today).aggregate(since=models.Min("listed_on"))["since"]
        if since is not None and done_on < since:
            return {
                "done_on": ValidationError(
                    "实施日期不能早于列入名单日期 %(listed_on)s。",
                    params={"listed_on": since.isoformat()},
                    code="before_listing",
                )
            }
        if not listings.in_force(done_on).exists():
            return {
                "measure": ValidationError(
                    "该主体在 %(done_on)s 未列入“%(target)s”名单，此措施不适用。",
                    params={"done_on": done_on.isoformat(), "target": memo.target_subject.label},
                    code="not_listed",
                )
            }
        return {}
