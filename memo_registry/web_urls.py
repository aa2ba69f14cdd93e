from django.urls import path

from memo_registry import views

urlpatterns = [
    path("", views.MemoListView.as_view(), name="memo_list"),
    path("export.<str:fmt>", views.memo_export, name="memo_export"),
    path("memos/<int:pk>/", views.MemoDetailView.as_view(), name="memo_detail"),
    path("lookup/", views.LookupView.as_view(), name="lookup"),
    path("divisions/", views.DivisionListView.as_view(), name="division_list"),
    path("divisions/<int:pk>/", views.DivisionDetailView.as_view(), name="division_detail"),
    path("api-docs/", views.ApiDocsView.as_view(), name="api_docs"),
]
