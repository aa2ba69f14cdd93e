"""Steps 2–4 of the memo import: from rows to validated memos.

The header row is found whatever its spacing or bracket style
(``memo_registry.imports.header``); rows are gathered into records (a row
with an empty 序号 continues the memo above it, cut by a page break); every
record is normalised by the text rules (``memo_registry.lib.text``) and
validated, collecting *all* errors (``memo_registry.imports.errors``) as
``文件 X 第 N 行「列名」列：原因``.  Nothing here touches the database.
"""

import datetime
import re
from dataclasses import dataclass, field

from memo_registry.imports.errors import ErrorList
from memo_registry.imports.header import Columns, Header, find_header
from memo_registry.lib.dates import DateError, parse_date
from memo_registry.lib.spreadsheet import Row, Sheet
from memo_registry.lib.text import (
    canonical_doc_number,
    chinese_punctuation,
    kind_from_title,
    kind_from_word,
    leading_number,
    says_no_function,
    search_key,
    split_departments,
    split_names,
    split_numbered,
    split_paragraphs,
    squeeze,
    undo_formula_inert,
)
from memo_registry.services import legal_basis
from memo_registry.services.legal_basis import Basis
from memos.models import Memorandum

SEQ, DOC_NUMBER, TITLE, DEPARTMENTS = "序号", "文号", "备忘录名称", "发起部门"
DEFINITION, IMPLEMENTING, MEASURES, DIVISIONS = (
    "奖惩对象（行为）",
    "实施部门",
    "奖惩措施",
    "责任处室",
)
KIND, LABEL, STATUS, REPEALED_ON = "类型", "对象简称", "状态", "废止日期"
BASIS = "实施依据"

#: The document's eight columns; a file must have all of them.
REQUIRED_COLUMNS = (
    SEQ,
    DOC_NUMBER,
    TITLE,
    DEPARTMENTS,
    DEFINITION,
    IMPLEMENTING,
    MEASURES,
    DIVISIONS,
)
#: Columns the export adds so that a round trip loses nothing.
OPTIONAL_COLUMNS = (KIND, LABEL, STATUS, REPEALED_ON, BASIS)
#: The header of a memo list: its columns by their names, and the other
#: spellings that mean the same column.
HEADER = Columns(
    names={name: name for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)},
    required=tuple((name, (name,)) for name in REQUIRED_COLUMNS),
    aliases={DEFINITION: ("奖惩对象",), KIND: ("奖惩类型",), REPEALED_ON: ("废止时间",)},
)

#: A cell longer than this is refused: no memo needs it, and it bounds memory.
MAX_CELL_CHARS = 5000

_STATUS_WORDS = {
    "现行有效": Memorandum.Status.IN_FORCE,
    "有效": Memorandum.Status.IN_FORCE,
    "现行": Memorandum.Status.IN_FORCE,
    "in_force": Memorandum.Status.IN_FORCE,
    "已废止": Memorandum.Status.REPEALED,
    "废止": Memorandum.Status.REPEALED,
    "repealed": Memorandum.Status.REPEALED,
}


# --- records: rows joined across page breaks -----------------------------------------


@dataclass
class Record:
    """One memo as the file gives it: raw cell texts, gathered over its rows."""

    first_row: int
    rows: list[int]
    texts: dict[str, str]
    measures: list[str] = field(default_factory=list)
    divisions: list[str] = field(default_factory=list)
    measures_numbered: bool = False


_ITEM_COLUMNS = (MEASURES, DIVISIONS)


def _cells(row: Row, header: Header, errors: ErrorList) -> dict[str, str]:
    cells = {}
    for name, index in header.columns.items():
        text = row.cells[index] if index < len(row.cells) else ""
        if len(text) > MAX_CELL_CHARS:
            errors.add(f"内容有 {len(text)} 个字符，超过上限 {MAX_CELL_CHARS}。", row.number, name)
            text = ""
        # A cell the export made formula-inert ('=…) is read back as written.
        cells[name] = undo_formula_inert(text)
    return cells


