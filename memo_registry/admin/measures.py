from django.contrib import admin
from django.db.models import Count

from measures.models import BasisStatus, Division, Feedback, Measure
from memo_registry.admin.concurrency import VersionedAdminMixin
from memo_registry.admin.history import ReadableHistoryAdmin
from memo_registry.admin.legal_basis import BasicListFilter, BasisStatusFilter, LegalBasisInline
from memo_registry.admin.subjects import with_whole_code


@admin.register(Division)
class DivisionAdmin(ReadableHistoryAdmin):
    list_display = ["name", "member_count"]
    search_fields = ["name"]
    fields = ["name", "members"]
    filter_horizontal = ["members"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(members_n=Count("members", distinct=True))

    @admin.display(description="人员数", ordering="members_n")
    def member_count(self, obj):
        return obj.members_n

    def get_readonly_fields(self, request, obj=None):
        # Membership is the right to close the division's items: only those
        # who manage accounts (管理员) grant it.
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("auth.change_user"):
            readonly.append("members")
        return readonly


@admin.register(Measure)
class MeasureAdmin(VersionedAdminMixin, ReadableHistoryAdmin):
    """One measure on its own page: reached from its memo's page (each row's
    link), mostly for its history — who moved it to which 处室, and when."""

    list_display = [
        "memo",
        "order",
        "text",
        "basis_status",
        "basic_list_edition",
        "basic_list_item",
    ]
    list_select_related = ["memo"]
    list_filter = [
        BasisStatusFilter,
        BasicListFilter,
        "basic_list_edition",
        "divisions",
        "memo__responsibility_list",
    ]
    search_fields = ["text", "memo__doc_number", "memo__title"]
    fields = [
        "memo",
        "order",
        "text",
        "divisions",
        "basic_list_edition",
        "basic_list_item",
        "feedback_working_days",
    ]
    autocomplete_fields = ["divisions"]
    readonly_fields = ["memo"]
    inlines = [LegalBasisInline]

    def get_queryset(self, request):
        return super().get_queryset(request).with_basis_status()

    @admin.display(description="实施依据", ordering="computed_basis_status")
    def basis_status(self, measure):
        return BasisStatus(measure.computed_basis_status).label

    def has_add_permission(self, request):
        # A measure is added on its memo's page, in the memo's order.
        return False


@admin.register(Feedback)
class FeedbackAdmin(ReadableHistoryAdmin):
    list_display = [
        "done_on",
        "subject",
        "measure",
        "division",
        "outcome",
        "recorded_by",
        "recorded_at",
        "withdrawn_at",
    ]
    list_filter = ["division", "outcome"]
    search_fields = ["subject__name", "=subject__code", "action"]
    autocomplete_fields = ["subject", "division"]
    raw_id_fields = ["measure"]
    list_select_related = ["subject", "measure", "division", "recorded_by"]
    readonly_fields = ["recorded_by", "recorded_at", "withdrawn_at", "withdrawn_by"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class ActingUserForm(form):
            def _post_clean(self):
                # Feedback.clean() checks who records it: a member of the
                # division, or an administrator (the page's and the API's rule).
                self.instance.acting_user = request.user
                super()._post_clean()

        return ActingUserForm

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return with_whole_code(
            request, queryset, results, may_have_duplicates, search_term, "subject__code"
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)
