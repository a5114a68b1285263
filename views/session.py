"""A session that works inside a cross-site iframe even when the browser withholds its cookie."""
import flask
from flask import current_app
from flask import session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from werkzeug.exceptions import RequestEntityTooLarge

# Pages send the signed session back in this header (htmx) or form field (plain forms).
HEADER = "X-Session"
FIELD = "_session"


class Request(flask.Request):
    """Flask's request, remembering why its form could not be read: every reader after the first gets the same 413.

    The session is opened before any hook runs and may read the form; the first step of the request pipeline
    (views/errors.refuse_unreadable_request) then reads it again and refuses the request in words.
    """

    unreadable: RequestEntityTooLarge | None = None

    def _load_form_data(self) -> None:
        if self.unreadable is None:
            try:
                super()._load_form_data()
            except RequestEntityTooLarge as error:
                self.unreadable = error
        if self.unreadable is not None:
            raise self.unreadable


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
    if request.method != "POST" or request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return None
    try:
        return request.form.get(FIELD)
    except RequestEntityTooLarge:
        # Raised here, while Flask opens the session, it would be a 500 without any page (Flask's error page needs
        # the session); the session comes from the header or cookie instead, and the request pipeline refuses it.
        return None


def session_token() -> str:
    """The signed session as the page sends it back (empty outside an embedded visit)."""
    if not session.get("embedded"):
        return ""
    return current_app.session_interface.get_signing_serializer(current_app).dumps(dict(session))
