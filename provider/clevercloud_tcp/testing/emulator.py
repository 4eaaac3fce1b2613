"""`Emulator`: a local Clever Cloud API for one test, what it holds, and changes made behind a stack's back."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from pydantic import SecretStr, ValidationError

from ..api.auth import OAuthCredentials
from ..api.client import CleverCloudClient
from ..config import ALLOW_HTTP, ALLOW_HTTP_KEY
from ..emulator.faults import FaultRule
from ..emulator.process import WRITES, EmulatorProcess
from ..emulator.store import Redirection
from .fixtures import FixtureBuilder, one_line

Face = Literal["dynamic", "plugin"]
# The config namespace each face reads (the engine hands a plugin its own namespace only).
CONFIG_NAMESPACE: dict[Face, str] = {"dynamic": "clevercloud", "plugin": "clevercloud-tcp"}
FILLER = "filler"
REDRAWS = 20


@dataclass(frozen=True)
class LoggedRequest:
    """One API request the emulator answered; never a header, so never a credential."""

    method: str
    path: str
    route: str
    status: int | None
    outcome: str  # "ok", "fault", "dropped before commit", "dropped after commit", "delayed"


class Emulator(FixtureBuilder):
    """`with Emulator() as emu:` a local Clever Cloud API on a free port of 127.0.0.1.

    Add owners, apps and namespaces first (`add_app(...)`, see `FixtureBuilder`); the emulator starts
    when first needed. A later addition restarts it on the same port with what it holds kept, but
    its request log and armed faults cleared.
    """

    def __init__(self, *, seed: int | None = None, options: Sequence[str] = ()) -> None:
        """`seed`: of the port picker; `options`: more command-line options, e.g. `["--empty-list", "404"]`."""
        super().__init__()
        self.seed, self.options = seed, list(options)
        self._dir = tempfile.TemporaryDirectory(prefix="clevercloud-emulator-")
        self._process: EmulatorProcess | None = None

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._process is not None:
            self._process.__exit__(None, None, None)
            self._process = None
        self._dir.cleanup()

    def _running(self) -> EmulatorProcess:
        fixture = self.build()
        if self._process is not None and self._process.fixture == fixture:
            return self._process
        port = 0
        if self._process is not None:
            port = self._process.port  # stacks keep the endpoint they were given
            self._process.__exit__(None, None, None)
            self._process = None
        state = Path(self._dir.name) / "state.sqlite"
        self._process = EmulatorProcess(fixture, state=state, seed=self.seed, port=port, options=self.options).start()
        return self._process

    # Pointing a stack at it.

    @property
    def endpoint(self) -> str:
        """`http://127.0.0.1:PORT`, the API's base URL."""
        return self._running().url

    def config(self, face: Face = "plugin") -> dict[str, str]:
        """Stack config for `face`: `endpoint`, `token`, `secret` (set the last two as secrets), and
        `clevercloud-tcp:allowHttp` (its plain http opted into).

        `plugin` keys (`clevercloud-tcp:*`) are read by both faces; `dynamic` gives `clevercloud:*`,
        the keys the dynamic provider shares with pulumi-clevercloud.
        """
        prefix = CONFIG_NAMESPACE[face]
        pointing = {f"{prefix}:endpoint": self.endpoint, f"{prefix}:token": self.token, f"{prefix}:secret": self.secret}
        return pointing | {ALLOW_HTTP_KEY: "true"}

    def env(self) -> dict[str, str]:
        """Environment variables that point either face, and clever-tools, at it (plain http opted into)."""
        return {"API_HOST": self.endpoint, "CLEVER_TOKEN": self.token, "CLEVER_SECRET": self.secret, ALLOW_HTTP: "true"}

    # What it holds and what it was asked.

    def redirections(self, app_id: str | None = None) -> list[Redirection]:
        """Every redirection it holds (of `app_id` only, if given), sorted by app and namespace."""
        rows = [Redirection(**row) for row in self._running().redirections()]
        return sorted((r for r in rows if app_id in (None, r.app_id)), key=lambda r: (r.app_id, r.namespace))

    def ports(self, app_id: str) -> dict[str, int]:
        """`{namespace: port}` of one application."""
        return {r.namespace: r.port for r in self.redirections(app_id)}

    def requests(self) -> list[LoggedRequest]:
        """The API requests answered since the start, the last `clear_requests()` or `reset()`."""
        fields = LoggedRequest.__dataclass_fields__
        return [LoggedRequest(**{k: v for k, v in entry.items() if k in fields}) for entry in self._running().log()]

    def writes(self) -> list[LoggedRequest]:
        """The requests that could have changed something, whatever their answer."""
        return [r for r in self.requests() if r.method in WRITES]

    def clear_requests(self) -> None:
        self._running().clear_log()

    def reset(self) -> None:
        """Forget every redirection, armed fault and logged request (the fixture stays)."""
        self._running().reset()

    # Changes behind the stack's back, made through the API as `clever tcp-redirs` would (so they
    # are in the request log, and armed faults apply to them too).

    def _client(self) -> CleverCloudClient:
        credentials = OAuthCredentials(token=SecretStr(self.token), secret=SecretStr(self.secret))
        return CleverCloudClient(self.endpoint, credentials)

    def create_redirection(self, app_id: str, namespace: str = "default") -> int:
        """A redirection made by someone else; its port."""
        with self._client() as client:
            return client.add_tcp_redirection(self.owner_of(app_id), app_id, namespace).port

    def remove_redirection(self, app_id: str, namespace: str = "default") -> int:
        """Deletes the app's redirection in `namespace`, as by hand; the port it had."""
        port = self.ports(app_id).get(namespace)
        if port is None:
            raise ValueError(f"remove_redirection: app {app_id} has no redirection in namespace {namespace!r}")
        with self._client() as client:
            client.remove_tcp_redirection(self.owner_of(app_id), app_id, namespace, port)
        return port

    def recreate_redirection(self, app_id: str, namespace: str = "default") -> int:
        """Deletes and re-creates it by hand; the new port, another one whenever the namespace has one free."""
        old = self.remove_redirection(app_id, namespace)
        single = self.namespace(namespace).min_port == self.namespace(namespace).max_port
        for _ in range(REDRAWS):  # ports are drawn at random: the same one may come back
            port = self.create_redirection(app_id, namespace)
            if port != old or single:
                return port
            self.remove_redirection(app_id, namespace)
        return self.create_redirection(app_id, namespace)

    def fill_namespace(self, namespace: str, *, leave_free: int = 0) -> list[int]:
        """Takes every free port of `namespace` but `leave_free`, for apps of an organisation "filler"; the ports taken."""
        spec = self.namespace(namespace)
        held = sum(1 for r in self.redirections() if r.namespace == namespace)
        wanted = spec.max_port - spec.min_port + 1 - held - leave_free
        filler = next((org for org in self._organisations if org.name == FILLER), None)
        filler_id = filler.id if filler else self.add_organisation(FILLER)
        if spec.owners is not None and filler_id not in spec.owners:
            spec.owners.append(filler_id)
        taken = {r.app_id for r in self.redirections() if r.namespace == namespace}
        apps = [app.id for app in self._owners()[filler_id].applications if app.id not in taken]
        while len(apps) < wanted:  # one redirection per app and namespace: an app for each port
            apps.append(self.add_app(f"{FILLER}-{len(apps)}", owner=filler_id, cleverapps=False))
        return [self.create_redirection(app, namespace) for app in apps[: max(wanted, 0)]]

    # Faults for the next requests that match `method` and `path` (a glob on the URL path).

    def fail_next(
        self,
        status: int = 503,
        *,
        count: int = 1,
        method: str = "*",
        path: str = "/v2/*",
        retry_after: float | None = None,
    ) -> None:
        """The next `count` matching requests are answered `status` (e.g. 503, or 429 with `retry_after`), changing nothing."""
        self._arm(status=status, count=count, method=method, path=path, retry_after=retry_after)

    def drop_next(
        self, *, when: Literal["before", "after"] = "before", count: int = 1, method: str = "*", path: str = "/v2/*"
    ) -> None:
        """The next `count` matching requests get their connection cut, `before` the change or `after` it is committed."""
        self._arm(drop=when, count=count, method=method, path=path)

    def clear_faults(self) -> None:
        self._running().clear_faults()

    def _arm(self, **rule: Any) -> None:
        try:
            checked = FaultRule(**rule)
        except ValidationError as err:
            raise one_line(err, "fault") from None
        self._running().inject(**checked.model_dump(exclude_defaults=True))
