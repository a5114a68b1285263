"""Client for Exact Online: OAuth2 tokens, REST calls and typed errors. Knows nothing of the web app."""
from .client import ExactClient
from .errors import (AccessDenied, ConfigurationError, DivisionBlocked, ExactError, ExactRequestError,
                     ExactUnavailable, NoDivisionAccess, RateLimited, ReauthorizationRequired, TooEarlyToRefresh)
from .hosts import COUNTRIES, base_url, parse_base_urls
from .oauth import ExactOAuth, parse_callback
from .odata import parse_date
from .ratelimits import RateLimits
from .tokens import Token

__all__ = [
    "AccessDenied", "COUNTRIES", "ConfigurationError", "DivisionBlocked", "ExactClient", "ExactError",
    "ExactOAuth", "ExactRequestError", "ExactUnavailable", "NoDivisionAccess", "RateLimited", "RateLimits",
    "ReauthorizationRequired", "Token", "TooEarlyToRefresh", "base_url", "parse_base_urls", "parse_callback",
    "parse_date",
]
