"""Benchmarks of the Clever Cloud TCP redirection provider, every figure measured side by side in one run.

    .venv/bin/python bench/run.py            # the full suite (see bench/README.md for sizes and targets)
    .venv/bin/python bench/run.py --quick    # smaller sizes: a smoke run of under two minutes
    .venv/bin/python bench/run.py --only scaling --only api-calls

Everything runs on 127.0.0.1: a local emulator of the Clever Cloud API (one per benchmark, seeded),
the real `pulumi` engine on a local file backend, the provider host it starts, and the official
`clever` CLI. Each benchmark has a time budget; when it runs out, the processes this script started
for it are killed and its rows read TIMEOUT. The table goes to stdout and to bench/results/latest.txt.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from clevercloud_tcp import CleverCloudClient, OAuthCredentials
from clevercloud_tcp.emulator import App, EmulatorProcess, Fixture, NamespaceSpec, organisation_fixture
from clevercloud_tcp.harness import ProviderHost
from clevercloud_tcp.local_stack import find_pulumi, local_stack
from pulumi_clevercloud_tcp import TcpRedirection
from pydantic import SecretStr

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
TOKEN, SECRET = "bench-token", "bench-secret"
USER_ID = "user_5e1f6a2b-0c3d-4e4f-8a5b-6c7d8e9f0a1b"
ORG_ID = "orga_0b1c2d3e-4f5a-4b6c-9d7e-8f9a0b1c2d3e"
SEED = 20240601
LATENCY = 0.020  # benchmark 3's "realistic API" variant: a fast real API answers in 20 ms or more
APP_NAMESPACE = uuid.UUID("6f1c0e3a-5b2d-4c8e-9a7f-1d2e3f4a5b6c")
INSTALL_CLEVER_TOOLS = BENCH_DIR.parent / "scripts" / "install-clever-tools"

SUMMARY = "GET /v2/summary"
TCP_REDIRS = "/v2/organisations/{owner_id}/applications/{app_id}/tcpRedirs"
POST_REDIR = f"POST {TCP_REDIRS}"
GET_REDIRS = f"GET {TCP_REDIRS}"
DELETE_REDIR = f"DELETE {TCP_REDIRS}/{{port}}"
GET_VHOSTS = "GET /v2/organisations/{owner_id}/applications/{app_id}/vhosts"
GET_FAVOURITE = "GET /v2/organisations/{owner_id}/applications/{app_id}/vhosts/favourite"


# ---------------------------------------------------------------------------------------------------
# Sizes and budgets


@dataclass(frozen=True)
class Sizes:
    api_calls_redirections: int  # benchmark 1: N redirections over N/2 apps
    provision_redirections: int  # benchmark 2: apps x 2 namespaces
    host_creates: int  # benchmark 3
    host_rounds: int
    scaling: tuple[int, ...]  # benchmark 4
    scaling_apps: int
    alloc_samples: int  # benchmark 5
    budgets: dict[str, float] = field(default_factory=dict)


FULL = Sizes(
    api_calls_redirections=20,
    provision_redirections=100,
    host_creates=100,
    host_rounds=3,
    scaling=(10, 100, 500),
    scaling_apps=250,
    alloc_samples=500,
    budgets={"api-calls": 240, "provisioning": 420, "provider-host": 180, "scaling": 900, "allocation": 240},
)
QUICK = Sizes(
    api_calls_redirections=6,
    provision_redirections=10,
    host_creates=30,
    host_rounds=1,
    scaling=(10, 30, 60),
    scaling_apps=30,
    alloc_samples=100,
    budgets={"api-calls": 60, "provisioning": 90, "provider-host": 60, "scaling": 120, "allocation": 60},
)


# ---------------------------------------------------------------------------------------------------
# Results table


@dataclass
class Row:
    bench: str
    measure: str
    value: str
    target: str = ""
    result: str = ""  # PASS, MISS, "" (information only), TIMEOUT, ERROR


class Table:
    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.notes: list[str] = []

    quick = False

    def add(self, bench: str, measure: str, value: str, target: str = "", ok: bool | None = None) -> None:
        result = "" if ok is None else ("PASS" if ok else "MISS") + ("*" if self.quick else "")
        self.rows.append(Row(bench, measure, value, target, result))
        print(f"  {measure}: {value}" + (f"  [target {target}: {result}]" if target else ""), flush=True)

    def render(self) -> str:
        header = Row("benchmark", "measure", "measured", "target", "result")
        rows = [header, *self.rows]
        widths = [max(len(getattr(r, col)) for r in rows) for col in ("bench", "measure", "value", "target", "result")]

        def line(r: Row) -> str:
            cells = [r.bench, r.measure, r.value, r.target, r.result]
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

        out = [line(header), "  ".join("-" * w for w in widths)]
        previous = None
        for r in self.rows:
            shown = Row("" if r.bench == previous else r.bench, r.measure, r.value, r.target, r.result)
            previous = r.bench
            out.append(line(shown))
        return "\n".join(out)


# ---------------------------------------------------------------------------------------------------
# Fixtures, clients, stacks


def app_id(i: int) -> str:
    # uuid5: a real version nibble, so clever-tools takes it for an id and not for an app name.
    return f"app_{uuid.uuid5(APP_NAMESPACE, f'bench-app-{i}')}"


def make_fixture(
    n_apps: int,
    namespaces: dict[str, tuple[int, int]],
    *,
    two_custom_domains_every: int = 0,
) -> Fixture:
    """One user in one organisation owning `n_apps` apps, each with a cleverapps.io and a custom domain.

    With `two_custom_domains_every=k`, every k-th app has a second custom domain and a favourite,
    so that host resolution needs `vhosts/favourite` for it.
    """
    apps = []
    for i in range(n_apps):
        aid = app_id(i)
        vhosts = [f"{aid.replace('_', '-')}.cleverapps.io", f"bench-{i}.example.com"]
        favourite = None
        if two_custom_domains_every and i % two_custom_domains_every == 0:
            vhosts.append(f"alt-{i}.example.com")
            favourite = f"alt-{i}.example.com"
        apps.append(App(id=aid, name=f"bench-{i:04d}", vhosts=vhosts, favourite_vhost=favourite))
    return organisation_fixture(
        user_id=USER_ID,
        org_id=ORG_ID,
        token=TOKEN,
        secret=SECRET,
        apps=apps,
        namespaces=[NamespaceSpec(name=n, min_port=lo, max_port=hi) for n, (lo, hi) in namespaces.items()],
    )


def emulator(fixture: Fixture) -> EmulatorProcess:
    return EmulatorProcess(fixture, seed=SEED)


def bare_client(emu: EmulatorProcess) -> CleverCloudClient:
    return CleverCloudClient(emu.url, OAuthCredentials(token=SecretStr(TOKEN), secret=SecretStr(SECRET)))


def pairs(n: int) -> list[tuple[str, str]]:
    """n (app, namespace) pairs: n/2 apps, each in `default` and in `cleverapps`."""
    return [(app_id(i // 2), ("default", "cleverapps")[i % 2]) for i in range(n)]


def redirections_program(targets: list[tuple[str, str]]) -> Callable[[], None]:
    def program() -> None:
        for i, (app, namespace) in enumerate(targets):
            TcpRedirection(f"r{i:04d}", app_id=app, namespace=namespace)

    return program


class Context:
    def __init__(
        self, workdir: Path, cli_dir: Path | None, clever: Path | None, engine_env: dict[str, str] | None = None
    ) -> None:
        self.workdir = workdir
        self.engine_env = engine_env or {}
        self.cli_dir = cli_dir
        self.clever = clever
        self._stacks = 0

    def stack(self, emu: EmulatorProcess, targets: list[tuple[str, str]]) -> Any:
        if self.cli_dir is None:
            raise RuntimeError("no pulumi CLI found: run scripts/install-pulumi")
        self._stacks += 1
        return local_stack(
            redirections_program(targets),
            cli_dir=self.cli_dir,
            state_dir=self.workdir / f"stack-{self._stacks}",
            project="clevercloud-tcp-bench",
            stack="bench",
            config={"clevercloud:endpoint": emu.url},
            secrets={"clevercloud:token": TOKEN, "clevercloud:secret": SECRET},
            env=self.engine_env,
        )


def check_held(emu: EmulatorProcess, expected: int, what: str) -> None:
    held = len(emu.redirections())
    if held != expected:
        raise RuntimeError(f"{what}: the emulator holds {held} redirections, expected {expected}")


# ---------------------------------------------------------------------------------------------------
# Watching the provider processes, and time budgets


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


def _role(cmdline: list[str]) -> str:
    line = " ".join(cmdline)
    if "pulumi.dynamic" in line:
        return "provider"
    if "emulator" in line:
        return "emulator"
    if cmdline and Path(cmdline[0]).name == "pulumi":
        return "engine"
    return "other"


class ProcessWatch:
    """Polls this script's descendants: the `python -m pulumi.dynamic` provider processes (how many, and
    their peak RSS) and the CPU time of each kind of process (engine, provider, emulator).

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


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1e3:.1f} ms"


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.1f} ms"


