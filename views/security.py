"""Response headers: who may frame the app, what the page may load, and no caching of private pages."""
from urllib.parse import urlsplit

from flask import current_app
from flask import request


def register(app):
    """Add the security headers to every response."""
    app.after_request(add_security_headers)


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
    response.headers["Referrer-Policy"] = "same-origin"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response
