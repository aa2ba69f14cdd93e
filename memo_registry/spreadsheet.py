"""Reading a spreadsheet file into rows of cell texts.

The first step of every import: whatever arrives (an upload in the admin, a
path on the command line) becomes a :class:`Sheet`, the rows of its first
worksheet as plain strings, each with the row number the spreadsheet itself
shows.  Format and encoding are detected, never asked for:

- ``.xlsx`` is recognised by its zip signature, checked against zip bombs and
  read with openpyxl in read-only mode;
- anything else is taken as CSV, decoded as UTF-8 (with or without BOM) or
  else GB18030 (what Excel in Chinese saves), its delimiter sniffed among
  comma, semicolon and tab.

Everything that is refused raises :class:`SpreadsheetError` with a message for
the person who uploaded the file.  This module knows nothing of memoranda.
"""

import csv
import datetime
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from memo_registry.text import strip_control

# A decompressed xlsx larger than this, or compressed more than this ratio,
# is refused before openpyxl sees it (a "zip bomb" would exhaust memory).
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
# Rows beyond this are refused: no responsibility list is that long, and the
# limit bounds the memory a hostile file can take.
MAX_ROWS = 50_000
# A row with content beyond this column is refused: a list has a dozen.  An
# xlsx is read one column further, to see that content; a cell far to the
# right of that is never read (openpyxl would pad every row up to it).
MAX_COLUMNS = 100

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .doc: the old binary formats
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Files people mistake for a table: PDF, PNG, JPEG, GIF.
_DOCUMENT_MAGIC = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")
_DELIMITERS = (",", ";", "\t")
_ENCODINGS = ("utf-8-sig", "gb18030")


class SpreadsheetError(Exception):
    """A file that cannot be read as a spreadsheet; the message says why, in Chinese."""


@dataclass(frozen=True)
class Row:
    """One row of the sheet: its number as the spreadsheet shows it, and its cells."""

    number: int
    cells: tuple[str, ...]

    def is_blank(self) -> bool:
        return not any(cell.strip() for cell in self.cells)


@dataclass(frozen=True)
class Sheet:
    """A spreadsheet file read into rows, with what is known about the file."""

    file_name: str
    format: str  # "xlsx" or "csv"
    encoding: str  # of a csv file; "" for xlsx
    sha256: str
    size: int
    rows: tuple[Row, ...]


def max_bytes() -> int:
    """The largest file accepted, in bytes (settings.IMPORT_MAX_BYTES)."""
    return settings.IMPORT_MAX_BYTES


def size_refusal(file_name: str, size: int) -> str | None:
    """The message that refuses a file of this size, or None when it is accepted."""
    limit = max_bytes()
    if size > limit:
        return (
            f"文件 {file_name} 有 {_mebibytes(size)}，超过了导入上限 {_mebibytes(limit)}，"
            "未导入。请拆分文件后再导入。"
        )
    return None


