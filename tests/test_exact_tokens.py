"""Token lifetime arithmetic and Exact's 570-second rule."""
import pytest

from exact.tokens import Token

PAYLOAD = {"access_token": "AT-secret", "token_type": "bearer", "refresh_token": "RT!secret"}


@pytest.mark.parametrize("expires_in", ["600", 600])
def test_from_response_accepts_expires_in_as_string_or_int(expires_in):
    token = Token.from_response({**PAYLOAD, "expires_in": expires_in}, now=1_000.0)
    assert (token.access_token, token.refresh_token) == ("AT-secret", "RT!secret")
    assert (token.issued_at, token.expires_at) == (1_000.0, 1_600.0)


def test_refresh_is_due_only_in_the_last_30_seconds():
    token = Token("a", "r", expires_at=1_600.0, issued_at=1_000.0)
    assert not token.refresh_due(1_569.0)
    assert token.refresh_due(1_570.0)
    assert token.refresh_due(1_700.0)
    assert token.refresh_due(1_500.0, margin=100)


def test_may_refresh_from_570_seconds_after_issue():
    token = Token("a", "r", expires_at=1_600.0, issued_at=1_000.0)
    assert not token.may_refresh(1_569.9)
    assert token.may_refresh(1_570.0)


def test_repr_and_str_never_show_the_tokens():
    token = Token("AT-secret", "RT!secret", expires_at=1_600.0, issued_at=1_000.0)
    for text in (repr(token), str(token), repr([token])):
        assert "secret" not in text
    assert "1600.0" in repr(token)
