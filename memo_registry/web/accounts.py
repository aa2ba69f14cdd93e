"""Two-factor sign-in for users who can reach the admin (django-otp, TOTP).

``/accounts/two-factor/`` is the user's own page: a staff user without an
authenticator scans the QR code (or types the base32 secret) and confirms
with a current code; ``/accounts/two-factor/verify/`` asks for the code after
the password.  The admin (memo_registry/admin_site.py) sends staff to one or
the other.  Users who are not staff (查阅) never need a code.

Wrong codes are throttled by the device itself (django-otp's ThrottlingMixin:
1, 2, 4, 8 … seconds after each failure, ``OTP_TOTP_THROTTLE_FACTOR``), and a
code is accepted once only (``last_t``).  A lost phone is reset with
``manage.py reset_two_factor USERNAME``.
"""

import math
import unicodedata
from base64 import b32encode
from urllib.parse import urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import iri_to_uri
from django.utils.http import MAX_URL_REDIRECT_LENGTH, url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "身份验证器"


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def second_factor_url(user, after: str) -> str:
    """Where signed-in staff go before the admin: enrolment, or the code."""
    name = "two_factor_verify" if confirmed_device(user) else "two_factor"
    return f"{reverse(name)}?{urlencode({REDIRECT_FIELD_NAME: after})}"


def _next_url(request) -> str:
    after = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if after and url_has_allowed_host_and_scheme(
        after, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return after
    return reverse("admin:index")


class CodeForm(forms.Form):
    code = forms.CharField(
        label="验证码",
        max_length=20,
        help_text="身份验证器应用中本站的 6 位数字，每 30 秒更换一次。",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "size": 8,
            }
        ),
        error_messages={"required": "请输入 6 位验证码。"},
    )

    def __init__(self, device: TOTPDevice, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_code(self) -> str:
        # Full-width digits (a Chinese input method) and the space many apps
        # show in the middle of the code are the same code.
        code = unicodedata.normalize("NFKC", self.cleaned_data["code"]).replace(" ", "")
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise forms.ValidationError("验证码是 6 位数字。")
        # Lock the device row so that parallel guesses cannot all read the
        # same failure count and slip past the throttle together.  The
        # refusal is raised after the block, which must commit the failure.
        with transaction.atomic():
            device = TOTPDevice.objects.select_for_update().get(pk=self.device.pk)
            allowed, _ = device.verify_is_allowed()
            accepted = allowed and device.verify_token(code)
        self.device = device
        if not allowed:
            raise forms.ValidationError(_throttled(device))
        if not accepted:
            raise forms.ValidationError(
                "验证码不正确。请输入身份验证器当前显示的 6 位数字"
                "（每个验证码只能使用一次），并确认手机时间准确。"
            )
        return code


def _throttled(device: TOTPDevice) -> str:
    _, info = device.verify_is_allowed()
    wait = 1
    if info and info.get("locked_until"):
        wait = max(1, math.ceil((info["locked_until"] - timezone.now()).total_seconds()))
    return f"验证码连续输错 {device.throttling_failure_count} 次，请 {wait} 秒后再试。"


def _verified(request, device: TOTPDevice) -> None:
    # A new session key for the raised privilege, as django.contrib.auth does
    # at sign-in, then the session remembers the device as django_otp.login does.
    request.session.cycle_key()
    django_otp.login(request, device)


def _qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code: no image library, no script."""
    image = qrcode.make(
        device.config_url,
        image_factory=qrcode.image.svg.SvgPathFillImage,
        box_size=14,
        border=4,
    )
    return mark_safe(image.to_string(encoding="unicode"))  # generated paths only


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@login_required
def enrol(request):
    user = request.user
    context = {"next": _next_url(request), "needed": user.is_staff}
    if not user.is_staff:
        return render(request, "registration/two_factor.html", context)
    device = confirmed_device(user)
    if device is not None:
        context.update(device=device, verified=user.is_verified())
        return render(request, "registration/two_factor.html", context)

    # One pending device per user, kept until confirmed, so reloading the
    # page does not change the secret the user may already have scanned.
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if pending is None:
        pending = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    form = CodeForm(pending, request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = form.device
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        _verified(request, device)
        messages.success(request, "两步验证已启用。以后进入管理后台时，请在密码之后输入验证码。")
        return redirect(context["next"])
    context.update(
        form=form,
        pending=pending,
        qr_svg=_qr_svg(pending),
        secret=_grouped(b32encode(pending.bin_key).decode()),
    )
    return render(request, "registration/two_factor.html", context)


@never_cache
@login_required
def verify(request):
    user = request.user
    after = _next_url(request)
    if not user.is_staff:
        return render(request, "registration/two_factor.html", {"needed": False, "next": after})
    device = confirmed_device(user)
    if device is None:
        return redirect(second_factor_url(user, after))
    if user.is_verified():
        return redirect(after)
    form = CodeForm(device, request.POST or None)
    if request.method == "POST" and form.is_valid():
        _verified(request, form.device)
        return redirect(after)
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": after})


class SignOutView(auth_views.LogoutView):
    """``/accounts/logout/``: Django's, but a ``next`` it will not follow
    (another site, a ``javascript:`` address, one too long to redirect to once
    encoded: 2,000 Chinese characters are 18,000 bytes, past Django's limit,
    which answered "400 DisallowedRedirect") leads to the sign-in page."""

    def get_redirect_url(self) -> str:
        url = super().get_redirect_url()
        return url if len(iri_to_uri(url)) <= MAX_URL_REDIRECT_LENGTH else ""

    def get_success_url(self) -> str:
        asked = self.request.POST.get(self.redirect_field_name) or self.request.GET.get(
            self.redirect_field_name
        )
        if asked and not self.get_redirect_url():
            return resolve_url(settings.LOGIN_URL)
        return super().get_success_url()
