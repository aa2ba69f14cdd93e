from django.urls import path

from memo_registry import views

urlpatterns = [
    path("", views.memo_list, name="memo_list"),
]
