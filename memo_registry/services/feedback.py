"""Recording and withdrawing feedback (实施反馈) for the work list and the API.

The rules are Feedback.clean()'s (the subject page and the admin use the
same): the division is responsible for the measure, the measure applied to
the subject on the day, the day is not in the future nor before the
listing, and the user is a member of the division (administrators: any).
"""

from collections.abc import Mapping
from typing import Literal

from django.core.exceptions import ValidationError

from measures.models import Division, Feedback, Measure
from memo_registry.services import work_tally
from subjects.models import Subject


class Gone(Exception):
    """The report names a subject, measure or division that does not exist."""

    def __init__(self, missing: tuple[str, ...]):
        super().__init__("、".join(missing))
        # Of "subject", "measure", "division", in that order.
        self.missing = missing


class Refused(ValidationError):
    """Feedback.clean()'s refusal (by field), with the unsaved report it refused."""

    def __init__(self, error: ValidationError, report: Feedback):
        super().__init__(error.error_dict)
        self.report = report

    @property
    def not_member(self) -> bool:
        """Whether the refusal is only that the user is not in the division."""
        codes = [item.code for items in self.error_dict.values() for item in items]
        return bool(codes) and all(code == "not_member" for code in codes)


def record_from(user, report: Mapping, *, division_by: Literal["pk", "name"] = "pk") -> Feedback:
    """Save the report a form or the API took in, and return it.

    ``report`` holds ``subject`` and ``measure`` (their keys), ``division``
    (its key, or its name with ``division_by="name"``), ``outcome``,
    ``done_on`` and, if given, ``document_number`` and ``note`` (实施情况).
    Raises Gone naming what does not exist, or Refused; nothing is saved then.
    """
    named = {
        "subject": Subject.objects.filter(pk=report["subject"]).first(),
        "measure": Measure.objects.filter(pk=report["measure"]).first(),
        "division": Division.objects.filter(**{division_by: report["division"]}).first(),
    }
    missing = tuple(name for name, found in named.items() if found is None)
    if missing:
        raise Gone(missing)
    outcome = report["outcome"] or Feedback.Outcome.APPLIED
    feedback = Feedback(
        **named,
        outcome=outcome,
        done_on=report["done_on"],
        document_number=(report.get("document_number") or "").strip(),
        # "What was done" may be left out: the outcome says it then.
        action=(report.get("note") or "").strip() or Feedback.Outcome(outcome).label,
        recorded_by=user,
    )
    feedback.acting_user = user
    try:
        feedback.full_clean()
    except ValidationError as error:
        raise Refused(error, feedback) from None
    with work_tally.changing([feedback.subject_id]):
        feedback.save()
    return feedback


def withdraw(report: Feedback, user) -> None:
    """Withdraw ``report`` for ``user`` (its item opens again); raises
    PermissionDenied when the user may not act for its division."""
    with work_tally.changing([report.subject_id]):
        report.withdraw(user)


def save(report: Feedback) -> None:
    """Save a report a form checked (the subject page's)."""
    with work_tally.changing([report.subject_id]):
        report.save()
