"""pydantic models of the API's JSON bodies, shared by the client and the emulator."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ApiModel(BaseModel):
    # The API adds fields over time; unknown ones are ignored, not errors.
    model_config = ConfigDict(extra="ignore", frozen=True)


class TcpRedirection(ApiModel):
    namespace: str
    port: int


class AddTcpRedirection(ApiModel):
    namespace: str
    min_port: int | None = Field(default=None, alias="minPort")
    max_port: int | None = Field(default=None, alias="maxPort")


class Namespace(ApiModel):
    namespace: str


class Vhost(ApiModel):
    fqdn: str


class SummaryApp(ApiModel):
    id: str
    name: str = ""


class SummaryOwner(ApiModel):
    id: str
    name: str = ""
    applications: list[SummaryApp] = []
    addons: list[dict[str, object]] = []
    consumers: list[dict[str, object]] = []


class Summary(ApiModel):
    user: SummaryOwner
    organisations: list[SummaryOwner] = []


class ErrorBody(ApiModel):
    """Both error shapes: the classic `{id, message, type}` and the bridge's `{code, error}`."""

    id: int | str | None = None
    message: str | None = None
    type: str | None = None
    code: str | None = None
    error: str | None = None

    @property
    def text(self) -> str:
        return self.message or self.error or "no message"

    @property
    def ident(self) -> int | str | None:
        return self.id if self.id is not None else self.code
