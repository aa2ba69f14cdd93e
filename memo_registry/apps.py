from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MemoRegistryConfig(AppConfig):
    """The layer above the three apps: import/export, lookup, public pages."""

    name = "memo_registry"
    verbose_name = "联合奖惩备忘录责任清单"

    def ready(self):
        # The roles come from a data migration; keeping them in step after
        # every migrate (and after a test database is flushed) means a change
        # in memo_registry/roles.py reaches existing databases too.
        # post_migrate is sent only for apps with models, which this one has
        # not: listen to django.contrib.auth's.
        from django.apps import apps

        post_migrate.connect(_sync_roles, sender=apps.get_app_config("auth"))
        post_migrate.connect(_install_registry_version, sender=apps.get_app_config("auth"))
        # The navigation's count of work items knows the user's divisions
        # from sign-in on (memo_registry/web/work_nav.py).
        from django.contrib.auth.signals import user_logged_in

        from memo_registry.web.work_nav import on_sign_in

        user_logged_in.connect(on_sign_in, dispatch_uid="work_nav_sign_in")


def _sync_roles(sender, using="default", **kwargs):
    from memo_registry.roles import sync_roles

    sync_roles()


def _install_registry_version(sender, using="default", **kwargs):
    # After every migrate: SQLite drops a table's triggers when a migration
    # rebuilds the table (see memo_registry/services/memo_cache.py).
    from django.db import connections

    from memo_registry.services import memo_cache, work_tally

    memo_cache.install(connections[using])
    # The work tally's change log (memo_registry/services/work_tally.py).
    work_tally.install(connections[using])
