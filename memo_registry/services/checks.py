"""The embedded check (嵌入式核查): at the moment a licensing or approval system
decides on an application, it asks whether the applicant is listed; the
answer — a decision and the measures that apply today — and, later, what the
system decided are kept (``memo_registry.clients.models.Check``).

The answer is the subject's status of ``memo_registry.services.lookup``
(``status_for``), the same the subject page and the subject API show:

* ``punish`` when a measure of a punishment memo applies today;
* else ``reward`` when a measure of a reward memo applies;
* else ``none`` (not listed, or listed under memos with no measure of the bureau's).
"""

from django.db import transaction
from django.utils import timezone

from memo_registry.clients.models import Check, ClientKey
from memo_registry.services.lookup import SubjectStatus, status_for
from memo_registry.services.memo_json import basis_fields
from memos.models import Memorandum
from subjects.codes import Code
from subjects.models import Subject


def decision(status: SubjectStatus | None) -> str:
    kinds = {item.memo.kind for item in status.measures} if status else set()
    if Memorandum.Kind.PUNISHMENT in kinds:
        return Check.Decision.PUNISH
    if Memorandum.Kind.REWARD in kinds:
        return Check.Decision.REWARD
    return Check.Decision.NONE


def measures_of(status: SubjectStatus | None) -> list[dict]:
    """What applies today, as the check answers it and keeps it."""
    if status is None:
        return []
    return [
        {
            "doc_number": item.memo.doc_number,
            "memo_title": item.memo.title,
            "kind": item.memo.kind,
            "order": item.measure.order,
            "text": item.measure.text,
            "divisions": [division.name for division in item.divisions],
            **basis_fields(item.measure),
        }
        for item in status.measures
    ]


def run_check(
    code: Code,
    subject: Subject | None,
    key: ClientKey,
    *,
    matter_code,
    matter_name,
    department,
    keep_with=None,
) -> tuple[Check, SubjectStatus | None]:
    """Answer and keep one check of ``code`` (already parsed) for ``key``'s
    system.  ``keep_with(status)``, if given, writes what is kept with the
    check (its 查询记录) in the same transaction: one commit."""
    now = timezone.now()
    # Read before the transaction, where the memo cache serves it; the check
    # answers what applies, not who reported it: no feedback is read.
    status = status_for(subject, timezone.localdate(now), with_feedback=False) if subject else None
    with transaction.atomic():
        check = Check.objects.create(
            code=code.value,
            code_kind=code.kind,
            subject=subject,
            matter_code=matter_code,
            matter_name=matter_name,
            department=department,
            decision=decision(status),
            measures=measures_of(status),
            checked_at=now,
            key=key,
            client_name=key.name,
        )
        if keep_with is not None:
            keep_with(status)
    return check, status


def record_outcome(check: Check, outcome: str, note: str) -> Check:
    check.outcome = outcome
    check.outcome_note = note
    check.outcome_at = timezone.now()
    check.save(update_fields=["outcome", "outcome_note", "outcome_at"])
    return check


def checks_of(subject: Subject, limit: int = 50) -> list[Check]:
    """The latest embedded checks of a subject, for its page."""
    return list(Check.objects.filter(subject=subject).order_by("-checked_at", "-id")[:limit])
