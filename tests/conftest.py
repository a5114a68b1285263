"""Shared fixtures: a real simulated Exact Online over HTTP, the app on a temp SQLite file."""
import pytest

from simhelpers import SimServer


@pytest.fixture(scope="session")
def sim_server():
    """Run exact_sim as a real HTTP server on a free loopback port for the whole session."""
    server = SimServer.start()
    yield server
    server.stop()


@pytest.fixture
def sim(sim_server):
    """The simulator, reset to its seed data, real clock and default settings."""
    sim_server.reset()
    return sim_server


@pytest.fixture
def app(tmp_path, sim):
    """The app on a temp SQLite file, talking to the simulator; CSRF off except where a test turns it on."""
    from cryptography.fernet import Fernet

    from app import create_app
    from simhelpers import CLIENT_ID
    from simhelpers import CLIENT_SECRET
    from simhelpers import REDIRECT_URI

    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "TOKEN_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'test.sqlite'}",
        "EXACT_CLIENT_ID": CLIENT_ID,
        "EXACT_CLIENT_SECRET": CLIENT_SECRET,
        "EXACT_REDIRECT_URI": REDIRECT_URI,
        "EXACT_BASE_URLS": sim.base_urls_setting,
        "EXACT_HTTP_TIMEOUT": 2,
        "EXACT_WAIT_FOR_MINUTE_RESET": 0,
        "DEMO": False,
        "WTF_CSRF_ENABLED": False,
    })
    yield app


@pytest.fixture
def wizard(client, sim):
    """Actions an admin takes in the setup, through HTTP against the running simulator."""
    from wizard_actions import WizardActions

    return WizardActions(client, sim)
