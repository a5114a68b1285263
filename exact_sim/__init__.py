"""A simulated Exact Online (OAuth2 + REST) for every country instance, served over real HTTP by one Flask app."""
from flask import Flask
from flask import abort

from . import control
from . import oauth
from . import rest
from . import traffic
from .settings import COUNTRIES
from .settings import validate
from .state import Simulator


def create_app(settings: dict | None = None) -> Flask:
    """Create the simulator app; `settings` overrides the defaults in exact_sim.settings (mode included)."""
    app = Flask(__name__)
    sim = Simulator(validate(dict(settings or {}), allow_mode=True))
    app.extensions["exact_sim"] = sim
    app.url_value_preprocessor(_known_country_only)
    traffic.init_app(app)
    app.register_blueprint(oauth.bp)
    app.register_blueprint(rest.bp)
    if sim.settings["mode"] != "plain":
        app.register_blueprint(control.bp)
    return app


def _known_country_only(_endpoint, values) -> None:
    """Each instance lives under /{cc}; any other prefix does not exist."""
    if values and "cc" in values and values["cc"] not in COUNTRIES:
        abort(404)