def fmt_mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


# ---------------------------------------------------------------------------------------------------
# 1. API calls per operation


def bench_api_calls(ctx: Context, sizes: Sizes, table: Table) -> None:
    name = "1 api-calls"
    n = sizes.api_calls_redirections
    n_apps = n // 2
    every = 2  # half the apps have two custom domains: their `default` redirection needs the favourite
    fixture = make_fixture(
        n_apps, {"default": (5001, 5999), "cleverapps": (5001, 5999)}, two_custom_domains_every=every
    )
    favourite_apps = len([i for i in range(n_apps) if i % every == 0])
    # operation -> {route: (count, exact)}: exact counts are the minimum (one write or read per
    # redirection); look-ups are bounds per provider process (at most once per owner or app).
    expected: dict[str, dict[str, tuple[int, bool]]] = {
        "up": {
            POST_REDIR: (n, True),
            SUMMARY: (1, False),
            GET_VHOSTS: (n_apps, False),
            GET_FAVOURITE: (favourite_apps, False),
        },
        "preview, no change": {},
        "refresh": {GET_REDIRS: (n, True)},
        "destroy": {DELETE_REDIR: (n, True)},
    }
    with emulator(fixture) as emu:
        stack = ctx.stack(emu, pairs(n))
        calls: dict[str, Callable[[], Any]] = {
            "up": lambda: stack.up(color="never"),
            "preview, no change": lambda: stack.preview(color="never"),
            "refresh": lambda: stack.refresh(color="never"),
            "destroy": lambda: stack.destroy(color="never"),
        }
        for op, bounds in expected.items():
            emu.clear_log()
            with ProcessWatch() as watch:
                result = calls[op]()
            counts = emu.counts()
            processes = max(watch.processes, 1)
            if op.startswith("preview"):
                planned = set(result.change_summary or {}) - {"same"}
                if planned:
                    raise RuntimeError(f"preview of an unchanged stack planned changes: {result.change_summary}")
            total = sum(counts.values())
            minimum = sum(count for count, exact in bounds.values() if exact)
            table.add(
                name,
                f"{op}: all API calls ({n} redirections of {n_apps} apps; provider processes: {watch.processes})",
                f"{total} = {total / max(minimum, 1):.2f}x the minimum {minimum}" if minimum else str(total),
                "0" if not bounds else "",
                total == 0 if not bounds else None,
            )
            for route in sorted(set(bounds) | set(counts), key=lambda r: (r not in bounds or not bounds[r][1], r)):
                actual = counts.get(route, 0)
                count, exact = bounds.get(route, (0, True))
                if exact:
                    target, ok = (f"= {count} (1 per redirection)" if count else "0"), actual == count
                else:
                    limit = count * processes
                    target, ok = f"<= {limit} (1 per {'owner' if route == SUMMARY else 'app'}/process)", actual <= limit
                table.add(name, f"  {short_route(route)}", f"{actual} ({actual / n:.2f}/redirection)", target, ok)
            if op == "up":
                check_held(emu, n, "after up")
        check_held(emu, 0, "after destroy")


