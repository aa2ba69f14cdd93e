from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
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

    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="divisions",
        blank=True,
        verbose_name="处室人员",
        help_text="处室的工作人员：在“处室待办”中看到本处室的待办事项，并为本处室录入反馈。",
    )
    history = HistoricalRecords(m2m_fields=[members])

    class Meta(Named.Meta):
        verbose_name = "责任处室"
        verbose_name_plural = "责任处室"


class BasisStatus(models.TextChoices):
    """Whether a measure rests on what the rule (国办发〔2020〕49号) requires:
    a law, a regulation or a policy document of the Party Central Committee or
    the State Council."""

    SUFFICIENT = "sufficient", "依据充分"
    INSUFFICIENT = "insufficient", "依据不足"
    MISSING = "missing", "未录入实施依据"


class MeasureQuerySet(models.QuerySet):
    def with_basis_status(self):
        """Each measure's basis status as ``computed_basis_status``, computed in
        the query (so it can be filtered on), never stored."""
        bases = LegalBasis.objects.filter(measure=models.OuterRef("pk"))
        return self.annotate(
            computed_basis_status=models.Case(
                models.When(
                    models.Exists(bases.filter(level__in=LegalBasis.SUFFICIENT_LEVELS)),
                    then=models.Value(BasisStatus.SUFFICIENT),
                ),
                models.When(models.Exists(bases), then=models.Value(BasisStatus.INSUFFICIENT)),
                default=models.Value(BasisStatus.MISSING),
                output_field=models.CharField(),
            )
        )

    def in_basis_status(self, status: str):
        return self.with_basis_status().filter(computed_basis_status=status)


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
    basic_list_edition = models.CharField(
        "基础清单版本",
        max_length=50,
        blank=True,
        help_text="对应的全国失信惩戒措施基础清单版本（按该版本文件的名称填写）；无对应时留空。",
    )
    basic_list_item = models.CharField(
        "基础清单条目",
        max_length=50,
        blank=True,
        help_text="该版本中对应的条目序号；无对应时留空。",
    )
    feedback_working_days = models.PositiveSmallIntegerField(
        "反馈时限（工作日）",
        null=True,
        blank=True,
        help_text="空：按默认时限（设置 FEEDBACK_WORKING_DAYS，默认 15 个工作日）。",
    )
    import_batch = import_batch_field()
    history = HistoricalRecords(m2m_fields=[divisions])

    objects = MeasureQuerySet.as_manager()

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

    @property
    def basis_status(self) -> str:
        """The annotation when the query made one, else from the bases (the
        prefetched ones when a page prefetched them)."""
        annotated = getattr(self, "computed_basis_status", None)
        if annotated is not None:
            return annotated
        return basis_status_of(self.legal_basis.all())

    @property
    def basis_status_label(self) -> str:
        return BasisStatus(self.basis_status).label


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

    class Outcome(models.TextChoices):
        APPLIED = "applied", "已实施"
        NOT_APPLICABLE = "not_applicable", "不适用：无相关业务"
        NOT_OCCURRED = "not_occurred", "已移出名单前未发生"

    outcome = models.CharField(
        "反馈结果", max_length=20, choices=Outcome.choices, default=Outcome.APPLIED
    )
    done_on = models.DateField("实施日期")
    document_number = models.CharField("文书号", max_length=100, blank=True)
    action = models.TextField("实施情况")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="录入人",
    )
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True, editable=False)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="撤回人",
        editable=False,
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "实施反馈"
        verbose_name_plural = "实施反馈"
        ordering = ["-done_on", "-id"]
        indexes = [models.Index(fields=["subject", "measure"], name="feedback_subject_measure_idx")]
        permissions = [("record_any_division", "可为任何处室录入、撤回实施反馈")]

    def __str__(self) -> str:
        return f"{self.division} {self.done_on} {self.action[:30]}"

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    def withdraw(self, user) -> None:
        """Withdraw the report (it stays on record, with its history); the
        item it closed opens again.  Only its division, or an administrator."""
        if not may_act_for(user, self.division):
            raise PermissionDenied(not_member_message(self.division))
        if self.withdrawn:
            return
        self.withdrawn_at, self.withdrawn_by = timezone.now(), user
        self.save(update_fields=["withdrawn_at", "withdrawn_by"])

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
        if division is not None and not errors:
            # Whoever records or corrects it: a member of the division, or an
            # administrator (the page, the admin and the API set acting_user).
            user = getattr(self, "acting_user", None) or self._related("recorded_by")
            if user is not None and not may_act_for(user, division):
                errors["division"] = ValidationError(
                    not_member_message(division), code="not_member"
                )
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


