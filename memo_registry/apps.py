from django.apps import AppConfig


class MemoRegistryConfig(AppConfig):
    """The layer above the three apps: import/export, lookup, public pages."""

    name = "memo_registry"
    verbose_name = "联合奖惩备忘录责任清单"
