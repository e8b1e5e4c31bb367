"""The kernel lives in platform/clb; platform/ itself must never shadow the stdlib."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_platform_is_the_standard_library_even_from_the_repo_root() -> None:
    code = "import platform, sysconfig; print(platform.__file__); print(platform.system())"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    module_file, system = result.stdout.splitlines()
    assert Path(module_file).parent == Path(__import__("sysconfig").get_paths()["stdlib"])
    assert system == "Linux"
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_kernel_and_domains_import_from_the_repo_root() -> None:
    code = (
        "import composition.app, chat.conversations.router, scheduling.appointments.router,"
        " toolbox.catalogue.router; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "ok"
