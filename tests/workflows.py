"""The GitHub Actions workflows as data, for the tests that read them: jobs, steps, the actions they use,
what runs before what, and a small evaluator of `${{ }}` expressions for the shell steps run here."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from support import script

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
SCHEMA = json.loads((ROOT / "schema.json").read_text())
PLUGIN = f"pulumi-resource-{SCHEMA['name']}"
ARCHIVE_NAME = re.compile(
    rf"^{re.escape(PLUGIN)}-v(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)-(?P<os>linux|darwin|windows)-(?P<arch>amd64|arm64)\.tar\.gz$"
)
# The six builds, each on a runner of that os and arch (linux amd64 on the oldest glibc image).
RUNNERS = {
    ("linux", "amd64"): {"ubuntu-22.04"},
    ("linux", "arm64"): {"ubuntu-22.04-arm", "ubuntu-24.04-arm"},
    ("darwin", "amd64"): {"macos-15-intel", "macos-26-intel"},  # macos-13 was retired in December 2025
    ("darwin", "arm64"): {"macos-14", "macos-15", "macos-26"},
    ("windows", "amd64"): {"windows-latest", "windows-2022", "windows-2025"},
    ("windows", "arm64"): {"windows-11-arm"},
}
VERSION = (ROOT / "VERSION").read_text().strip()
BASH = shutil.which("bash")
debian_root = script("debian_root")
bom = script("bom")
NODE_VERSIONS = {"22", "24"}  # Node.js 20 reached its end of life on 2026-04-30


def load(name: str) -> dict[str, Any]:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(workflow, dict), f"{name} is not a YAML mapping"
    # YAML 1.1 reads the key `on` as the boolean true.
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in steps(job))


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).split("@")[0] == action]


def needs(job: dict[str, Any]) -> list[str]:
    value = job.get("needs") or []
    return [value] if isinstance(value, str) else list(value)


def upstream(jobs: dict[str, Any], name: str) -> set[str]:
    """Every job that `name` waits for, directly or not."""
    seen: set[str] = set()
    todo = needs(jobs[name])
    while todo:
        job = todo.pop()
        if job not in seen:
            seen.add(job)
            todo.extend(needs(jobs[job]))
    return seen


def jobs_running(jobs: dict[str, Any], pattern: str) -> list[str]:
    return [name for name, job in jobs.items() if re.search(pattern, runs(job), re.MULTILINE)]


def the_job_running(jobs: dict[str, Any], pattern: str) -> str:
    found = jobs_running(jobs, pattern)
    assert len(found) == 1, f"expected one job whose steps run /{pattern}/, found {found}"
    return found[0]


def the_step(job: dict[str, Any], pattern: str) -> dict[str, Any]:
    found = [s for s in steps(job) if re.search(pattern, s.get("run", ""), re.MULTILINE)]
    assert len(found) == 1, f"expected one step running /{pattern}/, found {len(found)}"
    return found[0]


# --- a small evaluator of ${{ }} expressions: paths, 'strings', ==, !=, &&, || --------------------

TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||\(|\))|(?P<path>[A-Za-z_][\w.-]*))")


def evaluate(expr: str, context: dict[str, Any]) -> Any:
    python: list[str] = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        match = TOKEN.match(expr, pos)
        assert match and match.end() > pos, f"cannot evaluate {expr!r} at {expr[pos:]!r}"
        pos = match.end()
        if match["str"] is not None:
            python.append(repr(match["str"][1:-1].replace("''", "'")))
        elif match["op"] is not None:
            python.append({"&&": " and ", "||": " or "}.get(match["op"], match["op"]))
        else:
            value: Any = context
            for part in match["path"].split("."):
                assert isinstance(value, dict) and part in value, f"{match['path']} is not known in {expr!r}"
                value = value[part]
            python.append(repr(value))
    return eval("".join(python), {"__builtins__": {}}, {})  # only literals and operators remain


def render(text: str, context: dict[str, Any]) -> str:
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: str(evaluate(m.group(1), context)), text)


def job_env(job: dict[str, Any], context: dict[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    for key, value in (job.get("env") or {}).items():
        env[key] = render(str(value), {**context, "env": env})
    return env
