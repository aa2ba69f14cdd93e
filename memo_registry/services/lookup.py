"""Look-ups: which measures apply, by the kind of listing or by subject.
Each answer is one function that the pages, the API and the batch check call.

**By the kind of listing** (``measures_for_listing``).  A clerk names the kind of listing ("失信被执行人", "海关失信企业", or a word
of it, or its pinyin initials); the answer is every memorandum of the list
(by default the current one) that is in force and whose target subject
matches, with its measures and their divisions, or its statement that the
bureau has no relevant function.

Matching, best first (``MATCH_LABELS``; each answer says how it matched):

1. ``label``: the target subject's short label is the query;
2. ``label_contains``: the label contains the query;
3. ``doc_number``: the memo's 文号 contains the query, in any bracket style;
4. ``title``: the memo's title contains the query;
5. ``definition``: only the definition text contains it;
6. the forgiving rules of ``memo_registry.services.search``, tried on the
   label and the title when nothing above matched: ``initials`` (typed
   letters ``sxbzxr``, the label's initials; ``initials_slip`` with one
   letter wrong, ``sxbzxx``), ``homophone`` (Chinese with
   the same initials, 失心被执行人), ``abbreviation`` (环保 for 环境保护),
   ``one_edit`` (失信被执法人).

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
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from measures.models import Feedback, Measure
from memo_registry.lib.text import search_key
from memo_registry.services import memo_cache
from memo_registry.services.search import (
    FORGIVING_RULES,
    clean_query,
    edit_distance_within,
    forgiving_match,
    initials,
    initials_query,
    query_forms,
)
from memos.models import Memorandum, ResponsibilityList
from subjects.models import Listing, Subject

# SQLite refuses statements with more than 32,766 parameters; stay well below.

MATCH_LABELS = {
    "label": "名单名称相同",
    "label_contains": "名单名称含查询词",
    "doc_number": "文号相同（括号写法不限）",
    "title": "备忘录名称含查询词",
    "definition": "奖惩对象的定义含查询词",
    "initials": "名单名称的拼音首字母",
    "initials_slip": "拼音首字母错一个",
    **FORGIVING_RULES,
}
# Initials typed with one letter wrong are forgiven from this many letters on.
MIN_SLIP_LETTERS = 5
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


def _match_kind(query: str, letters: str, row: tuple) -> str:
    """How a memo (``row``: label, definition, title, 文号) matches the query; "" if not."""
    label, definition, title, doc_number = (search_key(text) for text in row)
    forms = [search_key(form) for form in query_forms(query)]
    if search_key(query) == label:
        return "label"
    for kind, text in (
        ("label_contains", label),
        ("doc_number", doc_number),
        ("title", title),
        ("definition", definition),
    ):
        if any(form in text for form in forms):
            return kind
    if letters:
        label_initials = initials(label)
        if letters in label_initials:
            return "initials"
        # One letter wrong, dropped or added (sxbzxx for sxbzxr); below five
        # letters that would match most labels.
        if len(letters) >= MIN_SLIP_LETTERS and edit_distance_within(letters, label_initials) <= 1:
            return "initials_slip"
        return ""
    return forgiving_match(query, [label, title])


def measures_for_listing(
    query: str | None, responsibility_list: ResponsibilityList | None = None
) -> LookupAnswer:
    """The memos, with their measures and divisions, that apply to a subject on ``query``'s listing.

    ``responsibility_list`` defaults to the current list.  An empty query
    (after cleaning) matches nothing.  The few texts each memo is matched on
    are read in one query and compared here (the forgiving rules are no SQL),
    then the matching memos are loaded with their relations.
    """
    query = clean_query(query)
    if responsibility_list is None:
        responsibility_list = ResponsibilityList.current()
    answer = LookupAnswer(query=query, responsibility_list=responsibility_list)
    if not query or responsibility_list is None:
        return answer

    memos = Memorandum.objects.of_list(responsibility_list).in_force()
    letters = initials_query(query)
    kinds = {}
    for pk, *row in memos.values_list(
        "pk", "target_subject__label", "target_subject__definition", "title", "doc_number"
    ):
        if kind := _match_kind(query, letters, row):
            kinds[pk] = kind
    matches = [
        LookupMatch(memo=memo, match=kinds[memo.pk])
        for memo in memos.filter(pk__in=list(kinds)).with_relations()
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
    *,
    with_feedback: bool = True,
) -> dict[int, SubjectStatus]:
    """The status of each subject on the day ``on``, keyed by subject id.
    ``with_feedback=False``: who reported what is not read (every measure is
    then not ``done``), for an answer that does not show it (the embedded
    check)."""
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
    memos_by_target, repealed_by_target = _as_of(
        *memo_cache.in_force_and_repealed(target_ids, responsibility_list), on
    )
    feedback = _feedback(ids, memos_by_target) if with_feedback else {}

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
                    # Reported by the day asked about (a past day does not
                    # count feedback given since).
                    if since[memo.pk] <= report.done_on <= on
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


def _as_of(
    in_force: dict[int, list[Memorandum]], repealed: dict[int, list[Memorandum]], on
) -> tuple[dict[int, list[Memorandum]], dict[int, list[Memorandum]]]:
    """The memos (by target) in force on the day ``on``, which may be past, and
    those repealed by then: a memo repealed since was in force that day; one
    not yet in effect (its 生效日期, else its list's 发文日期, after ``on``) is
    in neither."""
    applied: dict[int, list[Memorandum]] = defaultdict(list)
    gone: dict[int, list[Memorandum]] = defaultdict(list)
    for by_target in (in_force, repealed):
        for target, memos in by_target.items():
            for memo in memos:
                start = memo.effective_on or memo.responsibility_list.issued_on
                if not memo.is_in_force_on(on):
                    gone[target].append(memo)
                elif start is None or start <= on:
                    applied[target].append(memo)
    return tuple(
        {target: sorted(memos, key=lambda memo: memo.seq) for target, memos in found.items()}
        for found in (applied, gone)
    )


def day_asked(raw: str | None, today: datetime.date) -> datetime.date:
    """The day a page's ``?on=`` asks about: ``today`` when absent or empty
    (the API's ``on``: :func:`day_written`).  ValueError, its message for the user, for anything
    but an existing day written ``YYYY-MM-DD`` that is not after today (what
    applied on a past day is a fact; a later day's is not known yet)."""
    text = (raw or "").strip()
    if not text:
        return today
    return day_written(text, today)


# YYYY-MM-DD in ASCII digits, and nothing else: Python's fromisoformat also
# reads "20240131" and "2024-W05-3", which the schema's ``format: date`` is not.
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def day_written(text: str, today: datetime.date) -> datetime.date:
    """``text`` as an existing day written exactly ``YYYY-MM-DD``, not after
    today; ValueError, its message for the user, otherwise (the empty text
    too: the API's ``on`` is a date when given)."""
    try:
        day = datetime.date.fromisoformat(text) if ISO_DAY.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise ValueError(f"「{text[:20]}」不是有效的日期（应如 2024-01-31）。")
    if day > today:
        raise ValueError(f"{day} 晚于今天（{today}）：只能查询今天及以前某一天适用的措施。")
    return day


def status_for(subject: Subject, on: datetime.date, *, with_feedback: bool = True) -> SubjectStatus:
    return statuses_for([subject], on, with_feedback=with_feedback)[subject.pk]


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
            Feedback.objects.filter(
                subject_id__in=chunk, measure_id__in=measure_ids, withdrawn_at__isnull=True
            )
            .select_related("division", "recorded_by")
            .order_by("-done_on", "-id")
        ):
            reports[(report.subject_id, report.measure_id)].append(report)
    return reports
