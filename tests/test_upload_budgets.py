"""Upload budgets: a file that would take a worker's memory or time is
refused before the work, and the largest file accepted stays within it.

The attacks of the issue: an xlsx whose shared strings unzip to 95 MB from a
17 MB file (it passed the old zip-bomb check and grew a worker to 704 MB); a
600 MB upload (read whole before the 20 MB limit refused it); a sheet inside
the old limits (50,000 rows × 100 columns).  Each is refused here with a
message naming the limit, quickly, before openpyxl parses anything or the
body is read; the same budgets hold the memo import, the listing import and
the batch check.  docs/performance.md ("Upload budgets") has the figures.
"""

import asyncio
import datetime
import html
import io
import json
import os
import subprocess
import sys
import threading
import time
import tracemalloc
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.asgi import ASGIHandler
from django.core.management import CommandError, call_command
from django.test.client import ClientHandler
from django.urls import reverse

from memo_registry.lib import spreadsheet
from memo_registry.lib.spreadsheet import BudgetExceeded, SpreadsheetError, open_rows
from memo_registry.services.batch_check import CheckFileError, check_file
from tests.data import raw_xlsx
from tests.data.builders import dump_everything
from tests.factories import valid_uscc

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def sharedstrings_bomb(tmp_path_factory) -> Path:
    """The issue's file: 95 MB of shared strings in a 17 MB xlsx."""
    return raw_xlsx.shared_strings_bomb(tmp_path_factory.mktemp("bomb") / "名单.xlsx")


class _Traced:
    """Peak Python memory (tracemalloc) and wall time of the block."""

    def __enter__(self):
        tracemalloc.start()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        self.peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return False


# --- xlsx: every part within its budget before openpyxl parses it ----------------------


def test_sharedstrings_bomb_is_refused_before_parsing(sharedstrings_bomb, settings):
    # Under the 20 MB upload limit and no zip bomb by its ratio (about 5:1,
    # like a real file): the old check let it through to openpyxl.
    assert sharedstrings_bomb.stat().st_size < settings.IMPORT_MAX_BYTES
    with zipfile.ZipFile(sharedstrings_bomb) as archive:
        strings = archive.getinfo("xl/sharedStrings.xml")
    assert strings.file_size > 95_000_000
    assert strings.file_size < 10 * strings.compress_size
    with _Traced() as traced, sharedstrings_bomb.open("rb") as upload:
        with pytest.raises(BudgetExceeded) as refused:
            spreadsheet.read_file(upload, sharedstrings_bomb.name)
    message = str(refused.value)
    assert "名单.xlsx" in message and "xl/sharedStrings.xml" in message, message
    assert "解压后过大" in message and "超过单个部件的上限 32.0 MB" in message, message
    # From the zip's directory alone: openpyxl would hold ~7 bytes for each
    # of the 95 million (704 MB in the issue).
    assert traced.seconds < 2
    assert traced.peak < 4 * MiB


