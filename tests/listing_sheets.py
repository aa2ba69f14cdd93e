"""Real sheets for the listing pages' tests: xlsx through openpyxl, csv through csv.writer."""

import csv
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from memos.models import ResponsibilityList


def xlsx(path, header, rows, title=None):
    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def csv_file(path, header, rows, *, encoding="utf-8-sig", title=None):
    """A csv as Excel saves it (``encoding``: utf-8-sig, or gb18030 as Chinese Excel does)."""
    lines = [[title]] if title else []
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows([*lines, header, *rows])
    return path


def upload(client, url, path):
    """POST the file at ``path`` to a listing page, as the browser's form does."""
    current = ResponsibilityList.current()
    with path.open("rb") as handle:
        file = SimpleUploadedFile(path.name, handle.read())
    return client.post(url, {"file": file, "responsibility_list": current.pk})


def token(response) -> str:
    """The signed token of a preview's confirm form."""
    found = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert found, "the preview has no confirm form"
    return found.group(1)


def count(response, name: str) -> int:
    found = re.search(rf'id="count-{name}">(\d+)<', response.content.decode())
    assert found, f"the preview shows no count {name}"
    return int(found.group(1))
