"""The OpenAPI tells the truth (issue #12): every error reply is documented
as the one shape we send, under the statuses a route really gives, and the
JSON bodies that routes read are declared."""

from __future__ import annotations

import re

import pytest

BODY_ROUTES = [
    ("post", "/api/auth/login"),
    ("post", "/api/tickets"),
    ("post", "/api/counters/{n}/call"),
    ("post", "/api/counters/{n}/transfer"),
    ("post", "/api/tickets/{ticket_id}/rating"),
    ("post", "/api/rate/{n}"),
    ("post", "/api/admin/users"),
    ("put", "/api/admin/users/{username}"),
    ("post", "/api/admin/users/{username}/password"),
    ("post", "/api/admin/devices"),
    ("post", "/api/admin/display-pairing"),
    ("put", "/api/admin/config"),
    ("put", "/api/display/settings"),
]
WRITE = {"post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def spec(server) -> dict:
    with server.client() as c:
        r = c.get("/schema/openapi.json")
        assert r.status_code == 200
        return r.json()


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, op


def test_error_replies_share_one_model(spec):
    model = spec["components"]["schemas"]["ErrorReply"]
    assert set(model["required"]) == {"error", "message"}
    assert model["properties"]["error"]["type"] == "string" and model["properties"]["message"]["type"] == "string"
    for path, method, op in _operations(spec):
        for status, resp in op["responses"].items():
            if int(status) >= 400:
                schema = resp["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorReply"}, (method, path, status, schema)
                assert resp["description"].startswith("Error codes: `"), (method, path, status)


def test_request_bodies_are_declared(spec):
    for method, path in BODY_ROUTES:
        op = spec["paths"][path][method]
        body = op["requestBody"]["content"]["application/json"]["schema"]
        assert body["type"] == "object" and body.get("properties"), (method, path)
        for status in ("400", "413", "415"):
            assert status in op["responses"], (method, path, status)
    login = spec["paths"]["/api/auth/login"]["post"]
    schema = login["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"username", "password"}
    assert "4,000 bytes" in login["requestBody"]["description"]
    assert {"400", "401", "403", "413", "415", "429"} <= set(login["responses"])
    assert "`account_locked`" in login["responses"]["429"]["description"]
    tickets = spec["paths"]["/api/tickets"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert tickets["required"] == ["category"] and tickets["properties"]["priority"]["type"] == "boolean"
    kinds = spec["paths"]["/api/admin/devices"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(kinds["properties"]["kind"]["enum"]) == {"kiosk", "display", "printer", "rating"}


def test_guarded_routes_document_401_and_403(spec):
    for path, method, op in _operations(spec):
        if path.startswith("/api/counters/") or path.startswith("/api/admin/"):
            assert {"401", "403"} <= set(op["responses"]), (method, path)
        if method in WRITE:
            assert "`cross_site`" in op["responses"]["403"]["description"], (method, path)


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: "1" if m.group(1) == "n" else "x", path)


def test_every_answer_is_documented(server, spec):
    """Anonymous, as admin, with a bad body, with a body too large: each
    status a route answers is one its OpenAPI lists, with our error shape."""
    admin = server.login("admin")
    wrong: list[str] = []
    try:
        with server.client() as anon:
            for path, method, op in _operations(spec):
                url = _url(path)
                tries = [(anon, {}), (admin, {})]
                if method in WRITE:
                    tries += [
                        (admin, {"content": b"{", "headers": {"Content-Type": "application/json"}}),
                        (admin, {"content": b"[" * 100 + b"]" * 100, "headers": {"Content-Type": "application/json"}}),
                        (admin, {"content": b'{"a": 1}', "headers": {"Content-Type": "text/plain"}}),
                        (admin, {"json": {"pad": "x" * 300_000}}),
                        (anon, {"json": {}, "headers": {"Origin": "http://evil.example"}}),
                    ]
                for client, kw in tries:
                    if client is admin and path == "/api/auth/logout":
                        continue  # keep the admin's session for the other routes
                    r = client.request(method.upper(), url, **kw)
                    if r.status_code < 300:
                        continue
                    code = (
                        r.json().get("error")
                        if r.headers.get("content-type", "").startswith("application/json")
                        else None
                    )
                    documented = op["responses"].get(str(r.status_code), {}).get("description", "")
                    if code is None or f"`{code}`" not in documented:
                        wrong.append(f"{method.upper()} {path} {kw.get('headers', '')}: {r.status_code} {code}")
        assert admin.get("/api/auth/me").status_code == 200  # the probes above ran as admin
    finally:
        admin.close()
    assert not wrong, "\n".join(wrong)


def test_the_kiosks_categories_reply_is_declared_with_its_procedures(spec):
    """Issue #13 item 4: the kiosk reads each category's common procedures from /api/categories."""
    ok = spec["paths"]["/api/categories"]["get"]["responses"]["200"]
    ref = ok["content"]["application/json"]["schema"]["$ref"]
    schemas = spec["components"]["schemas"]
    reply = schemas[ref.rsplit("/", 1)[1]]
    item = reply["properties"]["categories"]["items"]["$ref"].rsplit("/", 1)[1]
    category = schemas[item]
    assert {"code", "prefix", "name", "name_vi", "name_en", "procedures"} <= set(category["required"])
    procedure = schemas[category["properties"]["procedures"]["items"]["$ref"].rsplit("/", 1)[1]]
    assert set(procedure["required"]) == {"name", "name_vi", "name_en"}


# Our routes whose success is no JSON; Litestar's own /schema pages are left as they are.
NOT_JSON = {
    ("get", "/api/voice"): "audio/wav",
    ("get", "/api/tickets/{ticket_id}/qr.svg"): "image/svg+xml",
    ("get", "/api/appointments/{appointment_id}/calendar.ics"): "text/calendar",
    ("get", "/api/reports/export"): "text/csv",  # or format=xlsx
    ("get", "/api/events/export"): "text/csv",  # or format=parquet
    ("get", "/api/reports/exports/{job_id}/file"): "application/octet-stream",  # the job's csv, xlsx or pdf
    ("get", "/api/reports/periodic/{filename}"): "application/octet-stream",  # xlsx or pdf
    ("get", "/metrics"): "text/plain",  # Prometheus exposition
}


def test_success_replies_have_schemas(spec):
    """Every JSON 2xx reply of ours names its shape (api/replies.py), so that
    response_schema_conformance (tests/e2e/test_fuzz_openapi.py) checks it."""
    schemas = spec["components"]["schemas"]
    bare: list[str] = []
    for path, method, op in _operations(spec):
        if path.startswith("/schema"):
            continue
        ok = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        assert len(ok) == 1, (method, path, ok)
        ((status, resp),) = ok.items()
        if (method, path) in NOT_JSON:
            assert list(resp["content"]) == [NOT_JSON[method, path]], (method, path)
            continue
        schema = resp["content"]["application/json"]["schema"]
        ref = schema.get("$ref", "").removeprefix("#/components/schemas/")
        if ref not in schemas or not schemas[ref].get("properties"):
            bare.append(f"{method.upper()} {path} {status}: {schema}")
    assert not bare, "\n".join(bare)
    ticket = schemas["Ticket"]
    assert {"id", "number", "status", "ahead", "eta_minutes", "track_url"} <= set(ticket["required"])
    assert "print" not in schemas["IssuedTicket"]["required"]  # a kiosk's ticket only
    assert schemas["Site"]["properties"]["next_open"] == {"oneOf": [{"type": "string"}, {"type": "null"}]}


def test_query_parameters_are_declared(spec, server):
    """A route reads only the query parameters its OpenAPI names: /api/voice
    read ?text= unseen, so no client or fuzzer could know it."""
    params = spec["paths"]["/api/voice"]["get"]["parameters"]
    assert [(p["name"], p["in"]) for p in params] == [("text", "query")]
    r = server.login("admin").get("/api/voice", params={"text": "   "})
    assert r.status_code == 400 and r.json()["error"] == "invalid_body"
