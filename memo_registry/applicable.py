"""What applies to a flagged subject today: one function for pages and API.

A subject's listings in force on a day bring in the memoranda (of the current
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

from measures.models import Feedback, Measure
from memo_registry import memo_cache
from memos.models import Memorandum, ResponsibilityList
from subjects.models import Listing, Subject

# SQLite refuses statements with more than 32,766 parameters; stay well below.
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
            for measure in memo.ordered_measures:
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
        for measure in memo.ordered_measures
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
