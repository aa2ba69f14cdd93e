from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from memos.models import Department, ResponsibilityList

# The memorandum admin lives in memo_registry/admin.py: it edits measures
# inline and imports spreadsheets, which both sit above this app.


@admin.register(ResponsibilityList)
class ResponsibilityListAdmin(SimpleHistoryAdmin):
    list_display = ["doc_number", "title", "issuer", "issued_on", "is_current"]
    list_filter = ["is_current"]
    search_fields = ["doc_number", "title", "issuer"]
    date_hierarchy = "issued_on"


@admin.register(Department)
class DepartmentAdmin(SimpleHistoryAdmin):
    list_display = ["name"]
    search_fields = ["name"]
