"""Reading a csv: the encoding found, never asked for; rows streamed from disk.

:func:`detect` reads the file once (which also gives its SHA-256): a file
holding a NUL byte, UTF-16, or a binary format is refused with a message
that says which; the rest is UTF-8 (with or without BOM) if every byte
decodes as such, else GB18030 (what Excel in Chinese saves).  :func:`csv_rows`
then reads it row by row with csv.reader (the one place of the application
that does), the delimiter sniffed among comma, semicolon and tab.
"""

import codecs
import csv
import hashlib
import io
from collections.abc import Iterator
from typing import BinaryIO

from memo_registry.lib.spreadsheet.budgets import (
    MAX_COLUMNS,
    Budget,
    SpreadsheetError,
    Tally,
    refuse_wide_row,
)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .doc: the old binary formats
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Files people mistake for a table: PDF, PNG, JPEG, GIF.
_DOCUMENT_MAGIC = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")
_DELIMITERS = (",", ";", "\t")
_ENCODINGS = ("utf-8-sig", "gb18030")
# Bytes that leave a file empty: white space and a BOM.
_BLANK = b" \t\r\n" + _UTF8_BOM
_CHUNK = 1024 * 1024
# What is looked at to tell UTF-16 and binary files from text, and to sniff
# the delimiter.
_HEAD = 65536
_SAVE_AS_HINT = "请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或 xlsx 后再导入。"
_NOT_A_SHEET = "不是电子表格（xlsx，或 UTF-8、GB18030/GBK 编码的 csv），不能导入。"


def detect(file: BinaryIO, file_name: str) -> tuple[str, str]:
    """(encoding, SHA-256) of a csv file: "utf-8-sig" (with a BOM), "utf-8"
    or "gb18030"; SpreadsheetError when it is not text this reader reads.

    Any NUL byte refuses the file: it is UTF-16, a binary file, or text with
    a NUL in it, and the message says which.
    """
    file.seek(0)
    head = file.read(_HEAD)
    if head.startswith(_UTF16_BOMS) or b"\x00" in head:
        _refuse_binary(head, file_name)
    file.seek(0)
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    blank = True
    offset = 0
    while chunk := file.read(_CHUNK):
        digest.update(chunk)
        blank = blank and not chunk.strip(_BLANK)
        nul = chunk.find(b"\x00")
        if nul >= 0:
            raise _nul_in_text(file, file_name, offset + nul)
        if utf8 is not None:
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError:
                utf8 = None
        offset += len(chunk)
    if blank:
        raise SpreadsheetError(f"文件 {file_name} 是空的。")
    try:
        if utf8 is not None:
            utf8.decode(b"", final=True)
            return ("utf-8-sig" if head.startswith(_UTF8_BOM) else "utf-8"), digest.hexdigest()
    except UnicodeDecodeError:
        pass
    # GB18030 decodes almost any bytes: a binary file can pass as text.  A
    # file that is valid UTF-8 is text, whatever control characters its
    # cells hold (they are removed from every cell).
    if not _decodes(file, "gb18030") or looks_binary(head.decode("gb18030", errors="ignore")):
        raise SpreadsheetError(f"文件 {file_name} {_NOT_A_SHEET}")
    return "gb18030", digest.hexdigest()


