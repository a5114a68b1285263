"""Versioned migrations (migrations/, `flask --app app db upgrade`): a database of release 2cd93f9, the last one
without migrations, is adopted with everything in it; the migrations build exactly the models' schema.

On SQLite or on PostgreSQL, whichever TEST_DATABASE_URL says (the `empty_app` fixture: a database without a table).
"""
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from peewee import PostgresqlDatabase
from peewee import SqliteDatabase
from playhouse.migrations import Runner
from playhouse.schema_diff import diff_models

import models
from models import Connection
from models import Event
from simhelpers import JAN
from simhelpers import SOFIE
from wizard_actions import submitted

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Every migration, in the order the runner applies them.
MIGRATIONS = [path.stem for path in sorted((ROOT / "migrations").glob("[0-9]*.py"))]
RELEASE_TABLES = ["administration", "connection", "event", "exactlist", "loginattempt"]
SERVICE_KEY = "migration-worker-key-R4t8Yk2Nq6Wz9Jc"
USER = "Anna de Vries"

# What release 2cd93f9's SettingsForm.settings() stored for tests/wizard_actions.DEFAULT_SETTINGS with these choices
# from administration 101's lists (journal 70, revenue 8000, VAT 1/2/0 for 21/9/0 %, 14 days), inactive relations on.
RELEASE_SETTINGS = {
    "import_relations": True, "relations_include_inactive": True, "relations_include_blocked": False,
    "relation_types": [], "import_materials": True, "item_groups": [], "import_hour_types": False,
    "import_categories": False, "import_employees": False, "import_payments": False, "export_work_orders": True,
    "trigger_status": "compleet", "success_status": "afgehandeld", "document_type": "sales_invoice",
    "sales_journal": "70", "revenue_account": "8000", "vat_high": "1", "vat_low": "2", "vat_zero": "0",
    "payment_condition": "14", "hour_rounding": "15", "create_missing_relations": False,
    "create_missing_items": False,
}
# The same settings after 0007_vat_codes_by_rate: the three fixed VAT rows became the codes by their rates.
UPGRADED_SETTINGS = {**{name: value for name, value in RELEASE_SETTINGS.items()
                        if name not in ("vat_high", "vat_low", "vat_zero")},
                     "vat_codes": {"21": "1", "9": "2", "0": "0"}}
# The lists that release cached for the settings page (views/exact_api.MASTER_DATA then), read from the simulator.
RELEASE_LISTS = {
    "journals": ("financial/Journals", "Type eq 20"),
    "revenue_accounts": ("financial/GLAccounts", "BalanceType eq 'W' and BalanceSide eq 'C'"),
    "vat_codes": ("vat/VATCodes", None),
    "payment_conditions": ("cashflow/PaymentConditions", None),
}


def upgrade(app):
    """`flask --app app db upgrade`, through the app's own CLI."""
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return result.output


def load_release_schema(database):
    """Create release 2cd93f9's tables and indexes from its DDL (tests/fixtures), as that release made them."""
    dialect = "postgresql" if isinstance(database, PostgresqlDatabase) else "sqlite"
    ddl = re.sub(r"^--.*$", "", (FIXTURES / f"schema_2cd93f9_{dialect}.sql").read_text(), flags=re.M)
    with database.atomic():
        for statement in filter(None, (part.strip() for part in ddl.split(";"))):
            database.execute_sql(statement)


def insert(database, table, **row):
    columns = ", ".join(f'"{column}"' for column in row)
    values = ", ".join([database.param] * len(row))
    database.execute_sql(f'INSERT INTO "{table}" ({columns}) VALUES ({values})', list(row.values()))


