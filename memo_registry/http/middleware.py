"""Two middlewares for answers the usual stack does not shape.

``ProtectEveryResponseMiddleware`` sits first in MIDDLEWARE, outside
everything else.  django-csp and Django's X-Frame-Options middleware sit
deeper, so a response made before them never passes them: a static file
(WhiteNoise answers without calling what is below it) and the 400 for a bad
Host header (Django turns DisallowedHost into that 400 inside
CommonMiddleware, or inside SecurityMiddleware when it redirects to HTTPS).
This one adds the same three headers to any response that lacks them; a
response that has them, or that a view exempted, is left alone.

``AdminBadParametersMiddleware`` answers 400 when an admin list page fails on
a value from its query string that Django's ChangeList does not catch: a
date-hierarchy year too large for ``datetime`` raises OverflowError (Django
catches only ValueError there), and a text the database cannot take (a NUL
byte for PostgreSQL) raises ValueError.  Django's own answer to bad filter
values is the ``?e=1`` redirect; these escape it and would be a 500.
"""

from csp.constants import HEADER as CSP_HEADER
from csp.utils import build_policy
from django.conf import settings
from django.core.exceptions import BadRequest
from django.utils.deprecation import MiddlewareMixin


class ProtectEveryResponseMiddleware(MiddlewareMixin):
    """Content-Security-Policy, X-Frame-Options and nosniff on every response."""

    def process_response(self, request, response):
        # Like django-csp, leave Django's debug pages (404/500 with DEBUG)
        # without a policy: their inline script would be blocked.
        debug_page = settings.DEBUG and response.status_code in (404, 500)
        if not (getattr(response, "_csp_exempt", False) or debug_page):
            # django-csp's own builder: the policy CSPMiddleware writes.
            policy = build_policy()
            if policy:
                response.headers.setdefault(CSP_HEADER, policy)
        if not getattr(response, "xframe_options_exempt", False):
            response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        if settings.SECURE_CONTENT_TYPE_NOSNIFF:
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


# What a value from the query string can make the changelist raise.
_BAD_VALUE_ERRORS = (OverflowError, ValueError)


class AdminBadParametersMiddleware(MiddlewareMixin):
    """A bad query-string value on an admin list page is a 400, not a 500."""

    def process_exception(self, request, exception):
        match = request.resolver_match
        if (
            isinstance(exception, _BAD_VALUE_ERRORS)
            # Only with a query string: on a bare list page the same error is
            # a bug, and stays a 500 that is logged and seen.
            and request.GET
            and match is not None
            and "admin" in match.namespaces
            and (match.url_name or "").endswith("_changelist")
        ):
            # Django answers BadRequest with handler400 (templates/400.html)
            # and logs it as a bad request, not as a server error.
            raise BadRequest("管理列表的筛选参数格式有误。") from exception
        return None
