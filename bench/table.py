"""The results table: rows grouped by benchmark, rendered in aligned columns, and the formats of its figures."""

from __future__ import annotations

from dataclasses import dataclass

# Results that mean a benchmark could not do its job, as against a target missed.
BROKEN = ("TIMEOUT", "ERROR")
VERDICTS = ("PASS", "MISS", "SKIP", *BROKEN)


@dataclass
class Row:
    bench: str
    measure: str
    value: str
    target: str = ""
    result: str = ""  # PASS, MISS, SKIP (target not measured), "" (information only), TIMEOUT, ERROR


class Table:
    def __init__(self, *, quick: bool) -> None:
        self.quick = quick
        self.rows: list[Row] = []

    def section(self, label: str) -> Section:
        return Section(self, label)

    def results(self) -> list[str]:
        """The result of every row that has one, without quick mode's `*`."""
        return [r.result.rstrip("*") for r in self.rows if r.result]

    def verdict(self) -> str:
        results = self.results()
        return ", ".join(f"{results.count(k)} {k}" for k in VERDICTS if k in results)

    def render(self) -> str:
        header = Row("benchmark", "measure", "measured", "target", "result")
        rows = [header, *self.rows]
        widths = [max(len(getattr(r, col)) for r in rows) for col in ("bench", "measure", "value", "target", "result")]

        def line(r: Row) -> str:
            cells = [r.bench, r.measure, r.value, r.target, r.result]
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()

        out = [line(header), "  ".join("-" * w for w in widths)]
        previous = None
        for r in self.rows:
            shown = Row("" if r.bench == previous else r.bench, r.measure, r.value, r.target, r.result)
            previous = r.bench
            out.append(line(shown))
        return "\n".join(out)


class Section:
    """The rows of one benchmark, labelled like `3 provider-host`."""

    def __init__(self, table: Table, label: str) -> None:
        self.table = table
        self.label = label

    def add(self, measure: str, value: str, target: str = "", ok: bool | None = None) -> None:
        """A row; with `ok`, a target row that reads PASS or MISS (`*` in quick mode)."""
        result = "" if ok is None else ("PASS" if ok else "MISS") + ("*" if self.table.quick else "")
        self._append(Row(self.label, measure, value, target, result))

    def skip(self, measure: str, why: str, target: str) -> None:
        """A target row that could not be measured, for a reason outside the code (a tool not installed)."""
        self._append(Row(self.label, measure, f"skipped: {why}", target, "SKIP"))

    def broke(self, result: str, measure: str, value: str) -> None:
        """The row of a benchmark that did not finish (`result` is one of BROKEN)."""
        self._append(Row(self.label, measure, value, "", result))

    def _append(self, row: Row) -> None:
        self.table.rows.append(row)
        shown = f"  [target {row.target}: {row.result}]" if row.target else (f"  [{row.result}]" if row.result else "")
        print(f"  {row.measure}: {row.value}{shown}", flush=True)


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1e3:.1f} ms"


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.1f} ms"


def fmt_mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"
