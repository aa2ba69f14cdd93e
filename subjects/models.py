import calendar
import datetime

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from memo_registry.lib.models import Tidied, import_batch_field
from memo_registry.lib.text import squeeze
from memo_registry.lib.versioning import Versioned
from subjects.codes import mask, parse_code


class TargetSubject(Tidied):
    """The subjects a memorandum targets (奖惩对象（行为）).

    ``definition`` is the memorandum's own wording; ``label`` is the short
    name staff search by when a subject is flagged (失信被执行人,
    海关高级认证企业 …).
    """

    label = models.CharField("对象简称", max_length=100, db_index=True)
    definition = models.TextField("奖惩对象（行为）")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "奖惩对象"
        verbose_name_plural = "奖惩对象"
        ordering = ["label", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(label=""), name="target_subject_label_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def tidy(self) -> None:
        """The text rules every save applies (and bulk writes call themselves)."""
        self.label = squeeze(self.label)
        self.definition = squeeze(self.definition)


class Subject(Versioned):
    """An enterprise or a person that a red or black list may name.

    Organisations are identified by their 统一社会信用代码, people by their
    居民身份证号码; the code is stored canonical (no spaces, upper case).
    """

    class Kind(models.TextChoices):
        ORGANISATION = "org", "法人和其他组织"
        PERSON = "person", "自然人"

    code = models.CharField("统一社会信用代码/身份证号码", max_length=18, unique=True)
    kind = models.CharField("主体类型", max_length=8, choices=Kind.choices)
    name = models.CharField("名称/姓名", max_length=200, db_index=True)
    checksum_exception = models.BooleanField(
        "校验位例外",
        default=False,
        help_text="早期试点代码的校验位不符合国家标准，经管理员核准后登记。",
    )
    import_batch = import_batch_field()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "主体"
        verbose_name_plural = "主体"
        ordering = ["name", "code"]
        permissions = [("view_full_identity", "可查看完整身份证号码")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["org", "person"]), name="subject_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.masked_code}）"

    def save(self, *args, **kwargs):
        self.name = squeeze(self.name)
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None):
        # The code decides the kind, so read it before the fields are checked.
        # Unless the code is excluded: the admin's form for a person, shown
        # to a user who may not see the number, has no code field, and an
        # error about the stored number would have no field to go to (a 500)
        # and would print the number.
        errors = {}
        exclude = set(exclude or ())
        if "code" not in exclude:
            try:
                parsed = parse_code(self.code, allow_bad_checksum=self.checksum_exception)
            except ValidationError as error:
                errors["code"] = error.messages
            else:
                self.code, self.kind = parsed.value, parsed.kind
                if (
                    self.checksum_exception
                    and parsed.checksum_ok
                    and "checksum_exception" not in exclude
                ):
                    errors["checksum_exception"] = ["该代码的校验位正确，无需登记为例外。"]
        exclude |= {"code", "kind"} if "code" in errors else set()
        try:
            super().clean_fields(exclude)
        except ValidationError as error:
            errors.update(error.message_dict)
        if errors:
            raise ValidationError(errors)

    @property
    def masked_code(self) -> str:
        return mask(self.code, self.kind)

    def code_for(self, user) -> str:
        """The code as ``user`` may see it: people's numbers masked unless
        the user holds subjects.view_full_identity."""
        if self.kind == self.Kind.PERSON and not user.has_perm("subjects.view_full_identity"):
            return self.masked_code
        return self.code


class Severity(models.TextChoices):
    """The grades of bad-credit information (失信程度)."""

    MINOR = "轻微", "轻微"
    ORDINARY = "一般", "一般"
    SERIOUS = "严重", "严重"


class EndReason(models.TextChoices):
    """Why a listing ended (移出类型)."""

    EXPIRED = "期满", "期满"
    REPAIRED = "信用修复", "信用修复"
    REVOKED = "撤销", "撤销"
    CORRECTED = "更正", "更正"


