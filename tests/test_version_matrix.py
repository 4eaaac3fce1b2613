"""The versions matrix says what it tests: the docs' table, the ranges the packages accept, the ends
scripts/test-matrix runs, the CLI scripts/install-pulumi builds, and the cells CI runs all agree."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
MATRIX = (ROOT / "scripts" / "test-matrix").read_text()
INSTALL_PULUMI = (ROOT / "scripts" / "install-pulumi").read_text()


def assigned(name: str, text: str) -> str:
    found = re.search(rf'^{name}="(?:\$\{{[A-Z_]+:-)?([^"}}]+)\}}?"', text, re.MULTILINE)
    assert found, f"no {name}= line"
    return found.group(1)


def docs_table() -> dict[str, tuple[str, str]]:
    """Component -> (oldest, newest), from the table of docs/installation-configuration.md."""
    text = (ROOT / "docs" / "installation-configuration.md").read_text()
    table = text.split("### Tested versions", 1)[1].split("\n## ", 1)[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines() if line.startswith("| ")]
    return {row[0]: (row[1], row[2]) for row in rows[1:]}


def test_the_docs_table_names_the_ends_the_matrix_runs() -> None:
    table = docs_table()
    assert table["`pulumi` Python SDK"][0] == assigned("OLDEST_SDK", MATRIX)
    assert table["`pulumi` CLI"] == (assigned("OLDEST_CLI", MATRIX), assigned("version", INSTALL_PULUMI))
    assert table["`@pulumi/pulumi` (npm)"][0] == assigned("OLDEST_NODE", MATRIX)
    cells = subprocess.run(["bash", ROOT / "scripts" / "test-matrix", "--list"], capture_output=True, text=True, check=True).stdout.split()
    oldest_python, newest_python = table["Python"]
    assert {f"python{oldest_python}", f"python{newest_python}"} <= set(cells)


def test_the_oldest_ends_are_the_floors_the_packages_accept() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (pulumi,) = [d for d in project["dependencies"] if d.startswith("pulumi")]
    oldest = assigned("OLDEST_SDK", MATRIX)
    assert pulumi == f"pulumi>={oldest.removesuffix('.0')},<4"
    assert project["requires-python"] == f">={docs_table()['Python'][0]}"
    schema = json.loads((ROOT / "schema.json").read_text())
    assert schema["language"]["python"]["requires"]["pulumi"] == f">={oldest},<4.0.0"
    assert schema["language"]["nodejs"]["dependencies"]["@pulumi/pulumi"] == f"^{assigned('OLDEST_NODE', MATRIX)}"
    # The promise scripts/install-pulumi keeps for a CLI found on PATH is the oldest the matrix runs.
    assert assigned("min_version", INSTALL_PULUMI) == assigned("OLDEST_CLI", MATRIX).removeprefix("v")


def test_ci_runs_every_cell_that_scripts_test_does_not() -> None:
    ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    in_ci = [entry["cell"] for entry in ci["jobs"]["versions"]["strategy"]["matrix"]["include"]]
    (line,) = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("bash scripts/test-matrix ")]
    cells = subprocess.run(["bash", ROOT / "scripts" / "test-matrix", "--list"], capture_output=True, text=True, check=True).stdout.split()
    # scripts/test itself is the cell of the newest CLI and the pinned @pulumi/pulumi.
    assert set(in_ci) == set(cells) - {"cli-newest", "node-oldest"}
    # .ci/run, on one machine within its time, leaves out only the Python between the two ends.
    assert line.split()[2:] == [cell for cell in in_ci if cell != "python3.12"]
