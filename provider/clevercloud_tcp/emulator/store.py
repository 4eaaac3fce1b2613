"""Redirections the emulator holds, in SQLite, and the port pools they are allocated from."""

from __future__ import annotations

import random
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from .fixture import NamespaceSpec


class StoreError(Exception):
    """A refusal the API turns into an error answer."""


class Duplicate(StoreError):
    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.port = port


class PoolExhausted(StoreError):
    pass


class NoSuchRedirection(StoreError):
    pass


class PortPool:
    """The free ports of one namespace.

    A dense list of free ports plus each port's index in it: a random free port is taken, and a port
    given back, in O(1), however full the range is (no scan of the range per request).
    """

    def __init__(self, spec: NamespaceSpec, taken: set[int], rng: random.Random) -> None:
        self._free = [p for p in range(spec.min_port, spec.max_port + 1) if p not in taken]
        self._index = {port: i for i, port in enumerate(self._free)}
        self._rng = rng

    def __len__(self) -> int:
        return len(self._free)

    def take(self) -> int:
        if not self._free:
            raise PoolExhausted()
        i = self._rng.randrange(len(self._free))
        port, last = self._free[i], self._free[-1]
        self._free[i] = last
        self._index[last] = i
        self._free.pop()
        del self._index[port]
        return port

    def give_back(self, port: int) -> None:
        if port not in self._index:
            self._index[port] = len(self._free)
            self._free.append(port)


@dataclass(frozen=True)
class Redirection:
    owner_id: str
    app_id: str
    namespace: str
    port: int


_SCHEMA = """
CREATE TABLE IF NOT EXISTS redirections (
    owner_id  TEXT NOT NULL,
    app_id    TEXT NOT NULL,
    namespace TEXT NOT NULL,
    port      INTEGER NOT NULL,
    PRIMARY KEY (app_id, namespace),
    UNIQUE (namespace, port)
)
"""


class Store:
    """Thread-safe: one lock covers choosing a port and recording it, so no port is handed out twice."""

    def __init__(self, namespaces: list[NamespaceSpec], path: Path | None = None, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self._db.execute(_SCHEMA)
        self._db.commit()
        self._rng = random.Random(seed)
        self._specs = {ns.name: ns for ns in namespaces}
        self._pools = {ns.name: PortPool(ns, self._ports_taken(ns.name), self._rng) for ns in namespaces}

    def _ports_taken(self, namespace: str) -> set[int]:
        rows = self._db.execute("SELECT port FROM redirections WHERE namespace = ?", (namespace,))
        return {port for (port,) in rows}

    def list(self, app_id: str | None = None) -> list[Redirection]:
        with self._lock:
            if app_id is None:
                rows = self._db.execute("SELECT owner_id, app_id, namespace, port FROM redirections ORDER BY app_id, namespace")
            else:
                rows = self._db.execute(
                    "SELECT owner_id, app_id, namespace, port FROM redirections WHERE app_id = ? ORDER BY namespace",
                    (app_id,),
                )
            return [Redirection(*row) for row in rows]

    def add(self, owner_id: str, app_id: str, namespace: str) -> Redirection:
        with self._lock:
            row = self._db.execute(
                "SELECT port FROM redirections WHERE app_id = ? AND namespace = ?", (app_id, namespace)
            ).fetchone()
            if row is not None:
                raise Duplicate(row[0])
            pool = self._pools[namespace]
            port = pool.take()
            try:
                self._db.execute(
                    "INSERT INTO redirections (owner_id, app_id, namespace, port) VALUES (?, ?, ?, ?)",
                    (owner_id, app_id, namespace, port),
                )
                self._db.commit()
            except BaseException:
                self._db.rollback()
                pool.give_back(port)
                raise
            return Redirection(owner_id, app_id, namespace, port)

    def remove(self, app_id: str, namespace: str, port: int) -> None:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM redirections WHERE app_id = ? AND namespace = ? AND port = ?", (app_id, namespace, port)
            )
            if cursor.rowcount == 0:
                self._db.rollback()
                raise NoSuchRedirection()
            self._db.commit()
            self._pools[namespace].give_back(port)

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM redirections")
            self._db.commit()
            self._pools = {name: PortPool(spec, set(), self._rng) for name, spec in self._specs.items()}

    def close(self) -> None:
        self._db.close()
