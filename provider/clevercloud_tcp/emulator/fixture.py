"""What the emulator knows before any request: users, organisations, applications, namespaces, credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..api.auth import CLEVER_TOOLS_CONSUMER_KEY, CLEVER_TOOLS_CONSUMER_SECRET
from ..core.inputs import APP_ID


class FixtureError(Exception):
    """A fixture file that cannot be used; the message is one line naming the cause."""


class FixtureModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class App(FixtureModel):
    id: str
    name: str
    vhosts: list[str] = []
    favourite_vhost: str | None = None

    @field_validator("id")
    @classmethod
    def _app_id(cls, value: str) -> str:
        # Clients (clever-tools, this provider) take anything else for an app *name*, never an id.
        if not APP_ID.fullmatch(value):
            raise ValueError(f"application id {value!r} is not of the form app_<uuid>")
        return value


class Owner(FixtureModel):
    id: str
    name: str
    applications: list[App] = []


class TokenPair(FixtureModel):
    token: str
    secret: str


class Consumer(FixtureModel):
    key: str
    secret: str


class User(Owner):
    oauth: list[TokenPair] = []
    api_tokens: list[str] = []
    organisations: list[str] = Field(default=[], description="ids of the organisations this user belongs to")


class NamespaceSpec(FixtureModel):
    name: str
    min_port: int = 5001
    max_port: int = 5999
    owners: list[str] | None = Field(default=None, description="dedicated to these owners; None: everyone's")

    @model_validator(mode="after")
    def _range(self) -> NamespaceSpec:
        if not 0 < self.min_port <= self.max_port < 65536:
            raise ValueError(f"namespace {self.name}: port range {self.min_port}-{self.max_port} is empty or invalid")
        return self


EmptyList = Literal[200, 404]
DeleteAnswer = Literal["message", "empty-json", "204"]
PostStatus = Literal[200, 201]


class Answers(FixtureModel):
    """How the emulator answers where the real API's answer is not known for sure (all of them are success).

    - `empty_list`: an empty `GET .../tcpRedirs` or `GET .../namespaces` answers `200 []`, or `404`
      (what the official JS client is written to expect);
    - `delete_answer`: `DELETE .../tcpRedirs/{port}` answers 200 with a message, 200 with `{}`, or 204 with no body;
    - `post_status`: `POST .../tcpRedirs` answers 200 or 201 (with `{"namespace", "port"}` either way).
    """

    empty_list: EmptyList = 200
    delete_answer: DeleteAnswer = "message"
    post_status: PostStatus = 200


class Fixture(FixtureModel):
    consumers: list[Consumer] = [Consumer(key=CLEVER_TOOLS_CONSUMER_KEY, secret=CLEVER_TOOLS_CONSUMER_SECRET)]
    users: list[User]
    organisations: list[Owner] = []
    namespaces: list[NamespaceSpec]
    answers: Answers = Answers()

    @model_validator(mode="after")
    def _references(self) -> Fixture:
        orgs = {o.id for o in self.organisations}
        for user in self.users:
            if missing := set(user.organisations) - orgs:
                raise ValueError(f"user {user.id} belongs to unknown organisations {sorted(missing)}")
        return self

    @classmethod
    def load(cls, path: Path) -> Fixture:
        """The fixture in `path`; a `FixtureError` saying in one line what is wrong with it."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FixtureError(f"--fixture {path}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the top level"
            more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
            message = first["msg"].removeprefix("Value error, ")
            raise FixtureError(f"--fixture {path}: {where}: {message}{more}") from None

    def owners(self) -> dict[str, Owner]:
        return {o.id: o for o in [*self.users, *self.organisations]}

    def namespaces_of(self, owner_id: str) -> list[NamespaceSpec]:
        return [ns for ns in self.namespaces if ns.owners is None or owner_id in ns.owners]


ORG_ID = "orga_3b5a6c1e-6f0a-4c3e-9d7e-1f2a3b4c5d6e"
USER_ID = "user_7c9e6679-7425-40de-944b-e07fc1f90ae7"
OTHER_ORG_ID = "orga_00000000-1111-4222-8333-444444444444"

DEFAULT_FIXTURE = Fixture(
    users=[
        User(
            id=USER_ID,
            name="Ada",
            oauth=[TokenPair(token="emulator-token", secret="emulator-secret")],
            api_tokens=["emulator-api-token"],
            organisations=[ORG_ID],
            applications=[
                App(
                    id="app_9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
                    name="personal-mqtt",
                    vhosts=["app-9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f.cleverapps.io"],
                )
            ],
        ),
        User(
            id="user_2d1e0f3a-5b6c-4d7e-8f90-a1b2c3d4e5f6",
            name="Bob",
            oauth=[TokenPair(token="other-token", secret="other-secret")],
            organisations=[OTHER_ORG_ID],
        ),
    ],
    organisations=[
        Owner(
            id=ORG_ID,
            name="Acme",
            applications=[
                App(
                    id="app_0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b",
                    name="redis-cache",
                    vhosts=["app-0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b.cleverapps.io", "cache.acme.example"],
                ),
                App(
                    id="app_1e5a7b5f-4d3c-4f2a-8b9c-8d7e6f5a4b3c",
                    name="mqtt-broker",
                    vhosts=[
                        "app-1e5a7b5f-4d3c-4f2a-8b9c-8d7e6f5a4b3c.cleverapps.io",
                        "mqtt.acme.example",
                        "broker.acme.example",
                    ],
                    favourite_vhost="broker.acme.example",
                ),
                App(id="app_2f6b8c6a-5e4d-4a3b-9cad-9e8f7a6b5c4d", name="game-server"),
            ],
        ),
        Owner(
            id=OTHER_ORG_ID,
            name="Globex",
            applications=[App(id="app_3a7c9d7b-6f5e-4b4c-8dbe-af9a8b7c6d5e", name="globex-db")],
        ),
    ],
    namespaces=[
        NamespaceSpec(name="default"),
        NamespaceSpec(name="cleverapps"),
        NamespaceSpec(name="acme-dedicated", min_port=6001, max_port=6099, owners=[ORG_ID]),
    ],
)


def organisation_fixture(
    *,
    user_id: str,
    org_id: str,
    token: str,
    secret: str,
    apps: list[App],
    namespaces: list[NamespaceSpec] | None = None,
) -> Fixture:
    """One user, member of one organisation that owns `apps` (default namespaces unless given)."""
    return Fixture(
        users=[User(id=user_id, name="user", oauth=[TokenPair(token=token, secret=secret)], organisations=[org_id])],
        organisations=[Owner(id=org_id, name="organisation", applications=apps)],
        namespaces=namespaces or [NamespaceSpec(name="default"), NamespaceSpec(name="cleverapps")],
    )
