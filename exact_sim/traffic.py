"""Hooks around every call to /{cc}/api/: inject armed faults before it, log it after."""
import re
import time
from dataclasses import dataclass

from flask import Flask
from flask import Response
from flask import g
from flask import request

from .clock import next_minute
from .budgets import COUNTED_ERRORS
from .faults import Fault
from .latency import latency_seconds
from .ratelimit import minutely_headers
from .render import JSON_TYPE
from .render import envelope
from .render import json_response
from .settings import COUNTRIES
from .state import current_sim

API_PATH = re.compile(r"/(?P<cc>[a-z]{2})/api/(?P<rest>.+)")
# A body cut off mid-way, the way a dropped connection or a broken proxy would deliver it.
MALFORMED_BODY = '{"d": {"results": [{"__metadata": {"uri": "'


@dataclass
class Target:
    """What a call to /api/ addresses: kind auth|token|rest, the endpoint after the division (or /api/v1/, /api/)."""

    cc: str
    kind: str
    endpoint: str
    division: int | None


def init_app(app: Flask) -> None:
    """Install the latency, error block, fault and call-log hooks (Exact's wait first: every answer takes it, the
    block's too; then the block: a blocked key reaches nothing else)."""
    app.before_request(wait_like_exact)
    app.before_request(refuse_blocked)
    app.before_request(inject_fault)
    app.after_request(count_error)
    app.after_request(record_call)


def describe(path: str) -> Target | None:
    """Classify a request path; None when it is not an /api/ call of a known instance."""
    match = API_PATH.fullmatch(path)
    if match is None or match["cc"] not in COUNTRIES:
        return None
    cc, rest = match["cc"], match["rest"]
    if rest.startswith("oauth2/"):
        return Target(cc, "token" if rest == "oauth2/token" else "auth", rest, None)
    resource = rest.removeprefix("v1/")
    head, _, tail = resource.partition("/")
    if head.isdigit():
        return Target(cc, "rest", tail, int(head))
    return Target(cc, "rest", resource, None)


def wait_like_exact() -> None:
    """Wait `latency_ms` before answering, as Exact takes its time, outside the simulator's lock: each caller waits on
    its own, so calls made at once are answered together after one latency. Notes how many waited at once."""
    target = describe(request.path)
    if target is None:
        return
    sim = current_sim()
    with sim.lock:
        delay = latency_seconds(sim.settings["latency_ms"], target.kind, target.endpoint)
    if delay:
        flight = sim.flights.start()
        time.sleep(delay)
        g.overlapping = sim.flights.end(flight)


BLOCKED = "The API key is blocked for this endpoint: too many errors within an hour."


def refuse_blocked() -> Response | None:
    """A REST call of a key (app, user, division, endpoint) that erred too often this hour gets the block's answer."""
    key = _error_key(describe(request.path))
    if key is None:
        return None
    sim = current_sim()
    with sim.lock:
        until = sim.budgets.blocked_until(key, sim.now())
        status = sim.settings["error_block_status"]
    if until is None:
        return None
    g.blocked = True
    return json_response(envelope(BLOCKED), status)


def count_error(response: Response) -> Response:
    """Count a 400/401/403/404 answer (armed faults too) towards its key's error block."""
    if response.status_code in COUNTED_ERRORS and not g.get("blocked"):
        key = _error_key(describe(request.path))
        if key is not None:
            sim = current_sim()
            with sim.lock:
                sim.budgets.count_error(key, sim.settings, sim.now())
    return response


def _error_key(target: Target | None) -> tuple | None:
    """Whose REST call this is, as the error block counts it: (cc, client_id, user, division, endpoint); None for
    other calls and for bearer tokens the simulator never issued."""
    if target is None or target.kind != "rest":
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    sim = current_sim()
    with sim.lock:
        chain = sim.grants.caller(target.cc, token.strip()) if scheme.lower() == "bearer" else None
    if chain is None:
        return None
    return target.cc, chain.client_id, chain.username.lower(), target.division, target.endpoint.removesuffix("/$count")


def inject_fault() -> Response | None:
    """Answer with an armed fault instead of the real response; a timeout only delays the real one."""
    target = describe(request.path)
    if target is None:
        return None
    sim = current_sim()
    with sim.lock:
        fault = sim.faults.take(target.cc, target.endpoint)
        settings, now = dict(sim.settings), sim.now()
    if fault is None:
        return None
    g.fault = fault.kind
    if fault.kind == "timeout":
        # Sleep outside the lock so other calls proceed while this one hangs.
        time.sleep(settings["fault_timeout_seconds"])
        return None
    return _fault_response(fault, settings, now)


def record_call(response: Response) -> Response:
    """Append the call to the log that GET /_sim/calls returns (path includes the query; accept is the Accept header)."""
    target = describe(request.path)
    if target is not None:
        sim = current_sim()
        with sim.lock:
            sim.calls.append({
                "time": sim.now(), "country": target.cc, "method": request.method, "path": _request_target(),
                "endpoint": target.endpoint, "division": target.division, "status": response.status_code,
                "kind": target.kind, "accept": request.headers.get("Accept"),
                "grant_type": request.form.get("grant_type") if target.kind == "token" else None,
                "fault": g.get("fault"),
                # The most calls waiting out their latency at once during this one's wait, itself included (None:
                # it did not wait, latency_ms 0).
                "overlapping": g.get("overlapping"),
            })
    return response


def _request_target() -> str:
    """The path with its query string, as an access log shows it."""
    query = request.query_string.decode()
    return f"{request.path}?{query}" if query else request.path


def _fault_response(fault: Fault, settings: dict, now: float) -> Response:
    """The response of a fault kind other than timeout."""
    if fault.kind == "malformed":
        return Response(MALFORMED_BODY, 200, content_type=JSON_TYPE)
    if fault.kind == "401":
        body = settings["rest_401_body"]
        return Response(body, 401, content_type=JSON_TYPE if body else None)
    if fault.kind == "429":
        reset_at = now + fault.reset_in if fault.reset_in is not None else next_minute(now)
        return json_response(envelope("Too many requests"), 429,
                             minutely_headers(settings["minutely_limit"], 0, reset_at))
    message = {"500": "Internal Server Error", "503": "Service Unavailable"}[fault.kind]
    return json_response(envelope(message), int(fault.kind))
