"""A real nginx in front of app processes, from infra/nginx (for the tests and
``make stack``): the same configuration files an operator installs, filled in with local
ports and folders."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

INFRA = Path(__file__).resolve().parents[2] / "infra" / "nginx"


class NginxError(RuntimeError):
    """nginx is missing, or did not start (the message says why)."""


def nginx_binary() -> Path | None:
    found = shutil.which("nginx") or "/usr/sbin/nginx"  # /usr/sbin is not always on PATH
    return Path(found) if Path(found).exists() else None


def render_site(upstreams: list[str], listen: str, workdir: Path) -> str:
    """infra/nginx/clb.conf with this machine's upstreams, address and folders."""
    text = (INFRA / "clb.conf").read_text()
    values = {
        "upstreams": "\n".join(f"    server {upstream};" for upstream in upstreams),
        "listen": listen,
        "cache_dir": str(workdir / "cache"),
        "access_log": str(workdir / "access.log"),
    }
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    return text


def render_main(workdir: Path) -> str:
    """infra/nginx/nginx.conf in the foreground, with its temporary files in ``workdir``
    (Debian's defaults are under /var/lib/nginx, writable by root only)."""
    temp = "\n".join(
        f"    {kind}_temp_path {workdir / 'temp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    text = (INFRA / "nginx.conf").read_text().replace("http {\n", "http {\n" + temp + "\n", 1)
    # As root, nginx's workers would run as nobody and could not write workdir, so they
    # stay root like the caller; as anyone else the directive is ignored, so it is left out.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return "daemon off;\n" + user + text


@dataclass
class Nginx:
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    host: str = "127.0.0.1"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def error_log(self) -> str:
        path = self.workdir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> Nginx:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self, timeout: float = 10) -> None:
        """A quick shutdown (SIGTERM); open sockets are closed and pages reconnect."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)


def start_nginx(
    workdir: Path, listen_port: int, upstreams: list[str], *, host: str = "127.0.0.1"
) -> Nginx:
    """nginx on ``host:listen_port`` in front of ``upstreams`` ("host:port"); returns once
    it accepts connections. The caller stops it."""
    binary = nginx_binary()
    if binary is None:
        raise NginxError("nginx is not installed (Debian: apt-get install nginx)")
    workdir = workdir.resolve()
    for folder in ("cache", "temp"):
        (workdir / folder).mkdir(parents=True, exist_ok=True)
    (workdir / "clb.conf").write_text(render_site(upstreams, f"{host}:{listen_port}", workdir))
    (workdir / "nginx.conf").write_text(render_main(workdir))
    # `-e`: what nginx logs before it has read error_log from the configuration goes to the
    # same file, not to /var/log/nginx (not writable by everyone).
    command = [
        *(str(binary), "-p", str(workdir), "-c", str(workdir / "nginx.conf")),
        *("-e", str(workdir / "error.log")),
    ]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)  # noqa: S603
    if checked.returncode != 0:
        raise NginxError(f"nginx refused the configuration: {checked.stderr.strip()}")
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)  # noqa: S603
    nginx = Nginx(process, listen_port, workdir, host)
    try:
        _wait_for_port(nginx, host)
    except BaseException:
        nginx.stop()
        raise
    return nginx


def _wait_for_port(nginx: Nginx, host: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if nginx.process.poll() is not None:
            raise NginxError(f"nginx stopped at start: {nginx.error_log()[-2000:]}")
        try:
            with socket.create_connection((host, nginx.port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise NginxError(f"nginx did not listen on {host}:{nginx.port} within {seconds} s")
