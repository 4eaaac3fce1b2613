"""The Linux plugin's build host: a Debian 11 (bullseye, glibc 2.31) root made with debootstrap, with
OpenSSL and CPython built inside it from Debian's source packages (upstream's tarballs, checksums checked
against the signed .dsc), so that what PyInstaller bundles needs glibc 2.31 and nothing newer, and the
interpreter and TLS library are lines under security support. scripts/release.py builds the Linux plugin
in it by default.

Both roots are cached in `${XDG_CACHE_HOME:-~/.cache}/pulumi-clevercloud-tcp/debian11-<arch>/`, each in a
folder named after its recipe (`base-<key>`, `build-<key>`): a changed recipe makes a new root and never
reuses an old one. `base-*` is the bare minbase system (the tests run the plugin in it); `build-*` a copy
of it with bullseye-security's updates, a compiler, OpenSSL in /opt/openssl and CPython in /opt/python.
debootstrap and chroot need root: run as root, or as a user whom `sudo -n` makes root (GitHub's runners).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

SUITE = "bullseye"  # Debian 11, glibc 2.31: the oldest Debian its registry still serves (buster is gone)
GLIBC = "2.31"
DISTRO = "debian-11"  # as a package URL's distro qualifier names it
# debootstrap checks the suite's Release signature against it, and refuses an unsigned or unverifiable one.
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


class Source(NamedTuple):
    """A Debian source package whose orig tarball is upstream's release, from the suite serving that version."""

    package: str
    version: str  # Debian's, with its revision: what `apt-get source NAME=VERSION` asks for
    suite: str
    security: bool  # served by the security archive rather than the main one

    @property
    def upstream(self) -> str:
        return self.version.rsplit("-", 1)[0]


# The newest patch releases of CPython 3.13 (security support to 2029-10) and OpenSSL 3.5 (LTS to 2030-04)
# whose files Debian's mirror serves (on 2026-12-07 its indexes also name python3.13 3.13.18 and openssl
# 3.5.10, whose files it does not serve yet: 404). scripts/maintained.toml keeps the lines' dates and the
# floors scripts/check_archive.py enforces. When apt-get cannot fetch a version, move to the newer one
# here and raise the floor there (the roots are then made anew: they are keyed by this recipe).
PYTHON_SOURCE = Source("python3.13", "3.13.15-1", "sid", security=False)
OPENSSL_SOURCE = Source("openssl", "3.5.7-1~deb13u2", "trixie", security=False)
# What OpenSSL is built without (`./Configure no-<feature>`): see _build_script.
OPENSSL_WITHOUT = (
    "docs", "tests", "apps", "module", "legacy", "engine", "dso", "comp", "quic", "dtls", "ssl3", "srp", "gost",
    "idea", "camellia", "aria", "seed", "bf", "cast", "rc2", "rc4", "rc5", "md4", "mdc2", "whirlpool", "sm2", "sm3", "sm4",
    "cmp", "cms", "ts", "ocsp", "ct", "srtp", "ec2m", "rfc3779", "ml-dsa", "slh-dsa",
)  # fmt: skip
PYTHON_LINE = PYTHON_SOURCE.package.removeprefix("python")
PYTHON = f"/opt/python/bin/python{PYTHON_LINE}"
# What the build needs from the root: the compiler and the tools PyInstaller runs (ldd, objdump, strip),
# perl for OpenSSL's Configure, and what the interpreter's modules that the plugin imports link against
# (zlib, ctypes' libffi), from bullseye-security. Nothing else: sqlite3, readline, curses, dbm, tkinter,
# bz2 and lzma are then not built, so they cannot end up in the archive.
BUILD_PACKAGES = ("gcc", "make", "libc6-dev", "binutils", "perl", "xz-utils", "zlib1g-dev", "libffi-dev", "ca-certificates")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_MIRRORS = {"debian": "http://deb.debian.org/debian", "debian-security": "http://deb.debian.org/debian-security"}
DONE = ".complete"  # written last: a root without it was interrupted and is made again
# Settings whose values may carry credentials: never shown in a message.
SECRET_SETTING = re.compile(r"(?i)\b(\w*(?:INDEX_URL|PROXY|TOKEN|PASSWORD|SECRET|AUTH)\w*)=\S+")
URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")


