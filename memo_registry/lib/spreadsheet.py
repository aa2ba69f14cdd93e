"""Reading a spreadsheet file into rows of cell texts, within a budget.

The first step of every import and of the batch check: whatever arrives (an
upload, a path on the command line) becomes a :class:`Sheet`, the rows of its
first worksheet as plain strings, each with the row number the spreadsheet
itself shows.  Format and encoding are detected, never asked for:

- ``.xlsx`` is recognised by its zip signature, checked against its
  :class:`Budget` (below) before openpyxl opens it, and read with openpyxl in
  read-only mode;
- anything else is taken as CSV, decoded as UTF-8 (with or without BOM) or
  else GB18030 (what Excel in Chinese saves), its delimiter sniffed among
  comma, semicolon and tab.

``memo_registry.lib.spreadsheet_stream`` (the listing import, row by row from
disk) uses the same budgets, checks and messages through the public names
here.  Everything that is refused raises :class:`SpreadsheetError` with a
message for the person who uploaded the file.  This module knows nothing of
memoranda.
"""

import csv
import datetime
import hashlib
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from memo_registry.lib.text import strip_control

MiB = 1024 * 1024

# --- budgets ------------------------------------------------------------------
#
# What reading one file may cost, each limit checked before the work it
# bounds: the request body before it is read (memo_registry.http.uploads), the
# file's size before a byte is parsed, every part of an xlsx before openpyxl
# sees it (from the zip directory, then by counting the XML of each part as
# it is unzipped, holding none of it), and the table's rows, cells and text
# as they are read, before a row is kept.  docs/performance.md ("Upload
# budgets") measures the largest file each budget accepts.

# A row with content beyond this column is refused: a list has a dozen.  An
# xlsx is read one column further, to see that content; a cell far to the
# right of that is never read (openpyxl would pad every row up to it).
MAX_COLUMNS = 100
# Excel's own limit on the text of one cell.
MAX_CELL_CHARS = 32_767
# A part of an xlsx over 1 MiB compressed more than this is refused: real
# sheets compress 5 to 20 times, a zip bomb thousands of times.
MAX_COMPRESSION_RATIO = 100
# Parts of a zip, and the size of its directory (zipfile reads it whole).
MAX_PARTS = 1_000
MAX_ZIP_DIRECTORY_BYTES = 1 * MiB
# openpyxl streams the rows of a worksheet and the strings of the shared
# string table, clearing each when read; every other part (styles, workbook,
# relationships, a worksheet's merged cells and hyperlinks …) it parses into
# a tree that stays in memory.  That XML is limited in bytes and in elements.
MAX_KEPT_XML_BYTES = 4 * MiB
MAX_KEPT_XML_ELEMENTS = 100_000
# One row (or one shared string) is parsed whole before it is cleared.
MAX_RECORD_XML_BYTES = 4 * MiB
MAX_RECORD_XML_ELEMENTS = 50_000


@dataclass(frozen=True)
class Budget:
    """The most one file may hold; a file over any of them is refused."""

    rows: int  # rows of the (first) worksheet or of the csv
    cells: int  # rows × columns of the table read; cells stored in the xlsx
    shared_strings: int  # entries of the xlsx's shared string table (held whole by openpyxl)
    xml_elements: int  # XML elements of all rows and shared strings (openpyxl parses each)
    text: int  # characters of all cells read, each occurrence counted
    unzipped: int  # bytes of all the parts of an xlsx, unzipped
    part: int  # bytes of one part of an xlsx, unzipped


# A sheet uploaded through a page (the memo admin's import; the batch check
# raises the rows to its own limit, settings.BATCH_CHECK_MAX_CODES): read
# within a request, so that a gunicorn worker stays under 300 MB and half of
# its 30 s timeout.  Responsibility lists have tens of rows.
UPLOAD = Budget(
    rows=2_000,
    cells=100_000,
    shared_strings=100_000,
    xml_elements=1_000_000,
    text=10_000_000,
    unzipped=32 * MiB,
    part=32 * MiB,
)
# A memo list named on the command line (manage.py import_memos): no worker
# timeout, the same memory bound.
COMMAND = Budget(
    rows=10_000,
    cells=300_000,
    shared_strings=300_000,
    xml_elements=2_000_000,
    text=20_000_000,
    unzipped=48 * MiB,
    part=48 * MiB,
)
# A listing xlsx (manage.py import_subjects): streamed row by row, so the
# rows are bounded by time and by the shared string table openpyxl holds;
# a larger list goes as csv, which streams without a row limit.
LISTING = Budget(
    rows=40_000,
    cells=400_000,
    shared_strings=160_000,
    xml_elements=3_000_000,
    text=50_000_000,
    unzipped=64 * MiB,
    part=64 * MiB,
)

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .doc: the old binary formats
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Files people mistake for a table: PDF, PNG, JPEG, GIF.
_DOCUMENT_MAGIC = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")
_DELIMITERS = (",", ";", "\t")
_ENCODINGS = ("utf-8-sig", "gb18030")
_CHUNK = 1024 * 1024


