"""Random, oversized and malformed input on every form POST, every GET and the token API (hypothesis): never a 500,
every refusal a 4xx that says what happened in words, and nothing in the database changed by a refusal.

OWASP ASVS V5 (validation, sanitisation) and V13 (API); a refusal is proven by the rows as stored before and after.
"""
from urllib.parse import quote

import pytest
from hypothesis import event
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.test import EnvironBuilder
from werkzeug.test import encode_multipart
from werkzeug.wrappers import Request

from exact.hosts import COUNTRIES
from forms.rights import SWITCHES
from forms.settings import DOCUMENT_TYPES
from forms.settings import SettingsForm
from hostile import A
from hostile import B
from hostile import COUNTS
from hostile import HOSTILE
from hostile import KEY
from hostile import OPEN_FROM_OUTSMART
from hostile import PAGE_EXPIRED
from hostile import Stage
from hostile import assert_exact_login
from hostile import assert_refused_with_a_message
from hostile import assert_stays_home
from hostile import comparable
from hostile import contains_nul
from hostile import first
from hostile import hostile_form
from hostile import hostile_query
from hostile import hostile_value
from hostile import materialise
from hostile import snapshot
from hostile import text
from models import Connection
from models import LoginAttempt
from simhelpers import JAN
from wizard_actions import EXACT_SELECTS
from wizard_actions import VAT_SELECTS
from wizard_actions import flat_settings

SELECTABLE = (101, 102)
NOT_READABLE = "NUL"  # the refusal of a request with a NUL character (views/errors.py)
TOO_LARGE = "te groot"  # the refusal of a form too large to read (views/errors.py)


@pytest.fixture(autouse=True)
def _push_request_context():
    """Replaces pytest-flask's fixture of that name, which pushes one request context for the whole test: under it
    every request shares one `g`, where Flask-WTF caches the CSRF token. Here each request gets its own."""


@pytest.fixture
def stage(request, app, sim):
    return Stage(app, sim, saved=request.param == "saved")


@pytest.fixture
def connected_stage(app, sim):
    return Stage(app, sim, saved=False)


@pytest.fixture
def saved_stage(app, sim):
    return Stage(app, sim, saved=True)


def received_multipart(app, payload, content_type) -> dict:
    """A multipart body as the app's request.form will hold it: {name: [values]}; raises RequestEntityTooLarge."""
    environ = EnvironBuilder(method="POST", data=payload, content_type=content_type).get_environ()
    request = Request(environ)
    request.max_form_parts = app.config["MAX_FORM_PARTS"]
    request.max_form_memory_size = app.config["MAX_FORM_MEMORY_SIZE"]
    return {name: values for name, values in request.form.lists()}


# --- what each form accepts -------------------------------------------------------------------------------------------

def _country(stage, form, request_form, response, context):
    """Step 2 (and reconnecting a saved connection: only its own country): on to Exact, or the popup's waiting step."""
    country = first(form, "country")
    if country not in COUNTRIES or (stage.saved and country != "nl"):
        return False
    attempts = LoginAttempt.select().where(LoginAttempt.id.not_in(stage.attempt_ids))
    assert attempts.count() == 1 and attempts.get().country == country, context
    if first(request_form, "popup"):  # the view reads it from the request's form itself
        assert response.status_code == 200 and "data-login-url" in response.get_data(as_text=True), context
    else:
        assert response.status_code == 303, context
        assert_exact_login(stage.app, response.headers["Location"], context)
        assert response.headers["Location"].startswith(stage.sim.base_url(country) + "/"), context
    started = ["loginattempt", COUNTS]  # the attempt, and the start counted against the account's limit
    assert comparable(snapshot(), started) == comparable(stage.tables, started), context
    return True


def _division(form):
    try:
        return int(first(form, "division"))
    except (TypeError, ValueError):
        return None


def _administration(stage, form, request_form, response, context):
    """Step 5: only an administration A's consent allows, in use, and not once the choice is locked."""
    code = _division(form)
    if stage.saved or code not in SELECTABLE:
        return False
    assert response.status_code == 303 and response.headers["Location"] == "/exact/administratie", context
    assert stage.connection().draft_division == code, context
    return True