def _mebibytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def read_path(path: str | Path) -> Sheet:
    """Read a file from disk; its size is checked before a byte is read."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise SpreadsheetError(f"无法打开文件 {path}：{error.strerror or error}") from error
    if not path.is_file():
        raise SpreadsheetError(f"{path} 不是文件。")
    refusal = size_refusal(path.name, size)
    if refusal:
        raise SpreadsheetError(refusal)
    return read_bytes(path.read_bytes(), path.name)


def read_bytes(data: bytes, file_name: str) -> Sheet:
    """Read a spreadsheet held in memory (an upload, or a file read by :func:`read_path`)."""
    refusal = size_refusal(file_name, len(data))
    if refusal:
        raise SpreadsheetError(refusal)
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise SpreadsheetError(f"文件 {file_name} 是空的。")
    if data.startswith(_ZIP_MAGIC):
        fmt, encoding, rows = "xlsx", "", _xlsx_rows(data, file_name)
    else:
        fmt = "csv"
        encoding, text = _decode(data, file_name)
        rows = _csv_rows(text, file_name)
    rows = tuple(rows)
    if all(row.is_blank() for row in rows):
        raise SpreadsheetError(f"文件 {file_name} 没有任何内容。")
    return Sheet(
        file_name=file_name,
        format=fmt,
        encoding=encoding,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        rows=rows,
    )


# --- xlsx ---------------------------------------------------------------------


def _xlsx_rows(data: bytes, file_name: str) -> list[Row]:
    _refuse_zip_bomb(data, file_name)
    # Imported here: openpyxl is only needed for xlsx files.
    from openpyxl import load_workbook

    try:
        # read_only streams the sheet; data_only=False keeps a formula as the
        # text it is (it is stored as text, never evaluated).
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise SpreadsheetError(
            f"文件 {file_name} 不是有效的 xlsx 文件（可能已损坏），无法读取。"
        ) from error
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise SpreadsheetError(f"文件 {file_name} 没有工作表。")
        # The stored dimensions of files written by other tools can be wrong;
        # without them openpyxl reads every row the file holds.
        sheet.reset_dimensions()
        rows = []
        rows_read = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1)
        for number, cells in enumerate(rows_read, 1):
            _refuse_too_many_rows(number, file_name)
            _refuse_too_many_columns(number, cells, file_name)
            texts = [_xlsx_text(value) for value in cells[:MAX_COLUMNS]]
            while texts and not texts[-1]:
                texts.pop()  # the padding up to MAX_COLUMNS
            rows.append(Row(number, tuple(texts)))
        return rows
    except SpreadsheetError:
        raise
    except Exception as error:
        raise SpreadsheetError(
            f"文件 {file_name} 不是有效的 xlsx 文件（可能已损坏），无法读取。"
        ) from error
    finally:
        workbook.close()


def _refuse_zip_bomb(data: bytes, file_name: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise SpreadsheetError(
            f"文件 {file_name} 不是有效的 xlsx 文件（压缩包已损坏），无法读取。"
        ) from error
    unzipped = sum(member.file_size for member in members)
    too_dense = any(
        member.file_size > 1024 * 1024
        and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
        for member in members
    )
    if unzipped > MAX_UNZIPPED_BYTES or too_dense:
        raise SpreadsheetError(
            f"文件 {file_name} 解压后过大（{_mebibytes(unzipped)}），不像是一份清单，未导入。"
        )


def _xlsx_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 序号 1 typed in Excel arrives as 1.0
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return _clean(str(value))


# --- csv ----------------------------------------------------------------------


_SAVE_AS_HINT = "请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或 xlsx 后再导入。"


def _decode(data: bytes, file_name: str) -> tuple[str, str]:
    """(encoding, text) of a csv file; SpreadsheetError when it is not text we read.

    Any NUL byte refuses the file (``spreadsheet_stream`` relies on it): it is
    UTF-16, a binary file, or text with a NUL in it, and the message says which.
    """
    if data.startswith(_UTF16_BOMS) or b"\x00" in data:
        if data.startswith(_OLE_MAGIC):
            raise SpreadsheetError(
                f"文件 {file_name} 是旧版 Excel（.xls）等二进制格式，不能导入。{_SAVE_AS_HINT}"
            )
        if data.startswith(_UTF16_BOMS) or _utf16_without_bom(data):
            raise SpreadsheetError(
                f"文件 {file_name} 是 UTF-16 编码的文本，不能导入。{_SAVE_AS_HINT}"
            )
        if not data.startswith(_DOCUMENT_MAGIC) and _text_with_nul(data):
            line = data[: data.index(b"\x00")].count(b"\n") + 1
            raise SpreadsheetError(
                f"文件 {file_name} 第 {line} 行含有空字符（NUL），不是正常的表格文本，未导入。"
                "请删去该字符后再导入。"
            )
        raise SpreadsheetError(
            f"文件 {file_name} 不是电子表格（xlsx 或 csv），不能导入。{_SAVE_AS_HINT}"
        )
    has_bom = data.startswith(b"\xef\xbb\xbf")
    for encoding in _ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # GB18030 decodes almost any bytes: a binary file can pass as text.  A
        # file that is valid UTF-8 is text, whatever control characters its
        # cells hold (they are removed from every cell).
        if encoding == "gb18030" and _looks_binary(text):
            break
        if encoding == "utf-8-sig" and not has_bom:
            encoding = "utf-8"
        return encoding, text
    raise SpreadsheetError(
        f"文件 {file_name} 不是电子表格（xlsx，或 UTF-8、GB18030/GBK 编码的 csv），不能导入。"
    )


def _utf16_without_bom(data: bytes) -> bool:
    # In UTF-16 every ASCII character (digits, commas, line breaks) has a NUL
    # byte on the same side: all at even offsets (big-endian) or all at odd.
    sample = data[:8192]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if even + odd < 4 or min(even, odd) * 10 > even + odd:
        return False
    codec = "utf-16-be" if even > odd else "utf-16-le"
    text = sample[: len(sample) // 2 * 2].decode(codec, errors="replace")
    return not _looks_binary(text) and text.count("\ufffd") <= 1


def _text_with_nul(data: bytes) -> bool:
    # A stray NUL or two in what is otherwise text; many make a binary file.
    if data.count(0) * 100 > len(data):
        return False
    rest = data.replace(b"\x00", b"")
    for encoding in _ENCODINGS:
        try:
            text = rest.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not _looks_binary(text)
    return False


def _looks_binary(text: str) -> bool:
    # GB18030 decodes almost any bytes; a text full of control characters or
    # private-use code points is a binary file that happened to decode.
    sample = text[:20000]
    if not sample:
        return False
    odd = sum(
        1
        for char in sample
        if (ord(char) < 32 and char not in "\t\r\n") or "\ue000" <= char <= "\uf8ff"
    )
    return odd > max(2, len(sample) // 100)


# What csv.Error says, in the words of the person who saved the file.
_CSV_ERRORS = {
    "unexpected end of data": "有一个以引号开头的单元格直到文件末尾都没有结束的引号",
    "expected after": "引号后面紧跟着别的字符，引号没有成对",
    "field limit": "有单元格过长",
}


def _csv_rows(text: str, file_name: str) -> list[Row]:
    delimiter = _sniff_delimiter(text)
    # strict: an unclosed quote is an error, not the rest of the file swallowed
    # into one cell (which could turn the memos below it into one memo's text).
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = []
    try:
        for number, cells in enumerate(reader, 1):
            _refuse_too_many_rows(number, file_name)
            _refuse_too_many_columns(number, cells, file_name)
            rows.append(Row(number, tuple(_clean(cell) for cell in cells[:MAX_COLUMNS])))
    except csv.Error as error:
        reason = next(
            (words for key, words in _CSV_ERRORS.items() if key in str(error)), str(error)
        )
        raise SpreadsheetError(
            f"文件 {file_name} 第 {len(rows) + 1} 行无法按 csv 读取（{reason}），未导入。"
        ) from error
    return rows


def _sniff_delimiter(text: str) -> str:
    """The delimiter that makes the most rows hold more than one value.

    csv.Sniffer guesses badly on Chinese text with commas inside cells; a
    tab-separated table has all its rows split by tabs, while commas in its
    text split only a few.
    """
    sample = text[:65536]
    lines = [line for line in sample.splitlines() if line.strip()][:100]

    def score(delimiter: str) -> tuple[int, int]:
        rows = list(csv.reader(lines, delimiter=delimiter))
        filled = [sum(1 for cell in row if cell.strip()) for row in rows]
        return sum(1 for n in filled if n > 1), sum(filled)

    return max(_DELIMITERS, key=score)


# --- common -------------------------------------------------------------------


def _clean(text: str) -> str:
    return strip_control(text.replace("\r\n", "\n").replace("\r", "\n"))


def _refuse_too_many_columns(number: int, cells, file_name: str) -> None:
    if any(str(cell).strip() for cell in cells[MAX_COLUMNS:] if cell is not None):
        raise SpreadsheetError(
            f"文件 {file_name} 第 {number} 行在第 {MAX_COLUMNS} 列之后还有内容"
            f"（共 {len(cells)} 列），不像是一份清单，未导入。"
        )


def _refuse_too_many_rows(number: int, file_name: str) -> None:
    if number > MAX_ROWS:
        raise SpreadsheetError(f"文件 {file_name} 超过 {MAX_ROWS} 行，不像是一份清单，未导入。")
