from django.contrib import admin

from measures.models import Division, Feedback, Measure
from memo_registry.admin.concurrency import VersionedAdminMixin
from memo_registry.admin.history import ReadableHistoryAdmin
from memo_registry.admin.subjects import with_whole_code


@admin.register(Division)
class DivisionAdmin(ReadableHistoryAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(Measure)
class MeasureAdmin(VersionedAdminMixin, ReadableHistoryAdmin):
    """One measure on its own page: reached from its memo's page (each row's
    link), mostly for its history — who moved it to which 处室, and when."""

    list_display = ["memo", "order", "text"]
    list_select_related = ["memo"]
    list_filter = ["divisions", "memo__responsibility_list"]
    search_fields = ["text", "memo__doc_number", "memo__title"]
    fields = ["memo", "order", "text", "divisions"]
    autocomplete_fields = ["divisions"]
    readonly_fields = ["memo"]

    def has_add_permission(self, request):
        # A measure is added on its memo's page, in the memo's order.
        return False


@admin.register(Feedback)
class FeedbackAdmin(ReadableHistoryAdmin):
    list_display = ["done_on", "subject", "measure", "division", "recorded_by", "recorded_at"]
    list_filter = ["division"]
    search_fields = ["subject__name", "=subject__code", "action"]
    autocomplete_fields = ["subject", "division"]
    raw_id_fields = ["measure"]
    list_select_related = ["subject", "measure", "division", "recorded_by"]
    readonly_fields = ["recorded_by", "recorded_at"]

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return with_whole_code(
            request, queryset, results, may_have_duplicates, search_term, "subject__code"
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)
