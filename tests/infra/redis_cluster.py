"""A real Redis Cluster for tests: three masters and three replicas from the machine's
``redis-server``, on free local ports, created with ``redis-cli --cluster create``."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

# How long a master may be silent before its replica takes over. Short, so a test sees a
# whole failover; production keeps Redis's default (15 s) or a few seconds.
NODE_TIMEOUT_MS = 1000


def redis_tools() -> tuple[str, str]:
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("redis-server and redis-cli are needed for the Redis Cluster tests")
        pytest.skip("redis-server/redis-cli not installed")
    return server, cli


@dataclass
class Cluster:
    ports: list[int]
    processes: dict[int, subprocess.Popen[bytes]]
    cli: str

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def ask(self, port: int, *command: str) -> str:
        done = subprocess.run(
            [self.cli, "-p", str(port), *command], capture_output=True, text=True, timeout=30
        )
        return done.stdout

    def masters(self) -> dict[int, tuple[int, int]]:
        """Each live master's port and one slot range it serves, from CLUSTER SHARDS seen
        by a node that is up."""
        alive = next(port for port, proc in self.processes.items() if proc.poll() is None)
        masters: dict[int, tuple[int, int]] = {}
        for line in self.ask(alive, "cluster", "nodes").splitlines():
            fields = line.split()
            if "master" in fields[2] and "fail" not in fields[2] and len(fields) > 8:
                port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
                low, _, high = fields[8].partition("-")
                masters[port] = (int(low), int(high or low))
        return masters

    def _synced(self, port: int) -> bool:
        """A replica that never finished its first sync cannot take over from its master."""
        info = self.ask(port, "info", "replication")
        return "role:master" in info or "master_link_status:up" in info

    def kill(self, port: int) -> None:
        """SIGKILL one node: no goodbye to its clients or the cluster."""
        self.processes[port].send_signal(signal.SIGKILL)
        self.processes[port].wait(timeout=10)

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            alive = [p for p, proc in self.processes.items() if proc.poll() is None]
            if (
                all("cluster_state:ok" in self.ask(p, "cluster", "info") for p in alive)
                and len(self.masters()) == 3
                and all(self._synced(p) for p in alive)
            ):
                return
            time.sleep(0.2)
        raise TimeoutError("the Redis Cluster did not become healthy")


@contextmanager
def running_cluster(workdir: Path) -> Iterator[Cluster]:
    server, cli = redis_tools()
    ports = _node_ports(6)
    processes: dict[int, subprocess.Popen[bytes]] = {}
    try:
        for port in ports:
            folder = workdir / str(port)
            folder.mkdir(parents=True)
            command = [server, "--port", str(port), "--bind", "127.0.0.1"]
            command += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
            command += ["--cluster-node-timeout", str(NODE_TIMEOUT_MS)]
            command += ["--save", "", "--appendonly", "no", "--dir", str(folder)]
            command += ["--logfile", str(folder / "redis.log")]
            processes[port] = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        cluster = Cluster(ports, processes, cli)
        for port in ports:
            _wait_for_ping(cluster, port)
        create = [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports)]
        create += ["--cluster-replicas", "1", "--cluster-yes"]
        subprocess.run(create, check=True, capture_output=True, timeout=60)
        cluster.wait_healthy()
        yield cluster
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def _wait_for_ping(cluster: Cluster, port: int) -> None:
    deadline = time.monotonic() + 30
    while "PONG" not in cluster.ask(port, "ping"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"redis-server on {port} did not start")
        time.sleep(0.05)


def _node_ports(count: int) -> list[int]:
    """Free ports whose cluster-bus port (port + 10000) is free too and still a port."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randrange(20_000, 30_000)  # noqa: S311 - not for security
        if port not in ports and _free(port) and _free(port + 10_000):
            ports.append(port)
    return ports


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
