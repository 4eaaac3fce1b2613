"""`ProgramStack`: a user's Pulumi program, through the real engine, against an `Emulator`, on a throw-away backend."""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from pulumi import automation as auto

from ..emulator.store import Redirection
from ..runtime.local_stack import NO_PULUMI, find_pulumi, first_error, local_stack
from .emulator import Emulator, Face


def load_module(name: str, path: Path) -> ModuleType:
    """A program's module by its file path: examples and projects are folders, not packages, and two of
    them may each have a module of the same name (`redirections.py`)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"load_module: {path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _joined(lines: list[str]) -> str:
    return "\n".join(line.rstrip("\n") for line in lines)


class StackError(Exception):
    """A `pulumi` command failed; the message is the line naming the cause, `output` all the engine said."""

    def __init__(self, message: str, output: str) -> None:
        super().__init__(message)
        self.output = output


@dataclass(frozen=True)
class StackResult:
    """What a command left: the stack's outputs, what the emulator holds, and the engine's count of changes."""

    outputs: dict[str, Any]
    redirections: list[Redirection]
    changes: dict[str, int] = field(default_factory=dict)  # e.g. {"create": 2}, {"same": 1, "replace": 1}
    output: str = ""


class ProgramStack:
    """`with ProgramStack(program, emulator, face="plugin") as stack: stack.up()`.

    `program` is a function declaring resources, as the Automation API takes it; it runs in this
    process, with the SDK of `face` reading the emulator's config (`Emulator.config`). `config`
    adds plain stack config, e.g. `{"my-project:appId": app_id}`. `skip_checkpoints=True` runs the
    engine with `PULUMI_SKIP_CHECKPOINTS=true`, as a large stack would (docs/large-stacks.md). Needs
    the `pulumi` CLI (found on PATH or where scripts/install-pulumi caches it); no Pulumi account,
    nothing but 127.0.0.1.
    """

    def __init__(
        self,
        program: Callable[[], None],
        emulator: Emulator,
        *,
        face: Face = "dynamic",
        config: Mapping[str, str] | None = None,
        project: str = "test-project",
        stack: str = "test",
        work_dir: Path | None = None,
        skip_checkpoints: bool = False,
    ) -> None:
        cli_dir = find_pulumi()
        if cli_dir is None:
            raise StackError(NO_PULUMI, "")
        self.emulator = emulator
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        if work_dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="clevercloud-stack-")
            work_dir = Path(self._dir.name)
        pointing = emulator.config(face)
        plain = {key: pointing.pop(key) for key in list(pointing) if not key.endswith((":token", ":secret"))}
        self.stack = local_stack(
            program,
            cli_dir=cli_dir,
            state_dir=work_dir,
            project=project,
            stack=stack,
            config={**plain, **(config or {})},
            secrets=pointing,
            skip_checkpoints=skip_checkpoints,
        )

    def __enter__(self) -> ProgramStack:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Forgets the stack and its backend (the emulator keeps what it holds)."""
        if self._dir is not None:
            self._dir.cleanup()

    def set_config(self, key: str, value: str, *, secret: bool = False) -> None:
        """Changes the stack's config before the next command, e.g. the app a program reads."""
        self.stack.set_config(key, auto.ConfigValue(value=value, secret=secret))

    def outputs(self) -> dict[str, Any]:
        return {name: value.value for name, value in self.stack.outputs().items()}

    def up(self, **options: Any) -> StackResult:
        """`pulumi up`; `options` go to the Automation API's `Stack.up` (e.g. `refresh=True`)."""
        said, result = self._run("up", self.stack.up, options)
        return self._result(said, result.summary.resource_changes)

    def preview(self, **options: Any) -> StackResult:
        """`pulumi preview`: `changes` is what an `up` would do; `outputs` are the last `up`'s."""
        said, result = self._run("preview", self.stack.preview, options)
        return self._result(said, result.change_summary)

    def refresh(self, **options: Any) -> StackResult:
        """`pulumi refresh`: reads every redirection back (stack outputs change at the next `up`)."""
        said, result = self._run("refresh", self.stack.refresh, options)
        return self._result(said, result.summary.resource_changes)

    def destroy(self, **options: Any) -> StackResult:
        said, result = self._run("destroy", self.stack.destroy, options)
        return self._result(said, result.summary.resource_changes)

    def _run(self, name: str, command: Callable[..., Any], options: Mapping[str, Any]) -> tuple[str, Any]:
        lines: list[str] = []
        try:
            result = command(color="never", on_output=lines.append, on_error=lines.append, **options)
        except auto.CommandError as err:
            raise StackError(f"pulumi {name} failed: {first_error(err)}", _joined(lines) or str(err)) from None
        return _joined(lines), result

    def _result(self, said: str, changes: Mapping[str, int] | None) -> StackResult:
        return StackResult(self.outputs(), self.emulator.redirections(), dict(changes or {}), said)
