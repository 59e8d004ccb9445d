"""The OpenAPI tells the truth: every error reply is documented as the one
shape we send, `ErrorReply` (``{"error", "message"}``), under each status a
route can give, and the JSON bodies that routes read with `read_json` are
declared (Litestar sees no ``data`` parameter, so it would document none).

A handler says what it reads, what it may refuse and what it answers in
its ``opt`` (`documented`); `document` turns that, the route's declared
`Access`, its method, path parameters and body limit into the schema's
responses (the success reply's shape from `api.replies`) and request body. The statuses come from the error catalog (`errors.CATALOG`),
so a code and its documented status cannot drift apart."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, Reference, RequestBody, Schema
from litestar.routes import HTTPRoute

from queue_server.api.auth import Access
from queue_server.errors import CATALOG

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# what a handler's signature asks for that is no path or query parameter
INJECTED = frozenset({"request", "svc", "user", "caller", "live", "state", "socket", "data"})


@dataclass
class ErrorReply:
    """Every error the API answers: a stable code and its words."""

    error: str
    """A stable code, e.g. ``invalid_json``, ``ticket_not_found``, ``rate_limited``."""
    message: str
    """The code's words: Vietnamese, or English with ``Accept-Language: en`` or ``?lang=en``."""
    details: dict[str, Any] | None = None
    """The values in the message (a category, a counter, seconds to wait), when it has any."""


# -- body schemas -------------------------------------------------------------------------------
def string(
    description: str = "",
    max_length: int | None = None,
    enum: Iterable[str] | None = None,
    *,
    min_length: int | None = None,
    pattern: str | None = None,
) -> Schema:
    return Schema(
        type=OpenAPIType.STRING,
        description=description or None,
        max_length=max_length,
        min_length=min_length,
        pattern=pattern,
        enum=list(enum) if enum is not None else None,
    )


def integer(description: str = "", minimum: int | None = None, maximum: int | None = None) -> Schema:
    return Schema(type=OpenAPIType.INTEGER, description=description or None, minimum=minimum, maximum=maximum)


def boolean(description: str = "") -> Schema:
    return Schema(type=OpenAPIType.BOOLEAN, description=description or None)


def array(items: Schema, description: str = "") -> Schema:
    return Schema(type=OpenAPIType.ARRAY, items=items, description=description or None)


def obj(description: str = "", required: Iterable[str] = (), free: bool = False, **properties: Schema) -> Schema:
    """A JSON object; `free`: any further member is allowed (and ignored or checked by the route)."""
    props: dict[str, Schema | Reference] = dict(properties)
    return Schema(
        type=OpenAPIType.OBJECT,
        description=description or None,
        properties=props or None,
        required=list(required) or None,
        additional_properties=free or None,
    )


# -- what a handler declares ------------------------------------------------------------------------
@dataclass(frozen=True)
class Doc:
    body: Schema | None = None
    errors: tuple[str, ...] = field(default=())
    reply: Any = None
    media: str | None = None


def documented(
    access: Mapping[str, Any],
    *,
    body: Schema | None = None,
    errors: Iterable[str] = (),
    reply: Any = None,
    media: str | None = None,
) -> dict[str, Any]:
    """A handler's ``opt``: its access (`api.auth.access`), the JSON body it
    reads, the error codes it may answer beyond those its access, method,
    path and body already imply, and what it answers on success: `reply`,
    the shape of its JSON (a TypedDict of `api.replies`), or `media`, the
    type of a reply that is no JSON (``audio/wav``)."""
    unknown = [c for c in errors if c not in CATALOG]
    if unknown:
        raise KeyError(f"unknown error codes {unknown}")
    return {**access, "doc": Doc(body=body, errors=tuple(errors), reply=reply, media=media)}


def _success(handler: HTTPRouteHandler, doc: Doc) -> dict[int, ResponseSpec]:
    description = handler.response_description or HTTPStatus(handler.status_code).phrase
    if doc.reply is not None:
        spec = ResponseSpec(data_container=doc.reply, description=description, generate_examples=False)
    elif doc.media is not None:
        spec = ResponseSpec(
            data_container=bytes, media_type=doc.media, description=description, generate_examples=False
        )
    else:
        return {}
    return {handler.status_code: spec}


def error_codes(handler: HTTPRouteHandler, method: str, path_params: Iterable[str]) -> list[str]:
    """Every error code the route can answer (the generic ones first)."""
    acc = handler.opt.get("access")
    doc = handler.opt.get("doc") or Doc()
    codes: list[str] = []
    if isinstance(acc, Access) and not acc.public:
        codes += ["unauthorized", "forbidden"]
        if acc.users and method in WRITE_METHODS:
            codes.append("csrf_failed")
        if acc.counter:
            codes += ["counter_forbidden", "counter_not_found"]
    if method in WRITE_METHODS:
        codes += ["cross_site", "body_too_large"]
    if doc.body is not None:
        codes += ["invalid_json", "invalid_body", "unsupported_media_type"]
    if any(p != "n" for p in path_params):
        codes.append("not_found")
    if set(handler.parsed_fn_signature.parameters) - INJECTED:  # a path or query parameter that fails to parse
        codes.append("invalid_body")
    codes += doc.errors
    codes.append("unavailable")
    return list(dict.fromkeys(codes))


def _responses(codes: list[str]) -> dict[int, ResponseSpec]:
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(CATALOG[code][0], []).append(code)
    return {
        status: ResponseSpec(
            data_container=ErrorReply,
            description="Error codes: " + ", ".join(f"`{c}`" for c in found),
            generate_examples=False,
        )
        for status, found in sorted(by_status.items())
    }


def _with_body(body: Schema, limit: int | None) -> type[Operation]:
    description = "JSON (`Content-Type: application/json`); an empty body counts as `{}`; at most 32 levels deep"
    if limit:
        description += f"; at most {limit:,} bytes"
    request_body = RequestBody(
        content={"application/json": OpenAPIMediaType(schema=body)}, description=description, required=False
    )

    class WithBody(Operation):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if self.request_body is None:
                self.request_body = request_body

    return WithBody


def document(app: Litestar) -> None:
    """Give every HTTP handler of the app its error responses and body."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        params = list(route.path_parameters)
        for handler in route.route_handlers:
            method = sorted(handler.http_methods)[0]
            if "access" in handler.opt:
                codes = error_codes(handler, method, params)
            else:  # the OpenAPI schema's own routes, behind api.http.limit_guard
                codes = ["invalid_body", "not_found", "rate_limited", "unavailable"]
            doc = handler.opt.get("doc") or Doc()
            handler.responses = {**_responses(codes), **(handler.responses or {}), **_success(handler, doc)}
            if doc.body is not None:
                handler.operation_class = _with_body(doc.body, handler.resolve_request_max_body_size())