class ListingQuerySet(models.QuerySet):
    def in_force(self, on):
        """Listings in force on the date ``on``: listed by then, not expired
        before it (the expiry day itself still counts), not lifted by then."""
        return self.filter(
            models.Q(listed_on__lte=on)
            & (models.Q(expires_on__isnull=True) | models.Q(expires_on__gte=on))
            & (models.Q(lifted_on__isnull=True) | models.Q(lifted_on__gt=on))
            # A decision suspended (暂停执行) brings no measure while it is.
            & models.Q(decision_suspended=False)
        )


class Listing(Versioned):
    """A subject placed on a red or black list, under a memorandum's target
    subject (列入失信被执行人名单 …), by a source on a basis, for a period.

    Whether a listing is in force is computed from its dates and the day
    asked about (``in_force_on``), never stored.  Lifted or expired
    listings stay on record.
    """

    # No index of their own: unique_listing_per_day starts with subject and
    # listing_target_idx with target_subject, and serve the same lookups.
    subject = models.ForeignKey(
        Subject,
        on_delete=models.CASCADE,
        related_name="listings",
        verbose_name="主体",
        db_index=False,
    )
    target_subject = models.ForeignKey(
        TargetSubject,
        on_delete=models.PROTECT,
        related_name="listings",
        verbose_name="名单类别",
        db_index=False,
    )
    source = models.CharField("认定部门", max_length=100, blank=True)
    basis = models.CharField("认定依据", max_length=300, blank=True)
    listed_on = models.DateField("列入日期")
    expires_on = models.DateField("有效期至", null=True, blank=True)
    lifted_on = models.DateField(
        "移出日期", null=True, blank=True, help_text="信用修复等提前移出时填写。"
    )
    lift_reason = models.CharField("移出原因", max_length=300, blank=True)
    # --- the listing's life (issue 15): decision, severity, notice, end -------------
    # The deciding authority (认定机关) is ``source``.  Database defaults as
    # well, for the rows the listing import writes by SQL without naming them.
    decision_number = models.CharField("认定文书号", max_length=100, blank=True, db_default="")
    decided_on = models.DateField("认定日期", null=True, blank=True)
    severity = models.CharField(
        "失信程度", max_length=4, choices=Severity.choices, blank=True, db_default=""
    )
    notified_on = models.DateField(
        "告知日期", null=True, blank=True, help_text="列入前告知主体理由、依据和权利的日期。"
    )
    decision_suspended = models.BooleanField(
        "认定决定暂停执行",
        default=False,
        db_default=False,
        help_text="暂停期间名单记录不带来任何措施（异议期间措施照常适用，除非在此暂停）。",
    )
    publication_ends_on = models.DateField(
        "公示截止日期",
        null=True,
        blank=True,
        help_text="留空则按失信程度的公示期限（“公示期限”表）从列入日期起计算。",
    )
    end_reason = models.CharField(
        "移出类型", max_length=4, choices=EndReason.choices, blank=True, db_default=""
    )
    import_batch = import_batch_field()
    history = HistoricalRecords()

    objects = ListingQuerySet.as_manager()

    class Meta:
        verbose_name = "名单记录"
        verbose_name_plural = "名单记录"
        ordering = ["-listed_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "target_subject", "listed_on"],
                name="unique_listing_per_day",
                violation_error_message="该主体在同一日期已列入此名单。",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True)
                | models.Q(expires_on__gte=models.F("listed_on")),
                name="listing_expires_after_listed",
                violation_error_message="有效期至不能早于列入日期。",
            ),
            models.CheckConstraint(
                condition=models.Q(lifted_on__isnull=True)
                | models.Q(lifted_on__gte=models.F("listed_on")),
                name="listing_lifted_after_listed",
                violation_error_message="移出日期不能早于列入日期。",
            ),
        ]
        indexes = [models.Index(fields=["target_subject", "listed_on"], name="listing_target_idx")]

    def __str__(self) -> str:
        return f"{self.subject.name} 列入 {self.target_subject.label}（{self.listed_on}）"

    def in_force_on(self, on) -> bool:
        return (
            self.listed_on <= on
            and (self.expires_on is None or on <= self.expires_on)
            and (self.lifted_on is None or on < self.lifted_on)
            and not self.decision_suspended
        )

    @property
    def publication_end(self):
        """The day publication ends: as recorded, or the listing day plus the
        period the 公示期限 table gives its grade; None when neither says."""
        if self.publication_ends_on is not None:
            return self.publication_ends_on
        if not self.severity:
            return None
        periods = getattr(self, "publication_periods", None)  # read once for a page
        if periods is not None:
            period = periods.get(self.severity)
        else:
            period = PublicationPeriod.objects.filter(severity=self.severity).first()
        return period.end_from(self.listed_on) if period else None

    @property
    def publication_end_computed(self) -> bool:
        return self.publication_ends_on is None and self.publication_end is not None

    @property
    def pending_objections(self) -> list:
        return [item for item in self.objections.all() if item.pending]


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class PublicationPeriod(models.Model):
    """How long a listing of each grade is published (公示期限), as the
    administrator records it from the rule in force; empty until then."""

    severity = models.CharField("失信程度", max_length=4, choices=Severity.choices, unique=True)
    months = models.PositiveSmallIntegerField("公示期限（月）")
    source = models.CharField(
        "依据", max_length=300, help_text="规定该期限的文件及条款，如《……》第……条。"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "公示期限"
        verbose_name_plural = "公示期限"
        ordering = ["severity"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(months__gt=0), name="publication_period_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.severity}：{self.months} 个月"

    def end_from(self, listed_on: datetime.date) -> datetime.date:
        return add_months(listed_on, self.months)


class Objection(models.Model):
    """An objection (异议) the subject raised against its listing."""

    listing = models.ForeignKey(
        Listing, on_delete=models.CASCADE, related_name="objections", verbose_name="名单记录"
    )
    received_on = models.DateField("收到日期")
    decided_on = models.DateField("决定日期", null=True, blank=True)
    upheld = models.BooleanField(
        "异议成立", null=True, blank=True, help_text="决定后填写：成立或不成立；未决定时留空。"
    )
    note = models.TextField("说明", blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "异议"
        verbose_name_plural = "异议"
        ordering = ["received_on", "id"]

    def __str__(self) -> str:
        return f"异议（{self.received_on}收到）"

    @property
    def pending(self) -> bool:
        return self.decided_on is None

    def clean(self):
        _decision_rules(self, self.received_on, "received_on", "收到日期", self.upheld)


class Repair(models.Model):
    """A credit repair (信用修复) the subject applied for."""

    class Result(models.TextChoices):
        GRANTED = "准予修复", "准予修复"
        REFUSED = "不予修复", "不予修复"

    listing = models.ForeignKey(
        Listing, on_delete=models.CASCADE, related_name="repairs", verbose_name="名单记录"
    )
    applied_on = models.DateField("修复申请日期")
    decided_on = models.DateField("决定日期", null=True, blank=True)
    result = models.CharField("结果", max_length=4, choices=Result.choices, blank=True)
    note = models.TextField("说明", blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "信用修复"
        verbose_name_plural = "信用修复"
        ordering = ["applied_on", "id"]

    def __str__(self) -> str:
        return f"信用修复（{self.applied_on}申请）"

    @property
    def pending(self) -> bool:
        return self.decided_on is None

    def clean(self):
        _decision_rules(self, self.applied_on, "applied_on", "申请日期", self.result or None)


def _decision_rules(item, start, start_field: str, start_label: str, outcome) -> None:
    """A decision is dated no earlier than the request, and has an outcome iff decided."""
    if item.decided_on is not None and start is not None and item.decided_on < start:
        raise ValidationError({"decided_on": f"决定日期不能早于{start_label}。"})
    if item.decided_on is None and outcome is not None:
        raise ValidationError({"decided_on": "已填写结果，请同时填写决定日期。"})
    if item.decided_on is not None and outcome is None:
        field = "upheld" if isinstance(item, Objection) else "result"
        raise ValidationError({field: "已填写决定日期，请同时填写决定结果。"})
