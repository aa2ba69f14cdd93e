"""A listing's life in the admin (issue 15): its decision, grade, notice,
objections (异议), credit repairs (信用修复) and end; and the table of
publication periods (公示期限) per grade, which the administrator keeps."""

from django.contrib import admin

from memo_registry.admin.history import ReadableHistoryAdmin
from subjects.models import Objection, PublicationPeriod, Repair

LISTING_FIELDSETS = [
    (None, {"fields": ["subject", "target_subject", "basis", "listed_on", "expires_on"]}),
    (
        "认定",
        {
            "fields": [
                "source",
                "decision_number",
                "decided_on",
                "severity",
                "notified_on",
                "decision_suspended",
                "publication_ends_on",
            ],
            "description": "“认定部门”即认定机关。公示截止日期留空时按“公示期限”表计算。",
        },
    ),
    ("移出", {"fields": ["lifted_on", "end_reason", "lift_reason"]}),
]


class ObjectionInline(admin.TabularInline):
    model = Objection
    extra = 0
    fields = ["received_on", "decided_on", "upheld", "note"]


class RepairInline(admin.TabularInline):
    model = Repair
    extra = 0
    fields = ["applied_on", "decided_on", "result", "note"]


@admin.register(PublicationPeriod)
class PublicationPeriodAdmin(ReadableHistoryAdmin):
    """Empty until the administrator records the rule in force: the registry
    ships no period of its own (it would be a legal fact it cannot cite)."""

    list_display = ["severity", "months", "source"]