class RootError(Exception):
    """The Debian root cannot be made or used; the message says why and what to do."""


def cache_dir(arch: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pulumi-clevercloud-tcp" / f"debian11-{arch}"


def mirror(archive: str = "debian") -> str:
    """The Debian mirror of archive ("debian" or "debian-security") that this machine's apt sources name
    ($DEBIAN_MIRROR or $DEBIAN_SECURITY_MIRROR wins), else deb.debian.org's."""
    setting = {"debian": "DEBIAN_MIRROR", "debian-security": "DEBIAN_SECURITY_MIRROR"}[archive]
    if os.environ.get(setting):
        return os.environ[setting].rstrip("/")
    sources = Path("/etc/apt")
    for path in sorted([sources / "sources.list", *sources.glob("sources.list.d/*")]):
        if path.is_file():
            for uri in re.findall(r"(?:^URIs:|^deb)\s+(?:\[[^]]*\]\s+)?(\S+)", path.read_text(errors="replace"), re.M):
                if uri.rstrip("/").endswith(f"/{archive}"):
                    return str(uri.rstrip("/"))
    return DEFAULT_MIRRORS[archive]


def redact(text: str) -> str:
    """text without the values of credential-bearing settings, nor the user:password of URLs."""
    return URL_CREDENTIALS.sub(r"\1***@", SECRET_SETTING.sub(r"\1=***", text))


def as_root(args: Sequence[str | Path]) -> list[str]:
    """args run as root: as they are when this process is root, else through `sudo -n`."""
    return [str(a) for a in args] if os.geteuid() == 0 else ["sudo", "-n", *map(str, args)]


def _run(args: Sequence[str | Path], what: str, stdin: str | None = None) -> str:
    done = subprocess.run(as_root(args), capture_output=True, text=True, input=stdin)
    if done.returncode != 0:
        command = redact(" ".join(map(str, args)))[:300]
        raise RootError(f"{what} failed ({command}):\n{redact(done.stdout[-3000:] + done.stderr[-3000:])}")
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
    """debootstrap, with the Debian archive's keyring it checks signatures against: installed when either is
    missing, and a RootError when the keyring is still not there (an unverified root is never made)."""
    found = shutil.which("debootstrap") or next((p for p in ("/usr/sbin/debootstrap",) if Path(p).exists()), None)
    if not found or not Path(KEYRING).is_file():
        if not shutil.which("apt-get"):
            raise RootError(f"debootstrap and {KEYRING} are needed and there is no apt-get: install debootstrap and debian-archive-keyring")
        _run(["apt-get", "update", "-qq"], "apt-get update")
        _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "debootstrap", "debian-archive-keyring"], "installing debootstrap")
    if not Path(KEYRING).is_file():
        raise RootError(f"{KEYRING} is missing, so debootstrap cannot check Debian's signatures: install debian-archive-keyring")
    return found or "/usr/sbin/debootstrap"


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


def _keyed(arch: str, kind: str, recipe: str) -> Path:
    """The cache folder of a root made by recipe: another recipe, another folder."""
    return cache_dir(arch) / f"{kind}-{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"


# A root is made under the lock but used outside it: another checkout's build or test (two CI jobs of two
# commits on one runner) may be in a root of another recipe right now. Each use marks the root, and a root
# of another recipe is removed only once nobody has used it for this long.
UNUSED_FOR = 24 * 3600


def _mark_used(target: Path) -> None:
    _run(["touch", target / DONE], f"marking {target.name} in use")


def _remove_other_recipes(target: Path) -> None:
    """Removes the roots of target's kind made by other recipes (and the unkeyed ones of earlier releases)
    that nobody has used for a day, and unfinished ones: called under the lock, once target is made."""
    kind = target.name.split("-")[0]
    for other in target.parent.iterdir():
        if other != target and re.fullmatch(rf"{kind}(-[0-9a-f]{{12}})?(\.partial)?", other.name):
            done = other / DONE
            if not done.is_file() or time.time() - done.stat().st_mtime > UNUSED_FOR:
                _remove(other)


BASE_RECIPE = f"debootstrap --variant=minbase --keyring={KEYRING} --force-check-gpg {SUITE}"


