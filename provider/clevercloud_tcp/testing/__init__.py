"""A testing kit for infrastructure code that declares Clever Cloud TCP redirections.

A local Clever Cloud API (`Emulator`) built from owners, apps and namespaces you add, with changes
made behind a stack's back and faults to arm; your Pulumi program run through the real engine
against it (`ProgramStack`); pytest fixtures (`clevercloud_emulator`, `clevercloud_stack`) with the
`testing` extra. The submodules `harness`, `plugin_harness`, `local_stack` and `emulator_process`
are this project's own test tools.
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
