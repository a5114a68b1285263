"""ExactClient turns each of Exact's 403 reasons into its own typed error (over real HTTP, against the simulator)."""
import pytest

from exact import ExactClient
from exact import Token
from exact.errors import ApplicationScopeViolated
from exact.errors import AttentionNeeded
from exact.errors import BlockedCustomer
from exact.errors import BlockedUser
from exact.errors import InactiveUser
from exact.errors import LicenseExpired
from exact.errors import NoDivisionAccess
from simhelpers import JAN
from test_exact_support import make_client

REASONS = {
    "InactiveUser": ({"inactive_users": [JAN]}, InactiveUser),
    "BlockedUser": ({"blocked_users": [JAN]}, BlockedUser),
    "BlockedCustomer": ({"blocked_customers": [101]}, BlockedCustomer),
    "LicenseExpired": ({"expired_licenses": [101]}, LicenseExpired),
}


@pytest.mark.parametrize("reason", list(REASONS))
def test_each_403_reason_is_its_own_error_on_every_kind_of_call(sim, reason):
    setting, expected = REASONS[reason]
    client, _ = make_client(sim, JAN)
    sim.settings(**setting)
    calls = {"list": lambda: client.list(101, "financial/Journals"), "count": lambda: client.count(101, "crm/Accounts"),
             "right": lambda: client.has_right(101, "crm/Accounts", "GET"), "divisions": lambda: client.divisions(101)}
    for name, call in calls.items():
        with pytest.raises(expected) as raised:
            call()
        assert isinstance(raised.value, AttentionNeeded), name
        assert f"Reason: {reason}" in raised.value.detail and "HTTP 403" in raised.value.detail, name
        assert raised.value.key == reason
        assert client.token.access_token not in str(raised.value) + raised.value.message("en"), name


@pytest.mark.parametrize("reason", ["InactiveUser", "BlockedUser"])
def test_an_inactive_or_blocked_user_is_refused_at_current_me_too(sim, reason):
    setting, expected = REASONS[reason]
    client, _ = make_client(sim, JAN)
    sim.settings(**setting)
    with pytest.raises(expected):
        client.me()


def test_a_missing_app_scope_is_its_own_error_naming_the_endpoint_for_the_test(sim):
    client, _ = make_client(sim, JAN)
    sim.settings(missing_scopes=["Financial accounting"])
    with pytest.raises(ApplicationScopeViolated) as listed:
        client.list(101, "financial/Journals", filter="Type eq 20")
    assert listed.value.endpoint == "financial/Journals"
    assert listed.value.key == "ApplicationScopeViolated:financial/Journals"
    assert "Application Scope Violated" in listed.value.detail
    with pytest.raises(ApplicationScopeViolated) as counted:  # $count: asked without Accept, refused in XML
        client.count(101, "vat/VATCodes")
    assert counted.value.endpoint == "vat/VATCodes"
    assert client.list(101, "crm/Accounts", select=["ID"])  # other scopes still answer


def test_an_administration_left_out_of_the_consent_is_no_state_of_the_connection(sim):
    """NoDivisionAccess is about one administration (choose another, or tick it): not a reason to need attention."""
    token = Token.from_response(sim.token_for(JAN, divisions=[101]), sim.now())
    client = ExactClient(sim.base_url("nl"), token, refresh=lambda old: old, on_token=lambda new: None, clock=sim.now)
    with pytest.raises(NoDivisionAccess) as raised:
        client.list(102, "financial/Journals")
    assert not isinstance(raised.value, AttentionNeeded)
