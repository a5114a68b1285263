"""Texts from Exact are data, never markup (issue 14, item 2).

People at Exact type the administration names, the user's names and every list's descriptions. Here the simulator
serves each of them wrapped in HTML with htmx attributes (its `typed_texts` setting). Every page, fragment and refusal
of the flow must show those texts as text: parsed as a browser parses it, the page has no element or attribute of
theirs, and the whole typed text is readable in it.

Also the one rule that keeps it so, checked in the code: texts with data are formatted at request time with `_()`
(a plain str, which Jinja escapes), never with `_l()` (Flask-Babel's lazy string declares itself safe HTML, so Jinja
does not escape what was formatted into it); nothing is wrapped in `Markup` or passed through `|safe`.
"""
import ast
import re
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from models import Connection
from models import Event
from models import LoginAttempt
from simhelpers import JAN
from simhelpers import PIET
from views.exact_clients import FILTER_LISTS
from views.exact_clients import MASTER_DATA
from wizard_actions import HTMX
from wizard_actions import back_from_exact
from wizard_actions import path_of
from wizard_actions import popup_to_exact

ROOT = Path(__file__).resolve().parent.parent

# What someone at Exact typed around every text: an element htmx would post with on load (with the page's own CSRF
# token and session: the attack of issue 14), an image whose error handler is script, quotes, and an entity that must
# stay as typed. `data-exact` marks both elements, so the page's own markup is never mistaken for theirs.
HOSTILE = ('<div hx-post="/exact/verbreken" hx-trigger="load" data-exact>{text} &amp; '
           '<img src=x onerror="alert(1)" data-exact></div>')


