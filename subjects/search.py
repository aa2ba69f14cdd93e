"""Finding subjects by code or by a part of the name."""

import re
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from memo_registry.lib.sorting import natural_key
from memo_registry.lib.text import squeeze
from subjects.codes import Code, compact, parse_leniently
from subjects.models import Listing, Subject

MAX_QUERY = 100
# Text that is meant as a code: letters and digits only, about 18 of them.
# A code one character short or long is a mistyped code, not a name, and is
# answered with what is wrong with it.
_CODE_ATTEMPT = re.compile(r"^[0-9A-Z]{15,20}$")
_CODE_TOKEN = re.compile(r"[0-9A-Za-z０-９Ａ-Ｚａ-ｚ]{15,20}")


@dataclass
class SubjectSearch:
    query: str
    results: QuerySet
    by_code: bool = False
    prefix_only: bool = False  # one- or two-character queries match name starts
    code: Code | None = None  # the code searched for, when it is one
    code_error: str = ""  # why the code typed is not a valid code
    several_codes: bool = False  # two or more codes pasted: that is a batch check

    @property
    def may_be_identity(self) -> bool:
        """An identity number, or a mistyped one (17 digits first: a credit
        code has letters in its first 17 places but rarely none).  Such a
        query must not travel in a URL."""
        if self.code is not None:
            return self.code.kind == Subject.Kind.PERSON
        return bool(self.code_error) and compact(self.query)[:17].isdigit()

    @property
    def note(self) -> str:
        if self.prefix_only:
            return (
                "查询只有一两个字，只匹配以它开头的名称；输入三个字以上可按名称中的任意部分查找。"
            )
        return ""


def search_subjects(raw_query: str | None) -> SubjectSearch:
    """A full 18-character code finds that subject; other text is a part of
    the name.  On PostgreSQL the name search uses the trigram index
    (subjects/migrations/0003), which serves queries of three characters or
    more; shorter ones match the start of the name (a b-tree prefix scan).

    A code whose check character (or length, or characters) is wrong is never
    searched for: ``code_error`` says what is wrong, so that a typo is not
    answered "not on record"."""
    # Cut before normalizing, so a huge query costs no more than a long one.
    query = squeeze((raw_query or "")[: MAX_QUERY * 4])[:MAX_QUERY]
    subjects = Subject.objects.order_by("name", "code")
    if not query:
        return SubjectSearch(query, subjects.none())
    if len(set(map(compact, _CODE_TOKEN.findall(query)))) > 1:
        return SubjectSearch(query, subjects.none(), several_codes=True)
    text = compact(query)
    if _CODE_ATTEMPT.match(text):
        code, error = parse_leniently(text)
        if code is None:
            return SubjectSearch(query, subjects.none(), code_error=error)
        # A pilot code an administrator registered as an exception is found
        # although its check character fails.
        if error and not subjects.filter(code=code.value, checksum_exception=True).exists():
            return SubjectSearch(query, subjects.none(), code=code, code_error=error)
        return SubjectSearch(query, subjects.filter(code=code.value), by_code=True, code=code)
    if len(query) < 3:
        return SubjectSearch(query, subjects.filter(name__startswith=query), prefix_only=True)
    return SubjectSearch(query, subjects.filter(name__contains=query))


def in_natural_order(results: QuerySet) -> list[int]:
    """The ids of ``results``, names in natural order (第5 before 第10), then by code.

    Sorted here, as no database sorts numbers inside text by value; only ids,
    names and codes are read."""
    rows = results.order_by().values_list("pk", "name", "code")
    return [pk for pk, _, _ in sorted(rows, key=lambda row: (natural_key(row[1]), row[2]))]


def with_listed(ids: list[int], on) -> list[Subject]:
    """The subjects of ``ids`` in that order, each with ``listed``: whether
    any listing of it is in force on the day ``on``.  One query."""
    in_force = Listing.objects.in_force(on).filter(subject=OuterRef("pk"))
    subjects = Subject.objects.filter(pk__in=ids).annotate(listed=Exists(in_force))
    by_id = {subject.pk: subject for subject in subjects}
    return [by_id[pk] for pk in ids if pk in by_id]
