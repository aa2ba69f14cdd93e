from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The import record: a leaf app that every other app may point at."""

    name = "memo_registry.audit"
    label = "audit"
    verbose_name = "导入记录"