def short_route(route: str) -> str:
    return route.replace("/v2/organisations/{owner_id}/applications/{app_id}/", "")


# ---------------------------------------------------------------------------------------------------
# 2. Provisioning: pulumi up vs the official CLI in a shell loop vs the bare client

CLI_LOOP = r"""
set -euo pipefail
while read -r app namespace; do
  "$CLEVER" tcp-redirs add --namespace "$namespace" --app "$app" --no-update-notifier >/dev/null
done < "$PAIRS"
"""


def clever_env(emu: EmulatorProcess, home: Path) -> dict[str, str]:
    (home / "config").mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "API_HOST": emu.url,
        "CLEVER_TOKEN": TOKEN,
        "CLEVER_SECRET": SECRET,
        "XDG_CONFIG_HOME": str(home / "config"),
        "HOME": str(home),
        "NO_COLOR": "1",
    }


def bench_provisioning(ctx: Context, sizes: Sizes, table: Table) -> None:
    name = "2 provisioning"
    n = sizes.provision_redirections
    n_apps = n // 2
    targets = pairs(n)
    fixture = make_fixture(n_apps, {"default": (5001, 5999), "cleverapps": (5001, 5999)})
    with emulator(fixture) as emu:
        # pulumi up through the real engine, default parallelism (the stack is prepared untimed).
        stack = ctx.stack(emu, targets)
        started = time.perf_counter()
        stack.up(color="never")
        t_pulumi = time.perf_counter() - started
        check_held(emu, n, "pulumi up")
        emu.reset()

        # The official CLI, one add after the other, in one shell loop.
        t_cli: float | None = None
        if ctx.clever is not None:
            home = ctx.workdir / "clever-home"
            pair_file = ctx.workdir / "clever-pairs.txt"
            pair_file.write_text("".join(f"{app} {ns}\n" for app, ns in targets))
            env = {**clever_env(emu, home), "CLEVER": str(ctx.clever), "PAIRS": str(pair_file)}
            started = time.perf_counter()
            done = subprocess.run(["bash", "-c", CLI_LOOP], env=env, capture_output=True, text=True, check=False)
            t_cli = time.perf_counter() - started
            if done.returncode != 0:
                raise RuntimeError(f"the clever loop failed ({done.returncode}): {done.stderr[-800:]}")
            check_held(emu, n, "clever loop")
            emu.reset()

        # The bare minimum: the project's client, n POSTs one after the other over one connection.
        with bare_client(emu) as client:
            started = time.perf_counter()
            for app, namespace in targets:
                client.add_tcp_redirection(ORG_ID, app, namespace)
            t_bare = time.perf_counter() - started
        check_held(emu, n, "bare client")

    table.add(
        name,
        f"pulumi up, {n} redirections ({n_apps} apps x 2 namespaces)",
        f"{fmt_s(t_pulumi)} ({fmt_ms(t_pulumi / n)}/redirection)",
    )
    if t_cli is not None:
        table.add(name, f"clever tcp-redirs add x {n}, bash loop", f"{fmt_s(t_cli)} ({fmt_ms(t_cli / n)}/redirection)")
    else:
        table.add(name, "clever tcp-redirs add loop", "skipped: clever-tools not installed (see README)")
    table.add(name, f"bare client, {n} sequential POSTs", f"{fmt_s(t_bare)} ({fmt_ms(t_bare / n)}/redirection)")
    if t_cli is not None:
        ratio = t_cli / t_pulumi
        table.add(name, "speed-up of pulumi up over the CLI loop", f"{ratio:.1f}x", ">= 5x", ratio >= 5)
    table.add(name, "pulumi up / bare client", f"{t_pulumi / t_bare:.1f}x")


