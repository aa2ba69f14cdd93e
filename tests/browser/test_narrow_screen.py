"""The pages on a phone (375 × 812, an iPhone's width): nothing scrolls sideways,
no button is cut off, a measure's text is not squeezed into a column of
three or four characters (issue 13)."""

import pytest

from measures.models import Division
from tests.browser.test_subject_pages_in_browser import FARM, SERIOUS, _list
from tests.factories import SubjectFactory, valid_uscc

pytestmark = pytest.mark.browser

WIDTH = 375

# What is measured on the page: how wide the document scrolls; the buttons
# (and links styled as buttons) that end past the right edge; the narrowest
# measure text, in characters of its own font size.
MEASURE = """() => {
  const width = document.scrollingElement.scrollWidth;
  const cut = [...document.querySelectorAll('button, .button, input[type=submit]')]
    .filter(el => el.offsetParent !== null)
    .filter(el => { const r = el.getBoundingClientRect(); return r.right > innerWidth + 0.5 || r.left < -0.5; })
    .map(el => el.textContent.trim() || el.value);
  const texts = [...document.querySelectorAll('td.measure, td[data-label*="措施"]')]
    .filter(el => el.offsetParent !== null && el.textContent.trim().length > 8)
    .map(el => el.getBoundingClientRect().width / parseFloat(getComputedStyle(el).fontSize));
  return {width, cut, narrowest: texts.length ? Math.min(...texts) : null};
}"""


@pytest.fixture
def flagged(site):
    subject = SubjectFactory(code=valid_uscc(7), name="武汉市某某电器有限公司")
    for item in (SERIOUS, FARM):
        _list(subject, item)
    return subject


def test_pages_fit_a_375_pixel_phone_without_sideways_scrolling(
    page, site, sign_in, editor, flagged
):
    page.set_viewport_size({"width": WIDTH, "height": 812})
    sign_in(editor, "/subjects/")
    division = Division.objects.filter(measures__isnull=False).first()
    pages = [
        "/",
        "/?include_repealed=true&search=失信",
        "/lookup/",
        "/lookup/?q=严重质量违法失信行为当事人",
        "/lookup/?q=失信",
        "/memos/7/",
        "/divisions/",
        f"/divisions/{division.pk}/",
        "/subjects/",
        "/subjects/?q=武汉市某某",
        f"/subjects/{flagged.pk}/",
        "/subjects/check/",
        "/api-docs/",
    ]
    problems, measured = {}, set()
    for path in pages:
        page.goto(site + path)
        page.wait_for_load_state("load")
        found = page.evaluate(MEASURE)
        if found["width"] > WIDTH or found["cut"] or (found["narrowest"] or 99) < 12:
            problems[path] = found
        if found["narrowest"] is not None:
            measured.add(path)
    assert problems == {}
    # The measure texts were found where a clerk reads them.
    assert {"/", "/lookup/?q=严重质量违法失信行为当事人", f"/subjects/{flagged.pk}/"} <= measured
