"""The simulator's REST API: bearer auth, envelopes, content negotiation, paging, query options, rights (§2, §8.4, §8.5)."""
import xml.etree.ElementTree as ET

import pytest
import requests

from exact_sim.masterdata import ENTITIES
from exact_sim.settings import TYPED_FIELDS
from simhelpers import ACCOUNTANT
from simhelpers import CARMEN
from simhelpers import JAN
from simhelpers import JULIEN
from simhelpers import KARIN
from simhelpers import MAX
from simhelpers import OLIVER
from simhelpers import PIET
from simhelpers import SOFIE
from simhelpers import USER_COUNTRY

FORBIDDEN = {"error": {"code": "", "message": {"lang": "", "value": "Forbidden"}}}
ME_FIELDS = {"UserID", "CurrentDivision", "UserName", "FullName", "FirstName", "LastName", "Email", "LanguageCode", "Language",
             "Legislation", "DivisionCustomer", "DivisionCustomerCode", "DivisionCustomerName", "DivisionCustomerVatNumber",
             "AccountingDivision", "ServerTime", "ServerUtcOffset"}
DIVISION_FIELDS = {"Code", "Description", "Country", "Currency", "VATNumber", "Status", "BlockingStatus", "Current", "Customer",
                   "CustomerCode", "CustomerName", "Hid", "IsMainDivision", "Legislation", "StartDate"}


def envelope(message: str) -> dict:
    """Exact's error envelope."""
    return {"error": {"code": "", "message": {"lang": "", "value": message}}}


def all_pages(sim, token, path: str, **params) -> tuple[list[dict], list[requests.Response]]:
    """Follow __next from the first page to the last; return the rows and every page's response."""
    responses = [sim.get(token, path, params=params)]
    while True:
        assert responses[-1].status_code == 200
        page = responses[-1].json()["d"]
        if "__next" not in page:
            return [row for response in responses for row in response.json()["d"]["results"]], responses
        responses.append(requests.get(page["__next"], headers={"Authorization": f"Bearer {token['access_token']}",
                                                              "Accept": "application/json"}, timeout=5))


# Authentication


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Bearer gAAAAnot-a-token", "Basic abc"])
def test_rest_without_a_valid_bearer_token_is_401_with_empty_body(sim, authorization):
    headers = {"Accept": "application/json", **({"Authorization": authorization} if authorization else {})}
    for path in ("current/Me", "101/system/Divisions"):
        answer = requests.get(f"{sim.base_url('nl')}/api/v1/{path}", headers=headers, timeout=5)
        assert answer.status_code == 401
        assert answer.content == b""


def test_access_token_must_be_sent_with_the_bearer_scheme(sim):
    access_token = sim.token_for(JAN)["access_token"]
    assert sim.get(None, "current/Me", headers={"Authorization": f"Basic {access_token}"}).status_code == 401
    assert sim.get(None, "current/Me", headers={"Authorization": f"bearer {access_token}"}).status_code == 200


def test_access_token_expires_after_600_seconds(sim):
    token = sim.token_for(JAN)
    sim.advance(599)
    assert sim.get(token, "101/financial/Journals").status_code == 200
    sim.advance(2)
    assert sim.get(token, "101/financial/Journals").status_code == 401
    assert sim.get(token, "current/Me").status_code == 401


def test_rest_401_body_is_configurable(sim):
    sim.settings(rest_401_body='{"error":"expired"}')
    answer = sim.get("nonsense", "current/Me")
    assert answer.status_code == 401
    assert answer.text == '{"error":"expired"}'


# current/Me


def test_me_describes_the_user_and_current_division(sim):
    answer = sim.get(sim.token_for(JAN), "current/Me")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    rows = answer.json()["d"]["results"]
    assert len(rows) == 1
    me = rows[0]
    assert set(me) == ME_FIELDS | {"__metadata"}
    assert me["__metadata"] == {"uri": f"{sim.base_url('nl')}/api/v1/current/Me(guid'{me['UserID']}')",
                                "type": "Exact.Web.Api.System.Me"}
    assert (me["UserName"], me["FullName"], me["CurrentDivision"]) == (JAN, "Jan Bakker", 101)
    assert me["DivisionCustomerName"] == "Bakker Holding B.V."
    assert me["LanguageCode"] == "nl-NL"


def test_me_server_time_follows_the_simulated_clock(sim):
    token = sim.token_for(JAN)
    now = sim.now()
    server_time = sim.get(token, "current/Me").json()["d"]["results"][0]["ServerTime"]
    milliseconds = int(server_time.removeprefix("/Date(").removesuffix(")/"))
    assert now * 1000 <= milliseconds < now * 1000 + 5000


