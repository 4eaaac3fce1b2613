"""The emulator's ASGI application: the TCP-redirection slice of the Clever Cloud API, plus `/_emulator/`."""

from __future__ import annotations

import asyncio
import collections
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..api.models import AddTcpRedirection
from .auth import Authenticator
from .faults import FaultBook, FaultRule
from .fixture import App, Fixture, Owner, User
from .store import Duplicate, NoSuchRedirection, PoolExhausted, Store

TCP_REDIRS = "/v2/organisations/{owner_id}/applications/{app_id}/tcpRedirs"
_PORT = re.compile(r"[0-9]{1,5}")


class JSONAnswer(JSONResponse):
    """JSON in ASCII: a message may quote what the request sent, lone surrogates included."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode("ascii")


class ApiRefusal(Exception):
    """An error answer in the API's classic shape."""

    def __init__(self, status: int, api_id: int, message: str) -> None:
        super().__init__(message)
        self.status, self.api_id, self.message = status, api_id, message


class DroppedConnection(Exception):
    """Raised after the response has started, so that the server cuts the connection mid-answer."""


def api_error(status: int, api_id: int, message: str, headers: dict[str, str] | None = None) -> JSONAnswer:
    return JSONAnswer({"id": api_id, "message": message, "type": "error"}, status, headers=headers)


