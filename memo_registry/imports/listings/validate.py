"""The checks of a listing import, row by row.

``Validator.row`` holds every rule and every message; a quick path in
front of it (``Validator.validated``) accepts the rows that are already
clean (most of them) at a fraction of the cost, and remembers the few
distinct 列入依据, dates and sources it has resolved.  Both give the same
rows: the quick path only skips work (tests/test_subject_import.py).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from memo_registry.imports.errors import ErrorList
from memo_registry.imports.listings.columns import CODE_KEYS, HEADER_NAMES, MAX_CELL
from memo_registry.imports.listings.columns import cell_text as _cell_text
from memo_registry.imports.listings.life import ABSENT, LIFE_KEYS, NO_LIFE, life_values
from memo_registry.imports.listings.result import SubjectImportResult
from memo_registry.lib.dates import parse_date
from memo_registry.lib.text import canonical_doc_number, search_key, squeeze
from memos.models import Memorandum, ResponsibilityList
from subjects.codes import parse_code, quick_kind
from subjects.models import TargetSubject


@dataclass
class Targets:
    """Resolves a 列入依据 cell (a memo's 文号 or a target-subject label)."""

    by_doc_number: dict[str, int]
    by_label: dict[str, int]
    # Targets whose memos in the list are all repealed: a listing there is
    # imported (it is a fact), but brings no measure, and the import says so.
    repealed: dict[int, list[Memorandum]] = field(default_factory=dict)

    @classmethod
    def load(cls, responsibility_list: ResponsibilityList | None) -> "Targets":
        memos = Memorandum.objects.all()
        if responsibility_list is not None:
            memos = memos.filter(responsibility_list=responsibility_list)
        by_doc_number = dict(memos.values_list("doc_number", "target_subject_id"))
        by_label: dict[str, int] = {}
        for pk, label in TargetSubject.objects.values_list("pk", "label"):
            by_label.setdefault(search_key(label), pk)
        repealed: dict[int, list[Memorandum]] = {}
        if responsibility_list is not None:
            in_force: set[int] = set()
            for memo in memos.order_by("seq"):
                if not memo.is_in_force:
                    repealed.setdefault(memo.target_subject_id, []).append(memo)
                else:
                    in_force.add(memo.target_subject_id)
            repealed = {t: m for t, m in repealed.items() if t not in in_force}
        return cls(by_doc_number, by_label, repealed)

    def warnings(self, rows_by_target: dict[int, set[int]]) -> list[str]:
        """What to tell the user about rows listed under repealed memos."""
        messages = []
        for target, numbers in sorted(rows_by_target.items(), key=lambda kv: min(kv[1])):
            shown = "、".join(str(n) for n in sorted(numbers)[:10])
            more = f"等 {len(numbers)} 行" if len(numbers) > 10 else ""
            memos = "；".join(
                f"{memo.doc_number}《{memo.title}》已于 {memo.repealed_on:%Y-%m-%d} 废止"
                for memo in self.repealed[target]
            )
            messages.append(
                f"第 {shown} 行{more}：{memos}，其措施不再适用。这些名单记录照常导入，"
                "但不会带来任何措施。"
            )
        return messages

    def resolve(self, text: str) -> int | None:
        if not text:
            return None
        target = self.by_doc_number.get(canonical_doc_number(text))
        if target is None:
            target = self.by_label.get(search_key(text))
        return target


# A validated row: the subject's code, kind and name, the list it goes on
# (target subject id), source, reason, and the dates as ISO text (expiry None
# when there is none); then the listing's life (``life.LIFE_KEYS``: None for a
# column the file lacks).  Text is ready for PostgreSQL's COPY when the
# validator was asked to escape it.
Row = tuple[
    str, str, str, int, str, str, str, str | None, str | None, str | None, str | None, str | None
]


def _copy_escape(text: str) -> str:
    """Text as a field of COPY's text format."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


_MISSING = object()


def _plain(text: str) -> bool:
    """Whether squeeze() and strip() leave ``text`` as it is and COPY needs
    no escape: no control characters, no spaces of any kind, no backslash."""
    return text.isprintable() and " " not in text and "\\" not in text


class Validator:
    """Checks rows, collecting row- and column-numbered errors.

    ``row`` is the reference: every rule, every message.  ``validated`` runs
    a quick path first that accepts a row only when each cell is already in
    the form ``row`` would give it (a canonical code that passes, a plain
    name, a 列入依据 / date / source it has seen before); anything else goes
    through ``row``.  Both give the same rows: the quick path only skips work.
    """

    _CACHE_LIMIT = 100_000

    def __init__(
        self,
        columns: dict[str, int],
        targets: Targets,
        exceptions: set[str],
        file_name: str,
        *,
        escape: bool = False,
    ):
        self.columns = columns
        self.targets = targets
        self.exceptions = exceptions
        self.escape = _copy_escape if escape else str
        self.errors = ErrorList(file_name)
        # code -> (the subject's index in the file, name, its first row, and
        # that row's list and date listed)
        self.subjects: dict[str, tuple] = {}
        self.repeats: dict[str, set] = {}  # code -> keys of its listings, when more than one
        # target subject id -> numbers of the rows listed under a repealed memo
        self.repealed_rows: dict[int, set[int]] = defaultdict(set)
        self._basis: dict = {}
        self._dates: dict = {}
        self._expiries: dict = {}
        self._sources: dict = {}
        self.has_life = any(key in columns for key in LIFE_KEYS)

    def life(self, cells: list, listed: str | None, number: int | None = None) -> tuple | None:
        """The row's life columns (``life.life_values``); errors named when ``number`` is given."""
        if not self.has_life:
            return NO_LIFE
        raw = {key: self.cell(cells, key) if key in self.columns else ABSENT for key in LIFE_KEYS}
        report = None if number is None else (lambda key, text: self.error(number, key, text))
        return life_values(raw, listed, self.escape, report)

    def error(self, row: int, key: str, message: str) -> None:
        self.errors.add(message, row, HEADER_NAMES[key])

    def cell(self, cells: list, key: str):
        index = self.columns.get(key)
        if index is None or index >= len(cells):
            return None
        return cells[index]

    def code_cell(self, cells: list) -> tuple[str, object]:
        for key in CODE_KEYS:
            value = self.cell(cells, key)
            if value is not None and _cell_text(value):
                return key, value
        key = next(k for k in CODE_KEYS if k in self.columns)
        return key, None

    def check_name(self, number: int, code: str, name: str) -> bool:
        """One code, one name throughout the file."""
        seen = self.subjects.get(code)
        if seen is None:
            self.subjects[code] = (len(self.subjects), name, number, None, None)
        elif seen[1] != name:
            self.error(number, "name", f"同一代码 {code} 在第 {seen[2]} 行的名称与本行不同。")
            return False
        return True

    def row(self, number: int, cells: list) -> Row | None:
        """The reference check of one row: the row's values, or None after
        recording its errors."""
        errors = self.errors
        errors_before = errors.count
        for key in self.columns:
            text = self.cell(cells, key)
            if isinstance(text, str) and len(text) > MAX_CELL:
                self.error(number, key, f"内容过长（{len(text)} 字，上限 {MAX_CELL} 字）。")
        if errors.count > errors_before:
            return None

        code_key, raw_code = self.code_cell(cells)
        code = None
        if raw_code is None:
            self.error(number, code_key, "代码为空。")
        else:
            try:
                raw = raw_code if isinstance(raw_code, float) else _cell_text(raw_code)
                if isinstance(raw, str) and raw.upper() in self.exceptions:
                    code = parse_code(raw, allow_bad_checksum=True)
                else:
                    code = parse_code(raw)
            except ValidationError as error:
                self.error(number, code_key, error.messages[0])

        name = squeeze(_cell_text(self.cell(cells, "name")))
        if not name:
            self.error(number, "name", "名称为空。")
        elif code is not None:
            self.check_name(number, code.value, name)

        basis = squeeze(_cell_text(self.cell(cells, "basis")))
        target_id = self.targets.resolve(basis)
        if not basis:
            self.error(
                number, "basis", "列入依据为空：应填备忘录文号或名单类别（如 失信被执行人）。"
            )
        elif target_id is None:
            self.error(
                number, "basis", f"“{basis}”既不是清单中备忘录的文号，也不是已有的名单类别。"
            )

        listed_on = expires_on = None
        raw_listed = self.cell(cells, "listed_on")
        if raw_listed is None or not _cell_text(raw_listed):
            self.error(number, "listed_on", "列入日期为空。")
        else:
            try:
                listed_on = parse_date(raw_listed)
            except ValueError as error:
                self.error(number, "listed_on", str(error))
        raw_expiry = self.cell(cells, "expires_on")
        if raw_expiry is not None and _cell_text(raw_expiry):
            try:
                expires_on = parse_date(raw_expiry)
            except ValueError as error:
                self.error(number, "expires_on", str(error))
        if listed_on and expires_on and expires_on < listed_on:
            self.error(number, "expires_on", f"有效期至 {expires_on} 早于列入日期 {listed_on}。")
        life = self.life(cells, listed_on.isoformat() if listed_on else None, number)

        if errors.count > errors_before:
            return None
        escape = self.escape
        return (
            code.value,
            code.kind,
            escape(name[:200]),
            target_id,
            escape(squeeze(_cell_text(self.cell(cells, "source")))[:100]),
            escape(squeeze(_cell_text(self.cell(cells, "reason")))[:300]),
            listed_on.isoformat(),
            expires_on.isoformat() if expires_on else None,
            *life,
        )

    # --- the quick path: what ``row`` would say, remembered per cell value ---

    def _target(self, raw) -> int:
        """The target subject a 列入依据 cell names; 0 for ``row`` to explain."""
        if isinstance(raw, str) and len(raw) > MAX_CELL:
            return 0
        return self.targets.resolve(squeeze(_cell_text(raw))) or 0

    @staticmethod
    def _date(raw) -> str:
        """A 列入日期 as ISO text; "" for ``row`` to explain."""
        if isinstance(raw, str) and len(raw) > MAX_CELL:
            return ""
        try:
            return parse_date(raw).isoformat()
        except ValueError:
            return ""

    @staticmethod
    def _expiry(raw) -> str | None | bool:
        """A 有效期至 as ISO text, None when empty; False for ``row`` to explain."""
        if isinstance(raw, str) and len(raw) > MAX_CELL:
            return False
        if raw is None or not _cell_text(raw):
            return None
        try:
            return parse_date(raw).isoformat()
        except ValueError:
            return False

    def _text(self, raw, limit: int) -> str | None:
        """A source or reason as ``row`` writes it; None when it is too long."""
        if type(raw) is str and _plain(raw):
            return raw[:limit] if len(raw) <= MAX_CELL else None
        if isinstance(raw, str) and len(raw) > MAX_CELL:
            return None
        return self.escape(squeeze(_cell_text(raw))[:limit])

    def _source(self, raw) -> str | None:
        return self._text(raw, 100)

    def validated(self, rows: Iterable[tuple[int, list]], result: SubjectImportResult):
        """Yield (new subject?, the subject's index in the file, *Row) for
        every row to write; a listing the file repeats (same subject, list
        and date listed) is written once, as its first row says.

        The quick path is written out in this loop, not called, because it
        runs a million times: it accepts a row only when each cell is already
        in the form ``row`` would give it (a canonical code that passes, a
        plain name and reason, a 列入依据 / date / source seen before);
        otherwise ``row`` decides.  Both give the same values.
        """
        columns = self.columns
        code_columns = [columns[k] for k in CODE_KEYS if k in columns]
        first_code = code_columns[0] if len(code_columns) == 1 else None
        name_at, basis_at, listed_at = columns["name"], columns["basis"], columns["listed_on"]
        expires_at, source_at = columns.get("expires_on"), columns.get("source")
        reason_at = columns.get("reason")
        width = max(columns.values()) + 1
        subjects, repeats = self.subjects, self.repeats
        targets, dates, expiries, sources = self._basis, self._dates, self._expiries, self._sources
        remembered, text = self._remembered, self._text
        repealed, repealed_rows = self.targets.repealed, self.repealed_rows
        errors = self.errors

        for number, cells in rows:
            row = None
            if len(cells) >= width:
                if first_code is not None:
                    code = cells[first_code]
                else:
                    code = self._first_code(cells, code_columns)
                name = cells[name_at]
                kind = quick_kind(code)
                if (
                    kind is not None
                    and type(name) is str
                    and 0 < len(name) <= MAX_CELL
                    and name.isprintable()
                    and " " not in name
                    and "\\" not in name
                ):
                    raw = cells[basis_at]
                    target = targets.get(raw) or remembered(targets, raw, self._target)
                    if target in repealed:
                        repealed_rows[target].add(number)
                    raw = cells[listed_at]
                    listed = dates.get(raw) or remembered(dates, raw, self._date)
                    expires = None
                    if expires_at is not None:
                        raw = cells[expires_at]
                        expires = expiries.get(raw, _MISSING)
                        if expires is _MISSING:
                            expires = remembered(expiries, raw, self._expiry)
                    source = reason = ""
                    if source_at is not None:
                        raw = cells[source_at]
                        source = sources.get(raw, _MISSING)
                        if source is _MISSING:
                            source = remembered(sources, raw, self._source)
                    if reason_at is not None:
                        reason = cells[reason_at]
                        if (
                            type(reason) is str
                            and len(reason) <= MAX_CELL
                            and reason.isprintable()
                            and " " not in reason
                            and "\\" not in reason
                        ):
                            reason = reason[:300]
                        else:
                            reason = text(reason, 300)
                    life = self.life(cells, listed) if self.has_life and listed else NO_LIFE
                    if (
                        target
                        and listed
                        and life is not None
                        and source is not None
                        and reason is not None
                        and (expires is None or (expires and expires >= listed))
                    ):
                        seen = subjects.get(code)
                        if seen is None:
                            index = len(subjects)
                            subjects[code] = (index, name, number, target, listed)
                            result.rows += 1
                            if not errors.count:
                                yield (
                                    True, index, code, kind, name[:200], target, source, reason,
                                    listed, expires, *life,
                                )  # fmt: skip
                            continue
                        if seen[1] == name:  # else ``row`` names the conflict
                            row = (
                                code, kind, name[:200], target, source, reason, listed, expires,
                                *life,
                            )  # fmt: skip
            if row is None:
                if not any(_cell_text(cell) for cell in cells):
                    continue
                result.rows += 1
                row = self.row(number, cells)
                if row is None or errors.count:
                    continue
                if row[3] in repealed:
                    repealed_rows[row[3]].add(number)
                seen = subjects[row[0]]
                if seen[2] == number:
                    subjects[row[0]] = (seen[0], seen[1], number, row[3], row[6])
                    yield (True, seen[0], *row)
                    continue
            else:
                result.rows += 1
                if errors.count:
                    continue
            # A subject seen before: a listing of its own, unless the file
            # repeats one (same list, same date listed).
            key = (row[3], row[6])
            keys = repeats.get(row[0])
            if keys is None:
                keys = repeats[row[0]] = {(seen[3], seen[4])}
            if key in keys:
                continue
            keys.add(key)
            yield (False, seen[0], *row)

    @staticmethod
    def _first_code(cells: list, code_columns: list[int]):
        """The first non-empty code cell, for the quick path; None when a
        cell is not plain text or too long (``row`` looks at those)."""
        found = ""
        for index in code_columns:
            value = cells[index]
            if type(value) is not str or len(value) > MAX_CELL:
                return None
            if value and not found:
                found = value
        return found

    def _remembered(self, cache: dict, raw, compute):
        """compute(raw), remembered in ``cache``; cells other than text are
        keyed by their type too (the int 20240131 and the float 20240131.0
        are equal keys but different cells)."""
        key = raw if type(raw) is str else (type(raw), raw)
        value = cache.get(key, _MISSING)
        if value is _MISSING:
            value = compute(raw)
            if len(cache) < self._CACHE_LIMIT:
                cache[key] = value
        return value

    def raise_errors(self) -> None:
        self.errors.raise_if_any()
