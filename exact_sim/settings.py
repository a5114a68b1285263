"""Simulator settings: every default in one dict, and the reason behind each UNCONFIRMED choice.

Sources are in /work/shared/reference/exact-online-api.md; "§" numbers point there.

| Setting | Default | Meaning | Basis |
|---|---|---|---|
| mode | "demo" | demo: /_sim/* on, demo users listed on the login page; test: /_sim/* on; plain: no /_sim/* (404). Fixed at start-up. | simulator only |
| client_id | "{0b7f5d2e-3c4a-4e8b-9a61-2f5c8d9e1a47}" | The one registered app; it exists on every country instance. | §1.2 (GUID with braces, as ossobv shows) |
| client_secret | "demo-secret" | Its secret. | simulator only |
| redirect_uri | "http://127.0.0.1:5000/exact/callback" | Registered redirect URI, compared as an exact string. | §1.2 |
| code_ttl | 180 | Seconds an authorization code stays exchangeable (single use). | §0, §1.2 |
| access_token_ttl | 600 | Seconds an access token is valid; sent as the string expires_in. | §1.4, §1.5 |
| min_token_interval | 570 | Seconds after the last access token of a chain before a refresh is allowed. | §1.6 |
| refresh_idle_days | 30 | Days a refresh token stays usable after it was issued. | §1.5 |
| minutely_limit | 60 | Calls per app per division per clock-aligned minute. | §3 |
| daily_limit | 5000 | Calls per app per division per UTC day. | §3 |
| page_size | 60 | Rows per page of a collection before `__next`. | §2.7 |
| refresh_grace | False | UNCONFIRMED. False: strict rotation, a superseded refresh token is "Old refresh token used." at once. True: the previous refresh token keeps working until its successor has been used (Invantive's description). | §1.5 |
| too_early_status | 400 | Status of a refresh within min_token_interval. 400 = observed 2026 (`access_denied` + `Reason: TooEarlyToRefreshTokens: …`); 401 = the 2021 docs' variant ("Access Token not expired"; body and Reason header text UNCONFIRMED). | §1.6 |
| accept_basic_auth | True | Client credentials accepted in the form body or as HTTP Basic (Exact documents only the body; Basic is indirect evidence). | §1.3 |
| revoke_old_access_token | False | UNCONFIRMED. True: a refresh revokes the chain's earlier access tokens. False: they live to their own expiry. | §1.5, §9 |
| rest_401_body | "" | UNCONFIRMED. Body of a REST 401, sent verbatim (empty, as observed in picqer #428). | §2.6 |
| count_429 | False | UNCONFIRMED. True: a 429 answer still consumes quota. | §8.4 |
| fault_timeout_seconds | 5 | How long a "timeout" fault sleeps before answering normally. | simulator only |
| require_pkce | True | UNCONFIRMED (Exact documents no PKCE, §9). An authorize request may carry `code_challenge` with `code_challenge_method=S256` (RFC 7636); its code is then exchanged only with the matching `code_verifier`. True: a code asked without a challenge is refused too. Refusals: 400 `invalid_grant` "PKCE verification failed.". | RFC 7636, RFC 9700 §2.1.1 |
| divisions_need_consent | False | UNCONFIRMED. False: `{division}/system/Divisions` answers in any division the user can reach, consented or not (Exact support via picqer #470: the division in its URL is not validated), so a consent without the user's current division still lists the others. True: like every other endpoint it answers 403 `Reason: NoDivisionAccess` in a division the consent left out, as an independently written Exact does; a login that asks it in the current division then fails. | §2.3, §5 item 7 |
| inactive_users | [] | Login names whose every REST call (current/Me too) answers 403 `Reason: InactiveUser`. UNCONFIRMED: they can still log in and consent, so the app meets the 403 at its first call. | §2.6, §8.4 |
| blocked_users | [] | The same with 403 `Reason: BlockedUser`. | §2.6, §8.4 |
| blocked_customers | [] | Division codes: the customer (licence holder) that owns each is blocked, so every call in any of its divisions answers 403 `Reason: BlockedCustomer` (current/Me, which names no division, does not). | §2.6, §8.4 |
| expired_licenses | [] | Division codes: the licence of the customer that owns each has expired; every call in its divisions answers 403 `Reason: LicenseExpired`. | §2.6, §8.4 |
| missing_scopes | [] | App scopes (SCOPES below) OutSmart's registration lacks: a call to an endpoint that needs one answers 403 "Forbidden - Application Scope Violated. Cannot read" (no Reason header; UNCONFIRMED). | §1.8, §2.6, §5 item 8 |
| token_calls_per_day | 200 | Token-endpoint calls (code exchanges and refreshes) per app and user per UTC day; 0 switches the cap off. Every call whose user is known (from its code or refresh token) counts, whatever its answer, the refused ones too (UNCONFIRMED). | §0, §3 (Invantive 1040) |
| token_limit_status | 429 | UNCONFIRMED: Exact documents the cap, not its answer. Past it: 429 `{"error":"access_denied","error_description":"Rate limit exceeded: token requests per day"}` with the daily headers `X-RateLimit-Limit` (the cap), `-Remaining: 0`, `-Reset` (next 00:00 UTC, ms), no Reason, nothing rotated; 400 gives the same body without the headers (the shape of Exact's observed too-early answer). | §1.7, §8.3 step 6 |
| error_limit | 10 | Answers 400/401/403/404 per app, user, division and endpoint (`/$count` is its collection's endpoint) in one clock hour (UTC) before that key is blocked: the next error over the limit blocks it. 0 switches the block off. A 401 counts when its bearer token is one the simulator issued (expired or revoked too); an unknown token has no user to count against. Armed faults count like real answers. The hour being a clock hour, not a moving one, is UNCONFIRMED. | §3 (S1) |
| error_block_seconds | 3600 | How long a block lasts from the error that caused it. Exact's escalation on repeated blocks is not simulated. | §3 (S1) |
| error_block_status | 429 | UNCONFIRMED: the answer to every call of a blocked key until the block lifts (403 the alternative): the error envelope "The API key is blocked for this endpoint: too many errors within an hour.", no rate-limit headers, not counted as an error or a call. | §8.4 step 5 |
| latency_ms | 0 | How long every /api/ call (token and REST) waits before it is answered, in milliseconds: a number, or an object per endpoint (`{"financial/Journals": 300, "*": 200}`; an endpoint as the call log names it, `/$count` falling back to its collection, `*` for every other). Exact answers in hundreds of milliseconds; the demo runs at 200 so its loading states show, the tests at 0. Each call waits on its own thread outside the simulator's lock, so calls made at once are answered together. | simulator only |
| typed_texts | "{text}" | How the REST API serves every text a person types at Exact (TYPED_FIELDS: administration names, cities and VAT numbers, the user's names and addresses, every list's descriptions and relation names): `{text}` stands for the seeded text; without it every such text is the setting itself. E.g. `<b>{text}</b>`: people at Exact may type markup, and the app must show it as text. Codes and keys stay as seeded; logging in still takes the seeded user name. | simulator only |

Further UNCONFIRMED choices that are behaviour, not settings:

* A division call's 403s come in the order NoDivisionAccess, DivisionBlocked, BlockedUser, InactiveUser,
  BlockedCustomer, LicenseExpired, then a missing app scope; their body is the error envelope "Forbidden".
* App scopes (SCOPES): Exact names one per endpoint in its reference ("Organization administration" for the system
  endpoints); the others here are made up in its style. current/Me and users/UserHasRights need none.

* Client authentication failure on the token endpoint: 400 `{"error":"invalid_client","error_description":"Client authentication failed."}`.
* Unknown, used, expired or foreign authorization code: 400 `invalid_grant` "Signed data extraction has failed";
  redirect_uri differing from the authorize request: 400 `invalid_grant` "Redirect URI mismatch.". A failed exchange does not use up the code.
* Refresh checks run in the order: unknown/revoked chain, superseded token, idle expiry, too early. A failed refresh does not rotate.
* A revoked chain (POST /_sim/revoke) answers like an unknown chain: 400 invalid_grant "…invalid or empty chainId".
* A second consent by the same user starts a new chain and leaves older chains valid.
* REST: a non-numeric division segment → 404 envelope; a 403 or 404 on a division URL still counts towards the rate limit and carries
  the six headers; a 401 carries none (the caller is unknown); 429 bodies are the error envelope "Too many requests" and carry no
  Retry-After.
* Error envelopes follow content negotiation: JSON when Accept names application/json, else OData XML `<m:error>`. Armed faults
  (500/503/429) always answer with a JSON envelope and no rate-limit headers except the 429 fault's minutely ones.
* `$select` naming an unknown property → 400 "Could not find a property named 'X'."; UserHasRights without a quoted endpoint or action
  → 400 "Missing required parameter: endpoint" (or action).
* `/Date(ms)/` values and ServerTime are UTC milliseconds and ServerUtcOffset is 0 (the real service uses CET, §2.5).
* Legislation numbers per country and the `__metadata.type` names are made up where the reference has none.
* force_login is ignored: there are no sessions, so every authorize request shows the login page.
"""

