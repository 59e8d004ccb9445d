"""Issue #11's build items beyond the acceptance: exports made by a real RQ
worker with their progress, for who asked (or an admin) only; the month's and
quarter's reports made once by the scheduled job and listed for download;
the summary compared with the previous period of as many days."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest

from queue_server.domain.accounts import Role
from queue_server.domain.config import load_toml
from queue_server.domain.demo import history
from queue_server.jobs import period_reports, queue_for, schedule_period_reports
from queue_server.store.accounts import Accounts
from queue_server.store.archive import EventArchive
from queue_server.store.connection import open_redis
from tests.helpers import run_sync
from tests.server import PASSWORD


def run_worker(redis_url: str) -> None:
    """A real `motcua worker` until the queue is empty."""
    subprocess.run(
        [sys.executable, "-m", "queue_server.cli", "worker", "--burst", "--redis-url", redis_url],
        check=True,
        timeout=120,
        capture_output=True,
    )


@pytest.fixture
def site(live):
    """The module's server with an empty queue and an empty archive and reports folder."""
    var = live.config_path.parent / "var"
    for part in ("archive", "reports"):
        shutil.rmtree(var / part, ignore_errors=True)
    yield live


def fill(live, today: date, days: int, per_day: int, seed: int) -> None:
    """`days` days of backdated history before `today` in the server's archive."""
    cfg = load_toml(str(live.config_path))
    archive = EventArchive(None, live.keys, None, live.config_path.parent / "var")
    for day, evs in history(cfg, today, days, per_day, seed):
        archive.import_events(evs, cfg.site.tz, day.toordinal() * 100_000)


async def _add_supervisor(redis_url: str, keys, name: str) -> None:
    r = open_redis(redis_url)
    try:
        await Accounts(r, keys).add_user(name, Role.SUPERVISOR, PASSWORD, [])
    finally:
        await r.aclose()


def summary_row(ws, label_start: str):
    for row in ws.iter_rows(values_only=True):
        if row[0] and str(row[0]).startswith(label_start):
            return row[1]
    raise AssertionError(label_start)


def test_an_export_job_runs_in_a_real_worker_with_its_progress_for_its_owner_only(site):
    cfg = load_toml(str(site.config_path))
    today = datetime.now(cfg.site.tz).date()
    fill(site, today, 35, 6, 3)
    run_sync(_add_supervisor(site.redis_url, site.keys, "sup2"))
    sup, sup2, admin, clerk = site.login("sup"), site.login("sup2"), site.login("admin"), site.login("lan")
    period = {"from": (today - timedelta(days=35)).isoformat(), "to": today.isoformat()}

    r = sup.post("/api/reports/exports", json={"format": "xlsx", **period, "category": "HT"})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["state"] == "queued" and job["progress"] == 0 and job["file"] is None
    st = sup.get(f"/api/reports/exports/{job['id']}").json()
    assert st["state"] == "queued"
    early = sup.get(f"/api/reports/exports/{job['id']}/file")
    assert early.status_code == 409 and early.json()["error"] == "export_not_ready"
    pdf_job = admin.post("/api/reports/exports", json={"format": "pdf", **period}).json()

    run_worker(site.redis_url)

    st = sup.get(f"/api/reports/exports/{job['id']}").json()
    assert st["state"] == "done", st
    assert st["progress"] == 100 and st["file"] == f"/api/reports/exports/{job['id']}/file"
    # the job reported as it went: the query, the sheets, then the charts, rising to 100
    steps = [(s["progress"], s["stage"]) for s in st["steps"]]
    assert [p for p, _ in steps] == sorted(p for p, _ in steps) and steps[-1] == (100, "done")
    stages = [g for _, g in steps]
    assert stages.index("query") < stages.index("sheets") < stages.index("charts") < stages.index("done")
    assert len({p for p, _ in steps}) >= 6
    f = sup.get(st["file"])
    assert f.status_code == 200 and f.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert f"-{period['from']}-{period['to']}.xlsx" in f.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(f.content))
    want = sup.get("/api/reports/summary", params={**period, "category": "HT"}).json()
    assert want["totals"]["issued"] > 20
    assert summary_row(wb["summary"], "Số phát") == want["totals"]["issued"]
    assert summary_row(wb["summary"], "Đã phục vụ") == want["totals"]["served"]
    assert summary_row(wb["summary"], "Chờ TB") == round(want["wait_s"]["mean"] / 60, 1)
    # an admin may fetch it too; another supervisor, a clerk or nobody may not
    assert admin.get(st["file"]).content == f.content
    gone = sup2.get(f"/api/reports/exports/{job['id']}")
    assert gone.status_code == 404 and gone.json()["error"] == "export_not_found"
    assert sup2.get(st["file"]).status_code == 404
    assert clerk.get(f"/api/reports/exports/{job['id']}").status_code == 403
    assert site.client().get(st["file"]).status_code == 401
    # the admin's PDF: its pages counted as it went
    pst = admin.get(f"/api/reports/exports/{pdf_job['id']}").json()
    assert pst["state"] == "done" and "pages" in [s["stage"] for s in pst["steps"]]
    assert admin.get(pst["file"]).content.startswith(b"%PDF")
    assert sup.get(f"/api/reports/exports/{pdf_job['id']}").status_code == 404
    # bad requests are refused before anything is queued
    bad = sup.post("/api/reports/exports", json={"format": "docx", **period})
    assert bad.status_code == 400 and bad.json()["error"] == "unsupported_format"
    bad = sup.post("/api/reports/exports", json={"format": "csv", "from": "2026-13-01", "to": period["to"]})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_period"
    bad = sup.post("/api/reports/exports", json={"format": "csv", "from": period["from"]})
    assert bad.status_code == 400
    assert sup.get("/api/reports/exports/rx-0000000000000000").status_code == 404
    assert sup.get("/api/reports/exports/../../etc").status_code == 404


