"""A listing's life (issue 15) as the subject page and the subject API show it.

The decision (认定文书号, 认定机关 — the listing's ``source`` —, 认定日期), the
grade (失信程度), the prior notice (告知日期), the objections (异议) and
credit repairs (信用修复), the publication end (公示截止日期: as recorded, or
computed from the 公示期限 table the administrator keeps) and the end (移出
日期 and 移出类型).  ``with_life`` reads what they need for many listings in
a fixed number of queries.
"""

from django.db.models import prefetch_related_objects

from subjects.models import Objection, PublicationPeriod, Repair


def with_life(listings: list) -> list:
    """``listings`` with their objections and repairs prefetched and the
    publication periods at hand.  Most listings have neither objection nor
    repair and a recorded or no grade: one query then (which listings have
    any), at most four; the subject answer is the counter's lookup."""
    if not listings:
        return listings
    ids = [listing.pk for listing in listings]
    having = set(
        Objection.objects.filter(listing_id__in=ids)
        .order_by()
        .values_list("listing_id", flat=True)
        .union(
            Repair.objects.filter(listing_id__in=ids)
            .order_by()
            .values_list("listing_id", flat=True)
        )
    )
    asked = [listing for listing in listings if listing.pk in having]
    if asked:
        prefetch_related_objects(asked, "objections", "repairs")
    for listing in listings:
        if listing.pk not in having:
            # Known empty: the related managers answer without a query.
            listing._prefetched_objects_cache = {
                "objections": listing.objections.none(),
                "repairs": listing.repairs.none(),
            }
    graded = any(item.severity and item.publication_ends_on is None for item in listings)
    periods = (
        {period.severity: period for period in PublicationPeriod.objects.all()} if graded else {}
    )
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
