"""Searching memoranda by a word a clerk types: Chinese substrings and pinyin initials.

One search for every page and the API (``memo_registry.services.memos.MemoFilterSet``
and ``memo_registry.services.lookup`` call it).  The text rules come from
``memo_registry.lib.text``:

- the query is cleaned like any other text (control characters dropped,
  spaces next to Chinese dropped) and cut to ``MAX_QUERY_LENGTH``;
- stored text is squeezed but not NFKC-folded and mixes half- and full-width
  punctuation, so the query as typed, its folded form (``search_key``:
  full-width ``Ａ`` → ``a``, ``（`` → ``(``) and its form with full-width
  punctuation are looked for, and a 文号 is looked for in its canonical form
  (``发改财金(2016)141号`` finds ``发改财金〔2016〕141号``);
- a query of ASCII letters only (``sxbzxr``) also matches the pinyin initials
  of the short texts staff know a memo by (target-subject label, title,
  departments, divisions: 失信被执行人 → ``sxbzxr``).  Initials are computed
  in Python over those few, short texts (cached per text) and turned into
  ids, so a search costs the same queries for ten memos or a thousand.

Han has no case; ``icontains`` only matters for Latin letters (``a级`` finds
``A级``).  Tables are small (a list is tens of memos), so no index is needed.
"""

import functools
import re
from collections.abc import Iterable

from django.db.models import Q, QuerySet, Value
from pypinyin import Style, lazy_pinyin

from memo_registry.lib.text import canonical_doc_number, search_key, squeeze_to

# Longer input is cut, not refused: nobody searches with a paragraph, and a
# pasted one must still give a normal page.
MAX_QUERY_LENGTH = 100

# Fewer letters than this match too much to be meant as initials.
MIN_INITIALS = 2

_LETTERS_ONLY = re.compile(r"^[a-z]+$")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def clean_query(raw: str | None) -> str:
    """The query as searched for: squeezed (no control characters) and cut to length.

    Cut before it is squeezed too (``squeeze_to``): a pasted megabyte costs no
    more than a long line.
    """
    return squeeze_to(raw, MAX_QUERY_LENGTH)


# The reverse of NFKC for the punctuation the documents mix: stored text keeps
# the document's full-width brackets and commas, a clerk types half-width ones.
_FULL_WIDTH_PUNCTUATION = str.maketrans("(),:;!?", "（），：；！？")


def query_forms(query: str) -> list[str]:
    """The forms of a cleaned query to look for in stored text, without duplicates.

    As typed; folded (``search_key``: full-width → half-width, lower case); with
    half-width punctuation made full-width; and as a canonical 文号.
    """
    forms = [
        query,
        search_key(query),
        query.translate(_FULL_WIDTH_PUNCTUATION),
        canonical_doc_number(query),
    ]
    unique: list[str] = []
    for form in forms:
        if form and form not in unique:
            unique.append(form)
    return unique


def contains_any(fields: Iterable[str], forms: list[str]) -> Q:
    """A Q matching rows where any of ``fields`` contains any of ``forms``."""
    condition = Q()
    for field in fields:
        for form in forms:
            condition |= Q(**{f"{field}__icontains": form})
    return condition


@functools.lru_cache(maxsize=8192)
def initials(text: str) -> str:
    """The pinyin initials of a text, lower-case, letters and digits only.

    ``失信被执行人`` → ``sxbzxr``; ``纳税信用A级纳税人`` → ``nsxyajnsr``
    (Latin letters and digits are kept as they are).
    """
    letters = lazy_pinyin(search_key(text), style=Style.FIRST_LETTER, errors="default")
    return _NOT_ALNUM.sub("", "".join(letters).lower())


@functools.lru_cache(maxsize=8192)
def pinyin_sort_key(text: str) -> tuple[str, str]:
    """A key that sorts Chinese names as a dictionary does: by pinyin, then by text."""
    return (" ".join(lazy_pinyin(text)), text)


def initials_query(query: str) -> str:
    """The query as pinyin initials, or "" when it is not one (letters only, 2 or more)."""
    key = search_key(query)
    if len(key) >= MIN_INITIALS and _LETTERS_ONLY.match(key):
        return key
    return ""


# --- forgiving matches ------------------------------------------------------------
#
# A clerk types from memory or from a colleague's note: one character wrong
# (失信被执型人), a homophone typed by pinyin (失心被执行人: the same initials as
# 失信被执行人), or an abbreviation made of the first characters of words
# (环保 for 环境保护, 市农委 for 市委农委).  Three general rules, tried on the
# short texts a memo is known by (its target's label, its title, a department's
# name) after every exact match has failed.

# Below this many characters one wrong character makes another word.
MIN_FORGIVING = 4
# An abbreviation takes a character from each word; a word has at most this many.
MAX_WORD = 3
_HAN = re.compile(r"[\u3400-\u9fff]")

