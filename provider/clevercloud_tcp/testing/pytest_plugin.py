"""Pytest fixtures of the testing kit, registered by entry point: `pip install 'clevercloud-tcp[testing]'`.

- `clevercloud_emulator`: an `Emulator` for one test (add apps to it, point stacks at it);
- `clevercloud_stack`: `clevercloud_stack(program, face="plugin", config={...})` makes a
  `ProgramStack` of that emulator on a backend in the test's `tmp_path` (`skip_checkpoints=True`:
  its engine writes the state at the end of each command only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .emulator import Emulator
from .program import ProgramStack


@pytest.fixture
def clevercloud_emulator() -> Iterator[Emulator]:
    """An `Emulator` for this test: add owners, apps and namespaces, point stacks at it, change it by hand."""
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def clevercloud_stack(clevercloud_emulator: Emulator, tmp_path: Path) -> Iterator[Callable[..., ProgramStack]]:
    """`clevercloud_stack(program, face="plugin", config={...})`: a `ProgramStack` against `clevercloud_emulator`."""
    made: list[ProgramStack] = []

    def make(program: Callable[[], None], **options: Any) -> ProgramStack:
        work_dir = tmp_path / f"stack-{len(made)}"
        made.append(ProgramStack(program, clevercloud_emulator, work_dir=work_dir, **options))
        return made[-1]

    yield make
    for stack in made:
        stack.close()
