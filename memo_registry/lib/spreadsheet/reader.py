"""The one way a spreadsheet is read: :func:`open_rows`, and the whole sheet at once.

A path or an open binary file (an upload, which Django keeps on disk past a
small size) is refused if it is over its budget's size, then told apart by
its content, never by its name: an xlsx by its zip signature
(``xlsx.xlsx_rows``), anything else as a csv (``delimited``).  Its rows are
read one at a time, from the file, never copied into memory whole.
"""

import hashlib
import io
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from memo_registry.lib.spreadsheet import delimited
from memo_registry.lib.spreadsheet.budgets import (
    COMMAND,
    UPLOAD,
    Budget,
    SpreadsheetError,
    size_refusal,
)
from memo_registry.lib.spreadsheet.cells import cell_text
from memo_registry.lib.spreadsheet.xlsx import ZIP_MAGIC, xlsx_rows

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class SheetFile:
    """What is known about a file before its rows are read."""

    file_name: str
    format: str  # "xlsx" or "csv"
    encoding: str  # of a csv file: "utf-8", "utf-8-sig" or "gb18030"; "" for xlsx
    sha256: str
    size: int


@dataclass(frozen=True)
class Row:
    """One row of the sheet: its number as the spreadsheet shows it, and its cells."""

    number: int
    cells: tuple[str, ...]

    def is_blank(self) -> bool:
        return not any(cell.strip() for cell in self.cells)


@dataclass(frozen=True)
class Sheet:
    """A spreadsheet file read into rows of text, with what is known about the file."""

    file_name: str
    format: str
    encoding: str
    sha256: str
    size: int
    rows: tuple[Row, ...]


def open_rows(
    source: str | Path | BinaryIO, budget: Budget, *, file_name: str | None = None
) -> tuple[SheetFile, Iterator[tuple[int, list]]]:
    """The file's description and an iterator of (row number, cells).

    ``source``: a path, or an open binary file named by ``file_name``.  The
    file is checked (size, format, encoding; every part of an xlsx against
    the budget) before this returns; its rows are counted against the
    budget as the iterator reads them, and an iterator that ends without a
    row holding anything raises SpreadsheetError.  xlsx cells keep their
    spreadsheet types (a number stays a number, so a code stored as a
    number can be recognised); csv cells are the file's text.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        name = file_name or path.name
        try:
            size = path.stat().st_size
        except OSError as error:
            raise SpreadsheetError(f"无法打开文件 {path}：{error.strerror or error}") from error
        if not path.is_file():
            raise SpreadsheetError(f"{path} 不是文件。")
        _refuse_size(name, size, budget)
        try:
            handle = path.open("rb")
        except OSError as error:
            raise SpreadsheetError(f"无法打开文件 {path}：{error.strerror or error}") from error
        try:
            info, rows = _open(handle, name, size, budget)
        except BaseException:
            handle.close()
            raise
        return info, _checked(rows, name, handle)
    if file_name is None:
        raise TypeError("open_rows() needs the file_name of an open file")
    size = getattr(source, "size", None)
    if size is None:
        source.seek(0, io.SEEK_END)
        size = source.tell()
    _refuse_size(file_name, size, budget)
    info, rows = _open(source, file_name, size, budget)
    return info, _checked(rows, file_name, None)


def _refuse_size(file_name: str, size: int, budget: Budget) -> None:
    refusal = size_refusal(file_name, size, budget.max_file_bytes())
    if refusal:
        raise SpreadsheetError(refusal)


def _open(
    file: BinaryIO, file_name: str, size: int, budget: Budget
) -> tuple[SheetFile, Iterator[tuple[int, list]]]:
    file.seek(0)
    head = file.read(len(ZIP_MAGIC))
    if not head:
        raise SpreadsheetError(f"文件 {file_name} 是空的。")
    if head == ZIP_MAGIC:
        digest = hashlib.sha256()
        file.seek(0)
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
        info = SheetFile(file_name, "xlsx", "", digest.hexdigest(), size)
        return info, xlsx_rows(file, file_name, budget)
    encoding, sha256 = delimited.detect(file, file_name)
    info = SheetFile(file_name, "csv", encoding, sha256, size)
    return info, delimited.csv_rows(file, file_name, encoding, budget)


def _checked(
    rows: Generator[tuple[int, list], None, None], file_name: str, owned: BinaryIO | None
) -> Iterator[tuple[int, list]]:
    """``rows``, refused at their end if none held anything; ``owned`` is
    closed when they are done, or left unread (a file refused by its header)."""
    try:
        content = False
        for number, cells in rows:
            if not content:
                content = any(cell_text(cell).strip() for cell in cells)
            yield number, cells
        if not content:
            raise SpreadsheetError(f"文件 {file_name} 没有任何内容。")
    finally:
        rows.close()  # the reader's own clean-up first, while the file is open
        if owned is not None:
            owned.close()


# --- the whole sheet at once (a responsibility list, a batch check) -----------------


def read_path(path: str | Path, budget: Budget = COMMAND) -> Sheet:
    """Read a file from disk; its size is checked before a byte is read."""
    return _sheet(*open_rows(path, budget))


def read_file(file: BinaryIO, file_name: str, budget: Budget = UPLOAD) -> Sheet:
    """Read an open binary file (an upload): its size is checked first, and
    it is read from the file, never copied into memory whole."""
    return _sheet(*open_rows(file, budget, file_name=file_name))


def read_bytes(data: bytes, file_name: str, budget: Budget = UPLOAD) -> Sheet:
    """Read a spreadsheet held in memory."""
    return read_file(io.BytesIO(data), file_name, budget)


def _sheet(info: SheetFile, rows: Iterator[tuple[int, list]]) -> Sheet:
    kept = []
    for number, cells in rows:
        texts = [cell_text(cell) for cell in cells]
        if info.format == "xlsx":
            while texts and not texts[-1]:
                texts.pop()  # a cell that held only what cell_text removes
        kept.append(Row(number, tuple(texts)))
    return Sheet(
        file_name=info.file_name,
        format=info.format,
        encoding=info.encoding,
        sha256=info.sha256,
        size=info.size,
        rows=tuple(kept),
    )