class RequestLog:
    """What the API saw: method, path, status and outcome; never a header, so never a credential."""

    def __init__(self, limit: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=limit)
        self._seq = 0

    def record(self, **entry: Any) -> None:
        with self._lock:
            self._seq += 1
            self._entries.append({"seq": self._seq, "time": time.time(), **entry})

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def counts(self) -> dict[str, int]:
        counter = collections.Counter(f"{e['method']} {e['route']}" for e in self.entries())
        return dict(sorted(counter.items()))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Emulator:
    """The API's behaviour over a fixture and a store, independent of HTTP framing."""

    def __init__(self, fixture: Fixture, store: Store) -> None:
        self.fixture = fixture
        self.answers = fixture.answers
        self.store = store
        self.auth = Authenticator(fixture)
        self.owners = fixture.owners()
        self.apps = {app.id: (owner.id, app) for owner in self.owners.values() for app in owner.applications}

    def user(self, request: Request) -> User:
        query = [(k, v) for k, v in request.query_params.multi_items()]
        # The URL the client signed (HMAC), as the Host header names it; built by hand, since
        # parsing `request.url` raises on a malformed Host header.
        url = f"{request.url.scheme}://{request.headers.get('host', '')}{request.url.path}"
        user = self.auth.user_for(request.headers.get("authorization"), request.method, url, query)
        if user is None:
            raise ApiRefusal(401, 2001, "Invalid or missing credentials")
        return user

    def owner(self, request: Request) -> Owner:
        user = self.user(request)
        owner_id = request.path_params["owner_id"]
        owner = self.owners.get(owner_id)
        if owner is None:
            raise ApiRefusal(404, 4010, f"Organisation {owner_id} not found")
        if owner_id != user.id and owner_id not in user.organisations:
            raise ApiRefusal(403, 4003, f"You are not a member of organisation {owner_id}")
        return owner

    def app(self, request: Request) -> tuple[Owner, App]:
        owner = self.owner(request)
        app_id = request.path_params["app_id"]
        found = self.apps.get(app_id)
        if found is None:
            raise ApiRefusal(404, 4004, "The provided id doesn't belong to any app")
        if found[0] != owner.id:
            raise ApiRefusal(404, 4002, "The provided application id doesn't belong to you")
        return owner, found[1]

    def namespace_names(self, owner_id: str) -> list[str]:
        return sorted(ns.name for ns in self.fixture.namespaces_of(owner_id))

    def listing(self, items: list[dict[str, Any]]) -> Response:
        """A list, or a 404 in place of an empty one when the fixture's answers say so."""
        if not items and self.answers.empty_list == 404:
            raise ApiRefusal(404, 4049, "Not Found")
        return JSONAnswer(items)

    # Endpoints.

    async def summary(self, request: Request) -> Response:
        user = self.user(request)

        def describe(owner: Owner) -> dict[str, Any]:
            apps = [{"id": a.id, "name": a.name} for a in owner.applications]
            return {"id": owner.id, "name": owner.name, "applications": apps, "addons": [], "consumers": []}

        orgs = [describe(self.owners[o]) for o in user.organisations]
        return JSONAnswer({"user": describe(user), "organisations": orgs})

    async def namespaces(self, request: Request) -> Response:
        owner = self.owner(request)
        return self.listing([{"namespace": name} for name in self.namespace_names(owner.id)])

    async def list_redirections(self, request: Request) -> Response:
        _, app = self.app(request)
        return self.listing([{"namespace": r.namespace, "port": r.port} for r in self.store.list(app.id)])

    async def add_redirection(self, request: Request) -> Response:
        owner, app = self.app(request)
        try:
            body = AddTcpRedirection.model_validate_json(await request.body())
        except ValidationError:
            raise ApiRefusal(400, 4000, 'The body must be JSON like {"namespace": "default"}') from None
        if body.namespace not in self.namespace_names(owner.id):
            raise ApiRefusal(404, 4048, f"Namespace {body.namespace} not found")
        try:
            redirection = self.store.add(owner.id, app.id, body.namespace)
        except Duplicate:
            raise ApiRefusal(
                409, 4041, f"This application already has a TCP redirection in namespace {body.namespace}"
            ) from None
        except PoolExhausted:
            raise ApiRefusal(400, 4042, f"No port available in namespace {body.namespace}") from None
        return JSONAnswer({"namespace": redirection.namespace, "port": redirection.port}, self.answers.post_status)

    async def remove_redirection(self, request: Request) -> Response:
        _, app = self.app(request)
        namespace = request.query_params.get("namespace")
        if not namespace:
            raise ApiRefusal(400, 4000, "The query parameter namespace is required")
        given = request.path_params["port"]
        try:
            # Only what can be a port reaches the store: SQLite refuses integers above 2**63.
            if not _PORT.fullmatch(given):
                raise NoSuchRedirection()
            self.store.remove(app.id, namespace, int(given))
        except NoSuchRedirection:
            raise ApiRefusal(
                404, 4046, f"TCP redirection not found: no port {given} in namespace {namespace} for this application"
            ) from None
        if self.answers.delete_answer == "204":
            return Response(status_code=204)
        if self.answers.delete_answer == "empty-json":
            return JSONAnswer({})
        return JSONAnswer({"id": 200, "message": "The TCP redirection has been removed", "type": "success"})

    async def vhosts(self, request: Request) -> Response:
        _, app = self.app(request)
        return JSONAnswer([{"fqdn": fqdn} for fqdn in app.vhosts])

    async def favourite_vhost(self, request: Request) -> Response:
        _, app = self.app(request)
        if app.favourite_vhost is None:
            raise ApiRefusal(404, 4021, "This application has no favourite domain")
        return JSONAnswer({"fqdn": app.favourite_vhost})


class Control:
    """`/_emulator/`: what tests and demos use to look inside and to inject faults."""

    def __init__(self, emulator: Emulator, log: RequestLog, faults: FaultBook) -> None:
        self.emulator, self.log, self.faults = emulator, log, faults

    async def get_log(self, request: Request) -> Response:
        return JSONAnswer(self.log.entries())

    async def clear_log(self, request: Request) -> Response:
        self.log.clear()
        return JSONAnswer({})

    async def counts(self, request: Request) -> Response:
        return JSONAnswer(self.log.counts())

    async def redirections(self, request: Request) -> Response:
        rows = self.emulator.store.list()
        return JSONAnswer([{"owner_id": r.owner_id, "app_id": r.app_id, "namespace": r.namespace, "port": r.port} for r in rows])

    async def get_faults(self, request: Request) -> Response:
        return JSONAnswer(self.faults.pending())

    async def add_fault(self, request: Request) -> Response:
        try:
            rule = FaultRule.model_validate_json(await request.body())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            return api_error(400, 4000, f"fault rule: {where}: {first['msg']}")
        self.faults.add(rule)
        return JSONAnswer(rule.model_dump(), 201)

    async def clear_faults(self, request: Request) -> Response:
        self.faults.clear()
        return JSONAnswer({})

    async def reset(self, request: Request) -> Response:
        self.emulator.store.clear()
        self.faults.clear()
        self.log.clear()
        return JSONAnswer({})


