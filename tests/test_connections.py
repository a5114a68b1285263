"""The connection's life (connections.py): each operation wins once, says so, and keeps its event with its change."""
import pytest

import connections
from exact.errors import ExactUnavailable
from exact.errors import ReauthorizationRequired
from models import Administration
from models import Connection
from models import Event
from simhelpers import JAN


@pytest.fixture
def setting_up(app, client, wizard):
    """Jan logged in, administration 101 chosen and settings kept: the moment before Opslaan."""
    wizard.connect(JAN)
    wizard.choose(101)
    assert wizard.configure().status_code == 303
    return Connection.get()


def events(action):
    return Event.select().where(Event.action == action).count()


def test_save_wins_once_and_records_its_event(setting_up):
    administration = Administration.find(setting_up, 101)
    assert connections.save(setting_up, administration, "Anna") is True
    assert connections.save(setting_up, administration, "Bert") is False  # a second Opslaan finds it saved
    stored = Connection.get()
    assert (stored.status, stored.division, stored.draft_settings) == (Connection.SAVED, 101, None)
    assert [(event.user, event.detail["administration"]) for event in Event.select().where(Event.action == "saved")] \
        == [("Anna", 101)]


def test_save_loses_when_another_administration_was_chosen_since_it_read_the_row(setting_up):
    administration = Administration.find(setting_up, 101)
    assert connections.choose_administration(Connection.get(), 102) is True
    assert connections.save(setting_up, administration, "Anna") is False
    assert (Connection.get().division, Connection.get().draft_division, events("saved")) == (None, 102, 0)


def test_save_loses_when_other_settings_were_kept_since_it_read_the_row(setting_up):
    administration = Administration.find(setting_up, 101)
    other = {**setting_up.draft_settings, "hour_rounding": "30"}
    assert connections.keep_draft_settings(Connection.get(), other) is True
    assert connections.save(setting_up, administration, "Anna") is False
    assert (Connection.get().division, Connection.get().draft_settings["hour_rounding"]) == (None, "30")


def test_a_change_that_cannot_record_its_event_is_not_kept(setting_up, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the history table is gone")

    monkeypatch.setattr(Event, "record", broken)
    with pytest.raises(RuntimeError):
        connections.save(setting_up, Administration.find(setting_up, 101), "Anna")
    stored = Connection.get()
    assert (stored.status, stored.division, stored.draft_division) == (Connection.CONNECTED, None, 101)


def test_choosing_and_drafting_lose_once_the_administration_is_locked(setting_up):
    connections.save(setting_up, Administration.find(setting_up, 101), "Anna")
    saved = Connection.get()
    assert connections.choose_administration(saved, 102) is False
    assert connections.keep_draft_settings(saved, {"hour_rounding": "5"}) is False
    assert (Connection.get().division, Connection.get().draft_division) == (101, None)


def test_drafted_settings_lose_to_another_choice(setting_up):
    assert connections.choose_administration(Connection.get(), 102) is True
    assert connections.keep_draft_settings(setting_up, {"hour_rounding": "5"}) is False  # made for 101
    assert Connection.get().draft_settings is None


def test_settings_change_only_on_a_saved_connection(setting_up):
    connections.save(setting_up, Administration.find(setting_up, 101), "Anna")
    saved = Connection.get()
    assert connections.change_settings(saved, {**saved.settings, "hour_rounding": "5"}, "Anna") is True
    assert connections.disconnect(Connection.get(), "Bert") is True
    assert connections.change_settings(saved, {**saved.settings, "hour_rounding": "30"}, "Anna") is False
    stored = Connection.get()
    assert stored.settings["hour_rounding"] == "5" and events("settings_changed") == 1


def test_disconnect_wins_once(setting_up):
    assert connections.disconnect(setting_up, "Anna") is True
    assert connections.disconnect(setting_up, "Anna") is False
    assert events("disconnected") == 1 and Connection.get().refresh_token is None


def test_a_dead_grant_expires_the_connection_once_with_one_event(setting_up):
    dead = ReauthorizationRequired("test")
    assert connections.mark_expired(setting_up, dead) is True
    assert connections.mark_expired(setting_up, dead) is False
    stored = Connection.get()
    assert (stored.status, stored.last_error) == (Connection.EXPIRED, "ReauthorizationRequired")
    assert events("expired") == 1


def test_a_failed_refresh_expires_only_when_the_grant_is_dead(setting_up):
    with Connection.locked(setting_up.id) as locked:
        connections.record_failed_refresh(locked, ExactUnavailable("test"))
    assert (Connection.get().status, Connection.get().last_error) == (Connection.CONNECTED, "ExactUnavailable")
    with Connection.locked(setting_up.id) as locked:
        connections.record_failed_refresh(locked, ReauthorizationRequired("test"))
    assert Connection.get().status == Connection.EXPIRED and events("expired") == 1
