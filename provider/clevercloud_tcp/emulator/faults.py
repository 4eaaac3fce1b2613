"""Fault injection: rules that make the next N matching requests fail in a chosen way."""

from __future__ import annotations

import fnmatch
import threading
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FaultRule(BaseModel):
    """For the next `count` requests matching `method` and `path` (a glob on the URL path):

    - `status`: answer that status with an API error body, changing nothing (with `retry_after`, a
      `Retry-After` header too; with `location`, a `Location` header, as a proxy's 3xx carries);
    - `drop`: cut the connection without an answer, either `before` the change is made or `after` it
      is committed;
    - `delay`: wait that many seconds first (alone: then make the change and answer, even when the
      client has given up meanwhile).
    """

    model_config = ConfigDict(extra="forbid")
    method: str = "*"
    path: str = "*"
    count: int = Field(default=1, ge=1)
    status: int | None = Field(default=None, ge=300, le=599)
    retry_after: float | None = Field(default=None, ge=0)
    location: str | None = None
    delay: float = Field(default=0.0, ge=0, le=120)
    drop: Literal["before", "after"] | None = None

    @model_validator(mode="after")
    def _one_effect(self) -> FaultRule:
        if self.status is not None and self.drop is not None:
            raise ValueError("a rule either answers a status or drops the connection, not both")
        if self.status is None and self.drop is None and self.delay == 0:
            raise ValueError("a rule needs a status, a drop or a delay")
        if self.location is not None and not (self.status is not None and 300 <= self.status < 400):
            raise ValueError("location goes with a 3xx status")
        return self

    def matches(self, method: str, path: str) -> bool:
        return fnmatch.fnmatchcase(method.upper(), self.method.upper()) and fnmatch.fnmatchcase(path, self.path)


class FaultBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._left: list[int] = []

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)
            self._left.append(rule.count)

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first armed rule matching this request, used up by one."""
        with self._lock:
            for i, rule in enumerate(self._rules):
                if self._left[i] > 0 and rule.matches(method, path):
                    self._left[i] -= 1
                    return rule
            return None

    def pending(self) -> list[dict[str, object]]:
        with self._lock:
            return [{**r.model_dump(), "left": left} for r, left in zip(self._rules, self._left, strict=True) if left > 0]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._left.clear()
