"""A session that works inside a cross-site iframe even when the browser withholds its cookie."""
from flask import current_app
from flask import request
from flask import session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from werkzeug.exceptions import RequestEntityTooLarge

# Pages send the signed session back in this header (htmx) or form field (plain forms).
HEADER = "X-Session"
FIELD = "_session"
# Where _form_value leaves a form too large to read, for views/errors.py to refuse before anything else runs.
FORM_TOO_LARGE = "outsmart.form_too_large"
TOKEN_KEY = "outsmart.session_token"


class PortableSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, also readable from the X-Session header or the _session form field.

    Browsers block or partition third-party cookies, so inside OutSmart's iframe the cookie may never come
    back. Every page therefore carries the same signed value and sends it with each request; the value is
    fixed at the signed entry (account, user, locale, host, CSRF secret), so a copy held by the page never
    goes stale.
    """

    def open_session(self, app, request):
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.headers.get(HEADER) or _form_value(request) or request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        try:
            return self.session_class(serializer.loads(value, max_age=int(app.permanent_session_lifetime.total_seconds())))
        except BadSignature:
            return self.session_class()


def _form_value(request) -> str | None:
    if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            return request.form.get(FIELD)
        except RequestEntityTooLarge as error:
            # Raised here, while Flask opens the session, it would be a 500 without any page (Flask's error page
            # needs the session); the session comes from the header or cookie instead, and the form is refused.
            request.environ[FORM_TOO_LARGE] = error
    return None


def session_token() -> str:
    """The signed session as the page sends it back (empty outside an embedded visit)."""
    if not session.get("embedded"):
        return ""
    # A page writes it twice (hx-headers and each form); signing it once per request is enough.
    cached = request.environ.get(TOKEN_KEY)
    if cached is None:
        interface = current_app.session_interface
        cached = request.environ[TOKEN_KEY] = interface.get_signing_serializer(current_app).dumps(dict(session))
    return cached
