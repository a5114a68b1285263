"""Exact failing at every call of the flow: a clear message with a way to retry, never a 500, nothing saved lost."""
import time

import pytest

from models import Connection
from models import db
from simhelpers import JAN
from wizard_actions import back_from_exact
from wizard_actions import path_of

KINDS = ["500", "503", "429", "timeout", "malformed", "401"]


# What the health panel observes about Exact may change on any call; everything else must not.
OBSERVED = {"rate_limits", "last_error", "last_error_at"}


def snapshot():
    """Every stored column of every connection but the observations, as the database holds them."""
    columns = [field.column_name for field in Connection._meta.sorted_fields if field.column_name not in OBSERVED]
    return db.execute_sql(f"SELECT {', '.join(columns)} FROM connection ORDER BY id").fetchall()


def at_callback(wizard, sim):
    callback = path_of(sim.login(wizard.start_login(), JAN))
    return lambda: back_from_exact(wizard.client, callback)  # where the browser ends: the result without the code


def at_preview(wizard, sim):
    wizard.connect(JAN)
    wizard.choose(101)
    return lambda: wizard.client.get("/exact/administratie")


def at_settings(wizard, sim):
    wizard.connect(JAN)
    wizard.choose(101)
    return lambda: wizard.client.get("/exact/instellingen")


def at_save(wizard, sim):
    wizard.connect(JAN)
    wizard.choose(101)
    wizard.configure()
    return lambda: wizard.save()


def at_filter(wizard, sim):
    wizard.connect(JAN)
    wizard.choose(101)
    wizard.client.get("/exact/instellingen")
    return lambda: wizard.client.post("/exact/instellingen", data={"filters": "relation_types"})


def at_saved_settings(wizard, sim):
    wizard.complete(JAN, 101)
    return lambda: wizard.configure(import_employees="y")


def at_refresh(wizard, sim):
    """A saved connection whose access token is due: the next page that needs Exact refreshes it first."""
    wizard.complete(JAN, 101)
    now = time.time()
    Connection.update(token_issued_at=now - 590, token_expires_at=now + 10).execute()
    sim.advance(590)
    return lambda: wizard.client.post("/exact/instellingen/vernieuwen")


# Each Exact call of the flow: where it happens, and the simulator endpoint that answers it.
CALLS = {
    "token exchange": (at_callback, "oauth2/token"),
    "current user at login": (at_callback, "current/Me"),
    "administrations at login": (at_callback, "system/Divisions"),
    "relations count": (at_preview, "crm/Accounts/$count"),
    "items count": (at_preview, "logistics/Items/$count"),
    "sales journals": (at_settings, "financial/Journals"),
    "VAT codes": (at_settings, "vat/VATCodes"),
    "relation types, asked for": (at_filter, "crm/AccountClassifications"),
    "rights check": (at_save, "users/UserHasRights"),
    "rights re-check": (at_saved_settings, "users/UserHasRights"),
    "token refresh": (at_refresh, "oauth2/token"),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("call", list(CALLS))
def test_exact_failing_is_explained_and_changes_nothing_saved(client, wizard, sim, call, kind):
    prepare, endpoint = CALLS[call]
    act = prepare(wizard, sim)
    sim.settings(fault_timeout_seconds=3)  # longer than the app's 2-s timeout in tests
    before = snapshot()
    sim.fault(endpoint, kind, reset_in=30)
    response = act()
    html = response.get_data(as_text=True)

    assert response.status_code != 500 and response.status_code >= 400, (response.status_code, html[:300])
    assert "Opnieuw proberen" in html or "Verbind opnieuw" in html
    assert "Exact Online" in html
    after = snapshot()
    if kind == "401":
        # Exact refusing the tokens may mark the connection expired; what the admin saved stays.
        keep = [Connection.division, Connection.division_name, Connection.settings, Connection.saved_at]
        assert [[getattr(row, f.name) for f in keep] for row in Connection.select().order_by(Connection.id)] == \
            _saved_parts(before, keep)
    else:
        assert after == before


def _saved_parts(rows, fields):
    """The chosen columns of a raw snapshot, read the way peewee would."""
    names = [field.column_name for field in Connection._meta.sorted_fields if field.column_name not in OBSERVED]
    return [[field.python_value(row[names.index(field.column_name)]) for field in fields] for row in rows]


def test_a_minute_limit_that_resets_soon_is_waited_out(app, client, wizard, sim):
    app.config["EXACT_WAIT_FOR_MINUTE_RESET"] = 5
    at_settings(wizard, sim)
    sim.fault("financial/Journals", "429", reset_in=1)
    assert client.get("/exact/instellingen").status_code == 200