class Parsed(HTMLParser):
    """A page as a browser reads it: the elements that came from Exact, and its text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.injected: list[str] = []
        self.texts: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if ("data-exact" in names or tag == "img" or ("hx-trigger", "load") in attrs
                or any(name.startswith("on") for name in names)):
            self.injected.append(self.get_starttag_text())

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.texts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)


def shows_as_text(response, status: int, *typed: str) -> None:
    """The answer has `status`, nothing in it that came from Exact is markup, and each typed text reads as typed."""
    html = response.get_data(as_text=True)
    where = f"{response.request.method} {response.request.full_path} ({response.status_code})"
    assert response.status_code == status, (where, html[:400])
    page = Parsed(html)
    assert page.injected == [], f"{where}: text from Exact became markup: {page.injected}"
    for text in typed:
        assert "hx-trigger" in text  # a typed text as Exact serves it, markup included
        assert text in page.text, f"{where}: {text!r} is not shown as text"


@dataclass
class Typed:
    """What Exact serves for one user and administration, every text wrapped in HOSTILE."""

    full_name: str
    email: str
    names: dict  # administration code -> name
    vat_numbers: dict
    lists: dict  # kind -> descriptions, as the settings step reads them
    vat_codes: dict  # VAT code -> description

    def name(self, code: int) -> str:
        return self.names[code]


def typed_texts(sim, username: str, division: int) -> Typed:
    """Turn HOSTILE on at the simulator and read back what it serves (with a token of its own, as Exact would)."""
    sim.settings(typed_texts=HOSTILE)
    token = sim.token_for(username)
    me = sim.get(token, "current/Me").json()["d"]["results"][0]
    divisions = sim.get(token, f"{division}/system/Divisions").json()["d"]["results"]
    rows = {kind: sim.get(token, f"{division}/{resource}", params={"$filter": where} if where else {}
                          ).json()["d"]["results"]
            for kind, (resource, where) in {**MASTER_DATA, **FILTER_LISTS}.items()}
    lists = {kind: [row["Description"] for row in found] for kind, found in rows.items()}
    typed = Typed(me["FullName"], me["Email"], {row["Code"]: row["Description"] for row in divisions},
                  {row["Code"]: row["VATNumber"] for row in divisions}, lists,
                  {row["Code"]: row["Description"] for row in rows["vat_codes"]})
    assert all(kind and all("hx-trigger" in text for text in texts) for kind, texts in lists.items())
    assert "hx-trigger" in typed.full_name and "hx-trigger" in typed.email
    return typed


def pages(app) -> list[str]:
    """Every page of ours without a parameter in its URL, from the app's own routes (the API answers JSON, the entry
    only redirects, static files are ours)."""
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if "GET" in rule.methods and not rule.arguments and rule.endpoint.split(".")[0] not in
                  ("static", "api", "embed"))


# A page that refuses when opened on its own: the callback without a login's state.
OPENED_ALONE = {"/exact/callback": 400}


def every_page(client) -> int:
    """Open every page, whole and as htmx's fragment: each answer that is a page shows nothing of Exact as markup.
    Returns how many were pages (the others redirect to where the setup goes on)."""
    shown = 0
    for path in pages(client.application):
        for headers in ({}, HTMX):
            response = client.get(path, headers=headers)
            if response.status_code in (302, 303):
                continue
            shows_as_text(response, OPENED_ALONE.get(path, 200))
            shown += 1
    return shown


def test_every_page_is_walked(app):
    assert {"/", "/integraties", "/exact", "/exact/land", "/exact/verbinding", "/exact/verbreken", "/exact/administratie",
            "/exact/administratie/lijst", "/exact/instellingen", "/exact/controle", "/exact/callback"} <= set(pages(app))


def test_every_page_and_refusal_shows_exacts_texts_as_text(client, wizard, sim):
    exact = typed_texts(sim, JAN, 101)
    every_page(client)

    # Step 4: who logged in.
    assert wizard.connect(JAN).status_code == 303
    for headers in ({}, HTMX):
        shows_as_text(client.get("/exact/verbinding", headers=headers), 200, exact.full_name, exact.email)
    assert every_page(client) >= 10

    # Step 5: the list, a search for the markup itself (it is in every name), the archived and blocked ones chosen
    # with a crafted POST, the preview.
    every = [exact.name(code) for code in (101, 102, 103, 104)]
    shows_as_text(client.get("/exact/administratie"), 200, *every, *exact.vat_numbers.values())
    search = client.get("/exact/administratie/lijst", query_string={"q": '<div hx-post="/exact/verbreken"'}, headers=HTMX)
    shows_as_text(search, 200, *every)
    for code in (103, 104):
        for htmx in (False, True):
            shows_as_text(wizard.choose(code, htmx=htmx), 422, exact.name(code))
    assert wizard.choose(101).status_code == 303
    shows_as_text(client.get("/exact/administratie", headers=HTMX), 200, f"Gekozen: {exact.name(101)} (101)")

    # Step 6: every list read from Exact (of the VAT codes those that fit a row: 0, 1 and 2 of the seeded Dutch ones),
    # the filters asked for, the page with errors, and a VAT code that does not fit refused by its description.
    lists = [text for kind in MASTER_DATA if kind != "vat_codes" for text in exact.lists[kind]]
    lists += [exact.vat_codes[code] for code in ("0", "1", "2")]
    shows_as_text(client.get("/exact/instellingen"), 200, *lists)
    for kind in FILTER_LISTS:
        shows_as_text(client.post("/exact/instellingen", data={"filters": kind}, headers=HTMX), 200, *exact.lists[kind])
    refused = wizard.configure(trigger_status="afgehandeld", success_status="afgehandeld")
    shows_as_text(refused, 422, *lists, *(text for kind in FILTER_LISTS for text in exact.lists[kind]))
    for code in ("3", "4", "5", "6"):  # inclusive, blocked, reverse charge, purchase only
        shows_as_text(wizard.configure(vat_21=code), 422, f"Btw-code {code} – {exact.vat_codes[code]}")
    assert wizard.configure().status_code == 303
    assert every_page(client) >= 12

    # Step 7: the checks, the confirmation not ticked, a page confirming another administration than the one chosen.
    shows_as_text(client.get("/exact/controle"), 200, exact.name(101), exact.email)
    shows_as_text(wizard.save(confirm=False), 422, f"Bevestig dat {exact.name(101)} (101)")
    shows_as_text(wizard.save(administration="102"), 422, f"door een andere beheerder: {exact.name(101)} (101)")
    assert Connection.get().status == Connection.CONNECTED  # nothing saved by any of these

    # Saved: the notice, the locked administration, the health panel, the history; Opslaan again is refused (409).
    assert wizard.save().status_code == 303
    shows_as_text(client.get("/exact?notice=saved"), 200, f"administratie {exact.name(101)} (101)", exact.full_name)
    shows_as_text(client.get("/exact?notice=other_user", headers=HTMX), 200, f"gebruiker ({exact.full_name})")
    shows_as_text(client.post("/exact/controle", data={"confirm": "y", "administration": "101", "country": "nl"}),
                  409, exact.name(101))
    shows_as_text(client.get("/exact/verbreken", headers=HTMX), 200, exact.name(101))
    every_page(client)

    # Verbinding testen: a passed test's report, one Exact refuses (422), and the overview that then needs attention.
    assert client.post("/exact/testen").status_code == 303
    shows_as_text(client.get("/exact/testen?notice=tested", headers=HTMX), 200, f"Administratie {exact.name(101)} (101)")
    sim.settings(expired_licenses=[101])
    shows_as_text(client.post("/exact/testen"), 422, f"Administratie {exact.name(101)} (101)")
    shows_as_text(client.get("/exact"), 200, exact.name(101), exact.full_name)
    every_page(client)
    sim.settings(expired_licenses=[])
    assert client.post("/exact/testen").status_code == 303

    # Logging in again: refused without the locked administration in the consent (409), accepted with it.
    refused = back_from_exact(client, path_of(sim.login(wizard.start_login(), JAN, divisions=[102])))
    shows_as_text(refused, 409, f"administratie {exact.name(101)} (101)")  # the saved connection's own heading
    # The same through the login popup (inside OutSmart): its waiting step, its last page, the step it reports.
    attempt, popup, authorize, _handoff = popup_to_exact(client.application, client)
    shows_as_text(popup.get(f"/exact/login/{attempt.id}"), 200)  # the popup's first page, shown again
    shows_as_text(back_from_exact(popup, path_of(sim.login(authorize, JAN, divisions=[102]))), 409)
    shows_as_text(client.get(f"/exact/login/{attempt.id}/status", headers=HTMX), 200, exact.name(101))
    assert client.get(path_of(sim.login(wizard.start_login(), JAN))).status_code == 303
    shows_as_text(client.get("/exact?notice=reconnected"), 200, f"administratie {exact.name(101)} (101)")

    # Exact failing: at login (502) and on a page (503); Exact refusing the tokens marks the connection expired.
    sim.fault("oauth2/token", "500")
    shows_as_text(back_from_exact(client, path_of(sim.login(wizard.start_login(), JAN))), 502)
    sim.fault("financial/Journals", "503")
    shows_as_text(client.post("/exact/instellingen/vernieuwen"), 503)
    sim.fault("financial/Journals", "401")
    shows_as_text(client.post("/exact/instellingen/vernieuwen"), 503)  # a 401 alone is a wait, with its time
    assert Connection.get().status == Connection.SAVED
    sim.revoke(JAN)  # 570 s on, the token endpoint says the grant is dead
    sim.advance(580)
    Connection.update(token_issued_at=time.time() - 580, token_expires_at=time.time() + 20).execute()
    shows_as_text(client.post("/exact/instellingen/vernieuwen"), 401)
    assert Connection.get().status == Connection.EXPIRED
    shows_as_text(client.get("/exact"), 200, exact.name(101), exact.full_name)
    every_page(client)

    # Disconnected: the history keeps the names.
    assert client.post("/exact/verbreken").status_code == 303
    shows_as_text(client.get("/exact?notice=disconnected"), 200, exact.name(101))
    every_page(client)
    assert [event.action for event in Event.select().order_by(Event.id)].count("disconnected") == 1


def test_missing_rights_name_the_administration_as_text(client, wizard, sim):
    """Piet lacks the right to create sales invoices: refused at Opslaan, and again when a saved connection's
    settings ask for it."""
    exact = typed_texts(sim, PIET, 111)
    assert wizard.connect(PIET).status_code == 303
    assert wizard.choose(111).status_code == 303
    assert wizard.configure().status_code == 303
    for htmx in (False, True):
        refused = client.post("/exact/controle", data={"confirm": "y", "administration": "111", "country": "nl"},
                              headers=HTMX if htmx else {})
        shows_as_text(refused, 422, f"mist deze rechten in administratie {exact.name(111)}")
    assert wizard.configure(document_type="sales_order").status_code == 303
    assert wizard.save().status_code == 303
    shows_as_text(wizard.configure(document_type="sales_invoice"), 422,
                  f"mist deze rechten in administratie {exact.name(111)}")
    assert Connection.get().settings["document_type"] == "sales_order"


def test_the_check_would_see_markup():
    """The parser finds an element of Exact's, and misses a typed text that is not there as text."""
    exact_name = HOSTILE.replace("{text}", "Bakker")
    page = Parsed(f"<p>{exact_name}</p>")
    assert page.injected and exact_name not in page.text
    escaped = exact_name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
    page = Parsed(f"<p>{escaped}</p>")
    assert page.injected == [] and exact_name in page.text


