"""Sections measured in-process with the Flask test client: Exact calls, server cost (context), bytes, scale."""
import gzip
import re
import time
from html.parser import HTMLParser
from urllib.parse import urljoin
from urllib.parse import urlsplit

from bench import browser
from bench import env
from bench.bare_app import create_bare_app
from bench.browser import expect
from exact_sim.seed import JAN

STEP_GETS = ["/integraties", "/exact/land", "/exact/verbinding", "/exact/administratie", "/exact/instellingen",
             "/exact/controle"]


def to_draft(client, sim, code=101) -> dict:
    """Log in as Jan, choose `code`, post valid settings: the state of step 7 before Opslaan. Returns the form."""
    expect(browser.connect(client, sim, JAN), 303)
    expect(browser.choose(client, code), 303)
    expect(client.get("/exact/administratie"), 200)  # the preview: counts read once, cached
    data = browser.settings_form(client)
    expect(client.post("/exact/instellingen", data=data), 303)
    return data


# 4. Exact calls ------------------------------------------------------------------------------------------------

def exact_calls(app, sim) -> dict:
    """A complete setup as a browser does it (every redirect followed), and reopening the saved settings."""
    client = env.client_for_account(app, "bench-calls")
    sim.clear_calls()
    expect(client.get("/integraties"), 200)
    expect(client.get("/exact/land"), 200)
    expect(browser.connect(client, sim, JAN, follow_redirects=True), 200)  # → /exact/verbinding
    expect(client.get("/exact/administratie"), 200)
    expect(browser.choose(client, 101, follow_redirects=True), 200)
    data = browser.settings_form(client)  # GET /exact/instellingen
    expect(client.post("/exact/instellingen", data=data, follow_redirects=True), 200)  # → /exact/controle
    expect(browser.save(client, follow_redirects=True), 200)  # → /exact
    setup = sim.calls()
    sim.clear_calls()
    expect(client.get("/exact"), 200)
    expect(client.get("/exact/instellingen"), 200)
    reopen = sim.calls()
    return {"setup": _describe_calls(setup), "reopen": _describe_calls(reopen)}


def _describe_calls(calls: list) -> dict:
    """The app's calls to Exact (token and REST; the browser's login and consent pages are not the app's)."""
    calls = [call for call in calls if call["kind"] in ("token", "rest")]
    by_endpoint = {}
    for call in calls:
        name = call["endpoint"] or call["kind"]
        if call["kind"] == "token":
            name = f"token ({call['grant_type']})"
        by_endpoint[name] = by_endpoint.get(name, 0) + 1
    return {"total": len(calls), "by_endpoint": by_endpoint,
            "refreshes": sum(1 for c in calls if c["kind"] == "token" and c["grant_type"] == "refresh_token"),
            "status_429": sum(1 for c in calls if c["status"] == 429)}


# 1. Server cost ------------------------------------------------------------------------------------------------

