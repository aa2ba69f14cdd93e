from django.apps import AppConfig


class MemosConfig(AppConfig):
    name = "memos"
    verbose_name = "备忘录"
