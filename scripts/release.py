"""Builds, from the checkout, everything a release publishes; `scripts/release` runs it in the project's venv.

    scripts/release [--out DIR] [--only plugin|packages] [--plugin-host debian11|native]

- plugin: the provider plugin as a self-contained executable (PyInstaller, one folder: no Python
  needed where it runs) for this machine's os/arch, archived as the engine downloads it:
  `pulumi-resource-clevercloud-tcp-v<V>-<os>-<arch>.tar.gz`, executable at the root, no symlinks.
  On Linux it is built in a Debian 11 root (debian_root.py; needs root) so that it runs on glibc 2.31
  and newer; `--plugin-host native` builds it with this venv's Python instead (this machine's glibc).
  The plugin's dependencies come from the hash-locked scripts/plugin-requirements.txt. Beside the
  archive, its bill of materials `…-<os>-<arch>.cdx.json` (CycloneDX, bom.py).
- packages: the npm tarball, the Python SDK's and the provider package's wheels and sdists, schema.json,
  and `checksums.txt` (sha256, `sha256sum -c` format) over every file in DIR, archives built elsewhere
  and copied into DIR first included. The Go SDK is published by tagging the commit (sdk/go/vX.Y.Z).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import bom
import debian_root

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = "pulumi-resource-clevercloud-tcp"
NPM_PACKAGE = "pulumi-clevercloud-tcp"
OSES = {"linux": "linux", "darwin": "darwin", "win32": "windows"}
ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
# The build tools the Debian root's build venv gets (as the release extra pins them for the native build).
BUILD_TOOLS = ("pyinstaller==6.22.3", "setuptools==84.2.1")
# The plugin's dependencies, pinned with their hashes (pip-compile; its header says how to regenerate it).
LOCK = Path("scripts") / "plugin-requirements.txt"
HOOKS = ROOT / "scripts" / "pyinstaller_hooks"
# Modules PyInstaller would bundle because something names them, which the plugin never imports: the build
# and test tools of the build environment (setuptools would also add a start-up hook), the standard
# library's tools for people (debuggers, docs, tests, mail, XML, GUI), pydantic's v1 copy and plugins.
# (Not glob: CPython 3.13's pathlib imports it, and PyInstaller's inspect hook imports pathlib.)
# tests/test_release_build.py runs the plugin under strace and fails on any top-level module it never opens.
EXCLUDED = (
    "setuptools", "pkg_resources", "_distutils_hack", "pytest", "_pytest", "hypothesis", "debugpy", "IPython",
    "unittest", "doctest", "pdb", "bdb", "cmd", "code", "codeop", "pydoc", "pydoc_data", "xmlrpc", "xml", "pyexpat",
    "smtplib", "ftplib", "netrc", "webbrowser", "tkinter", "sqlite3", "dbm", "shelve", "pickletools", "_pydecimal",
    "optparse", "getopt", "getpass", "tty", "termios", "xdrlib", "symtable", "tracemalloc", "py_compile", "runpy",
    "socketserver", "http.server", "configparser", "tomllib", "statistics", "_statistics", "colorsys",
    "mmap", "resource", "grp", "_posixshmem", "_multiprocessing", "multiprocessing.shared_memory",
    "_md5", "_sha1", "_sha256", "_sha2", "_sha3", "pprint", "_pydatetime", "csv", "_csv",
    "_multibytecodec", "_codecs_jp", "_codecs_kr", "_codecs_cn", "_codecs_tw", "_codecs_hk", "_codecs_iso2022",
    "_aix_support", "_bootsubprocess", "_py_abc", "_threading_local", "nturl2path",
    "pydantic.v1", "pydantic.mypy", "pydantic._hypothesis_plugin", "pydantic.experimental",
    "wrapt", "html", "tarfile", "gzip", "sre_compile", "sre_parse", "sre_constants",
)  # fmt: skip
# Archive entries carry this time, so that the same build gives the same bytes (SOURCE_DATE_EPOCH wins).
EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))  # 1980-01-01, the oldest a zip can say


class ReleaseError(Exception):
    """A release that cannot be built; the message says why and what to do."""


def version() -> str:
    """VERSION, checked against schema.json: the SDKs are generated from the schema."""
    stamped = (ROOT / "VERSION").read_text().strip()
    schema = json.loads((ROOT / "schema.json").read_text())["version"]
    if schema != stamped:
        raise ReleaseError(f"schema.json says version {schema}, VERSION says {stamped}: run scripts/gen-sdks")
    return stamped


def platform_pair() -> tuple[str, str]:
    os_name, arch = OSES.get(sys.platform), ARCHES.get(platform.machine().lower())
    if os_name is None or arch is None:
        raise ReleaseError(f"the engine downloads plugins for linux, darwin and windows on amd64 and arm64, not {sys.platform} {platform.machine()}")
    return os_name, arch


def run(args: Sequence[str | Path], cwd: Path) -> None:
    # SOURCE_DATE_EPOCH: the wheels' and sdists' timestamps too, so a build gives the same bytes again.
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH), "PYINSTALLER_CONFIG_DIR": str(cwd / "pyinstaller-config")}
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise ReleaseError(f"{' '.join(map(str, args))} failed in {cwd}:\n{done.stdout[-4000:]}{done.stderr[-4000:]}")


def archive_name(v: str, os_name: str, arch: str) -> str:
    return f"{PLUGIN}-v{v}-{os_name}-{arch}.tar.gz"


def pyinstaller_args(entry: str, work: str, hooks: str, strip: bool) -> list[str]:
    """PyInstaller's one-folder build of the plugin's entry point, its output in work/dist."""
    return [
        "-m", "PyInstaller", "--onedir", "--noconfirm", "--log-level", "WARN",
        "--name", PLUGIN, "--distpath", f"{work}/dist", "--workpath", f"{work}/build", "--specpath", work,
        # The version it reports comes from the package's metadata; schema.json is package data.
        "--copy-metadata", "clevercloud-tcp", "--collect-data", "clevercloud_tcp",
        # Modules as .pyc files beside the executable rather than in one compressed archive: the
        # engine waits for a plugin's start-up at every command, and this is what makes it start
        # sooner than the console script (bench/packaged_plugin.py).
        "--debug", "noarchive",
        # Symbol tables off the shared libraries and extension modules: a third of libpython's size.
        *(["--strip"] if strip else []),
        "--additional-hooks-dir", hooks,
        *(arg for module in EXCLUDED for arg in ("--exclude-module", module)),
        # grpc's compiled module imports it, where PyInstaller cannot see (pydoc and runpy brought it before).
        "--hidden-import", "pkgutil",
        entry,
    ]  # fmt: skip


ENTRY = "from clevercloud_tcp.faces.plugin import main\n\nmain()\n"
# Run by the build interpreter on the built folder: removes the .pyc copies of the modules frozen into
# libpython (os, codecs, abc, io, ...), which the interpreter always takes from itself, and the packages'
# RECORD files, which list the build venv's files (paths that differ from one build to the next).
PRUNE = (
    "import _imp, pathlib, sys; internal = pathlib.Path(sys.argv[1]) / '_internal'\n"
    "for name in getattr(_imp, '_frozen_module_names', list)():  # 3.11+; 3.10 freezes no such modules\n"
    "    internal.joinpath(*name.split('.')).with_suffix('.pyc').unlink(missing_ok=True)\n"
    "for record in internal.glob('*.dist-info/RECORD'):\n"
    "    record.unlink()"
)


def build_plugin(v: str, out: Path, work: Path, host: str) -> Path:
    """The plugin for this machine's os/arch, archived for the engine, and its bill of materials beside it."""
    os_name, arch = platform_pair()
    if host == "debian11":
        folder, facts = build_in_debian_root(arch, work)
    else:
        (work / "plugin_entry.py").write_text(ENTRY)
        run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--require-hashes", "-r", ROOT / LOCK], work)
        run([sys.executable, *pyinstaller_args(str(work / "plugin_entry.py"), str(work), str(HOOKS), strip=os_name == "linux")], work)
        folder = work / "dist" / PLUGIN
        run([sys.executable, "-c", PRUNE, folder], work)
        listed = subprocess.run([sys.executable, "-c", bom.DISTRIBUTIONS, folder / "_internal"], capture_output=True, text=True, check=True)
        facts = bom.BuildFacts.parse(listed.stdout)
    executable = PLUGIN + (".exe" if os_name == "windows" else "")
    if not (folder / executable).is_file():
        raise ReleaseError(f"PyInstaller made no {executable} in {folder}")
    target = out / archive_name(v, os_name, arch)
    write_archive(folder, target)
    bom.write(target, facts, v, arch, EPOCH)
    return target


