"""Upload budgets, measured: the largest file each upload accepts, and refusals.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/memo_registry .venv/bin/python -m bench.upload_budgets

Like ``make bench`` it works in a scratch database ``<name>_uploads`` next to
the one DATABASE_URL names, and drops it after.  For each kind of upload it
starts gunicorn as ``make serve`` does (sync workers, 30 s timeout; one
worker, so that its memory is the request's), warms the worker with a page,
sends the largest file the budgets accept over HTTP, and reads the worker's
peak RSS (VmHWM in /proc) and the request's wall time.  The listing import
is a command: it runs as one, its peak RSS from the kernel (wait4).  Then
the refusals: the time until a 600 MB upload, still being sent, is answered,
and the time to refuse the 95 MB shared-strings bomb.  docs/performance.md
("Upload budgets") records a run.
"""

import contextlib
import http.client
import io
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.scratch import BASE_DIR, ScratchDatabase

MiB = 1024 * 1024


def _status(pid: int) -> dict:
    text = Path(f"/proc/{pid}/status").read_text()
    return {
        key: int(re.search(key + r":\s+(\d+)", text).group(1)) * 1024 for key in ("VmRSS", "VmHWM")
    }


class Server:
    """gunicorn as make serve runs it, with one sync worker."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "memo_registry.wsgi:application",
             "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--timeout", "30",
             "--log-level", "warning"],
            cwd=BASE_DIR, env=dict(os.environ),
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                self.request("GET", "/")
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        self.worker = int(children.split()[0])

    def request(self, method, path, body=None, headers=None, timeout=60):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def _multipart(fields: dict, file_field: str, file_name: str, content: bytes):
    boundary = secrets.token_hex(16)
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{file_name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _csrf(page: bytes) -> str:
    return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()


class Run:
    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="memo-uploads-"))
        self.figures: dict = {}

    def step(self, message: str) -> None:
        print(f"· {message}", file=sys.stderr, flush=True)

    # --- database and users ------------------------------------------------

    def open_database(self) -> None:
        self.database = ScratchDatabase("uploads", "bench/upload_budgets.py")
        self.database.create()
        self.database.setup_django()

    def drop_database(self) -> None:
        self.database.drop()

    def sessions(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.test import Client
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        users = get_user_model().objects
        clerk = users.create_user("uploads-clerk")
        clerk.groups.add(Group.objects.get(name="查阅"))
        client = Client()
        client.force_login(clerk)
        self.clerk_cookie = f"sessionid={client.cookies['sessionid'].value}"
        admin = users.create_superuser("uploads-admin", "admin@example.com", secrets.token_hex(8))
        device = TOTPDevice.objects.create(user=admin, name="measure", confirmed=True)
        client = Client()
        client.force_login(admin)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        self.admin_cookie = f"sessionid={client.cookies['sessionid'].value}"

    # --- the largest files accepted ------------------------------------------

    def files(self) -> None:
        from django.conf import settings
        from django.core.management import call_command

        from bench.data import HEADER, build_memo_list, list_bases, listing_rows, write_listings
        from measures.models import Measure
        from memo_registry.lib import spreadsheet
        from memo_registry.services.export import export_file
        from memos.models import Memorandum, ResponsibilityList
        from tests.data import raw_xlsx

        bases = list_bases(ResponsibilityList.current())
        codes = settings.BATCH_CHECK_MAX_CODES
        columns = spreadsheet.UPLOAD.cells // (codes + 1)
        self.step(f"batch check: {codes:,} listed codes × {columns} columns")
        # Every code on a list in force: the check describes each one in full.
        listings = write_listings(self.tmp / "listings.csv", codes, bases)
        call_command("import_subjects", str(listings), stdout=io.StringIO())
        rows = list(listing_rows(codes, bases))
        self.check_file = raw_xlsx.table(
            self.tmp / "codes.xlsx",
            codes - 1,
            columns,
            lambda row, column: rows[row][0] if column == 0 else f"{rows[row][1]}（{column}）",
            header=["统一社会信用代码", *[f"列{n}" for n in range(2, columns + 1)]],
        )
        memos = spreadsheet.UPLOAD.rows - 1
        self.step(f"memo import: {memos:,} memos, one row each (the admin's row limit)")
        generated = build_memo_list("上传预算〔2024〕1号", memos)
        self.memo_list = generated
        query = Memorandum.objects.filter(responsibility_list=generated).order_by("seq")
        self.memo_file = self.tmp / "memos.xlsx"
        self.memo_file.write_bytes(export_file(query, "xlsx"))
        Measure.objects.filter(memo__responsibility_list=generated).delete()
        query.delete()
        count = spreadsheet.LISTING.rows - 1
        self.step(f"listing import: {count:,} rows of xlsx (the listing budget's rows)")
        self.listing_file = raw_xlsx.from_rows(
            self.tmp / "listings.xlsx", [HEADER, *listing_rows(count, bases)]
        )
        self.bomb = raw_xlsx.shared_strings_bomb(self.tmp / "bomb.xlsx")

    # --- measuring -------------------------------------------------------------

    def worker(self, name: str, send) -> None:
        """A fresh worker, warmed with the page; ``send(server)`` makes the requests."""
        server = Server()
        try:
            server.request("GET", "/subjects/check/", headers={"Cookie": self.clerk_cookie})
            server.request(
                "GET", "/admin/memos/memorandum/import/", headers={"Cookie": self.admin_cookie}
            )
            before = _status(server.worker)["VmRSS"]
            started = time.perf_counter()
            detail = send(server)
            seconds = time.perf_counter() - started
            peak = _status(server.worker)["VmHWM"]
        finally:
            server.stop()
        self.figures[name] = {
            "seconds": round(seconds, 2),
            "worker_rss_before_mb": round(before / MiB, 1),
            "worker_peak_rss_mb": round(peak / MiB, 1),
            **detail,
        }
        self.step(f"{name}: {self.figures[name]}")

    def batch_check(self, server) -> dict:
        cookie = self.clerk_cookie
        status, headers, page = server.request(
            "GET", "/subjects/check/", headers={"Cookie": cookie}
        )
        token = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", "")).group(1)
        body, content_type = _multipart(
            {"csrfmiddlewaretoken": _csrf(page)}, "file", "codes.xlsx", self.check_file.read_bytes()
        )
        status, _, answer = server.request(
            "POST", "/subjects/check/", body,
            {"Cookie": f"{cookie}; csrftoken={token}", "Content-Type": content_type},
        )  # fmt: skip
        assert status == 200, (status, answer[:2000])
        return {"status": status, "file_mb": round(self.check_file.stat().st_size / MiB, 2),
                "result_mb": round(len(answer) / MiB, 2)}  # fmt: skip

    def memo_import(self, server) -> dict:
        cookie = self.admin_cookie
        url = "/admin/memos/memorandum/import/"
        status, headers, page = server.request("GET", url, headers={"Cookie": cookie})
        token = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", "")).group(1)
        cookies = f"{cookie}; csrftoken={token}"
        fields = {"csrfmiddlewaretoken": _csrf(page), "resource": "0", "format": "0",
                  "responsibility_list": str(self.memo_list.pk)}  # fmt: skip
        body, content_type = _multipart(
            fields, "import_file", "memos.xlsx", self.memo_file.read_bytes()
        )
        started = time.perf_counter()
        status, _, preview = server.request(
            "POST", url, body, {"Cookie": cookies, "Content-Type": content_type}
        )
        preview_seconds = time.perf_counter() - started
        assert status == 200 and b"process_import" in preview, (status, preview[:2000])
        form = preview[preview.index(b"process_import") :]
        hidden = dict(re.findall(rb'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
        confirm = "&".join(
            f"{key.decode()}={__import__('urllib.parse').parse.quote(value.decode())}"
            for key, value in hidden.items()
        )
        started = time.perf_counter()
        status, _, _ = server.request(
            "POST", "/admin/memos/memorandum/process_import/", confirm,
            {"Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        confirm_seconds = time.perf_counter() - started
        assert status == 302, status
        from memos.models import Memorandum

        return {"memos_written": Memorandum.objects.filter(responsibility_list=self.memo_list).count(),
                "preview_seconds": round(preview_seconds, 2),
                "confirm_seconds": round(confirm_seconds, 2)}  # fmt: skip

    def listing_import(self) -> None:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "manage.py", "import_subjects", str(self.listing_file)],
            cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out = process.stdout.read().decode()
        assert status == 0, process.stderr.read().decode()[-2000:]
        self.figures["listing_import"] = {
            "seconds": round(seconds, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "file_mb": round(self.listing_file.stat().st_size / MiB, 2),
            "output": out.strip(),
        }
        self.step(f"listing import: {self.figures['listing_import']}")

    def refusals(self) -> None:
        server = Server()
        try:
            # 600 MB announced and being sent: the time to the status line.
            answered = {}
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(
                b"POST /subjects/check/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: multipart/form-data; boundary=x\r\n"
                + f"Content-Length: {600 * MiB}\r\n\r\n".encode()
            )
            started = time.perf_counter()
            stop = threading.Event()
            sent = {"bytes": 0}

            def send_body():
                chunk = b"\0" * 65536
                with contextlib.suppress(OSError):
                    while not stop.is_set() and sent["bytes"] < 600 * MiB:
                        sock.sendall(chunk)
                        sent["bytes"] += len(chunk)

            sender = threading.Thread(target=send_body, daemon=True)
            sender.start()
            data = sock.recv(65536)
            answered["seconds"] = round(time.perf_counter() - started, 3)
            stop.set()
            sock.close()
            answered["status_line"] = data.split(b"\r\n", 1)[0].decode()
            answered["sent_mb_when_answered"] = round(sent["bytes"] / MiB, 1)
            self.figures["refuse_600mb"] = answered
            self.step(f"600 MB upload: {answered}")
            # The bomb through the batch check, with a session.
            status, headers, page = server.request(
                "GET", "/subjects/check/", headers={"Cookie": self.clerk_cookie}
            )
            token = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", "")).group(1)
            body, content_type = _multipart(
                {"csrfmiddlewaretoken": _csrf(page)}, "file", "bomb.xlsx", self.bomb.read_bytes()
            )
            before = _status(server.worker)["VmRSS"]
            started = time.perf_counter()
            status, _, answer = server.request(
                "POST", "/subjects/check/", body,
                {"Cookie": f"{self.clerk_cookie}; csrftoken={token}", "Content-Type": content_type},
            )  # fmt: skip
            self.figures["refuse_sharedstrings_bomb"] = {
                "status": status,
                "seconds": round(time.perf_counter() - started, 3),
                "file_mb": round(self.bomb.stat().st_size / MiB, 1),
                "worker_rss_before_mb": round(before / MiB, 1),
                "worker_peak_rss_mb": round(_status(server.worker)["VmHWM"] / MiB, 1),
                "refused": "解压后过大" in answer.decode(),
            }
            self.step(f"bomb: {self.figures['refuse_sharedstrings_bomb']}")
        finally:
            server.stop()

    def run(self) -> None:
        self.open_database()
        try:
            self.sessions()
            self.files()
            self.worker("batch_check", self.batch_check)
            self.worker("memo_import", self.memo_import)
            self.listing_import()
            self.refusals()
            self.figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
            self.figures["cores"] = os.cpu_count()
            print("UPLOADS " + json.dumps(self.figures, ensure_ascii=False, sort_keys=True))
        finally:
            self.drop_database()


if __name__ == "__main__":
    Run().run()
