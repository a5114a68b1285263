"""Step 1: Instellingen → Algemeen → Software-integraties, listing Exact Online with its status."""
from flask import Blueprint
from flask import redirect
from flask import url_for

from views.account import current_connection
from views.htmx import render_step

bp = Blueprint("integrations", __name__)


@bp.get("/")
def home():
    return redirect(url_for("integrations.index"))


@bp.get("/integraties")
def index():
    """The software integrations, with Exact Online's connection status."""
    return render_step("integrations.html", step="integrations", connection=current_connection())
