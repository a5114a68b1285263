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
