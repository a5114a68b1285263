"""Log lines for machines: with LOG_FORMAT=json every line is one JSON object (python-json-logger) carrying the time,
level, logger, message, process, and the request it belongs to: request id, account, route, method, path (never a
query string), status and duration. Text, Python's own, stays the default for development.

The request's fields come from a context variable the web layer sets for the request (views/ops.py), so the app's
own lines, requests-oauthlib's and gunicorn's all carry them; outside a request they are null. gunicorn.conf.py
installs the same handler for gunicorn's own loggers. What views/security.py cuts from records (query strings,
requests-oauthlib's debug lines) is cut before any formatter sees them, JSON or text. Nothing here imports Flask.
"""
import contextvars
import logging
import sys

from pythonjsonlogger.json import JsonFormatter

FORMATS = ("text", "json")
# The request a line belongs to; set and reset by the web layer around each request.
REQUEST = contextvars.ContextVar("outsmart_request", default=None)
REQUEST_FIELDS = ("request_id", "account", "route", "method", "path", "status", "duration_ms")


class RequestFields(logging.Filter):
    """Give every record the request's fields (null outside a request) and the process id; never drop a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = REQUEST.get() or {}
        for name in REQUEST_FIELDS:
            if not hasattr(record, name):
                setattr(record, name, current.get(name))
        record.pid = record.process
        return True


def json_formatter() -> JsonFormatter:
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, then the request's fields."""
    return JsonFormatter(["levelname", "name", "message"], rename_fields={"levelname": "level", "name": "logger"},
                         timestamp="time")


def json_handler(stream=None) -> logging.Handler:
    """A handler writing JSON lines to `stream` (standard error by default), with the request's fields."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestFields())
    handler.outsmart_json = True
    return handler


def configure(fmt: str, level: str = "INFO", stream=None) -> logging.Handler | None:
    """LOG_FORMAT=json: the root logger writes JSON lines at `level` (once per process: a root handler that writes
    JSON already, gunicorn's or an earlier app's, is kept). Text: logging is left as it is."""
    if fmt != "json":
        return None
    root = logging.getLogger()
    existing = next((handler for handler in root.handlers if getattr(handler, "outsmart_json", False)), None)
    if existing is None or stream is not None:
        if existing is not None:
            root.removeHandler(existing)
        existing = json_handler(stream)
        root.addHandler(existing)
    root.setLevel(level)
    return existing


def unconfigure(handler: logging.Handler | None) -> None:
    """Take a handler configure() installed off the root logger again (tests)."""
    if handler is not None:
        logging.getLogger().removeHandler(handler)
