from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from measures.models import Division


@admin.register(Division)
class DivisionAdmin(SimpleHistoryAdmin):
    list_display = ["name"]
    search_fields = ["name"]
