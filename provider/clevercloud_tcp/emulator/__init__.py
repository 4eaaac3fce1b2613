"""A local Clever Cloud API for TCP redirections: `python -m clevercloud_tcp.emulator`."""

from .app import build_app
from .faults import FaultRule
from .fixture import DEFAULT_FIXTURE, App, Fixture, NamespaceSpec, Owner, TokenPair, User, organisation_fixture
from .process import EmulatorProcess

__all__ = [
    "DEFAULT_FIXTURE",
    "App",
    "EmulatorProcess",
    "FaultRule",
    "Fixture",
    "NamespaceSpec",
    "Owner",
    "TokenPair",
    "User",
    "build_app",
    "organisation_fixture",
]