def base_dir(arch: str) -> Path:
    return _keyed(arch, "base", BASE_RECIPE)


def base_root(arch: str, log: list[str] | None = None) -> Path:
    """The bare Debian 11 system (`debootstrap --variant=minbase`, Release signatures checked), made once."""
    require_root()
    target = base_dir(arch)
    with locked(target.parent):
        if not (target / DONE).exists():
            started = time.monotonic()
            scratch = _fresh(target)
            _run([_debootstrap(), "--variant=minbase", f"--keyring={KEYRING}", "--force-check-gpg", SUITE, scratch, mirror()],
                 f"debootstrap {SUITE}")  # fmt: skip
            _write(scratch / DONE, f"{BASE_RECIPE}\nfrom {mirror()}\n")
            _run(["mv", scratch, target], "moving the new root in place")
            _remove_other_recipes(target)
            if log is not None:
                log.append(f"debootstrap {SUITE}: {time.monotonic() - started:.0f} s")
        _mark_used(target)
    return target


def _apt_sources() -> str:
    """The build root's sources: bullseye and its security updates, and the suites serving the sources."""
    lines = [f"deb {mirror()} {SUITE} main", f"deb {mirror('debian-security')} {SUITE}-security main"]
    # The sources are pinned by version and their tarballs checked against the signed .dsc, so an index
    # past its Valid-Until (sid's lasts a week; a lagging mirror serves an older one) is still accepted.
    for source in (PYTHON_SOURCE, OPENSSL_SOURCE):
        lines.append(f"deb-src [check-valid-until=no] {mirror('debian-security' if source.security else 'debian')} {source.suite} main")
    return "".join(f"{line}\n" for line in dict.fromkeys(lines))


def build_dir(arch: str) -> Path:
    return _keyed(arch, "build", "\n".join([base_dir(arch).name, _apt_sources(), " ".join(BUILD_PACKAGES), _build_script()]))


def build_root(arch: str, log: list[str] | None = None) -> Path:
    """A copy of the base root with bullseye-security's updates, a compiler, OpenSSL in /opt/openssl and
    CPython in /opt/python (shared libpython, ssl and hashlib linked statically to that OpenSSL), made once."""
    base = base_root(arch, log)
    target = build_dir(arch)
    with locked(target.parent):
        if not (target / DONE).exists():
            started = time.monotonic()
            scratch = _fresh(target)
            _run(["cp", "-a", base, scratch], "copying the base root")
            _run(["cp", "-L", "/etc/resolv.conf", scratch / "etc" / "resolv.conf"], "copying resolv.conf")  # pip and apt reach the registries
            _write(scratch / "etc" / "apt" / "sources.list", _apt_sources())
            in_root(scratch, f"apt-get update -qq && apt-get upgrade -y -qq && apt-get install -y -qq --no-install-recommends {' '.join(BUILD_PACKAGES)}",
                    "installing the compiler and libraries in the Debian root")  # fmt: skip
            packages = time.monotonic()
            in_root(scratch, _build_script(), f"building OpenSSL {OPENSSL_SOURCE.upstream} and CPython {PYTHON_SOURCE.upstream} in the Debian root")
            in_root(scratch, "apt-get clean && rm -rf /var/lib/apt/lists/* /tmp/sources", "cleaning the Debian root")
            _write(scratch / DONE, f"OpenSSL {OPENSSL_SOURCE.upstream} in /opt/openssl, CPython {PYTHON_SOURCE.upstream} in /opt/python\n")
            _run(["mv", scratch, target], "moving the new root in place")
            _remove_other_recipes(target)
            if log is not None:
                log.append(f"build root: packages {packages - started:.0f} s, OpenSSL and CPython {time.monotonic() - packages:.0f} s")
        _mark_used(target)
    return target


