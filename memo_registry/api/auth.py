"""HTTP Basic for the API, telling a locked-out client that it is locked out.

DRF's BasicAuthentication passes the request to ``authenticate()``, so
django-axes counts its failures with the sign-in form's (per user and
address) and refuses the password while the pair is locked out.  DRF then
answers as for a wrong password; this says 429 and why instead, as the
sign-in page does.
"""

from drf_spectacular.authentication import BasicScheme
from rest_framework import authentication, exceptions, status


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
