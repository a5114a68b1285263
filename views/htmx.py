"""Pages or fragments from one URL: the htmx helpers every view uses."""
from flask import make_response
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from views.steps import BY_NAME
from views.steps import STEPS

# The request headers wants_partial() branches on; caches must key on them.
VARY_HEADERS = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request", "HX-Request-Type")

# The window title of the pages outside the numbered steps (and of those that show no stepper).
PAGE_TITLES = {
    "integrations.html": _l("Software-integraties"),
    "overview.html": _l("Instellingen"),
    "disconnect.html": _l("Verbinding verbreken"),
    "connection_test.html": _l("Verbinding testen"),
    "already_saved.html": _l("Al opgeslagen"),
    "error.html": _l("Dat lukte niet"),
}


def wants_partial() -> bool:
    """True for an htmx request that targets part of the page (not boosted, not a history restore)."""
    headers = request.headers
    if headers.get("HX-Request") != "true" or headers.get("HX-Boosted") or headers.get("HX-History-Restore-Request"):
        return False
    return headers.get("HX-Request-Type", "partial") == "partial"  # htmx 4 sends it; htmx 2 doesn't


# Fragments swapped into part of a step: they keep the step's title.
PARTS = {"administration_list.html"}


def page_title(partial: str, step, status: int = 200, title: str | None = None) -> str | None:
    """The window's title: the step and its number during the setup ("Stap 3 van 7: …"), else the page's name;
    "Fout:" first when the page shows what to correct. None for a part of a step."""
    if partial in PARTS:
        return None
    name = title or PAGE_TITLES.get(partial)
    if name is None and step is not None:
        name = _("Stap %(number)s van %(total)s: %(label)s", number=step.number, total=len(STEPS), label=step.label)
    text = _("%(page)s — Exact Online", page=name) if name else "Exact Online"
    return _("Fout: %(title)s", title=text) if status == 422 else text


def render_step(partial: str, status: int = 200, step: str | None = None, title: str | None = None, **context):
    """Render `partials/<partial>` alone for htmx, or inside the full page; mark the response Vary.

    `step` names the setup step the page belongs to (views/steps.py), for the stepper; none outside the setup.
    `title` names a page whose window title is neither its step's nor in PAGE_TITLES. A fragment carries its
    <title> too: htmx sets the window's title from it on every swap.
    """
    template = "fragment.html" if wants_partial() else "page.html"
    context.update(partial=f"partials/{partial}", step=BY_NAME[step] if step else None)
    context["page_title"] = page_title(partial, context["step"], status, title)
    response = make_response(render_template(template, **context), status)
    response.vary.update(VARY_HEADERS)
    return response