def build_in_debian_root(arch: str, work: Path) -> tuple[Path, bom.BuildFacts]:
    """PyInstaller run in the cached Debian 11 root, on its own CPython, from a clean export of the checkout;
    with what the bill of materials needs from the root (the distributions, the Debian packages bundled)."""
    log: list[str] = []
    try:
        root = debian_root.build_root(arch, log)
        with debian_root.scratch_in(root, "plugin-build-") as (outside, inside):
            export_tracked(outside / "src")
            (outside / "plugin_entry.py").write_text(ENTRY)
            env = {
                "SOURCE_DATE_EPOCH": str(EPOCH),
                # PyInstaller's cache of stripped libraries is the build's own: two builds at once corrupt a shared one.
                "PYINSTALLER_CONFIG_DIR": f"{inside}/pyinstaller-config",
                **debian_root.host_pip_settings(outside, inside),
            }
            copy_build_venv(root, f"{inside}/src", f"{inside}/venv", env, log)
            python = f"{inside}/venv/bin/python"
            hooks = f"{inside}/src/scripts/pyinstaller_hooks"
            debian_root.in_root(
                root,
                f"""
                # By name from a wheel folder, not by path: pip then writes no direct_url.json, whose path
                # would make each build's bytes differ.
                {python} -m pip wheel -q --no-deps --no-build-isolation --wheel-dir {inside}/wheels {inside}/src
                {python} -m pip install -q --no-deps --no-index --find-links {inside}/wheels --force-reinstall clevercloud-tcp
                cd {inside} && {python} {shlex.join(pyinstaller_args(f"{inside}/plugin_entry.py", inside, hooks, strip=True))}
                {python} -c {shlex.quote(PRUNE)} {inside}/dist/{PLUGIN}
                """,
                "the plugin's build in the Debian 11 root",
                env=env,
            )
            listed = debian_root.in_root(root, f"{python} -c {shlex.quote(bom.DISTRIBUTIONS)} {inside}/dist/{PLUGIN}/_internal", "listing the bundled distributions")
            packages = debian_root.in_root(root, "dpkg-query -W -f '${Package} ${Version}\\n' zlib1g 'libffi[0-9]'", "reading the bundled Debian packages")
            installed = dict(line.split(" ", 1) for line in packages.splitlines() if line.strip().count(" ") == 1)  # known, not installed: no version
            facts = bom.BuildFacts.parse(listed, installed, debian_root.DISTRO)
            shutil.copytree(outside / "dist" / PLUGIN, work / "dist" / PLUGIN, symlinks=True)
    except debian_root.RootError as err:
        raise ReleaseError(str(err)) from None
    for line in log:
        print(f"release: {line}", file=sys.stderr)
    return work / "dist" / PLUGIN, facts