class SpreadsheetError(Exception):
    """A file that cannot be read as a spreadsheet; the message says why, in Chinese."""


class BudgetExceeded(SpreadsheetError):
    """A file over one of its budget's limits; ``limit`` names which (a Budget field)."""

    def __init__(self, message: str, limit: str):
        super().__init__(message)
        self.limit = limit


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
            f"文件 {file_name} 有 {mebibytes(size)}，超过了导入上限 {mebibytes(limit)}，"
            "未导入。请拆分文件后再导入。"
        )
    return None


def mebibytes(size: int) -> str:
    return f"{size / MiB:.1f} MB"


def read_path(path: str | Path, budget: Budget = COMMAND) -> Sheet:
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
    with path.open("rb") as handle:
        return _read(handle, size, path.name, budget)


def read_file(file: BinaryIO, file_name: str, budget: Budget = UPLOAD) -> Sheet:
    """Read an open binary file (an upload, which Django keeps on disk past a
    small size): its size is checked first, and an xlsx is read from the file
    by zipfile and openpyxl, never copied into memory whole."""
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, io.SEEK_END)
        size = file.tell()
    refusal = size_refusal(file_name, size)
    if refusal:
        raise SpreadsheetError(refusal)
    return _read(file, size, file_name, budget)


def read_bytes(data: bytes, file_name: str, budget: Budget = UPLOAD) -> Sheet:
    """Read a spreadsheet held in memory."""
    return read_file(io.BytesIO(data), file_name, budget)


def _read(file: BinaryIO, size: int, file_name: str, budget: Budget) -> Sheet:
    refusal = size_refusal(file_name, size)
    if refusal:
        raise SpreadsheetError(refusal)
    file.seek(0)
    digest = hashlib.sha256()
    head = b""
    while chunk := file.read(_CHUNK):
        head = head or chunk[:8]
        digest.update(chunk)
    file.seek(0)
    if head.startswith(_ZIP_MAGIC):
        fmt, encoding, rows = "xlsx", "", _xlsx_rows(file, file_name, budget)
    else:
        # A csv is decoded whole: it is at most IMPORT_MAX_BYTES.
        data = file.read()
        if not data.strip(b" \t\r\n\xef\xbb\xbf"):
            raise SpreadsheetError(f"文件 {file_name} 是空的。")
        fmt = "csv"
        encoding, text = decode(data, file_name)
        del data
        rows = _csv_rows(text, file_name, budget)
    rows = tuple(rows)
    if all(row.is_blank() for row in rows):
        raise SpreadsheetError(f"文件 {file_name} 没有任何内容。")
    return Sheet(
        file_name=file_name,
        format=fmt,
        encoding=encoding,
        sha256=digest.hexdigest(),
        size=size,
        rows=rows,
    )


# --- what a table costs, row by row -------------------------------------------


