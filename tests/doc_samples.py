"""The code samples of README.md, CONTRIBUTING.md, docs/ and schema.json's examples, as the tests see them.

Every fenced block of the Markdown files carries a marker on the line just above its fence:

- `<!-- sample: RUNNER -->`: tests/e2e/test_doc_samples.py runs the block as written, with RUNNER;
- `<!-- not-run: REASON -->`: it cannot run here (a published package, the real Clever Cloud, a
  diagram); tests/test_docs.py checks what can be checked in it (package names, the version, paths).

A block without a marker fails tests/test_docs.py, so no sample can be added or changed unseen. The
examples in schema.json's descriptions carry no marker (the Registry shows them as they are): each
runs by its language.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
SCHEMA_FILE = ROOT / "schema.json"

# The runners of tests/e2e/test_doc_samples.py, which a `sample:` marker names.
RUNNERS = (
    "python-program",  # a Python program, run by `python -m clevercloud_tcp.run FILE up --emulator`, then destroyed
    "two-organisations",  # a Python program run so, with the fixture's two organisations' credentials as acmeToken… globexSecret
    "yaml-program",  # a Pulumi.yaml, `pulumi up` with the plain CLI against the emulator, then destroyed
    "typescript-program",  # an index.ts, type-checked by tsc against sdk/nodejs as built
    "go-program",  # a main package, built by `go build` against sdk/go
    "config-set",  # `pulumi config set` lines, run in a stack's project folder
    "run-command",  # shell lines run from a copy of the repository's files
    "run-recover",  # the same, after an `up` of examples/python-dynamic
    "recover-command",  # shell lines run in a YAML project folder whose stack is up against the emulator
    "yaml-shell",  # shell lines run in examples/yaml's folder, its stack set up against the emulator; then the API holds what the state records
    "automation-script",  # a Python script of the Automation API, the emulator's endpoint and credentials in its environment
    "recover-cli",  # shell lines run in a YAML project folder whose `up` was killed with creates in flight
    "emulator-shell",  # shell lines on their own, in an empty folder
    "release-archive",  # shell lines in a folder holding the release's linux-amd64 archive and checksums.txt (tests/e2e/test_release_from_outside.py)
    "kit-pytest",  # a test file, run by pytest with the kit's fixtures
    "kit-script",  # a script that follows the block above it (its definitions come first)
)
FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)(?P<info>[^`]*)$")
MARKER = re.compile(r"^\s*<!--\s*(?P<kind>sample|not-run):\s*(?P<value>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Sample:
    source: str  # README.md, docs/x.md, or schema.json#<token>
    line: int  # of the opening fence (1-based); the block's number for schema.json
    lang: str
    code: str
    kind: str  # "sample" (run), "not-run", or "" (no marker)
    value: str  # the runner's name, or why it is not run

    @property
    def name(self) -> str:
        return f"{self.source}:{self.line}:{self.lang or 'text'}"


def blocks(text: str, source: str) -> list[Sample]:
    """The fenced blocks of a Markdown text, each with the marker on the line above its fence."""
    lines = text.splitlines()
    found: list[Sample] = []
    i = 0
    while i < len(lines):
        opening = FENCE_OPEN.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening.group("indent"), opening.group("fence")
        end = i + 1
        while end < len(lines) and not re.match(rf"^[ \t]*{re.escape(fence)}\s*$", lines[end]):
            end += 1
        body = [line[len(indent):] if line.startswith(indent) else line for line in lines[i + 1 : end]]
        marker = MARKER.match(lines[i - 1]) if i > 0 else None
        found.append(
            Sample(
                source=source,
                line=i + 1,
                lang=opening.group("info").strip().split(" ")[0],
                code="\n".join(body) + "\n",
                kind=marker.group("kind") if marker else "",
                value=marker.group("value") if marker else "",
            )
        )
        i = end + 1
    return found


def doc_samples(files: list[Path] | None = None) -> list[Sample]:
    return [s for doc in files or DOC_FILES for s in blocks(doc.read_text(), str(doc.relative_to(ROOT)))]


def schema_samples(schema: dict[str, object] | None = None) -> list[Sample]:
    """The code blocks of the `{{% example %}}` sections of every description in the schema's resources and functions."""
    loaded = schema or json.loads(SCHEMA_FILE.read_text())
    found: list[Sample] = []
    for section in ("resources", "functions"):
        for token, spec in loaded.get(section, {}).items():  # type: ignore[union-attr]
            description = spec.get("description", "")
            for n, example in enumerate(re.findall(r"\{\{% example %\}\}(.*?)\{\{% /example %\}\}", description, re.S), 1):
                for lang, code in re.findall(r"^```(\w+)\n(.*?)^```$", example, re.S | re.M):
                    found.append(Sample(f"schema.json#{token}", n, lang, code, "sample", f"{lang}-program"))
    return found