def test_me_honours_select(sim):
    me = sim.get(sim.token_for(JAN), "current/Me", params={"$select": "CurrentDivision"}).json()["d"]["results"][0]
    assert set(me) == {"__metadata", "CurrentDivision"}


def test_me_has_no_rate_limit_headers(sim):
    answer = sim.get(sim.token_for(JAN), "current/Me")
    assert not [name for name in answer.headers if name.lower().startswith("x-ratelimit")]


# Content negotiation


def test_without_json_accept_the_answer_is_an_atom_feed(sim):
    token = sim.token_for(JAN)
    for accept in (None, "application/xml", "*/*"):
        answer = sim.get(token, "101/system/Divisions", accept=accept)
        assert answer.status_code == 200
        assert answer.headers["Content-Type"] == "application/atom+xml;type=feed;charset=utf-8"
        feed = ET.fromstring(answer.content)
        assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
        assert len(feed.findall("{http://www.w3.org/2005/Atom}entry")) == 4


def test_count_is_plain_text_whatever_the_accept_header(sim):
    token = sim.token_for(JAN)
    for accept in (None, "application/json"):
        answer = sim.get(token, "101/crm/Accounts/$count", accept=accept)
        assert answer.headers["Content-Type"].startswith("text/plain")
        assert answer.text == "75"


def test_error_envelope_follows_content_negotiation(sim):
    token = sim.token_for(KARIN)
    as_json = sim.get(token, "121/financial/Journals")
    assert as_json.json() == FORBIDDEN
    as_xml = sim.get(token, "121/financial/Journals", accept=None)
    assert as_xml.status_code == 403
    message = ET.fromstring(as_xml.content).find("{http://schemas.microsoft.com/ado/2007/08/dataservices/metadata}message")
    assert message.text == "Forbidden"


# Division access


def test_division_not_ticked_in_consent_is_403_no_division_access(sim):
    token = sim.token_for(KARIN)
    answer = sim.get(token, "121/financial/Journals")
    assert answer.status_code == 403
    assert answer.headers["Reason"] == "NoDivisionAccess"
    assert answer.json() == FORBIDDEN
    assert sim.get(token, "122/financial/Journals").status_code == 200


def test_division_of_another_user_is_403_no_division_access(sim):
    token = sim.token_for(JAN)
    for path in ("111/financial/Journals", "111/system/Divisions", "999999/system/Divisions"):
        answer = sim.get(token, path)
        assert answer.status_code == 403
        assert answer.headers["Reason"] == "NoDivisionAccess"


def test_blocked_division_is_403_division_blocked(sim):
    answer = sim.get(sim.token_for(JAN), "104/financial/Journals")
    assert answer.status_code == 403
    assert answer.headers["Reason"] == "DivisionBlocked"
    assert answer.json() == FORBIDDEN


def test_unknown_entity_is_404_envelope(sim):
    answer = sim.get(sim.token_for(JAN), "101/crm/Nonsense")
    assert answer.status_code == 404
    assert answer.json() == envelope("Resource not found for the segment 'Nonsense'.")


def test_non_numeric_division_is_404(sim):
    answer = sim.get(sim.token_for(JAN), "abc/system/Divisions")
    assert answer.status_code == 404
    assert answer.json()["error"]["message"]["value"] == "Resource not found for the segment 'abc'."


# system/Divisions


def test_divisions_lists_only_consented_divisions_with_the_documented_fields(sim):
    token = sim.token_for(JAN, divisions=[101, 103])
    rows = sim.get(token, "101/system/Divisions").json()["d"]["results"]
    assert [row["Code"] for row in rows] == [101, 103]
    assert DIVISION_FIELDS <= set(rows[0])
    current, archived = rows
    assert (current["Current"], current["Status"], current["Description"]) == (True, 1, "Bakker Installatietechniek B.V.")
    assert (archived["Current"], archived["Status"]) == (False, 2)
    assert current["__metadata"] == {"uri": f"{sim.base_url('nl')}/api/v1/101/system/Divisions(101)",
                                     "type": "Exact.Web.Api.System.SystemDivision"}
    assert current["StartDate"].startswith("/Date(")


def test_divisions_accepts_any_accessible_division_in_the_path(sim):
    token = sim.token_for(KARIN)
    answer = sim.get(token, "121/system/Divisions")
    assert answer.status_code == 200
    assert [row["Code"] for row in answer.json()["d"]["results"]] == [122]


