"""Logging and the summary table the load programs print."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def cpu_rows(cpu: dict[str, Any], *, machine: bool) -> list[tuple[str, str]]:
    """The two CPU rows of a summary (a CpuWindow's figures; missing ones print as -)."""
    other = f"{fmt(cpu.get('other_pct_of_core'))}"
    if machine:
        other += f"  (machine {fmt(cpu.get('machine_busy_pct_of_all_cores'))}% busy of all cores)"
    return [
        (
            "  CPU % of a core: servers / PG / Redis / bench",
            f"{' + '.join(fmt(c) for c in cpu.get('servers_pct_of_core', []))} / "
            f"{fmt(cpu.get('postgres_pct_of_core'))} / {fmt(cpu.get('redis_pct_of_core'))} / "
            f"{fmt(cpu.get('bench_pct_of_core'))}",
        ),
        (
            "  CPU % of a core: irq / steal / other jobs",
            f"{fmt(cpu.get('irq_pct_of_core'))} / {fmt(cpu.get('steal_pct_of_core'))} / {other}",
        ),
    ]


def target_row(name: str, verdict: dict[str, Any]) -> tuple[str, str]:
    return (name, f"{'MET' if verdict['met'] else 'MISSED'}: {verdict['target']}")


def print_rows(rows: list[tuple[str, str]]) -> None:
    """The summary: names left-aligned in one column, between two rules."""
    width = max(len(name) for name, _ in rows)
    print()
    print("=" * 100)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("=" * 100)