FORGIVING_RULES = {
    "homophone": "拼音首字母相同（音同字不同）",
    "abbreviation": "简称（取各词首字）",
    "one_edit": "相差一个字",
}


def edit_distance_within(query: str, text: str) -> int:
    """The fewest characters to change, add or drop to make ``query`` a part of ``text``.

    The edit distance (Levenshtein) of the query to the closest substring of
    the text (Sellers' algorithm): ``失信被执型人`` is 1 from ``对失信被执行人实施…``.
    """
    previous = [0] * (len(text) + 1)  # a match may start anywhere in the text
    for i, wanted in enumerate(query, 1):
        current = [i] + [0] * len(text)
        for j, found in enumerate(text, 1):
            current[j] = min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (wanted != found)
            )
        previous = current
    return min(previous)


def abbreviates(query: str, text: str) -> bool:
    """Whether ``query`` is ``text``'s characters in order, each next one at most
    ``MAX_WORD`` characters on (one character from each word): ``环保`` in
    ``环境保护领域…``, ``市农委`` in ``市委农委``."""
    if len(query) < 2:
        return False
    starts = [i for i, char in enumerate(text) if char == query[0]]
    for start in starts:
        at, found = start, True
        for char in query[1:]:
            window = text[at + 1 : at + 1 + MAX_WORD]
            step = window.find(char)
            if step < 0:
                found = False
                break
            at += step + 1
        if found:
            return True
    return False


def forgiving_match(query: str, texts: Iterable[str]) -> str:
    """The first forgiving rule (a key of ``FORGIVING_RULES``) by which the
    Chinese ``query`` matches any of ``texts``; "" when none does."""
    query = search_key(query)
    if not _HAN.search(query):
        return ""
    texts = [search_key(text) for text in texts if text]
    if len(query) >= MIN_FORGIVING and any(initials(query) in initials(t) for t in texts):
        return "homophone"
    if any(abbreviates(query, text) for text in texts):
        return "abbreviation"
    if len(query) >= MIN_FORGIVING and any(edit_distance_within(query, t) <= 1 for t in texts):
        return "one_edit"
    return ""


# What a memo is searched by: its own fields and those of its relations.
MEMO_TEXT_FIELDS = (
    "doc_number",
    "title",
    "initiating_departments__name",
    "implementing_department__name",
    "target_subject__label",
    "target_subject__definition",
    "no_function_note",
    "measures__text",
    "measures__divisions__name",
)


def memo_condition(query: str, memos: QuerySet) -> Q:
    """A Q over Memorandum for the memos that match ``query``.

    ``memos`` is the queryset being searched; it bounds the titles and labels
    whose initials are computed.  Runs one small query for a Chinese word (the
    departments, for abbreviations of their names) and two (titles with
    labels; departments with divisions) for pinyin initials.
    """
    # Imported here: the apps import memo_registry.lib.text, and this module
    # must stay importable from anywhere without loading models.
    from measures.models import Division
    from memos.models import Department

    query = clean_query(query)
    if not query:
        return Q()
    condition = contains_any(MEMO_TEXT_FIELDS, query_forms(query))
    # An abbreviation of a department's name (市农委 for 市委农委).
    key = search_key(query)
    if _HAN.search(key):
        abbreviated = [
            pk
            for pk, name in Department.objects.values_list("pk", "name")
            if abbreviates(key, search_key(name))
        ]
        condition |= Q(initiating_departments__in=abbreviated) | Q(
            implementing_department_id__in=abbreviated
        )
    letters = initials_query(query)
    if letters:
        memo_ids = [
            pk
            for pk, title, label in memos.values_list("pk", "title", "target_subject__label")
            if letters in initials(title) or letters in initials(label)
        ]
        # Departments and divisions in one query: (pk, name, is a division).
        # (No ordering: a compound query's parts may not have one.)
        names = Department.objects.order_by().annotate(division=Value(False))
        names = names.values_list("pk", "name", "division").union(
            Division.objects.order_by()
            .annotate(division=Value(True))
            .values_list("pk", "name", "division"),
            all=True,
        )
        departments, divisions = [], []
        for pk, name, is_division in names:
            if letters in initials(name):
                (divisions if is_division else departments).append(pk)
        condition |= (
            Q(pk__in=memo_ids)
            | Q(initiating_departments__in=departments)
            | Q(implementing_department_id__in=departments)
            | Q(measures__divisions__in=divisions)
        )
    return condition


def search_memos(memos: QuerySet, query: str) -> QuerySet:
    """The memos of ``memos`` that match ``query`` (all of them for an empty query).

    The joins over departments, measures and divisions would repeat a memo
    once per matching row, so the match is a subquery of ids: no DISTINCT,
    and the caller's ordering and prefetches stay as they are.
    """
    if not clean_query(query):
        return memos
    condition = memo_condition(query, memos)
    matching = memos.model.objects.filter(condition).values("pk")
    return memos.filter(pk__in=matching)
