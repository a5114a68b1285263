"""User-facing messages of every error class, and OData helpers."""
from datetime import datetime, timezone

import pytest

from exact import errors, odata
from exact.errors import (AccessDenied, ApplicationScopeViolated, AttentionNeeded, BlockedCustomer, BlockedUser,
                          ConfigurationError, CurrentDivisionNotGranted, DivisionBlocked, ExactError,
                          ExactRequestError, ExactUnavailable, InactiveUser, LicenseExpired, NoDivisionAccess,
                          RateLimited, ReauthorizationRequired, TooEarlyToRefresh)
from exact.errors import AccessTokenRefused, ErrorLimitReached, TokenBudgetSpent

DETAIL = "POST /api/oauth2/token -> HTTP 400; error: invalid_grant"
EXAMPLES = [
    ExactError(DETAIL),
    ReauthorizationRequired(DETAIL),
    TooEarlyToRefresh(1_570.0, DETAIL),
    RateLimited(1_620.0, "minutely", DETAIL),
    RateLimited(86_400.0, "daily", DETAIL),
    NoDivisionAccess(101, DETAIL),
    DivisionBlocked(101, DETAIL),
    ExactUnavailable(DETAIL),
    AccessDenied(DETAIL),
    ConfigurationError(DETAIL),
    ExactRequestError(DETAIL, exact_message="Bad Request - Error in query syntax."),
    CurrentDivisionNotGranted(121, DETAIL),
    AttentionNeeded(DETAIL),
    InactiveUser(DETAIL),
    BlockedUser(DETAIL),
    BlockedCustomer(DETAIL),
    LicenseExpired(DETAIL),
    ApplicationScopeViolated("financial/Journals", DETAIL),
    AccessTokenRefused(1_570.0, DETAIL),
    TokenBudgetSpent(86_400.0, 200, DETAIL),
    ErrorLimitReached(3_600.0, "financial/Journals", DETAIL),
]


def test_every_error_class_has_an_example():
    classes = {cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, ExactError)}
    assert classes == {type(example) for example in EXAMPLES}


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: f"{type(e).__name__}-{getattr(e, 'scope', '')}")
def test_messages_exist_in_dutch_english_french_and_german_and_differ(error):
    messages = {lang: error.message(lang) for lang in ("nl", "en", "fr", "de")}
    assert all(len(message) > 40 for message in messages.values())
    assert len(set(messages.values())) == 4
    assert error.message() == messages["nl"]
    assert error.message("en-GB") == messages["en"]
    assert error.message("fr-BE") == messages["fr"]
    assert error.message("es") == messages["nl"]  # the app speaks Dutch unless asked for a language it speaks


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: type(e).__name__)
def test_messages_do_not_leak_the_technical_detail(error):
    for lang in ("nl", "en", "fr", "de"):
        assert "invalid_grant" not in error.message(lang)
        assert "HTTP" not in error.message(lang)
    assert error.detail == DETAIL
    assert DETAIL in str(error)


def test_messages_name_the_division():
    assert "administratie 101" in NoDivisionAccess(101).message("nl")
    assert "Company 101" in DivisionBlocked(101).message("en")
    assert "l’administration 101" in NoDivisionAccess(101).message("fr")
    assert "Administration 101" in DivisionBlocked(101).message("de")


def test_reauthorization_message_tells_the_user_to_reconnect():
    assert "Verbind opnieuw" in ReauthorizationRequired().message("nl")
    assert "Reconnect" in ReauthorizationRequired().message("en")


@pytest.mark.parametrize("error", [InactiveUser(), BlockedUser()], ids=lambda e: type(e).__name__)
def test_an_inactive_or_blocked_user_is_told_to_connect_again_with_an_active_user(error):
    assert "Verbind opnieuw met een actieve Exact Online-gebruiker" in error.message("nl")
    assert "Reconnect with an active Exact Online user" in error.message("en")
    assert error.reconnect_helps


