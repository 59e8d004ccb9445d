"""Issue #11, acceptance 1: a day played through the real API (several
counters, calls, recalls, transfers, no-shows then requeued, ratings, an
appointment checked in and one cancelled), then every figure of
GET /api/reports/summary equals a recount written here from the raw events
(read with the EventLog) by the definitions — independent code, not a call
into domain/reports.py. The same summary answers from the Parquet archive
after the archive job ran; bad periods and filters are 400 in our words."""

from __future__ import annotations

import math
import statistics
import time
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from queue_server.store.connection import open_redis
from queue_server.store.events import EventLog
from tests.e2e.appointment_helpers import TZ, round_the_clock_server
from tests.helpers import run_sync

TARGET_MIN = {"HT": 15, "CT": 10, "DD": 20, "XH": 15, "KD": 15, "KH": 10}


@pytest.fixture(scope="module")
def srv(redis_url):
    def targets(d):
        for c in d["categories"]:
            c["target_wait_min"] = TARGET_MIN[c["code"]]

    handle = round_the_clock_server(redis_url, tweak=targets)
    handle.start()
    yield handle
    handle.close()


def next_slot(client) -> str:
    now = datetime.now(TZ)
    slots = client.get("/api/appointments/slots", params={"category": "HT", "date": now.date().isoformat()}).json()
    for s in slots["slots"]:
        if s["available"] > 0 and 0 < (datetime.fromisoformat(s["start"]) - now).total_seconds() < 3 * 3600:
            return s["start"]
    pytest.skip("no slot left today within the check-in window")


def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


def play_the_day(srv) -> None:
    kiosk, anon = srv.device("kiosk"), srv.client()
    lan, minh, hoa = srv.login("lan"), srv.login("minh"), srv.login("hoa")
    # an appointment checked in, one booked and cancelled by its holder
    start = next_slot(anon)
    b = ok(
        anon.post(
            "/api/appointments", json={"category": "HT", "start": start, "name": "Lê Văn An", "phone": "0905111222"}
        ),
        201,
    )
    ok(kiosk.post("/api/appointments/check-in", json={"code": b["code"]}), 201)
    c = ok(
        anon.post(
            "/api/appointments", json={"category": "HT", "start": start, "name": "Trần Thị Bé", "phone": "0905333444"}
        ),
        201,
    )
    token = parse_qs(urlsplit(c["manage_url"]).query)["token"][0]
    ok(anon.post(f"/api/appointments/{c['id']}/cancel", params={"token": token}))
    # walk-ins
    for cat in ("HT", "HT", "CT", "CT", "XH", "KH", "HT", "CT", "DD"):
        ok(kiosk.post("/api/tickets", json={"category": cat}), 201)
        time.sleep(0.02)
    # counter 1: served; served after a recall; a no-show that comes back
    ok(lan.post("/api/counters/1/next"))
    time.sleep(0.05)
    ok(lan.post("/api/counters/1/done"))
    ok(lan.post("/api/counters/1/next"))
    ok(lan.post("/api/counters/1/recall"))
    time.sleep(0.03)
    ok(lan.post("/api/counters/1/done"))
    gone = ok(lan.post("/api/counters/1/next"))["ticket"]
    ok(lan.post("/api/counters/1/no-show"))
    # counter 3: a ticket transferred to counter 5's category, served there
    ok(minh.post("/api/counters/3/next"))
    ok(minh.post("/api/counters/3/transfer", json={"category": "XH"}))
    ok(hoa.post("/api/counters/5/next"))
    time.sleep(0.04)
    ok(hoa.post("/api/counters/5/done"))
    # the no-show came back and is served at counter 2
    ok(lan.post(f"/api/tickets/{gone['id']}/requeue"))
    called = ok(lan.post("/api/counters/2/call", json={"number": gone["number"]}))["ticket"]
    assert called["id"] == gone["id"]
    ok(lan.post("/api/counters/2/done"))
    # a second no-show stays one; counter 3 serves two more
    ok(minh.post("/api/counters/3/next"))
    ok(minh.post("/api/counters/3/no-show"))
    for _ in range(2):
        ok(minh.post("/api/counters/3/next"))
        time.sleep(0.03)
        ok(minh.post("/api/counters/3/done"))
    # ratings of every served ticket, from every level
    served = []
    run_sync(_served_ids(srv, served))
    for i, tid in enumerate(served):
        ok(anon.post(f"/api/tickets/{tid}/rating", json={"level": 1 + i % 3}), 201)


