"""The change feed (``GET /api/changes/``): what changed since a cursor, in order.

The log is written by database triggers (``memo_registry/clients/changes.py``,
which explains why triggers and why (xid, id)).  A cursor is ``"<xid>.<id>"``
of the last entry a client has seen; the next page is what comes after it in
(xid, id) order, up to the oldest transaction still running on PostgreSQL —
what a running transaction writes can never land before the cursor, so a
client that follows the cursors sees every change exactly once.

Each entry names its object and carries the object's state now (``None`` once
it is deleted): a client acts on the latest state, and a later entry of the
same object follows if it changes again.  An import of a million listings is a
million ``listing.added`` entries, paged like any other.
"""

import re
from dataclasses import dataclass

from django.db import connection

from measures.models import Measure
from memo_registry.clients.models import Change
from memos.models import Memorandum
from subjects.models import Listing

CURSOR = re.compile(r"^([0-9]{1,18})\.([0-9]{1,18})$")
MAX_LIMIT = 1000
# The cursor before every entry ("0.0" as a client writes it).
START = (0, 0)


class BadCursor(ValueError):
    pass


def parse_cursor(raw: str | None) -> tuple[int, int]:
    if raw is None:
        return START
    found = CURSOR.match(raw)
    if not found:
        raise BadCursor(f"游标“{raw[:40]}”无效：应为上一页返回的 next（如 0.125）。")
    return int(found.group(1)), int(found.group(2))


def cursor_of(change: Change) -> str:
    return f"{change.xid}.{change.id}"


@dataclass
class Page:
    entries: list  # (Change, object or None)
    next: str
    more: bool


def _finished_below() -> int | None:
    """The oldest transaction id still running (PostgreSQL); None on SQLite."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return cursor.fetchone()[0]


def page_after(after: tuple[int, int], limit: int, raw_after: str | None = None) -> Page:
    xid, last_id = after
    changes = Change.objects.filter(xid__gte=xid).exclude(xid=xid, id__lte=last_id)
    horizon = _finished_below()
    if horizon is not None:
        changes = changes.filter(xid__lt=horizon)
    found = list(changes.order_by("xid", "id")[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    objects = _objects(found)
    entries = [
        (change, objects.get((change.kind.split(".")[0], change.object_id))) for change in found
    ]
    next_cursor = cursor_of(found[-1]) if found else (raw_after or "0.0")
    return Page(entries=entries, next=next_cursor, more=more)


def _objects(changes: list[Change]) -> dict:
    """The current state of each object named, in one query per kind of object."""
    ids: dict[str, set[int]] = {"listing": set(), "memo": set(), "measure": set()}
    for change in changes:
        ids.setdefault(change.kind.split(".")[0], set()).add(change.object_id)
    found: dict = {}
    for listing in Listing.objects.filter(pk__in=ids["listing"]).select_related(
        "subject", "target_subject"
    ):
        found["listing", listing.pk] = listing
    for memo in Memorandum.objects.filter(pk__in=ids["memo"]).select_related("responsibility_list"):
        found["memo", memo.pk] = memo
    for measure in Measure.objects.filter(pk__in=ids["measure"]).select_related("memo"):
        found["measure", measure.pk] = measure
    return found
