"""Benchmark 6: the plugin as a release ships it (PyInstaller, no Python needed; on Linux built in the cached
Debian 11 root) against the console script that a virtualenv installs: the archive's size and the newest
glibc it needs, start-up to the port line the engine reads, and check + create over gRPC, beside the bare
client's POSTs."""

from __future__ import annotations

import importlib
import statistics
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from clevercloud_tcp.testing.plugin_harness import NO_ENGINE, PLUGIN, PackagedPluginHost, PluginHost
from common import TWO_NAMESPACES, Benchmark, Context, app_id, bare_lap, check_held, emulator, make_fixture, pairs, plugin_config
from measure import Lap
from provider_host import provider_host_lap
from table import Section, fmt_ms

ROOT = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPT = Path(sys.executable).parent / PLUGIN
sys.path.insert(0, str(ROOT / "scripts"))  # the release tools import each other by their plain names
glibc_floor = importlib.import_module("glibc_floor")
MAX_ARCHIVE_MIB, MAX_START_UP = 20, 0.25


@dataclass(frozen=True)
class Sizes:
    starts: int  # start-ups of each, interleaved; the median is kept
    creates: int
    rounds: int


def build(out: Path) -> tuple[Path, Path, float]:
    """The release's plugin archive for this machine, unpacked: (archive, executable, build seconds)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, ROOT / "scripts" / "release.py", "--only", "plugin", "--out", out], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    (archive,) = out.glob(f"{PLUGIN}-v*.tar.gz")
    with tarfile.open(archive) as unpacking:
        unpacking.extractall(out / "unpacked", filter="data")
    return archive, out / "unpacked" / PLUGIN, seconds


def start_up(command: list[str]) -> float:
    """Seconds from the start of the process to the port line the engine waits for."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    said = process.stdout.readline().strip()
    elapsed = time.perf_counter() - started
    process.kill()
    process.wait()
    process.stdout.close()
    if not said.isdigit():
        raise RuntimeError(f"{command[0]} printed {said[:80]!r} instead of its port")
    return elapsed


def run(ctx: Context, sizes: Sizes, rows: Section) -> None:
    archive, executable, build_seconds = build(ctx.workdir / "release")
    rows.add("scripts/release --only plugin (PyInstaller; Linux: in the Debian 11 root, cached)", f"{build_seconds:.0f} s")
    size = archive.stat().st_size / 2**20
    unpacked = sum(p.stat().st_size for p in executable.parent.rglob("*") if p.is_file()) / 2**20
    rows.add("  archive (unpacked)", f"{size:.1f} MiB ({unpacked:.0f} MiB)", f"<= {MAX_ARCHIVE_MIB} MiB", size <= MAX_ARCHIVE_MIB)
    if sys.platform == "linux":
        needs = [need for need in glibc_floor.scan(executable.parent).values() if need]
        rows.add("  newest glibc any ELF file in it needs", glibc_floor.show(max(needs)), "<= 2.31", max(needs) <= (2, 31))

    packaged_cmd, console_cmd = [str(executable), NO_ENGINE], [sys.executable, str(CONSOLE_SCRIPT), NO_ENGINE]
    times: dict[str, list[float]] = {"packaged": [], "console": []}
    for _ in range(sizes.starts):  # interleaved: a busy moment hits both alike
        times["packaged"].append(start_up(packaged_cmd))
        times["console"].append(start_up(console_cmd))
    median = {key: statistics.median(values) for key, values in times.items()}
    rows.add(
        f"start-up to the port line, packaged executable (median of {sizes.starts})",
        fmt_ms(median["packaged"]),
        f"<= {MAX_START_UP * 1000:.0f} ms",
        median["packaged"] <= MAX_START_UP,
    )
    rows.add(f"start-up to the port line, console script (median of {sizes.starts})", fmt_ms(median["console"]))
    rows.add(
        "packaged start-up / console script start-up",
        f"{median['packaged'] / median['console']:.2f}x",
        "<= 1x",
        median["packaged"] <= median["console"],
    )

    n = sizes.creates
    targets = pairs(n)
    n_apps = (n + 1) // 2
    warm_up = {"appId": app_id(n_apps), "namespace": "default"}
    plain = [{"appId": app, "namespace": ns} for app, ns in targets]
    with emulator(make_fixture(n_apps + 1, TWO_NAMESPACES)) as emu:
        config = plugin_config(emu)
        laps: dict[str, list[Lap]] = {"packaged": [], "console": [], "bare": []}
        for _ in range(sizes.rounds):
            for key in laps:
                emu.reset()
                if key == "bare":
                    laps[key].append(bare_lap(emu, targets))
                    check_held(emu, n, key)
                    continue
                host = PackagedPluginHost(executable, config) if key == "packaged" else PluginHost(config)
                laps[key].append(provider_host_lap(host, plain, warm_up))
                check_held(emu, n + 1, key)
    best = {key: min(runs, key=lambda lap: lap.wall) for key, runs in laps.items()}
    rounds = f"best of {sizes.rounds}" if sizes.rounds > 1 else "1 round"
    rows.add(f"check+create over gRPC, packaged executable ({n} sequential, {rounds})", f"{n / best['packaged'].wall:.0f} creates/s")
    rows.add("check+create over gRPC, console script", f"{n / best['console'].wall:.0f} creates/s")
    rows.add("bare client POSTs", f"{n / best['bare'].wall:.0f} POSTs/s")
    rows.add("console script rate / packaged rate", f"{best['packaged'].wall / best['console'].wall:.2f}x", "<= 1x", best["packaged"].wall <= best["console"].wall)
    rows.add("  bare client rate / packaged rate", f"{best['packaged'].wall / best['bare'].wall:.2f}x")


BENCHMARK = Benchmark(
    "packaged-plugin",
    run,
    full=Sizes(starts=10, creates=200, rounds=5),
    quick=Sizes(starts=3, creates=30, rounds=1),
    budget_full=300,
    budget_quick=150,
)
