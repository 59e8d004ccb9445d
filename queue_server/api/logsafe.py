"""Log lines that a request cannot forge: control characters in a record's
message and arguments (a path's ``%0a``, a NUL, an escape sequence) are
written escaped, so one record is always one line; a traceback keeps its
lines, each indented under the record's first line."""

from __future__ import annotations

import logging
import re

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _NAMED:
        return _NAMED[ch]
    return f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}"


def escape_controls(text: str) -> str:
    return _CONTROL.sub(_escape, text)


_formatter = logging.Formatter()


class EscapeControls(logging.Filter):
    """A filter for log handlers: the record's text is rendered once, here,
    with every control character escaped."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the parts, escaped
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = escape_controls(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = _formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _indent(record.exc_text)
        if record.stack_info:
            record.stack_info = _indent(record.stack_info)
        return True


def _indent(text: str) -> str:
    lines = text.split("\n")
    return "\n".join(
        "  " + escape_controls(line) if not line.startswith("  ") else escape_controls(line) for line in lines
    )


def install(*logger_names: str) -> None:
    """Add the filter to every handler of these loggers ("" is the root),
    once. Not for ``uvicorn.access``: its formatter reads the record's
    arguments (and it writes the path percent-encoded already)."""
    for name in logger_names:
        for handler in logging.getLogger(name or None).handlers:
            if not any(isinstance(f, EscapeControls) for f in handler.filters):
                handler.addFilter(EscapeControls())


_TOKEN_QUERY = re.compile(r"([?&]token=)[^&\s\"]*")


def redact_tokens(text: str) -> str:
    """``/api/appointments/x?token=SECRET`` -> ``/api/appointments/x?token=…``."""
    return _TOKEN_QUERY.sub(r"\1…", text)


class RedactTokens(logging.Filter):
    """A filter for the access log: a ``token=`` in a logged URL (a manage
    token, a device token in ?token=) is written as ``token=…``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_tokens(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact_tokens(record.msg)
        return True


def install_redaction(logger_name: str = "uvicorn.access") -> None:
    """Redact tokens in the records of this logger (its own filter, once)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
