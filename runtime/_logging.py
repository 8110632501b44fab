"""Log output of a node: readable text lines or one JSON object per line.

Lines that come from a process (``logger`` module output, unobserved process
failures) carry the process's ``pid``, ``entry`` and ``host``; the JSON form
gives them as fields, the text form appends ``[entry pid]`` to the message.

The text form writes control characters as visible escapes (:class:`TextFormatter`),
so a process cannot forge log lines or send escape sequences to the terminal.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from ._codec import decode
from ._escape import escape_controls
from ._pid import Pid

#: ``--log-format`` values.
LOG_FORMATS = ("text", "json")

_TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


#: Level names the Lua ``logger`` module sends.
_LUA_LEVELS = {
    b"debug": logging.DEBUG,
    b"info": logging.INFO,
    b"warn": logging.WARNING,
    b"warning": logging.WARNING,
    b"error": logging.ERROR,
}
_lua_log = logging.getLogger("orrery.lua")


def log_from_lua(
    level: bytes, pid: bytes, entry: bytes, message: bytes, fields: bytes | None
) -> None:
    """Logs one ``logger`` call of a process, on any host (logger ``orrery.lua``).

    The record carries ``pid``, ``entry``, ``host`` and the call's ``fields`` for the
    JSON form; the text form reads ``message k=v ... [entry pid]``.
    """
    pid_text = pid.decode(errors="replace")
    extra: dict[str, Any] = {
        "pid": pid_text,
        "entry": entry.decode(errors="replace"),
        "host": host_of_pid(pid_text),
    }
    raw = text = message.decode(errors="replace")
    if fields:
        decoded = decode(fields)
        if isinstance(decoded, dict) and decoded:
            extra["fields"] = decoded
            text += " " + " ".join(f"{k}={v}" for k, v in sorted(decoded.items(), key=str))
    _lua_log.log(
        _LUA_LEVELS.get(level, logging.INFO),
        "%s [%s %s]",
        text,
        extra["entry"],
        pid_text,
        extra={"orrery": extra, "orrery_text": raw},
    )


def host_of_pid(pid: str | None) -> str | None:
    """The host component of a PID (``{node@host|id}``), or ``None`` if it has none."""
    parsed = Pid.try_parse(pid)
    if parsed is None or parsed.node is None:
        return None
    return parsed.host or None


class TextFormatter(logging.Formatter):
    r"""Formats each record as one readable line (``--log-format text``).

    Control characters anywhere in the line (a Lua ``print("a\nINFO fake")``, an entry
    or name with an ESC sequence) are written as visible escapes such as ``\n`` and
    ``\x1b``, so one record is always one line. A traceback keeps its own newlines;
    other control characters in it are escaped too.
    """

    def __init__(self) -> None:
        super().__init__(_TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The record's line, control characters escaped."""
        return escape_controls(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        """The traceback, control characters other than its newlines escaped."""
        return escape_controls(super().formatException(ei), keep_newlines=True)


class JsonFormatter(logging.Formatter):
    """Formats each record as one JSON object on one line.

    Keys: ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``, ``message``,
    and, on lines from a process, ``pid``, ``entry``, ``host`` and ``fields`` (the fields
    passed to the Lua ``logger``). A record with an exception adds ``exception``.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The JSON line of ``record`` (without a newline)."""
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        data: dict[str, Any] = {
            "time": stamp.replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": getattr(record, "orrery_text", None) or record.getMessage(),
        }
        extra = getattr(record, "orrery", None)
        if isinstance(extra, dict):
            data.update({k: v for k, v in extra.items() if v is not None})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


def configure_logging(
    level: str = "info", fmt: str = "text", stream: IO[str] | None = None
) -> None:
    """Sends every log record of the process to ``stream`` (stderr by default).

    This is what ``orrery run --log-level LEVEL --log-format FORMAT`` does; an embedding
    program calls it once before :func:`orrery.open_node` to get the same output.

    Args:
        level: ``debug``, ``info``, ``warning`` (or ``warn``) or ``error``.
        fmt: ``text`` for readable lines, ``json`` for one JSON object per line.
        stream: where lines go; ``sys.stderr`` when omitted.

    Raises:
        InvalidError: an unknown level or format.
    """
    from ._errors import InvalidError  # noqa: PLC0415 - keeps this module import-light

    if fmt not in LOG_FORMATS:
        raise InvalidError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {fmt!r}")
    name = {"warn": "WARNING"}.get(level.lower(), level.upper())
    if name not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise InvalidError(f"log level must be debug, info, warning or error, not {level!r}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(name)
