"""Finding subjects by code or by a part of the name."""

import re
from dataclasses import dataclass

from django.db.models import QuerySet

from memo_registry.text import squeeze
from subjects.codes import compact
from subjects.models import Subject

MAX_QUERY = 100
_CODE_LIKE = re.compile(r"^[0-9A-Z]{18}$")


@dataclass
class SubjectSearch:
    query: str
    results: QuerySet
    by_code: bool = False
    prefix_only: bool = False  # one- or two-character queries match name starts

    @property
    def note(self) -> str:
        if self.prefix_only:
            return (
                "查询只有一两个字，只匹配以它开头的名称；输入三个字以上可按名称中的任意部分查找。"
            )
        return ""


def search_subjects(raw_query: str) -> SubjectSearch:
    """A full 18-character code finds that subject; other text is a part of
    the name.  On PostgreSQL the name search uses the trigram index
    (subjects/migrations/0003), which serves queries of three characters or
    more; shorter ones match the start of the name (a b-tree prefix scan)."""
    query = squeeze(raw_query)[:MAX_QUERY]
    subjects = Subject.objects.order_by("name", "code")
    if not query:
        return SubjectSearch(query, subjects.none())
    code = compact(query)
    if _CODE_LIKE.match(code):
        return SubjectSearch(query, subjects.filter(code=code), by_code=True)
    if len(query) < 3:
        return SubjectSearch(query, subjects.filter(name__startswith=query), prefix_only=True)
    return SubjectSearch(query, subjects.filter(name__contains=query))