# ---------------------------------------------------------------------------------------------------
# 3. The provider host alone, over gRPC


@dataclass
class Lap:
    wall: float
    cpu: dict[str, float]


def _provider_host_lap(
    emu: EmulatorProcess, config: dict[str, str], inputs: list[dict[str, Any]], warm_up: dict[str, Any]
) -> Lap:
    """check + create of each input, one after the other, in a fresh provider process.

    Untimed: the process start and one check + create of `warm_up` (imports on first use, the client's
    connection, the owner look-up), so that the lap is the steady rate.
    """
    with ProviderHost(config) as host:
        host.apply(warm_up, name="warm-up")
        with ProcessWatch() as watch:
            started = time.perf_counter()
            for i, props in enumerate(inputs):
                host.apply(props, name=f"r{i}")
            wall = time.perf_counter() - started
    return Lap(wall, watch.cpu())


def _bare_lap(emu: EmulatorProcess, targets: list[tuple[str, str]]) -> Lap:
    with bare_client(emu) as client:
        client.summary()  # untimed: the connection
        with ProcessWatch() as watch:
            started = time.perf_counter()
            for app, namespace in targets:
                client.add_tcp_redirection(ORG_ID, app, namespace)
            wall = time.perf_counter() - started
    return Lap(wall, watch.cpu())


