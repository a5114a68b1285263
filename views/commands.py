"""Commands for cron and operators: keep refresh tokens alive, re-encrypt tokens under a new key."""
import time

import click
from cryptography.fernet import Fernet
from cryptography.fernet import MultiFernet
from flask import current_app

from exact.errors import ExactError
from models import REFRESH_TOKEN_IDLE
from models import Connection
from models import configure_encryption
from models import db
from views.exact_clients import token_store


@click.command("keep-alive")
@click.option("--older-than-days", default=20, show_default=True,
              help="Refresh every connection whose refresh token is older than this (Exact drops it after 30).")
def keep_alive_command(older_than_days):
    """Refresh idle connections before Exact forgets them; mark the ones that cannot be refreshed."""
    if older_than_days >= REFRESH_TOKEN_IDLE.days:
        raise click.BadParameter(f"must be under {REFRESH_TOKEN_IDLE.days} days, or the tokens are already gone")
    cutoff = time.time() - older_than_days * 86400
    refreshed = failed = 0
    store = token_store()
    for connection in Connection.refresh_tokens_older_than(cutoff):
        try:
            store.valid_token(connection.id, force=True)
            refreshed += 1
        except ExactError as error:
            failed += 1  # the store marked a dead grant as expired: the admin sees "Verbind opnieuw"
            click.echo(f"{connection.account}: not refreshed ({type(error).__name__})")
    click.echo(f"refreshed {refreshed}, failed {failed}")


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


def register(app):
    app.cli.add_command(keep_alive_command)
    app.cli.add_command(rotate_token_keys_command)
