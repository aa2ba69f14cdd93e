from django.contrib import admin, messages
from django.db.models.constants import LOOKUP_SEP
from django.utils import timezone

from memo_registry.admin.concurrency import VersionedAdminMixin, VersionedInlineMixin
from memo_registry.admin.history import ReadableHistory, ReadableHistoryAdmin
from memo_registry.admin.listing_life import LISTING_FIELDSETS, ObjectionInline, RepairInline
from memo_registry.services import access
from subjects.codes import PERSON, compact, mask
from subjects.models import Listing, Subject, TargetSubject

FULL_IDENTITY = "subjects.view_full_identity"


def with_whole_code(request, queryset, results, may_have_duplicates, search_term, field):
    """An admin search's ``results`` plus the row whose code (``field``) is
    the whole of ``search_term`` typed with spaces, dashes, lower case or
    full-width characters: codes are stored canonical, and the search fields
    match them whole ("=…") only, so "4201 0619…" would otherwise find nothing.
    ``queryset`` is the one the search started from (list filters applied).

    A search by code is a look-up like any other: it is recorded, and counts
    against the user's daily identity-number allowance (a refused one finds
    nothing and says why)."""
    canonical = compact(search_term)
    asked = access.asked(canonical)
    if asked.kind:
        refused = access.refusal(request.user, [asked])
        access.record(request, "admin", "管理后台按代码搜索", [asked], refused=refused)
        if refused:
            messages.error(request, refused)
            return queryset.none(), False
    if not canonical or canonical == search_term.strip():
        return results, may_have_duplicates
    return results | queryset.filter(**{field: canonical}), may_have_duplicates


class MaskedIdentityHistory(ReadableHistory):
    """The "changes" column of a subject's history page: a person's old and
    new number masked, as the change page shows it, for a user without
    subjects.view_full_identity (simple-history prints the raw values)."""

    def __init__(self, model, historical_record, *, full_identity: bool):
        super().__init__(model, historical_record)
        self.full_identity = full_identity
        self.person = False

    def context_for_delta_changes(self, delta):
        # If either version is a person's (a number corrected from a code
        # taken for a credit code, say), both values are masked.
        self.person = PERSON in {delta.old_record.kind, delta.new_record.kind}
        return super().context_for_delta_changes(delta)

    def prepare_delta_change_value(self, change, value):
        value = super().prepare_delta_change_value(change, value)
        if change.field == "code" and self.person and not self.full_identity and value:
            return mask(value, PERSON)
        return value


@admin.register(TargetSubject)
class TargetSubjectAdmin(ReadableHistoryAdmin):
    list_display = ["label", "definition"]
    search_fields = ["label", "definition"]


class ListingInline(VersionedInlineMixin, admin.TabularInline):
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
class SubjectAdmin(VersionedAdminMixin, ReadableHistoryAdmin):
    # A code is matched whole ("=code"), never in part: a part would let a
    # user who sees only 420106********123X find the hidden digits one at a
    # time.  Names match any part.
    search_fields = ["=code", "name"]
    search_help_text = "输入名称的任意部分，或完整的统一社会信用代码/身份证号码。"
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

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return with_whole_code(request, queryset, results, may_have_duplicates, search_term, "code")

    def lookup_allowed(self, lookup, value, request=None):
        # The changelist also filters by any lookup in its address
        # (?code__startswith=…, ?code__gt=…): the same digit-by-digit search
        # by another door.  No filter of the admin uses the code, and the
        # search box finds a whole one, so no lookup on it is allowed.
        if lookup.split(LOOKUP_SEP)[0] == "code":
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_historical_record_context_helper(self, request, historical_record):
        return MaskedIdentityHistory(
            self.model,
            historical_record,
            full_identity=request.user.has_perm(FULL_IDENTITY),
        )


@admin.register(Listing)
class ListingAdmin(VersionedAdminMixin, ReadableHistoryAdmin):
    list_display = [
        "subject",
        "target_subject",
        "source",
        "listed_on",
        "expires_on",
        "lifted_on",
        "in_force",
    ]
    list_filter = ["target_subject", "severity", "decision_suspended", "end_reason"]
    search_fields = ["subject__name", "=subject__code", "=decision_number"]
    autocomplete_fields = ["subject", "target_subject"]
    list_select_related = ["subject", "target_subject"]
    date_hierarchy = "listed_on"
    show_full_result_count = False
    # The listing's life (issue 15): memo_registry/admin/listing_life.py.
    fieldsets = LISTING_FIELDSETS
    inlines = [ObjectionInline, RepairInline]

    @admin.display(boolean=True, description="今天有效")
    def in_force(self, obj):
        return obj.in_force_on(timezone.localdate())

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return with_whole_code(
            request, queryset, results, may_have_duplicates, search_term, "subject__code"
        )
