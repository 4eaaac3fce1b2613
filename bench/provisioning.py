"""Benchmark 2: `pulumi up` of N redirections, through the dynamic provider and through the native plugin (a YAML
project), against the official CLI in a shell loop and the bare client."""

from __future__ import annotations

import functools
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from clevercloud_tcp.emulator.process import EmulatorProcess
from common import (
    SECRET,
    TOKEN,
    TWO_NAMESPACES,
    Benchmark,
    Context,
    bare_lap,
    check_held,
    emulator,
    make_fixture,
    pairs,
)
from measure import timed
from table import Section, fmt_ms, fmt_s
from yaml_project import YamlStack

CLI_LOOP = r"""
set -euo pipefail
while read -r app namespace; do
  "$CLEVER" tcp-redirs add --namespace "$namespace" --app "$app" --no-update-notifier >/dev/null
done < "$PAIRS"
"""
TARGET = 5  # pulumi up at least this many times faster than the CLI loop
PLUGIN_TARGET = 20  # the same through the native plugin
PLUGIN_VS_DYNAMIC = 1.0  # the native plugin's up takes at most this times the dynamic provider's: not slower


@dataclass(frozen=True)
class Sizes:
    redirections: int  # apps x 2 namespaces
    rounds: int  # of the two `pulumi up`s, interleaved; the best of each is kept


def clever_env(emu: EmulatorProcess, home: Path) -> dict[str, str]:
    """The official CLI pointed at the emulator, with a home of its own (no profile of the user's)."""
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


def _cli_loop(ctx: Context, clever: Path, emu: EmulatorProcess, targets: list[tuple[str, str]]) -> float:
    """Seconds the official CLI takes to add every target, one `clever tcp-redirs add` after the other."""
    pair_file = ctx.workdir / "clever-pairs.txt"
    pair_file.write_text("".join(f"{app} {ns}\n" for app, ns in targets))
    env = {**clever_env(emu, ctx.workdir / "clever-home"), "CLEVER": str(clever), "PAIRS": str(pair_file)}
    done, seconds = timed(
        lambda: subprocess.run(["bash", "-c", CLI_LOOP], env=env, capture_output=True, text=True, check=False)
    )
    if done.returncode != 0:
        raise RuntimeError(f"the clever loop failed ({done.returncode}): {done.stderr[-800:]}")
    return seconds


def _speed_up(rows: Section, measure: str, t_cli: float | None, t_up: float, target: float) -> None:
    """A target row: how many times faster than the CLI loop an `up` was, or SKIP without the CLI."""
    wanted = f">= {target:g}x"
    if t_cli is None:
        rows.skip(measure, "clever-tools not installed (scripts/install-clever-tools)", wanted)
    else:
        rows.add(measure, f"{t_cli / t_up:.1f}x", wanted, t_cli / t_up >= target)


def run(ctx: Context, sizes: Sizes, rows: Section) -> None:
    n = sizes.redirections
    n_apps = n // 2
    targets = pairs(n)
    with emulator(make_fixture(n_apps, TWO_NAMESPACES)) as emu:
        # pulumi up through the real engine, default parallelism, each time on a fresh stack prepared untimed:
        # the dynamic provider from an inline Python program, the native plugin from a YAML project.
        ups: dict[str, list[float]] = {"dynamic": [], "plugin": []}
        for _ in range(sizes.rounds):
            stack = ctx.stack(emu, targets)
            ups["dynamic"].append(timed(functools.partial(stack.up, color="never"))[1])
            check_held(emu, n, "pulumi up")
            emu.reset()
            ups["plugin"].append(timed(YamlStack(ctx, emu, targets).up)[1])
            check_held(emu, n, "pulumi up of the YAML project")
            emu.reset()
        t_pulumi, t_plugin = min(ups["dynamic"]), min(ups["plugin"])

        t_cli: float | None = None
        if ctx.clever is not None:
            t_cli = _cli_loop(ctx, ctx.clever, emu, targets)
            check_held(emu, n, "clever loop")
            emu.reset()

        t_bare = bare_lap(emu, targets).wall
        check_held(emu, n, "bare client")

    rounds = f"best of {sizes.rounds}" if sizes.rounds > 1 else "1 round"
    rows.add(
        f"pulumi up, {n} redirections ({n_apps} apps x 2 namespaces; {rounds})",
        f"{fmt_s(t_pulumi)} ({fmt_ms(t_pulumi / n)}/redirection)",
    )
    rows.add(
        f"pulumi up of a YAML project, native plugin, {n} redirections",
        f"{fmt_s(t_plugin)} ({fmt_ms(t_plugin / n)}/redirection)",
    )
    if t_cli is not None:
        rows.add(f"clever tcp-redirs add x {n}, bash loop", f"{fmt_s(t_cli)} ({fmt_ms(t_cli / n)}/redirection)")
    rows.add(f"bare client, {n} sequential POSTs", f"{fmt_s(t_bare)} ({fmt_ms(t_bare / n)}/redirection)")
    _speed_up(rows, "speed-up of pulumi up over the CLI loop", t_cli, t_pulumi, TARGET)
    plugin_measure = "speed-up of the YAML project's pulumi up (native plugin) over the CLI loop"
    _speed_up(rows, plugin_measure, t_cli, t_plugin, PLUGIN_TARGET)
    ratio = t_plugin / t_pulumi
    rows.add(
        "pulumi up, native plugin (YAML) / dynamic provider (Python)",
        f"{ratio:.2f}x",
        f"<= {PLUGIN_VS_DYNAMIC:.1f}x (not slower)",
        ratio <= PLUGIN_VS_DYNAMIC,
    )
    rows.add("pulumi up / bare client: dynamic provider, native plugin", f"{t_pulumi / t_bare:.1f}x, {t_plugin / t_bare:.1f}x")


BENCHMARK = Benchmark(
    "provisioning",
    run,
    full=Sizes(100, rounds=2),
    quick=Sizes(10, rounds=1),
    budget_full=420,
    budget_quick=90,
    needs_clever=True,
)
