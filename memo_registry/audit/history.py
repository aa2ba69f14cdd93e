"""History rows for many objects at once: what django-simple-history writes
per save, written in a few statements.

Saving a model that tracks a many-to-many field (a measure's divisions, a
memo's initiating departments) through simple-history costs two history
rows per object — one on ``save()``, a second on ``m2m_changed`` — each a
handful of queries.  A bulk import instead saves its objects with
``skip_history_when_saving`` set and then calls :func:`record_history` once:
one history row per object, and the tracked many-to-many rows copied into
the historical tables with one query per field.  What lands in the history
tables is the same as a plain ``save()`` followed by ``set()`` would leave
(less the intermediate row).

simple-history's own ``bulk_create_with_history`` does not copy
many-to-many fields, hence this module.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords
from simple_history.utils import get_m2m_field_name

BATCH = 1000


@contextmanager
def history_deferred(*instances: models.Model) -> Iterator[None]:
    """Save (and ``set()`` many-to-many fields of) ``instances`` without history rows."""
    for instance in instances:
        instance.skip_history_when_saving = True
    try:
        yield
    finally:
        for instance in instances:
            del instance.skip_history_when_saving


def record_history(
    model: type[models.Model],
    created: Iterable[models.Model] = (),
    changed: Iterable[models.Model] = (),
    *,
    reason: str = "",
    user=None,
) -> None:
    """Write one history row ("+" for ``created``, "~" for ``changed``) per object,
    with its tracked many-to-many rows as they now stand in the database."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    created, changed = list(created), list(changed)
    if not created and not changed:
        return
    manager = model.history
    user = user if getattr(user, "pk", None) else None
    rows = []
    for objects, update in ((created, False), (changed, True)):
        if objects:
            rows += manager.bulk_history_create(
                objects, batch_size=BATCH, update=update, default_change_reason=reason,
                default_user=user,
            )  # fmt: skip
    for field in manager.model._history_m2m_fields:
        _copy_m2m_rows(field, rows)


def _copy_m2m_rows(field: models.ManyToManyField, history_rows: list[models.Model]) -> None:
    m2m_history = HistoricalRecords.m2m_models[field]
    through = field.remote_field.through
    owner = get_m2m_field_name(field) + "_id"
    attnames = [f.attname for f in through._meta.concrete_fields]
    pk = field.model._meta.pk.attname  # the historical row keeps the object's pk under it
    current: dict[int, list[models.Model]] = defaultdict(list)
    pks = sorted({getattr(row, pk) for row in history_rows})
    for start in range(0, len(pks), BATCH):
        chunk = pks[start : start + BATCH]
        for link in through.objects.filter(**{owner + "__in": chunk}).order_by("pk"):
            current[getattr(link, owner)].append(link)
    m2m_history.objects.bulk_create(
        [
            m2m_history(history=row, **{name: getattr(link, name) for name in attnames})
            for row in history_rows
            for link in current[getattr(row, pk)]
        ],
        batch_size=BATCH,
    )
