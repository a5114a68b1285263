"""Where the app lives, from configuration (APP_URL): never from the Host header a request brings."""
from urllib.parse import urlsplit

from flask import current_app


def app_origin() -> str:
    """The app's own origin, e.g. https://exact.out-smart.com: where its pages and popups post their messages."""
    parts = urlsplit(current_app.config["APP_URL"])
    return f"{parts.scheme}://{parts.netloc}"


def app_host() -> str:
    """The app's host (and port), as the browser's settings name the site: for "allow cookies for …"."""
    return urlsplit(current_app.config["APP_URL"]).netloc
