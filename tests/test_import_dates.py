"""One rule for a date in an imported cell, the same in both imports.

The memo import (废止日期) and the listing import (列入日期, 有效期至) used to
disagree: the listing import read ``20240131`` and ``2024-01-31 12:00:00``
(and anything else after a space: ``2024-01-31 rubbish``), the memo import
refused both.  Both now read a date by ``memo_registry/lib/dates.py``; the
tables below are its rule, and each import is held to all of it.
"""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from memo_registry.lib.dates import DateError, parse_date
from memos.models import Memorandum
from subjects.models import Listing
from tests.conftest import FIXTURE_2018
from tests.data.builders import HEADER, current_list, memo_row, write_csv, write_xlsx
from tests.factories import valid_uscc

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 1, 31)
# Text, in a csv or an xlsx text cell.
ACCEPTED = [
    "2024-01-31",
    "2024/1/31",
    "2024.1.31",
    "2024年1月31日",
    "2024年1月31",
    " 2024 年 1 月 31 日 ",
    "20240131",  # the memo import refused it
    "2024-01-31 12:00:00",  # the memo import refused it: what a spreadsheet writes
    "2024-01-31 08:30",
    "2024-01-31T08:30:00.5",
    "２０２４－０１－３１",  # full-width
]
# Cells of an xlsx: a date, a date with a time, a number.
XLSX_ACCEPTED = [DAY, datetime.datetime(2024, 1, 31, 12, 30), 20240131]
REFUSED = [
    "2025-02-30",  # no such day
    "2024-01-31 rubbish",  # the listing import took it, dropping the rubbish
    "2024-01-31 25:00",  # no such time
    "2024-01-3112:00",
    "31/01/2024",
    "2024131",
    "去年",
]


def _memo_date(tmp_path, cell, xlsx=False):
    """Import one memo repealed on ``cell``; its 废止日期, or the command's error."""
    current_list()
    rows = [HEADER + ["状态", "废止日期"], memo_row() + ["已废止", cell]]
    path = (write_xlsx if xlsx else write_csv)(tmp_path / ("a.xlsx" if xlsx else "a.csv"), rows)
    try:
        call_command("import_memos", str(path), stdout=StringIO())
    except CommandError as error:
        return str(error)
    return Memorandum.objects.get().repealed_on


def _listing_date(tmp_path, cell, xlsx=False):
    """Import one listing on ``cell``; its 列入日期, or the command's error."""
    call_command("loaddata", FIXTURE_2018, verbosity=0)
    rows = [
        ["统一社会信用代码", "名称", "列入依据", "列入日期"],
        [valid_uscc(1), "某公司", "失信被执行人", cell],
    ]
    path = (write_xlsx if xlsx else write_csv)(tmp_path / ("b.xlsx" if xlsx else "b.csv"), rows)
    try:
        call_command("import_subjects", str(path), stdout=StringIO(), stderr=StringIO())
    except CommandError as error:
        return str(error)
    return Listing.objects.get().listed_on


IMPORTS = {"memos": (_memo_date, "废止日期"), "listings": (_listing_date, "列入日期")}


@pytest.mark.parametrize("xlsx", [False, True], ids=["csv", "xlsx"])
@pytest.mark.parametrize("importer", IMPORTS)
@pytest.mark.parametrize("cell", ACCEPTED)
def test_both_imports_read_these_dates(tmp_path, importer, cell, xlsx):
    read, _ = IMPORTS[importer]
    assert read(tmp_path, cell, xlsx=xlsx) == DAY


@pytest.mark.parametrize("importer", IMPORTS)
@pytest.mark.parametrize("cell", XLSX_ACCEPTED, ids=str)
def test_both_imports_read_these_xlsx_cells(tmp_path, importer, cell):
    read, _ = IMPORTS[importer]
    assert read(tmp_path, cell, xlsx=True) == DAY


@pytest.mark.parametrize("importer", IMPORTS)
@pytest.mark.parametrize("cell", REFUSED)
def test_both_imports_refuse_these_dates_alike(tmp_path, importer, cell):
    read, column = IMPORTS[importer]
    message = read(tmp_path, cell)
    assert isinstance(message, str), message
    assert f"第 2 行「{column}」列：「{cell}」不是有效的日期（应如 2024-01-31）。" in message


def test_the_rule_is_one_function():
    assert parse_date(" 2024 年 1 月 31 日 ") == DAY
    with pytest.raises(DateError, match="「2024-01-31 rubbish」不是有效的日期"):
        parse_date("2024-01-31 rubbish")
    with pytest.raises(DateError):
        parse_date(True)  # a TRUE cell is not the number 1