async def _served_ids(srv, out: list) -> None:
    events = await raw_events(srv)
    out.extend(e["ticket"] for e in events if e["type"] == "done")


async def raw_events(srv) -> list[dict]:
    r = open_redis(srv.redis_url)
    try:
        return [e async for e in EventLog(r, srv.keys).iter()]
    finally:
        await r.aclose()


# -- the recount: the definitions of issue #11, written again from scratch -----------
def q(sorted_vals, p):
    if len(sorted_vals) == 1:
        return float(sorted_vals[0])
    return statistics.quantiles(sorted_vals, n=100, method="inclusive")[round(p * 100) - 1]


def figures(waits):
    if not waits:
        return {"mean": None, "median": None, "p90": None, "max": None}
    v = sorted(waits)
    return {"mean": statistics.fmean(v), "median": statistics.median(v), "p90": q(v, 0.9), "max": float(v[-1])}


def recount(events, *, counter=None):
    tickets = {}
    checkin = {}
    appts = {}
    for e in events:
        t = e["type"]
        if t.startswith("appointment_"):
            a = appts.setdefault(e["appointment"], {})
            a[t] = e
            if t == "appointment_checkin":
                checkin[e["ticket"]] = e
            continue
        tid = e.get("ticket")
        if t == "issue":
            ci = checkin.get(tid)
            begin = e["ts"]
            if e["source"] == "appointment" and ci and ci["late"] in ("0", 0, False):
                begin = max(ci["ts"], ci["start"])
            tickets[tid] = {"issue": e, "begin": begin, "history": []}
        elif tid in tickets:
            tickets[tid]["history"].append(e)
    rows = []
    for x in tickets.values():
        h = x["history"]
        finals = [e for e in h if e["type"] in ("done", "no_show", "expire", "requeue", "transfer", "call")]
        last = finals[-1]["type"] if finals else "waiting"
        calls = [e for e in h if e["type"] == "call"]
        row = {
            "category": x["issue"]["category"],
            "source": x["issue"]["source"],
            "outcome": last,
            "transferred": any(e["type"] == "transfer" for e in h),
            "counter": calls[-1]["counter"] if calls else None,
            "clerk": calls[-1]["clerk"] if calls else None,
            "hour": datetime.fromtimestamp(x["issue"]["ts"] / 1000, TZ).hour,
            "weekday": datetime.fromtimestamp(x["issue"]["ts"] / 1000, TZ).isoweekday() - 1,
            "ratings": [(int(e["level"]), int(e["scale"])) for e in h if e["type"] == "rating"],
        }
        if last == "done":
            done = [e for e in h if e["type"] == "done"][-1]
            last_call = [e for e in h if e["type"] == "call" and e["ts"] <= done["ts"]][-1]
            row["wait"] = (last_call["ts"] - x["begin"]) / 1000
            row["service"] = (done["ts"] - last_call["ts"]) / 1000
        rows.append(row)
    if counter is not None:
        rows = [r for r in rows if r["counter"] == counter]
    return rows, appts


def group(rows):
    served = [r for r in rows if r["outcome"] == "done"]
    return {
        "issued": len(rows),
        "served": len(served),
        "no_show": sum(r["outcome"] == "no_show" for r in rows),
        "expired": sum(r["outcome"] == "expire" for r in rows),
        "transferred": sum(r["transferred"] for r in rows),
        "wait_s": figures([r["wait"] for r in served]),
        "service_s": figures([r["service"] for r in served]),
        "service_level": (
            sum(r["wait"] <= TARGET_MIN[r["category"]] * 60 for r in served) / len(served) if served else None
        ),
    }


