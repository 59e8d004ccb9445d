"""Many sites (domain/sites.py): whose a credential is, what a new site may
be called, and the first configuration a new site gets."""

from __future__ import annotations

import pytest

from queue_server.domain.config import load_toml
from queue_server.domain.sites import (
    PROVINCE,
    NewSite,
    SiteEntry,
    SiteError,
    check_new_site,
    credential_owner,
    credential_tag,
    new_site_config,
)


@pytest.mark.parametrize(
    "credential,owner",
    [
        ("kiosk_abcDEF-123", None),  # untagged: the default site's (every token made before sites)
        ("Zm9vYmFy_-x", None),
        (credential_tag("phuong-ben-thanh") + "kiosk_abc", "phuong-ben-thanh"),
        (credential_tag(PROVINCE) + "sid", PROVINCE),
        ("~abc", None),  # an empty tag names nobody
    ],
)
def test_credential_owner(credential, owner):
    assert credential_owner(credential) == owner


def test_site_ids_and_fields_are_checked():
    ok = check_new_site(NewSite(" Xa-Tan-Phu ", "  Xã   Tân Phú ", "Asia/Ho_Chi_Minh", 4, ("TanPhu.gov.vn ",)), set())
    assert (ok.id, ok.name, ok.hosts) == ("xa-tan-phu", "Xã Tân Phú", ("tanphu.gov.vn",))
    bad = [
        NewSite("xã-có-dấu", "X"),
        NewSite("_province", "Tỉnh"),
        NewSite("a", "Một ký tự"),
        NewSite("b~x", "Dấu ngã"),
        NewSite("xa-b", "X"),
        NewSite("xa-c", "Xã C", "Mars/Olympus"),
        NewSite("xa-d", "Xã D", counters=0),
        NewSite("xa-e", "Xã E", hosts=("bad host",)),
    ]
    for s in bad:
        with pytest.raises(SiteError):
            check_new_site(s, set())
    with pytest.raises(SiteError, match="đã có"):
        check_new_site(NewSite("xa-f", "Xã F"), {"xa-f"})


def test_a_new_site_gets_the_default_rules_under_its_own_name():
    base = load_toml(None)
    cfg = new_site_config(base, NewSite("xa-tan-phu", "Xã Tân Phú", "Asia/Bangkok", 2))
    assert (cfg.site.id, cfg.site.name, cfg.site.timezone) == ("xa-tan-phu", "Xã Tân Phú", "Asia/Bangkok")
    assert cfg.site.public_url.endswith("/s/xa-tan-phu")
    assert [c.number for c in cfg.counters] == [1, 2]
    codes = tuple(c.code for c in cfg.categories)
    assert codes == tuple(c.code for c in base.categories)
    assert all(set(c.categories) == set(codes) for c in cfg.counters)
    assert "XÃ TÂN PHÚ" in cfg.site.report_body and "NGỌC LONG" not in cfg.site.report_body


def test_entry_round_trip():
    e = SiteEntry("xa-tan-phu", "Xã Tân Phú", hosts=("tanphu.example",), created_at=5, created_by="tinh")
    assert SiteEntry.from_dict(e.to_dict()) == e
