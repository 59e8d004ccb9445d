"""schemathesis against the live server (issue #12): no 5xx, every reply as
its OpenAPI says (its status documented, its JSON matching the schema).

Three runs of the `st` CLI (schemathesis 4, pinned in the test extras),
one after the other, against one real server and Redis, with the checks
not_a_server_error, status_code_conformance and response_schema_conformance
and every phase (examples, coverage, fuzzing, stateful):

1. anonymous;
2. with a kiosk device token (``Authorization: Bearer``);
3. with an admin's session cookie and its ``X-CSRF-Token`` header.

Before the runs the test issues a few tickets and makes a throwaway clerk,
a throwaway device and a display pairing; schemathesis draws the path and
query parameters (``ticket_id``, ``number``, ``n``, ``username``,
``device_id``, ``poll_id``) and some body fields (a category, a ticket and
its number, a rating level, the clerk's credentials, a counter, the pairing
code) from these real values 3 times in 4 (a dictionary with a
probability) and fuzzes them otherwise, so the routes
answer their 2xx replies too and those are checked against their schemas,
not only the error replies.

Left out, and why:

- ``POST /api/auth/logout`` and ``POST /api/auth/login`` in the staff run:
  each ends the session the run is using (a login never keeps the session it
  was sent with; the stateful phase logs in with an account it has just
  created), and every later request would be a 401. The anonymous and kiosk
  runs call both.
- Nothing else. The other destructive admin calls act on the throwaway
  clerk and device (``username``, ``device_id``) or on made-up names, never
  on the admin whose session the run uses: the run learns "admin" from
  ``GET /api/admin/users``, and a password reset or new counters for it
  would end the session, so a hook (``tests/e2e/fuzz_hooks.py``) sends such
  a request to the throwaway clerk instead. The staff run comes last, so
  whatever it changes in the site's configuration (hours, counters,
  categories) cannot starve the runs before it; the module's server is its
  own (a fresh site).

Bounded by ``--max-examples`` per operation and phase (``MOTCUA_FUZZ_EXAMPLES``,
default 12) and one worker; a fixed seed (``MOTCUA_FUZZ_SEED``: another
number, or ``random``) keeps CI repeatable. Each run's operation, test-case
and request counts are printed in the terminal summary (section
"schemathesis"); the test fails on any failed check or error, and also when
a run tested too few operations, sent too few requests or saw too few 2xx
JSON replies to have checked anything."""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import FUZZ_REPORT

ROOT = Path(__file__).resolve().parents[2]
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
SEED = os.environ.get("MOTCUA_FUZZ_SEED", "20261201")
EXAMPLES = int(os.environ.get("MOTCUA_FUZZ_EXAMPLES", "12"))
RUN_TIMEOUT_S = 600  # a hung run is killed and fails; not a timing assertion

# Sanity floors: a run below one of them checked (nearly) nothing.
MIN_OPERATIONS = 45  # of the ~57 in the schema (our routes and Litestar's /schema pages)
MIN_REQUESTS = 400
MIN_OK_JSON = {"anonymous": 15, "kiosk": 20, "staff": 100}  # 2xx JSON replies validated
MIN_OK_OPERATIONS = {"anonymous": 5, "kiosk": 8, "staff": 25}  # operations with such a reply


def _toml(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _config(headers: dict[str, str], values: dict[str, list]) -> str:
    """schemathesis.toml: the run's headers, and real values for path, query
    and body fields, drawn 3 times in 4 (fuzzed otherwise)."""
    lines = ["headers = { " + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in headers.items()) + " }", ""]
    params = []
    for name, vals in values.items():
        key = name.replace(".", "_")
        lines += [f"[dictionaries.{key}]", f"values = {_toml(vals)}", ""]
        params.append(f"{_toml(name)} = {{ dictionary = {_toml(key)}, probability = 0.75 }}")
    return "\n".join([*lines, "[parameters]", *params, ""])


@pytest.fixture(scope="module")
def fuzz_data(server):
    """Real values for the parameters: tickets (one called, one a no-show),
    a throwaway clerk and device, a pairing poll id; and the admin session."""
    admin = server.login("admin")
    kiosk = server.device("kiosk")
    tickets = []
    for category in ("HT", "HT", "CT", "DD", "HT", "KH"):
        r = kiosk.post("/api/tickets", json={"category": category})
        assert r.status_code == 201, r.text
        tickets.append(r.json())
    assert admin.post("/api/counters/1/next").status_code == 200
    assert admin.post("/api/counters/1/no-show").status_code == 200
    assert admin.post("/api/counters/2/next").status_code == 200
    r = admin.post("/api/admin/users", json={"username": "fuzz-clerk", "password": "mat-khau-fuzz", "role": "clerk"})
    assert r.status_code == 201, r.text
    r = admin.post("/api/admin/devices", json={"name": "fuzz-device", "kind": "kiosk"})
    assert r.status_code == 201, r.text
    device_id = r.json()["device"]["id"]
    with server.client() as anon:
        pairing = anon.post("/api/display/pairing").json()
    values = {
        "path.ticket_id": [t["id"] for t in tickets],
        "query.number": [t["number"] for t in tickets],
        "path.poll_id": [pairing["poll_id"]],
        "body.category": [c["code"] for c in kiosk.get("/api/categories").json()["categories"]],
        "body.ticket": [t["id"] for t in tickets],
        "body.number": [t["number"] for t in tickets],
        "body.level": [1, 2, 3],
        "body.username": ["fuzz-clerk", "fuzz-new"],  # the second one the staff run may create
        "body.password": ["mat-khau-fuzz"],
    }
    staff_values = {
        **values,
        "path.n": [1, 2, 3],
        "path.username": ["fuzz-clerk"],
        "path.device_id": [device_id],
        "body.counter": [1, 2, 3],
        "body.code": [pairing["code"]],
    }
    session = admin.cookies.get("motcua_session")
    assert session
    return {
        "anonymous": ({}, values),
        "kiosk": ({"Authorization": f"Bearer {server.tokens['kiosk']}"}, values),
        "staff": (
            {"Cookie": f"motcua_session={session}", "X-CSRF-Token": admin.headers["X-CSRF-Token"]},
            staff_values,
        ),
    }


