from django.contrib import admin
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from subjects.models import Listing, Subject, TargetSubject


@admin.register(TargetSubject)
class TargetSubjectAdmin(SimpleHistoryAdmin):
    list_display = ["label", "definition"]
    search_fields = ["label", "definition"]


class ListingInline(admin.TabularInline):
    model = Listing
    extra = 0
    fields = [
        "target_subject",
        "source",
        "basis",
        "listed_on",
        "expires_on",
        "lifted_on",
        "lift_reason",
    ]
    autocomplete_fields = ["target_subject"]


@admin.register(Subject)
class SubjectAdmin(SimpleHistoryAdmin):
    search_fields = ["code", "name"]
    list_filter = ["kind", "checksum_exception"]
    fields = ["code", "name", "checksum_exception", "kind"]
    readonly_fields = ["kind"]
    inlines = [ListingInline]
    show_full_result_count = False  # a count(*) over millions of subjects on every page

    def get_list_display(self, request):
        code = "code" if request.user.has_perm("subjects.view_full_identity") else "masked_code"
        return [code, "name", "kind", "checksum_exception"]

    def get_fields(self, request, obj=None):
        if (
            obj
            and obj.kind == Subject.Kind.PERSON
            and not request.user.has_perm("subjects.view_full_identity")
        ):
            return ["masked_code", "name", "kind"]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if (
            obj
            and obj.kind == Subject.Kind.PERSON
            and not request.user.has_perm("subjects.view_full_identity")
        ):
            fields += ["masked_code"]
        return fields

    @admin.display(description="代码")
    def masked_code(self, obj):
        return obj.masked_code


@admin.register(Listing)
class ListingAdmin(SimpleHistoryAdmin):
    list_display = [
        "subject",
        "target_subject",
        "source",
        "listed_on",
        "expires_on",
        "lifted_on",
        "in_force",
    ]
    list_filter = ["target_subject"]
    search_fields = ["subject__name", "=subject__code"]
    autocomplete_fields = ["subject", "target_subject"]
    list_select_related = ["subject", "target_subject"]
    date_hierarchy = "listed_on"
    show_full_result_count = False

    @admin.display(boolean=True, description="今天有效")
    def in_force(self, obj):
        return obj.in_force_on(timezone.localdate())
