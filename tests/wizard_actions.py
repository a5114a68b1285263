"""What an admin does in the Exact Online setup, as HTTP requests (flaskr's AuthActions, for the wizard)."""
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs
from urllib.parse import urlsplit

HTMX = {"HX-Request": "true"}

# Valid settings for the seeded Dutch administrations (codes from exact_sim/seed.py).
DEFAULT_SETTINGS = {
    "import_relations": "y",
    "import_materials": "y",
    "export_work_orders": "y",
    "trigger_status": "compleet",
    "success_status": "afgehandeld",
    "document_type": "sales_invoice",
    "hour_rounding": "15",
}
# The settings whose choices come from the chosen administration: in the seeded Dutch ones, VAT rows for 21, 9 and 0 %.
VAT_SELECTS = ("vat_21", "vat_9", "vat_0")
EXACT_SELECTS = ("sales_journal", "revenue_account", *VAT_SELECTS, "payment_condition")


class WizardActions:
    """Drive the setup steps with the Flask test client; Exact is the simulator over HTTP."""

    def __init__(self, client, sim):
        self.client = client
        self.sim = sim

    def start_login(self, country="nl"):
        """Step 2: choose the country; returns Exact's authorize URL the app redirected to."""
        response = self.client.post("/exact/land", data={"country": country})
        assert response.status_code == 303, response.get_data(as_text=True)
        return response.headers["Location"]

    def connect(self, username, country="nl", divisions=None, cancel=False):
        """Steps 2–4: log in at Exact and come back; returns the callback's response (a login that connected: its
        redirect to the next step), or the page of how it ended, where the callback sent the browser."""
        authorize_url = self.start_login(country)
        callback = self.sim.login(authorize_url, username, divisions=divisions, cancel=cancel)
        return back_from_exact(self.client, path_of(callback))

    def choose(self, code, htmx=False):
        """Step 5: choose an administration."""
        return self.client.post("/exact/administratie", data={"division": code}, headers=HTMX if htmx else {})

    def settings_choices(self):
        """The options of every select and checkbox list on the settings page, by field name."""
        page = self.client.get("/exact/instellingen")
        assert page.status_code == 200, page.get_data(as_text=True)
        return form_options(page.get_data(as_text=True))

    def configure(self, **overrides):
        """Step 6: post settings as the page proposes them, with the first Exact choice for every select the page left
        empty (an admin's pick), and DEFAULT_SETTINGS, unless overridden."""
        page = self.client.get("/exact/instellingen")
        assert page.status_code == 200, page.get_data(as_text=True)
        html = page.get_data(as_text=True)
        proposed = {name: values[0] for name, values in submitted(html).items() if name in exact_selects(html)}
        data = dict(DEFAULT_SETTINGS)
        for name, options in form_options(html).items():
            if name in exact_selects(html):
                data[name] = proposed.get(name) or options[0]
        data.update(overrides)
        data = {key: value for key, value in data.items() if value is not None}
        return self.client.post("/exact/instellingen", data=data)

    def save(self, confirm=True, **extra):
        """Step 7: Opslaan, as the check page posts it: its hidden fields, and the box ticked (or not)."""
        page = self.client.get("/exact/controle")
        shown = submitted(page.get_data(as_text=True)) if page.status_code == 200 else {}
        data = {name: values[0] for name, values in shown.items()}
        if confirm:
            data["confirm"] = "y"
        data.update(extra)
        return self.client.post("/exact/controle", data=data)

    def complete(self, username, code, country="nl", **settings):
        """The whole setup from country to saved; returns the Opslaan response."""
        assert self.connect(username, country).status_code == 303
        assert self.choose(code).status_code == 303
        assert self.configure(**settings).status_code == 303
        return self.save()


def back_from_exact(client, callback):
    """Open the way back from Exact as a browser does: a login that did not connect (or the popup's, in any case) is
    shown at an address without Exact's code, which the browser follows; returns the answer it ends on."""
    response = client.get(callback)
    location = response.headers.get("Location", "")
    if response.status_code == 303 and "/exact/callback/" in location:
        assert location.endswith("/klaar") and "code" not in location and "state" not in location, location
        return client.get(location)
    return response


