"""The Linux plugin's build host: a Debian 11 (bullseye, glibc 2.31) root made with debootstrap, with a
CPython built inside it (`--enable-shared`, from Debian's source package), so that what PyInstaller
bundles needs glibc 2.31 and nothing newer. scripts/release.py builds the Linux plugin in it by default.

Both roots are cached in `${XDG_CACHE_HOME:-~/.cache}/pulumi-clevercloud-tcp/debian11-<arch>/` and made
only when missing: `base/`, the bare minbase system (the tests run the plugin in it), and `build/`, a
copy of it with a compiler and the interpreter in /opt/python. debootstrap and chroot need root: run as
root, or as a user whom `sudo -n` makes root (GitHub's runners).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

SUITE = "bullseye"  # Debian 11, glibc 2.31: the oldest Debian its registry still serves (buster is gone)
GLIBC = "2.31"
# CPython's source comes from Debian's registry (python.org is not reachable from every build host):
# bookworm's python3.11 source package, 3.11.2, built with bullseye's compiler against bullseye's glibc.
PYTHON_SOURCE, PYTHON_SUITE, PYTHON_VERSION = "python3.11", "bookworm", "3.11.2"
PYTHON = "/opt/python/bin/python3.11"
# What the interpreter's modules that the plugin imports link against (ssl and hashlib, zlib, ctypes),
# and the tools PyInstaller runs (ldd, objdump, strip). Nothing else: sqlite3, readline, curses, dbm,
# tkinter, bz2 and lzma are then not built, so they cannot end up in the archive.
BUILD_PACKAGES = ("gcc", "make", "libc6-dev", "binutils", "libssl-dev", "zlib1g-dev", "libffi-dev", "ca-certificates")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DONE = ".complete"  # written last: a root without it was interrupted and is made again


class RootError(Exception):
    """The Debian root cannot be made or used; the message says why and what to do."""


def cache_dir(arch: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pulumi-clevercloud-tcp" / f"debian11-{arch}"


def mirror() -> str:
    """The Debian mirror this machine's apt sources name ($DEBIAN_MIRROR wins), else deb.debian.org."""
    if os.environ.get("DEBIAN_MIRROR"):
        return os.environ["DEBIAN_MIRROR"].rstrip("/")
    sources = Path("/etc/apt")
    for path in sorted([sources / "sources.list", *sources.glob("sources.list.d/*")]):
        if path.is_file():
            for uri in re.findall(r"(?:^URIs:|^deb)\s+(?:\[[^]]*\]\s+)?(\S+)", path.read_text(errors="replace"), re.M):
                if uri.rstrip("/").endswith("/debian"):
                    return str(uri.rstrip("/"))
    return DEFAULT_MIRROR


def as_root(args: Sequence[str | Path]) -> list[str]:
    """args run as root: as they are when this process is root, else through `sudo -n`."""
    return [str(a) for a in args] if os.geteuid() == 0 else ["sudo", "-n", *map(str, args)]


def _run(args: Sequence[str | Path], what: str, stdin: str | None = None) -> str:
    done = subprocess.run(as_root(args), capture_output=True, text=True, input=stdin)
    if done.returncode != 0:
        raise RootError(f"{what} failed ({' '.join(map(str, args))[:300]}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done.stdout


def _write(path: Path, text: str) -> None:
    _run(["tee", path], f"writing {path}", stdin=text)


def _remove(path: Path) -> None:
    _run(["rm", "-rf", "--one-file-system", path], f"removing {path}")


def in_root(root: Path, script: str, what: str, env: dict[str, str] | None = None) -> str:
    """`bash -c script` inside root, with a clean environment (nothing of this machine's leaks in)."""
    settings = {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive", **(env or {})}
    pairs = [f"{key}={value}" for key, value in settings.items()]
    return _run(["chroot", root, "/usr/bin/env", "-i", *pairs, "/bin/bash", "-euo", "pipefail", "-c", script], what)


def require_root() -> None:
    if sys.platform != "linux":
        raise RootError("a Debian root is made on Linux only: use `scripts/release --plugin-host native` here")
    if os.geteuid() == 0:
        return
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return
    raise RootError(
        "the Linux plugin is built in a Debian 11 root (so that it runs on glibc 2.31 and newer), which needs "
        "root for debootstrap and chroot: run scripts/release as root or with passwordless sudo, or "
        "`scripts/release --plugin-host native` for an archive that needs this machine's glibc"
    )


def _debootstrap() -> str:
    found = shutil.which("debootstrap") or next((p for p in ("/usr/sbin/debootstrap",) if Path(p).exists()), None)
    if found:
        return found
    if not shutil.which("apt-get"):
        raise RootError("debootstrap is missing and there is no apt-get to install it: install debootstrap")
    _run(["apt-get", "update", "-qq"], "apt-get update")
    _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "debootstrap", "debian-archive-keyring"], "installing debootstrap")
    return "/usr/sbin/debootstrap"


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """One maker at a time per cache folder (tests and builds may ask for the roots concurrently)."""
    import fcntl  # here: scripts/release imports this module on Windows too, which has no fcntl

    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _fresh(target: Path) -> Path:
    """target's scratch sibling, emptied; renamed onto target when complete."""
    scratch = target.with_name(target.name + ".partial")
    for stale in (scratch, target):
        if stale.exists():
            _remove(stale)
    return scratch


