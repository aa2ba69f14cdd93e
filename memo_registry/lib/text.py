"""The text rules of the registry, in one place.

Everything that reaches the registry from a PDF conversion or a spreadsheet
passes through these functions: the importer, the admin forms and the search
all call them, so a name typed in the admin and the same name in a file end
up identical.  This module imports nothing from the apps.
"""

import re
import unicodedata

# Han ideographs, CJK punctuation, full-width forms: where a space between two
# characters is an artefact of a PDF conversion, never meaningful.
_CJK = (
    "\u2e80-\u2fff"  # radicals
    "\u3000-\u303f"  # CJK symbols and punctuation (、。〔〕《》…)
    "\u3040-\u30ff"  # kana
    "\u3400-\u4dbf"  # extension A
    "\u4e00-\u9fff"  # unified ideographs
    "\uf900-\ufaff"  # compatibility ideographs
    "\ufe30-\ufe4f"  # compatibility forms
    "\ufe50-\ufe6f"  # small forms (﹝﹞)
    "\uff00-\uffef"  # full-width forms (（），：；)
    "\u201c\u201d\u2018\u2019"  # curly quotes used in Chinese text
    "\u2014\u2026"  # dash and ellipsis
)
_WS = r"[ \t\u00a0\u2002-\u200b\u3000]"
_IS_CJK = re.compile(rf"[{_CJK}]")
_RUN_OF_SPACES = re.compile(rf"{_WS}+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PARAGRAPH_TAG = re.compile(r"</?p\s*>", re.IGNORECASE)


def strip_control(text: str) -> str:
    """Remove control characters other than tab and newlines."""
    return _CONTROL.sub("", text)


def squeeze(text: str | None) -> str:
    """One line of text as a person would type it.

    Spaces next to a Chinese character are dropped (``市 国 税 局`` →
    ``市国税局``, ``纳税信用 A 级`` → ``纳税信用A级``); other runs of spaces
    become one; line breaks become nothing between Chinese characters and a
    space elsewhere.
    """
    if text is None:
        return ""
    text = strip_control(str(text)).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\n", " ")
    return _RUN_OF_SPACES.sub(_squeezed_run, text).strip()


def _squeezed_run(match: re.Match) -> str:
    # Each maximal run of spaces is matched once (so the whole pass is linear)
    # and becomes "" or " ".  This gives exactly what the former two passes
    # gave (drop every part of a run that a lookahead/lookbehind found next to
    # CJK, then collapse what is left), whose backtracking made a long run of
    # spaces quadratic.  U+3000 is both a space and CJK: a run ending before
    # CJK goes; otherwise the run's last U+3000 (or, with none, its start)
    # decides, by whether the character before it is CJK.
    text, start, end = match.string, match.start(), match.end()
    if end < len(text) and _IS_CJK.match(text, end):
        return ""
    last_ideographic = match.group().rfind("\u3000")
    before = start + last_ideographic - 1 if last_ideographic > 0 else start - 1
    return "" if before >= 0 and _IS_CJK.match(text, before) else " "


# How much of a raw text :func:`squeeze_to` reads per character it keeps:
# enough for text spaced out by a PDF conversion (``市 国 税 局``).
RAW_CHARS_PER_CHAR = 4


# A half-width comma or pair of brackets inside Chinese text: what a PDF
# conversion leaves where the document prints full-width ones.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_COMMA_IN_CHINESE = re.compile(rf"(?<=[{_HAN}]),(?=[{_HAN}])")
_BRACKETS_IN_CHINESE = re.compile(rf"(?<=[{_HAN}])\(([^()]*[{_HAN}][^()]*)\)")


def chinese_punctuation(text: str) -> str:
    """Half-width punctuation inside Chinese text made full-width, as Chinese
    documents print it (GB/T 15834): a comma between two Chinese characters
    (``对象,加大`` → ``对象，加大``), brackets after a Chinese character around
    Chinese text (``法定代表人(负责人)`` → ``法定代表人（负责人）``).  Numbers,
    Latin text and a 文号's year (``发改财金(2016)``, see
    :func:`canonical_doc_number`) are left as they are."""
    text = _COMMA_IN_CHINESE.sub("，", text)
    return _BRACKETS_IN_CHINESE.sub(r"（\1）", text)


def squeeze_to(text: str | None, limit: int) -> str:
    """:func:`squeeze`, cut to ``limit`` characters.

    The raw text is cut to ``RAW_CHARS_PER_CHAR * limit`` characters first, so
    a query string of megabytes costs no more than one of a few hundred
    characters; then it is squeezed, cut to ``limit``, and squeezed again (the
    cut may leave a space at the end).
    """
    if text is None:
        return ""
    return squeeze(squeeze(str(text)[: limit * RAW_CHARS_PER_CHAR])[:limit])


def squeeze_lines(text: str | None) -> list[str]:
    """The non-empty lines of a cell, each squeezed."""
    if text is None:
        return []
    text = strip_control(str(text)).replace("\r\n", "\n").replace("\r", "\n")
    lines = (squeeze(line) for line in text.split("\n"))
    return [line for line in lines if line]


def search_key(text: str | None) -> str:
    """The form in which text is compared when searching.

    NFKC folds full-width letters, digits and brackets to their ASCII forms,
    whitespace disappears and Latin letters are lower-cased, so ``Ａ级``,
    ``a 级`` and ``A级`` all match.  Han has no case.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", strip_control(str(text)))
    return re.sub(r"\s+", "", text).lower()


# --- document numbers (文号) ----------------------------------------------

_OPEN = "(（[［【〔﹝〖<＜《"
_CLOSE = ")）]］】〕﹞〗>＞》"
_YEAR_IN_BRACKETS = re.compile(rf"[{re.escape(_OPEN)}]\s*((?:19|20)\d\d)\s*[{re.escape(_CLOSE)}]")


def canonical_doc_number(text: str | None) -> str:
    """A document number (文号) in the form of GB/T 9704: year in 〔〕.

    ``发改财金 （ 2016 ） 1467 号``, ``发改财金(2016)1467号`` and
    ``发改财金【2016】1467号`` all become ``发改财金〔2016〕1467号``.
    Full-width digits are folded to ASCII and all whitespace is removed.
    """
    if not text:
        return ""
    text = strip_control(str(text))
    text = text.translate(_FULLWIDTH_DIGITS)
    text = re.sub(r"\s+", "", text)
    return _YEAR_IN_BRACKETS.sub(r"〔\1〕", text)


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


# --- cells that hold several items ------------------------------------------

_DEPARTMENT_SEPARATORS = re.compile(r"[、，,;；\n]+")
# The level prefix that a list of departments may state once for all of them
# (``市国税局、地税局`` = 市国税局 and 市地税局).
_LEVEL_PREFIXES = ("市", "省", "区", "县")


def split_departments(text: str | None) -> list[str]:
    """The departments named in one cell, in order, without duplicates.

    Separators are 、 ， , ; ； and new lines; a space is not a separator
    (``市委 农委`` is one department).  When the first name starts with a
    level prefix (市, 省, 区, 县) and a later, short name carries no level
    at all (``地税局``), it shares the first one's prefix, as Chinese lists
    of departments do.
    """
    names = split_names(text)
    if names and names[0].startswith(_LEVEL_PREFIXES):
        prefix = names[0][0]
        names = names[:1] + [prefix + name if _lacks_level(name) else name for name in names[1:]]
    # dict keeps the order; a list's ``in`` would be quadratic in the names.
    return list(dict.fromkeys(names))


def split_names(text: str | None) -> list[str]:
    """The names listed in one cell, in order, without duplicates.

    Separators are 、 ， , ; ； and new lines, never a space or 和
    (``有关业务处室和直属机构`` is one name).  Unlike
    :func:`split_departments` no prefix is shared: ``人事处、法规处``.
    """
    if not text:
        return []
    raw = str(text).replace("\r", "\n")
    names = [squeeze(part) for part in _DEPARTMENT_SEPARATORS.split(raw)]
    # dict keeps the order; a list's ``in`` would be quadratic in the names.
    return [name for name in dict.fromkeys(names) if name]


def _lacks_level(name: str) -> bool:
    return (
        len(name) <= 4
        and name.endswith(("局", "委", "办", "厅"))
        and not any(level in name for level in (*_LEVEL_PREFIXES, "国", "中", "团"))
    )


def split_paragraphs(text: str | None) -> list[str]:
    """The lines of a cell, ``<p>…</p>`` paragraphs counting as lines."""
    if text is None:
        return []
    text = _PARAGRAPH_TAG.sub("\n", str(text))
    return squeeze_lines(text)


_NUMBER = re.compile(r"(?:^|(?<=[\s。；;，,]))(\d{1,2})[、.．](?!\d)")
# The number that opens a line.  After 、 a digit may follow (``1、10年内…``
# is item 1); after a dot it may not (``1.5`` is a decimal).
_OPENING_NUMBER = re.compile(r"^\s*(\d{1,2})(?:、|[.．](?!\d))")


def split_numbered(text: str | None) -> list[str]:
    """Split a cell into its items: paragraphs, lines, or ``1、… 2、…``.

    Numbering splits only in sequence (1, 2, 3 …) and only at the start of
    the cell or after a space or a sentence end, so ``生产、经营`` or a
    ``10年`` inside a sentence never splits.  The numbers are dropped; their
    order is kept as the order of the list.
    """
    items: list[str] = []
    for line in _raw_lines(text):
        items.extend(_split_line_by_numbers(line))
    return [item for item in items if item]


def _raw_lines(text: str | None) -> list[str]:
    # Numbering is found before the line is squeezed: squeezing would drop
    # the space that separates ``1、甲措施 2、乙措施``.
    if text is None:
        return []
    text = strip_control(_PARAGRAPH_TAG.sub("\n", str(text)))
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [line.strip() for line in lines if squeeze(line)]


def _split_line_by_numbers(line: str) -> list[str]:
    opening = _OPENING_NUMBER.match(line)
    if not opening:
        return [squeeze(line)]  # numbering counts only when it opens the line
    pieces: list[str] = []
    expected = int(opening.group(1)) + 1
    text_start = opening.end()
    for match in _NUMBER.finditer(line, opening.end()):
        if int(match.group(1)) != expected:
            continue
        before = line[text_start : match.start()].strip()
        if before:
            pieces.append(before)
        text_start = match.end()
        expected += 1
    rest = line[text_start:].strip()
    if rest:
        pieces.append(rest)
    return [squeeze(piece) for piece in pieces]


def leading_number(text: str) -> int | None:
    """The ``N`` of a text that starts with ``N、``, else None."""
    match = _OPENING_NUMBER.match(text or "")
    return int(match.group(1)) if match else None


def without_leading_number(text: str | None) -> str:
    """A measure's text without the ``N、`` typed before it: the list numbers
    measures by their order, so ``1、依法限制…`` would show as ``1、1、依法…``."""
    return squeeze(_OPENING_NUMBER.sub("", text or "", count=1))


# --- the short label of a target subject -------------------------------------

_LABEL_CUTS = ("守信联合", "失信联合", "协同监管", "实施", "开展", "联合激励", "联合惩戒")
_LABEL_TAILS = ("及其有关人员", "及其相关人员", "及有关人员", "的", "和", "等")


def label_from_title(title: str) -> str:
    """The short name of the subjects a memorandum's title targets.

    ``关于对海关失信企业实施联合惩戒的合作备忘录`` → ``海关失信企业``:
    the words before the action (实施/开展 … 联合激励/联合惩戒), without
    the opening 关于/对 and a trailing 及其有关人员.  A title of another
    shape gives itself back, for an editor to shorten in the admin.
    """
    title = squeeze(title)
    rest = title
    if rest.startswith("关于"):
        rest = rest[2:]
    if rest.startswith(("对", "实施")):
        rest = rest[1:] if rest.startswith("对") else rest[2:]
    cuts = [rest.find(word) for word in _LABEL_CUTS if rest.find(word) >= 2]
    if not cuts:
        return title[:100]
    label = rest[: min(cuts)]
    # Tails are cut by moving an end index, not by slicing a new string each
    # time: a title of thousands of 的 must not cost a copy per 的.
    end = len(label)
    changed = True
    while changed:
        changed = False
        for tail in _LABEL_TAILS:
            if label.endswith(tail, 0, end) and end > len(tail) + 1:
                end -= len(tail)
                changed = True
    return label[:end][:100]


# --- cells a spreadsheet would run as a formula ------------------------------

# OWASP's advice against CSV injection: a cell starting with one of these is
# a formula to Excel, LibreOffice and Google Sheets.  The guard is for files
# whose cells have no type (CSV): an xlsx string cell is text to every
# spreadsheet, and an apostrophe written into it would only show.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_INERT_PREFIX = "'"

# What else may come first and still make a formula.  Measured with
# LibreOffice Calc 7.4 (Debian 12) opening a CSV: with its default options only
# a cell starting with "=" runs; with "Trim spaces" ticked in its CSV import
# dialog (a user's choice, and remembered) " =1+1" runs too.  It left
# full-width ＝, ＋, a leading zero-width space or BOM, and + - @ as text.
# Excel runs = + - @ at the start of a cell (OWASP); whether its Chinese and
# Japanese editions, which accept full-width signs typed through an IME, also
# fold them when opening a CSV could not be tried here, and what a future
# version of any program trims or folds cannot be tried at all.  So the guard
# is wider than any single program: after any run of characters one cannot
# see or that a spreadsheet may trim (white space, zero-width and other format
# characters such as U+200B and the BOM, control characters), a character
# whose NFKC form is = + - or @ (＝ ＋ － ＠, the small forms ﹦ ﹢ ﹣ ﹫, ⁼ ₊ …)
# makes the cell formula-like, and so does a leading tab or CR whatever follows.  The cost of
# a wrong guess is one apostrophe, which the import takes off again.
_FORMULA_SIGNS = frozenset("=+-@")
_INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def looks_like_formula(text: str) -> bool:
    """Whether some spreadsheet could run the cell ``text`` as a formula."""
    if text[:1] in FORMULA_TRIGGERS:
        return True
    for char in text:
        if char.isspace() or unicodedata.category(char) in _INVISIBLE:
            continue
        return unicodedata.normalize("NFKC", char)[:1] in _FORMULA_SIGNS
    return False


def _has_inert_prefix(text: str) -> bool:
    return text[:1] == _INERT_PREFIX and (
        text[1:2] == _INERT_PREFIX or looks_like_formula(text[1:])
    )


def make_formula_inert(text: str) -> str:
    """The text as a spreadsheet cell that no spreadsheet runs as a formula.

    A text that :func:`looks_like_formula` (``=``, ``+``, ``-``, ``@`` in any
    width, possibly after spaces or invisible characters; a leading tab or
    carriage return) gets an apostrophe in front (``=HYPERLINK(…)`` →
    ``'=HYPERLINK(…)``, `` ＝1+1`` → ``' ＝1+1``).  A text that already starts
    with an apostrophe before such a text, or before another apostrophe, gets
    one more, so that :func:`undo_formula_inert` gives every text back exactly.
    """
    if looks_like_formula(text) or _has_inert_prefix(text):
        return _INERT_PREFIX + text
    return text


def undo_formula_inert(text: str) -> str:
    """The text :func:`make_formula_inert` was given (``'=SUM(1)`` → ``=SUM(1)``)."""
    return text[1:] if _has_inert_prefix(text) else text


def escape_inert_prefix(text: str) -> str:
    """The text for a cell that has a type, such as an xlsx string cell.

    A string cell is never run as a formula, so it needs no apostrophe: the
    text goes as it is, ``=1+1`` included.  Only a text that starts with what
    :func:`undo_formula_inert` takes off (an apostrophe before a formula-like
    text or before another apostrophe) gets one more, because the import
    undoes the guard in every file it reads: ``'=1`` → ``''=1``, read back as
    ``'=1``.
    """
    return _INERT_PREFIX + text if _has_inert_prefix(text) else text


# --- what a cell of the list says --------------------------------------------

NO_FUNCTION_MARK = "无相关职能"


def says_no_function(text: str | None) -> bool:
    """Whether a measures cell says the bureau has no relevant function.

    ``我市质监部门无相关职能``, also when a PDF conversion spaced it out
    (``无 相 关 职 能``).
    """
    return NO_FUNCTION_MARK in squeeze(text)


_REWARD_WORDS = {"激励", "奖励", "守信激励", "守信联合激励", "reward"}
_PUNISHMENT_WORDS = {"惩戒", "失信惩戒", "失信联合惩戒", "punishment"}


def kind_from_word(text: str | None) -> str | None:
    """The kind a 类型 cell names: ``"reward"``, ``"punishment"``, or None.

    激励, 奖励, 守信激励 are rewards; 惩戒, 失信惩戒 punishments.
    """
    key = search_key(text)
    if key in _REWARD_WORDS:
        return "reward"
    if key in _PUNISHMENT_WORDS:
        return "punishment"
    return None


def kind_from_title(title: str | None) -> str | None:
    """The kind a memorandum's title says: 激励 → reward, 惩戒 → punishment.

    None when the title says neither, or both.
    """
    title = squeeze(title)
    reward, punishment = "激励" in title, "惩戒" in title
    if reward == punishment:
        return None
    return "reward" if reward else "punishment"