def handoff_in(response) -> str:
    """The secret a popup login's waiting fragment gives the iframe for its popup (app.js hands it by postMessage)."""
    return re.search(r'data-login-handoff="([^"]+)"', response.get_data(as_text=True)).group(1)


def popup_to_exact(app, iframe, country="nl"):
    """The iframe starts a popup login; the popup (a window of its own) shows whose login it is, gets the secret from
    its iframe, and goes to Exact. Returns the attempt, the popup's client, Exact's authorize URL and the secret."""
    from models import LoginAttempt

    started = iframe.post("/exact/land", data={"country": country, "popup": "1"}, headers=HTMX)
    assert started.status_code == 200, started.get_data(as_text=True)
    attempt = LoginAttempt.get(LoginAttempt.id == re.search(r'data-login-attempt="([^"]+)"',
                                                            started.get_data(as_text=True)).group(1))
    popup = app.test_client()
    assert popup.get(f"/exact/login/{attempt.id}").status_code == 200
    handoff = handoff_in(started)
    going = popup.post(f"/exact/login/{attempt.id}", data={"handoff": handoff})
    assert going.status_code == 303, going.get_data(as_text=True)
    return attempt, popup, going.headers["Location"], handoff


class _OptionParser(HTMLParser):
    """Collect option values per select name, and checkbox values per name."""

    def __init__(self):
        super().__init__()
        self.options = {}
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "select":
            self._select = attrs.get("name")
            self.options.setdefault(self._select, [])
        elif tag == "option" and self._select and attrs.get("value"):
            self.options[self._select].append(attrs["value"])
        elif tag == "input" and attrs.get("type") == "checkbox" and attrs.get("value") not in (None, "y"):
            self.options.setdefault(attrs["name"], []).append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


class _SubmittedParser(HTMLParser):
    """What the page's forms submit, as a browser sends it: hidden inputs, checked boxes and radios, chosen options
    (a select without a chosen option sends its first one)."""

    def __init__(self):
        super().__init__()
        self.fields = {}
        self._select = None
        self._first = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "select":
            self._select, self._first = name, None
        elif tag == "option" and self._select:
            if self._first is None:
                self._first = attrs.get("value", "")
            if "selected" in attrs:
                self.fields.setdefault(self._select, []).append(attrs.get("value"))
        elif tag == "input" and name and (attrs.get("type") == "hidden" or (
                attrs.get("type") in ("checkbox", "radio") and "checked" in attrs)):
            self.fields.setdefault(name, []).append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "select":
            if self._select and self._select not in self.fields and self._first is not None:
                self.fields[self._select] = [self._first]
            self._select = None


def exact_selects(html) -> list[str]:
    """The selects of a settings page whose choices come from the administration: its VAT rows included."""
    names = re.findall(r'<select[^>]* name="([^"]+)"', html)
    return [name for name in names if name in EXACT_SELECTS or name.startswith("vat_")]


def flat_settings(settings: dict) -> dict:
    """Stored settings as the page's fields name them: `vat_codes` spread over the VAT rows (vat_21, vat_5_5)."""
    flat = {name: value for name, value in settings.items() if name != "vat_codes"}
    flat.update({"vat_" + rate.replace(".", "_"): code for rate, code in (settings.get("vat_codes") or {}).items()})
    return flat


def submitted(html):
    """{name: [values]} the page's forms submit as shown (unticked boxes send nothing, unchosen selects their first
    option: "— kies —", an empty value, for the lists from Exact)."""
    parser = _SubmittedParser()
    parser.feed(html)
    return parser.fields


def form_options(html):
    """{field name: [option values]} for a rendered form."""
    parser = _OptionParser()
    parser.feed(html)
    return parser.options


def path_of(url):
    """Path and query of a URL: the test client's cookies belong to its own host, not the redirect URI's."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def query_of(url):
    """The query parameters of a URL, one value each."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
