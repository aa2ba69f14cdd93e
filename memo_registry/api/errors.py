"""Errors as data: every answer under ``/api/`` is JSON, errors included, in one shape.

    {"type": "validation_error" | "client_error" | "server_error",
     "errors": [{"code": "…", "detail": "…（中文说明）", "attr": "参数名" | null}]}

DRF views answer it through drf-standardized-errors (settings
``EXCEPTION_HANDLER``), which also documents every status each operation can
answer in ``/api/schema/`` (``ERROR_SCHEMAS`` points every status at
``ErrorResponseSerializer``).  What Django answers before or after a DRF
view — an address no pattern matches (404), an uncaught error (500), a
request body over its budget (413, memo_registry/http/uploads.py) — is
answered in the same shape by :func:`not_found` and :func:`server_error`
under ``/api/`` and as the site's pages elsewhere.
"""

from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers

ERROR_TYPES = [
    ("validation_error", "参数错误"),
    ("client_error", "请求错误"),
    ("server_error", "服务器错误"),
]


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="错误代码，如 invalid、not_found、throttled")
    detail = serializers.CharField(help_text="中文说明")
    attr = serializers.CharField(
        allow_null=True, help_text="出错的参数或字段名；与参数无关的错误为 null"
    )


class ErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ERROR_TYPES)
    errors = ErrorSerializer(many=True)


def error_body(code: str, detail: str, *, attr: str | None = None, kind: str = "") -> dict:
    kind = kind or ("validation_error" if attr else "client_error")
    return {"type": kind, "errors": [{"code": code, "detail": detail, "attr": attr}]}


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def not_found(request, exception=None, template_name="404.html"):
    if is_api(request):
        return JsonResponse(
            error_body("not_found", "没有这个接口地址（请查看 /api/schema/）。"), status=404
        )
    return defaults.page_not_found(request, exception, template_name)


def server_error(request, template_name="500.html"):
    if is_api(request):
        return JsonResponse(
            error_body("error", "服务器内部错误，请稍后再试。", kind="server_error"), status=500
        )
    return defaults.server_error(request, template_name)


class LimitReached(exceptions.APIException):
    """A look-up refused by the limits on identity numbers (memo_registry/services/access.py)."""

    status_code = 429
    default_detail = "超出每日身份证号码查询上限。"
    default_code = "limit_reached"


def code_error(message: str) -> serializers.ValidationError:
    """A code refused (length, characters, check character), on the field ``code``."""
    return serializers.ValidationError({"code": [message]})


class ApiErrorsAsJson:
    """Under ``/api/``, an error answer that is not JSON becomes JSON in the one
    shape: Django's own pages for an address no pattern matches answer HTML
    while DEBUG is on (its technical 404), whatever ``handler404`` says."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and is_api(request)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            if response.status_code == 404:
                return not_found(request)
            if response.status_code >= 500:
                return server_error(request)
        return response
