"""CPU and memory read from /proc: per process, per program (PostgreSQL, Redis), per machine."""

from __future__ import annotations

import asyncio
import os
import resource
import time
from collections.abc import Sequence
from typing import Any, Protocol

from tests.bench.harness.load import cancel
from tests.bench.harness.report import log

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Process(Protocol):
    @property
    def pid(self) -> int: ...


def read_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def read_cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """utime + stime; with ``reaped_children`` also the CPU of children that have exited
    (PostgreSQL backends that closed are counted in the postmaster's cutime + cstime)."""
    with open(f"/proc/{pid}/stat") as stat:
        data = stat.read()
    fields = data[data.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


def count_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def program_of(pid: str) -> str | None:
    with open(f"/proc/{pid}/comm") as comm:
        name = comm.read().strip()
    if name.startswith("postgres"):
        return "postgres"
    if name.startswith("redis-server"):
        return "redis"
    return None


def cpu_by_program() -> dict[str, float]:
    """CPU seconds used so far by every PostgreSQL and Redis process on the machine."""
    totals = {"postgres": 0.0, "redis": 0.0}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            kind = program_of(entry)
            if kind:
                totals[kind] += read_cpu_seconds(int(entry), reaped_children=True)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return totals


def machine_cpu() -> tuple[float, float, float, float]:
    """(busy, total, irq+softirq, steal) CPU seconds of the whole machine, all cores."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:9]]
    idle = values[3] + values[4]
    total = sum(values)
    return (
        (total - idle) / CLK_TCK,
        total / CLK_TCK,
        (values[5] + values[6]) / CLK_TCK,
        values[7] / CLK_TCK,
    )


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuWindow:
    """CPU use between start and finish, as % of ONE core per program (machine: % of all)."""

    def __init__(self, servers: Sequence[Process]) -> None:
        self.servers = servers
        self.wall = time.monotonic()
        self.server_cpu = [read_cpu_seconds(s.pid) for s in servers]
        self.bench = own_cpu_seconds()
        self.programs = cpu_by_program()
        self.machine = machine_cpu()

    def finish(self) -> dict[str, Any]:
        wall = time.monotonic() - self.wall
        programs = cpu_by_program()
        busy, total, irq, steal = machine_cpu()

        def pct(seconds: float) -> float:
            return round(100 * seconds / wall, 1) if wall > 0 else 0.0

        servers = [
            read_cpu_seconds(s.pid) - before
            for s, before in zip(self.servers, self.server_cpu, strict=True)
        ]
        bench = own_cpu_seconds() - self.bench
        postgres = programs["postgres"] - self.programs["postgres"]
        redis = programs["redis"] - self.programs["redis"]
        machine_busy = busy - self.machine[0]
        irq -= self.machine[2]
        steal -= self.machine[3]
        return {
            "wall_s": round(wall, 2),
            "servers_pct_of_core": [pct(seconds) for seconds in servers],
            "bench_pct_of_core": pct(bench),
            "postgres_pct_of_core": pct(postgres),
            "redis_pct_of_core": pct(redis),
            "irq_pct_of_core": pct(irq),  # interrupts and softirqs (e.g. loopback networking)
            "steal_pct_of_core": pct(steal),  # taken by the hypervisor
            # Every other process on the machine (other jobs: they disturb the figures).
            "other_pct_of_core": pct(
                max(0.0, machine_busy - sum(servers) - bench - postgres - redis - irq - steal)
            ),
            "machine_busy_pct_of_all_cores": round(
                100 * machine_busy / max(total - self.machine[1], 1e-9), 1
            ),
        }


class CpuSampler:
    """CpuWindow every second, to line up latency spikes with who was using the CPU."""

    def __init__(self, servers: Sequence[Process]) -> None:
        self.servers = servers
        self.samples: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            window = CpuWindow(self.servers)
            await asyncio.sleep(1)
            self.samples.append(window.finish())

    async def stop(self) -> list[dict[str, Any]]:
        await cancel(self._task)
        return self.samples


async def wait_quiet(limit: float) -> dict[str, float]:
    """Wait (at most ``limit`` s) until the machine is nearly idle for 2 s: other jobs on a
    shared machine disturb the figures. Returns the busy share last seen."""
    deadline = time.monotonic() + limit
    while True:
        busy, total, _irq, _steal = machine_cpu()
        await asyncio.sleep(2)
        busy2, total2, _irq, _steal = machine_cpu()
        share = 100 * (busy2 - busy) / max(total2 - total, 1e-9)
        if share < 15 or time.monotonic() >= deadline:
            if share >= 15:
                log(f"machine still {share:.0f}% busy before measuring (other jobs?)")
            return {"busy_pct_of_all_cores": round(share, 1)}
        log(f"machine {share:.0f}% busy: waiting for other jobs to finish")
