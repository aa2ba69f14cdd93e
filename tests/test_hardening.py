"""Security and robustness fixes: linear text rules, a refused weak SECRET_KEY,
bad admin filter values, headers on every response, and formula-like cells."""

import csv
import io
import math
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memo_registry.lib.text import (
    looks_like_formula,
    make_formula_inert,
    split_departments,
    split_names,
    squeeze,
    undo_formula_inert,
)
from memo_registry.services.export import HEADERS, export_file, table_file
from memo_registry.services.memos import CleanTextField
from memo_registry.services.search import MAX_QUERY_LENGTH, clean_query
from memos.models import Memorandum
from tests.factories import MemorandumFactory

PROJECT = Path(__file__).resolve().parent.parent

# --- text rules run in linear time ----------------------------------------------------


def _best_time(function, argument, repeat: int = 5) -> float:
    """The fastest of a few runs: the least disturbed by the rest of the machine."""
    best = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        function(argument)
        elapsed = time.perf_counter() - started
        best = min(best, elapsed)
        if elapsed > 2:  # far beyond any noise: no need to wait for more runs
            break
    return best


def test_squeezing_100000_spaces_costs_no_more_than_20_times_100000_letters():
    # Before: the pattern for a space next to Chinese backtracked over the
    # whole run from every position (32,000 spaces: 6 s).
    letters = _best_time(squeeze, "a" * 100_000)
    spaces = _best_time(squeeze, " " * 100_000)
    assert spaces <= 20 * letters, (spaces, letters)


@pytest.mark.parametrize(
    ("function", "hostile", "benign"),
    [
        # Many different names in one cell (quadratic before: a list's `in`).
        (split_names, "、".join(f"处{n}" for n in range(20_000)), "、".join(["处"] * 20_000)),
        (
            split_departments,
            "、".join(f"局{n}" for n in range(20_000)),
            "、".join(["局"] * 20_000),
        ),
    ],
    ids=["split_names", "split_departments"],
)
def test_other_text_rules_cost_the_same_on_hostile_and_benign_text(function, hostile, benign):
    assert len(hostile) >= len(benign) * 0.9
    baseline = _best_time(function, benign)
    assert _best_time(function, hostile) <= 20 * max(baseline, 1e-4)


@pytest.mark.parametrize(
    ("text", "squeezed"),
    [
        ("市 国 税 局", "市国税局"),
        ("a \u3000 b", "a b"),
        ("a\u3000\u3000b", "ab"),
        ("a \u3000b", "a b"),
        ("a\u3000 b", "a b"),
        ("中  \u3000  x", "中 x"),
        ("\u3000a", "a"),
        ("x \u3000 中", "x中"),
        ("  GB/T  9704  ", "GB/T 9704"),
        ("\u200b" * 5, ""),
    ],
)
def test_squeeze_gives_what_it_gave_before_around_ideographic_spaces(text, squeezed):
    assert squeeze(text) == squeezed


def test_a_query_is_cut_before_it_is_squeezed():
    # Only the first 4 × 100 raw characters are read: a pasted megabyte of
    # spaces costs no more than a line, and what lies beyond is not searched.
    assert clean_query(" " * 500 + "失信被执行人") == ""
    assert clean_query(" " * 100 + "失信被执行人") == "失信被执行人"
    assert len(clean_query("失 " * 10_000)) == MAX_QUERY_LENGTH
    field = CleanTextField(max_chars=MAX_QUERY_LENGTH)
    # (A CharField strips leading white space itself; U+200B it keeps.)
    assert field.clean("\u200b" * 500 + "失信被执行人") == ""
    assert field.clean("失 信 被 执 行 人") == "失信被执行人"


# --- DEBUG=0 refuses a development or weak SECRET_KEY ---------------------------------


def _check(**env) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "key",
    [
        "dev-only-insecure-key-do-not-use-in-production",  # the development key
        "short-key-2024",
        "ab" * 40,  # long, but two different characters
        "django-insecure-" + secrets.token_urlsafe(50),
    ],
    ids=["development-key", "short", "few-characters", "startproject-key"],
)
def test_production_refuses_to_start_with_a_development_or_weak_secret_key(key):
    result = _check(DEBUG="0", SECRET_KEY=key, ALLOWED_HOSTS="registry.example.gov.cn")
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line and "SECRET_KEY" in last_line


