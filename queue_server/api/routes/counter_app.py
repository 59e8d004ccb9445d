"""Routes for the counter_app part (filled in by its issue)."""

from __future__ import annotations

ROUTES: list = []
