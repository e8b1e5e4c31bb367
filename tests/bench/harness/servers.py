"""``clb serve`` processes: the wrapper they run in, start, readiness, stop, their logs."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.bench.harness.cpu import read_rss_kib
from tests.conftest import ROOT

# Runs `python -m composition serve ...` in the same process (same pid) after raising the
# open-file limit to the hard limit, and asks the kernel to SIGTERM it if the bench dies (the
# parent is the thread that started it: always the main thread here). With BENCH_PROFILE_OUT
# set it runs the server under cProfile instead; the profile is written when the server exits
# after SIGTERM.
SERVER_WRAPPER = """
import ctypes, os, resource, signal, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
hard = 1 << 20 if hard == resource.RLIM_INFINITY else hard
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
profile_out = os.environ.get("BENCH_PROFILE_OUT")
if not profile_out:
    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
import cProfile, runpy


def stop(signum, frame):
    raise SystemExit(0)


# uvicorn re-raises the SIGTERM it handled once it has shut down: end quietly instead.
signal.signal(signal.SIGTERM, stop)
module = sys.argv[2]
sys.argv = ["clb", *sys.argv[3:]]
profiler = cProfile.Profile()
profiler.enable()
try:
    runpy.run_module(module, run_name="__main__")
except SystemExit:
    pass
finally:
    profiler.disable()
    profiler.dump_stats(profile_out)
"""


def raise_nofile() -> None:
    """This process's open-file limit up to the hard limit (one per socket it holds)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@dataclass
class Server:
    index: int
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_kib(self) -> int:
        return read_rss_kib(self.pid)

    def alive(self) -> bool:
        return self.process.poll() is None

    def nofile_limit(self) -> int:
        with open(f"/proc/{self.pid}/limits") as limits:
            for line in limits:
                if line.startswith("Max open files"):
                    return int(line.split()[3])
        return -1

    def log_problems(self) -> int:
        """Lines in the log (level WARNING and up) that mention an error or traceback."""
        with contextlib.suppress(OSError):
            text = self.log_path.read_text(errors="replace")
            return sum(1 for line in text.splitlines() if "Error" in line or "Traceback" in line)
        return -1


def start_server(index: int, port: int, env: dict[str, str], work_dir: Path) -> Server:
    """``python -m composition serve --port PORT`` through the wrapper, logging to
    ``work_dir/server<index>.log``."""
    log_path = work_dir / f"server{index}.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVER_WRAPPER,
                "-m",
                "composition",
                "serve",
                "--port",
                str(port),
            ],
            env=env,
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl+C reaches the bench, which stops them in order
        )
    return Server(index, port, process, log_path)


def stop_process(process: subprocess.Popen[bytes], grace: float = 15) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


async def wait_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2, trust_env=False) as http:
        while time.monotonic() < deadline:
            if not server.alive():
                tail = server.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"server {server.index} exited early:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{server.base_url}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"server {server.index} not ready within {timeout} s")
