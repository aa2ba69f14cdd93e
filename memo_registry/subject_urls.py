from django.urls import path

from memo_registry import subject_views

urlpatterns = [
    path("", subject_views.subject_search, name="subject_search"),
    path("check/", subject_views.subject_check, name="subject_check"),
    path("<str:code>/", subject_views.subject_detail, name="subject_detail"),
    path("<str:code>/feedback/", subject_views.record_feedback, name="subject_feedback"),
]
