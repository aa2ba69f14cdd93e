"""Issue 15 in a browser: a measure's basis badge opens to its bases, and prints them."""

import pytest
from playwright.sync_api import expect

from measures.models import LegalBasis
from memos.models import Memorandum

pytestmark = pytest.mark.browser


def test_the_basis_badge_opens_to_the_bases_and_prints_them(page, site):
    measure = Memorandum.objects.get(seq=7).measures.order_by("order").first()
    LegalBasis.objects.create(
        measure=measure, level="法律", title="《中华人民共和国产品质量法》", article="第十三条"
    )
    page.goto(site + "/?basis_status=sufficient")
    badge = page.locator("summary.basis-sufficient")
    expect(badge).to_have_text("依据充分")
    expect(badge).to_have_attribute("title", "实施依据：法律：《中华人民共和国产品质量法》第十三条")
    bases = page.locator(".basis-list").first
    expect(bases).to_be_hidden()
    badge.click()
    expect(bases).to_be_visible()
    expect(bases).to_contain_text("《中华人民共和国产品质量法》第十三条")
    expect(page.locator("[data-basis-status=missing]").first).to_contain_text("未录入实施依据")

    page.emulate_media(media="print")
    printed = page.locator(".basis-print").first
    expect(printed).to_be_visible()
    expect(printed).to_have_text("实施依据：法律：《中华人民共和国产品质量法》第十三条")
