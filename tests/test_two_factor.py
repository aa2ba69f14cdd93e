"""Two-factor sign-in: staff reach the admin only with a password and a TOTP code.

Codes are computed from the device's own key with django_otp.oath.totp, as
the user's authenticator app computes them.
"""

import re
from base64 import b32encode
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Registry-2018"
ADMIN_PAGE = "/admin/memos/memorandum/"


def code_of(device: TOTPDevice, steps: int = 0) -> str:
    """The code the authenticator app shows now (or ``steps`` periods later)."""
    device.refresh_from_db()
    return (
        f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps):06d}"
    )


def wrong_code(device: TOTPDevice) -> str:
    # A code none of the accepted periods (previous, current, next) shows.
    accepted = {code_of(device, steps) for steps in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in accepted)


def sign_in(client, username):
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=True)


def test_staff_cannot_reach_the_admin_with_a_password_alone(client, editor, list_2018):
    sign_in(client, "editor")
    response = client.get(ADMIN_PAGE, follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/two-factor/?next=")
    assert response.status_code == 200
    assert "绑定" in response.content.decode()
    assert "cl" not in (response.context or {})  # no admin list was rendered

    # The same through the admin's own sign-in form.
    client.logout()
    response = client.post(
        f"/admin/login/?next={ADMIN_PAGE}",
        {"username": "editor", "password": PASSWORD, "next": ADMIN_PAGE},
        follow=True,
    )
    assert response.redirect_chain[-1][0].startswith("/accounts/two-factor/?next=")
    assert client.get(ADMIN_PAGE).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_a_superuser_needs_the_second_factor_too(client, django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    sign_in(client, "root")
    assert client.get("/admin/auth/user/")["Location"].startswith("/admin/login/")


def test_an_enrolled_staff_user_is_asked_for_the_code(client, editor, list_2018):
    enrolled(editor)
    sign_in(client, "editor")
    response = client.get(ADMIN_PAGE, follow=True)
    assert (
        response.redirect_chain[-1][0]
        == f"/accounts/two-factor/verify/?next={ADMIN_PAGE.replace('/', '%2F')}"
    )
    assert "输入验证码" in response.content.decode()


def test_enrolment_confirms_the_device_with_a_current_code(client, editor, list_2018):
    sign_in(client, "editor")
    page = client.get(f"/accounts/two-factor/?next={ADMIN_PAGE}")
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=editor)
    assert not device.confirmed
    # The QR code is inline SVG drawn on the server; the key is shown for typing in.
    assert re.search(r"<svg[^>]*xmlns=\"http://www.w3.org/2000/svg\"", html)
    secret = b32encode(device.bin_key).decode()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html
    # No inline script: only the site's own files (the CSP allows no other).
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts and all(
        re.fullmatch(r'<script src="/static/js/[\w.-]+\.js" defer>', tag) for tag in scripts
    ), scripts
    # Reloading keeps the secret the user may already have scanned.
    client.get("/accounts/two-factor/")
    assert TOTPDevice.objects.get(user=editor).key == device.key

    response = client.post("/accounts/two-factor/", {"code": code_of(device), "next": ADMIN_PAGE})
    assert response.status_code == 302
    assert response["Location"] == ADMIN_PAGE
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(ADMIN_PAGE).status_code == 200  # enrolling verified the session
    mine = client.get("/accounts/two-factor/").content.decode()
    assert "已启用两步验证" in mine and secret not in mine and "<svg" not in mine


def test_enrolment_refuses_a_wrong_code(client, editor):
    sign_in(client, "editor")
    client.get("/accounts/two-factor/")
    device = TOTPDevice.objects.get(user=editor)
    response = client.post("/accounts/two-factor/", {"code": wrong_code(device)})
    assert response.status_code == 200
    assert "验证码不正确" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/admin/").status_code == 302


def test_a_wrong_code_is_refused_with_a_clear_message(client, editor, list_2018):
    device = enrolled(editor)
    sign_in(client, "editor")
    for code, message in [
        (wrong_code(device), "验证码不正确"),
        ("12345", "验证码是 6 位数字"),
        ("abcdef", "验证码是 6 位数字"),
        ("", "请输入 6 位验证码"),
    ]:
        device.throttle_reset()
        response = client.post("/accounts/two-factor/verify/", {"code": code, "next": ADMIN_PAGE})
        assert response.status_code == 200, code
        assert message in response.content.decode(), code
        assert client.get(ADMIN_PAGE).status_code == 302, code


def test_the_right_code_opens_the_admin_once(client, editor, list_2018):
    device = enrolled(editor)
    sign_in(client, "editor")
    code = code_of(device)
    # Full-width digits typed with a Chinese input method, and a space, are the same code.
    typed = code[:3].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + " " + code[3:]
    response = client.post("/accounts/two-factor/verify/", {"code": typed, "next": ADMIN_PAGE})
    assert response.status_code == 302
    assert response["Location"] == ADMIN_PAGE
    assert client.get(ADMIN_PAGE).status_code == 200

    # The same code cannot be played again in another session.
    client.logout()
    sign_in(client, "editor")
    replay = client.post("/accounts/two-factor/verify/", {"code": code})
    assert replay.status_code == 200
    assert "验证码不正确" in replay.content.decode()


def test_the_next_address_stays_on_this_site(client, editor):
    device = enrolled(editor)
    sign_in(client, "editor")
    response = client.post(
        "/accounts/two-factor/verify/", {"code": code_of(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/admin/"


def test_wrong_codes_are_throttled(client, editor, list_2018, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # seconds after the first failure
    device = enrolled(editor)
    sign_in(client, "editor")
    client.post("/accounts/two-factor/verify/", {"code": wrong_code(device)})
    # Within the minute even the right code is refused, and the page says why.
    throttled = client.post("/accounts/two-factor/verify/", {"code": code_of(device)})
    assert throttled.status_code == 200
    assert re.search(r"验证码连续输错 1 次，请 \d+ 秒后再试", throttled.content.decode())
    assert client.get(ADMIN_PAGE).status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # a refused try is not a guess

    # A minute later the right code is accepted.
    device.throttling_failure_timestamp -= timedelta(seconds=61)
    device.save()
    assert client.post("/accounts/two-factor/verify/", {"code": code_of(device)}).status_code == 302
    assert client.get(ADMIN_PAGE).status_code == 200


def test_each_wrong_code_doubles_the_wait(client, editor, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    device = enrolled(editor)
    sign_in(client, "editor")
    for failures in (1, 2, 3):
        client.post("/accounts/two-factor/verify/", {"code": wrong_code(device)})
        device.refresh_from_db()
        assert device.throttling_failure_count == failures
        wait = 60 * 2 ** (failures - 1)
        page = client.post("/accounts/two-factor/verify/", {"code": "000000"}).content.decode()
        shown = int(re.search(r"请 (\d+) 秒后再试", page).group(1))
        assert wait - 5 <= shown <= wait
        device.throttling_failure_timestamp -= timedelta(seconds=wait + 1)
        device.save()


def test_a_password_alone_cannot_enrol_a_second_device(client, editor):
    device = enrolled(editor)
    sign_in(client, "editor")
    page = client.get("/accounts/two-factor/").content.decode()
    assert "已启用两步验证" in page and "<svg" not in page
    client.post("/accounts/two-factor/", {"code": code_of(device)})
    assert list(TOTPDevice.objects.filter(user=editor)) == [device]
    assert client.get("/admin/").status_code == 302


def test_reset_two_factor_deletes_the_user_s_devices(client, editor, otp_login, list_2018):
    otp_login(client, editor)
    assert client.get(ADMIN_PAGE).status_code == 200
    out = StringIO()
    call_command("reset_two_factor", "editor", stdout=out)
    assert "已删除用户 editor 的 1 个两步验证设备" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=editor).exists()
    # The session verified with the deleted device no longer opens the admin:
    # the user is sent to enrol a new one.
    response = client.get(ADMIN_PAGE, follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/two-factor/?next=")

    # A half-done enrolment (the page made its secret) is reset too.
    assert not TOTPDevice.objects.get(user=editor).confirmed
    call_command("reset_two_factor", "editor", stdout=StringIO())
    again = StringIO()
    call_command("reset_two_factor", "editor", stdout=again)
    assert "没有两步验证设备" in again.getvalue()


def test_reset_two_factor_names_an_unknown_user(db):
    with pytest.raises(CommandError, match="没有用户名为 nobody 的用户"):
        call_command("reset_two_factor", "nobody")


def test_clerk_signs_in_with_a_password_only(client, clerk, list_2018):
    sign_in(client, "clerk")
    for url in ["/", "/divisions/", "/subjects/"]:
        assert client.get(url).status_code == 200, url
    page = client.get("/accounts/two-factor/").content.decode()
    assert "不需要两步验证" in page and "<svg" not in page
    assert client.get("/accounts/two-factor/verify/").status_code == 200
    assert not TOTPDevice.objects.exists()
    # The admin stays closed to 查阅, as before: its sign-in page, not a code.
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert client.get("/admin/login/?next=/admin/").status_code == 200


def test_staff_use_the_site_s_own_pages_with_a_password_alone(client, editor, list_2018):
    sign_in(client, "editor")
    for url in ["/", "/divisions/", "/subjects/", "/accounts/password/"]:
        assert client.get(url).status_code == 200, url
