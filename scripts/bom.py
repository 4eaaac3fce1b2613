"""The bill of materials of a plugin archive: a CycloneDX 1.5 JSON document, `<archive>.cdx.json` beside
`<archive>.tar.gz`, listing every component bundled in it with its version.

The interpreter, OpenSSL and zlib versions are read from the archive's own files (archive_contents.py);
libffi's, when the build host's package manager knows it; the Python distributions and PyInstaller's
from the environment that built the archive (`DISTRIBUTIONS`, run by that environment's Python), each
with the top-level modules of it that the archive holds. scripts/check_archive.py compares the two.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import archive_contents

SPEC_VERSION = "1.5"
MODULES = "clevercloud-tcp:modules"  # the property naming a distribution's top-level modules in the archive
FILE = "clevercloud-tcp:file"  # the property naming the file a version was read from

# Run by the build environment's Python with the bundle's top folder as argument: the installed
# distributions that own a top-level module or package found there, and PyInstaller's version, as JSON.
DISTRIBUTIONS = """
import importlib.metadata as m, json, pathlib, sys
top = pathlib.Path(sys.argv[1])
bundled = {p.name.split(".")[0] for p in top.iterdir() if p.is_dir() or p.suffix in (".pyc", ".so", ".pyd")}
found = []
for dist in m.distributions():
    names = {f.parts[0].split(".")[0] for f in dist.files or () if f.parts and not f.parts[0].endswith((".dist-info", ".data"))}
    modules = sorted(names & bundled - {"__pycache__", ".."})
    if modules:
        found.append({"name": dist.metadata["Name"], "version": dist.version, "modules": modules})
print(json.dumps({"pyinstaller": m.version("pyinstaller"), "distributions": sorted(found, key=lambda d: d["name"].lower())}))
"""


@dataclass
class BuildFacts:
    """What the build knows that the archive does not say: the output of DISTRIBUTIONS, and the versions
    of the build host's system packages bundled (Debian's, for the Linux archive)."""

    pyinstaller: str
    distributions: list[dict[str, Any]]
    system_packages: dict[str, str] = field(default_factory=dict)  # Debian package name -> version
    distro: str | None = None  # e.g. "debian-11"

    @classmethod
    def parse(cls, output: str, system_packages: dict[str, str] | None = None, distro: str | None = None) -> BuildFacts:
        found = json.loads(output)
        return cls(found["pyinstaller"], found["distributions"], system_packages or {}, distro)


def bom_name(archive_name: str) -> str:
    return archive_name.removesuffix(".tar.gz") + ".cdx.json"


def _component(name: str, version: str | None, purl: str | None = None, **extra: Any) -> dict[str, Any]:
    component: dict[str, Any] = {"type": "library", "bom-ref": f"{name}@{version or 'unknown'}", "name": name}
    if version:
        component["version"] = version
    if purl:
        component["purl"] = purl
    return {**component, **extra}


def _properties(**values: str) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in values.items()]


def _debian(package: str, facts: BuildFacts, arch: str) -> str | None:
    version = facts.system_packages.get(package)
    return f"pkg:deb/debian/{package}@{version}?arch={arch}&distro={facts.distro}" if version else None


def components(contents: archive_contents.Contents, facts: BuildFacts, arch: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if contents.python:
        cpe = f"cpe:2.3:a:python:python:{contents.python}:*:*:*:*:*:*:*"
        found.append(_component("cpython", contents.python, f"pkg:generic/cpython@{contents.python}", cpe=cpe,
                                properties=_properties(**{FILE: contents.python_file or ""})))  # fmt: skip
    for version in sorted(set(contents.openssl.values())):
        files = ",".join(sorted(f for f, v in contents.openssl.items() if v == version))
        cpe = f"cpe:2.3:a:openssl:openssl:{version}:*:*:*:*:*:*:*"
        found.append(_component("openssl", version, f"pkg:generic/openssl@{version}", cpe=cpe, properties=_properties(**{FILE: files})))
    if contents.zlib:
        found.append(_component("zlib", contents.zlib, _debian("zlib1g", facts, arch) or f"pkg:generic/zlib@{contents.zlib}"))
    if contents.libffi_file:
        package = next((p for p in facts.system_packages if p.startswith("libffi")), None)
        upstream = facts.system_packages[package].split(":")[-1].rsplit("-", 1)[0] if package else None
        purl = _debian(package, facts, arch) if package else None
        found.append(_component("libffi", upstream, purl, properties=_properties(**{FILE: contents.libffi_file})))
    found.append(_component("pyinstaller", facts.pyinstaller, f"pkg:pypi/pyinstaller@{facts.pyinstaller}",
                            description="PyInstaller's bootloader (the executable) and its run-time hooks"))  # fmt: skip
    for dist in facts.distributions:
        name = archive_contents.normalize(dist["name"])
        found.append(_component(name, dist["version"], f"pkg:pypi/{name}@{dist['version']}",
                                properties=_properties(**{MODULES: ",".join(dist["modules"])})))  # fmt: skip
    return found


def cyclonedx(archive: Path, contents: archive_contents.Contents, facts: BuildFacts, version: str, arch: str, epoch: int) -> dict[str, Any]:
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    listed = components(contents, facts, arch)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        # Derived from the archive: the same build gives the same document.
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'sha256:{digest}')}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tools": {"components": [{"type": "application", "name": "scripts/release"}]},
            "component": {
                "type": "application", "bom-ref": "plugin", "name": archive.name.split("-v")[0], "version": version,
                "hashes": [{"alg": "SHA-256", "content": digest}],
                "properties": _properties(**{FILE: archive.name}),
            },
        },
        "components": listed,
        "dependencies": [{"ref": "plugin", "dependsOn": [c["bom-ref"] for c in listed]}],
    }  # fmt: skip


def write(archive: Path, facts: BuildFacts, version: str, arch: str, epoch: int) -> Path:
    """archive's bill of materials, written beside it."""
    with archive_contents.unpacked(archive) as folder:
        contents = archive_contents.read(folder)
    target = archive.with_name(bom_name(archive.name))
    target.write_text(json.dumps(cyclonedx(archive, contents, facts, version, arch, epoch), indent=2) + "\n")
    return target
