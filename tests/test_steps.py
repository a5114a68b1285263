"""The table of steps (views/steps.py) drives the stepper and sends an unfinished setup on to where it stopped."""
from models import Connection
from simhelpers import JAN
from views.steps import STEPS
from wizard_actions import HTMX


def reopened(client):
    """Open the Exact Online settings again, as the admin does from the integrations list."""
    return client.get("/exact")


def test_reopening_an_unfinished_setup_goes_on_at_the_first_step_not_done(client, wizard):
    wizard.connect(JAN)
    response = reopened(client)
    assert response.status_code == 303 and response.headers["Location"] == "/exact/administratie"
    wizard.choose(101)
    assert reopened(client).headers["Location"] == "/exact/instellingen"
    wizard.configure()
    assert reopened(client).headers["Location"] == "/exact/controle"
    wizard.save()
    assert reopened(client).status_code == 200  # saved: the overview itself


def test_a_step_whose_needs_are_missing_sends_the_admin_to_the_first_open_step(client, wizard):
    wizard.connect(JAN)
    for url in ("/exact/instellingen", "/exact/controle"):
        response = client.get(url)
        assert response.status_code == 303 and response.headers["Location"] == "/exact/administratie", url


def test_without_a_login_the_steps_send_the_admin_to_the_overview(client):
    for url in ("/exact/administratie", "/exact/instellingen", "/exact/controle"):
        response = client.get(url)
        assert response.status_code == 303 and response.headers["Location"] == "/exact", url


def test_the_stepper_is_the_table(client, wizard):
    wizard.connect(JAN)
    html = client.get("/exact/administratie", headers=HTMX).get_data(as_text=True)
    for step in STEPS:
        assert f'<span class="num">{step.number}</span> {step.label}' in html
    assert f'aria-current="step"><span class="num">5</span> {STEPS[4].label}' in html
    assert html.count('class="done"') == 4


def test_the_saved_connection_needs_no_step(client, wizard):
    wizard.complete(JAN, 101)
    assert Connection.get().is_locked
    check = client.get("/exact/controle")
    assert check.status_code == 303 and check.headers["Location"] == "/exact"
