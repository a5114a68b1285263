"""Shared fixtures: a real simulated Exact Online over HTTP, the app on a temp SQLite file (or on PostgreSQL when
TEST_DATABASE_URL names one), Chromium."""
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from simhelpers import SimServer


TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
# Where the browser tests put their screenshots: an ignored folder, so running the tests leaves a clone as it was.
# The README's own (tests/screenshots/, tracked) are refreshed with SCREENSHOTS_DIR=tests/screenshots (README: Test it).
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or Path(__file__).resolve().parent / ".screenshots").resolve()
# The key of OutSmart's synchronisation worker, for the tests that turn the token API on (SERVICE_KEYS; at least
# 32 characters, or the app does not start).
WORKER_KEY = "worker-key-Vd7q2LxN9sKp4RtZ8mWc3HyB6fJ"


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """Compile the catalogues when a .mo is missing or older than its .po: the .mo is a build product, not in git,
    so `pytest tests` works right after `pip install` too."""
    stale = [po for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")
             if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime]
    if stale:
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "compile", "-d", str(TRANSLATIONS)],
                       check=True)


@pytest.fixture(scope="session")
def sim_server():
    """Run exact_sim as a real HTTP server on a free loopback port for the whole session."""
    # The simulator speaks plain http, which oauthlib refuses unless told otherwise for the whole process; the app's
    # configuration does this for a local simulator, the tests of exact/ alone need it too.
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    server = SimServer.start()
    yield server
    server.stop()


@pytest.fixture
def sim(sim_server):
    """The simulator, reset to its seed data, real clock and default settings."""
    sim_server.reset()
    return sim_server


# e.g. postgresql://outsmart:outsmart@127.0.0.1:5432/outsmart_test; unset: a temp SQLite file per test.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture
def empty_app(tmp_path, sim):
    """The app on a database without a single table (not even the migrations' history), talking to the simulator;
    CSRF off except where a test turns it on.

    SQLite: a fresh temp file per test. TEST_DATABASE_URL (PostgreSQL): every table in it is dropped.
    """
    import models
    from app import create_app

    settings = app_settings(sim, tmp_path)
    app = create_app(settings)
    app.extensions["test_settings"] = tuple(settings)  # see config_for_another_process
    if TEST_DATABASE_URL:
        with models.db.connection_context():
            tables = models.db.get_tables()
            if tables:
                models.db.execute_sql("DROP TABLE %s CASCADE" % ", ".join(f'"{table}"' for table in tables))
    yield app
    models.close_all()


def app_settings(sim, tmp_path) -> dict:
    """The configuration of the app under test."""
    from cryptography.fernet import Fernet

    from simhelpers import CLIENT_ID
    from simhelpers import CLIENT_SECRET
    from simhelpers import REDIRECT_URI

    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "TOKEN_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.sqlite'}",
        "EXACT_CLIENT_ID": CLIENT_ID,
        "EXACT_CLIENT_SECRET": CLIENT_SECRET,
        "EXACT_REDIRECT_URI": REDIRECT_URI,
        "EXACT_BASE_URLS": sim.base_urls_setting,
        "EXACT_HTTP_TIMEOUT": 2,
        "EXACT_WAIT_FOR_MINUTE_RESET": 0,
        "DEMO": False,
        "DEFAULT_ACCOUNT": "demo",
        "EMBED_SECRET": "test-embed-secret",
        "HOST_ORIGINS": "https://app.out-smart.com,http://localhost:5050",
        "WTF_CSRF_ENABLED": False,
        # The test client's host; the live servers below run on 127.0.0.1 and name their own APP_URL.
        "APP_URL": "http://localhost",
        "TRUSTED_HOSTS": ["localhost", "127.0.0.1"],
    }


def config_for_another_process(app, *also) -> dict:
    """What another process needs to build the same app, on the same database and simulator, as the test has
    configured it by now: the settings the app was made with, and `also` those the test set since."""
    return {key: app.config[key] for key in (*app.extensions["test_settings"], *also)}


@pytest.fixture
def app(empty_app):
    """The app on empty tables built by the migrations (`flask --app app db upgrade` does the same): the suite
    tests the schema the migrations make, as every deployment gets it."""
    import models

    models.upgrade(models.db)
    return empty_app


@pytest.fixture
def wizard(client, sim):
    """Actions an admin takes in the setup, through HTTP against the running simulator."""
    from wizard_actions import WizardActions

    return WizardActions(client, sim)


CHROMIUM = "/usr/bin/chromium"


def serve(wsgi_app, host="127.0.0.1"):
    """Serve a WSGI app on a free loopback port in a daemon thread; returns the server."""
    server = make_server(host, 0, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def playwright():
    """Playwright, for Debian's Chromium (it never downloads a browser of its own)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright):
    """Chromium, headless, with its default cookie rules."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def live_app(app, sim):
    """The app on a real loopback port, registered at the simulator as the redirect URI."""
    server = serve(app)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["EXACT_REDIRECT_URI"] = f"{url}/exact/callback"
    app.config["APP_URL"] = url
    sim.settings(redirect_uri=app.config["EXACT_REDIRECT_URI"])
    yield url
    server.shutdown()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="nl-NL")
    page = context.new_page()
    yield page
    context.close()


