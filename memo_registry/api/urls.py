"""The JSON API: memoranda and look-ups (public), subjects (staff)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from memo_registry.api import memos, subjects

urlpatterns = [
    path("memos/", memos.MemoListAPI.as_view(), name="api_memo_list"),
    path("memos/<int:pk>/", memos.MemoDetailAPI.as_view(), name="api_memo_detail"),
    path("lookup/", memos.LookupAPI.as_view(), name="api_lookup"),
    path("subjects/check/", subjects.SubjectCheckAPI.as_view(), name="api_subject_check"),
    path("subjects/lookup/", subjects.SubjectLookupAPI.as_view(), name="api_subject_lookup"),
    path("subjects/<str:code>/", subjects.SubjectDetailAPI.as_view(), name="api_subject_detail"),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
]
