"""What a plugin archive holds, read from its files: the CPython and OpenSSL versions compiled into its
libraries, zlib's, the libffi library, and the Python distributions whose metadata it carries.

Used by scripts/bom.py (the bill of materials scripts/release writes beside each archive) and
scripts/check_archive.py (the gate the release runs before publishing). Standard library only: the
release workflow runs these with any python3.
"""

from __future__ import annotations

import re
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# CPython's library: libpython3.X.so.1.0 (Linux), libpython3.X.dylib or the framework's `Python` (macOS),
# python3X.dll (Windows). Its own version is one string in it, PY_VERSION ("3.13.18").
PYTHON_LIBRARY = re.compile(r"^(?:libpython(?P<dotted>3\.\d+)[.a-z0-9]*|python(?P<plain>3\d+)\.dll|Python)$")
PY_VERSION = rb"\x00(3\.\d+\.\d+(?:(?:a|b|rc)\d+)?)\x00"
# OpenSSL's version text, as OpenSSL_version() returns it: "OpenSSL 3.5.10 27 Jan 2026", "OpenSSL 1.1.1w  11 Sep 2023".
OPENSSL_VERSION = re.compile(rb"OpenSSL (\d+\.\d+\.\d+[a-z]?) +\d{1,2} [A-Z][a-z]{2} \d{4}")
# Where OpenSSL lives: its own libraries, or linked statically into the ssl and hashlib extension modules.
OPENSSL_FILE = re.compile(r"^(?:lib(?:crypto|ssl)\b.*|_ssl\..*|_hashlib\..*)$")
ZLIB_VERSION = re.compile(rb"(?:deflate|inflate) (\d+\.\d+(?:\.\d+)*) Copyright")
ZLIB_FILE = re.compile(r"^(?:libz\.so.*|libz\.\d.*dylib|zlib.*\.dll|python3\d*\.dll|_?zlib\..*)$")
LIBFFI_FILE = re.compile(r"^libffi[.-].*$")
DIST_INFO = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)\.dist-info$")


@dataclass
class Contents:
    """What was found; a None version: no such library in the archive."""

    python: str | None = None
    python_file: str | None = None
    openssl: dict[str, str] = field(default_factory=dict)  # file -> version found in it
    zlib: str | None = None
    libffi_file: str | None = None
    distributions: dict[str, str] = field(default_factory=dict)  # normalized name -> version, from *.dist-info
    top_level: set[str] = field(default_factory=set)  # module and package names at the bundle's top

    @property
    def python_line(self) -> str | None:
        return ".".join(self.python.split(".")[:2]) if self.python else None


def normalize(name: str) -> str:
    """A distribution's name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


@contextmanager
def unpacked(target: Path) -> Iterator[Path]:
    """target's folder: target itself when it is one, else the .tar.gz archive unpacked in a scratch folder."""
    if target.is_dir():
        yield target
        return
    with tempfile.TemporaryDirectory(prefix="plugin-archive-") as scratch:
        with tarfile.open(target) as archive:
            archive.extractall(scratch, filter="data")
        yield Path(scratch)


def _found(pattern: re.Pattern[bytes], path: Path) -> str | None:
    match = pattern.search(path.read_bytes())
    return match.group(1).decode() if match else None


def read(folder: Path) -> Contents:
    """What folder (an unpacked plugin archive) holds."""
    contents = Contents()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        name = path.name
        relative = path.relative_to(folder).as_posix()
        library = PYTHON_LIBRARY.match(name)
        if library and contents.python is None:
            plain = library["plain"]
            line = library["dotted"] or (f"{plain[0]}.{plain[1:]}" if plain else "3.")
            versions = [found.decode() for found in re.findall(PY_VERSION, path.read_bytes())]
            contents.python = next((v for v in versions if v.startswith(line)), None)
            contents.python_file = relative if contents.python else None
        if OPENSSL_FILE.match(name) and (version := _found(OPENSSL_VERSION, path)):
            contents.openssl[relative] = version
        if ZLIB_FILE.match(name) and contents.zlib is None:
            contents.zlib = _found(ZLIB_VERSION, path)
        if LIBFFI_FILE.match(name):
            contents.libffi_file = relative
    for top in _bundle_top(folder).iterdir():
        dist_info = DIST_INFO.match(top.name)
        if dist_info:
            contents.distributions[normalize(dist_info["name"])] = dist_info["version"]
        elif top.is_dir() or top.suffix in (".pyc", ".so", ".pyd"):
            contents.top_level.add(top.name.split(".")[0])
    return contents


def _bundle_top(folder: Path) -> Path:
    """Where PyInstaller puts the bundled modules: `_internal/` beside the executable (6.x), else the folder."""
    internal = folder / "_internal"
    return internal if internal.is_dir() else folder


def openssl_line(version: str) -> str:
    """OpenSSL's release line: major.minor from 3.0 on (3.5.10 -> 3.5), the three numbers before (1.1.1w -> 1.1.1)."""
    numbers = re.findall(r"\d+", version)
    return ".".join(numbers[:2] if int(numbers[0]) >= 3 else numbers[:3])


def version_key(version: str) -> tuple[tuple[int, str], ...]:
    """A comparable form of 3.13.18, 1.1.1w or 3.14.0rc1: each number with the letters after it."""
    return tuple((int(number), letters) for number, letters in re.findall(r"(\d+)([a-z]*)", version))
