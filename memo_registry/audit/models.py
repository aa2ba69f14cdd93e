from django.conf import settings
from django.db import models


def _user_field(verbose_name: str, *, related_name: str) -> models.ForeignKey:
    """Who did it; the record outlives a deleted account."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name=related_name,
        verbose_name=verbose_name,
    )


class ImportBatch(models.Model):
    """One run of an importer: who loaded which file, when, and what it did.

    Every row an import writes points back here.  For the bulk listing import
    this record is the audit trail (no per-row history is written there).
    """

    class Kind(models.TextChoices):
        MEMOS = "memos", "备忘录清单"
        SUBJECTS = "subjects", "失信/守信主体名单"
        LIFTING = "lifting", "批量移出名单（信用修复）"

    kind = models.CharField("类别", max_length=16, choices=Kind.choices)
    file_name = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    user = _user_field("操作人", related_name="import_batches")
    source = models.CharField(
        "方式",
        max_length=16,
        default="command",
        help_text="command（命令行）、admin（管理后台）或 page（网页上传）",
    )
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    counts = models.JSONField("统计", default=dict, blank=True)

    class Meta:
        verbose_name = "导入记录"
        verbose_name_plural = "导入记录"
        ordering = ["-started_at", "-id"]
        # The listing pages (memo_registry/web/listings.py): upload a listings
        # sheet, or a sheet of listings to lift, preview it and confirm.
        permissions = [("upload_listings", "可在网页导入名单、批量移出")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}（{self.started_at:%Y-%m-%d %H:%M}）"


class AccessRecord(models.Model):
    """One look-up of flagged subjects (查询留痕): who asked about which codes,
    when, through which channel, and how many of them were listed.

    Written for every subject page view, search by code, API look-up and
    batch check, refused ones included.  Kept at least
    ``ACCESS_RECORD_RETENTION_DAYS`` (six months: 网络安全法 第二十一条);
    nobody can change or delete one through the admin.  People's identity
    numbers are stored in full (the record must say whose number was
    looked up) and shown masked to anyone without
    subjects.view_full_identity.
    """

    class Channel(models.TextChoices):
        PAGE = "page", "页面"
        API = "api", "接口"
        BATCH = "batch", "批量比对"
        ADMIN = "admin", "管理后台"
        # Another system through an API key (memo_registry/clients/): the
        # record names the client system and the key's prefix, not a user.
        SYSTEM = "system", "对接系统"

    user = _user_field("用户", related_name="+")
    # Kept beside the key, so the record still names the user once the
    # account is deleted.
    username = models.CharField("用户名", max_length=150)
    at = models.DateTimeField("时间", db_index=True)
    channel = models.CharField("渠道", max_length=8, choices=Channel.choices)
    action = models.CharField("操作", max_length=40)
    # [{"code": canonical or as typed, "kind": "org" | "person" | "",
    #   "shown": the code as shown without view_full_identity}]; a long batch
    # keeps its count and its SHA-256 instead (and, for a user limited in
    # identity checks, the identity numbers).
    codes = models.JSONField("查询代码", default=list, blank=True)
    code_count = models.PositiveIntegerField("代码数", default=0)
    identity_count = models.PositiveIntegerField(
        "身份证号码数", default=0, help_text="计入每日身份证号码查询上限的个数。"
    )
    file_sha256 = models.CharField("文件 SHA-256", max_length=64, blank=True)
    listed_count = models.PositiveIntegerField("在名单上的个数", default=0)
    refused = models.CharField("拒绝原因", max_length=200, blank=True)
    client_ip = models.GenericIPAddressField("客户端地址", null=True, blank=True)
    api_key_prefix = models.CharField(
        "接口密钥前缀", max_length=8, blank=True, help_text="对接系统查询时所用密钥的前缀。"
    )

    class Meta:
        verbose_name = "查询记录"
        verbose_name_plural = "查询记录"
        ordering = ["-at", "-id"]
        # Read-only by design: no add/change/delete permission exists.
        default_permissions = ("view",)
        indexes = [models.Index(fields=["user", "at"], name="access_user_at_idx")]

    def __str__(self) -> str:
        return f"{self.username} {self.get_channel_display()} {self.action}"

    def codes_for(self, user) -> str:
        """The codes asked, as ``user`` may read them: people's numbers
        masked unless the user holds subjects.view_full_identity."""
        if not self.codes:
            if self.code_count:
                return f"（{self.code_count} 个代码，SHA-256 {self.file_sha256[:16]}…）"
            return ""
        full = user.has_perm("subjects.view_full_identity")
        return "、".join(item["code"] if full else item["shown"] for item in self.codes)
