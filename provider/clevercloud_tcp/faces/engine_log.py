"""The package's warnings, passed on to the engine that started this provider process, which shows them
to the user among the command's diagnostics (a provider's stderr only reaches the engine's log).

Both faces have the engine's address (the last argument of every provider process), and the engine
serves its `Log` call there. Best effort: a warning that cannot be delivered is still on stderr.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

import grpc
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

PACKAGE_LOGGER = "clevercloud_tcp"
TIMEOUT = 5.0  # seconds: a warning must not hold up the operation that gave it
# The resource whose request is being served, where the face knows it: the engine shows the warning under it.
RESOURCE: ContextVar[str] = ContextVar("resource", default="")


class EngineWarnings(logging.Handler):
    """Sends each warning record to the engine's `Log` as a warning."""

    def __init__(self, engine: str) -> None:
        super().__init__(logging.WARNING)
        self.engine = engine

    def emit(self, record: logging.LogRecord) -> None:
        request = engine_pb2.LogRequest(severity=engine_pb2.WARNING, message=record.getMessage(), urn=RESOURCE.get())
        try:
            with grpc.insecure_channel(self.engine) as channel:
                engine_pb2_grpc.EngineStub(channel).Log(request, timeout=TIMEOUT)
        except grpc.RpcError:
            pass  # no engine listening (a test acting as one): stderr has it


def pass_warnings_to(engine: str | None) -> None:
    """Once per process: the package's warnings also go to `engine`, when there is one."""
    package = logging.getLogger(PACKAGE_LOGGER)
    if engine and not any(isinstance(handler, EngineWarnings) for handler in package.handlers):
        package.addHandler(EngineWarnings(engine))
