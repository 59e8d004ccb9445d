"""Route modules, one Router per noun. Each exposes ``router``, guarded by
`authorize` (every handler declares its access); `app.create_app` mounts them."""

from __future__ import annotations

import importlib

from litestar import Router

# Add a module here to mount its router.
MODULES = (
    "queue_server.api.routes.core",
    "queue_server.api.routes.auth",
    "queue_server.api.routes.tickets",
    "queue_server.api.routes.counters",
    "queue_server.api.routes.board",
    "queue_server.api.routes.display",  # display board page, voice, settings, pairing
    "queue_server.api.routes.kiosk",  # kiosk page, a ticket's QR code
    "queue_server.api.routes.tracking",  # /t/{id} live tracking
    "queue_server.api.routes.printing",  # print jobs, /ws/printer, printer status
    "queue_server.api.routes.counter_app",  # counter app and its live feed
    "queue_server.api.routes.rating",  # the rating tablet /rate/{n}
    "queue_server.api.routes.admin",  # admin pages and APIs
    "queue_server.api.routes.appointments",  # online appointments (issue 10)
    "queue_server.api.routes.notify",  # the notices' outbox (admin)
    "queue_server.api.routes.booking",  # the citizen's booking pages /book (issue 10)
    "queue_server.api.routes.supervisor",  # the supervisor live view (issue 11)
    "queue_server.api.routes.reports",  # period reports and exports (issue 11)
    "queue_server.api.routes.staffing",  # staffing what-if (issue 15)
    "queue_server.api.routes.ops",  # /readyz, /metrics (issue 14)
)


def all_routers() -> list[Router]:
    return [importlib.import_module(name).router for name in MODULES]