def _is_numbered(text: str) -> bool:
    lines = split_paragraphs(text)
    return bool(lines) and leading_number(lines[0]) is not None


def _start_record(number: int, cells: dict[str, str]) -> Record:
    texts = {name: text for name, text in cells.items() if name not in _ITEM_COLUMNS}
    return Record(
        first_row=number,
        rows=[number],
        texts=texts,
        measures=split_numbered(cells.get(MEASURES)),
        divisions=split_numbered(cells.get(DIVISIONS)),
        measures_numbered=_is_numbered(cells.get(MEASURES, "")),
    )


def _continue_items(items: list[str], text: str) -> None:
    """Add a continuation row's text to a numbered cell.

    Text that begins with ``N、`` starts new items; other text finishes the
    item above, cut in two by the page break (``有关业务处室和直`` + ``属机构``).
    """
    pieces = split_numbered(text)
    if not pieces:
        return
    if items and not _is_numbered(text):
        items[-1] = squeeze(f"{items[-1]} {pieces[0]}")
        pieces = pieces[1:]
    items.extend(pieces)


def _continue_record(record: Record, number: int, cells: dict[str, str], errors: ErrorList) -> None:
    record.rows.append(number)
    for name, text in cells.items():
        if not text.strip():
            continue
        if name == MEASURES:
            _continue_items(record.measures, text)
        elif name == DIVISIONS:
            _continue_items(record.divisions, text)
        elif name == BASIS:
            # One line per measure: a continuation row's lines follow those above.
            head = record.texts.get(name, "")
            record.texts[name] = f"{head}\n{text}" if head.strip() else text
        elif name == DOC_NUMBER and record.texts.get(DOC_NUMBER, "").strip():
            errors.add(
                "序号为空，这一行会接到上一项备忘录，但它有自己的文号；"
                "如果是一项新的备忘录，请填写序号。",
                number,
                SEQ,
            )
        else:
            # Joined raw; the column's own rule (squeeze, split) runs afterwards.
            head = record.texts.get(name, "")
            record.texts[name] = f"{head.rstrip()} {text.lstrip()}" if head.strip() else text


def read_records(sheet: Sheet, header: Header, errors: ErrorList) -> list[Record]:
    """The memos of the sheet, rows with an empty 序号 joined to the memo above."""
    records: list[Record] = []
    for row in sheet.rows:
        if row.number <= header.row or row.is_blank() or HEADER.is_header(row.cells):
            continue  # a header repeated on every page of a PDF is not data
        cells = _cells(row, header, errors)
        if squeeze(cells[SEQ]):
            records.append(_start_record(row.number, cells))
        elif records:
            _continue_record(records[-1], row.number, cells, errors)
        else:
            errors.add("序号为空，上面也没有可以续接的备忘录。", row.number, SEQ)
    if not records and not errors.count:
        errors.add(f"表头（第 {header.row} 行）下面没有任何备忘录。")
    return records


# --- one memo, normalised and validated ---------------------------------------------


@dataclass(frozen=True)
class MemoData:
    """One memo as the file says it should be, every text normalised.

    ``label``, ``status`` and ``repealed_on`` are None when the file does not
    say (no such column, or an empty cell): an existing memo keeps its own.
    """

    row: int
    seq: int
    doc_number: str
    title: str
    kind: str
    departments: tuple[str, ...]
    definition: str
    label: str | None
    implementing: str
    no_function_note: str
    measures: tuple[tuple[str, tuple[str, ...]], ...]
    status: str | None
    repealed_on: datetime.date | None
    #: The legal bases of each measure, in the measures' order; None when the
    #: file has no 实施依据 column (the measures keep theirs).
    bases: tuple[tuple[Basis, ...], ...] | None = None


