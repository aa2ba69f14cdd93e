"""Settings for memo_registry: one module, values from the environment.

With no environment at all this is a local development site on SQLite at
127.0.0.1/localhost.  Production values (DEBUG=0, SECRET_KEY, ALLOWED_HOSTS,
DATABASE_URL) come only from the environment; see README.md.
"""

import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from memo_registry.env import env_bool, env_email, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG=0.")
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (
    SECRET_KEY == _DEV_SECRET_KEY
    # What Django's own check (security.W009) calls insecure: fewer than 50
    # characters, fewer than 5 different ones, or a startproject key.  It only
    # warns, and only under `check --deploy`; the site would sign sessions
    # with it anyway.
    or len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
    or SECRET_KEY.startswith("django-insecure-")
):
    raise ImproperlyConfigured(
        "SECRET_KEY is the development key or too weak for DEBUG=0: use 50 or more "
        "random characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if DEBUG:
    # pytest-django's live_server and the test client use these names.
    ALLOWED_HOSTS += ["testserver"]

INSTALLED_APPS = [
    # django.contrib.admin, with a site that also asks staff for a TOTP code
    # (memo_registry/admin_site.py); admin.site stays the one to register with.
    "memo_registry.admin_site.RegistryAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "import_export",
    "simple_history",
    # django-axes, named in Chinese in the admin (memo_registry/admin_site.py).
    "memo_registry.admin_site.AxesConfig",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # API keys for other systems (memo_registry/clients/: its own key model;
    # the library's admin is replaced there) and errors as data for the API.
    "rest_framework_api_key",
    "drf_standardized_errors",
    # The registry's own apps, in dependency order: subjects knows no other
    # app, memos points at subjects, measures at memos and subjects, and
    # memo_registry (pipeline, lookup, public pages) sits above all three.
    "memo_registry.audit",
    "subjects",
    "memos",
    "measures",
    # Client systems: API keys, embedded checks, the change log (imports the
    # three apps' models only).
    "memo_registry.clients",
    "memo_registry",
]

MIDDLEWARE = [
    # First, outside everything: CSP, X-Frame-Options and nosniff also on
    # static files and on the 400 for a bad Host (memo_registry/http/middleware.py).
    "memo_registry.http.middleware.ProtectEveryResponseMiddleware",
    # A bad filter value on an admin list page answers 400, not 500.
    "memo_registry.http.middleware.AdminBadParametersMiddleware",
    # Under /api/ an error page Django itself answers is JSON too (memo_registry/api/errors.py).
    "memo_registry.api.errors.ApiErrorsAsJson",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A request body over its budget is refused (413) before it is read,
    # before sessions, users or CSRF (memo_registry/http/uploads.py).
    "memo_registry.http.uploads.UploadBudgetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After AuthenticationMiddleware: adds request.user.is_verified().
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "memo_registry.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "memo_registry.web.work_nav.work_counts",
            ],
        },
    },
]

WSGI_APPLICATION = "memo_registry.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 0),
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
# Chinese for libraries that ship none (django-axes' admin): locale/zh_Hans.
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Serve static files straight from the apps' folders while developing (and in
# tests, which run without collectstatic); production serves STATIC_ROOT.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Largest spreadsheet accepted by the importers, in bytes.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024
# Upload budgets (memo_registry/http/uploads.py, memo_registry/lib/spreadsheet/): a
# body over the limit is refused (413) before it is read; an uploaded file
# past this size goes to a temporary file on disk, which the readers read
# from, never whole into memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
FILE_UPLOAD_HANDLERS = [
    "memo_registry.http.uploads.BudgetUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# A request body without files (the JSON API: at most BATCH_CHECK_MAX_CODES codes).
API_MAX_REQUEST_BYTES = env_int("API_MAX_REQUEST_BYTES", 2 * 1024 * 1024)
# Working days a division has to report feedback on a work item (反馈时限);
# a measure may set its own in the admin (issue 14).
FEEDBACK_WORKING_DAYS = env_int("FEEDBACK_WORKING_DAYS", 15)

# E-mail (the work digest, `manage.py send_work_digest`): EMAIL_URL such as
# smtp://user:password@mail.example.gov.cn:587?tls=1; printed to the console
# when unset.
_EMAIL = env_email("EMAIL_URL")
EMAIL_BACKEND = _EMAIL["backend"]
EMAIL_HOST, EMAIL_PORT = _EMAIL["host"], _EMAIL["port"]
EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = _EMAIL["user"], _EMAIL["password"]
EMAIL_USE_TLS, EMAIL_USE_SSL = _EMAIL["tls"], _EMAIL["ssl"]
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "registry@localhost")

