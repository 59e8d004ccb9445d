"""Routes for the kiosk part (filled in by its issue)."""

from __future__ import annotations

ROUTES: list = []