def _settings(stage, form, request_form, response, context):
    """Step 6: whatever is accepted is stored only as values the form offers."""
    if response.status_code == 200 and first(form, "filters") in ("item_groups", "relation_types"):
        stage.assert_unchanged(context)  # "Filter on …" only shows that filter's choices
        return True
    if response.status_code != 303:
        return False
    expected = "/exact?notice=settings_saved" if stage.saved else "/exact/controle"
    assert response.headers["Location"] == expected, context
    connection = stage.connection()
    stored = connection.settings if stage.saved else connection.draft_settings
    assert set(stored) == stage.setting_names, context
    stored = flat_settings(stored)
    options = stage.options
    for name in (*EXACT_SELECTS, "trigger_status", "success_status", "hour_rounding"):
        assert stored.get(name) in [*options[name], "", None], f"{context}: {name}={str(stored[name])[:80]!r}"
    assert stored["document_type"] in [choice.value for choice in DOCUMENT_TYPES] + ["", None], context
    for name in ("relation_types", "item_groups"):
        assert set(stored[name]) <= set(options.get(name, [])), f"{context}: {name}"
    for name, value in stored.items():
        if name.startswith(("import_", "export_", "create_", "relations_include")):
            assert isinstance(value, bool), f"{context}: {name}={value!r}"
    return True


def _check(stage, form, request_form, response, context):
    """Step 7, Opslaan: only when confirmed and for the account's own country; a saved one is never saved again."""
    if stage.saved:
        assert_refused_with_a_message(response, {409}, context, says="al opgeslagen")
        stage.assert_unchanged(context)
        return True
    if first(request_form, "action") == "switch_off":
        # The checklist's "Deze instellingen uitzetten": only on/off settings, each then off in the draft; the
        # checklist is shown again with the rights asked anew (200, or 422 if one is still missing).
        off = request_form.get("off")
        off = off if isinstance(off, list) else [] if off is None else [off]
        if not off or not set(off) <= set(SWITCHES):
            return False
        assert response.status_code in (200, 422) and "check-rights" in response.get_data(as_text=True), context
        draft = stage.connection().draft_settings
        assert all(draft[name] is False for name in off) and set(draft) == stage.setting_names, context
        return True
    # Confirmed: the box ticked for the administration chosen now (the page's hidden field names it).
    confirmed = first(form, "confirm") not in (None, "", "false") and first(form, "administration") == "101"
    if not (confirmed and (first(form, "country") or "nl") == "nl"):
        return False
    assert response.status_code == 303 and response.headers["Location"] == "/exact?notice=saved", context
    connection = stage.connection()
    assert (connection.status, connection.division) == (Connection.SAVED, 101), context
    return True


def _disconnect(stage, form, request_form, response, context):
    """Disconnecting has nothing to fill in: any fields are ignored, nothing of them is stored."""
    assert response.status_code == 303 and response.headers["Location"] == "/exact?notice=disconnected", context
    connection = stage.connection()
    assert connection.status == Connection.DISCONNECTED and connection.refresh_token is None, context
    assert connection.settings == stage.settings and connection.draft_division is None, context
    return True


def _refresh(stage, form, request_form, response, context):
    """Reading the lists from Exact again takes no input."""
    assert response.status_code == 303 and response.headers["Location"] == "/exact/instellingen", context
    return True


def _extend_session(stage, form, request_form, response, context):
    """"Langer blijven" takes no input: any fields are ignored; the answer is a fresh copy of the visit's session."""
    answer = response.get_json(silent=True) or {}
    assert response.status_code == 200 and set(answer) == {"session", "seconds"}, context
    assert answer["seconds"] == stage.app.permanent_session_lifetime.total_seconds(), context
    stage.assert_unchanged(context)
    return True


