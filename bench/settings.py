"""The product's settings plus the framework floor's URLs, for the benchmark only.

Everything else (middleware, authentication, database, DEBUG=0) is the
product's own, so the floor views answer through the same stack as the API.
Static files are served by the finders, so pages render without
``collectstatic`` (the benchmark times pages, not static files).
"""

from memo_registry.settings import *  # noqa: F403
from memo_registry.settings import STORAGES

ROOT_URLCONF = "bench.urls"
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The load runs are one client asking as fast as it can: no per-key limit
# (the throttle itself still runs, for the check and its floor alike).
API_KEY_RATE = "1000000/min"
