"""The plugin's generated Python SDK is typed: mypy accepts the example and refuses a wrong name or type."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SDK = ROOT / "sdk" / "python"
EXAMPLE = ROOT / "examples" / "python" / "redirections.py"


def mypy(tmp_path: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MYPYPATH": str(SDK)}  # the SDK's source, as a type checker reads an installed package
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--follow-imports=silent", "--cache-dir", str(tmp_path / "cache"), *map(str, files)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )


def test_the_example_type_checks(tmp_path: Path) -> None:
    done = mypy(tmp_path, EXAMPLE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_misspelled_or_mistyped_property_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import pulumi_clevercloud_tcp as clevercloud_tcp\n"
        'clevercloud_tcp.TcpRedirection("r", app_idd="app_x")\n'
        'clevercloud_tcp.TcpRedirection("s", app_id="app_x", adopt="yes")\n'
    )
    done = mypy(tmp_path, bad)
    assert done.returncode == 1
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == ["2", "3"], done.stdout
