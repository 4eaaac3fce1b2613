"""Benchmarks of the Clever Cloud TCP redirection provider, every figure measured side by side in one run.

    scripts/bench                          # the full suite (see bench/README.md for sizes and targets)
    scripts/bench --quick                  # smaller sizes: a smoke run of under a minute
    scripts/bench --only scaling --only api-calls
    scripts/bench --strict                 # a missed target fails the run too

Everything runs on 127.0.0.1: a local emulator of the Clever Cloud API (one per benchmark, seeded),
the real `pulumi` engine on a local file backend, the provider host it starts, and the official
`clever` CLI. Each benchmark has a time budget; when it runs out, the processes this script started
for it are killed and its rows read TIMEOUT. The table goes to stdout and to bench/results/latest.txt.

Exit status: 0 when every benchmark ran, MISS rows included; 1 when one broke (ERROR, TIMEOUT), or
with --strict when a target reads MISS or SKIP.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import allocation
import api_calls
import packaged_plugin
import provider_host
import provisioning
import scaling
from common import Benchmark, CannotRun, Context
from machine import describe, find_clever, load
from measure import Timeout, budget
from table import BROKEN, Table, fmt_s

# In table order; a new benchmark is a module with a BENCHMARK, and one line here.
BENCHMARKS: list[Benchmark[Any]] = [
    api_calls.BENCHMARK,
    provisioning.BENCHMARK,
    provider_host.BENCHMARK,
    scaling.BENCHMARK,
    allocation.BENCHMARK,
    packaged_plugin.BENCHMARK,
]
QUICK_NOTE = "* quick mode: sizes too small for the targets; PASS/MISS there is indicative only"
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run of under a minute")
    parser.add_argument(
        "--only", action="append", choices=[b.name for b in BENCHMARKS], help="run only this benchmark (repeatable)"
    )
    parser.add_argument(
        "--engine-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the pulumi engine (repeatable), e.g. PULUMI_SKIP_CHECKPOINTS=true",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed or skipped, too")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "latest.txt", help="where to write the table too")
    args = parser.parse_args(argv)
    for item in args.engine_env:
        if "=" not in item:
            parser.error(f"--engine-env: expected NAME=VALUE, got {item!r}")
    return args


def run_one(bench: Benchmark[Any], label: str, ctx: Context, table: Table) -> None:
    """Runs one benchmark within its budget; a failure becomes its row, so that it hides no other."""
    rows = table.section(label)
    print(f"== {bench.name} ({'quick' if table.quick else 'full'})", flush=True)
    started = time.perf_counter()
    try:
        with budget(bench.budget(table.quick), bench.name):
            bench.run(ctx, bench.sizes(table.quick), rows)
    except Timeout as exc:
        rows.broke("TIMEOUT", "benchmark did not finish", str(exc))
    except CannotRun as exc:
        rows.broke("ERROR", "benchmark could not run", str(exc))
    except Exception as exc:
        traceback.print_exc()
        rows.broke("ERROR", "benchmark failed", f"{type(exc).__name__}: {exc}"[:160])
    print(f"   ({bench.name}: {fmt_s(time.perf_counter() - started)})", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    table = Table(quick=args.quick)
    mode = "quick" if args.quick else "full"
    chosen = [(f"{i} {b.name}", b) for i, b in enumerate(BENCHMARKS, 1) if not args.only or b.name in args.only]
    clever_needed = any(b.needs_clever for _, b in chosen)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="clevercloud-tcp-bench-") as tmp:
        engine_env = dict(item.split("=", 1) for item in args.engine_env)
        ctx = Context(Path(tmp), find_clever() if clever_needed else None, engine_env)
        description = describe(ctx.cli_dir, ctx.clever, clever_needed)
        if engine_env:
            description.append(f"engine environment: {' '.join(args.engine_env)}")
        print("\n".join(description))
        for label, bench in chosen:
            run_one(bench, label, ctx, table)
    text = "\n".join(
        [
            f"clevercloud-tcp benchmarks, {mode} mode, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, "
            f"total {fmt_s(time.perf_counter() - started)}",
            *description,
            f"load average at end: {load()}",
            "",
            table.render(),
            "",
            table.verdict(),
            *([QUICK_NOTE] if args.quick else []),
        ]
    )
    print()
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n")
    failing = BROKEN + (("MISS", "SKIP") if args.strict else ())
    return 1 if any(r in failing for r in table.results()) else 0


if __name__ == "__main__":
    sys.exit(main())
