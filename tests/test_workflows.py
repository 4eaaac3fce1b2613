"""The GitHub Actions workflows: linted by the pinned actionlint, actions pinned by commit, maintained
Node.js, no secret on a command line; ci.yml runs the project's test command."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from workflows import BASH, NODE_VERSIONS, ROOT, WORKFLOWS, load, runs, steps, uses

# --- (a) actionlint ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def actionlint() -> Iterator[str]:
    """The pinned actionlint from scripts/install-actionlint (built from Go modules the first time)."""
    assert BASH, "bash is needed to run scripts/install-actionlint"
    done = subprocess.run([BASH, str(ROOT / "scripts" / "install-actionlint")], capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        pytest.fail("scripts/install-actionlint failed (it needs Go to build actionlint; CI must have every tool):\n" + done.stderr[-3000:])
    path = done.stdout.strip().splitlines()[-1]
    assert Path(path).is_file(), f"scripts/install-actionlint printed {path!r}, which is no file"
    yield path


def lint(binary: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary, "-no-color", "-oneline", *map(str, files)], capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_actionlint_passes(actionlint: str, name: str) -> None:
    done = lint(actionlint, WORKFLOWS / name)
    assert done.returncode == 0, f"actionlint on {name}:\n{done.stdout}{done.stderr}"


def test_actionlint_catches_what_it_should(actionlint: str, tmp_path: Path) -> None:
    """A linter that passes everything proves nothing: it must refuse a retired runner and a bad expression."""
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text("on: push\njobs:\n  build:\n    runs-on: macos-12\n    steps:\n      - run: echo ${{ matrix.nothing.here }}\n")
    done = lint(actionlint, broken)
    assert done.returncode != 0
    assert "[runner-label]" in done.stdout and "[expression]" in done.stdout, done.stdout


def test_the_pinned_actionlint_is_the_one_used(actionlint: str) -> None:
    script = (ROOT / "scripts" / "install-actionlint").read_text()
    pinned = re.search(r"ACTIONLINT_VERSION:-(v\d+\.\d+\.\d+)\}", script)
    assert pinned, "scripts/install-actionlint pins no version"
    assert Path(actionlint).parent.name == f"actionlint-{pinned.group(1)}"
    reported = subprocess.run([actionlint, "-version"], capture_output=True, text=True, timeout=30).stdout
    assert reported.splitlines()[0].strip() == pinned.group(1)


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_actions_are_pinned_by_commit_with_the_tag_named(name: str) -> None:
    """A tag can be moved to other code, which would then run with the job's permissions and secrets."""
    lines = [line.strip() for line in (WORKFLOWS / name).read_text().splitlines() if re.match(r"\s*(-\s+)?uses:", line)]
    assert lines, f"{name} uses no action"
    for line in lines:
        assert re.fullmatch(r"(-\s+)?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+){0,2}", line), (
            f"{name}: `{line}` is not pinned by commit SHA with a `# vX.Y.Z` comment"
        )


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_node_js_is_a_maintained_release(name: str) -> None:
    for job_name, job in load(name)["jobs"].items():
        for node in uses(job, "actions/setup-node"):
            assert str(node["with"]["node-version"]) in NODE_VERSIONS, f"{name} {job_name} runs Node.js {node['with']['node-version']}"


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_no_step_puts_a_secret_on_a_command_line_or_traces_its_commands(name: str) -> None:
    for job_name, job in load(name)["jobs"].items():
        for step in steps(job):
            script_text = step.get("run", "")
            assert "secrets." not in script_text, f"{name} {job_name}: a secret expanded into a script (pass it through env)"
            assert not re.search(r"set -\w*x|bash -\w*x", script_text), f"{name} {job_name}: command tracing prints values"


# --- (d) ci.yml -------------------------------------------------------------------------------------------------


def test_ci_runs_the_test_command_on_pull_requests_and_main() -> None:
    ci = load("ci.yml")
    assert "pull_request" in ci["on"]
    assert ci["on"]["push"]["branches"] == ["main"]
    testers = [job for job in ci["jobs"].values() if re.search(r"(^|[\s;&|(])(\./)?scripts/test(\s|$)", runs(job), re.MULTILINE)]
    assert len(testers) == 1, "no job runs scripts/test"
    job = testers[0]
    assert job["runs-on"] == "ubuntu-latest"
    (python,) = uses(job, "actions/setup-python")
    assert str(python["with"]["python-version"]) == "3.11"
    assert uses(job, "actions/setup-go")
    assert uses(job, "actions/setup-node")
    assert ci.get("permissions") == {"contents": "read"}
