"""What one provider process keeps: one API client, the look-ups done once, the redirections it made.

Both faces hold one `Session` per configuration. Look-ups (owner, domains) are cached for the life of
the process, which is one `pulumi` command: fresh enough, and each is asked once however many
resources need it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

from . import errors
from .client import CleverCloudClient
from .config import options_from
from .credentials import resolve_settings
from .models import Vhost

CLEVERAPPS_SUFFIX = ".cleverapps.io"
# Set for the one `pulumi up` that follows an interrupted one: a redirection that already exists for a
# key the program declares is taken as the one the interrupted run made (see README, "Recovering").
RECOVER = "CLEVERCLOUD_TCP_RECOVER"
Key = tuple[str, str, str, int]  # owner, app, namespace, port


def pick_default_host(vhosts: list[Vhost], namespace: str, favourite: Vhost | None) -> str | None:
    """The domain clients dial: the *.cleverapps.io one for `cleverapps`, else the favourite or first custom one."""
    names = [v.fqdn for v in vhosts]
    if namespace == "cleverapps":
        return next((n for n in names if n.endswith(CLEVERAPPS_SUFFIX)), None)
    custom = [n for n in names if not n.endswith(CLEVERAPPS_SUFFIX)]
    if favourite is not None and favourite.fqdn in custom:
        return favourite.fqdn
    return custom[0] if custom else None


class Session:
    """One client and its caches, for one provider configuration (full config keys)."""

    def __init__(self, config: Mapping[str, object]) -> None:
        self.settings = resolve_settings(config)
        self.options = options_from(config)
        self.client = CleverCloudClient.from_settings(
            self.settings, timeout=self.options.request_timeout, retry=self.options.retry
        )
        self._lock = threading.Lock()
        self._locks: dict[object, threading.Lock] = {}
        self._vhosts: dict[tuple[str, str], list[Vhost]] = {}
        self._favourites: dict[tuple[str, str], Vhost | None] = {}
        # Redirections this process made or took over. A rename without alias creates the new resource
        # before the engine deletes the old one, whose state may name the same port: taken over with
        # adopt=True, or handed out again after the old one was removed outside Pulumi. That delete
        # must leave it alone, or the stack would record a port nobody holds.
        self._made: set[Key] = set()
        self.recovering = os.environ.get(RECOVER) == "true"

    def _lock_for(self, key: object) -> threading.Lock:
        """One lock per look-up: the engine's parallel requests wait for the same look-up, not for others."""
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def owner_of(self, app_id: str, given: str | None) -> str:
        """`given`, else `clevercloud:organization`, else the owner the summary lists for `app_id`."""
        if given:
            return given
        if self.settings.organization:
            return self.settings.organization
        owner = self.client.owner_of(app_id)
        if owner is None:
            raise errors.AppNotFound(
                404,
                f"application {app_id} is not among the applications these credentials can see "
                f"({self.settings.source})",
                operation="find the owner of app_id",
                hint="Check app_id, and that the credentials belong to a member of the application's owner.",
            )
        return owner

    def default_host(self, owner_id: str, app_id: str, namespace: str) -> str | None:
        """The application's own domain for `namespace` (see `pick_default_host`), asked once per app."""
        key = (owner_id, app_id)
        try:
            with self._lock_for(key):
                if key not in self._vhosts:
                    self._vhosts[key] = self.client.list_vhosts(owner_id, app_id)
                vhosts = self._vhosts[key]
                custom = [v for v in vhosts if not v.fqdn.endswith(CLEVERAPPS_SUFFIX)]
                favourite = None
                if namespace != "cleverapps" and len(custom) > 1:  # only then does the favourite decide
                    if key not in self._favourites:
                        self._favourites[key] = self.client.favourite_vhost(owner_id, app_id)
                    favourite = self._favourites[key]
        except errors.CleverCloudError as exc:
            raise errors.LookupFailed(
                f"finding the domain of {app_id} that clients dial (for url) failed: {exc} "
                "Give `host` on the resource to skip this look-up."
            ) from None
        return pick_default_host(vhosts, namespace, favourite)

    def remember_made(self, key: Key) -> None:
        with self._lock:
            self._made.add(key)

    def made_here(self, key: Key) -> bool:
        with self._lock:
            return key in self._made

    def close(self) -> None:
        self.client.close()


_SESSIONS: dict[tuple[tuple[str, str], ...], Session] = {}
_SESSIONS_LOCK = threading.Lock()


def session_for(config: Mapping[str, object]) -> Session:
    """The process's session for this configuration, made on first use (so failures surface then)."""
    key = tuple(sorted((k, str(v)) for k, v in config.items()))
    with _SESSIONS_LOCK:
        if key not in _SESSIONS:
            _SESSIONS[key] = Session(config)
        return _SESSIONS[key]


def made_anywhere(key: Key) -> bool:
    """Whether any session of this process made or adopted `key` (a rename may change the provider too)."""
    with _SESSIONS_LOCK:
        sessions = list(_SESSIONS.values())
    return any(session.made_here(key) for session in sessions)