def expected(events, counter=None):
    rows, appts = recount(events, counter=counter)
    g = group(rows)
    buckets = {"0-5": 0, "5-15": 0, "15-30": 0, "30-60": 0, "60+": 0}
    for r in rows:
        if r["outcome"] == "done":
            m = r["wait"] / 60
            key = "0-5" if m < 5 else "5-15" if m < 15 else "15-30" if m < 30 else "30-60" if m < 60 else "60+"
            buckets[key] += 1
    ratings = [x for r in rows for x in r["ratings"]]
    by_level = {str(i): sum(lv == i for lv, _ in ratings) for i in range(1, 4)}

    def by(key):
        keys = sorted({r[key] for r in rows if r[key] is not None})
        return [{key: k, **group([r for r in rows if r[key] == k])} for k in keys]

    booked = [a for a in appts.values() if "appointment_book" in a]
    return {
        "totals": {k: g[k] for k in ("issued", "served", "no_show", "expired", "transferred")},
        "by_source": {
            "appointment": sum(r["source"] == "appointment" for r in rows),
            "walk_in": sum(r["source"] == "walk_in" for r in rows),
        },
        "wait_s": g["wait_s"],
        "service_s": g["service_s"],
        "service_level": g["service_level"],
        "wait_buckets": buckets,
        "ratings": {
            "count": len(ratings),
            "by_level": by_level,
            "satisfied_share": sum(lv >= s - 1 for lv, s in ratings) / len(ratings) if ratings else None,
        },
        "by_category": by("category"),
        "by_counter": by("counter"),
        "by_clerk": by("clerk"),
        "by_hour": by("hour"),
        "by_weekday": by("weekday"),
        "by_hour_weekday": [
            {"weekday": w, "hour": h, **group([r for r in rows if (r["weekday"], r["hour"]) == (w, h)])}
            for w, h in sorted({(r["weekday"], r["hour"]) for r in rows})
        ],
        "appointments": {
            "booked": len(booked),
            "cancelled": sum("appointment_cancel" in a for a in booked),
            "checked_in_on_time": sum(
                "appointment_checkin" in a and a["appointment_checkin"]["late"] in ("0", 0, False) for a in booked
            ),
            "checked_in_late": sum(
                "appointment_checkin" in a and a["appointment_checkin"]["late"] in ("1", 1, True) for a in booked
            ),
            "checked_in": sum("appointment_checkin" in a for a in booked),
            "no_show": sum("appointment_no_show" in a for a in booked),
            "online_share": sum(r["source"] == "appointment" for r in rows) / len(rows),
        },
    }


def unnamed(summary):
    """The summary without the categories' names (configuration, not events)."""
    return {**summary, "by_category": [{k: v for k, v in r.items() if k != "name"} for r in summary["by_category"]]}


def same(a, b, path="$"):
    """Deep equality, floats to 1e-9."""
    if isinstance(b, float) and isinstance(a, (int, float)):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), f"{path}: {a} != {b}"
    elif isinstance(b, dict):
        assert isinstance(a, dict) and set(a) == set(b), f"{path}: keys {sorted(a)} != {sorted(b)}"
        for k in b:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(b, list):
        assert isinstance(a, list) and len(a) == len(b), f"{path}: {a} != {b}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def test_the_summary_of_a_played_day_equals_a_recount_of_its_events(srv):
    play_the_day(srv)
    sup = srv.login("sup")
    today = datetime.now(TZ).date().isoformat()
    events = run_sync(raw_events(srv))
    got = ok(sup.get("/api/reports/summary", params={"from": today, "to": today}))
    want = expected(events)
    assert (got["from"], got["to"]) == (today, today)
    assert want["totals"]["issued"] == 10 and want["totals"]["served"] >= 5
    assert want["totals"]["no_show"] == 1 and want["totals"]["transferred"] == 1
    assert want["ratings"]["count"] == want["totals"]["served"]
    assert want["appointments"]["booked"] == 2 and want["appointments"]["checked_in_on_time"] == 1
    names = {c["code"]: c["name"] for c in srv.client().get("/api/categories").json()["categories"]}
    assert all(r["name"] == names[r["category"]] for r in got["by_category"])
    same({k: v for k, v in unnamed(got).items() if k not in ("from", "to")}, want)
    # a filter: only what counter 3 called last
    got3 = ok(sup.get("/api/reports/summary", params={"from": today, "to": today, "counter": "3"}))
    want3 = expected(events, counter=3)
    assert want3["totals"]["issued"] >= 3
    for k in ("totals", "wait_s", "service_s", "service_level", "wait_buckets", "by_counter", "by_clerk"):
        same(got3[k], want3[k], k)

    # the close of the day expires what still waits; then the archive job runs and trims
    from queue_server.jobs import archive_events, close_day

    close_day(srv.redis_url, srv.site_id, None, False)
    archived = archive_events(srv.redis_url, srv.site_id, str(srv.config_path.parent / "var"), 35, False)
    assert archived["archived"] > 0
    events = run_sync(raw_events(srv))
    want = expected(events)
    assert want["totals"]["expired"] >= 1
    again = ok(sup.get("/api/reports/summary", params={"from": today, "to": today}))
    same({k: v for k, v in unnamed(again).items() if k not in ("from", "to")}, want)
    # the archive alone answers once the stream is gone (a trimmed past)
    run_sync(_drop_stream(srv))
    alone = ok(sup.get("/api/reports/summary", params={"from": today, "to": today}))
    same({k: v for k, v in unnamed(alone).items() if k not in ("from", "to")}, want)


