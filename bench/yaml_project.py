"""A YAML project of N redirections, run by the plain `pulumi` CLI through the native plugin.

The engine finds `pulumi-resource-clevercloud-tcp` on PATH (this interpreter's scripts folder) and the YAML
language host beside the CLI, as for a user with the package installed in an activated virtualenv.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.faces.plugin import TYPE
from clevercloud_tcp.runtime.local_stack import engine_env
from common import CannotRun, Context, plugin_config

STACK = "bench"


def project_text(targets: list[tuple[str, str]]) -> str:
    """Pulumi.yaml declaring one redirection per (app, namespace), named like the inline programs' `r0000`."""
    lines = ["name: clevercloud-tcp-bench-yaml", "runtime: yaml", "resources:"]
    for i, (app, namespace) in enumerate(targets):
        lines += [f"  r{i:04d}:", f"    type: {TYPE}", "    properties:", f"      appId: {app}", f"      namespace: {namespace}"]
    return "\n".join(lines) + "\n"


class YamlStack:
    """A fresh project folder with its own local backend and stack, its config pointing at `emu`.

    Set-up (stack init, config) happens here, untimed; each operation is one CLI command.
    """

    def __init__(self, ctx: Context, emu: EmulatorProcess, targets: list[tuple[str, str]]) -> None:
        if ctx.cli_dir is None:
            raise CannotRun("no pulumi CLI found: run scripts/install-pulumi, or scripts/bench which does")
        self.dir = Path(tempfile.mkdtemp(prefix="yaml-", dir=ctx.workdir))
        (self.dir / "Pulumi.yaml").write_text(project_text(targets))
        (self.dir / "backend").mkdir()
        (self.dir / "home").mkdir()
        self.pulumi = str(ctx.cli_dir / "pulumi")
        self.env = {**os.environ, **engine_env(ctx.cli_dir, self.dir, ctx.engine_env)}
        self.run("stack", "init", STACK)
        config = plugin_config(emu)
        self.run(
            "config",
            "set-all",
            "--plaintext",
            f"clevercloud-tcp:endpoint={config['endpoint']}",
            "--plaintext",
            f"clevercloud-tcp:allowHttp={config['allowHttp']}",
            "--secret",
            f"clevercloud-tcp:token={config['token']}",
            "--secret",
            f"clevercloud-tcp:secret={config['secret']}",
        )

    def run(self, *args: str) -> str:
        """One CLI command; its output, or a RuntimeError with its last lines."""
        done = subprocess.run(
            [self.pulumi, *args, "--non-interactive", "--color=never"],
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pulumi {args[0]} of the YAML project failed: {(done.stdout + done.stderr)[-600:]}")
        return done.stdout

    # The same flags as the Automation API's, so that both faces are timed doing the same work.
    def up(self) -> str:
        return self.run("up", "--yes", "--skip-preview")

    def preview_no_change(self) -> str:
        """A preview that fails if it plans any change."""
        return self.run("preview", "--expect-no-changes")

    def refresh(self) -> str:
        return self.run("refresh", "--yes", "--skip-preview")

    def destroy(self) -> str:
        return self.run("destroy", "--yes", "--skip-preview")
