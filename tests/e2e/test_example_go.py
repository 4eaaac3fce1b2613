"""examples/go through the real engine: its driver (./automation) runs the program as an inline program.

The driver is built once per content of the example and sdk/go into the cache; a cold Go module cache
fills itself from the module proxy on that first build. The typed SDK must refuse a misspelled field
and a wrong type at compile time (go vet).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from clevercloud_tcp.emulator.process import EmulatorProcess
from example_programs import (
    MQTT_APP,
    REPO_ROOT,
    ExampleStack,
    cached,
    check_life_cycle,
    check_refusal_reads_as_one_line,
    content_key,
    require_tools,
    run,
    succeed,
)

EXAMPLE = REPO_ROOT / "examples" / "go"
SDK = REPO_ROOT / "sdk" / "go"
# No toolchain download; go.mod and go.sum as committed (missing modules are still fetched).
GO_ENV = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly"}


@pytest.fixture(scope="module")
def driver() -> Path:
    require_tools("go", why="the Go example is built with the Go toolchain")
    sources = [p for root in (EXAMPLE, SDK) for p in root.rglob("*") if p.is_file()]
    version = succeed(["go", "env", "GOVERSION"], EXAMPLE, GO_ENV).strip()

    def build(folder: Path) -> None:
        succeed(["go", "build", "-o", str(folder / "automation"), "./automation"], EXAMPLE, GO_ENV)

    return cached("example-go", f"{version}-{content_key(REPO_ROOT, sources)}", build) / "automation"


@pytest.fixture
def stack(driver: Path, pulumi_cli: Path, e2e_emulator: EmulatorProcess, tmp_path: Path) -> ExampleStack:
    return ExampleStack([str(driver)], "clevercloud-tcp-go", pulumi_cli, e2e_emulator, tmp_path)


def test_life_cycle_against_the_emulator(stack: ExampleStack, e2e_emulator: EmulatorProcess) -> None:
    check_life_cycle(stack, e2e_emulator)


def test_bad_input_is_refused_in_one_line(stack: ExampleStack, e2e_emulator: EmulatorProcess) -> None:
    check_refusal_reads_as_one_line(stack, e2e_emulator)


CHECKED = """package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulumi-clevercloud-tcp/pulumi-clevercloud-tcp/sdk/go/clevercloudtcp"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		_, err := clevercloudtcp.NewTcpRedirection(ctx, "r", &clevercloudtcp.TcpRedirectionArgs{
			AppId: pulumi.String("%s"),
			%s,
		})
		return err
	})
}
"""
# case: (a right field, the same one wrong, what go vet says)
MISTAKES = {
    "misspelled name": ('Namespace: pulumi.String("default")', 'Namespce: pulumi.String("default")', "unknown field Namespce in struct literal"),
    "wrong type": ("Adopt: pulumi.Bool(true)", "Adopt: true", "as pulumi.BoolPtrInput value in struct literal"),
}


@pytest.mark.parametrize("case", MISTAKES)
def test_typed_sdk_refuses_a_wrong_field_at_compile_time(case: str, tmp_path: Path) -> None:
    require_tools("go", why="the Go example is checked with go vet")
    right, wrong, complaint = MISTAKES[case]
    # A copy of the example in the checkout's layout, so that its go.mod's replace => ../../sdk/go holds.
    module = tmp_path / "examples" / "go"
    shutil.copytree(EXAMPLE, module)
    (tmp_path / "sdk").mkdir()
    (tmp_path / "sdk" / "go").symlink_to(SDK)
    (module / "check").mkdir()

    def vet(field: str) -> tuple[int, str]:
        (module / "check" / "main.go").write_text(CHECKED % (MQTT_APP, field))
        done = run(["go", "vet", "./check"], module, GO_ENV)
        return done.returncode, done.stdout + done.stderr

    assert vet(right) == (0, "")
    status, said = vet(wrong)
    assert status != 0 and complaint in said, said
