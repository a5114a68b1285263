"""Which OutSmart account a request is for; every page and call is scoped to it."""
from flask import current_app
from flask import session

from models import Connection


def current_account() -> str:
    """The OutSmart account of this request (the demo account until OutSmart's signed entry names one)."""
    return session.get("account") or current_app.config["DEFAULT_ACCOUNT"]


def current_connection() -> Connection:
    """The account's Exact Online connection, or a blank one that is not connected."""
    return Connection.for_account(current_account())