def _test_connection(stage, form, request_form, response, context):
    """Verbinding testen takes no input. Saved: it asks Exact (which accepts the connection) and changes nothing;
    before saving there is nothing to test: back to the overview."""
    expected = "/exact/testen?notice=tested" if stage.saved else "/exact"
    assert response.status_code == 303 and response.headers["Location"] == expected, context
    stage.assert_unchanged(context)
    return True


def _cancel_login(stage, form, request_form, response, context):
    """Annuleren on the waiting step takes no input: A's own popup login ends, and the page goes back a step."""
    expected = "/exact?notice=login_aborted" if stage.saved else "/exact/land?notice=login_aborted"
    assert response.status_code == 303 and response.headers["Location"] == expected, context
    assert LoginAttempt.get_by_id(stage.popup_attempt.id).outcome == "aborted", context
    stage.assert_unchanged(context, skip_tables=["loginattempt"])
    return True


POSTS = {
    "/exact/land": (("country", "popup"), ("nl", "be", "uk", "1"), _country),
    "/exact/administratie": (("division",), ("101", "102", "103", "104", "111", "121"), _administration),
    "/exact/instellingen": (tuple(SettingsForm.EXACT_CHOICES) + VAT_SELECTS + (
                                "import_relations", "export_work_orders", "trigger_status", "success_status",
                                "document_type", "hour_rounding", "filters"),
                            ("y", "compleet", "afgehandeld", "sales_order", "15", "8010", "70", "5", "item_groups",
                             "1", "2", "0", "3", "6"),
                            _settings),
    "/exact/instellingen/vernieuwen": ((), (), _refresh),
    "/exact/controle": (("confirm", "country", "administration", "action", "off"),
                        ("y", "nl", "be", "101", "switch_off", "import_employees", "export_work_orders"), _check),
    "/exact/verbreken": ((), (), _disconnect),
    "/exact/testen": ((), (), _test_connection),
    "/exact/login/<attempt_id>/annuleren": ((), (), _cancel_login),
    "/sessie/verlengen": ((), (), _extend_session),
}


# The login popup's own posts have no session and no CSRF token (the secret its iframe handed it is their proof):
# tests/test_login_binding.py sends them hostile fields and values.
POPUP_POSTS = {"/exact/login/<attempt_id>", "/exact/callback"}


def test_every_form_post_of_the_app_is_covered(app):
    """The table above is every form POST the app has (the token API and the popup's posts have their own tests;
    the workers' reports too: tests/test_worker_reports.py)."""
    posts = {rule.rule for rule in app.url_map.iter_rules() if "POST" in rule.methods and rule.endpoint != "static"}
    api_posts = {"/api/v1/accounts/<account>/access-token", "/api/v1/accounts/<account>/connection/problems"}
    assert posts - api_posts - POPUP_POSTS == set(POSTS)


# Mostly what a page sends, so most examples get past the session and CSRF to the form's own checks.
CSRF = ["valid"] * 6 + ["missing", "garbage", "other visit", "other key"]
SESSIONS = ["cookie"] * 6 + ["none", "forged"]
ENCODINGS = ["urlencoded"] * 4 + ["multipart", "json", "text"]


# Both stages where the answer depends on it (reconnecting, the locked administration, Opslaan once); refreshing the
# lists and disconnecting do the same on both.
STAGED_POSTS = [(stage, path) for path in POSTS for stage in ("connected", "saved")
                if stage == "connected" or path not in ("/exact/instellingen/vernieuwen", "/exact/verbreken")]


