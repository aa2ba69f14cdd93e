"""History pages that read in Chinese: field names, choice labels, dates,
related objects by name, "无" for nothing (simple-history prints raw values:
``in_force → repealed``, ``None → 2030-01-01``, a division's id)."""

import datetime

from django.db.models import BooleanField, ForeignKey, ManyToManyField, Model
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

NOTHING = "无"


class ReadableHistory(HistoricalRecordContextHelper):
    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if isinstance(field, ManyToManyField):
            ids = super().prepare_delta_change_value(change, value)
            names = [str(obj) for obj in field.related_model._default_manager.filter(pk__in=ids)]
            return "、".join(sorted(names)) or NOTHING
        if value is None or value == "":
            return NOTHING
        if field.choices:
            return dict(field.flatchoices).get(value, value)
        if isinstance(field, BooleanField):
            return "是" if value else "否"
        if isinstance(value, Model):
            return str(value)
        if isinstance(field, ForeignKey):
            related = field.related_model._default_manager.filter(pk=value).first()
            return str(related) if related is not None else f"（已删除，编号 {value}）"
        if isinstance(value, datetime.datetime):
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        if isinstance(value, datetime.date):
            return value.isoformat()
        return value

    def stringify_delta_change_values(self, change, old, new):
        # Values are already the text shown: no list brackets around names.
        return super().stringify_delta_change_values(change, str(old), str(new))


class ReadableHistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin whose history page speaks Chinese throughout."""

    object_history_list_template = "admin/readable_history_list.html"
    history_context_helper = ReadableHistory

    def get_historical_record_context_helper(self, request, historical_record):
        return self.history_context_helper(self.model, historical_record)


def changes_of(model, records) -> list[dict]:
    """Each historical record of ``model`` with who, when, what kind of change
    and what changed, for a page listing the history of related objects (a
    memo's measures)."""
    rows = []
    for record in records:
        previous = record.prev_record
        changes = []
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous)
            changes = ReadableHistory(model, record).context_for_delta_changes(delta)
        rows.append({"record": record, "changes": changes})
    return rows
