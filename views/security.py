"""Response headers: who may frame the app, what the page may load, and no caching of private pages."""
import logging
from urllib.parse import urlsplit

from flask import current_app
from flask import request


def without_query(text: str) -> str:
    """A request line (or a message quoting one) with its query string cut out: from the "?" to the protocol."""
    start = text.find("?")
    if start < 0:
        return text
    rest = text[start:]
    protocol = rest.rfind(" HTTP/")
    if protocol >= 0:
        return text[:start] + rest[protocol:]
    return text[:start] + next((end for end in ("')", '")') if rest.endswith(end)), "")


# A query string may hold a credential that still works: Exact's authorization code (and our state) on the
# callback, OutSmart's signed entry on /embed, a service key a worker wrongly put in the address. No route needs
# its query in the log, so none is kept: paths only.
class PathsWithoutQuery(logging.Filter):
    """Werkzeug's access log prints whole request lines, and it and gunicorn quote bad ones in their errors: keep only
    the paths."""

    def filter(self, record):
        """Cut the query out of the record's text; never drop the record."""
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(without_query(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.msg, str) and not record.args:
            record.msg = without_query(record.msg)
        return True


class DropDebugRecords(logging.Filter):
    """requests-oauthlib's debug records print token bodies and the client secret: never let one through."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def register(app):
    """Add the security headers to every response; keep credentials out of every log."""
    app.after_request(add_security_headers)
    for name, kind in (("werkzeug", PathsWithoutQuery), ("gunicorn.error", PathsWithoutQuery),
                       ("requests_oauthlib.oauth2_session", DropDebugRecords)):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, kind) for existing in logger.filters):
            logger.addFilter(kind())


def content_security_policy() -> str:
    """No inline script, our own origin only; Exact's hosts only as form targets (the login redirect)."""
    config = current_app.config
    exact_origins = sorted({"{0.scheme}://{0.netloc}".format(urlsplit(url)) for url in config["EXACT_HOSTS"].values()})
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self' " + " ".join(exact_origins),
        "frame-ancestors 'self' " + " ".join(config["HOST_ORIGINS"]),
    ])


def add_security_headers(response):
    response.headers["Content-Security-Policy"] = content_security_policy()
    response.headers["X-Content-Type-Options"] = "nosniff"
    # The callback's URL holds Exact's authorization code: its page's own requests must not carry it to any log.
    response.headers["Referrer-Policy"] = "no-referrer" if request.endpoint == "login.callback" else "same-origin"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response
