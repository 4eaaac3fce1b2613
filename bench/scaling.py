"""Benchmark 4: `pulumi up` + `destroy` of growing stacks: time per redirection, CPU by process, provider RSS."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from common import Benchmark, Context, check_held, emulator, make_fixture, pairs
from measure import ProcessWatch, timed
from table import Section, fmt_mib, fmt_ms, fmt_s

TIME_TARGET = 1.3  # time per redirection, largest vs middle size, at most this
RSS_TARGET = 1.2  # provider peak RSS, largest vs smallest size, at most this


@dataclass(frozen=True)
class Sizes:
    stacks: tuple[int, int, int]  # small, middle, large
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


def run(ctx: Context, sizes: Sizes, rows: Section) -> None:
    fixture = make_fixture(sizes.apps, {"default": (5001, 6999), "cleverapps": (5001, 6999)})
    runs: dict[int, Run] = {}
    with emulator(fixture) as emu:
        for n in sizes.stacks:
            if n > 2 * sizes.apps:
                raise RuntimeError(f"{n} redirections need {n // 2} apps, the fixture has {sizes.apps}")
            emu.reset()
            stack = ctx.stack(emu, pairs(n))
            with ProcessWatch() as watch:
                _, t_up = timed(functools.partial(stack.up, color="never"))
                check_held(emu, n, f"up of {n}")
                _, t_destroy = timed(functools.partial(stack.destroy, color="never"))
                check_held(emu, 0, f"destroy of {n}")
            runs[n] = Run(t_up, t_destroy, watch.peak_rss, watch.cpu())
            rows.add(
                f"up + destroy of {n}",
                f"{fmt_s(t_up)} + {fmt_s(t_destroy)} = {fmt_ms(runs[n].total / n)}/redirection; "
                f"provider peak RSS {fmt_mib(watch.peak_rss)} (max of {watch.processes} processes)",
            )
    small, mid, large = sizes.stacks
    ratio = (runs[large].total / large) / (runs[mid].total / mid)
    rows.add(f"time per redirection, {large} vs {mid}", f"{ratio:.2f}x", f"<= {TIME_TARGET}x", ratio <= TIME_TARGET)
    for n in sizes.stacks:
        rows.add(
            f"  CPU during up + destroy of {n}: engine / program / provider / emulator",
            " / ".join(f"{v:.1f}" for v in runs[n].cpu.values()) + " s",
        )
    for role in ("engine", "program", "provider"):
        at_mid, at_large = runs[mid].cpu[role], runs[large].cpu[role]
        growth = (at_large / large) / (at_mid / mid) if at_mid else float("inf")
        rows.add(f"  {role} CPU per redirection, {large} vs {mid}", f"{growth:.2f}x")
    marginal_mid = (runs[mid].total - runs[small].total) / (mid - small)
    marginal_large = (runs[large].total - runs[mid].total) / (large - mid)
    rows.add(
        f"marginal time per extra redirection, {mid}->{large} vs {small}->{mid}",
        f"{fmt_ms(marginal_large)} vs {fmt_ms(marginal_mid)} = {marginal_large / marginal_mid:.2f}x",
    )
    first = runs[small].peak_rss
    mem = runs[large].peak_rss / first if first else float("inf")
    rows.add(f"provider peak RSS, {large} vs {small} (flat)", f"{mem:.2f}x", f"<= {RSS_TARGET}x", mem <= RSS_TARGET)


BENCHMARK = Benchmark(
    "scaling",
    run,
    full=Sizes(stacks=(10, 100, 500), apps=250),
    quick=Sizes(stacks=(10, 30, 60), apps=30),
    budget_full=900,
    budget_quick=120,
)
