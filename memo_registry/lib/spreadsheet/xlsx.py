"""Reading an xlsx: refused over its budget before openpyxl parses any of it.

:func:`xlsx_rows` checks the file (:func:`check_xlsx`), opens it with
openpyxl in read-only mode (the one place of the application that does) and
yields the rows of its first worksheet, counted against the budget as they
come.
"""

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from memo_registry.lib.spreadsheet.budgets import (
    MAX_COLUMNS,
    MAX_COMPRESSION_RATIO,
    MAX_KEPT_XML_BYTES,
    MAX_KEPT_XML_ELEMENTS,
    MAX_PARTS,
    MAX_RECORD_XML_BYTES,
    MAX_RECORD_XML_ELEMENTS,
    MAX_ZIP_DIRECTORY_BYTES,
    Budget,
    BudgetExceeded,
    MiB,
    SpreadsheetError,
    Tally,
    mebibytes,
)
from memo_registry.lib.spreadsheet.cells import typed_cell

ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 1024 * 1024


def xlsx_rows(file: BinaryIO | Path, file_name: str, budget: Budget) -> Iterator[tuple[int, list]]:
    """(row number, cells) of the first worksheet; the file is checked and
    opened now, its rows read as the iterator is.

    Cells keep their spreadsheet types (:func:`typed_cell`); a row ends at
    its last cell that holds something.
    """
    return _rows(open_workbook(file, file_name, budget), file_name, budget)


def _rows(workbook, file_name: str, budget: Budget) -> Iterator[tuple[int, list]]:
    try:
        if not workbook.worksheets:
            raise SpreadsheetError(f"文件 {file_name} 没有工作表。")
        sheet = workbook.worksheets[0]
        # The stored dimensions of files written by other tools can be wrong;
        # without them openpyxl reads every row the file holds.
        sheet.reset_dimensions()
        tally = Tally(budget, file_name)
        # One column past the limit, to see content there; a cell far to the
        # right is never read (openpyxl would pad every row up to it).
        rows_read = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1)
        for number, cells in enumerate(rows_read, 1):
            tally.row(number, cells)
            width = min(len(cells), MAX_COLUMNS)
            while width and cells[width - 1] is None:
                width -= 1  # openpyxl's padding up to max_col
            yield number, [typed_cell(value) for value in cells[:width]]
    except SpreadsheetError:
        raise
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise _damaged(file_name) from error
    finally:
        workbook.close()


def open_workbook(file: BinaryIO | Path, file_name: str, budget: Budget, *, read_only=True):
    """The workbook (openpyxl) once the file has passed :func:`check_xlsx`:
    read-only (streamed) to read rows, or whole, with its formatting, to
    write into (``read_only=False``: the batch check's annotated copy).
    The one place of the application that opens a workbook."""
    check_xlsx(file, file_name, budget)
    # Imported here: openpyxl is only needed for xlsx files.
    from openpyxl import load_workbook

    if hasattr(file, "seek"):
        file.seek(0)
    try:
        # read_only streams the sheet; data_only=False keeps a formula as the
        # text it is (it is stored as text, never evaluated); links to other
        # workbooks are not read.
        return load_workbook(file, read_only=read_only, data_only=False, keep_links=False)
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise _damaged(file_name) from error


def _damaged(file_name: str) -> SpreadsheetError:
    return SpreadsheetError(f"文件 {file_name} 不是有效的 xlsx 文件（可能已损坏），无法读取。")


def _bomb(file_name: str, what: str, limit: str) -> BudgetExceeded:
    # "解压后过大" is the words the hostile corpus's tests look for.
    return BudgetExceeded(
        f"文件 {file_name} 解压后过大：{what}，未导入。这不像是一份正常的表格。", limit
    )


def check_xlsx(file: BinaryIO | Path, file_name: str, budget: Budget) -> None:
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


def _check_directory(file: BinaryIO | Path, file_name: str) -> None:
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