def bench_provider_host(ctx: Context, sizes: Sizes, table: Table) -> None:
    name = "3 provider-host"
    n = sizes.host_creates
    targets = pairs(n)
    n_apps = (n + 1) // 2
    fixture = make_fixture(n_apps + 1, {"default": (5001, 5999), "cleverapps": (5001, 5999)})
    warm_up = {"appId": app_id(n_apps), "namespace": "default"}
    # As a program writes it (app_id and namespace: owner and host looked up once per owner/app), and
    # with owner_id and host given (no look-ups: the provider's own cost over its one POST).
    plain = [{"appId": app, "namespace": ns} for app, ns in targets]
    pinned = [{**p, "ownerId": ORG_ID, "host": "db.example.com"} for p in plain]
    laps: dict[str, list[Lap]] = {"host": [], "pinned": [], "bare": []}
    with emulator(fixture) as emu:
        config = {"clevercloud:token": TOKEN, "clevercloud:secret": SECRET, "clevercloud:endpoint": emu.url}
        for _ in range(sizes.host_rounds):  # interleaved rounds: a busy moment hits all three alike
            for key, run_lap in (
                ("host", lambda: _provider_host_lap(emu, config, plain, warm_up)),
                ("pinned", lambda: _provider_host_lap(emu, config, pinned, warm_up)),
                ("bare", lambda: _bare_lap(emu, targets)),
            ):
                emu.reset()
                laps[key].append(run_lap())
                check_held(emu, n if key == "bare" else n + 1, key)
        # The same with a realistic API: every API request delayed by LATENCY (the emulator's fault rules).
        emu.reset()
        emu.inject(method="*", path="/v2/*", count=10**9, delay=LATENCY)
        slow_host = _provider_host_lap(emu, config, plain, warm_up)
        emu.reset()
        emu.inject(method="*", path="/v2/*", count=10**9, delay=LATENCY)
        slow_pinned = _provider_host_lap(emu, config, pinned, warm_up)
        emu.reset()
        emu.inject(method="*", path="/v2/*", count=10**9, delay=LATENCY)
        slow_bare = _bare_lap(emu, targets)
        emu.clear_faults()
    best = {key: min(runs, key=lambda lap: lap.wall) for key, runs in laps.items()}
    rounds = f"best of {sizes.host_rounds}" if sizes.host_rounds > 1 else "1 round"

    def cpu_split(lap: Lap, unit: str) -> str:
        c = lap.cpu
        return (
            f"harness {fmt_ms(c['program'] / n)}, provider {fmt_ms(c['provider'] / n)}, "
            f"emulator {fmt_ms(c['emulator'] / n)} per {unit}"
        )

    table.add(
        name,
        f"check+create over gRPC, app_id+namespace ({n} sequential, {rounds})",
        f"{n / best['host'].wall:.0f} creates/s",
    )
    table.add(name, "  CPU (harness = engine stand-in, this process)", cpu_split(best["host"], "create"))
    table.add(name, "check+create over gRPC, owner_id+host given", f"{n / best['pinned'].wall:.0f} creates/s")
    table.add(name, "  CPU", cpu_split(best["pinned"], "create"))
    table.add(name, f"bare client POSTs ({n} sequential, {rounds})", f"{n / best['bare'].wall:.0f} POSTs/s")
    c = best["bare"].cpu
    table.add(name, "  CPU", f"client {fmt_ms(c['program'] / n)}, emulator {fmt_ms(c['emulator'] / n)} per POST")
    ratio = best["host"].wall / best["bare"].wall
    table.add(name, "bare client rate / provider host rate", f"{ratio:.2f}x", "<= 2x", ratio <= 2)
    table.add(name, "  same, owner_id+host given (no look-ups)", f"{best['pinned'].wall / best['bare'].wall:.2f}x")
    table.add(
        name,
        f"with {LATENCY * 1e3:.0f} ms added to every API request: provider host / bare client",
        f"{n / slow_host.wall:.0f} creates/s / {n / slow_bare.wall:.0f} POSTs/s = {slow_host.wall / slow_bare.wall:.2f}x",
    )
    table.add(
        name,
        "  same, owner_id+host given (no look-ups)",
        f"{n / slow_pinned.wall:.0f} creates/s = {slow_pinned.wall / slow_bare.wall:.2f}x",
    )


