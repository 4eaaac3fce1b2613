"""What an emulator knows before any request, built call by call: `add_app(...)` gives back the app's id."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence

from pydantic import ValidationError

from ..emulator.fixture import App, Fixture, NamespaceSpec, Owner, TokenPair, User

DEFAULT_PORTS = (5001, 5999)


def _new_id(kind: str) -> str:
    return f"{kind}_{uuid.uuid4()}"


def one_line(err: ValidationError, where: str) -> ValueError:
    """A model's refusal as one line naming the call and the field."""
    first = err.errors()[0]
    field = ".".join(map(str, first["loc"]))
    return ValueError(f"{where}: {field + ': ' if field else ''}{first['msg'].removeprefix('Value error, ')}")


def cleverapps_domain(app_id: str) -> str:
    """The `*.cleverapps.io` domain the platform gives every application."""
    return f"app-{app_id.removeprefix('app_')}.cleverapps.io"


class FixtureBuilder:
    """One user with fresh OAuth credentials, the `default` and `cleverapps` namespaces, and what you add.

    Applications belong to the user unless `owner` names an organisation from `add_organisation`.
    """

    def __init__(self) -> None:
        # Fresh credentials for each emulator: a test cannot come to rely on a constant.
        self.token, self.secret = secrets.token_hex(16), secrets.token_hex(16)
        self._user = User(id=_new_id("user"), name="test-user", oauth=[TokenPair(token=self.token, secret=self.secret)])
        self._organisations: list[Owner] = []
        self._namespaces = [NamespaceSpec(name="default"), NamespaceSpec(name="cleverapps")]

    @property
    def user_id(self) -> str:
        """The `user_<uuid>` the credentials belong to."""
        return self._user.id

    def add_organisation(self, name: str = "organisation", *, member: bool = True, id: str | None = None) -> str:
        """An organisation, with the user as a member unless `member=False`; its `orga_<uuid>`."""
        org = Owner(id=id or _new_id("orga"), name=name)
        if org.id in self._owners():
            raise ValueError(f"add_organisation: id {org.id!r} is already taken")
        self._organisations.append(org)
        if member:
            self._user.organisations.append(org.id)
        return org.id

    def add_app(
        self,
        name: str = "app",
        *,
        owner: str | None = None,
        domains: Sequence[str] = (),
        favourite: str | None = None,
        cleverapps: bool = True,
        id: str | None = None,
    ) -> str:
        """An application of `owner` (the user by default); its `app_<uuid>`.

        Its domains are its `*.cleverapps.io` one (unless `cleverapps=False`), then `domains`;
        `favourite` is the one its console marks as such, if any.
        """
        owners = self._owners()
        if (owner or self.user_id) not in owners:
            raise ValueError(f"add_app: owner {owner!r} is neither the user nor an organisation from add_organisation()")
        app_id = id or _new_id("app")
        vhosts = ([cleverapps_domain(app_id)] if cleverapps else []) + list(domains)
        if favourite is not None and favourite not in vhosts:
            raise ValueError(f"add_app: favourite {favourite!r} is not one of the app's domains {vhosts}")
        try:  # App validates the id (app_<uuid>)
            app = App(id=app_id, name=name, vhosts=vhosts, favourite_vhost=favourite)
        except ValidationError as err:
            raise one_line(err, "add_app") from None
        owners[owner or self.user_id].applications.append(app)
        return app_id

    def add_namespace(
        self, name: str, *, ports: tuple[int, int] = DEFAULT_PORTS, owners: Sequence[str] | None = None
    ) -> str:
        """A namespace allocating from `ports` (both included), dedicated to `owners` if given; its name.

        Giving `default` or `cleverapps` replaces the built-in one, e.g. to make its range small.
        """
        try:
            spec = NamespaceSpec(name=name, min_port=ports[0], max_port=ports[1], owners=list(owners) if owners else None)
        except ValidationError as err:
            raise one_line(err, "add_namespace") from None
        self._namespaces = [ns for ns in self._namespaces if ns.name != name] + [spec]
        return name

    def owner_of(self, app_id: str) -> str:
        for owner in self._owners().values():
            if any(app.id == app_id for app in owner.applications):
                return owner.id
        raise ValueError(f"app {app_id!r} is not in this emulator's fixture: add it with add_app()")

    def namespace(self, name: str) -> NamespaceSpec:
        for spec in self._namespaces:
            if spec.name == name:
                return spec
        raise ValueError(f"namespace {name!r} is not in this emulator's fixture: add it with add_namespace()")

    def build(self) -> Fixture:
        """The fixture as it stands (a copy: later calls do not change it)."""
        return Fixture(users=[self._user], organisations=self._organisations, namespaces=self._namespaces).model_copy(
            deep=True
        )

    def _owners(self) -> dict[str, Owner]:
        return {owner.id: owner for owner in [self._user, *self._organisations]}
