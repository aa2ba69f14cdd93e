"""Finding subjects by code or by a part of the name."""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from memo_registry.lib.text import squeeze
from subjects.codes import Code, compact, parse_code
from subjects.models import Subject

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
        try:
            code = parse_code(text)
        except ValidationError as strict:
            try:
                loose = parse_code(text, allow_bad_checksum=True)
            except ValidationError:
                return SubjectSearch(query, subjects.none(), code_error=strict.messages[0])
            # A pilot code an administrator registered as an exception is
            # found although its check character fails.
            exception = subjects.filter(code=loose.value, checksum_exception=True)
            if not exception.exists():
                return SubjectSearch(
                    query, subjects.none(), code=loose, code_error=strict.messages[0]
                )
            code = loose
        return SubjectSearch(query, subjects.filter(code=code.value), by_code=True, code=code)
    if len(query) < 3:
        return SubjectSearch(query, subjects.filter(name__startswith=query), prefix_only=True)
    return SubjectSearch(query, subjects.filter(name__contains=query))