def server_cost(app, sim, n: int) -> dict:
    """Median and p99 per request of each step's GET and POST, each against a bare Flask route timed alternately."""
    bare = create_bare_app().test_client()
    bare_call = lambda: bare.get("/bare")  # noqa: E731
    baseline = env.summary(env.timed(bare_call, n * 5, warmup=50))
    client = app.test_client()  # the default account ("demo")
    data = to_draft(client, sim)
    confirmed = browser.check_form(client)  # what Opslaan posts, read once: each save is put back to this state
    rows = {}

    def get(path, status=200):
        return lambda: expect(client.get(path), status)

    def measure(call, count, before=None):
        samples, base = env.timed_against(call, bare_call, count, before=before)
        row = env.summary(samples)
        row["baseline_median_ms"] = env.summary(base)["median_ms"]
        row["ratio_median"] = row["median_ms"] / row["baseline_median_ms"]
        return row

    for path in STEP_GETS:
        rows[f"GET {path}"] = measure(get(path), n)
    posts = {
        "POST /exact/land": (lambda: expect(client.post("/exact/land", data={"country": "nl"}), 303), None),
        "POST /exact/administratie": (
            lambda: expect(client.post("/exact/administratie", data={"division": 101}), 303), None),
        "POST /exact/instellingen": (lambda: expect(client.post("/exact/instellingen", data=data), 303), None),
        "POST /exact/controle (save)": (
            lambda: expect(client.post("/exact/controle", data=confirmed), 303),
            lambda: _unsave(app, data)),
    }
    for name, (call, before) in posts.items():
        rows[name] = _with_exact_share(measure, call, before, n if before is None else max(10, n // 4))
    # Now saved (the last save stood): the overview, and a settings change on a saved connection (rights again).
    rows["GET /exact (saved)"] = measure(get("/exact"), n)
    rows["POST /exact/instellingen (saved)"] = _with_exact_share(
        measure, lambda: expect(client.post("/exact/instellingen", data=data), 303), None, max(10, n // 4))
    return {"baseline": baseline, "steps": rows}


def _with_exact_share(measure, call, before, n) -> dict:
    """measure() the call, and how much of its time went to Exact round trips (requests timed in-process)."""
    spent_app = {"seconds": 0.0}

    def timed_call():
        start = time.perf_counter()
        call()
        spent_app["seconds"] += time.perf_counter() - start

    with env.exact_timer() as spent:
        row = measure(timed_call, n, before)
    calls = n + 5  # timed_against's warm-up calls too
    row["exact_calls_per_request"] = spent["calls"] / calls
    row["exact_share"] = min(1.0, spent["seconds"] / spent_app["seconds"]) if spent["calls"] else 0.0
    return row


def _unsave(app, data):
    """Put the default account back at step 7 (connected, administration chosen, settings kept), untimed."""
    from models import Connection

    Connection.update(status=Connection.CONNECTED, division=None, division_name=None, settings=None, saved_at=None,
                      draft_division=101, draft_settings=_settings_of(app, data)).where(
        Connection.account == "demo").execute()


_SETTINGS = {}


def _settings_of(app, data):
    if "value" not in _SETTINGS:
        from models import Connection
        from models import db

        with db.connection_context():
            _SETTINGS["value"] = Connection.get(Connection.account == "demo").draft_settings
    return _SETTINGS["value"]


# 3. Bytes on the wire --------------------------------------------------------------------------------------------

class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and attrs.get("href") and any(
                rel in (attrs.get("rel") or "").split() for rel in ("stylesheet", "icon", "preload", "modulepreload")):
            self.urls.append(attrs["href"])
        elif tag in ("script", "img", "iframe") and attrs.get("src"):
            self.urls.append(attrs["src"])


ORIGIN = "http://localhost"


def _gz(body: bytes) -> int:
    return len(gzip.compress(body, 6))


def page_weight(client, path: str) -> dict:
    """The full page and everything it loads (CSS url()s too): gzip bytes summed, requests, third-party URLs."""
    page = expect(client.get(path), 200)
    parser = _Assets()
    parser.feed(page.get_data(as_text=True))
    seen, third_party, files = set(), [], {path: _gz(page.data)}
    queue = [urljoin(ORIGIN + path, url) for url in parser.urls]
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != ORIGIN:
            third_party.append(url)
            continue
        asset = expect(client.get(parts.path + (f"?{parts.query}" if parts.query else "")), 200)
        files[parts.path] = _gz(asset.data)
        if parts.path.endswith(".css"):
            for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)", asset.get_data(as_text=True)) + re.findall(
                    r"@import\s+['\"]([^'\"]+)", asset.get_data(as_text=True)):
                if not ref.startswith("data:"):
                    queue.append(urljoin(url, ref))
    return {"gzip_bytes": sum(files.values()), "files": files, "requests": len(files) + len(third_party),
            "third_party": third_party}


def bytes_on_wire(app, sim) -> dict:
    """First paint of the wizard and each step's htmx fragment, gzip-compressed, for the default account."""
    client = app.test_client()
    result = {"first_paint": page_weight(client, "/integraties"), "pages": {}, "fragments": {}}
    for path in STEP_GETS[1:] + ["/exact"]:
        state_ok = client.get(path)
        if state_ok.status_code != 200:
            continue
        result["pages"][path] = page_weight(client, path)["gzip_bytes"]
    for path in STEP_GETS + ["/exact"]:
        fragment = client.get(path, headers=browser.HTMX)
        if fragment.status_code == 200:
            result["fragments"][path] = {"gzip_bytes": _gz(fragment.data), "raw_bytes": len(fragment.data)}
    return result


# 5. Scale ------------------------------------------------------------------------------------------------------

def administration_scale(app, sim, sizes, n: int) -> dict:
    """GET /exact/administratie and a search, for users with 10, 250 and 2,500 administrations (alternating rounds)."""
    clients = {}
    for size in sizes:
        username = f"schaal{size}-{int(time.time() * 1000)}@bench.example"
        sim.seed_user(username, size)
        clients[size] = env.client_for_account(app, f"bench-scale-{size}-{username}")
        expect(browser.connect(clients[size], sim, username), 303)
    samples = {size: {"page": [], "search": []} for size in sizes}
    rounds = 5
    for round_ in range(rounds):
        for size, client in clients.items():
            warmup = 10 if round_ == 0 else 2
            samples[size]["page"] += env.timed(
                lambda: expect(client.get("/exact/administratie"), 200), max(4, n // rounds), warmup=warmup)
            samples[size]["search"] += env.timed(
                lambda: expect(client.get("/exact/administratie/lijst?q=Installatie", headers=browser.HTMX), 200),
                max(4, n // rounds), warmup=warmup)
    return {size: {kind: env.summary(values) for kind, values in kinds.items()} for size, kinds in samples.items()}
