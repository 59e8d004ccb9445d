"""Routes for the display part (filled in by its issue)."""

from __future__ import annotations

ROUTES: list = []
