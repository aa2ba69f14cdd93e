"""Sign-in throttling, CSRF, the browser's protections and production settings."""

import os
import secrets
import subprocess
import sys

import pytest
from django.test import Client

from measures.models import Feedback
from memos.models import Memorandum
from tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


def _sign_in(client, username, password):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR="10.1.2.3"
    )


def test_failed_sign_ins_lock_the_user_out_from_that_address(client, clerk):
    for _ in range(4):
        assert _sign_in(client, "clerk", "wrong").status_code == 200  # the form again
    assert _sign_in(client, "clerk", "wrong").status_code == 429  # the fifth locks
    locked = _sign_in(client, "clerk", "pw-Registry-2018")
    assert locked.status_code == 429
    assert "锁定" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_correct_password_signs_in_and_the_session_expires(client, clerk, settings):
    response = _sign_in(client, "clerk", "pw-Registry-2018")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(clerk.pk)
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_forms_refuse_a_post_without_the_csrf_token(editor, list_2018):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    memo = Memorandum.objects.get(seq=7)
    listing = ListingFactory(target_subject=memo.target_subject)
    measure = memo.measures.first()
    response = client.post(
        f"/subjects/{listing.subject.pk}/feedback/",
        {
            "measure": measure.pk,
            "division": measure.divisions.first().pk,
            "done_on": "2025-01-01",
            "action": "x",
        },
    )
    assert response.status_code == 403
    assert Feedback.objects.count() == 0
    page = client.get(f"/subjects/{listing.subject.pk}/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in page


def test_pages_carry_a_content_security_policy_without_inline_script(client, list_2018):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'self'" in script_src
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def _manage(*args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a
        # deployment never does.
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], env=clean, capture_output=True, text=True
    )


def test_the_deployment_check_is_clean_in_production_mode():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="registry.example.gov.cn",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_mode_sets_the_https_protections():
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS >= 31536000, s.SECURE_PROXY_SSL_HEADER)",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="registry.example.gov.cn",
    )
    assert "True True True True ('HTTP_X_FORWARDED_PROTO', 'https')" in result.stdout, result.stderr


def test_another_address_is_not_locked_out_by_someone_else_s_failures(client, clerk):
    for _ in range(5):
        _sign_in(client, "clerk", "wrong")
    other = client.post(
        "/accounts/login/",
        {"username": "clerk", "password": "pw-Registry-2018"},
        REMOTE_ADDR="10.9.9.9",
    )
    assert other.status_code == 302
