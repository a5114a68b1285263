"""A window title per page ("Stap 5 van 7: Administratie kiezen — Exact Online"): the same in the full page and in
the fragment htmx swaps in (htmx sets the window's title from it), "Fout:" first where there is something to
correct, and in the visit's language."""
import re

from simhelpers import JAN
from wizard_actions import HTMX

STEPS = {
    "/integraties": "Software-integraties — Exact Online",
    "/exact/land": "Stap 2 van 7: Land kiezen — Exact Online",
    "/exact/verbinding": "Stap 4 van 7: Verbindingsgegevens — Exact Online",
    "/exact/administratie": "Stap 5 van 7: Administratie kiezen — Exact Online",
    "/exact/instellingen": "Stap 6 van 7: Import en export — Exact Online",
    "/exact/controle": "Stap 7 van 7: Controleren en opslaan — Exact Online",
    "/exact/verbreken": "Verbinding verbreken — Exact Online",
}


def title(response) -> str:
    return re.search(r"<title>([^<]*)</title>", response.get_data(as_text=True)).group(1)


def test_every_step_has_its_own_title_in_the_page_and_in_the_fragment(client, wizard):
    wizard.connect(JAN)
    wizard.choose(101)
    wizard.configure()
    for url, expected in STEPS.items():
        assert title(client.get(url)) == title(client.get(url, headers=HTMX)) == expected, url
    waiting = client.post("/exact/land", data={"country": "nl", "popup": "1"}, headers=HTMX)
    assert title(waiting) == "Stap 3 van 7: Inloggen bij Exact Online — Exact Online"
    listed = client.get("/exact/administratie/lijst?q=Bakker", headers=HTMX).get_data(as_text=True)
    assert "<title>" not in listed  # a part of step 5 keeps the step's title


def test_a_page_with_something_to_correct_says_so_first(client):
    refused = client.post("/exact/land", data={}, headers=HTMX)
    assert refused.status_code == 422 and title(refused) == "Fout: Stap 2 van 7: Land kiezen — Exact Online"


def test_the_pages_outside_the_steps_and_after_saving(client, wizard):
    assert title(client.get("/exact")) == "Instellingen — Exact Online"
    assert title(client.get("/no-such-page")) == "Dat lukte niet — Exact Online"
    assert wizard.complete(JAN, 101).status_code == 303
    assert title(client.get("/exact/instellingen")) == "Import- en exportinstellingen — Exact Online"  # no stepper
    assert title(client.get("/exact/testen")) == "Verbinding testen — Exact Online"


def test_titles_in_english(client, wizard):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert title(client.get("/exact/land", headers=HTMX)) == "Step 2 of 7: Choose country — Exact Online"
    assert title(client.get("/integraties")) == "Software integrations — Exact Online"
