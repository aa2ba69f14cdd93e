from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from memo_registry import api

urlpatterns = [
    path("memos/", api.MemoListAPI.as_view(), name="api_memo_list"),
    path("memos/<int:pk>/", api.MemoDetailAPI.as_view(), name="api_memo_detail"),
    path("lookup/", api.LookupAPI.as_view(), name="api_lookup"),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
]
