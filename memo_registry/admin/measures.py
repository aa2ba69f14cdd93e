from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from measures.models import Division, Feedback
from memo_registry.admin.subjects import with_whole_code


@admin.register(Division)
class DivisionAdmin(SimpleHistoryAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(Feedback)
class FeedbackAdmin(SimpleHistoryAdmin):
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