async def _drop_stream(srv) -> None:
    r = open_redis(srv.redis_url)
    try:
        await r.delete(srv.keys.events)
    finally:
        await r.aclose()


@pytest.mark.parametrize(
    "params,code",
    [
        ({}, "invalid_period"),
        ({"from": "2026-13-01", "to": "2026-13-02"}, "invalid_period"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "invalid_period"),
        ({"from": "26-11-01", "to": "2026-11-01"}, "invalid_period"),
        ({"from": "2020-01-01", "to": "2026-11-01"}, "invalid_period"),
        ({"from": "2026-11-01", "to": "2026-11-01", "category": "ZZ"}, "invalid_filter"),
        ({"from": "2026-11-01", "to": "2026-11-01", "counter": "x"}, "invalid_filter"),
        ({"from": "2026-11-01", "to": "2026-11-01", "counter": "99"}, "invalid_filter"),
        ({"from": "2026-11-01", "to": "2026-11-01", "source": "phone"}, "invalid_filter"),
        ({"from": "2026-11-01", "to": "2026-11-01", "clerk": "a b"}, "invalid_filter"),
    ],
)
def test_bad_periods_and_filters_are_400_in_both_languages(srv, params, code):
    sup = srv.login("sup")
    r = sup.get("/api/reports/summary", params=params)
    assert r.status_code == 400 and r.json()["error"] == code, r.text
    assert r.json()["message"]
    en = sup.get("/api/reports/summary", params={**params, "lang": "en"})
    assert en.json()["message"] != r.json()["message"]


def test_only_supervisors_and_admins_read_reports(srv):
    q = {"from": "2026-11-01", "to": "2026-11-01"}
    assert srv.client().get("/api/reports/summary", params=q).status_code == 401
    assert srv.login("lan").get("/api/reports/summary", params=q).status_code == 403
    assert srv.login("admin").get("/api/reports/summary", params=q).status_code == 200
    empty = srv.login("sup").get("/api/reports/summary", params=q).json()
    assert empty["totals"]["issued"] == 0 and empty["wait_s"]["mean"] is None


def _today_summary(srv, sup):
    today = datetime.now(TZ).date().isoformat()
    got = ok(sup.get("/api/reports/summary", params={"from": today, "to": today}))
    if got["totals"]["issued"] == 0:  # run alone: play the day first
        play_the_day(srv)
        got = ok(sup.get("/api/reports/summary", params={"from": today, "to": today}))
    return today, got


def mins(s):
    return None if s is None else round(s / 60, 1)


