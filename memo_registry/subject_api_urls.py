from django.urls import path

from memo_registry import subject_api

urlpatterns = [
    path("check/", subject_api.SubjectCheckAPI.as_view(), name="api_subject_check"),
    path("lookup/", subject_api.SubjectLookupAPI.as_view(), name="api_subject_lookup"),
    path("<str:code>/", subject_api.SubjectDetailAPI.as_view(), name="api_subject_detail"),
]