def test_divisions_show_the_country_and_currency_of_their_instance(sim):
    token = sim.token_for(OLIVER)
    row = sim.get(token, "501/system/Divisions", cc="uk").json()["d"]["results"][0]
    assert (row["Country"], row["Currency"]) == ("GB", "GBP")


def test_accountant_divisions_page_by_60_and_reach_all_250_once(sim):
    token = sim.token_for(ACCOUNTANT)
    rows, pages = all_pages(sim, token, "300001/system/Divisions")
    assert [len(page.json()["d"]["results"]) for page in pages] == [60, 60, 60, 60, 10]
    codes = [row["Code"] for row in rows]
    assert sorted(codes) == list(range(300001, 300251))
    first_next = pages[0].json()["d"]["__next"]
    assert first_next.startswith(f"{sim.base_url('nl')}/api/v1/300001/system/Divisions?")
    assert "$skiptoken=300060" in first_next
    assert {row["Status"] for row in rows} == {0, 1, 2}
    assert any(row["BlockingStatus"] for row in rows)


def test_top_limits_a_page_and_carries_the_rest_into_next(sim):
    token = sim.token_for(ACCOUNTANT)
    small = sim.get(token, "300001/system/Divisions", params={"$top": "5"}).json()["d"]
    assert len(small["results"]) == 5 and "__next" not in small
    rows, pages = all_pages(sim, token, "300001/system/Divisions", **{"$top": "100"})
    assert [len(page.json()["d"]["results"]) for page in pages] == [60, 40]
    assert "$top=40" in pages[0].json()["d"]["__next"]
    assert len({row["Code"] for row in rows}) == 100


def test_select_returns_only_the_chosen_fields_on_every_page(sim):
    token = sim.token_for(ACCOUNTANT)
    rows, pages = all_pages(sim, token, "300001/system/Divisions", **{"$select": "Code,Description"})
    assert len(rows) == 250
    assert all(set(row) == {"__metadata", "Code", "Description"} for row in rows)
    assert "$select=Code,Description" in pages[0].json()["d"]["__next"]


def test_select_of_an_unknown_field_is_400(sim):
    answer = sim.get(sim.token_for(JAN), "101/system/Divisions", params={"$select": "Code,Nope"})
    assert answer.status_code == 400
    assert answer.json() == envelope("Could not find a property named 'Nope'.")


# $filter


def test_filter_by_int_and_bool_clauses(sim):
    token = sim.token_for(ACCOUNTANT)
    archived, _ = all_pages(sim, token, "300001/system/Divisions", **{"$filter": "Status eq 2"})
    assert archived and all(row["Status"] == 2 for row in archived)
    active, _ = all_pages(sim, token, "300001/system/Divisions", **{"$filter": "Status eq 1 and BlockingStatus eq 0"})
    assert len(active) + len(archived) < 250
    assert all(row["Status"] == 1 and row["BlockingStatus"] == 0 for row in active)
    current = sim.get(token, "300001/system/Divisions", params={"$filter": "Current eq true"}).json()["d"]["results"]
    assert [row["Code"] for row in current] == [300001]
    assert sim.get(token, "300001/system/Divisions", params={"$filter": "Status eq true"}).json()["d"]["results"] == []
    assert sim.get(token, "300001/system/Divisions", params={"$filter": "Status eq '1'"}).json()["d"]["results"] == []


def test_filter_by_quoted_string_including_padding(sim):
    token = sim.token_for(JAN)
    rows = sim.get(token, "101/crm/Accounts", params={"$filter": "Code eq '                 7'"}).json()["d"]["results"]
    assert [row["Code"] for row in rows] == ["7".rjust(18)]
    assert sim.get(token, "101/crm/Accounts", params={"$filter": "Code eq '7'"}).json()["d"]["results"] == []


def test_filter_by_guid(sim):
    token = sim.token_for(JAN)
    first = sim.get(token, "101/vat/VATCodes").json()["d"]["results"][0]
    rows = sim.get(token, "101/vat/VATCodes", params={"$filter": f"ID eq guid'{first['ID'].upper()}'"}).json()["d"]["results"]
    assert [row["ID"] for row in rows] == [first["ID"]]


def test_filter_on_an_unknown_field_is_400_not_supported(sim):
    answer = sim.get(sim.token_for(JAN), "101/crm/Accounts", params={"$filter": "Classification eq 'A' and Name eq 'x'"})
    assert answer.status_code == 400
    assert answer.json() == envelope("Filtering on these fields is not supported: Classification")


@pytest.mark.parametrize("expression", ["Code eq", "Code = '1'", "Code eq 'x' or Name eq 'y'", "Name eq 'unclosed",
                                        "Blocked eq trueand Code eq '1'"])
