"""Benchmark 2: `pulumi up` of N redirections against the official CLI in a shell loop and the bare client."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from clevercloud_tcp.emulator import EmulatorProcess
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

CLI_LOOP = r"""
set -euo pipefail
while read -r app namespace; do
  "$CLEVER" tcp-redirs add --namespace "$namespace" --app "$app" --no-update-notifier >/dev/null
done < "$PAIRS"
"""
TARGET = 5  # pulumi up at least this many times faster than the CLI loop


@dataclass(frozen=True)
class Sizes:
    redirections: int  # apps x 2 namespaces


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


def run(ctx: Context, sizes: Sizes, rows: Section) -> None:
    n = sizes.redirections
    n_apps = n // 2
    targets = pairs(n)
    with emulator(make_fixture(n_apps, TWO_NAMESPACES)) as emu:
        # pulumi up through the real engine, default parallelism (the stack is prepared untimed).
        stack = ctx.stack(emu, targets)
        _, t_pulumi = timed(lambda: stack.up(color="never"))
        check_held(emu, n, "pulumi up")
        emu.reset()

        t_cli: float | None = None
        if ctx.clever is not None:
            t_cli = _cli_loop(ctx, ctx.clever, emu, targets)
            check_held(emu, n, "clever loop")
            emu.reset()

        t_bare = bare_lap(emu, targets).wall
        check_held(emu, n, "bare client")

    rows.add(
        f"pulumi up, {n} redirections ({n_apps} apps x 2 namespaces)",
        f"{fmt_s(t_pulumi)} ({fmt_ms(t_pulumi / n)}/redirection)",
    )
    if t_cli is not None:
        rows.add(f"clever tcp-redirs add x {n}, bash loop", f"{fmt_s(t_cli)} ({fmt_ms(t_cli / n)}/redirection)")
    rows.add(f"bare client, {n} sequential POSTs", f"{fmt_s(t_bare)} ({fmt_ms(t_bare / n)}/redirection)")
    measure, target = "speed-up of pulumi up over the CLI loop", f">= {TARGET}x"
    if t_cli is None:
        rows.skip(measure, "clever-tools not installed (scripts/install-clever-tools)", target)
    else:
        ratio = t_cli / t_pulumi
        rows.add(measure, f"{ratio:.1f}x", target, ratio >= TARGET)
    rows.add("pulumi up / bare client", f"{t_pulumi / t_bare:.1f}x")


BENCHMARK = Benchmark(
    "provisioning",
    run,
    full=Sizes(100),
    quick=Sizes(10),
    budget_full=420,
    budget_quick=90,
    needs_clever=True,
)
