"""A testing kit for infrastructure code that declares Clever Cloud TCP redirections.

A local Clever Cloud API (`Emulator`) built from owners, apps and namespaces you add, with changes
made behind a stack's back and faults to arm; your Pulumi program run through the real engine
against it (`ProgramStack`); pytest fixtures (`clevercloud_emulator`, `clevercloud_stack`) with the
`testing` extra. The submodules `harness` and `plugin_harness` (each face driven as the engine drives
it, over gRPC) are this project's own test tools; the emulator's process is `clevercloud_tcp.emulator.process`
and the engine on a local backend `clevercloud_tcp.runtime.local_stack`.
"""

from ..emulator.store import Redirection
from .emulator import Emulator, Face, LoggedRequest
from .fixtures import FixtureBuilder, cleverapps_domain
from .program import ProgramStack, StackError, StackResult, load_module

__all__ = [
    "Emulator",
    "Face",
    "FixtureBuilder",
    "LoggedRequest",
    "ProgramStack",
    "Redirection",
    "StackError",
    "StackResult",
    "cleverapps_domain",
    "load_module",
]