def test_filter_syntax_error_is_400(sim, expression):
    answer = sim.get(sim.token_for(JAN), "101/crm/Accounts", params={"$filter": expression})
    assert answer.status_code == 400
    assert answer.json() == envelope("Bad Request - Error in query syntax.")


def test_count_honours_filter(sim):
    token = sim.token_for(JAN)
    blocked = [row for row in all_pages(sim, token, "101/crm/Accounts")[0] if row["Blocked"]]
    answer = sim.get(token, "101/crm/Accounts/$count", params={"$filter": "Blocked eq true"}, accept=None)
    assert answer.text == str(len(blocked))


# Master data


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_master_data_rows_carry_metadata_and_their_declared_fields(sim, entity):
    token = sim.token_for(JAN)
    rows = sim.get(token, f"101/{entity}").json()["d"]["results"]
    assert rows
    for row in rows:
        assert set(row) == {"__metadata", *ENTITIES[entity].fields}
        assert row["__metadata"] == {"uri": f"{sim.base_url('nl')}/api/v1/101/{entity}(guid'{row['ID']}')",
                                     "type": ENTITIES[entity].type_name}


def test_master_data_differs_per_division(sim):
    token = sim.token_for(ACCOUNTANT)
    codes = [frozenset(row["Code"] for row in sim.get(token, f"{division}/financial/GLAccounts").json()["d"]["results"])
             for division in (300002, 300003, 300004, 300005)]
    assert len(set(codes)) > 1


def test_journals_gl_accounts_and_vat_codes_look_like_exact(sim):
    token = sim.token_for(JAN)
    journals = sim.get(token, "101/financial/Journals").json()["d"]["results"]
    assert {10, 12, 20, 22, 90} <= {row["Type"] for row in journals}
    accounts = {row["Code"]: row for row in sim.get(token, "101/financial/GLAccounts").json()["d"]["results"]}
    assert (accounts["8000"]["Description"], accounts["8000"]["BalanceType"], accounts["8000"]["BalanceSide"]) == \
        ("Omzet hoog", "W", "C")
    assert accounts["8010"]["Description"] == "Omzet laag"
    assert accounts["1300"]["BalanceType"] == "B"
    vat = {row["Code"]: row for row in sim.get(token, "101/vat/VATCodes").json()["d"]["results"]}
    assert {row["Percentage"] for row in vat.values()} == {0.21, 0.09, 0.06, 0.0}
    assert [(vat[code]["Description"], vat[code]["Percentage"], vat[code]["Type"]) for code in ("1", "2", "0")] == [
        ("Btw hoog 21%", 0.21, "E"), ("Btw laag 9%", 0.09, "E"), ("Geen btw", 0.0, "N")]
    # Codes a sales row must not take: inclusive, blocked, reverse charge ("verlegd"), purchase only.
    assert vat["3"]["Type"] == "I" and vat["4"]["IsBlocked"] is True
    assert vat["5"]["Charged"] is True and vat["6"]["VATTransactionType"] == "P"


@pytest.mark.parametrize("username, division, rates", [
    (JAN, 101, {0.21, 0.09, 0.0}), (SOFIE, 201, {0.21, 0.12, 0.06, 0.0}), (MAX, 401, {0.19, 0.07, 0.0}),
    (OLIVER, 501, {0.2, 0.05, 0.0}), (CARMEN, 701, {0.21, 0.1, 0.04}), (JULIEN, 801, {0.2, 0.1, 0.055, 0.021})])
def test_each_country_has_its_own_sales_vat_rates_in_its_own_language(sim, username, division, rates):
    country = USER_COUNTRY[username]
    vat = sim.get(sim.token_for(username), f"{division}/vat/VATCodes", cc=country).json()["d"]["results"]
    usable = [row for row in vat if row["Type"] in "EBN" and row["VATTransactionType"] in "SB"
              and not row["IsBlocked"] and not row["Charged"]]
    assert {row["Percentage"] for row in usable} == rates
    assert len(usable) == len(rates), "one code per rate: the page proposes it"
    descriptions = " ".join(row["Description"] for row in vat)
    word = {JAN: "Btw", SOFIE: "Btw", MAX: "Umsatzsteuer", OLIVER: "rate", CARMEN: "IVA", JULIEN: "TVA"}[username]
    assert word in descriptions


