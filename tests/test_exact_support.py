"""Helpers shared by the exact/ tests: connecting to the simulator the way the app will (no tests here)."""
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

from exact import ExactClient, ExactOAuth, Token, parse_callback
from simhelpers import CLIENT_ID, CLIENT_SECRET, JAN, PKCE_VERIFIER, REDIRECT_URI


def make_oauth(sim, cc: str = "nl", clock: Callable[[], float] | None = None, **kwargs) -> ExactOAuth:
    """An ExactOAuth for one simulated country, on the simulator's clock unless told otherwise."""
    return ExactOAuth(sim.base_url(cc), CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
                      clock=clock or sim.now, allow_insecure_transport=True, **kwargs)


def callback_args(location: str) -> dict[str, str]:
    """The decoded query arguments of the redirect, as a web framework would hand them over."""
    return dict(parse_qsl(urlsplit(location).query))


def connect(sim, username: str, cc: str = "nl", oauth: ExactOAuth | None = None) -> tuple[ExactOAuth, Token]:
    """Log in through the simulator's consent page and exchange the code, as the app's callback does."""
    oauth = oauth or make_oauth(sim, cc)
    location = sim.login(oauth.authorization_url("state-1", code_verifier=PKCE_VERIFIER), username)
    return oauth, oauth.exchange_code(parse_callback(callback_args(location)), PKCE_VERIFIER)


def make_client(sim, username: str = JAN, cc: str = "nl", **kwargs) -> tuple[ExactClient, list[Token]]:
    """A connected client on the simulator's clock, and the list its on_token callback appends to."""
    oauth, token = connect(sim, username, cc)
    saved: list[Token] = []
    client = ExactClient(sim.base_url(cc), token, refresh=oauth.refresh, on_token=saved.append, clock=sim.now, **kwargs)
    return client, saved
