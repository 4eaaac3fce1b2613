"""Measuring tools the benchmarks share: wall time, CPU time and peak RSS of the processes this script
starts, and time budgets that kill them when a benchmark runs too long."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

try:
    import psutil
except ModuleNotFoundError:  # .venv made by scripts/demo: say how to get it rather than a traceback
    raise SystemExit("bench/run.py needs psutil (the `bench` extra): run scripts/bench, which installs it") from None

T = TypeVar("T")


def timed(action: Callable[[], T]) -> tuple[T, float]:
    """What `action` returns, and the wall time it took."""
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def _vm_hwm(pid: int) -> int | None:
    """Peak resident set size (VmHWM) of a live process, in bytes."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


# How a provider process shows in its command line: the dynamic provider host, the native plugin.
PROVIDER_MARKERS = ("pulumi.dynamic", "pulumi-resource-clevercloud-tcp")


def _role(cmdline: list[str]) -> str:
    line = " ".join(cmdline)
    if any(marker in line for marker in PROVIDER_MARKERS):
        return "provider"
    if "emulator" in line:
        return "emulator"
    if cmdline and Path(cmdline[0]).name == "pulumi":
        return "engine"
    return "other"


class ProcessWatch:
    """Polls this script's descendants: the provider processes (how many, and their peak RSS) and the
    CPU time of each kind of process (engine, provider, emulator).

    The peak is the max of the sampled RSS and of the kernel's high-water mark (VmHWM), read on every
    poll, so a peak between two polls is still seen as long as the process lives until the next one.
    CPU time is the last value seen (up to one poll interval short for processes that exit); this
    script's own CPU time (the inline program and its language host) is counted as "program".
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peaks: dict[int, int] = {}
        self._procs: dict[int, tuple[psutil.Process, str]] = {}
        self._cpu_start: dict[int, float] = {}
        self._cpu_last: dict[int, float] = {}
        self._roles: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._own_cpu = 0.0

    def __enter__(self) -> ProcessWatch:
        self._scan()
        self._sample()
        self._cpu_start = dict(self._cpu_last)
        self._own_cpu = time.process_time()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._own_cpu = time.process_time() - self._own_cpu
        self._stop.set()
        self._thread.join()
        self._sample()  # the last interval, for the processes still alive

    def _scan(self) -> None:
        for child in psutil.Process().children(recursive=True):
            if child.pid in self._roles:
                continue
            try:
                role = _role(child.cmdline())
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            if role == "other" and child.name() in ("pulumi-resource-pulumi-python", "bash"):
                continue  # the plugin script execs python: look again at the next scan
            self._roles[child.pid] = role
            self._procs[child.pid] = (child, role)

    def _sample(self) -> None:
        for pid, (proc, role) in list(self._procs.items()):
            try:
                with proc.oneshot():
                    times = proc.cpu_times()
                    rss = proc.memory_info().rss if role == "provider" else 0
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                del self._procs[pid]
                continue
            self._cpu_last[pid] = times.user + times.system
            if role == "provider":
                self.peaks[pid] = max(self.peaks.get(pid, 0), rss, _vm_hwm(pid) or 0)

    def _run(self) -> None:
        ticks = 0
        while not self._stop.wait(self.interval):
            ticks += 1
            if ticks % 4 == 0:
                self._scan()
            self._sample()

    @property
    def processes(self) -> int:
        return len(self.peaks)

    @property
    def peak_rss(self) -> int:
        return max(self.peaks.values(), default=0)

    def cpu(self) -> dict[str, float]:
        """CPU seconds used during the watch, by kind of process."""
        totals = {"engine": 0.0, "program": self._own_cpu, "provider": 0.0, "emulator": 0.0}
        for pid, last in self._cpu_last.items():
            role = self._roles[pid]
            if role in totals:
                totals[role] += last - self._cpu_start.get(pid, 0.0)
        return totals


class Timeout(Exception):
    pass


@contextmanager
def budget(seconds: float, name: str) -> Iterator[None]:
    """Kills every process this script started (its descendants) if `seconds` pass first."""
    fired = threading.Event()

    def fire() -> None:
        fired.set()
        print(f"  !! {name}: time budget of {seconds:.0f}s exhausted, killing its processes", flush=True)
        for child in psutil.Process().children(recursive=True):
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except Exception:
        if fired.is_set():
            raise Timeout(f"{name}: over its {seconds:.0f}s budget") from None
        raise
    finally:
        timer.cancel()
    if fired.is_set():
        raise Timeout(f"{name}: over its {seconds:.0f}s budget")


@dataclass
class Lap:
    wall: float
    cpu: dict[str, float]


def lap(action: Callable[[], object]) -> Lap:
    """Wall time of `action`, and the CPU time used meanwhile by kind of process (see ProcessWatch)."""
    with ProcessWatch() as watch:
        _, wall = timed(action)
    return Lap(wall, watch.cpu())