def test_accounts_have_right_aligned_codes_and_page(sim):
    rows, pages = all_pages(sim, sim.token_for(JAN), "101/crm/Accounts")
    assert [len(page.json()["d"]["results"]) for page in pages] == [60, 15]
    assert len({row["ID"] for row in rows}) == 75
    assert all(len(row["Code"]) == 18 and row["Code"] == row["Code"].strip().rjust(18) for row in rows)
    assert "$skiptoken=guid'" in pages[0].json()["d"]["__next"]


def test_empty_collections_and_zero_counts(sim):
    token = sim.token_for(JAN)
    assert sim.get(token, "103/crm/Accounts/$count", accept=None).text == "0"
    assert sim.get(token, "102/logistics/Items/$count", accept=None).text == "0"
    assert sim.get(token, "102/logistics/Items").json() == {"d": {"results": []}}


# Rights


def test_user_has_rights_for_piet(sim):
    token = sim.token_for(PIET)

    def has(endpoint, action):
        answer = sim.get(token, "111/users/UserHasRights", params={"endpoint": f"'{endpoint}'", "action": f"'{action}'"})
        assert answer.status_code == 200
        return answer.json()["d"]["UserHasRights"]

    assert has("salesinvoice/SalesInvoices", "POST") is False
    assert has("SalesInvoice/salesinvoices", "post") is False
    assert has("salesinvoice/SalesInvoices", "GET") is True
    assert has("crm/Accounts", "POST") is True


def test_user_has_rights_is_true_for_jan(sim):
    answer = sim.get(sim.token_for(JAN), "101/users/UserHasRights",
                     params={"endpoint": "'salesinvoice/SalesInvoices'", "action": "'POST'"})
    assert answer.json() == {"d": {"UserHasRights": True}}


@pytest.mark.parametrize(("params", "missing"), [
    ({"action": "'GET'"}, "endpoint"),
    ({"endpoint": "'crm/Accounts'"}, "action"),
    ({"endpoint": "crm/Accounts", "action": "'GET'"}, "endpoint"),
])
def test_user_has_rights_needs_quoted_parameters(sim, params, missing):
    answer = sim.get(sim.token_for(JAN), "101/users/UserHasRights", params=params)
    assert answer.status_code == 400
    assert answer.json() == envelope(f"Missing required parameter: {missing}")


def test_reading_without_read_right_gives_an_empty_list(sim):
    sim.seed_user("lezer@example.nl", 1, denied=[["crm/Accounts", "GET"]])
    token = sim.token_for("lezer@example.nl")
    division = sim.get(token, "current/Me").json()["d"]["results"][0]["CurrentDivision"]
    assert sim.get(token, f"{division}/crm/Accounts").json() == {"d": {"results": []}}
    assert sim.get(token, f"{division}/crm/Accounts/$count", accept=None).text == "0"
    assert sim.get(token, f"{division}/logistics/Items").json()["d"]["results"]
    rights = sim.get(token, f"{division}/users/UserHasRights", params={"endpoint": "'crm/Accounts'", "action": "'GET'"})
    assert rights.json() == {"d": {"UserHasRights": False}}


# What people type at Exact (the typed_texts setting)


def test_typed_texts_serve_every_name_and_description_as_set_and_codes_as_seeded(sim):
    token = sim.token_for(JAN)
    seeded = {path: sim.get(token, path).json()["d"]["results"]
              for path in ("current/Me", "101/system/Divisions", *(f"101/{entity}" for entity in sorted(ENTITIES)))}
    sim.settings(typed_texts="<b hx-get='/x'>{text}</b>")
    typed_fields = set()
    for path, rows in seeded.items():
        served = sim.get(token, path).json()["d"]["results"]
        assert len(served) == len(rows)
        for before, after in zip(rows, served):
            for name, value in before.items():
                if name in TYPED_FIELDS and isinstance(value, str):
                    assert after[name] == f"<b hx-get='/x'>{value}</b>", (path, name)
                    typed_fields.add(name)
                elif name != "ServerTime":
                    assert after[name] == value, (path, name)
            assert after["__metadata"] == before["__metadata"]
            assert after.get("Code") == before.get("Code")
    assert {"FullName", "FirstName", "LastName", "UserName", "Email", "Description", "VATNumber", "Name"} <= typed_fields
    # Without {text} the setting is the whole text; filtering sees what is served; logging in is unchanged.
    sim.settings(typed_texts="<i>")
    rows = sim.get(token, "101/system/Divisions", params={"$filter": "Description eq '<i>'"}).json()["d"]["results"]
    assert sorted(row["Code"] for row in rows) == [101, 102, 103, 104]
    assert sim.token_for(JAN)["access_token"]
    assert sim.get(token, "current/Me").json()["d"]["results"][0]["FullName"] == "<i>"
