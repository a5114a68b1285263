"""Run the simulator in a thread and drive it over HTTP, for tests, benchmarks and demos.

SimServer serves exact_sim on a free loopback port, wraps the /_sim control endpoints, and does what a browser and
the app would do at Exact: log in and consent on the HTML pages, exchange and refresh tokens, call the REST API.
"""
import threading
from html.parser import HTMLParser
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urljoin
from urllib.parse import urlparse

import requests
from werkzeug.serving import make_server

from . import create_app
from .grants import s256
from .seed import PASSWORD
from .seed import USER_COUNTRY
from .settings import COUNTRIES
from .settings import DEFAULTS

# The client registration the simulator starts with (exact_sim/settings.py), as an app configured for it sends it.
CLIENT_ID = DEFAULTS["client_id"]
CLIENT_SECRET = DEFAULTS["client_secret"]
REDIRECT_URI = DEFAULTS["redirect_uri"]
# The PKCE verifier these helpers log in with, as the app does with one of its own per login (require_pkce is on).
PKCE_VERIFIER = "exact-sim-test-verifier-" + "x" * 40


class LoginFailed(Exception):
    """The login or consent page came back instead of a redirect; `response` holds that page."""

    def __init__(self, message: str, response: requests.Response):
        super().__init__(message)
        self.response = response


