"""Streaming a large spreadsheet row by row (the listing import).

``memo_registry.lib.spreadsheet`` reads a responsibility list (tens of rows) into
memory with tight limits.  A listing file holds up to millions of rows, so
this module reads one from disk without holding it: the encoding is found by
one incremental pass over the bytes (which also yields the SHA-256), then the
rows are yielded one at a time.  The detection rules, the limits and the
messages are the spreadsheet module's own: a csv streams without a row
limit; an xlsx is held to ``spreadsheet.LISTING`` (openpyxl keeps its whole
shared string table in memory), checked before openpyxl opens it.
"""

import codecs
import csv
import datetime
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from memo_registry.lib import spreadsheet
from memo_registry.lib.spreadsheet import Budget, SpreadsheetError

CHUNK = 1024 * 1024
# Bigger than any honest listing file of a province; bounds a hostile upload.
MAX_LISTING_BYTES = 2 * 1024 * 1024 * 1024


@dataclass(frozen=True)
class StreamedFile:
    file_name: str
    format: str
    encoding: str
    sha256: str
    size: int


def open_rows(
    path: str | Path, max_bytes: int = MAX_LISTING_BYTES, budget: Budget = spreadsheet.LISTING
) -> tuple[StreamedFile, Iterator[tuple[int, list]]]:
    """The file's description and an iterator of (row number, cells).

    xlsx cells keep their spreadsheet types (a number stays a number, so a
    code stored as a number can be recognised); csv cells are text.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise SpreadsheetError(f"无法打开文件 {path}：{error.strerror or error}") from error
    if size > max_bytes:
        raise SpreadsheetError(
            f"文件 {path.name} 有 {size / 1048576:.1f} MB，超过了导入上限 "
            f"{max_bytes / 1048576:.0f} MB，未导入。"
        )
    with path.open("rb") as handle:
        head = handle.read(8)
    if not size:
        raise SpreadsheetError(f"文件 {path.name} 是空的。")
    if head.startswith(b"PK\x03\x04"):
        return _xlsx(path, size, budget)
    return _csv(path, size)


def _csv(path: Path, size: int) -> tuple[StreamedFile, Iterator[tuple[int, list]]]:
    with path.open("rb") as handle:
        head = handle.read(65536)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        spreadsheet.decode(head, path.name)  # refuses UTF-16 and binary files, with its message
    encoding, digest = _detect_encoding(path)
    text_head = head.decode(encoding, errors="ignore").lstrip("\ufeff")
    # GB18030 decodes the bytes of any file: only there can text full of
    # control characters be a binary file (valid UTF-8 is text; its stray
    # control characters are removed from the cells).
    if encoding == "gb18030" and spreadsheet.looks_binary(text_head):
        raise SpreadsheetError(f"文件 {path.name} 不是电子表格（xlsx 或 csv），不能导入。")
    delimiter = spreadsheet.sniff_delimiter(text_head)
    info = StreamedFile(path.name, "csv", encoding, digest, size)

    def rows() -> Iterator[tuple[int, list]]:
        python_encoding = "utf-8-sig" if encoding == "utf-8" else encoding
        number = 0
        with path.open("r", encoding=python_encoding, newline="") as text:
            # strict: an unclosed quote is an error, not the rest of the file
            # swallowed into one cell.
            reader = csv.reader(text, delimiter=delimiter, strict=True)
            try:
                for number, cells in enumerate(reader, 1):
                    spreadsheet.refuse_wide_row(number, cells, path.name)
                    yield number, cells
            except csv.Error as error:
                raise spreadsheet.csv_error(error, path.name, number + 1) from error

    return info, rows()


def _detect_encoding(path: Path) -> tuple[str, str]:
    """(encoding, SHA-256): UTF-8 if every byte decodes as such, else GB18030."""
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        digest = hashlib.sha256()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding, digest.hexdigest()
    raise SpreadsheetError(
        f"文件 {path.name} 不是电子表格（xlsx，或 UTF-8、GB18030/GBK 编码的 csv），不能导入。"
    )


def _xlsx(path: Path, size: int, budget: Budget) -> tuple[StreamedFile, Iterator[tuple[int, list]]]:
    data_digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            data_digest.update(chunk)
    # Every part of the file within the budget before openpyxl parses any.
    workbook = spreadsheet.open_workbook(path, path.name, budget)
    info = StreamedFile(path.name, "xlsx", "", data_digest.hexdigest(), size)

    def rows() -> Iterator[tuple[int, list]]:
        try:
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()
            tally = spreadsheet.Tally(budget, path.name)
            # One column past the limit, to see content there; a cell far to
            # the right is never read (openpyxl would pad every row up to it).
            rows_read = sheet.iter_rows(values_only=True, max_col=spreadsheet.MAX_COLUMNS + 1)
            for number, cells in enumerate(rows_read, 1):
                tally.row(number, cells)
                width = min(len(cells), spreadsheet.MAX_COLUMNS)
                while width and cells[width - 1] is None:
                    width -= 1  # openpyxl's padding up to max_col
                yield number, [_cell(value) for value in cells[:width]]
        except SpreadsheetError:
            raise
        except Exception as error:
            raise SpreadsheetError(
                f"文件 {path.name} 不是有效的 xlsx 文件（可能已损坏），无法读取。"
            ) from error
        finally:
            workbook.close()

    return info, rows()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (int, float, datetime.date)) and not isinstance(value, bool):
        return value
    return spreadsheet.xlsx_text(value)