# An accepted post stores only valid values; every other one is a 4xx with a message and leaves every row as it was.
@pytest.mark.parametrize("stage, path", STAGED_POSTS, indirect=["stage"])
@settings(HOSTILE, max_examples=35)
@given(data=st.data())
def test_a_hostile_form_post_is_refused_with_a_message_and_changes_nothing(stage, path, data):
    """Any fields, values and encoding, with or without session and CSRF token: valid stored, else a 4xx in words."""
    fields, good_values, _accepts = POSTS[path]
    form = materialise(data.draw(hostile_form(fields, good_values), label="form"))
    csrf = data.draw(st.sampled_from(CSRF), label="csrf")
    token = None
    if csrf == "garbage":  # a header can carry anything but a line break
        token = data.draw(text.filter(lambda value: value.strip() and not set(value) & {"\r", "\n"}), label="token")
    encoding = data.draw(st.sampled_from(ENCODINGS), label="encoding")
    status = post_and_check(stage, path, form, csrf=csrf, token=token, encoding=encoding,
                            csrf_in=data.draw(st.sampled_from(["form", "header"]), label="csrf_in"),
                            session=data.draw(st.sampled_from(SESSIONS), label="session"),
                            htmx=data.draw(st.booleans(), label="htmx"))
    event(f"{encoding}: {status}")  # pytest --hypothesis-show-statistics: which ways the examples took


# Values picked by hand for what they break elsewhere: overflowing integers, look-alike digits, another account's
# administration (111 is B's), whitespace-only choices, NUL, markup, other addresses, and a megabyte.
KNOWN_HOSTILE = ["9" * 30, str(2 ** 63), str(2 ** 31), "-1", "0", "١٠١", " 101 ", "111", "   ", "\t", "\x00",
                 "101\x00", "<script>alert(1)</script>", "javascript:alert(1)", "//evil.example", "<1 MB of x>"]


# The settings form's fields of each kind: an Exact list, a VAT row, a fixed list, radio buttons, checkboxes, a yes/no box.
KNOWN_FIELDS = {"/exact/instellingen": ("sales_journal", "vat_21", "trigger_status", "hour_rounding", "document_type",
                                        "relation_types", "export_work_orders")}


@pytest.mark.parametrize("path", [path for path, (fields, _, _) in POSTS.items() if fields])
def test_known_hostile_values_in_each_field_of_each_form(connected_stage, path):
    """Each hand-picked value alone in each field, sent as a page would: stored only if valid, else refused in words."""
    for field in KNOWN_FIELDS.get(path, POSTS[path][0]):
        for value in KNOWN_HOSTILE:
            post_and_check(connected_stage, path, {field: materialise(value)})


def post_and_check(stage, path, form, csrf="valid", token=None, csrf_in="form", session="cookie",
                   encoding="urlencoded", htmx=False):
    """Send `form` to `path` the way asked, hold the answer to the rules, put back whatever it stored; the status."""
    _fields, _good_values, accepts = POSTS[path]
    token = token or {"valid": stage.csrf, "other visit": stage.other_visit_csrf, "other key": stage.other_key_csrf,
                      "missing": None}.get(csrf)
    stage.fresh_visit()
    path = path.replace("<attempt_id>", stage.popup_attempt.id)  # A's popup login, waiting
    client = stage.app.test_client() if session == "none" else stage.client
    headers = {"HX-Request": "true"} if htmx else {}
    if session == "forged":
        headers["X-Session"] = "eyJhY2NvdW50IjoiYWNtZSJ9.forged.signature"
    body = dict(form)
    if token is not None:
        if csrf_in == "form":
            body["csrf_token"] = token
        else:
            headers["X-CSRFToken"] = token
    if encoding == "multipart":  # encoded here, in memory: the test client would leave a temporary file open
        boundary, payload = encode_multipart(MultiDict(body))
        content_type = f"multipart/form-data; boundary={boundary}"
        response = client.post(path, data=payload, headers=headers, content_type=content_type)
    elif encoding == "json":
        response = client.post(path, json=body, headers=headers)
    elif encoding == "text":
        response = client.post(path, data=repr(body)[:2000], headers=headers, content_type="text/plain")
    else:
        response = client.post(path, data=body, headers=headers)
    shown = {key: (value if len(str(value)) < 60 else f"{str(value)[:20]}… ({len(str(value))} chars)")
             for key, value in form.items()} if len(form) < 20 else f"{len(form)} fields"
    context = f"POST {path} {shown} ({encoding}, csrf {csrf} in {csrf_in}, session {session})"

    # The form as the app receives it (werkzeug's parser and Flask's limits read the multipart body we built), and what
    # the form classes read: Flask-WTF also takes a JSON object as form data.
    # MAX_CONTENT_LENGTH: a body over it is refused before anything reads it, whatever its encoding.
    too_large = (response.request.content_length or 0) > stage.app.config["MAX_CONTENT_LENGTH"]
    request_form = {}
    if encoding == "urlencoded":
        request_form = body
    elif encoding == "multipart":
        try:
            request_form = received_multipart(stage.app, payload, content_type)
        except RequestEntityTooLarge:
            too_large = True
    submitted = body if encoding == "json" else request_form
    submitted = {key: value for key, value in submitted.items() if key != "csrf_token"}
    form_token = first(request_form, "csrf_token")
    csrf_valid = (form_token or headers.get("X-CSRFToken")) == stage.csrf
    try:
        if too_large:
            assert_refused_with_a_message(response, {413}, context, says=TOO_LARGE)
        elif None in request_form or contains_nul(request_form):
            assert_refused_with_a_message(response, {400}, context, says=NOT_READABLE)
        elif session != "cookie":
            assert_refused_with_a_message(response, {401}, context, says=OPEN_FROM_OUTSMART)
        elif not csrf_valid:
            assert_refused_with_a_message(response, {400}, context, says=PAGE_EXPIRED)
        elif accepts(stage, submitted, request_form, response, context):
            assert_stays_home(stage.app, response, context)
            return response.status_code
        else:
            assert_refused_with_a_message(response, {422}, context)
        assert_stays_home(stage.app, response, context)
        stage.assert_unchanged(context)
        assert len(stage.sim.calls(kind="token")) == stage.token_exchanges, f"{context}: a token exchange"
        return response.status_code
    finally:
        stage.put_back()


