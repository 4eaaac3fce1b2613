"""`scripts/release` as the release workflow runs it: on a fresh clone with nothing run before, a venv it
makes itself from Python 3.10 to 3.13 (no `dev` extra), and the Linux plugin archive it builds, tried
where users run it: a Debian 11 root (glibc 2.31), under `env -i`, one plugin process per command.

The Linux plugin is built in a Debian 11 root (scripts/debian_root.py), which needs root: these tests
skip without it, and fail under CLEVERCLOUD_TCP_REQUIRE_ALL (as in CI).
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from clevercloud_tcp.testing import load_module
from clevercloud_tcp.testing.plugin_harness import PLUGIN
from support import interpreter, release_from_fresh_clone, release_in_fresh_clone, script, unavailable

ROOT = Path(__file__).resolve().parents[1]
VERSION = (ROOT / "VERSION").read_text().strip()
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
ARCHIVE = f"{PLUGIN}-v{VERSION}-linux-{ARCH}.tar.gz"
# The first test of the module also waits for its builds: on a fresh machine, the Debian roots and their
# CPython are made first (tens of minutes on 2 busy cores).
pytestmark = pytest.mark.timeout(3600)
GLIBC_FLOOR = (2, 31)
MAX_ARCHIVE_MIB = 20
debian_root = load_module("debian_root", ROOT / "scripts" / "debian_root.py")
glibc_floor = script("glibc_floor")
bom = script("bom")
# The interpreter the root builds, as the archive names its files: libpython3.13.so.1.0, python3.13/lib-dynload.
PYTHON_DIR = f"python{debian_root.PYTHON_LINE}"
LIBPYTHON = f"lib{PYTHON_DIR}.so.1.0"


def require_root() -> None:
    try:
        debian_root.require_root()
    except debian_root.RootError as err:
        unavailable(str(err))
    for tool in ("git", "objdump", "readelf", "strace", "npm"):
        if shutil.which(tool) is None:
            unavailable(f"no `{tool}` on PATH")


@dataclass(frozen=True)
class Builds:
    """Three plugin builds from three fresh clones: two started together, then a third."""

    together: tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]
    third: subprocess.CompletedProcess[str]
    outs: tuple[Path, Path, Path]
    opt_before_third: dict[str, tuple[int, int]]
    opt_after_third: dict[str, tuple[int, int]]


def build_root_opt() -> dict[str, tuple[int, int]]:
    """What the build root's /opt holds, two levels down: each entry's inode and change time."""
    opt = debian_root.build_dir(ARCH) / "opt"
    found = {}
    for path in [*opt.iterdir(), *(p for d in opt.iterdir() if d.is_dir() and not d.is_symlink() for p in d.iterdir())]:
        info = path.lstat()
        found[path.relative_to(opt).as_posix()] = (info.st_ino, info.st_ctime_ns)
    return found


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    require_root()
    # The plugin half: the whole release from a fresh clone is tests/e2e/test_release_from_outside.py's.
    works = [tmp_path_factory.mktemp(f"release-{n}") for n in ("a", "b", "c")]
    python = interpreter("11")
    # Two at once, as the suite's two workers (or two CI jobs on one runner) start them: they share the
    # cached Debian roots and the build environment in them.
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda work: release_in_fresh_clone(work, python, "--only", "plugin"), works[:2])
    before = build_root_opt()
    third = release_in_fresh_clone(works[2], python, "--only", "plugin")
    outs = [work / "clone" / "dist" for work in works]
    return Builds((a, b), third, (outs[0], outs[1], outs[2]), before, build_root_opt())


@pytest.fixture(scope="module")
def release(builds: Builds) -> Path:
    return builds.outs[2]


@pytest.fixture(scope="module")
def unpacked(release: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(release / ARCHIVE) as archive:
        archive.extractall(folder, filter="data")
    return folder


@pytest.fixture(scope="module")
def debian11(release: Path) -> Iterator[Path]:
    """The bare Debian 11 root (minbase: glibc 2.31, no Python, no compiler), with the archive unpacked in it."""
    root = debian_root.base_root(ARCH)
    with debian_root.scratch_in(root, "plugin-") as (outside, inside):
        with tarfile.open(release / ARCHIVE) as archive:
            archive.extractall(outside, filter="data")
        yield Path(inside) / PLUGIN


# --- the build, from nothing --------------------------------------------------------------------


@pytest.mark.parametrize("minor", ["10", "12", "13"])
def test_fresh_clone_builds_the_packages_with_python_3_x(minor: str, tmp_path: Path) -> None:
    """Python 3.10 and 3.11 venvs start with setuptools 65, 3.12+ with none: the packages build with each.
    (3.11 builds the whole release in tests/e2e/test_release_from_outside.py.)"""
    require_root()
    out = release_from_fresh_clone(tmp_path, interpreter(minor), "--only", "packages")
    for name in (f"pulumi_clevercloud_tcp-{VERSION}-py3-none-any.whl", f"clevercloud_tcp-{VERSION}-py3-none-any.whl"):
        with zipfile.ZipFile(out / name) as wheel:
            assert any(n.endswith(".dist-info/METADATA") for n in wheel.namelist()), name
    assert (out / f"clevercloud_tcp-{VERSION}.tar.gz").is_file() and (out / "checksums.txt").is_file()


def test_two_builds_at_once_both_succeed_and_a_third_reuses_the_build_environment(builds: Builds) -> None:
    # Both of the pair succeeded (the fixture asserts each); the third made nothing anew in the root's /opt.
    assert "build venv: reused /opt/build-venv-" in builds.third.stderr, builds.third.stderr
    assert builds.opt_after_third == builds.opt_before_third
    # And the three are one build: the same archive, byte for byte.
    digests = {hashlib.sha256((out / ARCHIVE).read_bytes()).hexdigest() for out in builds.outs}
    assert len(digests) == 1, "three builds of one commit gave different archives"


# --- what the Linux archive needs and holds ----------------------------------------------------------


def test_no_file_in_the_archive_needs_a_glibc_newer_than_2_31(release: Path) -> None:
    # The scan the release workflow runs on each Linux archive.
    done = subprocess.run(
        [sys.executable, ROOT / "scripts" / "glibc_floor.py", "--max", "2.31", release / ARCHIVE], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    highest = re.search(r"highest GLIBC version needed: ([\d.]+)", done.stdout)
    assert highest and glibc_floor.parse(highest.group(1)) <= GLIBC_FLOOR, done.stdout
    assert f" {PLUGIN}\n" in done.stdout and LIBPYTHON in done.stdout, "the scan saw the executable and libpython"


def test_the_glibc_scan_names_a_file_that_needs_a_newer_glibc(tmp_path: Path) -> None:
    if shutil.which("objdump") is None:
        unavailable("no `objdump` on PATH (binutils)")
    folder = tmp_path / "built-here"
    (folder / "bin").mkdir(parents=True)
    shutil.copy("/bin/ls", folder / "bin" / "ls")  # built against this machine's glibc
    found = glibc_floor.scan(folder)["bin/ls"]
    assert found is not None
    below = (*found[:-1], found[-1] - 1)
    done = subprocess.run(
        [sys.executable, ROOT / "scripts" / "glibc_floor.py", "--max", glibc_floor.show(below), folder], capture_output=True, text=True
    )
    assert done.returncode == 1, done.stdout
    assert f"bin/ls needs GLIBC_{glibc_floor.show(found)}, newer than {glibc_floor.show(below)}" in done.stderr, done.stderr


def test_archive_is_at_most_20_mib_and_its_shared_libraries_are_stripped(release: Path, unpacked: Path) -> None:
    size = (release / ARCHIVE).stat().st_size
    assert size <= MAX_ARCHIVE_MIB * 2**20, f"{ARCHIVE} is {size / 2**20:.1f} MiB"
    unstripped = [
        path.relative_to(unpacked).as_posix()
        for path in glibc_floor.elf_files(unpacked)
        if re.search(r"\s\.symtab\s", subprocess.run(["readelf", "-S", "-W", path], capture_output=True, text=True).stdout)
    ]
    assert unstripped == [], "ELF files with their symbol tables"


def test_the_archive_bundles_the_root_s_cpython_and_openssl_and_passes_the_release_gate(release: Path) -> None:
    """What the issue asked of the Linux archive: CPython at the patch release the root builds, OpenSSL 3.5
    LTS linked into ssl and hashlib (no bullseye libssl 1.1 beside them), both named in its bill of
    materials, and scripts/check_archive.py (the release workflow's gate) satisfied."""
    document = json.loads((release / bom.bom_name(ARCHIVE)).read_text())
    versions = {c["name"]: c.get("version") for c in document["components"]}
    assert versions["cpython"] == debian_root.PYTHON_SOURCE.upstream
    assert versions["openssl"] == debian_root.OPENSSL_SOURCE.upstream
    assert versions["pyinstaller"] == "6.22.3" and versions["clevercloud-tcp"] == VERSION
    assert {"zlib", "libffi", "grpcio", "pydantic", "pulumi", "httpx"} <= set(versions)
    purls = {c["name"]: c.get("purl", "") for c in document["components"]}
    assert "+deb11u" in purls["zlib"], f"zlib is not bullseye-security's: {purls['zlib']}"
    done = subprocess.run([sys.executable, ROOT / "scripts" / "check_archive.py", release / ARCHIVE], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"CPython {debian_root.PYTHON_SOURCE.upstream}, OpenSSL {debian_root.OPENSSL_SOURCE.upstream}, both maintained" in done.stdout


def try_plugin(executable: Path | str, prefix: list[str]) -> str:
    """scripts/try_plugin.py, as the release workflow runs it on every archive: --version, then check, create,
    read and delete, each in a new plugin process, against the emulator on 127.0.0.1."""
    done = subprocess.run(
        [sys.executable, ROOT / "scripts" / "try_plugin.py", "--prefix", shlex.join(prefix), str(executable)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def opened_files(traces: Path, folder: Path) -> set[str]:
    """Files under folder that the `strace -ff -e trace=openat` logs in traces show opened successfully."""
    opened = set()
    for trace in traces.iterdir():
        for found in re.finditer(r'openat\([^,]+, "([^"]+)", [^)]*\) = \d+', trace.read_text()):
            if found.group(1).startswith(f"{folder}/"):
                opened.add(Path(found.group(1)).relative_to(folder).as_posix())
    return opened


def top_level(path: str) -> str:
    """What a file of the archive belongs to: its top-level module or package, shared library, or metadata
    folder (without its version: the build resolves the dependencies anew)."""
    parts = path.split("/")
    if len(parts) == 1:
        return path  # the executable
    if parts[1] == PYTHON_DIR:  # lib-dynload: one extension module each
        return parts[-1].split(".")[0]
    return re.sub(r"-[^-]+\.dist-info$", ".dist-info", parts[1].split(".cpython-")[0].removesuffix(".pyc"))


# Bundled, and not opened in the run below for a reason that is not waste.
NOT_OPENED_HERE = {
    "_strptime": "imported by the C datetime and time modules at the first strptime() call",
    "struct": "its .pyc is shadowed: PyInstaller's bootstrap, embedded in the executable, imports it first",
    "pydantic.dist-info": "read by pydantic.version_info(), which its error reports call",
}


def test_everything_in_the_archive_is_something_the_plugin_opens(unpacked: Path, tmp_path: Path) -> None:
    """What is bundled against what the plugin imports and reads, as strace sees it: --version, then check,
    create, read and delete, each in its own process as the engine runs them. Each top-level module, package,
    extension module, shared library and metadata folder in the archive must be opened by that run."""
    traces = tmp_path / "traces"
    traces.mkdir()
    try_plugin(unpacked / PLUGIN, ["strace", "-ff", "-qq", "-e", "trace=openat", "-o", str(traces / "trace")])
    opened = {top_level(path) for path in opened_files(traces, unpacked)}
    bundled = {top_level(p.relative_to(unpacked).as_posix()) for p in unpacked.rglob("*") if p.is_file()}
    assert {LIBPYTHON.split(".so")[0], "grpc", "clevercloud_tcp", "certifi", "_ssl"} <= {name.split(".so")[0] for name in opened}, opened
    never_opened = sorted(bundled - opened - {PLUGIN} - set(NOT_OPENED_HERE))
    assert never_opened == [], f"bundled but never imported or read by the plugin: {never_opened}"


# --- in a Debian 11 root ---------------------------------------------------------------------------


def test_in_debian_11_the_plugin_answers_version_and_serves_each_command_over_grpc(debian11: Path) -> None:
    root = debian_root.base_root(ARCH)
    ldd = subprocess.run(debian_root.as_root(["chroot", root, "/usr/bin/ldd", "--version"]), capture_output=True, text=True)
    assert "GLIBC 2.31" in ldd.stdout, ldd.stdout
    assert not list((root / "usr" / "bin").glob("python3*")), "the root has a Python: the archive must not need one"
    said = try_plugin(debian11, debian_root.as_root(["chroot", root, "/usr/bin/env", "-i"]))
    assert "answered --version and served check, create, read and delete" in said
