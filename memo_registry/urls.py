from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "联合奖惩备忘录责任清单 管理"
admin.site.site_title = "责任清单管理"
admin.site.index_title = "数据管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    # Public pages and the memo API (memo_registry/web_urls.py, api_urls.py).
    path("api/subjects/", include("memo_registry.subject_api_urls")),
    path("api/", include("memo_registry.api_urls")),
    path("subjects/", include("memo_registry.subject_urls")),
    path("", include("memo_registry.web_urls")),
]