# --- GET with any query string, on every route ---------------------------------------------------------------------

# What a GET may answer: a page, a redirect (308: werkzeug merging the slashes of an id like //evil), or a refusal
# (a bad entry, state or attempt; one already claimed).
GET_STATUSES = {200, 302, 303, 308, 400, 401, 404, 409}


# And no row changed, but the popup attempt a popup route claims or closes.
@settings(HOSTILE, max_examples=30)
@given(query=hostile_query(), attempt=st.one_of(st.just("real"), hostile_value.filter(bool)), htmx=st.booleans())
# Always tried, whatever the draw: a page past any 64-bit OFFSET, url_for's own arguments, NUL in a search and an id.
@example(query=[("page", "9" * 30), ("q", "a")], attempt="real", htmx=False)
@example(query=[("page", str(2 ** 62))], attempt="real", htmx=True)
@example(query=[("_method", "POST"), ("_external", "1"), ("_scheme", "javascript"), ("_anchor", "x")], attempt="real",
         htmx=False)
@example(query=[("q", "\x00"), ("next", "//evil.example")], attempt="x\x00", htmx=True)
def test_any_query_string_on_any_get_route_gets_a_page_or_a_refusal_with_a_message(connected_stage, query, attempt,
                                                                                   htmx):
    """Every GET route, the same hostile query: no 500, refusals in words, addresses only to the app or Exact."""
    stage = connected_stage
    query, attempt = materialise(query), materialise(attempt)
    rules = [rule for rule in stage.app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint != "static"]
    assert len(rules) >= 15
    attempt_id = stage.popup_attempt.id if attempt == "real" else attempt
    try:
        for rule in rules:
            stage.fresh_visit()
            path = rule.rule.replace("<attempt_id>", quote(attempt_id, safe="")).replace(
                "<account>", quote(attempt_id, safe=""))
            response = stage.client.get(path, query_string=query, headers={"HX-Request": "true"} if htmx else {})
            context = f"GET {rule.rule} attempt={attempt_id[:40]!r} query={str(query)[:200]!r}"
            if response.status_code >= 400:
                says = NOT_READABLE if contains_nul(attempt_id if "<" in rule.rule else "", query) else None
                assert_refused_with_a_message(response, GET_STATUSES, context, says=says)
            else:
                assert response.status_code in GET_STATUSES, f"{context}: {response.status_code}"
            assert_stays_home(stage.app, response, context)
            stage.assert_unchanged(context, skip_tables=["loginattempt"])
            assert len(stage.sim.calls(kind="token")) == stage.token_exchanges, f"{context}: a token exchange"
    finally:
        stage.put_back()


