"""axe-core (WCAG 2.1 AA) on the pages staff use, the admin's included (issue 13).

axe-core is vendored as the single file tests/browser/vendor/axe.min.js (its
licence header, MPL-2.0, at its top; ``npm pack axe-core``, see
tests/browser/vendor/README.md), injected into each page and run with the
WCAG 2.0/2.1 A and AA rules.  Any violation fails the test, named with the
elements it was found on.
"""

import datetime
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from memos.models import Memorandum
from tests.conftest import _otp_login
from tests.factories import ListingFactory, SubjectFactory, valid_uscc

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
RUN_AXE = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' ' + n.failureSummary.slice(0, 200)),
    count: v.nodes.length,
  }));
}"""


def violations(page, url: str | None = None) -> list[dict]:
    """axe's violations on ``url`` (on the page as it is when None)."""
    if url is not None:
        page.goto(url)
        page.wait_for_load_state("load")
    # Evaluated, not added as a <script>: the site's Content-Security-Policy
    # (script-src 'self') rightly refuses an inline script.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(RUN_AXE)


@pytest.fixture
def subject(site):
    subject = SubjectFactory(code=valid_uscc(7), name="武汉市某某电器有限公司")
    today = timezone.localdate()
    ListingFactory(
        subject=subject,
        target_subject=Memorandum.objects.get(seq=7).target_subject,
        listed_on=today - datetime.timedelta(days=10),
        expires_on=today + datetime.timedelta(days=1000),
    )
    return subject


@pytest.fixture
def admin_page(page, site, administrator):
    """The browser signed in to the admin with both factors (the session of
    tests/conftest.py's ``otp_login``, handed to the browser as its cookie)."""
    client = _otp_login(Client(), administrator)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": site}]
    )
    return page


def test_admin_pages_staff_use_have_no_wcag_violations(admin_page, site, subject):
    memo = Memorandum.objects.get(seq=7)
    pages = [
        f"/admin/memos/memorandum/{memo.pk}/change/",
        "/admin/memos/memorandum/add/",
        "/admin/memos/memorandum/",
        f"/admin/memos/memorandum/{memo.pk}/history/",
        f"/admin/subjects/subject/{subject.pk}/change/",
        "/admin/subjects/subject/",
        "/admin/memos/memorandum/import/",
        "/admin/",
    ]
    found = {path: violations(admin_page, site + path) for path in pages}
    # A measure row added on the page ("添加另一个 奖惩措施") is labelled too.
    admin_page.goto(site + pages[0])
    rows = admin_page.locator("#measures-group tr.form-row.dynamic-measures")
    before = rows.count()
    admin_page.locator("#measures-group .add-row a").click()
    expect(rows).to_have_count(before + 1)
    found["added row"] = violations(admin_page)
    bad = {path: found for path, found in found.items() if found}
    assert not bad, json.dumps(bad, ensure_ascii=False, indent=1)


def test_the_site_s_own_pages_have_no_wcag_violations(page, site, subject, sign_in, editor):
    sign_in(editor, "/subjects/")
    pages = ["/", "/lookup/?q=失信", "/memos/7/", f"/subjects/{subject.pk}/", "/subjects/"]
    found = {path: violations(page, site + path) for path in pages}
    bad = {path: found for path, found in found.items() if found}
    assert not bad, json.dumps(bad, ensure_ascii=False, indent=1)
