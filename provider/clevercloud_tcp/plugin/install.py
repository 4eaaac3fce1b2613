"""`python -m clevercloud_tcp.plugin.install`: installs this plugin into Pulumi's plugin cache.

So that the engine finds it without PATH or `plugins:` in Pulumi.yaml, at the version the generated SDKs
ask for: `pulumi plugin install resource clevercloud-tcp <version> --file <this plugin's executable>`.
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clevercloud_tcp.plugin.install", description=__doc__)
    parser.add_argument("--pulumi", default=shutil.which("pulumi"), help="the pulumi CLI (default: the one on PATH)")
    args = parser.parse_args(argv)
    executable = plugin_executable()
    if executable is None:
        print(f"install: no {EXECUTABLE} found; install the package first (pip install pulumi-clevercloud-tcp)", file=sys.stderr)
        return 2
    if not args.pulumi:
        print("install: no pulumi CLI on PATH; give it with --pulumi PATH", file=sys.stderr)
        return 2
    command = [args.pulumi, "plugin", "install", "resource", "clevercloud-tcp", package_version(), "--file", str(executable)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"install: `{' '.join(command)}` failed: {(done.stderr or done.stdout).strip()}", file=sys.stderr)
        return 1
    print(f"installed resource plugin clevercloud-tcp {package_version()} from {executable}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
