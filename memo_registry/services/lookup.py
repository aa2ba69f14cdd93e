"""Look-ups: which measures apply, by the kind of listing or by subject.
Each answer is one function that the pages, the API and the batch check call.

**By the kind of listing** (``measures_for_listing``).  A clerk names the kind of listing ("失信被执行人", "海关失信企业", or a word
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

**By subject** (``statuses_for``, ``status_for``).  A subject's listings in force on a day bring in the memoranda (of the current
list, in force) that target the same subjects; their measures apply, each
once, in the list's order.  A measure is done for the subject when a division
reported feedback on or after the earliest listing that brought it in.
Computed in a fixed number of queries for any number of subjects, so the
batch check (批量比对) of ten thousand codes costs the same few queries.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q

from measures.models import Feedback, Measure
from memo_registry.lib.text import search_key
from memo_registry.services import memo_cache
from memo_registry.services.search import (
    clean_query,
    contains_any,
    ids_by_initials,
    initials,
    initials_query,
    query_forms,
)
from memos.models import Memorandum, ResponsibilityList
from subjects.models import Listing, Subject, TargetSubject

# SQLite refuses statements with more than 32,766 parameters; stay well below.

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

    memos = Memorandum.objects.of_list(responsibility_list).in_force()
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
        for memo in memos.filter(condition).with_relations()
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
        Memorandum.objects.of_list(responsibility_list)
        .in_force()
        .order_by("seq")
        .values_list("kind", "target_subject__label")
    )
    groups: dict[str, list[str]] = {kind: [] for kind in Memorandum.Kind.values}
    for kind, label in rows:
        if label not in groups[kind]:
            groups[kind].append(label)
    return [(Memorandum.Kind(kind).label, labels) for kind, labels in groups.items() if labels]


# --- by subject ---------------------------------------------------------------

_CHUNK = 900


@dataclass
class ApplicableMeasure:
    memo: Memorandum
    measure: Measure
    divisions: list
    done: bool
    feedback: list = field(default_factory=list)


@dataclass
class SubjectStatus:
    subject: Subject
    listings: list  # every listing, newest first, each with .in_force set
    in_force: list  # the listings in force on the day
    measures: list  # ApplicableMeasure, in the list's order
    no_function_memos: list  # matched memos for which the bureau has no function
    # Repealed memos of the list that target a subject's in-force listings:
    # the page says why their measures no longer apply.
    repealed_memos: list = field(default_factory=list)

    @property
    def listed(self) -> bool:
        return bool(self.in_force)

    @property
    def memos(self) -> list:
        seen: dict[int, Memorandum] = {}
        for item in self.measures:
            seen.setdefault(item.memo.pk, item.memo)
        for memo in self.no_function_memos:
            seen.setdefault(memo.pk, memo)
        return sorted(seen.values(), key=lambda memo: memo.seq)

    @property
    def open_measures(self) -> list:
        return [item for item in self.measures if not item.done]


def _chunks(items: list, size: int = _CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def statuses_for(
    subjects: Iterable[Subject],
    on: datetime.date,
    responsibility_list: ResponsibilityList | None = None,
) -> dict[int, SubjectStatus]:
    """The status of each subject on the day ``on``, keyed by subject id."""
    subjects = list(subjects)
    if not subjects:
        return {}
    ids = [subject.pk for subject in subjects]
    listings_by_subject: dict[int, list[Listing]] = defaultdict(list)
    for chunk in _chunks(ids):
        for listing in (
            Listing.objects.filter(subject_id__in=chunk)
            .select_related("target_subject")
            .order_by("-listed_on", "-id")
        ):
            listing.in_force = listing.in_force_on(on)
            listings_by_subject[listing.subject_id].append(listing)

    target_ids = {
        listing.target_subject_id
        for listings in listings_by_subject.values()
        for listing in listings
        if listing.in_force
    }
    memos_by_target, repealed_by_target = memo_cache.in_force_and_repealed(
        target_ids, responsibility_list
    )
    feedback = _feedback(ids, memos_by_target)

    result: dict[int, SubjectStatus] = {}
    for subject in subjects:
        listings = listings_by_subject.get(subject.pk, [])
        in_force = [listing for listing in listings if listing.in_force]
        since: dict[int, datetime.date] = {}
        for listing in in_force:
            for memo in memos_by_target.get(listing.target_subject_id, []):
                since[memo.pk] = min(since.get(memo.pk, listing.listed_on), listing.listed_on)
        memos = sorted(
            {
                memo.pk: memo
                for listing in in_force
                for memo in memos_by_target.get(listing.target_subject_id, [])
            }.values(),
            key=lambda memo: memo.seq,
        )
        measures = []
        for memo in memos:
            for measure in memo.measures.all():
                reports = [
                    report
                    for report in feedback.get((subject.pk, measure.pk), [])
                    if report.done_on >= since[memo.pk]
                ]
                measures.append(
                    ApplicableMeasure(
                        memo=memo,
                        measure=measure,
                        divisions=list(measure.divisions.all()),
                        done=bool(reports),
                        feedback=reports,
                    )
                )
        result[subject.pk] = SubjectStatus(
            subject=subject,
            listings=listings,
            in_force=in_force,
            measures=measures,
            no_function_memos=[memo for memo in memos if memo.no_function],
            repealed_memos=sorted(
                {
                    memo.pk: memo
                    for listing in in_force
                    for memo in repealed_by_target.get(listing.target_subject_id, [])
                    if memo.repealed_on <= on
                }.values(),
                key=lambda memo: memo.seq,
            ),
        )
    return result


def status_for(subject: Subject, on: datetime.date) -> SubjectStatus:
    return statuses_for([subject], on)[subject.pk]


def _feedback(subject_ids: list[int], memos_by_target) -> dict[tuple[int, int], list[Feedback]]:
    measure_ids = [
        measure.pk
        for memos in memos_by_target.values()
        for memo in memos
        for measure in memo.measures.all()
    ]
    if not measure_ids:
        return {}
    reports: dict[tuple[int, int], list[Feedback]] = defaultdict(list)
    for chunk in _chunks(subject_ids):
        for report in (
            Feedback.objects.filter(subject_id__in=chunk, measure_id__in=measure_ids)
            .select_related("division", "recorded_by")
            .order_by("-done_on", "-id")
        ):
            reports[(report.subject_id, report.measure_id)].append(report)
    return reports
