"""docker-compose.yml: no engine runs here, so check what it promises."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_services():
    d = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    s = d["services"]
    assert set(s) >= {"redis", "api", "worker", "printer"}
    redis_cmd = " ".join(s["redis"]["command"])
    assert "--appendonly yes" in redis_cmd and "--appendfsync always" in redis_cmd
    assert s["redis"]["healthcheck"]["test"]
    assert any(v.endswith(":/data") for v in s["redis"]["volumes"])
    assert s["api"]["environment"]["REDIS_URL"].startswith("redis://redis:")
    assert "worker" in s["worker"]["command"]
    assert "printer-agent" in " ".join(s["printer"]["command"])
    dockerfile = s["api"]["build"]["dockerfile_inline"]
    for package in ("queue_server", "display", "printer", "counter_app"):
        assert f"COPY {package} " in dockerfile


def test_api_and_worker_share_the_data_dir():
    """The outbox the admin reads (API) also gets the worker's reminders."""
    d = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    s = d["services"]
    data = s["api"]["environment"]["MOTCUA_DATA_DIR"]
    assert s["worker"]["environment"]["MOTCUA_DATA_DIR"] == data
    api_vol = [v for v in s["api"]["volumes"] if v.endswith(":" + data)]
    assert api_vol and api_vol == [v for v in s["worker"]["volumes"] if v.endswith(":" + data)]
    assert api_vol[0].split(":")[0] in d["volumes"]