def stamp(seconds_ago=0.0):
    """A UTC moment as release 2cd93f9 stored datetimes (naive UTC)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - seconds_ago))


def store_release_connection(database, sim, cipher):
    """A saved connection as release 2cd93f9 stored it, in raw SQL (today's models play no part): real tokens from the
    simulator, Fernet-encrypted with the app's key, administration 101 locked, settings, four administrations, the
    cached lists, a login attempt and the history. Returns the token response."""
    token = sim.token_for(JAN)
    issued_at = time.time()
    me = sim.get(token, "current/Me").json()["d"]["results"][0]
    lists = {kind: sim.get(token, f"101/{resource}", params={"$filter": where} if where else None).json()["d"]
             for kind, (resource, where) in RELEASE_LISTS.items()}
    lists = {kind: rows["results"] if isinstance(rows, dict) else rows for kind, rows in lists.items()}
    with database.atomic():
        insert(database, "connection", account="demo", status="saved", country="nl", base_url=sim.base_url("nl"),
               exact_user_id=me["UserID"], exact_user_name=me["FullName"], exact_user_email=me["Email"],
               current_division=101, consented_divisions=4,
               access_token=cipher.encrypt(token["access_token"].encode()).decode(),
               refresh_token=cipher.encrypt(token["refresh_token"].encode()).decode(),
               token_issued_at=issued_at, token_expires_at=issued_at + int(token["expires_in"]),
               connected_at=stamp(120), division=101, division_name="Bakker Installatietechniek B.V.",
               settings=json.dumps(RELEASE_SETTINGS, sort_keys=True), saved_at=stamp(60),
               last_refresh_at=stamp(120),
               rate_limits=json.dumps({"daily_limit": 5000, "daily_remaining": 4991, "daily_reset": issued_at + 3600,
                                       "minutely_limit": 60, "minutely_remaining": 51,
                                       "minutely_reset": issued_at + 30, "seen_at": issued_at}, sort_keys=True))
        connection_id = database.execute_sql('SELECT "id" FROM "connection" WHERE "account" = %s'
                                              .replace("%s", database.param), ["demo"]).fetchone()[0]
        for code, name, status, blocked in ((101, "Bakker Installatietechniek B.V.", 1, False),
                                            (102, "Bakker Onderhoud B.V.", 1, False),
                                            (103, "Bakker Verhuur B.V. (gearchiveerd)", 2, False),
                                            (104, "Bakker Projecten B.V.", 1, True)):
            insert(database, "administration", connection_id=connection_id, code=code, name=name, country="NL",
                   currency="EUR", vat_number=f"NL000{code}B01", status=status, blocked=blocked, current=code == 101)
        for kind, rows in lists.items():
            insert(database, "exactlist", connection_id=connection_id, division=101, kind=kind,
                   rows=json.dumps(rows, sort_keys=True), fetched_at=stamp(90))
        insert(database, "loginattempt", id="release-attempt", account="demo", user=USER, country="nl", mode="page",
               state="release-state", created_at=stamp(130), used_at=stamp(120), outcome="connected")
        for seconds_ago, action, detail in (
                (120, "connected", {"administrations": 4, "country": "nl", "exact_user": "Jan Bakker",
                                    "other_user": False}),
                (60, "saved", {"administration": 101, "administration_name": "Bakker Installatietechniek B.V."}),
                (30, "settings_changed", {"changed": ["relations_include_inactive", "payment_condition"]})):
            insert(database, "event", account="demo", at=stamp(seconds_ago), user=USER, action=action,
                   detail=json.dumps(detail, sort_keys=True))
    return token


def rows_of(database, tables=RELEASE_TABLES):
    """Every row of every table, as the database holds it (tokens still encrypted)."""
    return {table: database.execute_sql(f'SELECT * FROM "{table}" ORDER BY 1').fetchall() for table in tables}


def schema_of(database, tables, schema=None):
    """Columns (type, null, default, primary key), indexes (columns, unique, definition) and foreign keys, per table,
    as the database reports them; names of the schema itself left out, so two schemas compare."""
    def plain(text):
        return re.sub(rf'"?\b(?:{schema or "public"})"?\.', "", text or "") or None

    return {table: {
        "columns": sorted((column.name, column.data_type, column.null, column.primary_key, plain(column.default))
                          for column in database.get_columns(table, schema)),
        "indexes": sorted((index.name, tuple(index.columns), index.unique, plain(index.sql))
                          for index in database.get_indexes(table, schema)),
        "foreign_keys": sorted((key.column, key.dest_table, key.dest_column)
                               for key in database.get_foreign_keys(table, schema)),
    } for table in tables}




def text_of(page: str) -> str:
    import html

    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
def release_database(empty_app, sim):
    """The app on a database of release 2cd93f9 holding Jan's saved connection; returns the stored token."""
    cipher = Fernet(empty_app.config["TOKEN_KEYS"][0])
    with models.db.connection_context():
        load_release_schema(models.db.obj)
        token = store_release_connection(models.db.obj, sim, cipher)
    sim.clear_calls()
    return token


def test_the_first_migration_adopts_a_release_2cd93f9_database_without_changing_it(empty_app, release_database):
    database = models.db.obj
    with models.db.connection_context():
        assert sorted(database.get_tables()) == RELEASE_TABLES
        schema_before, rows_before = schema_of(database, RELEASE_TABLES), rows_of(database)
        assert Runner(database, str(ROOT / "migrations")).up("0001_initial") == ["0001_initial"]

        # Not a column, index, key or row changed; 0001 is recorded as applied.
        assert sorted(database.get_tables()) == sorted(RELEASE_TABLES + ["schema_migration"])
        assert schema_of(database, RELEASE_TABLES) == schema_before
        assert rows_of(database) == rows_before
    assert models.pending(models.db) == MIGRATIONS[1:]


def test_a_release_2cd93f9_database_upgrades_with_everything_in_it(empty_app, release_database, sim):
    app, token = empty_app, release_database
    database = models.db.obj
    assert models.pending(models.db) == MIGRATIONS

    assert upgrade(app) == "".join(f"applied {name}\n" for name in MIGRATIONS)

    with models.db.connection_context():
        assert not diff_models(database, models.MODELS)
        connection = Connection.get(Connection.account == "demo")
        assert (connection.status, connection.division, connection.is_locked) == ("saved", 101, True)
        assert connection.access_token == token["access_token"]
        assert connection.refresh_token == token["refresh_token"]
        assert connection.settings == UPGRADED_SETTINGS
        assert [(event.action, event.user) for event in Event.select().order_by(Event.at)] == [
            ("connected", USER), ("saved", USER), ("settings_changed", USER)]
        assert connection.administrations.count() == 4 and connection.lists.count() == len(RELEASE_LISTS)

    # The token API hands the stored access token to a worker, without asking Exact.
    app.config["SERVICE_KEYS"] = {"sync-worker": SERVICE_KEY}
    client = app.test_client()
    answer = client.post("/api/v1/accounts/demo/access-token", headers={"Authorization": f"Bearer {SERVICE_KEY}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["access_token"] == token["access_token"] and answer.json["division"] == 101
    described = client.get("/api/v1/accounts/demo/connection", headers={"Authorization": f"Bearer {SERVICE_KEY}"})
    assert described.json["settings"]["vat_codes"] == {"21": "1", "9": "2", "0": "0"}

    # The saved settings page: the locked administration, the settings, the history.
    overview = client.get("/exact")
    assert overview.status_code == 200
    text = text_of(overview.get_data(as_text=True))
    assert "Bakker Installatietechniek B.V. (code 101) – vastgezet" in text
    assert "Relaties importeren Aan Relatietypen Alle relatietypen Ook inactieve relaties Aan Ook geblokkeerde " \
           "relaties Uit" in text  # every setting in words (the overview tells them all)
    assert "Medewerkers importeren" in text and "Afgeronde werkbonnen exporteren naar Exact Online Aan" in text
    assert "Verbonden met Exact Online (door Anna de Vries)" in text
    assert "Administratie gekozen en vastgezet: Bakker Installatietechniek B.V. (door Anna de Vries)" in text
    assert "Instellingen gewijzigd: Ook inactieve relaties, Betalingsconditie (door Anna de Vries)" in text
    assert "Jan Bakker (jan@bakker-installatie.nl)" in text
    # The settings step shows every stored choice from the cached lists, the VAT codes in the rows of their rates.
    settings_page = client.get("/exact/instellingen")
    assert settings_page.status_code == 200
    assert 'id="carried-notice"' not in settings_page.get_data(as_text=True), "nothing was cleared"
    shown = submitted(settings_page.get_data(as_text=True))
    for name in ("sales_journal", "revenue_account", "payment_condition", "trigger_status", "success_status",
                 "document_type", "hour_rounding"):
        assert shown.get(name) == [RELEASE_SETTINGS[name]], name
    assert (shown["vat_21"], shown["vat_9"], shown["vat_0"]) == (["1"], ["2"], ["0"])
    assert "Btw-code voor 21%" in text_of(settings_page.get_data(as_text=True))
    assert shown["relations_include_inactive"] == ["y"] and "relations_include_blocked" not in shown
    assert sim.calls() == []  # all of it from the adopted rows

    # A second upgrade applies nothing and changes nothing (the migrations' history included).
    with models.db.connection_context():
        tables = sorted(database.get_tables())
        before = schema_of(database, tables), rows_of(database, tables)
    assert upgrade(app) == "nothing to apply: the database is up to date\n"
    with models.db.connection_context():
        assert sorted(database.get_tables()) == tables
        assert (schema_of(database, tables), rows_of(database, tables)) == before

    # And the adopted database takes new writes: a settings change is checked at Exact, saved and recorded; "Btw
    # verlegd" as the code for 0 %, as the old rows allowed, is refused next to its row.
    refused = client.post("/exact/instellingen", data=shown | {"vat_0": ["5"]})
    assert refused.status_code == 422
    assert "Btw-code 5 – Btw verlegd is voor verlegde btw" in text_of(refused.get_data(as_text=True))
    assert 'id="vat_0-errors"' in refused.get_data(as_text=True)
    changed = client.post("/exact/instellingen", data=shown | {"payment_condition": ["30"]})
    assert changed.status_code == 303, changed.get_data(as_text=True)
    with models.db.connection_context():
        assert Connection.get(Connection.account == "demo").settings == UPGRADED_SETTINGS | {"payment_condition": "30"}
        assert Event.select().order_by(Event.id.desc()).get().action == "settings_changed"


def test_the_migrated_schema_is_the_models_schema(app, tmp_path):
    """A model changed without a migration fails here: the database the migrations build must be the one the models
    describe (playhouse.schema_diff), down to each column's type, nullability and default, and each index."""
    database = models.db.obj
    tables = sorted(model._meta.table_name for model in models.MODELS)
    with models.db.connection_context():
        drift = diff_models(database, models.MODELS)
        assert not drift, f"the models differ from the migrated database; add a migration for:\n{drift}"
        migrated = schema_of(database, tables)

    # What diff_models leaves out (types, NULL, defaults, index order), against tables created from the models.
    if isinstance(database, PostgresqlDatabase):
        with models.db.connection_context():
            database.execute_sql("DROP SCHEMA IF EXISTS models_reference CASCADE")
            try:
                with database.atomic():
                    database.execute_sql("CREATE SCHEMA models_reference")
                    database.execute_sql("SET LOCAL search_path TO models_reference")
                    database.create_tables(models.MODELS, safe=False)
                reference = schema_of(database, tables, "models_reference")
            finally:
                database.execute_sql("DROP SCHEMA models_reference CASCADE")
    else:
        other = SqliteDatabase(str(tmp_path / "models.sqlite"))
        with other.bind_ctx(models.MODELS):
            other.create_tables(models.MODELS, safe=False)
        reference = schema_of(other, tables)
        other.close()
    differences = [f"{table} {part}: migrations make {sorted(set(made) - set(declared))}, "
                   f"the models declare {sorted(set(declared) - set(made))}"
                   for table in tables for part, made in migrated[table].items()
                   if made != (declared := reference[table][part])]
    assert not differences, "add a migration for:\n" + "\n".join(differences)


def test_status_lists_pending_and_upgrade_builds_an_empty_database(empty_app):
    runner = empty_app.test_cli_runner()
    status = runner.invoke(args=["db", "status"])
    assert (status.exit_code, status.output) == (1, "".join(f"pending  {name}\n" for name in MIGRATIONS))

    assert upgrade(empty_app) == "".join(f"applied {name}\n" for name in MIGRATIONS)
    with models.db.connection_context():
        assert sorted(models.db.get_tables()) == sorted(
            [model._meta.table_name for model in models.MODELS] + ["schema_migration"])
        assert not diff_models(models.db.obj, models.MODELS)
        assert Connection.select().count() == 0
    status = runner.invoke(args=["db", "status"])
    assert status.exit_code == 0, status.output
    assert re.fullmatch("".join(rf"applied  {name}  \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\n" for name in MIGRATIONS),
                        status.output)
    assert models.pending(models.db) == []


def test_the_demo_launcher_refuses_a_database_with_pending_migrations(empty_app):
    """`python app.py` creates no table: it says to run the upgrade and exits with status 1."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": empty_app.config["DATABASE_URL"], "SECRET_KEY": "launcher",
           "EMBED_SECRET": "launcher", "TOKEN_KEYS": empty_app.config["TOKEN_KEYS"][0],
           "EXACT_CLIENT_ID": "launcher", "EXACT_CLIENT_SECRET": "launcher"}
    started = subprocess.run([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=60)
    assert started.returncode == 1, started.stderr
    assert started.stderr == ("The database is not up to date: run `flask --app app db upgrade`, then start the app "
                              "again.\n")
    with models.db.connection_context():
        assert models.db.get_tables() == []


def settings_of(database, account, column="settings"):
    text = database.execute_sql(f'SELECT "{column}" FROM "connection" WHERE "account" = {database.param}',
                                [account]).fetchone()[0]
    return json.loads(text) if text else None


def test_0007_files_each_former_vat_row_under_the_rate_its_code_has(empty_app, sim):
    """A database of the release before issue 16 (every migration before 0007) with settings in the three fixed rows:
    each code lands under its real rate where the cached VAT codes tell it (a Belgian "9 %" row that pointed at
    "Btw 12%" becomes 12 %), else under its row's rate; the page then shows every choice without asking Exact."""
    app, database = empty_app, models.db.obj
    runner = Runner(database, str(ROOT / "migrations"))
    previous = MIGRATIONS[MIGRATIONS.index("0007_vat_codes_by_rate") - 1]
    cipher = Fernet(app.config["TOKEN_KEYS"][0])
    token = sim.token_for(SOFIE, "be")
    belgian_lists = {kind: sim.get(token, f"201/{resource}", cc="be", params={"$filter": where} if where else None
                                   ).json()["d"]["results"] for kind, (resource, where) in RELEASE_LISTS.items()}
    common = {name: value for name, value in RELEASE_SETTINGS.items() if not name.startswith("vat_")}
    stored = {
        # Sofie's saved Belgian administration, its rows labelled 21 / 9 / 0 % as that release had them.
        "demo": common | {"sales_journal": "70", "payment_condition": "14", "vat_high": "03", "vat_low": "02",
                          "vat_zero": "00"},
        # A Dutch draft, its lists not cached (yet): the codes go under their rows' rates; an empty row is left out.
        "concept": common | {"vat_high": "1", "vat_low": "", "vat_zero": "0"},
        # Disconnected (its lists deleted): the same.
        "verbroken": common | {"vat_high": "1", "vat_low": "2", "vat_zero": "0"},
    }
    with models.db.connection_context():
        assert runner.up(previous)[-1] == previous
        issued_at = time.time()
        insert(database, "connection", account="demo", status="saved", country="be", base_url=sim.base_url("be"),
               exact_user_id="sofie", exact_user_name="Sofie Peeters", current_division=201, consented_divisions=2,
               access_token=cipher.encrypt(token["access_token"].encode()).decode(),
               refresh_token=cipher.encrypt(token["refresh_token"].encode()).decode(), token_issued_at=issued_at,
               token_expires_at=issued_at + int(token["expires_in"]), connected_at=stamp(120), division=201,
               division_name="Peeters Techniek BV", settings=json.dumps(stored["demo"], sort_keys=True),
               saved_at=stamp(60))
        demo = database.execute_sql('SELECT "id" FROM "connection" WHERE "account" = %s'.replace("%s", database.param),
                                    ["demo"]).fetchone()[0]
        insert(database, "administration", connection_id=demo, code=201, name="Peeters Techniek BV", country="BE",
               currency="EUR", status=1, blocked=False, current=True)
        for kind, rows in belgian_lists.items():
            insert(database, "exactlist", connection_id=demo, division=201, kind=kind,
                   rows=json.dumps(rows, sort_keys=True), fetched_at=stamp(90))
        insert(database, "connection", account="concept", status="connected", country="nl", draft_division=101,
               draft_settings=json.dumps(stored["concept"], sort_keys=True))
        insert(database, "connection", account="verbroken", status="disconnected", country="nl",
               settings=json.dumps(stored["verbroken"], sort_keys=True))
        insert(database, "connection", account="nieuw", status="not_connected")

    assert upgrade(app) == "".join(f"applied {name}\n" for name in MIGRATIONS[MIGRATIONS.index(previous) + 1:])
    with models.db.connection_context():
        assert settings_of(database, "demo") == common | {"sales_journal": "70", "payment_condition": "14",
                                                          "vat_codes": {"21": "03", "12": "02", "0": "00"}}
        assert settings_of(database, "concept", "draft_settings") == common | {"vat_codes": {"21": "1", "0": "0"}}
        assert settings_of(database, "verbroken") == common | {"vat_codes": {"21": "1", "9": "2", "0": "0"}}
        assert settings_of(database, "nieuw") is None and settings_of(database, "concept") is None

    sim.clear_calls()
    page = app.test_client().get("/exact/instellingen")
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    shown = submitted(html)
    # Every choice kept, each VAT code in its real rate's row; 6 %, which the old rows had no place for, proposed.
    assert [(name, shown[name]) for name in ("vat_21", "vat_12", "vat_6", "vat_0")] == [
        ("vat_21", ["03"]), ("vat_12", ["02"]), ("vat_6", ["01"]), ("vat_0", ["00"])]
    assert 'id="carried-notice"' not in html and shown["payment_condition"] == ["14"]
    assert sim.calls() == []

    # Reverting 0007 (with peewee's runner; the app has no command for it) brings back the rows of 21, 9 and 0 %.
    with models.db.connection_context():
        assert runner.down("0007_vat_codes_by_rate")[-1] == "0007_vat_codes_by_rate"
        assert settings_of(database, "demo") == common | {"sales_journal": "70", "payment_condition": "14",
                                                          "vat_high": "03", "vat_low": "", "vat_zero": "00"}
        assert settings_of(database, "verbroken") == stored["verbroken"]
