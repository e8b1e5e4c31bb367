"""infra/Containerfile: this machine has no container engine to build it, so its shape is
checked: stages, user, health check, no compilers at run time, and the same install as CI."""

from __future__ import annotations

import re

from tests.conftest import ROOT

CONTAINERFILE = (ROOT / "infra" / "Containerfile").read_text()


def stages() -> list[str]:
    lines = [line for line in CONTAINERFILE.splitlines() if not line.startswith("#")]
    return re.split(r"^FROM ", "\n".join(lines), flags=re.M)[1:]


def test_two_stages_and_the_final_one_has_no_compiler() -> None:
    build, final = stages()
    assert " AS build" in build.splitlines()[0] and "build-essential" in build
    for tool in ("build-essential", "gcc", "apt-get install"):
        assert tool not in final


def test_the_final_stage_runs_unprivileged_with_a_health_check() -> None:
    final = stages()[-1]
    user = re.search(r"^USER (\S+)$", final, flags=re.M)
    assert user and user.group(1) not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", final, flags=re.M)
    assert '"clb", "serve"' in final and "COPY --from=build /opt/clb /opt/clb" in final


def test_it_installs_what_ci_installs_without_the_dev_tools() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "-m pip install --quiet -e '.[dev]'" in makefile
    assert "/opt/clb/bin/python -m pip install --quiet -e ." in CONTAINERFILE
    for folder in ("platform", "chat", "scheduling", "toolbox", "frontend"):
        assert f"COPY {folder} ./{folder}" in CONTAINERFILE
