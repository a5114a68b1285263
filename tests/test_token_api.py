"""The token API for OutSmart's synchronisation workers, and the refresh behind it."""
import time

import pytest

from conftest import WORKER_KEY as KEY
from models import Connection
from models import Event
from simhelpers import JAN

AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def saved(app, wizard):
    """Jan's administration 101, saved; the API knows one worker key."""
    app.config["SERVICE_KEYS"] = {"sync-worker": KEY}
    assert wizard.complete(JAN, 101).status_code == 303
    return Connection.get()


def put_in_refresh_window(sim, seconds_left=10):
    """Make the stored access token nearly expired, at Exact and here (570 s have passed at both)."""
    now = time.time()
    Connection.update(token_issued_at=now - 600 + seconds_left, token_expires_at=now + seconds_left).execute()
    sim.advance(600 - seconds_left)


def refreshes(sim):
    return [call for call in sim.calls() if call.get("grant_type") == "refresh_token"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"}])
def test_a_service_without_its_key_is_refused(client, saved, headers):
    for response in (client.get("/api/v1/accounts/demo/connection", headers=headers),
                     client.post("/api/v1/accounts/demo/access-token", headers=headers)):
        assert response.status_code == 401
        assert response.json["error"] == "unauthorized"
        assert saved.access_token not in response.get_data(as_text=True)


def test_connection_describes_state_administration_host_and_settings(client, saved, sim):
    body = client.get("/api/v1/accounts/demo/connection", headers=AUTH).json
    assert body["state"] == "saved" and body["synchronise"] is True
    assert body["administration"] == {"code": 101, "name": "Bakker Installatietechniek B.V."}
    assert body["country"] == "nl" and body["host"] == "https://start.exactonline.nl"
    assert body["base_url"] == sim.base_url("nl")
    assert body["settings"]["document_type"] == "sales_invoice"
    assert "access_token" not in body and "refresh_token" not in str(body)


def test_unknown_account_is_not_found(client, saved):
    assert client.get("/api/v1/accounts/nobody/connection", headers=AUTH).status_code == 404


def test_a_valid_token_is_handed_out_without_calling_exact(client, saved, sim):
    sim.clear_calls()
    response = client.post("/api/v1/accounts/demo/access-token", headers=AUTH)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.json["access_token"] == saved.access_token
    assert response.json["division"] == 101 and response.json["expires_at"] > time.time() + 500
    assert sim.calls() == []
    me = sim.get(response.json["access_token"], "current/Me", cc="nl")
    assert me.status_code == 200


def test_a_due_token_is_refreshed_once_and_the_rotated_refresh_token_kept(client, saved, sim):
    put_in_refresh_window(sim)
    sim.clear_calls()
    first = client.post("/api/v1/accounts/demo/access-token", headers=AUTH).json
    second = client.post("/api/v1/accounts/demo/access-token", headers=AUTH).json
    assert len(refreshes(sim)) == 1
    assert first["access_token"] != saved.access_token and second["access_token"] == first["access_token"]
    stored = Connection.get()
    assert stored.refresh_token != saved.refresh_token and stored.last_refresh_at is not None
    assert sim.refresh(saved.refresh_token, cc="nl").json()["error_description"] == "Old refresh token used."


def test_not_saved_is_a_conflict_not_a_token(client, app, wizard):
    app.config["SERVICE_KEYS"] = {"sync-worker": KEY}
    wizard.connect(JAN)
    response = client.post("/api/v1/accounts/demo/access-token", headers=AUTH)
    assert response.status_code == 409 and response.json["state"] == "connected"


def test_a_revoked_grant_marks_the_connection_for_a_new_login(client, saved, sim):
    put_in_refresh_window(sim)
    sim.revoke(JAN)
    response = client.post("/api/v1/accounts/demo/access-token", headers=AUTH)
    assert response.status_code == 409 and response.json["error"] == "reauthorization_required"
    stored = Connection.get()
    assert stored.status == Connection.EXPIRED and stored.last_error == "ReauthorizationRequired"
    assert Event.select().where(Event.action == "expired").count() == 1
    assert "Authenticatie verlopen" in client.get("/exact").get_data(as_text=True)


@pytest.mark.parametrize("kind, status", [("429", 429), ("503", 503)])
def test_exact_limits_and_outages_are_passed_on_with_the_reset_time(client, saved, sim, kind, status):
    put_in_refresh_window(sim)
    sim.fault("oauth2/token", kind, reset_in=30)
    response = client.post("/api/v1/accounts/demo/access-token", headers=AUTH)
    assert response.status_code == status
    assert response.json["reset_at"] > time.time() and int(response.headers["Retry-After"]) >= 1
    stored = Connection.get()
    assert stored.refresh_token == saved.refresh_token and stored.status == Connection.SAVED


def test_openapi_describes_the_api(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) >= {"/api/v1/accounts/{account}/connection", "/api/v1/accounts/{account}/access-token"}