# ---------------------------------------------------------------------------------------------------
# 4. Scaling of pulumi up + destroy


def bench_scaling(ctx: Context, sizes: Sizes, table: Table) -> None:
    name = "4 scaling"
    fixture = make_fixture(sizes.scaling_apps, {"default": (5001, 6999), "cleverapps": (5001, 6999)})
    per_redirection: dict[int, float] = {}
    totals: dict[int, float] = {}
    cpu: dict[int, dict[str, float]] = {}
    peaks: dict[int, int] = {}
    with emulator(fixture) as emu:
        for n in sizes.scaling:
            if n > 2 * sizes.scaling_apps:
                raise RuntimeError(f"{n} redirections need {n // 2} apps, the fixture has {sizes.scaling_apps}")
            emu.reset()
            stack = ctx.stack(emu, pairs(n))
            with ProcessWatch() as watch:
                started = time.perf_counter()
                stack.up(color="never")
                t_up = time.perf_counter() - started
                check_held(emu, n, f"up of {n}")
                started = time.perf_counter()
                stack.destroy(color="never")
                t_destroy = time.perf_counter() - started
                check_held(emu, 0, f"destroy of {n}")
            totals[n] = t_up + t_destroy
            per_redirection[n] = totals[n] / n
            peaks[n] = watch.peak_rss
            cpu[n] = watch.cpu()
            table.add(
                name,
                f"up + destroy of {n}",
                f"{fmt_s(t_up)} + {fmt_s(t_destroy)} = {fmt_ms(per_redirection[n])}/redirection; "
                f"provider peak RSS {fmt_mib(peaks[n])} (max of {watch.processes} processes)",
            )
    small, mid, large = sizes.scaling
    ratio = per_redirection[large] / per_redirection[mid]
    table.add(name, f"time per redirection, {large} vs {mid}", f"{ratio:.2f}x", "<= 1.3x", ratio <= 1.3)
    for n in sizes.scaling:
        table.add(
            name,
            f"  CPU during up + destroy of {n}: engine / program / provider / emulator",
            " / ".join(f"{v:.1f}" for v in cpu[n].values()) + " s",
        )
    for role in ("engine", "program", "provider"):
        growth = (cpu[large][role] / large) / (cpu[mid][role] / mid) if cpu[mid][role] else float("inf")
        table.add(name, f"  {role} CPU per redirection, {large} vs {mid}", f"{growth:.2f}x")
    marginal_mid = (totals[mid] - totals[small]) / (mid - small)
    marginal_large = (totals[large] - totals[mid]) / (large - mid)
    table.add(
        name,
        f"marginal time per extra redirection, {mid}->{large} vs {small}->{mid}",
        f"{fmt_ms(marginal_large)} vs {fmt_ms(marginal_mid)} = {marginal_large / marginal_mid:.2f}x",
    )
    mem = peaks[large] / peaks[small] if peaks[small] else float("inf")
    table.add(name, f"provider peak RSS, {large} vs {small} (flat)", f"{mem:.2f}x", "<= 1.2x", mem <= 1.2)


# ---------------------------------------------------------------------------------------------------
# 5. Emulator allocation: an add in an empty namespace vs in one 99% full


