"""Large and hostile xlsx files, written part by part with zipfile.

openpyxl takes seconds to write a sheet of a hundred thousand cells; the
upload-budget tests and ``bench/upload_budgets.py`` need such sheets (and
zip bombs) in well under a second.  These are real xlsx files (Excel and
openpyxl open them): the parts of a minimal workbook, the rows and shared
strings streamed into the zip as they are generated.
"""

import os
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from xml.sax.saxutils import escape

_MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" '
    b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    b"</Types>"
)
_ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b"<workbook " + _MAIN + b' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)


def column_letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def write_xlsx(
    path: Path,
    rows: Iterable[bytes],
    shared_strings: Iterable[bytes] = (),
    *,
    dimension: str | None = None,
    after_rows: bytes = b"",
) -> Path:
    """An xlsx of one sheet; ``rows`` and ``shared_strings`` are XML fragments
    (``<row>…</row>``, ``<si>…</si>``) in batches, written as they come."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst ' + _MAIN)
            part.write(b">")
            for fragment in shared_strings:
                part.write(fragment)
            part.write(b"</sst>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet ')
            part.write(_MAIN + b">")
            if dimension:
                part.write(b'<dimension ref="' + dimension.encode() + b'"/>')
            part.write(b"<sheetData>")
            for fragment in rows:
                part.write(fragment)
            part.write(b"</sheetData>" + after_rows + b"</worksheet>")
    return path


def _batches(items: Iterator[bytes], size: int = 2000) -> Iterator[bytes]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield b"".join(batch)
            batch = []
    if batch:
        yield b"".join(batch)


def table(
    path: Path,
    rows: int,
    columns: int,
    text: Callable[[int, int], str] = lambda row, column: f"武汉市测试有限公司{row}-{column}",
    *,
    header: list[str] | None = None,
    shared: bool = True,
) -> Path:
    """A sheet of ``header`` (if any) over ``rows`` × ``columns`` text cells,
    each cell its own shared string (as Excel saves text) or inline."""
    letters = [column_letter(number) for number in range(1, columns + 1)]
    first = 2 if header else 1
    total = rows + first - 1

    def texts(number: int) -> list[str]:
        if number < first:
            return header
        return [text(number - first + 1, column) for column in range(columns)]

    def strings() -> Iterator[bytes]:
        for number in range(1, total + 1):
            for value in texts(number):
                yield f"<si><t>{escape(value)}</t></si>".encode()

    def cells() -> Iterator[bytes]:
        index = 0
        for number in range(1, total + 1):
            parts = [f'<row r="{number}">']
            for column, value in enumerate(texts(number)):
                if shared:
                    parts.append(f'<c r="{letters[column]}{number}" t="s"><v>{index}</v></c>')
                    index += 1
                else:
                    parts.append(
                        f'<c r="{letters[column]}{number}" t="inlineStr">'
                        f"<is><t>{escape(value)}</t></is></c>"
                    )
            parts.append("</row>")
            yield "".join(parts).encode()

    return write_xlsx(
        path,
        _batches(cells(), 500),
        _batches(strings()) if shared else (),
        dimension=f"A1:{letters[-1]}{total}",
    )


def shared_strings_bomb(path: Path, unzipped: int = 95 * 1024 * 1024) -> Path:
    """The issue's attack: a workbook of one cell whose shared string table
    unzips to ``unzipped`` bytes of distinct short strings, compressed only
    about six times (no zip-bomb ratio), so the file stays under 20 MB."""
    # One megabyte of random eight-digit strings (of four digits, so that
    # they compress about six times), written again and again: deflate sees
    # 32 KiB back, so the repeats compress no better.
    digits = bytes(49 + byte % 4 for byte in os.urandom(80_000))
    block = b"".join(b"<si><t>" + digits[i : i + 8] + b"</t></si>" for i in range(0, 80_000, 8))
    repeats = unzipped // len(block) + 1
    return write_xlsx(
        path,
        [b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'],
        (block for _ in range(repeats)),
        dimension="A1",
    )


def from_rows(path: Path, rows: Iterable[list[str]]) -> Path:
    """A sheet of these rows of texts, each distinct text stored once in the
    shared string table, as Excel saves it."""
    index: dict[str, int] = {}
    fragments: list[bytes] = []

    size = {"rows": 0, "width": 1}

    def cells() -> Iterator[bytes]:
        for number, row in enumerate(rows, 1):
            parts = [f'<row r="{number}">']
            for column, value in enumerate(row):
                if value == "":
                    continue
                if value not in index:
                    index[value] = len(index)
                    fragments.append(f"<si><t>{escape(value)}</t></si>".encode())
                parts.append(f'<c r="{column_letter(column + 1)}{number}" t="s">')
                parts.append(f"<v>{index[value]}</v></c>")
            size["rows"], size["width"] = number, max(size["width"], len(row))
            parts.append("</row>")
            yield "".join(parts).encode()

    # The rows go to a scratch file first: the strings are known only after.
    scratch = path.with_suffix(".rows")
    with scratch.open("wb") as handle:
        for fragment in _batches(cells(), 500):
            handle.write(fragment)

    def saved_rows() -> Iterator[bytes]:
        with scratch.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                yield chunk

    try:
        dimension = f"A1:{column_letter(size['width'])}{max(size['rows'], 1)}"
        return write_xlsx(path, saved_rows(), _batches(iter(fragments)), dimension=dimension)
    finally:
        scratch.unlink()
