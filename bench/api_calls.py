"""Benchmark 1: API calls per operation (up, preview with no change, refresh, destroy) against the minimum,
through the dynamic provider (an inline Python program) and through the native plugin (a YAML project)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common import TWO_NAMESPACES, Benchmark, Context, check_held, emulator, make_fixture, pairs
from measure import ProcessWatch
from table import Section
from yaml_project import YamlStack

SUMMARY = "GET /v2/summary"
APP_ROUTES = "/v2/organisations/{owner_id}/applications/{app_id}/"
POST_REDIR = f"POST {APP_ROUTES}tcpRedirs"
GET_REDIRS = f"GET {APP_ROUTES}tcpRedirs"
DELETE_REDIR = f"DELETE {APP_ROUTES}tcpRedirs/{{port}}"
GET_VHOSTS = f"GET {APP_ROUTES}vhosts"
GET_FAVOURITE = f"GET {APP_ROUTES}vhosts/favourite"


@dataclass(frozen=True)
class Sizes:
    redirections: int  # over redirections/2 apps


@dataclass(frozen=True)
class Bound:
    """Calls of one route: exactly `count` (1 per redirection), or a look-up of at most `count` per process."""

    count: int
    exact: bool


def run(ctx: Context, sizes: Sizes, rows: Section) -> None:
    n = sizes.redirections
    n_apps = n // 2
    every = 2  # half the apps have two custom domains: their `default` redirection needs the favourite
    fixture = make_fixture(n_apps, TWO_NAMESPACES, two_custom_domains_every=every)
    favourite_apps = len([i for i in range(n_apps) if i % every == 0])
    expected: dict[str, dict[str, Bound]] = {
        "up": {
            POST_REDIR: Bound(n, True),
            SUMMARY: Bound(1, False),
            GET_VHOSTS: Bound(n_apps, False),
            GET_FAVOURITE: Bound(favourite_apps, False),
        },
        "preview, no change": {},
        "refresh": {GET_REDIRS: Bound(n, True)},
        "destroy": {DELETE_REDIR: Bound(n, True)},
    }
    stack_size = f"{n} redirections of {n_apps} apps"
    with emulator(fixture) as emu:
        faces: dict[str, Callable[[], dict[str, Callable[[], object]]]] = {
            "": lambda: _dynamic_operations(ctx.stack(emu, pairs(n))),
            "native plugin, ": lambda: _plugin_operations(YamlStack(ctx, emu, pairs(n))),
        }
        for face, operations in faces.items():
            calls = operations()  # a fresh stack, set up untimed
            for op, bounds in expected.items():
                emu.clear_log()
                started = time.perf_counter()
                with ProcessWatch() as watch:
                    calls[op]()
                elapsed = time.perf_counter() - started
                _operation_rows(rows, face + op, f"{stack_size}; {elapsed:.1f} s", n, bounds, emu.counts(), watch.processes)
                if op == "up":
                    check_held(emu, n, f"after {face}up")
            check_held(emu, 0, f"after {face}destroy")


def _dynamic_operations(stack: Any) -> dict[str, Callable[[], object]]:
    def preview() -> None:
        planned = set(stack.preview(color="never").change_summary or {}) - {"same"}
        if planned:
            raise RuntimeError(f"preview of an unchanged stack planned changes: {planned}")

    return {
        "up": lambda: stack.up(color="never"),
        "preview, no change": preview,
        "refresh": lambda: stack.refresh(color="never"),
        "destroy": lambda: stack.destroy(color="never"),
    }


def _plugin_operations(stack: YamlStack) -> dict[str, Callable[[], object]]:
    return {
        "up": stack.up,
        "preview, no change": stack.preview_no_change,
        "refresh": stack.refresh,
        "destroy": stack.destroy,
    }


def _operation_rows(
    rows: Section,
    op: str,
    stack_size: str,
    n: int,
    bounds: dict[str, Bound],
    counts: dict[str, int],
    processes: int,
) -> None:
    """A headline of all calls against the minimum that applies, then a target row per route."""
    per_process = max(processes, 1)
    total = sum(counts.values())
    measure = f"{op}: all API calls ({stack_size}; provider processes: {processes})"
    if not bounds:
        rows.add(measure, str(total), "0", total == 0)
    else:
        rows.add(measure, _against_minimum(total, bounds))
    for route in sorted(set(bounds) | set(counts), key=lambda r: (r not in bounds or not bounds[r].exact, r)):
        actual = counts.get(route, 0)
        bound = bounds.get(route, Bound(0, True))
        if bound.exact:
            target, ok = (f"= {bound.count} (1 per redirection)" if bound.count else "0"), actual == bound.count
        else:
            limit = bound.count * per_process
            target, ok = f"<= {limit} (1 per {'owner' if route == SUMMARY else 'app'}/process)", actual <= limit
        rows.add(f"  {route.replace(APP_ROUTES, '')}", f"{actual} ({actual / n:.2f}/redirection)", target, ok)


def _against_minimum(total: int, bounds: dict[str, Bound]) -> str:
    """`36 = the minimum 36 (20 writes + 16 look-ups)`: the minimum counts the look-ups that are needed.

    Those of one process: a YAML project's `up` starts the plugin twice (the language host loads its
    schema from one), and only the process that serves the resources has anything to look up.
    """
    per_redirection = sum(b.count for b in bounds.values() if b.exact)
    lookups = sum(b.count for b in bounds.values() if not b.exact)
    kind = "reads" if all(r.startswith("GET") for r, b in bounds.items() if b.exact) else "writes"
    minimum = per_redirection + lookups
    parts = f"{per_redirection} {kind}" + (f" + {lookups} look-ups" if lookups else "")
    if total == minimum:
        return f"{total} = the minimum {minimum} ({parts})"
    return f"{total} = {total / minimum:.2f}x the minimum {minimum} ({parts})"


BENCHMARK = Benchmark("api-calls", run, full=Sizes(20), quick=Sizes(6), budget_full=240, budget_quick=60)
