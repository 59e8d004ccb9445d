"""The disk under Redis's AOF fills up (a small tmpfs, mounted for the test
as root): with appendfsync always Redis cannot write the AOF and stops
rather than answer a write it has not stored ("Can't recover from AOF write
error when the AOF fsync policy is 'always'"). The kiosk gets a clear 503
in Vietnamese, never a 500; `redis-check-aof` finds the AOF valid; once
space returns Redis starts on it again (aof-load-truncated would drop a torn
last command) and the kiosk's press, sent again with its key, yields one
ticket, with every acknowledged ticket still there."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from redis import Redis

from queue_server import redis_server
from tests.server import make_server

VIETNAMESE = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")


@pytest.fixture
def small_disk():
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    where = Path(tempfile.mkdtemp(prefix="motcua-fault-disk-"))
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(where: Path) -> Path:
    st = os.statvfs(where)
    filler = where / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - 4096))
    return filler


def test_disk_full_under_the_aof(small_disk, fault_report):
    check_aof = shutil.which("redis-check-aof")
    data = small_disk / "redis"
    proc = redis_server.start(data)
    srv = make_server(proc.url).start()
    try:
        kiosk = srv.device("kiosk")
        acked: dict[str, str] = {}
        for i in range(5):
            r = kiosk.post("/api/tickets", json={"category": "HT"}, headers={"Idempotency-Key": f"before-{i}"})
            assert r.status_code == 201, r.text
            acked[f"before-{i}"] = r.json()["id"]
        filler = _fill(small_disk)
        refused: list[tuple[str, int, dict]] = []
        for i in range(200):  # the disk is full: some press fails, Redis stops
            key = f"full-{i}"
            r = kiosk.post("/api/tickets", json={"category": "HT"}, headers={"Idempotency-Key": key})
            if r.status_code == 201:
                acked[key] = r.json()["id"]
                continue
            refused.append((key, r.status_code, r.json()))
            break
        assert refused, "the full disk never refused a ticket"
        key, status, body = refused[0]
        # a second press while Redis is down: the same clear answer
        again = kiosk.post("/api/tickets", json={"category": "HT"}, headers={"Idempotency-Key": key})
        assert proc.process.poll() is not None, "Redis kept running on a full disk"
        if check_aof:  # the AOF Redis left is whole (it cut its own short write)
            manifest = data / "appendonlydir" / "appendonly.aof.manifest"
            checked = subprocess.run([check_aof, str(manifest)], capture_output=True, text=True)
        filler.unlink()  # space returns
        proc = redis_server.start(data, port=proc.port)
        final = kiosk.post("/api/tickets", json={"category": "HT"}, headers={"Idempotency-Key": key})
        assert final.status_code == 201, final.text
        acked[key] = final.json()["id"]
        nxt = kiosk.post("/api/tickets", json={"category": "HT"}, headers={"Idempotency-Key": "after"})
        r = Redis.from_url(proc.url, decode_responses=True)
        try:
            stored = r.hlen(srv.keys.tickets)
            truncated_ok = r.config_get("aof-load-truncated")["aof-load-truncated"]
        finally:
            r.close()
        public = srv.client()
        lost = sum(1 for tid in acked.values() if public.get(f"/api/tickets/{tid}").status_code != 200)
        twice = stored - (len(acked) + 1)
        fault_report("disk-full-aof", lost, twice, acked=len(acked), refused_status=status)
        print("kiosk was told:", status, body)
        assert truncated_ok == "yes"  # a torn last command would be dropped at load, not refuse the start
        assert status == 503 and again.status_code == 503, (status, body, again.text)
        assert set(body["message"]) & VIETNAMESE, body  # Vietnamese, with its diacritics
        assert body.get("error") and again.json()["message"], again.text
        if check_aof:
            assert checked.returncode == 0 and "valid" in checked.stdout, checked.stdout + checked.stderr
        assert lost == 0 and twice == 0
        assert nxt.status_code == 201 and int(nxt.json()["number"][1:]) == len(acked) + 1, nxt.text  # no gap
    finally:
        srv.close()
        proc.stop()