class Tally:
    """Counts the rows, cells and text of a table as it is read, and refuses
    the row that takes it past its budget, before that row is kept."""

    def __init__(self, budget: Budget, file_name: str):
        self.budget = budget
        self.file_name = file_name
        self.width = 0
        self.text = 0

    def row(self, number: int, cells) -> None:
        """``cells``: the row as read (up to MAX_COLUMNS + 1 of them)."""
        budget, name = self.budget, self.file_name
        if number > budget.rows:
            raise BudgetExceeded(
                f"文件 {name} 超过 {budget.rows} 行（上限），不像是一份清单，未导入。"
                "请拆分文件后再导入。",
                "rows",
            )
        refuse_wide_row(number, cells, name)
        width = len(cells)
        while width and (cells[width - 1] is None or cells[width - 1] == ""):
            width -= 1
        self.width = max(self.width, width)
        if number * self.width > budget.cells:
            raise BudgetExceeded(
                f"文件 {name} 到第 {number} 行已有 {number} 行 × {self.width} 列，"
                f"超过了 {budget.cells} 个单元格的上限，未导入。请拆分文件后再导入。",
                "cells",
            )
        for cell in cells:
            if isinstance(cell, str):
                if len(cell) > MAX_CELL_CHARS:
                    raise BudgetExceeded(
                        f"文件 {name} 第 {number} 行有一个单元格长 {len(cell)} 个字符，"
                        f"超过了单元格的上限 {MAX_CELL_CHARS} 个字符（Excel 的上限），未导入。",
                        "text",
                    )
                self.text += len(cell)
        if self.text > budget.text:
            raise BudgetExceeded(
                f"文件 {name} 到第 {number} 行的文字已超过 {budget.text} 个字符的上限，未导入。"
                "请拆分文件后再导入。",
                "text",
            )


# --- xlsx ---------------------------------------------------------------------


def _xlsx_rows(file: BinaryIO, file_name: str, budget: Budget) -> list[Row]:
    workbook = open_workbook(file, file_name, budget)
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise SpreadsheetError(f"文件 {file_name} 没有工作表。")
        # The stored dimensions of files written by other tools can be wrong;
        # without them openpyxl reads every row the file holds.
        sheet.reset_dimensions()
        tally = Tally(budget, file_name)
        rows = []
        rows_read = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1)
        for number, cells in enumerate(rows_read, 1):
            tally.row(number, cells)
            texts = [xlsx_text(value) for value in cells[:MAX_COLUMNS]]
            while texts and not texts[-1]:
                texts.pop()  # the padding up to MAX_COLUMNS
            rows.append(Row(number, tuple(texts)))
        return rows
    except SpreadsheetError:
        raise
    except Exception as error:
        raise _damaged(file_name) from error
    finally:
        workbook.close()


def open_workbook(file: BinaryIO | str | Path, file_name: str, budget: Budget):
    """The workbook (openpyxl, read-only) once the file has passed :func:`check_xlsx`."""
    check_xlsx(file, file_name, budget)
    # Imported here: openpyxl is only needed for xlsx files.
    from openpyxl import load_workbook

    if hasattr(file, "seek"):
        file.seek(0)
    try:
        # read_only streams the sheet; data_only=False keeps a formula as the
        # text it is (it is stored as text, never evaluated); links to other
        # workbooks are not read.
        return load_workbook(file, read_only=True, data_only=False, keep_links=False)
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise _damaged(file_name) from error


def _damaged(file_name: str) -> SpreadsheetError:
    return SpreadsheetError(f"文件 {file_name} 不是有效的 xlsx 文件（可能已损坏），无法读取。")


def _bomb(file_name: str, what: str, limit: str) -> BudgetExceeded:
    # "解压后过大" is the words the hostile corpus's tests look for.
    return BudgetExceeded(
        f"文件 {file_name} 解压后过大：{what}，未导入。这不像是一份正常的表格。", limit
    )


def check_xlsx(file: BinaryIO | str | Path, file_name: str, budget: Budget) -> None:
    """Refuse an xlsx over its budget before openpyxl parses any of it.

    First from the zip's directory alone (nothing unzipped): the number of
    parts, each part's size and compression ratio, their total.  Then each
    part is unzipped a megabyte at a time and its XML counted, never held:
    cells, shared strings, and the elements and bytes openpyxl would keep.
    """
    try:
        _check_directory(file, file_name)
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
            total = 0
            for member in members:
                if member.file_size > budget.part:
                    raise _bomb(
                        file_name,
                        f"其中的部件 {member.filename} 有 {mebibytes(member.file_size)}，"
                        f"超过单个部件的上限 {mebibytes(budget.part)}",
                        "part",
                    )
                if member.file_size > MiB and member.file_size > MAX_COMPRESSION_RATIO * max(
                    member.compress_size, 1
                ):
                    raise _bomb(
                        file_name,
                        f"其中的部件 {member.filename} 压缩了 "
                        f"{member.file_size // max(member.compress_size, 1)} 倍，"
                        f"超过上限 {MAX_COMPRESSION_RATIO} 倍",
                        "part",
                    )
                total += member.file_size
            if total > budget.unzipped:
                raise _bomb(
                    file_name,
                    f"共 {mebibytes(total)}，超过上限 {mebibytes(budget.unzipped)}",
                    "unzipped",
                )
            counts = _XmlCounts(budget, file_name)
            for member in members:
                with archive.open(member) as part:
                    counts.part(member.filename, part)
            counts.finish()
    except SpreadsheetError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
        raise SpreadsheetError(
            f"文件 {file_name} 不是有效的 xlsx 文件（压缩包已损坏），无法读取。"
        ) from error
    except (NotImplementedError, RuntimeError) as error:  # an unknown method; encrypted
        raise SpreadsheetError(
            f"文件 {file_name} 不是有效的 xlsx 文件（压缩方式不受支持或已加密），无法读取。"
        ) from error
    finally:
        if hasattr(file, "seek"):
            file.seek(0)


