"""Typed readers for settings that come from the environment.

Each helper refuses a value it cannot read with ImproperlyConfigured, naming
the variable, so a typo in production stops the site instead of silently
running with a default (after healthchecks' ``envbool``).
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean: use 1/0, true/false, yes/no or on/off."
    )


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_email(name: str) -> dict:
    """Django's e-mail settings from one URL: ``smtp://user:password@host:587?tls=1``
    (``smtps://`` for SSL), ``console://`` or unset for the console backend."""
    from urllib.parse import parse_qs, unquote, urlsplit

    raw = os.environ.get(name, "").strip()
    settings = {
        "backend": "django.core.mail.backends.console.EmailBackend",
        "host": "localhost",
        "port": 25,
        "user": "",
        "password": "",
        "tls": False,
        "ssl": False,
    }
    if not raw or raw.startswith("console:"):
        return settings
    url = urlsplit(raw)
    if url.scheme not in {"smtp", "smtps"} or not url.hostname:
        raise ImproperlyConfigured(
            f"{name} must look like smtp://user:password@host:port (or smtps://, console://)."
        )
    query = parse_qs(url.query)
    try:
        port = url.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port.") from None
    settings.update(
        backend="django.core.mail.backends.smtp.EmailBackend",
        host=url.hostname,
        port=port or (465 if url.scheme == "smtps" else 25),
        user=unquote(url.username or ""),
        password=unquote(url.password or ""),
        tls=query.get("tls", ["0"])[0].lower() in _TRUE,
        ssl=url.scheme == "smtps",
    )
    return settings
