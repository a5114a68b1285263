"""Pages or fragments from one URL: the htmx helpers every view uses."""
from flask import make_response
from flask import render_template
from flask import request

from views.steps import BY_NAME

# The request headers wants_partial() branches on; caches must key on them.
VARY_HEADERS = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request", "HX-Request-Type")


def wants_partial() -> bool:
    """True for an htmx request that targets part of the page (not boosted, not a history restore)."""
    headers = request.headers
    if headers.get("HX-Request") != "true" or headers.get("HX-Boosted") or headers.get("HX-History-Restore-Request"):
        return False
    return headers.get("HX-Request-Type", "partial") == "partial"  # htmx 4 sends it; htmx 2 doesn't


def render_step(partial: str, status: int = 200, step: str | None = None, **context):
    """Render `partials/<partial>` alone for htmx, or inside the full page; mark the response Vary.

    `step` names the setup step the page belongs to (views/steps.py), for the stepper; none outside the setup.
    """
    template = f"partials/{partial}" if wants_partial() else "page.html"
    context.update(partial=f"partials/{partial}", step=BY_NAME[step] if step else None)
    response = make_response(render_template(template, **context), status)
    response.vary.update(VARY_HEADERS)
    return response
