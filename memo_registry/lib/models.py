"""Model pieces the apps share: the import record a row came from, and the
shape of a model that is only a unique name (a department, a division)."""

from django.db import models

from memo_registry.lib.text import squeeze


def import_batch_field() -> models.ForeignKey:
    """The import that last wrote the row (audit.ImportBatch), if any."""
    return models.ForeignKey(
        "audit.ImportBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="导入记录",
        editable=False,
    )


class Named(models.Model):
    """A thing known only by its name, kept squeezed, unique and not empty."""

    name = models.CharField("名称", max_length=100, unique=True)

    class Meta:
        abstract = True
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="%(class)s_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name = squeeze(self.name)
        super().save(*args, **kwargs)


class Tidied(models.Model):
    """A model whose ``tidy()`` applies its text rules: every save runs it,
    and the bulk writers call it themselves (bulk_create skips save())."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.tidy()
        super().save(*args, **kwargs)

    def tidy(self) -> None:
        raise NotImplementedError
