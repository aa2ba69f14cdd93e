"""The layout's promises (issue 12) that a linter does not check: no
production module over 500 lines, and one module opens workbooks and one
reads csv (the limits and budgets live there, so no second reader skips them)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("memo_registry", "memos", "measures", "subjects")


def production_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_the_tree_holds_the_modules_it_is_checked_against():
    names = {path.relative_to(ROOT).as_posix() for path in production_modules()}
    assert "memo_registry/lib/spreadsheet/xlsx.py" in names
    assert "memo_registry/imports/listings/postgres.py" in names
    assert len(names) > 50


@pytest.mark.parametrize("path", list(production_modules()), ids=lambda p: p.name)
def test_no_production_module_is_over_500_lines(path):
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= 500, f"{path.relative_to(ROOT)}: {lines} lines"


def modules_calling(pattern: str) -> set[str]:
    call = re.compile(pattern)
    found = set()
    for path in production_modules():
        code = [
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith("#")
        ]
        if any(call.search(line) for line in code):
            found.add(path.relative_to(ROOT).as_posix())
    return found


def test_one_module_opens_workbooks():
    assert modules_calling(r"\bload_workbook\(") == {"memo_registry/lib/spreadsheet/xlsx.py"}


def test_one_module_reads_csv():
    assert modules_calling(r"\bcsv\.reader\(") == {"memo_registry/lib/spreadsheet/delimited.py"}
