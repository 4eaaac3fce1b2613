"""Benchmark 3: the provider processes alone over gRPC (check + create, no engine), the dynamic provider host
and the native plugin, against the bare client's POSTs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clevercloud_tcp.testing.harness import ProviderHost
from clevercloud_tcp.testing.plugin_harness import PluginHost
from common import (
    ORG_ID,
    TWO_NAMESPACES,
    Benchmark,
    Context,
    app_id,
    bare_lap,
    check_held,
    emulator,
    make_fixture,
    pairs,
    plugin_config,
    provider_config,
)
from measure import Lap, lap
from table import Section, fmt_ms

LATENCY = 0.020  # the "realistic API" variant: a fast real API answers in 20 ms or more
TARGET = 2  # bare client rate / provider host rate at most this
PLUGIN_TARGET = 1.5  # bare client rate / native plugin rate at most this


@dataclass(frozen=True)
class Sizes:
    creates: int
    rounds: int  # interleaved; the best of them is kept


def provider_host_lap(host: ProviderHost, inputs: list[dict[str, Any]], warm_up: dict[str, Any]) -> Lap:
    """check + create of each input, one after the other, in a fresh provider process (`host`, not started).

    Untimed: the process start and one check + create of `warm_up` (imports on first use, the client's
    connection, the owner look-up), so that the lap is the steady rate.
    """
    with host:
        host.apply(warm_up, name="warm-up")

        def creates() -> None:
            for i, props in enumerate(inputs):
                host.apply(props, name=f"r{i}")

        return lap(creates)


def cpu_split(cpu: dict[str, float], n: int, unit: str) -> str:
    return (
        f"harness {fmt_ms(cpu['program'] / n)}, provider {fmt_ms(cpu['provider'] / n)}, "
        f"emulator {fmt_ms(cpu['emulator'] / n)} per {unit}"
    )


def run(ctx: Context, sizes: Sizes, rows: Section) -> None:
    n = sizes.creates
    targets = pairs(n)
    n_apps = (n + 1) // 2
    warm_up = {"appId": app_id(n_apps), "namespace": "default"}
    # As a program writes it (app_id and namespace: owner and host looked up once per owner/app), and
    # with owner_id and host given (no look-ups: the provider's own cost over its one POST).
    plain = [{"appId": app, "namespace": ns} for app, ns in targets]
    pinned = [{**p, "ownerId": ORG_ID, "host": "db.example.com"} for p in plain]
    with emulator(make_fixture(n_apps + 1, TWO_NAMESPACES)) as emu:
        config, own_config = provider_config(emu), plugin_config(emu)
        variants: dict[str, tuple[Callable[[], Lap], int]] = {  # the lap and the redirections it leaves
            "host": (lambda: provider_host_lap(ProviderHost(config), plain, warm_up), n + 1),
            "pinned": (lambda: provider_host_lap(ProviderHost(config), pinned, warm_up), n + 1),
            "plugin": (lambda: provider_host_lap(PluginHost(own_config), plain, warm_up), n + 1),
            "plugin-pinned": (lambda: provider_host_lap(PluginHost(own_config), pinned, warm_up), n + 1),
            "bare": (lambda: bare_lap(emu, targets), n),
        }
        laps: dict[str, list[Lap]] = {key: [] for key in variants}
        for _ in range(sizes.rounds):  # interleaved rounds: a busy moment hits all variants alike
            for key, (run_lap, held) in variants.items():
                emu.reset()
                laps[key].append(run_lap())
                check_held(emu, held, key)
        slow: dict[str, Lap] = {}
        for key, (run_lap, _) in variants.items():  # a realistic API: every request delayed by LATENCY
            emu.reset()
            emu.inject(method="*", path="/v2/*", count=10**9, delay=LATENCY)
            slow[key] = run_lap()
        emu.clear_faults()
    best = {key: min(runs, key=lambda lap: lap.wall) for key, runs in laps.items()}
    rounds = f"best of {sizes.rounds}" if sizes.rounds > 1 else "1 round"

    rows.add(
        f"check+create over gRPC, app_id+namespace ({n} sequential, {rounds})",
        f"{n / best['host'].wall:.0f} creates/s",
    )
    rows.add("  CPU (harness = engine stand-in, this process)", cpu_split(best["host"].cpu, n, "create"))
    rows.add("check+create over gRPC, owner_id+host given", f"{n / best['pinned'].wall:.0f} creates/s")
    rows.add("  CPU", cpu_split(best["pinned"].cpu, n, "create"))
    rows.add("check+create over gRPC, native plugin, app_id+namespace", f"{n / best['plugin'].wall:.0f} creates/s")
    rows.add("  CPU (harness = engine stand-in, this process)", cpu_split(best["plugin"].cpu, n, "create"))
    rows.add("check+create over gRPC, native plugin, owner_id+host given", f"{n / best['plugin-pinned'].wall:.0f} creates/s")
    rows.add("  CPU", cpu_split(best["plugin-pinned"].cpu, n, "create"))
    rows.add(f"bare client POSTs ({n} sequential, {rounds})", f"{n / best['bare'].wall:.0f} POSTs/s")
    c = best["bare"].cpu
    rows.add("  CPU", f"client {fmt_ms(c['program'] / n)}, emulator {fmt_ms(c['emulator'] / n)} per POST")
    ratio = best["host"].wall / best["bare"].wall
    rows.add("bare client rate / provider host rate", f"{ratio:.2f}x", f"<= {TARGET}x", ratio <= TARGET)
    rows.add("  same, owner_id+host given (no look-ups)", f"{best['pinned'].wall / best['bare'].wall:.2f}x")
    plugin_ratio = best["plugin"].wall / best["bare"].wall
    rows.add(
        "bare client rate / native plugin rate",
        f"{plugin_ratio:.2f}x",
        f"<= {PLUGIN_TARGET}x",
        plugin_ratio <= PLUGIN_TARGET,
    )
    rows.add("  same, owner_id+host given (no look-ups)", f"{best['plugin-pinned'].wall / best['bare'].wall:.2f}x")
    rows.add("  native plugin rate / provider host rate", f"{best['host'].wall / best['plugin'].wall:.2f}x")
    rows.add(
        f"with {LATENCY * 1e3:.0f} ms added to every API request: provider host / bare client",
        f"{n / slow['host'].wall:.0f} creates/s / {n / slow['bare'].wall:.0f} POSTs/s = "
        f"{slow['host'].wall / slow['bare'].wall:.2f}x",
    )
    rows.add(
        "  same, owner_id+host given (no look-ups)",
        f"{n / slow['pinned'].wall:.0f} creates/s = {slow['pinned'].wall / slow['bare'].wall:.2f}x",
    )
    rows.add(
        "  native plugin / bare client",
        f"{n / slow['plugin'].wall:.0f} creates/s = {slow['plugin'].wall / slow['bare'].wall:.2f}x",
    )
    rows.add(
        "  native plugin, owner_id+host given",
        f"{n / slow['plugin-pinned'].wall:.0f} creates/s = {slow['plugin-pinned'].wall / slow['bare'].wall:.2f}x",
    )


BENCHMARK = Benchmark(
    "provider-host",
    run,
    full=Sizes(creates=100, rounds=3),
    quick=Sizes(creates=30, rounds=1),
    budget_full=180,
    budget_quick=60,
)
