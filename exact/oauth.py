"""Exact Online's OAuth2 authorization-code flow over requests-oauthlib."""
import base64
import hashlib
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from .errors import (AccessDenied, ConfigurationError, ExactError, ExactRequestError, ExactUnavailable, RateLimited,
                     ReauthorizationRequired, TooEarlyToRefresh, http_detail)
from .ratelimits import next_utc_midnight, rate_limited
from .tokens import MIN_SECONDS_BETWEEN_TOKENS, Token

# Exact doesn't say when a too-early refresh may be retried; a minute outlasts ordinary clock skew.
SERVER_TOO_EARLY_BACKOFF = 60


class ExactOAuth:
    """Builds Exact's consent URL and obtains and refreshes tokens on one country instance."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, redirect_uri: str,
                 timeout: float = 10, clock: Callable[[], float] = time.time,
                 allow_insecure_transport: bool = False,
                 observe: Callable[[str, str, int | None], None] | None = None):
        # oauthlib also refuses plain http unless the process-wide OAUTHLIB_INSECURE_TRANSPORT is set; the app's
        # configuration sets it only when every insecure host is allowed (a local simulator).
        if urlsplit(base_url).scheme != "https" and not allow_insecure_transport:
            raise ConfigurationError(f"{base_url} is not https and insecure transport is not allowed")
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self._timeout = timeout
        self._clock = clock
        self._observe = observe  # hears of every token call and what Exact answered (client.Observe)

    @property
    def token_url(self) -> str:
        """Exact's token endpoint, for both the code exchange and refreshes."""
        return f"{self.base_url}/api/oauth2/token"

    def authorization_url(self, state: str, force_login: bool = False, code_verifier: str | None = None) -> str:
        """The Exact login/consent page to send the user to; with a PKCE verifier, its S256 challenge goes along."""
        pkce = {"code_challenge": code_challenge(code_verifier), "code_challenge_method": "S256"} if code_verifier else {}
        url, _ = OAuth2Session(self.client_id, redirect_uri=self.redirect_uri).authorization_url(
            f"{self.base_url}/api/oauth2/auth", state=state, force_login="1" if force_login else "0", **pkce)
        return url

    def exchange_code(self, code: str, code_verifier: str | None = None) -> Token:
        """Trade the callback's authorization code (valid 3 minutes, once) for a token pair."""
        session = self._session("access_token_response", "authorization_code")
        pkce = {"code_verifier": code_verifier} if code_verifier else {}
        # Exact's codes contain "!" and arrive as "%21"; it wants them decoded exactly once.
        # Decoding an already-decoded code changes nothing, as real codes contain no "%".
        payload = self._call(lambda: session.fetch_token(
            self.token_url, code=unquote(code), timeout=self._timeout,
            # Exact documents the client credentials in the form body, not HTTP Basic.
            include_client_id=True, client_secret=self._client_secret, **pkce))
        return Token.from_response(payload, self._clock())

    def refresh(self, token: Token, refused: bool = False) -> Token:
        """A new token pair; the old refresh token is dead afterwards, so persist the result first.

        `refused` (Exact answered 401 to the token) changes nothing here: this always asks Exact. It matters to a
        store that hands out tokens for many callers (token_store.py).
        """
        now = self._clock()
        if not token.may_refresh(now):
            raise TooEarlyToRefresh(token.issued_at + MIN_SECONDS_BETWEEN_TOKENS,
                                    "refused locally: less than 570 s since the access token was issued")
        session = self._session("refresh_token_response", "refresh_token")
        payload = self._call(lambda: session.refresh_token(
            self.token_url, refresh_token=token.refresh_token, timeout=self._timeout,
            client_id=self.client_id, client_secret=self._client_secret))
        return Token.from_response(payload, self._clock())

    def __repr__(self) -> str:
        return f"ExactOAuth(base_url={self.base_url!r}, client_id={self.client_id!r})"

    def _session(self, hook_type: str, grant: str) -> OAuth2Session:
        # A fresh session per call: OAuth2Session keeps token state, and this object is shared.
        session = OAuth2Session(self.client_id, redirect_uri=self.redirect_uri)
        session.register_compliance_hook(hook_type, lambda response: self._checked(response, grant))
        return session

    def _call(self, request: Callable[[], Mapping[str, Any]]) -> Mapping[str, Any]:
        try:
            return request()
        except requests.RequestException as error:
            if self._observe is not None:
                self._observe("POST", self.token_url, None)
            raise ExactUnavailable(f"POST /api/oauth2/token: {type(error).__name__}") from error
        except OAuth2Error as error:
            # _checked lets only well-formed 200s through, so oauthlib objecting means Exact sent nonsense.
            raise ExactUnavailable(f"POST /api/oauth2/token: oauthlib {error.error}") from error

    def _checked(self, response: requests.Response, grant: str) -> requests.Response:
        """Raise the typed error for a failed token response, before oauthlib parses it."""
        if self._observe is not None:
            self._observe("POST", self.token_url, response.status_code)
        if response.status_code != 200:
            raise _token_error(response, grant, self._clock())
        payload = _json_object(response)
        if not (payload.get("access_token") and payload.get("refresh_token")
                and str(payload.get("expires_in", "")).isdigit()):
            raise ExactUnavailable("POST /api/oauth2/token -> HTTP 200 without a usable token")
        return response


def code_challenge(code_verifier: str) -> str:
    """PKCE's S256 challenge of a verifier (RFC 7636 §4.2): base64url of its SHA-256, without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def parse_callback(args: Mapping[str, str]) -> str:
    """The authorization code from the redirect's (decoded) query arguments, or the typed error."""
    error = args.get("error")
    if error:
        detail = f"callback error: {error}; description: {args.get('error_description', '')}"
        if error == "access_denied":
            raise AccessDenied(detail)
        raise ExactRequestError(detail, exact_message=args.get("error_description", ""))
    code = args.get("code")
    if not code:
        raise ExactRequestError("callback without code or error")
    return code


def _token_error(response: requests.Response, grant: str, now: float) -> ExactError:
    payload = _json_object(response, required=False)
    error = str(payload.get("error") or "")
    description = str(payload.get("error_description") or "")
    reason = response.headers.get("Reason", "")
    status = response.status_code
    detail = http_detail("POST", "/api/oauth2/token", status, reason, error, description)
    if reason.startswith("TooEarlyToRefreshTokens") or "not expired" in description.lower():
        return TooEarlyToRefresh(now + SERVER_TOO_EARLY_BACKOFF, detail)
    if status >= 500:
        return ExactUnavailable(detail)
    if status == 429:
        return rate_limited(response.headers, now, detail)
    if description.lower().startswith("rate limit exceeded"):
        # A limit, not a dead grant (e.g. Exact's 200 token calls per user and day, whose answer is undocumented).
        return RateLimited(next_utc_midnight(now), "daily", detail)
    if error == "invalid_client" or "client not found" in description.lower():
        return ConfigurationError(detail)
    if error in ("invalid_grant", "unauthorized_client") or status == 401:
        return ReauthorizationRequired(detail)
    if grant == "refresh_token" and error in ("invalid_request", "access_denied"):
        # "The refresh token expired at …" and revoked grants: only a new consent helps.
        return ReauthorizationRequired(detail)
    return ExactRequestError(detail, exact_message=description)


def _json_object(response: requests.Response, required: bool = True) -> dict:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        return payload
    if required:
        raise ExactUnavailable(f"POST /api/oauth2/token -> HTTP {response.status_code} with a non-JSON body")
    return {}