def _text(record: Record, name: str) -> str:
    # The PDF conversion's half-width punctuation in Chinese text, made full-width
    # (a 文号's year in brackets holds no Chinese and stays for canonical_doc_number).
    return chinese_punctuation(squeeze(record.texts.get(name, "")))


def _check_length(value: str, limit: int, record: Record, column: str, errors: ErrorList) -> None:
    if len(value) > limit:
        errors.add(f"长度 {len(value)} 超过上限 {limit} 个字符。", record.first_row, column)


def _seq(record: Record, errors: ErrorList) -> int | None:
    raw = _text(record, SEQ)
    key = search_key(raw)  # folds full-width digits
    if re.fullmatch(r"\d{1,6}", key) and int(key) > 0:
        return int(key)
    errors.add(f"序号「{raw}」不是正整数。", record.first_row, SEQ)
    return None


def _required(record: Record, column: str, limit: int, errors: ErrorList) -> str:
    value = _text(record, column)
    if not value:
        errors.add("不能为空。", record.first_row, column)
    _check_length(value, limit, record, column, errors)
    return value


def _kind(record: Record, title: str, errors: ErrorList) -> str | None:
    word = _text(record, KIND)
    if word:
        kind = kind_from_word(word)
        if kind is None:
            errors.add(f"类型「{word}」无法识别，应为激励或惩戒。", record.first_row, KIND)
        return kind
    kind = kind_from_title(title)
    if kind is None and title:
        errors.add(
            "无法从名称判断是激励还是惩戒（名称须含“激励”或“惩戒”之一），"
            "请加一列「类型」填写激励或惩戒。",
            record.first_row,
            TITLE,
        )
    return kind


def _departments(record: Record, errors: ErrorList) -> tuple[str, ...]:
    names = split_departments(record.texts.get(DEPARTMENTS, ""))
    if not names:
        errors.add("不能为空。", record.first_row, DEPARTMENTS)
    for name in names:
        _check_length(name, 100, record, DEPARTMENTS, errors)
    return tuple(names)


def _measures(
    record: Record, errors: ErrorList
) -> tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """The no-function note (or "") and the measures with their divisions."""
    measures, divisions = record.measures, record.divisions
    if len(measures) == 1 and not record.measures_numbered and says_no_function(measures[0]):
        if divisions:
            errors.add("备忘录写明无相关职能，不应再填责任处室。", record.first_row, DIVISIONS)
        _check_length(measures[0], 200, record, MEASURES, errors)
        return measures[0], ()
    if not measures:
        errors.add("须填写奖惩措施，或写明“无相关职能”。", record.first_row, MEASURES)
        return "", ()
    if not divisions:
        errors.add("须为每条措施填写责任处室。", record.first_row, DIVISIONS)
        return "", ()
    if len(divisions) == 1:
        divisions = divisions * len(measures)
    elif len(divisions) != len(measures):
        errors.add(
            f"有 {len(divisions)} 项责任处室，而奖惩措施有 {len(measures)} 条；"
            "应每条措施一项，或只填一项（适用于全部措施）。",
            record.first_row,
            DIVISIONS,
        )
        return "", ()
    result = []
    for text, names_text in zip(measures, divisions, strict=True):
        names = tuple(split_names(names_text))
        for name in names:
            _check_length(name, 100, record, DIVISIONS, errors)
        result.append((chinese_punctuation(text), names))
    return "", tuple(result)


def _status(record: Record, errors: ErrorList) -> tuple[str | None, datetime.date | None]:
    word, date_text = _text(record, STATUS), _text(record, REPEALED_ON)
    status = None
    if word:
        status = _STATUS_WORDS.get(search_key(word))
        if status is None:
            errors.add(f"状态「{word}」无法识别，应为现行有效或已废止。", record.first_row, STATUS)
            return None, None
    repealed_on = None
    if date_text:
        try:
            repealed_on = parse_date(date_text)
        except DateError as error:
            errors.add(str(error), record.first_row, REPEALED_ON)
            return status, None
    if status == Memorandum.Status.REPEALED and repealed_on is None:
        errors.add("已废止的备忘录须填写废止日期。", record.first_row, REPEALED_ON)
    elif status != Memorandum.Status.REPEALED and repealed_on is not None:
        errors.add("填写了废止日期，状态却不是“已废止”。", record.first_row, STATUS)
    return status, repealed_on


