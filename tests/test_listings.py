"""Whether a listing is in force is computed from its dates, never stored."""

import datetime

import pytest

from subjects.models import Listing
from tests.factories import ListingFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 6, 15)


def _both(listing, on):
    """The Python rule and the database rule must agree."""
    in_python = listing.in_force_on(on)
    in_sql = Listing.objects.in_force(on).filter(pk=listing.pk).exists()
    assert in_python == in_sql
    return in_python


def test_a_listing_is_in_force_from_the_day_it_is_listed():
    listing = ListingFactory(listed_on=DAY, expires_on=DAY + datetime.timedelta(days=730))
    assert _both(listing, DAY)
    assert not _both(listing, DAY - datetime.timedelta(days=1))


def test_a_listing_is_in_force_on_its_expiry_day_and_not_after():
    listing = ListingFactory(listed_on=DAY - datetime.timedelta(days=730), expires_on=DAY)
    assert _both(listing, DAY)
    assert not _both(listing, DAY + datetime.timedelta(days=1))


def test_a_lifted_listing_stops_on_the_day_it_is_lifted_and_stays_on_record():
    listing = ListingFactory(
        listed_on=DAY - datetime.timedelta(days=100), lifted_on=DAY, lift_reason="信用修复"
    )
    assert _both(listing, DAY - datetime.timedelta(days=1))
    assert not _both(listing, DAY)
    assert Listing.objects.filter(pk=listing.pk).exists()


def test_a_listing_without_expiry_runs_until_lifted():
    listing = ListingFactory(listed_on=DAY, expires_on=None)
    assert _both(listing, DAY + datetime.timedelta(days=3650))


def test_expiry_before_listing_is_refused_by_the_database():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ListingFactory(listed_on=DAY, expires_on=DAY - datetime.timedelta(days=1))
