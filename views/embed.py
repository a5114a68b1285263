"""OutSmart's signed entry: the account, user, language and host page a visit belongs to."""
import fnmatch
import re
import secrets
from urllib.parse import urlsplit

import click
from flask import Blueprint
from flask import current_app
from flask import g
from flask import make_response
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer

from views import throttle
from views.languages import DEFAULT_LANGUAGE
from views.languages import LANGUAGES
from views.languages import browser_language
from views.languages import supported

bp = Blueprint("embed", __name__)

ENTRY_SALT = "outsmart-embed-entry"
LOCALES = tuple(LANGUAGES)  # nl, en, fr, de
# Reached without an entry: the entry itself, static files, the login popup (bound by its attempt instead), and the
# addresses for the machines that run and watch the app (views/ops.py: /metrics limited to METRICS_ALLOW).
PUBLIC_ENDPOINTS = {"static", "embed.enter", "login.popup_start", "login.popup_continue", "login.callback",
                    "login.callback_confirm", "login.callback_done", "ops.healthz", "ops.readyz", "ops.metrics"}
# An origin's host and port, nothing else: a pattern's * must not swallow a backslash, user info, a percent escape
# or a space, which a browser reads as part of another origin (https://evil.example\.out-smart.com is evil.example).
BARE_HOST = re.compile(r"[a-z0-9.-]+(:[0-9]{1,5})?")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["EMBED_SECRET"], salt=ENTRY_SALT)


def make_entry_token(account: str, user: str, locale: str = DEFAULT_LANGUAGE, host_origin: str | None = None) -> str:
    """Sign an entry for one OutSmart account (what OutSmart's server does with the shared EMBED_SECRET)."""
    host_origin = host_origin or current_app.config["HOST_ORIGINS"][0]
    return _serializer().dumps({"account": account, "user": user, "locale": locale, "host_origin": host_origin})


def host_origin_allowed(origin: str) -> bool:
    """Whether `origin` is one of OutSmart's configured origins (patterns like https://*.out-smart.com allowed)."""
    parts = urlsplit(origin)
    # Only a bare origin may match: a pattern's * must never swallow a path like https://evil.example/x.out-smart.com.
    if (parts.scheme not in ("http", "https") or not BARE_HOST.fullmatch(parts.netloc)
            or origin != f"{parts.scheme}://{parts.netloc}"):
        return False
    return any(fnmatch.fnmatchcase(origin, pattern) for pattern in current_app.config["HOST_ORIGINS"])


@bp.get("/embed")
def enter():
    """Start a visit from OutSmart's signed entry, then show the software integrations."""
    # An address with too many failed entries waits, whatever it sends now: a valid entry neither counts nor unblocks.
    wait = throttle.entry_wait()
    if wait:
        session.clear()
        return _too_many_entries(wait)
    try:
        entry = _serializer().loads(request.args.get("token", ""), max_age=current_app.config["EMBED_ENTRY_MAX_AGE"])
        account, user, locale, host_origin = (entry["account"], entry["user"], entry["locale"], entry["host_origin"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return _failed_entry()
    if not (isinstance(account, str) and 0 < len(account) <= 100 and isinstance(user, str)
            and isinstance(host_origin, str) and host_origin_allowed(host_origin)):
        return _failed_entry()
    session.clear()
    # The entry's language ("fr", also "fr-BE" or "fr_BE"); one the screen does not speak: the browser's, else Dutch.
    session.update(account=account, user=user[:200],
                   locale=supported(locale) or browser_language() or DEFAULT_LANGUAGE,
                   host_origin=host_origin, embedded=True, visit=secrets.token_urlsafe(16))
    g.locale = session["locale"]
    generate_csrf()  # the CSRF secret belongs in the session before the page copies it
    from views.integrations import index

    return index()


def open_from_outsmart():
    """The only page shown without a valid entry; to htmx (a page left open past its visit), the panel alone, in
    place of the whole step whatever the request meant to swap."""
    if request.headers.get("HX-Request") != "true":
        response = make_response(render_template("open_from_outsmart.html"), 401)
    else:
        title = _("%(page)s — Exact Online", page=_("Open deze pagina vanuit OutSmart"))
        response = make_response(render_template("fragment.html", partial="partials/open_from_outsmart.html",
                                                 page_title=title), 401)
        response.headers.update({"HX-Retarget": "#exact", "HX-Reswap": "outerHTML"})
    response.vary.add("HX-Request")
    return response


def _failed_entry():
    """Count the failure against the address it came from; past the limits the page says how long to wait."""
    session.clear()  # a failed entry ends any earlier visit in this browser too
    wait = throttle.count_failed_entry()
    return _too_many_entries(wait) if wait else open_from_outsmart()


def _too_many_entries(wait: int):
    response = make_response(render_template("open_from_outsmart.html", refusal=throttle.entry_refusal(wait)), 429)
    return throttle.retry_after(response, wait)


def guard_entry():
    """Before every request: no entry, no access (the demo falls back to its default account)."""
    g.locale = session.get("locale")
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None or request.blueprint in ("api", "ops"):
        return None  # the API admits services by their own keys; /healthz, /readyz, /metrics are for machines
    if not (session.get("account") or current_app.config.get("DEFAULT_ACCOUNT")):
        return open_from_outsmart()
    return None


@click.command("embed-url")
@click.argument("account")
@click.option("--user", default="admin", help="The OutSmart user opening the settings.")
@click.option("--locale", default=DEFAULT_LANGUAGE, type=click.Choice(LOCALES))
@click.option("--host-origin", default=None, help="The OutSmart page's origin (default: the first of HOST_ORIGINS).")
def embed_url_command(account, user, locale, host_origin):
    """Print a fresh signed embed URL for an OutSmart account."""
    token = make_entry_token(account, user, locale, host_origin)
    with current_app.test_request_context(base_url=current_app.config["APP_URL"]):  # addresses from APP_URL only
        click.echo(url_for("embed.enter", token=token, _external=True))


def register(app):
    """Install the /embed route and the embed-url command (create_app runs guard_entry before every request)."""
    app.register_blueprint(bp)
    app.cli.add_command(embed_url_command)
