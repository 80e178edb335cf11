"""Browser tests: Debian's chromium driven by Playwright (no browser download).

Tests here start ``/usr/bin/chromium`` themselves and skip with the reason when it is not
installed. Any dialog (something executed) or Content-Security-Policy refusal fails a test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.browsing import CHROMIUM, CHROMIUM_ARGS, PASSWORD, Watched


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(item.fspath).parent == here:
            item.add_marker(pytest.mark.django_db(transaction=True))
            if not CHROMIUM.exists():
                item.add_marker(
                    pytest.mark.skip(reason=f"{CHROMIUM} is missing: apt-get install chromium")
                )


@pytest.fixture(scope="session")
def sync_api():  # noqa: ANN201 - the playwright.sync_api module
    return pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_playwright() -> Iterator[None]:
    """Let tests (and the database flush after each) use the ORM next to Playwright.

    Playwright's sync API keeps an event loop running in this thread, which Django takes for
    an async context. Set per module (the browser lives as long), and restored afterwards.
    """
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if before is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Hash the test people's passwords cheaply: PBKDF2's million rounds cost a second or
    more per sign-in and per person set up on a busy machine, and prove nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def site(live_server, spring_run, lumen_workspace, settings, tmp_path) -> str:
    """The spring run served live, every Lumen Home person able to sign in (``PASSWORD``)."""
    from signoff.web.accounts import ensure_users

    settings.SIGNOFF_EXPORT_DIR = tmp_path / "exports"
    ensure_users(lumen_workspace, PASSWORD)
    return live_server.url


@pytest.fixture(scope="module")
def browser(sync_api) -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def watched(browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    watched = Watched(page)
    yield watched
    context.close()
    assert watched.dialogs == [], "a dialog opened: something executed"
    assert watched.csp_errors == [], "the Content-Security-Policy refused something"


@pytest.fixture
def page(watched: Watched) -> object:
    return watched.page
