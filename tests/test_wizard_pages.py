"""Every step is one URL: a full page for a browser, a fragment for htmx, and caches told so."""
import re

import pytest

from simhelpers import JAN
from wizard_actions import HTMX


def step_urls(wizard):
    """Bring the connection to the point where every step can be shown, and list the step URLs."""
    wizard.connect(JAN)
    wizard.choose(101)
    wizard.configure()
    return ["/integraties", "/exact/land", "/exact/verbinding", "/exact/administratie", "/exact/instellingen",
            "/exact/controle", "/exact/verbreken"]


def test_each_step_is_a_page_or_a_fragment(client, wizard):
    for url in step_urls(wizard):
        page = client.get(url)
        fragment = client.get(url, headers=HTMX)
        assert page.status_code == fragment.status_code == 200, url
        assert b"<html" in page.data and b'id="exact"' in page.data, url
        assert b"<html" not in fragment.data, url
        assert fragment.get_data(as_text=True).lstrip().startswith('<section id="exact"'), url
        assert "HX-Request" in fragment.headers["Vary"], url


@pytest.mark.parametrize("extra", [{"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}])
def test_boosted_and_history_requests_get_the_full_page(client, extra):
    response = client.get("/exact/land", headers={**HTMX, **extra})
    assert b"<html" in response.data


def test_stepper_marks_the_current_step(client):
    html = client.get("/exact/land").get_data(as_text=True)
    assert "Stap 2 van 7 <span aria-hidden=\"true\">—</span> Land kiezen</p>" in html
    assert re.search(r'aria-current="step">\s*<span class="stepper__mark" aria-hidden="true">2</span>'
                     r'<span class="stepper__label">Land</span>', html)


def test_demo_is_marked_on_every_page(app, client):
    app.config["DEMO"] = True
    for url in ("/integraties", "/exact", "/exact/land"):
        assert "gesimuleerde Exact Online" in client.get(url).get_data(as_text=True), url


def test_real_configuration_shows_no_demo_banner(client):
    assert "gesimuleerde Exact Online" not in client.get("/integraties").get_data(as_text=True)


def test_unknown_page_says_so_in_plain_words(client):
    response = client.get("/exact/bestaat-niet")
    assert response.status_code == 404
    assert "Deze pagina bestaat niet" in response.get_data(as_text=True)


def test_htmx_and_csrf_are_served_with_the_page(client):
    html = client.get("/exact/land").get_data(as_text=True)
    assert "/static/vendor/htmx-2.0.11.min.js" in html
    assert '"X-CSRFToken"' in html
    script = client.get("/static/vendor/htmx-2.0.11.min.js")
    assert script.status_code == 200
    script.close()


def test_the_request_pipeline_refuses_in_its_written_order(app, client):
    """Unreadable first, then the entry, then CSRF: each refusal is the one its place in create_app says."""
    app.config.update(DEFAULT_ACCOUNT=None, WTF_CSRF_ENABLED=True)  # no entry, CSRF on
    too_large = client.post("/exact/land", data={"country": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)})
    assert too_large.status_code == 413  # before the entry is even looked at
    nul = client.post("/exact/land", data={"country": "n\x00l"})
    assert nul.status_code == 400 and "NUL-teken" in nul.get_data(as_text=True)
    no_entry = client.post("/exact/land", data={"country": "nl"})  # and no CSRF token either
    assert no_entry.status_code == 401 and "Open deze pagina vanuit OutSmart" in no_entry.get_data(as_text=True)
    app.config["DEFAULT_ACCOUNT"] = "demo"
    no_token = client.post("/exact/land", data={"country": "nl"})
    assert no_token.status_code == 400 and "Deze pagina was verlopen" in no_token.get_data(as_text=True)