# The most codes one batch check takes (a sheet, or the API's list).
BATCH_CHECK_MAX_CODES = env_int("BATCH_CHECK_MAX_CODES", 10_000)

REST_FRAMEWORK = {
    # Every operation documents every error it can answer, in one shape
    # (drf-standardized-errors; memo_registry/api/errors.py).
    "DEFAULT_SCHEMA_CLASS": "drf_standardized_errors.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # DRF's two defaults; HTTP Basic answers a locked-out user and address
    # with 429 and says so (memo_registry/api/auth.py).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Other systems: `Authorization: Api-Key <key>` (memo_registry/api/auth.py).
        # First, so that a request with no credentials answers 401 with
        # `WWW-Authenticate: Api-Key`, as the schema says, not 403.
        "memo_registry.api.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        # Kept for people (tests/test_sign_in_throttling.py, README: a locked-out
        # Basic request answers 429); systems use keys.
        "memo_registry.api.auth.BasicAuthentication",
    ],
    # Requests with an API key are throttled per key (API_KEY_RATE).
    "DEFAULT_THROTTLE_CLASSES": ["memo_registry.api.auth.PerKeyThrottle"],
}
# Requests one API key may make, as DRF writes rates ("600/min"); counted in
# each process's memory (Django's default cache).
API_KEY_RATE = env_str("API_KEY_RATE", "600/min")
_API_ERROR_STATUSES = "400 401 403 404 405 406 413 415 429 500".split()
DRF_STANDARDIZED_ERRORS = {
    # A 500 is JSON under /api/ also while DEBUG is on.
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    # 413: a body over its budget (memo_registry/http/uploads.py).
    "ALLOWED_ERROR_STATUS_CODES": _API_ERROR_STATUSES,
    "ERROR_SCHEMAS": dict.fromkeys(
        _API_ERROR_STATUSES, "memo_registry.api.errors.ErrorResponseSerializer"
    ),
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "联合奖惩备忘录责任清单 API",
    "DESCRIPTION": (
        "联合奖惩备忘录责任清单的接口：备忘录与查询（公开），主体查询、嵌入式核查和变更订阅"
        "（对接系统凭接口密钥，Authorization: Api-Key <密钥>）。错误一律为 JSON："
        '{"type": …, "errors": [{"code", "detail", "attr"}]}。'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema is the contract for other systems: it documents their API
    # key.  People's session (and HTTP Basic) still work but are not offered
    # to clients (schemathesis would otherwise try made-up passwords).
    "AUTHENTICATION_WHITELIST": ["memo_registry.api.auth.ApiKeyAuthentication"],
    "ENUM_NAME_OVERRIDES": {
        "MemoKindEnum": "memos.models.Memorandum.Kind",
        "MemoStatusEnum": "memos.models.Memorandum.Status",
        "ErrorTypeEnum": "memo_registry.api.errors.ERROR_TYPES",
        "FeedbackOutcomeEnum": "measures.models.Feedback.Outcome",
    },
}

# Every handler masks identity numbers (memo_registry/lib/log_filters.py); Django's
# own loggers are routed here instead of to its default handlers, which would
# write the path of a 404 (or, under runserver, of every request) unmasked.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_identity": {"()": "memo_registry.lib.log_filters.MaskIdentityNumbers"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["mask_identity"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["mask_identity"],
        },
    },
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "memo_list"
LOGOUT_REDIRECT_URL = "memo_list"