def bench_allocation(ctx: Context, sizes: Sizes, table: Table) -> None:
    name = "5 allocation"
    size = 1000
    filled = size * 99 // 100
    spare_apps = 10
    fixture = make_fixture(
        filled + spare_apps,
        {"empty": (20001, 20000 + size), "full": (30001, 30000 + size), "default": (5001, 5999)},
    )
    spare = [app_id(filled + i) for i in range(spare_apps)]
    latencies: dict[str, dict[str, list[float]]] = {ns: {"add": [], "remove": []} for ns in ("empty", "full")}
    with emulator(fixture) as emu, bare_client(emu) as client:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:  # the client's pool holds 16 connections
            list(pool.map(lambda i: client.add_tcp_redirection(ORG_ID, app_id(i), "full"), range(filled)))
        t_fill = time.perf_counter() - started
        check_held(emu, filled, "fill")
        for _ in range(20):  # warm-up
            client.remove_tcp_redirection(
                ORG_ID, spare[0], "empty", client.add_tcp_redirection(ORG_ID, spare[0], "empty").port
            )
        for k in range(sizes.alloc_samples):
            app = spare[k % spare_apps]
            order = ("empty", "full") if k % 2 == 0 else ("full", "empty")  # interleaved: drift hits both alike
            for namespace in order:
                t0 = time.perf_counter()
                port = client.add_tcp_redirection(ORG_ID, app, namespace).port
                t1 = time.perf_counter()
                client.remove_tcp_redirection(ORG_ID, app, namespace, port)
                t2 = time.perf_counter()
                latencies[namespace]["add"].append(t1 - t0)
                latencies[namespace]["remove"].append(t2 - t1)
        check_held(emu, filled, "after the samples")
    med = {ns: {op: statistics.median(v) for op, v in d.items()} for ns, d in latencies.items()}
    table.add(name, f"fill {filled} of {size} ports through the API, 16 at a time", f"{fmt_s(t_fill)}")
    for ns, label in (("empty", "empty namespace"), ("full", f"{filled}/{size} full")):
        table.add(
            name,
            f"median add / remove, {label} ({sizes.alloc_samples} samples)",
            f"{fmt_ms(med[ns]['add'])} / {fmt_ms(med[ns]['remove'])}",
        )
    ratio = med["full"]["add"] / med["empty"]["add"]
    table.add(name, "add latency, 99% full vs empty", f"{ratio:.2f}x", "<= 1.5x", ratio <= 1.5)
    ratio_rm = med["full"]["remove"] / med["empty"]["remove"]
    table.add(name, "remove latency, 99% full vs empty", f"{ratio_rm:.2f}x")


# ---------------------------------------------------------------------------------------------------
# Machine description and main


BENCHMARKS: dict[str, Callable[[Context, Sizes, Table], None]] = {
    "api-calls": bench_api_calls,
    "provisioning": bench_provisioning,
    "provider-host": bench_provider_host,
    "scaling": bench_scaling,
    "allocation": bench_allocation,
}


