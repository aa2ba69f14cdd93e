from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from measures.models import Measure
from memo_registry.text import canonical_doc_number, squeeze
from memos.models import Memorandum


class MeasureInline(admin.TabularInline):
    model = Measure
    extra = 0
    fields = ["order", "text", "divisions"]
    autocomplete_fields = ["divisions"]


@admin.register(Memorandum)
class MemorandumAdmin(SimpleHistoryAdmin):
    list_display = [
        "seq",
        "doc_number",
        "title",
        "kind",
        "target_subject",
        "no_function",
        "status",
        "responsibility_list",
    ]
    list_display_links = ["doc_number", "title"]
    list_filter = [
        "responsibility_list",
        "kind",
        "status",
        "no_function",
        "initiating_departments",
        "measures__divisions",
    ]
    search_fields = [
        "doc_number",
        "title",
        "target_subject__label",
        "target_subject__definition",
        "measures__text",
    ]
    autocomplete_fields = ["initiating_departments", "implementing_department", "target_subject"]
    list_select_related = ["target_subject", "responsibility_list"]
    inlines = [MeasureInline]
    fieldsets = [
        (None, {"fields": ["responsibility_list", "seq", "doc_number", "title", "kind"]}),
        (
            "部门与对象",
            {"fields": ["initiating_departments", "implementing_department", "target_subject"]},
        ),
        ("职能与状态", {"fields": ["no_function", "no_function_note", "status", "repealed_on"]}),
    ]

    def get_search_results(self, request, queryset, search_term):
        # A 文号 typed with any brackets or spaces finds the stored form.
        term = squeeze(search_term)
        canonical = canonical_doc_number(term)
        queryset, may_have_duplicates = super().get_search_results(request, queryset, term)
        if canonical and canonical != term:
            queryset |= self.model.objects.filter(doc_number__contains=canonical)
        return queryset, True if canonical != term else may_have_duplicates
