"""The SQLite database and instance/ are readable by the app's own user only (issue 14, item 6).

They hold names, e-mail addresses, login attempts and the generated secrets. Each test installs the app as a release
is installed (a copy of the code, no instance/), under the usual umask 022, runs `flask --app app db upgrade`, then
starts the app and writes through it, and looks at the files while the app still holds the database open (its -wal
and -shm files exist only then).
"""
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import app as app_module

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_SECRETS = ("embed_secret", "secret_key", "token_key")

# The app started as a server starts it, one write through it (a login attempt), then held open until told to stop.
WRITE_AND_HOLD = """
import sys
from app import create_app
from models import LoginAttempt
app = create_app()
app.config["WTF_CSRF_ENABLED"] = False  # this client is not a browser with a page; the write is what counts
with app.test_client() as client:
    answer = client.post("/exact/land", data={"country": "nl"}, base_url=app.config["APP_URL"])  # its own host
assert answer.status_code == 303, answer.status_code
with app.app_context():
    assert LoginAttempt.select().count() == 1
print("written", flush=True)
sys.stdin.readline()
"""


def install(tmp_path) -> Path:
    """A fresh copy of the release: the code only, no instance/, no database."""
    release = tmp_path / "release"
    shutil.copytree(ROOT, release, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".ci", "tests", "bench", "instance", "node_modules", "__pycache__", "*.sqlite*"))
    assert not (release / "instance").exists()
    return release


def environment(**settings) -> dict:
    """The environment of a demo install: none of the app's settings but those given."""
    env = {key: value for key, value in os.environ.items() if key not in app_module.ENV_SETTINGS}
    return {**env, **settings}


def run(release, *args, env):
    result = subprocess.run([sys.executable, *args], cwd=release, env=env, umask=0o022, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class Running:
    """The app of `release`, started, written through once, holding its database open."""

    def __init__(self, release, env):
        self.process = subprocess.Popen([sys.executable, "-c", WRITE_AND_HOLD], cwd=release, env=env, umask=0o022,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)

    def __enter__(self):
        line = self.process.stdout.readline()
        if line.strip() != "written":
            self.process.kill()
            pytest.fail(f"the app did not write: {line} {self.process.stderr.read()[-2000:]}")
        return self

    def __exit__(self, *exc):
        self.process.communicate("stop\n", timeout=30)
        assert self.process.returncode == 0


def modes(directory: Path) -> dict:
    return {path.name: oct(stat.S_IMODE(path.stat().st_mode)) for path in sorted(directory.iterdir())}


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def test_a_fresh_install_creates_instance_and_database_owner_only(tmp_path):
    release = install(tmp_path)
    env = environment()
    assert "applied 0001_initial" in run(release, "-m", "flask", "--app", "app", "db", "upgrade", env=env)
    with Running(release, env):
        instance = release / "instance"
        assert mode(instance) == "0o700"
        files = modes(instance)
        assert set(files) == {"exact.sqlite", "exact.sqlite-wal", "exact.sqlite-shm", *INSTANCE_SECRETS}
        assert set(files.values()) == {"0o600"}, files


def test_an_earlier_releases_readable_instance_and_database_are_tightened_at_start(tmp_path):
    release = install(tmp_path)
    env = environment()
    run(release, "-m", "flask", "--app", "app", "db", "upgrade", env=env)
    instance = release / "instance"
    database = instance / "exact.sqlite"
    # As an earlier release left them: instance/ 0755, the database 0644, and -wal/-shm of a process that still
    # has it open (SQLite makes them on opening a WAL database) 0644.
    earlier = sqlite3.connect(database)
    migrations = len(list((ROOT / "migrations").glob("[0-9]*.py")))
    assert earlier.execute("SELECT count(*) FROM schema_migration").fetchone() == (migrations,)
    os.chmod(instance, 0o755)
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        os.chmod(path, 0o644)
    try:
        with Running(release, env):
            assert mode(instance) == "0o700"
            files = modes(instance)
            assert {"exact.sqlite", "exact.sqlite-wal", "exact.sqlite-shm"} <= set(files)
            assert set(files.values()) == {"0o600"}, files
    finally:
        earlier.close()


def test_a_database_elsewhere_is_created_owner_only_too(tmp_path):
    release = install(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    os.chmod(data, 0o755)  # the operator's folder: its mode is theirs
    env = environment(DATABASE_URL=f"sqlite:///{data / 'exact-elsewhere.sqlite'}")
    run(release, "-m", "flask", "--app", "app", "db", "upgrade", env=env)
    with Running(release, env):
        assert modes(data) == {name: "0o600" for name in
                               ("exact-elsewhere.sqlite", "exact-elsewhere.sqlite-shm", "exact-elsewhere.sqlite-wal")}
        assert mode(data) == "0o755"
        assert mode(release / "instance") == "0o700"
        assert modes(release / "instance") == {name: "0o600" for name in INSTANCE_SECRETS}
