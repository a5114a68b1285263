"""gunicorn's hooks for this app (gunicorn reads ./gunicorn.conf.py from the directory it starts in; elsewhere pass
`-c path/to/gunicorn.conf.py`). Settings stay on the command line and in the environment."""


def post_worker_init(worker):
    """Deliver events to OutSmart from the moment a worker runs, also a worker that replaced a killed one and has
    served no request yet (outbox.py; nothing runs without WEBHOOK_URL)."""
    import outbox

    outbox.start()


def worker_exit(server, worker):
    """Let a delivery under way finish before the worker goes (what does not is taken over when its claim ends)."""
    import outbox

    outbox.stop(timeout=worker.cfg.graceful_timeout / 2)
