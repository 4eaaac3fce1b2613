"""The gate a plugin archive passes before it is published: it reads the archive itself.

    python3 scripts/check_archive.py [--bom FILE] [--maintained FILE] [--today YYYY-MM-DD] ARCHIVE

Fails (exit 1, one line per problem) when the archive holds a CPython or OpenSSL line that
scripts/maintained.toml does not list, whose security support has ended, or a release below the line's
floor; or when its bill of materials (`<archive>.cdx.json` beside it, from scripts/release) is not this
archive's or disagrees with what the archive holds. Standard library only (Python 3.11+ for tomllib).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import archive_contents
import bom
import tomllib

MAINTAINED = Path(__file__).resolve().parent / "maintained.toml"


def maintenance_problems(kind: str, label: str, version: str, line: str, lines: dict[str, Any], today: datetime.date) -> list[str]:
    """What is wrong with bundling label `version` (of `line`) on `today`, by maintained.toml's table of kind."""
    policy = lines.get(line)
    if policy is None:
        return [f"{label} {version}: the line {line} is not one scripts/maintained.toml lists under [{kind}]: build a listed line"]
    problems = []
    if today > policy["security_until"]:
        problems.append(f"{label} {version}: the {line} line's security support ended on {policy['security_until']}: build a maintained line")
    if archive_contents.version_key(version) < archive_contents.version_key(policy["minimum"]):
        problems.append(f"{label} {version} is below the {line} line's floor {policy['minimum']}: build {policy['minimum']} or newer")
    return problems


def bom_problems(archive: Path, document: dict[str, Any], contents: archive_contents.Contents) -> list[str]:
    """Where the bill of materials is not archive's, or disagrees with what it holds."""
    problems = []
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    hashes = {h.get("alg"): h.get("content") for h in document.get("metadata", {}).get("component", {}).get("hashes", [])}
    if hashes.get("SHA-256") != digest:
        problems.append(f"the bill of materials describes another archive (SHA-256 {hashes.get('SHA-256')}, not {digest})")
    listed: dict[str, list[str | None]] = {}
    modules: dict[str, set[str]] = {}
    for component in document.get("components", []):
        listed.setdefault(component["name"], []).append(component.get("version"))
        for prop in component.get("properties", []):
            if prop["name"] == bom.MODULES:
                modules[component["name"]] = set(filter(None, prop["value"].split(",")))

    def compare(name: str, found: set[str]) -> None:
        said = set(filter(None, listed.get(name, [])))
        if said != found:
            problems.append(f"the bill of materials says {name} {', '.join(sorted(said)) or '(none)'}, the archive holds {', '.join(sorted(found)) or '(none)'}")

    compare("cpython", {contents.python} if contents.python else set())
    compare("openssl", set(contents.openssl.values()))
    compare("zlib", {contents.zlib} if contents.zlib else set())
    if bool(contents.libffi_file) != ("libffi" in listed):
        problems.append(f"the bill of materials {'omits' if contents.libffi_file else 'lists'} libffi, which the archive {'holds' if contents.libffi_file else 'does not hold'}")
    for name, version in sorted(contents.distributions.items()):
        compare(name, {version})
    for name, names in sorted(modules.items()):
        if missing := sorted(names - contents.top_level):
            problems.append(f"the bill of materials says {name} brings {', '.join(missing)}, which the archive does not hold")
    return problems


def check(archive: Path, document: dict[str, Any], maintained: dict[str, Any], today: datetime.date) -> tuple[archive_contents.Contents, list[str]]:
    with archive_contents.unpacked(archive) as folder:
        contents = archive_contents.read(folder)
    problems = []
    if contents.python and contents.python_line:
        problems += maintenance_problems("cpython", "CPython", contents.python, contents.python_line, maintained["cpython"], today)
    else:
        problems.append("no CPython library with a version string found in the archive")
    if not contents.openssl:
        problems.append("no OpenSSL version string found in the archive (libssl, libcrypto, _ssl or _hashlib)")
    for version in sorted(set(contents.openssl.values())):
        line = archive_contents.openssl_line(version)
        problems += maintenance_problems("openssl", "OpenSSL", version, line, maintained["openssl"], today)
    return contents, problems + bom_problems(archive, document, contents)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="check_archive", description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path, help="a pulumi-resource-*.tar.gz plugin archive")
    parser.add_argument("--bom", type=Path, help="its bill of materials (default: <archive>.cdx.json beside it)")
    parser.add_argument("--maintained", type=Path, default=MAINTAINED, help="the lines' dates and floors (default: scripts/maintained.toml)")
    parser.add_argument("--today", type=datetime.date.fromisoformat, default=datetime.date.today(), help="the day to judge support on")
    args = parser.parse_args(argv)
    bom_path = args.bom or args.archive.with_name(bom.bom_name(args.archive.name))
    if not args.archive.is_file() or not bom_path.is_file():
        missing = args.archive if not args.archive.is_file() else bom_path
        print(f"check_archive: {missing} is missing: scripts/release writes the archive and its .cdx.json together", file=sys.stderr)
        return 1
    try:
        maintained = tomllib.loads(args.maintained.read_text())
        document = json.loads(bom_path.read_text())
    except (OSError, ValueError) as err:
        print(f"check_archive: {err}", file=sys.stderr)
        return 1
    contents, problems = check(args.archive, document, maintained, args.today)
    for problem in problems:
        print(f"check_archive: {args.archive.name}: {problem}", file=sys.stderr)
    if problems:
        return 1
    openssl = ", ".join(sorted(set(contents.openssl.values())))
    print(f"{args.archive.name}: CPython {contents.python}, OpenSSL {openssl}, both maintained; {bom_path.name} agrees "
          f"({len(document.get('components', []))} components)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