from . import latency

COUNTRIES = ("nl", "be", "de", "uk", "us", "es", "fr")

MODES = ("demo", "test", "plain")
# The demo answers as slowly as Exact does, so its loading states show (latency_ms).
DEMO_LATENCY_MS = 200

DEFAULTS = {
    "mode": "demo",
    "client_id": "{0b7f5d2e-3c4a-4e8b-9a61-2f5c8d9e1a47}",
    "client_secret": "demo-secret",
    "redirect_uri": "http://127.0.0.1:5000/exact/callback",
    "code_ttl": 180,
    "access_token_ttl": 600,
    "min_token_interval": 570,
    "refresh_idle_days": 30,
    "minutely_limit": 60,
    "daily_limit": 5000,
    "page_size": 60,
    "refresh_grace": False,
    "too_early_status": 400,
    "accept_basic_auth": True,
    "revoke_old_access_token": False,
    "rest_401_body": "",
    "count_429": False,
    "fault_timeout_seconds": 5,
    "require_pkce": True,
    "typed_texts": "{text}",
    "latency_ms": 0,
    "divisions_need_consent": False,
    "inactive_users": [],
    "blocked_users": [],
    "blocked_customers": [],
    "expired_licenses": [],
    "missing_scopes": [],
    "token_calls_per_day": 200,
    "token_limit_status": 429,
    "error_limit": 10,
    "error_block_seconds": 3600,
    "error_block_status": 429,
}

