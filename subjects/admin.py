from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from subjects.models import TargetSubject


@admin.register(TargetSubject)
class TargetSubjectAdmin(SimpleHistoryAdmin):
    list_display = ["label", "definition"]
    search_fields = ["label", "definition"]
