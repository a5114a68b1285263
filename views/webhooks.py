"""Events to OutSmart's servers, from the web layer's side: the deliverer runs in every process that serves requests
(started by the first one, or by gunicorn.conf.py as a worker starts) and is woken after a request that queued an
event; `flask --app app webhooks deliver` delivers what is due once. The outbox itself is outbox.py."""
import click
from flask.cli import AppGroup

import outbox
from models import OutboxEvent


def after_request(exc=None):
    """Once the request's transactions are committed: make sure this process delivers, and deliver now what it
    queued (started here, not in create_app: a process that forks after create_app, like gunicorn's --preload
    master, must not hold a thread or a database connection its workers would inherit)."""
    outbox.start()
    outbox.wake_if_enqueued()


webhooks_commands = AppGroup("webhooks", help="Events to OutSmart's servers (WEBHOOK_URL).")


@webhooks_commands.command("deliver")
def deliver_command():
    """Deliver every event that is due, once; say what happened and what is left."""
    if outbox.current() is None:
        click.echo("WEBHOOK_URL is not set: no events are queued or sent.")
        return
    done = outbox.deliver_due()
    waiting = OutboxEvent.select().where(OutboxEvent.state == OutboxEvent.PENDING).count()
    click.echo(f"delivered {done.delivered}, failed {done.failed} (tried again later), given up {done.given_up}; "
               f"{waiting} waiting")


def register(app):
    app.teardown_request(after_request)
    app.cli.add_command(webhooks_commands)