def may_act_for(user, division) -> bool:
    """Records, corrects and withdraws feedback for ``division``: its
    members, and administrators (measures.record_any_division) for any."""
    if user is None or not user.is_authenticated:
        return False
    if user.has_perm("measures.record_any_division"):
        return True
    return division.members.filter(pk=user.pk).exists()


def divisions_acted_for(user) -> set[int] | None:
    """The ids of the divisions ``user`` records feedback for (its member
    divisions), or None for any division (measures.record_any_division):
    the rule of :func:`may_act_for`, for a page offering several at once."""
    if user.has_perm("measures.record_any_division"):
        return None
    if not user.is_authenticated:
        return set()
    return set(Division.objects.filter(members=user).values_list("pk", flat=True))


def not_member_message(division) -> str:
    return f"您不是“{division.name}”的人员，不能为该处室录入、更正或撤回反馈。"


class WorkSeen(models.Model):
    """When a user last opened the work list (处室待办): items that came in
    after it are shown to them as new."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="work_seen",
        verbose_name="用户",
    )
    seen_at = models.DateTimeField("上次查看处室待办")

    class Meta:
        verbose_name = "待办查看时间"
        verbose_name_plural = "待办查看时间"

    def __str__(self) -> str:
        return f"{self.user} {self.seen_at:%Y-%m-%d %H:%M}"


class WorkTally(models.Model):
    """How many work items share a (division, memo, list, listing day,
    opening day, deadline, end, feedback day): the counts behind /work/,
    the navigation and /stats/ at province scale.  Nothing here depends on
    the day asked (which items are overdue or lifted is decided when read),
    so it never goes stale overnight; ``memo_registry.services.work_tally``
    keeps it, and tells when a write it did not see makes it stale."""

    division = models.ForeignKey(Division, on_delete=models.CASCADE, related_name="+")
    memo = models.ForeignKey(Memorandum, on_delete=models.CASCADE, related_name="+")
    target_subject = models.ForeignKey(
        "subjects.TargetSubject", on_delete=models.CASCADE, related_name="+"
    )
    listed_on = models.DateField()
    opened_on = models.DateField()
    days = models.PositiveSmallIntegerField()
    # The first day the listing is not in force, and the first day neither it
    # nor a listing that carries its item on is (9999-12-31: no end).
    own_stop = models.DateField()
    chain_stop = models.DateField()
    feedback_on = models.DateField(null=True)
    n = models.IntegerField()

    class Meta:
        verbose_name = "待办计数"
        verbose_name_plural = "待办计数"
        indexes = [models.Index(fields=["division", "opened_on"], name="work_tally_division_idx")]

    def __str__(self) -> str:
        return f"{self.division_id}/{self.memo_id} {self.opened_on}: {self.n}"


class LegalBasis(models.Model):
    """One legal basis (实施依据) of a measure: the level of the document, its
    title (《…》 or a 文号) and the article."""

    class Level(models.TextChoices):
        LAW = "法律", "法律"
        ADMINISTRATIVE_REGULATION = "行政法规", "行政法规"
        LOCAL_REGULATION = "地方性法规", "地方性法规"
        CENTRAL_POLICY = "党中央国务院政策文件", "党中央国务院政策文件"
        DEPARTMENTAL_RULE = "部门规章", "部门规章"
        NORMATIVE_DOCUMENT = "规范性文件", "规范性文件"
        MEMORANDUM = "备忘录", "备忘录"

    # The levels 国办发〔2020〕49号 accepts as the ground of a measure.
    SUFFICIENT_LEVELS = (
        Level.LAW,
        Level.ADMINISTRATIVE_REGULATION,
        Level.LOCAL_REGULATION,
        Level.CENTRAL_POLICY,
    )

    measure = models.ForeignKey(
        Measure, on_delete=models.CASCADE, related_name="legal_basis", verbose_name="措施"
    )
    order = models.PositiveSmallIntegerField("顺序", default=1)
    level = models.CharField("层级", max_length=20, choices=Level.choices)
    title = models.CharField("文件名称或文号", max_length=200)
    article = models.CharField("条款", max_length=100, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "实施依据"
        verbose_name_plural = "实施依据"
        ordering = ["measure", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(title=""), name="legal_basis_title_not_empty"
            ),
        ]

    def __str__(self) -> str:
        # The form the spreadsheets and the admin read (memo_registry.services.legal_basis).
        return f"{self.level}：{self.title}{self.article}"

    def save(self, *args, **kwargs):
        self.title = self.title.strip()
        self.article = self.article.strip()
        super().save(*args, **kwargs)


def basis_status_of(bases) -> str:
    """The status of a measure with these bases (LegalBasis or their levels)."""
    levels = {getattr(basis, "level", basis) for basis in bases}
    if levels & set(LegalBasis.SUFFICIENT_LEVELS):
        return BasisStatus.SUFFICIENT
    return BasisStatus.INSUFFICIENT if levels else BasisStatus.MISSING
