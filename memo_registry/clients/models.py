"""Client systems (对接系统): API keys, embedded checks, and the change log.

A key (``ClientKey``) belongs to a named system, holds scopes, is stored
hashed (djangorestframework-api-key: only the prefix and a SHA-512 of the
key are kept), expires, can be revoked and records when it was last used.
A ``Check`` is one embedded check (嵌入式核查): a licensing or approval system
asked, while deciding on an application, whether the applicant is listed,
and later says what it decided.  ``Change`` is the change log the feed
``/api/changes/`` reads; database triggers write it (``changes.py``).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from subjects.codes import mask
from subjects.models import Subject

SCOPES = {
    "memos:read": "读取备忘录（/api/memos/、/api/lookup/）",
    "subjects:read": "查询主体和变更（/api/subjects/…、/api/changes/）",
    "subjects:full_identity": "查看完整的身份证号码（否则遮蔽为前6后4位）",
    "checks:write": "嵌入式核查（/api/checks/）",
    "stats:read": "读取统计（/api/stats/：本局的工作数据）",
}


def validate_scopes(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("请至少选择一项权限范围。")
    unknown = [scope for scope in value if scope not in SCOPES]
    if unknown:
        raise ValidationError(
            "未知的权限范围：%(unknown)s（可选：%(known)s）。",
            params={"unknown": "、".join(map(str, unknown)), "known": "、".join(SCOPES)},
        )


class ClientKey(AbstractAPIKey):
    """An API key of one client system (sent as ``Authorization: Api-Key <key>``)."""

    objects = BaseAPIKeyManager()

    name = models.CharField(
        "对接系统名称", max_length=50, help_text="调用方系统的名称，如“市场监管审批系统”。"
    )
    revoked = models.BooleanField(
        "已吊销", blank=True, default=False, help_text="吊销后该密钥不能再使用，且不能恢复。"
    )
    expiry_date = models.DateTimeField(
        "有效期至", blank=True, null=True, help_text="过期后该密钥不能再使用；留空为长期有效。"
    )
    scopes = models.JSONField("权限范围", default=list, validators=[validate_scopes])
    last_used_at = models.DateTimeField("最近使用时间", null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name="创建人",
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "接口密钥"
        verbose_name_plural = "接口密钥"

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class Check(models.Model):
    """One embedded check: who asked about which code for which matter, the
    answer given then, and what the calling system decided."""

    class Decision(models.TextChoices):
        PUNISH = "punish", "惩戒"
        REWARD = "reward", "激励"
        NONE = "none", "无"

    class Outcome(models.TextChoices):
        APPROVED = "approved", "准予"
        APPROVED_WITH_CONDITIONS = "approved_with_conditions", "附条件准予"
        REFUSED = "refused", "不予"
        NOT_DECIDED = "not_decided", "未作决定"

    code = models.CharField("代码", max_length=18)
    code_kind = models.CharField("代码类型", max_length=8, choices=Subject.Kind.choices)
    subject = models.ForeignKey(
        Subject,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checks",
        verbose_name="主体",
    )
    matter_code = models.CharField("事项编码", max_length=100)
    matter_name = models.CharField("事项名称", max_length=200)
    department = models.CharField("调用部门", max_length=100)
    decision = models.CharField("核查结论", max_length=8, choices=Decision.choices)
    measures = models.JSONField("适用措施（核查时）", default=list, blank=True)
    checked_at = models.DateTimeField("核查时间", db_index=True)
    key = models.ForeignKey(
        ClientKey,
        on_delete=models.PROTECT,
        related_name="checks",
        verbose_name="接口密钥",
    )
    client_name = models.CharField("对接系统", max_length=50)
    outcome = models.CharField("办理结果", max_length=32, choices=Outcome.choices, blank=True)
    outcome_note = models.CharField("结果说明", max_length=500, blank=True)
    outcome_at = models.DateTimeField("结果时间", null=True, blank=True)

    class Meta:
        verbose_name = "嵌入式核查"
        verbose_name_plural = "嵌入式核查"
        ordering = ["-checked_at", "-id"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        # In Beijing time, as the pages show every time (the database keeps UTC).
        at = timezone.localtime(self.checked_at)
        return f"{self.client_name} {self.matter_name}（{at:%Y-%m-%d %H:%M}）"

    def code_for(self, user) -> str:
        if self.code_kind == Subject.Kind.PERSON and not user.has_perm(
            "subjects.view_full_identity"
        ):
            return mask(self.code, self.code_kind)
        return self.code


class Change(models.Model):
    """One change the feed reports, written by database triggers (``changes.py``).

    ``xid`` is the writing transaction's id on PostgreSQL (0 on SQLite, whose
    writers take turns); the feed reads in (xid, id) order and only what no
    running transaction can still add before, so a follower sees each row once.
    """

    xid = models.BigIntegerField("事务号", default=0)
    at = models.DateTimeField("时间")
    kind = models.CharField("类别", max_length=24)
    object_id = models.BigIntegerField("对象编号")

    class Meta:
        verbose_name = "变更记录"
        verbose_name_plural = "变更记录"
        ordering = ["xid", "id"]
        default_permissions = ()
        indexes = [models.Index(fields=["xid", "id"], name="change_cursor_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"
