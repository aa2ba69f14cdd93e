from django.contrib import admin
from django.urls import path

from memo_registry import views

admin.site.site_header = "联合奖惩备忘录责任清单 管理"
admin.site.site_title = "责任清单管理"
admin.site.index_title = "数据管理"

urlpatterns = [
    path("", views.memo_list, name="memo_list"),
    path("admin/", admin.site.urls),
]
