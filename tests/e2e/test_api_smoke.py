def test_walk_in_flow(live):
    kiosk = live.device("kiosk")
    r = kiosk.post("/api/tickets", json={"category": "HT"})
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["number"] == "A001"
    lan = live.login("lan")
    r = lan.post("/api/counters/1/next")
    assert r.status_code == 200, r.text
    assert r.json()["ticket"]["number"] == "A001"
    r = lan.post("/api/counters/1/next")
    assert r.status_code == 409 and r.json()["error"] == "queue_empty", r.text
    r = live.client().get("/api/board")
    assert r.status_code == 200, r.text