def _check_directory(file: BinaryIO | str | Path, file_name: str) -> None:
    """The zip's end record: how many parts, how large a directory.

    zipfile reads the whole directory into objects before anything can be
    checked; a 20 MB file can list a few hundred thousand empty parts.
    """
    if isinstance(file, str | Path):
        with open(file, "rb") as handle:
            return _check_directory(handle, file_name)
    file.seek(0, io.SEEK_END)
    size = file.tell()
    tail_start = max(0, size - (22 + 65535))  # the end record, and a comment of at most 64 KiB
    file.seek(tail_start)
    tail = file.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        raise zipfile.BadZipFile("no end of central directory record")
    entries, directory_size = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries == 0xFFFF or directory_size == 0xFFFFFFFF:  # zip64: no honest xlsx needs it
        entries = max(entries, MAX_PARTS + 1)
    if entries > MAX_PARTS or directory_size > MAX_ZIP_DIRECTORY_BYTES:
        raise _bomb(file_name, f"压缩包列有 {entries} 个部件，超过上限 {MAX_PARTS} 个", "part")


# The parts openpyxl streams: worksheets row by row, the shared strings one
# string at a time; the name of the element it clears after each.
_STREAMED_PARTS = {
    "row": re.compile(r"xl/worksheets/[^/]+\.xml", re.IGNORECASE),
    "si": re.compile(r"xl/sharedStrings\.xml", re.IGNORECASE),
}
# The root element of such a part.  Its rows are rows to openpyxl only in the
# SpreadsheetML namespace: the prefix must be bound to it there, else the
# whole part counts as kept XML.
_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.\-]*):)?(worksheet|sst)[\s>/]")
_MAIN_NAMESPACE = b'="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_SHEET = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?sheet[\s>/]")
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?dimension[\s>/]")
_SHEET_DATA = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?sheetData[\s>/]")


def _opening_tags(buffer, start: int, end: int) -> int:
    """Elements that start in buffer[start:end] (an upper bound: comments count too)."""
    return buffer.count(b"<", start, end) - buffer.count(b"</", start, end)


