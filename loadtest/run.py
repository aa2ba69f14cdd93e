"""`make loadtest`: 50 users for 60 s against `make serve`-style gunicorn.

Creates a scratch PostgreSQL database next to the one DATABASE_URL names
(<name>_loadtest, dropped afterwards: real data is never touched), loads the
2018 list and 10,000 listings, starts gunicorn with whitenoise on 127.0.0.1
(DEBUG=0; HTTPS=0 because loopback has no TLS), runs locust headless for a
bounded time and prints p50/p95/p99 and requests per second.  Exits non-zero
if any request failed.
"""

import csv
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
LOCUST = ROOT / ".venv-load" / "bin" / "locust"
USERS = int(os.environ.get("LOADTEST_USERS", "50"))
DURATION = os.environ.get("LOADTEST_TIME", "60s")
LISTINGS = int(os.environ.get("LOADTEST_LISTINGS", "10000"))


def scratch_url(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        sys.exit(
            "make loadtest needs DATABASE_URL=postgres://… (it creates <name>_loadtest beside it)"
        )
    name = parsed.path.lstrip("/") + "_loadtest"
    return urlunparse(parsed._replace(path="/" + name)), name


def psql(url: str, sql: str) -> None:
    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    subprocess.run(["psql", admin, "-qc", sql], check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args):
    subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, check=True)


def main() -> int:
    url, name = scratch_url(os.environ.get("DATABASE_URL", ""))
    psql(url, f'DROP DATABASE IF EXISTS "{name}"')
    psql(url, f'CREATE DATABASE "{name}"')
    work = Path(tempfile.mkdtemp(prefix="loadtest-"))
    password = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "HTTPS": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_ROOT": str(work / "static"),
        "CONN_MAX_AGE": "60",
        "LOADTEST_USER": "loadtest",
        "LOADTEST_PASSWORD": password,
    }
    server = None
    try:
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "load_initial_list")
        manage(env, "collectstatic", "--noinput", "-v0")
        manage(
            env,
            "shell",
            "-c",
            "from django.contrib.auth.models import Group, User;"
            f"user = User.objects.create_user('loadtest', password='{password}', is_staff=True);"
            "user.groups.add(Group.objects.get(name='查阅'))",  # a counter clerk's role
        )
        codes = write_listings(work / "listings.csv")
        manage(env, "import_subjects", str(work / "listings.csv"))
        env["LOADTEST_CODES"] = ",".join(codes[:500])

        port = free_port()
        workers = str(2 * (os.cpu_count() or 1) + 1)
        server = subprocess.Popen(
            [str(GUNICORN), "memo_registry.wsgi", "-b", f"127.0.0.1:{port}", "-w", workers,
             "--access-logfile", "-", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(f"http://127.0.0.1:{port}/")
        result = subprocess.run(
            [str(LOCUST), "-f", str(ROOT / "loadtest" / "locustfile.py"), "--headless",
             "-u", str(USERS), "-r", os.environ.get("LOADTEST_SPAWN_RATE", "5"), "-t", DURATION, "--stop-timeout", "5",
             "--host", f"http://127.0.0.1:{port}", "--csv", str(work / "stats"), "--only-summary"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        return report(work / "stats_stats.csv") or result.returncode
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        psql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


def write_listings(path: Path) -> list[str]:
    from stdnum.cn import uscc

    labels = ["严重质量违法失信行为当事人", "失信企业", "失信被执行人", "海关失信企业"]
    codes = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["统一社会信用代码", "名称", "列入依据", "列入日期", "有效期至", "来源"])
        for n in range(LISTINGS):
            base = f"914201{n:011d}"
            code = base + uscc.calc_check_digit(base)
            codes.append(code)
            writer.writerow(
                [
                    code,
                    f"武汉市压测{n}有限公司",
                    labels[n % 4],
                    "2025-01-01",
                    "2099-12-31",
                    "市质监局",
                ]
            )
    return codes


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server at {url} did not answer")


def report(stats: Path) -> int:
    with stats.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    print(
        f"\n{'请求':<28}{'次数':>8}{'失败':>6}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'req/s':>8}"
    )
    failures = 0
    for row in rows:
        failures += int(row["Failure Count"]) if row["Name"] == "Aggregated" else 0
        print(
            f"{row['Name']:<28}{row['Request Count']:>8}{row['Failure Count']:>6}"
            f"{row['50%']:>8}{row['95%']:>8}{row['99%']:>8}{float(row['Requests/s']):>8.1f}"
        )
    print(f"\nfailed requests: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