def copy_build_venv(root: Path, src: str, target: str, env: dict[str, str], log: list[str]) -> None:
    """Copies the root's venv of the plugin's dependencies and the build tools to target (a path inside the
    root), making it first if missing: one venv per lock file, pyproject.toml and BUILD_TOOLS, reused by
    every build. The dependencies are installed from the lock, each checked against its hashes.

    The lock covers the copy as well as the making: a build that makes a venv removes the others, so no
    build may be copying one meanwhile (two builds at once, as the suite's workers start them)."""
    inputs = (ROOT / LOCK).read_bytes() + (ROOT / "pyproject.toml").read_bytes() + " ".join(BUILD_TOOLS).encode()
    key = hashlib.sha256(inputs).hexdigest()[:16]
    venv = f"/opt/build-venv-{key}"
    # A plain file, checked from here: bin/python is a link to /opt/python/..., which resolves only inside.
    complete = root / venv.lstrip("/") / debian_root.DONE
    pip = f"{venv}.partial/bin/python -m pip install -q --disable-pip-version-check"
    with debian_root.locked(root.parent):
        if complete.is_file():
            log.append(f"build venv: reused {venv}")
        else:
            started = time.monotonic()
            debian_root.in_root(
                root,
                f"""
                rm -rf /opt/build-venv-*
                {debian_root.PYTHON} -m venv {venv}.partial
                {pip} {shlex.join(BUILD_TOOLS)}
                {pip} --require-hashes -r {src}/{LOCK.as_posix()}
                {pip} --no-deps --no-build-isolation {src}
                touch {venv}.partial/{debian_root.DONE}
                mv {venv}.partial {venv}
                """,
                "installing the plugin's dependencies in the Debian 11 root",
                env=env,
            )
            log.append(f"build venv: made {venv} in {time.monotonic() - started:.0f} s")
        debian_root.in_root(root, f"cp -a {venv} {target}", "copying the build venv", env=env)


