"""One log record is one line, whatever a request puts in it (issue #12, item 8)."""

from __future__ import annotations

import logging

from queue_server.api.logsafe import EscapeControls, escape_controls


def test_log_records_are_one_line_each(capsys):
    logger = logging.getLogger("test.logsafe")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(EscapeControls())
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error("unexpected error on %s", "/api/display/pairing/x\nERROR - FAKE LOG LINE\x00\x1b[31m")
        try:
            raise ValueError("bad\nERROR - FAKE TOO")
        except ValueError:
            logger.exception("boom on %s", "/x\r\n")
    finally:
        logger.removeHandler(handler)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0] == "ERROR unexpected error on /api/display/pairing/x\\nERROR - FAKE LOG LINE\\x00\\x1b[31m"
    assert lines[1] == "ERROR boom on /x\\r\\n"
    assert all(line.startswith("  ") for line in lines[2:]), lines  # the traceback, under its record
    assert "\x00" not in err and "\x1b" not in err
    assert escape_controls("a\u2028b\tc") == "a\\u2028b\\tc"


def test_the_app_installs_the_filter_on_its_log_handlers():
    from queue_server.api.app import create_app
    from queue_server.settings import Settings

    create_app(Settings())  # no I/O: sets up logging and the routes only
    handlers = logging.getLogger().handlers
    assert handlers and all(any(isinstance(f, EscapeControls) for f in h.filters) for h in handlers)


def test_tokens_in_logged_urls_are_redacted():
    import logging

    from queue_server.api.logsafe import RedactTokens, redact_tokens

    assert redact_tokens("GET /api/appointments/abc?token=SeCrEt_-1 HTTP/1.1") == (
        "GET /api/appointments/abc?token=… HTTP/1.1"
    )
    assert redact_tokens("/kiosk?lang=en&token=abc&x=1") == "/kiosk?lang=en&token=…&x=1"
    assert redact_tokens("/api/tickets/x") == "/api/tickets/x"
    rec = logging.LogRecord("uvicorn.access", 20, "", 0, '%s - "%s %s"', ("1.2.3.4", "GET", "/a?token=zz"), None)
    assert RedactTokens().filter(rec) and rec.getMessage() == '1.2.3.4 - "GET /a?token=…"'
