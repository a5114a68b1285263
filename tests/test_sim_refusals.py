"""The simulator's 403s that need attention (exact_sim/settings.py): inactive and blocked users, a blocked customer,
an expired licence, an app scope OutSmart's registration lacks, and system/Divisions with or without the consent."""
import pytest
import requests

from simhelpers import JAN
from simhelpers import KARIN
from simhelpers import PIET

FORBIDDEN = {"error": {"code": "", "message": {"lang": "", "value": "Forbidden"}}}
SCOPE_VIOLATED = "Forbidden - Application Scope Violated. Cannot read"


@pytest.fixture
def token(sim):
    return sim.token_for(JAN)


@pytest.mark.parametrize("setting, reason", [("inactive_users", "InactiveUser"), ("blocked_users", "BlockedUser")])
def test_an_inactive_or_blocked_user_gets_403_with_the_reason_on_every_call(sim, token, setting, reason):
    sim.settings(**{setting: [JAN.upper()]})  # login names compare without case
    for path in ("current/Me", "101/system/Divisions", "101/financial/Journals", "102/crm/Accounts/$count",
                 "101/users/UserHasRights?endpoint='crm/Accounts'&action='GET'"):
        answer = sim.get(token, path)
        assert answer.status_code == 403, path
        assert answer.headers["Reason"] == reason and answer.json() == FORBIDDEN, path
    other = sim.token_for(PIET)  # another user of the same instance is not affected
    assert sim.get(other, "current/Me").status_code == 200 and sim.get(other, "111/system/Divisions").ok
    sim.settings(**{setting: []})
    assert sim.get(token, "current/Me").status_code == 200


@pytest.mark.parametrize("setting, reason", [("blocked_customers", "BlockedCustomer"),
                                             ("expired_licenses", "LicenseExpired")])
def test_a_blocked_customer_or_expired_licence_refuses_every_division_of_that_customer(sim, token, setting, reason):
    sim.settings(**{setting: [102]})  # 101–104 all belong to Bakker Holding B.V.
    for path in ("101/system/Divisions", "101/financial/Journals", "102/crm/Accounts/$count"):
        answer = sim.get(token, path)
        assert answer.status_code == 403 and answer.headers["Reason"] == reason, path
        assert answer.json() == FORBIDDEN
    assert sim.get(token, "current/Me").status_code == 200  # no division named, no customer refused
    assert sim.get(sim.token_for(PIET), "111/financial/Journals").status_code == 200  # another customer
    sim.settings(**{setting: [111]})
    assert sim.get(token, "101/financial/Journals").status_code == 200


def test_a_division_left_out_of_the_consent_is_refused_before_the_customer(sim):
    token = sim.token_for(JAN, divisions=[101])
    sim.settings(expired_licenses=[101])
    answer = sim.get(token, "102/financial/Journals")
    assert answer.status_code == 403 and answer.headers["Reason"] == "NoDivisionAccess"
    assert sim.get(token, "101/financial/Journals").headers["Reason"] == "LicenseExpired"


def test_a_missing_app_scope_refuses_its_endpoints_only_with_exacts_text(sim, token):
    sim.settings(missing_scopes=["Financial accounting"])
    for path in ("101/financial/Journals", "101/financial/GLAccounts", "101/vat/VATCodes",
                 "101/cashflow/PaymentConditions"):
        answer = sim.get(token, path)
        assert answer.status_code == 403 and "Reason" not in answer.headers, path
        assert answer.json()["error"]["message"]["value"] == SCOPE_VIOLATED
    as_count = sim.get(token, "101/financial/Journals/$count", accept=None)  # no Accept: Exact's XML envelope
    assert as_count.status_code == 403 and SCOPE_VIOLATED in as_count.text
    for path in ("current/Me", "101/system/Divisions", "101/crm/Accounts",
                 "101/users/UserHasRights?endpoint='financial/Journals'&action='GET'"):
        assert sim.get(token, path).status_code == 200, path


def test_without_the_organization_scope_no_administration_can_be_listed(sim, token):
    sim.settings(missing_scopes=["Organization administration"])
    answer = sim.get(token, "101/system/Divisions")
    assert answer.status_code == 403 and answer.json()["error"]["message"]["value"] == SCOPE_VIOLATED
    assert sim.get(token, "current/Me").status_code == 200


def test_the_divisions_list_in_a_division_left_out_of_the_consent_is_a_setting(sim):
    """Karin's consent leaves out her current administration 121: lenient (default) the list still answers there,
    strict (divisions_need_consent) it is 403 NoDivisionAccess, as an independently written Exact answers."""
    token = sim.token_for(KARIN)
    lenient = sim.get(token, "121/system/Divisions")
    assert lenient.status_code == 200 and [row["Code"] for row in lenient.json()["d"]["results"]] == [122]
    sim.settings(divisions_need_consent=True)
    strict = sim.get(token, "121/system/Divisions")
    assert strict.status_code == 403 and strict.headers["Reason"] == "NoDivisionAccess"
    assert [row["Code"] for row in sim.get(token, "122/system/Divisions").json()["d"]["results"]] == [122]


def test_a_reset_forgets_every_refusal(sim, token):
    sim.settings(inactive_users=[JAN], blocked_customers=[101], missing_scopes=["CRM accounts"],
                 divisions_need_consent=True)
    sim.reset()
    settings = sim.settings()
    assert (settings["inactive_users"], settings["blocked_customers"], settings["missing_scopes"]) == ([], [], [])
    assert settings["divisions_need_consent"] is False


@pytest.mark.parametrize("change, says", [
    ({"inactive_users": "jan"}, "must be a list"),
    ({"blocked_users": [1]}, "must be a list of names"),
    ({"blocked_customers": ["101"]}, "must be a list of division codes"),
    ({"expired_licenses": [True]}, "must be a list of division codes"),
    ({"missing_scopes": ["Everything"]}, "Unknown scope in missing_scopes: Everything"),
    ({"divisions_need_consent": 1}, "must be a bool"),
])
def test_a_refusal_setting_of_the_wrong_kind_is_refused_in_words(sim, change, says):
    answer = requests.post(f"{sim.url}/_sim/settings", json=change, timeout=10)
    assert answer.status_code == 400 and says in answer.json()["error"]
    assert sim.settings()["inactive_users"] == []
