"""OAuth2 grants: pending authorize requests, authorization codes, refresh-token chains and access tokens (§8.3)."""
import base64
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from dataclasses import field

from .clock import DAY
from .clock import us_datetime

CODE_INVALID = "Signed data extraction has failed"
CHAIN_INVALID = "Token is not allowed, because of invalid or empty chainId"
TOO_EARLY = "Rate limit exceeded: access_token not expired"
PKCE_FAILED = "PKCE verification failed."
TOO_EARLY_2021 = "Access Token not expired"


class TokenError(Exception):
    """A token-endpoint refusal: HTTP status, OAuth error code, description and optional Reason header."""

    def __init__(self, status: int, error: str, description: str, reason: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.reason = reason
        self.headers = headers or {}


@dataclass
class AuthRequest:
    """An authorize request waiting for login and consent; the user is known once the login succeeded."""

    request_id: str
    cc: str
    client_id: str
    redirect_uri: str
    state: str | None
    code_challenge: str | None = None  # PKCE, S256 only
    username: str | None = None


@dataclass
class Code:
    """An authorization code, bound to everything the token exchange must match."""

    cc: str
    client_id: str
    redirect_uri: str
    username: str
    divisions: frozenset[int]
    issued_at: float
    code_challenge: str | None = None
    used: bool = False


@dataclass
class Chain:
    """One consent's chain of rotating refresh tokens; `issued` remembers every refresh token it ever had."""

    chain_id: str
    cc: str
    client_id: str
    username: str
    divisions: frozenset[int]
    refresh_token: str = ""
    previous_refresh_token: str | None = None
    last_access_token_at: float = 0.0
    issued: dict[str, float] = field(default_factory=dict)
    access_tokens: list[str] = field(default_factory=list)
    revoked: bool = False


@dataclass
class AccessToken:
    """A bearer token of one chain, valid on the instance that issued it until it expires."""

    chain_id: str
    cc: str
    issued_at: float
    expires_at: float
    revoked: bool = False


class GrantStore:
    """Every grant-related record of all instances; callers hold the simulator lock."""

    def __init__(self):
        self.requests: dict[str, AuthRequest] = {}
        self.codes: dict[str, Code] = {}
        self.chains: dict[str, Chain] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.chain_of_refresh_token: dict[str, str] = {}

    def open_request(self, cc: str, client_id: str, redirect_uri: str, state: str | None,
                     code_challenge: str | None = None) -> AuthRequest:
        """Remember a validated authorize request until its consent is given."""
        request = AuthRequest(secrets.token_urlsafe(16), cc, client_id, redirect_uri, state, code_challenge)
        self.requests[request.request_id] = request
        return request

    def close_request(self, request: AuthRequest) -> None:
        """Forget an authorize request once it has been answered."""
        del self.requests[request.request_id]

    def issue_code(self, request: AuthRequest, divisions: set[int], now: float) -> str:
        """Finish an authorize request: issue a single-use code for the consented divisions."""
        self.close_request(request)
        value = _random_prefix() + "!IAAAA" + secrets.token_urlsafe(180)
        self.codes[value] = Code(request.cc, request.client_id, request.redirect_uri, request.username,
                                 frozenset(divisions), now, request.code_challenge)
        return value

    def exchange_code(self, cc: str, client_id: str, value: str, redirect_uri: str, settings: dict, now: float,
                      code_verifier: str | None = None) -> dict:
        """Trade a code for the first tokens of a new chain, or raise TokenError."""
        code = self.codes.get(value)
        if (code is None or code.cc != cc or code.client_id != client_id or code.used
                or now - code.issued_at > settings["code_ttl"]):
            raise TokenError(400, "invalid_grant", CODE_INVALID)
        if redirect_uri != code.redirect_uri:
            raise TokenError(400, "invalid_grant", "Redirect URI mismatch.")
        if not _pkce_holds(code.code_challenge, code_verifier, settings["require_pkce"]):
            raise TokenError(400, "invalid_grant", PKCE_FAILED)
        code.used = True
        chain = Chain(secrets.token_hex(8), cc, client_id, code.username, code.divisions)
        self.chains[chain.chain_id] = chain
        return self._issue(chain, settings, now)

    def refresh(self, cc: str, client_id: str, presented: str, settings: dict, now: float) -> dict:
        """Rotate a chain's refresh token, applying Exact's checks in order (§8.3), or raise TokenError."""
        chain = self.chains.get(self.chain_of_refresh_token.get(presented, ""))
        if chain is None or chain.cc != cc or chain.client_id != client_id or chain.revoked:
            raise TokenError(400, "invalid_grant", CHAIN_INVALID, reason=f"Unknown: {CHAIN_INVALID}")
        # Grace mode keeps the predecessor usable until the newest token has been used (Invantive's description).
        grace_reuse = settings["refresh_grace"] and presented == chain.previous_refresh_token
        if presented != chain.refresh_token and not grace_reuse:
            raise TokenError(401, "unauthorized_client", "Old refresh token used.")
        expires_at = chain.issued[presented] + settings["refresh_idle_days"] * DAY
        if now > expires_at:
            raise TokenError(400, "invalid_request",
                             f"The refresh token expired at {us_datetime(expires_at)} and it is now {us_datetime(now)}.")
        if now - chain.last_access_token_at < settings["min_token_interval"]:
            raise _too_early(settings)
        # A grace reuse presents the previous token already, so it stays the previous one.
        chain.previous_refresh_token = presented
        if settings["revoke_old_access_token"]:
            for token in chain.access_tokens:
                self.access_tokens[token].revoked = True
        return self._issue(chain, settings, now)

    def authenticate(self, cc: str, value: str, now: float) -> Chain | None:
        """The chain behind a bearer token if the token is valid on this instance right now."""
        token = self.access_tokens.get(value)
        if token is None or token.cc != cc or token.revoked or now >= token.expires_at:
            return None
        chain = self.chains[token.chain_id]
        return None if chain.revoked else chain

    def user_of(self, cc: str, client_id: str, grant_type: str | None, form) -> str | None:
        """Whose token call this is, when its code or refresh token says so (the token-call cap counts per user)."""
        if grant_type == "authorization_code":
            code = self.codes.get(form.get("code", ""))
            return code.username if code and code.cc == cc and code.client_id == client_id else None
        if grant_type == "refresh_token":
            chain = self.chains.get(self.chain_of_refresh_token.get(form.get("refresh_token", ""), ""))
            return chain.username if chain and chain.cc == cc and chain.client_id == client_id else None
        return None

    def caller(self, cc: str, value: str) -> Chain | None:
        """The chain a bearer token was issued to, valid or not (expired and revoked ones too): whose error it is."""
        token = self.access_tokens.get(value)
        return self.chains[token.chain_id] if token is not None and token.cc == cc else None

    def revoke_user(self, username: str) -> int:
        """Invalidate every chain of a user, as revoking the app in the Beveiligingscentrum does; return how many."""
        chains = [chain for chain in self.chains.values() if chain.username.lower() == username.lower() and not chain.revoked]
        for chain in chains:
            chain.revoked = True
        return len(chains)

    def describe(self, settings: dict, now: float) -> dict:
        """A debug view of the grants that shows token prefixes only."""
        return {
            "pending_requests": len(self.requests),
            "codes": len(self.codes),
            "chains": [{
                "chain_id": chain.chain_id, "country": chain.cc, "username": chain.username,
                "divisions": sorted(chain.divisions), "revoked": chain.revoked,
                "refresh_token": chain.refresh_token[:9] + "…",
                "refresh_token_issued_at": chain.issued[chain.refresh_token],
                "previous_refresh_token": chain.previous_refresh_token and chain.previous_refresh_token[:9] + "…",
                "last_access_token_at": chain.last_access_token_at,
                "refresh_allowed_at": chain.last_access_token_at + settings["min_token_interval"],
                "valid_access_tokens": sum(1 for token in chain.access_tokens
                                           if self.authenticate(chain.cc, token, now)),
            } for chain in self.chains.values()],
        }

    def _issue(self, chain: Chain, settings: dict, now: float) -> dict:
        """Give a chain a new access token and a new refresh token; return the token response body."""
        access_token = "gAAAA" + secrets.token_urlsafe(520)
        self.access_tokens[access_token] = AccessToken(chain.chain_id, chain.cc, now, now + settings["access_token_ttl"])
        chain.access_tokens.append(access_token)
        refresh_token = _random_prefix() + "!IAAA" + secrets.token_urlsafe(240)
        chain.refresh_token = refresh_token
        chain.issued[refresh_token] = now
        chain.last_access_token_at = now
        self.chain_of_refresh_token[refresh_token] = chain.chain_id
        # expires_in is a string on the real service (§1.4).
        return {"access_token": access_token, "token_type": "bearer", "expires_in": str(settings["access_token_ttl"]),
                "refresh_token": refresh_token}


def s256(code_verifier: str) -> str:
    """RFC 7636's S256: base64url of the verifier's SHA-256, without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()


def _pkce_holds(challenge: str | None, verifier: str | None, required: bool) -> bool:
    """A code asked with a challenge needs its verifier; with require_pkce, a code asked without one is refused."""
    if challenge is None:
        return not required
    return bool(verifier) and hmac.compare_digest(s256(verifier), challenge)


def _too_early(settings: dict) -> TokenError:
    """The refusal of a refresh within min_token_interval, in the observed (400) or 2021-docs (401) variant."""
    if settings["too_early_status"] == 401:
        return TokenError(401, "access_denied", TOO_EARLY_2021, reason=TOO_EARLY_2021)
    return TokenError(400, "access_denied", TOO_EARLY, reason=f"TooEarlyToRefreshTokens: {TOO_EARLY}")


def _random_prefix() -> str:
    """Four random letters and digits, like the part before the `!` in Exact's codes and refresh tokens."""
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(4))
