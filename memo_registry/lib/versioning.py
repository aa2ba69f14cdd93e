"""A version number on the rows people edit in the admin (optimistic locking).

Memoranda, measures, subjects and listings carry ``version``: 1 when the
row is created, one more on every write of it.  A change page carries the
version it showed in a hidden field, and ``memo_registry.admin.concurrency``
refuses a save whose version is no longer the row's: the form was loaded
before someone else's change, and saving it would silently put the old
values back (a lost update).

So every writer must move the version, or a page loaded before it would
overwrite its change:

* ``save()`` (the admin, the memo import's changed memos and measures,
  simple-history's revert) raises it here, from the row as it stands in the
  database, locked until the transaction ends: two writers can never both
  write ``n + 1``, whatever version their instance was loaded with;
* ``QuerySet.update()`` and raw SQL say ``version = version + 1`` themselves
  (``memo_registry.imports.memos.write``, ``memo_registry.imports.listings``);
* rows inserted by ``bulk_create``, ``INSERT … SELECT`` or ``COPY`` start at
  1, the column's database default (``db_default``), which a statement that
  does not name the column gets too.

This is not the registry version of ``memo_registry.services.memo_cache``: that is
one counter for the whole registry, raised by triggers, telling a process
its cached memos are stale; this is one number per row, telling a form.

Why by hand rather than with django-concurrency: its check is per row, in
``save()``, so it cannot see a measure that someone else added to or deleted
from the memo being edited; it raises in the middle of the admin's save
(after the memo is written, while the measures are), where the form can no
longer be shown again with the user's input; ``bulk_create``,
``QuerySet.update()`` and the listing import's SQL bypass it unless its
trigger field is used, whose triggers it installs and names itself beside
the registry-version triggers; and the historical models simple-history
derives would inherit its field and its patched ``_do_update``.  What is
needed here is a number, a locked read and a comparison.
"""

import datetime
from dataclasses import dataclass

from django.db import models, router, transaction
from django.utils import timezone

VERSION = "version"


class Versioned(models.Model):
    """An abstract base: the ``version`` column and a ``save()`` that raises it."""

    version = models.PositiveIntegerField(
        "版本",
        default=1,
        # For the rows SQL inserts without naming the column (the listing
        # import's COPY and INSERT … SELECT).
        db_default=1,
        editable=False,
        help_text="每次修改加一；管理后台据此拒绝在过期页面上所做的保存。",
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is None or kwargs.get("force_insert"):
            return super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            if not update_fields:  # Django saves nothing: nor do we
                return super().save(*args, **kwargs)
            kwargs["update_fields"] = {*update_fields, VERSION}
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            # The row's own version, not the instance's: an instance loaded
            # before another writer's change (or built from a historical
            # record, by a revert) must still move the version forward.
            current = locked_version(type(self), self.pk, using=using)
            if current is not None:
                self.version = current + 1
            return super().save(*args, **kwargs)


def locked_versions(queryset: models.QuerySet) -> dict:
    """{pk: version} of the rows of ``queryset``, locked until the transaction
    ends (on PostgreSQL; SQLite has one writer at a time anyway)."""
    queryset = queryset.order_by()  # Meta.ordering may join: lock these rows only
    conn = transaction.get_connection(queryset.db)
    if conn.in_atomic_block:
        # FOR NO KEY UPDATE, the lock an UPDATE takes: it serialises the
        # writers of the row, but not a new measure or listing whose foreign
        # key points at it (FOR UPDATE would, and could deadlock the subject
        # page, which locks the subject and then its listings, against a
        # listing page moving a listing to that subject).
        queryset = queryset.select_for_update(no_key=conn.features.has_select_for_no_key_update)
    return dict(queryset.values_list("pk", VERSION))


def locked_version(model: type[models.Model], pk, using: str | None = None) -> int | None:
    """The version of one row (None: there is none), locked as by ``locked_versions``."""
    return locked_versions(model._base_manager.db_manager(using).filter(pk=pk)).get(pk)


# --- who changed a row, and when ------------------------------------------------------


@dataclass(frozen=True)
class Change:
    when: datetime.datetime
    who: str

    @property
    def local_when(self) -> str:
        return timezone.localtime(self.when).strftime("%Y-%m-%d %H:%M")


def user_name(user) -> str:
    """A user as a colleague knows them: 张三 (family name first), else the login."""
    if user is None:
        return "未知用户"
    full = f"{user.last_name}{user.first_name}".strip()
    return full or user.get_username()


def last_change(model: type[models.Model], pk, version: int | None) -> Change | None:
    """Who made the row's current ``version`` (None: the row is gone), and when.

    simple-history's latest record says so when it holds that version (or
    records the deletion).  The listing import writes no history rows (its
    ImportBatch is the audit trail), so a version the history does not know
    is put down to the import batch the row points at.  None when neither
    tells.
    """
    manager = getattr(model, model._meta.simple_history_manager_attribute, None)
    record = None
    if manager is not None:
        record = (
            manager.filter(**{model._meta.pk.attname: pk})
            .select_related("history_user")
            .order_by("-history_date", "-history_id")
            .first()
        )
    if record is not None and (version is None or getattr(record, VERSION, None) == version):
        return Change(record.history_date, user_name(record.history_user))
    if version is not None and hasattr(model, "import_batch"):
        row = model._base_manager.filter(pk=pk).select_related("import_batch__user").first()
        batch = row.import_batch if row is not None else None
        if batch is not None:
            who = f"批量导入“{batch.file_name}”"
            if batch.user is not None:
                who = f"{user_name(batch.user)}（{who}）"
            return Change(batch.finished_at or batch.started_at, who)
    return None


def stale_message(what: str, change: Change | None, verb: str = "修改") -> str:
    """The refusal: “该备忘录已于 2026-11-30 14:05 由 张三 修改，您的修改未保存。…”"""
    if change is None:
        return f"{what}已被他人{verb}，您的修改未保存。请刷新页面后重新修改。"
    return (
        f"{what}已于 {change.local_when} 由 {change.who} {verb}，"
        "您的修改未保存。请刷新页面后重新修改。"
    )
