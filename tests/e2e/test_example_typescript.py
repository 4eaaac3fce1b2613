"""examples/typescript through the real engine: its driver (automation.ts) runs index.ts as an inline program.

The npm packages it pins, with the SDK from sdk/nodejs compiled by scripts/build-node-sdk as
docs/languages.md says, are installed once per content of the SDK and the manifests into the cache.
The typed SDK must refuse a misspelled property and a wrong type at compile time (tsc).
`CLEVERCLOUD_TCP_NODE_PULUMI=X.Y.Z` (scripts/test-matrix) puts that @pulumi/pulumi under both the SDK
and the example instead of the pinned one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from clevercloud_tcp.emulator.process import EmulatorProcess
from example_programs import (
    MQTT_APP,
    REPO_ROOT,
    ExampleStack,
    check_life_cycle,
    check_refusal_reads_as_one_line,
    run,
    succeed,
    typescript_node_modules,
)

EXAMPLE = REPO_ROOT / "examples" / "typescript"
PULUMI_VERSION = os.environ.get("CLEVERCLOUD_TCP_NODE_PULUMI", "")


def test_the_example_runs_on_the_pulumi_it_is_given(node_modules: Path) -> None:
    """What the rest of this file runs on: the pinned @pulumi/pulumi, or the one the matrix asks for."""
    installed = json.loads((node_modules / "@pulumi" / "pulumi" / "package.json").read_text())["version"]
    pinned = json.loads((EXAMPLE / "package.json").read_text())["dependencies"]["@pulumi/pulumi"]
    assert installed == (PULUMI_VERSION or pinned)


@pytest.fixture(scope="module")
def node_modules() -> Path:
    return typescript_node_modules(PULUMI_VERSION)


@pytest.fixture(scope="module")
def program(node_modules: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example compiled by `npm run build` (tsc, its tsconfig.json) in a copy, so the checkout gets no bin/."""
    work = tmp_path_factory.mktemp("typescript-example")
    for name in ("index.ts", "automation.ts", "tsconfig.json", "package.json"):
        shutil.copy(EXAMPLE / name, work / name)
    (work / "node_modules").symlink_to(node_modules)
    succeed([str(node_modules / ".bin" / "tsc"), "-p", "."], work)
    return work


@pytest.fixture
def stack(program: Path, pulumi_cli: Path, e2e_emulator: EmulatorProcess, tmp_path: Path) -> ExampleStack:
    driver = ["node", str(program / "bin" / "automation.js")]
    return ExampleStack(driver, "clevercloud-tcp-typescript", pulumi_cli, e2e_emulator, tmp_path)


def test_life_cycle_against_the_emulator(stack: ExampleStack, e2e_emulator: EmulatorProcess) -> None:
    check_life_cycle(stack, e2e_emulator)


def test_bad_input_is_refused_in_one_line(stack: ExampleStack, e2e_emulator: EmulatorProcess) -> None:
    check_refusal_reads_as_one_line(stack, e2e_emulator)


# case: (a property of the program, written wrong, what tsc says)
MISTAKES = {
    "misspelled-name": ('namespce: "default"', "'namespce' does not exist in type 'TcpRedirectionArgs'"),
    "wrong-type": ('adopt: "yes"', "The expected type comes from property 'adopt'"),
}
RIGHT = 'namespace: "default", adopt: true'


@pytest.fixture(scope="module")
def type_checked(program: Path) -> dict[str, str]:
    """What one `tsc --noEmit` with the example's settings says of each small program, by file name."""
    names = ["right", *MISTAKES]
    for name, props in zip(names, [RIGHT, *(wrong for wrong, _ in MISTAKES.values())], strict=True):
        (program / f"{name}.ts").write_text(
            'import * as clevercloudtcp from "pulumi-clevercloud-tcp";\n\n'
            f'new clevercloudtcp.TcpRedirection("r", {{ appId: "{MQTT_APP}", {props} }});\n'
        )
    (program / "tsconfig.check.json").write_text(json.dumps({"extends": "./tsconfig.json", "files": [f"{n}.ts" for n in names]}))
    # --pretty: the related note naming the property of a wrong type is printed in that form only.
    done = run([str(program / "node_modules" / ".bin" / "tsc"), "--noEmit", "--pretty", "-p", "tsconfig.check.json"], program)
    said = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    assert done.returncode != 0, said
    # --pretty starts each diagnostic with "file.ts:line:col - error"; each one's text until the next.
    chunks = re.split(r"^(?=\S+\.ts:\d+:\d+ - )", said, flags=re.M)
    return {name: "".join(c for c in chunks if c.startswith(f"{name}.ts:")) for name in names}


def test_a_right_program_type_checks(type_checked: dict[str, str]) -> None:
    assert type_checked["right"] == ""


@pytest.mark.parametrize("case", MISTAKES)
def test_typed_sdk_refuses_a_wrong_property_at_compile_time(type_checked: dict[str, str], case: str) -> None:
    said = type_checked[case]
    assert MISTAKES[case][1] in said, said
