"""gunicorn's settings and hooks for this app (gunicorn reads ./gunicorn.conf.py from the directory it starts in;
elsewhere pass `-c path/to/gunicorn.conf.py`). The command line wins over what is set here (`-w 4`); the app's own
settings stay in the environment (README: Configuration, Run in production).

- workers × threads: WEB_CONCURRENCY worker processes (default 2), GUNICORN_THREADS threads each (default 4; gthread).
  Keep workers × DATABASE_POOL_SIZE under PostgreSQL's max_connections, over every machine.
- LOG_FORMAT=json: gunicorn's own lines as JSON too, through the app's handler (views/logs.py), at LOG_LEVEL. gunicorn's
  access log stays off: the app writes one access line per request itself, without query strings.
- PROMETHEUS_MULTIPROC_DIR: the workers' counts, added up by every scrape of /metrics (views/metrics.py); emptied when
  gunicorn starts, a dead worker marked.
- The webhook deliverer starts with each worker and lets a delivery under way finish as it goes (outbox.py).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the app's modules, wherever gunicorn starts

workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
threads = int(os.environ.get("GUNICORN_THREADS") or 4)

if (os.environ.get("LOG_FORMAT") or "text").strip().lower() == "json":
    from views import logs

    _level = (os.environ.get("LOG_LEVEL") or "INFO").strip().upper()
    loglevel = _level.lower()
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": _level, "handlers": ["json"]},
        "loggers": {  # gunicorn's loggers write through the root's one JSON handler
            "gunicorn.error": {"level": _level, "handlers": [], "propagate": True},
            # Off: the app writes one access line per request itself (views/ops.py), with the request's id, account
            # and route, and never a query string (gunicorn's has them: Exact's code, OutSmart's signed entry).
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
        "handlers": {"json": {"()": logs.json_handler, "stream": "ext://sys.stderr"}},
        "formatters": {},
    }


def on_starting(server):
    """Counts of an earlier run of the server go: its workers' pids may come back (views/metrics.py)."""
    from views import metrics

    metrics.clear_directory()


def post_worker_init(worker):
    """Deliver events to OutSmart from the moment a worker runs, also a worker that replaced a killed one and has
    served no request yet (outbox.py; nothing runs without WEBHOOK_URL)."""
    import outbox

    outbox.start()


def worker_exit(server, worker):
    """Let a delivery under way finish before the worker goes (what does not is taken over when its claim ends)."""
    import outbox

    outbox.stop(timeout=worker.cfg.graceful_timeout / 2)


def child_exit(server, worker):
    """In the master, after a worker died (however): its requests in progress no longer count; its counters stay."""
    from views import metrics

    metrics.worker_exited(worker.pid)
