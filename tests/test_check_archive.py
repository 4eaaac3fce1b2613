"""scripts/check_archive.py, the gate a plugin archive passes before the release publishes it, run as the
release workflow runs it on small stand-in archives: each carries the version strings a real one's
libraries carry, in files named as PyInstaller names them, and a bill of materials from scripts/bom.py.
(tests/test_release_build.py runs the gate on the archive a real build makes.)
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import tomllib
from hypothesis import given
from hypothesis import strategies as st

from support import REPO, script

archive_contents = script("archive_contents")
bom = script("bom")
release = script("release")

TODAY = "2026-12-07"
ARCHIVE = "pulumi-resource-clevercloud-tcp-v0.1.0-linux-amd64.tar.gz"


@dataclass(frozen=True)
class Bundle:
    """What a stand-in archive holds."""

    python: str
    openssl: str
    openssl_date: str
    openssl_files: tuple[str, ...]
    pydantic: str = "2.14.4"


# The 0.1.0 archive: CPython 3.11.2 with bullseye's OpenSSL 1.1.1w as shared libraries beside it.
TODAYS = Bundle("3.11.2", "1.1.1w", "11 Sep 2023", ("libcrypto.so.1.1", "libssl.so.1.1"))
# What scripts/debian_root.py builds now: OpenSSL linked statically into the ssl and hashlib modules.
MAINTAINED = Bundle("3.13.15", "3.5.7", "1 Jul 2025", ("python3.13/lib-dynload/_ssl.cpython-313-x86_64-linux-gnu.so",
                                                          "python3.13/lib-dynload/_hashlib.cpython-313-x86_64-linux-gnu.so"))  # fmt: skip


def make_archive(folder: Path, bundle: Bundle) -> Path:
    """A plugin archive (and its bill of materials) laid out as PyInstaller and scripts/release lay it out."""
    line = ".".join(bundle.python.split(".")[:2])
    files = {
        "pulumi-resource-clevercloud-tcp": b"\x7fELF bootloader",
        f"_internal/libpython{line}.so.1.0": b"\x7fELF\x00" + f"{line}\x00{bundle.python}\x00%s".encode(),
        "_internal/libz.so.1": b"\x7fELF\x00 deflate 1.2.11 Copyright 1995-2017 Jean-loup Gailly ",
        "_internal/libffi.so.7": b"\x7fELF\x00",
        "_internal/grpc/__init__.pyc": b"",
        "_internal/pydantic/__init__.pyc": b"",
        f"_internal/pydantic-{bundle.pydantic}.dist-info/METADATA": f"Name: pydantic\nVersion: {bundle.pydantic}\n".encode(),
        **{f"_internal/{name}": f"\x7fELF\x00OpenSSL {bundle.openssl}  {bundle.openssl_date}\x00".encode() for name in bundle.openssl_files},
    }
    unpacked = folder / "unpacked"
    for name, data in files.items():
        (unpacked / name).parent.mkdir(parents=True, exist_ok=True)
        (unpacked / name).write_bytes(data)
    target = folder / ARCHIVE
    release.write_archive(unpacked, target)
    facts = bom.BuildFacts(
        "6.22.3",
        [{"name": "grpcio", "version": "1.85.4", "modules": ["grpc"]}, {"name": "pydantic", "version": bundle.pydantic, "modules": ["pydantic"]}],
        {"zlib1g": "1:1.2.11.dfsg-2+deb11u2", "libffi7": "3.3-6"},
        "debian-11",
    )
    bom.write(target, facts, "0.1.0", "amd64", release.EPOCH)
    return target


def gate(archive: Path, *args: str, today: str = TODAY) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, REPO / "scripts" / "check_archive.py", "--today", today, *args, archive], capture_output=True, text=True, timeout=120
    )


def bom_of(archive: Path) -> Path:
    return archive.with_name(bom.bom_name(archive.name))


def test_the_gate_fails_on_the_0_1_0_archive_naming_its_openssl_and_its_cpython(tmp_path: Path) -> None:
    done = gate(make_archive(tmp_path, TODAYS))
    assert done.returncode == 1, done.stdout
    assert "OpenSSL 1.1.1w: the 1.1.1 line's security support ended on 2023-09-11" in done.stderr, done.stderr
    assert "CPython 3.11.2 is below the 3.11 line's floor 3.11.14" in done.stderr, done.stderr
    assert len(done.stderr.splitlines()) == 2, "the bill of materials agrees: only the two maintenance problems"


def test_the_gate_passes_an_archive_of_maintained_lines_whose_bill_of_materials_agrees(tmp_path: Path) -> None:
    done = gate(make_archive(tmp_path, MAINTAINED))
    assert done.returncode == 0, done.stderr
    assert f"{ARCHIVE}: CPython 3.13.15, OpenSSL 3.5.7, both maintained" in done.stdout


def test_the_gate_fails_once_a_line_s_security_support_has_ended(tmp_path: Path) -> None:
    archive = make_archive(tmp_path, MAINTAINED)
    assert gate(archive, today="2029-10-31").returncode == 0, "the last day of 3.13's support"
    done = gate(archive, today="2029-11-01")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"check_archive: {ARCHIVE}: CPython 3.13.15: the 3.13 line's security support ended on 2029-10-31: build a maintained line"]


def test_the_gate_fails_on_a_line_the_data_file_does_not_list(tmp_path: Path) -> None:
    done = gate(make_archive(tmp_path, Bundle("3.9.25", "3.5.7", "1 Jul 2025", MAINTAINED.openssl_files)))
    assert done.returncode == 1
    assert "CPython 3.9.25: the line 3.9 is not one scripts/maintained.toml lists under [cpython]" in done.stderr


def test_the_gate_fails_when_the_bill_of_materials_disagrees_with_the_archive(tmp_path: Path) -> None:
    archive = make_archive(tmp_path, MAINTAINED)
    document = json.loads(bom_of(archive).read_text())
    for component in document["components"]:
        if component["name"] in ("cpython", "pydantic"):
            component["version"] = {"cpython": "3.13.18", "pydantic": "2.99.0"}[component["name"]]
    bom_of(archive).write_text(json.dumps(document))
    done = gate(archive)
    assert done.returncode == 1
    assert "the bill of materials says cpython 3.13.18, the archive holds 3.13.15" in done.stderr, done.stderr
    assert "the bill of materials says pydantic 2.99.0, the archive holds 2.14.4" in done.stderr, done.stderr


def test_the_gate_fails_on_the_bill_of_materials_of_another_archive(tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "one", MAINTAINED)
    other = make_archive(tmp_path / "two", Bundle("3.13.15", "3.5.7", "1 Jul 2025", MAINTAINED.openssl_files, pydantic="2.14.5"))
    done = gate(archive, "--bom", str(bom_of(other)))
    assert done.returncode == 1
    assert "the bill of materials describes another archive" in done.stderr
    assert "the bill of materials says pydantic 2.14.5, the archive holds 2.14.4" in done.stderr


def test_the_gate_refuses_an_archive_without_its_bill_of_materials(tmp_path: Path) -> None:
    archive = make_archive(tmp_path, MAINTAINED)
    bom_of(archive).unlink()
    done = gate(archive)
    assert done.returncode == 1
    assert done.stderr.strip().endswith("is missing: scripts/release writes the archive and its .cdx.json together"), done.stderr


def test_the_bill_of_materials_is_cyclonedx_listing_each_bundled_component_with_its_version(tmp_path: Path) -> None:
    document = json.loads(bom_of(make_archive(tmp_path, MAINTAINED)).read_text())
    assert (document["bomFormat"], document["specVersion"]) == ("CycloneDX", "1.5")
    versions = {c["name"]: c.get("version") for c in document["components"]}
    assert versions == {
        "cpython": "3.13.15", "openssl": "3.5.7", "zlib": "1.2.11", "libffi": "3.3", "pyinstaller": "6.22.3",
        "grpcio": "1.85.4", "pydantic": "2.14.4",
    }  # fmt: skip
    purls = {c["name"]: c["purl"] for c in document["components"]}
    assert purls["zlib"] == "pkg:deb/debian/zlib1g@1:1.2.11.dfsg-2+deb11u2?arch=amd64&distro=debian-11"
    assert purls["grpcio"] == "pkg:pypi/grpcio@1.85.4"
    assert {c["name"]: c.get("cpe") for c in document["components"]}["openssl"] == "cpe:2.3:a:openssl:openssl:3.5.7:*:*:*:*:*:*:*"
    assert document["metadata"]["component"]["version"] == "0.1.0"


# --- the version rules the gate applies ---------------------------------------------------------------

releases = st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40))


@given(releases, releases)
def test_versions_compare_as_their_numbers(a: tuple[int, int, int], b: tuple[int, int, int]) -> None:
    key = archive_contents.version_key
    assert (key(".".join(map(str, a))) < key(".".join(map(str, b)))) == (a < b)


@given(st.integers(0, 40), st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=2))
def test_an_openssl_letter_release_is_newer_than_the_release_it_follows(patch: int, letters: str) -> None:
    assert archive_contents.version_key(f"1.1.{patch}{letters}") > archive_contents.version_key(f"1.1.{patch}")
    assert archive_contents.openssl_line(f"1.1.{patch}{letters}") == f"1.1.{patch}"


@given(st.integers(3, 9), st.integers(0, 40), st.integers(0, 40))
def test_openssl_lines_from_3_on_are_major_minor(major: int, minor: int, patch: int) -> None:
    assert archive_contents.openssl_line(f"{major}.{minor}.{patch}") == f"{major}.{minor}"


def test_every_line_in_the_data_file_has_a_date_and_a_floor_of_its_own_line() -> None:
    data = tomllib.loads((REPO / "scripts" / "maintained.toml").read_text())
    line_of = {"cpython": lambda v: ".".join(v.split(".")[:2]), "openssl": archive_contents.openssl_line}
    for kind, lines in data.items():
        for line, policy in lines.items():
            assert isinstance(policy["security_until"], datetime.date), (kind, line)
            assert line_of[kind](policy["minimum"]) == line, (kind, line, policy["minimum"])
