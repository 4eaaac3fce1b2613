"""Benchmark 4: `pulumi up` + `destroy` of growing stacks, each size with the engine's checkpoints written
after every step (the default) and skipped (`PULUMI_SKIP_CHECKPOINTS=true`) side by side: time per
redirection, CPU by process, provider RSS."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from clevercloud_tcp.emulator.process import EmulatorProcess
from common import Benchmark, Context, check_held, emulator, make_fixture, pairs
from measure import ProcessWatch, timed
from table import Section, fmt_mib, fmt_ms, fmt_s

TIME_TARGET = 1.3  # time per redirection, largest vs middle size, at most this (checkpoints skipped)
RSS_TARGET = 1.2  # provider peak RSS, largest vs smallest size, at most this
MODES = {False: "checkpoints written", True: "checkpoints skipped"}  # skip_checkpoints -> its name


@dataclass(frozen=True)
class Sizes:
    stacks: tuple[int, ...]  # smallest first; the ratios compare the largest with the second
    apps: int  # each in two namespaces: room for 2 x apps redirections


@dataclass
class Run:
    up: float
    destroy: float
    peak_rss: int
    cpu: dict[str, float]

    @property
    def total(self) -> float:
        return self.up + self.destroy


def per_redirection(runs: dict[int, Run], large: int, mid: int) -> float:
    """Time per redirection at `large` against at `mid`."""
    return (runs[large].total / large) / (runs[mid].total / mid)


def measure(ctx: Context, emu: EmulatorProcess, n: int, skip_checkpoints: bool) -> Run:
    emu.reset()
    stack = ctx.stack(emu, pairs(n), skip_checkpoints=skip_checkpoints)
    what = f"{n}, {MODES[skip_checkpoints]}"
    with ProcessWatch() as watch:
        _, t_up = timed(functools.partial(stack.up, color="never"))
        check_held(emu, n, f"up of {what}")
        _, t_destroy = timed(functools.partial(stack.destroy, color="never"))
        check_held(emu, 0, f"destroy of {what}")
    return Run(t_up, t_destroy, watch.peak_rss, watch.cpu())


def run(ctx: Context, sizes: Sizes, rows: Section) -> None:
    fixture = make_fixture(sizes.apps, {"default": (5001, 6999), "cleverapps": (5001, 6999)})
    runs: dict[bool, dict[int, Run]] = {False: {}, True: {}}
    with emulator(fixture) as emu:
        for n in sizes.stacks:
            if n > 2 * sizes.apps:
                raise RuntimeError(f"{n} redirections need {n // 2} apps, the fixture has {sizes.apps}")
            for skip in MODES:  # one right after the other: the machine's load is the same for both
                runs[skip][n] = measure(ctx, emu, n, skip)
            written, skipped = runs[False][n], runs[True][n]
            rows.add(
                f"up + destroy of {n}: written | skipped",
                f"{fmt_s(written.up)} + {fmt_s(written.destroy)} = {fmt_ms(written.total / n)}/redirection | "
                f"{fmt_s(skipped.up)} + {fmt_s(skipped.destroy)} = {fmt_ms(skipped.total / n)}/redirection; "
                f"written/skipped {written.total / skipped.total:.2f}x",
            )
    small, mid, large = sizes.stacks[0], sizes.stacks[1], sizes.stacks[-1]
    fast = per_redirection(runs[True], large, mid)
    rows.add(
        f"time per redirection, {large} vs {mid}, checkpoints skipped", f"{fast:.2f}x", f"<= {TIME_TARGET}x", fast <= TIME_TARGET
    )
    for n in sizes.stacks[2:-1]:
        rows.add(f"  the same, {n} vs {mid}", f"{per_redirection(runs[True], n, mid):.2f}x")
    for n in sizes.stacks[2:]:
        rows.add(f"  checkpoints written (the engine's N², for the record), {n} vs {mid}", f"{per_redirection(runs[False], n, mid):.2f}x")
    for skip, name in MODES.items():
        for n in sizes.stacks:
            rows.add(
                f"  CPU during up + destroy of {n}, {name}: engine / program / provider / emulator",
                " / ".join(f"{v:.1f}" for v in runs[skip][n].cpu.values()) + " s",
            )
    for role in ("engine", "program", "provider"):
        growth = {
            name: (runs[skip][large].cpu[role] / large) / (runs[skip][mid].cpu[role] / mid) if runs[skip][mid].cpu[role] else float("inf")
            for skip, name in MODES.items()
        }
        rows.add(f"  {role} CPU per redirection, {large} vs {mid}: written | skipped", " | ".join(f"{g:.2f}x" for g in growth.values()))
    for skip, name in MODES.items():
        marginal_mid = (runs[skip][mid].total - runs[skip][small].total) / (mid - small)
        marginal_large = (runs[skip][large].total - runs[skip][mid].total) / (large - mid)
        rows.add(
            f"marginal time per extra redirection, {mid}->{large} vs {small}->{mid}, {name}",
            f"{fmt_ms(marginal_large)} vs {fmt_ms(marginal_mid)} = {marginal_large / marginal_mid:.2f}x",
        )
    peaks = {n: max(runs[skip][n].peak_rss for skip in MODES) for n in sizes.stacks}
    mem = peaks[large] / peaks[small] if peaks[small] else float("inf")
    rows.add(
        f"provider peak RSS, {large} vs {small} (flat)",
        f"{fmt_mib(peaks[large])} vs {fmt_mib(peaks[small])} = {mem:.2f}x",
        f"<= {RSS_TARGET}x",
        mem <= RSS_TARGET,
    )


BENCHMARK = Benchmark(
    "scaling",
    run,
    full=Sizes(stacks=(10, 100, 500, 1000), apps=500),
    quick=Sizes(stacks=(10, 30, 60, 100), apps=50),
    budget_full=2400,
    budget_quick=240,
)