def test_production_starts_with_a_strong_secret_key_and_development_with_none():
    strong = _check(
        DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="registry.example.gov.cn"
    )
    assert strong.returncode == 0, strong.stderr
    assert _check().returncode == 0  # DEBUG=1, the development key


# --- a bad admin filter value answers 400 ---------------------------------------------


@pytest.fixture
def admin_client(client, administrator, otp_login):
    otp_login(client, administrator)
    client.raise_request_exception = False  # a 500 is an answer to look at, not an error
    return client


HUGE = "9" * 25


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        f"/admin/subjects/listing/?listed_on__year={HUGE}",
        f"/admin/subjects/listing/?listed_on__year=2020&listed_on__month={HUGE}",
        f"/admin/subjects/listing/?listed_on__year=2020&listed_on__month=1&listed_on__day={HUGE}",
        f"/admin/memos/responsibilitylist/?issued_on__year={HUGE}",
    ],
)
def test_an_overflowing_date_filter_answers_400_not_500(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 400
    page = response.content.decode()
    assert "请求有误" in page
    assert "Traceback" not in page and "OverflowError" not in page


@pytest.mark.django_db
def test_admin_lists_still_answer_good_and_merely_wrong_values_as_before(admin_client):
    assert admin_client.get("/admin/subjects/listing/").status_code == 200
    assert admin_client.get("/admin/subjects/listing/?listed_on__year=2020").status_code == 200
    # Values Django itself recognises as bad keep its "?e=1" redirect.
    wrong = admin_client.get("/admin/subjects/listing/?listed_on__year=abc")
    assert wrong.status_code == 302 and wrong["Location"].endswith("?e=1")


# --- CSP, X-Frame-Options and nosniff on static files and on a bad Host ---------------


def _assert_protected(response) -> None:
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_static_files_carry_the_security_headers(client):
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    _assert_protected(response)


@pytest.mark.django_db
def test_a_request_with_a_bad_host_gets_400_with_the_security_headers(client):
    response = client.get("/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    _assert_protected(response)


@pytest.mark.django_db
def test_a_bad_host_refused_by_the_https_redirect_gets_the_headers_too(client, settings):
    # With SECURE_SSL_REDIRECT, SecurityMiddleware asks for the host first:
    # DisallowedHost is raised outside every other middleware.
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    _assert_protected(response)


@pytest.mark.django_db
def test_pages_keep_the_policy_django_csp_writes(client, list_2018):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers.get("Content-Security-Policy", "").count("default-src") == 1
    _assert_protected(response)


# --- CSV cells that a spreadsheet could run -------------------------------------------

# Cells that get an apostrophe: what a spreadsheet could run (see
# memo_registry/lib/text.py for which programs run what), and cells that already
# start with an apostrophe before such a text or another apostrophe (so that
# the import gives every text back exactly).
GUARDED = {
    "equals": "=1+1",
    "plus": "+1+1",
    "minus": "-1+1",
    "at": "@SUM(1)",
    "tab": "\t=1+1",
    "tab-text": "\tabc",
    "carriage-return": "\r=1+1",
    "line-feed": "\n=1+1",
    "full-width-equals": "＝1+1",
    "small-equals": "﹦1+1",
    "full-width-plus": "＋1",
    "small-plus": "﹢1",
    "full-width-minus": "－1",
    "small-minus": "﹣1",
    "full-width-at": "＠SUM(1)",
    "small-at": "﹫SUM(1)",
    "superscript-equals": "⁼1+1",
    "space-equals": " =1+1",
    "spaces-plus": "   +1",
    "ideographic-space-equals": "\u3000=1+1",
    "no-break-space-equals": "\xa0=1+1",
    "zero-width-space-equals": "\u200b=1+1",
    "bom-equals": "\ufeff=1+1",
    "word-joiner-equals": "\u2060=1+1",
    "mixed-invisible-full-width": " \u200b\u3000＝HYPERLINK(1)",
    "apostrophe-equals": "'=1+1",
    "apostrophe-space-equals": "' =1+1",
    "two-apostrophes": "''abc",
}
PLAIN = {
    "chinese": "普通文字",
    "apostrophe-text": "'abc",
    "space-text": " 普通",
    "zero-width-text": "\u200b普通",
    "inner-equals": "a=b",
    "range": "1-2",
    "minus-sign": "\u22121",  # U+2212 is no ASCII minus under NFKC
    "empty": "",
}


@pytest.mark.parametrize("text", GUARDED.values(), ids=GUARDED.keys())
def test_a_formula_like_cell_gets_an_apostrophe_and_comes_back_exactly(text):
    inert = make_formula_inert(text)
    assert inert == "'" + text
    assert not looks_like_formula(inert)
    assert undo_formula_inert(inert) == text


@pytest.mark.parametrize("text", PLAIN.values(), ids=PLAIN.keys())
def test_a_plain_cell_is_written_as_it_is(text):
    assert make_formula_inert(text) == text
    assert undo_formula_inert(text) == text


def _csv_file(texts) -> bytes:
    """The CSV the export writes, with one row per text, the text in its 文号 column."""
    rows = [[str(n), text] + [""] * (len(HEADERS) - 2) for n, text in enumerate(texts, 1)]
    return table_file(rows, "csv")


def _csv_cells(texts) -> list[str]:
    """Each text as a cell of the export, read back by a CSV reader."""
    read = list(csv.reader(io.StringIO(_csv_file(texts).decode("utf-8-sig"), newline="")))
    return [row[1] for row in read[1:]]


def test_the_csv_export_writes_every_formula_like_prefix_inert():
    # table_file is the writer of export_memos, the list page's export and
    # the admin's export; cells are given raw here, since the models squeeze
    # the leading white space of most fields away before they are stored.
    assert _csv_cells(GUARDED.values()) == ["'" + text for text in GUARDED.values()]
    assert _csv_cells(PLAIN.values()) == list(PLAIN.values())


@pytest.mark.django_db
def test_a_stored_memo_with_a_full_width_formula_is_exported_inert():
    memo = MemorandumFactory(title="＝HYPERLINK(1)关于联合惩戒的合作备忘录")
    data = export_file(Memorandum.objects.filter(pk=memo.pk), "csv")
    [row] = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))[1:]
    assert row[2] == "'＝HYPERLINK(1)关于联合惩戒的合作备忘录"


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed")
def test_libreoffice_runs_no_guarded_cell_even_when_trimming_spaces(tmp_path):
    """The export opened by a real spreadsheet with the import options that run
    the most (evaluate formulas, trim spaces): no cell is a formula.  The same
    cells unguarded do give formulas there (``=1+1``; `` =1+1`` once spaces are
    trimmed), so the check does see one when there is one."""
    guarded = _csv_file(GUARDED.values())
    assert _libreoffice_formulas(tmp_path, "guarded.csv", guarded) == []
    bare = io.StringIO()
    csv.writer(bare, lineterminator="\r\n").writerows([["=1+1"], [" =1+1"], ["＝1+1"]])
    formulas = _libreoffice_formulas(tmp_path, "bare.csv", bare.getvalue().encode())
    assert formulas == ["of:=1+1", "of:=1+1"]


def _libreoffice_formulas(folder: Path, name: str, data: bytes) -> list[str]:
    """The formulas LibreOffice Calc finds in a CSV file it opens (trim spaces, evaluate)."""
    source = folder / name
    source.write_bytes(data)
    # CSV filter options: comma, double quote, UTF-8, from line 1, default cell
    # formats, English, quoted as text no, special numbers yes, (export x2),
    # trim spaces YES, (export sheets), evaluate formulas YES.
    options = "44,34,76,1,,1033,false,true,false,false,true,-1,true"
    profile = folder / "profile"
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            f"--infilter=CSV:{options}",
            "--convert-to",
            "fods",
            "--outdir",
            str(folder),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    document = (folder / source.with_suffix(".fods").name).read_text(encoding="utf-8")
    return re.findall(r'table:formula="([^"]*)"', document)
