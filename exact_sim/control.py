"""Control endpoints under /_sim for tests and demos: reset, settings, clock, faults, call log, revoke, seed, state."""
from flask import Blueprint
from flask import jsonify
from flask import request

from . import seed
from .settings import COUNTRIES
from .settings import validate
from .state import current_sim
from .state import locked

bp = Blueprint("control", __name__, url_prefix="/_sim")


@bp.errorhandler(ValueError)
def bad_request(error: ValueError):
    """Explain a rejected control request."""
    return jsonify(error=str(error)), 400


@bp.post("/reset")
@locked
def reset():
    """Reseed everything, clock to real time, start-up settings plus the posted overrides; faults and calls cleared."""
    sim = current_sim()
    sim.reset(validate(_json()))
    return jsonify(sim.settings)


@bp.get("/settings")
@locked
def settings_get():
    """The settings in force."""
    return jsonify(current_sim().settings)


@bp.post("/settings")
@locked
def settings_post():
    """Change some settings without reseeding."""
    sim = current_sim()
    sim.settings.update(validate(_json()))
    return jsonify(sim.settings)


@bp.get("/clock")
@locked
def clock_get():
    """Simulated now as epoch seconds."""
    return jsonify(now=current_sim().now())


@bp.post("/clock")
@locked
def clock_post():
    """Move simulated time: {"advance": seconds} or {"set": epoch}."""
    clock, body = current_sim().clock, _json()
    if isinstance(body.get("advance"), (int, float)):
        return jsonify(now=clock.advance(body["advance"]))
    if isinstance(body.get("set"), (int, float)):
        return jsonify(now=clock.set(body["set"]))
    raise ValueError('Post {"advance": seconds} or {"set": epoch}')


@bp.get("/faults")
@locked
def faults_get():
    """The faults still armed."""
    return jsonify(current_sim().faults.describe())


@bp.post("/faults")
@locked
def faults_post():
    """Arm a fault for the next `count` matching calls."""
    sim = current_sim()
    sim.faults.arm(_json())
    return jsonify(sim.faults.describe())


@bp.get("/calls")
@locked
def calls_get():
    """Every logged call to /api/, oldest first."""
    return jsonify(current_sim().calls)


@bp.delete("/calls")
@locked
def calls_delete():
    """Empty the call log."""
    current_sim().calls.clear()
    current_sim().flights.clear_peak()
    return "", 204


@bp.post("/revoke")
@locked
def revoke():
    """Revoke all of a user's grant chains, as the user would in the Beveiligingscentrum."""
    username = _json().get("username")
    if not isinstance(username, str):
        raise ValueError("username is required")
    return jsonify(revoked=current_sim().grants.revoke_user(username))


@bp.post("/seed")
@locked
def seed_user():
    """Add a user with N generated divisions; JSON: username, divisions, country, password, first_name, last_name, denied."""
    body = _json()
    cc = body.get("country", "nl")
    if cc not in COUNTRIES:
        raise ValueError(f"country must be one of {', '.join(COUNTRIES)}")
    username, count = body.get("username"), body.get("divisions")
    if not isinstance(username, str) or not isinstance(count, int) or isinstance(count, bool):
        raise ValueError("username (string) and divisions (integer) are required")
    names = {key: str(body[key]) for key in ("password", "first_name", "last_name") if key in body}
    denied = body.get("denied", [])
    if not all(isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair) for pair in denied):
        raise ValueError('denied must be a list of [endpoint, action] pairs, e.g. [["crm/Accounts", "GET"]]')
    user = seed.add_scaled_user(current_sim().instances[cc], username, count, denied=frozenset(map(tuple, denied)),
                                **names)
    return jsonify(country=cc, username=user.username, divisions=len(user.divisions),
                   first_division=user.divisions[0], last_division=user.divisions[-1])


@bp.get("/state")
@locked
def state():
    """A debug view: settings, clock, the most /api/ calls waiting out their latency at once since the call log was
    cleared (peak_in_flight), users per instance, grant chains (token prefixes only), armed faults, token calls
    today and errors this hour per user, blocked keys."""
    sim = current_sim()
    return jsonify(
        now=sim.now(), settings=sim.settings, faults=sim.faults.describe(), calls=len(sim.calls),
        peak_in_flight=sim.flights.peak,
        users={cc: sorted(instance.users) for cc, instance in sim.instances.items()},
        **sim.grants.describe(sim.settings, sim.now()), **sim.budgets.describe(sim.now()))


def _json() -> dict:
    """The posted JSON object, or {} when the body is empty."""
    body = request.get_json(silent=True) if request.data else {}
    if not isinstance(body, dict):
        raise ValueError("Post a JSON object")
    return body
