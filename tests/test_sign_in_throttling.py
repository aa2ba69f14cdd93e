"""Sign-in throttling behind the reverse proxy, and over HTTP Basic.

The proxy (nginx, ``$proxy_add_x_forwarded_for``) connects from 127.0.0.1
and appends the address it received the request from to whatever
``X-Forwarded-For`` the client sent; these tests send what such a proxy
forwards.  The lockout is per user and address (five failures, one hour).
"""

import base64
import os
import subprocess
import sys

import pytest
from axes.models import AccessAttempt

pytestmark = pytest.mark.django_db

PROXY = "127.0.0.1"
EDITOR_AT = "10.20.0.7"  # the real editor's desk
ATTACKER_AT = "10.66.0.1"
PASSWORD = "pw-Registry-2018"


@pytest.fixture
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


def _through_proxy(client, username, password, client_at, forged=None):
    """A sign-in as the proxy forwards it: the client's header, then its address."""
    forwarded = f"{forged}, {client_at}" if forged else client_at
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_forged_x_forwarded_for_cannot_lock_out_the_real_user(
    client, django_user_model, editor, behind_one_proxy
):
    # The attacker claims to be the editor's desk; the proxy appends the
    # attacker's real address after the claim.
    for _ in range(5):
        _through_proxy(client, "editor", "wrong", ATTACKER_AT, forged=EDITOR_AT)
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address) == ("editor", ATTACKER_AT)

    client.logout()
    response = _through_proxy(client, "editor", PASSWORD, EDITOR_AT)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(editor.pk)


def test_the_lockout_still_holds_the_attacker_s_own_address(client, editor, behind_one_proxy):
    for _ in range(4):
        assert _through_proxy(client, "editor", "wrong", ATTACKER_AT).status_code == 200
    assert _through_proxy(client, "editor", "wrong", ATTACKER_AT).status_code == 429
    # Neither the right password nor a new forged address each time gets out.
    for n, forged in enumerate(["10.20.0.7", "192.0.2.9", "unknown", f"{EDITOR_AT}, 10.1.1.1"]):
        response = _through_proxy(client, "editor", PASSWORD, ATTACKER_AT, forged=forged)
        assert response.status_code == 429, (n, forged)
        assert "锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_unclosed_quote_in_x_forwarded_for_cannot_hide_the_proxy_s_entry(
    client, editor, behind_one_proxy
):
    # A parser that honours RFC 7239 quotes reads `10.20.0.7, ", 10.66.0.1`
    # as 10.20.0.7 and one broken entry: the attacker would be the editor.
    for _ in range(5):
        _through_proxy(client, "editor", "wrong", ATTACKER_AT, forged=f'{EDITOR_AT}, "')
    assert AccessAttempt.objects.get().ip_address == ATTACKER_AT
    assert _through_proxy(client, "editor", PASSWORD, EDITOR_AT).status_code == 302


def test_two_proxies_trust_two_entries(client, editor, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    inner_proxy = "10.0.0.2"  # the outer proxy appended the client; the inner one, the outer
    for _ in range(5):
        client.post(
            "/accounts/login/",
            {"username": "editor", "password": "wrong"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"{EDITOR_AT}, {ATTACKER_AT}, {inner_proxy}",
        )
    assert AccessAttempt.objects.get().ip_address == ATTACKER_AT


def test_without_a_proxy_the_header_is_ignored(client, editor, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for forged in ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"]:
        client.post(
            "/accounts/login/",
            {"username": "editor", "password": "wrong"},
            REMOTE_ADDR=ATTACKER_AT,
            HTTP_X_FORWARDED_FOR=forged,
        )
    assert AccessAttempt.objects.get().ip_address == ATTACKER_AT
    locked = client.post(
        "/accounts/login/",
        {"username": "editor", "password": PASSWORD},
        REMOTE_ADDR=ATTACKER_AT,
        HTTP_X_FORWARDED_FOR=EDITOR_AT,
    )
    assert locked.status_code == 429


def test_a_request_that_bypassed_the_proxy_counts_by_its_peer_address(
    client, editor, behind_one_proxy
):
    for _ in range(5):
        client.post(
            "/accounts/login/", {"username": "editor", "password": "wrong"}, REMOTE_ADDR="10.3.3.3"
        )
    assert AccessAttempt.objects.get().ip_address == "10.3.3.3"


def _basic(username, password):
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def test_http_basic_failures_count_towards_lockout(client, editor, behind_one_proxy):
    through_proxy = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": ATTACKER_AT}
    for _ in range(4):
        refused = client.get("/api/memos/", **_basic("editor", "wrong"), **through_proxy)
        assert refused.status_code == 401  # a wrong password: 401, as the schema says
    fifth = client.get("/api/memos/", **_basic("editor", "wrong"), **through_proxy)
    assert fifth.status_code == 429
    assert "锁定" in fifth.json()["errors"][0]["detail"]
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address) == ("editor", ATTACKER_AT)

    # Locked out over Basic means locked out: the right password is refused
    # over Basic and on the sign-in page, from that address only.
    again = client.get("/api/memos/", **_basic("editor", PASSWORD), **through_proxy)
    assert again.status_code == 429
    assert "锁定" in again.json()["errors"][0]["detail"]
    assert _through_proxy(client, "editor", PASSWORD, ATTACKER_AT).status_code == 429
    elsewhere = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": EDITOR_AT}
    assert client.get("/api/memos/", **_basic("editor", PASSWORD), **elsewhere).status_code == 200


def test_sign_in_failures_count_towards_the_basic_lockout(client, editor, behind_one_proxy):
    for _ in range(5):
        _through_proxy(client, "editor", "wrong", ATTACKER_AT)
    through_proxy = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": ATTACKER_AT}
    response = client.get("/api/memos/", **_basic("editor", PASSWORD), **through_proxy)
    assert response.status_code == 429


def _settings_value(name, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"TRUSTED_PROXY_COUNT", "AXES_IPWARE_PROXY_COUNT", "OTP_TOTP_THROTTLE_FACTOR"}
    }
    clean.update(env)
    return subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            f"from django.conf import settings; print(settings.{name})",
        ],
        env=clean,
        capture_output=True,
        text=True,
    )


def test_the_proxy_count_comes_from_the_environment_under_either_name():
    assert _settings_value("TRUSTED_PROXY_COUNT").stdout.split()[-1] == "0"
    assert _settings_value("TRUSTED_PROXY_COUNT", TRUSTED_PROXY_COUNT="1").stdout.split()[-1] == "1"
    # The name the README gave before this setting existed still works.
    old_name = _settings_value("TRUSTED_PROXY_COUNT", AXES_IPWARE_PROXY_COUNT="1")
    assert old_name.stdout.split()[-1] == "1"
    refused = _settings_value("TRUSTED_PROXY_COUNT", TRUSTED_PROXY_COUNT="-1")
    assert refused.returncode != 0 and "TRUSTED_PROXY_COUNT" in refused.stderr
    no_throttle = _settings_value("OTP_TOTP_THROTTLE_FACTOR", OTP_TOTP_THROTTLE_FACTOR="0")
    assert no_throttle.returncode != 0 and "OTP_TOTP_THROTTLE_FACTOR" in no_throttle.stderr
