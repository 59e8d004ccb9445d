"""The bare floor of bench_kiosk_floor.py: one Litestar POST endpoint that
runs one small Lua script (an INCR, an HSET and an XADD, like an issue) on
Redis and answers its JSON. Nothing of motcua: no auth, no checks.

    MOTCUA_FLOOR_REDIS=redis://... uvicorn --factory bench.kiosk_floor_app:create_app
"""

from __future__ import annotations

import json
import os
from typing import Any

from litestar import Litestar, Request, post
from redis.asyncio import BlockingConnectionPool, Redis

ISSUE = """
local n = redis.call('INCR', KEYS[1])
local id = ARGV[1] .. '-' .. n
redis.call('HSET', KEYS[2], id, ARGV[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 100000, '*', 'type', 'issued', 'ticket', id)
return cjson.encode({id = id, number = n})
"""


def create_app() -> Litestar:
    state: dict[str, Any] = {}

    async def startup() -> None:
        pool = BlockingConnectionPool.from_url(os.environ["MOTCUA_FLOOR_REDIS"], max_connections=64)
        state["redis"] = redis = Redis(connection_pool=pool)
        state["script"] = redis.register_script(ISSUE)

    async def shutdown() -> None:
        await state["redis"].aclose()

    @post("/issue", status_code=201)
    async def issue(request: Request) -> dict[str, Any]:
        body = await request.json()
        category = str(body.get("category", "HT"))
        raw = await state["script"](
            keys=["floor:{s}:seq:" + category, "floor:{s}:tickets", "floor:{s}:events"],
            args=[category, json.dumps(body)],
        )
        return json.loads(raw)

    return Litestar([issue], on_startup=[startup], on_shutdown=[shutdown])
