"""The OAuth token pair Exact issues, and Exact's timing rules around it."""
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Exact refuses a new access token until 570 s after the previous one was received.
MIN_SECONDS_BETWEEN_TOKENS = 570
# Refresh when this little life is left: inside Exact's window, with room for a slow request.
REFRESH_MARGIN = 30


@dataclass(frozen=True, repr=False)
class Token:
    """An access/refresh token pair with its lifetime in epoch seconds."""

    access_token: str
    refresh_token: str
    expires_at: float
    issued_at: float

    @classmethod
    def from_response(cls, payload: Mapping[str, Any], now: float) -> "Token":
        """Build from a token endpoint response received at `now`; expires_in may be "600" or 600."""
        return cls(
            access_token=payload["access_token"],
            refresh_token=payload["refresh_token"],
            expires_at=now + int(payload["expires_in"]),
            issued_at=now,
        )

    def refresh_due(self, now: float, margin: float = REFRESH_MARGIN) -> bool:
        """True when at most `margin` seconds of the access token's life remain."""
        return self.expires_at - now <= margin

    def may_refresh(self, now: float) -> bool:
        """True when Exact will accept a refresh (570 s after this token was received)."""
        return self.issued_at + MIN_SECONDS_BETWEEN_TOKENS <= now

    def __repr__(self) -> str:
        return f"Token(expires_at={self.expires_at!r}, issued_at={self.issued_at!r})"
