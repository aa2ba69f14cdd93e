from django.conf import settings
from django.db import models


class ImportBatch(models.Model):
    """One run of an importer: who loaded which file, when, and what it did.

    Every row an import writes points back here.  For the bulk listing import
    this record is the audit trail (no per-row history is written there).
    """

    class Kind(models.TextChoices):
        MEMOS = "memos", "备忘录清单"
        SUBJECTS = "subjects", "失信/守信主体名单"

    kind = models.CharField("类别", max_length=16, choices=Kind.choices)
    file_name = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_batches",
        verbose_name="操作人",
    )
    source = models.CharField(
        "方式", max_length=16, default="command", help_text="command（命令行）或 admin（管理后台）"
    )
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    counts = models.JSONField("统计", default=dict, blank=True)

    class Meta:
        verbose_name = "导入记录"
        verbose_name_plural = "导入记录"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}（{self.started_at:%Y-%m-%d %H:%M}）"
