"""A local Clever Cloud API for TCP redirections: `python -m clevercloud_tcp.emulator`."""

from __future__ import annotations

from typing import Any

from .faults import FaultRule
from .fixture import (
    DEFAULT_FIXTURE,
    Answers,
    App,
    Fixture,
    FixtureError,
    NamespaceSpec,
    Owner,
    TokenPair,
    User,
    organisation_fixture,
)

__all__ = [
    "DEFAULT_FIXTURE",
    "Answers",
    "App",
    "FaultRule",
    "Fixture",
    "FixtureError",
    "NamespaceSpec",
    "Owner",
    "TokenPair",
    "User",
    "build_app",
    "missing_extra",
    "organisation_fixture",
]

EXTRA = "pip install 'clevercloud-tcp[emulator]'"


def missing_extra() -> str | None:
    """Why the emulator cannot run here, in one line that says what to install; None when it can."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        return f"the emulator needs {exc.name or 'starlette and uvicorn'}, which is not installed: {EXTRA}"
    return None


def __getattr__(name: str) -> Any:
    # build_app needs starlette, from the [emulator] extra: imported on first use, so that the rest of
    # the package (and `python -m clevercloud_tcp.emulator` saying what to install) works without it.
    if name == "build_app":
        from .app import build_app

        return build_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
