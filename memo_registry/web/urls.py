"""The pages: the memo list and look-ups (public), divisions and subjects (staff)."""

from django.urls import path, register_converter

from memo_registry.web import listings, memos, stats, subjects, work


class SubjectKey:
    """A subject's row id: the page's address, derived from nothing personal."""

    regex = "[0-9]{1,15}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


class OldCode:
    """An 18-character code, as the links of the first version carried it."""

    regex = "[0-9A-Za-z]{18}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(SubjectKey, "subject_key")
register_converter(OldCode, "old_code")

urlpatterns = [
    path("", memos.MemoListView.as_view(), name="memo_list"),
    path("export.<str:fmt>", memos.memo_export, name="memo_export"),
    path("memos/<int:pk>/", memos.MemoDetailView.as_view(), name="memo_detail"),
    path("lookup/", memos.LookupView.as_view(), name="lookup"),
    path("divisions/", memos.DivisionListView.as_view(), name="division_list"),
    path("divisions/<int:pk>/", memos.DivisionDetailView.as_view(), name="division_detail"),
    path("api-docs/", memos.ApiDocsView.as_view(), name="api_docs"),
    path("subjects/", subjects.subject_search, name="subject_search"),
    path("subjects/check/", subjects.subject_check, name="subject_check"),
    path("subjects/<subject_key:pk>/", subjects.subject_detail, name="subject_detail"),
    path("subjects/<subject_key:pk>/feedback/", subjects.record_feedback, name="subject_feedback"),
    path("subjects/<old_code:code>/", subjects.subject_by_code, name="subject_by_code"),
    path("work/", work.work_list, name="work_list"),
    path("work/export.xlsx", work.work_export, name="work_export"),
    path("work/feedback/", work.work_feedback, name="work_feedback"),
    path("work/feedback/<int:pk>/withdraw/", work.work_withdraw, name="work_withdraw"),
    path("stats/", stats.stats_page, name="stats"),
    path("stats/export.xlsx", stats.stats_export, name="stats_export"),
    path("listings/import/", listings.listing_import, name="listing_import"),
    path(
        "listings/import/confirm/", listings.listing_import_confirm, name="listing_import_confirm"
    ),
    path("listings/lift/", listings.listing_lift, name="listing_lift"),
    path("listings/lift/confirm/", listings.listing_lift_confirm, name="listing_lift_confirm"),
]
