"""What a provider process keeps during one `pulumi` command: a session (one API client and its cached
look-ups) per configuration, and the ledger of the redirections the command made (`ledger.py`), in a
`Deployment` that each face creates and hands to the core.

Look-ups (owner, domains) are cached for the life of the process, which is one `pulumi` command: fresh
enough, and each is asked once however many resources need it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

from .. import errors
from ..api.client import CleverCloudClient
from ..api.models import Vhost
from ..config import ConfigKeys, ProviderOptions, Settings, options_from, resolve_settings
from .ledger import Ledger, sweep

CLEVERAPPS_SUFFIX = ".cleverapps.io"
# Set for the one `pulumi up` that follows an interrupted one: a redirection that already exists for a
# key the program declares is taken as the one the interrupted run made (see docs/recovery.md).
RECOVER = "CLEVERCLOUD_TCP_RECOVER"
SECOND_CONFIGURE = (
    "clevercloud-tcp: this provider process is configured already, and the engine configures each one once: "
    "other settings sent later come from outside the engine (its port is open to every local process) and are refused"
)


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
    """One client and its cached look-ups, for one provider configuration, in one deployment."""

    def __init__(self, settings: Settings, options: ProviderOptions, ledger: Ledger, recovering: bool = False) -> None:
        self.settings, self.options, self.ledger, self.recovering = settings, options, ledger, recovering
        self.client = CleverCloudClient(
            settings.endpoint,
            settings.credentials,
            timeout=options.request_timeout,
            retry=options.retry,
            origin=settings.origin,
        )
        self._lock = threading.Lock()
        self._locks: dict[object, threading.Lock] = {}
        self._vhosts: dict[tuple[str, str], list[Vhost]] = {}
        self._favourites: dict[tuple[str, str], Vhost | None] = {}

    def _lock_for(self, key: object) -> threading.Lock:
        """One lock per look-up: the engine's parallel requests wait for the same look-up, not for others."""
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def owner_of(self, app_id: str, given: str | None) -> str:
        """`given`, else the configured organization, else the owner the summary lists for `app_id`."""
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
                operation=f"find the owner of {errors.named('appId')}",
                hint=f"Check {errors.named('appId')}, and that the credentials belong to a member of the application's owner.",
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
                f"finding the domain of {app_id} that clients dial (for url) failed: {exc.marked} "
                "Give `host` on the resource to skip this look-up."
            ) from None
        return pick_default_host(vhosts, namespace, favourite)

    def close(self) -> None:
        self.client.close()


class Deployment:
    """What one provider process keeps for the command it serves: owned by a face, handed to the core."""

    def __init__(self, keys: ConfigKeys, env: Mapping[str, str] | None = None, run: str | None = None) -> None:
        """`run` names the `pulumi` command this process serves (the engine's address): the provider
        processes of one run share its ledger."""
        self.keys = keys
        self.env = os.environ if env is None else env
        self.recovering = self.env.get(RECOVER) == "true"
        if run:
            sweep()  # what crashed or finished runs left
        self.ledger = Ledger(run)
        self._lock = threading.Lock()
        self._sessions: dict[tuple[tuple[str, str], ...], Session] = {}
        self._configured: dict[str, object] | None = None

    @property
    def configured(self) -> bool:
        return self._configured is not None

    def configure(self, config: Mapping[str, object]) -> None:
        """Takes the process's one configuration (full config keys). The engine configures a provider
        process once; its port is open to every local process, so other settings arriving later come
        from elsewhere (to send the credentials to an endpoint of their choosing) and are refused."""
        given = dict(config)
        with self._lock:
            if self._configured is None:
                self._configured = given
        if given != self._configured:
            raise errors.ConfigurationError(SECOND_CONFIGURE)

    def session(self, config: Mapping[str, object]) -> Session:
        """The session of this configuration (full config keys), made on first use (so failures surface then)."""
        key = tuple(sorted((k, str(v)) for k, v in config.items()))
        with self._lock:
            if key not in self._sessions:
                settings = resolve_settings(config, self.env, self.keys)
                self._sessions[key] = Session(settings, options_from(config), self.ledger, self.recovering)
            return self._sessions[key]

    def close(self) -> None:
        with self._lock:
            for session in self._sessions.values():
                session.close()
            self._sessions.clear()
