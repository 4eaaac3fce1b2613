"""`python -m clevercloud_tcp.faces.plugin.install`: installs this plugin into Pulumi's plugin cache.

So that the engine finds it without PATH or `plugins:` in Pulumi.yaml, at the version the generated SDKs
ask for: `pulumi plugin install resource clevercloud-tcp <version> --file <this plugin's executable>`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .server import package_version

EXECUTABLE = "pulumi-resource-clevercloud-tcp"


def plugin_executable() -> Path | None:
    """The console script beside this interpreter (a virtualenv's bin), else the one on PATH."""
    beside = Path(sys.executable).parent / EXECUTABLE
    if beside.is_file():
        return beside
    found = shutil.which(EXECUTABLE)
    return Path(found) if found else None


class InstallError(Exception):
    """The plugin could not be installed; the message says why and what to do."""


def install(pulumi: str, pulumi_home: Path | None = None) -> str:
    """Installs the plugin into `pulumi_home` (default: the engine's own, `PULUMI_HOME` or ~/.pulumi)."""
    executable = plugin_executable()
    if executable is None:
        raise InstallError(f"no {EXECUTABLE} found; install the package first (pip install clevercloud-tcp)")
    env = {**os.environ, "PULUMI_HOME": str(pulumi_home)} if pulumi_home else None
    command = [pulumi, "plugin", "install", "resource", "clevercloud-tcp", package_version(), "--file", str(executable)]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise InstallError(f"`{' '.join(command)}` failed: {(done.stderr or done.stdout).strip()}")
    return f"installed resource plugin clevercloud-tcp {package_version()} from {executable}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clevercloud_tcp.faces.plugin.install", description=__doc__)
    parser.add_argument("--pulumi", default=shutil.which("pulumi"), help="the pulumi CLI (default: the one on PATH)")
    args = parser.parse_args(argv)
    if not args.pulumi:
        print("install: no pulumi CLI on PATH; give it with --pulumi PATH", file=sys.stderr)
        return 2
    try:
        print(install(args.pulumi))
    except InstallError as exc:
        print(f"install: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
