"""Recording and withdrawing feedback (实施反馈) for the work list and the API.

The rules are Feedback.clean()'s (the subject page and the admin use the
same): the division is responsible for the measure, the measure applied to
the subject on the day, the day is not in the future nor before the
listing, and the user is a member of the division (administrators: any).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from measures.models import Feedback


def record(
    user,
    *,
    subject,
    measure,
    division,
    outcome: str,
    done_on: datetime.date,
    document_number: str = "",
    note: str = "",
) -> Feedback:
    """Save the report, or raise ValidationError (by field) and save nothing."""
    outcome = outcome or Feedback.Outcome.APPLIED
    feedback = Feedback(
        subject=subject,
        measure=measure,
        division=division,
        outcome=outcome,
        done_on=done_on,
        document_number=(document_number or "").strip(),
        # "What was done" may be left out: the outcome says it then.
        action=(note or "").strip() or Feedback.Outcome(outcome).label,
        recorded_by=user,
    )
    feedback.acting_user = user
    feedback.full_clean()
    with transaction.atomic():
        feedback.save()
    return feedback


def not_member(error: ValidationError) -> bool:
    """Whether the refusal is only that the user is not in the division."""
    codes = [item.code for items in getattr(error, "error_dict", {}).values() for item in items]
    return bool(codes) and all(code == "not_member" for code in codes)