# The rule, checked in the code.

LAZY = {"lazy_gettext", "lazy_ngettext", "lazy_pgettext", "lazy_npgettext"}


def _app_sources():
    """Every Python file of the app (and its simulator), not the tests or installed packages."""
    skip = {"tests", "node_modules", ".venv", ".git", "instance"}
    return [path for path in ROOT.rglob("*.py") if not skip & set(path.relative_to(ROOT).parts)]


def _lazy_names(tree: ast.AST) -> set:
    """The names this module binds to Flask-Babel's lazy functions (`_l`, or whatever it calls them)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "flask_babel":
            names |= {alias.asname or alias.name for alias in node.names if alias.name in LAZY}
    return names


def lazy_texts_with_data(source: str, filename: str) -> list[str]:
    """Calls of a lazy gettext that format data into the text, or take a text that is not a literal."""
    tree = ast.parse(source, filename)
    lazy = _lazy_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        name = function.id if isinstance(function, ast.Name) else function.attr if isinstance(function, ast.Attribute) else None
        if name not in lazy and not (isinstance(function, ast.Attribute) and name in LAZY):
            continue
        literal = node.args and all(isinstance(arg, ast.Constant) for arg in node.args[:2 if "ngettext" in name else 1])
        if node.keywords or not literal or any(isinstance(arg, ast.Starred) for arg in node.args):
            found.append(f"{filename}:{node.lineno}: {ast.unparse(node)[:80]}")
    return found


def markup_in_python(source: str, filename: str) -> list[str]:
    """Markup(...) or an __html__ method: something declaring itself safe HTML."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, (ast.Name, ast.Attribute)) and (node.id if isinstance(node, ast.Name) else node.attr) in (
                "Markup", "__html__"):
            found.append(f"{filename}:{node.lineno}")
        if isinstance(node, ast.FunctionDef) and node.name == "__html__":
            found.append(f"{filename}:{node.lineno}")
        if isinstance(node, ast.alias) and node.name == "Markup":
            found.append(f"{filename}: import Markup")
    return found