def _fetch_source(source: Source) -> str:
    """Shell lines: source's orig tarball fetched (apt checks the signed index's hashes) and its SHA256
    checked against the .dsc, then unpacked; its folder's name is left in $unpacked."""
    dsc = f"{source.package}_{source.version}.dsc"
    return f"""
        apt-get source --download-only -qq {source.package}={source.version}
        orig="$(ls {source.package}_{source.upstream}.orig.tar.* | grep -v '\\.asc$')"
        sum="$(awk -v f="$orig" '/^Checksums-Sha256:/ {{s=1; next}} /^[^ ]/ {{s=0}} s && $3 == f {{print $1}}' {dsc})"
        [ -n "$sum" ] || {{ echo "{dsc} lists no SHA256 for $orig" >&2; exit 1; }}
        echo "$sum  $orig" | sha256sum -c --quiet -
        tar -xf "$orig"
        tar -tf "$orig" >"$orig.contents"
        unpacked="$(head -n1 "$orig.contents" | cut -d/ -f1)"
    """


def _build_script() -> str:
    # OpenSSL: shared libraries (ssl and hashlib then share one libcrypto, which PyInstaller bundles once),
    # and only what they use: no apps, docs, tests, engines or loadable modules, no legacy provider, and
    # none of the ciphers and protocols that TLS 1.2/1.3 clients and hashlib do not offer. Its own config
    # folder, which no user's system has: no distribution's openssl.cnf (written for its own OpenSSL) is
    # read at start-up.
    # CPython: --disable-test-modules (no test package or test extensions: half the install's compile
    # time); rpaths: the interpreter finds its libpython, ssl and hashlib their OpenSSL, without
    # LD_LIBRARY_PATH; PyInstaller bundles those libraries.
    return f"""
        mkdir -p /tmp/sources && cd /tmp/sources
        {_fetch_source(OPENSSL_SOURCE)}
        cd "$unpacked"
        ./Configure shared {" ".join(f"no-{feature}" for feature in OPENSSL_WITHOUT)} \\
            --prefix=/opt/openssl --openssldir=/opt/openssl/ssl --libdir=lib -Wl,-rpath,/opt/openssl/lib >/dev/null
        make -s -j"$(nproc)" build_libs >/dev/null
        make -s install_dev >/dev/null
        cd /tmp/sources
        {_fetch_source(PYTHON_SOURCE)}
        cd "$unpacked"
        ./configure --quiet --prefix=/opt/python --enable-shared --disable-test-modules --with-ensurepip=install \\
            --with-openssl=/opt/openssl --with-openssl-rpath=auto LDFLAGS=-Wl,-rpath,/opt/python/lib
        make -s -j"$(nproc)" >/dev/null
        make -s install COMPILEALL_OPTS=-j0 >/dev/null
        {PYTHON} -c 'import ssl, zlib, ctypes, _hashlib, _decimal, _asyncio, _json
assert ssl.OPENSSL_VERSION.startswith("OpenSSL {OPENSSL_SOURCE.upstream} "), ssl.OPENSSL_VERSION'
    """


# This machine's pip settings that pip in the root gets too, as pip.conf's keys: environment variables
# or command lines would show their values (an index URL may carry credentials) to every local user.
PIP_SETTINGS = {"PIP_INDEX_URL": "index-url", "PIP_EXTRA_INDEX_URL": "extra-index-url", "PIP_TRUSTED_HOST": "trusted-host",
                "PIP_DEFAULT_TIMEOUT": "timeout", "HTTPS_PROXY": "proxy", "https_proxy": "proxy"}  # fmt: skip


def host_pip_settings(outside: Path, inside: str) -> dict[str, str]:
    """This machine's way to the package registry, for pip in the root: its index, proxy and CA bundle,
    written to a pip.conf in the scratch folder (readable by root only; a proxy that re-signs TLS is
    trusted through the bundle). Returns the environment that points pip at it."""
    config = {key: os.environ[name] for name, key in PIP_SETTINGS.items() if os.environ.get(name)}
    candidates = [os.environ.get(key) for key in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")]
    bundle = next((Path(p) for p in [*candidates, "/etc/ssl/certs/ca-certificates.crt"] if p and Path(p).is_file()), None)
    if bundle is not None:
        shutil.copy(bundle, outside / "ca-bundle.crt")
        config["cert"] = f"{inside}/ca-bundle.crt"
    conf = outside / "pip.conf"
    conf.touch(mode=0o600)
    conf.write_text("[global]\n" + "".join(f"{key} = {value}\n" for key, value in config.items()))
    return {"PIP_CONFIG_FILE": f"{inside}/pip.conf"}


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
