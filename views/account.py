"""Which OutSmart account a request is for; every page and call is scoped to it."""
import secrets

from flask import current_app
from flask import session

from models import Connection
from views.failures import attention_reason


def current_account() -> str:
    """The OutSmart account of this request (the demo account until OutSmart's signed entry names one)."""
    return session.get("account") or current_app.config["DEFAULT_ACCOUNT"]


def current_user() -> str | None:
    """The OutSmart user named by the entry (none in the demo without one)."""
    return session.get("user")


def current_visit() -> str:
    """The OutSmart visit this request belongs to: set by the signed entry, or begun here (the demo's own visit)."""
    if "visit" not in session:
        session["visit"] = secrets.token_urlsafe(8)
    return session["visit"]


def current_connection() -> Connection:
    """The account's Exact Online connection, or a blank one that is not connected."""
    return Connection.for_account(current_account())


def exact_status(connection: Connection | None = None) -> dict:
    """The connection's state and locked administration (and why it needs attention), as the host page is told them.

    Views pass the connection they already loaded; only pages without one (404, 500) read it here.
    """
    if connection is None:
        account = session.get("account") or current_app.config.get("DEFAULT_ACCOUNT")
        connection = Connection.of_account(account) if account else None
    status = {
        "state": connection.status if connection else Connection.NOT_CONNECTED,
        "division": connection.division if connection and connection.is_locked else None,
    }
    if connection and connection.status == Connection.NEEDS_ATTENTION:
        status["reason"] = attention_reason(connection.attention_reason)  # only then: the messages stay as they were
    return status