UNSAFE_TEMPLATE = re.compile(r"\|\s*safe\b|autoescape\s+false|\bMarkup\b")


def test_no_lazy_text_carries_data_and_nothing_is_marked_safe():
    sources = _app_sources()
    assert ROOT / "forms" / "administration.py" in sources and len(sources) > 30
    found = []
    for path in sources:
        source = path.read_text()
        found += lazy_texts_with_data(source, str(path.relative_to(ROOT)))
        found += markup_in_python(source, str(path.relative_to(ROOT)))
    templates = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("exact_sim/templates/**/*.html")]
    assert len(templates) > 15
    found += [f"{path.relative_to(ROOT)}: {match.group()}" for path in templates
              for match in UNSAFE_TEMPLATE.finditer(path.read_text())]
    assert found == []


@pytest.mark.parametrize("source", [
    'from flask_babel import lazy_gettext as _l\nmessage = _l("Administratie %(name)s", name=name)',
    'from flask_babel import lazy_gettext\nmessage = lazy_gettext("Administratie %(name)s", **values)',
    'from flask_babel import lazy_gettext as later\nmessage = later(name)',
    'import flask_babel\nmessage = flask_babel.lazy_gettext("%(name)s", name=name)',
    'from flask_babel import lazy_ngettext as _n\nmessage = _n("%(num)d x", "%(num)d xen", n, name=name)',
])
def test_the_scan_finds_a_lazy_text_with_data(source):
    assert lazy_texts_with_data(source, "example.py")


def test_the_scan_lets_constant_lazy_texts_and_request_time_texts_be():
    source = ('from flask_babel import gettext as _\nfrom flask_babel import lazy_gettext as _l\n'
              'LABEL = _l("Administratie")\nmessage = _("Administratie %(name)s", name=name)')
    assert lazy_texts_with_data(source, "example.py") == []
    assert markup_in_python("from markupsafe import Markup\nMarkup(name)", "example.py")