def test_the_month_and_quarter_reports_are_made_once_and_listed_newest_first(site):
    fill(site, date(2027, 1, 1), 92, 4, 11)  # 2026-10-01 .. 2026-12-31
    var = str(site.config_path.parent / "var")
    # the check on 2 January: December and the fourth quarter are over
    made = period_reports(site.redis_url, site.site_id, var, "2027-01-02", reschedule=False)
    assert sorted(made) == ["quy-2026-04.pdf", "quy-2026-04.xlsx", "thang-2026-12.pdf", "thang-2026-12.xlsx"]
    assert period_reports(site.redis_url, site.site_id, var, "2027-01-03", reschedule=False) == []
    # on 1 December: November, and the third quarter only if the archive holds a day of it
    # (bookings for October made in September)
    first = EventArchive(None, site.keys, None, var).days()[0]
    q3 = first <= date(2026, 9, 30)
    made = period_reports(site.redis_url, site.site_id, var, "2026-12-01", reschedule=False)
    want = ["thang-2026-11.pdf", "thang-2026-11.xlsx"] + (["quy-2026-03.pdf", "quy-2026-03.xlsx"] if q3 else [])
    assert sorted(made) == sorted(want)
    # June and the second quarter are over before the archive begins: nothing made for them
    assert period_reports(site.redis_url, site.site_id, var, "2026-07-02", reschedule=False) == []

    sup = site.login("sup")
    listed = sup.get("/api/reports/periodic").json()["reports"]
    assert [r["label"] for r in listed] == ["Quý IV/2026", "Tháng 12/2026", "Tháng 11/2026"] + ["Quý III/2026"] * q3
    assert [r["label_en"] for r in listed] == ["Q4 2026", "December 2026", "November 2026"] + ["Q3 2026"] * q3
    assert listed[0]["title"] == "Quý IV năm 2026" and listed[0]["period"] == "2026-10-01/2026-12-31"
    files = {f["format"]: f["url"] for f in listed[0]["files"]}
    assert set(files) == {"xlsx", "pdf"}
    book = sup.get(files["xlsx"])
    assert book.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(book.content))
    q4 = sup.get("/api/reports/summary", params={"from": "2026-10-01", "to": "2026-12-31"}).json()
    assert q4["totals"]["issued"] > 150
    assert summary_row(wb["summary"], "Số phát") == q4["totals"]["issued"]
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=sup.get(files["pdf"]).content, capture_output=True, check=True
    ).stdout.decode()
    assert "Quý IV năm 2026" in text and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    for bad in ("quy-2026-05.pdf", "thang-2026-11.csv", "..%2Fsite.toml", "thang-2026-10.pdf"):
        assert sup.get(f"/api/reports/periodic/{bad}").status_code == 404, bad
    assert site.login("lan").get("/api/reports/periodic").status_code == 403


def test_the_daily_check_is_booked_once_at_half_past_five_site_time(redis_url):
    q = queue_for(redis_url)
    now = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 07:00 in Hà Nội: today's check is past
    a = schedule_period_reports(q, "pr-site", "Asia/Ho_Chi_Minh", redis_url, "/tmp/x", now=now)
    b = schedule_period_reports(q, "pr-site", "Asia/Ho_Chi_Minh", redis_url, "/tmp/x", now=now + timedelta(hours=1))
    assert a == b == "period-reports-pr-site-20261202"
    job = q.fetch_job(a)
    try:
        assert job is not None and job.args[1:] == ("pr-site", "/tmp/x", None, True)
        at = q.scheduled_job_registry.get_scheduled_time(job)
        assert at == datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 05:30 on 2 December, site time
    finally:
        q.scheduled_job_registry.remove(job)
        job.delete()


def test_compare_previous_gives_the_summary_of_the_days_just_before(site):
    cfg = load_toml(str(site.config_path))
    today = datetime.now(cfg.site.tz).date()
    fill(site, today, 30, 10, 5)
    sup = site.login("sup")
    lo, hi = today - timedelta(days=9), today - timedelta(days=1)  # 9 days
    got = sup.get(
        "/api/reports/summary", params={"from": lo.isoformat(), "to": hi.isoformat(), "compare": "previous"}
    ).json()
    prev = got["previous"]
    assert (prev["from"], prev["to"]) == ((lo - timedelta(days=9)).isoformat(), (lo - timedelta(days=1)).isoformat())
    direct = sup.get("/api/reports/summary", params={"from": prev["from"], "to": prev["to"]}).json()
    assert prev == {k: direct[k] for k in prev}
    assert set(prev) >= {"totals", "wait_s", "service_s", "service_level", "wait_buckets", "ratings"}
    assert prev["totals"]["issued"] > 0 and prev["totals"] != got["totals"]
    assert (
        "previous" not in sup.get("/api/reports/summary", params={"from": lo.isoformat(), "to": hi.isoformat()}).json()
    )
    bad = sup.get("/api/reports/summary", params={"from": lo.isoformat(), "to": hi.isoformat(), "compare": "last"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_filter"