def test_csv_export_opens_with_the_bom_and_matches_the_summary(srv):
    import csv
    import io

    sup = srv.login("sup")
    today, got = _today_summary(srv, sup)
    r = sup.get("/api/reports/export", params={"from": today, "to": today, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    head = rows[0]
    assert head[:3] == ["Ngày / Day", "Lĩnh vực / Category", "Số phát / Issued"]
    body = [row for row in rows[1:] if row and row[0] == today]
    by_cat = {c["category"]: c for c in got["by_category"]}
    assert sorted(row[1] for row in body) == sorted(by_cat)
    col = {h: i for i, h in enumerate(head)}
    for row in body:
        c = by_cat[row[1]]
        assert int(row[col["Số phát / Issued"]]) == c["issued"]
        assert int(row[col["Đã phục vụ / Served"]]) == c["served"]
        mean = row[col["Chờ TB (phút) / Wait mean (min)"]]
        assert (float(mean) if mean else None) == mins(c["wait_s"]["mean"])
    total = next(row for row in rows if len(row) > 1 and row[1] == "Tổng / Total")
    assert int(total[col["Số phát / Issued"]]) == got["totals"]["issued"]
    assert float(total[col["Chờ p90 (phút) / Wait p90 (min)"]]) == mins(got["wait_s"]["p90"])
    assert any("Định nghĩa" in (row[0] if row else "") for row in rows)


def test_pdf_export_reads_back_with_pdftotext(srv, tmp_path):
    """The PDF in the administrative layout (Nghị định 30/2020), read by a
    real reader: the national header, the site's heading, the period in
    words, the figures of the JSON summary and the definitions."""
    import shutil
    import subprocess
    import unicodedata

    tool = shutil.which("pdftotext")
    if tool is None:  # a failure, not a skip: `motcua test` installs poppler-utils
        pytest.fail("pdftotext is missing: apt-get install poppler-utils")
    sup = srv.login("sup")
    today, got = _today_summary(srv, sup)
    r = sup.get("/api/reports/export", params={"from": today, "to": today, "format": "pdf"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/pdf") and r.content.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(r.content)
    out = subprocess.run([tool, "-enc", "UTF-8", "-layout", str(path), "-"], capture_output=True, check=True)
    text = " ".join(unicodedata.normalize("NFC", out.stdout.decode("utf-8")).split())
    day = datetime.now(TZ).date()
    for want in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "BÁO CÁO",
        f"Ngày {day:%d/%m/%Y}",
        "Người lập biểu",
    ):
        assert want in text, want
    assert f"{got['totals']['issued']:,}".replace(",", ".") in text
    assert f"{got['totals']['served']:,}".replace(",", ".") in text


def test_xlsx_export_opens_in_openpyxl_with_the_summary_figures_and_charts(srv):
    import io

    import openpyxl

    sup = srv.login("sup")
    today, got = _today_summary(srv, sup)
    r = sup.get("/api/reports/export", params={"from": today, "to": today, "format": "xlsx"})
    assert r.status_code == 200, r.text
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["summary", "by category", "by counter", "by clerk", "by hour", "ratings", "definitions"]
    summary = {row[0]: row[1] for row in wb["summary"].iter_rows(min_row=5, values_only=True) if row[0]}
    assert summary["Số phát / Issued"] == got["totals"]["issued"]
    assert summary["Đã phục vụ / Served"] == got["totals"]["served"]
    assert summary["Vắng mặt / No-show"] == got["totals"]["no_show"]
    assert summary["Chờ TB (phút) / Wait mean (min)"] == mins(got["wait_s"]["mean"])
    assert summary["Phục vụ p90 (phút) / Service p90 (min)"] == mins(got["service_s"]["p90"])
    assert summary["Mức đáp ứng (%) / Service level (%)"] == round(got["service_level"] * 100, 1)
    assert summary["Lịch hẹn đã đặt / Appointments booked"] == got["appointments"]["booked"]
    for name, key, field in (
        ("by category", "by_category", "category"),
        ("by counter", "by_counter", "counter"),
        ("by clerk", "by_clerk", "clerk"),
        ("by hour", "by_hour", "hour"),
    ):
        rows = list(wb[name].iter_rows(min_row=2, values_only=True))
        assert [row[0] for row in rows] == [g[field] for g in got[key]], name
        for row, g in zip(rows, got[key], strict=True):
            assert row[1:6] == tuple(g[k] for k in ("issued", "served", "no_show", "expired", "transferred"))
            assert row[6] == mins(g["wait_s"]["mean"]) and row[10] == mins(g["service_s"]["mean"])
        assert wb[name]._charts, f"{name}: no chart"
    ratings = {row[0]: row[1] for row in wb["ratings"].iter_rows(min_row=2, values_only=True)}
    assert {str(k): v for k, v in ratings.items() if isinstance(k, int)} == got["ratings"]["by_level"]
    assert ratings["Tổng / Total"] == got["ratings"]["count"]
    assert wb["ratings"]._charts and wb["summary"]._charts
    defs = [row for row in wb["definitions"].iter_rows(min_row=2, values_only=True)]
    assert any("lần gọi (call) cuối cùng" in (row[1] or "") for row in defs)


def test_unsupported_export_formats_and_the_raw_events(srv):
    import io

    import pyarrow.parquet as pq

    sup, admin = srv.login("sup"), srv.login("admin")
    today, got = _today_summary(srv, sup)
    q = {"from": today, "to": today}
    for fmt in ("doc", None):
        r = sup.get("/api/reports/export", params={**q, "format": fmt} if fmt else q)
        assert (r.status_code, r.json()["error"]) == (400, "unsupported_format"), r.text
    # raw events: admin only, csv (with BOM) and parquet, each event once
    assert sup.get("/api/events/export", params={**q, "format": "csv"}).status_code == 403
    p = admin.get("/api/events/export", params={**q, "format": "parquet"})
    assert p.status_code == 200, p.text
    table = pq.read_table(io.BytesIO(p.content))
    ids = table.column("id").to_pylist()
    assert len(ids) == len(set(ids)) and table.column("type").to_pylist().count("issue") == got["totals"]["issued"]
    c = admin.get("/api/events/export", params={**q, "format": "csv"})
    assert c.content.startswith(b"\xef\xbb\xbf") and c.content.decode("utf-8-sig").count("\n") == len(ids) + 1
    bad = admin.get("/api/events/export", params={**q, "format": "xlsx"})
    assert bad.json()["error"] == "unsupported_format"
