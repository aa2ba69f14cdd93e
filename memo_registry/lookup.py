"""Which measures apply when a subject is put on a listing: one answer for the page and the API.

A clerk names the kind of listing ("失信被执行人", "海关失信企业", or a word
of it, or its pinyin initials); the answer is every memorandum of the list
(by default the current one) that is in force and whose target subject
matches, with its measures and their divisions, or its statement that the
bureau has no relevant function.

Matching, best first:

1. ``label``: the target subject's short label is the query;
2. ``label_contains``: the label contains the query;
3. ``initials``: the label's pinyin initials contain the query (``sxbzxr``);
4. ``definition``: only the definition text contains it.

Repealed memos are never an answer: nothing is done under them any more.
The whole answer costs a fixed number of queries.
"""

from dataclasses import dataclass, field

from django.db.models import Q

from memo_registry.queries import memos_with_relations
from memo_registry.search import (
    clean_query,
    contains_any,
    ids_by_initials,
    initials,
    initials_query,
    query_forms,
)
from memo_registry.text import search_key
from memos.models import Memorandum, ResponsibilityList
from subjects.models import TargetSubject

MATCH_LABELS = {
    "label": "名单名称相同",
    "label_contains": "名单名称含查询词",
    "initials": "名单名称的拼音首字母",
    "definition": "奖惩对象的定义含查询词",
}
_RANK = {name: rank for rank, name in enumerate(MATCH_LABELS)}


@dataclass
class LookupMatch:
    memo: Memorandum
    match: str  # a key of MATCH_LABELS

    @property
    def match_label(self) -> str:
        return MATCH_LABELS[self.match]

    @property
    def divisions(self) -> list:
        """The divisions responsible for any of the memo's measures, each once, in order."""
        seen: dict = {}
        for measure in self.memo.measures.all():
            for division in measure.divisions.all():
                seen.setdefault(division.pk, division)
        return list(seen.values())


@dataclass
class LookupAnswer:
    query: str  # as searched for: cleaned and cut to length
    responsibility_list: ResponsibilityList | None
    matches: list[LookupMatch] = field(default_factory=list)

    @property
    def memos(self) -> list[Memorandum]:
        return [match.memo for match in self.matches]

    @property
    def exact(self) -> list[LookupMatch]:
        """The memos whose label is the query itself."""
        return [match for match in self.matches if match.match == "label"]

    @property
    def others(self) -> list[LookupMatch]:
        return [match for match in self.matches if match.match != "label"]

    @property
    def count(self) -> int:
        return len(self.matches)


def _in_force(responsibility_list: ResponsibilityList | None):
    return Memorandum.objects.filter(
        responsibility_list=responsibility_list, status=Memorandum.Status.IN_FORCE
    )


def _match_kind(query_key: str, letters: str, subject: TargetSubject) -> str:
    label_key = search_key(subject.label)
    if label_key == query_key:
        return "label"
    if query_key in label_key:
        return "label_contains"
    if letters and letters in initials(subject.label):
        return "initials"
    return "definition"


def measures_for_listing(
    query: str | None, responsibility_list: ResponsibilityList | None = None
) -> LookupAnswer:
    """The memos, with their measures and divisions, that apply to a subject on ``query``'s listing.

    ``responsibility_list`` defaults to the current list.  An empty query
    (after cleaning) matches nothing.
    """
    query = clean_query(query)
    if responsibility_list is None:
        responsibility_list = ResponsibilityList.current()
    answer = LookupAnswer(query=query, responsibility_list=responsibility_list)
    if not query or responsibility_list is None:
        return answer

    memos = _in_force(responsibility_list)
    condition = contains_any(
        ["target_subject__label", "target_subject__definition"], query_forms(query)
    )
    letters = initials_query(query)
    if letters:
        labels = (
            TargetSubject.objects.filter(memos__in=memos.values("pk"))
            .distinct()
            .values_list("pk", "label")
        )
        condition |= Q(target_subject_id__in=ids_by_initials(labels, letters))

    query_key = search_key(query)
    matches = [
        LookupMatch(memo=memo, match=_match_kind(query_key, letters, memo.target_subject))
        for memo in memos_with_relations(memos.filter(condition))
    ]
    matches.sort(key=lambda match: (_RANK[match.match], match.memo.seq))
    answer.matches = matches
    return answer


def listing_labels(
    responsibility_list: ResponsibilityList | None,
) -> list[tuple[str, list[str]]]:
    """The labels staff choose from, grouped by kind, in the list's order.

    ``[("激励", ["纳税信用A级纳税人", …]), ("惩戒", [...])]``; a label shared by
    several memos appears once.
    """
    if responsibility_list is None:
        return []
    rows = (
        _in_force(responsibility_list).order_by("seq").values_list("kind", "target_subject__label")
    )
    groups: dict[str, list[str]] = {kind: [] for kind in Memorandum.Kind.values}
    for kind, label in rows:
        if label not in groups[kind]:
            groups[kind].append(label)
    return [(Memorandum.Kind(kind).label, labels) for kind, labels in groups.items() if labels]
