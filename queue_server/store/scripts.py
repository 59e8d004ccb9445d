"""Load the Lua files and call them.

Each ``lua/*.lua`` file documents its KEYS and ARGV in its header. The shared
``_lib.lua`` is prepended at load time. A script replies with a JSON object;
``{"err": code}`` becomes an `AppError` with that code.

A script call that carries an idempotency key (``use_idem``) is retried after
a lost connection: a second run replays the reply the first one stored. The
raw rate-limit script is retried too (a lost reply counts one request twice
at worst). Any other mutation is sent once (`store.connection`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import NoScriptError

from queue_server.errors import AppError
from queue_server.store.connection import repeatable, volatile

SCRIPT_NAMES = (
    "issue_ticket",
    "call_next",
    "call_ticket",
    "recall",
    "finish",
    "transfer",
    "requeue",
    "counter_status",
    "rate_ticket",
    "close_day",
    "emit_event",
    "purge_tickets",
    "print_enqueue",
    "print_claim",
    "print_ack",
    "print_release",
    "printer_status",
    "book_appointment",
    "cancel_appointment",
    "move_appointment",
    "check_in_appointment",
    "no_show_appointments",
    "verify_appointment",
    "forget_appointments",
    "archive_commit",
    "add_site",
    "room_send_away",
    "ticket_phone",
    "turn_notice",
    "forget_phones",
)
# scripts whose reply is not JSON (the library is prepended to them too)
RAW_SCRIPTS = ("rate_limit", "rate_add")


@cache
def source(name: str) -> str:
    """The full text of a script as sent to Redis (library + body)."""
    lua = resources.files("queue_server.store").joinpath("lua")
    body = lua.joinpath(f"{name}.lua").read_text("utf-8")
    return lua.joinpath("_lib.lua").read_text("utf-8") + "\n" + body


class Scripts:
    """The site's Lua scripts registered on one async Redis client."""

    def __init__(self, redis: Redis):
        self._redis = redis
        self._scripts = {name: redis.register_script(source(name)) for name in SCRIPT_NAMES + RAW_SCRIPTS}

    async def run(self, name: str, keys: list[str], args: dict[str, Any], **err_params: Any) -> dict[str, Any]:
        reply = await self.reply(name, keys, args)
        if "err" in reply:
            raise AppError(reply["err"], **err_params)
        return reply

    async def reply(self, name: str, keys: list[str], args: dict[str, Any]) -> dict[str, Any]:
        """The script's JSON reply as it is, a refusal ``{"err", ...}`` included."""
        call = self._scripts[name](keys=keys, args=[json.dumps(args, ensure_ascii=False)])
        if args.get("use_idem") is True:
            with repeatable():  # the script replays its stored reply: safe to send again
                raw = await call
        else:
            raw = await call
        reply: dict[str, Any] = json.loads(raw)
        return reply

    async def run_raw(self, name: str, keys: list[str], args: list[Any]) -> Any:
        # only rate_limit: a lost reply over-counts one request; a count lost
        # in a cluster failover lets one more through (no WAIT for it)
        with repeatable(), volatile():
            return await self._scripts[name](keys=keys, args=args)

    async def pipelined(
        self,
        name: str,
        keys: list[str],
        args: dict[str, Any],
        reads: Callable[[Any], None],
        *,
        repeat: bool,
    ) -> list[Any]:
        """A script and the reads `reads` queues behind it, in one round trip:
        the script's JSON text first, then the reads' replies. The script goes
        as a plain EVALSHA, without the SCRIPT EXISTS round trip redis-py adds
        for a script on a pipeline, and as the raw command (a cluster's
        pipeline blocks redis-py's `evalsha` method, not the command). When
        Redis lost the script (NOSCRIPT: nothing of the pipeline ran) it is
        loaded and the pipeline sent again. `repeat`: safe to send again
        after a lost connection (store/connection.py `repeatable`)."""
        payload = json.dumps(args, ensure_ascii=False)
        script = self._scripts[name]
        for attempt in (0, 1):
            pipe = self._redis.pipeline(transaction=False)
            pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, payload)
            reads(pipe)
            with repeatable() if repeat else contextlib.nullcontext():
                rows = await pipe.execute(raise_on_error=False)
            if isinstance(rows[0], NoScriptError) and attempt == 0:
                await script.registered_client.script_load(script.script)
                continue
            for row in rows:
                if isinstance(row, Exception):
                    raise row
            break
        return list(rows)

    async def queue_on(self, pipe: Pipeline, name: str, keys: list[str], args: dict[str, Any]) -> None:
        """Queue a script call on a MULTI pipeline; its JSON reply comes with
        the pipeline's results (the pipeline loads the script if needed; a
        cluster's pipeline does not, so it is loaded first)."""
        payload = json.dumps(args, ensure_ascii=False)
        if not isinstance(pipe, Pipeline):  # a cluster's: redis-py blocks its evalsha method, not the command
            script = self._scripts[name]
            await self._redis.script_load(source(name))
            pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, payload)
            return
        await self._scripts[name](keys=keys, args=[payload], client=pipe)
