"""Commands for cron and operators: keep refresh tokens alive, re-encrypt tokens under a new key, migrate the
database."""
import time

import click
from cryptography.fernet import Fernet
from cryptography.fernet import MultiFernet
from flask import current_app
from flask.cli import AppGroup

import keep_alive
from views import metrics
from models import REFRESH_TOKEN_IDLE
from models import Connection
from models import configure_encryption
from models import db
from models import migration_status
from models import upgrade
from views.exact_clients import token_store


@click.command("keep-alive")
@click.option("--older-than-days", default=20, show_default=True, type=click.IntRange(min=1),
              help="Refresh every connection whose refresh token is older than this (Exact drops it after 30).")
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 64),
              help="How many connections to refresh at once, each in its own thread and database connection.")
def keep_alive_command(older_than_days, concurrency):
    """Refresh idle connections before Exact forgets them; mark the ones that cannot be refreshed.

    Several runners may run at once (on several machines): each due connection is refreshed by one of them. Ends with
    one summary line; exits with status 1 when a connection failed for a reason an operator must look at (Exact
    unavailable, the database), not for a grant Exact no longer accepts (the admin is asked to reconnect).
    """
    if older_than_days >= REFRESH_TOKEN_IDLE.days:
        raise click.BadParameter(f"must be under {REFRESH_TOKEN_IDLE.days} days, or the tokens are already gone")
    cutoff = time.time() - older_than_days * 86400
    summary = keep_alive.run(token_store(), cutoff, concurrency, current_app._get_current_object().app_context)
    for result in summary.results:
        if result.outcome == keep_alive.FAILED:
            click.echo(f"{result.account}: not refreshed ({result.reason})")
    click.echo(summary.line())
    keep_alive.record(summary)
    metrics.keep_alive_run({outcome: summary.count(outcome) for outcome in
                            (keep_alive.REFRESHED, keep_alive.SKIPPED, keep_alive.FAILED)}, dict(summary.failures))
    if summary.needs_an_operator:
        raise SystemExit(1)


@click.command("rotate-token-keys")
def rotate_token_keys_command():
    """Re-encrypt every stored token under the first of TOKEN_KEYS (the others only decrypt)."""
    keys = current_app.config["TOKEN_KEYS"]
    cipher = MultiFernet([Fernet(key) for key in keys])
    table = Connection._meta.table_name
    count = 0
    with db.atomic():
        rows = db.execute_sql(f"SELECT id, access_token, refresh_token FROM {table}").fetchall()
        for row_id, access, refresh in rows:
            values = [cipher.rotate(value.encode()).decode() if value else None for value in (access, refresh)]
            db.execute_sql(f"UPDATE {table} SET access_token = %s, refresh_token = %s WHERE id = %s"
                           .replace("%s", db.param), (*values, row_id))
            count += 1
    configure_encryption(cipher)
    click.echo(f"re-encrypted the tokens of {count} connections under the first key")


db_commands = AppGroup("db", help="The database's schema: versioned migrations (migrations/NNNN_name.py).")


@db_commands.command("upgrade")
def db_upgrade_command():
    """Apply the pending migrations in order, each in a transaction (safe to run again)."""
    applied = upgrade(db)
    for name in applied:
        click.echo(f"applied {name}")
    if not applied:
        click.echo("nothing to apply: the database is up to date")


@db_commands.command("status")
def db_status_command():
    """List the migrations, applied (when) and pending; exit with 1 while any is pending."""
    rows = migration_status(db)
    for name, applied_at in rows:
        click.echo(f"applied  {name}  {applied_at:%Y-%m-%d %H:%M:%S}" if applied_at else f"pending  {name}")
    if any(applied_at is None for _name, applied_at in rows):
        raise SystemExit(1)


def register(app):
    app.cli.add_command(keep_alive_command)
    app.cli.add_command(rotate_token_keys_command)
    app.cli.add_command(db_commands)
