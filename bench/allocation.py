"""Benchmark 5: the emulator's port allocation, an add in an empty namespace against one 99 % full."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from common import ORG_ID, Benchmark, Context, app_id, bare_client, check_held, emulator, make_fixture
from measure import timed
from table import Section, fmt_ms, fmt_s

PORTS = 1000  # in each of the two namespaces compared
FILLED = PORTS * 99 // 100
SPARE_APPS = 10  # apps that take turns for the samples
TARGET = 1.5  # add latency, full vs empty, at most this


@dataclass(frozen=True)
class Sizes:
    samples: int


def run(ctx: Context, sizes: Sizes, rows: Section) -> None:
    fixture = make_fixture(
        FILLED + SPARE_APPS,
        {"empty": (20001, 20000 + PORTS), "full": (30001, 30000 + PORTS), "default": (5001, 5999)},
    )
    spare = [app_id(FILLED + i) for i in range(SPARE_APPS)]
    latencies: dict[str, dict[str, list[float]]] = {ns: {"add": [], "remove": []} for ns in ("empty", "full")}
    with emulator(fixture) as emu, bare_client(emu) as client:

        def fill() -> None:
            with ThreadPoolExecutor(max_workers=16) as pool:  # the client's pool holds 16 connections
                list(pool.map(lambda i: client.add_tcp_redirection(ORG_ID, app_id(i), "full"), range(FILLED)))

        _, t_fill = timed(fill)
        check_held(emu, FILLED, "fill")
        for _ in range(20):  # warm-up
            client.remove_tcp_redirection(
                ORG_ID, spare[0], "empty", client.add_tcp_redirection(ORG_ID, spare[0], "empty").port
            )
        for k in range(sizes.samples):
            app = spare[k % SPARE_APPS]
            order = ("empty", "full") if k % 2 == 0 else ("full", "empty")  # interleaved: drift hits both alike
            for namespace in order:
                t0 = time.perf_counter()
                port = client.add_tcp_redirection(ORG_ID, app, namespace).port
                t1 = time.perf_counter()
                client.remove_tcp_redirection(ORG_ID, app, namespace, port)
                t2 = time.perf_counter()
                latencies[namespace]["add"].append(t1 - t0)
                latencies[namespace]["remove"].append(t2 - t1)
        check_held(emu, FILLED, "after the samples")
    med = {ns: {op: statistics.median(v) for op, v in d.items()} for ns, d in latencies.items()}
    rows.add(f"fill {FILLED} of {PORTS} ports through the API, 16 at a time", fmt_s(t_fill))
    for ns, label in (("empty", "empty namespace"), ("full", f"{FILLED}/{PORTS} full")):
        rows.add(
            f"median add / remove, {label} ({sizes.samples} samples)",
            f"{fmt_ms(med[ns]['add'])} / {fmt_ms(med[ns]['remove'])}",
        )
    ratio = med["full"]["add"] / med["empty"]["add"]
    rows.add("add latency, 99% full vs empty", f"{ratio:.2f}x", f"<= {TARGET}x", ratio <= TARGET)
    ratio_rm = med["full"]["remove"] / med["empty"]["remove"]
    rows.add("remove latency, 99% full vs empty", f"{ratio_rm:.2f}x")


BENCHMARK = Benchmark("allocation", run, full=Sizes(500), quick=Sizes(100), budget_full=240, budget_quick=60)
