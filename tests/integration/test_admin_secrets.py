"""The notification gateways' secrets (issue #10): the admin API's
configuration masks the SMS auth header's value and the Zalo access token;
a masked value saved back (the admin page saves what it shows) keeps the
stored secret, a new value replaces it, an empty one clears it."""

from __future__ import annotations

from queue_server.services.admin import MASK, AdminService
from queue_server.store.accounts import Accounts
from queue_server.store.audit import AuditLog
from queue_server.store.ratelimit import RateLimiter
from tests.helpers import make_store, run_sync, test_config


def test_secrets_are_masked_and_kept_when_saved_back_masked(redis_url):
    async def go():
        s = await make_store(redis_url, test_config())
        admin = AdminService(
            s.config, Accounts(s.redis, s.keys), AuditLog(s.redis, s.keys), RateLimiter(s.redis, s.scripts, s.keys)
        )
        try:
            notify = {
                "channel": "sms_http",
                "sms_url": "https://sms.example/send",
                "sms_auth_header": "Authorization: Bearer s3cret-AB",
                "zns_access_token": "zalo-t0ken",
            }
            saved = await admin.update_config({"notify": notify}, "admin", "vi")
            shown = (await admin.config_view(saved))["notify"]
            assert shown["sms_auth_header"] == f"Authorization: {MASK}" and shown["zns_access_token"] == MASK
            assert shown["sms_url"] == "https://sms.example/send"  # only the secrets are masked
            live = await admin.config_view()
            assert "s3cret" not in repr(live) and "zalo-t0ken" not in repr(live)
            # the page sends the section back as shown, with another field changed
            await admin.update_config({"notify": {**shown, "sms_url": "https://sms2.example/send"}}, "admin", "vi")
            kept = (await s.config.get()).notify
            assert kept.sms_auth_header == "Authorization: Bearer s3cret-AB" and kept.zns_access_token == "zalo-t0ken"
            assert kept.sms_url == "https://sms2.example/send"
            await admin.update_config(
                {"notify": {"sms_auth_header": "X-Api-Key: n3w", "zns_access_token": ""}}, "admin", "vi"
            )
            changed = (await s.config.get()).notify
            assert changed.sms_auth_header == "X-Api-Key: n3w" and changed.zns_access_token == ""
            assert (await admin.config_view())["notify"]["zns_access_token"] == ""  # nothing set shows nothing
        finally:
            await s.redis.aclose()

    run_sync(go())
