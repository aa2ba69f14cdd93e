from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Import records and look-up records: a leaf app that every other app may point at."""

    name = "memo_registry.audit"
    label = "audit"
    verbose_name = "审计记录"