@pytest.mark.parametrize("error, nl, en", [
    (BlockedCustomer(), "als klant geblokkeerd", "blocked your company as a customer"),
    (LicenseExpired(), "abonnement (de licentie) van uw Exact Online is verlopen", "subscription (licence) has expired"),
], ids=lambda value: type(value).__name__ if isinstance(value, ExactError) else "")
def test_a_blocked_customer_or_an_expired_licence_is_put_right_at_exact_then_tested(error, nl, en):
    assert nl in error.message("nl") and "'Verbinding testen'" in error.message("nl")
    assert en in error.message("en") and "'Test connection'" in error.message("en")
    assert not error.reconnect_helps  # another login would not help


def test_a_missing_app_scope_is_for_outsmart_support_not_the_admin():
    error = ApplicationScopeViolated("financial/Journals")
    assert "neem contact op met de support van OutSmart" in error.message("nl")
    assert "Dit is niet iets wat u zelf kunt oplossen" in error.message("nl")
    assert "This is not something you can fix: contact OutSmart support" in error.message("en")
    assert error.key == "ApplicationScopeViolated:financial/Journals" and not error.reconnect_helps
    assert "financial/Journals" not in error.message("nl") + error.message("en")


def test_a_consent_without_the_current_administration_says_to_tick_it():
    error = CurrentDivisionNotGranted(121)
    assert "uw huidige administratie (121) niet aangevinkt" in error.message("nl")
    assert "vink bij Exact Online ook uw huidige administratie aan" in error.message("nl")
    assert "you did not tick your current administration (121)" in error.message("en")
    assert "Kies een andere administratie" not in error.message("nl")  # there is nothing to choose yet
    assert error.key == "CurrentDivisionNotGranted:121"


def test_configuration_error_tells_the_user_to_contact_support():
    assert "support" in ConfigurationError().message("nl")


def test_exact_request_error_keeps_exacts_text_out_of_the_message():
    error = ExactRequestError("GET /api/v1/101/crm/Accounts -> HTTP 400", exact_message="Error in query syntax.")
    assert error.exact_message == "Error in query syntax."
    assert "syntax" not in error.message("nl") + error.message("en")


def test_str_without_detail_falls_back_to_the_english_message():
    assert str(ExactUnavailable()) == "ExactUnavailable: " + ExactUnavailable().message("en")


def test_parse_date_turns_odata_dates_into_utc_datetimes():
    assert odata.parse_date("/Date(1641034800000)/") == datetime(2022, 1, 1, 11, 0, tzinfo=timezone.utc)
    assert odata.parse_date("/Date(1641034800000+0100)/") == datetime(2022, 1, 1, 11, 0, tzinfo=timezone.utc)
    assert odata.parse_date(None) is None
    with pytest.raises(ValueError, match="not an OData date"):
        odata.parse_date("2022-01-01")


ROW = {"ID": 1}


@pytest.mark.parametrize("payload", [{"d": {"results": [ROW]}}, {"d": [ROW]}])
def test_rows_reads_both_collection_shapes(payload):
    assert odata.rows(payload) == [ROW]


@pytest.mark.parametrize("payload", [{"d": {"results": [ROW]}}, {"d": [ROW]}, {"d": ROW}])
def test_single_reads_entities_and_one_row_collections(payload):
    assert odata.single(payload) == ROW


@pytest.mark.parametrize("payload", [[], {"e": 1}, {"d": "x"}, {"d": {"results": ["x"]}}, {"d": {"results": []}}])
def test_unreadable_envelopes_mean_exact_is_unavailable(payload):
    with pytest.raises(ExactUnavailable):
        odata.single(payload)


def test_error_message_reads_exacts_error_envelope():
    envelope = {"error": {"code": "", "message": {"lang": "", "value": "Forbidden"}}}
    assert odata.error_message(envelope) == "Forbidden"
    assert odata.error_message({"d": {}}) == ""


def test_the_waits_say_the_connection_is_fine_and_name_no_token():
    for error in (AccessTokenRefused(1_570.0), TokenBudgetSpent(86_400.0, 200), ErrorLimitReached(3_600.0)):
        assert "opnieuw te verbinden" in error.message("nl") or "niets te doen" in error.message("nl") \
            or "blokkeert" in error.message("nl")
        assert "token" not in error.message("nl").lower() and "token" not in error.message("en").lower()
    assert "200 keer per dag" in TokenBudgetSpent(86_400.0, 200).message("nl")
    assert "200 times a day" in TokenBudgetSpent(86_400.0, 200).message("en")
