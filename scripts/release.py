"""Builds, from the checkout, everything a release publishes; `scripts/release` runs it in the project's venv.

    scripts/release [--out DIR] [--only plugin|packages]

- plugin: the provider plugin as a self-contained executable (PyInstaller, one folder: no Python
  needed where it runs) for this machine's os/arch, archived as the engine downloads it:
  `pulumi-resource-clevercloud-tcp-v<V>-<os>-<arch>.tar.gz`, executable at the root, no symlinks.
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
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = "pulumi-resource-clevercloud-tcp"
NPM_PACKAGE = "pulumi-clevercloud-tcp"
OSES = {"linux": "linux", "darwin": "darwin", "win32": "windows"}
ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
EXCLUDED = ("setuptools", "pkg_resources", "_distutils_hack", "pytest", "_pytest", "hypothesis", "debugpy", "IPython")
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
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)}
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise ReleaseError(f"{' '.join(map(str, args))} failed in {cwd}:\n{done.stdout[-4000:]}{done.stderr[-4000:]}")


def archive_name(v: str, os_name: str, arch: str) -> str:
    return f"{PLUGIN}-v{v}-{os_name}-{arch}.tar.gz"


def build_plugin(v: str, out: Path, work: Path) -> Path:
    """PyInstaller's one-folder build of the plugin's entry point, archived for the engine."""
    os_name, arch = platform_pair()
    entry = work / "plugin_entry.py"
    entry.write_text("from clevercloud_tcp.faces.plugin import main\n\nmain()\n")
    run(
        [
            sys.executable, "-m", "PyInstaller", "--onedir", "--noconfirm", "--log-level", "WARN",
            "--name", PLUGIN, "--distpath", work / "dist", "--workpath", work / "build", "--specpath", work,
            # The version it reports comes from the package's metadata; schema.json is package data.
            "--copy-metadata", "clevercloud-tcp", "--collect-data", "clevercloud_tcp",
            # Modules as .pyc files beside the executable rather than in one compressed archive: the
            # engine waits for a plugin's start-up at every command, and this is what makes it start
            # sooner than the console script (bench/packaged_plugin.py).
            "--debug", "noarchive",
            # Build and test tools the build environment may hold, which the plugin never imports
            # (setuptools would also add a start-up hook).
            *(arg for module in EXCLUDED for arg in ("--exclude-module", module)),
            entry,
        ],
        work,
    )  # fmt: skip
    folder = work / "dist" / PLUGIN
    executable = PLUGIN + (".exe" if os_name == "windows" else "")
    if not (folder / executable).is_file():
        raise ReleaseError(f"PyInstaller made no {executable} in {folder}")
    target = out / archive_name(v, os_name, arch)
    write_archive(folder, target)
    return target


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
    # From a clean export of the tracked files: nothing untracked or built in the checkout gets in.
    export = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, export.decode().split("\0")):
        if (ROOT / name).is_file():
            (provider / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, provider / name, follow_symlinks=False)
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
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        v = version()
        out = args.out.resolve()
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="clevercloud-tcp-release-") as scratch:
            work = Path(scratch)
            if args.only in (None, "plugin"):
                print(f"release: built {build_plugin(v, out, work).name}", file=sys.stderr)
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
