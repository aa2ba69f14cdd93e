"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live_server.

Playwright's sync API runs an event loop in the test's thread, so Django's
guard against database calls from async code must be lifted for these tests
(they talk to the database only to load the fixture).  Playwright's own
browser download is not used: Debian's /usr/bin/chromium is (``make browser``
installs it with a Chinese font).

Screenshots go to a temporary folder, or to ``$SCREENSHOT_DIR`` when set;
the folder is printed at the end of the run.
"""

import os
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FIXTURE_2018 = "fixtures/responsibility_list_2018.json"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch arguments, extended (not replaced) to run Debian's Chromium."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": {"width": 1366, "height": 900},
        "locale": "zh-CN",
        "accept_downloads": True,
    }


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory, pytestconfig):
    folder = os.environ.get("SCREENSHOT_DIR")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    pytestconfig.stash[SCREENSHOTS] = path
    return path


SCREENSHOTS = pytest.StashKey[Path]()


@pytest.fixture
def shot(page, screenshot_dir, request):
    """``shot("name")`` saves a full-page screenshot of the page as it is now."""

    def save(name: str) -> Path:
        path = screenshot_dir / f"{request.node.name}-{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return save


@pytest.fixture
def site(live_server, transactional_db):
    """The live server's URL, with the 2018 list loaded (live_server tests are transactional)."""
    call_command("loaddata", FIXTURE_2018, verbosity=0)
    return live_server.url


# The password tests/conftest.py gives the clerk, editor and administrator fixtures.
PASSWORD = "pw-Registry-2018"


@pytest.fixture
def sign_in(page, site):
    """``sign_in(user, then)``: through the site's sign-in form, as staff do.

    The site's pages ask for a password only (the admin also asks for a
    TOTP code); waits until the browser has landed on ``then``."""

    def go(user, then: str = "/subjects/") -> None:
        page.goto(f"{site}/accounts/login/?next={quote(then)}")
        page.get_by_label("用户名").fill(user.username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(site + then)

    return go


def pytest_terminal_summary(terminalreporter, config):
    path = config.stash.get(SCREENSHOTS, None)
    if path is not None:
        terminalreporter.write_line(f"browser screenshots: {path}")
