"""Who calls the API: people (session, HTTP Basic) and other systems (API keys).

HTTP Basic tells a locked-out client that it is locked out.

DRF's BasicAuthentication passes the request to ``authenticate()``, so
django-axes counts its failures with the sign-in form's (per user and
address) and refuses the password while the pair is locked out.  DRF then
answers as for a wrong password; this says 429 and why instead, as the
sign-in page does.
"""

import datetime

from django.conf import settings
from django.utils import timezone
from drf_spectacular.authentication import BasicScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, status, throttling
from rest_framework.permissions import BasePermission
from rest_framework_api_key.permissions import KeyParser

from memo_registry.clients.models import ClientKey


class LockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = (
        "该账号在本地址连续多次登录失败，登录已锁定一小时。如忘记密码，请联系系统管理员重置。"
    )
    default_code = "locked_out"


class BasicAuthentication(authentication.BasicAuthentication):
    def authenticate_credentials(self, userid, password, request=None):
        try:
            return super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            # axes marks the request it refused (AxesStandaloneBackend) or
            # whose failure reached the limit (its user_login_failed handler).
            if getattr(request, "axes_locked_out", False):
                raise LockedOut from None
            raise


class BasicAuthenticationScheme(BasicScheme):
    """The OpenAPI schema describes it as the HTTP Basic it is (drf-spectacular)."""

    target_class = BasicAuthentication


# --- API keys for other systems --------------------------------------------------------

# What each scope of a key lets it do, as the permissions the views ask a user for.
SCOPE_PERMISSIONS = {
    "memos:read": {"memos.view_memorandum"},
    "subjects:read": {"subjects.view_subject", "subjects.view_listing"},
    "subjects:full_identity": {"subjects.view_full_identity"},
    "checks:write": {"clients.add_check"},
}


class KeyUser:
    """The ``request.user`` of a request made with an API key: a client system,
    holding the permissions of its key's scopes and nothing else."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = id = None

    def __init__(self, api_key: ClientKey):
        self.api_key = api_key
        self._permissions = set().union(
            *(SCOPE_PERMISSIONS.get(scope, set()) for scope in api_key.scopes or [])
        )

    def has_perm(self, perm: str, obj=None) -> bool:
        return perm in self._permissions

    def get_username(self) -> str:
        return self.api_key.name

    def __str__(self) -> str:
        return f"对接系统 {self.api_key.name}"


class InvalidKey(exceptions.APIException):
    # Not AuthenticationFailed: DRF would turn that into 403 because the
    # first authentication class (the session) sends no WWW-Authenticate.
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "接口密钥无效、已吊销或已过期。"
    default_code = "authentication_failed"


# last_used_at is written at most once a minute per key, not on every request.
LAST_USED_EVERY = datetime.timedelta(minutes=1)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Api-Key <key>`` (djangorestframework-api-key's key form).

    A key is looked up by its prefix and compared by SHA-512 (no password
    hashing on every request); a revoked, expired or unknown key is a 401."""

    keyword = KeyParser.keyword

    def authenticate(self, request):
        raw = KeyParser().get(request)
        if raw is None:
            return None
        try:
            api_key = ClientKey.objects.get_from_key(raw)
        except ClientKey.DoesNotExist:
            raise InvalidKey from None
        if api_key.has_expired:
            raise InvalidKey("接口密钥已过期，请联系管理员换发。")
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_EVERY:
            ClientKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now
        return KeyUser(api_key), api_key

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """The schema names the key as what it is: an ``Authorization`` header."""

    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Api-Key <密钥>：管理员为对接系统创建的密钥。",
        }


class PerKeyThrottle(throttling.SimpleRateThrottle):
    """Requests with an API key, counted per key (``API_KEY_RATE``); people are not throttled here."""

    scope = "api_key"

    def get_rate(self):
        return settings.API_KEY_RATE

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ClientKey):
            return f"throttle_api_key_{request.auth.prefix}"
        return None


class KeyScopes(BasePermission):
    """A request with a key needs the view's ``required_scopes``; others pass here
    (the view's other permissions decide)."""

    def has_permission(self, request, view):
        if not isinstance(request.auth, ClientKey):
            return True
        missing = [s for s in getattr(view, "required_scopes", ()) if not request.auth.has_scope(s)]
        if missing:
            self.message = f"该接口密钥没有所需的权限范围：{'、'.join(missing)}。"
        return not missing


class SystemWithScope(KeyScopes):
    """Only a client system whose key holds the view's ``required_scopes``."""

    message = "需要具有相应权限范围的接口密钥（Authorization: Api-Key …）。"

    def has_permission(self, request, view):
        return isinstance(request.auth, ClientKey) and super().has_permission(request, view)
