"""Route modules. Each exposes ``ROUTES``; `app.create_app` mounts them all."""

from __future__ import annotations

import importlib

# Add a module here to mount its ROUTES.
MODULES = (
    "queue_server.api.routes.core",
    "queue_server.api.routes.auth",
    "queue_server.api.routes.tickets",
    "queue_server.api.routes.counters",
    "queue_server.api.routes.board",
    "queue_server.api.routes.display",      # issue: display board page, voice
    "queue_server.api.routes.kiosk",        # issue: kiosk page
    "queue_server.api.routes.tracking",     # issue: /t/{id} live tracking
    "queue_server.api.routes.printing",     # issue: print jobs, /ws/printer, printer status
    "queue_server.api.routes.counter_app",  # issue: counter app, /rate/{n}
    "queue_server.api.routes.admin",        # issue: admin pages and APIs
)


def all_routes() -> list:
    routes: list = []
    for name in MODULES:
        routes.extend(importlib.import_module(name).ROUTES)
    return routes
