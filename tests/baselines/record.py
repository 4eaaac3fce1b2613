"""Makes the upgrade baseline of the installed release: `python record.py OUT_DIR` (see `record`).

For each face: an emulator with its own SQLite state, a redirection made outside Pulumi, the face's
stack of `stacks.py` brought up, then `OUT_DIR/<face>.json`: the stack's state export, its outputs
and every redirection the emulator holds. The endpoint reaches the providers through the environment
(`API_HOST`), so no address of this run is kept in the state; the credentials are the emulator's
fixture ones, encrypted with `stacks.PASSPHRASE`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stacks import ADOPTED, FACES, ORG, SECRET, TOKEN, baseline_stack, engine_variables

from clevercloud_tcp import CleverCloudClient, OAuthCredentials
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.runtime.local_stack import engine_env, find_pulumi


def record(face: str, out: Path, work: Path, cli_dir: Path) -> None:
    with EmulatorProcess(state=work / f"{face}.sqlite", seed=25) as emulator:
        client = CleverCloudClient(emulator.url, OAuthCredentials(token=SecretStr(TOKEN), secret=SecretStr(SECRET)))
        client.add_tcp_redirection(ORG, *ADOPTED)
        client.close()
        stack = baseline_stack(face, cli_dir=cli_dir, state_dir=work / face, endpoint=emulator.url)
        stack.up(color="never", on_output=print)
        # The CLI's own export keeps secrets encrypted (the Automation API's shows them).
        exported = subprocess.run(
            [str(cli_dir / "pulumi"), "stack", "export", "--stack", face],
            cwd=work / face, env=engine_env(cli_dir, work / face, engine_variables(emulator.url)), capture_output=True, text=True, check=True,
        ).stdout
        baseline = {
            "release": version("clevercloud-tcp"),
            "deployment": json.loads(exported),
            "outputs": {name: output.value for name, output in stack.outputs().items()},
            "held": emulator.redirections(),
        }
    (out / f"{face}.json").write_text(json.dumps(baseline, indent=1, sort_keys=True) + "\n")


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    cli_dir = find_pulumi()
    if cli_dir is None:
        sys.exit("record.py: no pulumi CLI: run scripts/install-pulumi first")
    with tempfile.TemporaryDirectory(prefix="baseline-") as work:
        for face in FACES:
            record(face, out, Path(work), cli_dir)


if __name__ == "__main__":
    main()
