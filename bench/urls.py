"""The product's URLs plus two floor views that exist only in the benchmark.

``/bench/floor/`` answers a constant JSON through the same DRF view class,
authentication and permission as ``/api/subjects/<code>/``: the fastest
thing that could answer a signed-in member of staff on this stack.
``/bench/check-floor/`` is the same for the embedded check (``POST /api/checks/``)
through an API key.  ``/bench/bare/`` is a plain Django view with no authentication, for reference.
"""

from django.http import JsonResponse
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from memo_registry.api.checks import CheckAPI
from memo_registry.api.subjects import SubjectDetailAPI
from memo_registry.urls import urlpatterns as product_urlpatterns


class CheckFloor(APIView):
    """The embedded check's floor: its authentication (an API key), permission and throttle."""

    authentication_classes = CheckAPI.authentication_classes
    throttle_classes = CheckAPI.throttle_classes
    permission_classes = CheckAPI.permission_classes
    required_scopes = CheckAPI.required_scopes

    def post(self, request):
        return Response({"ok": True}, status=201)


class Floor(APIView):
    permission_classes = SubjectDetailAPI.permission_classes

    def get(self, request):
        return Response({"ok": True})


def bare(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/floor/", Floor.as_view()),
    path("bench/bare/", bare),
    path("bench/check-floor/", CheckFloor.as_view()),
    *product_urlpatterns,
]