def _decodes(file: BinaryIO, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    file.seek(0)
    try:
        while chunk := file.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _refuse_binary(head: bytes, file_name: str) -> None:
    """Refuse a file whose first bytes hold a NUL or a UTF-16 BOM, saying what it is."""
    if head.startswith(_OLE_MAGIC):
        raise SpreadsheetError(
            f"文件 {file_name} 是旧版 Excel（.xls）等二进制格式，不能导入。{_SAVE_AS_HINT}"
        )
    if head.startswith(_UTF16_BOMS) or _utf16_without_bom(head):
        raise SpreadsheetError(f"文件 {file_name} 是 UTF-16 编码的文本，不能导入。{_SAVE_AS_HINT}")
    if not head.startswith(_DOCUMENT_MAGIC) and _text_with_nul(head):
        line = head[: head.index(b"\x00")].count(b"\n") + 1
        raise _nul_message(file_name, line)
    raise SpreadsheetError(
        f"文件 {file_name} 不是电子表格（xlsx 或 csv），不能导入。{_SAVE_AS_HINT}"
    )


def _nul_in_text(file: BinaryIO, file_name: str, at: int) -> SpreadsheetError:
    """A NUL past the first bytes, which were text: the message names its line."""
    file.seek(0)
    lines, left = 1, at
    while left > 0:
        chunk = file.read(min(_CHUNK, left))
        if not chunk:
            break
        lines += chunk.count(b"\n")
        left -= len(chunk)
    return _nul_message(file_name, lines)


def _nul_message(file_name: str, line: int) -> SpreadsheetError:
    return SpreadsheetError(
        f"文件 {file_name} 第 {line} 行含有空字符（NUL），不是正常的表格文本，未导入。"
        "请删去该字符后再导入。"
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
    return not looks_binary(text) and text.count("\ufffd") <= 1


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
        return not looks_binary(text)
    return False


def looks_binary(text: str) -> bool:
    """Whether decoded text is in fact a binary file that happened to decode."""
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


# --- rows -----------------------------------------------------------------------------


def csv_rows(
    file: BinaryIO, file_name: str, encoding: str, budget: Budget
) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of a csv that :func:`detect` accepted.

    The cells are the text as the file has it; a budget with ``bounds_csv``
    counts rows, cells and text (:class:`Tally`), any other only the width.
    """
    python_encoding = "utf-8-sig" if encoding.startswith("utf-8") else encoding
    file.seek(0)
    sample = file.read(4 * _HEAD).decode(python_encoding, errors="ignore")
    delimiter = sniff_delimiter(sample.lstrip("\ufeff"))
    file.seek(0)
    return _records(file, file_name, python_encoding, delimiter, budget)


def _records(file, file_name, encoding, delimiter, budget) -> Iterator[tuple[int, list[str]]]:
    # newline="": line breaks inside quoted cells reach csv.reader as they are.
    text = io.TextIOWrapper(file, encoding=encoding, newline="")
    # strict: an unclosed quote is an error, not the rest of the file swallowed
    # into one cell (which could turn the rows below it into one cell's text).
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    tally = Tally(budget, file_name) if budget.bounds_csv else None
    number = 0
    try:
        for number, cells in enumerate(reader, 1):
            if tally is not None:
                tally.row(number, cells)
            else:
                refuse_wide_row(number, cells, file_name)
            # Past MAX_COLUMNS a row holds nothing (refuse_wide_row saw to it).
            yield number, cells if len(cells) <= MAX_COLUMNS else cells[:MAX_COLUMNS]
    except csv.Error as error:
        raise csv_error(error, file_name, number + 1) from error
    finally:
        # The file is the caller's: leave it open (detached, the wrapper
        # does not close it when it goes).
        if not file.closed:
            text.detach()


# What csv.Error says, in the words of the person who saved the file.
_CSV_ERRORS = {
    "unexpected end of data": "有一个以引号开头的单元格直到文件末尾都没有结束的引号",
    "expected after": "引号后面紧跟着别的字符，引号没有成对",
    "field limit": "有单元格过长",
}


def csv_error(error: csv.Error, file_name: str, number: int) -> SpreadsheetError:
    """The refusal of a csv that csv.reader cannot read at row ``number``."""
    reason = next((words for key, words in _CSV_ERRORS.items() if key in str(error)), str(error))
    return SpreadsheetError(f"文件 {file_name} 第 {number} 行无法按 csv 读取（{reason}），未导入。")


def sniff_delimiter(text: str) -> str:
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