class _XmlCounts:
    """What openpyxl will build from an xlsx, counted from its XML as it is unzipped."""

    def __init__(self, budget: Budget, file_name: str):
        self.budget = budget
        self.file_name = file_name
        self.cells = 0
        self.shared_strings = 0
        self.record_elements = 0  # elements of rows and strings: parsed, then cleared
        self.kept_bytes = 0  # XML openpyxl keeps as a tree
        self.kept_elements = 0
        self.sheets = 0  # <sheet> entries of the workbook
        self.undimensioned_elements = 0  # of worksheets openpyxl parses whole when opening

    def part(self, name: str, stream) -> None:
        first = stream.read(_CHUNK)
        if not first.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            return  # not XML (an image): openpyxl does not read it in read-only mode
        if b"\x00" in first[:4096]:
            # UTF-16 XML would pass the counting below unseen; Excel writes UTF-8.
            raise SpreadsheetError(
                f"文件 {self.file_name} 不是有效的 xlsx 文件（部件 {name} 不是 UTF-8 编码），"
                "无法读取。"
            )
        record = next((tag for tag, rule in _STREAMED_PARTS.items() if rule.fullmatch(name)), None)
        root = _ROOT.search(first, 0, 65536)
        if record and root and root.group(2) == (b"worksheet" if record == "row" else b"sst"):
            root_end = first.find(b">", root.start()) + 1
            prefix = root.group(1) or b""
            binding = b"xmlns" + (b":" + prefix if prefix else b"") + _MAIN_NAMESPACE
            if root_end and binding in first[root.start() : root_end]:
                head = first[:root_end]
                self.kept_bytes += len(head)
                self.kept_elements += _opening_tags(head, 0, len(head))
                data = _SHEET_DATA.search(first, root_end)
                dimensioned = bool(data and _DIMENSION.search(first, root_end, data.start()))
                rest = _chain(first[root_end:], stream)
                elements = self._records(
                    name, rest, record.encode(), prefix + b":" if prefix else b""
                )
                if record == "row" and not dimensioned:
                    self.undimensioned_elements += elements
                return
        self._kept(first, stream)

    def _kept(self, first: bytes, stream) -> None:
        # Kept XML is at most MAX_KEPT_XML_BYTES in all: held here to count it.
        data = bytearray()
        for chunk in _chain(first, stream):
            data += chunk
            self.kept_bytes += len(chunk)
            self._check()
        self.kept_elements += _opening_tags(data, 0, len(data))
        self.sheets += len(_SHEET.findall(data))
        self._check()

    def _records(self, name: str, chunks: Iterator[bytes], record: bytes, prefix: bytes) -> int:
        """Count a streamed part: the XML inside each record (row, string) is
        parsed and then cleared by openpyxl; the XML between records is kept.
        Returns the elements of the part's records."""
        tag = re.compile(rb"<(/?)" + re.escape(prefix + record) + rb"[\s>/]")
        # <c …>, <c>, <c/>: counted without a match object for each.
        cell_tags = [b"<" + prefix + b"c" + end for end in (b" ", b">", b"/", b"\t", b"\n", b"\r")]
        rows = record == b"row"
        buffer = bytearray()
        data_end = re.compile(rb"</" + re.escape(prefix) + rb"sheetData[\s>]")
        state = {"inside": False, "bytes": 0, "elements": 0, "part": 0, "closed": False}

        def segment(start: int, end: int) -> None:
            if start >= end:
                return
            elements = _opening_tags(buffer, start, end)
            if not state["inside"]:
                self.kept_bytes += end - start
                self.kept_elements += elements
                if not state["closed"]:
                    done = data_end.search(buffer, start, end) if rows else None
                    refuse_namespace(start, done.start() if done else end)
                    state["closed"] = bool(done)
                return
            refuse_namespace(start, end)
            state["bytes"] += end - start
            state["elements"] += elements
            state["part"] += elements
            self.record_elements += elements
            if rows:
                self.cells += sum(buffer.count(cell_tag, start, end) for cell_tag in cell_tags)
            if state["bytes"] > MAX_RECORD_XML_BYTES or state["elements"] > MAX_RECORD_XML_ELEMENTS:
                what = "一行" if rows else "一个共享字符串"
                raise _bomb(
                    self.file_name,
                    f"部件 {name} 中{what}的 XML 超过 {mebibytes(MAX_RECORD_XML_BYTES)} "
                    f"或 {MAX_RECORD_XML_ELEMENTS} 个元素（上限）",
                    "xml_elements",
                )

        def refuse_namespace(start: int, end: int) -> None:
            # A namespace declared below the root, around or in the rows (in
            # a tag, not in a cell's text), would make them foreign to
            # openpyxl, which would then never clear them.  Declarations
            # after the rows (Excel's <extLst>) are harmless.
            at = buffer.find(b"xmlns", start, end)
            while at >= 0:
                if buffer.rfind(b"<", start, at) > buffer.rfind(b">", start, at):
                    raise _damaged(self.file_name)
                at = buffer.find(b"xmlns", at + 5, end)

        def process(end: int) -> None:
            last = 0
            for match in tag.finditer(buffer, 0, end):
                at = match.start()
                segment(last, at)
                if match.group(1):  # the record's end tag
                    state["inside"] = False
                    last = at
                    continue
                close = buffer.find(b">", at, end)
                close = close if close >= 0 else end - 1
                if buffer.find(b"xmlns", at, close) >= 0:
                    raise _damaged(self.file_name)
                if not rows:
                    self.shared_strings += 1
                self.record_elements += 1
                state["part"] += 1
                # <row …/> holds nothing; any other starts a record.
                state["inside"] = buffer[close - 1] != 0x2F
                state["bytes"] = state["elements"] = 0
                last = close + 1
            segment(last, end)
            self._check()

        for chunk in chunks:
            buffer += chunk
            # Up to the last "<": no tag is cut in two.
            cut = buffer.rfind(b"<")
            if cut < 0:
                cut = len(buffer)
            elif cut == 0:
                if len(buffer) > MAX_RECORD_XML_BYTES + MAX_KEPT_XML_BYTES:
                    raise _bomb(
                        self.file_name,
                        f"部件 {name} 中有一段 XML 超过 {mebibytes(MAX_RECORD_XML_BYTES)}",
                        "xml_elements",
                    )
                continue
            process(cut)
            del buffer[:cut]
        process(len(buffer))
        return state["part"]

    def _check(self) -> None:
        budget, name = self.budget, self.file_name
        if self.shared_strings > budget.shared_strings:
            raise BudgetExceeded(
                f"文件 {name} 的共享字符串表超过 {budget.shared_strings} 项（上限），未导入。"
                "请拆分文件后再导入。",
                "shared_strings",
            )
        if self.cells > budget.cells:
            raise BudgetExceeded(
                f"文件 {name} 存有超过 {budget.cells} 个单元格（上限，所有工作表合计），未导入。"
                "请拆分文件后再导入。",
                "cells",
            )
        if self.record_elements > budget.xml_elements:
            raise _bomb(
                name, f"表格的 XML 超过 {budget.xml_elements} 个元素（上限）", "xml_elements"
            )
        if self.kept_bytes > MAX_KEPT_XML_BYTES or self.kept_elements > MAX_KEPT_XML_ELEMENTS:
            raise _bomb(
                name,
                f"样式、合并单元格等表格结构的 XML 超过 {mebibytes(MAX_KEPT_XML_BYTES)} "
                f"或 {MAX_KEPT_XML_ELEMENTS} 个元素（上限）",
                "xml_elements",
            )

    def finish(self) -> None:
        self._check()
        # openpyxl opens every sheet the workbook lists; a worksheet without
        # <dimension> before its rows is parsed whole, once per sheet naming it.
        if max(self.sheets, 1) * self.undimensioned_elements > self.budget.xml_elements:
            raise _bomb(
                self.file_name,
                f"打开 {self.sheets} 个工作表需解析超过 {self.budget.xml_elements} 个 XML 元素（上限）",
                "xml_elements",
            )