# --- the token API --------------------------------------------------------------------------------------------------

API_TAILS = ["connection", "access-token"]
header_text = st.text(alphabet=st.characters(codec="latin-1", exclude_categories=["Cc"]), max_size=40)


# Otherwise 401/404/405/409 (or 400 for a NUL) with a message, and the rows untouched.
@settings(HOSTILE, max_examples=80)
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
       account=st.one_of(st.sampled_from([A, B, "nobody"]), hostile_value.filter(bool)),
       tail=st.one_of(st.sampled_from(API_TAILS), text),
       authorization=st.one_of(st.sampled_from(["valid", "valid", "none", f"Basic {KEY}", f"Bearer {KEY}x",
                                                f"Bearer  {KEY}", "Bearer", f"bearer {KEY[:-1]}"]), header_text),
       query=hostile_query())
def test_the_token_api_answers_any_request_in_words_and_changes_nothing(saved_stage, method, account, tail,
                                                                        authorization, query):
    """Random accounts, paths, methods, keys, queries: a token only for the key and a saved connection, else words."""
    stage = saved_stage
    account, tail, query = materialise(account), materialise(tail), materialise(query)
    headers = {}
    if authorization == "valid":
        headers["Authorization"] = f"Bearer {KEY}"
    elif authorization != "none":
        headers["Authorization"] = authorization
    path = f"/api/v1/accounts/{quote(account, safe='')}/{quote(tail, safe='/')}"
    response = stage.client.open(path, method=method, headers=headers, query_string=query)
    context = f"{method} {path[:120]} auth={authorization[:30]!r} query={str(query)[:100]!r}"
    key_ok = authorization == "valid"
    routed = "/" not in account and account not in (".", "..") and tail in API_TAILS
    allowed = {"connection": "GET", "access-token": "POST"}.get(tail)
    try:
        if contains_nul(account, tail, query if isinstance(query, list) else []):
            assert_refused_with_a_message(response, {400}, context, says=NOT_READABLE)
        elif isinstance(query, str) or not routed:
            if response.status_code >= 400:
                assert_refused_with_a_message(response, {400, 401, 404, 405, 409}, context)
            else:
                assert response.status_code in {200, 308}, f"{context}: {response.status_code}"
        elif method != allowed:
            assert_refused_with_a_message(response, {405}, context)
        elif not key_ok:
            assert_refused_with_a_message(response, {401}, context, says="service key")
        elif tail == "connection":
            if account in (A, B):
                assert response.status_code == 200 and response.json["account"] == account, context
                assert "access_token" not in response.json, context
            else:
                assert_refused_with_a_message(response, {404}, context)
        elif account == A:
            assert response.status_code == 200, context
            assert response.json["access_token"] == stage.connection().access_token, context
        else:
            assert_refused_with_a_message(response, {409}, context, says="not saved")
        assert response.is_json or response.status_code == 308, f"{context}: not JSON"  # 308: doubled slashes
        assert_stays_home(stage.app, response, context)
        stage.assert_unchanged(context)
        assert len(stage.sim.calls(kind="token")) == stage.token_exchanges, f"{context}: a refresh"
    finally:
        stage.put_back()


def test_a_body_over_a_megabyte_is_refused_before_it_is_read(client, wizard):
    """MAX_CONTENT_LENGTH: a 2 MB form is refused in words (413) and the settings already chosen stay as they were."""
    wizard.connect(JAN)
    wizard.choose(101)
    assert wizard.configure().status_code == 303
    before = Connection.get().draft_settings
    response = client.post("/exact/instellingen", data={"import_relations": "y", "padding": "x" * 2_000_000})
    assert response.status_code == 413
    assert TOO_LARGE in response.get_data(as_text=True)
    assert Connection.get().draft_settings == before