class Gate:
    """Outermost ASGI layer: records each API request and applies the fault rules to it."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute], log: RequestLog, faults: FaultBook) -> None:
        self.app, self.routes, self.log, self.faults = app, routes, log, faults

    def route_of(self, scope: Scope) -> str:
        """The route template (`/v2/organisations/{owner_id}/…`), also for requests a fault answered."""
        route = scope.get("route") or next(
            (r for r in self.routes if r.matches(scope)[0] is not Match.NONE), None
        )
        return str(getattr(route, "path", scope["path"]))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator/"):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        status: list[int] = []
        outcome = "ok"

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        rule = self.faults.take(method, path)
        try:
            if rule is None:
                await self.app(scope, receive, recording_send)
                return
            # The whole request is read first, so that a client giving up during a delay does not
            # stop the change: a delay stands for an answer that comes too late, not for no change.
            replay = await _buffered(receive)
            if rule.delay:
                await asyncio.sleep(rule.delay)
            if rule.status is not None:
                outcome = "fault"
                headers = {"Retry-After": f"{rule.retry_after:g}"} if rule.retry_after is not None else {}
                if rule.location is not None:
                    headers["Location"] = rule.location
                await api_error(rule.status, rule.status * 10, "Injected fault", headers or None)(scope, replay, recording_send)
            elif rule.drop is not None:
                outcome = f"dropped {rule.drop} commit"
                if rule.drop == "after":
                    await self.app(scope, replay, _discard)
                await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]})
                raise DroppedConnection()
            else:
                outcome = "delayed"
                await self.app(scope, replay, recording_send)
        finally:
            self.log.record(
                method=method, path=path, route=self.route_of(scope), status=status[0] if status else None, outcome=outcome
            )


async def _buffered(receive: Receive) -> Receive:
    """Reads the request body now and returns a `receive` that hands it over later."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client is gone already
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body, delivered = b"".join(chunks), False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _discard(message: Message) -> None:
    pass


async def _refusal(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiRefusal)
    return api_error(exc.status, exc.api_id, exc.message)


def build_app(fixture: Fixture, state: Path | None = None, seed: int | None = None) -> Gate:
    store = Store(fixture.namespaces, state, seed)
    emulator = Emulator(fixture, store)
    log, faults = RequestLog(), FaultBook()
    control = Control(emulator, log, faults)
    routes = [
        Route("/v2/summary", emulator.summary, methods=["GET"]),
        Route("/v2/organisations/{owner_id}/namespaces", emulator.namespaces, methods=["GET"]),
        Route(TCP_REDIRS, emulator.list_redirections, methods=["GET"]),
        Route(TCP_REDIRS, emulator.add_redirection, methods=["POST"]),
        Route(TCP_REDIRS + "/{port}", emulator.remove_redirection, methods=["DELETE"]),
        Route("/v2/organisations/{owner_id}/applications/{app_id}/vhosts", emulator.vhosts, methods=["GET"]),
        Route(
            "/v2/organisations/{owner_id}/applications/{app_id}/vhosts/favourite",
            emulator.favourite_vhost,
            methods=["GET"],
        ),
        Route("/_emulator/log", control.get_log, methods=["GET"]),
        Route("/_emulator/log", control.clear_log, methods=["DELETE"]),
        Route("/_emulator/counts", control.counts, methods=["GET"]),
        Route("/_emulator/redirections", control.redirections, methods=["GET"]),
        Route("/_emulator/faults", control.get_faults, methods=["GET"]),
        Route("/_emulator/faults", control.add_fault, methods=["POST"]),
        Route("/_emulator/faults", control.clear_faults, methods=["DELETE"]),
        Route("/_emulator/reset", control.reset, methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={ApiRefusal: _refusal, 404: _unknown_path, 405: _unknown_path})
    app.router.redirect_slashes = False  # a trailing slash is an unknown route (a JSON 404), not a bodiless 307
    return Gate(app, list(routes), log, faults)


async def _unknown_path(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    return api_error(status, 4040, f"No route for {request.method} {request.url.path}")
