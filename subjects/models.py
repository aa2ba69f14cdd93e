from django.db import models
from simple_history.models import HistoricalRecords

from memo_registry.text import squeeze


class TargetSubject(models.Model):
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

    def save(self, *args, **kwargs):
        self.label = squeeze(self.label)
        self.definition = squeeze(self.definition)
        super().save(*args, **kwargs)
