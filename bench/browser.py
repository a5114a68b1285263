"""What an admin's browser does in the setup, as requests of a Flask test client: the benchmark's own driver.

Exact's side (its login and consent pages) is the simulator's SimServer.login (exact_sim/server.py).
"""
from html.parser import HTMLParser
from urllib.parse import urlsplit

HTMX = {"HX-Request": "true"}  # what htmx adds to the requests it makes


def expect(response, *statuses):
    """The response, if its status is one of `statuses`; otherwise fail with what the app answered."""
    if response.status_code not in statuses:
        raise AssertionError(f"{response.request.method} {response.request.path} answered {response.status_code}: "
                             f"{response.get_data(as_text=True)[:300]}")
    return response


def path_of(url: str) -> str:
    """Path and query of a URL: the test client's cookies belong to its own host, not the redirect URI's."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def start_login(client, country: str = "nl") -> str:
    """Step 2: choose the country and press "Naar inlogpagina"; returns Exact's authorize URL."""
    return expect(client.post("/exact/land", data={"country": country}), 303).headers["Location"]


def connect(client, sim, username: str, country: str = "nl", follow_redirects: bool = False):
    """Steps 2–4: log in at Exact as `username`, allow, and come back; returns the callback's response."""
    callback = sim.login(start_login(client, country), username)
    return client.get(path_of(callback), follow_redirects=follow_redirects)


def choose(client, code: int, follow_redirects: bool = False):
    """Step 5: choose an administration."""
    return client.post("/exact/administratie", data={"division": code}, follow_redirects=follow_redirects)


def settings_form(client) -> dict:
    """Step 6 as the admin fills it in: GET /exact/instellingen, keep what the page proposes, and take the first
    option wherever it asks to choose (the selects of Exact's lists: journal, revenue account, VAT codes, payment
    condition). Returns the form as the browser posts it."""
    page = expect(client.get("/exact/instellingen"), 200)
    form = _FormFields("/exact/instellingen")
    form.feed(page.get_data(as_text=True))
    form.close()
    data = dict(form.fields)
    for name, options in form.options.items():
        if data.get(name) == "":  # "— kies —"
            data[name] = next((value for value in options if value), "")
    return data


def check_form(client) -> dict:
    """Step 7 as the admin sends it: the check page's form (its hidden fields) with the confirmation ticked."""
    page = expect(client.get("/exact/controle"), 200)
    form = _FormFields("/exact/controle")
    form.feed(page.get_data(as_text=True))
    form.close()
    return {**form.fields, "confirm": "y"}


def save(client, follow_redirects: bool = False):
    """Step 7: Opslaan."""
    return client.post("/exact/controle", data=check_form(client), follow_redirects=follow_redirects)


class _FormFields(HTMLParser):
    """The fields a browser submits from the form posting to `action`, as the page shows them: hidden and text inputs,
    ticked checkboxes and radios, each select's selected option (or its first). Only what the app's forms use: one
    value a name, no textareas, no submit button (the admin presses the unnamed primary one)."""

    def __init__(self, action: str):
        super().__init__()
        self.action = action
        self.fields: dict[str, str] = {}
        self.options: dict[str, list[str]] = {}
        self._inside = False
        self._select = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "form":
            self._inside = attributes.get("action") == self.action
        elif not self._inside or (name is None and tag != "option"):
            return
        elif tag == "input" and attributes.get("type") in ("checkbox", "radio"):
            if "checked" in attributes:
                self.fields[name] = attributes.get("value", "on")
        elif tag == "input" and attributes.get("type") not in ("submit", "button", "reset", "image", "file"):
            self.fields[name] = attributes.get("value", "")
        elif tag == "select":
            self._select = name
            self.options[name] = []
        elif tag == "option" and self._select is not None:
            value = attributes.get("value", "")
            self.options[self._select].append(value)
            if "selected" in attributes or len(self.options[self._select]) == 1:
                self.fields[self._select] = value

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False
        elif tag == "select":
            self._select = None