# The app scope each endpoint needs (None: no scope), checked against missing_scopes.
SCOPES = {
    "current/Me": None,
    "users/UserHasRights": None,
    "system/Divisions": "Organization administration",
    "financial/Journals": "Financial accounting",
    "financial/GLAccounts": "Financial accounting",
    "vat/VATCodes": "Financial accounting",
    "cashflow/PaymentConditions": "Financial accounting",
    "crm/Accounts": "CRM accounts",
    "crm/AccountClassifications": "CRM accounts",
    "logistics/Items": "Logistics items",
    "logistics/ItemGroups": "Logistics items",
}
# What each list setting holds: login names, division codes, or scope names.
LIST_SETTINGS = {"inactive_users": str, "blocked_users": str, "blocked_customers": int, "expired_licenses": int,
                 "missing_scopes": str}

# The REST fields that hold what people type at Exact (typed_texts); the same names in current/Me, system/Divisions
# and the master data collections.
TYPED_FIELDS = frozenset({
    "FullName", "FirstName", "LastName", "UserName", "Email", "DivisionCustomerName", "DivisionCustomerVatNumber",  # Me
    "Description", "CustomerName", "VATNumber", "City",  # system/Divisions; Description: every list too
    "Name",  # crm/Accounts
})


def validate(overrides: dict, allow_mode: bool = False) -> dict:
    """Return the overrides if every key is known and every value has its default's type; raise ValueError otherwise."""
    for key, value in overrides.items():
        if key not in DEFAULTS:
            raise ValueError(f"Unknown setting: {key}")
        if key == "mode" and not allow_mode:
            raise ValueError("mode is fixed at start-up")
        if key == "latency_ms":
            latency.validate(value)  # a number, or one per endpoint
            continue
        if not _same_kind(DEFAULTS[key], value):
            raise ValueError(f"Setting {key} must be a {type(DEFAULTS[key]).__name__}")
    if overrides.get("mode", "demo") not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    if overrides.get("too_early_status", 400) not in (400, 401):
        raise ValueError("too_early_status must be 400 or 401")
    for key, kind in LIST_SETTINGS.items():
        if not all(isinstance(item, kind) and not isinstance(item, bool) for item in overrides.get(key, [])):
            raise ValueError(f"Setting {key} must be a list of {'division codes' if kind is int else 'names'}")
    unknown = set(overrides.get("missing_scopes", [])) - {scope for scope in SCOPES.values() if scope}
    if unknown:
        raise ValueError(f"Unknown scope in missing_scopes: {', '.join(sorted(unknown))}")
    if overrides.get("token_limit_status", 429) not in (400, 429):
        raise ValueError("token_limit_status must be 400 or 429")
    if overrides.get("error_block_status", 429) not in (403, 429):
        raise ValueError("error_block_status must be 403 or 429")
    for key in ("token_calls_per_day", "error_limit", "error_block_seconds"):
        if overrides.get(key, 0) < 0:
            raise ValueError(f"{key} must not be negative")
    return overrides


def _same_kind(default, value) -> bool:
    """Check a value against a default's type, letting numbers mix but never treating a bool as a number."""
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))
