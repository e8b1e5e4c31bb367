"""The Kubernetes manifests (infra/k8s) are valid against the API schemas and keep the
promises infra/README.md makes: non-root, probes, a drain on shutdown, no real secrets."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.conftest import ROOT

K8S = ROOT / "infra" / "k8s"
KUBERNETES_VERSION = "1.30.0"


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def base_resources() -> list[dict[str, Any]]:
    kustomization = documents(K8S / "base" / "kustomization.yaml")[0]
    return [doc for name in kustomization["resources"] for doc in documents(K8S / "base" / name)]


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in base_resources() if r["kind"] == kind}


def pod_specs() -> list[dict[str, Any]]:
    specs = [d["spec"]["template"]["spec"] for d in by_kind("Deployment").values()]
    return specs + [j["spec"]["template"]["spec"] for j in by_kind("Job").values()]


@pytest.mark.parametrize("resource", base_resources(), ids=lambda r: r["metadata"]["name"])
def test_every_base_resource_is_valid_kubernetes(resource: dict[str, Any]) -> None:
    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_the_rendered_overlay_is_valid_kubernetes() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed: the base resources are validated on their own")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / "example")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    resources = [doc for doc in yaml.safe_load_all(rendered) if doc]
    assert len(resources) == len(base_resources())
    for resource in resources:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        assert resource["metadata"]["namespace"] == "clb"
    images = {
        c["image"]
        for r in resources
        if r["kind"] in ("Deployment", "Job")
        for c in r["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"registry.clb-example.be/clb-platform:1.2.0"}


def test_every_pod_runs_unprivileged_on_a_read_only_root() -> None:
    for spec in pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] != 0
        assert spec["automountServiceAccountToken"] is False
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["readOnlyRootFilesystem"] is True
            assert context["capabilities"]["drop"] == ["ALL"]
            assert "limits" in container["resources"] and "requests" in container["resources"]


def test_the_app_is_probed_drains_before_it_stops_and_leaves_migrations_to_the_job() -> None:
    app = by_kind("Deployment")["clb-app"]["spec"]["template"]["spec"]
    container = app["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    pause = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    settings = by_kind("ConfigMap")["clb-settings"]["data"]
    drain = int(settings["CLB_SHUTDOWN_GRACE_SECONDS"])
    assert app["terminationGracePeriodSeconds"] > pause + drain
    assert settings["CLB_MIGRATE_ON_START"] == "false"
    assert by_kind("Job")["clb-migrate"]["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "clb",
        "migrate",
    ]


def test_availability_and_metrics_stay_internal() -> None:
    assert by_kind("PodDisruptionBudget")["clb-app"]["spec"]["minAvailable"] == 1
    assert by_kind("HorizontalPodAutoscaler")["clb-app"]["spec"]["minReplicas"] >= 2
    policy = by_kind("NetworkPolicy")["clb-app-ingress"]["spec"]
    allowed = {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for rule in policy["ingress"]
        for peer in rule["from"]
    }
    assert allowed == {"ingress-nginx", "monitoring"}
    paths = by_kind("Ingress")["clb-app"]["spec"]["rules"][0]["http"]["paths"]
    metrics = next(p for p in paths if p["path"] == "/metrics")
    assert metrics["backend"]["service"]["name"] != "clb-app"


def test_the_secret_holds_placeholders_only() -> None:
    values = by_kind("Secret")["clb-secrets"]["stringData"].values()
    assert all("change-me" in value or value.startswith("redis://redis:") for value in values)
