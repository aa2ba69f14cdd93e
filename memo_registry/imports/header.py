"""The one header finder of both imports.

A sheet may have title rows above its header (a merged title, the notice's
number …); the header is the first row that names every required column,
each cell compared by ``search_key`` (whatever its spacing, width or
brackets) with the column's name and its other spellings.  Rows are read
from an iterator, which is left just past the header: the listing import
goes on reading its rows from there.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from memo_registry.imports.errors import ErrorList, refuse
from memo_registry.lib.spreadsheet import cell_text
from memo_registry.lib.text import search_key


@dataclass(frozen=True)
class Columns:
    """The columns of one kind of file.

    ``names``: column key → its name as messages and the export give it;
    ``aliases``: column key → other spellings of its header;
    ``required``: (name for messages, keys of which the header must have
    one) for each required column;
    ``search_rows``: how many rows may stand above the header (None: any).
    """

    names: dict[str, str]
    required: tuple[tuple[str, tuple[str, ...]], ...]
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    search_rows: int | None = None

    @cached_property
    def _keys(self) -> dict[str, str]:
        """Column key by the search_key of each spelling of its header."""
        keys = {search_key(name): key for key, name in self.names.items()}
        for key, spellings in self.aliases.items():
            keys.update((search_key(spelling), key) for spelling in spellings)
        return keys

    def key(self, cell: object) -> str | None:
        """The column a header cell names, or None."""
        return self._keys.get(search_key(cell_text(cell)))

    def named(self, cells: Sequence) -> dict[str, int]:
        """Column key → position, of the columns a row names (the first of each)."""
        found: dict[str, int] = {}
        for index, cell in enumerate(cells):
            key = self.key(cell)
            if key is not None and key not in found:
                found[key] = index
        return found

    def missing(self, found: dict[str, int]) -> list[str]:
        return [name for name, keys in self.required if not found.keys() & set(keys)]

    def is_header(self, cells: Sequence) -> bool:
        """Whether a row names every required column (a header repeated on each page, say)."""
        return not self.missing(self.named(cells))


@dataclass(frozen=True)
class Header:
    """The header row: its number and the position of each column it names."""

    row: int
    columns: dict[str, int]


def find_header(
    rows: Iterable[tuple[int, Sequence]], columns: Columns, file_name: str, *, encoding: str = ""
) -> Header:
    """The header of these (row number, cells); ImportFailed when there is none.

    A header that names one column twice is refused (which one holds the
    data?).  Without a header, the row naming the most columns is told
    which are missing; a sheet naming none is told which columns it needs.
    """
    errors = ErrorList(file_name)
    best: tuple[int, dict[str, int]] | None = None
    rows = iter(rows)
    for number, cells in _limited(rows, columns.search_rows):
        found = columns.named(cells)
        if not columns.missing(found):
            _refuse_repeated(number, cells, columns, errors)
            errors.raise_if_any()
            return Header(number, found)
        if found and (best is None or len(found) > len(best[1])):
            best = (number, found)
    if best is not None:
        number, found = best
        refuse(file_name, f"表头缺少必需的列：{'、'.join(columns.missing(found))}。", number)
    hint = ""
    if encoding == "gb18030":
        # GB18030 decodes the bytes of any encoding: Shift-JIS, Big5,
        # Latin-1 text comes out as nonsense in which no header is found.
        hint = "如果文件确有表头，它可能不是 UTF-8 或 GB18030（GBK）编码，请另存为“CSV UTF-8”后再导入。"
    required = "、".join(name for name, _ in columns.required)
    refuse(file_name, f"找不到表头行：表格须有 {required} 这些列。{hint}")


def _limited(rows: Iterator, limit: int | None) -> Iterator:
    for count, row in enumerate(rows, 1):
        yield row
        if limit is not None and count >= limit:
            return


def _refuse_repeated(number: int, cells: Sequence, columns: Columns, errors: ErrorList) -> None:
    seen: set[str] = set()
    for cell in cells:
        key = columns.key(cell)
        if key in seen:
            name = columns.names[key]
            errors.add(f"表头中有两列都是「{name}」，无法确定用哪一列。", number, name)
        elif key is not None:
            seen.add(key)
