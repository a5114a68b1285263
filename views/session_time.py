"""The visit's time limit (PERMANENT_SESSION_LIFETIME, 8 hours) said before it runs out (WCAG 2.2.1).

Inside OutSmart the page sends its signed copy of the session with every request (views/session.py). That copy was
signed when the page was loaded, so the visit ends one lifetime after that. SESSION_WARNING_BEFORE seconds before,
the page says so with a button that gets a freshly signed copy: the visit goes on for another lifetime and nothing
typed is lost. Once it has ended only OutSmart can start a new one (a new signed entry reloads the page), so the
page says that instead.
"""
from flask import Blueprint
from flask import current_app
from flask import jsonify

from views.session import session_token

bp = Blueprint("session_time", __name__)


def lifetime_seconds() -> int:
    """How long a freshly signed session lasts."""
    return int(current_app.permanent_session_lifetime.total_seconds())


@bp.post("/sessie/verlengen")
def extend():
    """A freshly signed copy of this visit's session, for the page to send from now on (CSRF is checked first, and
    only a session still valid gets here: one that has ended has no account)."""
    response = jsonify(session=session_token(), seconds=lifetime_seconds())
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app):
    app.register_blueprint(bp)
    app.jinja_env.globals["session_seconds"] = lifetime_seconds