def test_a_shared_string_table_of_many_small_strings_is_refused_before_parsing(tmp_path):
    # 100,001 strings in 2 MB: within every size limit, but openpyxl holds
    # each string as an object (about 150 bytes) and takes 16 µs to read it.
    path = raw_xlsx.write_xlsx(
        tmp_path / "strings.xlsx",
        [b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'],
        [b"".join(b"<si><t>%d</t></si>" % n for n in range(100_001))],
        dimension="A1",
    )
    with _Traced() as traced, pytest.raises(BudgetExceeded) as refused:
        spreadsheet.read_bytes(path.read_bytes(), path.name)
    assert refused.value.limit == "shared_strings"
    assert "共享字符串表超过 100000 项（上限）" in str(refused.value)
    assert traced.peak < 8 * MiB  # counted a megabyte at a time, never held


def test_a_sheet_storing_more_cells_than_the_budget_is_refused_before_a_row_is_built(tmp_path):
    # 1,001 rows × 100 columns = 100,100 cells: inside the old limits
    # (50,000 rows × 100 columns), over the new 100,000.
    path = raw_xlsx.table(tmp_path / "cells.xlsx", 1001, 100, lambda r, c: "x", shared=False)
    with _Traced() as traced, pytest.raises(BudgetExceeded) as refused:
        spreadsheet.read_bytes(path.read_bytes(), path.name)
    assert refused.value.limit == "cells"
    assert "cells.xlsx 存有超过 100000 个单元格（上限" in str(refused.value)
    assert traced.peak < 8 * MiB  # no row was built


def test_a_table_wider_than_its_cell_budget_is_refused_as_it_is_read(tmp_path):
    # Few cells stored (2,001), but a cell in column 100 makes the table
    # 2,000 rows × 100 columns: the rows are refused as they come, before
    # the one that passes 100,000 cells is kept.
    rows = [["" for _ in range(100)]]
    rows[0][99] = "远"
    rows += [[f"第{n}行"] for n in range(2, 2001)]
    path = raw_xlsx.from_rows(tmp_path / "wide.xlsx", rows)
    with pytest.raises(BudgetExceeded) as refused:
        spreadsheet.read_bytes(path.read_bytes(), path.name)
    assert refused.value.limit == "cells"
    assert "到第 1001 行已有 1001 行 × 100 列，超过了 100000 个单元格的上限" in str(refused.value)


def test_a_csv_over_the_cell_budget_is_refused_as_it_is_read():
    data = "\n".join(",".join(["a"] * 100) for _ in range(1001)).encode()
    with pytest.raises(BudgetExceeded) as refused:
        spreadsheet.read_bytes(data, "wide.csv")
    assert refused.value.limit == "cells"


def test_a_shared_string_repeated_in_every_cell_is_refused_by_the_text_budget(tmp_path):
    # One 30,000-character string, referred to by 1,000 cells: 2 MB of
    # shared strings become 30 million characters of cells.
    path = raw_xlsx.write_xlsx(
        tmp_path / "repeated.xlsx",
        [
            b"".join(
                b'<row r="%d">' % row
                + b"".join(
                    b'<c r="%s%d" t="s"><v>0</v></c>' % (raw_xlsx.column_letter(c).encode(), row)
                    for c in range(1, 11)
                )
                + b"</row>"
                for row in range(1, 101)
            )
        ],
        [b"<si><t>" + "长".encode() * 30_000 + b"</t></si>"],
        dimension="A1:J100",
    )
    with pytest.raises(BudgetExceeded) as refused:
        spreadsheet.read_bytes(path.read_bytes(), path.name)
    assert refused.value.limit == "text"
    assert "超过 10000000 个字符的上限" in str(refused.value)


def test_rows_and_junk_kept_by_openpyxl_are_counted_before_it_opens_the_file(tmp_path):
    # 200,000 merged-cell entries after the rows: 1.7 MB of XML that
    # openpyxl would build into objects of ~700 bytes each and keep.
    merged = b"".join(b'<mergeCell ref="A%d:B%d"/>' % (n, n) for n in range(1, 200_001))
    path = raw_xlsx.write_xlsx(
        tmp_path / "merged.xlsx",
        [b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'],
        dimension="A1",
        after_rows=b'<mergeCells count="200000">' + merged + b"</mergeCells>",
    )
    with _Traced() as traced, pytest.raises(BudgetExceeded) as refused:
        spreadsheet.read_bytes(path.read_bytes(), path.name)
    assert "样式、合并单元格等表格结构的 XML 超过" in str(refused.value)
    assert traced.peak < 16 * MiB


def test_a_sheet_at_the_upload_maximum_is_read_within_its_memory_budget(tmp_path):
    """The largest accepted sheet: 100,000 cells (10,000 codes × 10 columns,
    the batch check's maximum), each its own shared string.

    Measured as the peak RSS of a fresh process (tracemalloc slows openpyxl
    eightfold, past a unit test's time): a gunicorn worker serving the site
    is about 130 MB, and the batch check writes its result after reading;
    reading may take at most 100 MB of the 170 MB left under 300 MB.
    """
    path = raw_xlsx.table(
        tmp_path / "codes.xlsx",
        9999,
        10,
        lambda r, c: valid_uscc(r) if c == 0 else f"武汉市测试有限公司{r}-{c}",
        header=["统一社会信用代码", *[f"列{n}" for n in range(2, 11)]],
    )
    script = f"""
import json, os, re, time
import django
django.setup()
from dataclasses import replace
from memo_registry.lib import spreadsheet
import openpyxl  # loaded before the baseline, as in a worker

def status():
    text = open("/proc/self/status").read()
    return {{key: int(re.search(key + r":\\s+(\\d+)", text).group(1)) * 1024
            for key in ("VmRSS", "VmHWM")}}

budget = replace(spreadsheet.UPLOAD, rows=10_100)  # the batch check's rows
before = status()["VmRSS"]
open("/proc/self/clear_refs", "w").write("5")  # the high-water mark from here
started = time.perf_counter()
with open({str(path)!r}, "rb") as upload:
    sheet = spreadsheet.read_file(upload, "codes.xlsx", budget)
seconds = time.perf_counter() - started
after = status()
print(json.dumps({{"rows": len(sheet.rows), "cells": sum(len(r.cells) for r in sheet.rows),
                  "before": before, "peak": after["VmHWM"], "seconds": seconds}}))
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "memo_registry.settings"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["rows"] == 10_000 and figures["cells"] == 100_000
    assert figures["peak"] - figures["before"] < 100 * MiB, figures
    assert figures["peak"] < 300 * MiB, figures
    assert figures["seconds"] < 15, figures  # half of gunicorn's 30 s timeout


def test_the_reader_reads_no_further_than_its_last_column(tmp_path):
    # Each row has an empty, formatted cell in the sheet's last column
    # (XFD): read without max_col, every row was a tuple of 16,384 cells
    # (2,000 rows: 260 MB).
    rows = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>%d</t></is></c><c r="XFD%d" s="1"/></row>'
        % (n, n, n, n)
        for n in range(1, 2001)
    )
    path = raw_xlsx.write_xlsx(tmp_path / "listing.xlsx", [rows], dimension="A1:XFD2000")
    with _Traced() as traced:
        _, read = open_rows(path, spreadsheet.LISTING)
        widths = {len(cells) for _, cells in read}
    assert widths == {1}
    assert traced.peak < 16 * MiB


# --- request bodies: refused before they are read ---------------------------------------


class _Client(io.RawIOBase):
    """What a client sends: ``size`` bytes of a multipart body (endless by
    default), counting what the server reads of it."""

    def __init__(self, size: int | None = None, prefix: bytes = b""):
        self.size = size
        self.prefix = prefix
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = len(buffer) if self.size is None else min(len(buffer), self.size - self.read_bytes)
        chunk = (self.prefix[self.read_bytes :] + b"\0" * left)[:left]
        buffer[:left] = chunk
        self.read_bytes += left
        return left


def _environ(path: str, body: _Client, content_length: str | None, content_type: str) -> dict:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": content_type,
        "wsgi.input": io.BufferedReader(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if content_length is not None:
        environ["CONTENT_LENGTH"] = content_length
    return environ


MULTIPART = "multipart/form-data; boundary=budget"
UPLOAD_PAGES = [
    "/subjects/check/",
    "/admin/memos/memorandum/import/",
    "/admin/memos/memorandum/process_import/",
]


@pytest.mark.parametrize(
    ("path", "content_type"),
    [*((page, MULTIPART) for page in UPLOAD_PAGES), ("/api/subjects/check/", "application/json")],
)
def test_oversized_upload_is_refused_before_it_is_read(settings, tmp_path, path, content_type):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    client = _Client()  # a 600 MB upload, still being sent
    started = time.perf_counter()
    response = ClientHandler()(_environ(path, client, str(600 * MiB), content_type))
    assert time.perf_counter() - started < 2
    assert response.status_code == 413
    assert client.read_bytes == 0  # not a byte of the body was read
    assert list(tmp_path.iterdir()) == []  # nor written anywhere
    if path.startswith("/api/"):
        message = json.loads(response.content)["errors"][0]["detail"]
        assert "超过了上限 2.0 MB" in message
    else:
        message = html.unescape(response.content.decode())
        assert "上传的文件过大" in message and "<script" not in message
    assert "有 600.0 MB" in message and "未接收" in message


def test_a_body_with_a_lying_content_length_is_read_no_further_than_it_says(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    client = _Client(prefix=b'--budget\r\nContent-Disposition: form-data; name="file"; ')
    response = ClientHandler()(_environ("/subjects/check/", client, "1000", MULTIPART))
    assert response.status_code < 500
    assert client.read_bytes <= 64 * 1024  # Django reads in chunks, up to what was declared
    assert list(tmp_path.iterdir()) == []


def test_a_body_without_a_content_length_is_not_read(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    client = _Client()
    response = ClientHandler()(_environ("/subjects/check/", client, None, MULTIPART))
    assert response.status_code < 500
    assert client.read_bytes == 0
    assert list(tmp_path.iterdir()) == []


def _multipart(file_name: str, content: bytes) -> bytes:
    return (
        b"--budget\r\n"
        b'Content-Disposition: form-data; name="file"; filename="' + file_name.encode() + b'"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n--budget--\r\n"
    )


def test_an_upload_past_its_declared_length_is_cut_off_while_streaming(settings, tmp_path):
    """Under ASGI Django hands the multipart parser the whole body, whatever
    Content-Length said: the upload handler stops it at the limit."""
    settings.IMPORT_MAX_BYTES = 100 * 1024  # a request may carry 1.1 MB
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    body = _multipart("大.xlsx", b"PK\x03\x04" + b"\0" * (3 * MiB))
    sent = {"bytes": 0}

    async def receive():
        if sent["bytes"] >= len(body):
            await asyncio.Event().wait()  # the client stays connected
        chunk = body[sent["bytes"] : sent["bytes"] + 64 * 1024]
        sent["bytes"] += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": sent["bytes"] < len(body)}

    answer = {}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] = answer.get("body", b"") + message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/subjects/check/",
        "raw_path": b"/subjects/check/",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", MULTIPART.encode()),
            (b"content-length", b"1000"),  # a lie
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    # In a thread of its own: the browser tests' Playwright keeps an event
    # loop running in this one.
    worker = threading.Thread(target=asyncio.run, args=(ASGIHandler()(scope, receive, send),))
    worker.start()
    worker.join(timeout=60)
    assert answer["status"] == 413
    assert "超过了上限 1.1 MB" in html.unescape(answer["body"].decode())
    assert list(tmp_path.iterdir()) == []  # the file begun on disk is gone


# --- every importer and the batch check refuse the bomb --------------------------------


def test_the_memo_import_refuses_a_sharedstrings_bomb(list_2018, sharedstrings_bomb):
    before = dump_everything()
    started = time.perf_counter()
    with pytest.raises(CommandError) as refused:
        call_command("import_memos", str(sharedstrings_bomb), stdout=StringIO())
    assert time.perf_counter() - started < 2
    assert "解压后过大" in str(refused.value) and "48.0 MB" in str(refused.value)
    assert dump_everything() == before


def test_the_listing_import_refuses_a_sharedstrings_bomb(list_2018, sharedstrings_bomb):
    before = dump_everything()
    started = time.perf_counter()
    with pytest.raises(CommandError) as refused:
        call_command("import_subjects", str(sharedstrings_bomb), stdout=StringIO())
    assert time.perf_counter() - started < 2
    assert "解压后过大" in str(refused.value) and "64.0 MB" in str(refused.value)
    assert dump_everything() == before


def test_the_batch_check_refuses_a_sharedstrings_bomb(clerk_client, list_2018, sharedstrings_bomb):
    before = dump_everything()
    upload = SimpleUploadedFile("名单.xlsx", sharedstrings_bomb.read_bytes())
    started = time.perf_counter()
    response = clerk_client.post(reverse("subject_check"), {"file": upload})
    assert time.perf_counter() - started < 2
    assert response.status_code == 400
    text = html.unescape(response.content.decode())
    assert "名单.xlsx 解压后过大" in text and "xl/sharedStrings.xml" in text
    assert dump_everything() == before


def test_the_admin_memo_import_refuses_a_sharedstrings_bomb(
    client, django_user_model, otp_login, list_2018, sharedstrings_bomb
):
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw-123456")
    otp_login(client, user)
    before = dump_everything()
    upload = SimpleUploadedFile("清单.xlsx", sharedstrings_bomb.read_bytes())
    form = {
        "resource": "0",
        "format": "0",
        "import_file": upload,
        "responsibility_list": list_2018.pk,
    }
    response = client.post(reverse("admin:memos_memorandum_import"), form)
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    assert "清单.xlsx 解压后过大" in html.unescape(response.content.decode())
    assert dump_everything() == before


# --- the batch check's own limit -------------------------------------------------------


def test_a_batch_check_over_the_code_limit_is_refused_naming_the_limit(settings, list_2018):
    settings.BATCH_CHECK_MAX_CODES = 50
    rows = "\n".join(["统一社会信用代码", *(valid_uscc(n) for n in range(51))])
    with pytest.raises(CheckFileError) as refused:
        check_file(rows.encode(), "代码.csv", datetime.date(2024, 6, 1))
    assert "一次最多比对 50 个代码，文件 代码.csv 有 51 个" in str(refused.value)
    # A sheet far longer is refused by its rows as they are read.
    rows = "\n".join(["统一社会信用代码", *(valid_uscc(n) for n in range(500))])
    with pytest.raises(CheckFileError) as refused:
        check_file(rows.encode(), "代码.csv", datetime.date(2024, 6, 1))
    assert "一次最多比对 50 个代码，文件 代码.csv 超过 150 行" in str(refused.value)


def test_the_batch_check_limit_defaults_to_ten_thousand_codes(settings):
    assert settings.BATCH_CHECK_MAX_CODES == 10_000


def test_a_damaged_zip_is_refused_with_the_usual_message():
    with pytest.raises(SpreadsheetError) as refused:
        spreadsheet.read_bytes(b"PK\x03\x04" + b"\0" * 100, "坏.xlsx")
    assert "坏.xlsx 不是有效的 xlsx 文件" in str(refused.value)