# django-import-export: importing memoranda needs the right to change them,
# exporting the right to view them.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# The memo admin's uploads wait for their confirm step in a folder of their
# own (mode 0700; memo_registry/imports/memos/uploads.py), and are deleted after
# IMPORT_UPLOAD_MAX_AGE seconds if never confirmed (`manage.py
# purge_import_uploads`, and at every new upload).  Default: a folder of this
# user's under the system temp folder.
_UID = os.getuid() if hasattr(os, "getuid") else "user"
IMPORT_TMP_DIR = env_str("IMPORT_TMP_DIR") or str(
    Path(tempfile.gettempdir()) / f"memo_registry-imports-{_UID}"
)
IMPORT_UPLOAD_MAX_AGE = env_int("IMPORT_UPLOAD_MAX_AGE", 60 * 60)
IMPORT_EXPORT_TMP_STORAGE_CLASS = "memo_registry.imports.memos.uploads.ImportUploadStorage"

# --- sign-in, sessions and the browser's protections ------------------------

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out user and address before the
    # password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "lockout.html"
# The reverse proxies in front of the site that append the client's address
# to X-Forwarded-For (1 behind one nginx); 0 ignores the header, which any
# client can forge.  memo_registry/http/client_ip.py takes the entry the proxy
# appended.  AXES_IPWARE_PROXY_COUNT is the name older READMEs gave it.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", env_int("AXES_IPWARE_PROXY_COUNT", 0))
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
AXES_CLIENT_IP_CALLABLE = "memo_registry.http.client_ip.client_ip"

# Two-factor sign-in for staff (memo_registry/web/accounts.py, admin_site.py).
# The issuer is the name authenticator apps show next to the code.  After n
# wrong codes in a row the next try waits THROTTLE_FACTOR * 2^(n-1) seconds.
OTP_TOTP_ISSUER = "联合奖惩备忘录责任清单"
OTP_TOTP_THROTTLE_FACTOR = env_int("OTP_TOTP_THROTTLE_FACTOR", 1)
if OTP_TOTP_THROTTLE_FACTOR < 1:
    # 0 would let a script try all million codes without waiting.
    raise ImproperlyConfigured("OTP_TOTP_THROTTLE_FACTOR must be 1 or more.")

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)  # one working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Production sits behind an HTTPS reverse proxy that sets X-Forwarded-Proto.
# HTTPS=0 turns the HTTPS-only settings off for a plain-HTTP test run on
# loopback (make loadtest); it is never meant for a served site.
HTTPS = env_bool("HTTPS", not DEBUG)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content-Security-Policy (django-csp): every script and style is a file the
# app serves; no inline script anywhere.  Inline style attributes are allowed
# because Django admin and django-import-export use a few.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- look-ups of flagged subjects (memo_registry/services/access.py) ------------------

# Identity numbers a user without subjects.view_full_identity may check a day,
# over the subject pages, the API and the batch check together.
IDENTITY_CHECKS_PER_DAY = env_int("IDENTITY_CHECKS_PER_DAY", 500)
# Different identity numbers with the same masked form (first 6, last 4) such
# a user may check a day: more is a search for the hidden birth date.
PROBE_MAX_PER_MASK = env_int("PROBE_MAX_PER_MASK", 4)
# Look-up records (查询记录) are kept this many days.  《中华人民共和国网络安全法》
# 第二十一条（三）: network logs are kept no less than six months.
ACCESS_RECORD_RETENTION_DAYS = env_int("ACCESS_RECORD_RETENTION_DAYS", 183)
if ACCESS_RECORD_RETENTION_DAYS < 183:
    raise ImproperlyConfigured(
        "ACCESS_RECORD_RETENTION_DAYS must be at least 183: look-up records are "
        "kept no less than six months (网络安全法 第二十一条)."
    )
