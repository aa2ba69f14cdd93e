"""The JSON API: memoranda and look-ups (public), subjects (staff)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from memo_registry.api import changes, checks, memos, subjects, work

urlpatterns = [
    path("memos/", memos.MemoListAPI.as_view(), name="api_memo_list"),
    path("memos/<int:pk>/", memos.MemoDetailAPI.as_view(), name="api_memo_detail"),
    path("lookup/", memos.LookupAPI.as_view(), name="api_lookup"),
    path("subjects/check/", subjects.SubjectCheckAPI.as_view(), name="api_subject_check"),
    path("subjects/lookup/", subjects.SubjectLookupAPI.as_view(), name="api_subject_lookup"),
    path("subjects/<str:code>/", subjects.SubjectDetailAPI.as_view(), name="api_subject_detail"),
    # Other systems (API keys): the embedded check and the change feed.
    path("checks/", checks.CheckAPI.as_view(), name="api_checks"),
    path("checks/<int:pk>/outcome/", checks.CheckOutcomeAPI.as_view(), name="api_check_outcome"),
    path("changes/", changes.ChangeFeedAPI.as_view(), name="api_changes"),
    # The work lists, feedback and statistics (issue 14).
    path("work/", work.WorkListAPI.as_view(), name="api_work"),
    path("feedback/", work.FeedbackCreateAPI.as_view(), name="api_feedback"),
    path("feedback/<int:pk>/", work.FeedbackWithdrawAPI.as_view(), name="api_feedback_withdraw"),
    path("stats/", work.StatsAPI.as_view(), name="api_stats"),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
]