def base_root(arch: str, log: list[str] | None = None) -> Path:
    """The bare Debian 11 system (`debootstrap --variant=minbase`), made once."""
    require_root()
    target = cache_dir(arch) / "base"
    with locked(target.parent):
        if not (target / DONE).exists():
            started = time.monotonic()
            scratch = _fresh(target)
            _run([_debootstrap(), "--variant=minbase", SUITE, scratch, mirror()], f"debootstrap {SUITE}")
            _write(scratch / DONE, f"{SUITE} from {mirror()}\n")
            _run(["mv", scratch, target], "moving the new root in place")
            if log is not None:
                log.append(f"debootstrap {SUITE}: {time.monotonic() - started:.0f} s")
    return target


def build_root(arch: str, log: list[str] | None = None) -> Path:
    """A copy of the base root with a compiler and CPython in /opt/python (shared libpython), made once."""
    base = base_root(arch, log)
    target = cache_dir(arch) / "build"
    with locked(target.parent):
        if not (target / DONE).exists():
            started = time.monotonic()
            scratch = _fresh(target)
            _run(["cp", "-a", base, scratch], "copying the base root")
            _run(["cp", "-L", "/etc/resolv.conf", scratch / "etc" / "resolv.conf"], "copying resolv.conf")  # pip and apt reach the registries
            _write(scratch / "etc" / "apt" / "sources.list.d" / "python-source.list", f"deb-src {mirror()} {PYTHON_SUITE} main\n")
            in_root(scratch, f"apt-get update -qq && apt-get install -y -qq --no-install-recommends {' '.join(BUILD_PACKAGES)}",
                    "installing the compiler and libraries in the Debian root")  # fmt: skip
            packages = time.monotonic()
            in_root(scratch, _python_build_script(), f"building CPython {PYTHON_VERSION} in the Debian root")
            in_root(scratch, "apt-get clean && rm -rf /var/lib/apt/lists/* /tmp/python-source", "cleaning the Debian root")
            _write(scratch / DONE, f"CPython {PYTHON_VERSION} in /opt/python\n")
            _run(["mv", scratch, target], "moving the new root in place")
            if log is not None:
                log.append(f"build root: packages {packages - started:.0f} s, CPython {time.monotonic() - packages:.0f} s")
    return target


def _python_build_script() -> str:
    # --disable-test-modules: no test package or test extensions (half the install's compile time).
    # rpath: the interpreter finds its libpython without LD_LIBRARY_PATH; PyInstaller bundles that library.
    return f"""
        mkdir -p /tmp/python-source && cd /tmp/python-source
        apt-get source --download-only -qq {PYTHON_SOURCE}
        tar -xzf {PYTHON_SOURCE}_{PYTHON_VERSION}.orig.tar.gz
        cd Python-{PYTHON_VERSION}
        ./configure --quiet --prefix=/opt/python --enable-shared --disable-test-modules --with-ensurepip=install \\
            LDFLAGS=-Wl,-rpath,/opt/python/lib
        make -s -j"$(nproc)" >/dev/null
        make -s install COMPILEALL_OPTS=-j0 >/dev/null
        {PYTHON} -c 'import ssl, zlib, ctypes, _hashlib, _decimal, _asyncio, _json'
    """


PIP_SETTINGS = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT")
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


def host_pip_settings(outside: Path, inside: str) -> dict[str, str]:
    """This machine's way to the package registry, for pip in the root: its index, proxies and CA bundle
    (copied into the scratch folder; a proxy that re-signs TLS is trusted through it)."""
    settings = {key: os.environ[key] for key in (*PIP_SETTINGS, *PROXIES) if key in os.environ}
    candidates = [os.environ.get(key) for key in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")]
    bundle = next((Path(p) for p in [*candidates, "/etc/ssl/certs/ca-certificates.crt"] if p and Path(p).is_file()), None)
    if bundle is not None:
        shutil.copy(bundle, outside / "ca-bundle.crt")
        settings["PIP_CERT"] = f"{inside}/ca-bundle.crt"
    return settings


@contextmanager
def scratch_in(root: Path, prefix: str) -> Iterator[tuple[Path, str]]:
    """A fresh folder under root's /tmp: (its path from here, its path inside the root); removed after."""
    inside = f"/tmp/{prefix}{os.getpid()}-{time.monotonic_ns()}"
    outside = root / inside.lstrip("/")
    outside.mkdir(parents=True)
    try:
        yield outside, inside
    finally:
        _remove(outside)
