"""Browser tests: Debian's Chromium driven by Playwright against the app
served by waitress on a loopback port. In CI a missing browser fails the
run; elsewhere the tests are skipped. A failing test leaves a screenshot in
test-artifacts/."""

import os
import shutil
from pathlib import Path

import pytest

from ..conftest import REQUIRE_POSTGRESQL as IN_CI
from ..servers import serve

CHROMIUM = os.environ.get("BOOKING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def db(sqlite_db):
    """The pages are about the site, not the database: SQLite (the
    embedded default) is enough here; both databases run everywhere else."""
    yield sqlite_db
    sqlite_db.clean()


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        message = f"Chromium is not installed at {CHROMIUM}"
        if IN_CI:
            pytest.fail(f"{message}, and browser tests are required here", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_url(app):
    with serve(app, threads=4) as url:
        yield url


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def new_context(browser, request):
    """Make browser contexts; on failure, screenshot every open page."""
    contexts = []

    def make(**options):
        options.setdefault("locale", "en-GB")
        options.setdefault("timezone_id", "Europe/Paris")
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for n, context in enumerate(contexts):
            for m, page in enumerate(context.pages):
                page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{n}-{m}.png"),
                                full_page=True)
    for context in contexts:
        context.close()