def write_archive(folder: Path, target: Path) -> None:
    """folder's contents at the archive's root, links followed (CLIs before 3.247 refuse symlinks)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", dereference=True, format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(folder.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=path.relative_to(folder).as_posix())
            info.mtime, info.uid, info.gid, info.uname, info.gname = EPOCH, 0, 0, "", ""
            if info.isfile():
                with path.open("rb") as data:
                    tar.addfile(info, data)
            else:
                tar.addfile(info)
    with target.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=EPOCH, filename="") as packed:
        packed.write(buffer.getvalue())


def build_npm(v: str, out: Path, work: Path) -> Path:
    """tsc of sdk/nodejs, then `npm pack` of the compiled folder with package.json and README beside it."""
    deps = subprocess.run([ROOT / "scripts" / "install-node-sdk-deps"], capture_output=True, text=True)
    if deps.returncode != 0:
        raise ReleaseError(f"scripts/install-node-sdk-deps failed:\n{deps.stderr[-4000:]}")
    modules = Path(deps.stdout.strip()) / "node_modules"
    source = work / "nodejs"
    shutil.copytree(ROOT / "sdk" / "nodejs", source, ignore=shutil.ignore_patterns("node_modules", "bin"))
    (source / "node_modules").symlink_to(modules)
    run([modules / ".bin" / "tsc", "-p", "."], source)
    for name in ("package.json", "README.md"):
        shutil.copy(source / name, source / "bin" / name)
    shutil.copy(ROOT / "LICENSE", source / "bin" / "LICENSE")
    run(["npm", "pack", "--silent", "--pack-destination", out], source / "bin")
    tarball = out / f"{NPM_PACKAGE}-{v}.tgz"
    if not tarball.is_file():
        raise ReleaseError(f"npm pack made no {tarball.name}")
    return tarball


def export_tracked(target: Path) -> None:
    """A clean export of the checkout's tracked files: nothing untracked or built in it gets in."""
    export = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, export.decode().split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name, follow_symlinks=False)


def build_python(source: Path, out: Path) -> None:
    """Wheel and sdist, with this environment's setuptools (no download at build time)."""
    run([sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", out, source], source)


def build_packages(v: str, out: Path, work: Path) -> None:
    build_npm(v, out, work)
    sdk = work / "python-sdk"
    shutil.copytree(ROOT / "sdk" / "python", sdk, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    shutil.copy(sdk / "pulumi_clevercloud_tcp" / "README.md", sdk / "README.md")  # the project's readme
    build_python(sdk, out)
    provider = work / "provider-package"
    export_tracked(provider)
    build_python(provider, out)
    shutil.copy(ROOT / "schema.json", out / "schema.json")


def write_checksums(out: Path) -> Path:
    lines = [
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n"
        for path in sorted(out.iterdir())
        if path.is_file() and path.name != "checksums.txt"
    ]
    target = out / "checksums.txt"
    target.write_text("".join(lines))
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/release", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="folder that receives the artifacts (default: dist/)")
    parser.add_argument("--only", choices=["plugin", "packages"], help="build one half (the release pipeline builds the plugin per os/arch)")
    parser.add_argument(
        "--plugin-host",
        choices=["debian11", "native"],
        default="debian11" if sys.platform == "linux" else "native",
        help="where the plugin is built: in a Debian 11 root, for glibc 2.31 and newer (default on Linux; needs root), "
        "or with this venv's Python (elsewhere)",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        v = version()
        out = args.out.resolve()
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="clevercloud-tcp-release-") as scratch:
            work = Path(scratch)
            if args.only in (None, "plugin"):
                print(f"release: built {build_plugin(v, out, work, args.plugin_host).name}", file=sys.stderr)
            if args.only in (None, "packages"):
                build_packages(v, out, work)
                write_checksums(out)
    except ReleaseError as err:
        print(f"release: {err}", file=sys.stderr)
        return 1
    print(f"release: {v} in {out} after {time.monotonic() - started:.0f} s:", file=sys.stderr)
    for path in sorted(out.iterdir()):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