class SimServer:
    """exact_sim served by werkzeug on a free loopback port in a daemon thread."""

    def __init__(self, app, server):
        self.app = app
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{server.server_port}"
        self.base_urls = {cc: self.base_url(cc) for cc in COUNTRIES}
        self.base_urls_setting = ",".join(f"{cc}={url}" for cc, url in self.base_urls.items())

    @classmethod
    def start(cls, **settings) -> "SimServer":
        """Start a simulator in test mode (or with other start-up settings, e.g. mode="plain")."""
        app = create_app({"mode": "test", **settings})
        server = cls(app, make_server("127.0.0.1", 0, app, threaded=True))
        server._thread.start()
        return server

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        self._server.shutdown()
        self._thread.join()

    def base_url(self, cc: str = "nl") -> str:
        """The base URL of one country instance, e.g. http://127.0.0.1:PORT/nl."""
        return f"{self.url}/{cc}"

    # Control endpoints

    def reset(self, **settings) -> dict:
        """Reseed, real clock, start-up settings plus `settings`; faults and calls cleared."""
        return self._control("post", "reset", json=settings)

    def settings(self, **changes) -> dict:
        """Change settings without reseeding; return all settings."""
        return self._control("post", "settings", json=changes) if changes else self._control("get", "settings")

    def now(self) -> float:
        """Simulated epoch seconds."""
        return self._control("get", "clock")["now"]

    def advance(self, seconds: float) -> float:
        """Move simulated time forward; return the new now."""
        return self._control("post", "clock", json={"advance": seconds})["now"]

    def set_time(self, epoch: float) -> float:
        """Jump simulated time to an epoch; return the new now."""
        return self._control("post", "clock", json={"set": epoch})["now"]

    def fault(self, endpoint: str, kind: str, count: int = 1, **extra) -> list:
        """Arm a fault for the next `count` calls to `endpoint` (extra: country, reset_in); return the armed faults."""
        return self._control("post", "faults", json={"endpoint": endpoint, "kind": kind, "count": count, **extra})

    def calls(self, **filters) -> list[dict]:
        """The logged /api/ calls whose fields equal all `filters` (e.g. kind="token", endpoint="system/Divisions")."""
        return [call for call in self._control("get", "calls")
                if all(call.get(name) == value for name, value in filters.items())]

    def clear_calls(self) -> None:
        """Empty the call log."""
        self._control("delete", "calls")

    def seed_user(self, username: str, divisions: int, country: str = "nl", **extra) -> dict:
        """Add a user with `divisions` generated divisions (extra: password, first_name, last_name, denied pairs)."""
        return self._control("post", "seed", json={"username": username, "divisions": divisions, "country": country, **extra})

    def revoke(self, username: str) -> int:
        """Revoke the user's grant chains; return how many."""
        return self._control("post", "revoke", json={"username": username})["revoked"]

    def state(self) -> dict:
        """The debug view of GET /_sim/state."""
        return self._control("get", "state")

    # Browser and app flows

    def authorize_url(self, cc: str = "nl", state: str = "test-state", **params) -> str:
        """The authorize URL the app would send the browser to (with PKCE_VERIFIER's challenge unless overridden)."""
        query = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "response_type": "code", "state": state,
                 "force_login": "0", "code_challenge": s256(PKCE_VERIFIER), "code_challenge_method": "S256", **params}
        query = {name: value for name, value in query.items() if value is not None}
        return f"{self.base_url(cc)}/api/oauth2/auth?{urlencode(query)}"

    def login(self, authorize_url: str, username: str, password: str = PASSWORD, divisions=None,
              cancel: bool = False) -> str:
        """Fill in the login and consent pages like a browser; return the redirect Location without following it."""
        page = requests.get(authorize_url, timeout=10)
        if page.status_code != 200:
            raise LoginFailed(f"authorize page answered {page.status_code}", page)
        login_form = _form(page)
        fields = {**login_form.hidden, "username": username, "password": password}
        page = requests.post(urljoin(page.url, login_form.action), data=fields, timeout=10, allow_redirects=False)
        consent_form = _form(page)
        if "division" not in consent_form.checkboxes:
            raise LoginFailed("login was refused", page)
        # None keeps what the page pre-ticked, as a user who just clicks "Toestaan".
        ticked = consent_form.checkboxes["division"] if divisions is None else [str(code) for code in divisions]
        fields = {**consent_form.hidden, "division": ticked, "action": "cancel" if cancel else "allow"}
        answer = requests.post(urljoin(page.url, consent_form.action), data=fields, timeout=10, allow_redirects=False)
        if answer.status_code != 302:
            raise LoginFailed(f"consent answered {answer.status_code}", answer)
        return answer.headers["Location"]

    def token_for(self, username: str, cc: str | None = None, divisions=None) -> dict:
        """Authorize, log in, consent and exchange the code: the token response of a fresh chain."""
        location = self.login(self.authorize_url(cc or USER_COUNTRY.get(username, "nl")), username, divisions=divisions)
        code = parse_qs(urlparse(location).query)["code"][0]
        response = self.exchange(code, cc or USER_COUNTRY.get(username, "nl"))
        response.raise_for_status()
        return response.json()

    def exchange(self, code: str, cc: str = "nl", **overrides) -> requests.Response:
        """POST an authorization_code grant with the client credentials (and PKCE_VERIFIER) in the body."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET, "code_verifier": PKCE_VERIFIER, **overrides}
        form = {name: value for name, value in form.items() if value is not None}
        return requests.post(f"{self.base_url(cc)}/api/oauth2/token", data=form, timeout=10)

    def refresh(self, refresh_token: str, cc: str = "nl", **overrides) -> requests.Response:
        """POST a refresh_token grant with the client credentials in the body."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET, **overrides}
        return requests.post(f"{self.base_url(cc)}/api/oauth2/token", data=form, timeout=10)

    def get(self, token: dict | str | None, path: str, cc: str = "nl", accept: str | None = "application/json",
            **kwargs) -> requests.Response:
        """GET {base}/api/v1/{path} with the token (a token response or a bare access token) and an Accept header."""
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token['access_token'] if isinstance(token, dict) else token}"
        if accept:
            headers["Accept"] = accept
        kwargs.setdefault("timeout", 10)
        return requests.get(f"{self.base_url(cc)}/api/v1/{path}", headers=headers, **kwargs)

    def _control(self, method: str, name: str, **kwargs):
        """Call a /_sim endpoint and return its JSON (None for an empty answer)."""
        response = requests.request(method, f"{self.url}/_sim/{name}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None


class _Form(HTMLParser):
    """The first form of a page: its action, hidden fields and checkboxes (value lists, ticked ones only)."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.hidden: dict[str, str] = {}
        self.checkboxes: dict[str, list[str]] = {}
        self._inside = False

    def handle_starttag(self, tag, attrs):
        """Note the form's action and the inputs inside it."""
        attributes = dict(attrs)
        if tag == "form" and self.action is None:
            self.action, self._inside = attributes.get("action", ""), True
        elif tag == "input" and self._inside:
            if attributes.get("type") == "hidden":
                self.hidden[attributes["name"]] = attributes.get("value", "")
            elif attributes.get("type") == "checkbox":
                ticked = self.checkboxes.setdefault(attributes["name"], [])
                if "checked" in attributes:
                    ticked.append(attributes["value"])

    def handle_endtag(self, tag):
        """Stop collecting inputs once the first form has closed."""
        if tag == "form":
            self._inside = False


def _form(page: requests.Response) -> _Form:
    """Parse the first form of a page; fail loudly if there is none."""
    form = _Form()
    form.feed(page.text)
    if form.action is None:
        raise LoginFailed(f"no form on the page (status {page.status_code})", page)
    return form
