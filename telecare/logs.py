"""Logging for every `telecare` command, configured in one place from the [log] settings.

`text` is for a person at a terminal; `json` is one object per line for a log shipper:
{"time": "2026-11-30T08:15:00.123Z", "level": "INFO", "logger": "devices.bridge",
 "message": "...", "alarm": 42}. Fields given as `extra={"alarm": 42}` travel as they are,
so an alarm, a device or a planned call can be searched for without parsing the prose.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from telecare.settings import LogSettings, SettingsError

FORMATS = ("text", "json")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Libraries that say too much at INFO: twilio-python logs every request's headers (our own
# log says what was placed); APScheduler logs every run of a job due every few seconds.
QUIET = {"twilio.http_client": logging.WARNING, "apscheduler.executors.default": logging.WARNING,
         "apscheduler.scheduler": logging.WARNING}
# Attributes every LogRecord has: anything else on a record was given as `extra`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: an extra field that JSON cannot carry (a datetime) is logged as text
        # rather than losing the whole record.
        return json.dumps(entry, ensure_ascii=False, default=str)


class _Handler(logging.StreamHandler):
    """Ours: found and replaced when configure() runs again (a test, the demo after serve)."""


def configure(settings: LogSettings, stream=None) -> None:
    """Send every logger's records to stderr (or `stream`) in the configured format."""
    fmt, level = settings.format.strip().lower(), settings.level.strip().upper()
    if fmt not in FORMATS:
        raise SettingsError(f"TELECARE_LOG_FORMAT: expected one of {', '.join(FORMATS)}, "
                            f"got {settings.format!r}")
    if level not in LEVELS:
        raise SettingsError(f"TELECARE_LOG_LEVEL: expected one of {', '.join(LEVELS)}, "
                            f"got {settings.level!r}")
    handler = _Handler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    # Ours from an earlier call, and a plain one from logging.basicConfig: one line per record.
    for old in [h for h in root.handlers
                if isinstance(h, _Handler) or type(h) is logging.StreamHandler]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(max(quiet, logging.getLevelName(level)))