def _bases(
    record: Record, note: str, measures: tuple, errors: ErrorList
) -> tuple[tuple[Basis, ...], ...] | None:
    """The 实施依据 cell: one line per measure, aligned like the 责任处室."""
    if BASIS not in record.texts:
        return None
    cell = record.texts[BASIS]
    if note or not measures:
        if squeeze(cell):
            errors.add(
                "没有奖惩措施（或写明无相关职能），不应填写实施依据。", record.first_row, BASIS
            )
        return ()
    try:
        lines = legal_basis.measures_lines(cell, len(measures))
    except legal_basis.BasisError as error:
        errors.add(str(error), record.first_row, BASIS)
        return None
    result = []
    for number, line in enumerate(lines, 1):
        bases, problems = legal_basis.parse_bases(line)
        for problem in problems:
            prefix = f"措施 {number} 的实施依据" if len(lines) > 1 else "实施依据"
            errors.add(f"{prefix}{problem}", record.first_row, BASIS)
        result.append(bases)
    return tuple(result)


def validate_record(record: Record, errors: ErrorList) -> MemoData | None:
    """The memo a record describes, or None when it has errors (added to ``errors``)."""
    before = errors.count
    seq = _seq(record, errors)
    doc_number = canonical_doc_number(_text(record, DOC_NUMBER))
    if not doc_number:
        errors.add("不能为空。", record.first_row, DOC_NUMBER)
    _check_length(doc_number, 100, record, DOC_NUMBER, errors)
    title = _required(record, TITLE, 300, errors)
    kind = _kind(record, title, errors)
    departments = _departments(record, errors)
    definition = _required(record, DEFINITION, MAX_CELL_CHARS, errors)
    label = _text(record, LABEL) or None
    if label:
        _check_length(label, 100, record, LABEL, errors)
    implementing = _required(record, IMPLEMENTING, 100, errors)
    note, measures = _measures(record, errors)
    status, repealed_on = _status(record, errors)
    bases = _bases(record, note, measures, errors)
    if errors.count > before:
        return None
    return MemoData(
        row=record.first_row,
        seq=seq,
        doc_number=doc_number,
        title=title,
        kind=kind,
        departments=departments,
        definition=definition,
        label=label,
        implementing=implementing,
        no_function_note=note,
        measures=measures,
        status=status,
        repealed_on=repealed_on,
        bases=bases,
    )


def _check_duplicates(memos: list[MemoData], errors: ErrorList) -> None:
    for column, key in ((DOC_NUMBER, "doc_number"), (SEQ, "seq")):
        first_row: dict[object, int] = {}
        for memo in memos:
            if key == "seq" and memo.status == Memorandum.Status.REPEALED:
                continue  # a repealed memo gives up its 序号
            value = getattr(memo, key)
            if value in first_row:
                errors.add(f"{column}「{value}」与第 {first_row[value]} 行重复。", memo.row, column)
            else:
                first_row[value] = memo.row


def parse_sheet(sheet: Sheet) -> list[MemoData]:
    """The memos a sheet describes, or ImportFailed with every error found."""
    errors = ErrorList(sheet.file_name)
    rows = ((row.number, row.cells) for row in sheet.rows)
    header = find_header(rows, HEADER, sheet.file_name, encoding=sheet.encoding)
    records = read_records(sheet, header, errors)
    memos = [memo for record in records if (memo := validate_record(record, errors))]
    _check_duplicates(memos, errors)
    errors.raise_if_any()
    return memos
