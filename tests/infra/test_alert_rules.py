"""The alert rules and dashboard (infra/monitoring) load in Prometheus's own checker, fire
when they should (promtool's rule unit tests), and name only metrics the platform exports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

MONITORING = ROOT / "infra" / "monitoring"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("promtool is needed (Debian's prometheus package; .ci/run installs it)")
        pytest.skip("promtool not installed")
    return found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args], cwd=MONITORING, capture_output=True, text=True, timeout=120
    )


def test_the_rules_are_valid_prometheus_rules() -> None:
    checked = run("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_alerts_fire_when_they_should_and_not_before() -> None:
    tested = run("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_metric_named_exists_in_the_platform() -> None:
    source = "\n".join(
        path.read_text() for path in (ROOT / "platform" / "clb" / "health").glob("*.py")
    )
    defined = set(re.findall(r'"(clb_[a-z_]+)"', source))
    dashboard = json.loads((MONITORING / "dashboard.json").read_text())
    named = set(re.findall(r"\bclb_[a-z_]+", (MONITORING / "alerts.yml").read_text()))
    named |= set(re.findall(r"\bclb_[a-z_]+", json.dumps(dashboard)))
    # Histograms export _bucket and _count series of the metric defined.
    named = {re.sub(r"_(bucket|count|sum)$", "", name) for name in named}
    assert named <= defined, named - defined
    assert {"clb_worker_heartbeat_age_seconds", "clb_chat_counsellors_available"} <= named


def test_every_alert_has_a_runbook_section() -> None:
    readme = (ROOT / "infra" / "README.md").read_text().lower()
    anchors = re.findall(
        r"runbook: infra/README\.md#([a-z]+)", (MONITORING / "alerts.yml").read_text()
    )
    assert len(anchors) == 8
    for anchor in anchors:
        assert f"### {anchor}" in readme, anchor
