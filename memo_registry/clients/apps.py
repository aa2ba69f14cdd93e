from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClientsConfig(AppConfig):
    """Other systems that use the API: keys, embedded checks, the change log."""

    name = "memo_registry.clients"
    label = "clients"
    verbose_name = "对接系统"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # After every migrate: SQLite drops a table's triggers when a
        # migration rebuilds the table (memo_registry/clients/changes.py).
        post_migrate.connect(_install_change_triggers, sender=self)


def _install_change_triggers(sender, using="default", **kwargs):
    from django.db import connections

    from memo_registry.clients.changes import install

    install(connections[using])
