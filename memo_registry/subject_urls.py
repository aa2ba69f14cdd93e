from django.urls import path, register_converter

from memo_registry import subject_views


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
    path("", subject_views.subject_search, name="subject_search"),
    path("check/", subject_views.subject_check, name="subject_check"),
    path("<subject_key:pk>/", subject_views.subject_detail, name="subject_detail"),
    path("<subject_key:pk>/feedback/", subject_views.record_feedback, name="subject_feedback"),
    path("<old_code:code>/", subject_views.subject_by_code, name="subject_by_code"),
]