def _run(cmd: list[str], env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    return (done.stdout.strip() or done.stderr.strip()).splitlines()[-1] if (done.stdout or done.stderr) else "?"


def _revision() -> str:
    head = _run(["git", "-C", str(BENCH_DIR.parent), "rev-parse", "--short", "HEAD"])
    dirty = _run(["git", "-C", str(BENCH_DIR.parent), "status", "--porcelain", "--untracked-files=no"])
    return head + (" + uncommitted changes" if dirty not in ("", "?") else "")


def machine(ctx: Context) -> list[str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total
    pulumi_version = _run([str(ctx.cli_dir / "pulumi"), "version"]) if ctx.cli_dir else "not found"
    if ctx.clever:
        with tempfile.TemporaryDirectory() as home:
            env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "XDG_CONFIG_HOME": home}
            clever = _run([str(ctx.clever), "version", "--no-update-notifier"], env) + f" ({ctx.clever})"
    else:
        clever = "not found"
    node = _run(["node", "--version"]) if shutil.which("node") else "not found"
    return [
        f"nproc: {os.cpu_count()}    memory: {memory / 2**30:.1f} GiB    CPU: {cpu}",
        (
            f"Python {platform.python_version()} ({platform.platform()})    pulumi CLI {pulumi_version}    "
            f"pulumi SDK {_pulumi_sdk_version()}"
        ),
        f"clever-tools {clever}    node {node}",
        f"revision: {_revision()}",
        f"load average at start: {_load()} (other work on the machine skews wall times; CPU times less so)",
    ]


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def emulator_round_trip(samples: int = 50) -> float:
    """Median time of one small GET against a fresh emulator, over one kept-alive connection."""
    fixture = make_fixture(1, {"default": (5001, 5999)})
    with emulator(fixture) as emu, bare_client(emu) as client:
        client.list_tcp_redirections(ORG_ID, app_id(0))
        times = []
        for _ in range(samples):
            t0 = time.perf_counter()
            client.list_tcp_redirections(ORG_ID, app_id(0))
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _pulumi_sdk_version() -> str:
    from importlib.metadata import version

    return version("pulumi")


def find_clever() -> Path | None:
    """`$CLEVER_TOOLS_BIN`, else the pinned clever-tools that scripts/install-clever-tools provides."""
    given = os.environ.get("CLEVER_TOOLS_BIN")
    if given:
        return Path(given)
    done = subprocess.run(["bash", str(INSTALL_CLEVER_TOOLS)], stdout=subprocess.PIPE, text=True)
    return Path(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run of under two minutes")
    parser.add_argument(
        "--only", action="append", choices=sorted(BENCHMARKS), help="run only this benchmark (repeatable)"
    )
    parser.add_argument(
        "--engine-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the pulumi engine (repeatable), e.g. PULUMI_SKIP_CHECKPOINTS=true",
    )
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "latest.txt", help="where to write the table too")
    args = parser.parse_args(argv)
    table = Table()
    sizes = QUICK if args.quick else FULL
    table.quick = args.quick
    chosen = [b for b in BENCHMARKS if not args.only or b in args.only]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="clevercloud-tcp-bench-") as tmp:
        engine_env = dict(item.split("=", 1) for item in args.engine_env)
        ctx = Context(Path(tmp), find_pulumi(), find_clever(), engine_env)
        description = machine(ctx)
        round_trip = emulator_round_trip()
        description.append(
            f"emulator round trip: {fmt_ms(round_trip)} (median GET)"
            + ("  << over 5 ms: every API call is slowed, see bench/README.md" if round_trip > 0.005 else "")
        )
        if engine_env:
            description.append(f"engine environment: {' '.join(args.engine_env)}")
        for line in description:
            print(line)
        for key in chosen:
            print(f"== {key} ({'quick' if args.quick else 'full'})", flush=True)
            bench_started = time.perf_counter()
            try:
                with budget(sizes.budgets[key], key):
                    BENCHMARKS[key](ctx, sizes, table)
            except Timeout as exc:
                table.rows.append(Row(_label(key), "benchmark did not finish", str(exc), "", "TIMEOUT"))
            except Exception as exc:  # noqa: BLE001 - one failed benchmark must not hide the others
                traceback.print_exc()
                table.rows.append(
                    Row(_label(key), "benchmark failed", f"{type(exc).__name__}: {exc}"[:160], "", "ERROR")
                )
            print(f"   ({key}: {fmt_s(time.perf_counter() - bench_started)})", flush=True)
    total = time.perf_counter() - started
    mode = "quick" if args.quick else "full"
    results = [r.result.rstrip("*") for r in table.rows if r.result]
    verdict = ", ".join(f"{results.count(k)} {k}" for k in ("PASS", "MISS", "TIMEOUT", "ERROR") if k in results)
    text = "\n".join(
        [
            f"clevercloud-tcp benchmarks, {mode} mode, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, total {fmt_s(total)}",
            *description,
            f"load average at end: {_load()}",
            "",
            table.render(),
            "",
            verdict,
            *(
                ["* quick mode: sizes too small for the targets; PASS/MISS there is indicative only"]
                if args.quick
                else []
            ),
        ]
    )
    print()
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n")
    return 0 if all(r == "PASS" for r in results) else 1


def _label(key: str) -> str:
    return f"{list(BENCHMARKS).index(key) + 1} {key}"


if __name__ == "__main__":
    sys.exit(main())
