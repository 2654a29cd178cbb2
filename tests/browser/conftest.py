"""Browser tests: Debian's Chromium driven by Playwright against the real ASGI application.

The application (HTTP and websockets, yishi.asgi) runs under uvicorn in a thread of the pytest
process, so the server reads the test database: PostgreSQL's committed test database, or SQLite's
shared in-memory one. Tests are transactional so that what they create is visible to the server.
One server and one browser serve all the tests of this folder; every user gets a fresh browser
context (own cookies). Screenshots of each step go to var/test-artifacts/browser/<test>/.

Without /usr/bin/chromium or node_modules/axe-core the tests skip, unless YISHI_REQUIRE_BROWSER=1
(set by .ci/run), when they fail instead.
"""

import os
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from tests.dbthreads import close_this_threads_connections

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("YISHI_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "var" / "test-artifacts" / "browser"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
# How long to wait for what a user would wait for (a page, a live message), in milliseconds.
WAIT_MS = 15_000


def missing(what: str) -> None:
    """Skip, or fail when the environment promises a browser (CI)."""
    if os.environ.get("YISHI_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what} (YISHI_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(what)


# --- the server ----------------------------------------------------------------------------


class _NoThreadSensitiveContext:
    """Stands in for asgiref's per-request ThreadSensitiveContext on SQLite.

    Django runs each request's sync code in a thread of its own; with SQLite's shared-cache
    in-memory database two such threads writing at once get "database table is locked" (SQLite
    has no row locks there). Without the context every thread-sensitive call of the server runs
    in asgiref's single shared thread: one connection, requests one after the other.
    """

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False


class LiveServer:
    def __init__(self):
        import uvicorn
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        from yishi.asgi import application

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # Static files from the app folders, as runserver does: CI has not run collectstatic.
        config = uvicorn.Config(
            ASGIStaticFilesHandler(application), lifespan="off", log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def start(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


@pytest.fixture(scope="package")
def _server():
    server = LiveServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live_url(_server, transactional_db, settings, request, monkeypatch):
    """The server's base URL, with this test's own cache (rate limits, sessions)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"browser-{request.node.nodeid}",
        }
    }
    settings.YISHI_SENSITIVE_WORDS = []
    if connection.vendor == "sqlite":
        import django.core.handlers.asgi

        monkeypatch.setattr(
            django.core.handlers.asgi, "ThreadSensitiveContext", _NoThreadSensitiveContext
        )
    return _server.url


@pytest.fixture
def off_loop():
    """off_loop(fn, *args, **kwargs): run a setup step in a thread of its own.

    Services broadcast after commit through async_to_sync, which refuses to run in the thread
    where Playwright's event loop lives (the broadcast would be lost with a warning).
    """

    def run(fn, *args, **kwargs):
        def call():
            try:
                return fn(*args, **kwargs)
            finally:
                close_this_threads_connections()

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(call).result()

    return run


# --- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _chromium_installed():
    """Checked before the test database is built, so that a skip costs nothing."""
    if not CHROMIUM.exists():
        missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(scope="package")
def browser(_chromium_installed, django_db_setup):
    """One Chromium for the tests of this folder, closed before any other test runs.

    Playwright's sync API keeps an event loop running in this thread: Django would refuse the
    tests' own ORM calls (allowed here, the server's threads are not affected) and asyncio tests
    could not start their loop, hence the package scope rather than the session.
    """
    from playwright.sync_api import sync_playwright

    allow_before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    )
    yield chromium
    chromium.close()
    playwright.stop()
    if allow_before is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = allow_before


@pytest.fixture
def axe_source():
    if not AXE.exists():
        missing(f"axe-core not found at {AXE} (run `npm ci` at the repository root)")
    return AXE.read_text(encoding="utf-8")


class Shots:
    """Numbered screenshots of one test: var/test-artifacts/browser/<test>/<nn>-<step>.png."""

    def __init__(self, name: str):
        self.folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", name)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def __call__(self, page, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request):
    return Shots(request.node.name)


@pytest.fixture
def open_context(browser, live_url):
    """open_context(user=None, phone=False) -> a new page in a context of its own.

    With `user`, the context carries a signed-in session for them (made server-side, as after a
    sign-in); the sign-in itself is tested once, through the pages, in the resident's journey.
    """
    from tests.deliberation.factories import session_cookie

    contexts = []

    def open_page(user=None, *, phone=False, language="en"):
        context = browser.new_context(
            base_url=live_url,
            viewport=PHONE if phone else DESKTOP,
            is_mobile=phone,
            has_touch=phone,
            device_scale_factor=2 if phone else 1,
            locale="zh-CN",
        )
        context.set_default_timeout(WAIT_MS)
        cookies = [{"name": "django_language", "value": language, "url": live_url}]
        if user is not None:
            name, value = session_cookie(user).split("=", 1)
            cookies.append({"name": name, "value": value, "url": live_url})
        context.add_cookies(cookies)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
