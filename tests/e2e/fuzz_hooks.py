"""schemathesis hooks for the staff run of tests/e2e/test_fuzz_openapi.py
(loaded through ``SCHEMATHESIS_HOOKS``).

The run learns usernames from the replies (``GET /api/admin/users`` lists the
admin) and would send them back in ``/api/admin/users/{username}/…``: a
password reset or new counters for the admin whose session the run uses end
that session (as they should), and every request after it would be a 401.
Such a request goes to the throwaway clerk instead."""

from __future__ import annotations

import os

import schemathesis

OWN = os.environ.get("MOTCUA_FUZZ_OWN_USER", "admin")
INSTEAD = os.environ.get("MOTCUA_FUZZ_OTHER_USER", "fuzz-clerk")


@schemathesis.hook
def before_call(context, case, kwargs):
    params = case.path_parameters or {}
    if str(params.get("username", "")).strip().lower() == OWN:
        params["username"] = INSTEAD
