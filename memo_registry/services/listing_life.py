"""A listing's life (issue 15) as the subject page and the subject API show it.

The decision (认定文书号, 认定机关 — the listing's ``source`` —, 认定日期), the
grade (失信程度), the prior notice (告知日期), the objections (异议) and
credit repairs (信用修复), the publication end (公示截止日期: as recorded, or
computed from the 公示期限 table the administrator keeps) and the end (移出
日期 and 移出类型).  ``with_life`` reads what they need for many listings in
a fixed number of queries.
"""

from django.db.models import prefetch_related_objects

from subjects.models import PublicationPeriod


def with_life(listings: list) -> list:
    """``listings`` with their objections and repairs prefetched and the
    publication periods at hand: three queries, whatever their number."""
    if not listings:
        return listings
    prefetch_related_objects(listings, "objections", "repairs")
    periods = {period.severity: period for period in PublicationPeriod.objects.all()}
    for listing in listings:
        listing.publication_periods = periods
    return listings


def life_fields(listing) -> dict:
    """The listing's life as the subject API answers it."""
    return {
        "decision_number": listing.decision_number,
        "decision_authority": listing.source,
        "decided_on": listing.decided_on,
        "severity": listing.severity,
        "notified_on": listing.notified_on,
        "decision_suspended": listing.decision_suspended,
        "publication_end": listing.publication_end,
        "end_reason": listing.end_reason,
        "objection_pending": bool(listing.pending_objections),
        "objections": [
            {
                "received_on": item.received_on,
                "decided_on": item.decided_on,
                "upheld": item.upheld,
                "note": item.note,
            }
            for item in listing.objections.all()
        ],
        "repairs": [
            {
                "applied_on": item.applied_on,
                "decided_on": item.decided_on,
                "result": item.result,
                "note": item.note,
            }
            for item in listing.repairs.all()
        ],
    }
