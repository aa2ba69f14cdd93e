"""The scratch PostgreSQL database a benchmark works in, next to DATABASE_URL's.

The benchmarks never touch the database DATABASE_URL names: they create
``<name>_<suffix>`` beside it, point Django at it (production-like settings:
DEBUG off, a throwaway SECRET_KEY), migrate it, load the 2018 list, and drop
it at the end.
"""

import contextlib
import io
import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent


class ScratchDatabase:
    def __init__(self, suffix: str, usage: str):
        url = os.environ.get("DATABASE_URL", "")
        if urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql"):
            sys.exit(f"{usage} needs PostgreSQL: DATABASE_URL=postgres://user@host:5432/name")
        parts = urlsplit(url)
        self.name = f"{parts.path.lstrip('/')}_{suffix}"
        self.url = urlunsplit(parts._replace(path="/" + self.name))
        self._named_url = url
        self._maintenance_url = urlunsplit(parts._replace(path="/postgres"))

    def _execute(self, *statements: str) -> None:
        import psycopg2

        with contextlib.closing(psycopg2.connect(self.admin_url)) as connection:
            connection.autocommit = True
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)

    def create(self) -> None:
        """Create it afresh, and set the environment Django will read."""
        import psycopg2

        # Connect to the named database to create the scratch one next to it
        # (to the maintenance database "postgres" when it does not exist yet).
        try:
            psycopg2.connect(self._named_url).close()
            self.admin_url = self._named_url
        except psycopg2.OperationalError:
            self.admin_url = self._maintenance_url
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}"', f'CREATE DATABASE "{self.name}"')
        os.environ.update(
            DATABASE_URL=self.url,
            DJANGO_SETTINGS_MODULE="bench.settings",
            DEBUG="0",
            SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40),
            ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
            HTTPS="0",  # plain HTTP on loopback, as make loadtest; TLS is the proxy's
            CONN_MAX_AGE=os.environ.get("CONN_MAX_AGE", "60"),
        )

    def setup_django(self) -> None:
        """Django set up on it, migrated, with the 2018 list loaded."""
        os.chdir(BASE_DIR)
        sys.path.insert(0, str(BASE_DIR))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("load_initial_list", stdout=io.StringIO())

    def drop(self) -> None:
        if os.environ.get("BENCH_KEEP_DB"):
            print(f"(scratch database {self.name} kept)")
            return
        from django.db import connections

        with contextlib.suppress(Exception):  # Django may not be set up yet
            connections.close_all()
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}"')
