"""The admin page's backup section reads GET /api/admin/backup: the last
result, the folder and how many days backups are kept. Admins only."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from queue_server.store.backups import BackupLog
from queue_server.store.connection import open_redis
from tests.helpers import run_sync


async def _record(url, keys, result):
    r = open_redis(url, max_connections=2)
    try:
        await BackupLog(r, keys).record(result)
    finally:
        await r.aclose()


def test_backup_status_for_the_admin(live):
    admin = live.login("admin")
    r = admin.get("/api/admin/backup")
    assert r.status_code == 200, r.text
    assert r.json()["last"] is None and r.json()["keep_days"] == 14
    assert r.json()["dir"].endswith("backups")
    result = {
        "at": "2026-12-01T18:15:02+07:00",
        "file": "/x/motcua-backup-a.tar.gz",
        "size": 1234,
        "ok": True,
        "error": "",
    }
    run_sync(_record(live.redis_url, live.keys, result))
    assert admin.get("/api/admin/backup").json()["last"] == result
    assert live.login("sup").get("/api/admin/backup").status_code == 403
    assert live.client().get("/api/admin/backup").status_code == 401


@pytest.mark.browser
def test_admin_page_shows_the_last_backup(live, page):
    from tests.e2e.test_admin import admin_page

    failed = {"at": "2026-12-01T18:15:02+07:00", "file": "", "size": 0, "ok": False, "error": "đĩa đầy / disk full"}
    run_sync(_record(live.redis_url, live.keys, failed))
    admin_page(page, live, "backup")
    status = page.locator("#backup-status")
    expect(status).to_have_attribute("data-ok", "false")
    expect(status).to_contain_text("Thất bại")
    expect(status).to_contain_text("đĩa đầy / disk full")
    expect(status).to_contain_text("18:15")  # in the site's time zone
    ok = {
        "at": "2026-12-02T18:15:01+07:00",
        "file": "/v/motcua-backup-x.tar.gz",
        "size": 2_500_000,
        "ok": True,
        "error": "",
    }
    run_sync(_record(live.redis_url, live.keys, ok))
    page.click("#backup button.act")
    expect(status).to_have_attribute("data-ok", "true")
    expect(status).to_contain_text("Thành công")
    expect(status).to_contain_text("/v/motcua-backup-x.tar.gz")
    expect(status).to_contain_text("2.5 MB")
    assert "null" not in page.locator("#panel").inner_text()