def _chain(first: bytes, stream) -> Iterator[bytes]:
    yield first
    while chunk := stream.read(_CHUNK):
        yield chunk


def xlsx_text(value: object) -> str:
    """The text of an xlsx cell value as the registry stores it."""
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
    return clean(str(value))


# --- csv ----------------------------------------------------------------------


_SAVE_AS_HINT = "请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或 xlsx 后再导入。"


def decode(data: bytes, file_name: str) -> tuple[str, str]:
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
        if encoding == "gb18030" and looks_binary(text):
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


def _csv_rows(text: str, file_name: str, budget: Budget) -> list[Row]:
    delimiter = sniff_delimiter(text)
    # strict: an unclosed quote is an error, not the rest of the file swallowed
    # into one cell (which could turn the memos below it into one memo's text).
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    tally = Tally(budget, file_name)
    rows = []
    try:
        for number, cells in enumerate(reader, 1):
            tally.row(number, cells)
            rows.append(Row(number, tuple(clean(cell) for cell in cells[:MAX_COLUMNS])))
    except csv.Error as error:
        raise csv_error(error, file_name, len(rows) + 1) from error
    return rows


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


# --- common -------------------------------------------------------------------


def clean(text: str) -> str:
    """A cell's text with line breaks made \\n and control characters removed."""
    return strip_control(text.replace("\r\n", "\n").replace("\r", "\n"))


def refuse_wide_row(number: int, cells, file_name: str) -> None:
    """Refuse a row with content beyond MAX_COLUMNS."""
    if len(cells) <= MAX_COLUMNS:
        return
    if any(str(cell).strip() for cell in cells[MAX_COLUMNS:] if cell is not None):
        raise SpreadsheetError(
            f"文件 {file_name} 第 {number} 行在第 {MAX_COLUMNS} 列之后还有内容"
            f"（共 {len(cells)} 列），不像是一份清单，未导入。"
        )
