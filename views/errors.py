"""Errors in plain words, shaped to swap into the step like any other answer."""
import logging
import math
import time

from flask import current_app
from flask import request
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.exceptions import SecurityError

import connections
from exact.errors import AttentionNeeded
from exact.errors import ExactError
from exact.errors import RateLimited
from exact.errors import ReauthorizationRequired
from views.account import current_connection
from views.api import problem
from views.htmx import render_step

log = logging.getLogger(__name__)

# Our answer's status when Exact failed: the admin's request was fine, Exact's side was not. A refusal that needs
# attention is the connection's state, not a failure of this request: 409, as the token API says it.
EXACT_STATUS = {RateLimited: 429, ReauthorizationRequired: 401, AttentionNeeded: 409}


def register(app):
    """Install the error handlers on the app."""
    app.register_error_handler(ExactError, exact_failed)
    app.register_error_handler(CSRFError, csrf_failed)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.register_error_handler(SecurityError, untrusted_host)
    app.register_error_handler(404, not_found)
    app.register_error_handler(500, server_error)
    app.register_error_handler(HTTPException, other_http_error)


def retry_url() -> str:
    """Where "Opnieuw proberen" goes: this page again, or for a failed POST the step it was posted from."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    try:
        current_app.url_map.bind("").match(request.path, method="GET")
        return request.path  # one URL per step: its GET shows the form again
    except HTTPException:
        return url_for("setup.overview")


def exact_failed(error: ExactError):
    """Exact refused or failed: say what happened and offer to try again; nothing saved has changed.

    A dead grant was marked expired where the token endpoint said so (token_store.py); nothing else expires it.
    """
    log.warning("Exact call failed on %s: %s", request.path, error.detail)
    connection = current_connection()
    if isinstance(error, AttentionNeeded) and connection.is_locked:
        connections.needs_attention(connection, error)  # a saved connection stops synchronising and says why
        connection = current_connection()
    status = next((code for kind, code in EXACT_STATUS.items() if isinstance(error, kind)), 503)
    retry = retry_url()
    until = getattr(error, "retry_at", None) or None  # a wait of ours (Exact's rules): when it ends
    response = render_step("error.html", status, connection=connection,
                           message=error.message(get_locale().language), retry=retry, until=until,
                           reconnect=isinstance(error, ReauthorizationRequired) or getattr(error, "reconnect_helps", False))
    if until is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(until - time.time())))
    return response


# A form too large to read (Flask's MAX_FORM_* limits): 413, raised by reading it. A NUL character in the path, the
# query or the form, which PostgreSQL cannot even compare, and a form field without a name, on which Flask-WTF's CSRF
# check raises: 400.
def refuse_unreadable_request():
    """Refuse what no page of ours sends and the code after this hook cannot take, in words."""
    if isinstance(request.routing_exception, SecurityError):
        return untrusted_host(request.routing_exception)  # another host: refused before anything is read
    sent = [request.path, *_texts(request.args), *_texts(request.form)]
    if None in sent or any("\x00" in text for text in sent):
        if _for_api():
            return problem(400, "bad_request", "The request cannot be read (a NUL character or a field without a "
                           "name); nothing was changed.")
        return render_step("error.html", 400, connection=None, retry=None, message=_(
            "Dit verzoek kan niet worden gelezen (een NUL-teken of een veld zonder naam), daarom is er niets "
            "gewijzigd. Laad de pagina opnieuw en probeer het nog eens."))
    return None


def _texts(values) -> list:
    """Every name and value; a multipart part without a name has the name None."""
    return [text for name, items in values.lists() for text in (name, *items)]


def _for_api() -> bool:
    return request.path.startswith("/api/")


def too_large(error: RequestEntityTooLarge):
    if _for_api():
        return problem(413, "too_large", "The request is too large; nothing was changed.")
    return render_step("error.html", 413, connection=None, retry=None, message=_(
        "Het formulier is te groot om te verwerken, daarom is er niets opgeslagen. Laad de pagina opnieuw en probeer "
        "het nog eens."))


def csrf_failed(error: CSRFError):
    return render_step("error.html", 400, connection=current_connection(), retry=retry_url(),
                       message=_("Deze pagina was verlopen, daarom is er niets opgeslagen. Laad de pagina opnieuw "
                                 "en probeer het nog eens."))


def untrusted_host(error: SecurityError):
    """A request for a host other than APP_URL's (Flask's TRUSTED_HOSTS): no page of ours is built for it.

    No address can be built either (the routing refused the host), so the answer is a sentence, not a page.
    """
    if _for_api():
        return problem(400, "bad_request", "This address does not belong to the app; nothing was changed.")
    message = _("Dit adres hoort niet bij de Exact Online-instellingen van OutSmart. Open de instellingen vanuit "
                "OutSmart: Instellingen → Algemeen → Software-integraties.")
    return current_app.response_class(f"<!doctype html><title>Exact Online</title><p>{escape(message)}</p>", 400,
                                      mimetype="text/html")


def not_found(error):
    if _for_api():
        return api_error(error)
    return render_step("error.html", 404, connection=None, retry=None,
                       message=_("Deze pagina bestaat niet. Ga terug naar de Exact Online-instellingen."))


def server_error(error):
    if _for_api():
        return api_error(error)
    return render_step("error.html", 500, connection=None, retry=retry_url(),
                       message=_("Er ging bij ons iets mis; er is niets gewijzigd. Probeer het over een paar "
                                 "minuten opnieuw."))


def other_http_error(error: HTTPException):
    """Any other HTTP error (405 above all): JSON under /api/, Werkzeug's own page elsewhere as before."""
    if _for_api() and error.response is None:
        return api_error(error)
    return error


# Under /api/ every error is JSON in problem()'s shape, in words a worker's developer can act on.
API_ERRORS = {
    404: ("not_found", "There is nothing at this address. The API's addresses are in /api/v1/openapi.json."),
    405: ("method_not_allowed", "This address does not take the method {method}; the Allow header lists the ones "
                                "it takes."),
    500: ("server_error", "Something went wrong on our side; nothing was changed. Try again in a few minutes."),
}


def api_error(error: HTTPException):
    """An HTTP error as the API's JSON problem, keeping the error's own headers (Allow, Retry-After) but its type."""
    name, message = API_ERRORS.get(error.code, (error.name.lower().replace(" ", "_"), error.description))
    response = problem(error.code, name, message.replace("{method}", request.method))
    for header, value in error.get_headers():
        if header.lower() != "content-type":
            response.headers[header] = value
    return response