def _run(server, tmp_path: Path, name: str, headers: dict[str, str], values: dict[str, list], exclude=()):
    work = tmp_path / name
    work.mkdir()
    (work / "schemathesis.toml").write_text(_config(headers, values), "utf-8")
    cmd = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(work / "schemathesis.toml"),
        "run",
        f"{server.base_url}/schema/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(EXAMPLES),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "json,har",
        "--report-dir",
        str(work),
        "--report-json-path",
        str(work / "run.json"),
        "--report-har-path",
        str(work / "run.har"),
    ]
    if SEED != "random":
        cmd += ["--seed", SEED]
    for path in exclude:
        cmd += ["--exclude-path", path]
    env = dict(os.environ, SCHEMATHESIS_HOOKS="tests.e2e.fuzz_hooks", PYTHONPATH=str(ROOT))
    started = time.monotonic()
    proc = subprocess.run(
        cmd, cwd=work, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL
    )
    took = time.monotonic() - started
    (work / "output.txt").write_text(proc.stdout + proc.stderr, "utf-8")
    if not (work / "run.json").exists():
        pytest.fail(
            f"schemathesis ({name}) wrote no report, exit {proc.returncode}:\n{proc.stdout[-4000:]}{proc.stderr}"
        )
    report = json.loads((work / "run.json").read_text("utf-8"))
    entries = json.loads((work / "run.har").read_text("utf-8"))["log"]["entries"]
    return proc, report, entries, took


def _templates(server) -> list[tuple[re.Pattern, str]]:
    """The schema's paths as patterns, literal ones first (``/api/tickets``
    before ``/api/tickets/{ticket_id}``)."""
    with server.client() as c:
        paths = c.get("/schema/openapi.json").json()["paths"]
    pats = [(re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(p)) + "$"), p) for p in paths]
    return sorted(pats, key=lambda pp: (pp[1].count("{"), pp[1]))


def _operation(templates, method: str, url: str) -> str:
    path = "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    return next((f"{method} {t}" for pat, t in templates if pat.match(path)), f"{method} {path}")


def _summary(name: str, report: dict, entries: list, took: float, templates) -> tuple[str, int, int]:
    statuses = collections.Counter(e["response"]["status"] for e in entries)
    ok_json = [
        e
        for e in entries
        if 200 <= e["response"]["status"] < 300 and "json" in e["response"]["content"].get("mimeType", "")
    ]
    ok_ops = {_operation(templates, e["request"]["method"], e["request"]["url"]) for e in ok_json}
    ops = report["operations"]
    line = (
        f"{name}: {ops['tested']}/{ops['selected']} operations, {report['test_cases']['generated']} test cases, "
        f"{len(entries)} requests ({len(ok_json)} 2xx JSON replies checked, of {len(ok_ops)} operations; "
        f"5xx: {sum(n for s, n in statuses.items() if s >= 500)}), "
        f"{report['test_cases']['with_failures']} failing, {len(report['errors'])} errors, "
        f"seed {report['seed']}, {took:.0f} s"
    )
    return line, len(ok_json), len(ok_ops)


@pytest.mark.timeout(3 * RUN_TIMEOUT_S)
def test_schemathesis_finds_nothing(server, fuzz_data, tmp_path, request):
    lines = request.config.stash.setdefault(FUZZ_REPORT, [])
    problems: list[str] = []
    templates = _templates(server)
    for name in ("anonymous", "kiosk", "staff"):
        headers, values = fuzz_data[name]
        exclude = ("/api/auth/logout", "/api/auth/login") if name == "staff" else ()
        proc, report, entries, took = _run(server, tmp_path, name, headers, values, exclude)
        line, ok_json, ok_ops = _summary(name, report, entries, took, templates)
        lines.append(line)
        if proc.returncode != 0 or report["failures"] or report["errors"] or report["test_cases"]["with_failures"]:
            out = proc.stdout
            problems.append(f"{line}\n{out[out.find('FAILURES') - 40 :][:12000] if 'FAILURES' in out else out[-6000:]}")
        if report["operations"]["tested"] < MIN_OPERATIONS:
            problems.append(f"{name}: only {report['operations']['tested']} operations tested")
        if len(entries) < MIN_REQUESTS:
            problems.append(f"{name}: only {len(entries)} requests sent")
        if ok_json < MIN_OK_JSON[name] or ok_ops < MIN_OK_OPERATIONS[name]:
            problems.append(f"{name}: only {ok_json} 2xx JSON replies of {ok_ops} operations were checked")
    # the staff run really ran as the admin: the session is still alive
    headers, _ = fuzz_data["staff"]
    with server.client(headers=headers) as c:
        assert c.get("/api/auth/me").json().get("user", {}).get("username") == "admin"
    assert not problems, "\n\n".join(problems)
