"""Routes for the admin part (filled in by its issue)."""

from __future__ import annotations

ROUTES: list = []
